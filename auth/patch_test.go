package auth_test

import (
	"context"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// TestUserMergePatch pins the RFC 7396 rules of PATCH /users/{id} through
// the real router: absent stays, a value replaces, and since every member
// of a user is required, null is refused on each, naming the member,
// instead of being read as "unchanged".
func TestUserMergePatch(t *testing.T) {
	s, _ := newServer(t)
	admin, _ := s.User(t, auth.Admin)
	tests := []struct {
		name   string
		patch  string
		status int
		field  string // for 400: the member the problem names
		msg    string // and its message
		want   func(u *auth.User) bool
	}{
		{"absent members stay", `{}`, 200, "", "", func(u *auth.User) bool { return u.Role == auth.Author && !u.Disabled }},
		{"a value replaces", `{"name":" New Name ","email":" NEW@Example.com "}`, 200, "", "",
			func(u *auth.User) bool { return u.Name == "New Name" && u.Email == "new@example.com" }},
		{"disable", `{"disabled":true}`, 200, "", "", func(u *auth.User) bool { return u.Disabled && u.SessionVersion == 2 }},
		{"null on email", `{"email":null}`, 400, "email", "cannot be cleared", nil},
		{"null on name", `{"name":null}`, 400, "name", "cannot be cleared", nil},
		{"null on role", `{"role":null}`, 400, "role", "cannot be cleared", nil},
		{"null on password", `{"password":null}`, 400, "password", "cannot be cleared", nil},
		{"null on disabled", `{"disabled":null}`, 400, "disabled", "cannot be cleared", nil},
		{"empty name", `{"name":""}`, 400, "name", "must be 1 to 100 characters", nil},
		{"wrong type", `{"disabled":"no"}`, 400, "disabled", "must be a boolean", nil},
		{"wrong type role", `{"role":{"$ne":"author"}}`, 400, "role", "must be a string", nil},
		{"unknown member", `{"passwordHash":"x"}`, 400, "passwordHash", "unknown field", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := s.NewUser(t, auth.Author)
			r := s.Do(testenv.Request{Method: "PATCH", Path: "/api/v1/users/" + u.ID, Token: admin, Body: tt.patch})
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.status, r.Body)
			}
			got, err := s.Services().Auth.Store().FindUserByID(context.Background(), u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == nil { // refused: nothing changed
				tt.want = func(g *auth.User) bool {
					return g.Email == u.Email && g.Name == u.Name && g.Role == u.Role && !g.Disabled &&
						g.PasswordHash == u.PasswordHash && g.SessionVersion == u.SessionVersion
				}
				r.WantField(t, tt.field, tt.msg)
			}
			if !tt.want(got) {
				t.Errorf("user after the patch: %+v", got)
			}
		})
	}
}
