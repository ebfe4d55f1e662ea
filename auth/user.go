package auth

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
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
	// Version counts the user's writes and is the ETag of its view;
	// users stored before versions existed are at version 0.
	Version int64 `bson:"version"`
}

// ETag is the strong entity tag of this version.
func (u *User) ETag() string { return web.ETag(u.Version) }

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
	f := n.check()
	if msg := CheckPassword(n.Password); msg != "" {
		f.Add("password", "%s", msg)
	}
	return f.Err()
}

// check is Validate without the password.
func (n *NewUser) check() problem.Fields {
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
	return f
}

func checkName(f *problem.Fields, name string) {
	if name == "" || utf8.RuneCountInString(name) > maxNameLen {
		f.Add("name", "must be 1 to %d characters", maxNameLen)
	}
}

// userReadOnly are the members of UserView that a PATCH does not take.
var userReadOnly = web.ReadOnlyMembers("id", "createdAt", "updatedAt")

// UserUpdate is a JSON merge patch (RFC 7396) of a user: absent members
// stay as they are. Every member of a user is required, so null on any of
// them is Invalid ("cannot be cleared"), and so is an empty string, which
// fails the member's own rule.
type UserUpdate struct {
	Email    web.Optional[string] `json:"email"`
	Name     web.Optional[string] `json:"name"`
	Role     web.Optional[Role]   `json:"role"`
	Password web.Optional[string] `json:"password"`
	Disabled web.Optional[bool]   `json:"disabled"`
}

// Validate normalizes and checks the members that are present.
func (u *UserUpdate) Validate() error {
	var f problem.Fields
	web.RefuseNull(&f, "email", u.Email)
	web.RefuseNull(&f, "name", u.Name)
	web.RefuseNull(&f, "role", u.Role)
	web.RefuseNull(&f, "password", u.Password)
	web.RefuseNull(&f, "disabled", u.Disabled)
	if has(u.Email) {
		u.Email.Value = NormalizeEmail(u.Email.Value)
		if !validEmail(u.Email.Value) {
			f.Add("email", "must be an email address")
		}
	}
	if has(u.Name) {
		u.Name.Value = strings.TrimSpace(u.Name.Value)
		checkName(&f, u.Name.Value)
	}
	if has(u.Role) && !u.Role.Value.Valid() {
		f.Add("role", "must be one of contributor, author, editor, admin")
	}
	if has(u.Password) {
		if msg := CheckPassword(u.Password.Value); msg != "" {
			f.Add("password", "%s", msg)
		}
	}
	return f.Err()
}

// has reports whether the member carries a value (present, not null).
func has[T any](o web.Optional[T]) bool { return o.Set && !o.Null }

// NewPassword returns the password the update sets, if any.
func (u *UserUpdate) NewPassword() (string, bool) { return u.Password.Value, has(u.Password) }

// EndsSessions reports whether applying u must log the user out
// everywhere: a new password, being disabled, or a change of role (tokens
// carry the role).
func (u *UserUpdate) EndsSessions(old *User) bool {
	return has(u.Password) ||
		(has(u.Disabled) && u.Disabled.Value && !old.Disabled) ||
		(has(u.Role) && u.Role.Value != old.Role)
}

// Apply copies the present members onto user (the password is hashed by
// the caller into hash). Nulls are for Validate to refuse; Apply skips
// them.
func (u *UserUpdate) Apply(user *User, hash string, now time.Time) {
	ends := u.EndsSessions(user)
	if has(u.Email) {
		user.Email = u.Email.Value
	}
	if has(u.Name) {
		user.Name = u.Name.Value
	}
	if has(u.Role) {
		user.Role = u.Role.Value
	}
	if has(u.Disabled) {
		user.Disabled = u.Disabled.Value
	}
	if hash != "" {
		user.PasswordHash = hash
	}
	if ends {
		user.SessionVersion++
	}
	user.UpdatedAt = now
}
