package affiliate_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/internal/testenv"
)

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

// TestDeadLinkPage follows dead /go/ links as a browser would: an unknown
// code is a 404 page, an archived product a 410 page, each linking back to
// the article the link was in when a names a readable one, else to the
// site; never JSON, under a CSP that allows nothing but the page's own
// style. Programs keep problem+json.
func TestDeadLinkPage(t *testing.T) {
	s := newServer(t, func(c *server.Options) { c.PublicURL = "https://cms.example" })
	editor, _ := s.User(t, auth.Editor)
	admin, _ := s.User(t, auth.Admin)
	createProduct(t, s, editor, map[string]any{"code": "old-roller", "title": "Roller", "asin": "B000123456", "marketplace": "amazon.com"})
	r := s.Do(testenv.Request{Method: "PATCH", Path: "/api/v1/products/old-roller", Token: editor, Body: map[string]any{"archived": true}})
	testenv.WantStatus(t, r, http.StatusOK)
	a := testenv.Publish(t, s, editor, map[string]any{"title": `Back <pain> & "relief"`, "slug": "back-pain"})
	r = s.Do(testenv.Request{Method: "PATCH", Path: "/api/v1/settings/site", Token: admin, Body: map[string]any{"url": "https://www.wellness.example"}})
	testenv.WantStatus(t, r, http.StatusOK)

	tests := []struct {
		name, path string
		status     int
		link       string
	}{
		{"unknown code, article", "/go/no-such-thing?a=back-pain", 404, `href="https://www.wellness.example/articles/back-pain"`},
		{"unknown code, no article", "/go/no-such-thing", 404, `href="https://www.wellness.example"`},
		{"unknown code, unknown article", "/go/no-such-thing?a=never-written", 404, `href="https://www.wellness.example"`},
		{"archived, article", "/go/old-roller?a=back-pain&p=2", 410, `href="https://www.wellness.example/articles/back-pain"`},
		{"archived, bad slug", "/go/old-roller?a=%3Cscript%3E", 410, `href="https://www.wellness.example"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Do(testenv.Request{Path: tc.path, Header: map[string]string{"Accept": browserAccept}})
			testenv.WantStatus(t, r, tc.status)
			body := string(r.Body)
			if ct := r.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if !strings.Contains(body, tc.link) {
				t.Errorf("page lacks %s:\n%s", tc.link, body)
			}
			csp := r.Header.Get("Content-Security-Policy")
			if !strings.HasPrefix(csp, "default-src 'none'; style-src 'sha256-") || strings.Contains(csp, "unsafe") {
				t.Errorf("CSP = %q", csp)
			}
			for h, want := range map[string]string{"Cache-Control": "no-store", "X-Robots-Tag": "noindex"} {
				if got := r.Header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			for _, bad := range []string{"<script", "{\"", "http://", "<img", "<link", "@import", "<pain>"} {
				if strings.Contains(body, bad) {
					t.Errorf("page contains %q:\n%s", bad, body)
				}
			}
		})
	}
	// The article's title is shown, escaped.
	r = s.Do(testenv.Request{Path: "/go/no-such-thing?a=back-pain", Header: map[string]string{"Accept": browserAccept}})
	if !strings.Contains(string(r.Body), "Back &lt;pain&gt; &amp; &#34;relief&#34;") {
		t.Errorf("title not shown escaped:\n%s", r.Body)
	}
	_ = a

	// Programs, and browsers that refuse HTML, keep problem+json.
	for _, accept := range []string{"", "*/*", "application/json", "text/html;q=0"} {
		r := s.Do(testenv.Request{Path: "/go/old-roller?a=back-pain", Header: map[string]string{"Accept": accept}})
		testenv.WantStatus(t, r, http.StatusGone)
		r.Problem(t)
	}
	// HEAD answers the status without counting or a body.
	r = s.Do(testenv.Request{Method: "HEAD", Path: "/go/no-such-thing", Header: map[string]string{"Accept": browserAccept}})
	testenv.WantStatus(t, r, http.StatusNotFound)
}
