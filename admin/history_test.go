package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/testenv"
	"github.com/wellness/cms/internal/web"
)

// historyAs is the principal of u, for setting up articles through the
// service the pages call.
func historyAs(u *auth.User) *auth.Principal {
	return &auth.Principal{UserID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role}
}

// historyArticle creates an article as u with title and an HTML body, then
// applies each edit in turn, one version per edit.
func historyArticle(t *testing.T, s *testenv.Server, u *auth.User, title, body string, edits ...*cms.ArticleUpdate) *cms.Article {
	t.Helper()
	ctx := context.Background()
	svc := s.Services().Articles
	a, err := svc.Create(ctx, historyAs(u), cms.Content{Title: title, Body: body, BodyFormat: cms.FormatHTML})
	if err != nil {
		t.Fatalf("create article: %v", err)
	}
	for _, e := range edits {
		if a, err = svc.Update(ctx, historyAs(u), a.ID, a.Version, e); err != nil {
			t.Fatalf("update article: %v", err)
		}
	}
	return a
}

func historyEdit(title, body string) *cms.ArticleUpdate {
	u := &cms.ArticleUpdate{}
	if title != "" {
		u.Title = web.Some(title)
	}
	if body != "" {
		u.Body = web.Some(body)
	}
	return u
}

// historyVersion is the value of the restore form's hidden version field.
func historyVersion(t *testing.T, p *page) string {
	t.Helper()
	m := regexp.MustCompile(`<input type="hidden" name="version" value="(\d+)">`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no version field in the page\n%.3000s", p.Body)
	}
	return m[1]
}

func TestHistoryList(t *testing.T) {
	s := testenv.NewServer(t)
	b := signIn(t, s, auth.Author)
	a := historyArticle(t, s, b.User, "Morning stretches", "<p>Stretch your calves gently.</p>",
		historyEdit("Evening stretches", ""), historyEdit("", "<p>Stretch your hamstrings gently.</p>"))

	base := "/admin/articles/" + a.ID + "/history"
	p := b.get(base)
	p.want(t, http.StatusOK,
		"<h1>History of “Evening stretches”</h1>",
		`aria-current="page">Articles</a>`,
		"Now at version 3",
		`<th scope="col">Changed</th>`,
		`<a href="`+base+`/2">Compare with current<span class="visually-hidden"> (version 2)</span></a>`,
		`<a href="`+base+`/1">Compare with current<span class="visually-hidden"> (version 1)</span></a>`,
		"<td>title</td>", // what the change to version 2 was
		"<td>"+b.User.Name+"</td>",
		"<td>"+time.Now().UTC().Format("2 Jan 2006"),
	)
	if strings.Contains(p.Body, base+"/3\"") {
		t.Error("the current version is listed as a revision")
	}

	// Paging back from a version lists only the older ones.
	p = b.get(base + "?below=2")
	p.want(t, http.StatusOK, base+"/1\"")
	if strings.Contains(p.Body, base+"/2\"") {
		t.Error("?below=2 lists version 2")
	}
	b.get(base+"?below=x").want(t, http.StatusBadRequest)
	b.get("/admin/articles/0123456789abcdef01234567/history").want(t, http.StatusNotFound)
}

func TestHistoryDiff(t *testing.T) {
	s := testenv.NewServer(t)
	b := signIn(t, s, auth.Author)
	a := historyArticle(t, s, b.User, "Morning stretches", "<p>Stretch your calves (<strong>gently</strong>).</p><p>Breathe out.</p>",
		historyEdit("Evening stretches", "<p>Stretch your hamstrings (<em>gently</em>).</p><p>Breathe out.</p>"))

	p := b.get("/admin/articles/" + a.ID + "/history/1")
	p.want(t, http.StatusOK,
		"<h2>Title</h2>", "<del>Morning</del><ins>Evening</ins> stretches",
		"<h2>Body</h2>", "Stretch your <del>calves</del><ins>hamstrings</ins> (gently).<br>\nBreathe out.",
		`<input type="hidden" name="version" value="2">`,
		`<button type="submit" class="primary">Restore this version</button>`,
	)
	// The body is compared as text: no tag of either version shows.
	if strings.Contains(p.Body, "strong") || strings.Contains(p.Body, "&lt;") {
		t.Errorf("the body's diff shows markup\n%s", p.Body)
	}
	// Unchanged fields are not listed.
	if strings.Contains(p.Body, "<h2>Summary</h2>") || strings.Contains(p.Body, "<h2>Slug</h2>") {
		t.Error("an unchanged field is listed")
	}

	b.get("/admin/articles/"+a.ID+"/history/2").want(t, http.StatusNotFound) // the current version
	b.get("/admin/articles/"+a.ID+"/history/0").want(t, http.StatusNotFound)
	b.get("/admin/articles/"+a.ID+"/history/x").want(t, http.StatusNotFound)
}

// TestHistoryDiffFormatting checks that markup alone is not a change of
// words, and that a revision equal to the current content says so.
func TestHistoryDiffFormatting(t *testing.T) {
	s := testenv.NewServer(t)
	b := signIn(t, s, auth.Author)
	a := historyArticle(t, s, b.User, "Posture", "<p>Sit up straight, always.</p>",
		historyEdit("", "<p>Sit up <em>straight</em>, <strong>always</strong>.</p>"),
		historyEdit("", "<p>Sit up straight, always.</p>"))

	p := b.get("/admin/articles/" + a.ID + "/history/2")
	p.want(t, http.StatusOK, "<h2>Body</h2>", "Only the formatting differs; the text is the same.")
	if strings.Contains(p.Body, "<ins>") || strings.Contains(p.Body, "<del>") {
		t.Errorf("markup alone shows as changed words\n%s", p.Body)
	}
	b.get("/admin/articles/"+a.ID+"/history/1").want(t, http.StatusOK, "Version 1 has the same content as the current version.")
}

func TestHistoryRestore(t *testing.T) {
	s := testenv.NewServer(t)
	b := signIn(t, s, auth.Author)
	a := historyArticle(t, s, b.User, "Morning stretches", "<p>Stretch your calves gently.</p>",
		historyEdit("Evening stretches", "<p>Stretch your hamstrings gently.</p>"))
	ctx := context.Background()
	svc := s.Services().Articles
	rev, err := svc.Revision(ctx, historyAs(b.User), a.ID, 1)
	if err != nil {
		t.Fatal(err)
	}

	path := "/admin/articles/" + a.ID + "/history/1"
	version := historyVersion(t, b.get(path))
	r := b.post(path+"/restore", url.Values{"version": {version}})
	r.want(t, http.StatusSeeOther)
	if got, want := r.location(), "/admin/articles/"+a.ID+"?done=restored"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	got, err := svc.Get(ctx, historyAs(b.User), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != a.Version+1 {
		t.Errorf("version %d after restoring, want %d", got.Version, a.Version+1)
	}
	if diff := got.Content.Changed(&rev.Article.Content); len(diff) > 0 {
		t.Errorf("the restored content differs from version 1 in %v", diff)
	}
	// The restore is itself a revision: version 2 is now in the history.
	b.get("/admin/articles/"+a.ID+"/history").want(t, http.StatusOK, "/admin/articles/"+a.ID+"/history/2\"")
}

// TestHistoryRestoreStale restores with the version a page showed after
// someone else saved: 412, the comparison again against the new version,
// and nothing changed.
func TestHistoryRestoreStale(t *testing.T) {
	s := testenv.NewServer(t)
	b := signIn(t, s, auth.Author)
	a := historyArticle(t, s, b.User, "Morning stretches", "<p>Stretch your calves gently.</p>",
		historyEdit("Evening stretches", ""))
	path := "/admin/articles/" + a.ID + "/history/1"
	shown := historyVersion(t, b.get(path))

	ctx := context.Background()
	svc := s.Services().Articles
	now, err := svc.Update(ctx, historyAs(b.User), a.ID, a.Version, historyEdit("Night stretches", ""))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{shown, "", "nonsense"} {
		r := b.post(path+"/restore", url.Values{"version": {v}})
		r.want(t, http.StatusPreconditionFailed,
			`role="alert">The article changed since you opened this page, so nothing was restored and nothing was lost.`,
			"<del>Morning</del><ins>Night</ins> stretches",
			fmt.Sprintf(`<input type="hidden" name="version" value="%d">`, now.Version))
	}
	got, err := svc.Get(ctx, historyAs(b.User), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != now.Version || got.Title != "Night stretches" {
		t.Errorf("a stale restore changed the article: version %d, title %q", got.Version, got.Title)
	}
}

// TestHistoryAccess follows the permission table: who sees an article's
// history, who is offered the restore button, and what a restore answers.
func TestHistoryAccess(t *testing.T) {
	s := testenv.NewServer(t)
	ctx := context.Background()
	svc := s.Services().Articles
	editor := s.NewUser(t, auth.Editor)
	future := time.Now().UTC().Add(48 * time.Hour)

	tests := []struct {
		name       string
		owner      auth.Role // "" is the viewer's own article
		viewer     auth.Role
		state      string // draft, published or scheduled
		view       int    // status of the history pages
		button     bool
		restore    int
		restoreMsg string
	}{
		{"contributor, own draft", "", auth.Contributor, "draft", 200, true, 303, ""},
		{"contributor, own published (staged)", "", auth.Contributor, "published", 200, true, 303, ""},
		{"contributor, own scheduled", "", auth.Contributor, "scheduled", 200, false, 403, "needs the right to publish it"},
		{"contributor, someone else's", auth.Author, auth.Contributor, "draft", 404, false, 404, ""},
		{"author, someone else's", auth.Contributor, auth.Author, "draft", 404, false, 404, ""},
		{"author, own scheduled", "", auth.Author, "scheduled", 200, true, 303, ""},
		{"editor, someone else's", auth.Contributor, auth.Editor, "published", 200, true, 303, ""},
		{"admin, someone else's", auth.Author, auth.Admin, "draft", 200, true, 303, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := signIn(t, s, tc.viewer)
			owner := b.User
			if tc.owner != "" {
				owner = s.NewUser(t, tc.owner)
			}
			a := historyArticle(t, s, owner, "Morning stretches", "<p>Stretch gently.</p>", historyEdit("Evening stretches", ""))
			var err error
			switch tc.state {
			case "published":
				a, err = svc.Transition(ctx, historyAs(editor), a.ID, cms.ActionPublish, a.Version, cms.PublishDates{})
			case "scheduled":
				a, err = svc.Transition(ctx, historyAs(editor), a.ID, cms.ActionPublish, a.Version, cms.PublishDates{PublishAt: &future})
			}
			if err != nil {
				t.Fatal(err)
			}
			path := "/admin/articles/" + a.ID + "/history"
			b.get(path).want(t, tc.view)
			p := b.get(path + "/1")
			p.want(t, tc.view)
			if has := strings.Contains(p.Body, "Restore this version"); has != tc.button {
				t.Errorf("restore button shown: %v, want %v", has, tc.button)
			}
			r := b.post(path+"/1/restore", url.Values{"version": {fmt.Sprint(a.Version)}})
			r.want(t, tc.restore, tc.restoreMsg)
			if tc.restore != http.StatusSeeOther {
				got, err := svc.Get(ctx, historyAs(editor), a.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Version != a.Version {
					t.Errorf("a refused restore changed the article to version %d", got.Version)
				}
			}
		})
	}
}
