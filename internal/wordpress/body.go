package wordpress

import "strings"

// BodyReport is what Clean removed or changed.
type BodyReport struct {
	Shortcodes    []string // names of removed shortcodes, in order of first appearance, each once
	Captions      int      // [caption] turned into figures
	BlockComments int      // Gutenberg block comments removed
}

// addShortcode records a removed shortcode's name once.
func (r *BodyReport) addShortcode(name string) {
	for _, n := range r.Shortcodes {
		if n == name {
			return
		}
	}
	r.Shortcodes = append(r.Shortcodes, name)
}

// Clean turns a WordPress post body (content:encoded) into plain HTML, as
// WordPress would display it, without WordPress's plugins:
//
//   - Gutenberg block comments (<!-- wp:paragraph -->, <!-- /wp:list -->,
//     <!-- wp:image {"id":5} /-->) are removed; other comments stay, for
//     the sanitizer to remove.
//   - [caption]<img> Text[/caption] (also <a><img></a>, or the caption="..."
//     attribute) becomes <figure><img><figcaption>Text</figcaption></figure>.
//   - Every other shortcode is removed, keeping an enclosing one's content
//     ([button]Book now[/button] leaves "Book now"); [[name]] is WordPress's
//     escape for a literal [name]. Text in <pre>, <code>, <script>, <style>,
//     <textarea>, comments and tag attributes is not looked at.
//   - Paragraphs are made as wpautop makes them on display (see autop).
//
// Clean never leaves "<!-- wp:" in its output (a stray one is escaped).
// It is linear in len(body).
func Clean(body string) (string, BodyReport) {
	var rep BodyReport
	body = normalizeNewlines(body)
	body = removeBlockComments(body, &rep)
	body = stripShortcodes(body, &rep)
	// Removing comments or shortcodes can join "<!-" and "- wp:" into a
	// new block comment; escaping it cannot create another, nor can
	// autop, which only adds <p>, </p> and <br>.
	body = strings.ReplaceAll(body, "<!-- wp:", "&lt;!-- wp:")
	body = strings.ReplaceAll(body, "<!-- /wp:", "&lt;!-- /wp:")
	return autop(body), rep
}

// normalizeNewlines turns CRLF and lone CR into LF.
func normalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// removeBlockComments removes <!-- wp:... --> and <!-- /wp:... -->.
func removeBlockComments(s string, rep *BodyReport) string {
	if !strings.Contains(s, "wp:") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	i := 0
	for {
		j := strings.Index(s[i:], "<!--")
		if j < 0 {
			break
		}
		j += i
		k := j + 4
		for k < len(s) && isSpace(s[k]) {
			k++
		}
		rest := s[k:]
		end := strings.Index(rest, "-->")
		if end < 0 {
			break // an unterminated comment: leave it to the sanitizer
		}
		closeAt := k + end + 3
		if strings.HasPrefix(rest, "wp:") || strings.HasPrefix(rest, "/wp:") {
			b.WriteString(s[i:j])
			rep.BlockComments++
			// A comment on a line of its own takes its line break along,
			// so blocks stay one blank line apart.
			closeAt = eatLine(&b, s, closeAt)
		} else {
			b.WriteString(s[i:closeAt])
		}
		i = closeAt
	}
	b.WriteString(s[i:])
	return b.String()
}

// eatLine returns where to go on after removing something from s that
// ended at i: when it stood on a line of its own, past that line's
// break, and past any blank lines after it if a blank line already
// precedes it, so what was around it stays one blank line apart.
func eatLine(b *strings.Builder, s string, i int) int {
	out := b.String()
	if out != "" && out[len(out)-1] != '\n' {
		return i
	}
	k := i
	for k < len(s) && (s[k] == ' ' || s[k] == '\t') {
		k++
	}
	if k < len(s) && s[k] != '\n' {
		return i
	}
	if out == "" || strings.HasSuffix(out, "\n\n") {
		for k < len(s) && isSpace(s[k]) {
			k++
		}
		return k
	}
	if k < len(s) {
		k++
	}
	return k
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// asciiLower lowers ASCII letters only, so byte offsets stay the same.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// rawElements are elements whose content is not HTML to look into.
var rawElements = []string{"pre", "code", "script", "style", "textarea"}

// htmlSkip reports how much of s at i is markup to copy as is: a comment,
// a tag, or a raw element from its start tag to its end tag. lower is s
// lowered by asciiLower. It returns 0 when s[i] starts no markup.
// nextGT caches where the next '>' is, so a run of '<' without one stays
// linear.
type htmlScanner struct {
	s, lower string
	nextGT   int // index of the next '>' at or after the last query, -1 for none, -2 unknown
	nextEnd  int // same for "-->"
}

func newHTMLScanner(s string) *htmlScanner {
	return &htmlScanner{s: s, lower: asciiLower(s), nextGT: -2, nextEnd: -2}
}

// find returns the index of sub at or after i, caching its last answer in
// *cache so repeated queries scan each byte once.
func (h *htmlScanner) find(i int, sub string, cache *int) int {
	if *cache == -1 {
		return -1
	}
	if *cache >= i {
		return *cache
	}
	j := strings.Index(h.s[i:], sub)
	if j < 0 {
		*cache = -1
		return -1
	}
	*cache = i + j
	return *cache
}

// markup returns the end of the markup starting at s[i] == '<', or -1 when
// the '<' is text.
func (h *htmlScanner) markup(i int) (end int, rawName string) {
	s := h.s
	if strings.HasPrefix(s[i:], "<!--") {
		j := h.find(i+4, "-->", &h.nextEnd)
		if j < 0 {
			return -1, ""
		}
		return j + 3, ""
	}
	if i+1 >= len(s) {
		return -1, ""
	}
	c := s[i+1]
	if !(isLetter(c) || c == '/' && i+2 < len(s) && isLetter(s[i+2]) || c == '!' || c == '?') {
		return -1, ""
	}
	j := h.find(i+1, ">", &h.nextGT)
	if j < 0 || strings.IndexByte(s[i+1:j], '<') >= 0 {
		return -1, "" // "<a<br>" is text, then a tag
	}
	end = j + 1
	if c != '/' {
		name := tagName(h.lower[i+1 : end])
		for _, r := range rawElements {
			if name == r && !strings.HasSuffix(s[i:end], "/>") {
				return end, r
			}
		}
	}
	return end, ""
}

// rawEnd returns the end of a raw element's content and end tag, from
// where its start tag ended; the whole rest when it is never closed.
func (h *htmlScanner) rawEnd(i int, name string) int {
	j := strings.Index(h.lower[i:], "</"+name)
	if j < 0 {
		return len(h.s)
	}
	j += i
	k := strings.IndexByte(h.s[j:], '>')
	if k < 0 {
		return len(h.s)
	}
	return j + k + 1
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// tagName returns the lowered name of a tag from the text after its '<'.
func tagName(s string) string {
	s = strings.TrimPrefix(s, "/")
	j := 0
	for j < len(s) && (isLetter(s[j]) || s[j] >= '0' && s[j] <= '9' || s[j] == '-' || s[j] == ':') {
		j++
	}
	return s[:j]
}
