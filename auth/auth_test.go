package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/argon2"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func newServer(t *testing.T) (*testenv.Server, *testenv.Clock) {
	clk := testenv.NewClock(time.Now().UTC())
	s := testenv.NewServer(t, func(c *server.Options) { c.Now = clk.Now })
	return s, clk
}

type pair struct {
	AccessToken  string `json:"accessToken"`
	TokenType    string `json:"tokenType"`
	ExpiresIn    int    `json:"expiresIn"`
	RefreshToken string `json:"refreshToken"`
	User         struct {
		ID, Email, Name, Role string
	} `json:"user"`
}

func login(t *testing.T, s *testenv.Server, email, password string) (*testenv.Response, pair) {
	t.Helper()
	r := s.Do(testenv.Request{Method: "POST", Path: "/api/v1/auth/login",
		Body: map[string]string{"email": email, "password": password}})
	var p pair
	if r.Status == 200 {
		r.JSON(t, &p)
	}
	return r, p
}

func mustLogin(t *testing.T, s *testenv.Server, email, password string) pair {
	t.Helper()
	r, p := login(t, s, email, password)
	if r.Status != 200 {
		t.Fatalf("login %s: status %d %s", email, r.Status, r.Body)
	}
	return p
}

func refresh(s *testenv.Server, token string) *testenv.Response {
	return s.Do(testenv.Request{Method: "POST", Path: "/api/v1/auth/refresh", Body: map[string]string{"refreshToken": token}})
}

func me(s *testenv.Server, token string) *testenv.Response {
	return s.Do(testenv.Request{Path: "/api/v1/auth/me", Token: token})
}

func TestLoginAndMe(t *testing.T) {
	s, _ := newServer(t)
	u := s.NewUser(t, auth.Editor)
	r, p := login(t, s, "  "+strings.ToUpper(u.Email)+" ", testenv.Password)
	if r.Status != 200 {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	if p.TokenType != "Bearer" || p.ExpiresIn != 900 || p.AccessToken == "" || p.RefreshToken == "" {
		t.Errorf("login answer incomplete: %+v", p)
	}
	if p.User.ID != u.ID || p.User.Email != u.Email || p.User.Role != "editor" {
		t.Errorf("login user = %+v", p.User)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("token response Cache-Control = %q", r.Header.Get("Cache-Control"))
	}
	for _, leak := range []string{"passwordHash", "argon2", "sessionVersion"} {
		if strings.Contains(string(r.Body), leak) {
			t.Errorf("login response contains %q", leak)
		}
	}
	mr := me(s, p.AccessToken)
	if mr.Status != 200 || !strings.Contains(string(mr.Body), u.Email) || strings.Contains(string(mr.Body), "argon2") {
		t.Fatalf("me: %d %s", mr.Status, mr.Body)
	}
}

// TestLoginDoesNotRevealAccounts: unknown email, wrong password and a
// disabled account all get the same status and body.
func TestLoginDoesNotRevealAccounts(t *testing.T) {
	s, _ := newServer(t)
	u := s.NewUser(t, auth.Author)
	disabled := s.NewUser(t, auth.Author)
	admin, _ := s.User(t, auth.Admin)
	if r := s.Do(testenv.Request{Method: "PATCH", Path: "/api/v1/users/" + disabled.ID, Token: admin,
		Body: map[string]any{"disabled": true}}); r.Status != 200 {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	var bodies []string
	for _, c := range []struct{ email, pw string }{
		{"nobody@example.com", testenv.Password},
		{u.Email, "wrong password here"},
		{disabled.Email, testenv.Password},
	} {
		r, _ := login(t, s, c.email, c.pw)
		if r.Status != 401 {
			t.Fatalf("%s: status %d", c.email, r.Status)
		}
		p := r.Problem(t)
		delete(p, "requestId")
		b, _ := json.Marshal(p)
		bodies = append(bodies, string(b))
	}
	if bodies[0] != bodies[1] || bodies[1] != bodies[2] {
		t.Fatalf("login failures differ:\n%s\n%s\n%s", bodies[0], bodies[1], bodies[2])
	}
}

func TestForgedTokensAreRefused(t *testing.T) {
	s, _ := newServer(t)
	u := s.NewUser(t, auth.Admin)
	p := mustLogin(t, s, u.Email, testenv.Password)
	now := time.Now()
	claims := func(mod func(*auth.Claims)) auth.Claims {
		c := auth.Claims{RegisteredClaims: jwt.RegisteredClaims{
			Issuer: "wellness-cms", Subject: u.ID, Audience: jwt.ClaimStrings{"wellness-cms-api"},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute)),
		}, Role: auth.Admin, SV: u.SessionVersion}
		if mod != nil {
			mod(&c)
		}
		return c
	}
	forge := func(key []byte, kid string, c auth.Claims) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
		tok.Header["kid"] = kid
		out, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	guessed := []byte(strings.Repeat("g", 32))
	none := jwt.NewWithClaims(jwt.SigningMethodNone, claims(nil))
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	parts := strings.Split(p.AccessToken, ".")
	kid := func() string {
		tok, _, _ := jwt.NewParser().ParseUnverified(p.AccessToken, &auth.Claims{})
		return tok.Header["kid"].(string)
	}()

	tests := map[string]string{
		"alg none":                noneTok,
		"guessed key, real kid":   forge(guessed, kid, claims(nil)),
		"guessed key, its kid":    forge(guessed, auth.KeyID(guessed), claims(nil)),
		"tampered payload":        parts[0] + "." + parts[1][:len(parts[1])-2] + "x" + parts[1][len(parts[1])-1:] + "." + parts[2],
		"truncated signature":     parts[0] + "." + parts[1] + "." + parts[2][:10],
		"refresh token as bearer": p.RefreshToken,
		"100 KB header":           strings.Repeat("a", 100<<10),
		"empty bearer":            "",
	}
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			r := s.Do(testenv.Request{Path: "/api/v1/users", Header: map[string]string{"Authorization": "Bearer " + tok}})
			if r.Status != 401 {
				t.Fatalf("status %d, want 401: %s", r.Status, r.Body)
			}
			r.Problem(t)
			if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
			}
		})
	}
	for _, h := range []string{"Basic dXNlcjpwYXNz", p.AccessToken, "Bearer"} {
		if r := s.Do(testenv.Request{Path: "/api/v1/auth/me", Header: map[string]string{"Authorization": h}}); r.Status != 401 {
			t.Errorf("Authorization %.20q: status %d, want 401", h, r.Status)
		}
	}
	if r := me(s, p.AccessToken); r.Status != 200 {
		t.Fatalf("the genuine token stopped working: %d", r.Status)
	}
}

// TestExpiredAccessToken: an expired token gets a challenge that says so,
// so the client knows to refresh; a bad token and a missing one do not.
func TestExpiredAccessToken(t *testing.T) {
	s, clk := newServer(t)
	u := s.NewUser(t, auth.Author)
	p := mustLogin(t, s, u.Email, testenv.Password)
	parts := strings.Split(p.AccessToken, ".")
	tampered := parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-4] + "AAAA"
	clk.Advance(AccessTokenTTLPlusLeeway)
	tests := []struct {
		name, authorization, want string
	}{
		{"expired", "Bearer " + p.AccessToken, `Bearer error="invalid_token", error_description="the access token expired"`},
		{"expired and tampered", "Bearer " + tampered, `Bearer error="invalid_token"`},
		{"garbage", "Bearer not-a-token", `Bearer error="invalid_token"`},
		{"missing", "", `Bearer realm="cms"`},
		{"another scheme", "Basic dXNlcjpwYXNz", `Bearer realm="cms"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.Do(testenv.Request{Path: "/api/v1/auth/me", Header: map[string]string{"Authorization": tt.authorization}})
			if r.Status != 401 {
				t.Fatalf("status %d, want 401", r.Status)
			}
			r.Problem(t)
			if got := r.Header.Get("WWW-Authenticate"); got != tt.want {
				t.Fatalf("WWW-Authenticate = %q, want %q", got, tt.want)
			}
		})
	}
}

// AccessTokenTTLPlusLeeway is past an access token's life and the
// clock-skew allowance.
const AccessTokenTTLPlusLeeway = auth.AccessTokenTTL + time.Minute

func TestRefreshRotationAndReuse(t *testing.T) {
	s, _ := newServer(t)
	u := s.NewUser(t, auth.Author)
	first := mustLogin(t, s, u.Email, testenv.Password)
	other := mustLogin(t, s, u.Email, testenv.Password) // a second device

	r := refresh(s, first.RefreshToken)
	if r.Status != 200 {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}
	var second pair
	r.JSON(t, &second)
	if second.RefreshToken == first.RefreshToken || second.AccessToken == "" {
		t.Fatal("refresh did not rotate")
	}
	if r := me(s, second.AccessToken); r.Status != 200 {
		t.Fatalf("new access token: %d", r.Status)
	}
	// The rotated token comes back: someone copied it. The whole login ends,
	// including the newest token, but not the other device's login.
	if r := refresh(s, first.RefreshToken); r.Status != 401 {
		t.Fatalf("reused refresh token: status %d, want 401", r.Status)
	}
	if r := refresh(s, second.RefreshToken); r.Status != 401 {
		t.Fatalf("descendant of a reused token: status %d, want 401", r.Status)
	}
	if r := refresh(s, other.RefreshToken); r.Status != 200 {
		t.Fatalf("another login was revoked too: %d", r.Status)
	}
	for _, bad := range []string{"", "short", strings.Repeat("A", 43), `{"$gt":""}`} {
		if r := refresh(s, bad); r.Status != 401 {
			t.Errorf("refresh %q: status %d, want 401", bad, r.Status)
		}
	}
}

func TestConcurrentRefreshOnlyOneWins(t *testing.T) {
	s, _ := newServer(t)
	u := s.NewUser(t, auth.Author)
	p := mustLogin(t, s, u.Email, testenv.Password)
	const n = 6
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- refresh(s, p.RefreshToken).Status
		}()
	}
	wg.Wait()
	close(codes)
	ok := 0
	for c := range codes {
		if c == 200 {
			ok++
		}
	}
	if ok > 1 {
		t.Fatalf("%d concurrent refreshes with one token succeeded, want at most 1", ok)
	}
}

func TestRefreshExpiry(t *testing.T) {
	s, clk := newServer(t)
	u := s.NewUser(t, auth.Author)
	p := mustLogin(t, s, u.Email, testenv.Password)
	clk.Advance(13 * 24 * time.Hour)
	r := refresh(s, p.RefreshToken)
	if r.Status != 200 {
		t.Fatalf("refresh after 13 idle days: %d", r.Status)
	}
	var next pair
	r.JSON(t, &next)
	clk.Advance(15 * 24 * time.Hour)
	if r := refresh(s, next.RefreshToken); r.Status != 401 {
		t.Fatalf("refresh after 15 idle days: %d, want 401", r.Status)
	}

	// Absolute limit: used every 10 days, the login still ends at 30.
	p = mustLogin(t, s, u.Email, testenv.Password)
	tok := p.RefreshToken
	for day := 10; day <= 30; day += 10 {
		clk.Advance(10 * 24 * time.Hour)
		r := refresh(s, tok)
		if day < 30 && r.Status != 200 {
			t.Fatalf("day %d: %d", day, r.Status)
		}
		if day == 30 {
			if r.Status != 401 {
				t.Fatalf("day 30: %d, want 401", r.Status)
			}
			break
		}
		var np pair
		r.JSON(t, &np)
		tok = np.RefreshToken
	}

	// Expired records are cleaned up in code (no TTL indexes here).
	if err := s.Services().Auth.Cleanup(context.Background()); err != nil {
		t.Fatal(err)
	}
	n, err := s.DB.Database.Collection("refresh_tokens").CountDocuments(context.Background(), map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 { // only the newest token of the last login is still within its idle window
		t.Fatalf("%d refresh tokens left after cleanup, want 1", n)
	}
}

func TestLogout(t *testing.T) {
	s, _ := newServer(t)
	u := s.NewUser(t, auth.Author)
	p := mustLogin(t, s, u.Email, testenv.Password)
	if r := s.Do(testenv.Request{Method: "POST", Path: "/api/v1/auth/logout", Body: map[string]string{"refreshToken": p.RefreshToken}}); r.Status != 204 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	if r := refresh(s, p.RefreshToken); r.Status != 401 {
		t.Fatalf("refresh after logout: %d", r.Status)
	}
	if r := s.Do(testenv.Request{Method: "POST", Path: "/api/v1/auth/logout", Body: map[string]string{"refreshToken": p.RefreshToken}}); r.Status != 204 {
		t.Fatalf("second logout: %d", r.Status)
	}
}

func TestPasswordChangeEndsEverySession(t *testing.T) {
	s, _ := newServer(t)
	u := s.NewUser(t, auth.Author)
	a := mustLogin(t, s, u.Email, testenv.Password)
	b := mustLogin(t, s, u.Email, testenv.Password)
	r := s.Do(testenv.Request{Method: "PUT", Path: "/api/v1/auth/password", Token: a.AccessToken,
		Body: map[string]string{"currentPassword": "not my password!", "newPassword": "a brand new passphrase"}})
	if r.Status != 400 || !strings.Contains(string(r.Body), "currentPassword") {
		t.Fatalf("wrong current password: %d %s", r.Status, r.Body)
	}
	r = s.Do(testenv.Request{Method: "PUT", Path: "/api/v1/auth/password", Token: a.AccessToken,
		Body: map[string]string{"currentPassword": testenv.Password, "newPassword": "short"}})
	if r.Status != 400 || !strings.Contains(string(r.Body), "newPassword") {
		t.Fatalf("weak new password: %d %s", r.Status, r.Body)
	}
	r = s.Do(testenv.Request{Method: "PUT", Path: "/api/v1/auth/password", Token: a.AccessToken,
		Body: map[string]string{"currentPassword": testenv.Password, "newPassword": "a brand new passphrase"}})
	if r.Status != 204 {
		t.Fatalf("change password: %d %s", r.Status, r.Body)
	}
	for _, tok := range []string{a.AccessToken, b.AccessToken} {
		if r := me(s, tok); r.Status != 401 {
			t.Errorf("access token after password change: %d", r.Status)
		}
	}
	for _, tok := range []string{a.RefreshToken, b.RefreshToken} {
		if r := refresh(s, tok); r.Status != 401 {
			t.Errorf("refresh token after password change: %d", r.Status)
		}
	}
	if r, _ := login(t, s, u.Email, testenv.Password); r.Status != 401 {
		t.Errorf("old password still works: %d", r.Status)
	}
	mustLogin(t, s, u.Email, "a brand new passphrase")
}

func TestDisableAndRoleChangeEndSessions(t *testing.T) {
	s, _ := newServer(t)
	admin, _ := s.User(t, auth.Admin)
	for _, change := range []map[string]any{{"disabled": true}, {"role": "contributor"}} {
		u := s.NewUser(t, auth.Editor)
		p := mustLogin(t, s, u.Email, testenv.Password)
		if r := s.Do(testenv.Request{Method: "PATCH", Path: "/api/v1/users/" + u.ID, Token: admin, Body: change}); r.Status != 200 {
			t.Fatalf("%v: %d %s", change, r.Status, r.Body)
		}
		if r := me(s, p.AccessToken); r.Status != 401 {
			t.Errorf("%v: access token still works (%d)", change, r.Status)
		}
		if r := refresh(s, p.RefreshToken); r.Status != 401 {
			t.Errorf("%v: refresh token still works (%d)", change, r.Status)
		}
	}
}

func TestLoginThrottling(t *testing.T) {
	s, clk := newServer(t)
	u := s.NewUser(t, auth.Author)
	for i := 1; i <= 5; i++ {
		r, _ := login(t, s, u.Email, "wrong password no. "+fmt.Sprint(i))
		if r.Status != 401 {
			t.Fatalf("failure %d: status %d", i, r.Status)
		}
	}
	// Locked now, even with the right password and a forged client address.
	r := s.Do(testenv.Request{Method: "POST", Path: "/api/v1/auth/login",
		Header: map[string]string{"X-Forwarded-For": "203.0.113.9"},
		Body:   map[string]string{"email": u.Email, "password": testenv.Password}})
	if r.Status != 429 || r.Header.Get("Retry-After") != "1" {
		t.Fatalf("locked account: %d Retry-After %q", r.Status, r.Header.Get("Retry-After"))
	}
	r.Problem(t)
	clk.Advance(2 * time.Second)
	if r, _ := login(t, s, u.Email, testenv.Password); r.Status != 200 {
		t.Fatalf("after the wait: %d", r.Status)
	}
	// The delay grows with each further failure.
	for i := 0; i < 9; i++ {
		login(t, s, u.Email, "wrong again and again")
		clk.Advance(time.Minute)
	}
	r, _ = login(t, s, u.Email, "wrong once more")
	r, _ = login(t, s, u.Email, testenv.Password)
	if r.Status != 429 {
		t.Fatalf("after many failures: %d", r.Status)
	}
	if ra := r.Header.Get("Retry-After"); ra == "1" || ra == "2" {
		t.Fatalf("Retry-After %s did not grow", ra)
	}
}

func TestLoginThrottlingPerAddress(t *testing.T) {
	s, _ := newServer(t)
	victim := s.NewUser(t, auth.Author)
	// One address guessing across many accounts (spoofed X-Forwarded-For is
	// ignored without trusted proxies).
	for i := 0; i < 21; i++ {
		s.Do(testenv.Request{Method: "POST", Path: "/api/v1/auth/login",
			Header: map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i)},
			Body:   map[string]string{"email": fmt.Sprintf("guess%d@example.com", i), "password": "some guess or other"}})
	}
	r, _ := login(t, s, victim.Email, testenv.Password)
	if r.Status != 429 {
		t.Fatalf("address with 21 failures: %d, want 429", r.Status)
	}
}

func TestUserRoutesNeedAdmin(t *testing.T) {
	s, _ := newServer(t)
	target := s.NewUser(t, auth.Contributor)
	routes := []struct{ method, path string }{
		{"GET", "/api/v1/users"},
		{"POST", "/api/v1/users"},
		{"GET", "/api/v1/users/" + target.ID},
		{"PATCH", "/api/v1/users/" + target.ID},
		{"DELETE", "/api/v1/users/" + target.ID},
	}
	tokens := map[string]string{"anonymous": ""}
	for _, r := range []auth.Role{auth.Contributor, auth.Author, auth.Editor} {
		tokens[string(r)], _ = s.User(t, r)
	}
	for _, rt := range routes {
		for who, tok := range tokens {
			t.Run(rt.method+" "+rt.path+" as "+who, func(t *testing.T) {
				r := s.Do(testenv.Request{Method: rt.method, Path: rt.path, Token: tok, Body: map[string]any{"name": "x"}})
				want := 403
				if tok == "" {
					want = 401
				}
				if r.Status != want {
					t.Fatalf("status %d, want %d", r.Status, want)
				}
				r.Problem(t)
			})
		}
	}
}

func TestUserCRUD(t *testing.T) {
	s, _ := newServer(t)
	admin, _ := s.User(t, auth.Admin)
	create := func(body any) *testenv.Response {
		return s.Do(testenv.Request{Method: "POST", Path: "/api/v1/users", Token: admin, Body: body})
	}
	r := create(map[string]string{"email": " Jane.Doe@Example.COM ", "name": "Jane Doe", "role": "author", "password": "massage therapist 2026"})
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var jane auth.UserView
	r.JSON(t, &jane)
	if jane.Email != "jane.doe@example.com" || r.Header.Get("Location") != "/api/v1/users/"+jane.ID {
		t.Fatalf("created %+v, Location %q", jane, r.Header.Get("Location"))
	}
	if strings.Contains(string(r.Body), "argon2") || strings.Contains(string(r.Body), "password") {
		t.Fatalf("response leaks a secret: %s", r.Body)
	}
	if r := create(map[string]string{"email": "JANE.DOE@example.com", "name": "Other", "role": "author", "password": "another long password"}); r.Status != 409 {
		t.Fatalf("duplicate email: %d", r.Status)
	}
	r = create(map[string]string{"email": "not-an-email", "name": "", "role": "root", "password": "password1234"})
	if r.Status != 400 {
		t.Fatalf("invalid user: %d", r.Status)
	}
	fields := map[string]bool{}
	for _, e := range r.Problem(t)["errors"].([]any) {
		fields[e.(map[string]any)["field"].(string)] = true
	}
	for _, f := range []string{"email", "name", "role", "password"} {
		if !fields[f] {
			t.Errorf("validation errors do not name %q: %v", f, fields)
		}
	}

	mustLogin(t, s, "jane.doe@example.com", "massage therapist 2026")

	if r := s.Do(testenv.Request{Path: "/api/v1/users/" + jane.ID, Token: admin}); r.Status != 200 {
		t.Fatalf("get: %d", r.Status)
	}
	r = s.Do(testenv.Request{Method: "PATCH", Path: "/api/v1/users/" + jane.ID, Token: admin, Body: map[string]string{"name": "Jane Q. Doe"}})
	if r.Status != 200 || !strings.Contains(string(r.Body), "Jane Q. Doe") {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}

	// Pagination: 2 users (admin, jane), one per page.
	r = s.Do(testenv.Request{Path: "/api/v1/users?limit=1", Token: admin})
	var page struct {
		Items      []auth.UserView `json:"items"`
		NextCursor string          `json:"nextCursor"`
	}
	r.JSON(t, &page)
	if len(page.Items) != 1 || page.NextCursor == "" {
		t.Fatalf("page 1: %s", r.Body)
	}
	first := page.Items[0].ID
	r = s.Do(testenv.Request{Path: "/api/v1/users?limit=1&cursor=" + page.NextCursor, Token: admin})
	page.NextCursor = ""
	r.JSON(t, &page)
	if len(page.Items) != 1 || page.Items[0].ID == first {
		t.Fatalf("page 2: %s", r.Body)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=ten", "cursor=%24gt", "sort=name",
		"cursor=" + base64.RawURLEncoding.EncodeToString([]byte(first))} { // the cursor of old
		if r := s.Do(testenv.Request{Path: "/api/v1/users?" + q, Token: admin}); r.Status != 400 {
			t.Errorf("?%s: %d, want 400", q, r.Status)
		}
	}

	if r := s.Do(testenv.Request{Method: "DELETE", Path: "/api/v1/users/" + jane.ID, Token: admin}); r.Status != 204 {
		t.Fatalf("delete: %d", r.Status)
	}
	for _, id := range []string{jane.ID, "nope", `{"$ne":1}`} {
		if r := s.Do(testenv.Request{Path: "/api/v1/users/" + id, Token: admin}); r.Status != 404 {
			t.Errorf("get %q: %d, want 404", id, r.Status)
		}
	}
}

func TestLastAdminCannotBeRemoved(t *testing.T) {
	s, _ := newServer(t)
	token, id := s.User(t, auth.Admin)
	path := "/api/v1/users/" + id
	for _, body := range []map[string]any{{"role": "editor"}, {"disabled": true}} {
		if r := s.Do(testenv.Request{Method: "PATCH", Path: path, Token: token, Body: body}); r.Status != 409 {
			t.Fatalf("%v on the last admin: %d %s", body, r.Status, r.Body)
		}
	}
	if r := s.Do(testenv.Request{Method: "DELETE", Path: path, Token: token}); r.Status != 409 {
		t.Fatalf("delete the last admin: %d", r.Status)
	}
	if r := me(s, token); r.Status != 200 {
		t.Fatalf("the last admin was changed anyway: %d", r.Status)
	}
	// With a second admin, the first may step down.
	_, second := s.User(t, auth.Admin)
	if r := s.Do(testenv.Request{Method: "PATCH", Path: path, Token: token, Body: map[string]any{"role": "editor"}}); r.Status != 200 {
		t.Fatalf("demote with another admin present: %d %s", r.Status, r.Body)
	}
	u, err := s.Services().Auth.Store().FindUserByID(context.Background(), second)
	if err != nil || u.Role != auth.Admin {
		t.Fatalf("second admin: %v %v", u, err)
	}
}

func TestMassAssignmentAndInjection(t *testing.T) {
	s, _ := newServer(t)
	admin, _ := s.User(t, auth.Admin)
	author, authorID := s.User(t, auth.Author)
	tests := []struct {
		name  string
		req   testenv.Request
		field string
	}{
		{"id on create", testenv.Request{Method: "POST", Path: "/api/v1/users", Token: admin,
			Body: `{"id":"000000000000000000000001","email":"x@example.com","name":"X","role":"author","password":"long enough password"}`}, "id"},
		{"hash on create", testenv.Request{Method: "POST", Path: "/api/v1/users", Token: admin,
			Body: `{"email":"x@example.com","name":"X","role":"author","password":"long enough password","passwordHash":"$argon2id$x"}`}, "passwordHash"},
		{"session version on patch", testenv.Request{Method: "PATCH", Path: "/api/v1/users/" + authorID, Token: admin,
			Body: `{"sessionVersion":0}`}, "sessionVersion"},
		{"role through password change", testenv.Request{Method: "PUT", Path: "/api/v1/auth/password", Token: author,
			Body: `{"currentPassword":"x","newPassword":"y","role":"admin"}`}, "role"},
		{"operator in email", testenv.Request{Method: "POST", Path: "/api/v1/auth/login",
			Body: `{"email":{"$gt":""},"password":"whatever it is"}`}, "email"},
		{"operator in password", testenv.Request{Method: "POST", Path: "/api/v1/auth/login",
			Body: `{"email":"a@example.com","password":{"$ne":null}}`}, "password"},
		{"operator in refresh token", testenv.Request{Method: "POST", Path: "/api/v1/auth/refresh",
			Body: `{"refreshToken":{"$exists":true}}`}, "refreshToken"},
		{"wrong type role", testenv.Request{Method: "PATCH", Path: "/api/v1/users/" + authorID, Token: admin,
			Body: `{"role":["admin"]}`}, "role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.Do(tt.req)
			if r.Status != 400 {
				t.Fatalf("status %d, want 400: %s", r.Status, r.Body)
			}
			if !strings.Contains(string(r.Body), `"field":"`+tt.field+`"`) {
				t.Errorf("problem does not name %q: %s", tt.field, r.Body)
			}
		})
	}
	u, _ := s.Services().Auth.Store().FindUserByID(context.Background(), authorID)
	if u.Role != auth.Author || u.SessionVersion != 1 {
		t.Fatalf("user changed by a refused request: %+v", u)
	}
}

func TestMalformedAndOversizeBodies(t *testing.T) {
	s, _ := newServer(t)
	tests := []struct {
		name   string
		body   string
		ctype  string
		status int
	}{
		{"not json", `email=a&password=b`, "application/x-www-form-urlencoded", 415},
		{"truncated", `{"email":"a@example.com",`, "", 400},
		{"array", `[]`, "", 400},
		{"two objects", `{"email":"a@example.com","password":"x"}{}`, "", 400},
		{"oversize", `{"email":"a@example.com","password":"` + strings.Repeat("p", 2<<20) + `"}`, "", 413},
		{"missing fields", `{}`, "", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			if tt.ctype != "" {
				h["Content-Type"] = tt.ctype
			}
			r := s.Do(testenv.Request{Method: "POST", Path: "/api/v1/auth/login", Body: tt.body, Header: h})
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d: %.200s", r.Status, tt.status, r.Body)
			}
			r.Problem(t)
		})
	}
}

// TestEveryRouteDeclaresAccess walks the router: a route registered without
// going through auth.Router (and so without an access rule) fails here.
func TestEveryRouteDeclaresAccess(t *testing.T) {
	s, _ := newServer(t)
	routes := s.Engine().Routes()
	if len(routes) < 10 {
		t.Fatalf("only %d routes registered", len(routes))
	}
	for _, r := range routes {
		a, ok := s.Rules().Lookup(r.Method, r.Path)
		if !ok {
			t.Errorf("%s %s has no declared access rule: register it through auth.Router", r.Method, r.Path)
			continue
		}
		if strings.HasPrefix(r.Path, "/api/v1/users") && a != auth.AtLeast(auth.Admin) {
			t.Errorf("%s %s is %v, want admin only", r.Method, r.Path, a)
		}
	}
}

func TestBootstrapCreatesFirstAdminOnce(t *testing.T) {
	db := testenv.OpenDB(t)
	build := func(email string) *server.Server {
		srv, err := server.New(context.Background(), server.Options{
			Logger: testenv.Quiet(), Keys: testenv.Keys(t),
			AdminEmail: email, AdminPassword: "the first admin password",
		}, db)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
		return srv
	}
	srv := build("Owner@Clinic.example")
	u, err := srv.Services().Auth.Store().FindUserByEmail(context.Background(), "owner@clinic.example")
	if err != nil || u.Role != auth.Admin {
		t.Fatalf("first admin: %+v %v", u, err)
	}
	build("second@clinic.example")
	n, err := srv.Services().Auth.Store().CountUsers(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("users after a second start with another admin email: %d %v", n, err)
	}
}

func TestHashingIsBounded(t *testing.T) {
	// Many concurrent logins finish (queueing for hashing slots) rather
	// than failing; the bound is what keeps them from taking every core.
	// (Different accounts: one account has only 5 attempts in flight.)
	// Four, so that the last in the queue waits three hashes, well inside
	// the 3 s a request may wait for a slot even under -race on a busy
	// machine; more would test the machine's speed, not the queue.
	s, _ := newServer(t)
	var wg sync.WaitGroup
	errs := make(chan int, 4)
	for range 4 {
		u := s.NewUser(t, auth.Author)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _ := login(t, s, u.Email, testenv.Password)
			errs <- r.Status
		}()
	}
	wg.Wait()
	close(errs)
	for code := range errs {
		if code != http.StatusOK {
			t.Fatalf("concurrent login: %d", code)
		}
	}
}

func TestOldHashReplacedAtLogin(t *testing.T) {
	s, _ := newServer(t)
	u := s.NewUser(t, auth.Author)
	// A hash from before the parameters were raised (m=8 MiB, t=1).
	weak := "$argon2id$v=19$m=8192,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$"
	u.PasswordHash = weak + weakKey(t)
	if err := s.Services().Auth.Store().ReplaceUser(context.Background(), u, u.Version); err != nil {
		t.Fatal(err)
	}
	mustLogin(t, s, u.Email, testenv.Password)
	got, err := s.Services().Auth.Store().FindUserByID(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash after login = %q, want current parameters", got.PasswordHash)
	}
	mustLogin(t, s, u.Email, testenv.Password)
}

func weakKey(t *testing.T) string {
	t.Helper()
	key := argon2.IDKey([]byte(testenv.Password), []byte("0123456789abcdef"), 1, 8192, 1, 32)
	return base64.RawStdEncoding.EncodeToString(key)
}

// TestTrustedProxyAddresses: behind a trusted proxy, X-Forwarded-For names
// the client, so one guesser does not lock out everyone behind the proxy.
func TestTrustedProxyAddresses(t *testing.T) {
	s := testenv.NewServer(t, func(c *server.Options) { c.TrustedProxies = []string{"127.0.0.1/32", "::1/128"} })
	victim := s.NewUser(t, auth.Author)
	for i := 0; i < 21; i++ {
		s.Do(testenv.Request{Method: "POST", Path: "/api/v1/auth/login",
			Header: map[string]string{"X-Forwarded-For": "198.51.100.7"},
			Body:   map[string]string{"email": fmt.Sprintf("guess%d@example.com", i), "password": "some guess or other"}})
	}
	blocked := s.Do(testenv.Request{Method: "POST", Path: "/api/v1/auth/login",
		Header: map[string]string{"X-Forwarded-For": "198.51.100.7"},
		Body:   map[string]string{"email": victim.Email, "password": testenv.Password}})
	if blocked.Status != 429 {
		t.Fatalf("the guessing address: %d, want 429", blocked.Status)
	}
	other := s.Do(testenv.Request{Method: "POST", Path: "/api/v1/auth/login",
		Header: map[string]string{"X-Forwarded-For": "203.0.113.20"},
		Body:   map[string]string{"email": victim.Email, "password": testenv.Password}})
	if other.Status != 200 {
		t.Fatalf("another client behind the proxy: %d, want 200", other.Status)
	}
}
