package cms

import (
	"time"

	"github.com/wellness/cms/internal/problem"
)

// Action is something a caller does to an article; the table in
// permissions.go says who may. The workflow actions below move the
// article's status, each through its own route, so the status field
// itself is never writable.
type Action string

// The workflow actions and where they lead:
//
//	submit     draft → in_review
//	publish    draft, in_review, scheduled → published, or scheduled when
//	           publishAt lies in the future
//	unpublish  in_review, scheduled, published, archived → draft
//	archive    any → archived (DELETE)
const (
	ActionSubmit    Action = "submit"
	ActionPublish   Action = "publish"
	ActionUnpublish Action = "unpublish"
	ActionArchive   Action = "archive"
)

// MaxScheduleAhead bounds publishAt, catching typos like year 2205.
const MaxScheduleAhead = 5 * 365 * 24 * time.Hour

// Step applies a workflow action to a, stamping who and when. publishAt
// only matters to publish. It returns a Conflict error when the action does
// not apply to the current status, and Invalid for a bad publishAt.
// Permissions are the caller's concern: this is only the state machine.
func (a *Article) Step(act Action, by Person, now time.Time, publishAt *time.Time) error {
	from := a.Status
	var to Status
	switch act {
	case ActionSubmit:
		if from != StatusDraft {
			return problem.New(problem.Conflict, "only a draft can be submitted for review; this article is %s", from)
		}
		to = StatusInReview
	case ActionPublish:
		switch from {
		case StatusDraft, StatusInReview, StatusScheduled:
		case StatusPublished:
			return problem.New(problem.Conflict, "the article is already published")
		default:
			return problem.New(problem.Conflict, "an archived article must be unpublished to a draft before it is published again")
		}
		if publishAt != nil && publishAt.After(now) {
			if publishAt.Sub(now) > MaxScheduleAhead {
				var f problem.Fields
				f.Add("publishAt", "must be within %d years", int(MaxScheduleAhead.Hours()/24/365))
				return f.Err()
			}
			t := publishAt.UTC().Truncate(time.Millisecond)
			to, a.PublishAt, a.PublishedAt = StatusScheduled, &t, nil
		} else {
			t := now
			to, a.PublishAt, a.PublishedAt = StatusPublished, nil, &t
		}
	case ActionUnpublish:
		if from == StatusDraft {
			return problem.New(problem.Conflict, "the article is already a draft")
		}
		to, a.PublishAt, a.PublishedAt = StatusDraft, nil, nil
	case ActionArchive:
		if from == StatusArchived {
			return problem.New(problem.Conflict, "the article is already archived")
		}
		to, a.PublishAt, a.PublishedAt = StatusArchived, nil, nil
	default:
		return problem.New(problem.BadRequest, "unknown workflow action %q", act)
	}
	a.Status = to
	a.LastTransition = &Transition{From: from, To: to, By: by, At: now}
	return nil
}

// publishDue turns a scheduled article whose time has come into a
// published one. The publication date is the scheduled time, not the
// moment the scheduler got to it, so it does not depend on which instance
// polled first. The transition is stamped with whoever scheduled it.
func (a *Article) publishDue(now time.Time) bool {
	if a.Status != StatusScheduled || a.PublishAt == nil || a.PublishAt.After(now) {
		return false
	}
	by := a.UpdatedBy
	if a.LastTransition != nil {
		by = a.LastTransition.By
	}
	t := *a.PublishAt
	a.Status, a.PublishedAt = StatusPublished, &t
	a.LastTransition = &Transition{From: StatusScheduled, To: StatusPublished, By: by, At: now}
	return true
}
