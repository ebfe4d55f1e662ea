package content_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// TestBackdatedArticle publishes a migrated article now under its old
// date, for another user: readers see that date and that author
// everywhere (the article, its JSON-LD, the list, the feed), lists order
// it by that date, and the sitemap keeps dating it by its last change.
func TestBackdatedArticle(t *testing.T) {
	s, clock := newContentAPI(t)
	editor, _ := s.User(t, auth.Editor)
	therapist := s.NewUser(t, auth.Contributor)
	old := time.Date(2019, 4, 2, 8, 30, 0, 0, time.UTC)

	newer := testenv.Publish(t, s, editor, map[string]any{"title": "Written this week"})
	clock.Advance(time.Minute)
	a := testenv.CreateArticle(t, s, editor, map[string]any{"title": "Stretching after a long run", "authorId": therapist.ID,
		"summary": "From the old site."})
	a = testenv.Transition(t, s, editor, a, "publish", map[string]any{"publishedAt": old.Format(time.RFC3339)})
	if !a.PublishedAt.Equal(old) || a.Author.ID != therapist.ID {
		t.Fatalf("published %v by %+v", a.PublishedAt, a.Author)
	}

	r := get(t, s, contentPath+a.Slug)
	testenv.WantStatus(t, r, http.StatusOK)
	var art struct {
		PublishedAt time.Time `json:"publishedAt"`
		UpdatedAt   time.Time `json:"updatedAt"`
		Author      struct{ Name string }
		JSONLD      struct {
			DatePublished time.Time `json:"datePublished"`
			DateModified  time.Time `json:"dateModified"`
			Author        struct{ Name string }
		} `json:"jsonLd"`
	}
	r.JSON(t, &art)
	if !art.PublishedAt.Equal(old) || !art.JSONLD.DatePublished.Equal(old) {
		t.Errorf("publishedAt %v, datePublished %v; want %v", art.PublishedAt, art.JSONLD.DatePublished, old)
	}
	if !art.UpdatedAt.Equal(a.UpdatedAt) || !art.JSONLD.DateModified.Equal(a.UpdatedAt) {
		t.Errorf("updatedAt %v, dateModified %v; want %v", art.UpdatedAt, art.JSONLD.DateModified, a.UpdatedAt)
	}
	if art.Author.Name != therapist.Name || art.JSONLD.Author.Name != therapist.Name {
		t.Errorf("author %q, JSON-LD author %q; want %q", art.Author.Name, art.JSONLD.Author.Name, therapist.Name)
	}

	// The list is newest first by publication date: the backdated article
	// comes after the one published a minute before it.
	r = get(t, s, "/api/v1/content/articles")
	testenv.WantStatus(t, r, http.StatusOK)
	var list struct {
		Items []struct {
			Slug        string    `json:"slug"`
			PublishedAt time.Time `json:"publishedAt"`
		} `json:"items"`
	}
	r.JSON(t, &list)
	var order []string
	for _, it := range list.Items {
		order = append(order, it.Slug)
		if it.Slug == a.Slug && !it.PublishedAt.Equal(old) {
			t.Errorf("list publishedAt %v, want %v", it.PublishedAt, old)
		}
	}
	if !slices.Equal(order, []string{newer.Slug, a.Slug}) {
		t.Errorf("list order %v, want %v", order, []string{newer.Slug, a.Slug})
	}

	r = get(t, s, "/feed.xml")
	testenv.WantStatus(t, r, http.StatusOK)
	var feed rssFeed
	parseXML(t, r, &feed)
	if n := len(feed.Channel.Items); n != 2 || !strings.HasSuffix(feed.Channel.Items[1].Link, "/articles/"+a.Slug) {
		t.Fatalf("feed items: %+v", feed.Channel.Items)
	}
	item := feed.Channel.Items[1]
	if pd, err := time.Parse(time.RFC1123Z, item.PubDate); err != nil || !pd.Equal(old) || item.Creator != therapist.Name {
		t.Errorf("feed item pubDate %q (%v) creator %q; want %v by %s", item.PubDate, err, item.Creator, old, therapist.Name)
	}

	r = get(t, s, "/sitemap.xml")
	testenv.WantStatus(t, r, http.StatusOK)
	var doc sitemapDoc
	parseXML(t, r, &doc)
	found := false
	for _, u := range doc.URLs {
		if strings.HasSuffix(u.Loc, "/articles/"+a.Slug) {
			found = true
			if u.LastMod != a.UpdatedAt.UTC().Format(time.RFC3339) {
				t.Errorf("sitemap lastmod %q, want the last change %s", u.LastMod, a.UpdatedAt.Format(time.RFC3339))
			}
		}
	}
	if !found {
		t.Errorf("sitemap lacks the article: %s", r.Body)
	}
}
