// Package search is a small in-process full-text index over published
// articles. Neither engine offers a portable text search ($text does not
// exist on the embedded one), and the published set of a wellness site fits
// in memory many times over, so the content API keeps its own index,
// rebuilt from the database at start and updated on every write. It also
// holds the text fold that slugs and the authoring list share with it.
package search

import (
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/mozillazg/go-unidecode"
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
	mu sync.RWMutex
	// postings are word -> document number -> weight. Documents are
	// numbered (nums, ids) because a posting is kept for every distinct
	// word of every article: keyed by a 4-byte number rather than the
	// article's ID string, the postings of 10,000 articles took about a
	// third of the 40 MB they did.
	// Words are numbered too (wordNums, words), so that each document's
	// list of its words, kept for its removal (docWords), takes 4 bytes a
	// word: a string handle took 8, a third of the index.
	postings  []map[uint32]int32 // word number -> document number -> weight
	wordNums  map[string]uint32  // word -> number
	words     []string           // number -> word ("" when free)
	freeWords []uint32
	nums      map[string]uint32 // doc ID -> number
	ids       []string          // number -> doc ID ("" when free)
	free      []uint32          // numbers of removed documents, for reuse
	docWords  [][]uint32        // document number -> its word numbers
	sorted    []string          // every word, sorted, for prefix matches
	dirty     bool              // sorted is stale
}

// New returns an empty index.
func New() *Index {
	return &Index{wordNums: map[string]uint32{}, nums: map[string]uint32{}}
}

// eachWord calls f with every word of d, field by field (title, tags,
// summary, body), with the weight of its field. It is the one definition
// of what of an article is searchable: the index weighs these words, and
// Terms lists them for stores that search without the index.
func (d Doc) eachWord(f func(w string, weight int)) {
	for _, w := range Words(d.Title) {
		f(w, weightTitle)
	}
	for _, tag := range d.Tags {
		for _, w := range Words(strings.ReplaceAll(tag, "-", " ")) {
			f(w, weightTag)
		}
	}
	for _, w := range Words(d.Summary) {
		f(w, weightSummary)
	}
	for _, w := range Words(d.Body) {
		f(w, weightBody)
	}
}

// Terms lists the distinct words of d, in the order eachWord meets them,
// each cut to maxWord bytes, until they would take more than maxBytes
// (counting one separator per word). A store that keeps them with the
// document and matches query words as MatchTerm says finds what Search
// finds, ranking aside; the bounds keep such a key small beside the
// document however long or strange its body.
func (d Doc) Terms(maxWord, maxBytes int) []string {
	var out []string
	seen := map[string]bool{}
	size := 0
	full := false
	d.eachWord(func(w string, _ int) {
		if full {
			return
		}
		if len(w) > maxWord {
			w = w[:maxWord]
		}
		if seen[w] {
			return
		}
		if size+len(w)+1 > maxBytes {
			full = true
			return
		}
		seen[w] = true
		size += len(w) + 1
		out = append(out, w)
	})
	return out
}

// MatchesPrefix reports whether the query word term also matches the
// words it begins, not only itself: Search's rule, which a store searching
// Terms applies too.
func MatchesPrefix(term string) bool { return utf8.RuneCountInString(term) >= minPrefixLen }

// Put adds d, replacing any earlier version of it.
func (ix *Index) Put(d Doc) {
	weights := map[string]int{}
	body := map[string]int{}
	d.eachWord(func(w string, weight int) {
		if weight == weightBody {
			if body[w] >= maxBodyCount {
				return
			}
			body[w]++
		}
		weights[w] += weight
	})

	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.removeLocked(d.ID)
	n := ix.number(d.ID)
	list := make([]uint32, 0, len(weights))
	for w, wt := range weights {
		wn, ok := ix.wordNums[w]
		if !ok {
			wn = ix.wordNumber(w)
		}
		ix.postings[wn][n] = int32(wt)
		list = append(list, wn)
	}
	ix.docWords[n] = list
}

// wordNumber numbers the new word w: a removed word's number, or the next.
func (ix *Index) wordNumber(w string) uint32 {
	// A copy: Words cuts w from the folded text of the whole article,
	// which the substring would keep alive.
	w = strings.Clone(w)
	var wn uint32
	if k := len(ix.freeWords); k > 0 {
		wn, ix.freeWords = ix.freeWords[k-1], ix.freeWords[:k-1]
		ix.words[wn] = w
		ix.postings[wn] = map[uint32]int32{}
	} else {
		wn = uint32(len(ix.words))
		ix.words = append(ix.words, w)
		ix.postings = append(ix.postings, map[uint32]int32{})
	}
	ix.wordNums[w] = wn
	ix.dirty = true
	return wn
}

// number gives id a document number: a removed document's, or the next.
func (ix *Index) number(id string) uint32 {
	var n uint32
	if k := len(ix.free); k > 0 {
		n, ix.free = ix.free[k-1], ix.free[:k-1]
		ix.ids[n] = id
	} else {
		n = uint32(len(ix.ids))
		ix.ids = append(ix.ids, id)
		ix.docWords = append(ix.docWords, nil)
	}
	ix.nums[id] = n
	return n
}

// Remove drops the document id.
func (ix *Index) Remove(id string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.removeLocked(id)
}

func (ix *Index) removeLocked(id string) {
	n, ok := ix.nums[id]
	if !ok {
		return
	}
	for _, wn := range ix.docWords[n] {
		p := ix.postings[wn]
		delete(p, n)
		if len(p) == 0 {
			delete(ix.wordNums, ix.words[wn])
			ix.words[wn], ix.postings[wn] = "", nil
			ix.freeWords = append(ix.freeWords, wn)
			ix.dirty = true
		}
	}
	ix.docWords[n] = nil
	delete(ix.nums, id)
	ix.ids[n] = ""
	ix.free = append(ix.free, n)
}

// Len is the number of documents indexed.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.nums)
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
		for w := range ix.wordNums {
			ix.sorted = append(ix.sorted, w)
		}
		sort.Strings(ix.sorted)
		ix.dirty = false
	}
	ix.mu.Unlock()

	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var scores map[uint32]int
	for _, t := range terms {
		best := map[uint32]int{} // doc -> best weight for this term
		add := func(w string, exact bool) {
			wn, ok := ix.wordNums[w]
			if !ok {
				return
			}
			for n, w32 := range ix.postings[wn] {
				wt := int(w32)
				if !exact {
					wt = (wt + 1) / 2 // a prefix match counts half
				}
				if wt > best[n] {
					best[n] = wt
				}
			}
		}
		add(t, true)
		if MatchesPrefix(t) {
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
		for n := range scores { // every term must match
			if wt, ok := best[n]; ok {
				scores[n] += wt
			} else {
				delete(scores, n)
			}
		}
	}
	hits := make([]Hit, 0, len(scores))
	for n, s := range scores {
		hits = append(hits, Hit{ID: ix.ids[n], Score: s})
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].ID < hits[j].ID
	})
	return hits
}

// Fold is the one text fold of the CMS: slugs, the authoring list's title
// search and this index all see text through it, so a title is found by
// the words its slug is made of. It lower-cases s and spells it in ASCII:
// accents go ("Crème Brûlée" → "creme brulee"), letters of other scripts
// are romanized by the Unidecode tables of go-unidecode ("Массаж" →
// "massazh", "按摩" → "an mo "), and an apostrophe does not split a word
// ("it's" → "its", like the romanization's own signs for ь or ع).
// Anything that is not a letter, digit or mark (punctuation, symbols,
// emoji, invalid UTF-8) becomes a space, so it separates words; ASCII
// punctuation is kept as it is. The output is at most a small constant
// times longer than s.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	run := -1 // start of the current run of non-ASCII letters, digits and marks
	flush := func(end int) {
		if run >= 0 {
			romanize(&b, s[run:end])
			run = -1
		}
	}
	for i, r := range s { // an invalid byte ranges as U+FFFD, a symbol
		switch {
		case r < utf8.RuneSelf:
			flush(i)
			if c := byte(r); c != '\'' {
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				b.WriteByte(c)
			}
		case r == '’' || r == 'ʼ': // apostrophes, typeset
			flush(i)
		case unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r):
			if run < 0 {
				run = i
			}
		default:
			flush(i)
			b.WriteByte(' ')
		}
	}
	flush(len(s))
	return b.String()
}

// romanize writes the lower-case ASCII spelling of run, a run of letters,
// digits and marks. The tables write some letters as apostrophes, quotes
// or backticks (ь and ъ → ', ҍ → ", ע → `); they are signs within a word,
// so they are dropped.
func romanize(b *strings.Builder, run string) {
	ascii := unidecode.Unidecode(run)
	for i := 0; i < len(ascii); i++ {
		switch c := ascii[i]; {
		case c == '\'' || c == '"' || c == '`':
		case 'A' <= c && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
}

// Words splits s into its folded words: the runs of a-z and 0-9 that Fold
// leaves. Slugs join them with hyphens, the authoring list matches them
// against titles and this index against articles.
func Words(s string) []string {
	return strings.FieldsFunc(Fold(s), func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9')
	})
}
