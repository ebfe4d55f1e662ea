package affiliate

import (
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
)

// catalogue is an immutable snapshot of the products and settings. The
// redirect and the article pipeline read it without touching the database;
// a write or another instance's change replaces the whole snapshot.
type catalogue struct {
	products map[string]*entry
	settings Settings
	allowed  map[string]bool
	// byASIN finds the product of a body link: marketplace/ASIN -> code,
	// an active product before an archived one, then the lowest code.
	byASIN map[string]string
}

func asinKey(marketplace, asin string) string { return marketplace + "/" + asin }

// entry is a product with its redirect target worked out once per
// snapshot.
type entry struct {
	product Product
	// target is the tagged URL, or "" when the stored target fails the
	// rules under the current settings (why says why, for the log).
	target string
	why    string
}

func buildCatalogue(products []Product, st Settings) *catalogue {
	c := &catalogue{
		products: make(map[string]*entry, len(products)),
		settings: st,
		allowed:  st.allowSet(),
		byASIN:   map[string]string{},
	}
	for _, p := range products {
		if p.ASIN != "" && p.Marketplace != "" {
			k := asinKey(p.Marketplace, p.ASIN)
			if prev, ok := c.products[c.byASIN[k]]; !ok || (prev.product.Archived && !p.Archived) ||
				(prev.product.Archived == p.Archived && p.Code < prev.product.Code) {
				c.byASIN[k] = p.Code
			}
		}
		e := &entry{product: p}
		t, err := p.target(&c.settings, c.allowed)
		if err == nil {
			// The exact string the redirect sends, tag included, passes
			// the rules: checked here, once per catalogue, not per click.
			_, err = CheckTarget(t, c.allowed)
		}
		if err != nil {
			e.why = err.Error()
		} else {
			e.target = t
		}
		c.products[p.Code] = e
	}
	return c
}

// diff says what changed from c to next. Settings compare by what they
// say, not by when they were saved.
func (c *catalogue) diff(next *catalogue) CatalogueChange {
	var ch CatalogueChange
	for code, e := range c.products {
		if n, ok := next.products[code]; !ok || !sameProduct(&e.product, &n.product) {
			ch.Products = append(ch.Products, code)
		}
	}
	for code := range next.products {
		if _, ok := c.products[code]; !ok {
			ch.Products = append(ch.Products, code)
		}
	}
	slices.Sort(ch.Products)
	a, b := &c.settings, &next.settings
	for _, mp := range marketplaces {
		if a.Tags[mp] != b.Tags[mp] {
			ch.Tags = append(ch.Tags, mp)
		}
	}
	ch.Disclosure = a.DisclosureText != b.DisclosureText
	ch.Hosts = !slices.Equal(a.AllowedHosts, b.AllowedHosts)
	ch.LinkMode = a.LinkMode != b.LinkMode
	ch.Settings = ch.Disclosure || ch.Hosts || ch.LinkMode || !maps.Equal(a.Tags, b.Tags)
	return ch
}

// sameProduct compares every field, times by the instant they name.
func sameProduct(a, b *Product) bool {
	x, y := *a, *b
	if !x.CreatedAt.Equal(y.CreatedAt) || !x.UpdatedAt.Equal(y.UpdatedAt) {
		return false
	}
	x.CreatedAt, x.UpdatedAt, y.CreatedAt, y.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return x == y
}

// tagLink is TagLink on this snapshot.
func (c *catalogue) tagLink(href string) (string, bool) {
	host, ok := linkHost(href)
	if !ok || !c.allowed[host] {
		return href, false
	}
	// Body links written as http:// are upgraded: the tagged link the
	// service emits is always https.
	raw := href
	if strings.HasPrefix(strings.ToLower(raw), "http://") {
		raw = "https://" + raw[len("http://"):]
	}
	u, err := CheckTarget(raw, c.allowed)
	if err != nil {
		return href, false
	}
	out, err := tagTarget(u, c.settings.Tags)
	if err != nil {
		return href, false
	}
	return out, true
}

// linkHost returns the lower-case host of an absolute http(s) link.
func linkHost(href string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	return strings.ToLower(u.Hostname()), true
}
