package search

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzWords: tokenizing never panics, every token is already folded (so
// indexing and querying agree on it), and the output stays proportional
// to the input.
func FuzzWords(f *testing.F) {
	for _, s := range []string{
		"", "Crème Brûlée", "Neck-pain: 5 stretches (and more)!", "Straße ẞ", "İstanbul ı",
		"Øresund Ærø", "한국어 텍스트", "日本語", "e" + strings.Repeat("\u0301", 100), "\xff\xfe",
		"Ⅻ ⅻ ① K Å", "ǅ ǈ ǋ", "ﬁ ﬀ", "\u0345\u0399", "a\u200db",
		"\xf0á", // found by this target: text after a broken byte kept its accent
		"Массаж объём", "Μασάζ", "慢性疼痛的按摩", "مساج", "it's Women’s", "\u0489\u0488", "a💆b\xffc",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		folded := Fold(s)
		if again := Fold(folded); again != folded {
			t.Fatalf("Fold(%q) = %q, folded again %q", s, folded, again)
		}
		// The longest romanization of a rune is a few times its bytes
		// (U+0489, two bytes, is eleven); anything beyond a constant factor
		// would be a pathological expansion.
		if len(folded) > 16*len(s)+16 {
			t.Fatalf("Fold(%q) grew from %d to %d bytes", s, len(s), len(folded))
		}
		words := Words(s)
		for _, w := range words {
			if w == "" || !utf8.ValidString(w) {
				t.Fatalf("Words(%q) has token %q", s, w)
			}
			if Fold(w) != w {
				t.Fatalf("Words(%q) has unfolded token %q (folds to %q)", s, w, Fold(w))
			}
			if got := Words(w); len(got) != 1 || got[0] != w {
				t.Fatalf("Words(%q) has token %q that tokenizes to %q", s, w, got)
			}
		}
		// Tokenizing the folded text gives the same words: the index
		// (which sees stored text) and the query (which sees typed text)
		// agree.
		if got := Words(folded); strings.Join(got, " ") != strings.Join(words, " ") {
			t.Fatalf("Words(%q) = %q, but Words(Fold) = %q", s, words, got)
		}
	})
}

// BenchmarkWords measures tokenizing on plain text, on long runs of
// combining marks and on text the tables romanize; MB/s should stay about the
// same from 1 KiB to 1 MiB, i.e. the cost is linear.
func BenchmarkWords(b *testing.B) {
	units := []struct{ name, text string }{
		{"text", "Gentle massage eases chronic neck pain. "},
		{"marks", "e" + strings.Repeat("\u0301\u0323", 20)},
		{"cyrillic", "Массаж снимает хроническую боль в шее. "},
	}
	sizes := []struct {
		name string
		n    int
	}{{"1KiB", 1 << 10}, {"64KiB", 1 << 16}, {"1MiB", 1 << 20}}
	for _, u := range units {
		for _, sz := range sizes {
			s := strings.ToValidUTF8(strings.Repeat(u.text, sz.n/len(u.text)+1)[:sz.n], "")
			b.Run(u.name+"/"+sz.name, func(b *testing.B) {
				b.SetBytes(int64(len(s)))
				for b.Loop() {
					Words(s)
				}
			})
		}
	}
}
