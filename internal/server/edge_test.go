package server_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// promised are the headers the README says every response carries.
var promised = map[string]string{
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "strict-origin-when-cross-origin",
	"X-Frame-Options":        "DENY",
}

// TestNoHeaderSteersARedirect sends paths that Gin would "fix" with a
// redirect (trailing or doubled slashes, other case, dot segments), with
// and without X-Forwarded-Prefix and its cousins, through the real router.
// No answer may point anywhere but a path of this site, and every answer
// passes the middleware: request ID, security headers.
func TestNoHeaderSteersARedirect(t *testing.T) {
	s := testenv.NewServer(t)
	token, _ := s.User(t, auth.Admin)
	paths := []string{
		"/api/v1/articles/",
		"/api/v1/articles//",
		"/api/v1//articles",
		"//api/v1/articles",
		"/API/V1/ARTICLES",
		"/Api/v1/Articles/",
		"/api/v1/./articles",
		"/api/v1/x/../articles",
		"/healthz/",
		"/HEALTHZ",
		"/metrics/",
		"/api/v1/content/articles/",
		"/api/v1/auth/me/",
		"/go/some-code/",
		"/nope/",
		"/api/v1/articles/%2e%2e/",
		"/api/v1/auth/login", // 405 for GET and HEAD
	}
	// The documented paths still answer; their variants are 404.
	if r := s.Do(testenv.Request{Path: "/api/v1/articles", Token: token}); r.Status != 200 {
		t.Fatalf("GET /api/v1/articles: %d", r.Status)
	}
	if r := s.Do(testenv.Request{Path: "/api/v1/articles/", Token: token}); r.Status != 404 {
		t.Fatalf("GET /api/v1/articles/: %d, want 404", r.Status)
	}
	headers := []map[string]string{
		nil,
		{"X-Forwarded-Prefix": "//evil.example"},
		{"X-Forwarded-Prefix": "https://evil.example"},
		{"X-Forwarded-Prefix": "/\\evil.example"},
		{"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https", "Forwarded": "host=evil.example"},
		{"Host": "evil.example"},
	}
	for _, p := range paths {
		for _, h := range headers {
			for _, method := range []string{"GET", "POST", "HEAD"} {
				r := s.Do(testenv.Request{Method: method, Path: p, Header: h, Token: token})
				where := method + " " + p + " " + strings.Join(flat(h), " ")
				if loc := r.Header.Get("Location"); loc != "" {
					u, err := url.Parse(loc)
					if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(loc, "/") ||
						strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\") || strings.Contains(loc, "evil") {
						t.Errorf("%s: Location %q points off-site", where, loc)
					}
				}
				if r.Status >= 300 && r.Status < 400 {
					t.Errorf("%s: %d redirect (Location %q), want none", where, r.Status, r.Header.Get("Location"))
				}
				if r.Status >= 400 && r.Header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("%s: %d as %q, want problem+json", where, r.Status, r.Header.Get("Content-Type"))
				}
				if r.Header.Get("X-Request-ID") == "" {
					t.Errorf("%s: %d without X-Request-ID", where, r.Status)
				}
				for k, want := range promised {
					if got := r.Header.Get(k); got != want {
						t.Errorf("%s: %d with %s = %q, want %q", where, r.Status, k, got, want)
					}
				}
			}
		}
	}
}

func flat(h map[string]string) []string {
	var out []string
	for k, v := range h {
		out = append(out, k+"="+v)
	}
	return out
}
