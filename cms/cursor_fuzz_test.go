package cms

import (
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/gin-gonic/gin"
)

// FuzzAuthoringCursor: the authoring list's cursor (the last article's
// ID) never panics the query parser and is accepted only as an article
// ID, which is exactly what the list writes.
func FuzzAuthoringCursor(f *testing.F) {
	gin.SetMode(gin.ReleaseMode)
	for _, s := range []string{"0123456789abcdef01234567", "0123456789ABCDEF01234567", "", "x", "0123456789abcdef01234567\n", "%ZZ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cur string) {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest("GET", "/api/v1/articles", nil)
		c.Request.URL.RawQuery = "cursor=" + url.QueryEscape(cur)
		q, err := parseListQuery(c)
		if err != nil {
			if idPattern.MatchString(cur) {
				t.Fatalf("cursor %q, an article ID, refused: %v", cur, err)
			}
			return
		}
		if !idPattern.MatchString(q.Cursor) || q.Cursor != cur {
			t.Fatalf("cursor %q accepted as %q", cur, q.Cursor)
		}
	})
}
