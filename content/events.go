package content

import (
	"context"

	"github.com/wellness/cms/cms"
)

// The webhook events of articles: what readers can see change.
const (
	EventArticlePublished   = "article.published"
	EventArticleUpdated     = "article.updated"
	EventArticleUnpublished = "article.unpublished"
	EventArticleDeleted     = "article.deleted"
)

// Events lists every event cms emits, for the webhook service to offer.
var Events = []string{EventArticlePublished, EventArticleUpdated, EventArticleUnpublished, EventArticleDeleted}

// ArticleEvent is the data of a webhook event about an article, enough for
// a static site to rebuild the page (or remove it) without calling back.
type ArticleEvent struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	// PreviousSlug is set when the change moved the article to a new
	// slug; the old one now redirects.
	PreviousSlug string     `json:"previousSlug,omitempty"`
	Status       cms.Status `json:"status"`
	// URL is the article's canonical page URL.
	URL string `json:"url"`
}

// eventOf names the webhook event of a change, or "" when readers cannot
// see the difference (a draft edited, an article scheduled, changes to a
// published article staged or scheduled). Archiving is article.deleted:
// the content API stops serving the article for good.
func eventOf(c cms.Change) string {
	was := c.Prev != nil && c.Prev.Status == cms.StatusPublished
	is := c.Next.Status == cms.StatusPublished
	switch {
	case !was && is:
		return EventArticlePublished
	case was && is && c.ServedChanged():
		return EventArticleUpdated
	case was && is:
		return ""
	case was && c.Next.Status == cms.StatusArchived:
		return EventArticleDeleted
	case was:
		return EventArticleUnpublished
	}
	return ""
}

// report sends a change to webhooks through Options.Emit. The event is queued in the outbox
// before the write returns; a failure to queue is logged, since the change
// itself is stored.
func (api *API) report(ctx context.Context, c cms.Change) {
	event := eventOf(c)
	if api.emit == nil || event == "" {
		return
	}
	// The page readers get (cms.Article.Served), not a draft's slug; the
	// page they had when the article leaves them.
	page := c.Next.Served()
	if c.Next.Status != cms.StatusPublished && c.Prev != nil {
		page = c.Prev.Served()
	}
	data := ArticleEvent{ID: page.ID, Slug: page.Slug, Status: c.Next.Status, URL: api.pageURL(page)}
	if c.Prev != nil && c.Prev.Served().Slug != page.Slug {
		data.PreviousSlug = c.Prev.Served().Slug
	}
	if err := api.emit(ctx, event, data); err != nil {
		api.log.Error("could not queue a webhook event", "event", event, "article", c.Next.ID, "err", err)
	}
}
