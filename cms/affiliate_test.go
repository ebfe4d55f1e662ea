package cms_test

import (
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/internal/testenv"
)

func newAffiliateAPI(t *testing.T) *testenv.Server {
	t.Helper()
	return testenv.NewServer(t, func(c *server.Options) {
		c.AmazonTags = map[string]string{"amazon.com": "clinic-20", "amazon.co.uk": "clinic-21"}
	})
}

// links returns href → rel of every <a> in fragment.
func links(t *testing.T, fragment string) map[string]string {
	t.Helper()
	nodes, err := html.ParseFragment(strings.NewReader(fragment), &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "a" {
			href, rel := "", ""
			for _, a := range n.Attr {
				switch a.Key {
				case "href":
					href = a.Val
				case "rel":
					rel = a.Val
				}
			}
			out[href] = rel
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	return out
}

// TestBodyAmazonLinksTagged runs body links through the whole pipeline:
// Amazon store links get the marketplace's tag (replacing another) and the
// sponsored rel without noreferrer; other links are left alone; the result
// is still sanitized.
func TestBodyAmazonLinksTagged(t *testing.T) {
	s := newAffiliateAPI(t)
	token, _ := s.User(t, auth.Author)
	for _, format := range []string{"html", "markdown"} {
		t.Run(format, func(t *testing.T) {
			body := `<p>Try a <a href="https://www.amazon.com/dp/B00TEST001?tag=someone-else-20&amp;th=1" rel="noreferrer">foam roller</a>,
<a href="http://amazon.co.uk/dp/B00TEST002">a heat pad</a> and <a href="https://physio.example/guide" rel="noreferrer">our guide</a>.
<a href="javascript:alert(1)" onclick="steal()">x</a></p>`
			if format == "markdown" {
				body = "Try a [foam roller](https://www.amazon.com/dp/B00TEST001?tag=someone-else-20&th=1), " +
					"[a heat pad](http://amazon.co.uk/dp/B00TEST002) and [our guide](https://physio.example/guide).\n\n<script>alert(1)</script>"
			}
			a := testenv.CreateArticle(t, s, token, map[string]any{"title": "Pain relief products " + format, "body": body, "bodyFormat": format})
			if !a.HasAffiliateLinks {
				t.Error("hasAffiliateLinks = false")
			}
			got := links(t, a.BodyHTML)
			var us, uk, other string
			for href := range got {
				switch {
				case strings.Contains(href, "amazon.com/"):
					us = href
				case strings.Contains(href, "amazon.co.uk/"):
					uk = href
				case strings.Contains(href, "physio.example"):
					other = href
				}
			}
			for _, c := range []struct{ href, tag string }{{us, "clinic-20"}, {uk, "clinic-21"}} {
				u, err := url.Parse(c.href)
				if err != nil || u.Scheme != "https" || u.Query().Get("tag") != c.tag || len(u.Query()["tag"]) != 1 {
					t.Errorf("link %q: want https with the single tag %s", c.href, c.tag)
				}
				rel := strings.Fields(got[c.href])
				for _, want := range []string{"sponsored", "nofollow", "noopener"} {
					if !strings.Contains(" "+got[c.href]+" ", " "+want+" ") {
						t.Errorf("link %q rel %q lacks %s", c.href, got[c.href], want)
					}
				}
				for _, tok := range rel {
					if tok == "noreferrer" {
						t.Errorf("link %q keeps noreferrer: Amazon could not attribute the sale", c.href)
					}
				}
			}
			if other != "https://physio.example/guide" || strings.Contains(got[other], "sponsored") {
				t.Errorf("a non-Amazon link was changed: %q rel %q", other, got[other])
			}
			if strings.Contains(a.BodyHTML, "javascript:") || strings.Contains(a.BodyHTML, "onclick") || strings.Contains(a.BodyHTML, "<script") {
				t.Errorf("not sanitized: %s", a.BodyHTML)
			}
		})
	}
}

func TestUntaggableAmazonLinkRefused(t *testing.T) {
	s := newAffiliateAPI(t)
	token, _ := s.User(t, auth.Author)
	for _, href := range []string{"https://amzn.to/3abcDEF", "https://a.co/d/xyz"} {
		r := testenv.Call(t, s, token, "POST", "/api/v1/articles", map[string]any{
			"title": "Short links", "body": `<p><a href="` + href + `">buy</a></p>`})
		testenv.WantStatus(t, r, 400)
		if !strings.Contains(string(r.Body), `"field":"body"`) {
			t.Errorf("%s: problem does not name body: %s", href, r.Body)
		}
	}
}

// TestProductAttachments: codes must be in the catalogue and active, and a
// product that published articles show cannot be deleted unless forced.
func TestProductAttachments(t *testing.T) {
	s := newAffiliateAPI(t)
	editor, _ := s.User(t, auth.Editor)
	r := testenv.Call(t, s, editor, "POST", "/api/v1/products", map[string]any{
		"code": "foam-roller", "title": "Foam roller", "asin": "B00TEST001", "marketplace": "amazon.com"})
	testenv.WantStatus(t, r, 201)

	r = testenv.Call(t, s, editor, "POST", "/api/v1/articles", map[string]any{
		"title": "Rolling out", "products": []map[string]string{{"code": "foam-roller"}, {"code": "no-such-thing"}}})
	testenv.WantStatus(t, r, 400)
	if !strings.Contains(string(r.Body), `"field":"products[1].code"`) {
		t.Fatalf("problem does not name products[1].code: %s", r.Body)
	}
	a := testenv.CreateArticle(t, s, editor, map[string]any{
		"title": "Rolling out", "products": []map[string]string{{"code": "foam-roller", "note": "Use daily"}}})
	// Only published articles hold a product in place.
	testenv.WantStatus(t, testenv.Call(t, s, editor, "DELETE", "/api/v1/products/foam-roller", nil), 204)
	r = testenv.Call(t, s, editor, "POST", "/api/v1/products", map[string]any{
		"code": "heat-pad", "title": "Heat pad", "asin": "B00TEST002", "marketplace": "amazon.com"})
	testenv.WantStatus(t, r, 201)
	r = testenv.Call(t, s, editor, "PATCH", "/api/v1/articles/"+a.ID, map[string]any{"products": []map[string]string{{"code": "heat-pad"}}},
		"If-Match", testenv.ETag(a.Version))
	testenv.WantStatus(t, r, 200)
	a = testenv.ArticleOf(t, r)
	r = testenv.Call(t, s, editor, "POST", "/api/v1/articles/"+a.ID+"/publish", map[string]any{}, "If-Match", testenv.ETag(a.Version))
	testenv.WantStatus(t, r, 200)

	r = testenv.Call(t, s, editor, "DELETE", "/api/v1/products/heat-pad", nil)
	testenv.WantStatus(t, r, 409)
	if !strings.Contains(string(r.Body), "rolling-out") {
		t.Errorf("409 does not name the article: %s", r.Body)
	}
	testenv.WantStatus(t, testenv.Call(t, s, editor, "DELETE", "/api/v1/products/heat-pad?force=true", nil), 204)
}
