package affiliate_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// TestProductURLsStoredAttributeSafe: a product's url and imageUrl, like an
// article's URL fields, are stored with the characters that could end an
// HTML attribute or a string percent-encoded, and the redirect still goes
// to the same place.
func TestProductURLsStoredAttributeSafe(t *testing.T) {
	s := newServer(t)
	editor, _ := s.User(t, auth.Editor)
	p := createProduct(t, s, editor, map[string]any{
		"code": "quoted", "title": "Quoted",
		"url":      `https://www.amazon.com/dp/B000123456?x="'<>` + "`",
		"imageUrl": `https://m.media-amazon.com/images/I/a.jpg?q="><script>`,
	})
	for _, k := range []string{"url", "imageUrl"} {
		v, _ := p[k].(string)
		if strings.ContainsAny(v, "\"'<>`") || !strings.Contains(v, "%22") {
			t.Errorf("%s stored as %q", k, v)
		}
	}
	r := s.Do(testenv.Request{Path: "/go/quoted"})
	if r.Status != http.StatusFound {
		t.Fatalf("redirect: %d %s", r.Status, r.Body)
	}
	if loc := r.Header.Get("Location"); strings.ContainsAny(loc, "\"'<>`") || !strings.Contains(loc, "tag=") {
		t.Errorf("Location = %q", loc)
	}
	// Saving the stored form again keeps it.
	again := createProduct(t, s, editor, map[string]any{"code": "quoted-2", "title": "Again", "url": p["url"], "imageUrl": p["imageUrl"]})
	if again["url"] != p["url"] || again["imageUrl"] != p["imageUrl"] {
		t.Errorf("stored form changed on a second save: %v / %v", again["url"], again["imageUrl"])
	}
}
