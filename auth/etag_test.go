package auth_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// TestUserETags: a user carries an ETag on GET and on every write answer;
// PATCH and DELETE with a stale If-Match are 412 saying the current one,
// with the current one they succeed; If-None-Match is 304. A user stored
// before versions existed (testenv.NewUser stores none) works the same.
func TestUserETags(t *testing.T) {
	s, _ := newServer(t)
	admin, _ := s.User(t, auth.Admin)
	created := s.Do(testenv.Request{Method: "POST", Path: "/api/v1/users", Token: admin,
		Body: map[string]any{"email": "etag@example.com", "name": "E Tag", "role": "author", "password": testenv.Password}})
	testenv.WantStatus(t, created, http.StatusCreated)
	if got := created.Header.Get("ETag"); got != `"1"` {
		t.Errorf("create ETag = %q, want \"1\"", got)
	}
	var fresh struct{ ID string }
	created.JSON(t, &fresh)
	legacy := s.NewUser(t, auth.Editor)

	tests := []struct {
		name, id, method string
		body             any
	}{
		{"PATCH", fresh.ID, "PATCH", map[string]any{"name": "Renamed"}},
		{"PATCH unversioned", legacy.ID, "PATCH", map[string]any{"name": "Renamed too"}},
		{"DELETE", fresh.ID, "DELETE", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := "/api/v1/users/" + tc.id
			ok := testenv.Conditional(t, s, admin, tc.method, path, tc.body)
			if tc.method == "DELETE" {
				testenv.WantStatus(t, ok, http.StatusNoContent)
				return
			}
			testenv.WantStatus(t, ok, http.StatusOK)
		})
	}
}

// TestUserTimestamps: the create and PATCH answers show the times GET
// shows (milliseconds, UTC), not the clock's nanoseconds.
func TestUserTimestamps(t *testing.T) {
	s, _ := newServer(t)
	admin, _ := s.User(t, auth.Admin)
	created := s.Do(testenv.Request{Method: "POST", Path: "/api/v1/users", Token: admin,
		Body: map[string]any{"email": "times@example.com", "name": "Times", "role": "author", "password": testenv.Password}})
	testenv.WantStatus(t, created, http.StatusCreated)
	var c map[string]any
	created.JSON(t, &c)
	path := "/api/v1/users/" + c["id"].(string)
	patched := s.Do(testenv.Request{Method: "PATCH", Path: path, Token: admin, Body: map[string]any{"name": "Later"}})
	testenv.WantStatus(t, patched, http.StatusOK)
	var p, g map[string]any
	patched.JSON(t, &p)
	s.Do(testenv.Request{Path: path, Token: admin}).JSON(t, &g)
	if c["createdAt"] != g["createdAt"] || p["updatedAt"] != g["updatedAt"] {
		t.Errorf("create %v/%v, patch %v, GET %v/%v", c["createdAt"], c["updatedAt"], p["updatedAt"], g["createdAt"], g["updatedAt"])
	}
	if ts, _ := g["createdAt"].(string); !strings.HasSuffix(ts, "Z") || len(ts) > len("2006-01-02T15:04:05.000Z") {
		t.Errorf("createdAt %q is not UTC with at most milliseconds", ts)
	}
}
