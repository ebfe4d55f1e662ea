package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
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

// newDraft creates an article through the editor and returns its editor
// path.
func newDraft(t *testing.T, b *browser, title, body string) string {
	t.Helper()
	r := b.post("/admin/articles", articleForm("0", title, body))
	if r.Status != http.StatusSeeOther {
		t.Fatalf("create: %d\n%.2000s", r.Status, r.Body)
	}
	return strings.SplitN(r.location(), "?", 2)[0]
}

// TestStaleSaveKeepsBothTexts: two editors load version 1; the first
// saves; the second's save is refused as stale but shows the editor with
// their text and the other change as a diff, and saving again keeps it.
func TestStaleSaveKeepsBothTexts(t *testing.T) {
	s := testenv.NewServer(t)
	author := signIn(t, s, auth.Author)
	editor := signIn(t, s, auth.Editor)
	path := newDraft(t, author, "Hot stones", "<p>Warm basalt stones relax muscles.</p>")

	mine := articleForm("1", "Hot stones", "<p>Warm basalt stones relax tight muscles deeply.</p>")
	mine.Set("slug", "hot-stones")
	author.post(path, mine).want(t, http.StatusSeeOther)

	theirs := articleForm("1", "Hot stone massage", "<p>Heated basalt stones relax muscles.</p>")
	theirs.Set("slug", "hot-stones")
	r := editor.post(path, theirs)
	r.want(t, http.StatusPreconditionFailed, "Changed meanwhile: version 2",
		"Heated basalt stones", // their text is still in the form
		`value="2"`,            // and the form is at the current version
		"<del>Warm</del>", "<ins>Heated</ins>", "tight")

	theirs.Set("version", "2")
	editor.post(path, theirs).want(t, http.StatusSeeOther)
	a := getArticle(t, s, editor, path)
	if a.Title != "Hot stone massage" || !strings.Contains(a.Body, "Heated basalt") || a.Version != 3 {
		t.Fatalf("after keeping theirs: v%d %q %q", a.Version, a.Title, a.Body)
	}
}

func TestAutosaveMakesNoRevision(t *testing.T) {
	s := testenv.NewServer(t)
	b := signIn(t, s, auth.Author)
	path := newDraft(t, b, "Cupping", "<p>First.</p>")
	for _, body := range []string{"<p>First. Sec</p>", "<p>First. Second.</p>"} {
		r := b.post(path+"/autosave", articleForm("1", "Cupping", body))
		r.want(t, http.StatusOK, `"savedAt"`)
	}
	a := getArticle(t, s, b, path)
	if a.Version != 1 || a.Body != "<p>First.</p>" {
		t.Fatalf("autosave changed the article: v%d %q", a.Version, a.Body)
	}
	p := b.get(path)
	p.want(t, http.StatusOK, "Restore the autosaved text")
	b.get(path+"?autosave=restore").want(t, http.StatusOK, "First. Second.")
	// Saving drops the autosave.
	form := articleForm("1", "Cupping", "<p>First. Second.</p>")
	form.Set("slug", "cupping")
	b.post(path, form).want(t, http.StatusSeeOther)
	if p := b.get(path); strings.Contains(p.Body, "Restore the autosaved text") {
		t.Fatal("the autosave outlived the save")
	}
	// Someone who may not edit the article cannot autosave it.
	other := signIn(t, s, auth.Author)
	other.post(path+"/autosave", articleForm("1", "Cupping", "<p>x</p>")).want(t, http.StatusNotFound)
}

// TestEditorButtons: which actions the editor offers follows the
// permission table, per role and state.
func TestEditorButtons(t *testing.T) {
	s := testenv.NewServer(t)
	owner := signIn(t, s, auth.Contributor)
	path := newDraft(t, owner, "Reflexology", "<p>Feet.</p>")
	editor := signIn(t, s, auth.Editor)
	for _, tc := range []struct {
		who    *browser
		has    []string
		hasNot []string
	}{
		{owner, []string{">Save<", ">Submit for review<"}, []string{">Publish<", ">Schedule<"}},
		{editor, []string{">Save<", ">Publish<", ">Schedule<", ">Submit for review<"}, []string{">Unpublish<", ">Discard changes<"}},
	} {
		p := tc.who.get(path)
		p.want(t, http.StatusOK, tc.has...)
		for _, no := range tc.hasNot {
			if strings.Contains(p.Body, no) {
				t.Errorf("%s sees %s", tc.who.User.Role, no)
			}
		}
	}
	// The contributor submits; the editor publishes.
	form := articleForm("1", "Reflexology", "<p>Feet.</p>")
	form.Set("slug", "reflexology")
	form.Set("action", "submit")
	owner.post(path, form).want(t, http.StatusSeeOther)
	form.Set("version", "2")
	form.Set("action", "publish")
	owner.post(path, form).want(t, http.StatusForbidden)
	editor.post(path, form).want(t, http.StatusSeeOther)
	if a := getArticle(t, s, editor, path); a.Status != "published" {
		t.Fatalf("status %s", a.Status)
	}
	// Schedule needs a date.
	draft := newDraft(t, editor, "Shiatsu", "<p>Pressure.</p>")
	form = articleForm("1", "Shiatsu", "<p>Pressure.</p>")
	form.Set("slug", "shiatsu")
	form.Set("action", "schedule")
	editor.post(draft, form).want(t, http.StatusBadRequest, "is needed to schedule")
	form.Set("publishAt", "2099-01-02T09:30")
	editor.post(draft, form).want(t, http.StatusBadRequest) // beyond five years
	form.Set("publishAt", time.Now().UTC().Add(48*time.Hour).Format("2006-01-02T15:04"))
	editor.post(draft, form).want(t, http.StatusSeeOther)
	if a := getArticle(t, s, editor, draft); a.Status != "scheduled" {
		t.Fatalf("status %s", a.Status)
	}
}

func TestArticleListFilters(t *testing.T) {
	s := testenv.NewServer(t)
	b := signIn(t, s, auth.Editor)
	newDraft(t, b, "Sports massage for runners", "<p>Legs.</p>")
	newDraft(t, b, "Prenatal massage", "<p>Care.</p>")
	b.get("/admin/articles?q=runners").want(t, http.StatusOK, "Sports massage for runners")
	if p := b.get("/admin/articles?q=runners"); strings.Contains(p.Body, "Prenatal") {
		t.Fatal("the search kept a non-matching article")
	}
	b.get("/admin/articles?status=published").want(t, http.StatusOK, "No articles match.")
	b.get("/admin/articles?status=bogus").want(t, http.StatusBadRequest)
	b.get("/admin/articles?tag=back%20pain").want(t, http.StatusBadRequest)
	other := signIn(t, s, auth.Author)
	if p := other.get("/admin/articles"); strings.Contains(p.Body, "Prenatal") {
		t.Fatal("an author sees another author's draft")
	}
}

func TestPreviewLink(t *testing.T) {
	s := testenv.NewServer(t)
	b := signIn(t, s, auth.Author)
	path := newDraft(t, b, "Trigger points", "<p>Knots.</p>")
	p := b.post(path+"/preview", nil)
	p.want(t, http.StatusOK, "http://cms.test/api/v1/content/articles/trigger-points?preview=", "Copy link")
}

func getArticle(t *testing.T, s *testenv.Server, b *browser, path string) *cms.Article {
	t.Helper()
	a, err := s.Services().Articles.Get(context.Background(), mustPrincipal(t, s, b), strings.TrimPrefix(path, "/admin/articles/"))
	if err != nil {
		t.Fatal(err)
	}
	return a
}
