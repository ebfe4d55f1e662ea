package auth_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/internal/testenv"
)

// burstResult counts how a burst of sign-in attempts was answered: a 401
// means the password was checked, a throttled 429 that it never was.
type burstResult struct {
	checked, throttled, busy, other int
}

// check asserts that of n attempts at most limit were checked and the
// rest were refused with 429 unchecked. On a loaded machine (-race) some
// are refused as busy, by the hashing queue, the attempt queue or a
// database too slow to reserve an attempt (503), rather than throttled;
// either way their password was never checked.
func (res burstResult) check(t *testing.T, n, limit int) {
	t.Helper()
	if res.checked > limit || res.checked == 0 || res.checked+res.throttled+res.busy != n {
		t.Fatalf("%d parallel guesses: %+v; want at most %d checked, the rest 429", n, res, limit)
	}
}

// burst fires the logins at once, spread over the servers in turn, and
// classifies the answers.
func burst(t *testing.T, servers []*testenv.Server, logins []map[string]string) burstResult {
	t.Helper()
	var (
		mu  sync.Mutex
		res burstResult
		wg  sync.WaitGroup
	)
	start := make(chan struct{})
	for i, body := range logins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := servers[i%len(servers)].Do(testenv.Request{Method: "POST", Path: "/api/v1/auth/login", Body: body})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case r.Status == 401:
				res.checked++
			case r.Status == 429 && strings.Contains(string(r.Body), "too many failed sign-in attempts"):
				res.throttled++
			case r.Status == 429: // the hashing queue was full: not checked either
				res.busy++
			case r.Status == 503: // the database was too slow to reserve a slot: not checked
				res.busy++
			default:
				res.other++
				t.Errorf("burst login: %d %s", r.Status, r.Body)
			}
		}()
	}
	close(start)
	wg.Wait()
	return res
}

// TestParallelGuessesAreThrottled: a burst of wrong passwords cannot get
// more guesses checked than the throttle allows, for one account or for
// one address, even when the burst is spread over two instances sharing
// the database.
func TestParallelGuessesAreThrottled(t *testing.T) {
	t.Run("one account, two instances", func(t *testing.T) {
		db := testenv.OpenDB(t)
		clk := testenv.NewClock(time.Now().UTC()) // so the lockout cannot pass mid-test
		a := testenv.NewServerOn(t, db, func(c *server.Options) { c.Now = clk.Now })
		b := testenv.NewServerOn(t, db, func(c *server.Options) { c.Now = clk.Now })
		u := a.NewUser(t, auth.Author)
		var logins []map[string]string
		for i := range 24 {
			logins = append(logins, map[string]string{"email": u.Email, "password": fmt.Sprintf("wrong guess number %d", i)})
		}
		res := burst(t, []*testenv.Server{a, b}, logins)
		t.Logf("24 parallel guesses at one account: %+v", res)
		res.check(t, 24, 5)
		// The right password is refused too now: the account is locked
		// (unless a slow machine left some guesses unchecked, busy).
		if r, _ := login(t, a, u.Email, testenv.Password); res.checked == 5 && r.Status != 429 {
			t.Fatalf("correct password after 5 failures: %d", r.Status)
		}
	})
	t.Run("one address, many accounts", func(t *testing.T) {
		s, _ := newServer(t)
		var logins []map[string]string
		for i := range 40 {
			logins = append(logins, map[string]string{"email": fmt.Sprintf("guess%d@example.com", i), "password": "some guess or other"})
		}
		res := burst(t, []*testenv.Server{s}, logins)
		t.Logf("40 parallel guesses from one address: %+v", res)
		res.check(t, 40, 20)
	})
}

// TestStaleAttemptsAreCleaned: after a quiet hour the cleanup removes the
// attempt records, and the account signs in again.
func TestStaleAttemptsAreCleaned(t *testing.T) {
	s, clk := newServer(t)
	u := s.NewUser(t, auth.Author)
	for i := range 6 {
		login(t, s, u.Email, fmt.Sprintf("wrong guess %d", i))
	}
	attempts := s.DB.Database.Collection("login_attempts")
	ctx := context.Background()
	if n, err := attempts.CountDocuments(ctx, bson.D{}); err != nil || n == 0 {
		t.Fatalf("attempt records after failures: %d %v", n, err)
	}
	clk.Advance(time.Hour + time.Minute)
	if err := s.Services().Auth.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := attempts.CountDocuments(ctx, bson.D{}); err != nil || n != 0 {
		t.Fatalf("attempt records after cleanup: %d %v", n, err)
	}
	mustLogin(t, s, u.Email, testenv.Password)
}

// TestPasswordChangeGuessesAreThrottled: wrong currentPassword guesses
// with a (stolen) access token are sign-in failures of that account.
func TestPasswordChangeGuessesAreThrottled(t *testing.T) {
	s, _ := newServer(t)
	u := s.NewUser(t, auth.Author)
	p := mustLogin(t, s, u.Email, testenv.Password)
	change := func(current string) *testenv.Response {
		return s.Do(testenv.Request{Method: "PUT", Path: "/api/v1/auth/password", Token: p.AccessToken,
			Body: map[string]string{"currentPassword": current, "newPassword": "the attacker's own passphrase"}})
	}
	for i := range 5 {
		if r := change(fmt.Sprintf("guess number %d", i)); r.Status != 400 {
			t.Fatalf("guess %d: %d %s", i, r.Status, r.Body)
		}
	}
	for _, current := range []string{"guess number 6", testenv.Password} {
		r := change(current)
		if r.Status != 429 || r.Header.Get("Retry-After") == "" {
			t.Fatalf("password change with %q after 5 wrong guesses: %d %s", current, r.Status, r.Body)
		}
	}
	// The guesses count toward the account's sign-in throttle.
	if r, _ := login(t, s, u.Email, testenv.Password); r.Status != 429 {
		t.Fatalf("login after 5 wrong password-change guesses: %d, want 429", r.Status)
	}
}

// TestLogoutEndsAccessToken: after logout the access token of that login
// is refused at once, on every instance, while other logins go on.
func TestLogoutEndsAccessToken(t *testing.T) {
	db := testenv.OpenDB(t)
	keys := testenv.Keys(t) // instances sharing a database share the signing key
	a := testenv.NewServerOn(t, db, func(c *server.Options) { c.Keys = keys })
	b := testenv.NewServerOn(t, db, func(c *server.Options) { c.Keys = keys })
	u := a.NewUser(t, auth.Author)
	ended := mustLogin(t, a, u.Email, testenv.Password)
	other := mustLogin(t, a, u.Email, testenv.Password)
	if r := me(a, ended.AccessToken); r.Status != 200 {
		t.Fatalf("before logout: %d", r.Status)
	}
	if r := b.Do(testenv.Request{Method: "POST", Path: "/api/v1/auth/logout", Body: map[string]string{"refreshToken": ended.RefreshToken}}); r.Status != 204 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	for name, s := range map[string]*testenv.Server{"instance a": a, "instance b": b} {
		r := me(s, ended.AccessToken)
		if r.Status != 401 || r.Header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
			t.Errorf("%s: access token after logout: %d %q", name, r.Status, r.Header.Get("WWW-Authenticate"))
		}
		if r := me(s, other.AccessToken); r.Status != 200 {
			t.Errorf("%s: the other login's token: %d", name, r.Status)
		}
	}
}

// TestRefreshReuseEndsAccessTokens: revoking a login for a reused refresh
// token also refuses every access token issued to that login.
func TestRefreshReuseEndsAccessTokens(t *testing.T) {
	s, _ := newServer(t)
	u := s.NewUser(t, auth.Author)
	first := mustLogin(t, s, u.Email, testenv.Password)
	r := refresh(s, first.RefreshToken)
	if r.Status != 200 {
		t.Fatalf("refresh: %d", r.Status)
	}
	var second pair
	r.JSON(t, &second)
	if r := refresh(s, first.RefreshToken); r.Status != 401 {
		t.Fatalf("reuse: %d", r.Status)
	}
	for name, tok := range map[string]string{"first": first.AccessToken, "rotated": second.AccessToken} {
		if r := me(s, tok); r.Status != 401 {
			t.Errorf("%s access token after reuse: %d, want 401", name, r.Status)
		}
	}
}

// TestStrictQueryStrings: every auth and users route refuses unknown,
// repeated and empty parameters and a malformed query with a 400 naming
// the problem; the users list accepts only its own.
func TestStrictQueryStrings(t *testing.T) {
	s, _ := newServer(t)
	admin, adminID := s.User(t, auth.Admin)
	u := s.NewUser(t, auth.Author)
	p := mustLogin(t, s, u.Email, testenv.Password)
	routes := []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": testenv.Password}},
		{"POST", "/api/v1/auth/refresh", map[string]string{"refreshToken": p.RefreshToken}},
		{"POST", "/api/v1/auth/logout", map[string]string{"refreshToken": p.RefreshToken}},
		{"GET", "/api/v1/auth/me", nil},
		{"PUT", "/api/v1/auth/password", map[string]string{"currentPassword": testenv.Password, "newPassword": "a brand new passphrase"}},
		{"GET", "/api/v1/users", nil},
		{"POST", "/api/v1/users", map[string]string{"email": "new@example.com", "name": "New", "role": "author", "password": "a long new password"}},
		{"GET", "/api/v1/users/" + adminID, nil},
		{"PATCH", "/api/v1/users/" + u.ID, map[string]string{"name": "Renamed"}},
		{"DELETE", "/api/v1/users/" + u.ID, nil},
	}
	queries := []struct{ query, names string }{
		{"x=1", `"x"`},
		{"limit=1&limit=2", `"limit"`},
		{"cursor=", `"cursor"`},
		{"cursor=%ZZ", `"(query)"`},
	}
	for _, rt := range routes {
		for _, q := range queries {
			t.Run(rt.method+" "+rt.path+"?"+q.query, func(t *testing.T) {
				r := s.Do(testenv.Request{Method: rt.method, Path: rt.path + "?" + q.query, Token: admin, Body: rt.body})
				if r.Status != 400 {
					t.Fatalf("status %d, want 400: %s", r.Status, r.Body)
				}
				if r.Problem(t); !strings.Contains(string(r.Body), q.names) {
					t.Fatalf("the answer does not name %s: %s", q.names, r.Body)
				}
			})
		}
	}
	// Nothing above went through: the user and the logins are unchanged.
	if r := me(s, p.AccessToken); r.Status != 200 {
		t.Fatalf("the login was ended by a refused request: %d", r.Status)
	}
	if r := s.Do(testenv.Request{Path: "/api/v1/users?limit=2", Token: admin}); r.Status != 200 {
		t.Fatalf("users?limit=2: %d %s", r.Status, r.Body)
	}
}
