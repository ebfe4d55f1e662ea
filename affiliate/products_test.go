package affiliate_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// TestProductTargetRules is the URL rule table, through the real router:
// each target is posted as a product, and what is accepted must redirect
// to exactly the expected tagged URL.
func TestProductTargetRules(t *testing.T) {
	s := newServer(t)
	editor, _ := s.User(t, auth.Editor)
	tests := []struct {
		name        string
		url         string
		asin, mp    string
		wantTarget  string // "" means refused with 400
		wantField   string
		wantMessage string
	}{
		{name: "plain product page", url: "https://www.amazon.com/dp/B000123456",
			wantTarget: "https://www.amazon.com/dp/B000123456?tag=mysite-20"},
		{name: "bare marketplace host", url: "https://amazon.co.uk/dp/B000123456",
			wantTarget: "https://amazon.co.uk/dp/B000123456?tag=mysite-21"},
		{name: "foreign tag replaced", url: "https://www.amazon.com/dp/B000123456?tag=thief-20&th=1",
			wantTarget: "https://www.amazon.com/dp/B000123456?tag=mysite-20&th=1"},
		{name: "tag in other case replaced", url: "https://www.amazon.co.jp/dp/B000123456?TAG=thief-22",
			wantTarget: "https://www.amazon.co.jp/dp/B000123456?tag=mysite-22"},
		{name: "no tag configured drops a foreign one", url: "https://www.amazon.de/dp/B000123456?tag=thief-21",
			wantTarget: "https://www.amazon.de/dp/B000123456"},
		{name: "upper-case scheme and host normalized", url: "HTTPS://WWW.AMAZON.COM/dp/B000123456",
			wantTarget: "https://www.amazon.com/dp/B000123456?tag=mysite-20"},
		{name: "fragment kept", url: "https://www.amazon.com/dp/B000123456#reviews",
			wantTarget: "https://www.amazon.com/dp/B000123456?tag=mysite-20#reviews"},
		{name: "asin and marketplace", asin: "B000123456", mp: "amazon.co.uk",
			wantTarget: "https://www.amazon.co.uk/dp/B000123456?tag=mysite-21"},
		{name: "asin on a marketplace without a tag", asin: "B0ABCDEF12", mp: "amazon.com.au",
			wantTarget: "https://www.amazon.com.au/dp/B0ABCDEF12"},

		{name: "http", url: "http://www.amazon.com/dp/B000123456", wantField: "url", wantMessage: "https"},
		{name: "suffix host", url: "https://www.amazon.com.evil.example/dp/B000123456", wantField: "url", wantMessage: "not an allowed"},
		{name: "prefix host", url: "https://evilamazon.com/dp/B000123456", wantField: "url", wantMessage: "not an allowed"},
		{name: "subdomain of a marketplace", url: "https://smile.evil.amazon.com/dp/B000123456", wantField: "url", wantMessage: "not an allowed"},
		{name: "trailing dot", url: "https://www.amazon.com./dp/B000123456", wantField: "url", wantMessage: "not an allowed"},
		{name: "userinfo before amazon", url: "https://www.amazon.com@evil.example/", wantField: "url", wantMessage: "user information"},
		{name: "userinfo with amazon host", url: "https://evil.example@www.amazon.com/", wantField: "url", wantMessage: "user information"},
		{name: "encoded userinfo", url: "https://www.amazon.com%2F@evil.example/", wantField: "url", wantMessage: "user information"},
		{name: "explicit port", url: "https://www.amazon.com:443/dp/B000123456", wantField: "url", wantMessage: "port"},
		{name: "empty port", url: "https://www.amazon.com:/dp/B000123456", wantField: "url", wantMessage: "port"},
		{name: "backslash host trick", url: `https://evil.example\www.amazon.com/`, wantField: "url", wantMessage: "backslash"},
		{name: "backslash in path", url: `https://www.amazon.com/\evil.example`, wantField: "url", wantMessage: "backslash"},
		{name: "CRLF header injection", url: "https://www.amazon.com/dp/B000123456\r\nLocation: https://evil.example", wantField: "url", wantMessage: "control"},
		{name: "tab", url: "https://www.amazon.com/dp/\tB000123456", wantField: "url", wantMessage: "control"},
		{name: "NUL", url: "https://www.amazon.com\x00.evil.example/", wantField: "url", wantMessage: "control"},
		{name: "space", url: "https://www.amazon.com /dp/B000123456", wantField: "url", wantMessage: "spaces"},
		{name: "amzn.to short link", url: "https://amzn.to/3abcdef", wantField: "url", wantMessage: "short links"},
		{name: "a.co short link", url: "https://a.co/d/abcdef", wantField: "url", wantMessage: "short links"},
		{name: "bit.ly short link", url: "https://bit.ly/abcdef", wantField: "url", wantMessage: "short links"},
		{name: "IDN look-alike", url: "https://www.аmazon.com/dp/B000123456", wantField: "url", wantMessage: "ASCII"},
		{name: "punycode look-alike", url: "https://www.xn--mazon-3ve.com/dp/B000123456", wantField: "url", wantMessage: "not an allowed"},
		{name: "percent-encoded host", url: "https://%77ww.amazon.com/dp/B000123456", wantField: "url", wantMessage: "characters a domain name"},
		{name: "encoded dot in host", url: "https://www.amazon%2Ecom/dp/B000123456", wantField: "url", wantMessage: "characters a domain name"},
		{name: "scheme-relative", url: "//www.amazon.com/dp/B000123456", wantField: "url", wantMessage: "absolute https"},
		{name: "triple slash", url: "https:///www.amazon.com/dp/B000123456", wantField: "url", wantMessage: "host"},
		{name: "no slashes", url: "https:www.amazon.com/dp/B000123456", wantField: "url", wantMessage: "absolute https"},
		{name: "IP address", url: "https://127.0.0.1/", wantField: "url", wantMessage: "not an allowed"},
		{name: "IPv6 literal", url: "https://[::1]/", wantField: "url", wantMessage: "characters a domain name"},
		{name: "javascript", url: "javascript:alert(1)", wantField: "url", wantMessage: "absolute https"},
		{name: "relative path", url: "/dp/B000123456", wantField: "url", wantMessage: "absolute https"},
		{name: "too long", url: "https://www.amazon.com/" + strings.Repeat("a", 2100), wantField: "url", wantMessage: "at most"},
		{name: "too long once tagged", url: "https://www.amazon.de/dp/B008123456?q" + strings.Repeat("*", 1000) + "=1",
			wantField: "url", wantMessage: "re-encoded with the associate tag"},
		{name: "too long once quotes are encoded", url: "https://www.amazon.com/" + strings.Repeat(`"`, 1000),
			wantField: "url", wantMessage: "once percent-encoded"},
		{name: "asin lower case", asin: "b000123456", mp: "amazon.com", wantField: "asin"},
		{name: "asin too short", asin: "B00012345", mp: "amazon.com", wantField: "asin"},
		{name: "unknown marketplace", asin: "B000123456", mp: "amazon.xyz", wantField: "marketplace"},
		{name: "marketplace with www", asin: "B000123456", mp: "www.amazon.com", wantField: "marketplace"},
		{name: "asin without marketplace", asin: "B000123456", wantField: "marketplace"},
		{name: "both targets", url: "https://www.amazon.com/dp/B000123456", asin: "B000123456", mp: "amazon.com", wantField: "url", wantMessage: "either"},
		{name: "no target", wantField: "url", wantMessage: "required"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code := fmt.Sprintf("rule-%d", i)
			body := map[string]any{"code": code, "title": "Foam roller"}
			if tc.url != "" {
				body["url"] = tc.url
			}
			if tc.asin != "" {
				body["asin"] = tc.asin
			}
			if tc.mp != "" {
				body["marketplace"] = tc.mp
			}
			r := s.Do(testenv.Request{Method: "POST", Path: "/api/v1/products", Token: editor, Body: body})
			if tc.wantTarget == "" {
				if r.Status != http.StatusBadRequest {
					t.Fatalf("status %d, want 400; body %s", r.Status, r.Body)
				}
				p := r.Problem(t)
				errs, _ := p["errors"].([]any)
				found := false
				for _, e := range errs {
					fe := e.(map[string]any)
					if fe["field"] == tc.wantField && strings.Contains(fe["message"].(string), tc.wantMessage) {
						found = true
					}
				}
				if !found {
					t.Fatalf("no error on %s mentioning %q: %s", tc.wantField, tc.wantMessage, r.Body)
				}
				return
			}
			if r.Status != http.StatusCreated {
				t.Fatalf("status %d, want 201; body %s", r.Status, r.Body)
			}
			var p map[string]any
			r.JSON(t, &p)
			if p["target"] != tc.wantTarget {
				t.Errorf("target %q, want %q", p["target"], tc.wantTarget)
			}
			g := s.Do(testenv.Request{Path: "/go/" + code})
			if g.Status != http.StatusFound || g.Header.Get("Location") != tc.wantTarget {
				t.Errorf("redirect %d to %q, want 302 to %q", g.Status, g.Header.Get("Location"), tc.wantTarget)
			}
		})
	}
}

func TestProductLifecycle(t *testing.T) {
	s := newServer(t)
	editor, _ := s.User(t, auth.Editor)
	author, _ := s.User(t, auth.Author)

	p := createProduct(t, s, editor, map[string]any{
		"code": "foam-roller", "title": " Foam roller ", "asin": "B000123456", "marketplace": "amazon.com",
		"imageUrl": "https://m.media-amazon.com/images/I/foam.jpg", "description": "For sore calves.",
	})
	if p["title"] != "Foam roller" || p["merchant"] != "Amazon" || p["link"] != "http://cms.test/go/foam-roller" {
		t.Fatalf("created product: %v", p)
	}
	for _, k := range []string{"price", "rating"} {
		if _, ok := p[k]; ok {
			t.Errorf("product carries %s", k)
		}
	}

	steps := []struct {
		name   string
		req    testenv.Request
		status int
	}{
		{"duplicate code", testenv.Request{Method: "POST", Path: "/api/v1/products", Token: editor,
			Body: map[string]any{"code": "foam-roller", "title": "x", "url": "https://www.amazon.com/dp/B000123456"}}, 409},
		{"bad code", testenv.Request{Method: "POST", Path: "/api/v1/products", Token: editor,
			Body: map[string]any{"code": "Foam Roller", "title": "x", "url": "https://www.amazon.com/dp/B000123456"}}, 400},
		{"unknown field", testenv.Request{Method: "POST", Path: "/api/v1/products", Token: editor,
			Body: map[string]any{"code": "x2", "title": "x", "url": "https://www.amazon.com/dp/B000123456", "price": 9.99}}, 400},
		{"merchant is derived", testenv.Request{Method: "POST", Path: "/api/v1/products", Token: editor,
			Body: map[string]any{"code": "x3", "title": "x", "url": "https://www.amazon.com/dp/B000123456", "merchant": "Evil"}}, 400},
		{"http image", testenv.Request{Method: "POST", Path: "/api/v1/products", Token: editor,
			Body: map[string]any{"code": "x4", "title": "x", "url": "https://www.amazon.com/dp/B000123456", "imageUrl": "http://img.example/a.jpg"}}, 400},
		{"operator injection", testenv.Request{Method: "POST", Path: "/api/v1/products", Token: editor,
			Body: `{"code":{"$gt":""},"title":"x","url":"https://www.amazon.com/dp/B000123456"}`}, 400},
		{"author may not create", testenv.Request{Method: "POST", Path: "/api/v1/products", Token: author,
			Body: map[string]any{"code": "x5", "title": "x", "url": "https://www.amazon.com/dp/B000123456"}}, 403},
		{"anonymous may not list", testenv.Request{Path: "/api/v1/products"}, 401},
		{"author may not list", testenv.Request{Path: "/api/v1/products", Token: author}, 403},
		{"get", testenv.Request{Path: "/api/v1/products/foam-roller", Token: editor}, 200},
		{"get unknown", testenv.Request{Path: "/api/v1/products/nope", Token: editor}, 404},
		{"get malformed code", testenv.Request{Path: "/api/v1/products/NOPE", Token: editor}, 404},
		{"patch title", testenv.Request{Method: "PATCH", Path: "/api/v1/products/foam-roller", Token: editor,
			Body: map[string]any{"title": "Foam roller, firm"}}, 200},
		{"patch code refused", testenv.Request{Method: "PATCH", Path: "/api/v1/products/foam-roller", Token: editor,
			Body: map[string]any{"code": "other"}}, 400},
		{"patch same code accepted", testenv.Request{Method: "PATCH", Path: "/api/v1/products/foam-roller", Token: editor,
			Body: map[string]any{"code": "foam-roller"}}, 200},
		{"patch to both targets refused", testenv.Request{Method: "PATCH", Path: "/api/v1/products/foam-roller", Token: editor,
			Body: map[string]any{"url": "https://www.amazon.co.uk/dp/B000123456"}}, 400},
		{"patch switches to url", testenv.Request{Method: "PATCH", Path: "/api/v1/products/foam-roller", Token: editor,
			Body: map[string]any{"url": "https://www.amazon.co.uk/dp/B000123456", "asin": "", "marketplace": ""}}, 200},
		{"patch unknown field", testenv.Request{Method: "PATCH", Path: "/api/v1/products/foam-roller", Token: editor,
			Body: map[string]any{"rating": 5}}, 400},
		{"patch unknown product", testenv.Request{Method: "PATCH", Path: "/api/v1/products/nope", Token: editor,
			Body: map[string]any{"title": "x"}}, 404},
		{"delete with bad force", testenv.Request{Method: "DELETE", Path: "/api/v1/products/foam-roller?force=maybe", Token: editor}, 400},
		{"delete with unknown parameter", testenv.Request{Method: "DELETE", Path: "/api/v1/products/foam-roller?really=1", Token: editor}, 400},
	}
	for _, st := range steps {
		if r := s.Do(st.req); r.Status != st.status {
			t.Fatalf("%s: status %d, want %d; body %s", st.name, r.Status, st.status, r.Body)
		}
	}
	g := s.Do(testenv.Request{Path: "/go/foam-roller"})
	if want := "https://www.amazon.co.uk/dp/B000123456?tag=mysite-21"; g.Header.Get("Location") != want {
		t.Fatalf("after the switch the redirect goes to %q, want %q", g.Header.Get("Location"), want)
	}

	// Archived: the link answers 410, the product stays listed.
	if r := s.Do(testenv.Request{Method: "PATCH", Path: "/api/v1/products/foam-roller", Token: editor,
		Body: map[string]any{"archived": true}}); r.Status != 200 {
		t.Fatalf("archive: %d %s", r.Status, r.Body)
	}
	if g := s.Do(testenv.Request{Path: "/go/foam-roller"}); g.Status != http.StatusGone {
		t.Fatalf("archived product redirect: %d, want 410", g.Status)
	}
	if r := s.Do(testenv.Request{Path: "/api/v1/products?archived=true", Token: editor}); !strings.Contains(string(r.Body), "foam-roller") {
		t.Fatalf("archived product not listed: %s", r.Body)
	}
	if r := s.Do(testenv.Request{Method: "DELETE", Path: "/api/v1/products/foam-roller", Token: editor}); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if g := s.Do(testenv.Request{Path: "/go/foam-roller"}); g.Status != http.StatusNotFound {
		t.Fatalf("deleted product redirect: %d, want 404", g.Status)
	}
}

func TestProductList(t *testing.T) {
	s := newServer(t)
	editor, _ := s.User(t, auth.Editor)
	for i := range 5 {
		createProduct(t, s, editor, map[string]any{"code": fmt.Sprintf("p%d", i), "title": "x", "url": "https://www.amazon.com/dp/B000123456"})
	}
	var codes []string
	path := "/api/v1/products?limit=2"
	for pages := 0; path != ""; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		var page struct {
			Items []struct {
				Code string `json:"code"`
			} `json:"items"`
			NextCursor string `json:"nextCursor"`
		}
		r := s.Do(testenv.Request{Path: path, Token: editor})
		if r.Status != 200 {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		r.JSON(t, &page)
		for _, it := range page.Items {
			codes = append(codes, it.Code)
		}
		path = ""
		if page.NextCursor != "" {
			path = "/api/v1/products?limit=2&cursor=" + url.QueryEscape(page.NextCursor)
		}
	}
	if got := strings.Join(codes, ","); got != "p0,p1,p2,p3,p4" {
		t.Fatalf("paged codes %s", got)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "cursor=!!", "archived=maybe", "sort=title", "limit=1&limit=2"} {
		if r := s.Do(testenv.Request{Path: "/api/v1/products?" + q, Token: editor}); r.Status != 400 {
			t.Errorf("?%s: status %d, want 400", q, r.Status)
		}
	}
}

// TestDeleteProductInUse: a product that published articles use is kept
// unless the delete is forced.
func TestDeleteProductInUse(t *testing.T) {
	s := newServer(t)
	editor, _ := s.User(t, auth.Editor)
	inst := newInstance(t, s, affiliate.Options{PublicURL: "http://cms.test",
		UsedBy: func(_ context.Context, code string) ([]string, error) {
			if code == "used" {
				return []string{"knee-pain", "back-pain"}, nil
			}
			return nil, nil
		}})
	hdr := map[string]string{"Authorization": "Bearer " + editor}
	for _, code := range []string{"used", "unused"} {
		st, _, body := do(t, "POST", inst.URL+"/api/v1/products", hdr, map[string]any{"code": code, "title": "x", "url": "https://www.amazon.com/dp/B000123456"})
		if st != 201 {
			t.Fatalf("create: %d %s", st, body)
		}
	}
	st, h, body := do(t, "DELETE", inst.URL+"/api/v1/products/used", hdr, nil)
	if st != http.StatusConflict || h.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(body), "knee-pain") {
		t.Fatalf("delete in use: %d %s", st, body)
	}
	if st, _, body := do(t, "DELETE", inst.URL+"/api/v1/products/unused", hdr, nil); st != 204 {
		t.Fatalf("delete unused: %d %s", st, body)
	}
	if st, _, body := do(t, "DELETE", inst.URL+"/api/v1/products/used?force=true", hdr, nil); st != 204 {
		t.Fatalf("forced delete: %d %s", st, body)
	}
}

// TestCatalogueSharedByInstances: a change made through one instance
// reaches another instance's in-memory catalogue through the catalogue's
// change feed, without a restart. The other instance's sync loop never
// ticks: the test steps its poller.
func TestCatalogueSharedByInstances(t *testing.T) {
	s := newServer(t)
	editor, _ := s.User(t, auth.Editor)
	other := newInstance(t, s, affiliate.Options{SyncInterval: time.Hour})
	step := func() {
		t.Helper()
		if _, err := other.SyncCatalogue(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	step()
	if st, _, _ := do(t, "GET", other.URL+"/go/shared", nil, nil); st != 404 {
		t.Fatalf("before: %d", st)
	}
	createProduct(t, s, editor, map[string]any{"code": "shared", "title": "x", "url": "https://www.amazon.com/dp/B000123456"})
	step()
	if st, _, _ := do(t, "GET", other.URL+"/go/shared", nil, nil); st != 302 {
		t.Fatalf("after the create: %d, want the other instance to redirect", st)
	}
	if r := s.Do(testenv.Request{Method: "PUT", Path: "/api/v1/settings/affiliate", Token: adminToken(t, s),
		Body: map[string]any{"tags": map[string]string{"amazon.com": "newtag-20"}, "disclosureText": "We earn from links.", "allowedHosts": []string{"www.amazon.com"}}}); r.Status != 200 {
		t.Fatalf("put settings: %d %s", r.Status, r.Body)
	}
	step()
	if _, h, _ := do(t, "GET", other.URL+"/go/shared", nil, nil); h.Get("Location") != "https://www.amazon.com/dp/B000123456?tag=newtag-20" {
		t.Fatalf("after the settings change: Location %q, want the new tag", h.Get("Location"))
	}
	if other.Disclosure() != "We earn from links." {
		t.Fatalf("disclosure %q", other.Disclosure())
	}
}

// subscriber records the catalogue changes an instance reports. The
// instance reports from its request goroutines, hence the lock.
type subscriber struct {
	mu  sync.Mutex
	got []affiliate.CatalogueChange
}

func subscribe(svc *affiliate.Service) *subscriber {
	sub := &subscriber{}
	svc.OnCatalogueChange(func(_ context.Context, ch affiliate.CatalogueChange) {
		sub.mu.Lock()
		defer sub.mu.Unlock()
		sub.got = append(sub.got, ch)
	})
	return sub
}

// take returns what was reported since the last take.
func (sub *subscriber) take() []affiliate.CatalogueChange {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	got := sub.got
	sub.got = nil
	return got
}

// TestCatalogueChange: a write is reported to the subscribers of the
// instance it went through before it returns, and to another instance's
// at that instance's next step, with the product codes and whether the
// settings changed; what changes nothing is reported nowhere, and a write
// is not read back by its own instance from the feed.
func TestCatalogueChange(t *testing.T) {
	s := newServer(t)
	editor, _ := s.User(t, auth.Editor)
	admin := adminToken(t, s)
	local := newInstance(t, s, affiliate.Options{SyncInterval: time.Hour})
	other := newInstance(t, s, affiliate.Options{SyncInterval: time.Hour})
	localSub, otherSub := subscribe(local.Service), subscribe(other.Service)
	ctx := context.Background()
	// Start took the feed's first step, the full load: the next finds
	// nothing to do.
	for _, inst := range []*instance{local, other} {
		if b, err := inst.SyncCatalogue(ctx); err != nil || !b.Empty() {
			t.Fatalf("first step after Start = %+v, %v; want empty", b, err)
		}
	}
	settings := map[string]any{"tags": testTags, "disclosureText": "We earn from links.", "allowedHosts": []string{"www.amazon.com", "www.amazon.co.uk", "www.amazon.co.jp"}}
	roller := func(ch ...string) []affiliate.CatalogueChange {
		return []affiliate.CatalogueChange{{Products: ch}}
	}
	tests := []struct {
		name                string
		method, path, token string
		body                any
		status              int
		want                []affiliate.CatalogueChange
	}{
		{"create", "POST", "/api/v1/products", editor,
			map[string]any{"code": "roller", "title": "Roller", "asin": "B000123456", "marketplace": "amazon.com"}, 201, roller("roller")},
		{"a refused create", "POST", "/api/v1/products", editor,
			map[string]any{"code": "roller", "title": "Again", "asin": "B000123456", "marketplace": "amazon.com"}, 409, nil},
		{"a second product", "POST", "/api/v1/products", editor,
			map[string]any{"code": "band", "title": "Band", "url": "https://www.amazon.com/dp/B000654321"}, 201, roller("band")},
		{"update", "PATCH", "/api/v1/products/roller", editor, map[string]any{"title": "Foam roller"}, 200, roller("roller")},
		{"archive", "PATCH", "/api/v1/products/roller", editor, map[string]any{"archived": true}, 200, roller("roller")},
		{"settings", "PUT", "/api/v1/settings/affiliate", admin, settings, 200,
			[]affiliate.CatalogueChange{{Settings: true, Disclosure: true, Hosts: true, Local: true}}},
		{"the same settings again", "PUT", "/api/v1/settings/affiliate", admin, settings, 200, nil},
		{"delete", "DELETE", "/api/v1/products/band", editor, nil, 204, roller("band")},
	}
	for _, tt := range tests {
		st, _, body := do(t, tt.method, local.URL+tt.path, map[string]string{"Authorization": "Bearer " + tt.token}, tt.body)
		if st != tt.status {
			t.Fatalf("%s: %d %s, want %d", tt.name, st, body, tt.status)
		}
		if got := localSub.take(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: the writing instance reported %+v, want %+v", tt.name, got, tt.want)
		}
		for _, inst := range []*instance{local, other} {
			if _, err := inst.SyncCatalogue(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got := localSub.take(); got != nil {
			t.Errorf("%s: the writing instance reported its own write again from the feed: %+v", tt.name, got)
		}
		// Only the writer's own settings write is Local.
		var wantOther []affiliate.CatalogueChange
		for _, ch := range tt.want {
			ch.Local = false
			wantOther = append(wantOther, ch)
		}
		if got := otherSub.take(); !reflect.DeepEqual(got, wantOther) {
			t.Errorf("%s: the other instance reported %+v, want %+v", tt.name, got, wantOther)
		}
	}
}

func adminToken(t testing.TB, s *testenv.Server) string {
	t.Helper()
	tok, _ := s.User(t, auth.Admin)
	return tok
}
