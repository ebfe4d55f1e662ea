package cms_test

import (
	"context"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// TestStagedReadableArticles checks the bulk read the content API reloads
// from: a published article with staged changes comes with its live copy,
// whose source body is left out like the draft's, and Served gives what
// readers get. (content/staged_test.go tests staged changes end to end.)
func TestStagedReadableArticles(t *testing.T) {
	s, _ := newAPI(t)
	token, _ := s.User(t, auth.Editor)
	a := testenv.Publish(t, s, token, map[string]any{"title": "Live", "body": "<p>Live body.</p>"})
	testenv.PatchArticle(t, s, token, a, map[string]any{"title": "Draft", "body": "<p>Draft body.</p>"})
	all, err := s.Services().Articles.ReadableArticles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range all {
		if got.ID != a.ID {
			continue
		}
		if got.Live == nil || got.Body != "" || got.Live.Body != "" {
			t.Fatalf("readable article: live %+v, body %q", got.Live, got.Body)
		}
		if v := got.Served(); v.Title != "Live" || v.BodyHTML != "<p>Live body.</p>" || v.HasUnpublishedChanges {
			t.Errorf("served: %q %q %v", v.Title, v.BodyHTML, v.HasUnpublishedChanges)
		}
		return
	}
	t.Fatal("the article is not readable")
}
