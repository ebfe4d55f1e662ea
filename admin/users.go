package admin

import (
	"crypto/rand"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// Users are managed by admins only, as the API's /users routes are. The
// auth service keeps its rules: the last active admin stays one, and a
// change of role, a new password or being disabled ends the user's
// sessions at once.
func (ui *UI) registerUsers(g *auth.Router) {
	admin := auth.AtLeast(auth.Admin)
	g.GET("/users", admin, ui.usersPage)
	g.POST("/users", admin, ui.createUser)
	g.GET("/users/:id", admin, ui.userPage)
	g.POST("/users/:id/role", admin, ui.changeUserRole)
	g.POST("/users/:id/disabled", admin, ui.setUserDisabled)
	g.POST("/users/:id/password", admin, ui.resetUserPassword)
}

// usersPageSize is how many users a list page shows.
const usersPageSize = 100

type usersData struct {
	Users  []auth.UserView
	Next   string
	Roles  []auth.Role
	Form   newUserForm
	Errors map[string]string
}

type newUserForm struct {
	Email, Name, Role string
	Generate          bool
}

func (ui *UI) usersPage(c *gin.Context) {
	ui.renderUsers(c, http.StatusOK, &usersData{Form: newUserForm{Role: string(auth.Author), Generate: true}}, "")
}

func (ui *UI) renderUsers(c *gin.Context, status int, d *usersData, errText string) {
	after := c.Query("after")
	if after != "" && !validUserID(after) {
		after = ""
	}
	users, err := ui.svc.Auth.Store().FindUsers(c.Request.Context(), after, usersPageSize+1)
	if err != nil {
		ui.fail(c, err)
		return
	}
	if len(users) > usersPageSize {
		users = users[:usersPageSize]
		d.Next = Path + "/users?" + url.Values{"after": {users[len(users)-1].ID}}.Encode()
	}
	for i := range users {
		d.Users = append(d.Users, users[i].View())
	}
	d.Roles = auth.Roles
	ui.render(c, status, "users.html", &page{Title: "Users", Nav: "users", Error: errText, Data: d})
}

// validUserID reports whether id has the form of a user's ID, the hex of
// an ObjectID.
func validUserID(id string) bool {
	if len(id) != 24 {
		return false
	}
	for _, r := range id {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

// oneTimePassword makes a password for an admin to hand over: 128
// random bits (crypto/rand.Text) in lower-case groups of five, easy to
// read out. The user changes it on their account page.
func oneTimePassword() string {
	t := strings.ToLower(rand.Text())
	var b strings.Builder
	for i := 0; i < len(t); i += 5 {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(t[i:min(i+5, len(t))])
	}
	return b.String()
}

// createUser adds a user with the password typed, or a generated one that
// the next page shows this once.
func (ui *UI) createUser(c *gin.Context) {
	form := newUserForm{Email: c.PostForm("email"), Name: c.PostForm("name"), Role: c.PostForm("role"),
		Generate: c.PostForm("generate") == "on"}
	password := c.PostForm("password")
	if form.Generate {
		password = oneTimePassword()
	}
	u, err := ui.svc.Auth.CreateUser(c.Request.Context(), auth.NewUser{Email: form.Email, Name: form.Name,
		Role: auth.Role(form.Role), Password: password})
	if err != nil {
		status, text, fields := message(c, err)
		ui.renderUsers(c, status, &usersData{Form: form, Errors: fields}, text)
		return
	}
	if !form.Generate {
		seeOther(c, Path+"/users/"+u.ID, "created")
		return
	}
	// The password is shown here and nowhere else: not in a redirect's
	// URL, not stored.
	ui.renderUser(c, http.StatusCreated, u, &userData{OneTime: password}, "")
}

type userData struct {
	User    auth.UserView
	Version int64
	Roles   []auth.Role
	Self    bool
	OneTime string
	Errors  map[string]string
}

func (ui *UI) userPage(c *gin.Context) {
	u, err := ui.findUser(c)
	if err != nil {
		ui.fail(c, err)
		return
	}
	ui.renderUser(c, http.StatusOK, u, &userData{}, "")
}

func (ui *UI) findUser(c *gin.Context) (*auth.User, error) {
	id := c.Param("id")
	if !validUserID(id) {
		return nil, problem.New(problem.NotFound, "no such user")
	}
	return ui.svc.Auth.Store().FindUserByID(c.Request.Context(), id)
}

func (ui *UI) renderUser(c *gin.Context, status int, u *auth.User, d *userData, errText string) {
	d.User, d.Version, d.Roles = u.View(), u.Version, auth.Roles
	d.Self = auth.Caller(c).UserID == u.ID
	title := u.Name
	if title == "" {
		title = u.Email
	}
	ui.render(c, status, "user.html", &page{Title: title, Nav: "users", Error: errText, Data: d})
}

// updateUser applies upd at the version the form was loaded at and
// answers: the user's page again, or the page with the service's
// refusal (the last admin, a stale form, a weak password).
func (ui *UI) updateUser(c *gin.Context, upd auth.UserUpdate, oneTime string) {
	ctx := c.Request.Context()
	id := c.Param("id")
	if !validUserID(id) {
		ui.fail(c, problem.New(problem.NotFound, "no such user"))
		return
	}
	v, _ := strconv.ParseInt(c.PostForm("version"), 10, 64)
	u, err := ui.svc.Auth.UpdateUserAt(ctx, id, web.Precondition{Version: v, Sent: true}, upd)
	if err != nil {
		cur, gerr := ui.svc.Auth.Store().FindUserByID(ctx, id)
		if gerr != nil {
			ui.fail(c, gerr)
			return
		}
		status, text, fields := message(c, err)
		if problem.KindOf(err) == problem.PreconditionFailed {
			text = "Someone else changed this user since you loaded the page. Check it below, then try again."
		}
		ui.renderUser(c, status, cur, &userData{Errors: fields}, text)
		return
	}
	if oneTime != "" {
		ui.renderUser(c, http.StatusOK, u, &userData{OneTime: oneTime}, "")
		return
	}
	seeOther(c, Path+"/users/"+u.ID, "saved")
}

func (ui *UI) changeUserRole(c *gin.Context) {
	ui.updateUser(c, auth.UserUpdate{Role: web.Some(auth.Role(c.PostForm("role")))}, "")
}

func (ui *UI) setUserDisabled(c *gin.Context) {
	ui.updateUser(c, auth.UserUpdate{Disabled: web.Some(c.PostForm("disabled") == "true")}, "")
}

// resetUserPassword sets the password typed, or a generated one shown
// this once. Every session of the user ends with it.
func (ui *UI) resetUserPassword(c *gin.Context) {
	password, oneTime := c.PostForm("password"), ""
	if c.PostForm("generate") == "on" {
		password = oneTimePassword()
		oneTime = password
	}
	ui.updateUser(c, auth.UserUpdate{Password: web.Some(password)}, oneTime)
}
