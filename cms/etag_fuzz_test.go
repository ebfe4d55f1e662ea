package cms

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/internal/problem"
)

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
