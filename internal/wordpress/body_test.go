package wordpress

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, want string
		rep            BodyReport
	}{
		{
			name: "massage article without paragraphs",
			in:   "Massage for chronic pain relief starts with a conversation.\n\n<h2>How it helps</h2>\nIt eases tight muscles.\nIt lowers stress.\n\n<ol>\n<li>Talk</li>\n<li>Warm up</li>\n</ol>\n\n<strong>Schedule an Appointment</strong>\nCall (555) 010-2030.\n\n[contact-form-7 id=\"12\" title=\"Booking\"]",
			want: "<p>Massage for chronic pain relief starts with a conversation.</p>\n\n<h2>How it helps</h2>\n<p>It eases tight muscles.<br>\nIt lowers stress.</p>\n\n<ol>\n<li>Talk</li>\n<li>Warm up</li>\n</ol>\n\n<p><strong>Schedule an Appointment</strong><br>\nCall (555) 010-2030.</p>",
			rep:  BodyReport{Shortcodes: []string{"contact-form-7"}},
		},
		{
			name: "caption with text after the image",
			in:   `[caption id="attachment_5" align="alignnone" width="300"]<img src="https://harbor-massage.example/a.jpg" alt="Back" width="300" /> Lower back work[/caption]`,
			want: `<figure><img src="https://harbor-massage.example/a.jpg" alt="Back" width="300" /><figcaption>Lower back work</figcaption></figure>`,
			rep:  BodyReport{Captions: 1},
		},
		{
			name: "caption around a linked image",
			in:   "Intro.\n\n[caption id=\"attachment_6\" width=\"300\"]<a href=\"https://x.example/big.jpg\"><img src=\"https://x.example/a.jpg\" /></a> Hot <em>stones</em>[/caption]",
			want: "<p>Intro.</p>\n\n<figure><a href=\"https://x.example/big.jpg\"><img src=\"https://x.example/a.jpg\" /></a><figcaption>Hot <em>stones</em></figcaption></figure>",
			rep:  BodyReport{Captions: 1},
		},
		{
			name: "caption attribute",
			in:   `[caption id="attachment_7" caption="Neck &amp; shoulders" width="300"]<img src="a.jpg" />[/caption]`,
			want: `<figure><img src="a.jpg" /><figcaption>Neck &amp; shoulders</figcaption></figure>`,
			rep:  BodyReport{Captions: 1},
		},
		{
			name: "caption without text",
			in:   `[CAPTION width="1"]<img src="a.jpg">[/caption]`,
			want: `<figure><img src="a.jpg"></figure>`,
			rep:  BodyReport{Captions: 1},
		},
		{
			name: "unclosed caption is removed like any shortcode",
			in:   `[caption id="x"]<img src="a.jpg"> text`,
			want: `<p><img src="a.jpg"> text</p>`,
			rep:  BodyReport{Shortcodes: []string{"caption"}},
		},
		{
			name: "enclosing shortcode keeps its content",
			in:   `Ready? [button url="https://x.example/book" color="green"]Book now[/button] [gallery ids="1,2"] [gallery]`,
			want: `<p>Ready? Book now</p>`,
			rep:  BodyReport{Shortcodes: []string{"button", "gallery"}},
		},
		{
			name: "self-closing shortcode",
			in:   "Before\n\n[et_pb_divider /]\n\nAfter",
			want: "<p>Before</p>\n\n<p>After</p>",
			rep:  BodyReport{Shortcodes: []string{"et_pb_divider"}},
		},
		{
			name: "escaped shortcode",
			in:   `Type [[gallery ids="1"]] to show a gallery.`,
			want: `<p>Type [gallery ids="1"] to show a gallery.</p>`,
		},
		{
			name: "not shortcodes",
			in:   `See [1], [ ], [x](https://example.com), [2024] and a [ref`,
			want: `<p>See [1], [ ], [x](https://example.com), [2024] and a [ref</p>`,
		},
		{
			name: "brackets in attributes, pre and code",
			in:   "<a href=\"https://x.example/?a[]=1\" title=\"[gallery]\">link</a> <code>[gallery]</code>\n\n<pre>[contact-form-7 id=\"1\"]\n\n  indented</pre>",
			want: "<p><a href=\"https://x.example/?a[]=1\" title=\"[gallery]\">link</a> <code>[gallery]</code></p>\n\n<pre>[contact-form-7 id=\"1\"]\n\n  indented</pre>",
		},
		{
			name: "gutenberg",
			in:   "<!-- wp:paragraph -->\n<p>Breathe in.</p>\n<!-- /wp:paragraph -->\n\n<!-- wp:heading {\"level\":3} -->\n<h3>Why</h3>\n<!-- /wp:heading -->\n\n<!-- wp:image {\"id\":5} /-->\n\n<!-- more -->\n<!-- wp:paragraph -->\n<p>Calm.</p>\n<!-- /wp:paragraph -->",
			want: "<p>Breathe in.</p>\n\n<h3>Why</h3>\n\n<!-- more -->\n<p>Calm.</p>",
			rep:  BodyReport{BlockComments: 7},
		},
		{
			name: "shortcode in a gutenberg shortcode block",
			in:   "<!-- wp:shortcode -->\n[contact-form-7 id=\"3\"]\n<!-- /wp:shortcode -->",
			want: "",
			rep:  BodyReport{Shortcodes: []string{"contact-form-7"}, BlockComments: 2},
		},
		{
			name: "already paragraphs",
			in:   "<p>One\nline.</p>\n<p>Two.</p>\n<blockquote><p>Quote.</p></blockquote>\n<table>\n<tr><td>a</td></tr>\n</table>",
			want: "<p>One<br>\nline.</p>\n<p>Two.</p>\n<blockquote><p>Quote.</p></blockquote>\n<table>\n<tr><td>a</td></tr>\n</table>",
		},
		{
			name: "blank lines inside a div",
			in:   "<div class=\"box\">\nFirst.\n\nSecond.\n</div>",
			want: "<div class=\"box\">\n<p>First.</p>\n\n<p>Second.</p>\n</div>",
		},
		{
			name: "CRLF",
			in:   "One\r\n\r\nTwo\r\nthree",
			want: "<p>One</p>\n\n<p>Two<br>\nthree</p>",
		},
		{
			name: "a made-up block comment is escaped",
			in:   "<[x]!-- wp:y -->",
			want: "<p>&lt;!-- wp:y --></p>",
			rep:  BodyReport{Shortcodes: []string{"x"}},
		},
		{name: "empty", in: " \n ", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rep := Clean(tt.in)
			if got != tt.want {
				t.Errorf("Clean(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if !reflect.DeepEqual(rep, tt.rep) {
				t.Errorf("report %+v, want %+v", rep, tt.rep)
			}
			if again := autop(got); again != got {
				t.Errorf("autop is not idempotent:\n%q\n%q", got, again)
			}
		})
	}
}

// TestCleanFixture cleans the clinic's article and checks what the
// importer relies on.
func TestCleanFixture(t *testing.T) {
	_, items := readAll(t, "clinic-1.2.xml")
	out, rep := Clean(byID(items)[101].Content)
	for _, s := range []string{
		"<p>Living with chronic pain",
		"<h2>How massage helps</h2>",
		"<p>Massage increases blood flow to sore tissue.<br>\nIt also lowers stress hormones.</p>",
		`<figure><img class="size-large wp-image-201" src="https://harbor-massage.example/wp-content/uploads/2024/03/back.jpg"`,
		"<figcaption>Deep tissue work on the lower back</figcaption></figure>",
		"<ol>\n\t<li>A short talk about your pain history</li>",
		"<p><strong>Schedule an Appointment</strong><br>\nCall us at (555) 010-2030 or use the form below.</p>",
		`<a href="https://amzn.to/3xYzAbC">`,
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "[") || strings.Contains(out, "<p><figure") || strings.Contains(out, "<p><h2") {
		t.Errorf("output:\n%s", out)
	}
	if !reflect.DeepEqual(rep, BodyReport{Shortcodes: []string{"contact-form-7"}, Captions: 1}) {
		t.Errorf("report %+v", rep)
	}
	out, rep = Clean(byID(items)[102].Content)
	if strings.Contains(out, "wp:") || !strings.Contains(out, "// ]]> is how CDATA ends") || rep.BlockComments != 17 || strings.Contains(out, "\n\n\n") {
		t.Errorf("gutenberg post: %+v\n%s", rep, out)
	}
}

// TestCleanLinear: adversarial bodies take time proportional to their size
// (a quadratic loop would take minutes at this size).
func TestCleanLinear(t *testing.T) {
	for _, unit := range []string{"[caption]", "[a ", "<a ", "<!--", "[[a]", "<pre>", "\n\n", "<div>", "[/caption]x", "<!-- wp:x", "%%a"} {
		s := strings.Repeat(unit, 200000)
		out, _ := Clean(s)
		if len(out) > 4*len(s)+100 {
			t.Errorf("%q: output %d bytes from %d", unit, len(out), len(s))
		}
		Expand(s, Vars{Title: "t"})
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{
		"Massage for chronic pain relief\n\n<h2>Why</h2>\nOne\ntwo",
		`[caption id="attachment_5" width="300"]<a href="x"><img src="a.jpg" /></a> Text[/caption]`,
		"<!-- wp:paragraph -->\n<p>x</p>\n<!-- /wp:paragraph -->",
		"[button]Book[/button] [[x]] [1] <pre>\n\n[x]</pre><code>[y]</code>",
		"<div>\na\n\nb\n</div><blockquote>q</blockquote><br>\n<br>\nx",
		"<!-[x]- wp:y -->", "<p>a<div>b</div>", "<li>a<li>b\n\nc",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, rep := Clean(s)
		if strings.Contains(out, "<!-- wp:") {
			t.Fatalf("Clean(%q) = %q keeps a block comment", s, out)
		}
		if again := autop(out); again != out {
			t.Fatalf("autop not idempotent on Clean(%q):\n%q\n%q", s, out, again)
		}
		if again := autop(s); autop(again) != again {
			t.Fatalf("autop not idempotent on %q:\n%q\n%q", s, again, autop(again))
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("Clean(%q) = %q is not UTF-8", s, out)
		}
		if len(out) > 8*len(s)+64 {
			t.Fatalf("Clean(%q) grew to %d bytes", s, len(out))
		}
		for _, name := range rep.Shortcodes {
			if name == "" {
				t.Fatal("empty shortcode name")
			}
		}
	})
}

func BenchmarkClean(b *testing.B) {
	_, items := readAll(b, "clinic-1.2.xml")
	body := strings.Repeat(byID(items)[101].Content+"\n\n", 50)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		Clean(body)
	}
}
