package web

import "strings"

// ETagListed reports whether an If-None-Match header lists etag (weak
// comparison, as RFC 9110 prescribes for If-None-Match). The header is read
// as a list of quoted tags, so a comma or * inside quotes is part of a tag;
// a malformed list matches nothing, which only costs a full response.
func ETagListed(header, etag string) bool {
	s := strings.Trim(header, " \t")
	if s == "*" {
		return true
	}
	for s != "" {
		if s[0] == ',' || s[0] == ' ' || s[0] == '\t' {
			s = s[1:]
			continue
		}
		s = strings.TrimPrefix(s, "W/")
		if s == "" || s[0] != '"' {
			return false
		}
		end := strings.IndexByte(s[1:], '"') + 2
		if end < 2 {
			return false
		}
		if s[:end] == etag {
			return true
		}
		s = s[end:]
		if s != "" && s[0] != ',' && s[0] != ' ' && s[0] != '\t' {
			return false
		}
	}
	return false
}
