package wpimport

import (
	"context"
	"net/url"
	"strings"
	"testing"
)

// FuzzRewrite checks the body pass of an import on any HTML: it never
// fails, a shortened Amazon link never survives as a link, and text
// outside tags is kept. Links to the site's affiliate slugs and images
// need the services and are covered by the import tests.
func FuzzRewrite(f *testing.F) {
	for _, seed := range []string{
		`<p>A <a href="https://amzn.to/3xYzAbC">heating pad</a> helps.</p>`,
		`<a href="https://harbor-massage.example/recommends/unknown/">x</a><img src="/wp-content/uploads/a.jpg">`,
		`<a href=https://a.co/d/x>short</a></a><a>`,
		`<a href="https://amzn.to/x"/>text<a href="https://www.amazon.com/dp/B000FOAM12">ok</a>`,
		"<p>plain \x00 text &amp; <b>bold</b></p>",
	} {
		f.Add(seed)
	}
	site, _ := url.Parse("https://harbor-massage.example")
	f.Fuzz(func(t *testing.T, body string) {
		im := &importer{s: &Service{}, run: Run{LinkPrefix: "recommends", Media: MediaKeep}, rep: newReport(false),
			ctx: context.Background(), siteURL: site, links: map[string]string{}}
		out, _ := im.rewrite(1, body)
		if len(out) > len(body)+len(body)/2+64 {
			t.Fatalf("grew from %d to %d bytes", len(body), len(out))
		}
		if !strings.Contains(strings.ToLower(body), "amzn.to") && out != body &&
			!strings.Contains(strings.ToLower(body), "a.co") && !strings.Contains(strings.ToLower(body), "amzn.") {
			t.Fatalf("changed without a short link:\n%q\n%q", body, out)
		}
		for _, l := range im.rep.Links {
			if strings.Contains(l.Reason, "shortened") && strings.Contains(out, `href="`+l.Href+`"`) {
				t.Fatalf("the short link %q is still a link: %q", l.Href, out)
			}
		}
	})
}
