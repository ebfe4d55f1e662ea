package cms

import (
	"context"
	"fmt"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/internal/problem"
)

// affiliateRewriter is the pipeline's link step when the affiliate service
// is present: a link to an allowed Amazon store gets the marketplace's
// associate tag and rel="sponsored nofollow noopener" (never noreferrer:
// Amazon attributes sales by the referring site). An Amazon link that
// cannot be tagged (a short link such as amzn.to, or a store the owner has
// not allowed) fails the save: published, it would earn nothing.
//
// A link to an Amazon product page is tied to its catalogue product (one
// with the same ASIN and marketplace, else one created now with
// autoCreated set), so that its follows are counted for it.
func affiliateRewriter(aff *affiliate.Service) LinkRewriter {
	return func(ctx context.Context, l *Link) error {
		if tagged, ok := aff.TagLink(l.Href); ok {
			l.Href, l.Rel, l.Affiliate = tagged, affiliate.RelFor(l.Rel), true
			code, err := aff.ProductForLink(ctx, tagged, l.Text)
			if err != nil {
				return fmt.Errorf("tie a body link to its product: %w", err)
			}
			l.Product = code
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

// PublishedSlugsUsing lists the slugs of published articles that attach
// the product code, so that deleting a product they show is refused.
func (s *Service) PublishedSlugsUsing(ctx context.Context, code string) ([]string, error) {
	list, err := s.store.FindPublishedArticlesByProduct(ctx, code, 100)
	if err != nil {
		return nil, err
	}
	slugs := make([]string, len(list))
	for i, a := range list {
		slugs[i] = a.Served().Slug
	}
	return slugs, nil
}
