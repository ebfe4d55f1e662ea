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
//	submit     draft → in_review; on a published article with
//	           unpublished changes, marks the changes in review
//	publish    draft, in_review, scheduled → published (dated now, or
//	           publishedAt when backdated), or scheduled for publishAt;
//	           on a published article with unpublished changes, publishes
//	           them now (keeping publishedAt unless one is sent) or at
//	           publishAt (readers keep the published version until then)
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

// minPublishedAt bounds a backdated publishedAt, catching typos like year
// 0202; nothing served on the web is older.
var minPublishedAt = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

// PublishDates are the optional dates of a publish; at most one is set.
type PublishDates struct {
	// PublishAt schedules the article for a moment in the future.
	PublishAt *time.Time
	// PublishedAt publishes it now but dates it earlier, for migrations
	// (ActionBackdate): readers, feeds and lists then show that date.
	PublishedAt *time.Time
}

// date checks d against now and returns the date the article is to carry:
// the scheduled moment (scheduled is true), a backdated publication date,
// or now. A past publishAt is refused rather than read as "now", so a
// client that meant to keep an old date learns of publishedAt instead of
// losing the date silently.
func (d PublishDates) date(now time.Time) (t time.Time, scheduled bool, err error) {
	var f problem.Fields
	switch {
	case d.PublishAt != nil && d.PublishedAt != nil:
		f.Add("publishedAt", "cannot be sent with publishAt: publishAt schedules a publication, publishedAt backdates one")
		return now, false, f.Err()
	case d.PublishAt != nil:
		t = d.PublishAt.UTC().Truncate(time.Millisecond)
		switch {
		case !t.After(now):
			f.Add("publishAt", "is not in the future; to publish now under an earlier date, send publishedAt instead")
		case t.Sub(now) > MaxScheduleAhead:
			f.Add("publishAt", "must be within %d years", int(MaxScheduleAhead.Hours()/24/365))
		}
		return t, true, f.Err()
	case d.PublishedAt != nil:
		t = d.PublishedAt.UTC().Truncate(time.Millisecond)
		switch {
		case t.After(now):
			f.Add("publishedAt", "is in the future; to schedule the article, send publishAt instead")
		case t.Before(minPublishedAt):
			f.Add("publishedAt", "must not be before %d", minPublishedAt.Year())
		}
		return t, false, f.Err()
	}
	return now, false, nil
}

// Step applies a workflow action to a, stamping who and when. The dates
// only matter to publish. It returns a Conflict error when the action does
// not apply to the current status, and Invalid for a bad date.
// Permissions are the caller's concern: this is only the state machine.
func (a *Article) Step(act Action, by Person, now time.Time, d PublishDates) error {
	from := a.Status
	var to Status
	switch act {
	case ActionSubmit:
		switch {
		case from == StatusPublished && a.ChangesInReview:
			return problem.New(problem.Conflict, "the article's unpublished changes are already in review")
		case from == StatusPublished && a.HasUnpublishedChanges:
			to, a.ChangesInReview = StatusPublished, true
		case from == StatusPublished:
			return problem.New(problem.Conflict, "the article is published and has no unpublished changes to submit")
		case from != StatusDraft:
			return problem.New(problem.Conflict, "only a draft can be submitted for review; this article is %s", from)
		default:
			to = StatusInReview
		}
	case ActionPublish:
		switch from {
		case StatusDraft, StatusInReview, StatusScheduled:
		case StatusPublished:
			if !a.HasUnpublishedChanges {
				return problem.New(problem.Conflict, "the article is already published and has no unpublished changes")
			}
		default:
			return problem.New(problem.Conflict, "an archived article must be unpublished to a draft before it is published again")
		}
		t, scheduled, err := d.date(now)
		if err != nil {
			return err
		}
		switch {
		case from == StatusPublished && scheduled:
			// Readers keep the published version until the scheduler
			// publishes the changes (publishDue).
			to, a.PublishAt = StatusPublished, &t
		case from == StatusPublished:
			// The publication date stays unless a backdate is sent.
			to = StatusPublished
			a.publishChanges()
			if d.PublishedAt != nil {
				a.PublishedAt = &t
			}
		case scheduled:
			to, a.PublishAt, a.PublishedAt = StatusScheduled, &t, nil
		default:
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
// published one, or publishes the scheduled changes of a published one
// (which keeps its publication date). The publication date is the
// scheduled time, not the moment the scheduler got to it, so it does not
// depend on which instance polled first. The transition is stamped with
// whoever scheduled it.
func (a *Article) publishDue(now time.Time) bool {
	if a.PublishAt == nil || a.PublishAt.After(now) ||
		(a.Status != StatusScheduled && (a.Status != StatusPublished || !a.HasUnpublishedChanges)) {
		return false
	}
	by := a.UpdatedBy
	if a.LastTransition != nil {
		by = a.LastTransition.By
	}
	from := a.Status
	if from == StatusPublished {
		a.publishChanges()
	} else {
		t := *a.PublishAt
		a.Status, a.PublishAt, a.PublishedAt = StatusPublished, nil, &t
	}
	a.LastTransition = &Transition{From: from, To: StatusPublished, By: by, At: now}
	return true
}
