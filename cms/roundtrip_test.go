package cms_test

import (
	"net/http"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// TestArticleRoundTrip: an article fetched and sent back whole with one
// change is accepted, whatever the server owns in it; a changed member
// the server owns is refused by name, and every bad member is named in
// one answer.
func TestArticleRoundTrip(t *testing.T) {
	s, _ := newAPI(t)
	editor, _ := s.User(t, auth.Editor)
	a := testenv.CreateArticle(t, s, editor, map[string]any{
		"title": "Massage after a run", "summary": "Why and when.", "body": "# Legs\n\nRoll **gently**.",
		"tags": []string{"massage", "running"}, "category": "recovery",
		"coverImage":    map[string]any{"url": "https://cdn.example.com/legs.jpg", "alt": "Legs"},
		"seo":           map[string]any{"title": "Massage", "description": "After a run", "canonicalUrl": "https://clinic.test/massage"},
		"medicalReview": map[string]any{"reviewerName": "Dr A", "reviewerCredentials": "PT", "reviewedAt": "2026-01-02T03:04:05Z"},
		"sources":       []map[string]any{{"title": "A study", "url": "https://journal.test/1"}},
		"cta":           map[string]any{"label": "Book", "url": "https://clinic.test/book"},
	})
	path := "/api/v1/articles/" + a.ID
	for _, e := range []testenv.Edit{
		{Field: "title", Value: "Massage after a long run", ReadOnly: "status", Changed: "published"},
		{Field: "summary", Value: "When it helps.", ReadOnly: "wordCount", Changed: 9999},
		{Field: "category", Value: "running", ReadOnly: "bodyHtml", Changed: "<p>mine</p>"},
	} {
		t.Run(e.ReadOnly, func(t *testing.T) { testenv.RoundTrip(t, s, editor, http.MethodPatch, path, e) })
	}

	// A published article sent back is a round trip too: its publishedAt
	// and lastTransition are the server's.
	testenv.Transition(t, s, editor, testenv.ArticleOf(t, s.Do(testenv.Request{Path: path, Token: editor})), "publish", nil)
	testenv.RoundTrip(t, s, editor, http.MethodPatch, path,
		testenv.Edit{Field: "tags", Value: []any{"massage"}, ReadOnly: "publishedAt", Changed: "2020-01-01T00:00:00Z"})
}
