package auth

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wellness/cms/internal/problem"
)

// User is an account. PasswordHash never leaves this package in a response:
// handlers answer with UserView.
type User struct {
	ID             string    `bson:"_id"`
	Email          string    `bson:"email"`
	Name           string    `bson:"name"`
	Role           Role      `bson:"role"`
	PasswordHash   string    `bson:"passwordHash"`
	Disabled       bool      `bson:"disabled"`
	SessionVersion int       `bson:"sessionVersion"`
	CreatedAt      time.Time `bson:"createdAt"`
	UpdatedAt      time.Time `bson:"updatedAt"`
}

// UserView is the public form of a user.
type UserView struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// View returns the fields a client may see.
func (u *User) View() UserView {
	return UserView{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Disabled: u.Disabled,
		CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC()}
}

// NormalizeEmail trims and lower-cases an address. Lookups and the unique
// index use this form (FerretDB has no case-insensitive collations).
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

const maxNameLen = 100

func validEmail(e string) bool {
	if len(e) > 254 || strings.ContainsAny(e, " \t\r\n<>") {
		return false
	}
	a, err := mail.ParseAddress(e)
	return err == nil && a.Address == e && strings.Contains(e[strings.LastIndexByte(e, '@'):], ".")
}

// NewUser is the input for creating a user.
type NewUser struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Role     Role   `json:"role"`
	Password string `json:"password"`
}

// Validate normalizes the email and checks every field.
func (n *NewUser) Validate() error {
	var f problem.Fields
	n.Email = NormalizeEmail(n.Email)
	n.Name = strings.TrimSpace(n.Name)
	if !validEmail(n.Email) {
		f.Add("email", "must be an email address")
	}
	checkName(&f, n.Name)
	if !n.Role.Valid() {
		f.Add("role", "must be one of contributor, author, editor, admin")
	}
	if msg := CheckPassword(n.Password); msg != "" {
		f.Add("password", "%s", msg)
	}
	return f.Err()
}

func checkName(f *problem.Fields, name string) {
	if name == "" || utf8.RuneCountInString(name) > maxNameLen {
		f.Add("name", "must be 1 to %d characters", maxNameLen)
	}
}

// UserUpdate is a partial change to a user; nil fields stay as they are.
type UserUpdate struct {
	Email    *string `json:"email"`
	Name     *string `json:"name"`
	Role     *Role   `json:"role"`
	Password *string `json:"password"`
	Disabled *bool   `json:"disabled"`
}

// Validate normalizes and checks the fields that are present.
func (u *UserUpdate) Validate() error {
	var f problem.Fields
	if u.Email != nil {
		e := NormalizeEmail(*u.Email)
		u.Email = &e
		if !validEmail(e) {
			f.Add("email", "must be an email address")
		}
	}
	if u.Name != nil {
		n := strings.TrimSpace(*u.Name)
		u.Name = &n
		checkName(&f, n)
	}
	if u.Role != nil && !u.Role.Valid() {
		f.Add("role", "must be one of contributor, author, editor, admin")
	}
	if u.Password != nil {
		if msg := CheckPassword(*u.Password); msg != "" {
			f.Add("password", "%s", msg)
		}
	}
	return f.Err()
}

// EndsSessions reports whether applying u must log the user out
// everywhere: a new password, being disabled, or a change of role (tokens
// carry the role).
func (u *UserUpdate) EndsSessions(old *User) bool {
	return u.Password != nil ||
		(u.Disabled != nil && *u.Disabled && !old.Disabled) ||
		(u.Role != nil && *u.Role != old.Role)
}

// Apply copies the present fields onto user (the password is hashed by the
// caller into hash).
func (u *UserUpdate) Apply(user *User, hash string, now time.Time) {
	ends := u.EndsSessions(user)
	if u.Email != nil {
		user.Email = *u.Email
	}
	if u.Name != nil {
		user.Name = *u.Name
	}
	if u.Role != nil {
		user.Role = *u.Role
	}
	if u.Disabled != nil {
		user.Disabled = *u.Disabled
	}
	if hash != "" {
		user.PasswordHash = hash
	}
	if ends {
		user.SessionVersion++
	}
	user.UpdatedAt = now
}
