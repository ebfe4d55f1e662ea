package cms

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/wellness/cms/internal/problem"
)

// ResanitizeOptions choose what Resanitize does.
type ResanitizeOptions struct {
	// All re-renders every article, not only those sanitized with an
	// older policy than SanitizerVersion.
	All bool
	// DryRun counts what would change without writing.
	DryRun bool
}

// ResanitizeReport counts what Resanitize did.
type ResanitizeReport struct {
	Checked, Changed, Failed int
}

// resanitizer is who the revisions name for these changes.
var resanitizer = Person{ID: "system", Name: "cms resanitize"}

// Resanitize runs the pipeline again, from each article's source body, over
// the stored articles, and saves every article whose derived HTML or
// measures change as a new version (with its revision, like any change).
// It is what makes a change of the sanitizer policy reach articles saved
// before it. Articles being edited meanwhile are retried; failures are
// counted and logged, and the run goes on. An article whose affiliate
// links would disappear is left alone and counted as failed: that happens
// when the service was built without the link rewriter the server uses.
func (s *Service) Resanitize(ctx context.Context, o ResanitizeOptions) (ResanitizeReport, error) {
	var rep ResanitizeReport
	olderThan := SanitizerVersion
	if o.All {
		olderThan = 0
	}
	after := ""
	for {
		ids, err := s.store.FindArticleIDs(ctx, after, olderThan, 100)
		if err != nil {
			return rep, fmt.Errorf("resanitize: %w", err)
		}
		for _, id := range ids {
			changed, err := s.resanitizeOne(ctx, id, o.DryRun)
			rep.Checked++
			switch {
			case err != nil:
				rep.Failed++
				s.log.Error("resanitize article", "article", id, "err", err)
			case changed:
				rep.Changed++
			}
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
		}
		if len(ids) < 100 {
			return rep, nil
		}
		after = ids[len(ids)-1]
	}
}

// resanitizeOne re-renders one article, retrying when a concurrent edit
// wins the version first.
func (s *Service) resanitizeOne(ctx context.Context, id string, dryRun bool) (bool, error) {
	for attempt := 0; ; attempt++ {
		cur, err := s.store.FindArticleByID(ctx, id)
		if err != nil {
			return false, err
		}
		next := cur.Clone()
		if err := s.derive(ctx, next, true); err != nil {
			return false, err
		}
		if cur.HasAffiliateLinks && !next.HasAffiliateLinks {
			// Most likely this process was built without the link
			// rewriter; saving would strip the affiliate tags.
			return false, fmt.Errorf("re-rendering article %s would drop its affiliate links; is the link rewriter configured?", id)
		}
		changed := derivedChanges(cur, next)
		if live, err := s.rederiveLive(ctx, next, s.clock()); err != nil {
			return false, fmt.Errorf("article %s: %w", id, err)
		} else if live {
			changed = append(changed, "live")
		}
		if len(changed) == 0 || dryRun {
			return len(changed) > 0, nil
		}
		_, err = s.commit(ctx, cur, next, resanitizer, changed)
		if errors.Is(err, problem.PreconditionFailed) && attempt < 3 {
			continue
		}
		return err == nil, err
	}
}

// derivedChanges names the derived fields that differ.
func derivedChanges(a, b *Article) []string {
	var out []string
	add := func(differ bool, name string) {
		if differ {
			out = append(out, name)
		}
	}
	add(a.BodyHTML != b.BodyHTML, "bodyHtml")
	add(a.SanitizerVersion != b.SanitizerVersion, "sanitizerVersion")
	add(a.Excerpt != b.Excerpt, "excerpt")
	add(a.WordCount != b.WordCount, "wordCount")
	add(a.ReadingTimeMinutes != b.ReadingTimeMinutes, "readingTimeMinutes")
	add(a.HasAffiliateLinks != b.HasAffiliateLinks, "hasAffiliateLinks")
	add(!slices.Equal(a.BodyLinks, b.BodyLinks), "bodyLinks")
	add(!slices.Equal(a.SearchWords, b.SearchWords), "searchWords")
	add(a.AuthorSlug != b.AuthorSlug, "authorSlug")
	return out
}
