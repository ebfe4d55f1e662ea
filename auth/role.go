// Package auth holds users, roles, passwords and tokens: who is asking,
// and how much power their role gives them. What a role may do to an
// article or a product is the rule of the package that owns it (the
// permission tables of cms and affiliate); they read the caller with
// Caller and declare each route's first gate through Router.
package auth

import "fmt"

// Role is a user's level of power. Each role can do everything the ones
// below it can.
type Role string

// The roles, least to most power. What each may do to articles and the
// catalogue is written once, in cms/permissions.go and affiliate/product.go;
// users are managed by admins (handlers.go).
const (
	Contributor Role = "contributor"
	Author      Role = "author"
	Editor      Role = "editor"
	Admin       Role = "admin"
)

// Roles lists every role, least power first.
var Roles = []Role{Contributor, Author, Editor, Admin}

func (r Role) rank() int {
	for i, x := range Roles {
		if x == r {
			return i + 1
		}
	}
	return 0
}

// Valid reports whether r is one of the defined roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// AtLeast reports whether r has min's power or more. An unknown role has
// none.
func (r Role) AtLeast(min Role) bool { return r.Valid() && r.rank() >= min.rank() }

// ParseRole checks s against the defined roles.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", fmt.Errorf("role %q is not one of contributor, author, editor, admin", s)
	}
	return r, nil
}
