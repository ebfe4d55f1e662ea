package cms_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/wellness/cms/cms"
)

// pathologicalBodies are the shapes that once cost more than linear time
// or failed with a 500, each sized like a hostile request. The benchmarks
// below keep their cost visible; the tests make sure each is answered.
func pathologicalBodies() []struct {
	name   string
	body   string
	format cms.BodyFormat
} {
	rep := strings.Repeat
	var links, mdLinks strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&links, `<a href="https://www.amazon.com/dp/B%09d">x</a> `, i)
		fmt.Fprintf(&mdLinks, "[x](https://www.amazon.com/dp/B%09d) ", i)
	}
	return []struct {
		name   string
		body   string
		format cms.BodyFormat
	}{
		{"deep/markdown-quotes", rep(">", 20000) + " x", cms.FormatMarkdown},
		{"deep/markdown-lists", rep("- ", 10000) + "x", cms.FormatMarkdown},
		{"deep/html-div", rep("<div>", 600), cms.FormatHTML},
		{"deep/html-div-wide", rep("<div>", 500) + rep("<p>a</p>", 20000), cms.FormatHTML},
		{"deep/html-blockquote", rep("<blockquote>", 600), cms.FormatHTML},
		{"deep/html-99-wide-2MB", rep("<div>", 99) + rep("<p>a</p>", 250000), cms.FormatHTML},
		{"deep/html-99-end-tags-2MB", rep("<span>", 99) + rep("</zz>", 400000), cms.FormatHTML},
		{"deep/markdown-99-lazy-2MB", rep("> ", 99) + "x\n" + rep("y\n", 1000000), cms.FormatMarkdown},
		{"lists/markdown-items", rep("- item\n", 100000), cms.FormatMarkdown},
		{"lists/html-items", "<ul>" + rep("<li>item</li>", 100000) + "</ul>", cms.FormatHTML},
		{"long-line/markdown", rep("word ", 200000), cms.FormatMarkdown},
		{"long-line/html", "<p>" + rep("word ", 200000) + "</p>", cms.FormatHTML},
		{"links/markdown", mdLinks.String(), cms.FormatMarkdown},
		{"links/html", links.String(), cms.FormatHTML},
		// Inline marks goldmark matches in quadratic time within a block:
		// one 2 MB paragraph, and 2 MB of paragraphs just under the budget.
		{"inline/brackets-2MB", rep("[[]](", 400000), cms.FormatMarkdown},
		{"inline/emphasis-2MB", rep("*a_ ", 500000), cms.FormatMarkdown},
		{"inline/link-angle-2MB", rep("[a](<b ", 300000), cms.FormatMarkdown},
		{"inline/refdefs-2MB", rep("[a]: /u\n", 260000), cms.FormatMarkdown},
		{"inline/heading-2MB", "# " + rep("[](", 700000), cms.FormatMarkdown},
		{"inline/brackets-at-budget-2MB", rep(rep("[[]](", cms.MaxInlineMarks/3)+"\n\n", 2<<20/(5*cms.MaxInlineMarks/3+2)), cms.FormatMarkdown},
		{"inline/emphasis-at-budget-2MB", rep(rep("*a_ ", cms.MaxInlineMarks/2)+"\n\n", 2<<20/(2*cms.MaxInlineMarks+2)), cms.FormatMarkdown},
		{"inline/refdefs-at-budget-2MB", rep(rep("[a]: /u\n", cms.MaxInlineMarks/2)+"\n", 2<<20/(4*cms.MaxInlineMarks+1)), cms.FormatMarkdown},
	}
}

// BenchmarkPathological renders each hostile shape through the pipeline
// with a link rewriter, as a save does. A refused body counts like an
// accepted one: what matters is the time to the answer.
func BenchmarkPathological(b *testing.B) {
	p := cms.NewPipeline(func(ctx context.Context, l *cms.Link) error {
		if strings.Contains(l.Href, "amazon.") {
			l.Href += "?tag=site-20"
			l.Rel, l.Affiliate = "sponsored nofollow noopener", true
		}
		return nil
	})
	for _, bc := range pathologicalBodies() {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.body)))
			for b.Loop() {
				_, _ = p.Render(context.Background(), bc.body, bc.format)
			}
		})
	}
	b.Run("tags/60000", func(b *testing.B) {
		tags := make([]string, 60000)
		for i := range tags {
			tags[i] = fmt.Sprintf("tag-%d", i)
		}
		for b.Loop() {
			c := cms.Content{Title: "t", Tags: append([]string(nil), tags...)}
			c.Normalize()
			_ = c.Validate(testNow)
		}
	})
}
