// Package search is a small in-process full-text index over published
// articles. Neither engine offers a portable text search ($text does not
// exist on the embedded one), and the published set of a wellness site fits
// in memory many times over, so the content API keeps its own index,
// rebuilt from the database at start and updated on every write.
package search

import (
	"sort"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Doc is the searchable text of one article.
type Doc struct {
	ID      string
	Title   string
	Summary string
	Tags    []string
	Body    string // plain text
}

// Field weights: a word in the title counts far more than one in the body,
// so "massage" ranks an article about massage above one that mentions it.
const (
	weightTitle   = 16
	weightTag     = 8
	weightSummary = 4
	weightBody    = 1
	maxBodyCount  = 8 // a word repeated in the body stops adding after this
	minPrefixLen  = 3 // query words this long also match longer words
)

// Index maps folded words to the documents holding them. It is safe for
// concurrent use.
type Index struct {
	mu       sync.RWMutex
	postings map[string]map[string]int // word -> doc ID -> weight
	words    map[string][]string       // doc ID -> its words, for removal
	sorted   []string                  // every word, sorted, for prefix matches
	dirty    bool                      // sorted is stale
}

// New returns an empty index.
func New() *Index {
	return &Index{postings: map[string]map[string]int{}, words: map[string][]string{}}
}

// Put adds d, replacing any earlier version of it.
func (ix *Index) Put(d Doc) {
	weights := map[string]int{}
	for _, w := range Words(d.Title) {
		weights[w] += weightTitle
	}
	for _, tag := range d.Tags {
		for _, w := range Words(strings.ReplaceAll(tag, "-", " ")) {
			weights[w] += weightTag
		}
	}
	for _, w := range Words(d.Summary) {
		weights[w] += weightSummary
	}
	body := map[string]int{}
	for _, w := range Words(d.Body) {
		if body[w] < maxBodyCount {
			body[w]++
		}
	}
	for w, n := range body {
		weights[w] += n * weightBody
	}

	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.removeLocked(d.ID)
	list := make([]string, 0, len(weights))
	for w, wt := range weights {
		p := ix.postings[w]
		if p == nil {
			p = map[string]int{}
			ix.postings[w] = p
			ix.dirty = true
		}
		p[d.ID] = wt
		list = append(list, w)
	}
	ix.words[d.ID] = list
}

// Remove drops the document id.
func (ix *Index) Remove(id string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.removeLocked(id)
}

func (ix *Index) removeLocked(id string) {
	for _, w := range ix.words[id] {
		p := ix.postings[w]
		delete(p, id)
		if len(p) == 0 {
			delete(ix.postings, w)
			ix.dirty = true
		}
	}
	delete(ix.words, id)
}

// Len is the number of documents indexed.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.words)
}

// Hit is a matching document and its score.
type Hit struct {
	ID    string
	Score int
}

// Search returns the documents that match every word of q, best first
// (ties in ID order; callers usually re-sort ties by date). A query word
// of three or more letters also matches words it begins: "stretch" finds
// "stretching".
func (ix *Index) Search(q string) []Hit {
	terms := Words(q)
	if len(terms) == 0 {
		return nil
	}
	ix.mu.Lock()
	if ix.dirty {
		ix.sorted = ix.sorted[:0]
		for w := range ix.postings {
			ix.sorted = append(ix.sorted, w)
		}
		sort.Strings(ix.sorted)
		ix.dirty = false
	}
	ix.mu.Unlock()

	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var scores map[string]int
	for _, t := range terms {
		best := map[string]int{} // doc -> best weight for this term
		add := func(w string, exact bool) {
			for id, wt := range ix.postings[w] {
				if !exact {
					wt = (wt + 1) / 2 // a prefix match counts half
				}
				if wt > best[id] {
					best[id] = wt
				}
			}
		}
		add(t, true)
		if len([]rune(t)) >= minPrefixLen {
			i := sort.SearchStrings(ix.sorted, t)
			for ; i < len(ix.sorted) && strings.HasPrefix(ix.sorted[i], t); i++ {
				if ix.sorted[i] != t {
					add(ix.sorted[i], false)
				}
			}
		}
		if scores == nil {
			scores = best
			continue
		}
		for id := range scores { // every term must match
			if wt, ok := best[id]; ok {
				scores[id] += wt
			} else {
				delete(scores, id)
			}
		}
	}
	hits := make([]Hit, 0, len(scores))
	for id, s := range scores {
		hits = append(hits, Hit{ID: id, Score: s})
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].ID < hits[j].ID
	})
	return hits
}

// letterMap spells out letters that Unicode decomposition leaves whole.
var letterMap = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'ł': "l", 'đ': "d", 'ð': "d", 'þ': "th", 'ı': "i",
}

// Fold lower-cases s and removes accents: "Crème Brûlée" → "creme brulee".
// Invalid UTF-8 (a query string may decode to it) becomes U+FFFD first:
// the normalizer leaves text after a broken byte undecomposed, so "\xf0á"
// would keep its accent.
func Fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToValidUTF8(s, "\uFFFD")) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		r = unicode.ToLower(r)
		if m, ok := letterMap[r]; ok {
			b.WriteString(m)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Words splits folded s into words of letters and digits.
func Words(s string) []string {
	return strings.FieldsFunc(Fold(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
}
