package affiliate

import (
	"github.com/wellness/cms/internal/problem"
)

// What the articles' compliance report and the write answers' warnings
// ask of the catalogue and the settings: whether a link or a product
// earns anything, read from the in-memory snapshot like the redirect.

// LinkMarketplace returns the Amazon marketplace (amazon.com) an http(s)
// link leads to, and false for any other link, short links included.
func LinkMarketplace(href string) (string, bool) {
	host, ok := linkHost(href)
	if !ok {
		return "", false
	}
	return marketplaceOf(host)
}

// HasTag reports whether the current settings give the marketplace an
// associate tag; without one its links earn nothing.
func (s *Service) HasTag(marketplace string) bool {
	return s.snapshot().settings.Tags[marketplace] != ""
}

// ProductState is what an article attaching a product needs to know of
// it.
type ProductState struct {
	// Known is false for a code the catalogue does not hold (deleted).
	Known    bool
	Archived bool
	// Marketplace is the Amazon store of the target; "" for other
	// merchants, whose links carry no associate tag.
	Marketplace string
}

// ProductState looks code up in the current catalogue.
func (s *Service) ProductState(code string) ProductState {
	e, ok := s.snapshot().products[code]
	if !ok {
		return ProductState{}
	}
	return ProductState{Known: true, Archived: e.product.Archived, Marketplace: e.product.marketplace()}
}

// marketplace is the Amazon store p's target is on, or "".
func (p *Product) marketplace() string {
	if p.URL == "" {
		if marketplaceSet[p.Marketplace] {
			return p.Marketplace
		}
		return ""
	}
	mp, _ := LinkMarketplace(p.URL)
	return mp
}

// UntaggedMessage is the one wording of "this store has no tag", shared
// by the product warnings and the articles' compliance findings.
func UntaggedMessage(marketplace string) string {
	return "no associate tag is configured for " + marketplace +
		": its links earn nothing; add tags." + marketplace + " in the affiliate settings"
}

// productWarnings are the warnings of a saved product: a target on a store
// without an associate tag is accepted (the tag may come later) but
// earns nothing until then.
func (s *Service) productWarnings(p *Product) []problem.FieldError {
	mp := p.marketplace()
	if mp == "" || p.Archived || s.HasTag(mp) {
		return nil
	}
	field := "marketplace"
	if p.URL != "" {
		field = "url"
	}
	return []problem.FieldError{{Field: field, Message: UntaggedMessage(mp)}}
}
