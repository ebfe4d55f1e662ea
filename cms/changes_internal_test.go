package cms

import (
	"testing"
	"time"
)

// TestMustScan is the scheduler's rule for querying the database: always
// without a content API, when the content API has a due article or is not
// current, and once a minute in any case.
func TestMustScan(t *testing.T) {
	now := time.Now()
	s := &Service{now: func() time.Time { return now }}
	recent := time.Now()
	if !s.mustScan(recent, nil) {
		t.Error("without a content API the scheduler must always scan")
	}
	tests := []struct {
		name         string
		due, current bool
		lastScan     time.Time
		want         bool
	}{
		{"nothing due", false, true, recent, false},
		{"due", true, true, recent, true},
		{"view not current", false, false, recent, true},
		{"a minute since the last scan", false, true, recent.Add(-dueScanEvery), true},
	}
	for _, tt := range tests {
		due := func(time.Time) (bool, bool) { return tt.due, tt.current }
		if got := s.mustScan(tt.lastScan, due); got != tt.want {
			t.Errorf("%s: mustScan = %v, want %v", tt.name, got, tt.want)
		}
	}
}
