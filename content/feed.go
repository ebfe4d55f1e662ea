package content

import (
	"encoding/xml"
	"html"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// FeedItems is how many articles the RSS feed lists.
const FeedItems = 50

// articleLink is an article's page on the site: <site url>/articles/<slug>.
// Feeds and the sitemap list the site's own pages, whatever canonical URL
// an author set.
func (api *API) articleLink(a *cms.Article) string {
	return api.siteURL() + "/articles/" + a.Slug
}

// siteURL is where readers read the site, from the site settings (by
// default CMS_PUBLIC_URL): a front end may serve the pages on another
// host than the one this service answers on, which keeps the feeds, the
// sitemap files and /go/ links.
func (api *API) siteURL() string {
	if u := strings.TrimRight(api.siteSettings().URL, "/"); u != "" {
		return u
	}
	return api.publicURL
}

// RSS 2.0, with the atom:link to itself that validators ask for and
// dc:creator for the author (RSS's own <author> wants an email address,
// which is never published).
type (
	rssDoc struct {
		XMLName xml.Name   `xml:"rss"`
		Version string     `xml:"version,attr"`
		Atom    string     `xml:"xmlns:atom,attr"`
		DC      string     `xml:"xmlns:dc,attr"`
		Channel rssChannel `xml:"channel"`
	}
	rssChannel struct {
		Title         string    `xml:"title"`
		Link          string    `xml:"link"`
		Description   string    `xml:"description"`
		Language      string    `xml:"language,omitempty"`
		Self          rssSelf   `xml:"atom:link"`
		LastBuildDate string    `xml:"lastBuildDate,omitempty"`
		Generator     string    `xml:"generator"`
		Items         []rssItem `xml:"item"`
	}
	rssSelf struct {
		Href string `xml:"href,attr"`
		Rel  string `xml:"rel,attr"`
		Type string `xml:"type,attr"`
	}
	rssItem struct {
		Title       string   `xml:"title"`
		Link        string   `xml:"link"`
		GUID        rssGUID  `xml:"guid"`
		Description string   `xml:"description"`
		PubDate     string   `xml:"pubDate"`
		Creator     string   `xml:"dc:creator,omitempty"`
		Categories  []string `xml:"category"`
	}
	rssGUID struct {
		IsPermaLink bool   `xml:"isPermaLink,attr"`
		ID          string `xml:",chardata"`
	}
)

// renderFeed is an RSS feed of the latest articles f selects: summaries
// only, never bodies (Amazon does not allow its affiliate links in feeds,
// and readers should come to the site). The channel is titled and
// described from the site settings; links come from the public URL, like
// every link the service emits.
func (api *API) renderFeed(s *snapshot, f feedFilter) *rendered {
	st := api.siteSettings()
	title, desc := st.Name, st.Description
	if desc == "" {
		desc = "Latest articles from " + st.Name
	}
	if !f.main() {
		title, desc = api.feedTitle(s, st.Name, f)
	}
	ch := rssChannel{
		Title: feedText(title), Link: api.siteURL() + "/",
		Description: feedHTML(desc), Language: st.Locale,
		Self:      rssSelf{Href: api.publicURL + "/feed.xml" + f.query(), Rel: "self", Type: "application/rss+xml"},
		Generator: "wellness-cms",
	}
	var newest time.Time
	for _, e := range s.visible {
		if len(ch.Items) == FeedItems {
			break
		}
		if !f.matches(e) {
			continue
		}
		a := e.a
		if a.UpdatedAt.After(newest) {
			newest = a.UpdatedAt
		}
		ch.Items = append(ch.Items, rssItem{
			Title: feedText(a.Title), Link: api.articleLink(a),
			// The ID, not the link: an article keeps its identity when
			// its slug changes, so readers do not see it twice.
			GUID:        rssGUID{ID: "urn:wellness-cms:article:" + a.ID},
			Description: feedHTML(withoutAffiliateURLs(a.Excerpt, api.articleLink(a), api.publicURL)),
			PubDate:     e.at.UTC().Format(time.RFC1123Z),
			Creator:     feedText(a.Author.Name),
			Categories:  a.Tags,
		})
	}
	if !newest.IsZero() {
		ch.LastBuildDate = newest.UTC().Format(time.RFC1123Z)
	}
	return newRendered("application/rss+xml; charset=utf-8", marshalXML(rssDoc{
		Version: "2.0", Atom: "http://www.w3.org/2005/Atom", DC: "http://purl.org/dc/elements/1.1/", Channel: ch}))
}

// feedTitle titles a filtered feed "<site name> — <category> — <tag>" and
// describes it, the category as its articles write it.
func (api *API) feedTitle(s *snapshot, name string, f feedFilter) (title, desc string) {
	title, desc = name, "Latest articles from "+name
	if f.category != "" {
		c := s.feeds.index(s).categories[f.category]
		title += " — " + c
		desc += " in " + c
	}
	if f.tag != "" {
		title += " — " + f.tag
		desc += " tagged " + f.tag
	}
	return title, desc
}

// feedHTML is plain text made safe for a feed element that readers take
// as HTML (RSS <description>): HTML-escaped here, then XML-escaped by the
// encoder, so a summary "<img onerror=...>" shows as text, never as markup.
func feedHTML(text string) string { return html.EscapeString(text) }

// feedText is plain text for a feed element that RSS defines as text but
// some readers render as HTML (titles, dc:creator): angle brackets become
// entities, so no reader can see a tag, while "Heat & Ice" still reads
// right in readers that take it as text.
func feedText(text string) string { return angleBrackets.Replace(text) }

var angleBrackets = strings.NewReplacer("<", "&lt;", ">", "&gt;")

func marshalXML(v any) []byte {
	b, err := xml.Marshal(v)
	if err != nil {
		// Only strings and structs: marshalling cannot fail.
		panic("marshal xml: " + err.Error())
	}
	return append([]byte(xml.Header), b...)
}

// maxCachedFeeds bounds the filtered feeds kept per snapshot: clients
// choose the filters. Past the bound a feed is still rendered from
// memory, just not kept.
const maxCachedFeeds = 256

// feedFilter is what one feed lists: the articles with a tag, in a
// category (by its slug), both at once, or, zero, every article.
type feedFilter struct{ tag, category string }

func (f feedFilter) main() bool { return f == feedFilter{} }

func (f feedFilter) matches(e *entry) bool {
	return (f.tag == "" || slices.Contains(e.a.Tags, f.tag)) && (f.category == "" || e.categorySlug == f.category)
}

// query is the feed's own query string, for its self link.
func (f feedFilter) query() string {
	v := url.Values{}
	if f.tag != "" {
		v.Set("tag", f.tag)
	}
	if f.category != "" {
		v.Set("category", f.category)
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// feedCache holds a snapshot's feeds: the main one, and the filtered ones
// within maxCachedFeeds, each rendered once.
type feedCache struct {
	mainOnce sync.Once
	main     *rendered

	indexOnce sync.Once
	tags      map[string]bool
	// categories maps a category's slug to its name as the newest
	// article in it writes it.
	categories map[string]string

	filtered sync.Map // feedFilter -> *rendered
	count    atomic.Int64
}

// feedIndex is what the filtered feeds need to know of a snapshot.
type feedIndex struct {
	tags       map[string]bool
	categories map[string]string
}

// index lists the tags and categories of the snapshot's visible
// articles, once: an unknown filter is refused without a scan.
func (fc *feedCache) index(s *snapshot) feedIndex {
	fc.indexOnce.Do(func() {
		fc.tags, fc.categories = map[string]bool{}, map[string]string{}
		for _, e := range s.visible {
			for _, t := range e.a.Tags {
				fc.tags[t] = true
			}
			if _, ok := fc.categories[e.categorySlug]; !ok && e.categorySlug != "" {
				fc.categories[e.categorySlug] = e.a.Category
			}
		}
	})
	return feedIndex{fc.tags, fc.categories}
}

// parseFeedFilter reads /feed.xml's query: tag and category, each
// optional, both allowed together, checked as the list's are.
func parseFeedFilter(c *gin.Context) (feedFilter, error) {
	values, err := web.ParseQuery(c, "tag", "category")
	if err != nil {
		return feedFilter{}, err
	}
	var f feedFilter
	var bad problem.Fields
	if v, ok := values["tag"]; ok {
		f.tag = parseTag(&bad, v)
	}
	if v, ok := values["category"]; ok {
		f.category = parseCategory(&bad, v)
	}
	return f, bad.Err()
}

// filteredFeed is the feed f selects, or NotFound when no article readers
// see now matches it.
func (api *API) filteredFeed(s *snapshot, f feedFilter) (*rendered, error) {
	if v, ok := s.feeds.filtered.Load(f); ok {
		return v.(*rendered), nil
	}
	idx := s.feeds.index(s)
	_, catOK := idx.categories[f.category]
	switch {
	case f.tag != "" && !idx.tags[f.tag]:
		return nil, problem.New(problem.NotFound, "no published article has the tag %q", f.tag)
	case f.category != "" && !catOK:
		return nil, problem.New(problem.NotFound, "no published article is in the category %q", f.category)
	case f.tag != "" && f.category != "" && !slices.ContainsFunc(s.visible, f.matches):
		return nil, problem.New(problem.NotFound, "no published article in the category %q has the tag %q", f.category, f.tag)
	}
	r := api.renderFeed(s, f)
	if s.feeds.count.Load() >= maxCachedFeeds {
		return r, nil
	}
	if v, loaded := s.feeds.filtered.LoadOrStore(f, r); loaded {
		return v.(*rendered), nil
	}
	s.feeds.count.Add(1)
	return r, nil
}

// handleFeed serves /feed.xml, the latest articles, or with ?tag= or
// ?category= (or both) those the filter selects.
func (api *API) handleFeed(c *gin.Context) error {
	s := api.current()
	if c.Request.URL.RawQuery == "" {
		s.feeds.mainOnce.Do(func() { s.feeds.main = api.renderFeed(s, feedFilter{}) })
		send(c, s.feeds.main, api.cacheControl)
		return nil
	}
	f, err := parseFeedFilter(c)
	if err != nil {
		return err
	}
	r, err := api.filteredFeed(s, f)
	if err != nil {
		return err
	}
	send(c, r, api.cacheControl)
	return nil
}

// The sitemap protocol (sitemaps.org 0.9).
const sitemapNS = "http://www.sitemaps.org/schemas/sitemap/0.9"

type (
	urlSet struct {
		XMLName xml.Name     `xml:"urlset"`
		NS      string       `xml:"xmlns,attr"`
		URLs    []sitemapURL `xml:"url"`
	}
	sitemapURL struct {
		Loc     string `xml:"loc"`
		LastMod string `xml:"lastmod"`
	}
	sitemapIndex struct {
		XMLName  xml.Name     `xml:"sitemapindex"`
		NS       string       `xml:"xmlns,attr"`
		Sitemaps []sitemapURL `xml:"sitemap"`
	}
)

// SetSitemapMaxURLs changes how many URLs one sitemap file holds before
// /sitemap.xml becomes an index of /sitemaps/<n>.xml files (tests lower
// it). It applies from the next snapshot.
func (api *API) SetSitemapMaxURLs(n int) {
	if n < 1 {
		n = DefaultSitemapMaxURLs
	}
	api.sitemapMax.Store(int64(n))
}

// sitemap renders file n of the snapshot: 0 is /sitemap.xml (the whole
// set, or the index once there are more articles than one file holds),
// 1.. the files of the index. Articles are listed oldest first, so a file
// changes only when one of its articles does and new ones go to the last.
// It returns nil for a file that does not exist.
func (api *API) sitemap(s *snapshot, n int) *rendered {
	s.siteMu.Lock()
	defer s.siteMu.Unlock()
	if r, ok := s.sitemaps[n]; ok {
		return r
	}
	per := int(api.sitemapMax.Load())
	total := len(s.visible)
	files := max(1, (total+per-1)/per)
	var r *rendered
	switch {
	case n == 0 && total <= per:
		r = api.renderURLSet(s, 0, total)
	case n == 0:
		idx := sitemapIndex{NS: sitemapNS}
		for i := range files {
			idx.Sitemaps = append(idx.Sitemaps, sitemapURL{
				Loc:     api.publicURL + "/sitemaps/" + strconv.Itoa(i+1) + ".xml",
				LastMod: lastMod(s, i*per, min(total, (i+1)*per)),
			})
		}
		r = newRendered("application/xml; charset=utf-8", marshalXML(idx))
	case n <= files:
		r = api.renderURLSet(s, (n-1)*per, min(total, n*per))
	default:
		return nil
	}
	s.sitemaps[n] = r
	return r
}

// oldest returns the i-th visible article counting from the oldest.
func oldest(s *snapshot, i int) *entry { return s.visible[len(s.visible)-1-i] }

func (api *API) renderURLSet(s *snapshot, from, to int) *rendered {
	set := urlSet{NS: sitemapNS, URLs: make([]sitemapURL, 0, to-from)}
	for i := from; i < to; i++ {
		a := oldest(s, i).a
		set.URLs = append(set.URLs, sitemapURL{Loc: api.articleLink(a), LastMod: a.UpdatedAt.UTC().Format(time.RFC3339)})
	}
	return newRendered("application/xml; charset=utf-8", marshalXML(set))
}

// lastMod is the latest change among the articles of one sitemap file.
func lastMod(s *snapshot, from, to int) string {
	var t time.Time
	for i := from; i < to; i++ {
		if u := oldest(s, i).a.UpdatedAt; u.After(t) {
			t = u
		}
	}
	return t.UTC().Format(time.RFC3339)
}

func (api *API) handleSitemap(c *gin.Context) error {
	send(c, api.sitemap(api.current(), 0), api.cacheControl)
	return nil
}

func (api *API) handleSitemapPage(c *gin.Context) error {
	num, ok := strings.CutSuffix(c.Param("page"), ".xml")
	n, err := strconv.Atoi(num)
	if !ok || err != nil || n < 1 || strconv.Itoa(n) != num {
		return problem.New(problem.NotFound, "no such sitemap")
	}
	r := api.sitemap(api.current(), n)
	if r == nil {
		return problem.New(problem.NotFound, "no such sitemap")
	}
	send(c, r, api.cacheControl)
	return nil
}
