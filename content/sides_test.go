package content_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/testenv"
)

// TestBothListsAgree: q and author= mean the same in the authoring list
// and in the content API. For each query, the public list finds the
// published articles the authoring list finds, which also finds the
// drafts: the same words of title, tags, summary and body, folded the
// same way, and the same author by user ID or by name slug.
func TestBothListsAgree(t *testing.T) {
	s, _ := newContentAPI(t)
	jane := s.NewUser(t, auth.Author)
	janeToken, _, _ := s.Services().Auth.Tokens().Issue(jane.ID, jane.Role, jane.SessionVersion)
	other, otherID := s.User(t, auth.Author)
	ed, _ := s.User(t, auth.Editor)
	testenv.Publish(t, s, janeToken, map[string]any{"title": "Foot care", "tags": []string{"self-care"},
		"body": "<p>Une crème brûlée après le <strong>Fußbad</strong>.</p>"})
	testenv.CreateArticle(t, s, janeToken, map[string]any{"title": "Draft notes", "body": "<p>CRÈME BRÛLÉE, again.</p>"})
	knee := testenv.Publish(t, s, other, map[string]any{"title": "Knee pain", "body": "<p>Ice and rest.</p>"})
	janeSlug, otherSlug := cms.Slugify(jane.Name), cms.Slugify(knee.Author.Name)

	authoring := func(query string) []string {
		t.Helper()
		out := testenv.ListField(t, s, ed, "/api/v1/articles"+query, "slug")
		slices.Sort(out)
		return out
	}
	public := func(query string) []string {
		t.Helper()
		out, _ := listSlugs(t, s, query)
		slices.Sort(out)
		return out
	}
	tests := []struct {
		query, public, authoring string
	}{
		{"?q=" + url.QueryEscape("Crème"), "foot-care", "draft-notes,foot-care"},
		{"?q=creme+BRULEE", "foot-care", "draft-notes,foot-care"},
		{"?q=" + url.QueryEscape("brûl"), "foot-care", "draft-notes,foot-care"},
		{"?q=FUSSBAD", "foot-care", "foot-care"},
		{"?q=" + url.QueryEscape("après"), "foot-care", "foot-care"},
		{"?q=self", "foot-care", "foot-care"},
		{"?q=ice", "knee-pain", "knee-pain"},
		{"?q=br", "", ""},
		{"?q=rest+foot", "", ""},
		{"?author=" + jane.ID, "foot-care", "draft-notes,foot-care"},
		{"?author=" + janeSlug, "foot-care", "draft-notes,foot-care"},
		{"?author=" + jane.ID + "&q=creme", "foot-care", "draft-notes,foot-care"},
		{"?author=" + otherID, "knee-pain", "knee-pain"},
		{"?author=" + otherSlug + "&q=creme", "", ""},
		{"?author=no-such-author", "", ""},
		{"?author=0123456789abcdef01234567", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			if got := strings.Join(public(tt.query), ","); got != tt.public {
				t.Errorf("content API %s = %q, want %q", tt.query, got, tt.public)
			}
			if got := strings.Join(authoring(tt.query), ","); got != tt.authoring {
				t.Errorf("authoring list %s = %q, want %q", tt.query, got, tt.authoring)
			}
		})
	}
	for _, tt := range []struct{ query, field string }{
		{"?author=Jane%20Doe", "author"},
		{"?author=JANE-DOE", "author"},
		{"?q=%21%21", "q"},
		{"?q=" + strings.Repeat("w+", cms.MaxQueryWords) + "w", "q"},
	} {
		for _, path := range []string{"/api/v1/content/articles", "/api/v1/articles"} {
			r := testenv.Call(t, s, ed, "GET", path+tt.query, nil)
			testenv.WantStatus(t, r, http.StatusBadRequest)
			if !strings.Contains(string(r.Body), `"field":"`+tt.field+`"`) {
				t.Errorf("%s%s: %s does not name %s", path, tt.query, r.Body, tt.field)
			}
		}
	}
}
