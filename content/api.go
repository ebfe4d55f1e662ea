package content

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/changefeed"
	"github.com/wellness/cms/internal/search"
	"github.com/wellness/cms/media"
	"github.com/wellness/cms/site"
)

// DefaultCacheControl lets browsers and CDNs keep published content
// for a minute and serve it stale for five more while they revalidate: an
// edit reaches readers within about a minute, and the service answers the
// revalidation with a bodiless 304 when nothing changed.
const DefaultCacheControl = "public, max-age=60, stale-while-revalidate=300"

// DefaultSitemapMaxURLs is the sitemap protocol's limit of URLs per file;
// beyond it /sitemap.xml becomes a sitemap index.
const DefaultSitemapMaxURLs = 50000

const (
	// defaultPollInterval is how often an instance polls the articles'
	// change feed: other instances' writes show within about that.
	defaultPollInterval = 500 * time.Millisecond
	// bulkFetchOver switches a reload from fetching changed articles one
	// by one (by _id, fast everywhere) to one scan of the readable ones.
	bulkFetchOver = 32
	// maxCachedLists and maxCachedListBytes bound the list pages kept per
	// snapshot: every distinct query (and cursor) is a key, and clients
	// choose them. Past the bounds pages are still rendered from memory,
	// just not kept.
	maxCachedLists     = 2048
	maxCachedListBytes = 32 << 20
	// gzipMin is the smallest body worth compressing.
	gzipMin = 1024
)

// Options configure the content API. The zero value works, with
// links to http://localhost:8080.
type Options struct {
	// PublicURL is the base of every absolute link: page URLs in feeds,
	// the sitemap and jsonLd, and the /go/ product links.
	PublicURL string
	// CacheControl is sent with published content;
	// "" means DefaultCacheControl.
	CacheControl string
	// PollInterval is how often the articles' change feed is polled; 0
	// means half a second.
	PollInterval time.Duration
	// Site gives the site settings (the feed's title and description,
	// the JSON-LD publisher, /content/site); nil means the defaults of
	// PublicURL.
	Site *site.Service
	// Catalogue, when set, turns an article's product references into
	// what readers see (title, image, tracked link) and supplies the
	// affiliate disclosure. Without it each product shows its code, note
	// and tracked link, and no disclosure is given.
	Catalogue *affiliate.Service
	// Media, when set, gives covers and body images that are items of the
	// media library their sizes (srcset, width, height).
	Media *media.Service
	// Changes is the articles' change feed, the one cms.Options.Changes
	// publishes on: how this instance learns of other instances' writes.
	// Start needs it.
	Changes *changefeed.Feed
	// Emit, when set, queues a webhook event (webhook.Service.Emit): the
	// content API reports article.published, article.updated,
	// article.unpublished and article.deleted through it.
	Emit   func(ctx context.Context, event string, data any) error
	Now    func() time.Time
	Logger *slog.Logger
}

// API is the public, read-only side of articles: what every front
// end fetches, and therefore most of the requests the service answers.
//
// It never asks the database per request. Every readable article (published,
// or scheduled: such an article appears by itself when its time comes) is
// held in an immutable snapshot behind an atomic pointer, with its JSON
// rendered once, on first request, and kept with its gzip form and ETag
// (the plain form only while a client asks for it: see rendered);
// list pages, tags, the feed and the sitemap are rendered once per
// snapshot. A change committed by this instance replaces the snapshot
// before the write returns (ArticleChanged, a cms.Service.OnChange
// listener), so the next request sees it; changes by other instances
// arrive through the articles' change feed, polled every PollInterval
// (RunSync).
type API struct {
	articles     *cms.Service
	publicURL    string
	cacheControl []string
	site         *site.Service // nil: siteDefaults
	siteDefaults site.Settings
	poll         time.Duration
	now          func() time.Time
	log          *slog.Logger

	catalogue *affiliate.Service // nil: products show code and note only
	media     *media.Service     // nil: images are served as saved
	emit      func(ctx context.Context, event string, data any) error

	snap atomic.Pointer[snapshot]
	// mu serializes snapshot replacement and the search index, so that a
	// slow reload cannot overwrite a change applied meanwhile.
	mu      sync.Mutex
	index   *search.Index
	indexed map[string]int64 // article ID -> version in the index; under mu
	// poller follows the articles' change feed; nil without one (tests
	// of the rendering alone), when Start refuses to run.
	poller *changefeed.Poller

	sitemapMax   atomic.Int64
	robots       *rendered
	siteRendered atomic.Pointer[renderedSite] // /content/site
}

// New builds the content API over the authoring service. Set
// its hooks, then call Start.
func New(articles *cms.Service, o Options) *API {
	if o.PublicURL == "" {
		o.PublicURL = "http://localhost:8080"
	}
	if o.CacheControl == "" {
		o.CacheControl = DefaultCacheControl
	}
	if o.PollInterval <= 0 {
		o.PollInterval = defaultPollInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	pub := strings.TrimRight(o.PublicURL, "/")
	api := &API{
		articles:  articles,
		publicURL: pub, cacheControl: []string{o.CacheControl}, site: o.Site, siteDefaults: site.Defaults(pub),
		poll: o.PollInterval, now: o.Now, catalogue: o.Catalogue, media: o.Media, emit: o.Emit, log: o.Logger.With("component", "content"),
		index: search.New(), indexed: map[string]int64{},
	}
	if o.Changes != nil {
		api.poller = o.Changes.NewPoller(api.applyBatch)
	}
	api.sitemapMax.Store(DefaultSitemapMaxURLs)
	api.robots = newRendered("text/plain; charset=utf-8", []byte(
		"User-agent: *\nDisallow: /api/\nDisallow: /go/\n\nSitemap: "+pub+"/sitemap.xml\n"))
	api.snap.Store(buildSnapshot(map[string]*entry{}, cms.SlugHistory{}, map[string]int64{}, o.Now()))
	return api
}

// syncStale is how old this instance's last sync may be before the
// scheduler stops trusting its view of scheduled articles.
const syncStale = 10 * time.Second

// DueHint tells the scheduler which articles are due at now, earliest
// first (scheduled ones, and published ones whose staged changes are
// scheduled), and whether this instance's view is recent enough to trust.
// It is a cms.DueHint.
func (api *API) DueHint(now time.Time) (ids []string, current bool) {
	if api.poller == nil {
		return nil, false
	}
	if snap := api.snap.Load(); snap != nil {
		for _, d := range snap.due {
			if d.at.After(now) {
				break
			}
			ids = append(ids, d.id)
		}
	}
	return ids, api.now().Sub(api.poller.Synced()) <= syncStale
}

// Start loads every readable article and builds the search index: the
// change feed's first step, which is always a full reload. The server
// calls it before it serves, after subscribing ArticleChanged, so a change
// committed meanwhile is either in what it loads or applied by the
// listener.
func (api *API) Start(ctx context.Context) error {
	if api.poller == nil {
		return errors.New("content: no change feed to follow")
	}
	if _, err := api.poller.Step(ctx); err != nil {
		return fmt.Errorf("load published articles: %w", err)
	}
	return nil
}

// RunSync keeps this instance current with changes made by others until
// ctx ends, stepping the change feed every PollInterval (applyBatch).
func (api *API) RunSync(ctx context.Context) { api.poller.Run(ctx, api.poll) }

// applyBatch applies what a step of the change feed found: everything
// again (a full reload), or the articles other instances changed, fetched
// by _id, with the slugs those changes reserved.
func (api *API) applyBatch(ctx context.Context, b changefeed.Batch) error {
	if b.Full {
		return api.reload(ctx)
	}
	ids, slugs := cms.ParseFeedKeys(b.Keys)
	fetched, err := api.articles.ArticlesByID(ctx, ids)
	if err != nil {
		return err
	}
	list := make([]*cms.Article, 0, len(fetched))
	for _, a := range fetched {
		list = append(list, a)
	}
	api.applyArticles(list, slugs)
	return nil
}

// reload reads the readable articles and every slug from the database and
// installs them. Articles whose version did not change
// keep their rendered forms. Where this instance already knows a newer
// version (a change it committed while the reload read), it keeps that.
func (api *API) reload(ctx context.Context) error {
	metas, err := api.articles.ArticleVersions(ctx)
	if err != nil {
		return err
	}
	cur := api.snap.Load()
	var need []string
	for _, m := range metas {
		if m.Status.Readable() {
			if e := cur.entries[m.ID]; e == nil || e.a.Version != m.Version {
				need = append(need, m.ID)
			}
		}
	}
	var fetched map[string]*cms.Article
	if len(need) > bulkFetchOver {
		all, err := api.articles.ReadableArticles(ctx)
		if err != nil {
			return err
		}
		fetched = make(map[string]*cms.Article, len(all))
		for _, a := range all {
			fetched[a.ID] = a
		}
	} else if fetched, err = api.articles.ArticlesByID(ctx, need); err != nil {
		return err
	}
	slugs, err := api.articles.SlugHistory(ctx)
	if err != nil {
		return err
	}

	api.mu.Lock()
	defer api.mu.Unlock()
	cur = api.snap.Load()
	entries := make(map[string]*entry, len(cur.entries))
	versions := make(map[string]int64, len(metas))
	for _, m := range metas {
		if lv, ok := cur.versions[m.ID]; ok && lv > m.Version {
			versions[m.ID] = lv
			if e := cur.entries[m.ID]; e != nil {
				entries[m.ID] = e
			}
			continue
		}
		versions[m.ID] = m.Version
		if !m.Status.Readable() {
			continue
		}
		if e := cur.entries[m.ID]; e != nil && e.a.Version == m.Version {
			entries[m.ID] = e
			continue
		}
		a := fetched[m.ID]
		if a == nil {
			continue // no longer readable by the time it was fetched
		}
		versions[m.ID] = max(m.Version, a.Version)
		if a.Readable() {
			entries[m.ID] = api.newEntry(a)
		}
	}
	// Articles this instance changed after the scan began.
	for id, lv := range cur.versions {
		if _, ok := versions[id]; !ok {
			versions[id] = lv
			if e := cur.entries[id]; e != nil {
				entries[id] = e
			}
		}
	}
	for slug, id := range cur.slugs {
		if _, ok := slugs[slug]; !ok {
			slugs[slug] = id
		}
	}
	for id, e := range entries {
		slugs[e.a.Slug] = id
	}
	api.install(buildSnapshot(entries, slugs, versions, api.now()))
	return nil
}

// ArticleChanged is the cms.Service.OnChange listener: it applies a change
// committed by this instance at once, then reports it to webhooks. Build
// subscribes it before Start, so a change committed while Start loads is
// not missed.
func (api *API) ArticleChanged(ctx context.Context, c cms.Change) {
	// The feed's pollers skip this instance's own entries: applying the
	// change here is what keeps this copy current.
	api.apply(c)
	api.report(ctx, c)
}

// apply installs a snapshot with one article changed. Slugs are recorded
// even for changes readers cannot see, so that a draft's former slugs
// redirect from the moment it is published.
func (api *API) apply(c cms.Change) {
	api.applyArticles([]*cms.Article{c.Next}, c.Slugs())
}

// applyArticles installs a snapshot with the given versions of articles
// and slug reservations. A version older than one already known is
// ignored: a reload or another path got there first.
func (api *API) applyArticles(list []*cms.Article, slugs cms.SlugHistory) {
	api.mu.Lock()
	defer api.mu.Unlock()
	cur := api.snap.Load()
	var newer []*cms.Article
	for _, a := range list {
		if v, ok := cur.versions[a.ID]; !ok || v < a.Version {
			newer = append(newer, a)
		}
	}
	var newSlugs []string
	for slug, id := range slugs {
		if cur.slugs[slug] != id {
			newSlugs = append(newSlugs, slug)
		}
	}
	if len(newer) == 0 && len(newSlugs) == 0 {
		return
	}
	versions, entries, slugMap := cur.versions, cur.entries, cur.slugs
	if len(newer) > 0 {
		versions, entries = cloneMap(cur.versions), cloneMap(cur.entries)
		for _, a := range newer {
			versions[a.ID] = a.Version
			if a.Readable() {
				entries[a.ID] = api.newEntry(a)
			} else {
				delete(entries, a.ID)
			}
		}
	}
	if len(newSlugs) > 0 {
		slugMap = cloneMap(cur.slugs)
		for _, slug := range newSlugs {
			slugMap[slug] = slugs[slug]
		}
	}
	api.install(buildSnapshot(entries, slugMap, versions, api.now()))
}

// CatalogueChanged is the affiliate.Service.OnCatalogueChange listener:
// it renders again only the articles whose response the change alters,
// those showing a changed product, those showing a disclosure when the
// disclosure text changed, and those whose body links a change of the
// tags, link mode or allowed hosts alters (linksAffected). Rendering is
// lazy, so the cost of a change is the affected articles' rendering.
// Lists and feeds carry no product data or tagged links, so they stay as
// they were rendered. For its own settings write (ch.Local) this
// instance sends article.updated for the published articles whose links
// changed; the others only render.
func (api *API) CatalogueChanged(ctx context.Context, ch affiliate.CatalogueChange) {
	affected := func(a *cms.Article) bool {
		if ch.Disclosure && (a.HasAffiliateLinks || len(a.Products) > 0) {
			return true
		}
		if ch.Settings && linksAffected(a, ch) {
			return true
		}
		for _, r := range a.Products {
			if slices.Contains(ch.Products, r.Code) {
				return true
			}
		}
		return false
	}
	var changedLinks []*cms.Article
	api.mu.Lock()
	cur := api.snap.Load()
	var entries map[string]*entry
	for id, e := range cur.entries {
		if affected(e.a) {
			if entries == nil {
				entries = cloneMap(cur.entries)
			}
			entries[id] = e.renewed()
			if ch.Local && ch.Settings && e.a.Status == cms.StatusPublished && linksAffected(e.a, ch) {
				changedLinks = append(changedLinks, e.a)
			}
		}
	}
	if entries != nil {
		api.install(buildSnapshot(entries, cur.slugs, cur.versions, api.now()))
	}
	api.mu.Unlock()
	api.reportLinksChanged(ctx, changedLinks)
}

// SiteChanged is the site.Service.OnChange listener: the site settings
// show in every article's JSON-LD (publisher) and in the feeds, so every
// article is rendered again and the snapshot, with its feeds, replaced.
// Rendering is lazy: this only drops what was rendered.
func (api *API) SiteChanged(context.Context, site.Settings) {
	api.mu.Lock()
	defer api.mu.Unlock()
	cur := api.snap.Load()
	entries := make(map[string]*entry, len(cur.entries))
	for id, e := range cur.entries {
		entries[id] = e.renewed()
	}
	api.install(buildSnapshot(entries, cur.slugs, cur.versions, api.now()))
}

// siteSettings are the site settings to render with now.
func (api *API) siteSettings() site.Settings {
	if api.site == nil {
		return api.siteDefaults
	}
	return api.site.Current()
}

// install makes s current and brings the search index in line with it.
// The caller holds mu.
func (api *API) install(s *snapshot) {
	api.snap.Store(s)
	for id := range api.indexed {
		if s.entries[id] == nil {
			api.index.Remove(id)
			delete(api.indexed, id)
		}
	}
	for id, e := range s.entries {
		if api.indexed[id] != e.a.Version {
			api.index.Put(cms.SearchDoc(e.withBody()))
			api.indexed[id] = e.a.Version
		}
	}
}

// current is the snapshot to serve from. When a scheduled article has
// come due since the snapshot was built, a new one shows it, without
// waiting for the scheduler to publish it: readers see it at its time, on
// every instance.
func (api *API) current() *snapshot {
	s := api.snap.Load()
	if s.nextDue.IsZero() {
		return s
	}
	if now := api.now(); !now.Before(s.nextDue) {
		return api.advance(now)
	}
	return s
}

func (api *API) advance(now time.Time) *snapshot {
	api.mu.Lock()
	defer api.mu.Unlock()
	s := api.snap.Load()
	if s.nextDue.IsZero() || now.Before(s.nextDue) {
		return s // another request advanced it
	}
	next := buildSnapshot(s.entries, s.slugs, s.versions, now)
	api.snap.Store(next)
	return next
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// entry is one readable article with its rendered forms. Entries are
// shared by successive snapshots until their article changes, so an edit
// of one article renders only that one again.
type entry struct {
	a *cms.Article // never modified; the source body and its HTML are dropped (see src)
	// at is when readers see the article published: its publishedAt, or
	// the publishAt of a scheduled one.
	at        time.Time
	scheduled bool
	// changesDue is when the scheduler publishes the staged changes of a
	// published article (zero: none scheduled). Readers keep this entry
	// until then; the scheduler's commit replaces it.
	changesDue time.Time
	// Filter keys: the slugs of the author's name and of the category.
	authorSlug, categorySlug string
	// mediaKeys are the media files the body names (media.KeysIn): when
	// their item changes, MediaChanged renders the article again.
	mediaKeys []string
	// src is where the body HTML to render from is: the HTML itself until
	// the article is rendered, then, when readers get it verbatim, the
	// rendered JSON. The body is most of an article, and an entry holds
	// it once, not twice (about 8 KB an article).
	src atomic.Pointer[source]

	fullOnce sync.Once
	full     *rendered
	links    []servedLink // the body links of full, set with it
	itemOnce sync.Once
	item     []byte
}

// source is an article's body HTML: htmlZ, deflated, or, when rendered is
// set, the html field of that rendered article JSON, which holds it
// verbatim. Deflated, because until a reader asks for the article (and
// for ever, for an article whose body links are rewritten per request)
// the entry holds the source, and the body is most of an article: a
// snapshot of 10,000 articles held 90 MB of body HTML right after start.
type source struct {
	htmlZ    []byte
	rendered *rendered
}

// newSource deflates html, at the fastest level: it runs for every
// article at each full reload.
func newSource(html string) *source {
	var buf bytes.Buffer
	zw := flateWriters.Get().(*flate.Writer)
	zw.Reset(&buf)
	_, _ = zw.Write([]byte(html)) // a bytes.Buffer does not fail
	_ = zw.Close()
	flateWriters.Put(zw)
	return &source{htmlZ: bytes.Clone(buf.Bytes())}
}

var flateWriters = sync.Pool{New: func() any {
	zw, _ := flate.NewWriter(nil, flate.BestSpeed) // a valid level cannot fail
	return zw
}}

// bodyHTML is the article's body HTML.
func (s *source) bodyHTML() string {
	if s.rendered == nil {
		var b strings.Builder
		if _, err := io.Copy(&b, flate.NewReader(bytes.NewReader(s.htmlZ))); err != nil {
			panic(fmt.Sprintf("read back a body we deflated: %v", err))
		}
		return b.String()
	}
	var v struct {
		HTML string `json:"html"`
	}
	if err := json.Unmarshal(s.rendered.body(), &v); err != nil {
		// We rendered it: it is JSON with an html string.
		panic(fmt.Sprintf("read the body back from a rendered article: %v", err))
	}
	return v.HTML
}

// newEntry holds a as readers get it (cms.Article.Served): a published
// article's staged changes never reach the content API through it.
func (api *API) newEntry(a *cms.Article) *entry {
	b := a.Served().Clone()
	html := b.BodyHTML
	b.Body, b.BodyHTML, b.SearchWords = "", "", nil // the index has the words
	e := &entry{a: b, authorSlug: b.Author.Slug(), categorySlug: cms.Slugify(b.Category),
		mediaKeys: media.KeysIn(html)}
	e.src.Store(newSource(html))
	if b.Status == cms.StatusScheduled && b.PublishAt != nil {
		e.at, e.scheduled = *b.PublishAt, true
	} else if b.PublishedAt != nil {
		e.at = *b.PublishedAt
	}
	if t := a.ChangesPublishAt(); t != nil {
		e.changesDue = *t
	}
	return e
}

// renewed is a fresh entry of the same article, to render again (the
// catalogue or the site settings changed): everything but what it
// rendered is kept, its scheduled changes included.
func (e *entry) renewed() *entry {
	n := &entry{a: e.a, at: e.at, scheduled: e.scheduled, changesDue: e.changesDue,
		authorSlug: e.authorSlug, categorySlug: e.categorySlug, mediaKeys: e.mediaKeys}
	n.src.Store(e.src.Load())
	return n
}

// withBody is the article with its body HTML, to render or index.
func (e *entry) withBody() *cms.Article {
	b := *e.a
	b.BodyHTML = e.src.Load().bodyHTML()
	return &b
}

// article is the rendered JSON of the article.
func (e *entry) article(api *API) *rendered {
	e.fullOnce.Do(func() {
		at := e.at
		a := e.withBody()
		body, links := api.renderArticle(a, &at)
		e.full, e.links = newRendered(jsonType, body), links
		// Served verbatim (no links or images rewritten; JSON keeps
		// valid UTF-8 exactly): the rendered JSON holds the body from
		// now on.
		if links == nil && !api.mayRewriteImages(a.BodyHTML) && utf8.ValidString(a.BodyHTML) {
			e.src.Store(&source{rendered: e.full})
		}
	})
	return e.full
}

// listItem is the article's JSON in a list, joined into list pages.
func (e *entry) listItem(api *API) []byte {
	e.itemOnce.Do(func() {
		at := e.at
		e.item = api.renderListItem(e.a, &at)
	})
	return e.item
}

// snapshot is the content API's view of the readable articles at one
// moment. Nothing in it changes after it is built, except the caches of
// what it renders.
type snapshot struct {
	asOf     time.Time
	entries  map[string]*entry // readable articles by ID, scheduled ones included
	slugs    cms.SlugHistory
	versions map[string]int64 // every article's latest known version
	visible  []*entry         // what readers see, newest first
	// nextDue is when the next scheduled article appears; zero if none.
	nextDue time.Time
	// due is the scheduler's work, earliest first: every scheduled
	// article, visible or not, and every published one with scheduled
	// changes, each at the time the scheduler publishes it.
	due []dueAt

	lists     sync.Map // normalized list query → *rendered
	listCount atomic.Int64
	listBytes atomic.Int64

	tagsOnce sync.Once
	tags     *rendered
	feeds    feedCache
	siteMu   sync.Mutex
	sitemaps map[int]*rendered // 0 = /sitemap.xml, n = /sitemaps/n.xml
}

func buildSnapshot(entries map[string]*entry, slugs cms.SlugHistory, versions map[string]int64, now time.Time) *snapshot {
	s := &snapshot{asOf: now, entries: entries, slugs: slugs, versions: versions, sitemaps: map[int]*rendered{}}
	s.visible = make([]*entry, 0, len(entries))
	for _, e := range entries {
		if e.scheduled {
			s.due = append(s.due, dueAt{e.at, e.a.ID})
		} else if !e.changesDue.IsZero() {
			s.due = append(s.due, dueAt{e.changesDue, e.a.ID})
		}
		if !e.scheduled || !e.at.After(now) {
			s.visible = append(s.visible, e)
		} else if s.nextDue.IsZero() || e.at.Before(s.nextDue) {
			s.nextDue = e.at
		}
	}
	slices.SortFunc(s.visible, newestFirst)
	slices.SortFunc(s.due, func(a, b dueAt) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	return s
}

// dueAt is when the scheduler publishes an article or its staged changes.
type dueAt struct {
	at time.Time
	id string
}

// newestFirst orders by publication time, then ID, both descending: a
// total order, which is what lets a cursor name a position.
func newestFirst(a, b *entry) int {
	if c := b.at.Compare(a.at); c != 0 {
		return c
	}
	return strings.Compare(b.a.ID, a.a.ID)
}

// visibleEntry is the article with this ID as readers see it now, or nil.
func (s *snapshot) visibleEntry(id string) *entry {
	e := s.entries[id]
	if e == nil || (e.scheduled && e.at.After(s.asOf)) {
		return nil
	}
	return e
}

// rendered is one response body, ready to send, with its strong ETag and,
// made on first need, its gzip form. Header values are kept as the slices
// net/http writes, so sending allocates nothing.
//
// Once the gzip form is made the plain body is dropped, and made again
// from it (once) only when a client asks for the body uncompressed:
// behind a CDN, which asks for gzip, a rendered body is held once,
// compressed, instead of twice.
type rendered struct {
	plain       atomic.Pointer[[]byte] // nil once dropped; see body
	size        int                    // of the plain body
	contentType []string
	etag        []string
	length      []string

	gzOnce   sync.Once
	gz       []byte
	gzEtag   []string
	gzLength []string
}

const jsonType = "application/json; charset=utf-8"

func newRendered(contentType string, body []byte) *rendered {
	r := &rendered{size: len(body), contentType: []string{contentType},
		etag: []string{strongETag(body)}, length: []string{strconv.Itoa(len(body))}}
	r.plain.Store(&body)
	return r
}

// body is the plain body, made again from the gzip form if it was dropped.
// Two requests may both make it; either copy is the same bytes.
func (r *rendered) body() []byte {
	if p := r.plain.Load(); p != nil {
		return *p
	}
	// Dropped only after gz was set (gzipped), so gz is there.
	zr, err := gzip.NewReader(bytes.NewReader(r.gz))
	if err != nil {
		panic(fmt.Sprintf("read back a body we compressed: %v", err))
	}
	b := make([]byte, 0, r.size)
	buf := bytes.NewBuffer(b)
	if _, err := buf.ReadFrom(zr); err != nil {
		panic(fmt.Sprintf("read back a body we compressed: %v", err))
	}
	b = buf.Bytes()
	r.plain.Store(&b)
	return b
}

// strongETag is a strong validator: a hash of the exact bytes sent.
func strongETag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestCompression)
	return w
}}

// gzipped returns the gzip form; it is made once, so the best compression
// costs nothing per request.
func (r *rendered) gzipped() *rendered {
	r.gzOnce.Do(func() {
		var buf bytes.Buffer
		w := gzipWriters.Get().(*gzip.Writer)
		w.Reset(&buf)
		_, _ = w.Write(*r.plain.Load()) // not dropped before this
		_ = w.Close()
		gzipWriters.Put(w)
		r.gz = bytes.Clone(buf.Bytes()) // not the buffer's spare capacity
		r.gzEtag = []string{strongETag(r.gz)}
		r.gzLength = []string{strconv.Itoa(len(r.gz))}
		r.plain.Store(nil)
	})
	return r
}
