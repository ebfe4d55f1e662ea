package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
	"github.com/wellness/cms/internal/web"
)

func TestRootRedirectsToAdmin(t *testing.T) {
	s := testenv.NewServer(t)
	b := newBrowser(t, s)
	r := b.get("/")
	if r.Status != http.StatusFound || r.location() != "/admin/" {
		t.Fatalf("GET /: %d %q", r.Status, r.location())
	}
	r = b.get("/admin/articles?status=draft")
	if r.Status != http.StatusSeeOther || r.location() != "/admin/login?next="+url.QueryEscape("/admin/articles?status=draft") {
		t.Fatalf("signed out: %d %q", r.Status, r.location())
	}
	b.get("/admin/login").want(t, http.StatusOK, `<label for="email">Email</label>`, `<label for="password">Password</label>`, ">Sign in<")
}

func TestSignInHeaders(t *testing.T) {
	s := testenv.NewServer(t)
	b := newBrowser(t, s)
	b.User = s.NewUser(t, auth.Editor)
	r := b.post("/admin/login", url.Values{"email": {b.User.Email}, "password": {testenv.Password}, "next": {"/admin/media"}})
	if r.Status != http.StatusSeeOther || r.location() != "/admin/media" {
		t.Fatalf("sign in: %d %q", r.Status, r.location())
	}
	cookie := r.Header.Get("Set-Cookie")
	for _, want := range []string{"cms_session=", "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("Set-Cookie %q lacks %s", cookie, want)
		}
	}
	p := b.get("/admin/articles")
	p.want(t, http.StatusOK)
	csp := p.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %s", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP %q allows inline code", csp)
	}
	if p.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", p.Header.Get("Cache-Control"))
	}
}

func TestSignInRefusals(t *testing.T) {
	s := testenv.NewServer(t)
	u := s.NewUser(t, auth.Author)
	for _, tc := range []struct {
		name  string
		form  url.Values
		want  int
		shows string
	}{
		{"wrong password", url.Values{"email": {u.Email}, "password": {"not the password at all"}}, http.StatusUnauthorized, "incorrect"},
		{"unknown email", url.Values{"email": {"nobody@example.com"}, "password": {testenv.Password}}, http.StatusUnauthorized, "incorrect"},
		{"empty", url.Values{}, http.StatusUnauthorized, "incorrect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t, s)
			r := b.post("/admin/login", tc.form)
			r.want(t, tc.want, tc.shows, `role="alert"`)
			if r.Header.Get("Set-Cookie") != "" {
				t.Errorf("a refused sign-in set a cookie: %s", r.Header.Get("Set-Cookie"))
			}
		})
	}
}

// TestSignInNextStaysLocal: the page a sign-in returns to is one of ours,
// whatever the link said.
func TestSignInNextStaysLocal(t *testing.T) {
	s := testenv.NewServer(t)
	u := s.NewUser(t, auth.Author)
	for _, next := range []string{"https://evil.example/", "//evil.example/admin/", "/admin/\\evil", "/api/v1/articles", "javascript:alert(1)", "/admin/../../x"} {
		b := newBrowser(t, s)
		r := b.post("/admin/login", url.Values{"email": {u.Email}, "password": {testenv.Password}, "next": {next}})
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.location(), "/admin/") || strings.Contains(r.location(), "evil") {
			t.Errorf("next=%q: %d %q", next, r.Status, r.location())
		}
	}
}

func TestCrossOriginPostRefused(t *testing.T) {
	s := testenv.NewServer(t)
	b := signIn(t, s, auth.Author)
	for _, h := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site"},
		{"Origin", "https://evil.example"},
	} {
		// postRaw: no Sec-Fetch-Site of its own, so an Origin alone is
		// compared with the Host.
		b.postRaw("/admin/articles", articleForm("0", "Planted by another site", "<p>x</p>"), h...).
			want(t, http.StatusForbidden, "another site")
	}
	list, _, err := s.Services().Articles.List(context.Background(), mustPrincipal(t, s, b), listAll())
	if err != nil || len(list) != 0 {
		t.Fatalf("a refused post created %d articles (err %v)", len(list), err)
	}
	// Logging out from another site is refused too.
	b.post("/admin/logout", nil, "Sec-Fetch-Site", "cross-site").want(t, http.StatusForbidden)
	b.get("/admin/articles").want(t, http.StatusOK)
}

func TestLogoutEndsTheSession(t *testing.T) {
	s := testenv.NewServer(t)
	b := signIn(t, s, auth.Author)
	copyOf := b.cloneCookies()
	r := b.post("/admin/logout", nil)
	if r.Status != http.StatusSeeOther || r.location() != "/admin/login?done=signedout" {
		t.Fatalf("logout: %d %q", r.Status, r.location())
	}
	if r := b.get("/admin/articles"); r.Status != http.StatusSeeOther {
		t.Fatalf("after logout: %d", r.Status)
	}
	// A copy of the cookie taken before is dead too: the login ended.
	if r := copyOf.get("/admin/articles"); r.Status != http.StatusSeeOther {
		t.Fatalf("a copied cookie after logout: %d", r.Status)
	}
}

func TestDisableEndsTheSession(t *testing.T) {
	s := testenv.NewServer(t)
	b := signIn(t, s, auth.Author)
	b.get("/admin/articles").want(t, http.StatusOK)
	if _, err := s.Services().Auth.UpdateUser(context.Background(), b.User.ID, auth.UserUpdate{Disabled: web.Some(true)}); err != nil {
		t.Fatal(err)
	}
	if r := b.get("/admin/articles"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.location(), "/admin/login") {
		t.Fatalf("a disabled user's page: %d %q", r.Status, r.location())
	}
}

func TestChangePassword(t *testing.T) {
	s := testenv.NewServer(t)
	b := signIn(t, s, auth.Author)
	other := b.cloneCookies() // the same user's session, as in another browser
	b.get("/admin/account").want(t, http.StatusOK, "Change password", `<label for="currentPassword">`)

	const next = "a brand new long password"
	b.post("/admin/account/password", url.Values{"currentPassword": {"wrong wrong wrong"}, "newPassword": {next}, "confirmPassword": {next}}).
		want(t, http.StatusBadRequest, "not correct")
	b.post("/admin/account/password", url.Values{"currentPassword": {testenv.Password}, "newPassword": {next}, "confirmPassword": {"typo"}}).
		want(t, http.StatusBadRequest, "do not match")
	r := b.post("/admin/account/password", url.Values{"currentPassword": {testenv.Password}, "newPassword": {next}, "confirmPassword": {next}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("change: %d\n%s", r.Status, r.Body)
	}
	// This browser is signed in again with the new password; every other
	// session ended.
	b.get("/admin/account?done=password").want(t, http.StatusOK, "Password changed.")
	if r := other.get("/admin/articles"); r.Status != http.StatusSeeOther {
		t.Fatalf("the other session after a password change: %d", r.Status)
	}
	if _, err := s.Services().Auth.Login(context.Background(), b.User.Email, next, "127.0.0.1"); err != nil {
		t.Fatalf("sign in with the new password: %v", err)
	}
}

func TestStaticAssets(t *testing.T) {
	s := testenv.NewServer(t)
	b := signIn(t, s, auth.Author)
	p := b.get("/admin/articles/new")
	for _, name := range []string{"admin.css", "admin.js", "editor.js"} {
		i := strings.Index(p.Body, "/admin/static/"+name+"?v=")
		if i < 0 {
			t.Fatalf("the editor does not load %s", name)
		}
		src := p.Body[i:]
		src = src[:strings.IndexByte(src, '"')]
		r := b.get(src)
		r.want(t, http.StatusOK)
		if !strings.Contains(r.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: Cache-Control %q", name, r.Header.Get("Cache-Control"))
		}
	}
	newBrowser(t, s).get("/admin/static/nothing.js").want(t, http.StatusNotFound)
}
