package cms

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/internal/problem"
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

// ifMatchHeader runs ifMatch on a request carrying h as If-Match.
func ifMatchHeader(h string, required bool) (int64, error) {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("PATCH", "/api/v1/articles/x", nil)
	c.Request.Header["If-Match"] = []string{h}
	return ifMatch(c, required)
}

// FuzzIfMatch: If-Match never panics and never yields a 5xx; it names
// version n exactly when it is our strong tag "n" (strong comparison:
// W/"n", n, "0n", "+n" name nothing), and "n" always round-trips.
func FuzzIfMatch(f *testing.F) {
	gin.SetMode(gin.ReleaseMode)
	for _, s := range []string{`"1"`, `"42"`, ` "7" `, `W/"3"`, `3`, `"03"`, `"+3"`, `"3`, `""3""`, `*`, ``,
		`"1", "2"`, `"-1"`, `"0"`, `"9223372036854775807"`, `"9223372036854775808"`, "\"1\"\t", `"a,b"`} {
		f.Add(s, int64(1))
	}
	f.Fuzz(func(t *testing.T, h string, n int64) {
		for _, required := range []bool{true, false} {
			v, err := ifMatchHeader(h, required)
			if err != nil {
				switch k := problem.KindOf(err); k {
				case problem.BadRequest, problem.PreconditionFailed, problem.PreconditionRequired:
				default:
					t.Fatalf("If-Match %q: error kind %v (status %d)", h, k, k.Status())
				}
				continue
			}
			trimmed := strings.TrimSpace(h)
			switch {
			case v == 0 && (trimmed != "" || required):
				t.Fatalf("If-Match %q (required %v): no version and no error", h, required)
			case v != 0 && trimmed != `"`+strconv.FormatInt(v, 10)+`"`:
				t.Fatalf("If-Match %q names version %d", h, v)
			}
		}
		if n < 1 {
			return
		}
		tag := (&Article{Version: n}).ETag()
		if v, err := ifMatchHeader(tag, true); err != nil || v != n {
			t.Fatalf("If-Match %s: %d, %v", tag, v, err)
		}
		if _, err := ifMatchHeader("W/"+tag, true); problem.KindOf(err) != problem.PreconditionFailed {
			t.Fatalf("If-Match W/%s: %v, want 412", tag, err)
		}
	})
}

// FuzzETagListed: If-None-Match matching never panics; on any well-formed
// list it answers exactly RFC 9110's weak comparison (W/"n" matches "n"),
// for the article tags and the content API's hash tags alike.
func FuzzETagListed(f *testing.F) {
	content := strongETag([]byte("page"))
	for _, s := range []string{`"1"`, `W/"1"`, `"2", "1"`, `"2",W/"1"`, `*`, ``, `,,`, `"1`, `"a,b", "1"`,
		`"a,"1"`, `",*,"`, ` "1" , "3" `, `w/"1"`, `W/W/"1"`, content, "W/" + content, `"x", ` + content} {
		f.Add(s, int64(1))
	}
	f.Fuzz(func(t *testing.T, header string, n int64) {
		for _, etag := range []string{(&Article{Version: n}).ETag(), content} {
			got := etagListed(header, etag)
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
			if !etagListed(header+", W/"+etag, etag) || !etagListed(etag, etag) {
				t.Fatalf("%s not found in %q plus itself", etag, header)
			}
		}
	})
}
