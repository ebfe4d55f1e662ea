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
