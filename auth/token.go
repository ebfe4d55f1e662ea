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
			jwt.WithTimeFunc(now),
		),
	}
}

// Issue returns a signed access token for the user and its expiry.
func (t *Tokens) Issue(userID string, role Role, sessionVersion int) (string, time.Time, error) {
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
		Role: role,
		SV:   sessionVersion,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["kid"] = t.keys.current
	s, err := tok.SignedString(t.keys.keys[t.keys.current])
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return s, exp, nil
}

// errBadToken is the one answer for every unusable token: telling a caller
// which check failed helps only an attacker.
var errBadToken = errors.New("invalid access token")

// Parse verifies a token and returns its claims.
func (t *Tokens) Parse(raw string) (*Claims, error) {
	if len(raw) > MaxAuthorizationHeader {
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
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadToken, err)
	}
	if c.Subject == "" || !c.Role.Valid() {
		return nil, errBadToken
	}
	return &c, nil
}
