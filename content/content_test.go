package content_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/content"
	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/internal/testenv"
)

const (
	clinicOrigin = "https://www.clinic.example"
	contentPath  = "/api/v1/content/articles/"
)

// newContentAPI starts the whole service with the test's clock and one
// CORS origin.
func newContentAPI(t *testing.T) (*testenv.Server, *testenv.Clock) {
	t.Helper()
	clock := testenv.NewClock(time.Now().UTC().Truncate(time.Second))
	return testenv.NewServer(t, func(c *server.Options) {
		c.Now = clock.Now
		c.CORSOrigins = []string{clinicOrigin}
	}), clock
}

// get reads a public route without credentials.
func get(t *testing.T, s *testenv.Server, path string, header ...string) *testenv.Response {
	t.Helper()
	return testenv.Call(t, s, "", "GET", path, nil, header...)
}

func jsonObject(t *testing.T, r *testenv.Response) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// listSlugs reads a list page and returns its slugs and next cursor.
func listSlugs(t *testing.T, s *testenv.Server, query string) ([]string, string) {
	t.Helper()
	r := get(t, s, "/api/v1/content/articles"+query)
	testenv.WantStatus(t, r, http.StatusOK)
	var page struct {
		Items []struct {
			Slug string `json:"slug"`
		} `json:"items"`
		NextCursor *string `json:"nextCursor"`
	}
	r.JSON(t, &page)
	slugs := make([]string, len(page.Items))
	for i, it := range page.Items {
		slugs[i] = it.Slug
	}
	next := ""
	if page.NextCursor != nil {
		next = *page.NextCursor
	}
	return slugs, next
}

// allowedKeys is the golden list of what the public article JSON may
// contain, per object path ("[]" marks array elements). Anything else is
// a leak of an internal field.
var allowedKeys = map[string][]string{
	"": {"slug", "title", "summary", "html", "coverImage", "tags", "category", "author", "publishedAt",
		"updatedAt", "readingTimeMinutes", "seo", "medicalReview", "sources", "cta", "products", "disclosure", "jsonLd", "jsonLdScript"},
	"coverImage":              {"url", "alt"},
	"author":                  {"name"},
	"seo":                     {"title", "description", "canonicalUrl"},
	"medicalReview":           {"reviewerName", "reviewerCredentials", "reviewedAt"},
	"sources[]":               {"title", "url"},
	"cta":                     {"label", "url", "phone"},
	"products[]":              {"code", "title", "imageUrl", "merchant", "url", "note"},
	"disclosure":              {"text", "placement"},
	"tags[]":                  nil,
	"jsonLd":                  {"@context", "@type", "headline", "description", "image", "keywords", "datePublished", "dateModified", "author", "reviewedBy", "lastReviewed", "citation", "publisher", "mainEntityOfPage"},
	"jsonLd.author":           {"@type", "name"},
	"jsonLd.publisher":        {"@type", "name", "logo"},
	"jsonLd.publisher.logo":   {"@type", "url"},
	"jsonLd.reviewedBy":       {"@type", "name", "honorificSuffix"},
	"jsonLd.citation[]":       {"@type", "name", "url"},
	"jsonLd.mainEntityOfPage": {"@type", "@id"},
}

// checkKeys walks v and fails on any key allowed does not list for its path.
func checkKeys(t *testing.T, allowed map[string][]string, path string, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		keys, ok := allowed[path]
		if !ok {
			t.Errorf("object at %q is not in the golden list", path)
			return
		}
		for k, child := range v {
			if !slices.Contains(keys, k) {
				t.Errorf("unexpected key %q at %q", k, path)
				continue
			}
			p := k
			if path != "" {
				p = path + "." + k
			}
			checkKeys(t, allowed, p, child)
		}
	case []any:
		for _, child := range v {
			checkKeys(t, allowed, path+"[]", child)
		}
	}
}

// TestContentArticleFields checks the public article field by field, that
// nothing private leaks (a golden list of keys, and the raw bytes searched
// for the author's email and IDs), and the cache headers.
func TestContentArticleFields(t *testing.T) {
	s, clock := newContentAPI(t)
	editor := s.NewUser(t, auth.Editor)
	token, _, err := s.Services().Auth.Tokens().Issue(editor.ID, editor.Role, editor.SessionVersion)
	if err != nil {
		t.Fatal(err)
	}
	testenv.WantStatus(t, testenv.Call(t, s, token, "POST", "/api/v1/products", map[string]any{
		"code": "foam-roller", "title": "Foam roller", "asin": "B00TEST001", "marketplace": "amazon.com"}), http.StatusCreated)
	// A product on a store without a tag may not be published (cms's
	// compliance gate).
	admin, _ := s.User(t, auth.Admin)
	testenv.WantStatus(t, testenv.Call(t, s, admin, "PATCH", "/api/v1/settings/affiliate",
		map[string]any{"tags": map[string]any{"amazon.com": "clinic-20"}}), http.StatusOK)
	reviewed := clock.Now().Add(-48 * time.Hour).Format(time.DateOnly)
	a := testenv.Publish(t, s, token, map[string]any{
		"title":    "Massage for Chronic Pain Relief",
		"summary":  "What massage does for <chronic> pain & why.",
		"body":     "<p>Intro about pain.</p><h2>Why it works</h2><p>Warm up first.</p>",
		"tags":     []string{"massage", "pain"},
		"category": "Pain Relief",
		"coverImage": map[string]any{
			"url": "https://img.example/massage.jpg", "alt": "Hands on a back"},
		"seo":           map[string]any{"title": "Massage & chronic pain"},
		"medicalReview": map[string]any{"reviewerName": "Dr. Ada Lovelace", "reviewerCredentials": "MD", "reviewedAt": reviewed},
		"sources":       []map[string]any{{"title": "Cochrane review", "url": "https://www.cochranelibrary.com/x"}},
		"cta":           map[string]any{"label": "Schedule an Appointment", "url": "https://clinic.example/book", "phone": "+1 555 123 4567"},
		"products":      []map[string]any{{"code": "foam-roller", "note": "Our pick"}},
	})
	r := get(t, s, contentPath+a.Slug)
	testenv.WantStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := r.Header.Get("Cache-Control"); cc != content.DefaultCacheControl {
		t.Errorf("Cache-Control = %q", cc)
	}
	if v := r.Header.Get("Vary"); v != "Accept-Encoding, Origin" {
		t.Errorf("Vary = %q", v)
	}
	if e := r.Header.Get("ETag"); !strings.HasPrefix(e, `"`) || len(e) < 10 {
		t.Errorf("ETag = %q", e)
	}

	var got map[string]any
	r.JSON(t, &got)
	checkKeys(t, allowedKeys, "", got)
	for _, k := range allowedKeys[""] {
		if _, ok := got[k]; !ok {
			t.Errorf("field %q missing", k)
		}
	}
	for _, secret := range []string{editor.Email, editor.ID, a.ID, `"version"`, `"status"`, `"bodyHtml"`, `"body"`, "revision", "sanitizerVersion"} {
		if bytes.Contains(r.Body, []byte(secret)) {
			t.Errorf("the public article contains %q: %s", secret, r.Body)
		}
	}

	pub := a.PublishedAt.Format(time.RFC3339Nano)
	want := map[string]any{
		"slug":               "massage-for-chronic-pain-relief",
		"title":              "Massage for Chronic Pain Relief",
		"summary":            "What massage does for <chronic> pain & why.",
		"html":               "<p>Intro about pain.</p><h2>Why it works</h2><p>Warm up first.</p>",
		"coverImage":         map[string]any{"url": "https://img.example/massage.jpg", "alt": "Hands on a back"},
		"tags":               []any{"massage", "pain"},
		"category":           "Pain Relief",
		"author":             map[string]any{"name": editor.Name},
		"publishedAt":        pub,
		"updatedAt":          a.UpdatedAt.Format(time.RFC3339Nano),
		"readingTimeMinutes": float64(1),
		"seo": map[string]any{"title": "Massage & chronic pain", "description": "What massage does for <chronic> pain & why.",
			"canonicalUrl": "http://cms.test/articles/massage-for-chronic-pain-relief"},
		"medicalReview": map[string]any{"reviewerName": "Dr. Ada Lovelace", "reviewerCredentials": "MD", "reviewedAt": reviewed + "T00:00:00Z"},
		"sources":       []any{map[string]any{"title": "Cochrane review", "url": "https://www.cochranelibrary.com/x"}},
		"cta":           map[string]any{"label": "Schedule an Appointment", "url": "https://clinic.example/book", "phone": "+1 555 123 4567"},
	}
	for k, w := range want {
		if g := got[k]; fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("%s = %v, want %v", k, g, w)
		}
	}
	// HTML reads as HTML, not \u003c escapes.
	if !bytes.Contains(r.Body, []byte(`"html":"<p>Intro about pain.</p>`)) {
		t.Errorf("html is escaped: %s", r.Body)
	}

	products := got["products"].([]any)
	if len(products) != 1 {
		t.Fatalf("products = %v", products)
	}
	p := products[0].(map[string]any)
	if p["code"] != "foam-roller" || p["note"] != "Our pick" ||
		p["url"] != "http://cms.test/go/foam-roller?a=massage-for-chronic-pain-relief" {
		t.Errorf("product = %v", p)
	}
	for _, k := range []string{"title", "imageUrl"} {
		if _, ok := p[k].(string); !ok {
			t.Errorf("product %s missing: %v", k, p)
		}
	}
	// Without the affiliate hook there is no disclosure; with it, a full one.
	if d, ok := got["disclosure"].(map[string]any); got["disclosure"] != nil && (!ok || d["text"] == "" || d["placement"] == "") {
		t.Errorf("disclosure = %v", got["disclosure"])
	}

	ld := got["jsonLd"].(map[string]any)
	wantLD := map[string]any{
		"@context": "https://schema.org", "@type": "MedicalWebPage",
		"headline": "Massage for Chronic Pain Relief", "description": "What massage does for <chronic> pain & why.",
		"image": "https://img.example/massage.jpg", "keywords": "massage, pain",
		"datePublished": pub, "dateModified": a.UpdatedAt.Format(time.RFC3339Nano),
		"author":           map[string]any{"@type": "Person", "name": editor.Name},
		"reviewedBy":       map[string]any{"@type": "Person", "name": "Dr. Ada Lovelace", "honorificSuffix": "MD"},
		"lastReviewed":     reviewed,
		"citation":         []any{map[string]any{"@type": "CreativeWork", "name": "Cochrane review", "url": "https://www.cochranelibrary.com/x"}},
		"mainEntityOfPage": map[string]any{"@type": "WebPage", "@id": "http://cms.test/articles/massage-for-chronic-pain-relief"},
	}
	for k, w := range wantLD {
		if g := ld[k]; fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("jsonLd.%s = %v, want %v", k, g, w)
		}
	}
	// jsonLd can be put into a <script> element as it is.
	start := bytes.Index(r.Body, []byte(`"jsonLd":`))
	if ldRaw := r.Body[start:]; bytes.ContainsAny(ldRaw, "<>") {
		t.Errorf("jsonLd is not HTML-escaped: %s", ldRaw)
	}

	// Without a medical review: an Article; a canonical URL override wins.
	b := testenv.Publish(t, s, token, map[string]any{"title": "Sleep hygiene",
		"seo": map[string]any{"canonicalUrl": "https://partner.example/sleep"}})
	r = get(t, s, contentPath+b.Slug)
	testenv.WantStatus(t, r, http.StatusOK)
	got = jsonObject(t, r)
	checkKeys(t, allowedKeys, "", got)
	ld = got["jsonLd"].(map[string]any)
	if ld["@type"] != "Article" || ld["reviewedBy"] != nil || ld["lastReviewed"] != nil || ld["citation"] != nil ||
		fmt.Sprint(ld["mainEntityOfPage"]) != "map[@id:https://partner.example/sleep @type:WebPage]" {
		t.Errorf("jsonLd without review = %v", ld)
	}
	if got["medicalReview"] != nil || got["cta"] != nil || got["coverImage"] != nil || got["disclosure"] != nil ||
		fmt.Sprint(got["products"]) != "[]" || fmt.Sprint(got["sources"]) != "[]" {
		t.Errorf("empty fields: %v", got)
	}
}

// TestContentNotServed covers what the content API refuses: drafts,
// archived and unknown articles are 404 problems, bad parameters 400.
func TestContentNotServed(t *testing.T) {
	s, _ := newContentAPI(t)
	token, _ := s.User(t, auth.Editor)
	draft := testenv.CreateArticle(t, s, token, map[string]any{"title": "Draft only"})
	archived := testenv.Publish(t, s, token, map[string]any{"title": "Gone soon"})
	testenv.WantStatus(t, testenv.Call(t, s, token, "DELETE", "/api/v1/articles/"+archived.ID, nil), http.StatusNoContent)
	inReview := testenv.CreateArticle(t, s, token, map[string]any{"title": "Under review"})
	testenv.Transition(t, s, token, inReview, "submit", nil)

	for _, slug := range []string{draft.Slug, archived.Slug, inReview.Slug, "no-such-article", "Not_A_Slug", strings.Repeat("a", 200)} {
		r := get(t, s, contentPath+url.PathEscape(slug))
		testenv.WantStatus(t, r, http.StatusNotFound)
		r.Problem(t)
	}
	pub := testenv.Publish(t, s, token, map[string]any{"title": "Live"})
	for _, q := range []string{"?foo=1", "?preview=", "?preview=a&preview=b"} {
		r := get(t, s, contentPath+pub.Slug+q)
		testenv.WantStatus(t, r, http.StatusBadRequest)
		r.Problem(t)
	}
	for _, q := range []string{"?limit=0", "?limit=101", "?limit=ten", "?limit=", "?sort=title", "?tag=a&tag=b",
		"?tag=Not%20a%20tag", "?cursor=nope", "?cursor=" + url.QueryEscape("MS4wMDAwMDAwMC4wLjAuYWJj"),
		"?author=Jane%20Doe", "?q=%21%21%21", "?q=" + strings.Repeat("x", 201), "?category=%21%21", "?status=draft"} {
		r := get(t, s, "/api/v1/content/articles"+q)
		if r.Status != http.StatusBadRequest {
			t.Errorf("list %s = %d, want 400", q, r.Status)
			continue
		}
		r.Problem(t)
	}
	testenv.WantStatus(t, get(t, s, "/api/v1/content/tags?x=1"), http.StatusBadRequest)
}

// TestContentFormerSlugRedirects checks 301 from every former slug, also
// slugs a draft had before it was first published.
func TestContentFormerSlugRedirects(t *testing.T) {
	s, _ := newContentAPI(t)
	token, _ := s.User(t, auth.Editor)
	a := testenv.CreateArticle(t, s, token, map[string]any{"title": "First name"})
	a = testenv.PatchArticle(t, s, token, a, map[string]any{"slug": "second-name"})
	a = testenv.Transition(t, s, token, a, "publish", nil)
	a = testenv.PublishChanges(t, s, token, a, map[string]any{"slug": "third-name"})

	for _, old := range []string{"first-name", "second-name"} {
		r := get(t, s, contentPath+old)
		testenv.WantStatus(t, r, http.StatusMovedPermanently)
		if loc := r.Header.Get("Location"); loc != contentPath+"third-name" {
			t.Errorf("Location from %s = %q", old, loc)
		}
		if len(r.Body) != 0 {
			t.Errorf("301 has a body: %q", r.Body)
		}
	}
	testenv.WantStatus(t, get(t, s, contentPath+"third-name"), http.StatusOK)
	// A former slug of an article that is no longer published is gone too.
	testenv.Transition(t, s, token, a, "unpublish", nil)
	testenv.WantStatus(t, get(t, s, contentPath+"first-name"), http.StatusNotFound)
}

// TestContentConditionalAndGzip checks ETags per encoding, 304 without a
// body, gzip only when accepted, HEAD, and that no other request header
// changes the answer.
func TestContentConditionalAndGzip(t *testing.T) {
	s, _ := newContentAPI(t)
	token, _ := s.User(t, auth.Editor)
	a := testenv.Publish(t, s, token, map[string]any{"title": "Long read", "body": strings.Repeat("<p>Stretch gently every morning.</p>", 100)})
	path := contentPath + a.Slug

	plain := get(t, s, path, "Accept-Encoding", "identity")
	testenv.WantStatus(t, plain, http.StatusOK)
	tag := plain.Header.Get("ETag")
	if plain.Header.Get("Content-Encoding") != "" || plain.Header.Get("Content-Length") != fmt.Sprint(len(plain.Body)) {
		t.Errorf("identity response headers: %v", plain.Header)
	}
	zipped := get(t, s, path, "Accept-Encoding", "br, gzip;q=0.8")
	testenv.WantStatus(t, zipped, http.StatusOK)
	gzTag := zipped.Header.Get("ETag")
	if zipped.Header.Get("Content-Encoding") != "gzip" || gzTag == tag || len(zipped.Body) >= len(plain.Body) {
		t.Fatalf("gzip response: %v, %d bytes", zipped.Header, len(zipped.Body))
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped.Body))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(unzipped, plain.Body) {
		t.Fatalf("gzip body differs from the plain one (%v)", err)
	}
	if r := get(t, s, path, "Accept-Encoding", "gzip;q=0"); r.Header.Get("Content-Encoding") != "" {
		t.Error("gzip sent although refused with q=0")
	}

	tests := []struct {
		name, enc, inm string
		want           int
	}{
		{"same tag", "identity", tag, http.StatusNotModified},
		{"weak form", "identity", "W/" + tag, http.StatusNotModified},
		{"in a list", "identity", `"x", ` + tag, http.StatusNotModified},
		{"star", "identity", "*", http.StatusNotModified},
		{"gzip tag for gzip", "gzip", gzTag, http.StatusNotModified},
		{"plain tag for gzip", "gzip", tag, http.StatusOK},
		{"gzip tag for plain", "identity", gzTag, http.StatusOK},
		{"other tag", "identity", `"nope"`, http.StatusOK},
	}
	for _, tt := range tests {
		r := get(t, s, path, "Accept-Encoding", tt.enc, "If-None-Match", tt.inm)
		if r.Status != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, r.Status, tt.want)
		}
		if tt.want == http.StatusNotModified {
			if len(r.Body) != 0 || r.Header.Get("ETag") == "" || r.Header.Get("Cache-Control") == "" || r.Header.Get("Vary") == "" {
				t.Errorf("%s: 304 with body %q or without validators %v", tt.name, r.Body, r.Header)
			}
		}
	}

	// Credentials, cookies, Accept and the like change nothing.
	other := get(t, s, path, "Accept-Encoding", "identity", "Authorization", "Bearer "+token,
		"Cookie", "a=b", "Accept", "text/html", "Accept-Language", "de", "User-Agent", "x", "X-Forwarded-For", "10.0.0.1")
	if !bytes.Equal(other.Body, plain.Body) || other.Header.Get("ETag") != tag {
		t.Error("a request header outside Vary changed the response")
	}

	head := testenv.Call(t, s, "", "HEAD", path, nil, "Accept-Encoding", "identity")
	testenv.WantStatus(t, head, http.StatusOK)
	if len(head.Body) != 0 || head.Header.Get("ETag") != tag {
		t.Errorf("HEAD: %d body bytes, ETag %q", len(head.Body), head.Header.Get("ETag"))
	}

	// Lists and tags are validated the same way.
	for _, p := range []string{"/api/v1/content/articles?limit=5", "/api/v1/content/tags", "/feed.xml", "/sitemap.xml", "/robots.txt"} {
		r := get(t, s, p, "Accept-Encoding", "identity")
		testenv.WantStatus(t, r, http.StatusOK)
		r2 := get(t, s, p, "Accept-Encoding", "identity", "If-None-Match", r.Header.Get("ETag"))
		if r2.Status != http.StatusNotModified {
			t.Errorf("%s with its ETag = %d", p, r2.Status)
		}
	}
}

// TestContentCustomCacheControl checks the configured Cache-Control.
func TestContentCustomCacheControl(t *testing.T) {
	s := testenv.NewServer(t, func(c *server.Options) { c.ContentCacheControl = "public, max-age=5" })
	token, _ := s.User(t, auth.Author)
	a := testenv.Publish(t, s, token, map[string]any{"title": "Short cache"})
	if cc := get(t, s, contentPath+a.Slug).Header.Get("Cache-Control"); cc != "public, max-age=5" {
		t.Errorf("Cache-Control = %q", cc)
	}
}

// TestContentListPaging publishes articles between page requests: the
// cursor keeps its place, so no article is seen twice or skipped, and new
// ones appear only on a fresh first page.
func TestContentListPaging(t *testing.T) {
	s, clock := newContentAPI(t)
	token, _ := s.User(t, auth.Editor)
	var want []string
	for i := range 7 {
		clock.Advance(time.Minute)
		a := testenv.Publish(t, s, token, map[string]any{"title": fmt.Sprintf("Article %d", i)})
		want = append([]string{a.Slug}, want...) // newest first
	}
	var seen []string
	cursor := ""
	for page := 0; ; page++ {
		q := "?limit=3"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		slugs, next := listSlugs(t, s, q)
		seen = append(seen, slugs...)
		if next == "" {
			break
		}
		cursor = next
		// Publish between pages: newer than everything listed so far.
		clock.Advance(time.Minute)
		testenv.Publish(t, s, token, map[string]any{"title": fmt.Sprintf("Inserted %d", page)})
	}
	if strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Fatalf("paged through\n%v\nwant\n%v", seen, want)
	}
	first, _ := listSlugs(t, s, "?limit=2")
	if strings.Join(first, ",") != "inserted-1,inserted-0" {
		t.Errorf("fresh first page = %v", first)
	}
	all, next := listSlugs(t, s, "")
	if len(all) != 9 || next != "" {
		t.Errorf("default page: %d items, next %q", len(all), next)
	}
	// A cursor belongs to its list.
	_, cur := listSlugs(t, s, "?limit=2")
	testenv.WantStatus(t, get(t, s, "/api/v1/content/articles?tag=massage&cursor="+url.QueryEscape(cur)), http.StatusBadRequest)
	// A cursor stays usable when its article is unpublished meanwhile.
	slugs, cur := listSlugs(t, s, "?limit=2")
	r := testenv.Call(t, s, token, "GET", "/api/v1/articles?limit=100", nil)
	var mine struct{ Items []cms.Article }
	r.JSON(t, &mine)
	for _, a := range mine.Items {
		if a.Slug == slugs[1] {
			testenv.Transition(t, s, token, &a, "unpublish", nil)
		}
	}
	rest, _ := listSlugs(t, s, "?limit=2&cursor="+url.QueryEscape(cur))
	if len(rest) != 2 || slices.Contains(rest, slugs[0]) || slices.Contains(rest, slugs[1]) {
		t.Errorf("page after an unpublished cursor article = %v", rest)
	}
}

// TestContentListFilters checks tag, category, author and the list fields.
func TestContentListFilters(t *testing.T) {
	s, clock := newContentAPI(t)
	jane := s.NewUser(t, auth.Author)
	janeToken, _, _ := s.Services().Auth.Tokens().Issue(jane.ID, jane.Role, jane.SessionVersion)
	other, _ := s.User(t, auth.Author)
	testenv.Publish(t, s, janeToken, map[string]any{"title": "Neck stretches", "tags": []string{"neck", "stretching"}, "category": "Self Care",
		"coverImage": map[string]any{"url": "https://img.example/neck.jpg", "alt": "Neck"}})
	clock.Advance(time.Minute)
	testenv.Publish(t, s, other, map[string]any{"title": "Knee pain", "tags": []string{"knee"}, "category": "Pain"})
	clock.Advance(time.Minute)
	testenv.Publish(t, s, janeToken, map[string]any{"title": "Back stretches", "tags": []string{"back", "stretching"}, "category": "self care"})
	testenv.CreateArticle(t, s, janeToken, map[string]any{"title": "Unpublished stretching", "tags": []string{"stretching"}})

	tests := []struct{ q, want string }{
		{"?tag=stretching", "back-stretches,neck-stretches"},
		{"?tag=STRETCHING", "back-stretches,neck-stretches"},
		{"?tag=knee", "knee-pain"},
		{"?tag=nothing", ""},
		{"?category=self-care", "back-stretches,neck-stretches"},
		{"?category=Self%20Care", "back-stretches,neck-stretches"},
		{"?author=" + cms.Slugify(jane.Name), "back-stretches,neck-stretches"},
		{"?author=" + cms.Slugify(jane.Name) + "&tag=neck", "neck-stretches"},
		{"?author=nobody", ""},
	}
	for _, tt := range tests {
		got, _ := listSlugs(t, s, tt.q)
		if strings.Join(got, ",") != tt.want {
			t.Errorf("%s = %v, want %s", tt.q, got, tt.want)
		}
	}

	r := get(t, s, "/api/v1/content/articles?tag=neck")
	var page struct{ Items []map[string]any }
	r.JSON(t, &page)
	item := page.Items[0]
	keys := make([]string, 0, len(item))
	for k := range item {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if strings.Join(keys, ",") != "author,category,coverImage,hasAffiliateLinks,publishedAt,readingTimeMinutes,slug,summary,tags,title,updatedAt" {
		t.Errorf("list item keys = %v", keys)
	}
	if fmt.Sprint(item["author"]) != "map[name:"+jane.Name+"]" || item["hasAffiliateLinks"] != false ||
		fmt.Sprint(item["coverImage"]) != "map[alt:Neck url:https://img.example/neck.jpg]" {
		t.Errorf("list item = %v", item)
	}

	r = get(t, s, "/api/v1/content/tags")
	testenv.WantStatus(t, r, http.StatusOK)
	if string(r.Body) != `[{"tag":"stretching","count":2},{"tag":"back","count":1},{"tag":"knee","count":1},{"tag":"neck","count":1}]` {
		t.Errorf("tags = %s", r.Body)
	}
}

// TestContentSearch checks q through the API: every word must match,
// accents and case do not matter, title beats tag beats body, ties go to
// the newest, and search results page with cursors.
func TestContentSearch(t *testing.T) {
	s, clock := newContentAPI(t)
	token, _ := s.User(t, auth.Editor)
	for _, a := range []map[string]any{
		{"title": "Living with back pain", "body": "<p>A gentle massage can help.</p>"},
		{"title": "Massage for chronic pain relief", "body": "<p>Sections on relief.</p>"},
		{"title": "Sleep better", "tags": []string{"deep-tissue-massage"}, "body": "<p>Sleep hygiene.</p>"},
		{"title": "Crème brûlée for recovery", "summary": "Thérapie douce after a run"},
		{"title": "Massage and sleep", "body": "<p>Evening routine.</p>"},
	} {
		clock.Advance(time.Minute)
		testenv.Publish(t, s, token, a)
	}
	testenv.CreateArticle(t, s, token, map[string]any{"title": "Draft massage"})

	tests := []struct{ q, want string }{
		{"massage", "massage-and-sleep,massage-for-chronic-pain-relief,sleep-better,living-with-back-pain"},
		{"MASSAGE pain", "massage-for-chronic-pain-relief,living-with-back-pain"},
		{"creme", "creme-brulee-for-recovery"},
		{"CRÈME Brulee", "creme-brulee-for-recovery"},
		{"therapie", "creme-brulee-for-recovery"},
		{"stretch", ""},
	}
	for _, tt := range tests {
		got, _ := listSlugs(t, s, "?q="+url.QueryEscape(tt.q))
		if strings.Join(got, ",") != tt.want {
			t.Errorf("q=%s: %v, want %s", tt.q, got, tt.want)
		}
	}
	var paged []string
	cursor := ""
	for {
		q := "?q=massage&limit=1"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		slugs, next := listSlugs(t, s, q)
		paged = append(paged, slugs...)
		if next == "" {
			break
		}
		cursor = next
	}
	if strings.Join(paged, ",") != tests[0].want {
		t.Errorf("paged search = %v", paged)
	}
	got, _ := listSlugs(t, s, "?q=massage&tag=deep-tissue-massage")
	if strings.Join(got, ",") != "sleep-better" {
		t.Errorf("search with a tag = %v", got)
	}
}

// contentView is what a reader currently gets for one article.
func contentTitle(t *testing.T, s *testenv.Server, slug string) (int, string) {
	t.Helper()
	r := get(t, s, contentPath+slug)
	if r.Status != http.StatusOK {
		return r.Status, ""
	}
	var v struct{ Title string }
	r.JSON(t, &v)
	return r.Status, v.Title
}

// inEverything reports whether slug is in the list, the tag list, the
// feed and the sitemap.
func inEverything(t *testing.T, s *testenv.Server, slug, tag string) []bool {
	t.Helper()
	list, _ := listSlugs(t, s, "?limit=100")
	tags := get(t, s, "/api/v1/content/tags").Body
	feed := get(t, s, "/feed.xml").Body
	sitemap := get(t, s, "/sitemap.xml").Body
	return []bool{slices.Contains(list, slug), bytes.Contains(tags, []byte(`"`+tag+`"`)),
		bytes.Contains(feed, []byte("/articles/"+slug+"<")), bytes.Contains(sitemap, []byte("/articles/"+slug+"<"))}
}

// TestContentInvalidation makes every kind of write and checks that the
// very next request of the same instance sees it everywhere: the article,
// lists, tags, feed and sitemap, all of which were cached before.
func TestContentInvalidation(t *testing.T) {
	s, clock := newContentAPI(t)
	token, _ := s.User(t, auth.Editor)
	all := func(v bool) string { return fmt.Sprint([]bool{v, v, v, v}) }

	a := testenv.CreateArticle(t, s, token, map[string]any{"title": "Original title", "tags": []string{"alpha"}})
	if st, _ := contentTitle(t, s, a.Slug); st != http.StatusNotFound || fmt.Sprint(inEverything(t, s, a.Slug, "alpha")) != all(false) {
		t.Fatal("a draft is visible")
	}
	// publish
	a = testenv.Transition(t, s, token, a, "publish", nil)
	if st, title := contentTitle(t, s, a.Slug); st != 200 || title != "Original title" {
		t.Fatalf("after publish: %d %q", st, title)
	}
	if got := inEverything(t, s, a.Slug, "alpha"); fmt.Sprint(got) != all(true) {
		t.Fatalf("after publish, in list/tags/feed/sitemap = %v", got)
	}
	// edit
	a = testenv.PublishChanges(t, s, token, a, map[string]any{"title": "Edited title", "tags": []string{"beta"}})
	if _, title := contentTitle(t, s, a.Slug); title != "Edited title" {
		t.Fatalf("after edit: %q", title)
	}
	if !bytes.Contains(get(t, s, "/api/v1/content/tags").Body, []byte(`"beta"`)) ||
		!bytes.Contains(get(t, s, "/feed.xml").Body, []byte("Edited title")) {
		t.Fatal("tags or feed not refreshed after an edit")
	}
	// restore (a new version with old content)
	a = testenv.Transition(t, s, token, a, "revisions/1/restore", nil)
	a = testenv.Transition(t, s, token, a, "publish", nil)
	if _, title := contentTitle(t, s, a.Slug); title != "Original title" {
		t.Fatalf("after restore: %q", title)
	}
	// slug change
	old := a.Slug
	a = testenv.PublishChanges(t, s, token, a, map[string]any{"slug": "brand-new-slug"})
	if st, _ := contentTitle(t, s, old); st != http.StatusMovedPermanently {
		t.Fatalf("old slug after a slug change: %d", st)
	}
	if got := inEverything(t, s, "brand-new-slug", "alpha"); fmt.Sprint(got) != all(true) {
		t.Fatalf("after a slug change: %v", got)
	}
	// unpublish
	a = testenv.Transition(t, s, token, a, "unpublish", nil)
	if st, _ := contentTitle(t, s, a.Slug); st != http.StatusNotFound || fmt.Sprint(inEverything(t, s, a.Slug, "alpha")) != all(false) {
		t.Fatal("still visible after unpublish")
	}
	// publish again, then delete (archive)
	a = testenv.Transition(t, s, token, a, "publish", nil)
	testenv.WantStatus(t, get(t, s, contentPath+a.Slug), http.StatusOK)
	testenv.WantStatus(t, testenv.Call(t, s, token, "DELETE", "/api/v1/articles/"+a.ID, nil), http.StatusNoContent)
	if st, _ := contentTitle(t, s, a.Slug); st != http.StatusNotFound || fmt.Sprint(inEverything(t, s, a.Slug, "alpha")) != all(false) {
		t.Fatal("still visible after delete")
	}

	// A scheduled article appears the moment it is due, before the
	// scheduler has even run.
	b := testenv.CreateArticle(t, s, token, map[string]any{"title": "Scheduled piece", "tags": []string{"later"}})
	at := clock.Now().Add(time.Hour)
	b = testenv.Transition(t, s, token, b, "publish", map[string]any{"publishAt": at.Format(time.RFC3339)})
	if b.Status != cms.StatusScheduled {
		t.Fatalf("status %s", b.Status)
	}
	if st, _ := contentTitle(t, s, b.Slug); st != http.StatusNotFound || fmt.Sprint(inEverything(t, s, b.Slug, "later")) != all(false) {
		t.Fatal("a scheduled article is visible before its time")
	}
	clock.Advance(time.Hour)
	r := get(t, s, contentPath+b.Slug)
	testenv.WantStatus(t, r, http.StatusOK)
	var v struct{ PublishedAt time.Time }
	r.JSON(t, &v)
	if !v.PublishedAt.Equal(at) {
		t.Errorf("publishedAt = %v, want the scheduled time %v", v.PublishedAt, at)
	}
	if got := inEverything(t, s, b.Slug, "later"); fmt.Sprint(got) != all(true) {
		t.Fatalf("a due article in list/tags/feed/sitemap = %v", got)
	}
	if got, _ := listSlugs(t, s, "?q=scheduled"); strings.Join(got, ",") != b.Slug {
		t.Errorf("search for a due article = %v", got)
	}
	// And the scheduler's own publication keeps it there.
	testenv.Eventually(t, "the scheduler to publish the due article", func() bool {
		r := testenv.Call(t, s, token, "GET", "/api/v1/articles/"+b.ID, nil)
		if r.Status == http.StatusUnauthorized { // the clock moved past the token's life
			token, _ = s.User(t, auth.Editor)
			return false
		}
		return testenv.ArticleOf(t, r).Status == cms.StatusPublished
	})
	if st, _ := contentTitle(t, s, b.Slug); st != http.StatusOK {
		t.Errorf("after the scheduler published it: %d", st)
	}
}

// TestContentServedWithoutDatabase shows that reads do not touch the
// database: with the connection gone, every content route still answers.
func TestContentServedWithoutDatabase(t *testing.T) {
	s, _ := newContentAPI(t)
	token, _ := s.User(t, auth.Editor)
	a := testenv.Publish(t, s, token, map[string]any{"title": "Always there", "tags": []string{"calm"}, "body": "<p>Breathe slowly.</p>"})
	if err := s.DB.Client.Disconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{contentPath + a.Slug, "/api/v1/content/articles", "/api/v1/content/articles?tag=calm&limit=5",
		"/api/v1/content/articles?q=breathe", "/api/v1/content/tags", "/feed.xml", "/sitemap.xml", "/robots.txt"} {
		testenv.WantStatus(t, get(t, s, p), http.StatusOK)
	}
	testenv.WantStatus(t, get(t, s, contentPath+"unknown-slug"), http.StatusNotFound)
}

// TestContentTwoInstances runs two servers on one database: each sees the
// other's writes within the poll delay (about a second).
func TestContentTwoInstances(t *testing.T) {
	db := testenv.OpenDB(t)
	keys := testenv.Keys(t)
	same := func(c *server.Options) { c.Keys = keys }
	one := testenv.NewServerOn(t, db, same)
	two := testenv.NewServerOn(t, db, same)
	token, _ := one.User(t, auth.Editor)

	// waitFor polls srv until check passes and reports how long it took.
	waitFor := func(srv *testenv.Server, what string, check func() bool) {
		t.Helper()
		start := time.Now()
		testenv.Eventually(t, what, check)
		t.Logf("%s: seen after %v", what, time.Since(start).Round(10*time.Millisecond))
	}
	a := testenv.Publish(t, one, token, map[string]any{"title": "Shared article", "tags": []string{"shared"}})
	waitFor(two, "publish on one, read on two", func() bool { st, _ := contentTitle(t, two, a.Slug); return st == 200 })

	a = testenv.PublishChanges(t, two, token, a, map[string]any{"title": "Edited on two", "slug": "edited-on-two"})
	if _, title := contentTitle(t, two, a.Slug); title != "Edited on two" {
		t.Fatal("the writing instance does not see its own edit at once")
	}
	waitFor(one, "edit on two, read on one", func() bool { _, title := contentTitle(t, one, a.Slug); return title == "Edited on two" })
	if st, _ := contentTitle(t, one, "shared-article"); st != http.StatusMovedPermanently {
		t.Errorf("former slug on the other instance: %d", st)
	}
	testenv.Transition(t, one, token, a, "unpublish", nil)
	waitFor(two, "unpublish on one, gone on two", func() bool {
		st, _ := contentTitle(t, two, a.Slug)
		list, _ := listSlugs(t, two, "")
		return st == http.StatusNotFound && len(list) == 0
	})
}
