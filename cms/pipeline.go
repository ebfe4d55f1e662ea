package cms

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// SanitizerVersion identifies the sanitizer policy below. Every article
// stores the version its HTML was cleaned with; raise it whenever the
// policy changes, then run `cms resanitize` so stored articles follow.
const SanitizerVersion = 1

// WordsPerMinute is the reading speed behind readingTimeMinutes.
const WordsPerMinute = 230

// MaxExcerpt bounds the excerpt taken from the first paragraph.
const MaxExcerpt = 300

// Link is one <a href> of an article body as a LinkRewriter sees it, after
// Markdown and before sanitizing. The rewriter may change Href and Rel and
// sets Affiliate when the link earns a commission.
type Link struct {
	Href string
	// Rel is the space-separated rel value. The sanitizer keeps it only
	// when every token is one of nofollow, noopener, noreferrer,
	// sponsored, ugc.
	Rel       string
	Affiliate bool
}

// LinkRewriter is the pipeline's extension point for links, run on every
// save before the sanitizer: the affiliate package tags Amazon links and
// marks them sponsored here. An error fails the save.
type LinkRewriter func(ctx context.Context, link *Link) error

// Rendered is what the pipeline derives from a body.
type Rendered struct {
	HTML               string
	SanitizerVersion   int
	Excerpt            string // from the first paragraph
	WordCount          int
	ReadingTimeMinutes int
	HasAffiliateLinks  bool
}

// Pipeline turns an article body into the HTML that is stored and served:
// Markdown to HTML (when the body is Markdown), then the link rewriter,
// then the sanitizer last, so that nothing can add markup after the
// policy has been applied. It is safe for concurrent use; build one per
// process, because building the policy and the Markdown parser is costly.
type Pipeline struct {
	markdown goldmark.Markdown
	policy   *bluemonday.Policy
	rewrite  LinkRewriter
}

// NewPipeline builds the pipeline. rewrite may be nil.
func NewPipeline(rewrite LinkRewriter) *Pipeline {
	return &Pipeline{
		markdown: goldmark.New(
			goldmark.WithExtensions(extension.GFM),
			goldmark.WithParserOptions(parser.WithAutoHeadingID()),
			// Raw HTML in Markdown passes through to the sanitizer, which
			// is the one place that decides what HTML is allowed.
			goldmark.WithRendererOptions(gmhtml.WithUnsafe()),
		),
		policy:  newPolicy(),
		rewrite: rewrite,
	}
}

var (
	// relTokens is a rel value made only of the tokens that describe a
	// link's trust; anything else (say rel="opener") drops the attribute.
	relTokens = regexp.MustCompile(`^(?:nofollow|noopener|noreferrer|sponsored|ugc)(?:\s+(?:nofollow|noopener|noreferrer|sponsored|ugc))*$`)
	// youTubeEmbed is the one iframe source allowed: YouTube's
	// privacy-enhanced player.
	youTubeEmbed = regexp.MustCompile(`^https://www\.youtube-nocookie\.com/embed/[A-Za-z0-9_-]{6,20}(?:\?[A-Za-z0-9_=&;-]*)?$`)
	dimension    = regexp.MustCompile(`^[0-9]{1,4}%?$`)
)

// iframeSandbox is what a YouTube player needs and no more: no forms, no
// top navigation.
const iframeSandbox = "allow-scripts allow-same-origin allow-presentation allow-popups"

// newPolicy is the sanitizer policy (SanitizerVersion 1): bluemonday's
// UGCPolicy (no script, style, forms, event handlers or data: URIs), plus
// rel on links with trust tokens only, tel: links for call-to-action
// phone numbers, and sandboxed YouTube embeds. UGCPolicy's forced
// rel="nofollow" is turned off: these are a publisher's own articles, and
// their citations of medical sources should count; sponsored links get
// their rel from the link rewriter.
func newPolicy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(false)
	p.AllowURLSchemes("mailto", "http", "https", "tel")
	p.AllowAttrs("rel").Matching(relTokens).OnElements("a")
	p.AllowAttrs("src").Matching(youTubeEmbed).OnElements("iframe")
	p.AllowAttrs("sandbox").Matching(regexp.MustCompile(`^[a-z -]*$`)).OnElements("iframe")
	p.AllowAttrs("width", "height").Matching(dimension).OnElements("iframe")
	p.AllowAttrs("allowfullscreen").Matching(regexp.MustCompile(`^(?:|allowfullscreen|true)$`)).OnElements("iframe")
	p.AllowAttrs("loading").Matching(regexp.MustCompile(`^(?:lazy|eager)$`)).OnElements("iframe", "img")
	p.RequireSandboxOnIFrame(bluemonday.SandboxAllowScripts, bluemonday.SandboxAllowSameOrigin,
		bluemonday.SandboxAllowPresentation, bluemonday.SandboxAllowPopups)
	return p
}

// Sanitize applies the policy alone. Applying it to its own output changes
// nothing, which is what lets stored HTML be re-checked at any time.
func (p *Pipeline) Sanitize(s string) string { return p.policy.Sanitize(s) }

// Render runs body through the whole pipeline and derives the text
// measures from the sanitized result.
func (p *Pipeline) Render(ctx context.Context, body string, format BodyFormat) (Rendered, error) {
	src := body
	if format == FormatMarkdown {
		var buf bytes.Buffer
		buf.Grow(len(body) + len(body)/4)
		if err := p.markdown.Convert([]byte(body), &buf); err != nil {
			return Rendered{}, fmt.Errorf("render markdown: %w", err)
		}
		src = buf.String()
	}
	prepared, affiliate, err := p.prepare(ctx, src)
	if err != nil {
		return Rendered{}, err
	}
	out := p.policy.Sanitize(prepared)
	words, excerpt := measure(out)
	return Rendered{
		HTML:               out,
		SanitizerVersion:   SanitizerVersion,
		Excerpt:            excerpt,
		WordCount:          words,
		ReadingTimeMinutes: max(1, (words+WordsPerMinute-1)/WordsPerMinute),
		HasAffiliateLinks:  affiliate,
	}, nil
}

// prepare parses the HTML once to run the link rewriter on every <a href>,
// to keep only the allowed tokens of rel, and to drop iframes the policy
// would gut: an iframe whose source is not a YouTube embed disappears
// whole instead of staying as an empty frame, and an allowed one gets the
// sandbox the player needs. Iframe content (fallback text that browsers
// never show) is dropped too.
func (p *Pipeline) prepare(ctx context.Context, src string) (string, bool, error) {
	if p.rewrite == nil && !containsFold(src, "<iframe") && !containsFold(src, "rel") {
		return src, false, nil
	}
	nodes, err := html.ParseFragment(strings.NewReader(src), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
	if err != nil {
		return "", false, fmt.Errorf("parse body html: %w", err)
	}
	affiliate := false
	var walk func(n *html.Node) error
	walk = func(n *html.Node) error {
		for c := n.FirstChild; c != nil; {
			next := c.NextSibling
			if c.Type == html.ElementNode {
				switch c.DataAtom {
				case atom.Iframe:
					if !youTubeEmbed.MatchString(strings.TrimSpace(attr(c, "src"))) {
						n.RemoveChild(c)
						c = next
						continue
					}
					for c.FirstChild != nil {
						c.RemoveChild(c.FirstChild)
					}
					if !hasAttr(c, "sandbox") {
						setAttr(c, "sandbox", iframeSandbox)
					}
				case atom.A:
					if p.rewrite != nil && hasAttr(c, "href") {
						l := Link{Href: attr(c, "href"), Rel: attr(c, "rel")}
						if err := p.rewrite(ctx, &l); err != nil {
							return fmt.Errorf("rewrite link: %w", err)
						}
						setAttr(c, "href", l.Href)
						if l.Rel != "" {
							setAttr(c, "rel", l.Rel)
						}
						affiliate = affiliate || l.Affiliate
					}
					filterRel(c)
				}
			}
			if err := walk(c); err != nil {
				return err
			}
			c = next
		}
		return nil
	}
	var b strings.Builder
	b.Grow(len(src) + len(src)/8)
	for _, n := range nodes {
		root := &html.Node{Type: html.DocumentNode}
		root.AppendChild(n)
		if err := walk(root); err != nil {
			return "", false, err
		}
		for c := root.FirstChild; c != nil; c = c.NextSibling {
			if err := html.Render(&b, c); err != nil {
				return "", false, fmt.Errorf("render body html: %w", err)
			}
		}
	}
	return b.String(), affiliate, nil
}

// filterRel keeps the rel tokens the policy allows and drops the rest, so
// that rel="external sponsored" keeps "sponsored" instead of the sanitizer
// dropping the whole attribute (which would hide that a link is paid).
func filterRel(n *html.Node) {
	for i, a := range n.Attr {
		if a.Namespace != "" || a.Key != "rel" {
			continue
		}
		var keep []string
		for _, tok := range strings.Fields(strings.ToLower(a.Val)) {
			if relTokens.MatchString(tok) && !slices.Contains(keep, tok) {
				keep = append(keep, tok)
			}
		}
		if len(keep) == 0 {
			n.Attr = slices.Delete(n.Attr, i, i+1)
		} else {
			n.Attr[i].Val = strings.Join(keep, " ")
		}
		return
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), sub)
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return true
		}
	}
	return false
}

func setAttr(n *html.Node, key, val string) {
	for i, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			n.Attr[i].Val = val
			return
		}
	}
	n.Attr = append(n.Attr, html.Attribute{Key: key, Val: val})
}

// blockElements end a word: text on either side of them is not joined.
var blockElements = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Br: true, atom.Li: true, atom.Ul: true, atom.Ol: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Blockquote: true, atom.Pre: true, atom.Td: true, atom.Th: true, atom.Tr: true,
	atom.Section: true, atom.Article: true, atom.Aside: true, atom.Figure: true,
	atom.Figcaption: true, atom.Hr: true, atom.Dt: true, atom.Dd: true, atom.Table: true,
}

// measure counts the words of sanitized HTML and takes the text of its
// first paragraph as an excerpt (the first text at all when there is no
// paragraph).
func measure(sanitized string) (words int, excerpt string) {
	z := html.NewTokenizer(strings.NewReader(sanitized))
	var text, first, para strings.Builder
	inPara, havePara := false, false
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break // io.EOF: sanitized HTML is never malformed enough to fail otherwise
		}
		switch tt {
		case html.TextToken:
			t := z.Text()
			text.Write(t)
			if inPara {
				para.Write(t)
			}
			if first.Len() < 4*MaxExcerpt {
				first.Write(t)
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if blockElements[a] {
				text.WriteByte(' ')
				if first.Len() < 4*MaxExcerpt {
					first.WriteByte(' ')
				}
			}
			if a == atom.P && !havePara {
				switch tt {
				case html.StartTagToken:
					inPara = true
				case html.EndTagToken:
					if inPara && strings.TrimSpace(para.String()) != "" {
						havePara = true
					}
					inPara = false
				}
			}
		}
	}
	if havePara || strings.TrimSpace(para.String()) != "" {
		excerpt = para.String()
	} else {
		excerpt = first.String()
	}
	return countWords(text.String()), shorten(strings.Join(strings.Fields(excerpt), " "), MaxExcerpt)
}

// countWords counts runs of letters and digits; apostrophes and hyphens
// inside a word (don't, self-care) do not split it. Scripts written
// without spaces (Chinese, Japanese) count one word per character, which is
// close to how their reading speed is measured.
func countWords(s string) int {
	n, inWord := 0, false
	for _, r := range s {
		switch {
		case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana):
			n++
			inWord = false
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if !inWord {
				n++
				inWord = true
			}
		case inWord && (r == '\'' || r == '’' || r == '-'):
		default:
			inWord = false
		}
	}
	return n
}

// shorten cuts s to at most max characters at a word boundary, marking
// the cut with an ellipsis.
func shorten(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	runes := []rune(s)[:max-1]
	cut := string(runes)
	if i := strings.LastIndexByte(cut, ' '); i > max/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,.;:-") + "…"
}
