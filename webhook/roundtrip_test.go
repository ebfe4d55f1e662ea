package webhook_test

import (
	"net/http"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// TestHookRoundTrip: a hook fetched and sent back whole with one change
// is accepted; a changed member the server owns is refused by name, and
// every bad member is named in one answer. The last delivery's outcome
// changes without a new version, so any value of it is ignored.
func TestHookRoundTrip(t *testing.T) {
	s := testenv.NewServer(t)
	admin, _ := s.User(t, auth.Admin)
	created := s.Do(testenv.Request{Method: "POST", Path: "/api/v1/webhooks", Token: admin,
		Body: map[string]any{"url": "https://hooks.example/rebuild", "events": []string{eventPublished}}})
	testenv.WantStatus(t, created, http.StatusCreated)
	var hook struct{ ID string }
	created.JSON(t, &hook)
	path := "/api/v1/webhooks/" + hook.ID
	for _, e := range []testenv.Edit{
		{Field: "active", Value: false, ReadOnly: "id", Changed: "another"},
		{Field: "url", Value: "https://hooks.example/build", ReadOnly: "updatedAt", Changed: "2001-01-01T00:00:00Z"},
	} {
		t.Run(e.ReadOnly, func(t *testing.T) { testenv.RoundTrip(t, s, admin, http.MethodPatch, path, e) })
	}
	r := testenv.Call(t, s, admin, "PATCH", path, map[string]any{"lastStatus": "200", "lastAttemptAt": "2001-01-01T00:00:00Z"})
	testenv.WantStatus(t, r, http.StatusOK)
}
