package content

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// Register mounts the content API: the article, list, tag and site routes on
// apiGroup (/api/v1) under /content, and the feed, sitemap and robots.txt
// on root. Every route is public. Browsers on corsOrigins may read them
// (preflight included); the authoring routes are not opened by it.
func (api *API) Register(apiGroup, root *auth.Router, corsOrigins []string) {
	cors := web.CORS(corsOrigins, http.MethodGet, http.MethodHead)
	g := apiGroup.Group("/content", cors)
	for _, r := range []struct {
		path string
		h    web.HandlerFunc
	}{
		{"/articles", api.handleList},
		{"/articles/:slug", api.handleArticle},
		{"/tags", api.handleTags},
		{"/site", api.handleSite},
	} {
		h := []gin.HandlerFunc{web.Handle(r.h)}
		if r.path == "/tags" || r.path == "/site" {
			h = append([]gin.HandlerFunc{web.NoQuery}, h...)
		}
		g.GET(r.path, auth.Public, h...)
		g.HEAD(r.path, auth.Public, h...)
		g.OPTIONS(r.path, auth.Public, preflight)
	}
	for _, r := range []struct {
		path    string
		h       web.HandlerFunc
		noQuery bool
	}{
		// The feed checks its own query (tag, category).
		{"/feed.xml", api.handleFeed, false},
		{"/sitemap.xml", api.handleSitemap, true},
		{"/sitemaps/:page", api.handleSitemapPage, true},
	} {
		// No query: one may neither vary nor bust what these cache.
		h := []gin.HandlerFunc{cors, web.Handle(r.h)}
		if r.noQuery {
			h = []gin.HandlerFunc{cors, web.NoQuery, web.Handle(r.h)}
		}
		root.GET(r.path, auth.Public, h...)
		root.HEAD(r.path, auth.Public, h...)
		root.OPTIONS(r.path, auth.Public, cors, preflight)
	}
	robots := web.Handle(func(c *gin.Context) error { send(c, api.robots, api.cacheControl); return nil })
	root.GET("/robots.txt", auth.Public, web.NoQuery, robots)
	root.HEAD("/robots.txt", auth.Public, web.NoQuery, robots)
}

// preflight ends an OPTIONS request; web.CORS before it has already
// answered it.
func preflight(c *gin.Context) { c.AbortWithStatus(http.StatusNoContent) }

// Header values shared by every response; net/http only reads them.
var (
	varyHeader     = []string{"Accept-Encoding, Origin"}
	gzipHeader     = []string{"gzip"}
	privateNoStore = []string{"private, no-store"}
)

// send writes a rendered response: gzip when the client accepts it and the
// body is worth it, the ETag of exactly the bytes sent, and 304 without a
// body when If-None-Match names them. Only Accept-Encoding chooses between
// variants, which Vary says; Origin only adds CORS headers.
func send(c *gin.Context, r *rendered, cacheControl []string) {
	req := c.Request
	etag, length := r.etag, r.length
	gz := r.size >= gzipMin && acceptsGzip(req.Header["Accept-Encoding"])
	if gz {
		g := r.gzipped()
		etag, length = g.gzEtag, g.gzLength
	}
	h := c.Writer.Header()
	h["Vary"] = varyHeader
	h["Cache-Control"] = cacheControl
	h["Etag"] = etag
	if inm := req.Header["If-None-Match"]; len(inm) > 0 && web.ETagListed(strings.Join(inm, ","), etag[0]) {
		c.Status(http.StatusNotModified)
		return
	}
	h["Content-Type"] = r.contentType
	h["Content-Length"] = length
	if gz {
		h["Content-Encoding"] = gzipHeader
	}
	c.Status(http.StatusOK)
	body := r.gz
	if !gz {
		body = r.body()
	}
	_, _ = c.Writer.Write(body) // a HEAD request's body is dropped by net/http
}

// acceptsGzip reads Accept-Encoding: gzip (or x-gzip) with a non-zero
// weight, or * when gzip itself is not refused.
func acceptsGzip(values []string) bool {
	star := false
	for _, v := range values {
		for v != "" {
			var part string
			part, v, _ = strings.Cut(v, ",")
			name, params, _ := strings.Cut(part, ";")
			name = strings.ToLower(strings.TrimSpace(name))
			if name != "gzip" && name != "x-gzip" && name != "*" {
				continue
			}
			ok := !zeroWeight(params)
			if name == "*" {
				star = ok
				continue
			}
			return ok
		}
	}
	return star
}

// zeroWeight reports a q parameter of 0 (q=0, q=0.0, ...).
func zeroWeight(params string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, "q") {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && f == 0
		}
	}
	return false
}

func articleNotFound() error {
	return problem.New(problem.NotFound, "no published article at this address")
}

// handleArticle serves one article by slug. A former slug of a published
// article answers 301 with the current one. With ?preview=<token> it
// serves the current draft of the one article the token opens instead,
// privately and never through the cache.
func (api *API) handleArticle(c *gin.Context) error {
	slug := c.Param("slug")
	if c.Request.URL.RawQuery != "" {
		token, err := previewParam(c)
		if err != nil {
			return err
		}
		if token != "" {
			return api.servePreview(c, slug, token)
		}
	}
	s := api.current()
	var e *entry
	_, to, ok := s.slugs.Redirect(slug, func(id string) (string, bool) {
		if e = s.visibleEntry(id); e == nil {
			return "", false
		}
		return e.a.Slug, true
	})
	if !ok {
		return articleNotFound()
	}
	if to != "" {
		h := c.Writer.Header()
		h["Location"] = []string{strings.TrimSuffix(c.FullPath(), ":slug") + to}
		h["Cache-Control"] = api.cacheControl
		h["Vary"] = varyHeader
		c.Status(http.StatusMovedPermanently)
		return nil
	}
	send(c, e.article(api), api.cacheControl)
	return nil
}

// previewParam validates the article route's query: preview, once, with a
// value, and nothing else.
func previewParam(c *gin.Context) (string, error) {
	values, err := web.ParseQuery(c, "preview")
	if err != nil {
		return "", err
	}
	return values["preview"], nil
}

// servePreview answers a preview: the article the token opens, as it
// stands in the database now, if slug names it (its current slug or a
// former one). Any other slug, and an unknown or expired token, is 404.
func (api *API) servePreview(c *gin.Context, slug, token string) error {
	ctx := c.Request.Context()
	id, err := api.articles.PreviewArticleID(ctx, token)
	if errors.Is(err, problem.NotFound) {
		return articleNotFound()
	}
	if err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	a, err := api.articles.ArticleBySlug(ctx, slug)
	if errors.Is(err, problem.NotFound) || (err == nil && (a.ID != id || a.Status == cms.StatusArchived)) {
		return articleNotFound()
	}
	if err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	at := a.PublishedAt
	if a.Status == cms.StatusScheduled {
		at = a.PublishAt
	}
	body, _ := api.renderArticle(a, at)
	send(c, newRendered(jsonType, body), privateNoStore)
	return nil
}

// listQuery is a validated list request.
type listQuery struct {
	tag, category string        // category as its slug
	author        cms.AuthorRef // a user ID or the slug of the name
	words         []string      // folded search words of q
	limit         int
	after         *position
}

// position is a place in a list: the last item of the previous page.
type position struct {
	score int // search lists only
	ms    int64
	id    string
}

// filterKey names the list a cursor belongs to.
func (q *listQuery) filterKey() string {
	return "t=" + q.tag + "\x00c=" + q.category + "\x00a=" + q.author.ID + "/" + q.author.Slug + "\x00q=" + strings.Join(q.words, " ")
}

func (q *listQuery) cacheKey() string {
	k := q.filterKey() + "\x00l=" + strconv.Itoa(q.limit)
	if q.after != nil {
		k += "\x00p=" + q.encodeCursor(*q.after)
	}
	return k
}

// encodeCursor is the cursor of position p in this list (web.EncodeCursor,
// bound to the filters).
func (q *listQuery) encodeCursor(p position) string {
	return web.EncodeCursor(q.filterKey(), p.score, p.ms, p.id)
}

// decodeCursor reads a cursor of this list, or says why it is refused.
func (q *listQuery) decodeCursor(s string) (*position, string) {
	var p position
	if err := web.DecodeCursor(s, q.filterKey(), &p.score, &p.ms, &p.id); err != nil {
		return nil, err.Error()
	}
	if p.score < 0 || !cms.ValidID(p.id) {
		return nil, web.ErrCursor.Error()
	}
	return &p, ""
}

// parseContentList validates a list query. Unknown, repeated, empty and
// out-of-range parameters are 400, never a silent default.
func parseContentList(c *gin.Context) (*listQuery, error) {
	q := &listQuery{limit: 20}
	values, err := web.ParseQuery(c, "tag", "category", "author", "q", "limit", "cursor")
	if err != nil {
		return nil, err
	}
	var f problem.Fields
	if v, ok := values["tag"]; ok {
		q.tag = parseTag(&f, v)
	}
	if v, ok := values["category"]; ok {
		q.category = parseCategory(&f, v)
	}
	if v, ok := values["author"]; ok {
		q.author = cms.ParseAuthor(&f, v)
	}
	if v, ok := values["q"]; ok {
		q.words = cms.ParseQuery(&f, v)
	}
	q.limit = values.Limit(&f, 20, cms.MaxListLimit)
	if err := f.Err(); err != nil {
		return nil, err
	}
	if v, ok := values["cursor"]; ok {
		p, msg := q.decodeCursor(v)
		if msg != "" {
			f.Add("cursor", "%s", msg)
			return nil, f.Err()
		}
		q.after = p
	}
	return q, nil
}

// parseTag reads a tag filter (lists and feeds): a tag, in any case.
func parseTag(f *problem.Fields, v string) string {
	tag := strings.ToLower(v)
	if !cms.ValidTag(tag) {
		f.Add("tag", "must be a tag of a-z, 0-9 and hyphens")
	}
	return tag
}

// parseCategory reads a category filter (lists and feeds): a category's
// name or its slug, compared as the slug.
func parseCategory(f *problem.Fields, v string) string {
	slug := cms.Slugify(v)
	if len(v) > cms.MaxCategory || slug == "" {
		f.Add("category", "must be a category name or its slug")
	}
	return slug
}

// handleList serves a list page. A query string seen before is answered
// from the cache without parsing it again: it was valid then, and the
// page it names is the same until the snapshot changes.
func (api *API) handleList(c *gin.Context) error {
	s := api.current()
	raw := "raw\x00" + c.Request.URL.RawQuery
	if v, ok := s.lists.Load(raw); ok {
		send(c, v.(*rendered), api.cacheControl)
		return nil
	}
	q, err := parseContentList(c)
	if err != nil {
		return err
	}
	r := api.listPage(s, q)
	s.keepList(raw, r)
	send(c, r, api.cacheControl)
	return nil
}

// listPage is the page for q, from the snapshot's cache when it holds it.
func (api *API) listPage(s *snapshot, q *listQuery) *rendered {
	key := q.cacheKey()
	if v, ok := s.lists.Load(key); ok {
		return v.(*rendered)
	}
	return s.keepList(key, api.renderList(s, q))
}

// keepList caches r under key while the bounds allow, and returns what the
// cache holds for key.
func (s *snapshot) keepList(key string, r *rendered) *rendered {
	if s.listCount.Load() >= maxCachedLists || s.listBytes.Load() >= maxCachedListBytes {
		return r
	}
	v, loaded := s.lists.LoadOrStore(key, r)
	if loaded {
		return v.(*rendered)
	}
	s.listCount.Add(1)
	s.listBytes.Add(int64(r.size))
	return r
}

// matches applies the filters other than q.
func (q *listQuery) matches(e *entry) bool {
	return (q.tag == "" || slices.Contains(e.a.Tags, q.tag)) &&
		(q.category == "" || e.categorySlug == q.category) &&
		q.author.Match(e.a.Author.ID, e.authorSlug)
}

// after reports whether e (with score) comes after position p in the list
// order: score, then publication time, then ID, all descending.
func after(e *entry, score int, p *position) bool {
	if score != p.score {
		return score < p.score
	}
	if ms := e.at.UnixMilli(); ms != p.ms {
		return ms < p.ms
	}
	return e.a.ID < p.id
}

func (api *API) renderList(s *snapshot, q *listQuery) *rendered {
	type item struct {
		e     *entry
		score int
	}
	page := make([]item, 0, q.limit+1)
	if len(q.words) > 0 {
		var all []item
		for _, h := range api.index.Search(strings.Join(q.words, " ")) {
			if e := s.visibleEntry(h.ID); e != nil && q.matches(e) {
				all = append(all, item{e, h.Score})
			}
		}
		slices.SortFunc(all, func(a, b item) int {
			if a.score != b.score {
				return b.score - a.score
			}
			return newestFirst(a.e, b.e)
		})
		for _, it := range all {
			if q.after == nil || after(it.e, it.score, q.after) {
				page = append(page, it)
				if len(page) > q.limit {
					break
				}
			}
		}
	} else {
		start := 0
		if q.after != nil {
			start = sort.Search(len(s.visible), func(i int) bool { return after(s.visible[i], 0, q.after) })
		}
		for _, e := range s.visible[start:] {
			if q.matches(e) {
				page = append(page, item{e, 0})
				if len(page) > q.limit {
					break
				}
			}
		}
	}
	next := ""
	if len(page) > q.limit {
		page = page[:q.limit]
		last := page[len(page)-1]
		next = q.encodeCursor(position{score: last.score, ms: last.e.at.UnixMilli(), id: last.e.a.ID})
	}
	var b bytes.Buffer
	b.WriteString(`{"items":[`)
	for i, it := range page {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(it.e.listItem(api))
	}
	b.WriteString(`],"nextCursor":`)
	if next == "" {
		b.WriteString("null")
	} else {
		b.WriteString(`"` + next + `"`)
	}
	b.WriteByte('}')
	return newRendered(jsonType, b.Bytes())
}

// tagCount is one entry of GET /content/tags.
type tagCount struct {
	Tag   string `json:"tag"`
	Count int    `json:"count"`
}

func (api *API) handleTags(c *gin.Context) error {
	s := api.current()
	s.tagsOnce.Do(func() {
		counts := map[string]int{}
		for _, e := range s.visible {
			for _, t := range e.a.Tags {
				counts[t]++
			}
		}
		out := make([]tagCount, 0, len(counts))
		for t, n := range counts {
			out = append(out, tagCount{t, n})
		}
		slices.SortFunc(out, func(a, b tagCount) int {
			if a.Count != b.Count {
				return b.Count - a.Count
			}
			return strings.Compare(a.Tag, b.Tag)
		})
		s.tags = newRendered(jsonType, marshalPlain(out))
	})
	send(c, s.tags, api.cacheControl)
	return nil
}
