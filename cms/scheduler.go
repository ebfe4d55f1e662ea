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
// publishes it, and nobody has to call anything at the scheduled time. It
// skips the database query while the content API knows nothing is due
// (see mustScan; due may be nil). It also sweeps expired preview tokens
// now and then.
func (s *Service) RunScheduler(ctx context.Context, due DueHint) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	var lastSweep, lastScan time.Time
	for {
		if s.mustScan(lastScan, due) {
			lastScan = time.Now()
			if _, err := s.PublishDue(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("publish scheduled articles", "err", err)
			}
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

// PublishDue publishes the scheduled articles whose publishAt has passed
// and reports how many this call published. An article another instance
// published first is skipped silently.
func (s *Service) PublishDue(ctx context.Context) (int, error) {
	now := s.clock()
	due, err := s.store.FindDueArticles(ctx, now, dueBatch)
	if err != nil {
		return 0, fmt.Errorf("find due articles: %w", err)
	}
	n := 0
	var errs []error
	for _, a := range due {
		next := a.Clone()
		if !next.publishDue(now) {
			continue
		}
		_, err := s.commit(ctx, a, next, next.LastTransition.By, workflowChanges(a, next))
		switch {
		case errors.Is(err, problem.PreconditionFailed):
			// Another instance won the claim.
		case err != nil:
			errs = append(errs, fmt.Errorf("publish article %s: %w", a.ID, err))
		default:
			n++
			s.log.Info("published a scheduled article", "article", a.ID, "slug", a.Slug)
		}
	}
	return n, errors.Join(errs...)
}
