package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// Refresh token lifetimes: a login ends after 14 idle days, and after 30
// days whatever happens.
const (
	RefreshIdleTTL     = 14 * 24 * time.Hour
	RefreshAbsoluteTTL = 30 * 24 * time.Hour
	cleanupInterval    = time.Hour
)

// Options configures the Service.
type Options struct {
	Keys *KeySet
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// HashConcurrency bounds parallel password hashing; 0 = half the CPUs.
	HashConcurrency int
}

// Service is users, logins and tokens.
type Service struct {
	store  *Store
	tokens *Tokens
	hasher *Hasher
	now    func() time.Time
	log    *slog.Logger
}

// New builds the service over its store.
func New(store *Store, cfg Options) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{
		store:  store,
		tokens: NewTokens(cfg.Keys, cfg.Now),
		hasher: NewHasher(cfg.HashConcurrency),
		now:    cfg.Now,
		log:    cfg.Logger,
	}
}

// Store returns the service's store.
func (s *Service) Store() *Store { return s.store }

// Tokens returns the access token issuer, for tests and tools.
func (s *Service) Tokens() *Tokens { return s.tokens }

// The answers to a request without usable credentials. All are 401; the
// WWW-Authenticate challenge says whether a token was missing, unusable,
// or merely expired (so the client knows to refresh).
var (
	errUnauthenticated = problem.New(problem.Unauthorized, "a valid bearer access token is required")
	errInvalidToken    = &challengeError{err: errUnauthenticated, challenge: `Bearer error="invalid_token"`}
	errExpiredToken    = &challengeError{
		err:       problem.New(problem.Unauthorized, "the access token expired; refresh it"),
		challenge: `Bearer error="invalid_token", error_description="the access token expired"`,
	}
)

// Authenticate checks the request's bearer token and loads the user, so a
// disabled user, a changed role or an ended session takes effect at once.
// A token of a login that has ended (logout, refresh token reuse) is
// refused at once too: its login is looked up by _id alongside the user.
func (s *Service) Authenticate(c *gin.Context) (*Principal, error) {
	h := c.GetHeader("Authorization")
	if h == "" {
		return nil, errUnauthenticated
	}
	scheme, raw, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, errUnauthenticated
	}
	if len(h) > MaxAuthorizationHeader {
		return nil, errInvalidToken
	}
	claims, err := s.tokens.Parse(strings.TrimSpace(raw))
	if errors.Is(err, errTokenExpired) {
		return nil, errExpiredToken
	}
	if err != nil {
		return nil, errInvalidToken
	}
	ctx := c.Request.Context()
	// The login is read alongside the user, so checking it costs no
	// extra round trip of waiting.
	live := make(chan loginCheck, 1)
	if claims.LoginID != "" {
		go func() {
			ok, err := s.loginLive(ctx, claims.LoginID, claims.Subject)
			live <- loginCheck{ok, err}
		}()
	} else {
		live <- loginCheck{live: true}
	}
	u, err := s.store.FindUserByID(ctx, claims.Subject)
	login := <-live
	if errors.Is(err, problem.NotFound) {
		return nil, errInvalidToken
	}
	if err != nil {
		return nil, err
	}
	if login.err != nil {
		return nil, login.err
	}
	if u.Disabled || u.SessionVersion != claims.SV || !login.live {
		return nil, errInvalidToken
	}
	return &Principal{UserID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role}, nil
}

type loginCheck struct {
	live bool
	err  error
}

// loginLive reports whether the login id of the user is still going.
func (s *Service) loginLive(ctx context.Context, id, userID string) (bool, error) {
	f, err := s.store.findFamilyByID(ctx, id)
	if errors.Is(err, problem.NotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return !f.Revoked && f.UserID == userID && s.now().Before(f.ExpiresAt), nil
}

// TokenPair is what login and refresh answer.
type TokenPair struct {
	AccessToken  string   `json:"accessToken"`
	TokenType    string   `json:"tokenType"`
	ExpiresIn    int      `json:"expiresIn"`
	RefreshToken string   `json:"refreshToken"`
	User         UserView `json:"user"`
}

var errBadLogin = problem.New(problem.Unauthorized, "the email or password is incorrect")

// Login checks credentials from the client address ip. Unknown email,
// wrong password and disabled account get the same answer after the same
// amount of hashing. The attempt is reserved against the throttle before
// any hashing; a locked-out account or address is a TooManyRequests.
func (s *Service) Login(ctx context.Context, email, password, ip string) (*TokenPair, error) {
	now := s.now()
	attempt, err := s.store.reserveSignIn(ctx, now, email, ip)
	if err != nil {
		return nil, err
	}
	u, ok, rehash, err := s.checkCredentials(ctx, email, password)
	s.store.settleSignIn(ctx, attempt, err == nil, ok, s.log)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errBadLogin
	}
	if rehash {
		if h, err := s.hasher.Hash(ctx, password); err == nil {
			u.PasswordHash = h
			if err := s.store.ReplaceUser(ctx, u, u.Version); err != nil {
				s.log.Warn("re-hash password", "user", u.ID, "err", err)
			}
		}
	}
	family := &refreshFamily{ID: randomID(), UserID: u.ID, SessionVersion: u.SessionVersion,
		CreatedAt: now, ExpiresAt: now.Add(RefreshAbsoluteTTL)}
	if err := s.store.insertFamily(ctx, family); err != nil {
		return nil, err
	}
	raw, rt := s.newRefresh(u, family, "login:"+family.ID, now)
	if err := s.store.insertRefresh(ctx, rt); err != nil {
		return nil, err
	}
	return s.pair(u, family.ID, raw, now)
}

// checkCredentials finds the user of email and checks password: ok only
// for the right password of an enabled user. An unknown email is hashed
// against a dummy all the same.
func (s *Service) checkCredentials(ctx context.Context, email, password string) (u *User, ok, rehash bool, err error) {
	u, err = s.store.FindUserByEmail(ctx, email)
	if err != nil && !errors.Is(err, problem.NotFound) {
		return nil, false, false, err
	}
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}
	match, rehash, err := s.hasher.Verify(ctx, hash, password)
	if err != nil {
		return nil, false, false, err
	}
	if !match || u.Disabled {
		return nil, false, false, nil
	}
	return u, true, rehash, nil
}

// newRefresh makes a refresh token of family, rotated from parent.
func (s *Service) newRefresh(u *User, family *refreshFamily, parent string, now time.Time) (string, *refreshToken) {
	raw := newRefreshToken()
	return raw, &refreshToken{
		ID:        HashToken(raw),
		Family:    family.ID,
		Parent:    parent,
		UserID:    u.ID,
		CreatedAt: now,
		ExpiresAt: minTime(now.Add(RefreshIdleTTL), family.ExpiresAt),
	}
}

// pair issues an access token of the login to go with its refresh token
// raw.
func (s *Service) pair(u *User, loginID, raw string, now time.Time) (*TokenPair, error) {
	access, exp, err := s.tokens.IssueForLogin(loginID, u.ID, u.Role, u.SessionVersion)
	if err != nil {
		return nil, err
	}
	return &TokenPair{
		AccessToken:  access,
		TokenType:    "Bearer",
		ExpiresIn:    int(exp.Sub(now).Seconds()),
		RefreshToken: raw,
		User:         u.View(),
	}, nil
}

var errBadRefresh = problem.New(problem.Unauthorized, "the refresh token is invalid or expired")

// Refresh rotates a refresh token: the presented one stops working and a
// new pair is issued. Presenting one that was already rotated means it was
// copied: the whole login is revoked.
func (s *Service) Refresh(ctx context.Context, raw string) (*TokenPair, error) {
	now := s.now()
	if !wellFormedRefresh(raw) {
		return nil, errBadRefresh
	}
	id := HashToken(raw)
	rt, err := s.store.findRefreshByID(ctx, id)
	if errors.Is(err, problem.NotFound) {
		return nil, errBadRefresh
	}
	if err != nil {
		return nil, err
	}
	if rt.UsedAt != nil {
		return nil, s.reuse(ctx, rt)
	}
	fam, err := s.store.findFamilyByID(ctx, rt.Family)
	if errors.Is(err, problem.NotFound) {
		return nil, errBadRefresh
	}
	if err != nil {
		return nil, err
	}
	if fam.Revoked || !now.Before(rt.ExpiresAt) || !now.Before(fam.ExpiresAt) {
		return nil, errBadRefresh
	}
	u, err := s.store.FindUserByID(ctx, rt.UserID)
	if errors.Is(err, problem.NotFound) {
		return nil, errBadRefresh
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled || u.SessionVersion != fam.SessionVersion {
		_ = s.store.updateFamilyRevoked(ctx, fam.ID)
		return nil, errBadRefresh
	}
	newRaw, child := s.newRefresh(u, fam, id, now)
	won, err := s.store.claimRefresh(ctx, child)
	if err != nil {
		return nil, err
	}
	if !won {
		return nil, s.reuse(ctx, rt)
	}
	if err := s.store.updateRefreshUsed(ctx, id, now); err != nil {
		return nil, err
	}
	return s.pair(u, fam.ID, newRaw, now)
}

func (s *Service) reuse(ctx context.Context, rt *refreshToken) error {
	s.log.Warn("refresh token reused: revoking the login", "user", rt.UserID, "family", rt.Family)
	if err := s.store.updateFamilyRevoked(ctx, rt.Family); err != nil {
		return err
	}
	return errBadRefresh
}

// Logout revokes the login the refresh token belongs to, which also
// refuses that login's access tokens at once. Unknown tokens are ignored:
// logging out twice is not an error.
func (s *Service) Logout(ctx context.Context, raw string) error {
	if !wellFormedRefresh(raw) {
		return nil
	}
	rt, err := s.store.findRefreshByID(ctx, HashToken(raw))
	if errors.Is(err, problem.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.store.updateFamilyRevoked(ctx, rt.Family)
}

// Cleanup deletes expired refresh tokens and stale login counters.
func (s *Service) Cleanup(ctx context.Context) error {
	n, err := s.store.deleteExpired(ctx, s.now())
	if err != nil {
		return err
	}
	if n > 0 {
		s.log.Info("deleted expired refresh tokens", "count", n)
	}
	return nil
}

// RunCleanup runs Cleanup now and then hourly until ctx ends.
func (s *Service) RunCleanup(ctx context.Context) {
	t := time.NewTicker(cleanupInterval)
	defer t.Stop()
	for {
		if err := s.Cleanup(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("refresh token cleanup", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CreateUser validates n and stores a new user.
func (s *Service) CreateUser(ctx context.Context, n NewUser) (*User, error) {
	if err := n.Validate(); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, n.Password)
	if err != nil {
		return nil, err
	}
	return s.insertUser(ctx, n, hash, false)
}

// insertUser stores the new user n, checked, with the password hash.
func (s *Service) insertUser(ctx context.Context, n NewUser, hash string, disabled bool) (*User, error) {
	// Stored times have millisecond precision; the answer shows what GET
	// will.
	now := s.now().UTC().Truncate(time.Millisecond)
	u := &User{ID: bson.NewObjectID().Hex(), Email: n.Email, Name: n.Name, Role: n.Role, Disabled: disabled,
		PasswordHash: hash, SessionVersion: 1, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := s.store.InsertUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// CreateDisabled stores a new user who cannot sign in until an admin
// enables them and sets a password: the authors an import brings in. n's
// password is ignored; the stored hash is empty, which matches no
// password.
func (s *Service) CreateDisabled(ctx context.Context, n NewUser) (*User, error) {
	if err := n.check().Err(); err != nil {
		return nil, err
	}
	return s.insertUser(ctx, n, "", true)
}

// Bootstrap creates the first admin when there are no users at all. It
// reports whether it created one.
func (s *Service) Bootstrap(ctx context.Context, email, password string) (bool, error) {
	if email == "" {
		return false, nil
	}
	n, err := s.store.CountUsers(ctx)
	if err != nil || n > 0 {
		return false, err
	}
	_, err = s.CreateUser(ctx, NewUser{Email: email, Name: "Administrator", Role: Admin, Password: password})
	if errors.Is(err, problem.Conflict) { // another instance won the race
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("CMS_ADMIN_EMAIL: create first admin: %w", err)
	}
	return true, nil
}

// UpdateUser applies upd to the user id, whatever its version.
func (s *Service) UpdateUser(ctx context.Context, id string, upd UserUpdate) (*User, error) {
	return s.UpdateUserAt(ctx, id, web.Precondition{}, upd)
}

// UpdateUserAt applies upd to the user id, at the version at names if it
// names one. It refuses to leave the system without an active admin.
// Errors: Invalid, NotFound, Conflict, PreconditionFailed (at is stale, or
// another change was saved first).
func (s *Service) UpdateUserAt(ctx context.Context, id string, at web.Precondition, upd UserUpdate) (*User, error) {
	if err := upd.Validate(); err != nil {
		return nil, err
	}
	old, err := s.store.FindUserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := at.Check("user", old.Version); err != nil {
		return nil, err
	}
	u := *old
	hash := ""
	if pw, ok := upd.NewPassword(); ok {
		if hash, err = s.hasher.Hash(ctx, pw); err != nil {
			return nil, err
		}
	}
	upd.Apply(&u, hash, s.now().UTC().Truncate(time.Millisecond))
	if err := s.store.ReplaceUser(ctx, &u, old.Version); err != nil {
		return nil, err
	}
	if isActiveAdmin(old) && !isActiveAdmin(&u) {
		// No transactions: change first, then check, and undo if this left
		// no admin. Two admins demoting each other at once both get undone.
		// The undo is a change of its own: the old content as the next
		// version.
		undo := func(ctx context.Context) error {
			back := *old
			return s.store.ReplaceUser(ctx, &back, u.Version)
		}
		if err := s.keepAnAdmin(ctx, undo); err != nil {
			return nil, err
		}
	}
	return &u, nil
}

// DeleteUser removes a user, at the version at names if it names one,
// unless it is the last active admin. Errors: NotFound, Conflict,
// PreconditionFailed.
func (s *Service) DeleteUser(ctx context.Context, id string, at web.Precondition) error {
	old, err := s.store.FindUserByID(ctx, id)
	if err != nil {
		return err
	}
	if err := at.Check("user", old.Version); err != nil {
		return err
	}
	if err := s.store.DeleteUser(ctx, id, old.Version); err != nil {
		return err
	}
	if isActiveAdmin(old) {
		return s.keepAnAdmin(ctx, func(ctx context.Context) error { return s.store.InsertUser(ctx, old) })
	}
	return nil
}

func isActiveAdmin(u *User) bool { return u.Role == Admin && !u.Disabled }

var errLastAdmin = problem.New(problem.Conflict, "this is the last active admin; make another user admin first")

func (s *Service) keepAnAdmin(ctx context.Context, undo func(context.Context) error) error {
	n, err := s.store.CountActiveAdmins(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if err := undo(ctx); err != nil {
		return fmt.Errorf("restore last admin: %w", err)
	}
	return errLastAdmin
}

// ChangePassword sets a user's own password after checking the current
// one; every other session of the user ends. The check is a sign-in
// attempt of the account from the address ip: it is throttled, and wrong
// guesses count toward the account's sign-in lockout, so a stolen access
// token cannot be used to guess the password.
func (s *Service) ChangePassword(ctx context.Context, id, current, next, ip string) error {
	u, err := s.store.FindUserByID(ctx, id)
	if err != nil {
		return err
	}
	attempt, err := s.store.reserveSignIn(ctx, s.now(), u.Email, ip)
	if err != nil {
		return err
	}
	ok, _, err := s.hasher.Verify(ctx, u.PasswordHash, current)
	s.store.settleSignIn(ctx, attempt, err == nil, ok, s.log)
	if err != nil {
		return fmt.Errorf("verify password: %w", err)
	}
	if !ok {
		var f problem.Fields
		f.Add("currentPassword", "is not correct")
		return f.Err()
	}
	_, err = s.UpdateUser(ctx, id, UserUpdate{Password: web.Some(next)})
	return err
}

// Refresh tokens are 32 random bytes, URL-safe base64 without padding.
const refreshTokenLen = 43

func newRefreshToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func wellFormedRefresh(raw string) bool {
	if len(raw) != refreshTokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(raw)
	return err == nil
}

// HashToken is how a bearer secret (a refresh token, a preview token) is
// stored: its SHA-256 in hex, so a copy of the database opens nothing.
func HashToken(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
