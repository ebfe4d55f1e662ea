package content

import (
	"context"
	"html"
	"slices"
	"strconv"
	"strings"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/cms"
)

// Body links at delivery. The pipeline stores, with the sanitized HTML,
// where each Amazon link's href value lies in it (cms.BodyLink). Serving
// an article splices into those places the link as it stands under the
// affiliate settings now: the store URL with the current associate tag,
// plus the ping attribute and the data-cms-* hooks that count its
// follows, or (link mode "redirect") the /go/ link. No HTML is parsed or
// sanitized on this path: every inserted value is attribute-escaped, and
// the stored offsets are checked to name an href value before use.

// servedLink is a body link as an article serves it.
type servedLink struct {
	position int
	product  string
	href     string // as served, unescaped
}

// servedBody is the HTML of a as readers get it now, with its body links.
// Without the catalogue, or for an article stored before the links were
// recorded (cms resanitize records them), it is the stored HTML.
func (api *API) servedBody(a *cms.Article) (string, []servedLink) {
	if api.catalogue == nil || len(a.BodyLinks) == 0 || !linksFit(a.BodyHTML, a.BodyLinks) {
		return a.BodyHTML, nil
	}
	redirect := api.catalogue.LinkMode() == affiliate.LinkModeRedirect
	links := make([]servedLink, 0, len(a.BodyLinks))
	var b strings.Builder
	b.Grow(len(a.BodyHTML) + len(a.BodyLinks)*160)
	last := 0
	for _, l := range a.BodyLinks {
		stored := html.UnescapeString(a.BodyHTML[l.Start:l.End])
		href, ok := api.catalogue.TagLink(stored)
		if !ok {
			// The store is no longer an allowed host: the link stays as it
			// was saved, never an unchecked URL.
			href = stored
		}
		b.WriteString(a.BodyHTML[last:l.Start])
		last = l.End
		if l.Product == "" {
			b.WriteString(html.EscapeString(href))
			continue
		}
		pos := strconv.Itoa(l.Position)
		if redirect {
			href = api.catalogue.TrackingURLAt(l.Product, a.Slug, l.Position)
			b.WriteString(html.EscapeString(href))
		} else {
			// The value ends in the stored closing quote.
			b.WriteString(html.EscapeString(href))
			b.WriteString(`" ping="`)
			b.WriteString(html.EscapeString(api.catalogue.PingURL(l.Product, a.Slug, l.Position)))
		}
		b.WriteString(`" data-cms-product="`)
		b.WriteString(html.EscapeString(l.Product))
		b.WriteString(`" data-cms-position="`)
		b.WriteString(pos)
		links = append(links, servedLink{position: l.Position, product: l.Product, href: href})
	}
	b.WriteString(a.BodyHTML[last:])
	return b.String(), links
}

// linksFit reports whether the recorded links are in order and each names
// the value of an href attribute of body: anything else is stored data
// gone wrong, and the stored HTML is served as it is.
func linksFit(body string, links []cms.BodyLink) bool {
	last := 0
	for _, l := range links {
		if l.Start < last+len(` href="`) || l.End < l.Start || l.End >= len(body) ||
			body[l.Start-len(` href="`):l.Start] != ` href="` || body[l.End] != '"' ||
			strings.IndexByte(body[l.Start:l.End], '"') >= 0 {
			return false
		}
		last = l.End
	}
	return true
}

// linksAffected reports whether a change of the affiliate settings
// changes a's body links as served: a link on a marketplace whose tag
// changed, any counted link when the link mode changed, any link when the
// allowed hosts changed.
func linksAffected(a *cms.Article, ch affiliate.CatalogueChange) bool {
	for _, l := range a.BodyLinks {
		if ch.Hosts || (ch.LinkMode && l.Product != "") || slices.Contains(ch.Tags, l.Marketplace) {
			return true
		}
	}
	return false
}

// BodyLink is the affiliate.Service.SetBodyLinks lookup: the link the
// article with this slug (current or former) shows readers at position,
// from the current snapshot, never the database.
func (api *API) BodyLink(slug string, position int) (affiliate.BodyLink, bool) {
	s := api.current()
	id, ok := s.slugs[slug]
	if !ok {
		return affiliate.BodyLink{}, false
	}
	e := s.visibleEntry(id)
	if e == nil {
		return affiliate.BodyLink{}, false
	}
	e.article(api)
	for _, l := range e.links {
		if l.position == position {
			return affiliate.BodyLink{Product: l.product, Href: l.href}, true
		}
	}
	return affiliate.BodyLink{}, false
}

// reportLinksChanged sends article.updated for each published article
// whose served links a settings change altered, so that static front ends
// rebuild those pages and only those.
func (api *API) reportLinksChanged(ctx context.Context, list []*cms.Article) {
	if api.emit == nil {
		return
	}
	for _, a := range list {
		data := ArticleEvent{ID: a.ID, Slug: a.Slug, Status: a.Status, URL: api.pageURL(a)}
		if err := api.emit(ctx, EventArticleUpdated, data); err != nil {
			api.log.Error("could not queue a webhook event", "event", EventArticleUpdated, "article", a.ID, "err", err)
		}
	}
}
