package cms_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// problemFields returns the fields a 400 names in errors[].
func problemFields(t *testing.T, r *testenv.Response) []string {
	t.Helper()
	p := r.Problem(t)
	list, _ := p["errors"].([]any)
	var out []string
	for _, e := range list {
		m, _ := e.(map[string]any)
		f, _ := m["field"].(string)
		out = append(out, f)
	}
	return out
}

// plainJSON encodes v without escaping < > & as \u003c..., so that a body
// near the size limit stays near it on the wire.
func plainJSON(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func wantInvalid(t *testing.T, r *testenv.Response, fields ...string) {
	t.Helper()
	testenv.WantStatus(t, r, http.StatusBadRequest)
	got := problemFields(t, r)
	if len(got) != len(fields) {
		t.Fatalf("errors[] names %v, want %v", got, fields)
	}
	for i := range fields {
		if got[i] != fields[i] {
			t.Fatalf("errors[] names %v, want %v", got, fields)
		}
	}
}

// TestDeepBodiesRefused: bodies nested past cms.MaxDepth, as HTML or as
// Markdown, are a 400 naming body on create and on patch, not the 500 the
// HTML parser's own limit gave, nor minutes of Markdown parsing.
func TestDeepBodiesRefused(t *testing.T) {
	s, _ := newAPI(t)
	token, _ := s.User(t, auth.Author)
	rep := strings.Repeat
	var indented strings.Builder
	for i := range 150 {
		fmt.Fprintf(&indented, "%s- level %d\n", rep("  ", i), i)
	}
	tests := []struct {
		name, body, format string
	}{
		{"600 div", rep("<div>", 600) + "x", "html"},
		{"600 b", rep("<b>", 600) + "x", "html"},
		{"600 blockquote", rep("<blockquote>", 600) + "x", "html"},
		{"closed 200 span", rep("<span>", 200) + "x" + rep("</span>", 200), "html"},
		{"markdown quotes, body limit", rep(">", 2_000_000) + " x", "markdown"},
		{"markdown quotes spaced", rep("> ", 150) + "x", "markdown"},
		{"markdown lists on a line", rep("- ", 600) + "x", "markdown"},
		{"markdown lists indented", indented.String(), "markdown"},
		{"markdown ordered lists", rep("1. ", 150) + "x", "markdown"},
		{"markdown quotes in html", rep("<blockquote>\n\n", 600) + "x", "markdown"},
	}
	a := testenv.CreateArticle(t, s, token, map[string]any{"title": "Deep"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantInvalid(t, testenv.Call(t, s, token, "POST", "/api/v1/articles",
				plainJSON(t, map[string]any{"title": "Deep", "body": tt.body, "bodyFormat": tt.format})), "body")
			wantInvalid(t, testenv.Call(t, s, token, "PATCH", "/api/v1/articles/"+a.ID,
				plainJSON(t, map[string]any{"body": tt.body, "bodyFormat": tt.format}), "If-Match", a.ETag()), "body")
		})
	}
	// Nesting that real articles use, and unclosed paragraphs and list
	// items (which the parser closes), are fine.
	for _, ok := range []struct{ body, format string }{
		{rep("<div>", 90) + "x", "html"},
		{rep("<p>paragraph ", 500), "html"},
		{"<ul>" + rep("<li>item ", 500) + "</ul>", "html"},
		{"<table>" + rep("<tr><td>a<td>b", 300) + "</table>", "html"},
		{rep("> ", 20) + "x\n" + rep("- ", 20) + "y\n\n* * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * *\n", "markdown"},
		{rep("- item\n", 2000), "markdown"},
	} {
		r := testenv.Call(t, s, token, "POST", "/api/v1/articles", map[string]any{"title": "Nested", "body": ok.body, "bodyFormat": ok.format})
		testenv.WantStatus(t, r, http.StatusCreated)
	}
}

// TestTagCountBeforeDeduplication: a list over its limit is refused by its
// length, duplicates or not, with one error rather than one per item.
func TestTagCountBeforeDeduplication(t *testing.T) {
	s, _ := newAPI(t)
	token, _ := s.User(t, auth.Author)
	many := make([]string, 60000)
	same := make([]string, 60000)
	for i := range many {
		many[i] = fmt.Sprintf("tag-%d", i)
		same[i] = "massage"
	}
	sources := make([]map[string]any, 20000)
	for i := range sources {
		sources[i] = map[string]any{"title": "", "url": "javascript:x"}
	}
	for _, tt := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"60000 tags", map[string]any{"title": "T", "tags": many}, "tags"},
		{"60000 copies of one tag", map[string]any{"title": "T", "tags": same}, "tags"},
		{"20000 bad sources", map[string]any{"title": "T", "sources": sources}, "sources"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantInvalid(t, testenv.Call(t, s, token, "POST", "/api/v1/articles", tt.body), tt.field)
		})
	}
	// Within the limit, duplicates still fold into one.
	a := testenv.CreateArticle(t, s, token, map[string]any{"title": "T", "tags": []string{"Massage", " massage", "pain"}})
	if strings.Join(a.Tags, ",") != "massage,pain" {
		t.Errorf("tags = %v", a.Tags)
	}
}

// TestSavedHTMLIsAFixedPoint: saving the returned bodyHtml again returns the
// identical bodyHtml, including for markup that the sanitizer's tokens and
// a browser's tree read differently.
func TestSavedHTMLIsAFixedPoint(t *testing.T) {
	s, _ := newAPI(t)
	token, _ := s.User(t, auth.Author)
	for _, body := range []string{
		`<h1><a><h6>x</h6></a></h1>`,
		`<p>a<table><td>b</table>`,
		`<a href="https://a.test"><div><a href="https://b.test">x</a></div></a>`,
		`<b><p>x</b>y</p>`,
		`<ul><li>a<li>b</ul><img src="https://img.test/a.jpg" alt="a">`,
	} {
		first := testenv.CreateArticle(t, s, token, map[string]any{"title": "Fixed", "body": body})
		second := testenv.CreateArticle(t, s, token, map[string]any{"title": "Fixed", "body": first.BodyHTML})
		if second.BodyHTML != first.BodyHTML {
			t.Errorf("saving %q again changed it:\nfirst:  %q\nsecond: %q", body, first.BodyHTML, second.BodyHTML)
		}
		patched := testenv.Call(t, s, token, "PATCH", "/api/v1/articles/"+first.ID,
			map[string]any{"body": first.BodyHTML}, "If-Match", first.ETag())
		testenv.WantStatus(t, patched, http.StatusOK)
		if got := testenv.ArticleOf(t, patched).BodyHTML; got != first.BodyHTML {
			t.Errorf("patching %q with its bodyHtml changed it to %q", first.BodyHTML, got)
		}
	}
}

// TestArticleURLCharacters: the characters that end an HTML attribute or a
// quoted string are stored percent-encoded in every URL field; in the host
// they are refused.
func TestArticleURLCharacters(t *testing.T) {
	s, _ := newAPI(t)
	token, _ := s.User(t, auth.Author)
	fields := []struct {
		name string
		body func(u string) map[string]any
		get  func(m map[string]any) string
	}{
		{"coverImage.url", func(u string) map[string]any { return map[string]any{"coverImage": map[string]any{"url": u}} },
			func(m map[string]any) string { return m["coverImage"].(map[string]any)["url"].(string) }},
		{"seo.canonicalUrl", func(u string) map[string]any { return map[string]any{"seo": map[string]any{"canonicalUrl": u}} },
			func(m map[string]any) string { return m["seo"].(map[string]any)["canonicalUrl"].(string) }},
		{"sources[0].url", func(u string) map[string]any {
			return map[string]any{"sources": []any{map[string]any{"title": "S", "url": u}}}
		}, func(m map[string]any) string { return m["sources"].([]any)[0].(map[string]any)["url"].(string) }},
		{"cta.url", func(u string) map[string]any { return map[string]any{"cta": map[string]any{"label": "Book", "url": u}} },
			func(m map[string]any) string { return m["cta"].(map[string]any)["url"].(string) }},
	}
	a := testenv.CreateArticle(t, s, token, map[string]any{"title": "Links"})
	version := a.Version
	for _, f := range fields {
		for _, c := range []string{`"`, `'`, `<`, `>`, "`"} {
			t.Run(f.name+" "+c, func(t *testing.T) {
				raw := "https://site.test/a" + c + "b?q=" + c + "#" + c
				enc := url.PathEscape(c)
				if c == "'" {
					enc = "%27"
				}
				want := "https://site.test/a" + enc + "b?q=" + enc + "#" + enc
				body := f.body(raw)
				body["title"] = "Links"
				r := testenv.Call(t, s, token, "POST", "/api/v1/articles", body)
				testenv.WantStatus(t, r, http.StatusCreated)
				var m map[string]any
				r.JSON(t, &m)
				if got := f.get(m); got != want {
					t.Errorf("stored %q, want %q", got, want)
				}
				r = testenv.Call(t, s, token, "PATCH", "/api/v1/articles/"+a.ID, f.body(raw), "If-Match", testenv.ETag(version))
				testenv.WantStatus(t, r, http.StatusOK)
				m = nil
				r.JSON(t, &m)
				version = int64(m["version"].(float64))
				if got := f.get(m); got != want {
					t.Errorf("patched %q, want %q", got, want)
				}
				wantInvalid(t, testenv.Call(t, s, token, "POST", "/api/v1/articles",
					mergeTitle(f.body("https://si"+c+"te.test/a"))), f.name)
			})
		}
	}
}

func mergeTitle(m map[string]any) map[string]any {
	m["title"] = "Links"
	return m
}
