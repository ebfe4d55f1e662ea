package server_test

import (
	"net/http"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// TestCreateNamesEveryBadMember: a create body with several members of
// the wrong type and several unknown ones gets one 400 naming each of
// them, on every resource, so a client fixes its body in one round.
func TestCreateNamesEveryBadMember(t *testing.T) {
	s := testenv.NewServer(t)
	token, _ := s.User(t, auth.Admin)
	tests := []struct {
		path string
		body map[string]any
		want map[string]string
	}{
		{"/api/v1/articles",
			map[string]any{"title": 1, "tags": "pain", "summary": true, "cta": []any{}, "price": 3, "color": "red"},
			map[string]string{"title": "must be a string", "tags": "must be an array", "summary": "must be a string",
				"cta": "must be an object", "price": "unknown field", "color": "unknown field"}},
		{"/api/v1/products",
			map[string]any{"title": 1, "url": 2, "price": 3},
			map[string]string{"title": "must be a string", "url": "must be a string", "price": "unknown field"}},
		{"/api/v1/users",
			map[string]any{"email": 1, "name": false, "password": []any{}, "admin": true},
			map[string]string{"email": "must be a string", "name": "must be a string", "password": "must be a string", "admin": "unknown field"}},
		{"/api/v1/webhooks",
			map[string]any{"url": 1, "events": "article.published", "secret": 2},
			map[string]string{"url": "must be a string", "events": "must be an array", "secret": "unknown field"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := testenv.Call(t, s, token, http.MethodPost, tt.path, tt.body)
			testenv.WantStatus(t, r, http.StatusBadRequest)
			fields, _ := r.Problem(t)["errors"].([]any)
			if len(fields) != len(tt.want) {
				t.Errorf("%d errors, want %d: %s", len(fields), len(tt.want), r.Body)
			}
			for field, msg := range tt.want {
				r.WantField(t, field, msg)
			}
		})
	}
}
