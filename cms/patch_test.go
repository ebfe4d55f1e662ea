package cms_test

import (
	"net/http"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// TestArticlePatchErrors pins, through the real router, how a PATCH of an
// article names what it refuses: by the member's JSON path, nested ones
// included, with the same words the product and user patches use.
func TestArticlePatchErrors(t *testing.T) {
	s, _ := newAPI(t)
	token, _ := s.User(t, auth.Author)
	tests := []struct {
		name   string
		patch  string
		status int
		field  string
		msg    string
	}{
		{"absent", `{}`, 200, "", ""},
		{"value", `{"seo":{"canonicalUrl":"https://clinic.test/massage"}}`, 200, "", ""},
		{"null on clearable", `{"summary":null,"seo":{"title":null}}`, 200, "", ""},
		{"null on title", `{"title":null}`, 400, "title", "cannot be cleared"},
		{"null on slug", `{"slug":null}`, 400, "slug", "cannot be cleared"},
		{"wrong type", `{"summary":5}`, 400, "summary", "must be a string"},
		{"wrong nested type", `{"seo":{"canonicalUrl":5}}`, 400, "seo.canonicalUrl", "must be a string"},
		{"wrong type in array", `{"sources":[{"title":"a","url":7}]}`, 400, "sources.url", "must be a string"},
		{"unknown member", `{"state":"published"}`, 400, "state", "unknown field"},
		{"changed read-only member", `{"status":"published"}`, 400, "status", "read-only; use POST .../submit, .../publish or .../unpublish"},
		{"unchanged read-only member", `{"status":"draft","wordCount":0}`, 200, "", ""},
		{"unknown nested member", `{"seo":{"keywords":"x"}}`, 400, "seo.keywords", "unknown field"},
		{"unknown member in array", `{"sources":[{"title":"a","url":"https://a.test","extra":1}]}`, 400, "sources.extra", "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := testenv.CreateArticle(t, s, token, map[string]any{"title": "Massage", "summary": "Why", "seo": map[string]any{"title": "S"}})
			r := testenv.Call(t, s, token, "PATCH", "/api/v1/articles/"+a.ID, tt.patch, "If-Match", testenv.ETag(a.Version))
			testenv.WantStatus(t, r, tt.status)
			if tt.status != http.StatusBadRequest {
				return
			}
			errs, _ := r.Problem(t)["errors"].([]any)
			for _, e := range errs {
				if m, _ := e.(map[string]any); m["field"] == tt.field && m["message"] == tt.msg {
					return
				}
			}
			t.Errorf("problem does not name %s (%q): %s", tt.field, tt.msg, r.Body)
		})
	}
}
