package auth

import (
	"errors"
	"fmt"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// Access is the rule a route declares: public, or signed in with at least
// some role. Every route is registered through Router with one, so no route
// can ship without a decision about who may call it.
type Access struct {
	min Role // "" means public
}

// Public routes need no credentials (they may still check their own, like a
// preview token).
var Public = Access{}

// AtLeast requires a valid access token of a user with role min or higher.
func AtLeast(min Role) Access { return Access{min: min} }

// SignedIn requires any valid access token.
var SignedIn = AtLeast(Contributor)

func (a Access) String() string {
	if a.min == "" {
		return "public"
	}
	return "at least " + string(a.min)
}

// Rules records the access rule of every route registered through a Router.
type Rules struct {
	mu sync.Mutex
	m  map[string]Access
}

// NewRules returns an empty rule table.
func NewRules() *Rules { return &Rules{m: map[string]Access{}} }

func (r *Rules) add(method, fullPath string, a Access) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := method + " " + fullPath
	if _, dup := r.m[key]; dup {
		panic(fmt.Sprintf("auth: route %s declared twice", key))
	}
	r.m[key] = a
}

// Lookup returns the rule declared for a route pattern.
func (r *Rules) Lookup(method, fullPath string) (Access, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.m[method+" "+fullPath]
	return a, ok
}

// List returns "METHOD /path: rule" lines, sorted, for documentation.
func (r *Rules) List() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.m))
	for k, a := range r.m {
		out = append(out, k+": "+a.String())
	}
	sort.Strings(out)
	return out
}

// Authenticator verifies a request's credentials and returns its caller.
type Authenticator func(c *gin.Context) (*Principal, error)

// Router registers routes with their access rule. Its methods mirror Gin's.
type Router struct {
	group  *gin.RouterGroup
	rules  *Rules
	authn  Authenticator
	denied func(c *gin.Context, err error)
}

// NewRouter wraps group; authn checks credentials for non-public routes.
func NewRouter(group *gin.RouterGroup, rules *Rules, authn Authenticator) *Router {
	return &Router{group: group, rules: rules, authn: authn}
}

// Group returns a router for a sub-path, with extra middleware.
func (r *Router) Group(relativePath string, mw ...gin.HandlerFunc) *Router {
	return &Router{group: r.group.Group(relativePath, mw...), rules: r.rules, authn: r.authn, denied: r.denied}
}

// Denied returns a router whose routes answer a refused caller with fn
// instead of a problem: the admin pages send a browser to the sign-in
// page. err is the 401 or 403 problem.
func (r *Router) Denied(fn func(c *gin.Context, err error)) *Router {
	cp := *r
	cp.denied = fn
	return &cp
}

// With returns a router that checks credentials with authn instead.
func (r *Router) With(authn Authenticator) *Router {
	cp := *r
	cp.authn = authn
	return &cp
}

// Handle registers handlers for method and path under rule a.
func (r *Router) Handle(method, relativePath string, a Access, handlers ...gin.HandlerFunc) {
	full := path.Join(r.group.BasePath(), relativePath)
	if strings.HasSuffix(relativePath, "/") && !strings.HasSuffix(full, "/") {
		full += "/"
	}
	r.rules.add(method, full, a)
	if a.min != "" {
		handlers = append([]gin.HandlerFunc{r.require(a.min)}, handlers...)
	}
	r.group.Handle(method, relativePath, handlers...)
}

// GET registers a GET route.
func (r *Router) GET(p string, a Access, h ...gin.HandlerFunc) { r.Handle(http.MethodGet, p, a, h...) }

// HEAD registers a HEAD route.
func (r *Router) HEAD(p string, a Access, h ...gin.HandlerFunc) {
	r.Handle(http.MethodHead, p, a, h...)
}

// POST registers a POST route.
func (r *Router) POST(p string, a Access, h ...gin.HandlerFunc) {
	r.Handle(http.MethodPost, p, a, h...)
}

// PUT registers a PUT route.
func (r *Router) PUT(p string, a Access, h ...gin.HandlerFunc) { r.Handle(http.MethodPut, p, a, h...) }

// PATCH registers a PATCH route.
func (r *Router) PATCH(p string, a Access, h ...gin.HandlerFunc) {
	r.Handle(http.MethodPatch, p, a, h...)
}

// DELETE registers a DELETE route.
func (r *Router) DELETE(p string, a Access, h ...gin.HandlerFunc) {
	r.Handle(http.MethodDelete, p, a, h...)
}

// OPTIONS registers an OPTIONS route.
func (r *Router) OPTIONS(p string, a Access, h ...gin.HandlerFunc) {
	r.Handle(http.MethodOptions, p, a, h...)
}

// challengeError is a credentials error that names the WWW-Authenticate
// challenge to answer it with (RFC 6750 section 3), so a client can tell
// an expired token, which it should refresh, from a bad one.
type challengeError struct {
	err       error
	challenge string
}

func (e *challengeError) Error() string { return e.err.Error() }
func (e *challengeError) Unwrap() error { return e.err }

// missingCredentials is the challenge when a request carried no bearer
// token at all: RFC 6750 sends no error code then.
const missingCredentials = `Bearer realm="cms"`

// require authenticates the caller and checks the role: 401 without valid
// credentials, 403 with too little power.
func (r *Router) require(min Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, err := r.authn(c)
		forbidden := err == nil && !p.AtLeast(min)
		if forbidden {
			err = problem.New(problem.Forbidden, "this needs the %s role or higher", min)
		}
		if err != nil && r.denied != nil {
			r.denied(c, err)
			c.Abort()
			return
		}
		if err != nil {
			if !forbidden {
				challenge := missingCredentials
				var ch *challengeError
				if errors.As(err, &ch) {
					challenge = ch.challenge
				}
				c.Header("WWW-Authenticate", challenge)
			}
			web.Fail(c, err)
			return
		}
		c.Request = c.Request.WithContext(WithPrincipal(c.Request.Context(), p))
		c.Next()
	}
}
