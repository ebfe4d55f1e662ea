package affiliate

import (
	"bytes"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// Register mounts the product, settings and stats routes on r, the
// /api/v1 group.
func (s *Service) Register(r *auth.Router) {
	products := gate(manageProducts)
	r.GET("/products", products, web.Handle(s.handleListProducts))
	r.POST("/products", products, web.Handle(s.handleCreateProduct))
	r.GET("/products/:code", products, web.Handle(s.handleGetProduct))
	r.PATCH("/products/:code", products, web.Handle(s.handleUpdateProduct))
	r.DELETE("/products/:code", products, web.Handle(s.handleDeleteProduct))
	r.GET("/stats/clicks", gate(readStats), web.Handle(s.handleStats))

	settings := gate(configure)
	r.GET("/settings/affiliate", settings, web.Handle(s.handleGetSettings))
	r.PUT("/settings/affiliate", settings, web.Handle(s.handlePutSettings))
	r.PATCH("/settings/affiliate", settings, web.Handle(s.handlePatchSettings))
}

// RegisterRedirect mounts /go/{code} on r, the root group. HEAD answers
// like GET (link checkers use it) but is not counted.
func (s *Service) RegisterRedirect(r *auth.Router) {
	h := web.Handle(s.handleRedirect)
	r.GET("/go/:code", auth.Public, h)
	r.HEAD("/go/:code", auth.Public, h)
	r.POST("/go/:code/ping", auth.Public, web.Handle(s.handlePing)) // body links (ping.go)
}

// productView is a product as the API shows it, with the redirect target
// as it stands under the current settings and the public tracked link.
type productView struct {
	*Product
	// Target is where /go/ sends readers now; "" when it does not
	// redirect (archived, or the target fails the current rules).
	Target string `json:"target"`
	Link   string `json:"link"`
	// Warnings, on write answers only, say what was saved but earns
	// nothing (a store without an associate tag).
	Warnings []problem.FieldError `json:"warnings,omitempty"`
}

func (s *Service) view(p *Product) productView {
	v := productView{Product: p, Link: s.TrackingURL(p.Code, "")}
	if p.Archived {
		return v
	}
	c := s.snapshot()
	if t, err := p.target(&c.settings, c.allowed); err == nil {
		v.Target = t
	}
	return v
}

// noStore marks the private API's answers: they are per-user and change.
func noStore(c *gin.Context) { c.Header("Cache-Control", "no-store") }

// writeProduct answers with the product and its version as ETag.
func (s *Service) writeProduct(c *gin.Context, status int, p *Product) {
	c.Header("ETag", p.ETag())
	noStore(c)
	c.JSON(status, s.view(p))
}

// writeSavedProduct is writeProduct for the answer of a write, which
// carries the product's warnings.
func (s *Service) writeSavedProduct(c *gin.Context, status int, p *Product) {
	v := s.view(p)
	v.Warnings = s.productWarnings(p)
	c.Header("ETag", p.ETag())
	noStore(c)
	c.JSON(status, v)
}

// writeSettings answers with the settings and their version as ETag.
func writeSettings(c *gin.Context, st *Settings) {
	c.Header("ETag", st.ETag())
	noStore(c)
	c.JSON(http.StatusOK, st)
}

func (s *Service) handleCreateProduct(c *gin.Context) error {
	if _, err := web.ParseQuery(c); err != nil {
		return err
	}
	var in ProductInput
	if err := web.Decode(c, &in); err != nil {
		return err
	}
	p, err := s.CreateProduct(c.Request.Context(), auth.Caller(c), in)
	if err != nil {
		return err
	}
	c.Header("Location", path.Join(c.Request.URL.Path, p.Code))
	s.writeSavedProduct(c, http.StatusCreated, p)
	return nil
}

func (s *Service) handleGetProduct(c *gin.Context) error {
	if _, err := web.ParseQuery(c); err != nil {
		return err
	}
	p, err := s.Product(c.Request.Context(), auth.Caller(c), c.Param("code"))
	if err != nil {
		return err
	}
	// The ETag names the stored version, which is what If-Match guards;
	// target is derived from the settings too and can change under the
	// same ETag (their own ETag tells).
	if web.NotModified(c, p.ETag()) {
		return nil
	}
	s.writeProduct(c, http.StatusOK, p)
	return nil
}

func (s *Service) handleListProducts(c *gin.Context) error {
	q, err := web.ParseQuery(c, "limit", "cursor", "archived")
	if err != nil {
		return err
	}
	var f problem.Fields
	filter := ProductFilter{Limit: q.Limit(&f, 20, 100)}
	if v, ok := q["archived"]; ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			f.Add("archived", "must be true or false")
		}
		filter.Archived = &b
	}
	scope := productsScope(filter.Archived)
	filter.After = productCursor(q, &f, scope)
	if err := f.Err(); err != nil {
		return err
	}
	// One more than the page tells whether another page follows.
	want := filter.Limit
	filter.Limit++
	ps, err := s.Products(c.Request.Context(), auth.Caller(c), filter)
	if err != nil {
		return err
	}
	items := make([]productView, len(ps))
	for i := range ps {
		items[i] = s.view(&ps[i])
	}
	noStore(c)
	c.JSON(http.StatusOK, web.NewPage(items, want, func(p productView) string { return encodeProductCursor(scope, p.Code) }))
	return nil
}

// productsScope names the product list with its archived filter (nil:
// any), so a cursor pages only the list it came from.
func productsScope(archived *bool) string {
	if archived == nil {
		return "affiliate.products"
	}
	return "affiliate.products\x00archived=" + strconv.FormatBool(*archived)
}

// encodeProductCursor is the product list's cursor: the code of the last
// product shown.
func encodeProductCursor(scope, code string) string {
	return web.EncodeCursor(scope, code)
}

// productCursor returns the code q's cursor names ("" when there is none),
// or adds a field error on cursor when it is not one encodeProductCursor
// wrote for scope.
func productCursor(q web.Query, f *problem.Fields, scope string) string {
	var code string
	if !q.Cursor(f, scope, func() bool { return ValidCode(code) }, &code) {
		return ""
	}
	return code
}

func (s *Service) handleUpdateProduct(c *gin.Context) error {
	var u ProductUpdate
	at, err := web.ReadUpdate(c, "product", &u, productReadOnly, func() (any, int64, error) {
		p, err := s.Product(c.Request.Context(), auth.Caller(c), c.Param("code"))
		if err != nil {
			return nil, 0, err
		}
		return s.view(p), p.Version, nil
	})
	if err != nil {
		return err
	}
	p, err := s.UpdateProduct(c.Request.Context(), auth.Caller(c), c.Param("code"), at, &u)
	if err != nil {
		return err
	}
	s.writeSavedProduct(c, http.StatusOK, p)
	return nil
}

func (s *Service) handleDeleteProduct(c *gin.Context) error {
	force, err := web.Force(c)
	if err != nil {
		return err
	}
	at, err := web.IfMatch(c, false, "product")
	if err != nil {
		return err
	}
	if err := s.DeleteProduct(c.Request.Context(), auth.Caller(c), c.Param("code"), at, force); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// settingsInput is the PUT body: every field is required, since PUT
// replaces the whole settings.
type settingsInput struct {
	Tags           *map[string]string `json:"tags"`
	DisclosureText *string            `json:"disclosureText"`
	AllowedHosts   *[]string          `json:"allowedHosts"`
	// LinkMode may be left out: it then returns to the default, ping.
	LinkMode string `json:"linkMode"`
}

func (s *Service) handleGetSettings(c *gin.Context) error {
	if _, err := web.ParseQuery(c); err != nil {
		return err
	}
	st, err := s.Settings(c.Request.Context(), auth.Caller(c))
	if err != nil {
		return err
	}
	if web.NotModified(c, st.ETag()) {
		return nil
	}
	writeSettings(c, st)
	return nil
}

// currentSettings loads the settings a PUT or PATCH changes, for
// web.ReadUpdate.
func (s *Service) currentSettings(c *gin.Context) func() (any, int64, error) {
	return func() (any, int64, error) {
		st, err := s.Settings(c.Request.Context(), auth.Caller(c))
		if err != nil {
			return nil, 0, err
		}
		return st, st.Version, nil
	}
}

func (s *Service) handlePutSettings(c *gin.Context) error {
	var in settingsInput
	at, err := web.ReadUpdate(c, "settings", &in, settingsReadOnly, s.currentSettings(c))
	if err != nil {
		return err
	}
	var f problem.Fields
	if in.Tags == nil {
		f.Add("tags", "is required (an object, {} for none)")
	}
	if in.DisclosureText == nil {
		f.Add("disclosureText", "is required")
	}
	if in.AllowedHosts == nil {
		f.Add("allowedHosts", "is required")
	}
	if err := f.Err(); err != nil {
		return err
	}
	st := &Settings{Tags: *in.Tags, DisclosureText: *in.DisclosureText, AllowedHosts: *in.AllowedHosts, LinkMode: in.LinkMode}
	st, err = s.UpdateSettings(c.Request.Context(), auth.Caller(c), at, st)
	if err != nil {
		return err
	}
	writeSettings(c, st)
	return nil
}

func (s *Service) handlePatchSettings(c *gin.Context) error {
	var u SettingsUpdate
	at, err := web.ReadUpdate(c, "settings", &u, settingsReadOnly, s.currentSettings(c))
	if err != nil {
		return err
	}
	st, err := s.PatchSettings(c.Request.Context(), auth.Caller(c), at, &u)
	if err != nil {
		return err
	}
	writeSettings(c, st)
	return nil
}

func (s *Service) handleStats(c *gin.Context) error {
	v, err := web.ParseQuery(c, statsParams...)
	if err != nil {
		return err
	}
	q, err := ParseStatsQuery(v, c.GetHeader("Accept"), s.now())
	if err != nil {
		return err
	}
	st, err := s.ClickStats(c.Request.Context(), auth.Caller(c), q)
	if err != nil {
		return err
	}
	noStore(c)
	if q.CSV {
		var buf bytes.Buffer
		if err := st.WriteCSV(&buf); err != nil {
			return fmt.Errorf("write stats csv: %w", err)
		}
		c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="clicks-%s-%s-by-%s.csv"`, q.From, q.To, q.GroupBy))
		c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
		return nil
	}
	c.JSON(http.StatusOK, st)
	return nil
}

// handleRedirect answers /go/{code}: 302 to the product's stored target,
// checked again and tagged, and records the click without waiting for it.
// Nothing in the request can change where it goes: only the code selects,
// and only a stored target is ever sent.
func (s *Service) handleRedirect(c *gin.Context) error {
	h := c.Writer.Header()
	// Every answer here, errors included, is per-request and not for
	// search engines. The global Referrer-Policy (strict-origin-when-
	// cross-origin) stays: Amazon attributes by the referring site, so
	// this route never sends no-referrer.
	h.Set("Cache-Control", "no-store")
	h.Set("X-Robots-Tag", "noindex")
	code := c.Param("code")
	snap := s.snapshot()
	e, ok := snap.products[code]
	// A person following a dead link gets a page back to the article or
	// the site (writeDeadLink); programs keep problem+json.
	switch {
	case !ok, e.target == "": // a failing target is logged once per catalogue load
		if wantsHTML(c.Request) {
			return s.writeDeadLink(c, http.StatusNotFound)
		}
		return problem.New(problem.NotFound, "no product link with this code")
	case e.product.Archived:
		if wantsHTML(c.Request) {
			return s.writeDeadLink(c, http.StatusGone)
		}
		return problem.New(problem.Gone, "this product is no longer available")
	}
	// e.target is the exact string, checked against the rules when the
	// snapshot was built (buildCatalogue).
	h.Set("Location", e.target)
	c.Status(http.StatusFound)
	c.Writer.WriteHeaderNow()
	if c.Request.Method == http.MethodGet {
		s.rec.Record(s.click(c, code))
	}
	return nil
}

// click describes the request as a click. Bad a and p values are dropped,
// never failing the redirect; so is the rest of a malformed query string
// (url.Query keeps the pairs that parse), and unknown parameters are
// ignored: a reader's redirect never depends on the query.
func (s *Service) click(c *gin.Context, code string) Click {
	now := s.now().UTC()
	day := dayOf(now)
	q := c.Request.URL.Query()
	r := c.Request
	cl := Click{
		ID:       newClickID(),
		Product:  code,
		Article:  articleParam(q.Get("a")),
		Position: positionParam(q.Get("p")),
		Time:     now.Truncate(time.Millisecond),
		Day:      day,
		Referrer: referrerHost(r.Referer()),
		Bot:      s.isBot(r.UserAgent()) || isPrefetch(r.Header),
		// ClientIP believes X-Forwarded-For only from CMS_TRUSTED_PROXIES.
		Visitor: s.salts.visitor(day, c.ClientIP()),
	}
	if s.trustedPeer(c.RemoteIP()) {
		cl.Country = countryCode(r.Header.Get(s.opts.CountryHeader))
	}
	return cl
}
