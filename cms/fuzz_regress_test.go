package cms_test

import (
	"net/http"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// TestIfMatchStrongExact is FuzzIfMatch's finding through the router: only
// the exact strong tag we send names a version. 1, "01", "+1" and a tag
// missing its closing quote used to be read as version 1.
func TestIfMatchStrongExact(t *testing.T) {
	s, _ := newAPI(t)
	token, _ := s.User(t, auth.Author)
	a := testenv.CreateArticle(t, s, token, map[string]any{"title": "Exact tags"})
	path := "/api/v1/articles/" + a.ID
	for _, h := range []string{`1`, `"01"`, `"+1"`, `"1`, `1"`, `""1""`, `W/"1"`} {
		r := testenv.Call(t, s, token, "PATCH", path, map[string]any{"summary": "changed by " + h}, "If-Match", h)
		testenv.WantStatus(t, r, http.StatusPreconditionFailed)
	}
	r := testenv.Call(t, s, token, "PATCH", path, map[string]any{"summary": "changed"}, "If-Match", ` "1" `)
	testenv.WantStatus(t, r, http.StatusOK)
	if b := testenv.ArticleOf(t, r); b.Version != 2 {
		t.Fatalf("version %d after one accepted patch", b.Version)
	}
}
