package changefeed_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/wellness/cms/internal/changefeed"
	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// env is one instance following a feed (feed, poller) and another
// instance writing on it (other), both on a database of the test's own,
// with a clock the test moves.
type env struct {
	t       *testing.T
	db      *mongo.Database
	clock   *testenv.Clock
	feed    *changefeed.Feed
	other   *changefeed.Feed
	poller  *changefeed.Poller
	handled []changefeed.Batch
	// failNext makes the handler fail once.
	failNext bool
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvOn(t, testenv.DB(t), changefeed.Options{})
}

func newEnvOn(t *testing.T, db *mongo.Database, o changefeed.Options) *env {
	t.Helper()
	e := &env{t: t, db: db, clock: testenv.NewClock(t0)}
	o.Now, o.Logger = e.clock.Now, testenv.Quiet()
	e.feed, e.other = e.newFeed("things", o), e.newFeed("things", o)
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

// newFeed is the feed called name as another process would open it.
func (e *env) newFeed(name string, o changefeed.Options) *changefeed.Feed {
	e.t.Helper()
	if o.Now == nil {
		o.Now, o.Logger = e.clock.Now, testenv.Quiet()
	}
	f, err := changefeed.New(e.db, name, o)
	if err != nil {
		e.t.Fatal(err)
	}
	return f
}

func (e *env) publish(f *changefeed.Feed, keys ...string) {
	e.t.Helper()
	if err := f.Publish(context.Background(), keys...); err != nil {
		e.t.Fatalf("publish %v: %v", keys, err)
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

func (e *env) count(coll string) int64 {
	e.t.Helper()
	n, err := e.db.Collection(coll).CountDocuments(context.Background(), bson.D{})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// heads are the writers' heads, as stored.
func (e *env) heads() []bson.M {
	e.t.Helper()
	var heads []bson.M
	cur, err := e.db.Collection("change_writers").Find(context.Background(), bson.D{})
	if err == nil {
		err = cur.All(context.Background(), &heads)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return heads
}

// otherHead is the head of the other writer, in tests where it is the
// only one that published.
func (e *env) otherHead() bson.M {
	e.t.Helper()
	heads := e.heads()
	if len(heads) != 1 {
		e.t.Fatalf("%d heads, want the other writer's alone", len(heads))
	}
	return heads[0]
}

func (e *env) setOtherHead(field string, v any) {
	e.t.Helper()
	h := e.otherHead()
	if _, err := e.db.Collection("change_writers").UpdateOne(context.Background(), bson.D{{Key: "_id", Value: h["_id"]}},
		bson.D{{Key: "$set", Value: bson.D{{Key: field, Value: v}}}}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) deleteOtherEntry(n int) {
	e.t.Helper()
	id := fmt.Sprintf("%s/%d", e.otherHead()["writer"], n)
	if _, err := e.db.Collection("things_changes").DeleteOne(context.Background(), bson.D{{Key: "_id", Value: id}}); err != nil {
		e.t.Fatal(err)
	}
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
		{"one entry", func(e *env) { e.publish(e.other, "a") }, keys("a")},
		{"entries since the last step, each key once, sorted", func(e *env) {
			e.publish(e.other, "c", "b")
			e.publish(e.other, "b", "a")
		}, keys("a", "b", "c")},
		{"an entry reported before is not reported again", func(e *env) {
			e.publish(e.other, "a")
			e.step()
			e.publish(e.other, "b")
		}, keys("b")},
		{"a change published again is reported again", func(e *env) {
			e.publish(e.other, "a")
			e.step()
			e.publish(e.other, "a")
		}, keys("a")},
		{"this instance's own entries are skipped", func(e *env) {
			e.publish(e.feed, "mine")
			e.publish(e.other, "theirs")
		}, keys("theirs")},
		{"several writers", func(e *env) {
			e.publish(e.other, "a")
			e.publish(e.newFeed("things", changefeed.Options{}), "b")
		}, keys("a", "b")},
		{"a writer that started since is read from its first entry", func(e *env) {
			e.step()
			restarted := e.newFeed("things", changefeed.Options{})
			e.publish(restarted, "a")
			e.publish(restarted, "b")
		}, keys("a", "b")},
		{"a failed handler gets the same keys again", func(e *env) {
			e.publish(e.other, "a")
			e.failNext = true
			if _, err := e.poller.Step(context.Background()); err == nil {
				e.t.Fatal("a step whose handler failed succeeded")
			}
			e.publish(e.other, "b")
		}, keys("a", "b")},
		{"an entry of PublishAll asks for a full reload", func(e *env) {
			e.publish(e.other, "a")
			if err := e.other.PublishAll(context.Background()); err != nil {
				e.t.Fatal(err)
			}
			e.publish(e.other, "b")
		}, full},
		{"this instance's own PublishAll is skipped", func(e *env) {
			if err := e.feed.PublishAll(context.Background()); err != nil {
				e.t.Fatal(err)
			}
			e.publish(e.other, "a")
		}, keys("a")},
		{"an entry pruned before it was read asks for a full reload", func(e *env) {
			e.publish(e.other, "a")
			e.publish(e.other, "b")
			e.deleteOtherEntry(1)
		}, full},
		{"a head that kept entries from past what was read asks for a full reload", func(e *env) {
			e.publish(e.other, "a")
			e.step()
			e.publish(e.other, "b")
			e.publish(e.other, "c")
			e.setOtherHead("from", 3)
		}, full},
		{"a head whose numbering went back asks for a full reload", func(e *env) {
			e.publish(e.other, "a")
			e.publish(e.other, "b")
			e.step()
			e.setOtherHead("last", 1)
		}, full},
		{"a head that went after everything was read is forgotten", func(e *env) {
			e.publish(e.other, "a")
			e.step()
			if _, err := e.db.Collection("change_writers").DeleteOne(context.Background(), bson.D{{Key: "_id", Value: e.otherHead()["_id"]}}); err != nil {
				e.t.Fatal(err)
			}
		}, changefeed.Batch{}},
		{"a gap the log covers is caught up from the log", func(e *env) {
			e.clock.Advance(changefeed.DefaultMaxGap)
			e.publish(e.other, "a")
		}, keys("a")},
		{"a gap longer than MaxGap asks for a full reload", func(e *env) {
			e.clock.Advance(changefeed.DefaultMaxGap + time.Second)
			e.publish(e.other, "a")
		}, full},
		{"failing steps make a gap too", func(e *env) {
			e.publish(e.other, "a")
			for range 3 {
				e.clock.Advance(time.Minute)
				e.failNext = true
				if _, err := e.poller.Step(context.Background()); err == nil {
					e.t.Fatal("a step whose handler failed succeeded")
				}
			}
		}, full},
		{"no periodic full reload however long the feed is quiet", func(e *env) {
			for range 30 {
				e.clock.Advance(time.Minute)
				if b := e.step(); !b.Empty() {
					e.t.Fatalf("a quiet step = %+v", b)
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
			// What a step reported, or covered by a full reload, is not
			// reported again.
			if b := e.step(); !b.Empty() {
				t.Errorf("the step after = %+v, want empty", b)
			}
		})
	}
}

// TestFullEvery: a feed whose full reload is cheap may ask for one
// periodically, counted from the last.
func TestFullEvery(t *testing.T) {
	e := newEnvOn(t, testenv.DB(t), changefeed.Options{FullEvery: 5 * time.Minute})
	e.step()
	for i := range 9 {
		e.clock.Advance(time.Minute)
		if b := e.step(); b.Full != (i == 4) {
			t.Fatalf("step at %d min = %+v", i+1, b)
		}
	}
}

// TestFirstStepIsFull: an instance that just started knows nothing of
// what happened before, and records every writer as read up to its last.
func TestFirstStepIsFull(t *testing.T) {
	for _, published := range []bool{false, true} {
		t.Run(fmt.Sprintf("published before=%v", published), func(t *testing.T) {
			e := newEnv(t)
			if published {
				e.publish(e.other, "a")
			}
			if b := e.step(); !b.Full || b.Keys != nil {
				t.Fatalf("first step = %+v, want Full", b)
			}
			if len(e.handled) != 1 || !e.handled[0].Full {
				t.Fatalf("handler got %+v", e.handled)
			}
			if b := e.step(); !b.Empty() {
				t.Fatalf("second step = %+v, want empty", b)
			}
			if !e.poller.Synced().Equal(t0) {
				t.Fatalf("Synced = %v, want %v", e.poller.Synced(), t0)
			}
		})
	}
}

// TestPrune: a poller's prune pass deletes its own writer's entries older
// than the retention and keeps its head alive; a writer whose head went
// without a write for the retention is dead, and any poller removes its
// head and entries. Pollers that had read it just forget it.
func TestPrune(t *testing.T) {
	e := newEnv(t)
	watcher := e.other.NewPoller(func(context.Context, changefeed.Batch) error { return nil })
	dead := e.newFeed("things", changefeed.Options{})
	e.publish(e.feed, "old")
	e.publish(dead, "d1")
	e.publish(dead, "d2")
	e.step()
	if _, err := watcher.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		e.clock.Advance(time.Minute)
		if _, err := watcher.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
		e.step()
	}
	e.publish(e.feed, "new")
	if n := e.count("things_changes"); n != 4 {
		t.Fatalf("%d entries before the retention passed, want 4", n)
	}
	e.clock.Advance(time.Minute + time.Second)
	if b := e.step(); !b.Empty() {
		t.Fatalf("the step that pruned = %+v, want empty", b)
	}
	if n := e.count("things_changes"); n != 1 {
		t.Fatalf("%d entries after the retention passed, want 1 (the new one)", n)
	}
	// The watcher's writer never published: it has no head. The dead
	// writer's head is gone; this instance's was kept alive.
	if heads := e.heads(); len(heads) != 1 || heads[0]["from"] != int64(2) || heads[0]["last"] != int64(2) {
		t.Fatalf("heads after pruning = %v, want this instance's, keeping entry 2 alone", heads)
	}
	b, err := watcher.Step(context.Background())
	if err != nil || !slices.Equal(b.Keys, []string{"new"}) {
		t.Fatalf("the watcher's step after pruning = %+v, %v; want keys [new]", b, err)
	}
}

// TestPublishRetriesPending: a Publish that failed (the database went
// away) keeps its keys, and the next poller step, once the database is
// back, publishes them.
func TestPublishRetriesPending(t *testing.T) {
	dir, err := os.MkdirTemp("", "feed-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	engine, err := mongodb.StartEngine(dir, testenv.Quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(engine.Close)
	client, err := mongodb.Connect(context.Background(), engine.URI(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	e := newEnvOn(t, client.Database("feed"), changefeed.Options{})
	watcher := e.other.NewPoller(func(context.Context, changefeed.Batch) error { return nil })
	e.step()
	if _, err := watcher.Step(context.Background()); err != nil {
		t.Fatal(err)
	}

	engine.Close()
	if err := e.feed.Publish(context.Background(), "lost?"); err == nil {
		t.Fatal("a Publish without a database succeeded")
	}
	if engine, err = mongodb.StartEngine(dir, testenv.Quiet()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(engine.Close)
	testenv.Eventually(t, "the instance to step again", func() bool {
		_, err := e.poller.Step(context.Background())
		return err == nil
	})
	b, err := watcher.Step(context.Background())
	if err != nil || !slices.Equal(b.Keys, []string{"lost?"}) {
		t.Fatalf("the other instance's step = %+v, %v; want keys [lost?]", b, err)
	}
}

// TestInstancesShareFeed: what one instance publishes reaches every
// other instance's poller of the same feed, not its own, and no other
// feed's.
func TestInstancesShareFeed(t *testing.T) {
	e := newEnv(t)
	var other, unrelated []changefeed.Batch
	otherPoller := e.other.NewPoller(func(_ context.Context, b changefeed.Batch) error {
		other = append(other, b)
		return nil
	})
	unrelatedPoller := e.newFeed("others", changefeed.Options{}).NewPoller(func(_ context.Context, b changefeed.Batch) error {
		unrelated = append(unrelated, b)
		return nil
	})
	ctx := context.Background()
	for _, p := range []*changefeed.Poller{e.poller, otherPoller, unrelatedPoller} {
		if _, err := p.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	e.publish(e.feed, "a")
	e.publish(e.other, "b")
	for _, tc := range []struct {
		p    *changefeed.Poller
		want []string
	}{{e.poller, []string{"b"}}, {otherPoller, []string{"a"}}, {unrelatedPoller, nil}} {
		if b, err := tc.p.Step(ctx); err != nil || b.Full || !slices.Equal(b.Keys, tc.want) {
			t.Fatalf("step = %+v, %v; want keys %v", b, err, tc.want)
		}
	}
	if len(other) != 2 || len(unrelated) != 1 {
		t.Fatalf("handlers got %+v and %+v", other, unrelated)
	}
}

// TestConcurrentPublishers: writers publishing at once, some through one
// Feed from several goroutines, while an instance polls, lose no change
// and report none twice.
func TestConcurrentPublishers(t *testing.T) {
	e := newEnv(t)
	e.step()
	const writers, each = 4, 6
	shared := e.newFeed("things", changefeed.Options{})
	var wg sync.WaitGroup
	for w := range writers {
		f := shared
		if w%2 == 0 {
			f = e.newFeed("things", changefeed.Options{})
		}
		wg.Go(func() {
			for i := range each {
				k := fmt.Sprintf("w%d-%d", w, i)
				if err := f.Publish(context.Background(), k); err != nil {
					t.Errorf("publish %s: %v", k, err)
				}
			}
		})
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

func TestNewRejectsBadOptions(t *testing.T) {
	db := testenv.DB(t)
	for _, o := range []changefeed.Options{
		{Retention: time.Minute, MaxGap: time.Minute},
		{MaxGap: time.Minute, PruneEvery: time.Minute},
	} {
		if _, err := changefeed.New(db, "things", o); err == nil {
			t.Errorf("options %+v were accepted", o)
		}
	}
	if _, err := changefeed.New(db, "", changefeed.Options{}); err == nil {
		t.Fatal("an empty name was accepted")
	}
}

// TestWriterOutOfTouch: a writer whose head went unwritten for longer
// than MaxGap may have been taken for dead and removed, so it goes on
// under a new ID, read from its first entry; pollers do not reload.
func TestWriterOutOfTouch(t *testing.T) {
	e := newEnv(t)
	e.step()
	e.publish(e.other, "a")
	if b := e.step(); !slices.Equal(b.Keys, []string{"a"}) {
		t.Fatalf("step = %+v, want keys [a]", b)
	}
	for range 3 { // the other instance has no poller: no heartbeat
		e.clock.Advance(time.Minute)
		e.step()
	}
	e.publish(e.other, "b")
	if n := len(e.heads()); n != 2 {
		t.Fatalf("%d heads, want the old ID's and the new one's", n)
	}
	if b := e.step(); b.Full || !slices.Equal(b.Keys, []string{"b"}) {
		t.Fatalf("step = %+v, want keys [b]", b)
	}
}

// TestStepReadsAtMostAPage: a writer far ahead is read a page per step,
// the rest at the next.
func TestStepReadsAtMostAPage(t *testing.T) {
	e := newEnv(t)
	e.step()
	const page = 500
	for i := range page + 1 {
		e.publish(e.other, fmt.Sprintf("k%04d", i))
	}
	if b := e.step(); b.Full || len(b.Keys) != page || b.Keys[page-1] != fmt.Sprintf("k%04d", page-1) {
		t.Fatalf("first step: Full=%v, %d keys, want the first %d", b.Full, len(b.Keys), page)
	}
	if b := e.step(); b.Full || !slices.Equal(b.Keys, []string{fmt.Sprintf("k%04d", page)}) {
		t.Fatalf("second step = %+v, want the last key", b)
	}
}

// TestPublishAll: a writer that cannot name what it changed (a restored
// backup) makes every other instance reload everything once, and only
// once: the entries up to the announcement count as seen.
func TestPublishAll(t *testing.T) {
	e := newEnv(t)
	e.step() // the first, Full, step
	restorer := e.newFeed("things", changefeed.Options{})
	if err := restorer.PublishAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.step(); !got.Full {
		t.Fatalf("step after PublishAll = %+v, want Full", got)
	}
	if got := e.step(); !got.Empty() {
		t.Fatalf("second step = %+v, want nothing", got)
	}
	e.publish(restorer, "a")
	if got := e.step(); !slices.Equal(got.Keys, []string{"a"}) || got.Full {
		t.Fatalf("step after a keyed entry = %+v, want keys [a]", got)
	}
	// A second instance that starts later sees its Full first step and
	// then nothing of the announcement, which its first step covered.
	late := e.newFeed("things", changefeed.Options{}).NewPoller(func(context.Context, changefeed.Batch) error { return nil })
	for i, want := range []bool{true, false} {
		b, err := late.Step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if b.Full != want {
			t.Fatalf("late poller step %d: Full = %v, want %v", i, b.Full, want)
		}
	}
}
