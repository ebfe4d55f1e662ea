package affiliate_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// TestQueryStrictness checks that every affiliate API route reads its
// query string strictly, through the real router: a malformed query
// (which used to be dropped whole, so ?cursor=%ZZ was the first page), an
// unknown, repeated or empty parameter, is a 400 naming the parameter; the
// parameters a route takes still work.
func TestQueryStrictness(t *testing.T) {
	s := newServer(t)
	editor, _ := s.User(t, auth.Editor)
	admin, _ := s.User(t, auth.Admin)
	createProduct(t, s, editor, map[string]any{"code": "roller", "title": "Roller", "url": "https://www.amazon.com/dp/B000123456"})
	createProduct(t, s, editor, map[string]any{"code": "mat", "title": "Mat", "url": "https://www.amazon.com/dp/B000123457"})
	settings := map[string]any{"tags": map[string]string{"amazon.com": "mysite-20"}, "disclosureText": "We earn from links.",
		"allowedHosts": []string{"www.amazon.com", "amazon.com"}}
	product := map[string]any{"code": "pad", "title": "Pad", "url": "https://www.amazon.com/dp/B000123458"}

	routes := []struct {
		name   string
		method string
		path   string
		token  string
		body   any
		params string // a valid query for the route, "" if it takes none
		ok     int
	}{
		{"list products", "GET", "/api/v1/products", editor, nil, "limit=1&archived=false", 200},
		{"create product", "POST", "/api/v1/products", editor, product, "", 201},
		{"get product", "GET", "/api/v1/products/roller", editor, nil, "", 200},
		{"patch product", "PATCH", "/api/v1/products/roller", editor, map[string]any{"title": "Roller, firm"}, "", 200},
		{"get settings", "GET", "/api/v1/settings/affiliate", admin, nil, "", 200},
		{"put settings", "PUT", "/api/v1/settings/affiliate", admin, settings, "", 200},
		{"stats", "GET", "/api/v1/stats/clicks", editor, nil, "groupBy=product&format=json", 200},
		// Last: it removes the product.
		{"delete product", "DELETE", "/api/v1/products/mat", editor, nil, "force=true", 204},
	}
	for _, rt := range routes {
		t.Run(rt.name, func(t *testing.T) {
			bad := []struct{ query, field string }{
				{"cursor=%ZZ", "(query)"},
				{"a=1;b=2", "(query)"},
				{"bogus=1", "bogus"},
				{"limit=", "limit"},
			}
			if rt.params != "" {
				name := rt.params[:strings.IndexByte(rt.params, '=')]
				bad = append(bad,
					struct{ query, field string }{rt.params + "&" + rt.params, name},
					struct{ query, field string }{name + "=", name},
					struct{ query, field string }{rt.params + "&x=%ZZ", "(query)"},
				)
			}
			for _, b := range bad {
				r := s.Do(testenv.Request{Method: rt.method, Path: rt.path + "?" + b.query, Token: rt.token, Body: rt.body})
				if r.Status != http.StatusBadRequest {
					t.Errorf("?%s: status %d, want 400; %s", b.query, r.Status, r.Body)
					continue
				}
				if !namesField(t, r, b.field) {
					t.Errorf("?%s: problem %s does not name %q", b.query, r.Body, b.field)
				}
			}
			path := rt.path
			if rt.params != "" {
				path += "?" + rt.params
			}
			if r := s.Do(testenv.Request{Method: rt.method, Path: path, Token: rt.token, Body: rt.body}); r.Status != rt.ok {
				t.Errorf("%s %s: status %d, want %d; %s", rt.method, path, r.Status, rt.ok, r.Body)
			}
		})
	}

	// Values the routes check themselves. A cursor is taken only exactly
	// as the API wrote it, and only by the list it came from.
	var page struct {
		NextCursor string `json:"nextCursor"`
	}
	s.Do(testenv.Request{Path: "/api/v1/products?limit=1", Token: editor}).JSON(t, &page)
	cur := page.NextCursor
	if cur == "" {
		t.Fatal("no next cursor")
	}
	const notOurs, otherList = "is not a cursor this API returned", "belongs to a list with other filters"
	for _, tc := range []struct{ path, field, msg string }{
		{"/api/v1/products?limit=0", "limit", ""},
		{"/api/v1/products?limit=101", "limit", ""},
		{"/api/v1/products?cursor=" + cur + "x", "cursor", notOurs},
		{"/api/v1/products?cursor=" + cur + "%0A", "cursor", notOurs}, // a line break (found by FuzzProductCursor)
		{"/api/v1/products?cursor=cm9sbGVy", "cursor", notOurs},       // the old cursor of "roller"
		{"/api/v1/products?archived=false&cursor=" + cur, "cursor", otherList},
		{"/api/v1/products?archived=maybe", "archived", ""},
	} {
		r := s.Do(testenv.Request{Path: tc.path, Token: editor})
		if r.Status != http.StatusBadRequest || !namesField(t, r, tc.field) {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.path, r.Status, r.Body, tc.field)
		}
		if tc.msg != "" {
			r.WantField(t, tc.field, tc.msg)
		}
	}
	if r := s.Do(testenv.Request{Method: "DELETE", Path: "/api/v1/products/roller?force=maybe", Token: editor}); r.Status != 400 || !namesField(t, r, "force") {
		t.Errorf("force=maybe: %d %s", r.Status, r.Body)
	}
}

// TestRedirectQueryLenient checks the one deliberate exception: /go/ never
// fails a reader's redirect over its query, malformed or not.
func TestRedirectQueryLenient(t *testing.T) {
	s := newServer(t)
	editor, _ := s.User(t, auth.Editor)
	createProduct(t, s, editor, map[string]any{"code": "roller", "title": "Roller", "url": "https://www.amazon.com/dp/B000123456"})
	for _, q := range []string{"", "?a=%ZZ&p=1", "?a=knee-pain&p=%", "?a=1;p=2", "?utm_source=x&a=knee-pain&a=back", "?p=", "?%"} {
		r := s.Do(testenv.Request{Path: "/go/roller" + q})
		if r.Status != http.StatusFound || r.Header.Get("Location") != "https://www.amazon.com/dp/B000123456?tag=mysite-20" {
			t.Errorf("/go/roller%s: %d %q, want 302 to the product", q, r.Status, r.Header.Get("Location"))
		}
	}
}

// namesField reports whether r's problem lists field in errors[].
func namesField(t *testing.T, r *testenv.Response, field string) bool {
	t.Helper()
	p := r.Problem(t)
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		if m, _ := e.(map[string]any); m["field"] == field {
			return true
		}
	}
	return false
}
