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
			a := createArticle(t, s, token, map[string]any{"title": "Pain relief products " + format, "body": body, "bodyFormat": format})
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
		r := do(t, s, token, "POST", "/api/v1/articles", map[string]any{
			"title": "Short links", "body": `<p><a href="` + href + `">buy</a></p>`})
		wantStatus(t, r, 400)
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
	r := do(t, s, editor, "POST", "/api/v1/products", map[string]any{
		"code": "foam-roller", "title": "Foam roller", "asin": "B00TEST001", "marketplace": "amazon.com"})
	wantStatus(t, r, 201)

	r = do(t, s, editor, "POST", "/api/v1/articles", map[string]any{
		"title": "Rolling out", "products": []map[string]string{{"code": "foam-roller"}, {"code": "no-such-thing"}}})
	wantStatus(t, r, 400)
	if !strings.Contains(string(r.Body), `"field":"products[1].code"`) {
		t.Fatalf("problem does not name products[1].code: %s", r.Body)
	}
	a := createArticle(t, s, editor, map[string]any{
		"title": "Rolling out", "products": []map[string]string{{"code": "foam-roller", "note": "Use daily"}}})
	// Only published articles hold a product in place.
	wantStatus(t, do(t, s, editor, "DELETE", "/api/v1/products/foam-roller", nil), 204)
	r = do(t, s, editor, "POST", "/api/v1/products", map[string]any{
		"code": "heat-pad", "title": "Heat pad", "asin": "B00TEST002", "marketplace": "amazon.com"})
	wantStatus(t, r, 201)
	r = do(t, s, editor, "PATCH", "/api/v1/articles/"+a.ID, map[string]any{"products": []map[string]string{{"code": "heat-pad"}}},
		"If-Match", etag(a.Version))
	wantStatus(t, r, 200)
	a = article(t, r)
	r = do(t, s, editor, "POST", "/api/v1/articles/"+a.ID+"/publish", map[string]any{}, "If-Match", etag(a.Version))
	wantStatus(t, r, 200)

	r = do(t, s, editor, "DELETE", "/api/v1/products/heat-pad", nil)
	wantStatus(t, r, 409)
	if !strings.Contains(string(r.Body), "rolling-out") {
		t.Errorf("409 does not name the article: %s", r.Body)
	}
	wantStatus(t, do(t, s, editor, "DELETE", "/api/v1/products/heat-pad?force=true", nil), 204)
}

// TestContentProductsAndDisclosure: the content API expands attached
// products from the catalogue and carries the disclosure exactly when an
// article has an affiliate product or link; catalogue and settings changes
// show on the next request; the feed never carries Amazon links.
func TestContentProductsAndDisclosure(t *testing.T) {
	s := newAffiliateAPI(t)
	editor, _ := s.User(t, auth.Editor)
	admin, _ := s.User(t, auth.Admin)
	wantStatus(t, do(t, s, editor, "POST", "/api/v1/products", map[string]any{
		"code": "foam-roller", "title": "Foam roller", "asin": "B00TEST001", "marketplace": "amazon.com",
		"imageUrl": "https://m.media-amazon.com/images/I/roller.jpg"}), 201)

	withProduct := publish(t, s, editor, map[string]any{"title": "Rolling out sore calves",
		"products": []map[string]string{{"code": "foam-roller", "note": "Use daily"}}})
	withLink := publish(t, s, editor, map[string]any{"title": "Heat for back pain",
		"summary": "Our pick: https://www.amazon.com/dp/B00TEST002 and more.",
		"body":    `<p>A <a href="https://www.amazon.com/dp/B00TEST002">heat pad</a> helps.</p>`})
	plain := publish(t, s, editor, map[string]any{"title": "Breathing for calm", "body": "<p>Breathe.</p>"})

	content := func(slug string) map[string]any {
		t.Helper()
		r := get(t, s, "/api/v1/content/articles/"+slug)
		wantStatus(t, r, 200)
		return jsonObject(t, r)
	}
	got := content(withProduct.Slug)
	products := got["products"].([]any)
	if len(products) != 1 {
		t.Fatalf("products = %v", got["products"])
	}
	p := products[0].(map[string]any)
	want := map[string]any{"code": "foam-roller", "title": "Foam roller", "merchant": "Amazon", "note": "Use daily",
		"imageUrl": "https://m.media-amazon.com/images/I/roller.jpg",
		"url":      "http://cms.test/go/foam-roller?a=" + withProduct.Slug}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("product %s = %v, want %v", k, p[k], v)
		}
	}
	disclosure := func(a map[string]any) map[string]any {
		d, _ := a["disclosure"].(map[string]any)
		return d
	}
	const amazonText = "As an Amazon Associate I earn from qualifying purchases."
	if d := disclosure(got); d == nil || d["text"] != amazonText || d["placement"] != "before-first-affiliate-link" {
		t.Errorf("disclosure with a product = %v", got["disclosure"])
	}
	if d := disclosure(content(withLink.Slug)); d == nil || d["text"] != amazonText {
		t.Errorf("disclosure with a body link = %v", d)
	}
	if got := content(plain.Slug); got["disclosure"] != nil {
		t.Errorf("disclosure without affiliate content = %v", got["disclosure"])
	}

	// The owner changes the disclosure text: the next request shows it.
	r := do(t, s, admin, "GET", "/api/v1/settings/affiliate", nil)
	wantStatus(t, r, 200)
	settings := jsonObject(t, r)
	settings["disclosureText"] = "We earn a commission from Amazon links, at no cost to you."
	delete(settings, "updatedAt")
	wantStatus(t, do(t, s, admin, "PUT", "/api/v1/settings/affiliate", settings), 200)
	if d := disclosure(content(withProduct.Slug)); d == nil || d["text"] != settings["disclosureText"] {
		t.Errorf("disclosure after the settings change = %v", d)
	}

	// An archived product no longer shows, and with it the disclosure.
	wantStatus(t, do(t, s, editor, "PATCH", "/api/v1/products/foam-roller", map[string]any{"archived": true}), 200)
	got = content(withProduct.Slug)
	if len(got["products"].([]any)) != 0 || got["disclosure"] != nil {
		t.Errorf("after archiving: products %v, disclosure %v", got["products"], got["disclosure"])
	}

	feed := get(t, s, "/feed.xml")
	wantStatus(t, feed, 200)
	if strings.Contains(string(feed.Body), "amazon.") || strings.Contains(string(feed.Body), "/go/") {
		t.Errorf("the feed carries an affiliate link:\n%s", feed.Body)
	}
	if !strings.Contains(string(feed.Body), "Our pick: http://cms.test/articles/"+withLink.Slug+" and more.") {
		t.Errorf("the Amazon link in the summary was not replaced by the article's URL:\n%s", feed.Body)
	}
}
