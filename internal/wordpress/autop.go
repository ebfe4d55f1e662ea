package wordpress

import "strings"

// How autop treats the content of an element.
const (
	flowWrap    = iota // always paragraphs: the body itself, blockquote
	flow               // paragraphs only where a blank line splits the text: div, li, td...
	phrasing           // no paragraphs, newlines become <br>: p, h1-h6, figcaption...
	structural         // left exactly as is: table, tr, ul, ol...
	notBlock           // an inline element (not tracked)
	voidBlock          // a block without content: hr
	opaqueBlock        // content copied as is, and never inside a paragraph: pre, script, style
)

// blockKind classifies the elements autop treats as blocks.
var blockKind = map[string]int{
	"blockquote": flowWrap,
	"div":        flow, "section": flow, "article": flow, "aside": flow, "header": flow, "footer": flow,
	"main": flow, "nav": flow, "li": flow, "dd": flow, "td": flow, "th": flow, "figure": flow,
	"form": flow, "fieldset": flow, "details": flow, "dialog": flow, "address": flow, "center": flow,
	"p": phrasing, "h1": phrasing, "h2": phrasing, "h3": phrasing, "h4": phrasing, "h5": phrasing, "h6": phrasing,
	"dt": phrasing, "caption": phrasing, "legend": phrasing, "summary": phrasing, "figcaption": phrasing, "hgroup": phrasing,
	"table": structural, "thead": structural, "tbody": structural, "tfoot": structural, "tr": structural,
	"colgroup": structural, "ul": structural, "ol": structural, "dl": structural, "menu": structural,
	"iframe": structural, "video": structural, "audio": structural, "object": structural, "select": structural,
	"math": structural, "svg": structural, "map": structural, "noscript": structural,
	"hr": voidBlock, "col": voidBlock, "embed": voidBlock, "area": voidBlock,
	"pre": opaqueBlock, "script": opaqueBlock, "style": opaqueBlock,
}

// autop makes paragraphs the way WordPress displays a classic-editor body
// (its wpautop filter), by its own rules:
//
//   - Text between blocks at the top level (and in a blockquote) becomes
//     <p>...</p>, one paragraph per run of text between blank lines.
//   - Inside a div, li, td and other flow containers, text is split into
//     paragraphs only when a blank line separates it, so <li>Item</li>
//     stays as it is.
//   - A single newline inside text becomes <br> (not one right after a
//     <br>, nor at the edge of a block).
//   - Block elements (p, div, h1-h6, lists, tables, figure, pre, hr...) are
//     never put in a paragraph, the content of <pre>, <script> and <style>
//     is copied as is, and whitespace between blocks is kept.
//
// A body that already has its paragraphs comes out unchanged, and
// autop(autop(x)) == autop(x). It is linear in len(s).
func autop(s string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	a := autopper{h: newHTMLScanner(s)}
	a.b.Grow(len(s) + len(s)/8)
	var stack []string
	kind := func() int {
		if len(stack) == 0 {
			return flowWrap
		}
		return blockKind[stack[len(stack)-1]]
	}
	for i := 0; i < len(s); {
		if s[i] == '<' {
			end, raw := a.h.markup(i)
			if end >= 0 {
				name := ""
				if s[i+1] != '!' && s[i+1] != '?' {
					name = tagName(a.h.lower[i+1 : end])
				}
				k, isBlock := blockKind[name]
				if raw != "" {
					end = a.h.rawEnd(end, raw)
				}
				if !isBlock || k == notBlock {
					a.inline(s[i:end], raw == "" && name == "br" && s[i+1] != '/', name == "")
					i = end
					continue
				}
				a.flush(kind())
				a.b.WriteString(s[i:end])
				closing := s[i+1] == '/'
				switch {
				case k == opaqueBlock || k == voidBlock || strings.HasSuffix(s[i:end], "/>"):
				case closing:
					for j := len(stack) - 1; j >= 0; j-- {
						if stack[j] == name {
							stack = stack[:j]
							break
						}
					}
				default:
					// A block closes an open <p>, and an <li> an open <li>,
					// as HTML does.
					if n := len(stack); n > 0 && (stack[n-1] == "p" || stack[n-1] == name && (name == "li" || name == "dt" || name == "dd")) {
						stack = stack[:n-1]
					}
					if len(stack) < 256 {
						stack = append(stack, name)
					}
				}
				i = end
				continue
			}
		}
		j := i + 1
		if k := strings.IndexByte(s[j:], '<'); k >= 0 {
			j += k
		} else {
			j = len(s)
		}
		a.text(s[i:j])
		i = j
	}
	a.flush(kind())
	return strings.TrimSpace(a.b.String())
}

// autopper holds the run of inline content since the last block.
type autopper struct {
	h   *htmlScanner
	b   strings.Builder
	run []piece
}

// piece is text or an inline tag of the current run.
type piece struct {
	s       string
	tag     bool
	br      bool // a <br>
	comment bool
}

func (a *autopper) text(s string) { a.run = append(a.run, piece{s: s}) }
func (a *autopper) inline(s string, br, comment bool) {
	a.run = append(a.run, piece{s: s, tag: true, br: br, comment: comment})
}

// flush writes the pending run as its container's kind asks.
func (a *autopper) flush(kind int) {
	run := a.run
	a.run = a.run[:0]
	if len(run) == 0 {
		return
	}
	blank := false
	for _, p := range run {
		if !p.tag && hasBlankLine(p.s) {
			blank = true
			break
		}
	}
	switch {
	case kind == structural || !hasContent(run):
		for _, p := range run {
			a.b.WriteString(p.s)
		}
	case kind == phrasing || kind == flow && !blank:
		a.chunk(run, false)
	default:
		// Split the run at blank lines into paragraphs.
		var cur []piece
		for _, p := range run {
			if p.tag {
				cur = append(cur, p)
				continue
			}
			rest := p.s
			for {
				at, after := blankLine(rest)
				if at < 0 {
					cur = append(cur, piece{s: rest})
					break
				}
				cur = append(cur, piece{s: rest[:at]})
				a.chunk(cur, true)
				a.b.WriteString(rest[at:after])
				cur = cur[:0]
				rest = rest[after:]
			}
		}
		a.chunk(cur, true)
	}
}

// chunk writes one piece of inline content: its leading and trailing
// space as is, the rest with <br> for newlines and, if wrap, in <p>.
func (a *autopper) chunk(run []piece, wrap bool) {
	// Leading and trailing space stay outside the paragraph.
	first, last := 0, len(run)
	var lead, trail string
	for first < last && !run[first].tag && strings.TrimSpace(run[first].s) == "" {
		lead += run[first].s
		first++
	}
	for last > first && !run[last-1].tag && strings.TrimSpace(run[last-1].s) == "" {
		last--
	}
	trailAt := last
	run2 := make([]piece, 0, last-first)
	run2 = append(run2, run[first:last]...)
	if len(run2) > 0 && !run2[0].tag {
		t := run2[0].s
		trimmed := strings.TrimLeft(t, " \t\n\f")
		lead += t[:len(t)-len(trimmed)]
		run2[0].s = trimmed
	}
	if n := len(run2); n > 0 && !run2[n-1].tag {
		t := run2[n-1].s
		trimmed := strings.TrimRight(t, " \t\n\f")
		trail = t[len(trimmed):]
		run2[n-1].s = trimmed
	}
	for _, p := range run[trailAt:] {
		trail += p.s
	}
	a.b.WriteString(lead)
	if hasContent(run2) {
		if wrap {
			a.b.WriteString("<p>")
		}
		afterBr := false
		for _, p := range run2 {
			if p.tag {
				a.b.WriteString(p.s)
				if !p.comment {
					afterBr = p.br
				}
				continue
			}
			for t := p.s; t != ""; {
				k := strings.IndexByte(t, '\n')
				if k < 0 {
					a.b.WriteString(t)
					if strings.TrimSpace(t) != "" {
						afterBr = false
					}
					break
				}
				if strings.TrimSpace(t[:k]) != "" {
					afterBr = false
				}
				a.b.WriteString(t[:k])
				if !afterBr {
					a.b.WriteString("<br>")
				}
				a.b.WriteByte('\n')
				afterBr = true
				t = t[k+1:]
			}
		}
		if wrap {
			a.b.WriteString("</p>")
		}
	} else {
		for _, p := range run2 {
			a.b.WriteString(p.s)
		}
	}
	a.b.WriteString(trail)
}

// hasContent reports whether a run has anything but space and comments.
func hasContent(run []piece) bool {
	for _, p := range run {
		if p.tag && !p.comment || !p.tag && strings.TrimSpace(p.s) != "" {
			return true
		}
	}
	return false
}

// blankLine finds the first blank line in s: a newline, optional spaces
// and another newline (and any space and newlines after it). It returns
// the span of the whitespace separating the paragraphs, or -1.
func blankLine(s string) (at, after int) {
	for i := 0; i < len(s); i++ {
		if s[i] != '\n' {
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
			j++
		}
		if j < len(s) && s[j] == '\n' {
			at = i
			for at > 0 && (s[at-1] == ' ' || s[at-1] == '\t') {
				at--
			}
			for j < len(s) && isSpace(s[j]) {
				j++
			}
			return at, j
		}
		i = j - 1
	}
	return -1, -1
}

func hasBlankLine(s string) bool {
	at, _ := blankLine(s)
	return at >= 0
}
