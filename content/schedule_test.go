package content_test

import (
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
