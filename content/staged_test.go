package content_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/content"
	"github.com/wellness/cms/internal/testenv"
)

// queued counts the webhook deliveries of event queued for article id.
// Events are in the outbox before the request that caused them returns,
// so a count right after a request is final.
func queued(t *testing.T, s *testenv.Server, event, id string) int {
	t.Helper()
	ctx := context.Background()
	cur, err := s.DB.Database.Collection("webhook_deliveries").Find(ctx, bson.D{{Key: "event", Value: event}})
	if err != nil {
		t.Fatal(err)
	}
	var ds []struct {
		Payload string `bson:"payload"`
	}
	if err := cur.All(ctx, &ds); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range ds {
		if bytes.Contains([]byte(d.Payload), []byte(`"id":"`+id+`"`)) {
			n++
		}
	}
	return n
}

// subscribe registers a webhook for every article event.
func subscribe(t *testing.T, s *testenv.Server) {
	t.Helper()
	admin, _ := s.User(t, auth.Admin)
	rc := newHookReceiver(t)
	r := testenv.Call(t, s, admin, "POST", "/api/v1/webhooks", map[string]any{"url": rc.srv.URL + "/rebuild", "events": content.Events})
	testenv.WantStatus(t, r, http.StatusCreated)
}

func authoring(t *testing.T, s *testenv.Server, token string, a *cms.Article) *cms.Article {
	t.Helper()
	r := testenv.Call(t, s, token, "GET", "/api/v1/articles/"+a.ID, nil)
	testenv.WantStatus(t, r, http.StatusOK)
	return testenv.ArticleOf(t, r)
}

func wantStaged(t *testing.T, a *cms.Article, changes bool, live int64) {
	t.Helper()
	if a.HasUnpublishedChanges != changes || a.PublishedVersion == nil || *a.PublishedVersion != live {
		pv := "null"
		if a.PublishedVersion != nil {
			pv = string(rune('0' + *a.PublishedVersion))
		}
		t.Fatalf("version %d: hasUnpublishedChanges %v publishedVersion %s, want %v %d",
			a.Version, a.HasUnpublishedChanges, pv, changes, live)
	}
}

// TestStagedChanges edits a published article: readers keep the published
// version (same body, same ETag, no webhook) until the changes are
// published; discard and restore work on the draft alone; a preview shows
// the draft; revisions record which versions readers got.
func TestStagedChanges(t *testing.T) {
	s, _ := newContentAPI(t)
	subscribe(t, s)
	token, _ := s.User(t, auth.Editor)
	a := testenv.Publish(t, s, token, map[string]any{"title": "Live title", "body": "<p>Live body.</p>"}) // v2
	wantStaged(t, a, false, 2)
	before := get(t, s, contentPath+a.Slug)
	testenv.WantStatus(t, before, http.StatusOK)
	unchanged := func(when string) {
		t.Helper()
		r := get(t, s, contentPath+a.Slug)
		testenv.WantStatus(t, r, http.StatusOK)
		if !bytes.Equal(r.Body, before.Body) || r.Header.Get("ETag") != before.Header.Get("ETag") {
			t.Fatalf("%s: content API changed: %s", when, r.Body)
		}
	}

	// Saving changes the draft only.
	a = testenv.PatchArticle(t, s, token, a, map[string]any{"title": "Draft title", "body": "<p>Draft body.</p>"}) // v3
	wantStaged(t, a, true, 2)
	if a.Title != "Draft title" || a.BodyHTML != "<p>Draft body.</p>" {
		t.Errorf("authoring answer shows %q %q, want the draft", a.Title, a.BodyHTML)
	}
	wantStaged(t, authoring(t, s, token, a), true, 2)
	unchanged("after a save")
	if n := queued(t, s, content.EventArticleUpdated, a.ID); n != 0 {
		t.Fatalf("a save queued %d article.updated", n)
	}
	if got := testenv.ListField(t, s, token, "/api/v1/articles?q=draft", "id"); len(got) != 1 || got[0] != a.ID {
		t.Errorf("authoring search for the draft = %v", got)
	}
	if got, _ := listSlugs(t, s, "?q=draft"); len(got) != 0 {
		t.Errorf("content search finds the draft: %v", got)
	}

	// A preview shows the draft.
	pv := previewToken(t, s, token, a)
	r := get(t, s, contentPath+a.Slug+"?preview="+url.QueryEscape(pv))
	testenv.WantStatus(t, r, http.StatusOK)
	if !bytes.Contains(r.Body, []byte("Draft title")) {
		t.Errorf("preview does not show the draft: %s", r.Body)
	}

	// Publishing the changes serves them and sends article.updated, once.
	a = testenv.Transition(t, s, token, a, "publish", nil) // v4
	wantStaged(t, a, false, 4)
	if st, title := contentTitle(t, s, a.Slug); st != 200 || title != "Draft title" {
		t.Fatalf("after publishing the changes: %d %q", st, title)
	}
	if n := queued(t, s, content.EventArticleUpdated, a.ID); n != 1 {
		t.Fatalf("publishing the changes queued %d article.updated, want 1", n)
	}
	testenv.WantStatus(t, testenv.Call(t, s, token, "POST", "/api/v1/articles/"+a.ID+"/publish", nil), http.StatusConflict)
	before = get(t, s, contentPath+a.Slug)

	// Discard returns the draft to the published version.
	a = testenv.PatchArticle(t, s, token, a, map[string]any{"title": "Abandoned title"}) // v5
	path := "/api/v1/articles/" + a.ID + "/discard-changes"
	testenv.WantStatus(t, testenv.Call(t, s, token, "POST", path, nil), http.StatusPreconditionRequired)
	testenv.WantStatus(t, testenv.Call(t, s, token, "POST", path, nil, "If-Match", testenv.ETag(a.Version-1)), http.StatusPreconditionFailed)
	r = testenv.Call(t, s, token, "POST", path, nil, "If-Match", testenv.ETag(a.Version))
	testenv.WantStatus(t, r, http.StatusOK)
	a = testenv.ArticleOf(t, r) // v6
	wantStaged(t, a, false, 4)
	if a.Title != "Draft title" {
		t.Errorf("after discard the draft is %q", a.Title)
	}
	testenv.WantStatus(t, testenv.Call(t, s, token, "POST", path, nil, "If-Match", testenv.ETag(a.Version)), http.StatusConflict)
	unchanged("after discard")

	// Restoring a revision of a live article stages it.
	a = testenv.Transition(t, s, token, a, "revisions/1/restore", nil) // v7
	wantStaged(t, a, true, 4)
	if a.Title != "Live title" {
		t.Errorf("restored draft is %q", a.Title)
	}
	unchanged("after restore")
	if n := queued(t, s, content.EventArticleUpdated, a.ID); n != 1 {
		t.Fatalf("article.updated queued %d times, want only the one of the publication", n)
	}

	// Each revision says whether readers got that version.
	r = testenv.Call(t, s, token, "GET", "/api/v1/articles/"+a.ID+"/revisions", nil)
	testenv.WantStatus(t, r, http.StatusOK)
	var page struct {
		Items []cms.Revision `json:"items"`
	}
	r.JSON(t, &page)
	want := map[int64]bool{1: false, 2: true, 3: false, 4: true, 5: false, 6: false}
	if len(page.Items) != len(want) {
		t.Fatalf("%d revisions, want %d", len(page.Items), len(want))
	}
	for _, rev := range page.Items {
		if rev.Published != want[rev.Version] {
			t.Errorf("revision %d published = %v, want %v", rev.Version, rev.Published, want[rev.Version])
		}
	}

	// Unpublishing keeps the draft, changes and all.
	a = testenv.Transition(t, s, token, a, "unpublish", nil)
	if a.Status != cms.StatusDraft || a.Title != "Live title" || a.HasUnpublishedChanges || a.PublishedVersion != nil {
		t.Errorf("unpublished: %s %q %v %v", a.Status, a.Title, a.HasUnpublishedChanges, a.PublishedVersion)
	}
}

// TestStagedContributor: a contributor may prepare changes to its own live
// article and submit them; readers get them only once an editor publishes.
func TestStagedContributor(t *testing.T) {
	s, _ := newContentAPI(t)
	subscribe(t, s)
	ct, _ := s.User(t, auth.Contributor)
	editor, _ := s.User(t, auth.Editor)
	a := testenv.CreateArticle(t, s, ct, map[string]any{"title": "Contributed"})
	a = testenv.Transition(t, s, ct, a, "submit", nil)
	a = testenv.Transition(t, s, editor, a, "publish", nil)

	a = testenv.PatchArticle(t, s, ct, a, map[string]any{"title": "Contributed, revised"})
	wantStaged(t, a, true, a.Version-1)
	if _, title := contentTitle(t, s, a.Slug); title != "Contributed" {
		t.Fatalf("a contributor's change is live: %q", title)
	}
	testenv.WantStatus(t, testenv.Call(t, s, ct, "POST", "/api/v1/articles/"+a.ID+"/publish", nil), http.StatusForbidden)
	a = testenv.Transition(t, s, ct, a, "submit", nil)
	if a.Status != cms.StatusPublished || !a.ChangesInReview || !a.HasUnpublishedChanges {
		t.Fatalf("submitted changes: %s changesInReview %v", a.Status, a.ChangesInReview)
	}
	testenv.WantStatus(t, testenv.Call(t, s, ct, "POST", "/api/v1/articles/"+a.ID+"/submit", nil), http.StatusConflict)
	if _, title := contentTitle(t, s, a.Slug); title != "Contributed" {
		t.Fatalf("submitted changes are live: %q", title)
	}
	if n := queued(t, s, content.EventArticleUpdated, a.ID); n != 0 {
		t.Fatalf("%d article.updated before the editor published", n)
	}

	a = testenv.Transition(t, s, editor, a, "publish", nil)
	if a.ChangesInReview || a.HasUnpublishedChanges {
		t.Errorf("published changes still pending: %+v", a)
	}
	if _, title := contentTitle(t, s, a.Slug); title != "Contributed, revised" {
		t.Fatalf("after the editor published: %q", title)
	}
	if n := queued(t, s, content.EventArticleUpdated, a.ID); n != 1 {
		t.Fatalf("%d article.updated, want 1", n)
	}
}

// TestStagedScheduled: changes to a published article can be scheduled;
// readers keep the published version until the scheduler publishes them,
// under the original publication date. A scheduled article that was never
// live is edited directly.
func TestStagedScheduled(t *testing.T) {
	s, clock := newContentAPI(t)
	token, _ := s.User(t, auth.Editor)
	a := testenv.Publish(t, s, token, map[string]any{"title": "Spring routine"})
	publishedAt := *a.PublishedAt
	a = testenv.PatchArticle(t, s, token, a, map[string]any{"title": "Summer routine"})
	at := clock.Now().Add(5 * time.Minute).Truncate(time.Second)
	a = testenv.Transition(t, s, token, a, "publish", map[string]any{"publishAt": at.Format(time.RFC3339)})
	if a.Status != cms.StatusPublished || a.PublishAt == nil || !a.PublishAt.Equal(at) || !a.HasUnpublishedChanges {
		t.Fatalf("scheduled changes: %s %v %v", a.Status, a.PublishAt, a.HasUnpublishedChanges)
	}
	if _, title := contentTitle(t, s, a.Slug); title != "Spring routine" {
		t.Fatalf("scheduled changes are live early: %q", title)
	}
	clock.Advance(5 * time.Minute)
	if _, err := s.Services().Articles.PublishDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the scheduled changes to be served", func() bool {
		_, title := contentTitle(t, s, a.Slug)
		return title == "Summer routine"
	})
	a = authoring(t, s, token, a)
	if a.HasUnpublishedChanges || a.PublishAt != nil || !a.PublishedAt.Equal(publishedAt) {
		t.Errorf("after the scheduler: changes %v publishAt %v publishedAt %v (want %v)", a.HasUnpublishedChanges, a.PublishAt, a.PublishedAt, publishedAt)
	}

	b := testenv.CreateArticle(t, s, token, map[string]any{"title": "Autumn routine"})
	b = testenv.Transition(t, s, token, b, "publish", map[string]any{"publishAt": clock.Now().Add(5 * time.Minute).Format(time.RFC3339)})
	b = testenv.PatchArticle(t, s, token, b, map[string]any{"title": "Autumn routine, revised"})
	if b.Status != cms.StatusScheduled || b.HasUnpublishedChanges || b.PublishedVersion != nil {
		t.Errorf("edited scheduled article: %s %v %v", b.Status, b.HasUnpublishedChanges, b.PublishedVersion)
	}
	clock.Advance(5 * time.Minute)
	if _, title := contentTitle(t, s, b.Slug); title != "Autumn routine, revised" {
		t.Errorf("a due scheduled article shows %q", title)
	}
}

// TestStagedWorkflowRules is which workflow requests a published article
// takes, with and without unpublished changes.
func TestStagedWorkflowRules(t *testing.T) {
	s, _ := newContentAPI(t)
	editor, _ := s.User(t, auth.Editor)
	for _, tc := range []struct {
		name    string
		changes bool
		action  string
		want    int
	}{
		{"publish without changes", false, "publish", http.StatusConflict},
		{"publish changes", true, "publish", http.StatusOK},
		{"submit without changes", false, "submit", http.StatusConflict},
		{"submit changes", true, "submit", http.StatusOK},
		{"discard without changes", false, "discard-changes", http.StatusConflict},
		{"discard changes", true, "discard-changes", http.StatusOK},
		{"unpublish with changes", true, "unpublish", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := testenv.Publish(t, s, editor, map[string]any{"title": "Rules " + tc.name})
			if tc.changes {
				a = testenv.PatchArticle(t, s, editor, a, map[string]any{"summary": "Changed."})
			}
			r := testenv.Call(t, s, editor, "POST", "/api/v1/articles/"+a.ID+"/"+tc.action, nil, "If-Match", testenv.ETag(a.Version))
			testenv.WantStatus(t, r, tc.want)
			if tc.want >= 400 {
				r.Problem(t)
			}
		})
	}
}
