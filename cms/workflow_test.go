package cms_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/problem"
)

func TestStep(t *testing.T) {
	later := testNow.Add(time.Hour)
	earlier := testNow.Add(-time.Hour)
	tooLate := testNow.Add(cms.MaxScheduleAhead + time.Hour)
	by := cms.Person{ID: "u1", Name: "Ann"}
	at := func(t time.Time) cms.PublishDates { return cms.PublishDates{PublishAt: &t} }
	dated := func(t time.Time) cms.PublishDates { return cms.PublishDates{PublishedAt: &t} }
	none := cms.PublishDates{}
	tests := []struct {
		from    cms.Status
		act     cms.Action
		dates   cms.PublishDates
		want    cms.Status
		wantErr problem.Kind
		// published is the publishedAt of a published result; zero means testNow.
		published time.Time
	}{
		{cms.StatusDraft, cms.ActionSubmit, none, cms.StatusInReview, 0, time.Time{}},
		{cms.StatusInReview, cms.ActionSubmit, none, "", problem.Conflict, time.Time{}},
		{cms.StatusPublished, cms.ActionSubmit, none, "", problem.Conflict, time.Time{}},
		{cms.StatusDraft, cms.ActionPublish, none, cms.StatusPublished, 0, time.Time{}},
		{cms.StatusInReview, cms.ActionPublish, none, cms.StatusPublished, 0, time.Time{}},
		{cms.StatusInReview, cms.ActionPublish, at(later), cms.StatusScheduled, 0, time.Time{}},
		// A past publishAt is refused (it used to mean "now"); backdating is publishedAt.
		{cms.StatusDraft, cms.ActionPublish, at(earlier), "", problem.Invalid, time.Time{}},
		{cms.StatusDraft, cms.ActionPublish, at(testNow), "", problem.Invalid, time.Time{}},
		{cms.StatusDraft, cms.ActionPublish, dated(earlier), cms.StatusPublished, 0, earlier},
		{cms.StatusDraft, cms.ActionPublish, dated(testNow), cms.StatusPublished, 0, testNow},
		{cms.StatusScheduled, cms.ActionPublish, dated(earlier), cms.StatusPublished, 0, earlier},
		{cms.StatusDraft, cms.ActionPublish, dated(later), "", problem.Invalid, time.Time{}},
		{cms.StatusDraft, cms.ActionPublish, dated(time.Date(202, 1, 1, 0, 0, 0, 0, time.UTC)), "", problem.Invalid, time.Time{}},
		{cms.StatusDraft, cms.ActionPublish, cms.PublishDates{PublishAt: &later, PublishedAt: &earlier}, "", problem.Invalid, time.Time{}},
		{cms.StatusPublished, cms.ActionPublish, dated(earlier), "", problem.Conflict, time.Time{}},
		{cms.StatusScheduled, cms.ActionPublish, none, cms.StatusPublished, 0, time.Time{}},
		{cms.StatusScheduled, cms.ActionPublish, at(later), cms.StatusScheduled, 0, time.Time{}},
		{cms.StatusDraft, cms.ActionPublish, at(tooLate), "", problem.Invalid, time.Time{}},
		{cms.StatusPublished, cms.ActionPublish, none, "", problem.Conflict, time.Time{}},
		{cms.StatusArchived, cms.ActionPublish, none, "", problem.Conflict, time.Time{}},
		{cms.StatusPublished, cms.ActionUnpublish, none, cms.StatusDraft, 0, time.Time{}},
		{cms.StatusScheduled, cms.ActionUnpublish, none, cms.StatusDraft, 0, time.Time{}},
		{cms.StatusInReview, cms.ActionUnpublish, none, cms.StatusDraft, 0, time.Time{}},
		{cms.StatusArchived, cms.ActionUnpublish, none, cms.StatusDraft, 0, time.Time{}},
		{cms.StatusDraft, cms.ActionUnpublish, none, "", problem.Conflict, time.Time{}},
		{cms.StatusPublished, cms.ActionArchive, none, cms.StatusArchived, 0, time.Time{}},
		{cms.StatusArchived, cms.ActionArchive, none, "", problem.Conflict, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %s %s", tt.from, tt.act, dates(tt.dates)), func(t *testing.T) {
			a := &cms.Article{Status: tt.from}
			err := a.Step(tt.act, by, testNow, tt.dates)
			if tt.wantErr != 0 {
				if problem.KindOf(err) != tt.wantErr {
					t.Fatalf("err = %v, want kind %v", err, tt.wantErr)
				}
				if a.Status != tt.from {
					t.Errorf("status changed to %s on error", a.Status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Status != tt.want {
				t.Fatalf("status = %s, want %s", a.Status, tt.want)
			}
			lt := a.LastTransition
			if lt == nil || lt.From != tt.from || lt.To != tt.want || lt.By != by || !lt.At.Equal(testNow) {
				t.Errorf("transition not stamped: %+v", lt)
			}
			switch a.Status {
			case cms.StatusPublished:
				want := tt.published
				if want.IsZero() {
					want = testNow
				}
				if a.PublishedAt == nil || !a.PublishedAt.Equal(want) || a.PublishAt != nil {
					t.Errorf("published: publishedAt %v publishAt %v", a.PublishedAt, a.PublishAt)
				}
			case cms.StatusScheduled:
				if a.PublishAt == nil || !a.PublishAt.Equal(later) || a.PublishedAt != nil {
					t.Errorf("scheduled: publishAt %v publishedAt %v", a.PublishAt, a.PublishedAt)
				}
			default:
				if a.PublishAt != nil || a.PublishedAt != nil {
					t.Errorf("%s keeps publish times", a.Status)
				}
			}
		})
	}
}

// dates names a publish's dates in a subtest name.
func dates(d cms.PublishDates) string {
	s := ""
	if d.PublishAt != nil {
		s += " publishAt=" + d.PublishAt.Format(time.RFC3339)
	}
	if d.PublishedAt != nil {
		s += " publishedAt=" + d.PublishedAt.Format(time.RFC3339)
	}
	return s
}
