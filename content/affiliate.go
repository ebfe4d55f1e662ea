package content

import (
	"strings"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/cms"
)

// DisclosurePlacement tells front ends where the disclosure goes: before
// the first affiliate link of the page, as the FTC and Amazon require.
const DisclosurePlacement = "before-first-affiliate-link"

// products is what readers see of an article's products: with the
// catalogue, each active product's title, image and merchant, leaving out
// products that no longer redirect; without it, each reference's code and
// note. Every product links through the tracked /go/ redirect, with its
// position in the article: the body's Amazon links are 1..n in document
// order, the products n+1.. in the order the article lists them (a
// product left out keeps its number free), so that each position names
// one place on the page.
func (api *API) products(a *cms.Article) []ProductView {
	first := len(a.BodyLinks) + 1
	if api.catalogue == nil {
		out := make([]ProductView, len(a.Products))
		for i, r := range a.Products {
			out[i] = ProductView{Code: r.Code, Note: r.Note, URL: api.trackingURL(r.Code, a.Slug, first+i)}
		}
		return out
	}
	codes := make([]string, len(a.Products))
	notes := make(map[string]string, len(a.Products))
	place := make(map[string]int, len(a.Products))
	for i, r := range a.Products {
		codes[i] = r.Code
		notes[r.Code] = r.Note
		place[r.Code] = first + i
	}
	cards := api.catalogue.ProductCards(codes)
	out := make([]ProductView, len(cards))
	for i, c := range cards {
		out[i] = ProductView{Code: c.Code, Title: c.Title, ImageURL: c.ImageURL, Merchant: c.Merchant,
			URL: api.catalogue.TrackingURLAt(c.Code, a.Slug, place[c.Code]), Note: notes[c.Code]}
	}
	return out
}

// disclosure is the affiliate disclosure of an article that shows
// products or affiliate links, or nil.
func (api *API) disclosure(a *cms.Article, products []ProductView) *Disclosure {
	if api.catalogue == nil || (!a.HasAffiliateLinks && len(products) == 0) {
		return nil
	}
	return &Disclosure{Text: api.catalogue.Disclosure(), Placement: DisclosurePlacement}
}

// withoutAffiliateURLs is text for places Amazon forbids its links in
// (feeds, e-mail, print): every Amazon address, and every tracked /go/
// link of this site, is replaced by the article's own URL.
func withoutAffiliateURLs(text, articleURL, publicURL string) string {
	if !strings.Contains(text, "://") {
		return text
	}
	words := strings.Fields(text)
	changed := false
	for i, w := range words {
		bare := strings.TrimRight(w, ".,;:!?)]}\"'")
		if affiliate.IsAmazonLink(bare) || strings.HasPrefix(bare, publicURL+"/go/") {
			words[i] = articleURL + w[len(bare):]
			changed = true
		}
	}
	if !changed {
		return text
	}
	return strings.Join(words, " ")
}
