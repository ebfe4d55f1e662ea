package content_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// TestOneFold: a title in another script gets a slug of its folded words,
// and the same query in that script finds it in the authoring list and in
// the public search, which fold text the same way.
func TestOneFold(t *testing.T) {
	s, _ := newContentAPI(t)
	token, _ := s.User(t, auth.Editor)
	a := testenv.Publish(t, s, token, map[string]any{"title": "Массаж при хронической боли", "body": "<p>Тёплые руки.</p>"})
	testenv.Publish(t, s, token, map[string]any{"title": "Massage for chronic pain relief"})
	if a.Slug != "massazh-pri-khronicheskoi-boli" {
		t.Errorf("slug = %q, want massazh-pri-khronicheskoi-boli", a.Slug)
	}
	authoring := func(q string) string {
		t.Helper()
		return strings.Join(testenv.ListField(t, s, token, "/api/v1/articles?q="+url.QueryEscape(q), "slug"), ",")
	}
	public := func(q string) string {
		t.Helper()
		slugs, _ := listSlugs(t, s, "?q="+url.QueryEscape(q))
		return strings.Join(slugs, ",")
	}
	for _, q := range []string{"Массаж", "массаж боли", "ХРОНИЧЕСКОЙ", "massazh"} {
		if got := authoring(q); got != a.Slug {
			t.Errorf("authoring list q=%s: %q, want %q", q, got, a.Slug)
		}
		if got := public(q); got != a.Slug {
			t.Errorf("public search q=%s: %q, want %q", q, got, a.Slug)
		}
	}
}
