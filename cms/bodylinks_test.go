package cms_test

import (
	"context"
	"html"
	"slices"
	"strings"
	"testing"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/cms"
)

// TestPipelineRecordsBodyLinks: the pipeline records each Amazon link the
// rewriter tagged, in document order, with offsets that name exactly its
// href value in the stored HTML, whatever the markup around it; other
// links are not recorded.
func TestPipelineRecordsBodyLinks(t *testing.T) {
	p := cms.NewPipeline(func(_ context.Context, l *cms.Link) error {
		if mp, ok := affiliate.MarketplaceOfLink(l.Href); ok || strings.Contains(l.Href, "partner.example") {
			l.Href += "?tag=site-20"
			l.Affiliate = true
			if _, asin, ok := affiliate.AmazonProductOf(l.Href); ok {
				l.Product = strings.ReplaceAll(mp, ".", "-") + "-" + strings.ToLower(asin)
			}
		}
		return nil
	})
	for _, tt := range []struct {
		name, body string
		format     cms.BodyFormat
		want       []cms.BodyLink // offsets are checked, not compared
	}{
		{"none", `<p><a href="https://nih.gov">NIH</a></p>`, cms.FormatHTML, nil},
		{"one", `<p>A <a href="https://www.amazon.com/dp/B000123456">roller</a>.</p>`, cms.FormatHTML,
			[]cms.BodyLink{{Position: 1, Product: "amazon-com-b000123456", Marketplace: "amazon.com", ASIN: "B000123456"}}},
		{"attributes first, entities, a search link", `<p title="a &quot;b&quot; href=&quot;x&quot;"><a title='x href="' rel="external" href="https://www.amazon.co.uk/s?k=a&amp;b=c">s</a>` +
			` <a href="https://www.amazon.co.uk/x/dp/B00000000X">x</a></p>`, cms.FormatHTML,
			[]cms.BodyLink{{Position: 1, Marketplace: "amazon.co.uk"}, {Position: 2, Product: "amazon-co-uk-b00000000x", Marketplace: "amazon.co.uk", ASIN: "B00000000X"}}},
		{"an attribute value ending in href=", `<p><a title="a href=" href="https://www.amazon.com/dp/B000123456">x</a></p>`, cms.FormatHTML,
			[]cms.BodyLink{{Position: 1, Product: "amazon-com-b000123456", Marketplace: "amazon.com", ASIN: "B000123456"}}},
		{"markdown", "See [the mat](https://www.amazon.com/dp/B000TEST01) or [a partner](https://partner.example/x).", cms.FormatMarkdown,
			[]cms.BodyLink{{Position: 1, Product: "amazon-com-b000test01", Marketplace: "amazon.com", ASIN: "B000TEST01"}}},
	} {
		r, err := p.Render(context.Background(), tt.body, tt.format)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got := slices.Clone(r.Links)
		for i, l := range got {
			if l.Start < 7 || r.HTML[l.Start-7:l.Start] != ` href="` || r.HTML[l.End] != '"' {
				t.Errorf("%s: link %d offsets [%d,%d) do not name an href value in %s", tt.name, i, l.Start, l.End, r.HTML)
				continue
			}
			if v := html.UnescapeString(r.HTML[l.Start:l.End]); !strings.HasSuffix(v, "tag=site-20") {
				t.Errorf("%s: link %d value %q", tt.name, i, v)
			}
			got[i].Start, got[i].End = 0, 0
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: links = %+v, want %+v\n%s", tt.name, got, tt.want, r.HTML)
		}
	}
}
