package cms

import (
	"strings"
	"testing"
)

// TestScanBody checks the one pass over the HTML on the shapes the price
// rule depends on: which text counts as next to a link.
func TestScanBody(t *testing.T) {
	link := `<a href="https://www.amazon.com/dp/B000000001">roller</a>`
	tests := []struct {
		name, body, price string
	}{
		{"same paragraph", "<p>" + link + " for $19.99</p>", "$19.99"},
		{"text before the link", "<p>Only 19,99 € for the " + link + "</p>", "19,99 €"},
		{"other paragraph", "<p>" + link + "</p><p>$19.99</p>", ""},
		{"other list item", "<ul><li>" + link + "</li><li>4.5 stars</li></ul>", ""},
		{"nested paragraph in an item", "<ul><li><p>" + link + " 4.5 stars</p></li></ul>", "4.5 stars"},
		{"inline markup between", "<p><strong>" + link + "</strong> <em>rated 4/5</em></p>", "4/5"},
		{"unclosed paragraph", "<p>" + link + " ★★★★", "★★★★"},
		{"stray end tag", "<p>" + link + "</li> $5</p>", "$5"},
		{"no link", "<p>$19.99 and 5 stars</p>", ""},
		{"table cell", "<table><tr><td>" + link + "</td><td>$3</td></tr></table>", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := scanBody(tc.body).price; got != tc.price {
				t.Errorf("price = %q, want %q", got, tc.price)
			}
		})
	}
	sc := scanBody(`<p>It cures all. It CURES all! <a href="https://amazon.de/dp/B000000002">x</a> <a href="http://www.amazon.de/x">y</a></p><img src="https://images-eu.ssl-images-amazon.com/i.jpg">`)
	if len(sc.claims) != 1 || sc.claims[0] != "cures" {
		t.Errorf("claims = %q", sc.claims)
	}
	if len(sc.marketplaces) != 1 || sc.linksTo["amazon.de"] != 2 {
		t.Errorf("marketplaces %v, links %v", sc.marketplaces, sc.linksTo)
	}
	if !strings.Contains(sc.amazonImage, "ssl-images-amazon.com") {
		t.Errorf("image %q", sc.amazonImage)
	}
}
