package testenv

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/wellness/cms/cms"
)

// Call sends one request as the holder of token ("" for none); header is
// name, value pairs.
func Call(t testing.TB, s *Server, token, method, path string, body any, header ...string) *Response {
	t.Helper()
	h := map[string]string{}
	for i := 0; i+1 < len(header); i += 2 {
		h[header[i]] = header[i+1]
	}
	return s.Do(Request{Method: method, Path: path, Body: body, Token: token, Header: h})
}

// WantStatus stops the test unless r has status.
func WantStatus(t testing.TB, r *Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body %s", r.Status, status, r.Body)
	}
}

// ArticleOf decodes an authoring API article and checks that the ETag
// names its version.
func ArticleOf(t testing.TB, r *Response) *cms.Article {
	t.Helper()
	var a cms.Article
	r.JSON(t, &a)
	if got, want := r.Header.Get("ETag"), ETag(a.Version); got != want {
		t.Errorf("ETag = %q, want %q", got, want)
	}
	return &a
}

// CreateArticle creates an article through the API as token's holder.
func CreateArticle(t testing.TB, s *Server, token string, body any) *cms.Article {
	t.Helper()
	r := Call(t, s, token, "POST", "/api/v1/articles", body)
	WantStatus(t, r, http.StatusCreated)
	return ArticleOf(t, r)
}

// Publish creates an article and publishes it now.
func Publish(t testing.TB, s *Server, token string, body map[string]any) *cms.Article {
	t.Helper()
	return Transition(t, s, token, CreateArticle(t, s, token, body), "publish", nil)
}

// Transition runs a workflow action (submit, publish, unpublish...) on a.
func Transition(t testing.TB, s *Server, token string, a *cms.Article, action string, body any) *cms.Article {
	t.Helper()
	r := Call(t, s, token, "POST", "/api/v1/articles/"+a.ID+"/"+action, body)
	WantStatus(t, r, http.StatusOK)
	return ArticleOf(t, r)
}

// PatchArticle applies a merge patch to version a of an article.
func PatchArticle(t testing.TB, s *Server, token string, a *cms.Article, patch map[string]any) *cms.Article {
	t.Helper()
	r := Call(t, s, token, "PATCH", "/api/v1/articles/"+a.ID, patch, "If-Match", ETag(a.Version))
	WantStatus(t, r, http.StatusOK)
	return ArticleOf(t, r)
}

// ETag is the authoring API's entity tag of an article version.
func ETag(version int64) string { return fmt.Sprintf(`"%d"`, version) }

// ListField reads a list page (GET path as token's holder, "" for none)
// and returns the string member field of each item, in order.
func ListField(t testing.TB, s *Server, token, path, field string) []string {
	t.Helper()
	r := Call(t, s, token, "GET", path, nil)
	WantStatus(t, r, http.StatusOK)
	var page struct {
		Items []map[string]any `json:"items"`
	}
	r.JSON(t, &page)
	out := make([]string, len(page.Items))
	for i, it := range page.Items {
		out[i], _ = it[field].(string)
	}
	return out
}

// PublishChanges applies a merge patch to version a of a published
// article and publishes the change: edits of a published article are
// staged until then.
func PublishChanges(t testing.TB, s *Server, token string, a *cms.Article, patch map[string]any) *cms.Article {
	t.Helper()
	return Transition(t, s, token, PatchArticle(t, s, token, a, patch), "publish", nil)
}
