package cms

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/wellness/cms/internal/changefeed"
)

// The authoring list is answered from memory. On the embedded engine any
// filter but {_id: X} reads and decodes the whole collection, bodies
// included, whatever the projection: at 1,000 articles a list page took
// 0.86 s, which the admin UI's article list shows on every visit. So every
// instance keeps every article's list fields and search words (not its
// bodies), loaded once, kept current by its own commits (changed) and by
// the articles' change feed for everyone else's, and filters them here:
// the one place the list's rule lives.
type listing struct {
	mu     sync.RWMutex
	loaded bool
	byID   map[string]*Article
	// order is every article, newest (greatest ID) first.
	order []*Article

	load sync.Mutex // held while loading, so one caller loads
}

// listed is what the listing keeps of a: everything but the bodies and
// the readers' copy.
func listed(a *Article) *Article {
	c := *a
	c.Body, c.BodyHTML, c.Live, c.BodyLinks = "", "", nil, nil
	return &c
}

// put records a version of an article, unless a newer one is known.
func (l *listing) put(a *Article) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.putLocked(listed(a))
}

func (l *listing) putLocked(a *Article) {
	if cur, ok := l.byID[a.ID]; ok {
		if cur.Version > a.Version {
			return
		}
		i := l.index(a.ID)
		l.order[i] = a
		l.byID[a.ID] = a
		return
	}
	if l.byID == nil {
		l.byID = map[string]*Article{}
	}
	i := l.index(a.ID)
	l.order = slices.Insert(l.order, i, a)
	l.byID[a.ID] = a
}

// index is where id is or would be in order (descending IDs).
func (l *listing) index(id string) int {
	i, _ := slices.BinarySearchFunc(l.order, id, func(a *Article, id string) int { return strings.Compare(id, a.ID) })
	return i
}

// replace installs a full load, keeping versions newer than it that a
// commit recorded while it read.
func (l *listing) replace(all []*Article) {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.byID
	l.byID, l.order = make(map[string]*Article, len(all)), make([]*Article, 0, len(all))
	for _, a := range all {
		if cur, ok := old[a.ID]; ok && cur.Version > a.Version {
			a = cur
		}
		l.byID[a.ID] = a
		l.order = append(l.order, a)
	}
	for id, a := range old {
		if _, ok := l.byID[id]; !ok {
			l.byID[id] = a
			l.order = append(l.order, a)
		}
	}
	slices.SortFunc(l.order, func(a, b *Article) int { return strings.Compare(b.ID, a.ID) })
	l.loaded = true
}

// find returns up to f.Limit articles matching f, newest first.
func (l *listing) find(f ArticleFilter) []*Article {
	l.mu.RLock()
	defer l.mu.RUnlock()
	start := 0
	if f.Before != "" {
		start = l.index(f.Before)
		if start < len(l.order) && l.order[start].ID == f.Before {
			start++
		}
	}
	out := []*Article{}
	for _, a := range l.order[start:] {
		if len(out) == f.Limit {
			break
		}
		if f.matches(a) {
			out = append(out, a)
		}
	}
	return out
}

// matches is the list's filter: every set field must hold.
func (f ArticleFilter) matches(a *Article) bool {
	switch {
	case f.Status != "" && a.Status != f.Status,
		f.AuthorID != "" && a.Author.ID != f.AuthorID,
		f.AuthorSlug != "" && a.AuthorSlug != f.AuthorSlug,
		f.Tag != "" && !slices.Contains(a.Tags, f.Tag):
		return false
	}
	for _, w := range f.Words {
		term, prefix := queryTerm(w)
		if !slices.ContainsFunc(a.SearchWords, func(sw string) bool {
			return sw == term || prefix && strings.HasPrefix(sw, term)
		}) {
			return false
		}
	}
	return true
}

// articles is the listing, loaded from the database on first use (one
// scan of the collection), for List and ArticleSlugsOf.
func (s *Service) articles(ctx context.Context) (*listing, error) {
	l := s.list
	l.mu.RLock()
	loaded := l.loaded
	l.mu.RUnlock()
	if loaded {
		return l, nil
	}
	l.load.Lock()
	defer l.load.Unlock()
	l.mu.RLock()
	loaded = l.loaded
	l.mu.RUnlock()
	if !loaded {
		if err := s.reloadListing(ctx); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// reloadListing reads every article's list fields and search words.
func (s *Service) reloadListing(ctx context.Context) error {
	all, err := s.store.findListed(ctx)
	if err != nil {
		return fmt.Errorf("load the article list: %w", err)
	}
	s.list.replace(all)
	return nil
}

// findListed reads every article without its bodies.
func (s *store) findListed(ctx context.Context) ([]*Article, error) {
	ctx, cancel := context.WithTimeout(ctx, reloadTimeout)
	defer cancel()
	return s.findArticlesWhere(ctx, "find listed articles", bson.D{}, options.Find().
		SetProjection(bson.D{{Key: "body", Value: 0}, {Key: "bodyHtml", Value: 0}, {Key: "live", Value: 0}, {Key: "bodyLinks", Value: 0}}))
}

// applyListBatch applies what the change feed says other writers changed:
// those articles read again by _id, or everything on a full batch.
func (s *Service) applyListBatch(ctx context.Context, b changefeed.Batch) error {
	if b.Full {
		l := s.list
		l.load.Lock()
		defer l.load.Unlock()
		return s.reloadListing(ctx)
	}
	ids, _ := ParseFeedKeys(b.Keys)
	fetched, err := s.store.findArticlesByID(ctx, ids)
	if err != nil {
		return err
	}
	for _, a := range fetched {
		s.list.put(a)
	}
	return nil
}

// created records a new draft in the authoring list and announces it, so
// that the other instances' lists show it too. Readers have nothing to
// learn from a draft, so the change listeners are not told.
func (s *Service) created(ctx context.Context, a *Article) {
	s.list.put(a)
	if s.feed != nil {
		if err := s.feed.Publish(ctx, a.ID); err != nil {
			s.log.Error("could not announce a new article to other instances yet; the feed retries it at its next step",
				"article", a.ID, "err", err)
		}
	}
}

// StartListing loads the authoring list before the server serves: the
// change feed's first step, a full load. (Loading later, in the
// background, would run a scan of every article in the middle of
// requests.)
func (s *Service) StartListing(ctx context.Context) error {
	if s.listPoller == nil {
		_, err := s.articles(ctx)
		return err
	}
	if _, err := s.listPoller.Step(ctx); err != nil {
		return fmt.Errorf("load the article list: %w", err)
	}
	return nil
}

// listPoll is how often the authoring list reads the change feed.
const listPoll = time.Second

// RunListing keeps the authoring list current with other instances'
// changes until ctx ends; the first step loads it.
func (s *Service) RunListing(ctx context.Context) {
	if s.listPoller != nil {
		s.listPoller.Run(ctx, listPoll)
	}
}
