package affiliate

import (
	"testing"
	"time"
)

// TestPauseAfter is the click writer's pacing rule: while clicks arrive
// it stores for at most its share of the time, and never pauses once
// they stop or once the backlog is large.
func TestPauseAfter(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name     string
		took     time.Duration
		share    float64
		arriving bool
		backlog  int64
		want     time.Duration
	}{
		{"a quarter of the time storing", 20 * ms, 0.25, true, 1 << 20, 60 * ms},
		{"half", 20 * ms, 0.5, true, 0, 20 * ms},
		{"arrivals stopped: catch up", 20 * ms, 0.25, false, 1 << 20, 0},
		{"backlog too large: catch up", 20 * ms, 0.25, true, maxPacedBacklog + 1, 0},
		{"at the backlog limit still paced", 20 * ms, 0.25, true, maxPacedBacklog, 60 * ms},
		{"pacing off", 20 * ms, 0, true, 0, 0},
		{"share of all the time", 20 * ms, 1, true, 0, 0},
		{"long batch: bounded pause", 200 * ms, 0.25, true, 0, maxPause},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pauseAfter(tt.took, tt.share, tt.arriving, tt.backlog); got != tt.want {
				t.Errorf("pauseAfter(%v, %v, %v, %d) = %v, want %v", tt.took, tt.share, tt.arriving, tt.backlog, got, tt.want)
			}
		})
	}
}

// TestLogDistance is the backlog gauge's arithmetic.
func TestLogDistance(t *testing.T) {
	tests := []struct {
		from, to logPos
		want     int64
	}{
		{logPos{1, 100}, logPos{1, 350}, 250},
		{logPos{1, 100}, logPos{1, 100}, 0},
		{logPos{2, 0}, logPos{1, 500}, 0},
		{logPos{1, logSegmentMax - 10}, logPos{2, 30}, 40},
		{logPos{1, 0}, logPos{3, 5}, 2*logSegmentMax + 5},
	}
	for _, tt := range tests {
		if got := tt.from.bytesTo(tt.to); got != tt.want {
			t.Errorf("%v.bytesTo(%v) = %d, want %d", tt.from, tt.to, got, tt.want)
		}
	}
}
