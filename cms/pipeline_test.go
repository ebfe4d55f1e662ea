package cms_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/problem"
)

var pipeline = cms.NewPipeline(nil)

func render(t testing.TB, p *cms.Pipeline, body string, format cms.BodyFormat) cms.Rendered {
	t.Helper()
	r, err := p.Render(context.Background(), body, format)
	if err != nil {
		t.Fatalf("Render(%q): %v", body, err)
	}
	return r
}

func TestPipelineTable(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		format cms.BodyFormat
		want   string
	}{
		{"plain paragraph", `<p>Massage helps.</p>`, cms.FormatHTML, `<p>Massage helps.</p>`},
		{"headings and lists", `<h2>Why</h2><h3>1. Heat</h3><ol><li>a</li></ol>`, cms.FormatHTML, `<h2>Why</h2><h3>1. Heat</h3><ol><li>a</li></ol>`},
		{"script removed with content", `<p>a</p><script>alert(1)</script>`, cms.FormatHTML, `<p>a</p>`},
		{"event handler dropped", `<img src="https://x.test/a.jpg" onerror="alert(1)" alt="a">`, cms.FormatHTML, `<img src="https://x.test/a.jpg" alt="a"/>`},
		{"style attribute dropped", `<p style="color:red">a</p>`, cms.FormatHTML, `<p>a</p>`},
		{"style element dropped", `<style>p{}</style><p>a</p>`, cms.FormatHTML, `<p>a</p>`},
		{"javascript link unwrapped", `<a href="javascript:alert(1)">x</a>`, cms.FormatHTML, `x`},
		{"data image dropped", `<img src="data:image/png;base64,AAAA">`, cms.FormatHTML, ``},
		{"form dropped, text kept", `<form action="/x"><input name="a">b</form>`, cms.FormatHTML, `b`},
		{"allowed rel kept", `<a href="https://a.test" rel="sponsored nofollow">a</a>`, cms.FormatHTML, `<a href="https://a.test" rel="sponsored nofollow">a</a>`},
		{"foreign rel dropped", `<a href="https://a.test" rel="opener">a</a>`, cms.FormatHTML, `<a href="https://a.test">a</a>`},
		{"foreign rel tokens dropped", `<a href="https://a.test" rel="External Sponsored opener sponsored">a</a>`, cms.FormatHTML, `<a href="https://a.test" rel="sponsored">a</a>`},
		{"no forced nofollow", `<a href="https://pubmed.ncbi.nlm.nih.gov/1">study</a>`, cms.FormatHTML, `<a href="https://pubmed.ncbi.nlm.nih.gov/1">study</a>`},
		{"tel link kept", `<a href="tel:+15551234567">Call</a>`, cms.FormatHTML, `<a href="tel:+15551234567">Call</a>`},
		{"youtube embed sandboxed", `<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ" width="560" height="315" allowfullscreen></iframe>`, cms.FormatHTML,
			`<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ" width="560" height="315" allowfullscreen="" sandbox="allow-scripts allow-same-origin allow-presentation allow-popups"></iframe>`},
		{"youtube sandbox narrowed", `<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ" sandbox="allow-scripts allow-top-navigation allow-forms"></iframe>`, cms.FormatHTML,
			`<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ" sandbox="allow-scripts"></iframe>`},
		{"other iframe removed", `<p>a</p><iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ"></iframe>`, cms.FormatHTML, `<p>a</p>`},
		{"iframe content dropped", `<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"><script>x</script></iframe>`, cms.FormatHTML,
			`<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ" sandbox="allow-scripts allow-same-origin allow-presentation allow-popups"></iframe>`},
		{"markdown rendered", "## Why\n\nSome *text*.", cms.FormatMarkdown, "<h2 id=\"why\">Why</h2>\n<p>Some <em>text</em>.</p>\n"},
		{"markdown raw html sanitized", "<script>alert(1)</script>\n\nok", cms.FormatMarkdown, "\n<p>ok</p>\n"},
		{"markdown javascript link", "[x](javascript:alert(1))", cms.FormatMarkdown, "<p>x</p>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(t, pipeline, tt.in, tt.format).HTML
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestPipelineDerivedFields(t *testing.T) {
	words := strings.Repeat("word ", 461) // 461 words: just over two minutes
	r := render(t, pipeline, "<h2>Intro</h2><p>  First   paragraph, with <b>bold</b> text. </p><p>"+words+"</p>", cms.FormatHTML)
	if r.Excerpt != "First paragraph, with bold text." {
		t.Errorf("excerpt = %q", r.Excerpt)
	}
	if r.WordCount != 1+5+461 {
		t.Errorf("word count = %d, want %d", r.WordCount, 467)
	}
	if r.ReadingTimeMinutes != 3 {
		t.Errorf("reading time = %d, want 3", r.ReadingTimeMinutes)
	}
	if r.SanitizerVersion != cms.SanitizerVersion {
		t.Errorf("sanitizer version = %d", r.SanitizerVersion)
	}
	if got := render(t, pipeline, "", cms.FormatHTML).ReadingTimeMinutes; got != 1 {
		t.Errorf("empty body reading time = %d, want at least 1", got)
	}
	long := render(t, pipeline, "<p>"+strings.Repeat("relaxing ", 100)+"</p>", cms.FormatHTML).Excerpt
	if len([]rune(long)) > cms.MaxExcerpt || !strings.HasSuffix(long, "…") {
		t.Errorf("long excerpt not shortened: %d runes %q", len([]rune(long)), long)
	}
	for _, tt := range []struct {
		text string
		want int
	}{
		{"don't stop self-care", 3},
		{"按摩 疗法", 4},
		{"  ", 0},
		{"3 ways, 10 minutes", 4},
	} {
		if n, _ := cms.Measure("<p>" + tt.text + "</p>"); n != tt.want {
			t.Errorf("words(%q) = %d, want %d", tt.text, n, tt.want)
		}
	}
}

func TestPipelineLinkRewriter(t *testing.T) {
	var seen []string
	p := cms.NewPipeline(func(ctx context.Context, l *cms.Link) error {
		seen = append(seen, l.Href)
		if strings.Contains(l.Href, "amazon.com") {
			l.Href += "?tag=site-20"
			l.Rel = "sponsored nofollow noopener"
			l.Affiliate = true
		}
		return nil
	})
	in := "See [the mat](https://www.amazon.com/dp/B000TEST) and <a href=\"https://nih.gov\">NIH</a>. <a name=x>no href</a>"
	r := render(t, p, in, cms.FormatMarkdown)
	want := `<a href="https://www.amazon.com/dp/B000TEST?tag=site-20" rel="sponsored nofollow noopener">the mat</a>`
	if !strings.Contains(r.HTML, want) || !r.HasAffiliateLinks {
		t.Errorf("rewritten link missing or not flagged:\n%s", r.HTML)
	}
	if len(seen) != 2 {
		t.Errorf("rewriter saw %v, want the two links with href", seen)
	}
	// The sanitizer runs after the rewriter: a hostile rewrite is cleaned.
	evil := cms.NewPipeline(func(ctx context.Context, l *cms.Link) error {
		l.Href, l.Rel = "javascript:alert(1)", "opener"
		return nil
	})
	if out := render(t, evil, `<a href="https://a.test">a</a>`, cms.FormatHTML).HTML; out != "a" {
		t.Errorf("sanitizer did not run after the rewriter: %q", out)
	}
	failing := cms.NewPipeline(func(context.Context, *cms.Link) error { return errors.New("settings unavailable") })
	if _, err := failing.Render(context.Background(), `<a href="https://a.test">a</a>`, cms.FormatHTML); err == nil {
		t.Error("a rewriter error must fail the render")
	}
}

// TestPipelineConcurrent renders from several goroutines at once: one
// pipeline serves every request, so the race detector must find nothing.
func TestPipelineConcurrent(t *testing.T) {
	body := benchmarkArticle(8 << 10)
	md := htmlToMarkdownish(body)
	want := render(t, pipeline, md, cms.FormatMarkdown).HTML
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 5 {
				if got, err := pipeline.Render(context.Background(), md, cms.FormatMarkdown); err != nil || got.HTML != want {
					t.Errorf("concurrent render differs: %v", err)
				}
				if _, err := pipeline.Render(context.Background(), body, cms.FormatHTML); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}

// xssCorpus generates classic XSS vectors: every dangerous scheme, in
// its encoded and mixed-case spellings, in every URL-bearing attribute;
// event handlers on many elements; script in its disguises; SVG and
// MathML tricks; and mutation-XSS nestings, each also wrapped in the
// contexts that change how browsers parse.
func xssCorpus() []string {
	schemes := []string{
		"javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "\tjavascript:alert(1)",
		"java\tscript:alert(1)", "java\nscript:alert(1)", "java&#x09;script:alert(1)", "jav&#x0A;ascript:alert(1)",
		"&#106;avascript:alert(1)", "&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)",
		"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1)",
		"javascript&colon;alert(1)", "javascript&#58;alert(1)", "\x01javascript:alert(1)", "javascript://%0aalert(1)",
		"vbscript:msgbox(1)", "VBScript:msgbox(1)", "vbscript&colon;msgbox(1)", "livescript:alert(1)",
		"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "DATA:text/html,<script>alert(1)</script>",
		"data:image/svg+xml,<svg onload=alert(1)>", "d&#x61;ta:text/html,<script>alert(1)</script>",
		"&#x64;&#x61;&#x74;&#x61;:text/html,x",
	}
	urlAttrs := []string{
		`<a href="%s">x</a>`, `<a HREF='%s'>x</a>`, `<a href=%s>x</a>`, `<img src="%s">`, `<img srcset="%s 1x">`,
		`<img lowsrc="%s">`, `<img dynsrc="%s">`, `<iframe src="%s"></iframe>`, `<frame src="%s">`,
		`<area href="%s">`, `<form action="%s"><button>x</button></form>`, `<button formaction="%s">x</button>`,
		`<input type="image" formaction="%s">`, `<blockquote cite="%s">x</blockquote>`, `<q cite="%s">x</q>`,
		`<del cite="%s">x</del>`, `<ins cite="%s">x</ins>`, `<video poster="%s"></video>`, `<video src="%s"></video>`,
		`<audio src="%s"></audio>`, `<video><source src="%s"></video>`, `<embed src="%s">`, `<object data="%s"></object>`,
		`<link rel="stylesheet" href="%s">`, `<base href="%s">`, `<body background="%s">`, `<table background="%s"><tr><td>x</td></tr></table>`,
		`<td background="%s">`, `<svg><a xlink:href="%s"><text>x</text></a></svg>`, `<svg><a href="%s"><text>x</text></a></svg>`,
		`<svg><use href="%s"></use></svg>`, `<svg><image href="%s"></image></svg>`, `<math><mi xlink:href="%s">x</mi></math>`,
		`<math href="%s">x</math>`, `<meta http-equiv="refresh" content="0;url=%s">`, `<script src="%s"></script>`,
		`<isindex action="%s" type="image">`, `<object><param name="src" value="%s"></object>`,
		"[x](%s)", "![x](%s)", "<%s>",
	}
	var out []string
	for _, tpl := range urlAttrs {
		for _, s := range schemes {
			out = append(out, strings.Replace(tpl, "%s", s, 1))
		}
	}
	handlers := []string{"onerror", "onload", "onclick", "onmouseover", "onfocus", "ONERROR", "OnLoad", "onbegin",
		"onanimationstart", "ontoggle", "onpointerenter", "onfocusin", "onwheel", "onbeforetoggle"}
	elements := []string{`<img src=x %s=alert(1)>`, `<p %s="alert(1)">x</p>`, `<a href="https://a.test" %s="alert(1)">x</a>`,
		`<svg %s=alert(1)>`, `<body %s=alert(1)>`, `<details open %s=alert(1)>`, `<input autofocus %s=alert(1)>`,
		`<video><source %s=alert(1)></video>`, `<div/%s=alert(1)>x</div>`, `<img src=x %s = "alert(1)" >`,
		`<svg><animate %s=alert(1) attributeName=x dur=1s>`, `<marquee %s=alert(1)>x</marquee>`,
		`<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ" %s=alert(1)></iframe>`,
		`<style>@keyframes x{}</style><b style="animation-name:x" %s="alert(1)">x</b>`}
	for _, tpl := range elements {
		for _, h := range handlers {
			out = append(out, fmt.Sprintf(tpl, h))
		}
	}
	out = append(out,
		`<script>alert(1)</script>`, `<SCRIPT>alert(1)</SCRIPT>`, `<ScRiPt src=//evil.test/x.js></ScRiPt>`,
		`<scr<script>ipt>alert(1)</scr</script>ipt>`, `<script/src=data:,alert(1)>`, `<script>alert(1)`,
		`<script type="text/plain">alert(1)</script>`, `<<script>script>alert(1)<</script>/script>`,
		`<svg><script>alert(1)</script></svg>`, `<svg><script xlink:href=data:,alert(1) /></svg>`,
		`<svg/onload=alert(1)>`, `<svg><set attributeName="href" to="javascript:alert(1)"/></svg>`,
		`<svg><animate attributeName="href" values="javascript:alert(1)"/></svg>`,
		`<svg><foreignObject><iframe src="javascript:alert(1)"></iframe></foreignObject></svg>`,
		`<svg><style><img src=x onerror=alert(1)></style></svg>`,
		`<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">x</maction></math>`,
		`<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`,
		`<math><mi><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mi></math>`,
		`<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>`,
		`<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>`,
		`<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">`,
		`<listing>&lt;img src=x onerror=alert(1)&gt;</listing>`,
		`<textarea><img title="</textarea><img src onerror=alert(1)>"></textarea>`,
		`<style><img src="</style><img src onerror=alert(1)>"></style>`,
		`<title><img src="</title><img src onerror=alert(1)>"></title>`,
		`<xmp><img src="</xmp><img src onerror=alert(1)>"></xmp>`,
		`<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>`,
		`<template><script>alert(1)</script></template>`, `<!--><img src=x onerror=alert(1)>-->`,
		`<!--[if gte IE 4]><script>alert(1)</script><![endif]-->`, `<![CDATA[><img src=x onerror=alert(1)>]]>`,
		`<a href="https://a.test" style="behavior:url(x.htc)">x</a>`, `<div style="background:url(javascript:alert(1))">x</div>`,
		`<p style="x:expression(alert(1))">x</p>`, `<img src="x`+"`"+`onerror=alert(1)>`,
		`<img """><script>alert(1)</script>">`, `<a href="&#x6A;avascript&#x3A;alert(1)">x</a>`,
		`<a href="https://a.test" target="_blank">x</a>`, `<a href="https://a.test" rel="opener">x</a>`,
		`<plaintext><script>alert(1)</script>`, `<select><template><style><img src=x onerror=alert(1)>`,
		`<table><td><svg><style><img src=x onerror=alert(1)>`, `<p id="</p><script>alert(1)</script>">x</p>`,
		`<a href="\x00javascript:alert(1)">x</a>`, "<a href=\"java\x00script:alert(1)\">x</a>",
		`<img src="x" alt="&quot; onerror=&quot;alert(1)">`, `<keygen autofocus onfocus=alert(1)>`,
		`<iframe src="https://www.youtube-nocookie.com/embed/x&quot;onload=&quot;alert(1)"></iframe>`,
		`<iframe src="https://www.youtube-nocookie.com.evil.test/embed/dQw4w9WgXcQ"></iframe>`,
		`<iframe src="https://www.youtube-nocookie.com/embed/../../evil"></iframe>`,
	)
	// Mutation contexts: the same vectors inside constructs that switch
	// the parser's mode.
	wrappers := []string{"<svg>%s</svg>", "<math>%s</math>", "<noscript>%s</noscript>", "<table>%s</table>",
		"<p title=\"%s\">x</p>", "<select>%s</select>", "<svg><foreignObject>%s</foreignObject></svg>"}
	base := len(out)
	for _, w := range wrappers {
		for i := 0; i < base; i += 7 { // a spread of the vectors, not all, to keep the test quick
			out = append(out, strings.Replace(w, "%s", out[i], 1))
		}
	}
	return out
}

var (
	dangerousScheme = regexp.MustCompile(`^(?:javascript|vbscript|livescript|data):`)
	youTubeSrc      = regexp.MustCompile(`^https://www\.youtube-nocookie\.com/embed/[A-Za-z0-9_-]+(\?.*)?$`)
)

// forbiddenElements may never come out of the sanitizer in any namespace.
var forbiddenElements = map[string]bool{
	"script": true, "style": true, "object": true, "embed": true, "form": true, "input": true, "button": true,
	"base": true, "meta": true, "link": true, "frame": true, "frameset": true, "template": true, "svg": true,
	"math": true, "textarea": true, "select": true, "noscript": true, "title": true, "xmp": true,
	"plaintext": true, "isindex": true, "keygen": true, "applet": true, "marquee": true,
}

// checkSafe parses out as a browser would, in a body and in a div, and
// reports every property a safe article body must have.
func checkSafe(t testing.TB, p *cms.Pipeline, in, out string) {
	t.Helper()
	for _, ctxTag := range []atom.Atom{atom.Body, atom.Div} {
		nodes, err := html.ParseFragment(strings.NewReader(out), &html.Node{Type: html.ElementNode, Data: ctxTag.String(), DataAtom: ctxTag})
		if err != nil {
			t.Fatalf("output does not parse: %v\nin:  %q\nout: %q", err, in, out)
		}
		var walk func(n *html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode {
				if forbiddenElements[strings.ToLower(n.Data)] {
					t.Errorf("element <%s> (ns %q) in output\nin:  %q\nout: %q", n.Data, n.Namespace, in, out)
				}
				if n.Namespace != "" {
					t.Errorf("foreign-content element %s:%s in output\nin:  %q\nout: %q", n.Namespace, n.Data, in, out)
				}
				for _, a := range n.Attr {
					key := strings.ToLower(a.Key)
					if strings.HasPrefix(key, "on") || key == "style" || key == "srcdoc" || key == "formaction" || key == "action" {
						t.Errorf("attribute %s=%q in output\nin:  %q\nout: %q", a.Key, a.Val, in, out)
					}
					if dangerousScheme.MatchString(normalizeURL(a.Val)) {
						t.Errorf("dangerous URL %s=%q in output\nin:  %q\nout: %q", a.Key, a.Val, in, out)
					}
				}
				if n.DataAtom == atom.Iframe {
					var src, sandbox string
					hasSandbox := false
					for _, a := range n.Attr {
						switch a.Key {
						case "src":
							src = a.Val
						case "sandbox":
							sandbox, hasSandbox = a.Val, true
						}
					}
					if !youTubeSrc.MatchString(src) || !hasSandbox || strings.Contains(sandbox, "top-navigation") {
						t.Errorf("iframe src=%q sandbox=%q (present %v) in output\nin:  %q\nout: %q", src, sandbox, hasSandbox, in, out)
					}
				}
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		for _, n := range nodes {
			walk(n)
		}
	}
	if again, err := p.Sanitize(out); err != nil || again != out {
		t.Errorf("sanitizing the output again changed it (%v)\nin:    %q\nout:   %q\nagain: %q", err, in, out, again)
	}
	checkFixedPoint(t, p, in, out)
}

// checkFixedPoint asserts what makes stored HTML safe to store: it parses
// (as a browser parses an article in a page) into a tree that renders back
// to exactly the same HTML, and saving it again as an HTML body returns it
// unchanged.
func checkFixedPoint(t testing.TB, p *cms.Pipeline, in, out string) {
	t.Helper()
	nodes, err := html.ParseFragment(strings.NewReader(out), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
	if err != nil {
		t.Fatalf("output does not parse: %v\nin:  %q\nout: %q", err, in, out)
	}
	var b strings.Builder
	for _, n := range nodes {
		if err := html.Render(&b, n); err != nil {
			t.Fatal(err)
		}
	}
	if b.String() != out {
		t.Errorf("output does not parse back into the tree it came from\nin:       %q\nout:      %q\nreparsed: %q", in, out, b.String())
	}
	again, err := p.Render(context.Background(), out, cms.FormatHTML)
	if err != nil {
		t.Errorf("saving the output again failed: %v\nin:  %q\nout: %q", err, in, out)
	} else if again.HTML != out {
		t.Errorf("saving the output again changed it\nin:    %q\nout:   %q\nagain: %q", in, out, again.HTML)
	}
}

// normalizeURL spells a URL the way a browser resolves its scheme:
// without leading spaces and control characters, without the tabs and
// newlines it ignores inside, in lower case.
func normalizeURL(s string) string {
	s = strings.TrimLeftFunc(s, func(r rune) bool { return r <= ' ' })
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || r == 0 {
			return -1
		}
		return r
	}, s)
	if u, err := url.PathUnescape(s); err == nil && strings.Contains(strings.ToLower(u), "script:") {
		s = u
	}
	return strings.ToLower(s)
}

func TestHostileHTML(t *testing.T) {
	corpus := xssCorpus()
	if len(corpus) < 1000 {
		t.Fatalf("corpus has only %d vectors", len(corpus))
	}
	for _, in := range corpus {
		for _, f := range []cms.BodyFormat{cms.FormatHTML, cms.FormatMarkdown} {
			out := render(t, pipeline, in, f).HTML
			checkSafe(t, pipeline, in, out)
			if strings.Contains(strings.ToLower(out), "alert(1)") && strings.Contains(strings.ToLower(out), "<script") {
				t.Errorf("script text survived as markup: %q", out)
			}
		}
	}
}

// FuzzPipeline feeds arbitrary bodies through the whole pipeline and
// checks the same properties as TestHostileHTML, the fixed point among
// them: sanitize(sanitize(x)) == sanitize(x), and stored HTML parses back
// into the tree it was rendered from. A body the pipeline refuses must be
// refused as Invalid (too deep), never fail otherwise. Run it longer with
// go test -run=^$ -fuzz=FuzzPipeline ./cms
func FuzzPipeline(f *testing.F) {
	for i, in := range xssCorpus() {
		if i%20 == 0 {
			f.Add(in, i%40 == 0)
		}
	}
	f.Add(benchmarkArticle(2<<10), false)
	f.Add(`<h1><a><h6>x</h6></a></h1>`, false)
	f.Add(`<table><td><p>a<table><td>b`, false)
	f.Add("> - > 1. x\n   y", true)
	f.Fuzz(func(t *testing.T, body string, markdown bool) {
		format := cms.FormatHTML
		if markdown {
			format = cms.FormatMarkdown
		}
		r, err := pipeline.Render(context.Background(), body, format)
		if problem.KindOf(err) == problem.Invalid && contains(fieldsOf(err), "body") {
			return
		}
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		checkSafe(t, pipeline, body, r.HTML)
		if r.ReadingTimeMinutes < 1 || r.WordCount < 0 {
			t.Errorf("measures out of range: %+v", r)
		}
	})
}

// benchmarkArticle builds a realistic article of about size bytes: an
// intro, <h2> sections with numbered <h3> strategies, links (some to
// Amazon), lists, a video and a call to action.
func benchmarkArticle(size int) string {
	var b strings.Builder
	b.WriteString(`<p>Chronic pain affects millions of adults. <strong>Massage therapy</strong> is one of the oldest ways to relieve it, and research keeps finding new reasons it works.</p>`)
	for sec := 1; b.Len() < size; sec++ {
		fmt.Fprintf(&b, `<h2>Section %d: how massage helps</h2><p>Studies such as <a href="https://pubmed.ncbi.nlm.nih.gov/%d/">this review</a> suggest regular sessions reduce pain scores.</p>`, sec, 30000000+sec)
		for i := 1; i <= 5; i++ {
			fmt.Fprintf(&b, `<h3>%d. Strategy %d</h3><p>Apply gentle pressure with a <a href="https://www.amazon.com/dp/B0%08d">foam roller</a> for ten minutes, then stretch slowly. Breathe deeply and keep the muscles warm; <em>consistency</em> matters more than intensity.</p><ul><li>Morning routine</li><li>Evening routine</li></ul>`, i, sec*10+i, sec*10+i)
		}
		if sec%3 == 0 {
			b.WriteString(`<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ" width="560" height="315" allowfullscreen></iframe>`)
		}
	}
	b.WriteString(`<h2>Schedule an Appointment</h2><p>Call <a href="tel:+15551234567">(555) 123-4567</a> today.</p>`)
	return b.String()
}

// BenchmarkPipeline measures a save's HTML work for a 50 KB article.
func BenchmarkPipeline(b *testing.B) {
	body := benchmarkArticle(50 << 10)
	tagging := cms.NewPipeline(func(ctx context.Context, l *cms.Link) error {
		if strings.Contains(l.Href, "amazon.") {
			l.Href += "?tag=site-20"
			l.Rel, l.Affiliate = "sponsored nofollow noopener", true
		}
		return nil
	})
	md := htmlToMarkdownish(body)
	for _, bc := range []struct {
		name   string
		p      *cms.Pipeline
		body   string
		format cms.BodyFormat
	}{
		{"html", pipeline, body, cms.FormatHTML},
		{"html+rewriter", tagging, body, cms.FormatHTML},
		{"markdown", pipeline, md, cms.FormatMarkdown},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.p.Render(context.Background(), bc.body, bc.format); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// htmlToMarkdownish gives the benchmark a Markdown body of the same size
// and shape; inline HTML is valid Markdown, so only the blocks change.
func htmlToMarkdownish(s string) string {
	r := strings.NewReplacer("<h2>", "\n\n## ", "</h2>", "\n\n", "<h3>", "\n\n### ", "</h3>", "\n\n",
		"<p>", "\n\n", "</p>", "\n\n", "<ul>", "\n\n", "</ul>", "\n\n", "<li>", "\n- ", "</li>", "")
	return strings.TrimLeftFunc(r.Replace(s), unicode.IsSpace)
}
