package admin_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// oneTime finds the one-time password a page shows.
var oneTime = regexp.MustCompile(`<input id="onetime" value="([^"]+)" readonly>`)

var versionField = regexp.MustCompile(`name="version" value="(\d+)"`)

// formVersionOf is the version the page's first form was loaded at.
func formVersionOf(t *testing.T, p *page) string {
	t.Helper()
	m := versionField.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no version field\n%.3000s", p.Body)
	}
	return m[1]
}

func shownPassword(t *testing.T, p *page) string {
	t.Helper()
	m := oneTime.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no one-time password shown\n%.3000s", p.Body)
	}
	return m[1]
}

// canLogIn reports whether the API takes the email and password.
func canLogIn(t *testing.T, s *testenv.Server, email, password string) bool {
	t.Helper()
	r := testenv.Call(t, s, "", http.MethodPost, "/api/v1/auth/login", map[string]string{"email": email, "password": password})
	return r.Status == http.StatusOK
}

func apiUser(t *testing.T, s *testenv.Server, token, id string) auth.UserView {
	t.Helper()
	r := testenv.Call(t, s, token, http.MethodGet, "/api/v1/users/"+id, nil)
	testenv.WantStatus(t, r, http.StatusOK)
	var u auth.UserView
	r.JSON(t, &u)
	return u
}

func TestUsersAccess(t *testing.T) {
	s := testenv.NewServer(t)
	target := s.NewUser(t, auth.Author)
	for _, tc := range []struct {
		role   auth.Role
		status int
	}{
		{auth.Contributor, http.StatusForbidden},
		{auth.Author, http.StatusForbidden},
		{auth.Editor, http.StatusForbidden},
		{auth.Admin, http.StatusOK},
	} {
		t.Run(string(tc.role), func(t *testing.T) {
			b := signIn(t, s, tc.role)
			for _, path := range []string{"/admin/users", "/admin/users/" + target.ID} {
				r := b.get(path)
				r.want(t, tc.status)
				if tc.status == http.StatusForbidden {
					r.want(t, tc.status, "<h1>Forbidden</h1>")
				}
			}
			if tc.status == http.StatusForbidden {
				b.post("/admin/users/"+target.ID+"/disabled", url.Values{"version": {"0"}, "disabled": {"true"}}).
					want(t, http.StatusForbidden, "<h1>Forbidden</h1>")
			}
		})
	}
	if r := signIn(t, s, auth.Admin).get("/admin/users"); !strings.Contains(r.Body, target.Email) {
		t.Fatal("the list lacks a user")
	}
}

func TestUserCreate(t *testing.T) {
	s := testenv.NewServer(t)
	token, _ := s.User(t, auth.Admin)
	b := signIn(t, s, auth.Admin)
	b.get("/admin/users").want(t, http.StatusOK, "<h1>Users</h1>", `<th scope="col">Email</th>`, b.User.Email,
		`<label for="new-email">Email</label>`, `<label for="new-role">Role</label>`)

	// Refused: the form comes back with what was typed.
	b.post("/admin/users", url.Values{"email": {"not an address"}, "name": {"Dana Kim"}, "role": {"author"}, "password": {"a long enough password"}}).
		want(t, http.StatusBadRequest, `value="not an address"`, `value="Dana Kim"`, "must be an email address")

	r := b.post("/admin/users", url.Values{"email": {"dana@example.com"}, "name": {"Dana Kim"}, "role": {"editor"}, "password": {"a long enough password"}})
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.location(), "/admin/users/") {
		t.Fatalf("create: %d %q\n%.2000s", r.Status, r.location(), r.Body)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(r.location(), "/admin/users/"), "?done=created")
	if u := apiUser(t, s, token, id); u.Email != "dana@example.com" || u.Role != auth.Editor {
		t.Fatalf("API: %+v", u)
	}
	if !canLogIn(t, s, "dana@example.com", "a long enough password") {
		t.Fatal("the new user cannot sign in")
	}

	// A generated password is shown on the answer, once.
	r = b.post("/admin/users", url.Values{"email": {"lee@example.com"}, "name": {"Lee"}, "role": {"author"}, "generate": {"on"}})
	r.want(t, http.StatusCreated, "it is not shown again")
	pw := shownPassword(t, r)
	if !canLogIn(t, s, "lee@example.com", pw) {
		t.Fatal("the generated password does not work")
	}
	if strings.Contains(b.get("/admin/users").Body, pw) {
		t.Fatal("the password is shown again")
	}
}

func TestUserRoleDisableReset(t *testing.T) {
	s := testenv.NewServer(t)
	admin := signIn(t, s, auth.Admin)
	user := signIn(t, s, auth.Author)
	token, _ := s.User(t, auth.Admin)
	path := "/admin/users/" + user.User.ID

	admin.get(path).want(t, http.StatusOK, `<label for="role">Role</label>`, ">Disable</button>", `name="version" value="0"`)

	// Disabling ends the user's session at once: their next page load is
	// the sign-in page.
	user.get("/admin/articles").want(t, http.StatusOK)
	r := admin.post(path+"/disabled", url.Values{"version": {"0"}, "disabled": {"true"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("disable: %d\n%.2000s", r.Status, r.Body)
	}
	if got := apiUser(t, s, token, user.User.ID); !got.Disabled {
		t.Fatal("not disabled")
	}
	r = user.get("/admin/articles")
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.location(), "/admin/login") {
		t.Fatalf("a disabled user's page: %d %q", r.Status, r.location())
	}

	// A stale version is refused, the page shows why.
	admin.post(path+"/disabled", url.Values{"version": {"0"}, "disabled": {"false"}}).
		want(t, http.StatusPreconditionFailed, "Someone else changed this user")
	if r = admin.post(path+"/disabled", url.Values{"version": {"1"}, "disabled": {"false"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("enable: %d\n%.2000s", r.Status, r.Body)
	}

	if r = admin.post(path+"/role", url.Values{"version": {"2"}, "role": {"editor"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("role: %d\n%.2000s", r.Status, r.Body)
	}
	if got := apiUser(t, s, token, user.User.ID); got.Role != auth.Editor || got.Disabled {
		t.Fatalf("after role change: %+v", got)
	}
	admin.post(path+"/role", url.Values{"version": {"3"}, "role": {"boss"}}).
		want(t, http.StatusBadRequest, "must be one of contributor, author, editor, admin")

	// A new password: typed (too short is refused), or generated and shown once.
	admin.post(path+"/password", url.Values{"version": {"3"}, "password": {"short"}}).
		want(t, http.StatusBadRequest, "at least 12 characters")
	r = admin.post(path+"/password", url.Values{"version": {"3"}, "generate": {"on"}})
	r.want(t, http.StatusOK, "One-time password")
	pw := shownPassword(t, r)
	if !canLogIn(t, s, user.User.Email, pw) || canLogIn(t, s, user.User.Email, testenv.Password) {
		t.Fatal("the reset password is not the one that works")
	}
}

// The service keeps an active admin: the last one can be neither demoted
// nor disabled, and the page says so.
func TestLastAdmin(t *testing.T) {
	s := testenv.NewServer(t)
	admin := signIn(t, s, auth.Admin)
	path := "/admin/users/" + admin.User.ID
	admin.post(path+"/role", url.Values{"version": {"0"}, "role": {"editor"}}).
		want(t, http.StatusConflict, "last active admin")
	// The refused change was made and undone: a version of its own.
	v := formVersionOf(t, admin.get(path))
	admin.post(path+"/disabled", url.Values{"version": {v}, "disabled": {"true"}}).
		want(t, http.StatusConflict, "last active admin")
	admin.get("/admin/users").want(t, http.StatusOK)
}
