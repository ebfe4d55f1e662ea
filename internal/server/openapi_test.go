package server_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/wellness/cms/admin"
	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/openapi"
	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/internal/testenv"
)

// TestOpenAPICoversEveryRoute compares the router's routes with the
// document's paths and methods, both ways: a route the document does not
// describe fails, and so does an operation nothing serves. Each
// operation's security must match its route's access rule. /metrics is
// routed on the main listener only with CMS_METRICS_TOKEN, so the server
// here has one.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	s := testenv.NewServer(t, func(o *server.Options) { o.MetricsToken = strings.Repeat("m", 32) })
	routed := map[string]bool{}
	for _, r := range s.Engine().Routes() {
		if !admin.Owns(r.Path) { // the web UI's pages are not the API
			routed[r.Method+" "+openAPIPath(r.Path)] = true
		}
	}
	d, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(d.JSON(), &doc); err != nil {
		t.Fatal(err)
	}
	described := map[string]bool{}
	bearer := map[string]bool{} // operations whose security is the access token
	for path, item := range doc.Paths {
		for method, raw := range item {
			// A path item's other members (parameters, summary, ...)
			// are not operations.
			m := strings.ToUpper(method)
			if !slices.Contains(httpMethods, m) {
				continue
			}
			described[m+" "+path] = true
			var op struct {
				Security []map[string][]string `json:"security"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", m, path, err)
			}
			bearer[m+" "+path] = len(op.Security) == 1 && len(op.Security[0]) == 1 && op.Security[0]["bearerAuth"] != nil
		}
	}
	// The document's security follows each route's access rule: a route
	// that needs a signed-in user takes the bearer access token, a public
	// one does not (it may check a token of its own, as /metrics and a
	// preview do).
	for _, r := range s.Engine().Routes() {
		a, ok := s.Rules().Lookup(r.Method, r.Path)
		op := r.Method + " " + openAPIPath(r.Path)
		if ok && described[op] && (a == auth.Public) == bearer[op] {
			t.Errorf("%s is %s: its security in the document must be %s", op, a, map[bool]string{true: "none", false: "bearerAuth alone"}[a == auth.Public])
		}
	}
	t.Logf("%d routes, %d operations", len(routed), len(described))
	for _, r := range sortedKeys(routed) {
		if !described[r] {
			t.Errorf("%s is routed but not in the OpenAPI document", r)
		}
	}
	for _, op := range sortedKeys(described) {
		if !routed[op] {
			t.Errorf("%s is in the OpenAPI document but not routed", op)
		}
	}
}

var httpMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"}

// openAPIPath writes a Gin route pattern as an OpenAPI path template:
// :id and a *rest catch-all become {id} and {rest}.
func openAPIPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if s != "" && (s[0] == ':' || s[0] == '*') {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestOpenAPIServed: the document is public, cacheable and revalidated
// by its ETag; like every route it refuses a query it does not take.
func TestOpenAPIServed(t *testing.T) {
	s := testenv.NewServer(t)
	got := s.Do(testenv.Request{Path: openapi.Path})
	if got.Status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", openapi.Path, got.Status, got.Body)
	}
	d, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Body) != string(d.JSON()) {
		t.Error("the body is not the embedded document")
	}
	etag := got.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || got.Header.Get("Cache-Control") != openapi.CacheControl ||
		!strings.HasPrefix(got.Header.Get("Content-Type"), "application/json") {
		t.Errorf("headers %v: want a strong ETag, Cache-Control %q and JSON", got.Header, openapi.CacheControl)
	}
	for _, tc := range []struct {
		name   string
		req    testenv.Request
		status int
		body   bool
	}{
		{"current ETag", testenv.Request{Path: openapi.Path, Header: map[string]string{"If-None-Match": etag}}, http.StatusNotModified, false},
		{"ETag in a list", testenv.Request{Path: openapi.Path, Header: map[string]string{"If-None-Match": `"x", ` + etag}}, http.StatusNotModified, false},
		{"another ETag", testenv.Request{Path: openapi.Path, Header: map[string]string{"If-None-Match": `"x"`}}, http.StatusOK, true},
		{"HEAD", testenv.Request{Method: http.MethodHead, Path: openapi.Path}, http.StatusOK, false},
		{"signed in", testenv.Request{Path: openapi.Path, Token: "not even a token"}, http.StatusOK, true},
		{"a query", testenv.Request{Path: openapi.Path + "?v=2"}, http.StatusBadRequest, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Do(tc.req)
			if r.Status != tc.status || (len(r.Body) > 0) != tc.body {
				t.Errorf("%d with %d bytes, want %d (body: %v)", r.Status, len(r.Body), tc.status, tc.body)
			}
			if r.Status < 400 && r.Header.Get("ETag") != etag {
				t.Errorf("ETag %q, want %q", r.Header.Get("ETag"), etag)
			}
		})
	}
}
