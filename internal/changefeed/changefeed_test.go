package changefeed_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/wellness/cms/internal/changefeed"
	"github.com/wellness/cms/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// env is one instance following a feed on a database of its own, with a
// clock the test moves.
type env struct {
	t       *testing.T
	db      *mongo.Database
	clock   *testenv.Clock
	feed    *changefeed.Feed
	poller  *changefeed.Poller
	handled []changefeed.Batch
	// failNext makes the handler fail once.
	failNext bool
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, db: testenv.DB(t), clock: testenv.NewClock(t0)}
	e.feed = e.newFeed("things")
	e.poller = e.feed.NewPoller(func(_ context.Context, b changefeed.Batch) error {
		if e.failNext {
			e.failNext = false
			return errors.New("the handler failed")
		}
		e.handled = append(e.handled, b)
		return nil
	})
	if err := e.feed.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e
}

// newFeed is the feed called name as another instance would open it.
func (e *env) newFeed(name string) *changefeed.Feed {
	e.t.Helper()
	f, err := changefeed.New(e.db, name, changefeed.Options{Now: e.clock.Now, Logger: testenv.Quiet()})
	if err != nil {
		e.t.Fatal(err)
	}
	return f
}

func (e *env) publish(id string, keys ...string) {
	e.t.Helper()
	if err := e.feed.Publish(context.Background(), id, keys...); err != nil {
		e.t.Fatalf("publish %s: %v", id, err)
	}
}

func (e *env) step() changefeed.Batch {
	e.t.Helper()
	b, err := e.poller.Step(context.Background())
	if err != nil {
		e.t.Fatalf("step: %v", err)
	}
	return b
}

func (e *env) logSize() int64 {
	e.t.Helper()
	n, err := e.db.Collection("things_changes").CountDocuments(context.Background(), bson.D{})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func keys(k ...string) changefeed.Batch { return changefeed.Batch{Keys: k} }

var full = changefeed.Batch{Full: true}

// TestStep is the rule of a poller's step, after its first (Full) step:
// what it reports after what happened since.
func TestStep(t *testing.T) {
	tests := []struct {
		name string
		do   func(e *env)
		want changefeed.Batch
	}{
		{"nothing changed", func(e *env) {}, changefeed.Batch{}},
		{"one entry", func(e *env) { e.publish("a/1", "a") }, keys("a")},
		{"entries since the last step, each key once, sorted", func(e *env) {
			e.publish("x/1", "c", "b")
			e.publish("x/2", "b", "a")
		}, keys("a", "b", "c")},
		{"an entry reported before is not reported again", func(e *env) {
			e.publish("a/1", "a")
			e.step()
			e.publish("b/1", "b")
		}, keys("b")},
		{"a replayed entry is not reported again", func(e *env) {
			e.publish("a/1", "a")
			e.step()
			e.publish("a/1", "a")
		}, changefeed.Batch{}},
		{"an entry replayed before a step is reported once", func(e *env) {
			e.publish("a/1", "a")
			e.publish("a/1", "a")
		}, keys("a")},
		{"entries without an ID are never the same entry", func(e *env) {
			e.publish("", "a")
			e.step()
			e.publish("", "a")
		}, keys("a")},
		{"an entry this instance applied itself is not reported", func(e *env) {
			e.publish("a/1", "a")
			e.poller.Applied("a/1")
			e.publish("b/1", "b")
		}, keys("b")},
		{"a failed handler gets the same keys again", func(e *env) {
			e.publish("a/1", "a")
			e.failNext = true
			if _, err := e.poller.Step(context.Background()); err == nil {
				e.t.Fatal("a step whose handler failed succeeded")
			}
			e.publish("b/1", "b")
		}, keys("a", "b")},
		{"a gap the log covers is caught up from the log", func(e *env) {
			e.clock.Advance(changefeed.DefaultMaxGap)
			e.publish("a/1", "a")
		}, keys("a")},
		{"a gap longer than MaxGap asks for a full reload", func(e *env) {
			e.clock.Advance(changefeed.DefaultMaxGap + time.Second)
			e.publish("a/1", "a")
		}, full},
		{"failing steps make a gap too", func(e *env) {
			e.publish("a/1", "a")
			for range 3 {
				e.clock.Advance(time.Minute)
				e.failNext = true
				if _, err := e.poller.Step(context.Background()); err == nil {
					e.t.Fatal("a step whose handler failed succeeded")
				}
			}
		}, full},
		{"quiet until just before FullEvery", func(e *env) {
			for range 4 {
				e.clock.Advance(time.Minute)
				e.step()
			}
			e.clock.Advance(time.Minute - time.Second)
		}, changefeed.Batch{}},
		{"FullEvery asks for a full reload however quiet the feed", func(e *env) {
			for range 4 {
				e.clock.Advance(time.Minute)
				e.step()
			}
			e.clock.Advance(time.Minute)
		}, full},
		{"FullEvery counts from the last full reload", func(e *env) {
			for i := range 9 {
				e.clock.Advance(time.Minute)
				if b := e.step(); b.Full != (i == 4) {
					e.t.Fatalf("step at %d min = %+v", i+1, b)
				}
			}
		}, changefeed.Batch{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if b := e.step(); !b.Full {
				t.Fatalf("first step = %+v, want Full", b)
			}
			tt.do(e)
			e.handled = nil
			got := e.step()
			if got.Full != tt.want.Full || !slices.Equal(got.Keys, tt.want.Keys) {
				t.Fatalf("step = %+v, want %+v", got, tt.want)
			}
			// The handler sees exactly the batches that ask for something.
			switch {
			case got.Empty() && len(e.handled) != 0:
				t.Errorf("an empty batch reached the handler: %+v", e.handled)
			case !got.Empty() && (len(e.handled) != 1 || e.handled[0].Full != got.Full || !slices.Equal(e.handled[0].Keys, got.Keys)):
				t.Errorf("handler got %+v, want [%+v]", e.handled, got)
			}
		})
	}
}

// TestFirstStepIsFull: an instance that just started knows nothing of
// what happened before, marker or not.
func TestFirstStepIsFull(t *testing.T) {
	for _, published := range []bool{false, true} {
		t.Run(fmt.Sprintf("published before=%v", published), func(t *testing.T) {
			e := newEnv(t)
			if published {
				e.publish("a/1", "a")
			}
			if b := e.step(); !b.Full || b.Keys != nil {
				t.Fatalf("first step = %+v, want Full", b)
			}
			if len(e.handled) != 1 || !e.handled[0].Full {
				t.Fatalf("handler got %+v", e.handled)
			}
			// What the full reload covered is not reported again.
			if b := e.step(); !b.Empty() {
				t.Fatalf("second step = %+v, want empty", b)
			}
			if !e.poller.Synced().Equal(t0) {
				t.Fatalf("Synced = %v, want %v", e.poller.Synced(), t0)
			}
		})
	}
}

// TestPrune: a step prunes entries older than the retention, at most
// every PruneEvery, and keeps the others.
func TestPrune(t *testing.T) {
	e := newEnv(t)
	e.publish("old/1", "old")
	e.step()
	e.clock.Advance(4 * time.Minute)
	e.publish("new/1", "new")
	e.step()
	if n := e.logSize(); n != 2 {
		t.Fatalf("%d entries before the retention passed, want 2", n)
	}
	e.clock.Advance(changefeed.DefaultRetention - 4*time.Minute + time.Second)
	e.step()
	if n := e.logSize(); n != 1 {
		t.Fatalf("%d entries after the retention passed, want 1", n)
	}
}

// TestInstancesShareFeed: what one instance publishes reaches every
// instance's poller of the same feed, and no other feed's.
func TestInstancesShareFeed(t *testing.T) {
	e := newEnv(t)
	var other, unrelated []changefeed.Batch
	otherPoller := e.newFeed("things").NewPoller(func(_ context.Context, b changefeed.Batch) error {
		other = append(other, b)
		return nil
	})
	unrelatedPoller := e.newFeed("others").NewPoller(func(_ context.Context, b changefeed.Batch) error {
		unrelated = append(unrelated, b)
		return nil
	})
	ctx := context.Background()
	for _, p := range []*changefeed.Poller{e.poller, otherPoller, unrelatedPoller} {
		if _, err := p.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	e.publish("a/1", "a")
	for _, p := range []*changefeed.Poller{e.poller, otherPoller} {
		if b, err := p.Step(ctx); err != nil || !slices.Equal(b.Keys, []string{"a"}) {
			t.Fatalf("step = %+v, %v; want keys [a]", b, err)
		}
	}
	if b, err := unrelatedPoller.Step(ctx); err != nil || !b.Empty() {
		t.Fatalf("another feed's step = %+v, %v; want empty", b, err)
	}
	if len(other) != 2 || len(unrelated) != 1 {
		t.Fatalf("handlers got %+v and %+v", other, unrelated)
	}
}

// TestConcurrentPublishers: writers publishing at once while an instance
// polls lose no change. The embedded engine applies $inc as a read and a
// write, so a counter would lose some; the token cannot.
func TestConcurrentPublishers(t *testing.T) {
	e := newEnv(t)
	e.step()
	const writers, each = 4, 6
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := e.newFeed("things")
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				if err := f.Publish(context.Background(), id, id); err != nil {
					t.Errorf("publish %s: %v", id, err)
				}
			}
		}()
	}
	got := map[string]bool{}
	collect := func() {
		b := e.step()
		if b.Full {
			t.Fatal("a step with the clock stopped was Full")
		}
		for _, k := range b.Keys {
			if got[k] {
				t.Errorf("key %s reported twice", k)
			}
			got[k] = true
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for polling := true; polling; {
		select {
		case <-done:
			polling = false
		default:
			collect()
		}
	}
	collect()
	if len(got) != writers*each {
		t.Fatalf("%d of %d changes reported", len(got), writers*each)
	}
}

func TestNewRejectsGapBeyondRetention(t *testing.T) {
	db := testenv.DB(t)
	if _, err := changefeed.New(db, "things", changefeed.Options{Retention: time.Minute, MaxGap: time.Minute}); err == nil {
		t.Fatal("a MaxGap as long as the retention was accepted")
	}
	if _, err := changefeed.New(db, "", changefeed.Options{}); err == nil {
		t.Fatal("an empty name was accepted")
	}
}
