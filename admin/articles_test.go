package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// articleForm is a full editor form, as the browser sends it.
func articleForm(version, title, body string) url.Values {
	return url.Values{
		"version": {version}, "bodyFormat": {"html"}, "title": {title}, "slug": {""},
		"summary": {"Gentle pressure for sore backs."}, "body": {body},
		"tags": {"massage, back pain"}, "category": {"Massage"},
		"sourceTitle": {"", ""}, "sourceUrl": {"", ""}, "productCode": {"", ""}, "productNote": {"", ""},
		"action": {"save"},
	}
}

func TestArticleWriteAndPublish(t *testing.T) {
	s := testenv.NewServer(t)
	b := signIn(t, s, auth.Author)

	b.get("/admin/articles").want(t, http.StatusOK, "<h1>Articles</h1>", "New article")
	b.get("/admin/articles/new").want(t, http.StatusOK, `<label for="title">Title</label>`, `id="body-label"`, ">Save<")

	r := b.post("/admin/articles", articleForm("0", "Massage for chronic pain relief", "<h2>Why</h2><ol><li>One</li></ol>"))
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.location(), "/admin/articles/") {
		t.Fatalf("create: %d %s\n%.2000s", r.Status, r.location(), r.Body)
	}
	edit := strings.SplitN(r.location(), "?", 2)[0]
	b.get(r.location()).want(t, http.StatusOK, "Created.", "massage-for-chronic-pain-relief", ">Publish<", ">Schedule<", ">Submit for review<")

	form := articleForm("1", "Massage for chronic pain relief", "<h2>Why</h2><ol><li>One</li><li>Two</li></ol>")
	form.Set("slug", "massage-for-chronic-pain-relief")
	form.Set("action", "publish")
	r = b.post(edit, form)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("publish: %d\n%.3000s", r.Status, r.Body)
	}
	got := testenv.Call(t, s, "", "GET", "/api/v1/content/articles/massage-for-chronic-pain-relief", nil)
	testenv.WantStatus(t, got, http.StatusOK)
	if !strings.Contains(string(got.Body), "<li>Two</li>") {
		t.Fatalf("content API: %s", got.Body)
	}
}
