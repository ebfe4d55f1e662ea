package cms_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/testenv"
)

// TestScheduledPublishingExactlyOnce runs the scheduler of several
// instances over one database, all at once, and checks that each due
// article is published once: one version step, one revision.
func TestScheduledPublishingExactlyOnce(t *testing.T) {
	db := testenv.DB(t)
	clock := newClock()
	instances := []*cms.Service{newService(t, db, clock), newService(t, db, clock), newService(t, db, clock)}
	ctx := context.Background()
	publishAt := clock.Now().Add(time.Hour)
	var ids []string
	for _, title := range []string{"One", "Two", "Three"} {
		a, err := instances[0].Create(ctx, writer, cms.Content{Title: title})
		if err != nil {
			t.Fatal(err)
		}
		a, err = instances[0].Transition(ctx, writer, a.ID, cms.ActionPublish, 0, cms.PublishDates{PublishAt: &publishAt})
		if err != nil || a.Status != cms.StatusScheduled {
			t.Fatalf("schedule: %v, %v", a, err)
		}
		ids = append(ids, a.ID)
	}
	publishAll := func() int {
		var total atomic.Int64
		var wg sync.WaitGroup
		for _, svc := range instances {
			for range 2 {
				wg.Go(func() {
					n, err := svc.PublishDue(ctx)
					if err != nil {
						t.Error(err)
					}
					total.Add(int64(n))
				})
			}
		}
		wg.Wait()
		return int(total.Load())
	}
	if n := publishAll(); n != 0 {
		t.Fatalf("published %d articles before their time", n)
	}
	clock.Advance(time.Hour)
	if n := publishAll(); n != len(ids) {
		t.Fatalf("published %d times, want exactly %d (once per article)", n, len(ids))
	}
	if n := publishAll(); n != 0 {
		t.Fatalf("published %d more times on a second pass", n)
	}
	for _, id := range ids {
		a, err := instances[1].Get(ctx, editor, id)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != cms.StatusPublished || a.Version != 3 || a.PublishedAt == nil || !a.PublishedAt.Equal(publishAt) {
			t.Errorf("article %s: status %s version %d publishedAt %v; want published, 3, %v", id, a.Status, a.Version, a.PublishedAt, publishAt)
		}
		if lt := a.LastTransition; lt == nil || lt.From != cms.StatusScheduled || lt.By.ID != writer.UserID {
			t.Errorf("transition = %+v, want scheduled → published by the scheduling user", lt)
		}
		n, err := db.Collection("article_revisions").CountDocuments(ctx, bson.D{{Key: "articleId", Value: id}})
		if err != nil || n != 2 {
			t.Errorf("article %s has %d revisions (%v), want 2", id, n, err)
		}
	}
}

// TestSchedulerLoop checks that the background loop publishes on its own.
func TestSchedulerLoop(t *testing.T) {
	db := testenv.DB(t)
	clock := newClock()
	svc := cms.New(db, cms.Options{Now: clock.Now, Logger: testenv.Quiet(), SchedulerInterval: 20 * time.Millisecond})
	ctx := context.Background()
	a, err := svc.Create(ctx, writer, cms.Content{Title: "Later"})
	if err != nil {
		t.Fatal(err)
	}
	at := clock.Now().Add(time.Minute)
	if _, err := svc.Transition(ctx, writer, a.ID, cms.ActionPublish, 0, cms.PublishDates{PublishAt: &at}); err != nil {
		t.Fatal(err)
	}
	loopCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { svc.RunScheduler(loopCtx, nil); close(done) }()
	defer func() { stop(); <-done }()

	clock.Advance(time.Minute)
	testenv.Eventually(t, "the loop to publish the article", func() bool {
		cur, err := svc.Get(ctx, writer, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		return cur.Status == cms.StatusPublished
	})
}
