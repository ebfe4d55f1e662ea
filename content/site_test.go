package content_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

const sitePath = "/api/v1/content/site"

// TestContentSite: the public site document, its defaults, its ETag and
// cache headers, and that a change shows at once.
func TestContentSite(t *testing.T) {
	s, _ := newContentAPI(t)
	admin, _ := s.User(t, auth.Admin)

	r := get(t, s, sitePath)
	testenv.WantStatus(t, r, http.StatusOK)
	m := jsonObject(t, r)
	if m["name"] != "cms.test" || m["url"] != "http://cms.test" || m["locale"] != "en" || m["updatedAt"] != nil {
		t.Fatalf("defaults = %s", r.Body)
	}
	checkKeys(t, map[string][]string{"": {"name", "description", "url", "locale", "logoUrl", "publisher", "updatedAt"},
		"publisher": {"name", "logoUrl"}}, "", m)
	if r.Header.Get("Cache-Control") != "public, max-age=60, stale-while-revalidate=300" || r.Header.Get("ETag") == "" {
		t.Errorf("headers: %v", r.Header)
	}
	etag := r.Header.Get("ETag")
	testenv.WantStatus(t, get(t, s, sitePath, "If-None-Match", etag), http.StatusNotModified)

	testenv.WantStatus(t, testenv.Call(t, s, admin, "PATCH", "/api/v1/settings/site",
		map[string]any{"name": "Move Well", "publisher": map[string]any{"name": "Move Well Ltd"}}), http.StatusOK)
	r = get(t, s, sitePath, "If-None-Match", etag)
	testenv.WantStatus(t, r, http.StatusOK)
	if m := jsonObject(t, r); m["name"] != "Move Well" || m["updatedAt"] == nil || r.Header.Get("ETag") == etag {
		t.Errorf("after a change: %s (ETag %s)", r.Body, r.Header.Get("ETag"))
	}
}

// TestSiteSettingsInFeedAndJSONLD: the feed's title, description and
// language, and the articles' JSON-LD publisher, follow a PATCH of the
// site settings; links stay on the public URL.
func TestSiteSettingsInFeedAndJSONLD(t *testing.T) {
	s, _ := newContentAPI(t)
	admin, _ := s.User(t, auth.Admin)
	editor, _ := s.User(t, auth.Editor)
	a := testenv.Publish(t, s, editor, map[string]any{"title": "Knee pain"})

	ld := func() map[string]any {
		t.Helper()
		var v struct{ JSONLD map[string]any }
		get(t, s, contentPath+a.Slug).JSON(t, &v)
		return v.JSONLD
	}
	var feed rssFeed
	parseXML(t, get(t, s, "/feed.xml"), &feed)
	if feed.Channel.Title != "cms.test" {
		t.Errorf("default feed title = %q", feed.Channel.Title)
	}
	if p, ok := ld()["publisher"]; ok {
		t.Errorf("a publisher without settings: %v", p)
	}

	testenv.WantStatus(t, testenv.Call(t, s, admin, "PATCH", "/api/v1/settings/site", map[string]any{
		"name": "Move Well", "description": "Physio you can trust.", "locale": "en-GB",
		"publisher": map[string]any{"name": "Move Well Ltd", "logoUrl": "https://cdn.example.com/org.png"},
	}), http.StatusOK)

	r := get(t, s, "/feed.xml")
	parseXML(t, r, &feed)
	if feed.Channel.Title != "Move Well" || feed.Channel.Link != "http://cms.test/" ||
		!strings.Contains(string(r.Body), "<description>Physio you can trust.</description>") ||
		!strings.Contains(string(r.Body), "<language>en-GB</language>") {
		t.Errorf("feed after the change: %s", r.Body)
	}
	pub, _ := ld()["publisher"].(map[string]any)
	logo, _ := pub["logo"].(map[string]any)
	if pub["@type"] != "Organization" || pub["name"] != "Move Well Ltd" || logo["@type"] != "ImageObject" || logo["url"] != "https://cdn.example.com/org.png" {
		t.Errorf("jsonLd publisher = %v", pub)
	}

	// A publisher cleared leaves the JSON-LD again.
	testenv.WantStatus(t, testenv.Call(t, s, admin, "PATCH", "/api/v1/settings/site", map[string]any{"publisher": nil}), http.StatusOK)
	if p, ok := ld()["publisher"]; ok {
		t.Errorf("publisher after clearing it: %v", p)
	}
}

// TestFeedFilters: /feed.xml?tag= and ?category= (alone or together) list
// the matching articles under a title naming the filter; a filter no
// published article matches is 404.
func TestFeedFilters(t *testing.T) {
	s, _ := newContentAPI(t)
	admin, _ := s.User(t, auth.Admin)
	editor, _ := s.User(t, auth.Editor)
	testenv.WantStatus(t, testenv.Call(t, s, admin, "PATCH", "/api/v1/settings/site", map[string]any{"name": "Move Well"}), http.StatusOK)
	knee := testenv.Publish(t, s, editor, map[string]any{"title": "Knee", "tags": []string{"knee", "pain"}, "category": "Sports Injuries"})
	back := testenv.Publish(t, s, editor, map[string]any{"title": "Back", "tags": []string{"back", "pain"}, "category": "Posture"})
	draft := testenv.CreateArticle(t, s, editor, map[string]any{"title": "Draft", "tags": []string{"secret"}, "category": "Hidden"})
	_ = draft

	for _, tc := range []struct {
		name, query string
		status      int
		title       string
		slugs       []string
	}{
		{"a tag", "tag=pain", 200, "Move Well — pain", []string{back.Slug, knee.Slug}},
		{"a tag in any case", "tag=KNEE", 200, "Move Well — knee", []string{knee.Slug}},
		{"a category by slug", "category=sports-injuries", 200, "Move Well — Sports Injuries", []string{knee.Slug}},
		{"a category by name", "category=" + url.QueryEscape("Sports Injuries"), 200, "Move Well — Sports Injuries", []string{knee.Slug}},
		{"both", "tag=pain&category=posture", 200, "Move Well — Posture — pain", []string{back.Slug}},
		{"an unknown tag", "tag=elbow", 404, "", nil},
		{"a draft's tag", "tag=secret", 404, "", nil},
		{"an unknown category", "category=hidden", 404, "", nil},
		{"both known, never together", "tag=knee&category=posture", 404, "", nil},
		{"a malformed tag", "tag=no%20spaces", 400, "", nil},
		{"an unknown parameter", "tag=pain&limit=5", 400, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, s, "/feed.xml?"+tc.query)
			testenv.WantStatus(t, r, tc.status)
			if tc.status != 200 {
				if p := r.Problem(t); tc.status == 400 && p["errors"] == nil {
					t.Errorf("no field named: %s", r.Body)
				}
				return
			}
			var feed rssFeed
			parseXML(t, r, &feed)
			var slugs []string
			for _, it := range feed.Channel.Items {
				slugs = append(slugs, strings.TrimPrefix(it.Link, "http://cms.test/articles/"))
			}
			if feed.Channel.Title != tc.title || strings.Join(slugs, ",") != strings.Join(tc.slugs, ",") ||
				!strings.HasPrefix(feed.Channel.Self.Href, "http://cms.test/feed.xml?") {
				t.Errorf("title %q, self %q, items %v", feed.Channel.Title, feed.Channel.Self.Href, slugs)
			}
			// Rendered once per snapshot: the same bytes, the same ETag,
			// and a 304 for it.
			testenv.WantStatus(t, get(t, s, "/feed.xml?"+tc.query, "If-None-Match", r.Header.Get("ETag")), http.StatusNotModified)
		})
	}

	// A new article with the tag makes its feed exist.
	elbow := testenv.Publish(t, s, editor, map[string]any{"title": "Elbow", "tags": []string{"elbow"}})
	r := get(t, s, "/feed.xml?tag=elbow")
	testenv.WantStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), elbow.Slug) {
		t.Errorf("the new tag's feed lacks its article: %s", r.Body)
	}
}

// TestSiteURLInPageLinks: the site settings' url is where readers read
// the pages, so the article's canonical URL, its JSON-LD page, the feed's
// links and the sitemap's locations follow it, while the links this
// service answers itself (/go/, the sitemap files, the feed's self link)
// stay on CMS_PUBLIC_URL.
func TestSiteURLInPageLinks(t *testing.T) {
	s, _ := newContentAPI(t)
	admin, _ := s.User(t, auth.Admin)
	editor, _ := s.User(t, auth.Editor)
	a := testenv.Publish(t, s, editor, map[string]any{"title": "Knee pain"})
	testenv.WantStatus(t, testenv.Call(t, s, admin, "PATCH", "/api/v1/settings/site",
		map[string]any{"url": "https://movewell.example"}), http.StatusOK)

	page := "https://movewell.example/articles/" + a.Slug
	var art struct {
		SEO    struct{ CanonicalURL string }
		JSONLD map[string]any
	}
	get(t, s, contentPath+a.Slug).JSON(t, &art)
	if ent, _ := art.JSONLD["mainEntityOfPage"].(map[string]any); art.SEO.CanonicalURL != page || ent["@id"] != page {
		t.Errorf("seo.canonicalUrl %q, mainEntityOfPage %v; want %s", art.SEO.CanonicalURL, art.JSONLD["mainEntityOfPage"], page)
	}
	r := get(t, s, "/feed.xml")
	var feed rssFeed
	parseXML(t, r, &feed)
	if feed.Channel.Link != "https://movewell.example/" || !strings.Contains(string(r.Body), "<link>"+page+"</link>") ||
		!strings.Contains(string(r.Body), `href="http://cms.test/feed.xml"`) {
		t.Errorf("feed links: %s", r.Body)
	}
	var sm sitemapDoc
	parseXML(t, get(t, s, "/sitemap.xml"), &sm)
	if len(sm.URLs) != 1 || sm.URLs[0].Loc != page {
		t.Errorf("sitemap = %+v, want %s", sm, page)
	}
}
