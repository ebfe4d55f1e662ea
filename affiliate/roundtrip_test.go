package affiliate_test

import (
	"net/http"
	"testing"

	"github.com/wellness/cms/internal/testenv"
)

// TestRoundTrip: a product and the settings, fetched and sent back whole
// with one change (PATCH, and PUT for the settings), are accepted; a
// changed member the server owns is refused by name, and every bad
// member is named in one answer.
func TestRoundTrip(t *testing.T) {
	s := newServer(t)
	admin := adminToken(t, s)
	testenv.WantStatus(t, s.Do(testenv.Request{Method: "POST", Path: "/api/v1/products", Token: admin,
		Body: map[string]any{"code": "mat", "title": "Mat", "asin": "B000123456", "marketplace": "amazon.com",
			"imageUrl": "https://m.media-amazon.com/images/I/mat.jpg", "description": "A thick mat."}}), http.StatusCreated)
	testenv.WantStatus(t, s.Do(testenv.Request{Method: "POST", Path: "/api/v1/products", Token: admin,
		Body: map[string]any{"code": "roller", "title": "Roller", "url": "https://www.amazon.com/dp/B000654321"}}), http.StatusCreated)
	settings := "/api/v1/settings/affiliate"
	tests := []struct {
		name, method, path string
		edit               testenv.Edit
	}{
		{"product merchant", "PATCH", "/api/v1/products/mat",
			testenv.Edit{Field: "title", Value: "Yoga mat", ReadOnly: "merchant", Changed: "Elsewhere"}},
		{"product target", "PATCH", "/api/v1/products/mat",
			testenv.Edit{Field: "description", Value: "Thicker.", ReadOnly: "target", Changed: "https://evil.example/"}},
		{"product with a url", "PATCH", "/api/v1/products/roller",
			testenv.Edit{Field: "archived", Value: true, ReadOnly: "createdAt", Changed: "2001-01-01T00:00:00Z"}},
		{"settings PATCH", "PATCH", settings,
			testenv.Edit{Field: "disclosureText", Value: "I earn from purchases.", ReadOnly: "updatedAt", Changed: "2001-01-01T00:00:00Z"}},
		{"settings PUT", "PUT", settings,
			testenv.Edit{Field: "disclosureText", Value: "As an Amazon Associate I earn.", ReadOnly: "updatedAt", Changed: "2001-01-01T00:00:00Z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { testenv.RoundTrip(t, s, admin, tc.method, tc.path, tc.edit) })
	}
}
