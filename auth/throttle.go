package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/problem"
)

// Sign-in throttling. Attempts are counted per account and per client
// address in the database, so that several instances share the count.
// After the free failures every further attempt waits twice as long as the
// one before (1 s, 2 s, 4 s, ...), up to maxLockout; a quiet throttleWindow
// forgets the count.
//
// An attempt is reserved before any password is hashed, and judged on what
// its reservation returns, so a burst of parallel guesses cannot all pass
// a check made before the first of them has failed. The embedded engine
// has no atomic counter (a conditional update or findOneAndUpdate reads,
// then writes), and the same code must hold on both, so each key has a
// chain of slot documents and an attempt claims the next slot by inserting it: the
// unique _id lets exactly one claimant win each slot. A slot holds the
// state that applies to whoever claims the slot after it, computed from
// the slot before, so the chain never needs to be counted or rewritten.
// An attempt counts as a failure from the moment it is reserved; a
// success then appends a slot that clears the account (and takes the
// attempt back from the address), so pending attempts can never be used
// to race past the limit. Every read and write of a sign-in filters on one
// exact _id (only the hourly cleanup scans).
const (
	throttleWindow   = time.Hour
	maxLockout       = 15 * time.Minute
	freeAccountFails = 5
	freeAddressFails = 20
	// maxClaims bounds how many taken slots one attempt steps over before
	// giving up: only a flood of simultaneous attempts gets that far.
	maxClaims = 64
)

// throttleKey is what attempts are counted for: an account or an address.
type throttleKey struct {
	id   string
	free int // failures allowed before waits begin
	// onSuccess is the slot a good sign-in appends: an account's count is
	// cleared, while an address only gets that attempt back, so that one
	// good login cannot unlock a guesser there.
	onSuccess string
}

func accountKey(email string) throttleKey {
	return throttleKey{id: "acct:" + NormalizeEmail(email), free: freeAccountFails, onSuccess: slotClear}
}

func addressKey(ip string) throttleKey {
	return throttleKey{id: "ip:" + ip, free: freeAddressFails, onSuccess: slotRelease}
}

// slotID names slot n of key. Key IDs start with a letter and slot IDs
// with the number, so the two kinds of document never collide.
func slotID(key string, n int) string { return fmt.Sprintf("%d:%s", n, key) }

// lockout is how long after the last failure the next attempt must wait,
// given the failures so far: none until free is reached, then 1 s doubling
// up to maxLockout.
func lockout(failures, free int) time.Duration {
	excess := failures - free
	switch {
	case excess < 0:
		return 0
	case excess >= 10: // 1024 s, past the cap
		return maxLockout
	}
	return min(time.Second<<excess, maxLockout)
}

// attemptState is what a key's chain says about its next attempt.
type attemptState struct {
	Failures    int       `bson:"failures"`
	LastFailure time.Time `bson:"lastFailure"`
}

// current forgets failures older than the quiet window.
func (st attemptState) current(now time.Time) attemptState {
	if now.Sub(st.LastFailure) > throttleWindow {
		return attemptState{}
	}
	return st
}

// wait is how long an attempt at now must still wait. (A last failure
// stamped a moment after now, by a racing attempt or another instance's
// clock, is no reason to wait while no lockout applies.)
func (st attemptState) wait(now time.Time, free int) time.Duration {
	d := lockout(st.Failures, free)
	if d == 0 {
		return 0
	}
	if until := st.LastFailure.Add(d); until.After(now) {
		return until.Sub(now)
	}
	return 0
}

// Slot kinds: an attempt counts as a failure; clear ends the account's
// count after a success; release takes one attempt back (a success seen
// by an address, or an attempt that was never checked).
const (
	slotAttempt = "attempt"
	slotClear   = "clear"
	slotRelease = "release"
)

// slotDoc is one link of a key's chain. Once inserted it never changes.
type slotDoc struct {
	ID   string       `bson:"_id"`
	Key  string       `bson:"key"`
	N    int          `bson:"n"`
	Kind string       `bson:"kind"`
	At   time.Time    `bson:"at"`
	Next attemptState `bson:"next"` // the state for slot N+1
}

// follow is the state after a slot of kind appended to a chain in state
// pre at now.
func follow(kind string, pre attemptState, now time.Time) attemptState {
	switch kind {
	case slotClear:
		return attemptState{}
	case slotRelease:
		return attemptState{Failures: max(pre.Failures-1, 0), LastFailure: pre.LastFailure}
	}
	return attemptState{Failures: pre.Failures + 1, LastFailure: now}
}

// headDoc is a copy of a recent slot's number and state, so an attempt
// starts near the end of the chain with one read. It is only a hint: on
// the embedded engine racing writers may leave an older slot's copy (each
// writer sets both fields, so the pair stays one slot's), and the claim
// steps over slots taken since.
type headDoc struct {
	ID   string       `bson:"_id"`
	N    int          `bson:"n"`
	Next attemptState `bson:"next"`
	At   time.Time    `bson:"at"`
}

// chainEnd is where an attempt starts: the last slot known, and the state
// it leaves for the next.
type chainEnd struct {
	key  throttleKey
	n    int
	next attemptState
}

// reservation is one key's claimed slot of a sign-in attempt.
type reservation struct {
	key  throttleKey
	n    int
	next attemptState // the state after this attempt
}

// signIn is an attempt reserved against every key it counts for.
type signIn struct {
	now   time.Time
	slots []reservation
}

func tooManyAttempts(wait time.Duration) error {
	return &problem.Error{Kind: problem.TooManyRequests, RetryAfter: wait,
		Detail: "too many failed sign-in attempts; wait before trying again"}
}

// reserveSignIn reserves an attempt against the account email and the
// address ip, before any hashing. It returns a TooManyRequests error with
// the wait when either key is locked out; then nothing stays reserved.
func (s *Store) reserveSignIn(ctx context.Context, now time.Time, email, ip string) (*signIn, error) {
	keys := []throttleKey{accountKey(email), addressKey(ip)}
	// Judge every key on what is stored before writing anything, so that a
	// locked-out caller costs reads only.
	ends := make([]chainEnd, len(keys))
	if err := forEach(len(keys), func(i int) (err error) {
		ends[i], err = s.chainEnd(ctx, keys[i], now)
		return err
	}); err != nil {
		return nil, err
	}
	var wait time.Duration
	for i, end := range ends {
		wait = max(wait, end.next.wait(now, keys[i].free))
	}
	if wait > 0 {
		return nil, tooManyAttempts(wait)
	}
	claimed := make([]reservation, len(keys))
	waits := make([]time.Duration, len(keys))
	err := forEach(len(keys), func(i int) (err error) {
		claimed[i], waits[i], err = s.claim(ctx, ends[i], now, slotAttempt, true)
		return err
	})
	in := &signIn{now: now}
	for i, r := range claimed {
		wait = max(wait, waits[i])
		if r.n > 0 {
			in.slots = append(in.slots, r)
		}
	}
	if err == nil && wait > 0 {
		err = tooManyAttempts(wait)
	}
	if err != nil {
		// Another attempt took the last free slot of a key first: hand
		// back what this one holds.
		_ = s.settle(ctx, in, false)
		return nil, err
	}
	return in, nil
}

// settleSignIn records how a reserved attempt ended. A failure is already
// counted; a success appends each key's onSuccess slot; an attempt that
// was never checked is taken back. It runs even when the request was
// cancelled, and its errors are only logged: the worst a lost write does
// is count the attempt as a failure.
func (s *Store) settleSignIn(ctx context.Context, in *signIn, checked, ok bool, log *slog.Logger) {
	if checked && !ok {
		return
	}
	if err := s.settle(ctx, in, ok); err != nil {
		log.Warn("record sign-in outcome", "err", err)
	}
}

// settle appends to each reserved key's chain its onSuccess slot, or
// without success a release.
func (s *Store) settle(ctx context.Context, in *signIn, success bool) error {
	ctx = context.WithoutCancel(ctx)
	return forEach(len(in.slots), func(i int) error {
		r := in.slots[i]
		kind := slotRelease
		if success {
			kind = r.key.onSuccess
		}
		_, _, err := s.claim(ctx, chainEnd{key: r.key, n: r.n, next: r.next}, in.now, kind, false)
		return err
	})
}

// forEach runs fn(0..n-1) at once and joins their errors: an account's and
// an address's records are independent, so a sign-in waits for the slower
// of them rather than for both in turn.
func forEach(n int, fn func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// chainEnd reads where key's chain ends, as far as its head knows.
func (s *Store) chainEnd(ctx context.Context, key throttleKey, now time.Time) (chainEnd, error) {
	h, err := mongodb.FindByID[headDoc](ctx, s.attempts, "read sign-in attempts", key.id)
	if errors.Is(err, problem.NotFound) {
		return chainEnd{key: key}, nil
	}
	if err != nil {
		return chainEnd{}, err
	}
	return chainEnd{key: key, n: h.N, next: h.Next.current(now)}, nil
}

// findSlotByID returns slot n of key, or nil when nobody took it.
func (s *Store) findSlotByID(ctx context.Context, key string, n int) (*slotDoc, error) {
	d, err := mongodb.FindByID[slotDoc](ctx, s.attempts, "read sign-in attempt", slotID(key, n))
	if errors.Is(err, problem.NotFound) {
		return nil, nil
	}
	return d, err
}

// claim appends a slot of kind after end, or after the key's head when
// that has moved further, stepping over slots others took first. With
// judge set it first checks, against the state the slot before leaves,
// that the attempt may go ahead, and returns the wait (claiming nothing)
// when it may not. Claims on one key queue up within this instance, so a
// burst does not have every request contend for every slot; instances
// still arbitrate through the unique slot _ids.
func (s *Store) claim(ctx context.Context, end chainEnd, now time.Time, kind string, judge bool) (reservation, time.Duration, error) {
	unlock, err := s.claimLocks.lock(ctx, end.key.id)
	if err != nil {
		return reservation{}, 0, err
	}
	defer unlock()
	if head, err := s.chainEnd(ctx, end.key, now); err != nil {
		return reservation{}, 0, err
	} else if head.n > end.n {
		end = head
	}
	ctx, cancel := context.WithTimeout(ctx, mongodb.OpTimeout)
	defer cancel()
	n, pre := end.n, end.next
	for range maxClaims {
		pre = pre.current(now)
		if judge {
			if wait := pre.wait(now, end.key.free); wait > 0 {
				return reservation{}, wait, nil
			}
		}
		d := slotDoc{ID: slotID(end.key.id, n+1), Key: end.key.id, N: n + 1, Kind: kind, At: now, Next: follow(kind, pre, now)}
		err := mongodb.Insert(ctx, s.attempts, "reserve sign-in attempt", d)
		if err == nil {
			s.advanceHead(ctx, &d)
			return reservation{key: end.key, n: d.N, next: d.Next}, 0, nil
		}
		if !errors.Is(err, problem.Conflict) {
			return reservation{}, 0, err
		}
		// Taken (by another instance): the winner's slot says what
		// follows it.
		taken, err := s.findSlotByID(ctx, end.key.id, n+1)
		if err != nil {
			return reservation{}, 0, err
		}
		n++
		if taken != nil {
			pre = taken.Next
		}
	}
	return reservation{}, 0, errAttemptsBusy
}

var errAttemptsBusy = &problem.Error{Kind: problem.TooManyRequests, RetryAfter: time.Second,
	Detail: "too many sign-in attempts at once; try again in a moment"}

// keyLocks queues this instance's claims per throttle key. Waiting is
// bounded like the wait for a hashing slot.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	held    chan struct{}
	waiters int
}

// lock waits for key's turn; unlock gives it to the next waiter.
func (l *keyLocks) lock(ctx context.Context, key string) (unlock func(), err error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*keyLock{}
	}
	k := l.m[key]
	if k == nil {
		k = &keyLock{held: make(chan struct{}, 1)}
		l.m[key] = k
	}
	k.waiters++
	l.mu.Unlock()
	leave := func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if k.waiters--; k.waiters == 0 {
			delete(l.m, key)
		}
	}
	t := time.NewTimer(maxHashWait)
	defer t.Stop()
	select {
	case k.held <- struct{}{}:
		return func() { <-k.held; leave() }, nil
	case <-t.C:
		leave()
		return nil, errAttemptsBusy
	case <-ctx.Done():
		leave()
		return nil, fmt.Errorf("wait to reserve a sign-in attempt: %w", ctx.Err())
	}
}

// advanceHead copies slot d into its key's head. A failure here only
// makes the next attempt step over one more slot, so it is not reported.
func (s *Store) advanceHead(ctx context.Context, d *slotDoc) {
	_, _ = mongodb.ReplaceByID(ctx, s.attempts, "advance sign-in attempts", d.Key,
		headDoc{ID: d.Key, N: d.N, Next: d.Next, At: d.At}, options.Replace().SetUpsert(true))
}

// deleteStaleAttempts removes slots and heads older than the quiet
// window: what they say is forgotten by then anyway.
func (s *Store) deleteStaleAttempts(ctx context.Context, now time.Time) error {
	_, err := mongodb.DeleteMany(ctx, s.attempts, "delete stale sign-in attempts",
		bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: now.Add(-throttleWindow)}}}})
	return err
}
