package cms_test

import (
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
	tests := []struct {
		from      cms.Status
		act       cms.Action
		publishAt *time.Time
		want      cms.Status
		wantErr   problem.Kind
	}{
		{cms.StatusDraft, cms.ActionSubmit, nil, cms.StatusInReview, 0},
		{cms.StatusInReview, cms.ActionSubmit, nil, "", problem.Conflict},
		{cms.StatusPublished, cms.ActionSubmit, nil, "", problem.Conflict},
		{cms.StatusDraft, cms.ActionPublish, nil, cms.StatusPublished, 0},
		{cms.StatusInReview, cms.ActionPublish, nil, cms.StatusPublished, 0},
		{cms.StatusInReview, cms.ActionPublish, &later, cms.StatusScheduled, 0},
		{cms.StatusDraft, cms.ActionPublish, &earlier, cms.StatusPublished, 0},
		{cms.StatusScheduled, cms.ActionPublish, nil, cms.StatusPublished, 0},
		{cms.StatusScheduled, cms.ActionPublish, &later, cms.StatusScheduled, 0},
		{cms.StatusDraft, cms.ActionPublish, &tooLate, "", problem.Invalid},
		{cms.StatusPublished, cms.ActionPublish, nil, "", problem.Conflict},
		{cms.StatusArchived, cms.ActionPublish, nil, "", problem.Conflict},
		{cms.StatusPublished, cms.ActionUnpublish, nil, cms.StatusDraft, 0},
		{cms.StatusScheduled, cms.ActionUnpublish, nil, cms.StatusDraft, 0},
		{cms.StatusInReview, cms.ActionUnpublish, nil, cms.StatusDraft, 0},
		{cms.StatusArchived, cms.ActionUnpublish, nil, cms.StatusDraft, 0},
		{cms.StatusDraft, cms.ActionUnpublish, nil, "", problem.Conflict},
		{cms.StatusPublished, cms.ActionArchive, nil, cms.StatusArchived, 0},
		{cms.StatusArchived, cms.ActionArchive, nil, "", problem.Conflict},
	}
	for _, tt := range tests {
		t.Run(string(tt.from)+" "+string(tt.act), func(t *testing.T) {
			a := &cms.Article{Status: tt.from}
			err := a.Step(tt.act, by, testNow, tt.publishAt)
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
				if a.PublishedAt == nil || !a.PublishedAt.Equal(testNow) || a.PublishAt != nil {
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
