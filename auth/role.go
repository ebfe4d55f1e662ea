// Package auth holds users, roles, passwords and tokens: who is asking, and
// what they may do. Other packages ask it through Principal's policy
// methods and declare each route's rule through Router.
package auth

import "fmt"

// Role is a user's level of power. Each role can do everything the ones
// below it can.
type Role string

// The roles, least to most power.
const (
	Contributor Role = "contributor" // drafts own articles, submits for review
	Author      Role = "author"      // edits and publishes own articles
	Editor      Role = "editor"      // all articles and products, click stats
	Admin       Role = "admin"       // everything, users and settings
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
