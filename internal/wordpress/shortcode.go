package wordpress

import "strings"

// shortcodeTag is one [name attrs], [name attrs /] or [/name] in text.
type shortcodeTag struct {
	name    string
	attrs   string // the text between the name and the closing bracket
	closing bool   // [/name]
	end     int    // index after the ']'
}

// parseShortcode reads a shortcode tag at s[i] == '['. A name starts with a
// letter and has letters, digits, '_' and '-', and ends at space, '/' or
// ']'. Attributes may not hold '[', '<' or '>' (that is text or HTML, not a
// shortcode), and a tag followed by '(' is a Markdown link, not a
// shortcode. The scan stops at the next '[', so scans never overlap.
func parseShortcode(s string, i int) (shortcodeTag, bool) {
	var t shortcodeTag
	j := i + 1
	if j < len(s) && s[j] == '/' {
		t.closing = true
		j++
	}
	start := j
	if j >= len(s) || !isLetter(s[j]) {
		return t, false
	}
	for j < len(s) && (isLetter(s[j]) || s[j] >= '0' && s[j] <= '9' || s[j] == '_' || s[j] == '-') {
		j++
	}
	t.name = asciiLower(s[start:j])
	if j >= len(s) {
		return t, false
	}
	if t.closing {
		if s[j] != ']' {
			return t, false
		}
		t.end = j + 1
	} else {
		if c := s[j]; c != ']' && c != '/' && !isSpace(c) {
			return t, false
		}
		k := strings.IndexAny(s[j:], "[]<>")
		if k < 0 || s[j+k] != ']' {
			return t, false
		}
		t.attrs = s[j : j+k]
		t.end = j + k + 1
	}
	if t.end < len(s) && s[t.end] == '(' {
		return t, false
	}
	return t, true
}

// stripShortcodes removes shortcodes and turns [caption] into figures.
func stripShortcodes(s string, rep *BodyReport) string {
	if !strings.Contains(s, "[") {
		return s
	}
	h := newHTMLScanner(s)
	var b strings.Builder
	b.Grow(len(s))
	captionEnd := -2 // index of the next "[/caption]", -1 for none
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			end, raw := h.markup(i)
			if end < 0 {
				b.WriteByte('<')
				i++
				continue
			}
			if raw != "" {
				end = h.rawEnd(end, raw)
			}
			b.WriteString(s[i:end])
			i = end
		case '[':
			// [[name]] is a literal [name].
			if i+1 < len(s) && s[i+1] == '[' {
				if t, ok := parseShortcode(s, i+1); ok && t.end < len(s) && s[t.end] == ']' {
					b.WriteString(s[i+1 : t.end])
					i = t.end + 1
					continue
				}
				b.WriteByte('[')
				i++
				continue
			}
			t, ok := parseShortcode(s, i)
			if !ok {
				b.WriteByte('[')
				i++
				continue
			}
			if t.name == "caption" && !t.closing && !strings.HasSuffix(t.attrs, "/") {
				if captionEnd != -1 && captionEnd < t.end {
					captionEnd = indexFrom(h.lower, "[/caption]", t.end)
				}
				if captionEnd >= 0 {
					writeFigure(&b, t.attrs, s[t.end:captionEnd], rep)
					rep.Captions++
					i = captionEnd + len("[/caption]")
					continue
				}
			}
			rep.addShortcode(t.name)
			i = eatLine(&b, s, t.end)
		default:
			j := strings.IndexAny(s[i:], "<[")
			if j < 0 {
				j = len(s) - i
			}
			b.WriteString(s[i : i+j])
			i += j
		}
	}
	return b.String()
}

// indexFrom is strings.Index from i, -1 when absent.
func indexFrom(s, sub string, i int) int {
	j := strings.Index(s[i:], sub)
	if j < 0 {
		return -1
	}
	return i + j
}

// writeFigure writes a caption's figure: the leading image (or linked
// image) and the caption text, from the caption="" attribute or what
// follows the image.
func writeFigure(b *strings.Builder, attrs, inner string, rep *BodyReport) {
	inner = strings.TrimSpace(inner)
	media, text := splitCaption(inner)
	if c, ok := shortcodeAttr(attrs, "caption"); ok {
		text = c
		if media == "" {
			media = inner
		}
	}
	b.WriteString("<figure>")
	b.WriteString(media)
	if text = strings.TrimSpace(stripShortcodes(text, rep)); text != "" {
		b.WriteString("<figcaption>")
		b.WriteString(text)
		b.WriteString("</figcaption>")
	}
	b.WriteString("</figure>")
}

// splitCaption splits a caption's content into its leading <img> (maybe
// inside <a>) and the text after it. Without a leading image all of it is
// media and there is no text.
func splitCaption(inner string) (media, text string) {
	lower := asciiLower(inner)
	i := 0
	if strings.HasPrefix(lower, "<a ") || strings.HasPrefix(lower, "<a>") {
		gt := strings.IndexByte(inner, '>')
		if gt < 0 {
			return inner, ""
		}
		i = skipSpace(inner, gt+1)
	}
	if !strings.HasPrefix(lower[i:], "<img") {
		return inner, ""
	}
	gt := strings.IndexByte(inner[i:], '>')
	if gt < 0 {
		return inner, ""
	}
	end := i + gt + 1
	if i > 0 { // inside <a>: the image ends at </a>
		k := skipSpace(inner, end)
		if !strings.HasPrefix(lower[k:], "</a>") {
			return inner, ""
		}
		end = k + len("</a>")
	}
	return inner[:end], strings.TrimSpace(inner[end:])
}

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// shortcodeAttr returns the value of name="value", name='value' or
// name=value in a shortcode's attribute text.
func shortcodeAttr(attrs, name string) (string, bool) {
	s := attrs
	for {
		s = strings.TrimLeft(s, " \t\n\r\f/")
		if s == "" {
			return "", false
		}
		j := 0
		for j < len(s) && s[j] != '=' && !isSpace(s[j]) && s[j] != '"' && s[j] != '\'' {
			j++
		}
		key := asciiLower(s[:j])
		s = s[j:]
		var val string
		hasVal := false
		if strings.HasPrefix(s, "=") {
			s = s[1:]
			hasVal = true
		}
		if s != "" && (s[0] == '"' || s[0] == '\'') {
			k := strings.IndexByte(s[1:], s[0])
			if k < 0 {
				val, s = s[1:], ""
			} else {
				val, s = s[1:1+k], s[2+k:]
			}
		} else if hasVal {
			k := 0
			for k < len(s) && !isSpace(s[k]) {
				k++
			}
			val, s = s[:k], s[k:]
		} else if j == 0 {
			s = s[1:] // a stray character
			continue
		}
		if hasVal && key == name {
			return val, true
		}
	}
}
