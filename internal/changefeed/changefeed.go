// Package changefeed tells every instance of the service what changed in
// data they all keep a copy of in memory (the published articles, the
// product catalogue, the site settings), through the database they share.
//
// Neither engine offers change streams (the embedded FerretDB has none),
// and the embedded engine answers quickly only a filter that is exactly
// {_id: X}. So a feed is built from documents read and written by _id
// alone:
//
//   - every Feed value (one per process and feed) is a writer with a
//     random ID W. Its changes are numbered entries "<W>/1", "<W>/2", ...
//     in <name>_changes, without holes, each naming the keys it touched
//     (article IDs, product codes);
//   - every writer has a head in change_writers, "<name>@<W>", saying the
//     range of entries it still keeps (from..last).
//
// Each instance runs a Poller whose Step reads the heads (a handful of
// small documents) and, for each other writer whose last moved, the new
// entries by _id, and hands its handler a Batch: the keys of those
// entries, or Full when it cannot know what it missed (its first step, a
// gap longer than MaxGap, an entry pruned before it was read). That
// policy, and the intervals around it, are defined here and nowhere else.
package changefeed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/problem"
)

// The defaults of Options.
const (
	// DefaultRetention is how long a log entry is kept, and how long a
	// writer's head may go without a write before it counts as dead.
	DefaultRetention = 5 * time.Minute
	// DefaultMaxGap is how long a poller may go without a successful step
	// before it no longer trusts the log to hold everything it missed.
	// It leaves the retention three minutes for clock differences between
	// the instances (entries and heads carry their writer's clock).
	DefaultMaxGap = 2 * time.Minute
	// DefaultPruneEvery is how often a poller prunes its writer's entries
	// and the dead writers', and refreshes its writer's head.
	DefaultPruneEvery = time.Minute
)

// maxReadsPerStep caps the entries one step reads, so that a writer far
// ahead (a bulk import) cannot hold a step for long; the next step goes
// on from where this one stopped.
const maxReadsPerStep = 500

// maxDeletesPerPrune caps the entries of a dead writer one prune pass
// deletes; the next pass goes on.
const maxDeletesPerPrune = 1000

// headCollection holds the head of every writer of every feed.
const headCollection = "change_writers"

// Options configure a feed and its pollers. Zero values take the defaults.
type Options struct {
	// Retention is how long log entries are kept (DefaultRetention).
	Retention time.Duration
	// MaxGap is the longest a poller may be out of touch before its next
	// step is Full (DefaultMaxGap). It must be shorter than Retention.
	// PruneEvery must be shorter than MaxGap: a writer refreshes its
	// head at every prune pass, and one that could not for MaxGap takes
	// a new writer ID (see Feed.writeHead).
	MaxGap time.Duration
	// FullEvery is how often a poller's step is Full in any case; 0
	// means never. A feed whose full reload is cheap may set it as a
	// safety net for changes never published (a writer that died between
	// its write and Publish).
	FullEvery time.Duration
	// PruneEvery is how often a poller prunes (DefaultPruneEvery).
	PruneEvery time.Duration
	// Now is the clock of the policy and of timestamps; nil means
	// time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Feed is one named feed in a database, and this process's writer on it.
// It is safe for concurrent use.
type Feed struct {
	name   string
	heads  *mongo.Collection
	log    *mongo.Collection
	opts   Options
	logger *slog.Logger

	mu sync.Mutex // serializes publishing and guards what follows
	w  writer
	// old are the IDs this Feed wrote under before it took its current
	// one; their entries are still this process's own.
	old []string
	// kept are the entries this Feed wrote and has not pruned, oldest
	// first, of any of its IDs.
	kept []written
	// pending are the keys of changes whose Publish failed: they are
	// published with the next change, or by the next poller step.
	pending []string
	// pendingAll says a PublishAll failed: the next entry is full.
	pendingAll bool
}

// writer is the numbering of one writer ID.
type writer struct {
	id     string
	last   int64     // the last entry logged
	headAt time.Time // when the head was last written; zero: never
}

type written struct {
	id string // the entry's _id
	w  string // the writer ID it was written under
	n  int64
	at time.Time
}

// New returns the feed called name in db, with a writer of its own: its
// log is the collection <name>_changes, its writers' heads the documents
// <name>@<writer> in change_writers.
func New(db *mongo.Database, name string, o Options) (*Feed, error) {
	if name == "" {
		return nil, errors.New("change feed: empty name")
	}
	defaults := []struct {
		v   *time.Duration
		def time.Duration
	}{{&o.Retention, DefaultRetention}, {&o.MaxGap, DefaultMaxGap}, {&o.PruneEvery, DefaultPruneEvery}}
	for _, d := range defaults {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if o.MaxGap >= o.Retention {
		return nil, fmt.Errorf("change feed %q: MaxGap (%v) must be shorter than Retention (%v), or a poller back from a gap could miss pruned entries", name, o.MaxGap, o.Retention)
	}
	if o.PruneEvery >= o.MaxGap {
		return nil, fmt.Errorf("change feed %q: PruneEvery (%v) must be shorter than MaxGap (%v), or a live writer's head would look dead", name, o.PruneEvery, o.MaxGap)
	}
	if o.FullEvery < 0 {
		o.FullEvery = 0
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Feed{
		name:   name,
		heads:  db.Collection(headCollection),
		log:    db.Collection(name + "_changes"),
		opts:   o,
		logger: o.Logger.With("feed", name),
		w:      writer{id: randomID()},
	}, nil
}

// EnsureIndexes creates the index the heads are read by. The embedded
// engine scans the (handful of) heads either way; MongoDB uses it.
func (f *Feed) EnsureIndexes(ctx context.Context) error {
	return mongodb.EnsureIndexes(ctx, f.heads, mongo.IndexModel{
		Keys: bson.D{{Key: "feed", Value: 1}}, Options: options.Index().SetName("feed")})
}

// entry is one logged change.
type entry struct {
	ID   string   `bson:"_id"`
	Keys []string `bson:"keys"`
	// All says anything may have changed (PublishAll): a poller that
	// reads it reloads everything.
	All bool `bson:"all,omitempty"`
	// At is the writer's clock.
	At time.Time `bson:"at"`
}

// head is what a writer says of its entries: it keeps From..Last (none
// when From > Last). At is when the writer last wrote it, on its clock:
// a head older than the retention is a dead writer's.
type head struct {
	ID     string    `bson:"_id"`
	Feed   string    `bson:"feed"`
	Writer string    `bson:"writer"`
	From   int64     `bson:"from"`
	Last   int64     `bson:"last"`
	At     time.Time `bson:"at"`
}

func entryID(w string, n int64) string { return fmt.Sprintf("%s/%d", w, n) }

func (f *Feed) headID(w string) string { return f.name + "@" + w }

// Publish announces a committed change that touched keys. A change
// published twice (replayed by another writer) is two entries: handlers
// are idempotent.
//
// Pollers skip the entries of their own Feed: the caller must apply its
// change to this process's copy itself, right after Publish (the cms
// listeners call content.API.ArticleChanged; affiliate and site reload).
//
// It logs the entry first and moves the head after. In the other order a
// poller could see the new last, find the entry missing and reload
// everything. In this order, any poller that sees a last reads a log that
// holds every entry up to it.
//
// The change is already stored when Publish runs, so a caller that gave
// up (a client that went away) does not stop it: it runs to its own
// deadline. When it fails the keys stay pending in the Feed and go out
// with the next Publish or poller step, so they are lost only if the
// process ends first. Errors are Internal or Unavailable; callers log
// them.
func (f *Feed) Publish(ctx context.Context, keys ...string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), mongodb.OpTimeout)
	defer cancel()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.publishLocked(ctx, keys, false)
}

// PublishAll announces that anything may have changed, for a writer that
// cannot name the keys: a backup restored under running instances. Every
// poller that reads the entry hands its handler a Full batch, as at its
// first step. Like Publish it skips this Feed's own pollers, and a
// failure leaves the announcement pending. Errors are Internal or
// Unavailable.
func (f *Feed) PublishAll(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), mongodb.OpTimeout)
	defer cancel()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.publishLocked(ctx, nil, true)
}

// flush publishes the pending keys, if any. Pollers call it at every
// step.
func (f *Feed) flush(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.pending) == 0 && !f.pendingAll {
		return nil
	}
	return f.publishLocked(ctx, nil, false)
}

// publishLocked logs one entry with the pending keys and keys, full when
// all or a failed PublishAll is pending.
func (f *Feed) publishLocked(ctx context.Context, keys []string, all bool) error {
	all = all || f.pendingAll
	merged := append(slices.Clone(f.pending), keys...)
	slices.Sort(merged)
	merged = slices.Compact(merged)
	if merged == nil {
		merged = []string{}
	}
	f.renewIfOutOfTouch()
	// Until the head says it, an entry is not published: when the head
	// cannot be written the keys stay pending too, and their retry is a
	// second entry with the same keys.
	if err := f.insert(ctx, merged, all); err != nil {
		f.pending, f.pendingAll = merged, all
		return err
	}
	if err := f.writeHead(ctx); err != nil {
		f.pending, f.pendingAll = merged, all
		return err
	}
	f.pending, f.pendingAll = nil, false
	return nil
}

// insert logs the next entry. An insert that failed ambiguously may have
// landed: the retry of the same number is then a Conflict, and the entry
// goes under the next number (the landed one is a harmless duplicate).
func (f *Feed) insert(ctx context.Context, keys []string, all bool) error {
	for attempt := 0; ; attempt++ {
		n := f.w.last + 1
		at := f.opts.Now().UTC()
		id := entryID(f.w.id, n)
		err := mongodb.Insert(ctx, f.log, fmt.Sprintf("log change %q in feed %q", id, f.name), entry{ID: id, Keys: keys, All: all, At: at})
		if err == nil || errors.Is(err, problem.Conflict) {
			f.w.last = n
			f.kept = append(f.kept, written{id: id, w: f.w.id, n: n, at: at})
		}
		if err == nil || !errors.Is(err, problem.Conflict) || attempt > 0 {
			return err
		}
	}
}

// renewIfOutOfTouch takes a new writer ID when this one's head has not
// been written for MaxGap. A live writer writes its head at least every
// PruneEvery (< MaxGap), and a head is removed as dead only once it is
// older than Retention on another instance's clock, which is later by
// more than any tolerated clock difference (Retention - MaxGap). So a
// head that may already have been removed is never written again: a
// writer back from such a silence continues under a new ID, whose
// entries pollers read from 1, instead of recreating a head whose
// entries they may have forgotten.
func (f *Feed) renewIfOutOfTouch() {
	if f.w.headAt.IsZero() || f.opts.Now().Sub(f.w.headAt) <= f.opts.MaxGap {
		return
	}
	f.old = append(f.old, f.w.id)
	f.w = writer{id: randomID()}
}

// writeHead upserts the head of the current writer ID.
func (f *Feed) writeHead(ctx context.Context) error {
	now := f.opts.Now().UTC()
	from := f.w.last + 1
	for _, k := range f.kept {
		if k.w == f.w.id {
			from = k.n
			break
		}
	}
	set := bson.D{{Key: "$set", Value: bson.D{{Key: "feed", Value: f.name}, {Key: "writer", Value: f.w.id},
		{Key: "from", Value: from}, {Key: "last", Value: f.w.last}, {Key: "at", Value: now}}}}
	_, err := mongodb.UpdateByID(ctx, f.heads, fmt.Sprintf("move the head of writer %q of feed %q", f.w.id, f.name),
		f.headID(f.w.id), set, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return err
	}
	f.w.headAt = now
	return nil
}

// own reports whether w is one of this Feed's writer IDs.
func (f *Feed) own(w string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return w == f.w.id || slices.Contains(f.old, w)
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// readHeads reads the heads of the feed's writers. It is the one read of
// the feed that is not by _id, so on the embedded engine it scans
// change_writers: a handful of small documents, one per live process and
// feed (dead writers' heads are pruned), which does not grow with the
// data.
func (f *Feed) readHeads(ctx context.Context) ([]head, error) {
	return mongodb.FindAll[head](ctx, f.heads, fmt.Sprintf("read the writers of feed %q", f.name),
		bson.D{{Key: "feed", Value: f.name}})
}

// readEntry reads entry n of writer w; NotFound when it is not (or no
// longer) there.
func (f *Feed) readEntry(ctx context.Context, w string, n int64) (*entry, error) {
	id := entryID(w, n)
	return mongodb.FindByID[entry](ctx, f.log, fmt.Sprintf("read change %q of feed %q", id, f.name), id)
}

// prune deletes this writer's entries older than the retention, refreshes
// its head (which tells others it is alive, and from where it keeps
// entries), and removes dead writers' heads and entries, all by _id.
func (f *Feed) prune(ctx context.Context, heads []head) error {
	if err := f.pruneOwn(ctx); err != nil {
		return err
	}
	for _, h := range heads {
		if f.own(h.Writer) || f.opts.Now().Sub(h.At) <= f.opts.Retention {
			continue
		}
		if err := f.removeDead(ctx, h); err != nil {
			return err
		}
	}
	return nil
}

// pruneOwn deletes this writer's expired entries outside the lock, so
// that Publish does not wait for them (at 30 changes a second a minute
// of them is 1,800 deletes), then refreshes the head.
func (f *Feed) pruneOwn(ctx context.Context) error {
	expired := f.takeExpired()
	for i, k := range expired {
		if _, err := mongodb.DeleteByID(ctx, f.log, fmt.Sprintf("prune change %q of feed %q", k.id, f.name), k.id); err != nil {
			f.giveBack(expired[i:])
			return err
		}
	}
	return f.heartbeat(ctx)
}

// takeExpired removes the entries older than the retention from kept: the
// head's from then no longer names them while they are being deleted.
func (f *Feed) takeExpired() []written {
	f.mu.Lock()
	defer f.mu.Unlock()
	before := f.opts.Now().Add(-f.opts.Retention)
	n := 0
	for n < len(f.kept) && f.kept[n].at.Before(before) {
		n++
	}
	expired := slices.Clone(f.kept[:n])
	f.kept = f.kept[n:]
	return expired
}

// giveBack returns entries whose deletion failed to the front of kept.
func (f *Feed) giveBack(ws []written) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.kept = append(slices.Clone(ws), f.kept...)
}

// heartbeat writes the head again, which tells the others this writer
// lives and from where it keeps entries.
func (f *Feed) heartbeat(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.w.headAt.IsZero() {
		return nil // nothing published yet: no head to keep alive
	}
	if f.renewIfOutOfTouch(); f.w.headAt.IsZero() {
		return nil // a new ID: its head comes with its first entry
	}
	return f.writeHead(ctx)
}

// removeDead deletes the entries of a dead writer, at most
// maxDeletesPerPrune per pass (moving its head's from), then its head.
// Entries go first: a pass cut short leaves a head that the next pass
// finds again, never entries nobody knows of.
func (f *Feed) removeDead(ctx context.Context, h head) error {
	to := min(h.Last, h.From+maxDeletesPerPrune-1)
	for n := h.From; n <= to; n++ {
		id := entryID(h.Writer, n)
		if _, err := mongodb.DeleteByID(ctx, f.log, fmt.Sprintf("prune change %q of feed %q", id, f.name), id); err != nil {
			return err
		}
	}
	op := fmt.Sprintf("remove dead writer %q of feed %q", h.Writer, f.name)
	if to < h.Last {
		_, err := mongodb.UpdateByID(ctx, f.heads, op, h.ID, bson.D{{Key: "$set", Value: bson.D{{Key: "from", Value: to + 1}}}})
		return err
	}
	_, err := mongodb.DeleteByID(ctx, f.heads, op, h.ID)
	return err
}
