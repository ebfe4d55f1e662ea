package affiliate_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/internal/testenv"
)

const rollerTarget = "https://www.amazon.com/dp/B000123456?tag=mysite-20"

func TestRedirectHeaders(t *testing.T) {
	s := newServer(t)
	editor, _ := s.User(t, auth.Editor)
	createProduct(t, s, editor, map[string]any{"code": "roller", "title": "Roller", "asin": "B000123456", "marketplace": "amazon.com"})
	createProduct(t, s, editor, map[string]any{"code": "old", "title": "Old", "asin": "B000123456", "marketplace": "amazon.com", "archived": true})

	tests := []struct {
		name     string
		method   string
		path     string
		status   int
		location string
	}{
		{"GET", "GET", "/go/roller", 302, rollerTarget},
		{"GET with article and position", "GET", "/go/roller?a=knee-pain&p=2", 302, rollerTarget},
		{"HEAD", "HEAD", "/go/roller", 302, rollerTarget},
		{"unknown code", "GET", "/go/nope", 404, ""},
		{"archived", "GET", "/go/old", 410, ""},
		{"archived HEAD", "HEAD", "/go/old", 410, ""},
		{"POST is not a redirect", "POST", "/go/roller", 405, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Do(testenv.Request{Method: tc.method, Path: tc.path})
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d", r.Status, tc.status)
			}
			if got := r.Header.Get("Location"); got != tc.location {
				t.Errorf("Location %q, want %q", got, tc.location)
			}
			if tc.status == 405 {
				return
			}
			if got := r.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q", got)
			}
			if got := r.Header.Get("X-Robots-Tag"); got != "noindex" {
				t.Errorf("X-Robots-Tag %q", got)
			}
			// Amazon attributes by the referring site: never no-referrer.
			if got := r.Header.Get("Referrer-Policy"); got != "strict-origin-when-cross-origin" {
				t.Errorf("Referrer-Policy %q", got)
			}
			if tc.status >= 400 && tc.method == "GET" {
				r.Problem(t)
			}
		})
	}
}

// TestOpenRedirect tries to make /go/ send a reader anywhere but the
// stored target: through query parameters, encoded paths and codes that
// look like URLs. Every answer is the stored target, a 404, or a redirect
// that stays on this site.
func TestOpenRedirect(t *testing.T) {
	s := newServer(t)
	editor, _ := s.User(t, auth.Editor)
	createProduct(t, s, editor, map[string]any{"code": "roller", "title": "Roller", "asin": "B000123456", "marketplace": "amazon.com"})
	paths := []string{
		"/go/roller?url=https://evil.example",
		"/go/roller?target=https://evil.example&redirect=https://evil.example&next=//evil.example",
		"/go/roller?a=https://evil.example&p=//evil.example",
		"/go/roller?tag=thief-20",
		"/go/roller?a=%0d%0aLocation:%20https://evil.example",
		"/go/roller/https://evil.example",
		"/go/roller/",
		"/go/roller%2F%2Fevil.example",
		"/go/roller%3Furl=https://evil.example",
		"/go/roller%0d%0aLocation:%20https://evil.example",
		"/go//evil.example",
		"/go///evil.example",
		"/go/%2F%2Fevil.example",
		"/go/%5C%5Cevil.example",
		"/go/..%2F..%2Fevil.example",
		"/go/https:%2F%2Fevil.example",
		"/go/ROLLER",
		"/go/roller;https://evil.example",
		"//go/roller",
		"/go/@evil.example",
	}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			r := s.Do(testenv.Request{Path: p})
			loc := r.Header.Get("Location")
			switch {
			case r.Status == 302:
				if loc != rollerTarget {
					t.Fatalf("302 to %q, want only the stored target", loc)
				}
			case r.Status == 301 || r.Status == 307 || r.Status == 308:
				// The router's own trailing-slash redirect may answer, but
				// only ever to a path of this site.
				u, err := url.Parse(loc)
				if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.Contains(loc, `\`) {
					t.Fatalf("%d to %q leaves the site", r.Status, loc)
				}
			case r.Status == 404 || r.Status == 400:
				if loc != "" {
					t.Fatalf("%d with Location %q", r.Status, loc)
				}
			default:
				t.Fatalf("status %d (Location %q)", r.Status, loc)
			}
		})
	}
}

// TestClickFields checks what a click stores: article and position when
// valid (dropped, not failing, when not), the referrer's host only, the
// bot flag, a visitor hash rather than an address, and a country only
// from a trusted proxy.
func TestClickFields(t *testing.T) {
	for _, trusted := range []bool{false, true} {
		name := map[bool]string{false: "direct", true: "behind a trusted proxy"}[trusted]
		t.Run(name, func(t *testing.T) {
			s := newServer(t, func(c *server.Options) {
				if trusted {
					c.TrustedProxies = []string{"127.0.0.1/32", "::1/128"}
				}
			})
			editor, _ := s.User(t, auth.Editor)
			createProduct(t, s, editor, map[string]any{"code": "roller", "title": "Roller", "asin": "B000123456", "marketplace": "amazon.com"})
			browser := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
			reqs := []struct {
				path   string
				header map[string]string
			}{
				{"/go/roller?a=knee-pain&p=3", map[string]string{"User-Agent": browser,
					"Referer": "https://blog.example/knee-pain?email=someone@example.com", "CF-IPCountry": "de",
					"X-Forwarded-For": "203.0.113.7"}},
				{"/go/roller?a=Not%20A%20Slug&p=-1", map[string]string{"User-Agent": browser, "Referer": "javascript:alert(1)"}},
				{"/go/roller?a=" + strings.Repeat("a", 201) + "&p=1000000", map[string]string{"User-Agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"}},
				{"/go/roller?p=007", map[string]string{"User-Agent": ""}},
			}
			for _, rq := range reqs {
				if r := s.Do(testenv.Request{Path: rq.path, Header: rq.header}); r.Status != 302 {
					t.Fatalf("%s: %d", rq.path, r.Status)
				}
			}
			if r := s.Do(testenv.Request{Method: "HEAD", Path: "/go/roller", Header: map[string]string{"User-Agent": browser}}); r.Status != 302 {
				t.Fatalf("HEAD: %d", r.Status)
			}
			if err := s.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			cur, err := s.DB.Database.Collection("clicks").Find(ctx, bson.D{})
			if err != nil {
				t.Fatal(err)
			}
			var docs []bson.M
			if err := cur.All(ctx, &docs); err != nil {
				t.Fatal(err)
			}
			if len(docs) != len(reqs) {
				t.Fatalf("%d clicks stored, want %d (HEAD must not count)", len(docs), len(reqs))
			}
			byArticle := map[any]bson.M{}
			bots := 0
			for _, d := range docs {
				for k, v := range d {
					if s, ok := v.(string); ok && (strings.Contains(s, "127.0.0.1") || strings.Contains(s, "203.0.113.7") || strings.Contains(s, "someone")) {
						t.Errorf("click field %s holds %q", k, s)
					}
				}
				if len(d["visitor"].(string)) != 64 {
					t.Errorf("click %v: visitor is not a hash", d)
				}
				if d["bot"] == true {
					bots++
				}
				byArticle[d["article"]] = d
			}
			if bots != 2 {
				t.Errorf("%d bot clicks, want 2 (Slackbot and the empty user agent)", bots)
			}
			first := byArticle["knee-pain"]
			if first == nil {
				t.Fatalf("no click with the article: %v", docs)
			}
			if first["position"] != int32(3) || first["referrer"] != "blog.example" || first["bot"] != false {
				t.Errorf("first click %v", first)
			}
			wantCountry := map[bool]any{false: nil, true: "DE"}[trusted]
			if first["country"] != wantCountry {
				t.Errorf("country %v, want %v", first["country"], wantCountry)
			}
			for _, d := range docs {
				if d["article"] == "knee-pain" {
					continue
				}
				if d["article"] != nil || d["position"] != nil || d["referrer"] != nil {
					t.Errorf("bad a/p/referrer not dropped: %v", d)
				}
			}
		})
	}
}

func TestRedirectFollowsSettings(t *testing.T) {
	s := newServer(t)
	editor, _ := s.User(t, auth.Editor)
	admin := adminToken(t, s)
	createProduct(t, s, editor, map[string]any{"code": "uk", "title": "UK", "url": "https://www.amazon.co.uk/dp/B000123456"})
	put := func(body map[string]any) *testenv.Response {
		return s.Do(testenv.Request{Method: "PUT", Path: "/api/v1/settings/affiliate", Token: admin, Body: body})
	}
	if r := put(map[string]any{"tags": map[string]string{"amazon.co.uk": "other-21"}, "disclosureText": "x",
		"allowedHosts": []string{"www.amazon.co.uk"}}); r.Status != 200 {
		t.Fatalf("put: %d %s", r.Status, r.Body)
	}
	// This instance reloads at once after its own write.
	if r := s.Do(testenv.Request{Path: "/go/uk"}); r.Header.Get("Location") != "https://www.amazon.co.uk/dp/B000123456?tag=other-21" {
		t.Fatalf("after tag change: %d %q", r.Status, r.Header.Get("Location"))
	}
	// A host taken off the allow list stops redirecting: checked again at
	// redirect time, not only at save.
	if r := put(map[string]any{"tags": map[string]string{}, "disclosureText": "x", "allowedHosts": []string{"www.amazon.com"}}); r.Status != 200 {
		t.Fatalf("put: %d %s", r.Status, r.Body)
	}
	if r := s.Do(testenv.Request{Path: "/go/uk"}); r.Status != http.StatusNotFound || r.Header.Get("Location") != "" {
		t.Fatalf("after host removal: %d %q", r.Status, r.Header.Get("Location"))
	}
	var p map[string]any
	r := s.Do(testenv.Request{Path: "/api/v1/products/uk", Token: editor})
	r.JSON(t, &p)
	if p["target"] != "" {
		t.Fatalf("product view still shows target %v", p["target"])
	}
}
