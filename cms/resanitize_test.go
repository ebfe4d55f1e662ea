package cms_test

import (
	"context"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/testenv"
	"github.com/wellness/cms/internal/web"
)

// TestResanitize stores an article as an older, looser policy would have
// left it, and checks that a run cleans it as a new version, and that a
// second run finds nothing to do.
func TestResanitize(t *testing.T) {
	db := testenv.DB(t)
	svc := newService(t, db, newClock())
	ctx := context.Background()
	old, err := svc.Create(ctx, writer, cms.Content{Title: "Old", Body: `<p onclick="x()">Old <a href="https://a.test" target="_blank">link</a></p>`})
	if err != nil {
		t.Fatal(err)
	}
	current, err := svc.Create(ctx, writer, cms.Content{Title: "Current", Body: "<p>fine</p>"})
	if err != nil {
		t.Fatal(err)
	}
	// What version 0 of the policy stored: the handler and target kept.
	_, err = db.Collection("articles").UpdateOne(ctx, bson.D{{Key: "_id", Value: old.ID}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "sanitizerVersion", Value: 0},
		{Key: "bodyHtml", Value: `<p onclick="x()">Old <a href="https://a.test" target="_blank">link</a></p>`},
	}}})
	if err != nil {
		t.Fatal(err)
	}

	rep, err := svc.Resanitize(ctx, cms.ResanitizeOptions{DryRun: true})
	if err != nil || rep != (cms.ResanitizeReport{Checked: 1, Changed: 1}) {
		t.Fatalf("dry run = %+v, %v", rep, err)
	}
	rep, err = svc.Resanitize(ctx, cms.ResanitizeOptions{})
	if err != nil || rep != (cms.ResanitizeReport{Checked: 1, Changed: 1}) {
		t.Fatalf("run = %+v, %v", rep, err)
	}
	a, err := svc.Get(ctx, editor, old.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.SanitizerVersion != cms.SanitizerVersion || strings.Contains(a.BodyHTML, "onclick") || strings.Contains(a.BodyHTML, "target") ||
		a.Version != old.Version+1 || a.UpdatedBy.Name != "cms resanitize" {
		t.Errorf("resanitized article: v%d by %v: %q", a.Version, a.UpdatedBy, a.BodyHTML)
	}
	if got := strings.Join(a.ChangedFields, ","); got != "bodyHtml,sanitizerVersion" {
		t.Errorf("changed fields = %s", got)
	}
	rev, err := svc.Revision(ctx, editor, old.ID, old.Version)
	if err != nil || !strings.Contains(rev.Article.BodyHTML, "onclick") {
		t.Errorf("revision of the old HTML: %v, %v", rev, err)
	}
	// Everything is current now: a second run, even over all articles,
	// changes nothing, because sanitizing is idempotent.
	rep, err = svc.Resanitize(ctx, cms.ResanitizeOptions{All: true})
	if err != nil || rep != (cms.ResanitizeReport{Checked: 2, Changed: 0}) {
		t.Fatalf("second run = %+v, %v", rep, err)
	}
	if c, _ := svc.Get(ctx, editor, current.ID); c.Version != current.Version {
		t.Errorf("an unchanged article got a new version")
	}
}

// TestResanitizeKeepsAffiliateLinks checks the guard against a run by a
// service built without the server's link rewriter.
func TestResanitizeKeepsAffiliateLinks(t *testing.T) {
	db := testenv.DB(t)
	clock := newClock()
	tagging := cms.New(db, cms.Options{Now: clock.Now, Logger: testenv.Quiet(),
		RewriteLink: func(ctx context.Context, l *cms.Link) error {
			l.Href, l.Rel, l.Affiliate = l.Href+"?tag=site-20", "sponsored nofollow noopener", true
			return nil
		}})
	ctx := context.Background()
	a, err := tagging.Create(ctx, writer, cms.Content{Title: "Mat", Body: `<a href="https://www.amazon.com/dp/B000TEST">mat</a>`})
	if err != nil || !a.HasAffiliateLinks {
		t.Fatalf("create: %v, %+v", err, a)
	}
	plain := newService(t, db, clock)
	rep, err := plain.Resanitize(ctx, cms.ResanitizeOptions{All: true})
	if err != nil || rep != (cms.ResanitizeReport{Checked: 1, Failed: 1}) {
		t.Fatalf("run without the rewriter = %+v, %v", rep, err)
	}
	if got, _ := plain.Get(ctx, editor, a.ID); got.Version != a.Version || !strings.Contains(got.BodyHTML, "tag=site-20") {
		t.Errorf("article changed: v%d %q", got.Version, got.BodyHTML)
	}
	if rep, err := tagging.Resanitize(ctx, cms.ResanitizeOptions{All: true}); err != nil || rep != (cms.ResanitizeReport{Checked: 1}) {
		t.Errorf("run with the rewriter = %+v, %v", rep, err)
	}
}

// TestResanitizeLiveCopy: the version readers get of a published article
// with staged changes is cleaned by a new policy too, dated anew so that
// readers (and webhooks) learn of it.
func TestResanitizeLiveCopy(t *testing.T) {
	db := testenv.DB(t)
	svc := newService(t, db, newClock())
	ctx := context.Background()
	a, err := svc.Create(ctx, writer, cms.Content{Title: "Live", Body: "<p>live</p>"})
	if err != nil {
		t.Fatal(err)
	}
	if a, err = svc.Transition(ctx, editor, a.ID, cms.ActionPublish, 0, cms.PublishDates{}); err != nil {
		t.Fatal(err)
	}
	if a, err = svc.Update(ctx, editor, a.ID, a.Version, &cms.ArticleUpdate{Title: web.Optional[string]{Set: true, Value: "Draft"}}); err != nil {
		t.Fatal(err)
	}
	if a.Live == nil || !a.HasUnpublishedChanges {
		t.Fatalf("staged edit: live %v changes %v", a.Live, a.HasUnpublishedChanges)
	}
	_, err = db.Collection("articles").UpdateOne(ctx, bson.D{{Key: "_id", Value: a.ID}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "live.sanitizerVersion", Value: 0},
		{Key: "live.bodyHtml", Value: `<p onclick="x()">live</p>`},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := svc.Resanitize(ctx, cms.ResanitizeOptions{})
	if err != nil || rep != (cms.ResanitizeReport{Checked: 1, Changed: 1}) {
		t.Fatalf("run = %+v, %v", rep, err)
	}
	got, err := svc.Get(ctx, editor, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	v := got.Served()
	if v.BodyHTML != "<p>live</p>" || v.SanitizerVersion != cms.SanitizerVersion || v.Title != "Live" {
		t.Errorf("served after resanitize: %q v%d %q", v.BodyHTML, v.SanitizerVersion, v.Title)
	}
	if got.Title != "Draft" || !got.HasUnpublishedChanges {
		t.Errorf("draft after resanitize: %q %v", got.Title, got.HasUnpublishedChanges)
	}
}
