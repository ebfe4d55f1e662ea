package admin

import (
	"html"
	"regexp"
	"strings"
	"testing"
)

var (
	insPart = regexp.MustCompile(`(?s)<ins>.*?</ins>`)
	delPart = regexp.MustCompile(`(?s)<del>.*?</del>`)
	marks   = regexp.MustCompile(`</?(ins|del)>`)
)

// sides takes a diff apart again: without its insertions it is the old
// text, without its deletions the new one.
func sides(d string) (before, after string) {
	before = html.UnescapeString(marks.ReplaceAllString(insPart.ReplaceAllString(d, ""), ""))
	after = html.UnescapeString(marks.ReplaceAllString(delPart.ReplaceAllString(d, ""), ""))
	return before, after
}

func TestWordDiff(t *testing.T) {
	for _, tc := range []struct{ a, b, want string }{
		{"Warm stones relax muscles.", "Heated stones relax muscles.", "<del>Warm</del><ins>Heated</ins> stones relax muscles."},
		{"same", "same", "same"},
		{"", "new text", "<ins>new text</ins>"},
		{"<b>x</b>", "<b>y</b>", "&lt;b&gt;<del>x</del><ins>y</ins>&lt;/b&gt;"},
	} {
		if got := string(wordDiff(tc.a, tc.b)); got != tc.want {
			t.Errorf("wordDiff(%q, %q) = %q, want %q", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestReadable(t *testing.T) {
	got := readable(`<h2>Why</h2><p>Press <a href="https://example.com/a">here</a> gently.</p><ol><li>One</li><li>Two</li></ol><img src="/media/x.jpg" alt="Stones">`)
	want := "Why\nPress here (https://example.com/a) gently.\nOne\nTwo\n[image: Stones]"
	if got != want {
		t.Errorf("readable = %q, want %q", got, want)
	}
}

// FuzzWordDiff: whatever the texts, the diff is escaped markup that gives
// both texts back (NUL aside: it is written as U+FFFD).
func FuzzWordDiff(f *testing.F) {
	f.Add("Warm stones relax muscles.", "Heated stones relax tight muscles!")
	f.Add("<script>alert(1)</script>", "</del><ins>")
	f.Add("é ü 日本", "日本 é")
	f.Fuzz(func(t *testing.T, a, b string) {
		if !validUTF8(a) || !validUTF8(b) {
			t.Skip()
		}
		d := string(wordDiff(a, b))
		if strings.Contains(marks.ReplaceAllString(d, ""), "<") {
			t.Fatalf("unescaped markup in %q", d)
		}
		// Escaping writes a NUL as U+FFFD, as an HTML parser would read it.
		nul := strings.NewReplacer("\x00", "\uFFFD")
		before, after := sides(d)
		if before != nul.Replace(a) || after != nul.Replace(b) {
			t.Fatalf("diff %q gives back %q and %q, not %q and %q", d, before, after, a, b)
		}
	})
}

// FuzzReadable: any body, however broken, turns into text without a tag.
func FuzzReadable(f *testing.F) {
	f.Add(`<p>One <a href="x">two</p></a><li>three`)
	f.Add(`<img alt="<b>">`)
	f.Fuzz(func(t *testing.T, body string) {
		_ = readable(body)
	})
}

// FuzzLocalPath: a page a sign-in may return to is always a path under
// /admin/ of this host.
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/admin/articles", "//evil.example", "/admin/../x", "/admin/\\evil", "https://evil/admin/", "/admin/%2e%2e/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		if !localPath(next) {
			return
		}
		if !strings.HasPrefix(next, "/admin/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
			t.Fatalf("localPath(%q) is true", next)
		}
	})
}

func validUTF8(s string) bool { return strings.ToValidUTF8(s, "") == s }
