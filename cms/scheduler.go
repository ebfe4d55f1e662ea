package cms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wellness/cms/internal/problem"
)

// dueBatch bounds how many due articles one pass publishes; the next pass
// takes the rest a moment later.
const dueBatch = 50

// RunScheduler publishes scheduled articles when their time comes, until
// ctx is cancelled. Every instance runs it: each due article is published
// through the same version claim as any change, so exactly one instance
// publishes it, and nobody has to call anything at the scheduled time.
// It publishes the IDs the content API's view says are due, each read by
// _id, and queries the database only without a view, or now and then
// while the view is stale (see dueFromHint; due may be nil). It also
// sweeps expired preview tokens now and then.
func (s *Service) RunScheduler(ctx context.Context, due DueHint) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	var lastSweep, lastScan time.Time
	for {
		if err := s.publishScheduled(ctx, due, &lastScan); err != nil && ctx.Err() == nil {
			s.log.Error("publish scheduled articles", "err", err)
		}
		if now := s.clock(); now.Sub(lastSweep) >= time.Hour {
			if err := s.store.DeleteExpiredPreviews(ctx, now); err != nil && ctx.Err() == nil {
				s.log.Warn("delete expired preview tokens", "err", err)
			}
			lastSweep = now
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// publishScheduled is one pass of the scheduler: the hint's due IDs, or
// the database query when dueFromHint says so; lastScan is when that
// query last ran.
func (s *Service) publishScheduled(ctx context.Context, due DueHint, lastScan *time.Time) error {
	ids, scan := s.dueFromHint(due, *lastScan)
	if scan {
		*lastScan = s.clock() // failed or not: a query that timed out is retried no sooner
		_, err := s.PublishDue(ctx)
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	_, err := s.PublishDueByID(ctx, ids)
	return err
}

// PublishDue publishes the scheduled articles whose publishAt has passed
// and reports how many this call published. An article another instance
// published first is skipped silently. It queries for them, which reads
// every article on the embedded engine; PublishDueByID does not.
func (s *Service) PublishDue(ctx context.Context) (int, error) {
	now := s.clock()
	due, err := s.store.FindDueArticles(ctx, now, dueBatch)
	if err != nil {
		return 0, fmt.Errorf("find due articles: %w", err)
	}
	return s.publishAll(ctx, due, now)
}

// PublishDueByID publishes those of the articles with these IDs (at most
// dueBatch of them) that are due, each read by _id and checked again, and
// reports how many this call published. Missing articles and ones no
// longer due are skipped: the IDs come from a view that may be a moment
// behind.
func (s *Service) PublishDueByID(ctx context.Context, ids []string) (int, error) {
	now := s.clock()
	ids = ids[:min(len(ids), dueBatch)]
	due := make([]*Article, 0, len(ids))
	for _, id := range ids {
		a, err := s.store.FindArticleByID(ctx, id)
		switch {
		case errors.Is(err, problem.NotFound):
			continue
		case err != nil:
			return 0, fmt.Errorf("find due article %s: %w", id, err)
		}
		due = append(due, a)
	}
	return s.publishAll(ctx, due, now)
}

// publishAll publishes each of the articles that is due at now.
func (s *Service) publishAll(ctx context.Context, due []*Article, now time.Time) (int, error) {
	n := 0
	var errs []error
	for _, a := range due {
		ok, err := s.publishIfDue(ctx, a, now)
		if err != nil {
			errs = append(errs, err)
		} else if ok {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// publishIfDue publishes a if it is due at now, and reports whether this
// call did. Another instance winning the claim is not an error.
func (s *Service) publishIfDue(ctx context.Context, a *Article, now time.Time) (bool, error) {
	next := a.Clone()
	if !next.publishDue(now) {
		return false, nil
	}
	_, err := s.commit(ctx, a, next, next.LastTransition.By, workflowChanges(a, next))
	switch {
	case errors.Is(err, problem.PreconditionFailed):
		return false, nil // another instance won the claim
	case err != nil:
		return false, fmt.Errorf("publish article %s: %w", a.ID, err)
	}
	s.log.Info("published a scheduled article", "article", a.ID, "slug", a.Slug)
	return true, nil
}
