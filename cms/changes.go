package cms

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
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
	// Former are slugs the change reserved for the article besides the
	// one it moved from: an import's old URLs (AddFormerSlugs).
	Former []string
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

// DueHint reports the IDs of the articles due for the scheduler at now in
// a reader's in-memory view of readable articles (scheduled ones, and
// published ones with scheduled changes), earliest first, and whether
// that view is current. The content API offers one; the scheduler then
// reads just those articles by _id instead of querying for due ones.
type DueHint func(now time.Time) (ids []string, current bool)

// staleScanEvery is how often the scheduler queries the database while
// the hint's view is stale. Not every pass: on the embedded engine that
// query reads every article, which at 10,000 articles takes longer than
// an operation's timeout on a busy machine, and a view goes stale exactly
// when the database is too busy to answer the change feed's polls; a
// query every pass kept it busy and the view stale (seen while seeding
// 10,000 articles: 25 articles a second instead of 80).
const staleScanEvery = time.Minute

// dueFromHint tells the scheduler what to publish: the hint's IDs, or
// scan when it must query the database instead: always without a hint
// (the command-line tools), and at most every staleScanEvery while the
// hint's view is stale (lastScan is when the query last ran), when the
// stale view's IDs are published in between.
//
// While the view is current the scheduler never queries, not even now
// and then as a safety net: the content API sees every readable article
// of every instance, through this instance's listener and the change
// feed (which retries an announcement that failed), and an article
// becomes due only through a change that leaves it readable (a draft is
// scheduled only by a write that makes it scheduled; staged changes are
// scheduled on a published article), so every due article is in the
// view. The one gap is the feed's: a writer that died between storing a
// change and announcing it leaves the other instances' views without it
// until the article changes again or they restart (a restart reloads
// everything, so a single instance is not affected). Each ID is read and
// checked again before it is published (publishIfDue), so a view a moment
// behind costs a read, never a wrong publication.
func (s *Service) dueFromHint(due DueHint, lastScan time.Time) (ids []string, scan bool) {
	if due == nil {
		return nil, true
	}
	now := s.clock()
	ids, current := due(now)
	if !current && now.Sub(lastScan) >= staleScanEvery {
		return nil, true
	}
	return ids, false
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

// changed runs after a change is stored. The change is first recorded in
// this instance's authoring list and published on the articles' change feed,
// so that every other instance (and every other process writing articles,
// such as `cms resanitize`) makes its readers' copy current within a poll.
// This instance's pollers skip its own entries: the listeners (the
// content API's ArticleChanged) apply the change here, which is the
// contract of changefeed.Feed.Publish.
func (s *Service) changed(ctx context.Context, prev, next *Article) {
	s.announce(ctx, Change{Prev: prev, Next: next})
}

// announce is changed for a change already built.
func (s *Service) announce(ctx context.Context, c Change) {
	next := c.Next
	s.list.put(next)
	// Every change is announced, drafts too: other instances' authoring
	// lists follow all of them (listing.go).
	if s.feed != nil {
		if err := s.feed.Publish(ctx, c.FeedKeys()...); err != nil {
			s.log.Error("could not announce a change to other instances yet; the feed retries it at its next step",
				"article", next.ID, "err", err)
		}
	}
	s.changes.mu.Lock()
	listeners := s.changes.listeners
	s.changes.mu.Unlock()
	for _, fn := range listeners {
		fn(ctx, c)
	}
}

// ServedChanged reports whether what readers get of the article changed:
// not for a staged edit of a published article (its live copy stays),
// but for publishing changes, a new publication and anything that
// changes a served version. Served versions are told apart by their
// published version and their updatedAt, which every change of what
// readers get moves.
func (c Change) ServedChanged() bool {
	if c.Prev == nil {
		return true
	}
	p, n := c.Prev.Served(), c.Next.Served()
	return p.Status != n.Status || !p.UpdatedAt.Equal(n.UpdatedAt) || !equalVersion(p.PublishedVersion, n.PublishedVersion)
}

func equalVersion(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// The keys of the articles' change feed: the ID of the article that
// changed, and "slug=id" for each slug the change reserves, so that other
// instances learn a former slug without reading the slug collection (a
// scan on the embedded engine).
func (c Change) FeedKeys() []string {
	keys := []string{c.Next.ID}
	for _, slug := range slices.Sorted(maps.Keys(c.Slugs())) {
		keys = append(keys, slug+"="+c.Next.ID)
	}
	return keys
}

// ParseFeedKeys reads the keys of a batch of the articles' change feed back:
// the articles that changed and the slugs they reserved.
func ParseFeedKeys(keys []string) (ids []string, slugs SlugHistory) {
	slugs = SlugHistory{}
	for _, k := range keys {
		if slug, id, ok := strings.Cut(k, "="); ok {
			slugs[slug] = id
		} else {
			ids = append(ids, k)
		}
	}
	return ids, slugs
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

// findArticleVersions returns the ID, version and status of every article.
func (s *store) findArticleVersions(ctx context.Context) ([]ArticleVersion, error) {
	ctx, cancel := context.WithTimeout(ctx, reloadTimeout)
	defer cancel()
	return mongodb.FindAll[ArticleVersion](ctx, s.articles, "find article versions", bson.D{}, options.Find().
		SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "version", Value: 1}, {Key: "status", Value: 1}}))
}

// findReadableArticles returns every published and scheduled article
// without its source body, which the content API never shows, and its
// search words, which its own index holds.
func (s *store) findReadableArticles(ctx context.Context) ([]*Article, error) {
	ctx, cancel := context.WithTimeout(ctx, reloadTimeout)
	defer cancel()
	return s.findArticlesWhere(ctx, "find readable articles",
		bson.D{{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{string(StatusPublished), string(StatusScheduled)}}}}},
		options.Find().SetProjection(bson.D{{Key: "body", Value: 0}, {Key: "searchWords", Value: 0}, {Key: "live.body", Value: 0}}))
}

// findSlugHistory returns every reserved slug and the article it names.
func (s *store) findSlugHistory(ctx context.Context) (SlugHistory, error) {
	ctx, cancel := context.WithTimeout(ctx, reloadTimeout)
	defer cancel()
	recs, err := mongodb.FindAll[SlugRecord](ctx, s.slugs, "find slugs", bson.D{}, options.Find().
		SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "articleId", Value: 1}}))
	if err != nil {
		return nil, err
	}
	out := make(SlugHistory, len(recs))
	for _, r := range recs {
		out[r.Slug] = r.ArticleID
	}
	return out, nil
}

// findArticlesByID reads the articles with the given IDs, one lookup by
// _id each; missing ones are left out.
func (s *store) findArticlesByID(ctx context.Context, ids []string) (map[string]*Article, error) {
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

// ArticleVersions is the ID, version and status of every article.
func (s *Service) ArticleVersions(ctx context.Context) ([]ArticleVersion, error) {
	return s.store.findArticleVersions(ctx)
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
	return s.store.findArticlesByID(ctx, ids)
}
