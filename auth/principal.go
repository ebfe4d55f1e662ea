package auth

import (
	"context"

	"github.com/gin-gonic/gin"
)

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID string
	Name   string
	Email  string
	Role   Role
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the caller, or nil for an anonymous request.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// Caller returns the authenticated caller of a Gin request, or nil. Routes
// declared with AtLeast always have one.
func Caller(c *gin.Context) *Principal { return FromContext(c.Request.Context()) }

// AtLeast reports whether the caller holds min's power or more.
func (p *Principal) AtLeast(min Role) bool { return p != nil && p.Role.AtLeast(min) }

// Owns reports whether the caller is the user ownerID.
func (p *Principal) Owns(ownerID string) bool {
	return p != nil && p.UserID != "" && p.UserID == ownerID
}

// CanSeeArticle reports whether the caller may read an article owned by
// ownerID: editors and admins see all, others only their own.
func (p *Principal) CanSeeArticle(ownerID string) bool {
	return p.AtLeast(Editor) || (p.AtLeast(Contributor) && p.Owns(ownerID))
}

// CanEditArticle reports whether the caller may change an article owned by
// ownerID. Contributors and authors edit their own; editors and admins all.
func (p *Principal) CanEditArticle(ownerID string) bool { return p.CanSeeArticle(ownerID) }

// CanPublishArticle reports whether the caller may publish, schedule or
// unpublish an article owned by ownerID: authors their own, editors and
// admins any. Contributors never publish.
func (p *Principal) CanPublishArticle(ownerID string) bool {
	return p.AtLeast(Editor) || (p.AtLeast(Author) && p.Owns(ownerID))
}

// CanManageProducts reports whether the caller may change affiliate
// products and read click statistics.
func (p *Principal) CanManageProducts() bool { return p.AtLeast(Editor) }

// CanManageUsers reports whether the caller may manage users and settings.
func (p *Principal) CanManageUsers() bool { return p.AtLeast(Admin) }
