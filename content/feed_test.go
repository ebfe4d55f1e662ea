package content_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/content"
	"github.com/wellness/cms/internal/changefeed"
	"github.com/wellness/cms/internal/testenv"
)

type rssFeed struct {
	XMLName xml.Name `xml:"rss"`
	Version string   `xml:"version,attr"`
	Channel struct {
		Title string `xml:"title"`
		// Before Link: a field without a namespace matches <atom:link> too.
		Self struct {
			Href string `xml:"href,attr"`
			Rel  string `xml:"rel,attr"`
		} `xml:"http://www.w3.org/2005/Atom link"`
		Link  string `xml:"link"`
		Items []struct {
			Title       string   `xml:"title"`
			Link        string   `xml:"link"`
			GUID        string   `xml:"guid"`
			Description string   `xml:"description"`
			PubDate     string   `xml:"pubDate"`
			Creator     string   `xml:"http://purl.org/dc/elements/1.1/ creator"`
			Categories  []string `xml:"category"`
		} `xml:"item"`
	} `xml:"channel"`
}

type sitemapDoc struct {
	XMLName xml.Name
	URLs    []struct {
		Loc     string `xml:"loc"`
		LastMod string `xml:"lastmod"`
	} `xml:"url"`
	Sitemaps []struct {
		Loc     string `xml:"loc"`
		LastMod string `xml:"lastmod"`
	} `xml:"sitemap"`
}

func parseXML(t *testing.T, r *testenv.Response, v any) {
	t.Helper()
	if err := xml.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("not well-formed XML (%v): %s", err, r.Body)
	}
}

// seedPublished stores n published articles straight into the database,
// publishes the changes on the articles' change feed as another instance
// would, and waits until the server has them. It returns them newest
// first.
func seedPublished(t *testing.T, s *testenv.Server, n int, start time.Time) []*cms.Article {
	t.Helper()
	ctx := context.Background()
	db := s.DB.Database
	var docs, slugs []any
	var out []*cms.Article
	for i := range n {
		at := start.Add(time.Duration(i) * time.Minute).UTC().Truncate(time.Millisecond)
		a := &cms.Article{
			ID: bson.NewObjectID().Hex(), Status: cms.StatusPublished, Version: 2,
			Author: cms.Person{ID: "u1", Name: "Seed Author"}, CreatedAt: at, UpdatedAt: at, PublishedAt: &at,
			BodyHTML: "<p>Seeded body " + fmt.Sprint(i) + "</p>", Excerpt: fmt.Sprintf("Seeded summary %d", i),
			ReadingTimeMinutes: 1,
		}
		a.Title, a.Slug, a.Tags = fmt.Sprintf("Seeded %d", i), fmt.Sprintf("seeded-%d", i), []string{"seed"}
		docs = append(docs, a)
		slugs = append(slugs, bson.D{{Key: "_id", Value: a.Slug}, {Key: "articleId", Value: a.ID}, {Key: "current", Value: true}, {Key: "createdAt", Value: at}})
		out = append([]*cms.Article{a}, out...)
	}
	if _, err := db.Collection("slugs").InsertMany(ctx, slugs); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection("articles").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	feed, err := changefeed.New(db, "articles", changefeed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range out {
		c := cms.Change{Next: a}
		if err := feed.Publish(ctx, c.FeedKeys()...); err != nil {
			t.Fatal(err)
		}
	}
	// The last change published is the oldest article: the step that
	// sees it has read every entry before it.
	testenv.Eventually(t, "the server to pick up the seeded articles", func() bool {
		return get(t, s, contentPath+out[len(out)-1].Slug).Status == http.StatusOK
	})
	return out
}

// TestFeed parses the RSS feed: RSS 2.0, the latest 50, absolute links
// from the public URL, summaries as plain text, never bodies.
func TestFeed(t *testing.T) {
	s, clock := newContentAPI(t)
	token, _ := s.User(t, auth.Editor)
	seeded := seedPublished(t, s, 55, clock.Now().Add(-24*time.Hour))
	a := testenv.Publish(t, s, token, map[string]any{"title": "Ice or heat? <Both>", "summary": "Cold first & heat later.",
		"body": "<p>Full body text that must not be in the feed.</p>", "tags": []string{"ice", "heat"}})

	r := get(t, s, "/feed.xml")
	testenv.WantStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "application/rss+xml; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	var feed rssFeed
	parseXML(t, r, &feed)
	ch := feed.Channel
	if feed.Version != "2.0" || ch.Title == "" || ch.Link != "http://cms.test/" || ch.Self.Href != "http://cms.test/feed.xml" || ch.Self.Rel != "self" {
		t.Errorf("channel: version %q %+v", feed.Version, ch)
	}
	if len(ch.Items) != content.FeedItems {
		t.Fatalf("%d items, want %d", len(ch.Items), content.FeedItems)
	}
	first := ch.Items[0]
	// Description is HTML to feed readers: escaped as such. Titles are
	// text, with only angle brackets made entities.
	if first.Title != "Ice or heat? &lt;Both&gt;" || first.Link != "http://cms.test/articles/"+a.Slug ||
		first.Description != "Cold first &amp; heat later." || first.GUID != "urn:wellness-cms:article:"+a.ID ||
		!slices.Equal(first.Categories, []string{"ice", "heat"}) || first.Creator == "" {
		t.Errorf("first item = %+v", first)
	}
	if pd, err := time.Parse(time.RFC1123Z, first.PubDate); err != nil || !pd.Equal(a.PublishedAt.Truncate(time.Second)) {
		t.Errorf("pubDate %q (%v)", first.PubDate, err)
	}
	if strings.Contains(string(r.Body), "Full body text") {
		t.Error("the feed carries the article body")
	}
	if ch.Items[1].Link != "http://cms.test/articles/"+seeded[0].Slug || ch.Items[49].Link != "http://cms.test/articles/"+seeded[48].Slug {
		t.Errorf("order: %s ... %s", ch.Items[1].Link, ch.Items[49].Link)
	}
	for _, it := range ch.Items {
		if !strings.HasPrefix(it.Link, "http://cms.test/articles/") {
			t.Errorf("relative or foreign link %q", it.Link)
		}
	}
}

// TestSitemap parses /sitemap.xml as a URL set, then, past the per-file
// limit (lowered here), as an index whose files together list every
// published article once.
func TestSitemap(t *testing.T) {
	s, clock := newContentAPI(t)
	token, _ := s.User(t, auth.Editor)
	var want []string
	for i := range 5 {
		clock.Advance(time.Minute)
		a := testenv.Publish(t, s, token, map[string]any{"title": fmt.Sprintf("Page %d", i)})
		want = append(want, "http://cms.test/articles/"+a.Slug)
	}
	testenv.CreateArticle(t, s, token, map[string]any{"title": "Not in the sitemap"})

	r := get(t, s, "/sitemap.xml")
	testenv.WantStatus(t, r, http.StatusOK)
	var doc sitemapDoc
	parseXML(t, r, &doc)
	if doc.XMLName.Local != "urlset" || doc.XMLName.Space != "http://www.sitemaps.org/schemas/sitemap/0.9" || len(doc.URLs) != 5 {
		t.Fatalf("sitemap: %s with %d urls", doc.XMLName.Local, len(doc.URLs))
	}
	var locs []string
	for _, u := range doc.URLs {
		if _, err := time.Parse(time.RFC3339, u.LastMod); err != nil {
			t.Errorf("lastmod %q: %v", u.LastMod, err)
		}
		locs = append(locs, u.Loc)
	}
	if !slices.Equal(locs, want) {
		t.Errorf("locs = %v, want %v (oldest first)", locs, want)
	}

	s.Services().Content.SetSitemapMaxURLs(2)
	clock.Advance(time.Minute) // a new snapshot on the next write
	testenv.Publish(t, s, token, map[string]any{"title": "Page 5"})
	want = append(want, "http://cms.test/articles/page-5")
	r = get(t, s, "/sitemap.xml")
	doc = sitemapDoc{}
	parseXML(t, r, &doc)
	if doc.XMLName.Local != "sitemapindex" || len(doc.Sitemaps) != 3 {
		t.Fatalf("index: %s with %d sitemaps: %s", doc.XMLName.Local, len(doc.Sitemaps), r.Body)
	}
	locs = nil
	for i, sm := range doc.Sitemaps {
		if sm.Loc != fmt.Sprintf("http://cms.test/sitemaps/%d.xml", i+1) || sm.LastMod == "" {
			t.Errorf("index entry %+v", sm)
		}
		page := get(t, s, strings.TrimPrefix(sm.Loc, "http://cms.test"))
		testenv.WantStatus(t, page, http.StatusOK)
		var set sitemapDoc
		parseXML(t, page, &set)
		if set.XMLName.Local != "urlset" || len(set.URLs) != 2 {
			t.Errorf("file %d: %s with %d urls", i+1, set.XMLName.Local, len(set.URLs))
		}
		for _, u := range set.URLs {
			locs = append(locs, u.Loc)
		}
	}
	if !slices.Equal(locs, want) {
		t.Errorf("index files list %v, want %v", locs, want)
	}
	for _, p := range []string{"/sitemaps/4.xml", "/sitemaps/0.xml", "/sitemaps/01.xml", "/sitemaps/1", "/sitemaps/x.xml"} {
		testenv.WantStatus(t, get(t, s, p), http.StatusNotFound)
	}
}

func TestRobots(t *testing.T) {
	s, _ := newContentAPI(t)
	r := get(t, s, "/robots.txt")
	testenv.WantStatus(t, r, http.StatusOK)
	body := string(r.Body)
	for _, line := range []string{"User-agent: *", "Disallow: /api/", "Disallow: /go/", "Sitemap: http://cms.test/sitemap.xml"} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("robots.txt lacks %q:\n%s", line, body)
		}
	}
	if ct := r.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
}

// TestContentFullReload covers a write no instance announced (its writer
// died between the article write and the change log): a poll does not
// see it, a full reload (at start, after a gap) does.
func TestContentFullReload(t *testing.T) {
	s, _ := newContentAPI(t)
	token, _ := s.User(t, auth.Editor)
	a := testenv.Publish(t, s, token, map[string]any{"title": "Quietly changed"})
	ctx := context.Background()
	_, err := s.DB.Database.Collection("articles").UpdateOne(ctx, bson.D{{Key: "_id", Value: a.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "title", Value: "Changed behind its back"}, {Key: "version", Value: a.Version + 1}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := content.CatchUpContent(ctx, s.Services().Content); err != nil {
		t.Fatal(err)
	}
	if _, title := contentTitle(t, s, a.Slug); title != "Quietly changed" {
		t.Fatalf("an unlogged change was applied: %q", title)
	}
	if err := content.ReloadContent(ctx, s.Services().Content); err != nil {
		t.Fatal(err)
	}
	if _, title := contentTitle(t, s, a.Slug); title != "Changed behind its back" {
		t.Fatalf("after a full reload: %q", title)
	}
}
