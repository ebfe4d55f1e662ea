// Package admin is the web UI at /admin/: server-rendered pages (html/template
// and htmx) where authors write and the owner manages products and reads
// what earns. Every page calls the same services as the JSON API, so each
// rule (roles, ownership, If-Match, compliance) is enforced in one place;
// this package only turns forms into service calls and answers into HTML.
package admin

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
	"github.com/wellness/cms/media"
	"github.com/wellness/cms/site"
	"github.com/wellness/cms/webhook"
	"github.com/wellness/cms/wpimport"
)

// Path is where the UI is mounted.
const Path = "/admin"

// Owns reports whether a route path is the UI's (its pages and the
// redirect of / to them), which the API's OpenAPI document leaves out.
func Owns(routePath string) bool {
	return routePath == "/" || routePath == Path || strings.HasPrefix(routePath, Path+"/")
}

// Services are what the pages call: the same services the JSON API calls.
type Services struct {
	Auth      *auth.Service
	Articles  *cms.Service
	Affiliate *affiliate.Service
	Media     *media.Service
	Site      *site.Service
	Webhooks  *webhook.Service
	Import    *wpimport.Service
	// DB holds what only the UI keeps: autosaved forms.
	DB *mongo.Database
}

// Options configure the UI.
type Options struct {
	// PublicURL is the service's base URL; an https one makes the session
	// cookie Secure.
	PublicURL string
	// PreviewURL is the front end's preview page, with {slug} and {token}
	// replaced (CMS_PREVIEW_URL); empty means the content API's own
	// preview endpoint.
	PreviewURL string
	Logger     *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// UI serves the admin pages.
type UI struct {
	svc    Services
	opt    Options
	pages  map[string]*template.Template
	assets map[string]asset
	secure bool
	cop    *http.CrossOriginProtection
	csp    []string

	autosaves *autosaves
}

//go:embed all:templates
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// New parses the templates and loads the bundled assets.
func New(svc Services, o Options) (*UI, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	ui := &UI{svc: svc, opt: o, secure: strings.HasPrefix(o.PublicURL, "https://"),
		cop: http.NewCrossOriginProtection(), csp: []string{contentPolicy(o.PublicURL)}}
	ui.autosaves = &autosaves{coll: svc.DB.Collection("admin_autosaves"), now: o.Now}
	var err error
	if ui.assets, err = loadAssets(staticFS); err != nil {
		return nil, err
	}
	if ui.pages, err = ui.parsePages(); err != nil {
		return nil, err
	}
	return ui, nil
}

// Register mounts the UI on root: the pages under /admin, which
// authenticate by the session cookie, and the redirect of / to them.
func (ui *UI) Register(root *auth.Router) {
	root.GET("/", auth.Public, web.NoQuery, func(c *gin.Context) {
		c.Redirect(http.StatusFound, Path+"/")
	})
	g := root.Group(Path, ui.htmlHeaders, ui.crossOrigin).With(ui.authenticate).Denied(ui.denied)
	g.GET("/static/:file", auth.Public, ui.serveAsset)
	ui.registerSession(g)
	ui.registerArticles(g)
	ui.registerHistory(g)
	ui.registerProducts(g)
	ui.registerClicks(g)
	ui.registerMedia(g)
	ui.registerUsers(g)
	ui.registerSettings(g)
	ui.registerImport(g)
}

// contentPolicy is the policy of every page: only this origin's scripts,
// styles and connections, no inline script or style, no framing, forms
// posting only here. Images may come from https (covers and product images
// elsewhere) and from the public URL, where the media library's files are,
// which need not be the address the UI is opened at.
func contentPolicy(publicURL string) string {
	img := "'self' data: https:"
	if u, err := url.Parse(publicURL); err == nil && u.Scheme == "http" && u.Host != "" {
		img += " http://" + u.Host
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src " + img + "; " +
		"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
}

var (
	noStore      = []string{"no-store"}
	htmlType     = []string{"text/html; charset=utf-8"}
	sameOrigin   = []string{"same-origin"}
	varyCookie   = []string{"Cookie"}
	assetCaching = []string{"public, max-age=31536000, immutable"}
)

// htmlHeaders sets what every answer under /admin carries: the CSP, and
// no caching, since every page shows one user's view.
func (ui *UI) htmlHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h["Content-Security-Policy"] = ui.csp
	h["Cache-Control"] = noStore
	h["Referrer-Policy"] = sameOrigin
	c.Next()
}

// page is what every template gets: the layout's parts and the page's own.
type page struct {
	Title   string
	Nav     string
	User    *auth.Principal
	Flash   string
	Error   string
	Scripts []string
	Assets  map[string]asset
	Data    any
}

// Can reports whether the signed-in user holds role r or more, for the
// navigation and the buttons.
func (p *page) Can(r string) bool { return p.User.AtLeast(auth.Role(r)) }

// Asset is the versioned URL of a bundled file.
func (p *page) Asset(name string) string { return p.Assets[name].url }

// render writes the page tmpl with status. The page is rendered into a
// buffer first, so a template error is a clean 500, not half a page.
func (ui *UI) render(c *gin.Context, status int, tmpl string, p *page) {
	t, ok := ui.pages[tmpl]
	if !ok {
		web.Fail(c, fmt.Errorf("admin: no template %q", tmpl))
		return
	}
	if p.User == nil {
		p.User = auth.Caller(c)
	}
	if p.Flash == "" {
		p.Flash = flashes[c.Query("done")]
	}
	p.Assets = ui.assets
	var buf bytes.Buffer
	name := "layout"
	if isFragment(c) {
		name = "content"
	}
	if err := t.ExecuteTemplate(&buf, name, p); err != nil {
		web.Fail(c, fmt.Errorf("admin: render %s: %w", tmpl, err))
		return
	}
	h := c.Writer.Header()
	h["Content-Type"] = htmlType
	h["Vary"] = varyCookie
	c.Status(status)
	_, _ = c.Writer.Write(buf.Bytes())
}

// isFragment reports whether htmx asked for part of a page (HX-Request),
// which gets the page's content without the layout.
func isFragment(c *gin.Context) bool {
	return c.GetHeader("HX-Request") == "true" && c.GetHeader("HX-Boosted") != "true"
}

// flashes are the messages a redirect after a form may show, named in its
// ?done= so that no text a link carries is shown.
var flashes = map[string]string{
	"saved":       "Saved.",
	"created":     "Created.",
	"published":   "Published.",
	"scheduled":   "Scheduled.",
	"submitted":   "Submitted for review.",
	"unpublished": "Unpublished.",
	"discarded":   "Changes discarded.",
	"restored":    "Revision restored as a new version.",
	"deleted":     "Deleted.",
	"archived":    "Archived.",
	"password":    "Password changed.",
	"uploaded":    "Uploaded.",
	"signedout":   "Signed out.",
}

// seeOther redirects after a successful form (POST, redirect, GET), to a
// path of ours with the flash named by done.
func seeOther(c *gin.Context, to, done string) {
	if done != "" {
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		to += sep + "done=" + url.QueryEscape(done)
	}
	if c.GetHeader("HX-Request") == "true" {
		c.Header("HX-Redirect", to)
		c.Status(http.StatusNoContent)
		return
	}
	c.Redirect(http.StatusSeeOther, to)
}

// localPath reports whether next is a page of the UI that a sign-in may
// send the browser back to: never another host.
func localPath(next string) bool {
	if !strings.HasPrefix(next, Path+"/") || strings.ContainsAny(next, "\\\r\n\t") {
		return false
	}
	u, err := url.Parse(next)
	return err == nil && u.Scheme == "" && u.Host == "" && strings.HasPrefix(path.Clean(u.Path)+"/", Path+"/")
}

// message is what a form shows for a service's error: the problem's
// detail and its field errors; an internal error is logged and shown as a
// generic sentence.
func message(c *gin.Context, err error) (status int, text string, fields map[string]string) {
	d := problem.DetailsOf(err)
	status = problem.Status(err)
	if problem.KindOf(err) == problem.Internal {
		web.Logger(c).Error("admin request failed", "err", err)
		return status, "Something went wrong on our side; nothing was saved. Try again.", nil
	}
	text = d.Detail
	if len(d.Errors) > 0 {
		fields = make(map[string]string, len(d.Errors))
		for _, fe := range d.Errors {
			// "tags[1]" is shown at the tags field.
			name, _, _ := strings.Cut(fe.Field, "[")
			if _, dup := fields[name]; !dup {
				fields[name] = fe.Message
			}
		}
	}
	return status, text, fields
}

// fail renders the error page for err, with the status its kind gives.
func (ui *UI) fail(c *gin.Context, err error) {
	status, text, _ := message(c, err)
	ui.render(c, status, "error.html", &page{Title: http.StatusText(status), Error: text})
}

// asset is one bundled file, kept in memory with its content hash.
type asset struct {
	body  []byte
	ctype string
	etag  string
	url   string
}

func loadAssets(fsys fs.FS) (map[string]asset, error) {
	out := map[string]asset{}
	entries, err := fs.ReadDir(fsys, "static")
	if err != nil {
		return nil, fmt.Errorf("admin: assets: %w", err)
	}
	for _, e := range entries {
		b, err := fs.ReadFile(fsys, "static/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("admin: asset %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(b)
		v := hex.EncodeToString(sum[:8])
		ctype := "application/octet-stream"
		switch path.Ext(e.Name()) {
		case ".js":
			ctype = "text/javascript; charset=utf-8"
		case ".css":
			ctype = "text/css; charset=utf-8"
		}
		out[e.Name()] = asset{body: b, ctype: ctype, etag: `"` + v + `"`, url: Path + "/static/" + e.Name() + "?v=" + v}
	}
	return out, nil
}

// serveAsset answers a bundled file. Its URL carries the content hash, so
// it can be cached for good.
func (ui *UI) serveAsset(c *gin.Context) {
	a, ok := ui.assets[c.Param("file")]
	if !ok {
		web.Fail(c, problem.New(problem.NotFound, "no such file"))
		return
	}
	h := c.Writer.Header()
	h["Cache-Control"] = assetCaching
	h.Set("ETag", a.etag)
	if web.ETagListed(c.GetHeader("If-None-Match"), a.etag) {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, a.ctype, a.body)
}

var errNotFound = errors.New("not found")
