package cms_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/testenv"
	"github.com/wellness/cms/internal/web"
)

// fakeClock is a clock tests move by hand.
type fakeClock = testenv.Clock

func newClock() *fakeClock { return testenv.NewClock(time.Now().UTC().Truncate(time.Second)) }

var (
	editor = &auth.Principal{UserID: "editor-1", Name: "Eve Editor", Role: auth.Editor}
	writer = &auth.Principal{UserID: "author-1", Name: "Al Author", Role: auth.Author}
)

func newService(t testing.TB, db *mongo.Database, clock *fakeClock) *cms.Service {
	t.Helper()
	svc := cms.New(db, cms.Options{Now: clock.Now, Logger: testenv.Quiet()})
	if err := svc.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return svc
}

var errCrash = errors.New("simulated crash")

// crashAt makes svc stop (as if the process died) at step.
func crashAt(svc *cms.Service, step string) {
	cms.SetFailpoint(svc, func(s string) error {
		if s == step {
			return errCrash
		}
		return nil
	})
}

// checkSlugInvariants reads the collections directly and checks the rules
// that must hold after any crash: every article has a slug, its slug is
// reserved for it, and no slug belongs to two articles.
func checkSlugInvariants(t *testing.T, db *mongo.Database) {
	t.Helper()
	ctx := context.Background()
	var arts []struct {
		ID   string `bson:"_id"`
		Slug string `bson:"slug"`
	}
	cur, err := db.Collection("articles").Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if err := cur.All(ctx, &arts); err != nil {
		t.Fatal(err)
	}
	var slugs []cms.SlugRecord
	cur, err = db.Collection("slugs").Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if err := cur.All(ctx, &slugs); err != nil {
		t.Fatal(err)
	}
	owner := map[string]string{}
	for _, s := range slugs {
		owner[s.Slug] = s.ArticleID
	}
	bySlug := map[string]string{}
	for _, a := range arts {
		if a.Slug == "" {
			t.Errorf("article %s has no slug", a.ID)
		}
		if owner[a.Slug] != a.ID {
			t.Errorf("article %s has slug %q reserved for %q", a.ID, a.Slug, owner[a.Slug])
		}
		if other, dup := bySlug[a.Slug]; dup {
			t.Errorf("articles %s and %s share slug %q", other, a.ID, a.Slug)
		}
		bySlug[a.Slug] = a.ID
	}
}

func TestCrashDuringCreate(t *testing.T) {
	db := testenv.DB(t)
	clock := newClock()
	svc := newService(t, db, clock)
	ctx := context.Background()

	crashAt(svc, "create: slug claimed")
	if _, err := svc.Create(ctx, writer, cms.Content{Title: "Crashing", Slug: "wanted-slug"}); !errors.Is(err, errCrash) {
		t.Fatalf("create = %v, want the simulated crash", err)
	}
	checkSlugInvariants(t, db)
	cms.SetFailpoint(svc, nil)

	// Right after the crash the reservation might still be a create in
	// progress: the slug is taken.
	_, err := svc.Create(ctx, writer, cms.Content{Title: "Retry", Slug: "wanted-slug"})
	if problem.KindOf(err) != problem.Conflict {
		t.Fatalf("create during grace = %v, want Conflict", err)
	}
	// A derived slug simply moves on to the next candidate.
	a, err := svc.Create(ctx, writer, cms.Content{Title: "Wanted slug"})
	if err != nil || a.Slug != "wanted-slug-2" {
		t.Fatalf("derived slug = %v, %v; want wanted-slug-2", a, err)
	}
	// Once the grace has passed, the orphaned reservation is taken over.
	clock.Advance(cms.OrphanGrace + time.Second)
	b, err := svc.Create(ctx, writer, cms.Content{Title: "Retry", Slug: "wanted-slug"})
	if err != nil {
		t.Fatalf("create after grace: %v", err)
	}
	got, err := svc.ArticleBySlug(ctx, "wanted-slug")
	if err != nil || got.ID != b.ID {
		t.Fatalf("slug resolves to %v, %v; want %s", got, err, b.ID)
	}
	checkSlugInvariants(t, db)
	// The slug of a live article is never taken over.
	clock.Advance(cms.OrphanGrace + time.Second)
	if _, err := svc.Create(ctx, writer, cms.Content{Title: "Thief", Slug: "wanted-slug"}); problem.KindOf(err) != problem.Conflict {
		t.Fatalf("taking a live slug = %v, want Conflict", err)
	}
}

// TestCrashDuringSlugChange stops a slug change after each of its writes,
// checks the invariants, and checks how the system recovers.
func TestCrashDuringSlugChange(t *testing.T) {
	steps := []string{"commit: slug claimed", "commit: version claimed", "commit: article written"}
	db := testenv.DB(t)
	clock := newClock()
	svc := newService(t, db, clock)
	ctx := context.Background()
	for i, step := range steps {
		t.Run(step, func(t *testing.T) {
			oldSlug, newSlug := fmt.Sprintf("old-%d", i), fmt.Sprintf("new-%d", i)
			a, err := svc.Create(ctx, writer, cms.Content{Title: "T", Slug: oldSlug})
			if err != nil {
				t.Fatal(err)
			}
			patch := &cms.ArticleUpdate{Slug: web.Some(newSlug), Title: web.Some("Renamed")}
			crashAt(svc, step)
			if _, err := svc.Update(ctx, writer, a.ID, a.Version, patch); !errors.Is(err, errCrash) {
				t.Fatalf("update = %v, want the simulated crash", err)
			}
			cms.SetFailpoint(svc, nil)
			checkSlugInvariants(t, db)
			// Both slugs lead to the article whatever the step: the
			// content API serves the current one and redirects the other.
			for _, s := range []string{oldSlug, newSlug} {
				got, err := svc.ArticleBySlug(ctx, s)
				if err != nil || got.ID != a.ID {
					t.Errorf("slug %s resolves to %v, %v", s, got, err)
				}
			}
			// No other article can take either slug.
			clock.Advance(cms.OrphanGrace + time.Second)
			for _, s := range []string{oldSlug, newSlug} {
				if _, err := svc.Create(ctx, editor, cms.Content{Title: "Other", Slug: s}); problem.KindOf(err) != problem.Conflict {
					t.Errorf("another article took %s: %v", s, err)
				}
			}

			cur, err := svc.Get(ctx, writer, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			switch step {
			case "commit: slug claimed":
				// Nothing was claimed: a retry simply succeeds, reusing the
				// reservation it made before the crash.
				if cur.Version != a.Version || cur.Slug != oldSlug {
					t.Fatalf("article changed: v%d %s", cur.Version, cur.Slug)
				}
				if _, err := svc.Update(ctx, writer, a.ID, a.Version, patch); err != nil {
					t.Fatalf("retry: %v", err)
				}
			case "commit: version claimed":
				// The claim holds the change; once the claimant is
				// evidently dead, the next writer finishes it.
				if cur.Version != a.Version {
					t.Fatalf("article changed before the claim was finished: v%d", cur.Version)
				}
				clock.Advance(cms.ClaimGrace)
				if _, err := svc.Update(ctx, writer, a.ID, a.Version, &cms.ArticleUpdate{Summary: web.Some("late")}); problem.KindOf(err) != problem.PreconditionFailed {
					t.Fatalf("update on an interrupted version = %v, want PreconditionFailed", err)
				}
			case "commit: article written":
				// The change is complete; only the slug mirrors are stale.
			}
			cur, err = svc.Get(ctx, writer, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if cur.Version != a.Version+1 || cur.Slug != newSlug || cur.Title != "Renamed" {
				t.Fatalf("after recovery: v%d slug %s title %q; want v%d %s Renamed", cur.Version, cur.Slug, cur.Title, a.Version+1, newSlug)
			}
			checkSlugInvariants(t, db)
			// The former slug still leads to the article.
			if got, err := svc.ArticleBySlug(ctx, oldSlug); err != nil || got.ID != a.ID || got.Slug != newSlug {
				t.Errorf("former slug resolves to %v, %v", got, err)
			}
			// The revision of the interrupted version holds the old state.
			_, revs, err := svc.Revisions(ctx, writer, a.ID, 0, 100)
			if err != nil || len(revs) != 1 || revs[0].Version != a.Version {
				t.Fatalf("revisions = %v, %v", revs, err)
			}
		})
	}
}

// TestConcurrentUpdatesOneWinner races services (as separate instances
// would) on the same version: exactly one change wins each version.
func TestConcurrentUpdatesOneWinner(t *testing.T) {
	db := testenv.DB(t)
	clock := newClock()
	instances := []*cms.Service{newService(t, db, clock), newService(t, db, clock), newService(t, db, clock)}
	ctx := context.Background()
	a, err := instances[0].Create(ctx, writer, cms.Content{Title: "Race"})
	if err != nil {
		t.Fatal(err)
	}
	const writers = 6
	for round := range 3 {
		version := a.Version + int64(round)
		var wg sync.WaitGroup
		results := make(chan error, writers)
		for i := range writers {
			wg.Go(func() {
				svc := instances[i%len(instances)]
				_, err := svc.Update(ctx, writer, a.ID, version, &cms.ArticleUpdate{Summary: web.Some(fmt.Sprintf("writer %d round %d", i, round))})
				results <- err
			})
		}
		wg.Wait()
		close(results)
		wins := 0
		for err := range results {
			switch {
			case err == nil:
				wins++
			case problem.KindOf(err) != problem.PreconditionFailed:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d writers won version %d, want exactly 1", round, wins, version)
		}
	}
	cur, err := instances[0].Get(ctx, writer, a.ID)
	if err != nil || cur.Version != a.Version+3 {
		t.Fatalf("final version = %v, %v; want %d", cur, err, a.Version+3)
	}
}

func TestRevisionsBounded(t *testing.T) {
	if cms.MaxRevisions != 100 {
		t.Errorf("MaxRevisions = %d, want 100", cms.MaxRevisions)
	}
	db := testenv.DB(t)
	clock := newClock()
	svc := newService(t, db, clock)
	const bound = 4 // the same code path as 100, with fewer writes
	cms.SetMaxRevisions(svc, bound)
	ctx := context.Background()
	a, err := svc.Create(ctx, writer, cms.Content{Title: "Often edited"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range bound + 3 {
		if a, err = svc.Update(ctx, writer, a.ID, a.Version, &cms.ArticleUpdate{Summary: web.Some(fmt.Sprint("edit ", i))}); err != nil {
			t.Fatal(err)
		}
	}
	_, revs, err := svc.Revisions(ctx, writer, a.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.Collection("article_revisions").CountDocuments(ctx, bson.D{{Key: "articleId", Value: a.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if len(revs) != bound || n != bound {
		t.Fatalf("kept %d revisions (%d listed), want %d", n, len(revs), bound)
	}
	if revs[0].Version != a.Version-1 || revs[len(revs)-1].Version != a.Version-bound {
		t.Errorf("revisions span %d..%d, want the latest %d", revs[len(revs)-1].Version, revs[0].Version, bound)
	}
	// Claims leave no copies of the next version behind.
	left, err := db.Collection("article_revisions").CountDocuments(ctx, bson.D{{Key: "next", Value: bson.D{{Key: "$exists", Value: true}}}})
	if err != nil || left != 0 {
		t.Errorf("%d revisions still carry the next version (%v)", left, err)
	}
}
