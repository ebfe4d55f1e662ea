package affiliate_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/internal/testenv"
)

// TestAuthorStats checks who sees which numbers: authors and contributors
// the clicks of their own articles (former slugs included), all of them
// or one, and 404 for anyone else's; editors everything. It also groups
// by the links' positions.
func TestAuthorStats(t *testing.T) {
	clk := testenv.NewClock(time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC))
	s := newServer(t, func(c *server.Options) {
		c.Now = clk.Now
		c.TrustedProxies = []string{"127.0.0.1/32", "::1/128"}
	})
	editor, _ := s.User(t, auth.Editor)
	alice, _ := s.User(t, auth.Author)
	bob, _ := s.User(t, auth.Author)
	carol, _ := s.User(t, auth.Contributor)
	createProduct(t, s, editor, map[string]any{"code": "p1", "title": "Roller", "asin": "B000123456", "marketplace": "amazon.com"})
	testenv.CreateArticle(t, s, alice, map[string]any{"title": "One", "slug": "a-one"})
	two := testenv.CreateArticle(t, s, alice, map[string]any{"title": "Two", "slug": "a-two"})
	testenv.PatchArticle(t, s, alice, two, map[string]any{"slug": "a-renamed"})
	testenv.CreateArticle(t, s, bob, map[string]any{"title": "Bob's", "slug": "b-one"})
	testenv.CreateArticle(t, s, carol, map[string]any{"title": "Carol's", "slug": "c-one"})

	const browser = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
	clicks := []string{
		"/go/p1?a=a-one&p=1", "/go/p1?a=a-two&p=2", "/go/p1?a=a-renamed&p=2",
		"/go/p1?a=b-one&p=1", "/go/p1?a=c-one&p=3", "/go/p1",
	}
	for i, path := range clicks {
		r := s.Do(testenv.Request{Path: path, Header: map[string]string{"User-Agent": browser, "X-Forwarded-For": "198.51.100." + string(rune('1'+i))}})
		testenv.WantStatus(t, r, http.StatusFound)
	}
	if err := s.Shutdown(context.Background()); err != nil { // drains the clicks
		t.Fatal(err)
	}

	stats := func(token, query string, status int) map[string]int64 {
		t.Helper()
		r := s.Do(testenv.Request{Path: "/api/v1/stats/clicks?from=2024-03-01&to=2024-03-01&" + query, Token: token})
		testenv.WantStatus(t, r, status)
		if status != http.StatusOK {
			r.Problem(t)
			return nil
		}
		var st statsAnswer
		r.JSON(t, &st)
		out := map[string]int64{}
		for _, row := range st.Rows {
			out[row.Key] = row.Clicks
		}
		return out
	}
	same := func(name string, got, want map[string]int64) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %v, want %v", name, got, want)
			return
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %v, want %v", name, got, want)
				return
			}
		}
	}
	same("alice by article", stats(alice, "groupBy=article", 200), map[string]int64{"a-one": 1, "a-two": 1, "a-renamed": 1})
	same("alice, one article", stats(alice, "groupBy=article&article=a-two", 200), map[string]int64{"a-two": 1})
	same("alice by position", stats(alice, "groupBy=position", 200), map[string]int64{"1": 1, "2": 2})
	stats(alice, "article=b-one", http.StatusNotFound)
	stats(alice, "article=never-written", http.StatusNotFound)
	same("bob", stats(bob, "groupBy=product", 200), map[string]int64{"p1": 1})
	same("carol, a contributor", stats(carol, "groupBy=article", 200), map[string]int64{"c-one": 1})
	same("editor by article", stats(editor, "groupBy=article", 200),
		map[string]int64{"a-one": 1, "a-two": 1, "a-renamed": 1, "b-one": 1, "c-one": 1, "": 1})
	same("editor by position", stats(editor, "groupBy=position", 200), map[string]int64{"1": 2, "2": 2, "3": 1, "": 1})
	same("editor, bob's article", stats(editor, "groupBy=article&article=b-one", 200), map[string]int64{"b-one": 1})
}
