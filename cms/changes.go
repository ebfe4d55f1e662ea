package cms

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/problem"
)

// Change is one committed change of an article: the version it replaced
// and the version now stored. Listeners must treat both as read-only; the
// writer returns Next to its caller.
type Change struct {
	Prev *Article
	Next *Article
}

// Readable reports whether readers of the content API can see a, now or
// when its publication time comes without anyone acting again.
func (a *Article) Readable() bool { return a != nil && a.Status.Readable() }

// Readable reports whether articles in this status are the content API's:
// published, or scheduled to appear by themselves.
func (st Status) Readable() bool { return st == StatusPublished || st == StatusScheduled }

// changeHooks links the authoring side to its readers: what follows every
// committed change of an article. Its zero value works.
type changeHooks struct {
	mu        sync.Mutex
	listeners []func(context.Context, Change)
}

// DueHint reports whether a scheduled article is due at now in a reader's
// in-memory view of readable articles, and whether that view is current.
// The content API offers one; the scheduler uses it to skip queries.
type DueHint func(now time.Time) (due, current bool)

// dueScanEvery is how often the scheduler scans for due articles even
// when the content API says none is due: a safety net for a change that
// no instance announced.
const dueScanEvery = time.Minute

// mustScan tells the scheduler whether to query the database for due
// articles. On the embedded engine that query reads every article, which
// once a second costs a large share of a core at a thousand articles. The
// content API holds every scheduled article of every instance in memory,
// so while its view is current the scheduler only queries when that view
// has one due, and once every dueScanEvery in any case. Without a hint
// (the command-line tools) it always queries.
func (s *Service) mustScan(lastScan time.Time, due DueHint) bool {
	if due == nil || time.Since(lastScan) >= dueScanEvery {
		return true
	}
	d, current := due(s.clock())
	return d || !current
}

// OnChange registers fn to run after every committed change of an article
// (edits, workflow steps, restores, scheduled publication, a crashed
// change finished by another writer), in the writer's goroutine, before
// the change returns to its caller. That is what lets the content API of
// this instance serve the change on the very next request. fn must be
// quick, must not modify the articles, and logs its own failures: the
// change is already stored. Creating an article is not reported: a new
// article is a draft, which no reader can see. Register before serving.
func (s *Service) OnChange(fn func(ctx context.Context, c Change)) {
	s.changes.mu.Lock()
	defer s.changes.mu.Unlock()
	s.changes.listeners = append(s.changes.listeners, fn)
}

// changed runs after a change is stored. When readers can see either
// version, the change is first logged and the shared content generation
// raised, so that every other instance (and every other process writing
// articles, such as `cms resanitize`) makes its readers' copy current
// within a poll.
func (s *Service) changed(ctx context.Context, prev, next *Article) {
	if prev.Readable() || next.Readable() {
		err := s.store.insertContentChange(ctx, Change{Prev: prev, Next: next})
		if err == nil {
			err = s.store.bumpContentGeneration(ctx)
		}
		if err != nil {
			s.log.Error("could not announce a change to other instances; they catch up at their next full reload",
				"article", next.ID, "err", err)
		}
	}
	s.changes.mu.Lock()
	listeners := s.changes.listeners
	s.changes.mu.Unlock()
	c := Change{Prev: prev, Next: next}
	for _, fn := range listeners {
		fn(ctx, c)
	}
}

// The content generation is one document, keyed by _id, whose counter every
// writer raises after each change readers can see (and after logging the
// change, see ContentChange), and which every instance polls. Neither engine offers change streams, and polling one
// document by _id is what the embedded engine answers fastest.
//
// The embedded engine applies $inc as a read followed by a write, so two
// writers racing can both write n+1 and one increment is lost. That loses
// no change: each writer raises the counter only after its article write,
// so by the time anyone can read n+1 both article writes are stored, and
// a poller that compares the counter for inequality with what it saw
// before its last reload reloads once and sees both.
const (
	generationCollection = "content_generation"
	generationID         = "articles"
)

func (s *store) generation() *mongo.Collection {
	return s.articles.Database().Collection(generationCollection)
}

// bumpContentGeneration raises the counter, creating its document on first
// use. Two first uses at once make one upsert fail on the unique _id; the
// loser then increments the document the winner created.
func (s *store) bumpContentGeneration(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), mongodb.OpTimeout)
	defer cancel()
	filter := bson.D{{Key: "_id", Value: generationID}}
	update := bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: int64(1)}}}}
	for attempt := 0; ; attempt++ {
		_, err := s.generation().UpdateOne(ctx, filter, update, options.UpdateOne().SetUpsert(true))
		if err == nil {
			return nil
		}
		if !mongo.IsDuplicateKeyError(err) || attempt > 0 {
			return mongodb.Err("raise content generation", err)
		}
	}
}

// contentGeneration reads the counter; 0 before the first change.
func (s *store) contentGeneration(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, mongodb.OpTimeout)
	defer cancel()
	var doc struct {
		N int64 `bson:"n"`
	}
	err := s.generation().FindOne(ctx, bson.D{{Key: "_id", Value: generationID}}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, mongodb.Err("read content generation", err)
	}
	return doc.N, nil
}

// ContentChange records one change readers can see, so that other
// instances fetch only the articles that changed instead of reading every
// article (which the embedded engine can only do by scanning them all).
// The _id is the article and its new version: inserting it cannot fail
// half-way or be lost to a race, and a replayed change (an interrupted one
// finished by another writer) is the same document. Changes are kept for
// changeRetention; an instance out of touch for longer reloads fully.
type ContentChange struct {
	ID        string `bson:"_id"`
	ArticleID string `bson:"articleId"`
	Version   int64  `bson:"version"`
	// Slugs are the article's slug and, after a slug change, the former
	// one, which now redirects.
	Slugs []string `bson:"slugs"`
	// At is wall-clock time, for pruning only.
	At time.Time `bson:"at"`
}

const (
	changesCollection = "content_changes"
	// changeRetention is how long a logged change is kept. It bounds the
	// log a poll reads, and must exceed maxSyncGap by more than the clock
	// difference between instances.
	changeRetention = 5 * time.Minute
)

func (s *store) changes() *mongo.Collection {
	return s.articles.Database().Collection(changesCollection)
}

// insertContentChange logs the change from prev to next; logging the same
// change twice is fine.
func (s *store) insertContentChange(ctx context.Context, c Change) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), mongodb.OpTimeout)
	defer cancel()
	next := c.Next
	slugs := slices.Sorted(maps.Keys(c.Slugs()))
	_, err := s.changes().InsertOne(ctx, ContentChange{ID: fmt.Sprintf("%s/%d", next.ID, next.Version),
		ArticleID: next.ID, Version: next.Version, Slugs: slugs, At: time.Now().UTC()})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return mongodb.Err("log content change", err)
	}
	return nil
}

// findContentChanges returns the whole change log: it holds a few minutes
// of changes at most.
func (s *store) findContentChanges(ctx context.Context) ([]ContentChange, error) {
	ctx, cancel := context.WithTimeout(ctx, mongodb.OpTimeout)
	defer cancel()
	cur, err := s.changes().Find(ctx, bson.D{})
	if err != nil {
		return nil, mongodb.Err("find content changes", err)
	}
	var out []ContentChange
	if err := cur.All(ctx, &out); err != nil {
		return nil, mongodb.Err("read content changes", err)
	}
	return out, nil
}

// pruneContentChanges deletes changes logged before before.
func (s *store) pruneContentChanges(ctx context.Context, before time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, mongodb.OpTimeout)
	defer cancel()
	_, err := s.changes().DeleteMany(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: before}}}})
	if err != nil {
		return mongodb.Err("prune content changes", err)
	}
	return nil
}

// ArticleVersion is what a reload needs to know of every article to decide
// which ones to fetch.
type ArticleVersion struct {
	ID      string `bson:"_id"`
	Version int64  `bson:"version"`
	Status  Status `bson:"status"`
}

// reloadTimeout bounds the collection scans of a reload; on the embedded
// engine they read every document.
const reloadTimeout = time.Minute

// findArticleMetas returns the ID, version and status of every article.
func (s *store) findArticleMetas(ctx context.Context) ([]ArticleVersion, error) {
	ctx, cancel := context.WithTimeout(ctx, reloadTimeout)
	defer cancel()
	cur, err := s.articles.Find(ctx, bson.D{}, options.Find().
		SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "version", Value: 1}, {Key: "status", Value: 1}}))
	if err != nil {
		return nil, mongodb.Err("find article versions", err)
	}
	var out []ArticleVersion
	if err := cur.All(ctx, &out); err != nil {
		return nil, mongodb.Err("read article versions", err)
	}
	return out, nil
}

// findReadableArticles returns every published and scheduled article
// without its source body, which the content API never shows.
func (s *store) findReadableArticles(ctx context.Context) ([]*Article, error) {
	ctx, cancel := context.WithTimeout(ctx, reloadTimeout)
	defer cancel()
	cur, err := s.articles.Find(ctx,
		bson.D{{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{string(StatusPublished), string(StatusScheduled)}}}}},
		options.Find().SetProjection(bson.D{{Key: "body", Value: 0}}))
	if err != nil {
		return nil, mongodb.Err("find readable articles", err)
	}
	var out []*Article
	if err := cur.All(ctx, &out); err != nil {
		return nil, mongodb.Err("read readable articles", err)
	}
	for _, a := range out {
		fixTimes(a)
	}
	return out, nil
}

// findSlugHistory returns every reserved slug and the article it names.
func (s *store) findSlugHistory(ctx context.Context) (SlugHistory, error) {
	ctx, cancel := context.WithTimeout(ctx, reloadTimeout)
	defer cancel()
	cur, err := s.slugs.Find(ctx, bson.D{}, options.Find().
		SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "articleId", Value: 1}}))
	if err != nil {
		return nil, mongodb.Err("find slugs", err)
	}
	var recs []SlugRecord
	if err := cur.All(ctx, &recs); err != nil {
		return nil, mongodb.Err("read slugs", err)
	}
	out := make(SlugHistory, len(recs))
	for _, r := range recs {
		out[r.Slug] = r.ArticleID
	}
	return out, nil
}

// fetchArticles reads the articles with the given IDs; missing ones are
// left out.
func (s *store) fetchArticles(ctx context.Context, ids []string) (map[string]*Article, error) {
	out := make(map[string]*Article, len(ids))
	for _, id := range ids {
		a, err := s.FindArticleByID(ctx, id)
		if err != nil {
			if errors.Is(err, problem.NotFound) {
				continue
			}
			return nil, fmt.Errorf("fetch article %s: %w", id, err)
		}
		out[id] = a
	}
	return out, nil
}

// What the content API reads to build and refresh its copy of the
// readable articles. Only these read the authoring store for it.

// ContentGeneration is the shared counter every change readers can see
// raises; 0 before the first.
func (s *Service) ContentGeneration(ctx context.Context) (int64, error) {
	return s.store.contentGeneration(ctx)
}

// ContentChanges is the log of recent changes readers can see.
func (s *Service) ContentChanges(ctx context.Context) ([]ContentChange, error) {
	return s.store.findContentChanges(ctx)
}

// PruneContentChanges forgets changes logged more than the retention ago.
func (s *Service) PruneContentChanges(ctx context.Context) error {
	return s.store.pruneContentChanges(ctx, time.Now().Add(-changeRetention))
}

// ArticleVersions is the ID, version and status of every article.
func (s *Service) ArticleVersions(ctx context.Context) ([]ArticleVersion, error) {
	return s.store.findArticleMetas(ctx)
}

// ReadableArticles is every published and scheduled article, without its
// source body.
func (s *Service) ReadableArticles(ctx context.Context) ([]*Article, error) {
	return s.store.findReadableArticles(ctx)
}

// SlugHistory is every slug ever reserved and the article it names.
func (s *Service) SlugHistory(ctx context.Context) (SlugHistory, error) {
	return s.store.findSlugHistory(ctx)
}

// ArticlesByID reads the articles with these IDs; missing ones are left
// out.
func (s *Service) ArticlesByID(ctx context.Context, ids []string) (map[string]*Article, error) {
	return s.store.fetchArticles(ctx, ids)
}
