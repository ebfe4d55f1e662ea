package cms

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/internal/problem"
)

// SanitizerVersion identifies the sanitizer policy below. Every article
// stores the version its HTML was cleaned with; raise it whenever the
// policy or anything else that changes the stored HTML changes, then run
// `cms resanitize` so stored articles follow. Version 2 stores the HTML as
// a browser's parser reads it (see settle); version 3 also only HTML the
// policy itself leaves as it is.
// Version 4 records the Amazon links of the HTML (Article.BodyLinks),
// which the content API tags with the current associate tags.
const SanitizerVersion = 4

// MaxDepth bounds how deeply a body nests: elements inside elements, or
// Markdown block quotes and list items inside each other. Real articles
// stay far below it. Above it the Markdown parser's cost grows with the
// square of the depth, and past 512 the HTML parser that browsers and
// this pipeline share gives up, so a deeper body is refused (Invalid,
// naming body) before any of that work starts.
const MaxDepth = 100

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
	// Text is the link's text, for a product created for it (its title).
	Text string
	// Product is the catalogue product the rewriter tied an affiliate
	// link to, if any: its follows are counted for that product.
	Product string
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
	// Links are the Amazon links of HTML, in document order.
	Links []BodyLink
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
		markdown: newMarkdown(),
		policy:   newPolicy(),
		rewrite:  rewrite,
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

// newPolicy is the sanitizer policy (since SanitizerVersion 1): bluemonday's
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

// errTooDeep is the answer to a body nested deeper than MaxDepth.
func errTooDeep() error {
	var f problem.Fields
	f.Add("body", "nests deeper than %d levels (elements inside elements, or Markdown block quotes and lists)", MaxDepth)
	return f.Err()
}

// Sanitize applies the policy and settles the result (see settle), without
// Markdown or the link rewriter. Applying it to its own output changes
// nothing, which is what lets stored HTML be re-checked at any time. It
// fails only on HTML nested deeper than MaxDepth.
func (p *Pipeline) Sanitize(s string) (string, error) {
	if htmlTooDeep(s) {
		return "", errTooDeep()
	}
	return p.settle(s)
}

// settleRounds bounds settle. One round settles HTML the renderer writes
// as bluemonday does; a second one the rest (bluemonday writes <br>, the
// renderer <br/>; a tree the parser rebuilt). Needing more would be a bug;
// the body is refused rather than stored unsettled.
const settleRounds = 4

// settle sanitizes s and stores it in the form a browser reads it.
// bluemonday works on tokens, not on the tree a browser builds, so its
// output can parse into a different tree (<h1><h6>x</h6></h1> becomes
// <h1></h1><h6>x</h6>), and what a browser sees must be what was checked,
// or mutation XSS becomes possible. settle therefore parses the sanitized
// HTML with the HTML5 parser and renders that tree, sanitizing again until
// neither changes it: the result parses back into the tree it was rendered
// from, and sanitizing it again changes nothing.
func (p *Pipeline) settle(s string) (string, error) {
	out := p.policy.Sanitize(s)
	for range settleRounds {
		nodes, err := parseBody(out)
		if err != nil {
			return "", err
		}
		var b strings.Builder
		b.Grow(len(out) + len(out)/8)
		for _, n := range nodes {
			if err := html.Render(&b, n); err != nil {
				return "", fmt.Errorf("render sanitized html: %w", err)
			}
		}
		if b.String() != out {
			out = p.policy.Sanitize(b.String())
			continue
		}
		// The tree is settled; so must the policy be. bluemonday does not
		// always accept its own output (it writes cite="\" as "%5C",
		// which it then drops), so the result is sanitized once more and
		// kept only when that changes nothing.
		again := p.policy.Sanitize(out)
		if again == out {
			return out, nil
		}
		out = again
	}
	// No input is known to get here (FuzzPipeline looks for one); if one
	// does, it is the body that is refused, never a 500.
	var f problem.Fields
	f.Add("body", "has markup that does not keep one form when sanitized; simplify it")
	return "", f.Err()
}

// parseBody parses HTML as the content of a <body>, the way a browser reads
// an article inserted into a page, and refuses trees deeper than MaxDepth.
// The parser's only failure on a string is its own depth limit (512),
// which is a deep body too.
func parseBody(s string) ([]*html.Node, error) {
	nodes, err := html.ParseFragment(strings.NewReader(s), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
	if err != nil {
		return nil, errTooDeep()
	}
	for _, n := range nodes {
		if treeDepth(n, 1) > MaxDepth {
			return nil, errTooDeep()
		}
	}
	return nodes, nil
}

// treeDepth is the number of elements on the longest path down from n,
// n itself at depth d. The parser bounds the recursion at 512.
func treeDepth(n *html.Node, d int) int {
	if n.Type != html.ElementNode {
		d--
	}
	deepest := d
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		deepest = max(deepest, treeDepth(c, d+1))
	}
	return deepest
}

// Render runs body through the whole pipeline and derives the text
// measures from the sanitized result. A body nested deeper than MaxDepth
// is Invalid, found in one linear pass before the parsers run.
func (p *Pipeline) Render(ctx context.Context, body string, format BodyFormat) (Rendered, error) {
	src := body
	if format == FormatMarkdown {
		if markdownTooDeep(body) {
			return Rendered{}, errTooDeep()
		}
		var err error
		if src, err = renderMarkdown(p.markdown, []byte(body)); err != nil {
			return Rendered{}, err
		}
	}
	if htmlTooDeep(src) {
		return Rendered{}, errTooDeep()
	}
	prepared, tagged, err := p.prepare(ctx, src)
	if err != nil {
		return Rendered{}, err
	}
	out, err := p.settle(prepared)
	if err != nil {
		return Rendered{}, err
	}
	words, excerpt := measure(out)
	var links []BodyLink
	if len(tagged) > 0 {
		links = findBodyLinks(out, tagged)
	}
	return Rendered{
		HTML:               out,
		SanitizerVersion:   SanitizerVersion,
		Excerpt:            excerpt,
		WordCount:          words,
		ReadingTimeMinutes: max(1, (words+WordsPerMinute-1)/WordsPerMinute),
		HasAffiliateLinks:  len(tagged) > 0,
		Links:              links,
	}, nil
}

// findBodyLinks records the Amazon links of sanitized, settled HTML, with
// the byte offsets of their href values: what the content API splices the
// currently tagged URL into, so a change of the associate tags needs no
// re-sanitizing. tagged maps each href the link rewriter tagged to what
// it said of the link. out is in the renderer's form (settle), in which an
// attribute is written as ` key="value"` and a value never holds a quote.
func findBodyLinks(out string, tagged map[string]Link) []BodyLink {
	var links []BodyLink
	z := html.NewTokenizer(strings.NewReader(out))
	off := 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return links // io.EOF
		}
		raw := z.Raw()
		start := off
		off += len(raw)
		if tt != html.StartTagToken {
			continue
		}
		if name, _ := z.TagName(); string(name) != "a" {
			continue
		}
		vs, ve, ok := hrefValue(string(raw))
		if !ok {
			continue
		}
		href := html.UnescapeString(string(raw[vs:ve]))
		l, ok := tagged[href]
		if !ok {
			continue
		}
		mp, ok := affiliate.MarketplaceOfLink(href)
		if !ok {
			continue // an allowed host that is not Amazon: no tag to apply
		}
		_, asin, _ := affiliate.AmazonProductOf(href)
		links = append(links, BodyLink{Position: len(links) + 1, Product: l.Product, Marketplace: mp, ASIN: asin,
			Start: start + vs, End: start + ve})
	}
}

// hrefValue finds the href value in a start tag as the HTML renderer
// writes it, `<a key="value" key="value">`, attribute by attribute (a
// value may itself end in ` href=`), and returns its offsets.
func hrefValue(tag string) (start, end int, ok bool) {
	i := strings.IndexByte(tag, ' ')
	for i >= 0 && i < len(tag) && tag[i] == ' ' {
		eq := strings.IndexByte(tag[i:], '=')
		if eq < 0 || i+eq+1 >= len(tag) || tag[i+eq+1] != '"' {
			return 0, 0, false
		}
		vs := i + eq + 2
		n := strings.IndexByte(tag[vs:], '"')
		if n < 0 {
			return 0, 0, false
		}
		if tag[i+1:i+eq] == "href" {
			return vs, vs + n, true
		}
		i = vs + n + 1
	}
	return 0, 0, false
}

// prepare parses the HTML once to run the link rewriter on every <a href>,
// to keep only the allowed tokens of rel, and to drop iframes the policy
// would gut: an iframe whose source is not a YouTube embed disappears
// whole instead of staying as an empty frame, and an allowed one gets the
// sandbox the player needs. Iframe content (fallback text that browsers
// never show) is dropped too.
func (p *Pipeline) prepare(ctx context.Context, src string) (string, map[string]Link, error) {
	if p.rewrite == nil && !containsFold(src, "<iframe") && !containsFold(src, "rel") {
		return src, nil, nil
	}
	nodes, err := parseBody(src)
	if err != nil {
		return "", nil, err
	}
	var tagged map[string]Link // the affiliate links, by the href written
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
						l := Link{Href: attr(c, "href"), Rel: attr(c, "rel"), Text: textOf(c)}
						if err := p.rewrite(ctx, &l); err != nil {
							return fmt.Errorf("rewrite link: %w", err)
						}
						setAttr(c, "href", l.Href)
						if l.Rel != "" {
							setAttr(c, "rel", l.Rel)
						}
						if l.Affiliate {
							if tagged == nil {
								tagged = map[string]Link{}
							}
							if prev, ok := tagged[l.Href]; !ok || prev.Product == "" {
								tagged[l.Href] = l
							}
						}
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
			return "", nil, err
		}
		for c := root.FirstChild; c != nil; c = c.NextSibling {
			if err := html.Render(&b, c); err != nil {
				return "", nil, fmt.Errorf("render body html: %w", err)
			}
		}
	}
	return b.String(), tagged, nil
}

// maxLinkText bounds the text read from a link, for a product title.
const maxLinkText = 1000

// textOf is the text inside n, up to about maxLinkText bytes.
func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil && b.Len() < maxLinkText; c = c.NextSibling {
			if c.Type == html.TextNode {
				b.WriteString(c.Data)
			}
			walk(c)
		}
	}
	walk(n)
	return b.String()
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

// markdownTooDeep reports whether Markdown may nest block quotes and list
// items deeper than MaxDepth, in one pass over the lines, before goldmark
// spends time on every open container at every line. Only a line that
// opens a container can make the nesting deeper, and it can hold no more
// containers than the markers on it (">", "-", "*", "+", "1.", "1)")
// plus those its indentation continues, each of which needs at least two
// columns. So the count is never below the real depth; it can be above it
// only for indentation that is code, not nesting, on a line that also
// has a marker, hundreds of columns deep.
func markdownTooDeep(src string) bool {
	for len(src) > 0 {
		line := src
		if i := strings.IndexByte(src, '\n'); i >= 0 {
			line, src = src[:i], src[i+1:]
		} else {
			src = ""
		}
		if lineDepth(line) > MaxDepth {
			return true
		}
	}
	return false
}

// lineDepth counts the container markers at the start of a Markdown line
// and half the columns of indentation between them; 0 when the line opens
// nothing.
func lineDepth(line string) int {
	markers, indent, col := 0, 0, 0
	// breakFrom is where the line's tail of - (or *) and blanks starts, -1
	// until needed: a marker there begins a thematic break (- - -), not a
	// list.
	breakFrom := [2]int{-1, -1}
	for i := 0; i < len(line); {
		switch c := line[i]; {
		case c == ' ':
			indent++
			col++
			i++
		case c == '\t':
			w := 4 - col%4
			indent += w
			col += w
			i++
		case c == '>':
			markers++
			col++
			i++
			if i < len(line) && line[i] == ' ' { // part of the marker
				col++
				i++
			}
		case c == '-' || c == '*' || c == '+':
			if i+1 < len(line) && line[i+1] != ' ' && line[i+1] != '\t' {
				return depthOf(markers, indent)
			}
			if c != '+' {
				k := 0
				if c == '*' {
					k = 1
				}
				if breakFrom[k] < 0 {
					breakFrom[k] = thematicTail(line, c)
				}
				if i >= breakFrom[k] {
					return depthOf(markers, indent)
				}
			}
			markers++
			col++
			i = skipPadding(line, i+1, &col)
		case c >= '0' && c <= '9':
			j := i
			for j < len(line) && j-i < 10 && line[j] >= '0' && line[j] <= '9' {
				j++
			}
			if j-i > 9 || j == len(line) || (line[j] != '.' && line[j] != ')') ||
				(j+1 < len(line) && line[j+1] != ' ' && line[j+1] != '\t') {
				return depthOf(markers, indent)
			}
			markers++
			col += j + 1 - i
			i = skipPadding(line, j+1, &col)
		default:
			return depthOf(markers, indent)
		}
	}
	return depthOf(markers, indent)
}

func depthOf(markers, indent int) int {
	if markers == 0 {
		return 0
	}
	return markers + indent/2
}

// skipPadding skips the blanks after a list marker that belong to it (up
// to four columns; more make the item start with indented code, and then
// only one does) and returns the index after them.
func skipPadding(line string, i int, col *int) int {
	j, c := i, *col
	for j < len(line) && (line[j] == ' ' || line[j] == '\t') && c-*col < 4 {
		if line[j] == '\t' {
			c += 4 - c%4
		} else {
			c++
		}
		j++
	}
	if c-*col > 4 || (j < len(line) && (line[j] == ' ' || line[j] == '\t')) {
		j, c = i+1, *col+1 // indented code: one blank is the marker's
		if i >= len(line) {
			j, c = i, *col
		}
	}
	*col = c
	return j
}

// thematicTail returns where the tail of line made only of c and blanks
// begins (len(line) when the line does not end in c).
func thematicTail(line string, c byte) int {
	i := len(line)
	for i > 0 && (line[i-1] == c || line[i-1] == ' ' || line[i-1] == '\t') {
		i--
	}
	if strings.Count(line[i:], string(c)) < 3 {
		return len(line)
	}
	return i
}

// Element sets for htmlTooDeep, after the HTML5 tree-construction rules.
var (
	voidElements = atomSet(atom.Area, atom.Base, atom.Br, atom.Col, atom.Embed, atom.Hr, atom.Img, atom.Input,
		atom.Keygen, atom.Link, atom.Meta, atom.Param, atom.Source, atom.Track, atom.Wbr, atom.Image,
		atom.Html, atom.Head, atom.Body, atom.Frame)
	// closesP are the start tags that close an open <p> first.
	closesP = atomSet(atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Center, atom.Details,
		atom.Dialog, atom.Dir, atom.Div, atom.Dl, atom.Fieldset, atom.Figcaption, atom.Figure, atom.Footer,
		atom.Header, atom.Hgroup, atom.Main, atom.Menu, atom.Nav, atom.Ol, atom.P, atom.Search, atom.Section,
		atom.Summary, atom.Ul, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Pre, atom.Listing,
		atom.Form, atom.Table, atom.Hr, atom.Xmp, atom.Plaintext, atom.Li, atom.Dd, atom.Dt)
	headings = atomSet(atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6)
	// special elements stop the parser's search for an element to close.
	special = atomSet(atom.Address, atom.Applet, atom.Area, atom.Article, atom.Aside, atom.Base, atom.Basefont,
		atom.Bgsound, atom.Blockquote, atom.Body, atom.Br, atom.Button, atom.Caption, atom.Center, atom.Col,
		atom.Colgroup, atom.Dd, atom.Details, atom.Dir, atom.Div, atom.Dl, atom.Dt, atom.Embed, atom.Fieldset,
		atom.Figcaption, atom.Figure, atom.Footer, atom.Form, atom.Frame, atom.Frameset, atom.H1, atom.H2,
		atom.H3, atom.H4, atom.H5, atom.H6, atom.Head, atom.Header, atom.Hgroup, atom.Hr, atom.Html,
		atom.Iframe, atom.Img, atom.Input, atom.Keygen, atom.Li, atom.Link, atom.Listing, atom.Main,
		atom.Marquee, atom.Menu, atom.Meta, atom.Nav, atom.Noembed, atom.Noframes, atom.Noscript, atom.Object,
		atom.Ol, atom.P, atom.Param, atom.Plaintext, atom.Pre, atom.Script, atom.Search, atom.Section,
		atom.Select, atom.Source, atom.Style, atom.Summary, atom.Table, atom.Tbody, atom.Td, atom.Template,
		atom.Textarea, atom.Tfoot, atom.Th, atom.Thead, atom.Title, atom.Tr, atom.Track, atom.Ul, atom.Wbr,
		atom.Xmp, atom.Svg, atom.Math)
	// scope ends the search for an element that an end tag closes.
	scope = atomSet(atom.Applet, atom.Caption, atom.Html, atom.Table, atom.Td, atom.Th, atom.Marquee,
		atom.Object, atom.Template, atom.Svg, atom.Math)
)

func atomSet(as ...atom.Atom) map[atom.Atom]bool {
	m := make(map[atom.Atom]bool, len(as))
	for _, a := range as {
		m[a] = true
	}
	return m
}

// htmlTooDeep reports whether HTML nests deeper than MaxDepth, in one
// tokenizer pass, before the parser (whose every step looks through the
// open elements) runs. It follows the parser for the end tags that may be
// left out (<p>, <li>, <dd>, <dt>, <td>, <tr>, headings) and for end tags
// that cannot close across a block, so hand-written HTML with unclosed
// paragraphs counts right; odd markup may count deeper than the parser
// builds, never much shallower, and the parsed tree is checked again.
func htmlTooDeep(src string) bool {
	// elem is an open element with the sets it belongs to, looked up once.
	type elem struct {
		a                       atom.Atom
		name                    string // of an element without an atom
		special, scope, heading bool
	}
	var open []elem
	// closeTo pops up to and including the nearest element matching want,
	// unless an element that stop accepts comes first.
	closeTo := func(want func(elem) bool, stop func(elem) bool) {
		for i := len(open) - 1; i >= 0; i-- {
			if want(open[i]) {
				open = open[:i]
				return
			}
			if stop(open[i]) {
				return
			}
		}
	}
	is := func(as ...atom.Atom) func(elem) bool {
		return func(e elem) bool { return slices.Contains(as, e.a) }
	}
	var (
		isP, isLi, isDdDt, isCell = is(atom.P), is(atom.Li), is(atom.Dd, atom.Dt), is(atom.Td, atom.Th)
		isRow, isSection          = is(atom.Tr), is(atom.Tbody, atom.Thead, atom.Tfoot)
		isForeign                 = is(atom.Svg, atom.Math)
		rowContext                = is(atom.Tr, atom.Table)
		sectionContext            = is(atom.Tbody, atom.Thead, atom.Tfoot, atom.Table)
		tableContext              = is(atom.Table)
		isHeading                 = func(e elem) bool { return e.heading }
		isSpecial                 = func(e elem) bool { return e.special }
		inScope                   = func(e elem) bool { return e.scope }
		inButtonScope             = func(e elem) bool { return e.scope || e.a == atom.Button }
		inListItemScope           = func(e elem) bool { return e.scope || e.a == atom.Ul || e.a == atom.Ol }
		specialExceptBlocks       = func(e elem) bool {
			return e.special && e.a != atom.Address && e.a != atom.Div && e.a != atom.P
		}
	)
	z := html.NewTokenizer(strings.NewReader(src))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return false // io.EOF: a strings.Reader fails in no other way
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if voidElements[a] || (tt == html.SelfClosingTagToken && slices.ContainsFunc(open, isForeign)) {
				continue // in SVG and MathML, <x/> is closed; in HTML, only void elements are
			}
			if closesP[a] {
				closeTo(isP, inButtonScope)
			}
			switch {
			case a == atom.Li:
				closeTo(isLi, specialExceptBlocks)
			case a == atom.Dd || a == atom.Dt:
				closeTo(isDdDt, specialExceptBlocks)
			case headings[a]:
				if n := len(open); n > 0 && open[n-1].heading {
					open = open[:n-1]
				}
			case a == atom.A || a == atom.Button || a == atom.Nobr:
				closeTo(is(a), isSpecial)
			case a == atom.Td || a == atom.Th:
				closeTo(isCell, rowContext)
			case a == atom.Tr:
				closeTo(isRow, sectionContext)
			case a == atom.Tbody || a == atom.Thead || a == atom.Tfoot:
				closeTo(isSection, tableContext)
			}
			e := elem{a: a, special: special[a], scope: scope[a], heading: headings[a]}
			if a == 0 {
				e.name = string(name)
			}
			open = append(open, e)
			if len(open) > MaxDepth {
				return true
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch {
			case a == 0:
				closeTo(func(e elem) bool { return e.a == 0 && e.name == string(name) }, isSpecial)
			case a == atom.P:
				closeTo(isP, inButtonScope)
			case a == atom.Li:
				closeTo(isLi, inListItemScope)
			case headings[a]:
				closeTo(isHeading, inScope)
			case special[a]:
				closeTo(is(a), inScope)
			default:
				closeTo(is(a), isSpecial)
			}
		}
	}
}

// PlainText is the text of sanitized HTML, with block elements separating
// words, as the search index wants it.
func PlainText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	b.Grow(len(s) / 2)
	for {
		switch z.Next() {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			b.Write(z.Text())
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			if blockElements[atom.Lookup(name)] {
				b.WriteByte(' ')
			}
		}
	}
}
