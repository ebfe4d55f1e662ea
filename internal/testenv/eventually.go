package testenv

import (
	"testing"
	"time"
)

// EventuallyTimeout is how long Eventually waits: generous, because -race
// on two cores is slow and no test asserts how fast anything happens.
const EventuallyTimeout = 60 * time.Second

// Eventually polls cond every 20 ms until it holds, failing the test with
// what when EventuallyTimeout passes first. It is for effects another
// goroutine or process brings about (a background loop, a second
// instance); a test of "nothing happens" drives the step function instead.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(EventuallyTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", EventuallyTimeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
