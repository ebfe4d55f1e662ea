package cms_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/internal/testenv"
)

// newAPI starts the whole service with its clock in the test's hands.
func newAPI(t *testing.T) (*testenv.Server, *fakeClock) {
	t.Helper()
	clock := newClock()
	return testenv.NewServer(t, func(c *server.Options) { c.Now = clock.Now }), clock
}

func TestCreateAndGet(t *testing.T) {
	s, _ := newAPI(t)
	token, uid := s.User(t, auth.Author)
	editor, _ := s.User(t, auth.Editor)
	testenv.WantStatus(t, testenv.Call(t, s, editor, "POST", "/api/v1/products", map[string]any{
		"code": "foam-roller", "title": "Foam roller", "asin": "B00TEST001", "marketplace": "amazon.com"}), http.StatusCreated)
	body := map[string]any{
		"title":         "Massage for Chronic Pain Relief",
		"summary":       "",
		"body":          "Intro paragraph about **pain**.\n\n## Why it works\n\n### 1. Heat\n\nWarm up first.\n\n<script>alert(1)</script>",
		"bodyFormat":    "markdown",
		"tags":          []string{"Massage", "pain"},
		"category":      "Pain",
		"cta":           map[string]any{"label": "Schedule an Appointment", "phone": "+1 555 123 4567"},
		"sources":       []map[string]any{{"title": "Review", "url": "https://pubmed.ncbi.nlm.nih.gov/1/"}},
		"products":      []map[string]any{{"code": "foam-roller", "note": "Our pick"}},
		"medicalReview": map[string]any{"reviewerName": "Dr. A", "reviewerCredentials": "MD", "reviewedAt": "2026-01-05"},
	}
	r := testenv.Call(t, s, token, "POST", "/api/v1/articles", body)
	testenv.WantStatus(t, r, http.StatusCreated)
	a := testenv.ArticleOf(t, r)
	if loc := r.Header.Get("Location"); loc != "/api/v1/articles/"+a.ID {
		t.Errorf("Location = %q", loc)
	}
	if a.Slug != "massage-for-chronic-pain-relief" || a.Status != cms.StatusDraft || a.Version != 1 ||
		a.Author.ID != uid || a.Author.Name == "" || a.ReadingTimeMinutes != 1 || a.WordCount == 0 {
		t.Errorf("created article: %+v", a)
	}
	if strings.Contains(a.BodyHTML, "script") || !strings.Contains(a.BodyHTML, "<strong>pain</strong>") {
		t.Errorf("bodyHtml not rendered and sanitized: %q", a.BodyHTML)
	}
	if a.Excerpt != "Intro paragraph about pain." {
		t.Errorf("excerpt = %q", a.Excerpt)
	}
	if strings.Join(a.Tags, ",") != "massage,pain" || a.MedicalReview.ReviewedAt != "2026-01-05T00:00:00Z" {
		t.Errorf("normalized fields: tags %v reviewedAt %q", a.Tags, a.MedicalReview.ReviewedAt)
	}
	if a.SanitizerVersion != cms.SanitizerVersion {
		t.Errorf("sanitizerVersion = %d", a.SanitizerVersion)
	}

	r = testenv.Call(t, s, token, "GET", "/api/v1/articles/"+a.ID, nil)
	testenv.WantStatus(t, r, http.StatusOK)
	if got := testenv.ArticleOf(t, r); got.BodyHTML != a.BodyHTML || !got.CreatedAt.Equal(a.CreatedAt) {
		t.Errorf("read back differs: %+v", got)
	}
	r = testenv.Call(t, s, token, "GET", "/api/v1/articles/"+a.ID, nil, "If-None-Match", testenv.ETag(1))
	testenv.WantStatus(t, r, http.StatusNotModified)

	// A title in another script gets its romanized words; one with no
	// words at all still gets a usable slug.
	cn := testenv.CreateArticle(t, s, token, map[string]any{"title": "慢性疼痛的按摩"})
	if cn.Slug != "man-xing-teng-tong-de-an-mo" {
		t.Errorf("slug of a Chinese title = %q", cn.Slug)
	}
	emoji := testenv.CreateArticle(t, s, token, map[string]any{"title": "🧘‍♀️💆"})
	if emoji.Slug != cms.FallbackSlug(emoji.ID) {
		t.Errorf("slug of an emoji title = %q", emoji.Slug)
	}
	// Same title again: the derived slug moves on.
	again := testenv.CreateArticle(t, s, token, map[string]any{"title": "Massage for chronic pain relief!"})
	if again.Slug != "massage-for-chronic-pain-relief-2" {
		t.Errorf("second slug = %q", again.Slug)
	}
}

func TestCreateRejects(t *testing.T) {
	s, _ := newAPI(t)
	token, _ := s.User(t, auth.Contributor)
	testenv.CreateArticle(t, s, token, map[string]any{"title": "Taken", "slug": "taken"})
	tests := []struct {
		name   string
		body   any
		header []string
		status int
		field  string
	}{
		{"status not settable", `{"title":"x","status":"published"}`, nil, 400, "status"},
		{"version not settable", `{"title":"x","version":7}`, nil, 400, "version"},
		{"unknown nested field", `{"title":"x","seo":{"keywords":"a"}}`, nil, 400, "seo.keywords"},
		{"wrong type", `{"title":"x","tags":"massage"}`, nil, 400, "tags"},
		{"operator injection", `{"title":{"$gt":""}}`, nil, 400, "title"},
		{"missing title", `{"summary":"x"}`, nil, 400, "title"},
		{"future review", map[string]any{"title": "x", "medicalReview": map[string]any{"reviewerName": "A", "reviewedAt": "2999-01-01"}}, nil, 400, "medicalReview.reviewedAt"},
		{"javascript source", map[string]any{"title": "x", "sources": []map[string]any{{"title": "a", "url": "javascript:alert(1)"}}}, nil, 400, "sources[0].url"},
		{"taken slug", map[string]any{"title": "x", "slug": "taken"}, nil, 409, "slug"},
		{"body over 2 MiB", map[string]any{"title": "x", "body": strings.Repeat("a", cms.MaxBody+1)}, nil, 400, "body"},
		{"request over 3 MiB", map[string]any{"title": "x", "body": strings.Repeat("<", 1<<20)}, nil, 413, ""},
		{"not json", `{"title":"x"}`, []string{"Content-Type", "text/plain"}, 415, ""},
		{"trailing data", `{"title":"x"} {}`, nil, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testenv.Call(t, s, token, "POST", "/api/v1/articles", tt.body, tt.header...)
			testenv.WantStatus(t, r, tt.status)
			p := r.Problem(t)
			if tt.field == "" {
				return
			}
			errs, _ := p["errors"].([]any)
			found := false
			for _, e := range errs {
				if e.(map[string]any)["field"] == tt.field {
					found = true
				}
			}
			if !found {
				t.Errorf("errors %v do not name %s", p["errors"], tt.field)
			}
		})
	}
	// A body over the server's default 1 MiB limit is accepted on this
	// route. (Plain words keep the test quick under the race detector;
	// the 2 MiB limit itself is checked above without a write.)
	big := strings.Repeat("relax ", (1<<20)/6+1000)
	r := testenv.Call(t, s, token, "POST", "/api/v1/articles", map[string]any{"title": "Big", "body": big})
	testenv.WantStatus(t, r, http.StatusCreated)
	if r := testenv.Call(t, s, "", "POST", "/api/v1/articles", map[string]any{"title": "x"}); r.Status != http.StatusUnauthorized {
		t.Errorf("anonymous create = %d", r.Status)
	}
}

func TestPatchPreconditions(t *testing.T) {
	s, _ := newAPI(t)
	token, _ := s.User(t, auth.Author)
	a := testenv.CreateArticle(t, s, token, map[string]any{"title": "Original", "summary": "Sum", "seo": map[string]any{"title": "S", "description": "D"}})
	path := "/api/v1/articles/" + a.ID

	r := testenv.Call(t, s, token, "PATCH", path, map[string]any{"title": "New"})
	testenv.WantStatus(t, r, http.StatusPreconditionRequired)
	r = testenv.Call(t, s, token, "PATCH", path, map[string]any{"title": "New"}, "If-Match", "*")
	testenv.WantStatus(t, r, http.StatusPreconditionRequired)
	r = testenv.Call(t, s, token, "PATCH", path, map[string]any{"title": "New"}, "If-Match", testenv.ETag(7))
	testenv.WantStatus(t, r, http.StatusPreconditionFailed)
	r = testenv.Call(t, s, token, "PATCH", path, map[string]any{"title": "New"}, "If-Match", "garbage")
	testenv.WantStatus(t, r, http.StatusPreconditionFailed)

	r = testenv.Call(t, s, token, "PATCH", path, `{"title":"New","summary":null,"seo":{"title":"S2"}}`, "If-Match", testenv.ETag(1))
	testenv.WantStatus(t, r, http.StatusOK)
	b := testenv.ArticleOf(t, r)
	if b.Version != 2 || b.Title != "New" || b.Summary != "" || b.SEO.Title != "S2" || b.SEO.Description != "D" || b.Slug != a.Slug {
		t.Errorf("after merge patch: %+v", b)
	}
	if strings.Join(b.ChangedFields, ",") != "title,summary,seo" || b.UpdatedBy.ID == "" {
		t.Errorf("changedFields = %v updatedBy %+v", b.ChangedFields, b.UpdatedBy)
	}
	// The old version is stale now.
	r = testenv.Call(t, s, token, "PATCH", path, map[string]any{"summary": "x"}, "If-Match", testenv.ETag(1))
	testenv.WantStatus(t, r, http.StatusPreconditionFailed)
	// A patch that changes nothing leaves the version alone.
	r = testenv.Call(t, s, token, "PATCH", path, map[string]any{"title": "New"}, "If-Match", testenv.ETag(2))
	testenv.WantStatus(t, r, http.StatusOK)
	if v := testenv.ArticleOf(t, r).Version; v != 2 {
		t.Errorf("no-op patch made version %d", v)
	}
	// The workflow status is not part of the content.
	r = testenv.Call(t, s, token, "PATCH", path, map[string]any{"status": "published"}, "If-Match", testenv.ETag(2))
	testenv.WantStatus(t, r, http.StatusBadRequest)
	r = testenv.Call(t, s, token, "PATCH", path, `{"title":null}`, "If-Match", testenv.ETag(2))
	testenv.WantStatus(t, r, http.StatusBadRequest)

	// A slug change keeps the old slug pointing at the article.
	r = testenv.Call(t, s, token, "PATCH", path, map[string]any{"slug": "brand-new"}, "If-Match", testenv.ETag(2))
	testenv.WantStatus(t, r, http.StatusOK)
	if c := testenv.ArticleOf(t, r); c.Slug != "brand-new" || c.Version != 3 {
		t.Errorf("after slug change: %s v%d", c.Slug, c.Version)
	}
	var old, cur cms.SlugRecord
	slugs := s.DB.Database.Collection("slugs")
	if err := slugs.FindOne(context.Background(), bson.D{{Key: "_id", Value: a.Slug}}).Decode(&old); err != nil {
		t.Fatal(err)
	}
	if err := slugs.FindOne(context.Background(), bson.D{{Key: "_id", Value: "brand-new"}}).Decode(&cur); err != nil {
		t.Fatal(err)
	}
	if old.ArticleID != a.ID || old.Current || cur.ArticleID != a.ID || !cur.Current {
		t.Errorf("slug records: old %+v new %+v", old, cur)
	}
	// Nobody else can take the former slug.
	other, _ := s.User(t, auth.Editor)
	r = testenv.Call(t, s, other, "POST", "/api/v1/articles", map[string]any{"title": "x", "slug": a.Slug})
	testenv.WantStatus(t, r, http.StatusConflict)
}

// TestConcurrentPatch races writers on one version through the router:
// exactly one wins each version, the others get 412.
func TestConcurrentPatch(t *testing.T) {
	s, _ := newAPI(t)
	token, _ := s.User(t, auth.Editor)
	a := testenv.CreateArticle(t, s, token, map[string]any{"title": "Race"})
	const writers = 8
	for round := range 3 {
		version := a.Version + int64(round)
		statuses := make(chan int, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				r := testenv.Call(t, s, token, "PATCH", "/api/v1/articles/"+a.ID,
					map[string]any{"summary": fmt.Sprintf("writer %d round %d", i, round)}, "If-Match", testenv.ETag(version))
				statuses <- r.Status
			})
		}
		wg.Wait()
		close(statuses)
		won := 0
		for st := range statuses {
			switch st {
			case http.StatusOK:
				won++
			case http.StatusPreconditionFailed:
			default:
				t.Errorf("unexpected status %d", st)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d writers won version %d, want exactly 1", round, won, version)
		}
	}
	r := testenv.Call(t, s, token, "GET", "/api/v1/articles/"+a.ID, nil)
	if v := testenv.ArticleOf(t, r).Version; v != a.Version+3 {
		t.Errorf("final version %d, want %d", v, a.Version+3)
	}
}

func TestWorkflowByRole(t *testing.T) {
	s, _ := newAPI(t)
	tokens := map[auth.Role]string{}
	for _, role := range auth.Roles {
		tokens[role], _ = s.User(t, role)
	}
	other, _ := s.User(t, auth.Author)

	type step struct {
		action string // submit, publish, unpublish, delete, patch, get
		want   int
	}
	tests := []struct {
		name  string
		role  auth.Role
		owner bool // the caller owns the article, else another author does
		steps []step
	}{
		{"contributor own", auth.Contributor, true, []step{
			{"get", 200}, {"patch", 200}, {"submit", 200}, {"submit", 409}, {"publish", 403}, {"unpublish", 403}, {"patch", 200},
		}},
		{"contributor other", auth.Contributor, false, []step{
			{"get", 404}, {"patch", 404}, {"submit", 404}, {"delete", 404},
		}},
		{"author own", auth.Author, true, []step{
			{"submit", 200}, {"publish", 200}, {"publish", 409}, {"patch", 200}, {"unpublish", 200}, {"unpublish", 409}, {"delete", 204}, {"delete", 204},
		}},
		{"author other", auth.Author, false, []step{
			{"get", 404}, {"publish", 404}, {"delete", 404},
		}},
		{"editor other", auth.Editor, false, []step{
			{"get", 200}, {"patch", 200}, {"publish", 200}, {"unpublish", 200}, {"submit", 200}, {"delete", 204},
		}},
		{"admin other", auth.Admin, false, []step{
			{"publish", 200}, {"patch", 200}, {"delete", 204}, {"unpublish", 200},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ownerToken := other
			if tt.owner {
				ownerToken = tokens[tt.role]
			}
			a := testenv.CreateArticle(t, s, ownerToken, map[string]any{"title": tt.name})
			token := tokens[tt.role]
			path := "/api/v1/articles/" + a.ID
			version := a.Version
			for i, st := range tt.steps {
				var r *testenv.Response
				switch st.action {
				case "get":
					r = testenv.Call(t, s, token, "GET", path, nil)
				case "patch":
					r = testenv.Call(t, s, token, "PATCH", path, map[string]any{"summary": fmt.Sprint("edit ", i)}, "If-Match", testenv.ETag(version))
				case "delete":
					r = testenv.Call(t, s, token, "DELETE", path, nil)
				default:
					r = testenv.Call(t, s, token, "POST", path+"/"+st.action, nil)
				}
				if r.Status != st.want {
					t.Fatalf("step %d %s: status %d, want %d; %s", i, st.action, r.Status, st.want, r.Body)
				}
				if r.Status == 200 {
					version = testenv.ArticleOf(t, r).Version
				} else if r.Status == 204 {
					version++
				}
			}
		})
	}

	// A contributor's change to an article an editor has published is
	// staged (see staged_test.go); the contributor cannot remove it.
	ct := tokens[auth.Contributor]
	a := testenv.CreateArticle(t, s, ct, map[string]any{"title": "Reviewed"})
	testenv.WantStatus(t, testenv.Call(t, s, ct, "POST", "/api/v1/articles/"+a.ID+"/submit", nil), 200)
	r := testenv.Call(t, s, tokens[auth.Editor], "POST", "/api/v1/articles/"+a.ID+"/publish", nil)
	testenv.WantStatus(t, r, 200)
	p := testenv.ArticleOf(t, r)
	if p.Status != cms.StatusPublished || p.PublishedAt == nil || p.LastTransition.By.Name == "" || p.LastTransition.From != cms.StatusInReview {
		t.Errorf("published article: %+v %+v", p, p.LastTransition)
	}
	r = testenv.Call(t, s, ct, "PATCH", "/api/v1/articles/"+a.ID, map[string]any{"title": "Sneaky"}, "If-Match", testenv.ETag(p.Version))
	testenv.WantStatus(t, r, http.StatusOK)
	if e := testenv.ArticleOf(t, r); !e.HasUnpublishedChanges || e.PublishedVersion == nil || *e.PublishedVersion != p.Version {
		t.Errorf("contributor's edit of a published article: %+v", e)
	}
	testenv.WantStatus(t, testenv.Call(t, s, ct, "POST", "/api/v1/articles/"+a.ID+"/publish", nil), http.StatusForbidden)
	testenv.WantStatus(t, testenv.Call(t, s, ct, "DELETE", "/api/v1/articles/"+a.ID, nil), http.StatusForbidden)
	// Workflow routes honour an If-Match when one is sent.
	r = testenv.Call(t, s, tokens[auth.Editor], "POST", "/api/v1/articles/"+a.ID+"/unpublish", nil, "If-Match", testenv.ETag(1))
	testenv.WantStatus(t, r, http.StatusPreconditionFailed)
}

func TestScheduledPublishing(t *testing.T) {
	s, clock := newAPI(t)
	token, _ := s.User(t, auth.Author)
	a := testenv.CreateArticle(t, s, token, map[string]any{"title": "Tomorrow's post"})
	path := "/api/v1/articles/" + a.ID
	at := clock.Now().Add(2 * time.Minute).Format(time.RFC3339)

	r := testenv.Call(t, s, token, "POST", path+"/publish", map[string]any{"publishAt": "next tuesday"})
	testenv.WantStatus(t, r, http.StatusBadRequest)
	r = testenv.Call(t, s, token, "POST", path+"/publish", map[string]any{"publishAt": at})
	testenv.WantStatus(t, r, http.StatusOK)
	sch := testenv.ArticleOf(t, r)
	if sch.Status != cms.StatusScheduled || sch.PublishAt == nil || sch.PublishAt.Format(time.RFC3339) != at || sch.PublishedAt != nil {
		t.Fatalf("scheduled article: %+v", sch)
	}
	// Nothing happens before the time, whatever the loop does meanwhile.
	clock.Advance(time.Minute)
	r = testenv.Call(t, s, token, "GET", path, nil)
	if got := testenv.ArticleOf(t, r); got.Status != cms.StatusScheduled {
		t.Fatalf("published early: %s", got.Status)
	}
	// After it, the server's own loop publishes it without anyone calling.
	clock.Advance(2 * time.Minute)
	var got *cms.Article
	testenv.Eventually(t, "the scheduler to publish the article", func() bool {
		got = testenv.ArticleOf(t, testenv.Call(t, s, token, "GET", path, nil))
		return got.Status == cms.StatusPublished
	})
	if got.Version != sch.Version+1 || got.PublishedAt == nil || got.PublishedAt.Format(time.RFC3339) != at {
		t.Errorf("published: version %d publishedAt %v", got.Version, got.PublishedAt)
	}
}

func TestRevisionsAndRestore(t *testing.T) {
	s, _ := newAPI(t)
	token, uid := s.User(t, auth.Author)
	a := testenv.CreateArticle(t, s, token, map[string]any{"title": "First title", "body": "<p>first body</p>", "tags": []string{"one"}})
	path := "/api/v1/articles/" + a.ID
	testenv.WantStatus(t, testenv.Call(t, s, token, "PATCH", path, map[string]any{"title": "Second title"}, "If-Match", testenv.ETag(1)), 200)
	r := testenv.Call(t, s, token, "PATCH", path, map[string]any{"body": "<p>third body</p>", "tags": nil}, "If-Match", testenv.ETag(2))
	testenv.WantStatus(t, r, 200)

	r = testenv.Call(t, s, token, "GET", path+"/revisions", nil)
	testenv.WantStatus(t, r, 200)
	var list struct {
		Items []cms.Revision `json:"items"`
	}
	r.JSON(t, &list)
	if len(list.Items) != 2 || list.Items[0].Version != 2 || list.Items[1].Version != 1 {
		t.Fatalf("revisions: %+v", list.Items)
	}
	if rev := list.Items[0]; rev.By.ID != uid || rev.At.IsZero() || strings.Join(rev.ChangedFields, ",") != "title" || rev.Article != nil {
		t.Errorf("revision 2 summary: %+v", rev)
	}

	r = testenv.Call(t, s, token, "GET", path+"/revisions/1", nil)
	testenv.WantStatus(t, r, 200)
	var rev cms.Revision
	r.JSON(t, &rev)
	if rev.Article == nil || rev.Article.Title != "First title" || rev.Article.Version != 1 || rev.Article.BodyHTML != "<p>first body</p>" {
		t.Fatalf("revision 1: %+v", rev.Article)
	}
	for _, n := range []string{"3", "0", "99", "x"} {
		testenv.WantStatus(t, testenv.Call(t, s, token, "GET", path+"/revisions/"+n, nil), http.StatusNotFound)
	}

	r = testenv.Call(t, s, token, "POST", path+"/revisions/1/restore", nil, "If-Match", testenv.ETag(2))
	testenv.WantStatus(t, r, http.StatusPreconditionFailed)
	r = testenv.Call(t, s, token, "POST", path+"/revisions/1/restore", nil)
	testenv.WantStatus(t, r, 200)
	restored := testenv.ArticleOf(t, r)
	if restored.Version != 4 || restored.Title != "First title" || restored.BodyHTML != "<p>first body</p>" ||
		strings.Join(restored.Tags, ",") != "one" || restored.Slug != a.Slug {
		t.Errorf("restored: %+v", restored)
	}
	if strings.Join(restored.ChangedFields, ",") != "title,body,tags" {
		t.Errorf("restore changedFields = %v", restored.ChangedFields)
	}
	// The restore is a version like any other: its predecessor is kept.
	r = testenv.Call(t, s, token, "GET", path+"/revisions/3", nil)
	testenv.WantStatus(t, r, 200)
	r.JSON(t, &rev)
	if rev.Article.BodyHTML != "<p>third body</p>" {
		t.Errorf("revision 3 = %+v", rev.Article)
	}
	// Other authors cannot even see the history.
	stranger, _ := s.User(t, auth.Author)
	testenv.WantStatus(t, testenv.Call(t, s, stranger, "GET", path+"/revisions", nil), http.StatusNotFound)
	testenv.WantStatus(t, testenv.Call(t, s, stranger, "POST", path+"/revisions/1/restore", nil), http.StatusNotFound)
}

func TestListArticles(t *testing.T) {
	s, _ := newAPI(t)
	alice, aliceID := s.User(t, auth.Author)
	bob, _ := s.User(t, auth.Contributor)
	ed, _ := s.User(t, auth.Editor)
	for i, title := range []string{"Crème brûlée for recovery", "Deep tissue massage", "Massage and sleep", "Yoga basics", "Sleep hygiene"} {
		tok := alice
		if i%2 == 1 {
			tok = bob
		}
		tags := []string{"wellness"}
		if strings.Contains(strings.ToLower(title), "massage") {
			tags = append(tags, "massage")
		}
		a := testenv.CreateArticle(t, s, tok, map[string]any{"title": title, "tags": tags, "body": strings.Repeat("<p>long</p>", 100)})
		if i == 0 {
			testenv.WantStatus(t, testenv.Call(t, s, alice, "POST", "/api/v1/articles/"+a.ID+"/publish", nil), 200)
		}
	}
	type page struct {
		Items []struct {
			ID       string  `json:"id"`
			Title    string  `json:"title"`
			Body     *string `json:"body"`
			BodyHTML *string `json:"bodyHtml"`
			Author   cms.Person
		} `json:"items"`
		NextCursor *string `json:"nextCursor"`
	}
	list := func(token, query string) page {
		t.Helper()
		r := testenv.Call(t, s, token, "GET", "/api/v1/articles"+query, nil)
		testenv.WantStatus(t, r, 200)
		var p page
		r.JSON(t, &p)
		return p
	}
	titles := func(p page) string {
		var out []string
		for _, it := range p.Items {
			out = append(out, it.Title)
		}
		return strings.Join(out, "|")
	}
	tests := []struct {
		token, query, want string
	}{
		{ed, "", "Sleep hygiene|Yoga basics|Massage and sleep|Deep tissue massage|Crème brûlée for recovery"},
		{alice, "", "Sleep hygiene|Massage and sleep|Crème brûlée for recovery"},
		{bob, "", "Yoga basics|Deep tissue massage"},
		{bob, "?author=" + aliceID, ""},
		{ed, "?author=" + aliceID + "&tag=massage", "Massage and sleep"},
		{ed, "?tag=massage", "Massage and sleep|Deep tissue massage"},
		{ed, "?status=published", "Crème brûlée for recovery"},
		{ed, "?status=draft&q=sle", "Sleep hygiene|Massage and sleep"},
		{ed, "?q=creme+BRULEE", "Crème brûlée for recovery"},
		{ed, "?q=massage+sleep", "Massage and sleep"},
		{ed, "?q=assage", ""},
	}
	for _, tt := range tests {
		if got := titles(list(tt.token, tt.query)); got != tt.want {
			t.Errorf("list %s = %q, want %q", tt.query, got, tt.want)
		}
	}
	// Pages of two, following the cursor, see every article once.
	var seen []string
	query := "?limit=2"
	for range 5 {
		p := list(ed, query)
		for _, it := range p.Items {
			if it.Body != nil || it.BodyHTML != nil {
				t.Errorf("list items carry bodies")
			}
		}
		seen = append(seen, titles(p))
		if p.NextCursor == nil {
			break
		}
		query = "?limit=2&cursor=" + *p.NextCursor
	}
	if got := strings.Join(seen, "|"); got != "Sleep hygiene|Yoga basics|Massage and sleep|Deep tissue massage|Crème brûlée for recovery" {
		t.Errorf("paged = %q", got)
	}
	// A cursor pages only the list it came from, and only as it was written:
	// the bare article ID it names, the cursor of old, is not one.
	first := list(ed, "?limit=1")
	if first.NextCursor == nil {
		t.Fatal("no next cursor")
	}
	for _, tt := range []struct{ query, msg string }{
		{"?status=draft&cursor=" + *first.NextCursor, "belongs to a list with other filters"},
		{"?cursor=" + first.Items[0].ID, "is not a cursor this API returned"},
		{"?cursor=" + *first.NextCursor + "%0A", "is not a cursor this API returned"},
	} {
		r := testenv.Call(t, s, ed, "GET", "/api/v1/articles"+tt.query, nil)
		testenv.WantStatus(t, r, http.StatusBadRequest)
		r.WantField(t, "cursor", tt.msg)
	}
	for _, q := range []string{"?limit=0", "?limit=101", "?limit=ten", "?status=live", "?sort=title", "?tag=a&tag=b", "?cursor=nope", "?tag=Not%20a%20tag"} {
		r := testenv.Call(t, s, ed, "GET", "/api/v1/articles"+q, nil)
		if r.Status != http.StatusBadRequest {
			t.Errorf("list %s = %d, want 400", q, r.Status)
		}
	}
}

func TestPreviewToken(t *testing.T) {
	s, _ := newAPI(t)
	token, _ := s.User(t, auth.Contributor)
	stranger, _ := s.User(t, auth.Contributor)
	a := testenv.CreateArticle(t, s, token, map[string]any{"title": "Draft"})
	r := testenv.Call(t, s, token, "POST", "/api/v1/articles/"+a.ID+"/preview-token", nil)
	testenv.WantStatus(t, r, 200)
	var out struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expiresAt"`
	}
	r.JSON(t, &out)
	if len(out.Token) < 40 || out.ExpiresAt.IsZero() {
		t.Fatalf("preview token: %+v", out)
	}
	testenv.WantStatus(t, testenv.Call(t, s, stranger, "POST", "/api/v1/articles/"+a.ID+"/preview-token", nil), http.StatusNotFound)
	// The token itself is never stored.
	n, err := s.DB.Database.Collection("preview_tokens").CountDocuments(context.Background(), bson.D{{Key: "_id", Value: out.Token}})
	if err != nil || n != 0 {
		t.Errorf("token stored in clear (%d, %v)", n, err)
	}
}
