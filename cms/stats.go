package cms

import (
	"context"
	"fmt"
)

// articlesPage is how many articles ArticleSlugsOf reads per query.
const articlesPage = 500

// ArticleSlugsOf lists every slug, current and former, of the articles
// userID is the author of: clicks are counted under the slug their link
// carried, so an article renamed since keeps its old clicks. It is the
// affiliate statistics' view of "one's own articles" (affiliate
// Options.ArticlesOf). Two reads serve it: the author's articles, by the
// author index, and the slug table's (slug, article) pairs.
func (s *Service) ArticleSlugsOf(ctx context.Context, userID string) ([]string, error) {
	ids := map[string]bool{}
	for before := ""; ; {
		l, err := s.articles(ctx)
		if err != nil {
			return nil, fmt.Errorf("list articles of %s: %w", userID, err)
		}
		page := l.find(ArticleFilter{AuthorID: userID, Before: before, Limit: articlesPage})
		for _, a := range page {
			ids[a.ID] = true
		}
		if len(page) < articlesPage {
			break
		}
		before = page[len(page)-1].ID
	}
	if len(ids) == 0 {
		return []string{}, nil
	}
	history, err := s.store.findSlugHistory(ctx)
	if err != nil {
		return nil, fmt.Errorf("list slugs: %w", err)
	}
	out := []string{}
	for slug, id := range history {
		if ids[id] {
			out = append(out, slug)
		}
	}
	return out, nil
}
