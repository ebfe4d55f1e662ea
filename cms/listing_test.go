package cms_test

import (
	"net/http"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/internal/testenv"
)

// TestListFollowsOtherInstances: the authoring list is answered from
// memory, so a draft written or changed through one instance must show in
// another's list within a poll of the change feed.
func TestListFollowsOtherInstances(t *testing.T) {
	db := testenv.OpenDB(t)
	keys := testenv.Keys(t)
	same := func(c *server.Options) { c.Keys = keys }
	a := testenv.NewServerOn(t, db, same)
	b := testenv.NewServerOn(t, db, same)
	token, _ := a.User(t, auth.Editor)

	draft := testenv.CreateArticle(t, a, token, map[string]any{"title": "Lymphatic drainage basics"})
	titles := func(s *testenv.Server, q string) []string {
		return testenv.ListField(t, s, token, "/api/v1/articles?"+q, "title")
	}
	testenv.Eventually(t, "the other instance lists the new draft", func() bool {
		got := titles(b, "q=lymphatic")
		return len(got) == 1 && got[0] == "Lymphatic drainage basics"
	})
	testenv.PatchArticle(t, a, token, draft, map[string]any{"title": "Manual lymphatic drainage"})
	testenv.Eventually(t, "the other instance lists the new title", func() bool {
		got := titles(b, "q=manual")
		return len(got) == 1 && got[0] == "Manual lymphatic drainage"
	})
	// And a change made through the second instance reaches the first.
	r := testenv.Call(t, b, token, "POST", "/api/v1/articles/"+draft.ID+"/submit", nil, "If-Match", testenv.ETag(2))
	testenv.WantStatus(t, r, http.StatusOK)
	testenv.Eventually(t, "the first instance lists it in review", func() bool {
		return len(titles(a, "status=in_review")) == 1
	})
}
