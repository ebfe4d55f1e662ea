package auth_test

import (
	"net/http"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// TestUserRoundTrip: a user fetched and sent back whole with one change
// is accepted; a changed id or timestamp is refused by name, and every
// bad member is named in one answer.
func TestUserRoundTrip(t *testing.T) {
	s, _ := newServer(t)
	admin, _ := s.User(t, auth.Admin)
	_, id := s.User(t, auth.Author)
	path := "/api/v1/users/" + id
	for _, e := range []testenv.Edit{
		{Field: "name", Value: "Round Trip", ReadOnly: "id", Changed: "000000000000000000000000"},
		{Field: "role", Value: "editor", ReadOnly: "createdAt", Changed: "2001-01-01T00:00:00Z"},
		{Field: "disabled", Value: true, ReadOnly: "updatedAt", Changed: "2001-01-01T00:00:00Z"},
	} {
		t.Run(e.ReadOnly, func(t *testing.T) { testenv.RoundTrip(t, s, admin, http.MethodPatch, path, e) })
	}
}
