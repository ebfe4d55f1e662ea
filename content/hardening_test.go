package content_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// TestFeedEscapesHTML: feed readers take <description> as HTML, so text
// that looks like markup must arrive as text, never as a live element.
func TestFeedEscapesHTML(t *testing.T) {
	s, _ := newContentAPI(t)
	token, _ := s.User(t, auth.Editor)
	for _, summary := range []string{
		`<img src=x onerror=alert(1)>`,
		`<script>alert(1)</script>`,
		`&lt;img src=x onerror=alert(1)&gt;`, // already an entity: must not decode into markup
		`<a href="javascript:alert(1)">x</a>`,
	} {
		testenv.Publish(t, s, token, map[string]any{"title": "T <svg onload=alert(1)>", "summary": summary})
		r := get(t, s, "/feed.xml")
		testenv.WantStatus(t, r, http.StatusOK)
		var feed rssFeed
		parseXML(t, r, &feed)
		it := feed.Channel.Items[0]
		// What a reader renders: the XML-decoded text, parsed as HTML.
		if strings.ContainsAny(it.Description, "<>") {
			t.Errorf("summary %q reaches readers as markup: %q", summary, it.Description)
		}
		if strings.ContainsAny(it.Title, "<>") {
			t.Errorf("title reaches readers with a tag: %q", it.Title)
		}
		if strings.Contains(summary, "<") && (!strings.Contains(it.Description, "&lt;") || !strings.Contains(it.Description, "&gt;")) {
			t.Errorf("summary %q lost its text: %q", summary, it.Description)
		}
	}
}

// TestJSONLDScript: jsonLdScript can be written into a
// <script type="application/ld+json"> as it is, and means jsonLd.
func TestJSONLDScript(t *testing.T) {
	s, _ := newContentAPI(t)
	token, _ := s.User(t, auth.Editor)
	title := "</script><script>alert(1)</script> & <!-- \u2028\u2029"
	a := testenv.Publish(t, s, token, map[string]any{"title": title, "summary": "</SCRIPT> \u2028 \u2029 &"})
	r := get(t, s, contentPath+a.Slug)
	testenv.WantStatus(t, r, http.StatusOK)
	var got struct {
		JSONLD       map[string]any `json:"jsonLd"`
		JSONLDScript string         `json:"jsonLdScript"`
	}
	r.JSON(t, &got)
	if got.JSONLDScript == "" {
		t.Fatal("no jsonLdScript")
	}
	if strings.ContainsAny(got.JSONLDScript, "<>&\u2028\u2029") {
		t.Errorf("jsonLdScript is not safe inside <script>: %q", got.JSONLDScript)
	}
	var parsed map[string]any
	if err := json.Unmarshal([]byte(got.JSONLDScript), &parsed); err != nil {
		t.Fatalf("jsonLdScript is not JSON: %v", err)
	}
	if !strings.Contains(a.Title, "</script>") || parsed["headline"] != a.Title || got.JSONLD["headline"] != a.Title {
		t.Errorf("headline: script %q, object %q", parsed["headline"], got.JSONLD["headline"])
	}
	a2, _ := json.Marshal(parsed)
	b2, _ := json.Marshal(got.JSONLD)
	if string(a2) != string(b2) {
		t.Errorf("jsonLdScript and jsonLd differ:\n%s\n%s", a2, b2)
	}
}

// TestStrictQueries: every public route refuses a query it does not take,
// or a malformed one, with a 400 naming the parameter.
func TestStrictQueries(t *testing.T) {
	s, _ := newContentAPI(t)
	token, _ := s.User(t, auth.Editor)
	a := testenv.Publish(t, s, token, map[string]any{"title": "Strict"})
	type req struct{ method, path string }
	for _, r := range []req{
		{"GET", "/api/v1/content/articles?cursor=%ZZ"},
		{"GET", "/api/v1/content/articles?tag=a;b"},
		{"GET", "/api/v1/content/articles/" + a.Slug + "?x=1"},
		{"GET", "/api/v1/content/articles/" + a.Slug + "?preview=%ZZ"},
		{"GET", "/api/v1/content/tags?x=1"},
		{"GET", "/api/v1/content/tags?%ZZ"},
		{"GET", "/feed.xml?x=1"},
		{"GET", "/feed.xml?tag="},
		{"GET", "/feed.xml?tag=a;b"},
		{"GET", "/feed.xml?tag=Not%20A%20Tag"},
		{"GET", "/feed.xml?tag=a&tag=b"},
		{"GET", "/feed.xml?category=%ZZ"},
		{"GET", "/api/v1/content/site?x=1"},
		{"GET", "/sitemap.xml?x=1"},
		{"GET", "/sitemaps/1.xml?x=1"},
		{"GET", "/robots.txt?x=1"},
	} {
		got := testenv.Call(t, s, "", r.method, r.path, nil)
		if got.Status != http.StatusBadRequest {
			t.Errorf("%s %s = %d, want 400; %s", r.method, r.path, got.Status, got.Body)
			continue
		}
		if p := got.Problem(t); p["errors"] == nil {
			t.Errorf("%s %s: no field named: %s", r.method, r.path, got.Body)
		}
	}
	// The routes still answer without a query.
	for _, p := range []string{"/api/v1/content/tags", "/feed.xml", "/robots.txt"} {
		testenv.WantStatus(t, testenv.Call(t, s, "", "GET", p, nil), http.StatusOK)
	}
}
