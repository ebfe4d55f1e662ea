package admin_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see each 303 and where it points.
type browser struct {
	t    testing.TB
	s    *testenv.Server
	c    *http.Client
	User *auth.User
}

// page is an answer, with its body as text.
type page struct {
	Status int
	Header http.Header
	Body   string
}

func newBrowser(t testing.TB, s *testenv.Server) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, s: s, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// signIn makes a user of role and signs a new browser in as them through
// the sign-in form.
func signIn(t testing.TB, s *testenv.Server, role auth.Role) *browser {
	t.Helper()
	b := newBrowser(t, s)
	b.User = s.NewUser(t, role)
	r := b.post("/admin/login", url.Values{"email": {b.User.Email}, "password": {testenv.Password}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d\n%s", role, r.Status, r.Body)
	}
	return b
}

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return &page{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

func (b *browser) get(path string) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.s.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post sends a form as a same-origin browser would (Sec-Fetch-Site).
func (b *browser) post(path string, form url.Values, header ...string) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.s.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

// want fails the test unless the answer has status and holds every
// fragment.
func (p *page) want(t testing.TB, status int, fragments ...string) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status %d, want %d\n%.3000s", p.Status, status, p.Body)
	}
	for _, f := range fragments {
		if !strings.Contains(p.Body, f) {
			t.Fatalf("the page lacks %q\n%.5000s", f, p.Body)
		}
	}
}

// location is where a redirect points.
func (p *page) location() string { return p.Header.Get("Location") }

// cloneCookies is a second browser holding the same cookies, as if they
// had been copied.
func (b *browser) cloneCookies() *browser {
	b.t.Helper()
	c := newBrowser(b.t, b.s)
	u, _ := url.Parse(b.s.URL)
	c.c.Jar.SetCookies(u, b.c.Jar.Cookies(u))
	c.User = b.User
	return c
}

// postRaw is post without the same-origin Sec-Fetch-Site header, as an
// old browser or a script would send.
func (b *browser) postRaw(path string, form url.Values, header ...string) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.s.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

// mustPrincipal is the browser's user as the services see them.
func mustPrincipal(t testing.TB, s *testenv.Server, b *browser) *auth.Principal {
	t.Helper()
	return &auth.Principal{UserID: b.User.ID, Name: b.User.Name, Email: b.User.Email, Role: b.User.Role}
}

func listAll() cms.ListQuery { return cms.ListQuery{Limit: 100} }
