package admin

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/problem"
)

// The session cookie holds the refresh token of a login made at sign-in
// (auth.Service.Session). Over https it is a __Host- cookie: Secure, for
// this host only, path /.
const (
	cookieName       = "cms_session"
	secureCookieName = "__Host-cms_session"
)

func (ui *UI) cookieName() string {
	if ui.secure {
		return secureCookieName
	}
	return cookieName
}

func (ui *UI) registerSession(g *auth.Router) {
	g.GET("/", auth.SignedIn, func(c *gin.Context) { c.Redirect(http.StatusFound, Path+"/articles") })
	g.GET("/login", auth.Public, ui.loginPage)
	g.POST("/login", auth.Public, ui.login)
	g.POST("/logout", auth.Public, ui.logout)
	g.GET("/account", auth.SignedIn, ui.accountPage)
	g.POST("/account/password", auth.SignedIn, ui.changePassword)
}

// authenticate is the pages' authenticator: the session cookie, checked
// against the login on every request, so an ended login ends the session
// at once.
func (ui *UI) authenticate(c *gin.Context) (*auth.Principal, error) {
	raw, err := c.Cookie(ui.cookieName())
	if err != nil || raw == "" {
		return nil, problem.New(problem.Unauthorized, "sign in first")
	}
	return ui.svc.Auth.Session(c.Request.Context(), raw)
}

// denied answers a page the caller may not see: a browser without a
// session goes to the sign-in page, coming back afterwards; a signed-in
// user without the role gets a 403 page. htmx requests are told to
// redirect the whole page.
func (ui *UI) denied(c *gin.Context, err error) {
	if problem.KindOf(err) == problem.Forbidden {
		ui.fail(c, err)
		return
	}
	if problem.KindOf(err) != problem.Unauthorized {
		ui.fail(c, err)
		return
	}
	ui.clearCookie(c)
	to := Path + "/login"
	if c.Request.Method == http.MethodGet && localPath(c.Request.URL.RequestURI()) {
		to += "?next=" + url.QueryEscape(c.Request.URL.RequestURI())
	}
	if c.GetHeader("HX-Request") == "true" {
		c.Header("HX-Redirect", to)
		c.Status(http.StatusUnauthorized)
		return
	}
	if c.Request.Method != http.MethodGet {
		// A form posted after the session ended: say so rather than
		// silently redirect, which would lose what was typed.
		ui.render(c, http.StatusUnauthorized, "login.html", &page{Title: "Sign in",
			Error: "Your session ended. Sign in again in a new tab, then send the form again.",
			Data:  loginData{Next: ""}})
		return
	}
	c.Redirect(http.StatusSeeOther, to)
}

// crossOrigin refuses state-changing requests from other origins, by the
// browser's Sec-Fetch-Site and Origin headers (http.CrossOriginProtection);
// the SameSite=Strict cookie is the second line.
func (ui *UI) crossOrigin(c *gin.Context) {
	if err := ui.cop.Check(c.Request); err != nil {
		ui.render(c, http.StatusForbidden, "error.html", &page{Title: "Forbidden",
			Error: "This request came from another site and was refused."})
		c.Abort()
		return
	}
	c.Next()
}

type loginData struct {
	Email string
	Next  string
}

func (ui *UI) loginPage(c *gin.Context) {
	next := c.Query("next")
	if !localPath(next) {
		next = ""
	}
	if _, err := ui.authenticate(c); err == nil {
		if next == "" {
			next = Path + "/articles"
		}
		c.Redirect(http.StatusSeeOther, next)
		return
	}
	ui.render(c, http.StatusOK, "login.html", &page{Title: "Sign in", Data: loginData{Next: next}})
}

// login signs in with the API's accounts and throttling (auth.Service.Login)
// and keeps the login's refresh token in the cookie.
func (ui *UI) login(c *gin.Context) {
	email, password, next := c.PostForm("email"), c.PostForm("password"), c.PostForm("next")
	if !localPath(next) {
		next = Path + "/articles"
	}
	pair, err := ui.svc.Auth.Login(c.Request.Context(), email, password, c.ClientIP())
	if err != nil {
		status, text, _ := message(c, err)
		ui.render(c, status, "login.html", &page{Title: "Sign in", Error: text,
			Data: loginData{Email: email, Next: next}})
		return
	}
	ui.setCookie(c, pair.RefreshToken)
	c.Redirect(http.StatusSeeOther, next)
}

// logout ends the login, not just the cookie: a copy of the cookie stops
// working too.
func (ui *UI) logout(c *gin.Context) {
	if raw, err := c.Cookie(ui.cookieName()); err == nil && raw != "" {
		if err := ui.svc.Auth.Logout(c.Request.Context(), raw); err != nil {
			ui.fail(c, err)
			return
		}
	}
	ui.clearCookie(c)
	c.Redirect(http.StatusSeeOther, Path+"/login?done=signedout")
}

func (ui *UI) setCookie(c *gin.Context, raw string) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: ui.cookieName(), Value: raw, Path: "/", HttpOnly: true, Secure: ui.secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(auth.RefreshIdleTTL / time.Second),
	})
}

func (ui *UI) clearCookie(c *gin.Context) {
	if _, err := c.Cookie(ui.cookieName()); err != nil {
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: ui.cookieName(), Value: "", Path: "/", HttpOnly: true, Secure: ui.secure,
		SameSite: http.SameSiteStrictMode, MaxAge: -1,
	})
}

type accountData struct {
	Fields map[string]string
}

func (ui *UI) accountPage(c *gin.Context) {
	ui.render(c, http.StatusOK, "account.html", &page{Title: "Your account", Data: accountData{}})
}

// changePassword changes the caller's own password. Every session of the
// user ends with it (auth), this one too, so the browser signs in again
// with the new password at once.
func (ui *UI) changePassword(c *gin.Context) {
	p := auth.Caller(c)
	current, next, confirm := c.PostForm("currentPassword"), c.PostForm("newPassword"), c.PostForm("confirmPassword")
	if next != confirm {
		ui.render(c, http.StatusBadRequest, "account.html", &page{Title: "Your account",
			Error: "The new passwords do not match.", Data: accountData{Fields: map[string]string{"confirmPassword": "does not match"}}})
		return
	}
	err := ui.svc.Auth.ChangePassword(c.Request.Context(), p.UserID, current, next, c.ClientIP())
	if err != nil {
		status, text, fields := message(c, err)
		ui.render(c, status, "account.html", &page{Title: "Your account", Error: text, Data: accountData{Fields: fields}})
		return
	}
	pair, err := ui.svc.Auth.Login(c.Request.Context(), p.Email, next, c.ClientIP())
	if errors.Is(err, nil) && pair != nil {
		ui.setCookie(c, pair.RefreshToken)
		seeOther(c, Path+"/account", "password")
		return
	}
	ui.clearCookie(c)
	c.Redirect(http.StatusSeeOther, Path+"/login?done=password")
}
