// Package changefeed tells every instance of the service what changed in
// data they all keep a copy of in memory (the published articles, the
// product catalogue), through the database they share.
//
// Neither engine offers change streams (the embedded FerretDB has none),
// so a feed is two things every instance polls:
//
//   - a marker, one document read by _id (what the embedded engine answers
//     fastest), whose token moves on every change. A poll that finds the
//     token where it was costs one lookup and nothing else;
//   - a log of what changed: one entry per change, naming the keys it
//     touched (article IDs, product codes), kept for a retention so that
//     an instance that moved on can learn which keys to fetch again
//     instead of reloading everything.
//
// Writers call Feed.Publish after each committed change. Each instance
// runs a Poller whose Step reads the marker and, when it moved, the log,
// and hands its handler a Batch: the keys of entries it had not seen, or
// Full when it cannot know what it missed (its first step, a gap longer
// than the log is sure to cover) or when the full-reload policy says so.
// That policy, and the intervals around it, are defined here and nowhere
// else.
package changefeed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/problem"
)

// The defaults of Options.
const (
	// DefaultRetention is how long a log entry is kept.
	DefaultRetention = 5 * time.Minute
	// DefaultMaxGap is how long a poller may go without a successful step
	// before it no longer trusts the log to hold everything it missed.
	// It leaves the retention three minutes for clock differences between
	// the instances (entries carry their writer's clock).
	DefaultMaxGap = 2 * time.Minute
	// DefaultFullEvery is the full-reload policy: however quiet the feed,
	// a poller asks for a full reload this often, which repairs what a
	// change that was never published (a writer that died between its
	// write and Publish, a failed Publish) left stale.
	DefaultFullEvery = 5 * time.Minute
	// DefaultPruneEvery is how often a poller deletes expired entries.
	DefaultPruneEvery = time.Minute
)

// markerCollection holds the marker of every feed, under the feed's name.
const markerCollection = "change_markers"

// Options configure a feed and its pollers. Zero values take the defaults.
type Options struct {
	// Retention is how long log entries are kept (DefaultRetention).
	Retention time.Duration
	// MaxGap is the longest a poller may be out of touch before its next
	// step is Full (DefaultMaxGap). It must be shorter than Retention.
	MaxGap time.Duration
	// FullEvery is how often a poller's step is Full in any case
	// (DefaultFullEvery).
	FullEvery time.Duration
	// PruneEvery is how often a poller prunes the log (DefaultPruneEvery).
	PruneEvery time.Duration
	// Now is the clock of the policy and of entry timestamps; nil means
	// time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Feed is one named feed in a database. It is safe for concurrent use.
type Feed struct {
	name    string
	markers *mongo.Collection
	log     *mongo.Collection
	opts    Options
	logger  *slog.Logger
}

// New returns the feed called name in db. Its marker is the document
// name in change_markers, its log the collection <name>_changes.
func New(db *mongo.Database, name string, o Options) (*Feed, error) {
	if name == "" {
		return nil, errors.New("change feed: empty name")
	}
	defaults := []struct {
		v   *time.Duration
		def time.Duration
	}{{&o.Retention, DefaultRetention}, {&o.MaxGap, DefaultMaxGap}, {&o.FullEvery, DefaultFullEvery}, {&o.PruneEvery, DefaultPruneEvery}}
	for _, d := range defaults {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if o.MaxGap >= o.Retention {
		return nil, fmt.Errorf("change feed %q: MaxGap (%v) must be shorter than Retention (%v), or a poller back from a gap could miss pruned entries", name, o.MaxGap, o.Retention)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Feed{
		name:    name,
		markers: db.Collection(markerCollection),
		log:     db.Collection(name + "_changes"),
		opts:    o,
		logger:  o.Logger.With("feed", name),
	}, nil
}

// EnsureIndexes creates the index pruning uses. The embedded engine scans
// the (small) log either way; MongoDB uses it.
func (f *Feed) EnsureIndexes(ctx context.Context) error {
	return mongodb.EnsureIndexes(ctx, f.log, mongo.IndexModel{
		Keys: bson.D{{Key: "at", Value: 1}}, Options: options.Index().SetName("at")})
}

// entry is one logged change. Its _id is chosen by the writer so that
// logging a change again (a replay: an interrupted change finished by
// another writer) is the same document, not a second one.
type entry struct {
	ID   string   `bson:"_id"`
	Keys []string `bson:"keys"`
	// At is the writer's clock, for pruning only.
	At time.Time `bson:"at"`
}

// Publish announces a committed change that touched keys, under entryID:
// the same entryID for the same change (an article's ID and version, for
// instance), so that publishing it twice is reported once. An empty
// entryID is for changes nobody replays; it gets a fresh random one.
//
// It logs the entry first and moves the marker after. In the other order
// a poller could see the new token, read the log before the entry is in
// it, remember the new token and never look again: the change would wait
// for the next full reload. In this order, any poller that sees the new
// token reads a log that holds the entry.
//
// The change is already stored when Publish runs, so a caller that gave
// up (a client that went away) does not stop it: it runs to its own
// deadline. Errors are Internal or Unavailable; other instances then catch
// up at their next full reload, so callers log them.
func (f *Feed) Publish(ctx context.Context, entryID string, keys ...string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), mongodb.OpTimeout)
	defer cancel()
	if entryID == "" {
		entryID = randomToken()
	}
	if keys == nil {
		keys = []string{}
	}
	err := mongodb.Insert(ctx, f.log, fmt.Sprintf("log change %q in feed %q", entryID, f.name),
		entry{ID: entryID, Keys: keys, At: f.opts.Now().UTC()})
	if err != nil && !errors.Is(err, problem.Conflict) {
		return err
	}
	return f.move(ctx)
}

// move sets the marker to a token nobody has seen. A random token rather
// than a counter: the embedded engine applies $inc as a read followed by a
// write, so two writers racing could both leave n+1 and a poller that saw
// n+1 after the first would miss the second. A fresh token always differs
// from what any poller saw before it was written.
func (f *Feed) move(ctx context.Context) error {
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "token", Value: randomToken()}}}}
	for attempt := 0; ; attempt++ {
		_, err := mongodb.UpdateByID(ctx, f.markers, fmt.Sprintf("move the marker of feed %q", f.name),
			f.name, update, options.UpdateOne().SetUpsert(true))
		// Two first uses at once: one upsert loses on the unique _id and
		// then updates the document the winner created.
		if err == nil || !errors.Is(err, problem.Conflict) || attempt > 0 {
			return err
		}
	}
}

func randomToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// token reads the marker; "" before the first change.
func (f *Feed) token(ctx context.Context) (string, error) {
	doc, err := mongodb.FindByID[struct {
		Token string `bson:"token"`
	}](ctx, f.markers, fmt.Sprintf("read the marker of feed %q", f.name), f.name)
	if errors.Is(err, problem.NotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return doc.Token, nil
}

// entries reads the whole log: it holds one retention of changes.
func (f *Feed) entries(ctx context.Context) ([]entry, error) {
	return mongodb.FindAll[entry](ctx, f.log, fmt.Sprintf("read the changes of feed %q", f.name), bson.D{})
}

// prune deletes the entries older than the retention.
func (f *Feed) prune(ctx context.Context) error {
	before := f.opts.Now().UTC().Add(-f.opts.Retention)
	_, err := mongodb.DeleteMany(ctx, f.log, fmt.Sprintf("prune the changes of feed %q", f.name),
		bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: before}}}})
	return err
}
