package cms

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// MaxSlug bounds a slug: long enough for a headline, short enough for a
// readable URL.
const MaxSlug = 80

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// checkSlug explains what is wrong with an explicit slug, or returns "".
func checkSlug(s string) string {
	switch {
	case len(s) > MaxSlug:
		return fmt.Sprintf("at most %d characters", MaxSlug)
	case !slugPattern.MatchString(s):
		return "must be lower-case a-z and 0-9 words joined by single hyphens"
	}
	return ""
}

// stripMarks returns a transformer that strips accents (é → e) by
// decomposing and dropping the combining marks; letters that do not
// decompose get the table below. A chain keeps state, so each call needs
// its own.
func stripMarks() transform.Transformer {
	return transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}

// transliterations covers letters that do not decompose into ASCII, and
// Greek and Cyrillic, so that titles in those scripts keep readable slugs.
var transliterations = map[rune]string{
	'ß': "ss", 'æ': "ae", 'ø': "o", 'œ': "oe", 'ł': "l", 'đ': "d", 'ð': "d", 'þ': "th", 'ı': "i", 'ŀ': "l",
	'&': " and ", '\'': "", '’': "", // "it's" → its, not it-s
	// Cyrillic (a common practical romanization).
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "e", 'ж': "zh", 'з': "z", 'и': "i",
	'й': "y", 'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t",
	'у': "u", 'ф': "f", 'х': "kh", 'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "shch", 'ъ': "", 'ы': "y", 'ь': "",
	'э': "e", 'ю': "yu", 'я': "ya", 'є': "ye", 'і': "i", 'ї': "yi", 'ґ': "g",
	// Greek (after accents are stripped).
	'α': "a", 'β': "v", 'γ': "g", 'δ': "d", 'ε': "e", 'ζ': "z", 'η': "i", 'θ': "th", 'ι': "i", 'κ': "k",
	'λ': "l", 'μ': "m", 'ν': "n", 'ξ': "x", 'ο': "o", 'π': "p", 'ρ': "r", 'σ': "s", 'ς': "s", 'τ': "t",
	'υ': "y", 'φ': "f", 'χ': "ch", 'ψ': "ps", 'ω': "o",
}

// foldWords lower-cases s, folds it to ASCII and returns its words of a-z
// and 0-9. Characters with no ASCII form (Chinese, Arabic, emoji) separate
// words and are otherwise dropped.
func foldWords(s string) []string {
	// Transliterate before and after stripping accents: й must not lose its
	// breve to become и, and ά must lose its accent to become α.
	s = transliterate(norm.NFC.String(strings.ToLower(s)))
	if folded, _, err := transform.String(stripMarks(), s); err == nil {
		s = transliterate(folded)
	}
	return strings.FieldsFunc(s, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9')
	})
}

func transliterate(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if t, ok := transliterations[r]; ok {
			b.WriteString(t)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Slugify derives a slug from a title: lower case, ASCII-folded words
// joined by hyphens, cut at a word boundary to MaxSlug. It returns "" when
// nothing usable is left (a title in Chinese, say); the caller then falls
// back to a generated slug.
func Slugify(title string) string {
	var b strings.Builder
	for _, w := range foldWords(title) {
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

// titleKey is the search form of a title: folded words, space separated,
// with a leading space so that a word prefix matches " word".
func titleKey(title string) string {
	words := foldWords(title)
	if len(words) == 0 {
		return ""
	}
	return " " + strings.Join(words, " ")
}
