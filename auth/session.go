package auth

import (
	"context"
	"errors"

	"github.com/wellness/cms/internal/problem"
)

var errNoSession = problem.New(problem.Unauthorized, "sign in first: the session is missing, ended or expired")

// Session checks a browser session: the refresh token of a login, held in
// an HttpOnly cookie instead of by a client. It is not rotated on use (a
// browser cannot be handed a new one on every request it races with), so
// it lasts for the token's idle lifetime from sign-in. Everything that ends
// a login ends the session at once: logout, the user disabled, a password
// change, and the token rotated through the API.
func (s *Service) Session(ctx context.Context, raw string) (*Principal, error) {
	if !wellFormedRefresh(raw) {
		return nil, errNoSession
	}
	rt, err := s.store.findRefreshByID(ctx, HashToken(raw))
	if errors.Is(err, problem.NotFound) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if rt.UsedAt != nil || !now.Before(rt.ExpiresAt) {
		return nil, errNoSession
	}
	// The family and the user are read together, as Authenticate does.
	type familyRead struct {
		f   *refreshFamily
		err error
	}
	fam := make(chan familyRead, 1)
	go func() {
		f, err := s.store.findFamilyByID(ctx, rt.Family)
		fam <- familyRead{f, err}
	}()
	u, err := s.store.FindUserByID(ctx, rt.UserID)
	fr := <-fam
	for _, err := range []error{err, fr.err} {
		if errors.Is(err, problem.NotFound) {
			return nil, errNoSession
		}
		if err != nil {
			return nil, err
		}
	}
	f := fr.f
	if f.Revoked || !now.Before(f.ExpiresAt) || u.Disabled || u.SessionVersion != f.SessionVersion {
		return nil, errNoSession
	}
	return &Principal{UserID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role}, nil
}
