package admin

import (
	"html/template"
	"strings"
	"unicode"

	"github.com/sergi/go-diff/diffmatchpatch"
	"golang.org/x/net/html"
)

// wordDiff shows, word by word, how text b differs from a: removed words
// in <del>, added ones in <ins>, everything escaped. Each distinct word
// becomes one rune, so the diff runs over words, not characters, and
// stays about linear for similar texts.
func wordDiff(a, b string) template.HTML {
	dict := map[string]rune{}
	var words []string
	encode := func(s string) (string, bool) {
		var out strings.Builder
		for _, w := range splitWords(s) {
			r, ok := dict[w]
			if !ok {
				if len(words) == maxWords {
					return "", false
				}
				r = firstWordRune + rune(len(words))
				dict[w] = r
				words = append(words, w)
			}
			out.WriteRune(r)
		}
		return out.String(), true
	}
	ea, okA := encode(a)
	eb, okB := encode(b)
	if !okA || !okB {
		// Too many distinct words to number: show it as replaced.
		return template.HTML("<del>" + template.HTMLEscapeString(a) + "</del><ins>" + template.HTMLEscapeString(b) + "</ins>")
	}
	dmp := diffmatchpatch.New()
	diffs := dmp.DiffCleanupSemantic(dmp.DiffMain(ea, eb, false))
	var out strings.Builder
	for _, d := range diffs {
		var text strings.Builder
		for _, r := range d.Text {
			text.WriteString(words[r-firstWordRune])
		}
		s := template.HTMLEscapeString(text.String())
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			out.WriteString("<del>" + s + "</del>")
		case diffmatchpatch.DiffInsert:
			out.WriteString("<ins>" + s + "</ins>")
		default:
			out.WriteString(s)
		}
	}
	return template.HTML(out.String()) // every piece is escaped above
}

// Words are numbered as runes of the supplementary private use planes (15
// and 16), which no text is made of and which hold 131,072 of them.
const (
	firstWordRune = 0xF0000
	maxWords      = 0x110000 - firstWordRune
)

// splitWords cuts s into words, runs of spaces and single punctuation
// marks, which joined give s back.
func splitWords(s string) []string {
	var out []string
	start := 0
	kind := func(r rune) int {
		switch {
		case unicode.IsSpace(r):
			return 1
		case unicode.IsLetter(r) || unicode.IsNumber(r):
			return 2
		}
		return 3
	}
	prev := 0
	for i, r := range s {
		k := kind(r)
		if i > start && (k != prev || k == 3) {
			out = append(out, s[start:i])
			start = i
		}
		prev = k
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// blocks are the elements that end a line of readable text.
var blocks = map[string]bool{
	"p": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"li": true, "blockquote": true, "div": true, "br": true, "figure": true, "figcaption": true,
	"pre": true, "table": true, "tr": true, "ul": true, "ol": true, "hr": true,
}

// readable is an HTML body as text to compare: one line per block, spaces
// collapsed, links as "text (href)", images as "[image: alt]", so a diff
// shows changed links and pictures too.
func readable(body string) string {
	z := html.NewTokenizer(strings.NewReader(body))
	var out strings.Builder
	var hrefs []string
	newline := func() {
		s := out.String()
		if s != "" && !strings.HasSuffix(s, "\n") {
			out.WriteByte('\n')
		}
	}
	for {
		switch z.Next() {
		case html.ErrorToken:
			lines := strings.Split(out.String(), "\n")
			for i, l := range lines {
				lines[i] = strings.Join(strings.Fields(l), " ")
			}
			return strings.TrimSpace(strings.Join(lines, "\n"))
		case html.TextToken:
			out.Write(z.Text())
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			attrs := map[string]string{}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				attrs[string(k)] = string(v)
			}
			switch {
			case tag == "a":
				hrefs = append(hrefs, attrs["href"])
			case tag == "img":
				out.WriteString(" [image: " + attrs["alt"] + "] ")
			case blocks[tag]:
				newline()
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			tag := string(name)
			switch {
			case tag == "a" && len(hrefs) > 0:
				if h := hrefs[len(hrefs)-1]; h != "" {
					out.WriteString(" (" + h + ")")
				}
				hrefs = hrefs[:len(hrefs)-1]
			case blocks[tag]:
				newline()
			}
		}
	}
}
