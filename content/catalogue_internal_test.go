package content

import (
	"context"
	"testing"
	"time"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/cms"
)

// TestCatalogueChangeRendersAffected: a catalogue change renders again the
// articles that show a changed product, or a disclosure when the settings
// changed, or body links on a marketplace whose tag changed, and keeps
// every other article's rendered forms.
func TestCatalogueChangeRendersAffected(t *testing.T) {
	now := time.Now().UTC()
	art := func(id string, products []string, links bool) *cms.Article {
		a := &cms.Article{ID: id, Status: cms.StatusPublished, Version: 1,
			PublishedAt: &now, HasAffiliateLinks: links}
		a.Slug = "s-" + id
		for _, code := range products {
			a.Products = append(a.Products, cms.ProductRef{Code: code})
		}
		return a
	}
	for _, tt := range []struct {
		name   string
		change affiliate.CatalogueChange
		want   []string // the articles rendered again
	}{
		{"a product", affiliate.CatalogueChange{Products: []string{"roller"}}, []string{"roller"}},
		{"two products", affiliate.CatalogueChange{Products: []string{"ball", "roller"}}, []string{"roller", "ball"}},
		{"the disclosure", affiliate.CatalogueChange{Settings: true, Disclosure: true}, []string{"roller", "ball", "link", "com", "uk"}},
		{"the amazon.com tag", affiliate.CatalogueChange{Settings: true, Tags: []string{"amazon.com"}}, []string{"com"}},
		{"the amazon.de tag", affiliate.CatalogueChange{Settings: true, Tags: []string{"amazon.de"}}, nil},
		{"the link mode", affiliate.CatalogueChange{Settings: true, LinkMode: true}, []string{"com"}},
		{"the allowed hosts", affiliate.CatalogueChange{Settings: true, Hosts: true}, []string{"com", "uk"}},
		{"a product nobody shows", affiliate.CatalogueChange{Products: []string{"mat"}}, nil},
	} {
		api := New(nil, Options{})
		com, uk := art("com", nil, true), art("uk", nil, true)
		com.BodyLinks = []cms.BodyLink{{Position: 1, Product: "amazon-com-b000123456", Marketplace: "amazon.com"}}
		uk.BodyLinks = []cms.BodyLink{{Position: 1, Marketplace: "amazon.co.uk"}}
		api.applyArticles([]*cms.Article{art("roller", []string{"roller"}, false), art("ball", []string{"ball"}, false),
			art("link", nil, true), art("plain", nil, false), com, uk}, cms.SlugHistory{})
		before := api.snap.Load()
		api.CatalogueChanged(context.Background(), tt.change)
		after := api.snap.Load()
		if len(tt.want) == 0 && after != before {
			t.Errorf("%s: a new snapshot for a change no article shows", tt.name)
		}
		for id, e := range after.entries {
			rendered := e != before.entries[id]
			want := false
			for _, w := range tt.want {
				want = want || w == id
			}
			if rendered != want {
				t.Errorf("%s: article %s rendered again %v, want %v", tt.name, id, rendered, want)
			}
		}
	}
}
