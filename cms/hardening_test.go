package cms_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// TestStrictQueries: every authoring and content route refuses what it
// does not take, and a query that does not parse is never read as empty.
func TestStrictQueries(t *testing.T) {
	s, _ := newAPI(t)
	token, _ := s.User(t, auth.Editor)
	a := testenv.CreateArticle(t, s, token, map[string]any{"title": "Strict"})
	id := "/api/v1/articles/" + a.ID
	type req struct{ method, path string }
	for _, r := range []req{
		{"GET", "/api/v1/articles?cursor=%ZZ"},
		{"GET", "/api/v1/articles?limit=0"},
		{"GET", "/api/v1/articles?limit=5&limit=6"},
		{"GET", "/api/v1/articles?status="},
		{"GET", "/api/v1/articles?author="},
		{"GET", "/api/v1/articles?bogus=1"},
		{"GET", id + "?x=1"},
		{"GET", id + "?limit=5"},
		{"PATCH", id + "?x=1"},
		{"DELETE", id + "?force=true"},
		{"POST", id + "/submit?x=1"},
		{"POST", id + "/publish?x=1"},
		{"POST", id + "/unpublish?x=1"},
		{"GET", id + "/revisions?bogus=1"},
		{"GET", id + "/revisions?limit=101"},
		{"GET", id + "/revisions?cursor=abc"},
		{"GET", id + "/revisions?cursor=%ZZ"},
		{"GET", id + "/revisions/1?x=1"},
		{"POST", id + "/revisions/1/restore?x=1"},
		{"POST", id + "/preview-token?x=1"},
		{"POST", "/api/v1/articles?x=1"},
	} {
		got := testenv.Call(t, s, token, r.method, r.path, nil, "If-Match", testenv.ETag(a.Version))
		if got.Status != http.StatusBadRequest {
			t.Errorf("%s %s = %d, want 400; %s", r.method, r.path, got.Status, got.Body)
			continue
		}
		if p := got.Problem(t); p["errors"] == nil {
			t.Errorf("%s %s: no field named: %s", r.method, r.path, got.Body)
		}
	}
	// The routes still answer without a query.
	for _, p := range []string{id, id + "/revisions"} {
		testenv.WantStatus(t, testenv.Call(t, s, token, "GET", p, nil), http.StatusOK)
	}
}

// TestRevisionsPaging: the revisions list pages like every list.
func TestRevisionsPaging(t *testing.T) {
	s, _ := newAPI(t)
	token, _ := s.User(t, auth.Author)
	a := testenv.CreateArticle(t, s, token, map[string]any{"title": "v1"})
	for v := int64(1); v < 6; v++ {
		a = testenv.PatchArticle(t, s, token, a, map[string]any{"title": "v" + string(rune('1'+v))})
	}
	var versions []int64
	path := "/api/v1/articles/" + a.ID + "/revisions?limit=2"
	for pages := 0; path != ""; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		r := testenv.Call(t, s, token, "GET", path, nil)
		testenv.WantStatus(t, r, http.StatusOK)
		var page struct {
			Items []struct {
				Version int64 `json:"version"`
			} `json:"items"`
			NextCursor *string `json:"nextCursor"`
		}
		r.JSON(t, &page)
		for _, it := range page.Items {
			versions = append(versions, it.Version)
		}
		path = ""
		if page.NextCursor != nil {
			path = "/api/v1/articles/" + a.ID + "/revisions?limit=2&cursor=" + *page.NextCursor
		}
	}
	if len(versions) != 5 || versions[0] != 5 || versions[4] != 1 {
		t.Errorf("versions = %v, want 5..1", versions)
	}

	// A cursor belongs to its article's revisions; the bare version
	// number, the cursor of old, is not one.
	other := testenv.CreateArticle(t, s, token, map[string]any{"title": "other"})
	other = testenv.PatchArticle(t, s, token, other, map[string]any{"title": "other, again"})
	var page struct {
		NextCursor *string `json:"nextCursor"`
	}
	testenv.Call(t, s, token, "GET", "/api/v1/articles/"+a.ID+"/revisions?limit=1", nil).JSON(t, &page)
	if page.NextCursor == nil {
		t.Fatal("no next cursor")
	}
	for _, tt := range []struct{ path, msg string }{
		{"/api/v1/articles/" + other.ID + "/revisions?cursor=" + *page.NextCursor, "belongs to a list with other filters"},
		{"/api/v1/articles/" + a.ID + "/revisions?cursor=5", "is not a cursor this API returned"},
	} {
		r := testenv.Call(t, s, token, "GET", tt.path, nil)
		testenv.WantStatus(t, r, http.StatusBadRequest)
		r.WantField(t, "cursor", tt.msg)
	}
}

// TestPreconditionMessages: a 412 says which version is current and a 428
// shows the header to send, with the current ETag.
func TestPreconditionMessages(t *testing.T) {
	s, _ := newAPI(t)
	token, _ := s.User(t, auth.Author)
	a := testenv.CreateArticle(t, s, token, map[string]any{"title": "Messages"})
	a = testenv.PatchArticle(t, s, token, a, map[string]any{"title": "Messages 2"})
	path := "/api/v1/articles/" + a.ID

	r := testenv.Call(t, s, token, "PATCH", path, map[string]any{"title": "x"}, "If-Match", testenv.ETag(7))
	testenv.WantStatus(t, r, http.StatusPreconditionFailed)
	detail, _ := r.Problem(t)["detail"].(string)
	if !strings.Contains(detail, "version 7") || !strings.Contains(detail, `at version 2`) || strings.Contains(detail, "since version 7") {
		t.Errorf("412 detail = %q", detail)
	}
	for _, act := range []string{"submit", "publish"} {
		r = testenv.Call(t, s, token, "POST", path+"/"+act, nil, "If-Match", testenv.ETag(1))
		testenv.WantStatus(t, r, http.StatusPreconditionFailed)
		if detail, _ := r.Problem(t)["detail"].(string); !strings.Contains(detail, "at version 2") {
			t.Errorf("%s 412 detail = %q", act, detail)
		}
	}

	r = testenv.Call(t, s, token, "PATCH", path, map[string]any{"title": "x"})
	testenv.WantStatus(t, r, http.StatusPreconditionRequired)
	detail, _ = r.Problem(t)["detail"].(string)
	if !strings.Contains(detail, `If-Match: "2"`) {
		t.Errorf("428 detail = %q", detail)
	}
	// The 428 reveals nothing about articles the caller may not see.
	stranger, _ := s.User(t, auth.Author)
	testenv.WantStatus(t, testenv.Call(t, s, stranger, "PATCH", path, map[string]any{"title": "x"}), http.StatusNotFound)
}
