package cms

import (
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/search"
)

// Bounds of an article's stored search words. Prose of any length has a
// few thousand distinct words; the bounds only bite on bodies of random
// text, and keep an article with its revision copies far from the 16 MiB
// document limit: 256 KiB is about 30,000 distinct words.
const (
	maxSearchWord  = 64 // bytes; a longer word is stored, and matched, by its start
	maxSearchBytes = 256 << 10
)

// Limits on the q of both article lists.
const (
	MaxQuery      = MaxTitle // characters
	MaxQueryWords = 20
)

// SearchDoc is what of an article is searched: its title, tags, excerpt
// (the summary, or the first paragraph) and the text of its sanitized
// body. The content API indexes it; the authoring list matches the words
// deriveKeys stores from it, so both lists find an article by the same
// words.
func SearchDoc(a *Article) search.Doc {
	return search.Doc{ID: a.ID, Title: a.Title, Summary: a.Excerpt, Tags: a.Tags, Body: PlainText(a.BodyHTML)}
}

// Slug is the slug of the person's name, what author= filters by besides
// the user ID. It follows the name the article carries.
func (p Person) Slug() string { return Slugify(p.Name) }

// deriveKeys sets the fields the authoring list filters on, from the
// derived fields (excerpt, sanitized HTML) and the author: the search
// words and the author's slug. Documents written before these fields
// existed get them from `cms resanitize --all`.
func (a *Article) deriveKeys() {
	a.SearchWords = SearchDoc(a).Terms(maxSearchWord, maxSearchBytes)
	a.AuthorSlug = a.Author.Slug()
}

// ParseQuery reads the q of an article list into its folded words, adding
// to f why it is refused: too long, no words, or too many words.
func ParseQuery(f *problem.Fields, v string) []string {
	if len(v) > MaxQuery {
		f.Add("q", "at most %d characters", MaxQuery)
		return nil
	}
	words := search.Words(v)
	switch {
	case len(words) == 0:
		f.Add("q", "has no words to search for")
	case len(words) > MaxQueryWords:
		f.Add("q", "at most %d words", MaxQueryWords)
	}
	return words
}

// queryTerm is a query word as the stored search words hold it (cut like
// them), and whether it also matches the words it begins (search's rule;
// a cut word always does).
func queryTerm(w string) (term string, prefix bool) {
	if len(w) > maxSearchWord {
		return w[:maxSearchWord], true
	}
	return w, search.MatchesPrefix(w)
}

// AuthorRef is an author= filter, the same on both lists: a user ID (24
// hex digits, the form of every ID here) or the slug of the author's name
// as articles carry it, like jane-doe.
type AuthorRef struct {
	ID, Slug string
}

// ParseAuthor reads an author= value, adding to f why it is refused.
func ParseAuthor(f *problem.Fields, v string) AuthorRef {
	if ValidID(v) {
		return AuthorRef{ID: v}
	}
	if CheckSlug(v) != "" {
		f.Add("author", "must be a user ID or the slug of an author's name, like jane-doe")
		return AuthorRef{}
	}
	return AuthorRef{Slug: v}
}

// Match reports whether an author with this ID and name slug is the one
// r names. The zero AuthorRef matches everyone.
func (r AuthorRef) Match(id, slug string) bool {
	switch {
	case r.ID != "":
		return id == r.ID
	case r.Slug != "":
		return slug == r.Slug
	}
	return true
}

// key is the filter's part of a cursor scope.
func (r AuthorRef) key() string { return r.ID + "/" + r.Slug }
