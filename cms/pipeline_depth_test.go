package cms_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/problem"
)

// TestPipelineDepth: the depth rule for HTML and Markdown, at its edges.
// Closing tags that may be left out, and end tags that cannot close across
// a block, are counted as the HTML parser counts them.
func TestPipelineDepth(t *testing.T) {
	rep := strings.Repeat
	tests := []struct {
		name   string
		body   string
		format cms.BodyFormat
		deep   bool
	}{
		{"100 div", rep("<div>", 100) + "x", cms.FormatHTML, false},
		{"101 div", rep("<div>", 101) + "x", cms.FormatHTML, true},
		{"101 closed div in sequence", rep("<div>x</div>", 101), cms.FormatHTML, false},
		{"unclosed p", rep("<p>x", 500), cms.FormatHTML, false},
		{"p closed by blocks", rep("<p>x<div>y</div>", 300), cms.FormatHTML, false},
		{"unclosed li", "<ol>" + rep("<li>x", 500), cms.FormatHTML, false},
		{"nested lists", rep("<ul><li>", 60), cms.FormatHTML, true},
		{"unclosed dd dt", "<dl>" + rep("<dt>a<dd>b", 300), cms.FormatHTML, false},
		{"unclosed cells", "<table>" + rep("<tr><td>a<th>b", 300), cms.FormatHTML, false},
		{"headings close headings", rep("<h2>a<h3>b", 300), cms.FormatHTML, false},
		{"unclosed links", rep(`<a href="https://a.test">x`, 300), cms.FormatHTML, false},
		{"void elements", rep("<br><img src=x><hr>", 300), cms.FormatHTML, false},
		{"self-closed in svg", "<svg>" + rep("<path/>", 300) + "</svg>", cms.FormatHTML, false},
		{"self-closed div still opens", rep("<div/>", 101), cms.FormatHTML, true},
		{"span end tag cannot close across div", rep("<span><div></span>", 60), cms.FormatHTML, true},
		{"li end tag cannot close across ul", rep("<li><ul></li>", 60), cms.FormatHTML, true},
		{"formatting reopened by the parser", func() string {
			var b strings.Builder
			for i := range 30 {
				fmt.Fprintf(&b, "<p><b id=%d><i id=%d><u id=%d><s id=%d>x</p>", i, i, i, i)
			}
			return b.String()
		}(), cms.FormatHTML, true},
		{"markdown 90 quotes", rep(">", 90) + " x", cms.FormatMarkdown, false},
		{"markdown 150 quotes", rep("> ", 150) + "x", cms.FormatMarkdown, true},
		{"markdown quotes in lists", rep("- > ", 60) + "x", cms.FormatMarkdown, true},
		{"markdown tab indentation", func() string {
			var b strings.Builder
			for i := range 120 {
				b.WriteString(rep("\t", i) + "- x\n")
			}
			return b.String()
		}(), cms.FormatMarkdown, true},
		{"markdown thematic break", rep("- ", 300) + "-", cms.FormatMarkdown, false},
		{"markdown deep code indentation", "```\n" + rep(" ", 400) + "x\n```", cms.FormatMarkdown, false},
		{"markdown many flat items", rep("- x\n", 5000), cms.FormatMarkdown, false},
		{"markdown raw html blocks", rep("<div>\n\n", 150), cms.FormatMarkdown, true},
		{"markdown long numbers", rep("1234567890. ", 200), cms.FormatMarkdown, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pipeline.Render(context.Background(), tt.body, tt.format)
			switch {
			case tt.deep && (problem.KindOf(err) != problem.Invalid || !contains(fieldsOf(err), "body")):
				t.Errorf("err = %v, want Invalid naming body", err)
			case !tt.deep && err != nil:
				t.Errorf("err = %v, want none", err)
			}
		})
	}
}
