package content_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// TestContentCursorExact is FuzzContentCursor's finding through the router:
// a cursor decodes only as the API wrote it. Other spellings of the same
// position (padding, a line break in the base64, bytes left over) are 400.
func TestContentCursorExact(t *testing.T) {
	s, _ := newContentAPI(t)
	token, _ := s.User(t, auth.Editor)
	for _, title := range []string{"First of two", "Second of two"} {
		testenv.Publish(t, s, token, map[string]any{"title": title})
	}
	_, next := listSlugs(t, s, "?limit=1")
	if next == "" {
		t.Fatal("no next cursor")
	}
	raw, err := base64.RawURLEncoding.DecodeString(next)
	if err != nil {
		t.Fatal(err)
	}
	for name, cur := range map[string]string{
		"a byte left over":     base64.RawURLEncoding.EncodeToString(append(raw, 0)),
		"padded base64":        base64.URLEncoding.EncodeToString(raw),
		"line break in base64": next[:4] + "\n" + next[4:],
		"standard base64":      strings.NewReplacer("-", "+", "_", "/").Replace(next) + "+/",
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
