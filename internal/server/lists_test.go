package server_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// TestListsEndWithNullCursor: every list route answers the one list shape,
// {"items":[...],"nextCursor":null} on its last page, so one client loop
// pages them all.
func TestListsEndWithNullCursor(t *testing.T) {
	s := testenv.NewServer(t)
	token, _ := s.User(t, auth.Admin)
	a := testenv.CreateArticle(t, s, token, map[string]any{"title": "Massage for chronic pain relief", "body": "<p>x</p>"})
	testenv.PatchArticle(t, s, token, a, map[string]any{"summary": "Why it helps"})
	for _, path := range []string{
		"/api/v1/articles",
		"/api/v1/articles/" + a.ID + "/revisions",
		"/api/v1/products",
		"/api/v1/users",
		"/api/v1/webhooks",
		"/api/v1/content/articles",
	} {
		t.Run(path, func(t *testing.T) {
			r := testenv.Call(t, s, token, http.MethodGet, path, nil)
			testenv.WantStatus(t, r, http.StatusOK)
			var page map[string]json.RawMessage
			r.JSON(t, &page)
			if string(page["nextCursor"]) != "null" {
				t.Errorf("nextCursor = %s, want null: %s", page["nextCursor"], r.Body)
			}
			if len(page["items"]) == 0 || page["items"][0] != '[' {
				t.Errorf("items = %s, want an array", page["items"])
			}
		})
	}
}
