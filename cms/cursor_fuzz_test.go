package cms

import (
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/internal/web"
)

// FuzzAuthoringCursor: the authoring list's cursor (the last article's
// ID, bound to the list's filters) never panics the query parser, is
// accepted only exactly as the list writes it and only for an article ID,
// and every ID round-trips.
func FuzzAuthoringCursor(f *testing.F) {
	gin.SetMode(gin.ReleaseMode)
	id := "0123456789abcdef01234567"
	all, drafts := ListQuery{}.scope(), ListQuery{Status: StatusDraft}.scope()
	for _, s := range []string{id, "0123456789ABCDEF01234567", "", "x", id + "\n", "%ZZ",
		web.EncodeCursor(all, id), web.EncodeCursor(all, id) + "\n", web.EncodeCursor(drafts, id),
		web.EncodeCursor(all, "0123456789ABCDEF01234567"), web.EncodeCursor(all, int64(7))} {
		f.Add(s)
	}
	parse := func(query string) (ListQuery, error) {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest("GET", "/api/v1/articles", nil)
		c.Request.URL.RawQuery = query
		return parseListQuery(c)
	}
	f.Fuzz(func(t *testing.T, cur string) {
		q, err := parse("cursor=" + url.QueryEscape(cur))
		if err == nil {
			if !idPattern.MatchString(q.Before) || web.EncodeCursor(all, q.Before) != cur {
				t.Fatalf("cursor %q accepted as %q", cur, q.Before)
			}
			if _, err := parse("status=draft&cursor=" + url.QueryEscape(cur)); err == nil {
				t.Fatalf("cursor %q of the whole list pages the drafts", cur)
			}
		}
		if idPattern.MatchString(cur) {
			if q, err := parse("cursor=" + url.QueryEscape(web.EncodeCursor(all, cur))); err != nil || q.Before != cur {
				t.Fatalf("article ID %q: its cursor reads as %q: %v", cur, q.Before, err)
			}
		}
	})
}
