package cms

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/problem"
)

// PreviewTokenTTL is how long a preview link works: long enough to look
// at a draft in the front end and send it to a reviewer, short enough that
// a leaked link soon stops working. Ask for a new one after it expires.
const PreviewTokenTTL = time.Hour

// previewToken lets a front end read one unpublished article. Only the
// SHA-256 of the token is stored, so a database dump reveals no working
// link.
type previewToken struct {
	Hash      string    `bson:"_id"`
	ArticleID string    `bson:"articleId"`
	CreatedBy Person    `bson:"createdBy"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

// CreatePreviewToken issues a token that lets a front end read the
// article through the content API before it is published.
func (s *Service) CreatePreviewToken(ctx context.Context, p *auth.Principal, id string) (string, time.Time, error) {
	a, err := s.load(ctx, p, id)
	if err != nil {
		return "", time.Time{}, err
	}
	if err := may(p, ActionPreview, a); err != nil {
		return "", time.Time{}, err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", time.Time{}, fmt.Errorf("generate preview token: %w", err)
	}
	token := "pv_" + base64.RawURLEncoding.EncodeToString(raw[:])
	exp := s.clock().Add(PreviewTokenTTL)
	t := &previewToken{Hash: auth.HashToken(token), ArticleID: a.ID, CreatedBy: person(p), ExpiresAt: exp}
	if err := s.store.InsertPreview(ctx, t); err != nil {
		return "", time.Time{}, fmt.Errorf("store preview token: %w", err)
	}
	return token, exp, nil
}

// PreviewArticleID returns the article a preview token opens, or NotFound
// for an unknown or expired token.
func (s *Service) PreviewArticleID(ctx context.Context, token string) (string, error) {
	if token == "" || len(token) > 100 {
		return "", problem.New(problem.NotFound, "")
	}
	t, err := s.store.FindPreviewByID(ctx, auth.HashToken(token))
	if err != nil {
		if errors.Is(err, problem.NotFound) {
			return "", err
		}
		return "", fmt.Errorf("find preview token: %w", err)
	}
	if !s.clock().Before(t.ExpiresAt) {
		return "", problem.New(problem.NotFound, "the preview link has expired")
	}
	return t.ArticleID, nil
}

// InsertPreview stores a preview token.
func (s *store) InsertPreview(ctx context.Context, t *previewToken) error {
	return mongodb.Insert(ctx, s.previews, "insert preview token", t)
}

// FindPreviewByID returns the token with this hash, or NotFound.
func (s *store) FindPreviewByID(ctx context.Context, hash string) (*previewToken, error) {
	return mongodb.FindByID[previewToken](ctx, s.previews, "find preview token", hash)
}

// DeleteExpiredPreviews removes tokens past their expiry; the embedded
// engine has no TTL indexes to do it.
func (s *store) DeleteExpiredPreviews(ctx context.Context, now time.Time) error {
	_, err := mongodb.DeleteMany(ctx, s.previews, "delete expired preview tokens",
		bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$lte", Value: now}}}})
	return err
}
