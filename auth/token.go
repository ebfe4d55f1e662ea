package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token settings. The issuer and audience make a token minted for another
// service, or by another deployment with a leaked key of the same shape,
// useless here.
const (
	tokenIssuer    = "wellness-cms"
	tokenAudience  = "wellness-cms-api"
	AccessTokenTTL = 15 * time.Minute
	tokenLeeway    = 30 * time.Second
	minKeyLen      = 32
	// MaxAuthorizationHeader caps what the token parser will look at; a
	// real access token is a few hundred bytes.
	MaxAuthorizationHeader = 4096
)

// Claims are an access token's contents.
type Claims struct {
	jwt.RegisteredClaims
	Role Role `json:"role"`
	// SV is the user's session version when the token was issued. Bumping
	// the stored version (password change, disable) ends every session.
	SV int `json:"sv"`
	// LoginID is the login (refresh family) the token was issued to;
	// ending that login refuses the token at once. Tokens minted by
	// Issue for tests and tools have none.
	LoginID string `json:"lid,omitempty"`
}

// KeySet holds the signing key and older keys still accepted, each named
// by a key ID written into every token's header. Rotating means adding a
// new current key and keeping the old one until its tokens have expired.
type KeySet struct {
	current string
	keys    map[string][]byte
}

// KeyID names a key without revealing it: a prefix of its SHA-256.
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}

// NewKeySet signs with current and also accepts previous keys. Every key
// must be at least 32 bytes.
func NewKeySet(current []byte, previous ...[]byte) (*KeySet, error) {
	ks := &KeySet{keys: map[string][]byte{}}
	for i, k := range append([][]byte{current}, previous...) {
		if len(k) < minKeyLen {
			return nil, fmt.Errorf("signing key %d is %d bytes; at least %d are required", i, len(k), minKeyLen)
		}
		ks.keys[KeyID(k)] = k
	}
	ks.current = KeyID(current)
	return ks, nil
}

// Tokens issues and verifies access tokens.
type Tokens struct {
	keys   *KeySet
	now    func() time.Time
	parser *jwt.Parser
}

// NewTokens uses keys and the clock now.
func NewTokens(keys *KeySet, now func() time.Time) *Tokens {
	return &Tokens{
		keys: keys,
		now:  now,
		// One parser for every token: only HS256, our issuer and audience,
		// an expiry always required, and a small clock-skew allowance.
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(tokenIssuer),
			jwt.WithAudience(tokenAudience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(tokenLeeway),
			// One spelling per token: loose base64 would accept a
			// signature with altered padding bits as the same token.
			jwt.WithStrictDecoding(),
			jwt.WithTimeFunc(now),
		),
	}
}

// Issue returns a signed access token for the user and its expiry, tied to
// no login: only a session version bump ends it early. Sign-in issues
// tokens with IssueForLogin; this is for tests and tools.
func (t *Tokens) Issue(userID string, role Role, sessionVersion int) (string, time.Time, error) {
	return t.IssueForLogin("", userID, role, sessionVersion)
}

// IssueForLogin returns a signed access token of the login loginID for the
// user, and its expiry.
func (t *Tokens) IssueForLogin(loginID, userID string, role Role, sessionVersion int) (string, time.Time, error) {
	now := t.now()
	exp := now.Add(AccessTokenTTL)
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    tokenIssuer,
			Subject:   userID,
			Audience:  jwt.ClaimStrings{tokenAudience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
		Role:    role,
		SV:      sessionVersion,
		LoginID: loginID,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["kid"] = t.keys.current
	s, err := tok.SignedString(t.keys.keys[t.keys.current])
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return s, exp, nil
}

// errBadToken is the answer for every unusable token: telling a caller
// which check failed helps only an attacker.
var errBadToken = errors.New("invalid access token")

// errTokenExpired is the one exception: a token this service signed whose
// only fault is its age. Saying so tells the client to refresh rather
// than sign in again, and reveals nothing a clock does not.
var errTokenExpired = errors.New("access token expired")

// Parse verifies a token and returns its claims.
func (t *Tokens) Parse(raw string) (*Claims, error) {
	if len(raw) > MaxAuthorizationHeader || !compactJWS(raw) {
		return nil, errBadToken
	}
	var c Claims
	_, err := t.parser.ParseWithClaims(raw, &c, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		key, ok := t.keys.keys[kid]
		if !ok {
			return nil, fmt.Errorf("unknown key id %q", kid)
		}
		return key, nil
	})
	if c.Subject == "" || !c.Role.Valid() {
		return nil, errBadToken
	}
	if onlyExpired(err) {
		return nil, fmt.Errorf("%w: %v", errTokenExpired, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadToken, err)
	}
	return &c, nil
}

// compactJWS reports whether raw holds only what a compact JWS can: the
// base64url alphabet and dots. Go's base64 decoder skips line breaks, so
// without this a token with newlines inside its signature would verify as
// the one we issued, a second spelling a cache or a log would not match.
func compactJWS(raw string) bool {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// onlyExpired reports whether a parse failed on the expiry alone. The
// parser checks the signature before any claim, so an expiry error means
// the token is genuine; the other claim checks must still have passed.
func onlyExpired(err error) bool {
	if !errors.Is(err, jwt.ErrTokenExpired) {
		return false
	}
	for _, other := range []error{jwt.ErrTokenSignatureInvalid, jwt.ErrTokenUnverifiable, jwt.ErrTokenMalformed,
		jwt.ErrTokenInvalidIssuer, jwt.ErrTokenInvalidAudience, jwt.ErrTokenNotValidYet,
		jwt.ErrTokenUsedBeforeIssued, jwt.ErrTokenRequiredClaimMissing, jwt.ErrTokenInvalidSubject} {
		if errors.Is(err, other) {
			return false
		}
	}
	return true
}
