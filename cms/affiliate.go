package cms

import (
	"context"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/internal/problem"
)

// affiliateRewriter is the pipeline's link step when the affiliate service
// is present: a link to an allowed Amazon store gets the marketplace's
// associate tag and rel="sponsored nofollow noopener" (never noreferrer:
// Amazon attributes sales by the referring site). An Amazon link that
// cannot be tagged (a short link such as amzn.to, or a store the owner has
// not allowed) fails the save: published, it would earn nothing.
func affiliateRewriter(aff *affiliate.Service) LinkRewriter {
	return func(_ context.Context, l *Link) error {
		if tagged, ok := aff.TagLink(l.Href); ok {
			l.Href, l.Rel, l.Affiliate = tagged, affiliate.RelFor(l.Rel), true
			return nil
		}
		if affiliate.IsAmazonLink(l.Href) {
			var f problem.Fields
			f.Add("body", "the Amazon link %q cannot carry the associate tag: link to the product page on an allowed Amazon store, not a short link", l.Href)
			return f.Err()
		}
		return nil
	}
}

// checkProducts refuses attachments of products that are not in the
// catalogue or are archived.
func (s *Service) checkProducts(refs []ProductRef) error {
	if s.aff == nil || len(refs) == 0 {
		return nil
	}
	codes := make([]string, len(refs))
	for i, r := range refs {
		codes[i] = r.Code
	}
	unknown := map[string]bool{}
	for _, c := range s.aff.UnknownProducts(codes) {
		unknown[c] = true
	}
	var f problem.Fields
	for i, c := range codes {
		if unknown[c] {
			f.Add(fmt.Sprintf("products[%d].code", i), "no active product with code %q", c)
		}
	}
	return f.Err()
}

// publishedSlugsUsing lists the slugs of published articles that attach
// the product code, so that deleting a product they show is refused.
func (s *Service) publishedSlugsUsing(ctx context.Context, code string) ([]string, error) {
	list, err := s.store.findAll(ctx, "find articles using a product", bson.D{
		{Key: "status", Value: StatusPublished},
		{Key: "products.code", Value: code},
	}, 100)
	if err != nil {
		return nil, err
	}
	slugs := make([]string, len(list))
	for i, a := range list {
		slugs[i] = a.Slug
	}
	return slugs, nil
}

// DisclosurePlacement tells front ends where the disclosure goes: before
// the first affiliate link of the page, as the FTC and Amazon require.
const DisclosurePlacement = "before-first-affiliate-link"

// UseAffiliate fills the content API's product and disclosure hooks from
// the affiliate catalogue, and re-renders published content whenever the
// catalogue changes. Call it before api.Start.
func UseAffiliate(api *ContentAPI, aff *affiliate.Service) {
	api.ExpandProducts = func(slug string, refs []ProductRef) []ProductView {
		codes := make([]string, len(refs))
		notes := make(map[string]string, len(refs))
		for i, r := range refs {
			codes[i] = r.Code
			notes[r.Code] = r.Note
		}
		cards := aff.ProductCards(codes)
		out := make([]ProductView, len(cards))
		for i, c := range cards {
			out[i] = ProductView{Code: c.Code, Title: c.Title, ImageURL: c.ImageURL, Merchant: c.Merchant,
				URL: aff.TrackingURL(c.Code, slug), Note: notes[c.Code]}
		}
		return out
	}
	api.Disclosure = func(a *Article) *Disclosure {
		if !a.HasAffiliateLinks && len(api.ExpandProducts(a.Slug, a.Products)) == 0 {
			return nil
		}
		return &Disclosure{Text: aff.Disclosure(), Placement: DisclosurePlacement}
	}
	aff.OnCatalogueChange(func(context.Context, affiliate.CatalogueChange) { api.Invalidate() })
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
