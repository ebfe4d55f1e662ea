package affiliate

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// The page a person gets for a dead /go/ link: a reader of an old article
// clicked a product that is gone, and raw problem+json would be a dead end.
// It says so and links back to the article the link was in (the a
// parameter) or to the site. It loads nothing: no script, no image, no
// font, nothing from a third party, and its one inline style is allowed by
// hash, so the CSP can be default-src 'none'.

//go:embed templates/deadlink.html
var deadLinkSource string

// deadLinkStyle is the page's only style. Its hash is in the CSP; change
// the text and the hash follows.
const deadLinkStyle = `body{font:1.1rem/1.5 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}` +
	`main{max-width:36rem;margin:15vh auto;padding:0 1.5rem}h1{font-size:1.6rem}a{color:#0b5cad}`

// deadLinkTemplate is parsed once, at start: a broken template fails the
// process, not a reader's request.
var deadLinkTemplate = template.Must(template.New("deadlink").Parse(deadLinkSource))

// deadLinkCSP is the page's Content-Security-Policy.
var deadLinkCSP = func() string {
	sum := sha256.Sum256([]byte(deadLinkStyle))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}()

// deadLinkPage is what the template shows. html/template escapes every
// value for where it stands, the URL included (a javascript: URL would
// become #ZgotmplZ; the URLs here are http(s) anyway).
type deadLinkPage struct {
	Heading, Text      string
	BackURL, BackLabel string
	Style              template.CSS
}

// wantsHTML reports whether the request is a browser's navigation: its
// Accept header names text/html (and does not refuse it with q=0).
// Link checkers, curl and API clients keep problem+json, and so does HEAD.
func wantsHTML(r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false // HEAD keeps the problem's headers, without a body
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || (mt != "text/html" && mt != "application/xhtml+xml") {
			continue
		}
		return params["q"] != "0" && params["q"] != "0.0" && params["q"] != "0.00" && params["q"] != "0.000"
	}
	return false
}

// writeDeadLink answers a browser's dead /go/ link with the page: 404 for
// an unknown code, 410 for an archived product.
func (s *Service) writeDeadLink(c *gin.Context, status int) error {
	p := deadLinkPage{Style: template.CSS(deadLinkStyle)}
	if status == http.StatusGone {
		p.Heading = "This product is no longer available"
		p.Text = "The product this link pointed to has been withdrawn."
	} else {
		p.Heading = "This link no longer works"
		p.Text = "The product this link pointed to is not in our catalogue any more."
	}
	p.BackURL, p.BackLabel = s.backLink(c.Request.URL.Query().Get("a"))
	var buf bytes.Buffer
	if err := deadLinkTemplate.Execute(&buf, p); err != nil {
		return fmt.Errorf("render dead-link page: %w", err)
	}
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", deadLinkCSP)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Robots-Tag", "noindex")
	h.Set("X-Content-Type-Options", "nosniff")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
	return nil
}

// backLink is where the page sends the reader: the article named by slug
// when it is readable now, else the site's home page.
func (s *Service) backLink(slug string) (href, label string) {
	if slug = articleParam(slug); slug != "" && s.opts.ArticlePage != nil {
		if page, title, ok := s.opts.ArticlePage(slug); ok && isWebURL(page) {
			if title == "" {
				title = "the article"
			}
			return page, "Back to “" + title + "”"
		}
	}
	site := s.opts.PublicURL
	if s.opts.SiteURL != nil {
		if u := s.opts.SiteURL(); isWebURL(u) {
			site = u
		}
	}
	if site == "" {
		site = "/"
	}
	return site, "Go to the home page"
}

// isWebURL reports whether u is an absolute http(s) URL, the only kind
// the page links to.
func isWebURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "https" || p.Scheme == "http") && p.Host != ""
}
