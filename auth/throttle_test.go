package auth

import (
	"testing"
	"time"
)

func TestLockout(t *testing.T) {
	tests := []struct {
		failures, free int
		want           time.Duration
	}{
		{0, 5, 0},
		{4, 5, 0},
		{5, 5, time.Second},
		{6, 5, 2 * time.Second},
		{9, 5, 16 * time.Second},
		{14, 5, 512 * time.Second},
		{15, 5, maxLockout},
		{1000, 5, maxLockout},
		{19, 20, 0},
		{20, 20, time.Second},
		{21, 20, 2 * time.Second},
	}
	for _, tt := range tests {
		if got := lockout(tt.failures, tt.free); got != tt.want {
			t.Errorf("lockout(%d, %d) = %v, want %v", tt.failures, tt.free, got, tt.want)
		}
	}
}

// TestAttemptChain: the state each kind of slot leaves for the next
// attempt, and the wait that state imposes.
func TestAttemptChain(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name     string
		pre      attemptState
		kind     string
		now      time.Time
		want     attemptState
		waitNext time.Duration // for an attempt at now, free = 5
	}{
		{"first attempt", attemptState{}, slotAttempt, t0, attemptState{1, t0}, 0},
		{"fifth failure locks", attemptState{4, t0}, slotAttempt, t0, attemptState{5, t0}, time.Second},
		{"sixth failure doubles", attemptState{5, t0}, slotAttempt, t0.Add(time.Second), attemptState{6, t0.Add(time.Second)}, 2 * time.Second},
		{"success clears", attemptState{5, t0}, slotClear, t0, attemptState{}, 0},
		{"release takes one back", attemptState{5, t0}, slotRelease, t0, attemptState{4, t0}, 0},
		{"release of nothing", attemptState{}, slotRelease, t0, attemptState{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := follow(tt.kind, tt.pre, tt.now)
			if got != tt.want {
				t.Fatalf("follow = %+v, want %+v", got, tt.want)
			}
			if w := got.current(tt.now).wait(tt.now, freeAccountFails); w != tt.waitNext {
				t.Fatalf("wait = %v, want %v", w, tt.waitNext)
			}
		})
	}
}

func TestAttemptStateWindow(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	locked := attemptState{Failures: 12, LastFailure: t0} // a 128 s wait
	tests := []struct {
		name string
		now  time.Time
		want time.Duration
	}{
		{"at once", t0, 128 * time.Second},
		{"two minutes on", t0.Add(2 * time.Minute), 8 * time.Second},
		{"after the wait", t0.Add(3 * time.Minute), 0},
		{"after a quiet window", t0.Add(throttleWindow + time.Second), 0},
		{"stamped just after now", t0.Add(-time.Millisecond), 128*time.Second + time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := locked.current(tt.now).wait(tt.now, freeAccountFails); got != tt.want {
				t.Fatalf("wait = %v, want %v", got, tt.want)
			}
		})
	}
	// No lockout applies below the free failures, whatever the stamps say.
	early := attemptState{Failures: 2, LastFailure: t0.Add(time.Second)}
	if got := early.wait(t0, freeAccountFails); got != 0 {
		t.Fatalf("below the free failures: wait %v", got)
	}
}
