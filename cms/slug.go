package cms

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/wellness/cms/internal/search"
)

// MaxSlug bounds a slug: long enough for a headline, short enough for a
// readable URL.
const MaxSlug = 80

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// ValidTag reports whether t is a tag as stored: a slug of at most MaxTag
// characters.
func ValidTag(t string) bool { return len(t) <= MaxTag && slugPattern.MatchString(t) }

// CheckSlug explains what is wrong with an explicit slug, or returns "".
func CheckSlug(s string) string {
	switch {
	case len(s) > MaxSlug:
		return fmt.Sprintf("at most %d characters", MaxSlug)
	case !slugPattern.MatchString(s):
		return "must be lower-case a-z and 0-9 words joined by single hyphens"
	}
	return ""
}

// slugSpelling is what a slug spells out before the shared fold: "&"
// reads as a word in a URL, where search ignores it.
var slugSpelling = strings.NewReplacer("&", " and ")

// Slugify derives a slug from a title: its words as search folds them
// (lower-case ASCII, other scripts romanized), joined by hyphens and cut
// at a word boundary to MaxSlug. It returns "" when nothing usable is
// left (a title of emoji, say); the caller then falls back to a generated
// slug.
func Slugify(title string) string {
	var b strings.Builder
	for _, w := range search.Words(slugSpelling.Replace(title)) {
		if len(w) > MaxSlug {
			w = w[:MaxSlug]
		}
		n := b.Len()
		if n > 0 {
			n++
		}
		if n+len(w) > MaxSlug {
			break
		}
		if b.Len() > 0 {
			b.WriteByte('-')
		}
		b.WriteString(w)
	}
	return b.String()
}

// fallbackSlug names an article whose title folds to nothing. The ID makes
// it unique without a retry loop.
func fallbackSlug(articleID string) string {
	return "article-" + strings.ToLower(articleID)
}

// slugCandidate is the n-th slug tried for a derived slug: the base, then
// base-2, base-3, ..., shortened so the suffix still fits.
func slugCandidate(base string, n int) string {
	if n <= 1 {
		return base
	}
	suffix := fmt.Sprintf("-%d", n)
	if len(base)+len(suffix) > MaxSlug {
		base = strings.TrimRight(base[:MaxSlug-len(suffix)], "-")
	}
	return base + suffix
}

// SlugHistory is which article each slug names. Slugs are never released:
// an article's current slug is its own Slug field, and every other slug
// that names it is a former one, from which readers are redirected to the
// current. The slug collection stores it (SlugRecord), a change carries
// its part (Change.Slugs), and the content API holds all of it.
type SlugHistory map[string]string

// Redirect says where a request for slug goes: to article id, and, when
// slug is a former one of that article, with a redirect to current (the
// article's slug now). ok is false for a slug no article holds.
func (h SlugHistory) Redirect(slug string, current func(id string) (string, bool)) (id, to string, ok bool) {
	id, ok = h[slug]
	if !ok {
		return "", "", false
	}
	cur, ok := current(id)
	if !ok {
		return "", "", false
	}
	if cur != slug {
		return id, cur, true
	}
	return id, "", true
}

// Slugs is what the change adds to the slug history: the article's slug
// and, when the change moved it, the former one, which now redirects.
func (c Change) Slugs() SlugHistory {
	h := SlugHistory{c.Next.Slug: c.Next.ID}
	if prev := c.PreviousSlug(); prev != "" {
		h[prev] = c.Next.ID
	}
	for _, slug := range c.Former {
		h[slug] = c.Next.ID
	}
	return h
}

// PreviousSlug is the slug the change moved the article from, or "".
func (c Change) PreviousSlug() string {
	if c.Prev != nil && c.Prev.Slug != c.Next.Slug {
		return c.Prev.Slug
	}
	return ""
}
