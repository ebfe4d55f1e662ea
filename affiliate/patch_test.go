package affiliate_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// TestProductMergePatch pins the RFC 7396 rules of PATCH /products/{code}
// through the real router: absent stays, a value replaces, null clears an
// optional member and is refused on one that cannot be cleared, and every
// refusal names the member.
func TestProductMergePatch(t *testing.T) {
	s := newServer(t)
	editor, _ := s.User(t, auth.Editor)
	tests := []struct {
		name   string
		patch  string
		status int
		field  string         // for 400: the member the problem names
		msg    string         // and its message
		want   map[string]any // for 200: members of the product afterwards
	}{
		{"absent members stay", `{}`, 200, "", "",
			map[string]any{"title": "Foam roller", "imageUrl": "https://m.media-amazon.com/images/I/foam.jpg", "description": "For sore calves.", "archived": false}},
		{"a value replaces", `{"description":" Firm. "}`, 200, "", "",
			map[string]any{"description": "Firm.", "title": "Foam roller"}},
		{"null clears imageUrl and description", `{"imageUrl":null,"description":null}`, 200, "", "",
			map[string]any{"imageUrl": "", "description": "", "title": "Foam roller"}},
		{"empty string still clears", `{"description":""}`, 200, "", "",
			map[string]any{"description": ""}},
		{"null clears the asin target for a url", `{"asin":null,"marketplace":null,"url":"https://www.amazon.co.uk/dp/B000123456"}`, 200, "", "",
			map[string]any{"asin": "", "marketplace": "", "url": "https://www.amazon.co.uk/dp/B000123456"}},
		{"null leaving half a target", `{"asin":null}`, 400, "asin", "must be 10 upper-case letters or digits, like B000123456", nil},
		{"null on title", `{"title":null}`, 400, "title", "cannot be cleared", nil},
		{"null on code", `{"code":null}`, 400, "code", "cannot be cleared", nil},
		{"null on archived", `{"archived":null}`, 400, "archived", "cannot be cleared", nil},
		{"empty title", `{"title":""}`, 400, "title", "is required", nil},
		{"wrong type", `{"title":5}`, 400, "title", "must be a string", nil},
		{"wrong type bool", `{"archived":"yes"}`, 400, "archived", "must be a boolean", nil},
		{"unknown member", `{"rating":5}`, 400, "rating", "unknown field", nil},
		{"object for a string", `{"imageUrl":{"url":"x"}}`, 400, "imageUrl", "must be a string", nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := fmt.Sprintf("roller-%d", i)
			createProduct(t, s, editor, map[string]any{
				"code": code, "title": "Foam roller", "asin": "B000123456", "marketplace": "amazon.com",
				"imageUrl": "https://m.media-amazon.com/images/I/foam.jpg", "description": "For sore calves.",
			})
			path := "/api/v1/products/" + code
			r := s.Do(testenv.Request{Method: "PATCH", Path: path, Token: editor, Body: tt.patch})
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.status, r.Body)
			}
			if tt.status == http.StatusBadRequest {
				r.WantField(t, tt.field, tt.msg)
				// A refused patch changes nothing.
				tt.want = map[string]any{"title": "Foam roller", "asin": "B000123456", "description": "For sore calves."}
			}
			var got map[string]any
			s.Do(testenv.Request{Path: path, Token: editor}).JSON(t, &got)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}
