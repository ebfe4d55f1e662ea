package admin

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// The catalogue: who may manage it is affiliate's rule (editors and up);
// the routes' gate says the same so that lower roles get the 403 page
// before any form is read.
func (ui *UI) registerProducts(g *auth.Router) {
	editor := auth.AtLeast(auth.Editor)
	g.GET("/products", editor, ui.productsPage)
	g.GET("/products/new", editor, ui.newProductPage)
	g.POST("/products", editor, ui.createProduct)
	g.GET("/products/:code", editor, ui.productPage)
	g.POST("/products/:code", editor, ui.saveProduct)
	g.POST("/products/:code/archive", editor, ui.archiveProduct)
}

// productsPageSize is how many products a list page shows.
const productsPageSize = 50

type productsData struct {
	Items  []productRow
	Q      string
	Status string // "", "active" or "archived"
	Next   string
	Errors map[string]string
}

type productRow struct {
	*affiliate.Product
	Warnings []string
}

// productsPage lists the catalogue in code order, a page at a time. The
// plain list pages through the store (ProductFilter); a search reads the
// catalogue in memory, paged the same way, by code.
func (ui *UI) productsPage(c *gin.Context) {
	d := productsData{Q: strings.TrimSpace(c.Query("q")), Status: c.Query("status")}
	f := affiliate.ProductFilter{Limit: productsPageSize + 1}
	var fe problem.Fields
	switch d.Status {
	case "":
	case "active", "archived":
		archived := d.Status == "archived"
		f.Archived = &archived
	default:
		fe.Add("status", "must be active or archived")
	}
	if utf8.RuneCountInString(d.Q) > cms.MaxQuery {
		fe.Add("q", "must be at most %d characters", cms.MaxQuery)
	}
	if after := c.Query("after"); after != "" {
		if !affiliate.ValidCode(after) {
			fe.Add("after", "is not a product code")
		}
		f.After = after
	}
	if err := fe.Err(); err != nil {
		_, text, fields := message(c, err)
		d.Errors = fields
		ui.render(c, http.StatusBadRequest, "products.html", &page{Title: "Products", Nav: "products", Error: text, Data: d})
		return
	}
	p := auth.Caller(c)
	var items []affiliate.Product
	var err error
	if d.Q == "" {
		items, err = ui.svc.Affiliate.Products(c.Request.Context(), p, f)
	} else {
		items, err = ui.svc.Affiliate.SearchProducts(p, d.Q, f)
	}
	if err != nil {
		ui.fail(c, err)
		return
	}
	if len(items) > productsPageSize {
		items = items[:productsPageSize]
		v := url.Values{"after": {items[len(items)-1].Code}}
		if d.Q != "" {
			v.Set("q", d.Q)
		}
		if d.Status != "" {
			v.Set("status", d.Status)
		}
		d.Next = Path + "/products?" + v.Encode()
	}
	for i := range items {
		d.Items = append(d.Items, productRow{Product: &items[i], Warnings: ui.productWarnings(&items[i])})
	}
	ui.render(c, http.StatusOK, "products.html", &page{Title: "Products", Nav: "products", Data: d})
}

// productWarnings say why a product's link earns nothing or is not what
// it seems: the API's write warnings (no associate tag for its store),
// archived, created by the article pipeline.
func (ui *UI) productWarnings(p *affiliate.Product) []string {
	var out []string
	if p.Archived {
		out = append(out, "Archived: its /go/ link answers 410 Gone and articles cannot attach it.")
	}
	for _, w := range ui.svc.Affiliate.ProductWarnings(p) {
		out = append(out, sentence(w.Message))
	}
	if p.AutoCreated {
		out = append(out, "Created automatically for an Amazon link in an article body: check its title.")
	}
	return out
}

// sentence starts s with a capital letter and ends it with a full stop.
func sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// productForm is the product form as typed.
type productForm struct {
	Version     int64
	Code        string
	Title       string
	ASIN        string
	Marketplace string
	URL         string
	ImageURL    string
	Description string
}

func readProductForm(c *gin.Context) productForm {
	f := productForm{
		Code: strings.TrimSpace(c.PostForm("code")), Title: c.PostForm("title"),
		ASIN: strings.TrimSpace(c.PostForm("asin")), Marketplace: strings.TrimSpace(c.PostForm("marketplace")),
		URL: strings.TrimSpace(c.PostForm("url")), ImageURL: strings.TrimSpace(c.PostForm("imageUrl")),
		Description: c.PostForm("description"),
	}
	f.Version, _ = strconv.ParseInt(c.PostForm("version"), 10, 64)
	return f
}

func productFormOf(p *affiliate.Product) productForm {
	return productForm{Version: p.Version, Code: p.Code, Title: p.Title, ASIN: p.ASIN, Marketplace: p.Marketplace,
		URL: p.URL, ImageURL: p.ImageURL, Description: p.Description}
}

// update sets every field of the form: what the form shows is what the
// product becomes (an empty field clears it, as the API's merge patch
// takes "" to).
func (f productForm) update() *affiliate.ProductUpdate {
	return &affiliate.ProductUpdate{
		Title: web.Some(f.Title), ASIN: web.Some(f.ASIN), Marketplace: web.Some(f.Marketplace),
		URL: web.Some(f.URL), ImageURL: web.Some(f.ImageURL), Description: web.Some(f.Description),
	}
}

// at is the version the form was loaded at, as If-Match would name it.
// A form without one (version 0 is a product from before versions)
// still names it: the hidden field is always sent.
func (f productForm) at() web.Precondition { return web.Precondition{Version: f.Version, Sent: true} }

type productData struct {
	Product      *affiliate.Product // nil for a new one
	Form         productForm
	Errors       map[string]string
	Warnings     []string
	UsedBy       []string
	Marketplaces []marketplaceOption
	Link         string
}

type marketplaceOption struct {
	Name   string
	Tagged bool
}

func (ui *UI) newProductPage(c *gin.Context) {
	ui.renderProduct(c, http.StatusOK, &productData{}, "")
}

func (ui *UI) createProduct(c *gin.Context) {
	form := readProductForm(c)
	in := affiliate.ProductInput{Code: form.Code, Title: form.Title, ASIN: form.ASIN, Marketplace: form.Marketplace,
		URL: form.URL, ImageURL: form.ImageURL, Description: form.Description}
	p, err := ui.svc.Affiliate.CreateProduct(c.Request.Context(), auth.Caller(c), in)
	if err != nil {
		status, text, fields := message(c, err)
		ui.renderProduct(c, status, &productData{Form: form, Errors: fields}, text)
		return
	}
	seeOther(c, Path+"/products/"+url.PathEscape(p.Code), "created")
}

func (ui *UI) productPage(c *gin.Context) {
	p, err := ui.svc.Affiliate.Product(c.Request.Context(), auth.Caller(c), c.Param("code"))
	if err != nil {
		ui.fail(c, err)
		return
	}
	ui.renderProduct(c, http.StatusOK, &productData{Product: p, Form: productFormOf(p)}, "")
}

// saveProduct saves the form at the version it was loaded at. A stale
// form (412) comes back with what was typed, moved to the current
// version, so saving again keeps the user's values on purpose.
func (ui *UI) saveProduct(c *gin.Context) {
	ctx := c.Request.Context()
	by := auth.Caller(c)
	form := readProductForm(c)
	form.Code = c.Param("code")
	p, err := ui.svc.Affiliate.UpdateProduct(ctx, by, form.Code, form.at(), form.update())
	if err == nil {
		seeOther(c, Path+"/products/"+url.PathEscape(p.Code), "saved")
		return
	}
	ui.productFailed(c, form, err)
}

// archiveProduct archives the product (archived=true) or takes it back
// (archived=false), at the version the page showed.
func (ui *UI) archiveProduct(c *gin.Context) {
	code := c.Param("code")
	archived := c.PostForm("archived") != "false"
	version, _ := strconv.ParseInt(c.PostForm("version"), 10, 64)
	at := web.Precondition{Version: version, Sent: true}
	_, err := ui.svc.Affiliate.UpdateProduct(c.Request.Context(), auth.Caller(c), code, at,
		&affiliate.ProductUpdate{Archived: web.Some(archived)})
	if err == nil {
		done := "archived"
		if !archived {
			done = "saved"
		}
		seeOther(c, Path+"/products/"+url.PathEscape(code), done)
		return
	}
	cur, gerr := ui.svc.Affiliate.Product(c.Request.Context(), auth.Caller(c), code)
	if gerr != nil {
		ui.fail(c, gerr)
		return
	}
	status, text, _ := message(c, err)
	if problem.KindOf(err) == problem.PreconditionFailed {
		text = "Someone else changed this product since you loaded the page. Check it below, then try again."
	}
	ui.renderProduct(c, status, &productData{Product: cur, Form: productFormOf(cur)}, text)
}

func (ui *UI) productFailed(c *gin.Context, form productForm, err error) {
	status, text, fields := message(c, err)
	cur, gerr := ui.svc.Affiliate.Product(c.Request.Context(), auth.Caller(c), form.Code)
	if gerr != nil {
		ui.fail(c, gerr)
		return
	}
	if problem.KindOf(err) == problem.PreconditionFailed {
		form.Version = cur.Version
		text = "Someone else saved this product while you were editing. Your values are still in the form: " +
			"save again to keep them, or reload the page to see theirs."
	}
	ui.renderProduct(c, status, &productData{Product: cur, Form: form, Errors: fields}, text)
}

// renderProduct fills in what the product page shows besides the form:
// the stores to choose from, the product's warnings and the published
// articles that use it.
func (ui *UI) renderProduct(c *gin.Context, status int, d *productData, errText string) {
	for _, mp := range affiliate.Marketplaces() {
		d.Marketplaces = append(d.Marketplaces, marketplaceOption{Name: mp, Tagged: ui.svc.Affiliate.HasTag(mp)})
	}
	title := "New product"
	if p := d.Product; p != nil {
		title = p.Title
		d.Warnings = ui.productWarnings(p)
		d.Link = ui.svc.Affiliate.TrackingURL(p.Code, "")
		slugs, err := ui.svc.Articles.PublishedSlugsUsing(c.Request.Context(), p.Code)
		if err != nil {
			web.Logger(c).Warn("admin: articles using product", "code", p.Code, "err", err)
		}
		d.UsedBy = slugs
	}
	ui.render(c, status, "product.html", &page{Title: title, Nav: "products", Error: errText, Data: d})
}
