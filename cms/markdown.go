package cms

import (
	"bytes"
	"fmt"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"

	"github.com/wellness/cms/internal/problem"
)

// MaxInlineMarks bounds the brackets and emphasis delimiter runs in one
// paragraph, heading or table cell of a Markdown body, and the lines
// opening with "[" (link reference definitions) in one paragraph. Goldmark
// matches brackets, link destinations and emphasis delimiters within a
// block, and reference definitions within a paragraph, in time that grows
// with the square of their count (measured: 8,000 unmatched "[[]](" in one
// paragraph take a second, 16,000 four). Capping the count per block makes
// the whole body's cost linear in its size; real paragraphs hold a few
// dozen marks at most.
const MaxInlineMarks = 128

// newMarkdown builds the Markdown converter: CommonMark and GFM, raw HTML
// passed on to the sanitizer (the one place that decides what HTML is
// allowed), and the mark budget running before every other parser.
func newMarkdown() goldmark.Markdown {
	return goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		goldmark.WithParserOptions(
			parser.WithAutoHeadingID(),
			parser.WithInlineParsers(util.Prioritized(markBudget{}, 0)),
			parser.WithParagraphTransformers(util.Prioritized(refBudget{}, 0)),
		),
		goldmark.WithRendererOptions(gmhtml.WithUnsafe()),
	)
}

// renderMarkdown converts a Markdown body to HTML, refusing (Invalid,
// naming body) a body with a block over MaxInlineMarks before rendering.
func renderMarkdown(md goldmark.Markdown, src []byte) (string, error) {
	pc := parser.NewContext()
	b := &budget{}
	pc.Set(budgetKey, b)
	doc := md.Parser().Parse(text.NewReader(src), parser.WithContext(pc))
	if b.over {
		var f problem.Fields
		f.Add("body", "a paragraph, heading or table cell has more than %d links, brackets or emphasis marks; split it", MaxInlineMarks)
		return "", f.Err()
	}
	var buf bytes.Buffer
	buf.Grow(len(src) + len(src)/4)
	if err := md.Renderer().Render(&buf, src, doc); err != nil {
		return "", fmt.Errorf("render markdown: %w", err)
	}
	return buf.String(), nil
}

var budgetKey = parser.NewContextKey()

// budget is the state of one conversion: the block being parsed, its
// marks so far, and whether any block went over.
type budget struct {
	block ast.Node
	marks int
	over  bool
}

func budgetOf(pc parser.Context) *budget {
	if b, ok := pc.Get(budgetKey).(*budget); ok {
		return b
	}
	b := &budget{} // a context not made by renderMarkdown: count anyway
	pc.Set(budgetKey, b)
	return b
}

// markBudget is an inline parser that sees every bracket and emphasis
// mark first and never parses one itself: it counts them per block, and
// once a block has too many it swallows the rest of the block as empty
// text, so the expensive parsers never see it (the body is refused).
type markBudget struct{}

func (markBudget) Trigger() []byte { return []byte{'[', ']', '*', '_', '~'} }

func (markBudget) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	b := budgetOf(pc)
	if b.block != parent {
		b.block, b.marks = parent, 0
	}
	b.marks++
	if b.marks <= MaxInlineMarks {
		return nil // let the real parsers have it
	}
	b.over = true
	for line, _ := block.PeekLine(); line != nil; line, _ = block.PeekLine() {
		block.AdvanceLine()
	}
	return ast.NewText()
}

// refBudget is a paragraph transformer running before goldmark's link
// reference one: a paragraph with more than MaxInlineMarks lines that may
// open a definition is dropped (and the body refused) before definitions
// are parsed.
type refBudget struct{}

func (refBudget) Transform(node *ast.Paragraph, reader text.Reader, pc parser.Context) {
	lines, src, n := node.Lines(), reader.Source(), 0
	for i := range lines.Len() {
		seg := lines.At(i)
		if line := util.TrimLeftSpace(seg.Value(src)); len(line) > 0 && line[0] == '[' {
			n++
		}
	}
	if n > MaxInlineMarks {
		budgetOf(pc).over = true
		node.Parent().RemoveChild(node.Parent(), node)
	}
}
