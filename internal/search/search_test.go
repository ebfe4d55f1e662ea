package search

import (
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestFold pins the one fold that slugs, the authoring list and the
// public search share: every script comes out as lower-case ASCII words.
func TestFold(t *testing.T) {
	tests := []struct {
		name, in, fold string
		words          []string
	}{
		{"latin accents", "Crème Brûlée", "creme brulee", []string{"creme", "brulee"}},
		{"case", "MASSAGE", "massage", []string{"massage"}},
		{"german", "Straße ẞ", "strasse ss", []string{"strasse", "ss"}},
		{"nordic and polish", "Øresund Ærø, Ćwiczenia łydek", "oresund aero, cwiczenia lydek", []string{"oresund", "aero", "cwiczenia", "lydek"}},
		{"decomposed accent", "cafe\u0301", "cafe", []string{"cafe"}},
		{"cyrillic", "Массаж при хронической боли", "massazh pri khronicheskoi boli", []string{"massazh", "pri", "khronicheskoi", "boli"}},
		{"cyrillic signs stay in the word", "Объём, боль", "obiom, bol", []string{"obiom", "bol"}},
		{"greek", "Μασάζ για πόνο", "masaz gia pono", []string{"masaz", "gia", "pono"}},
		{"chinese", "慢性疼痛的按摩", "man xing teng tong de an mo ", []string{"man", "xing", "teng", "tong", "de", "an", "mo"}},
		{"japanese", "ひらがな", "hiragana", []string{"hiragana"}},
		{"korean", "한국어", "hangugeo", []string{"hangugeo"}},
		{"arabic", "مساج", "msj", []string{"msj"}},
		{"emoji separate words", "massage💆relief 🧘‍♀️", "massage relief    ", []string{"massage", "relief"}},
		{"mixed", "按摩 Massage-2026 für Rücken!", "an mo  massage-2026 fur rucken!", []string{"an", "mo", "massage", "2026", "fur", "rucken"}},
		{"apostrophes", "it's Women’s", "its womens", []string{"its", "womens"}},
		{"compatibility forms", "ﬁne ＦＵＬＬ Ⅻ", "fine full xii", []string{"fine", "full", "xii"}},
		{"punctuation", "Neck-pain: 5 stretches (and more)!", "neck-pain: 5 stretches (and more)!", []string{"neck", "pain", "5", "stretches", "and", "more"}},
		{"invalid utf-8 separates", "\xf0Crème", " creme", []string{"creme"}},
		{"nothing", "!!! 💆", "!!!  ", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Fold(tt.in); got != tt.fold {
				t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.fold)
			}
			if got := Words(tt.in); !reflect.DeepEqual(got, tt.words) {
				t.Errorf("Words(%q) = %q, want %q", tt.in, got, tt.words)
			}
		})
	}
}

func ids(hits []Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

func TestSearchRankingAndMatching(t *testing.T) {
	ix := New()
	ix.Put(Doc{ID: "body", Title: "Living with back pain", Body: "A gentle massage can help. " + strings.Repeat("Rest and heat. ", 20)})
	ix.Put(Doc{ID: "title", Title: "Massage for chronic pain relief", Body: "Headed sections about relief."})
	ix.Put(Doc{ID: "tag", Title: "Sleep better", Tags: []string{"deep-tissue-massage"}, Body: "Sleep hygiene."})
	ix.Put(Doc{ID: "accent", Title: "Crème for sore muscles", Summary: "Thérapie douce"})

	tests := []struct {
		q    string
		want []string
	}{
		{"massage", []string{"title", "tag", "body"}}, // title above tag above body
		{"MASSAGE pain", []string{"title", "body"}},   // every word must match
		{"creme", []string{"accent"}},                 // accent-insensitive
		{"thérapie", []string{"accent"}},
		{"therapie DOUCE", []string{"accent"}},
		{"mass", []string{"title", "tag", "body"}}, // prefix
		{"ma", nil}, // too short for a prefix
		{"yoga", nil},
		{"", nil},
		{"  !!! ", nil},
	}
	for _, tt := range tests {
		if got := ids(ix.Search(tt.q)); !reflect.DeepEqual(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
			t.Errorf("Search(%q) = %v, want %v", tt.q, got, tt.want)
		}
	}
}

// TestSearchOtherScripts: the index holds the folded words, so a query in
// the title's script finds it, case-insensitively and by prefix, and so
// does the romanized spelling its slug shows.
func TestSearchOtherScripts(t *testing.T) {
	ix := New()
	ix.Put(Doc{ID: "ru", Title: "Массаж при хронической боли"})
	ix.Put(Doc{ID: "el", Title: "Μασάζ για πόνο"})
	ix.Put(Doc{ID: "zh", Title: "慢性疼痛的按摩"})
	tests := []struct {
		q    string
		want []string
	}{
		{"массаж", []string{"ru"}},
		{"МАССАЖ боли", []string{"ru"}},
		{"хрон", []string{"ru"}}, // prefix
		{"massazh", []string{"ru"}},
		{"μασάζ", []string{"el"}},
		{"μασαζ ΠΟΝΟ", []string{"el"}}, // accents and case
		{"按摩", []string{"zh"}},
		{"疼痛 按摩", []string{"zh"}},
		{"💆", nil},
	}
	for _, tt := range tests {
		if got := ids(ix.Search(tt.q)); !reflect.DeepEqual(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
			t.Errorf("Search(%q) = %v, want %v", tt.q, got, tt.want)
		}
	}
}

func TestPutReplacesAndRemoveForgets(t *testing.T) {
	ix := New()
	ix.Put(Doc{ID: "a", Title: "Stretching for runners"})
	ix.Put(Doc{ID: "a", Title: "Foam rolling for runners"})
	if got := ix.Search("stretching"); len(got) != 0 {
		t.Fatalf("old words still match: %v", got)
	}
	if got := ids(ix.Search("foam")); !reflect.DeepEqual(got, []string{"a"}) {
		t.Fatalf("new words: %v", got)
	}
	ix.Remove("a")
	if ix.Len() != 0 || len(ix.Search("runners")) != 0 || len(ix.wordNums) != 0 {
		t.Fatalf("removed document still indexed: %d docs, %d words", ix.Len(), len(ix.wordNums))
	}
}

func TestConcurrentUse(t *testing.T) {
	ix := New()
	done := make(chan bool)
	go func() {
		for i := 0; i < 200; i++ {
			ix.Put(Doc{ID: fmt.Sprint(i % 20), Title: fmt.Sprintf("massage number %d", i)})
		}
		done <- true
	}()
	for i := 0; i < 200; i++ {
		ix.Search("massage")
	}
	<-done
	if n := len(ix.Search("massage")); n != 20 {
		t.Fatalf("%d hits, want 20", n)
	}
}

func BenchmarkSearch(b *testing.B) {
	ix := New()
	words := strings.Fields("massage pain relief neck back shoulder stretch sleep posture therapy physio knee hip yoga heat ice rest breathing")
	for i := 0; i < 1000; i++ {
		var body strings.Builder
		for j := 0; j < 1200; j++ {
			body.WriteString(words[(i*7+j*13)%len(words)] + " ")
		}
		ix.Put(Doc{ID: fmt.Sprint(i), Title: words[i%len(words)] + " guide " + fmt.Sprint(i), Body: body.String()})
	}
	b.ResetTimer()
	for b.Loop() {
		ix.Search("neck stretch")
	}
}

// TestRemovedNumbersAreReused: a removed document's number goes to the
// next one put, and no hit ever names the wrong document or a removed one.
func TestRemovedNumbersAreReused(t *testing.T) {
	ix := New()
	ix.Put(Doc{ID: "a", Title: "massage"})
	ix.Put(Doc{ID: "b", Title: "massage stretching"})
	ix.Remove("a")
	ix.Put(Doc{ID: "c", Title: "stretching"})
	ix.Put(Doc{ID: "b", Title: "posture"}) // replaced: its old words go
	ix.Remove("missing")
	for q, want := range map[string][]string{"massage": nil, "stretching": {"c"}, "posture": {"b"}} {
		var got []string
		for _, h := range ix.Search(q) {
			got = append(got, h.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("Search(%q) = %v, want %v", q, got, want)
		}
	}
	if ix.Len() != 2 {
		t.Errorf("Len = %d, want 2", ix.Len())
	}
}

// BenchmarkIndexMemory reports the heap the index holds per document for
// 5,000 articles of about 1,200 body words drawn from a vocabulary of
// 4,000, a few hundred distinct words each (the size of the load
// benchmark's articles).
func BenchmarkIndexMemory(b *testing.B) {
	vocab := make([]string, 4000)
	for i := range vocab {
		vocab[i] = fmt.Sprintf("w%dx%c", i, 'a'+i%26)
	}
	docs := make([]Doc, 5000)
	for i := range docs {
		var body strings.Builder
		for j := 0; j < 1200; j++ {
			k := (i*31 + j*j*7 + j) % 400 // ~400 distinct words an article ...
			body.WriteString(vocab[(k*9+i)%len(vocab)] + " ")
		}
		docs[i] = Doc{ID: fmt.Sprintf("%024x", i), Title: vocab[i%len(vocab)] + " guide", Summary: "a summary of " + vocab[(i*3)%len(vocab)], Tags: []string{"massage", "pain"}, Body: body.String()}
	}
	var perDoc float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ix := New()
		for _, d := range docs {
			ix.Put(d)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perDoc = float64(after.HeapAlloc-before.HeapAlloc) / float64(len(docs))
		runtime.KeepAlive(ix)
	}
	b.ReportMetric(perDoc, "B/doc")
}

// BenchmarkIndexReplace is the cost of putting a new version of one of
// 5,000 indexed articles: its old postings are found by asking every
// word's.
func BenchmarkIndexReplace(b *testing.B) {
	ix := New()
	for i := range 5000 {
		var body strings.Builder
		for j := range 300 {
			fmt.Fprintf(&body, "w%d ", (i*7+j*13)%60000) // 60,000 distinct words in all
		}
		ix.Put(Doc{ID: fmt.Sprint(i), Title: "guide", Body: body.String()})
	}
	d := Doc{ID: "42", Title: "guide", Body: "massage for neck pain"}
	b.ResetTimer()
	for b.Loop() {
		ix.Put(d)
	}
}

// TestRemovedWordsAreReused: a word no document holds any more gives its
// number to the next new word, and neither word finds the other's
// documents.
func TestRemovedWordsAreReused(t *testing.T) {
	ix := New()
	ix.Put(Doc{ID: "a", Title: "acupressure"})
	ix.Put(Doc{ID: "b", Title: "yoga"})
	ix.Put(Doc{ID: "a", Title: "pilates"}) // acupressure is gone, pilates takes its number
	if len(ix.freeWords) != 0 || len(ix.words) != 2 {
		t.Fatalf("%d word numbers, %d free; want 2 and none free (reused)", len(ix.words), len(ix.freeWords))
	}
	for q, want := range map[string][]string{"acupressure": nil, "pilates": {"a"}, "yoga": {"b"}, "pil": {"a"}} {
		if got := ids(ix.Search(q)); !slices.Equal(got, want) {
			t.Errorf("Search(%q) = %v, want %v", q, got, want)
		}
	}
}
