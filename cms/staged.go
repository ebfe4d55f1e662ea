package cms

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/problem"
)

// Staged changes. Editing a published article must not change what readers
// get until someone allowed to publish it says so. So the article's
// top-level fields are always the draft authors work on, and a published
// article whose draft has been edited since publication carries a frozen
// copy of what readers get (Article.Live). Package content only ever sees
// Served, the article as readers get it.
//
// The copy is made by the first edit after publication (stage), from the
// version before that edit, so articles stored before staged changes
// existed need no migration. Publishing the changes drops it: the draft is
// then what readers get. Discarding the changes puts the copy's content
// back into the draft and keeps the copy, so readers' version (and its
// updatedAt, hence the public ETag) does not move.

// Published is what readers get of a published article whose draft holds
// changes: the content and what is derived from it, the author and the
// time it last changed for readers. Its publication date is the article's
// PublishedAt and its version PublishedVersion.
type Published struct {
	Content            `bson:",inline"`
	BodyHTML           string     `bson:"bodyHtml"`
	SanitizerVersion   int        `bson:"sanitizerVersion"`
	Excerpt            string     `bson:"excerpt"`
	WordCount          int        `bson:"wordCount"`
	ReadingTimeMinutes int        `bson:"readingTimeMinutes"`
	HasAffiliateLinks  bool       `bson:"hasAffiliateLinks"`
	BodyLinks          []BodyLink `bson:"bodyLinks,omitempty"`
	Author             Person     `bson:"author"`
	UpdatedAt          time.Time  `bson:"updatedAt"`
}

// freeze is a's top level as readers' copy.
func (a *Article) freeze() *Published {
	return &Published{
		Content: a.Content.clone(), BodyHTML: a.BodyHTML, SanitizerVersion: a.SanitizerVersion,
		Excerpt: a.Excerpt, WordCount: a.WordCount, ReadingTimeMinutes: a.ReadingTimeMinutes,
		HasAffiliateLinks: a.HasAffiliateLinks, BodyLinks: a.BodyLinks, Author: a.Author, UpdatedAt: a.UpdatedAt,
	}
}

// Served returns the article as readers of the content API get it: for a
// published article with staged changes, its live copy; otherwise a
// itself. Version stays the document's, so that readers' bookkeeping of
// which versions they have seen keeps working; the content API never
// shows it. The result shares a's slices and must not be modified.
func (a *Article) Served() *Article {
	if a.Live == nil || a.Status != StatusPublished {
		return a
	}
	b := *a
	l := a.Live
	b.Content = l.Content
	b.BodyHTML, b.SanitizerVersion, b.Excerpt = l.BodyHTML, l.SanitizerVersion, l.Excerpt
	b.WordCount, b.ReadingTimeMinutes, b.HasAffiliateLinks = l.WordCount, l.ReadingTimeMinutes, l.HasAffiliateLinks
	b.BodyLinks = l.BodyLinks
	b.Author, b.UpdatedAt = l.Author, l.UpdatedAt
	b.AuthorSlug, b.SearchWords = l.Author.Slug(), nil
	b.PublishAt, b.Live, b.HasUnpublishedChanges, b.ChangesInReview = nil, nil, false, false
	return &b
}

// ChangesPublishAt is when the scheduler publishes the staged changes of a
// published article, or nil when none are scheduled.
func (a *Article) ChangesPublishAt() *time.Time {
	if a.Status != StatusPublished || !a.HasUnpublishedChanges {
		return nil
	}
	return a.PublishAt
}

// stage prepares next, an edit of cur, as a staged change when cur is
// published: the first edit after publication freezes cur as readers'
// copy. Other statuses are edited directly: a scheduled article was never
// served, and the right to edit it is the right to publish it.
func (next *Article) stage(cur *Article) {
	if cur.Status == StatusPublished && next.Live == nil {
		next.Live = cur.freeze()
	}
}

// settle derives the staged-change flags after any change, so they hold
// whichever path wrote the article: only a published article has a
// published version, a live copy or changes in review.
func (a *Article) settle() {
	if a.Status != StatusPublished {
		a.Live, a.PublishedVersion, a.HasUnpublishedChanges, a.ChangesInReview = nil, nil, false, false
		return
	}
	if a.Live == nil {
		// What it holds is what readers get. (Articles published by the
		// scheduler before staged changes kept their publishAt.)
		v := a.Version
		a.PublishedVersion = &v
		a.HasUnpublishedChanges, a.ChangesInReview, a.PublishAt = false, false, nil
		return
	}
	a.HasUnpublishedChanges = len(a.Content.Changed(&a.Live.Content)) > 0 || a.Author != a.Live.Author
	if !a.HasUnpublishedChanges {
		// Edited back to what readers get: nothing left to review or
		// to publish at the scheduled time.
		a.ChangesInReview, a.PublishAt = false, nil
	}
}

// publishChanges makes the draft what readers get.
func (a *Article) publishChanges() {
	a.Live, a.PublishAt, a.ChangesInReview = nil, nil, false
}

// forRevision is prev as its revision keeps it: the live copy without its
// bodies, which keeps a revision holding two versions under the database's
// document limit. Restore reads only the top-level content; the copy's
// dates still tell a replayed change (finishInterrupted) what readers got.
func (a *Article) forRevision() *Article {
	if a.Live == nil {
		return a
	}
	b := *a
	l := *a.Live
	l.Body, l.BodyHTML, l.BodyLinks = "", "", nil
	b.Live = &l
	return &b
}

// DiscardChanges returns the draft of a published article to the version
// readers get, for whoever may edit it (ActionStage). ifMatch must be the
// current version (PreconditionFailed otherwise); an article without
// unpublished changes is a Conflict. Scheduled changes are unscheduled.
func (s *Service) DiscardChanges(ctx context.Context, p *auth.Principal, id string, ifMatch int64) (*Article, error) {
	cur, err := s.load(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if err := may(p, contentAction(ActionEdit, cur), cur); err != nil {
		return nil, err
	}
	if ifMatch != cur.Version {
		return nil, stale(ifMatch, cur.Version)
	}
	if !cur.HasUnpublishedChanges || cur.Live == nil {
		return nil, problem.New(problem.Conflict, "the article has no unpublished changes to discard")
	}
	next := cur.Clone()
	l := next.Live
	next.Content = l.Content.clone()
	next.BodyHTML, next.SanitizerVersion, next.Excerpt = l.BodyHTML, l.SanitizerVersion, l.Excerpt
	next.WordCount, next.ReadingTimeMinutes, next.HasAffiliateLinks = l.WordCount, l.ReadingTimeMinutes, l.HasAffiliateLinks
	next.BodyLinks = slices.Clone(l.BodyLinks)
	next.Author, next.PublishAt, next.ChangesInReview = l.Author, nil, false
	next.deriveKeys()
	changed := next.Content.Changed(&cur.Content)
	if next.Author != cur.Author {
		changed = append(changed, "author")
	}
	if cur.PublishAt != nil {
		changed = append(changed, "publishAt")
	}
	return s.commit(ctx, cur, next, person(p), changed)
}

// rederiveLive re-renders the live copy of a through the pipeline, for
// Resanitize: readers' HTML must follow a new policy as the draft's does.
// It reports whether the copy changed; a changed copy is dated now, so
// that readers learn of it (Change.ServedChanged).
func (s *Service) rederiveLive(ctx context.Context, a *Article, now time.Time) (bool, error) {
	if a.Live == nil {
		return false, nil
	}
	tmp := &Article{Content: a.Live.Content.clone(), Author: a.Live.Author}
	if err := s.derive(ctx, tmp, true); err != nil {
		return false, fmt.Errorf("re-render live copy: %w", err)
	}
	l := tmp.freeze()
	if l.BodyHTML == a.Live.BodyHTML && l.SanitizerVersion == a.Live.SanitizerVersion &&
		l.Excerpt == a.Live.Excerpt && l.WordCount == a.Live.WordCount &&
		l.ReadingTimeMinutes == a.Live.ReadingTimeMinutes && l.HasAffiliateLinks == a.Live.HasAffiliateLinks &&
		slices.Equal(l.BodyLinks, a.Live.BodyLinks) {
		return false, nil
	}
	l.UpdatedAt = now
	a.Live = l
	return true, nil
}
