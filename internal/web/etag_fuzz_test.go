package web

import (
	"strconv"
	"strings"
	"testing"
)

// entityTags parses header as RFC 9110's If-None-Match list of
// entity-tags (commas inside a tag allowed, empty members skipped). ok is
// false when the header is not such a list, or is "*".
func entityTags(header string) (tags []string, ok bool) {
	s := header
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return tags, len(tags) > 0
		}
		if s[0] == ',' {
			s = s[1:]
			continue
		}
		s = strings.TrimPrefix(s, "W/")
		if s == "" || s[0] != '"' {
			return nil, false
		}
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return nil, false
		}
		tag := s[:end+2]
		for i := 1; i < len(tag)-1; i++ {
			if c := tag[i]; c < 0x21 || c == 0x7f {
				return nil, false
			}
		}
		tags = append(tags, tag)
		s = strings.TrimLeft(s[end+2:], " \t")
		if s != "" && s[0] != ',' {
			return nil, false
		}
	}
}

// FuzzETagListed: If-None-Match matching never panics; on any well-formed
// list it answers exactly RFC 9110's weak comparison (W/"n" matches "n"),
// for the article tags and the content API's hash tags alike.
func FuzzETagListed(f *testing.F) {
	content := `"q0mHNDl5S2ghq3kOoGPQnJnu"` // the shape of the content API's hash tags
	for _, s := range []string{`"1"`, `W/"1"`, `"2", "1"`, `"2",W/"1"`, `*`, ``, `,,`, `"1`, `"a,b", "1"`,
		`"a,"1"`, `",*,"`, ` "1" , "3" `, `w/"1"`, `W/W/"1"`, content, "W/" + content, `"x", ` + content} {
		f.Add(s, int64(1))
	}
	f.Fuzz(func(t *testing.T, header string, n int64) {
		for _, etag := range []string{`"` + strconv.FormatInt(n, 10) + `"`, content} {
			got := ETagListed(header, etag)
			if strings.Trim(header, " \t") == "*" { // OWS is SP and HTAB only
				if !got {
					t.Fatalf("If-None-Match * does not match %s", etag)
				}
				continue
			}
			tags, ok := entityTags(header)
			if !ok {
				continue // not a list; any answer but a panic will do
			}
			want := false
			for _, tg := range tags {
				want = want || tg == etag
			}
			if got != want {
				t.Fatalf("If-None-Match %q vs %s: listed %v, want %v (tags %q)", header, etag, got, want, tags)
			}
			if !ETagListed(header+", W/"+etag, etag) || !ETagListed(etag, etag) {
				t.Fatalf("%s not found in %q plus itself", etag, header)
			}
		}
	})
}
