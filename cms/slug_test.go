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
		{"Массаж при хронической боли", "massazh-pri-khronicheskoy-boli"},
		{"Йога", "yoga"},
		{"Μασάζ για πόνο", "masaz-gia-pono"},
		{"慢性疼痛的按摩", ""},
		{"مساج لتخفيف الألم", ""},
		{"🧘‍♀️💆", ""},
		{"按摩 Massage 2026", "massage-2026"},
		{"it's self-care", "its-self-care"},
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
	c := cms.Content{Title: "慢性疼痛的按摩", Slug: fb}
	c.Normalize()
	if err := c.Validate(testNow); err != nil || fb == "" {
		t.Errorf("fallback slug %q invalid: %v", fb, err)
	}
}

func TestTitleKey(t *testing.T) {
	if got := cms.TitleKey("Crème Brûlée, Massage!"); got != " creme brulee massage" {
		t.Errorf("TitleKey = %q", got)
	}
}
