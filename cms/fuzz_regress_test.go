package cms_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
)

// TestIfMatchStrongExact is FuzzIfMatch's finding through the router: only
// the exact strong tag we send names a version. 1, "01", "+1" and a tag
// missing its closing quote used to be read as version 1.
func TestIfMatchStrongExact(t *testing.T) {
	s, _ := newAPI(t)
	token, _ := s.User(t, auth.Author)
	a := createArticle(t, s, token, map[string]any{"title": "Exact tags"})
	path := "/api/v1/articles/" + a.ID
	for _, h := range []string{`1`, `"01"`, `"+1"`, `"1`, `1"`, `""1""`, `W/"1"`} {
		r := do(t, s, token, "PATCH", path, map[string]any{"summary": "changed by " + h}, "If-Match", h)
		wantStatus(t, r, http.StatusPreconditionFailed)
	}
	r := do(t, s, token, "PATCH", path, map[string]any{"summary": "changed"}, "If-Match", ` "1" `)
	wantStatus(t, r, http.StatusOK)
	if b := article(t, r); b.Version != 2 {
		t.Fatalf("version %d after one accepted patch", b.Version)
	}
}

// TestContentCursorExact is FuzzContentCursor's finding through the router:
// a cursor decodes only as the API wrote it. Other spellings of the same
// position ("-0", leading zeros, a line break in the base64) are 400.
func TestContentCursorExact(t *testing.T) {
	s, _ := newContentAPI(t)
	token, _ := s.User(t, auth.Editor)
	for _, title := range []string{"First of two", "Second of two"} {
		publish(t, s, token, map[string]any{"title": title})
	}
	_, next := listSlugs(t, s, "?limit=1")
	if next == "" {
		t.Fatal("no next cursor")
	}
	raw, err := base64.RawURLEncoding.DecodeString(next)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(string(raw), ".") // version, filters, score, ms, id
	respell := func(i int, v string) string {
		p := append([]string{}, parts...)
		p[i] = v
		return base64.RawURLEncoding.EncodeToString([]byte(strings.Join(p, ".")))
	}
	for name, cur := range map[string]string{
		"score with a sign":    respell(2, "+"+parts[2]),
		"score with a zero":    respell(2, "0"+parts[2]),
		"ms with a zero":       respell(3, "0"+parts[3]),
		"ms with a sign":       respell(3, "+"+parts[3]),
		"line break in base64": next[:4] + "\n" + next[4:],
	} {
		r := get(t, s, "/api/v1/content/articles?limit=1&cursor="+url.QueryEscape(cur))
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", name, r.Status)
		}
	}
	if slugs, _ := listSlugs(t, s, "?limit=1&cursor="+url.QueryEscape(next)); len(slugs) != 1 {
		t.Fatalf("the API's own cursor: %v", slugs)
	}
}
