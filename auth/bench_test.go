package auth_test

import (
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// BenchmarkLogin measures one login through the real router: throttle
// check, user lookup, Argon2id verification, refresh token insert, signing.
// With -cpu 1,2 the parallel form shows what the hashing bound allows.
func BenchmarkLogin(b *testing.B) {
	s := testenv.NewServer(b)
	u := s.NewUser(b, auth.Author)
	body := map[string]string{"email": u.Email, "password": testenv.Password}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := s.Do(testenv.Request{Method: "POST", Path: "/api/v1/auth/login", Body: body})
			if r.Status != 200 {
				b.Errorf("login: %d", r.Status)
				return
			}
		}
	})
}

// BenchmarkAuthenticatedRequest measures a request that carries an access
// token: JWT verification plus the user lookup that makes revocation
// immediate.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	s := testenv.NewServer(b)
	token, _ := s.User(b, auth.Author)
	b.ResetTimer()
	for b.Loop() {
		if r := s.Do(testenv.Request{Path: "/api/v1/auth/me", Token: token}); r.Status != 200 {
			b.Fatalf("me: %d", r.Status)
		}
	}
}

// BenchmarkAuthenticatedLoginRequest is BenchmarkAuthenticatedRequest with
// a token from a real sign-in, which also has its login looked up (by _id)
// so that logout ends it at once.
func BenchmarkAuthenticatedLoginRequest(b *testing.B) {
	s := testenv.NewServer(b)
	u := s.NewUser(b, auth.Author)
	r := s.Do(testenv.Request{Method: "POST", Path: "/api/v1/auth/login",
		Body: map[string]string{"email": u.Email, "password": testenv.Password}})
	var p struct {
		AccessToken string `json:"accessToken"`
	}
	r.JSON(b, &p)
	b.ResetTimer()
	for b.Loop() {
		if r := s.Do(testenv.Request{Path: "/api/v1/auth/me", Token: p.AccessToken}); r.Status != 200 {
			b.Fatalf("me: %d", r.Status)
		}
	}
}
