package cms_test

import (
	"strings"
	"testing"

	"github.com/wellness/cms/cms"
)

func TestSlugify(t *testing.T) {
	tests := []struct{ title, want string }{
		{"Massage for chronic pain relief", "massage-for-chronic-pain-relief"},
		{"  10 Ways to Relax -- Today!  ", "10-ways-to-relax-today"},
		{"Crème brûlée & Café", "creme-brulee-and-cafe"},
		{"Straße, Æble, Øre, Łódź", "strasse-aeble-ore-lodz"},
		{"ﬁne ＦＵＬＬＷＩＤＴＨ", "fine-fullwidth"},
		{"Массаж при хронической боли", "massazh-pri-khronicheskoi-boli"},
		{"Йога", "ioga"},
		{"Объём", "obiom"}, // ъ and ь do not split a word
		{"Μασάζ για πόνο", "masaz-gia-pono"},
		{"慢性疼痛的按摩", "man-xing-teng-tong-de-an-mo"},
		{"مساج لتخفيف الألم", "msj-ltkhfyf-llm"},
		{"🧘‍♀️💆", ""},
		{"按摩 Massage 2026", "an-mo-massage-2026"},
		{"it's self-care", "its-self-care"},
		{"Women’s health", "womens-health"},
		{strings.Repeat("word ", 30), strings.TrimSuffix(strings.Repeat("word-", 16), "-")},
		{strings.Repeat("a", 100), strings.Repeat("a", 80)},
	}
	for _, tt := range tests {
		got := cms.Slugify(tt.title)
		if got != tt.want {
			t.Errorf("Slugify(%q) = %q, want %q", tt.title, got, tt.want)
		}
		if len(got) > cms.MaxSlug {
			t.Errorf("Slugify(%q) is %d long", tt.title, len(got))
		}
		if got != "" {
			c := cms.Content{Title: "t", Slug: got}
			c.Normalize()
			if err := c.Validate(testNow); err != nil {
				t.Errorf("derived slug %q is not valid: %v", got, err)
			}
		}
	}
	// A title that folds to nothing still gets a usable, valid slug.
	fb := cms.FallbackSlug("65f0c0ffee0000000000abcd")
	c := cms.Content{Title: "🧘‍♀️💆", Slug: fb}
	c.Normalize()
	if err := c.Validate(testNow); err != nil || fb == "" {
		t.Errorf("fallback slug %q invalid: %v", fb, err)
	}
}

// FuzzSlugify derives slugs from arbitrary titles: a derived slug is empty
// or valid as an explicit slug, at most MaxSlug long, and deriving it again
// from itself gives it back.
func FuzzSlugify(f *testing.F) {
	for _, seed := range []string{
		"Massage for chronic pain relief", "Crème brûlée & Café", "Массаж при хронической боли", "Μασάζ για πόνο",
		"慢性疼痛的按摩", "🧘‍♀️💆", "it's self-care", strings.Repeat("word ", 30), strings.Repeat("a", 100),
		"\xff\xfe invalid utf-8", "ǅemal ﬁ Ⅻ ㎞", "a\u0301\u0301\u0301", "--a--b--",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, title string) {
		slug := cms.Slugify(title)
		if len(slug) > cms.MaxSlug {
			t.Fatalf("Slugify(%q) = %q is %d long", title, slug, len(slug))
		}
		if slug != "" {
			c := cms.Content{Title: "t", Slug: slug}
			c.Normalize()
			if err := c.Validate(testNow); err != nil {
				t.Fatalf("Slugify(%q) = %q is not a valid slug: %v", title, slug, err)
			}
			if again := cms.Slugify(slug); again != slug {
				t.Fatalf("Slugify(%q) = %q, but Slugify of that is %q", title, slug, again)
			}
		}
	})
}
