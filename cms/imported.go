package cms

import (
	"context"
	"errors"
	"fmt"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/problem"
)

// CreateImported stores a draft brought in from another system (a
// WordPress import) for author, whom the importer has resolved: the user
// it created for the source's author, who stays disabled until an admin
// enables them, which is why assignAuthor's check of an active user does
// not apply. It needs the right to assign authors.
func (s *Service) CreateImported(ctx context.Context, p *auth.Principal, c Content, author Person) (*Article, error) {
	if err := may(p, ActionCreate, nil); err != nil {
		return nil, err
	}
	if err := mayField(p, ActionAssignAuthor, nil, "authorId"); err != nil {
		return nil, err
	}
	return s.create(ctx, p, c, author, nil)
}

// AddFormerSlugs reserves slugs as former slugs of the article id, which
// the content API answers with a redirect to its slug: an import's old
// URLs. It returns the slugs another article holds, which are left alone;
// slugs that are not valid or that the article holds already are skipped.
// The change is announced like any other, so every instance learns them.
func (s *Service) AddFormerSlugs(ctx context.Context, p *auth.Principal, id string, slugs []string) (taken []string, err error) {
	a, err := s.load(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if err := may(p, ActionEdit, a); err != nil {
		return nil, err
	}
	now := s.clock()
	var added []string
	for _, slug := range slugs {
		if slug == a.Slug || CheckSlug(slug) != "" {
			continue
		}
		err := s.claimSlug(ctx, slug, a.ID, false, now)
		switch {
		case errors.Is(err, problem.Conflict):
			taken = append(taken, slug)
		case err != nil:
			return taken, fmt.Errorf("reserve former slug: %w", err)
		default:
			added = append(added, slug)
		}
	}
	if len(added) > 0 {
		s.announce(ctx, Change{Prev: a, Next: a, Former: added})
	}
	return taken, nil
}
