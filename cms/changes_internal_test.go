package cms

import (
	"slices"
	"testing"
	"time"
)

// TestDueFromHint is the scheduler's rule for querying the database:
// always without a content API or when its view is not current, never
// while it is, when the scheduler publishes the IDs the view names.
func TestDueFromHint(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Millisecond) // what the service stores
	s := &Service{now: func() time.Time { return now }}
	if _, scan := s.dueFromHint(nil); !scan {
		t.Error("without a content API the scheduler must always scan")
	}
	tests := []struct {
		name     string
		ids      []string
		current  bool
		wantIDs  []string
		wantScan bool
	}{
		{"nothing due", nil, true, nil, false},
		{"due", []string{"a", "b"}, true, []string{"a", "b"}, false},
		{"view not current", nil, false, nil, true},
		{"view not current, IDs ignored", []string{"a"}, false, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked time.Time
			due := func(at time.Time) ([]string, bool) { asked = at; return tt.ids, tt.current }
			ids, scan := s.dueFromHint(due)
			if !slices.Equal(ids, tt.wantIDs) || scan != tt.wantScan {
				t.Errorf("dueFromHint = %v, %v; want %v, %v", ids, scan, tt.wantIDs, tt.wantScan)
			}
			if !asked.Equal(now) {
				t.Errorf("hint asked at %v, want the service's clock %v", asked, now)
			}
		})
	}
}
