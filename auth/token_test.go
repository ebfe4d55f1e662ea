package auth

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/argon2"
)

var (
	testKey  = []byte(strings.Repeat("k", 32))
	otherKey = []byte(strings.Repeat("o", 32))
)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// sign builds a token from parts, for forging.
func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func goodClaims(now time.Time) Claims {
	return Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: tokenIssuer, Subject: "u1", Audience: jwt.ClaimStrings{tokenAudience},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(AccessTokenTTL)),
		},
		Role: Editor, SV: 1,
	}
}

func TestTokenParseRejectsForgeries(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	ks, err := NewKeySet(testKey)
	if err != nil {
		t.Fatal(err)
	}
	tokens := NewTokens(ks, fixedClock(now))
	kid := KeyID(testKey)
	valid, _, err := tokens.Issue("u1", Editor, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Parse(valid); err != nil {
		t.Fatalf("valid token refused: %v", err)
	}

	with := func(mod func(*Claims)) Claims { c := goodClaims(now); mod(&c); return c }
	parts := strings.Split(valid, ".")
	tampered := func() string {
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		payload = []byte(strings.Replace(string(payload), `"editor"`, `"admin"`, 1))
		return parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]
	}()
	noneToken := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid, goodClaims(now))

	tests := []struct{ name, token string }{
		{"alg none", noneToken},
		{"alg none without signature", strings.TrimSuffix(noneToken, ".")},
		{"wrong key", sign(t, jwt.SigningMethodHS256, otherKey, kid, goodClaims(now))},
		{"HS512 with the right key", sign(t, jwt.SigningMethodHS512, testKey, kid, goodClaims(now))},
		{"tampered payload", tampered},
		{"truncated signature", valid[:len(valid)-5]},
		{"no signature", parts[0] + "." + parts[1] + "."},
		{"line breaks in the signature", parts[0] + "." + parts[1] + "." + parts[2][:20] + "\n\r\n" + parts[2][20:]},
		{"line break in the payload", parts[0] + "." + parts[1][:10] + "\n" + parts[1][10:] + "." + parts[2]},
		{"padded signature", valid + "="},
		{"expired", sign(t, jwt.SigningMethodHS256, testKey, kid, with(func(c *Claims) {
			c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute))
		}))},
		{"no expiry", sign(t, jwt.SigningMethodHS256, testKey, kid, with(func(c *Claims) { c.ExpiresAt = nil }))},
		{"issued in the future", sign(t, jwt.SigningMethodHS256, testKey, kid, with(func(c *Claims) {
			c.IssuedAt = jwt.NewNumericDate(now.Add(time.Hour))
		}))},
		{"wrong issuer", sign(t, jwt.SigningMethodHS256, testKey, kid, with(func(c *Claims) { c.Issuer = "someone-else" }))},
		{"wrong audience", sign(t, jwt.SigningMethodHS256, testKey, kid, with(func(c *Claims) {
			c.Audience = jwt.ClaimStrings{"other-api"}
		}))},
		{"unknown kid", sign(t, jwt.SigningMethodHS256, testKey, "deadbeefdeadbeef", goodClaims(now))},
		{"missing kid", sign(t, jwt.SigningMethodHS256, testKey, "", goodClaims(now))},
		{"no subject", sign(t, jwt.SigningMethodHS256, testKey, kid, with(func(c *Claims) { c.Subject = "" }))},
		{"unknown role", sign(t, jwt.SigningMethodHS256, testKey, kid, with(func(c *Claims) { c.Role = "root" }))},
		{"refresh token as bearer", newRefreshToken()},
		{"empty", ""},
		{"garbage", "not.a.jwt"},
		{"huge", strings.Repeat("A", 100<<10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c, err := tokens.Parse(tt.token); err == nil {
				t.Fatalf("accepted: %+v", c)
			}
		})
	}
}

func TestTokenKeyRotation(t *testing.T) {
	now := time.Now()
	oldSet, _ := NewKeySet(otherKey)
	oldToken, _, err := NewTokens(oldSet, fixedClock(now)).Issue("u1", Author, 1)
	if err != nil {
		t.Fatal(err)
	}
	rotated, _ := NewKeySet(testKey, otherKey)
	if _, err := NewTokens(rotated, fixedClock(now)).Parse(oldToken); err != nil {
		t.Fatalf("a token signed with the previous key was refused after rotation: %v", err)
	}
	dropped, _ := NewKeySet(testKey)
	if _, err := NewTokens(dropped, fixedClock(now)).Parse(oldToken); err == nil {
		t.Fatal("a token signed with a removed key was accepted")
	}
	if _, err := NewKeySet([]byte("short")); err == nil {
		t.Fatal("a short key was accepted")
	}
}

// FuzzTokenParse feeds arbitrary strings to the parser: it must never
// panic, and must accept nothing that the key did not sign.
func FuzzTokenParse(f *testing.F) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	ks, _ := NewKeySet(testKey)
	tokens := NewTokens(ks, fixedClock(now))
	valid, _, _ := tokens.Issue("u1", Admin, 3)
	f.Add(valid)
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1MSJ9.")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := tokens.Parse(raw)
		if err != nil {
			return
		}
		// Whatever parses must be exactly a token we issued.
		if raw != valid || c.Subject != "u1" || c.Role != Admin || c.SV != 3 {
			t.Fatalf("accepted a token the server did not issue: %q -> %+v", raw, c)
		}
	})
}

// TestTokenOneSpelling: a token whose signature differs only in the
// unused low bits of its last base64 character is another token, refused.
func TestTokenOneSpelling(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	ks, _ := NewKeySet(testKey)
	tokens := NewTokens(ks, fixedClock(now))
	valid, _, _ := tokens.Issue("u1", Admin, 3)
	if _, err := tokens.Parse(valid); err != nil {
		t.Fatal(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, valid[len(valid)-1])
	for low := range 4 {
		c := alphabet[last&^3|low]
		if c == valid[len(valid)-1] {
			continue
		}
		if _, err := tokens.Parse(valid[:len(valid)-1] + string(c)); err == nil {
			t.Errorf("accepted the signature spelled with last character %q", c)
		}
	}
}

func TestPasswordRules(t *testing.T) {
	tests := []struct {
		pw string
		ok bool
	}{
		{"short", false},
		{strings.Repeat("x", 11), false},
		{"twelve chars", true},
		{strings.Repeat("é", 12), true},
		{strings.Repeat("x", 257), false},
		{"password1234", false},
		{"PASSWORD1234", false},
		{"qwertyuiop12", false},
		{"123456789012", false},
		{"massage therapy is great", true},
		{"\xff\xfe invalid utf8 bytes", false},
	}
	for _, tt := range tests {
		if got := CheckPassword(tt.pw) == ""; got != tt.ok {
			t.Errorf("CheckPassword(%q) ok = %v, want %v", tt.pw, got, tt.ok)
		}
	}
	if len(commonPasswords) < 300 {
		t.Errorf("common password list has %d entries, want a few hundred", len(commonPasswords))
	}
}

func TestHasherRoundTripAndRehash(t *testing.T) {
	h := NewHasher(1)
	ctx := t.Context()
	enc, err := h.Hash(ctx, "a fine long password")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string with the expected parameters", enc)
	}
	if ok, rehash, _ := h.Verify(ctx, enc, "a fine long password"); !ok || rehash {
		t.Fatalf("Verify(right) = %v, rehash %v", ok, rehash)
	}
	if ok, _, _ := h.Verify(ctx, enc, "a wrong long password"); ok {
		t.Fatal("wrong password verified")
	}
	if ok, _, _ := h.Verify(ctx, "", "anything at all"); ok {
		t.Fatal("unknown user verified")
	}
	// A hash made with weaker parameters verifies and asks to be redone.
	weak := "$argon2id$v=19$m=8192,t=1,p=1$"
	salt := []byte("0123456789abcdef")
	key := argon2Key("a fine long password", salt, 1, 8192)
	weak += base64.RawStdEncoding.EncodeToString(salt) + "$" + base64.RawStdEncoding.EncodeToString(key)
	if ok, rehash, err := h.Verify(ctx, weak, "a fine long password"); !ok || !rehash || err != nil {
		t.Fatalf("weak hash: ok %v rehash %v err %v", ok, rehash, err)
	}
	for _, bad := range []string{"$argon2i$v=19$m=1,t=1,p=1$AAAA$AAAA", "plain", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5"} {
		if _, _, err := h.Verify(ctx, bad, "x"); err == nil {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
}

func TestRoleOrder(t *testing.T) {
	tests := []struct {
		r, min Role
		want   bool
	}{
		{Contributor, Contributor, true},
		{Contributor, Author, false},
		{Author, Contributor, true},
		{Editor, Admin, false},
		{Admin, Editor, true},
		{"root", Contributor, false},
		{"", Contributor, false},
	}
	for _, tt := range tests {
		if got := tt.r.AtLeast(tt.min); got != tt.want {
			t.Errorf("%q.AtLeast(%q) = %v", tt.r, tt.min, got)
		}
	}
}

// TestPrincipal checks the generic helpers the permission tables of cms
// and affiliate build on; an anonymous (nil) caller holds no role and owns
// nothing.
func TestPrincipal(t *testing.T) {
	tests := []struct {
		name      string
		p         *Principal
		min       Role
		owner     string
		atLeast   bool
		ownsOwner bool
	}{
		{"anonymous", nil, Contributor, "me", false, false},
		{"contributor", &Principal{UserID: "me", Role: Contributor}, Contributor, "me", true, true},
		{"contributor below author", &Principal{UserID: "me", Role: Contributor}, Author, "you", false, false},
		{"editor", &Principal{UserID: "me", Role: Editor}, Author, "you", true, false},
		{"unknown role", &Principal{UserID: "me", Role: "root"}, Contributor, "me", false, true},
		{"no user ID owns nothing", &Principal{Role: Admin}, Admin, "", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.AtLeast(tt.min); got != tt.atLeast {
				t.Errorf("AtLeast(%s) = %v", tt.min, got)
			}
			if got := tt.p.Owns(tt.owner); got != tt.ownsOwner {
				t.Errorf("Owns(%q) = %v", tt.owner, got)
			}
		})
	}
}

// argon2Key derives a key with explicit parameters, to build old-style
// hashes.
func argon2Key(pw string, salt []byte, t, m uint32) []byte {
	return argon2.IDKey([]byte(pw), salt, t, m, argonThreads, argonKeyLen)
}
