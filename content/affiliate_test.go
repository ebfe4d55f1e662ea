package content_test

import (
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/internal/testenv"
)

// TestContentProductsAndDisclosure: the content API expands attached
// products from the catalogue and carries the disclosure exactly when an
// article has an affiliate product or link; catalogue and settings changes
// show on the next request; the feed never carries Amazon links.
func TestContentProductsAndDisclosure(t *testing.T) {
	s := testenv.NewServer(t, func(c *server.Options) {
		c.AmazonTags = map[string]string{"amazon.com": "clinic-20"}
	})
	editor, _ := s.User(t, auth.Editor)
	admin, _ := s.User(t, auth.Admin)
	testenv.WantStatus(t, testenv.Call(t, s, editor, "POST", "/api/v1/products", map[string]any{
		"code": "foam-roller", "title": "Foam roller", "asin": "B00TEST001", "marketplace": "amazon.com",
		"imageUrl": "https://m.media-amazon.com/images/I/roller.jpg"}), 201)

	withProduct := testenv.Publish(t, s, editor, map[string]any{"title": "Rolling out sore calves",
		"products": []map[string]string{{"code": "foam-roller", "note": "Use daily"}}})
	withLink := testenv.Publish(t, s, editor, map[string]any{"title": "Heat for back pain",
		"summary": "Our pick: https://www.amazon.com/dp/B00TEST002 and more.",
		"body":    `<p>A <a href="https://www.amazon.com/dp/B00TEST002">heat pad</a> helps.</p>`})
	plain := testenv.Publish(t, s, editor, map[string]any{"title": "Breathing for calm", "body": "<p>Breathe.</p>"})

	content := func(slug string) map[string]any {
		t.Helper()
		r := get(t, s, "/api/v1/content/articles/"+slug)
		testenv.WantStatus(t, r, 200)
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
		"url":      "http://cms.test/go/foam-roller?a=" + withProduct.Slug + "&p=1"}
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
	r := testenv.Call(t, s, admin, "GET", "/api/v1/settings/affiliate", nil)
	testenv.WantStatus(t, r, 200)
	settings := jsonObject(t, r)
	settings["disclosureText"] = "We earn a commission from Amazon links, at no cost to you."
	delete(settings, "updatedAt")
	testenv.WantStatus(t, testenv.Call(t, s, admin, "PUT", "/api/v1/settings/affiliate", settings), 200)
	if d := disclosure(content(withProduct.Slug)); d == nil || d["text"] != settings["disclosureText"] {
		t.Errorf("disclosure after the settings change = %v", d)
	}

	// An archived product no longer shows, and with it the disclosure.
	testenv.WantStatus(t, testenv.Call(t, s, editor, "PATCH", "/api/v1/products/foam-roller", map[string]any{"archived": true}), 200)
	got = content(withProduct.Slug)
	if len(got["products"].([]any)) != 0 || got["disclosure"] != nil {
		t.Errorf("after archiving: products %v, disclosure %v", got["products"], got["disclosure"])
	}

	feed := get(t, s, "/feed.xml")
	testenv.WantStatus(t, feed, 200)
	if strings.Contains(string(feed.Body), "amazon.") || strings.Contains(string(feed.Body), "/go/") {
		t.Errorf("the feed carries an affiliate link:\n%s", feed.Body)
	}
	if !strings.Contains(string(feed.Body), "Our pick: http://cms.test/articles/"+withLink.Slug+" and more.") {
		t.Errorf("the Amazon link in the summary was not replaced by the article's URL:\n%s", feed.Body)
	}
}
