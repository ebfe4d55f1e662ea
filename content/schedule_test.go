package content_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/testenv"
)

// TestSchedulerPublishesOnTime runs the server's own scheduler, on the
// real clock, over the content API's due IDs: a scheduled article and
// the scheduled changes of a published one are both published once their
// time comes, with nobody calling anything.
func TestSchedulerPublishesOnTime(t *testing.T) {
	s := testenv.NewServer(t)
	token, _ := s.User(t, auth.Editor)
	at := time.Now().Add(1500 * time.Millisecond).Format(time.RFC3339Nano)

	draft := testenv.CreateArticle(t, s, token, map[string]any{"title": "Evening stretches"})
	draft = testenv.Transition(t, s, token, draft, "publish", map[string]any{"publishAt": at})
	if draft.Status != cms.StatusScheduled {
		t.Fatalf("scheduled article is %s", draft.Status)
	}
	live := testenv.Publish(t, s, token, map[string]any{"title": "Morning stretches"})
	live = testenv.PatchArticle(t, s, token, live, map[string]any{"title": "Morning stretches, revised"})
	live = testenv.Transition(t, s, token, live, "publish", map[string]any{"publishAt": at})
	if !live.HasUnpublishedChanges || live.PublishAt == nil {
		t.Fatalf("changes not scheduled: %+v", live)
	}

	testenv.Eventually(t, "the scheduler to publish the scheduled article", func() bool {
		a := authoring(t, s, token, draft)
		return a.Status == cms.StatusPublished && a.LastTransition != nil && a.LastTransition.From == cms.StatusScheduled
	})
	testenv.Eventually(t, "the scheduler to publish the scheduled changes", func() bool {
		a := authoring(t, s, token, live)
		return !a.HasUnpublishedChanges && a.PublishAt == nil
	})
	// The listener applies the commit just after it is stored.
	testenv.Eventually(t, "readers to get the published changes", func() bool {
		_, title := contentTitle(t, s, live.Slug)
		return title == "Morning stretches, revised"
	})
}

// TestDueHintAfterRerender: the content API's due IDs are the scheduler's
// only source while its view is current, so rendering articles again (a
// change of the site settings renders every article again) must keep
// them, and the body, read back from what was rendered, must not change.
func TestDueHintAfterRerender(t *testing.T) {
	s := testenv.NewServer(t)
	admin, _ := s.User(t, auth.Admin)
	a := testenv.Publish(t, s, admin, map[string]any{"title": "Hip mobility", "body": "<p>Slow circles, <em>both</em> ways.</p>"})
	before := get(t, s, contentPath+a.Slug)
	testenv.WantStatus(t, before, http.StatusOK)
	a = testenv.PatchArticle(t, s, admin, a, map[string]any{"title": "Hip mobility, revised"})
	at := time.Now().Add(time.Hour)
	testenv.Transition(t, s, admin, a, "publish", map[string]any{"publishAt": at.Format(time.RFC3339Nano)})

	due := func() []string {
		t.Helper()
		ids, current := s.Services().Content.DueHint(at)
		if !current {
			t.Fatal("the content API's view is not current")
		}
		return ids
	}
	if ids, _ := s.Services().Content.DueHint(time.Now()); len(ids) != 0 {
		t.Errorf("due before their time: %v", ids)
	}
	if ids := due(); !slices.Equal(ids, []string{a.ID}) {
		t.Fatalf("due IDs = %v, want [%s]", ids, a.ID)
	}
	testenv.WantStatus(t, testenv.Call(t, s, admin, "PATCH", "/api/v1/settings/site", map[string]any{
		"publisher": map[string]any{"name": "Move Well Ltd"}}), http.StatusOK)
	if ids := due(); !slices.Equal(ids, []string{a.ID}) {
		t.Errorf("after rendering again, due IDs = %v, want [%s]", ids, a.ID)
	}
	var was, now struct{ HTML string }
	before.JSON(t, &was)
	get(t, s, contentPath+a.Slug).JSON(t, &now)
	if now.HTML != was.HTML || was.HTML == "" {
		t.Errorf("html after rendering again = %q, want %q", now.HTML, was.HTML)
	}
}
