package cms

import (
	"slices"
	"testing"
	"time"
)

// TestDueFromHint is the scheduler's rule for querying the database:
// always without a content API, never while its view is current, and
// at most every staleScanEvery while it is not; otherwise the scheduler
// publishes the IDs the view names.
func TestDueFromHint(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Millisecond) // what the service stores
	s := &Service{now: func() time.Time { return now }}
	if _, scan := s.dueFromHint(nil, now); !scan {
		t.Error("without a content API the scheduler must always scan")
	}
	tests := []struct {
		name     string
		ids      []string
		current  bool
		lastScan time.Time
		wantIDs  []string
		wantScan bool
	}{
		{"nothing due", nil, true, time.Time{}, nil, false},
		{"due", []string{"a", "b"}, true, time.Time{}, []string{"a", "b"}, false},
		{"view not current, never scanned", nil, false, time.Time{}, nil, true},
		{"view not current, IDs left to the scan", []string{"a"}, false, now.Add(-staleScanEvery), nil, true},
		{"view not current, scanned a moment ago", []string{"a"}, false, now.Add(-time.Second), []string{"a"}, false},
		{"view current, scanned long ago", []string{"a"}, true, time.Time{}, []string{"a"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked time.Time
			due := func(at time.Time) ([]string, bool) { asked = at; return tt.ids, tt.current }
			ids, scan := s.dueFromHint(due, tt.lastScan)
			if !slices.Equal(ids, tt.wantIDs) || scan != tt.wantScan {
				t.Errorf("dueFromHint = %v, %v; want %v, %v", ids, scan, tt.wantIDs, tt.wantScan)
			}
			if !asked.Equal(now) {
				t.Errorf("hint asked at %v, want the service's clock %v", asked, now)
			}
		})
	}
}
