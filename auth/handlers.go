package auth

import (
	"net/http"
	"regexp"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// Register mounts the auth and user routes on the /api/v1 router. Every
// route reads its query string strictly: only the users list takes
// parameters, and anything else sent is a 400.
func (s *Service) Register(r *Router) {
	r.POST("/auth/login", Public, noQuery(s.handleLogin))
	r.POST("/auth/refresh", Public, noQuery(s.handleRefresh))
	r.POST("/auth/logout", Public, noQuery(s.handleLogout))
	r.GET("/auth/me", SignedIn, noQuery(s.handleMe))
	r.PUT("/auth/password", SignedIn, noQuery(s.handleChangePassword))

	admin := AtLeast(Admin)
	r.GET("/users", admin, web.Handle(s.handleListUsers))
	r.POST("/users", admin, noQuery(s.handleCreateUser))
	r.GET("/users/:id", admin, noQuery(s.handleGetUser))
	r.PATCH("/users/:id", admin, noQuery(s.handleUpdateUser))
	r.DELETE("/users/:id", admin, noQuery(s.handleDeleteUser))
}

// noQuery adapts the handler of a route that takes no query parameters:
// any query string (or a malformed one) is refused before the handler
// runs.
func noQuery(h web.HandlerFunc) gin.HandlerFunc {
	return web.Handle(func(c *gin.Context) error {
		if _, err := web.ParseQuery(c); err != nil {
			return err
		}
		return h(c)
	})
}

// noStore marks a response that carries credentials or personal data.
func noStore(c *gin.Context) { c.Header("Cache-Control", "no-store") }

// writeUser answers with the user's view and its version as ETag.
func writeUser(c *gin.Context, status int, u *User) {
	c.Header("ETag", u.ETag())
	noStore(c)
	c.JSON(status, u.View())
}

func (s *Service) handleLogin(c *gin.Context) error {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := web.Decode(c, &in); err != nil {
		return err
	}
	var f problem.Fields
	if in.Email == "" || len(in.Email) > 254 {
		f.Add("email", "is required")
	}
	if in.Password == "" || len(in.Password) > 4*MaxPasswordLen {
		f.Add("password", "is required")
	}
	if err := f.Err(); err != nil {
		return err
	}
	// ClientIP honours X-Forwarded-For only from CMS_TRUSTED_PROXIES.
	pair, err := s.Login(c.Request.Context(), in.Email, in.Password, c.ClientIP())
	if err != nil {
		return err
	}
	noStore(c)
	c.JSON(http.StatusOK, pair)
	return nil
}

type refreshBody struct {
	RefreshToken string `json:"refreshToken"`
}

func (s *Service) handleRefresh(c *gin.Context) error {
	var in refreshBody
	if err := web.Decode(c, &in); err != nil {
		return err
	}
	pair, err := s.Refresh(c.Request.Context(), in.RefreshToken)
	if err != nil {
		return err
	}
	noStore(c)
	c.JSON(http.StatusOK, pair)
	return nil
}

func (s *Service) handleLogout(c *gin.Context) error {
	var in refreshBody
	if err := web.Decode(c, &in); err != nil {
		return err
	}
	if err := s.Logout(c.Request.Context(), in.RefreshToken); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

func (s *Service) handleMe(c *gin.Context) error {
	u, err := s.store.FindUserByID(c.Request.Context(), Caller(c).UserID)
	if err != nil {
		return err
	}
	noStore(c)
	c.JSON(http.StatusOK, u.View())
	return nil
}

func (s *Service) handleChangePassword(c *gin.Context) error {
	var in struct {
		CurrentPassword string `json:"currentPassword"`
		NewPassword     string `json:"newPassword"`
	}
	if err := web.Decode(c, &in); err != nil {
		return err
	}
	if err := s.ChangePassword(c.Request.Context(), Caller(c).UserID, in.CurrentPassword, in.NewPassword, c.ClientIP()); err != nil {
		return renameField(err, "password", "newPassword")
	}
	c.Status(http.StatusNoContent)
	return nil
}

// renameField makes a validation error name the request's own field.
func renameField(err error, from, to string) error {
	if pe, ok := err.(*problem.Error); ok {
		for i := range pe.Fields {
			if pe.Fields[i].Field == from {
				pe.Fields[i].Field = to
			}
		}
	}
	return err
}

var userIDPattern = regexp.MustCompile(`^[0-9a-f]{24}$`)

// userID reads the :id parameter; a malformed one cannot exist, so 404.
func userID(c *gin.Context) (string, error) {
	id := c.Param("id")
	if !userIDPattern.MatchString(id) {
		return "", problem.New(problem.NotFound, "no such user")
	}
	return id, nil
}

func (s *Service) handleListUsers(c *gin.Context) error {
	limit, after, err := pageParams(c)
	if err != nil {
		return err
	}
	users, err := s.store.FindUsers(c.Request.Context(), after, limit+1)
	if err != nil {
		return err
	}
	views := make([]UserView, len(users))
	for i := range users {
		views[i] = users[i].View()
	}
	noStore(c)
	c.JSON(http.StatusOK, web.NewPage(views, limit, func(u UserView) string { return web.EncodeCursor(usersScope, u.ID) }))
	return nil
}

// usersScope names the user list, the scope of its cursors.
const usersScope = "auth.users"

// pageParams reads limit (1..100, default 20) and an opaque cursor (the
// ID of the last user shown); any other query parameter or a bad value is
// a 400.
func pageParams(c *gin.Context) (limit int, after string, err error) {
	q, err := web.ParseQuery(c, "limit", "cursor")
	if err != nil {
		return 0, "", err
	}
	var f problem.Fields
	limit = q.Limit(&f, 20, 100)
	var id string
	if q.Cursor(&f, usersScope, func() bool { return userIDPattern.MatchString(id) }, &id) {
		after = id
	}
	return limit, after, f.Err()
}

func (s *Service) handleCreateUser(c *gin.Context) error {
	var in NewUser
	if err := web.Decode(c, &in); err != nil {
		return err
	}
	u, err := s.CreateUser(c.Request.Context(), in)
	if err != nil {
		return err
	}
	c.Header("Location", "/api/v1/users/"+u.ID)
	writeUser(c, http.StatusCreated, u)
	return nil
}

func (s *Service) handleGetUser(c *gin.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	u, err := s.store.FindUserByID(c.Request.Context(), id)
	if err != nil {
		return err
	}
	if web.NotModified(c, u.ETag()) {
		return nil
	}
	writeUser(c, http.StatusOK, u)
	return nil
}

func (s *Service) handleUpdateUser(c *gin.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	var in UserUpdate
	at, err := web.ReadUpdate(c, "user", &in, userReadOnly, func() (any, int64, error) {
		u, err := s.store.FindUserByID(c.Request.Context(), id)
		if err != nil {
			return nil, 0, err
		}
		return u.View(), u.Version, nil
	})
	if err != nil {
		return err
	}
	u, err := s.UpdateUserAt(c.Request.Context(), id, at, in)
	if err != nil {
		return err
	}
	writeUser(c, http.StatusOK, u)
	return nil
}

func (s *Service) handleDeleteUser(c *gin.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	at, err := web.IfMatch(c, false, "user")
	if err != nil {
		return err
	}
	if err := s.DeleteUser(c.Request.Context(), id, at); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}
