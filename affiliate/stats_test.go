package affiliate_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/internal/testenv"
)

type counts struct{ Clicks, BotClicks, UniqueClicks int64 }

type statsRow struct {
	Key string `json:"key"`
	counts
}

type statsAnswer struct {
	Rows  []statsRow `json:"rows"`
	Total counts     `json:"total"`
}

// TestClickStats sends a known set of clicks over three days and checks
// every grouping and filter against counts worked out here.
func TestClickStats(t *testing.T) {
	clk := testenv.NewClock(time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC))
	s := newServer(t, func(c *server.Options) {
		c.Now = clk.Now
		c.TrustedProxies = []string{"127.0.0.1/32", "::1/128"}
	})
	editor, _ := s.User(t, auth.Editor)
	for _, code := range []string{"p1", "p2"} {
		createProduct(t, s, editor, map[string]any{"code": code, "title": code, "asin": "B000123456", "marketplace": "amazon.com"})
	}
	const browser = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"
	const crawler = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	type click struct {
		day              int // of March 2024
		product, article string
		ip, ua           string
	}
	clicks := []click{
		{1, "p1", "a1", "198.51.100.1", browser},
		{1, "p1", "a1", "198.51.100.1", browser}, // same visitor: not unique
		{1, "p1", "a1", "198.51.100.2", browser},
		{1, "p1", "a2", "198.51.100.1", browser}, // same visitor, other article: unique
		{1, "p2", "", "198.51.100.3", browser},   // no article
		{1, "p1", "a1", "198.51.100.9", crawler},
		{2, "p1", "a1", "198.51.100.1", browser}, // a new day: unique again
		{2, "p2", "a1", "198.51.100.4", browser},
		{2, "p2", "a1", "198.51.100.4", ""}, // empty user agent: bot
		{3, "p2", "a2", "198.51.100.5", browser},
		{3, "p2", "a2", "198.51.100.6", browser},
		{3, "p2", "a2", "198.51.100.6", "facebookexternalhit/1.1"},
	}
	for _, c := range clicks {
		clk.Set(time.Date(2024, 3, c.day, 12, 0, 0, 0, time.UTC))
		path := "/go/" + c.product
		if c.article != "" {
			path += "?a=" + c.article
		}
		r := s.Do(testenv.Request{Path: path, Header: map[string]string{"User-Agent": c.ua, "X-Forwarded-For": c.ip}})
		if r.Status != 302 {
			t.Fatalf("click: %d", r.Status)
		}
	}
	// Drain the queue: the rollups are then complete.
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	clk.Set(time.Date(2024, 3, 3, 18, 0, 0, 0, time.UTC))
	editor, _ = s.User(t, auth.Editor)

	// The expected answers, from the click list.
	expect := func(groupBy, product, article string, from, to int) map[string]counts {
		type key struct {
			day              int
			product, article string
		}
		visitors := map[key]map[string]bool{}
		out := map[string]counts{}
		for _, c := range clicks {
			if c.day < from || c.day > to || (product != "" && c.product != product) || (article != "" && c.article != article) {
				continue
			}
			g := map[string]string{"day": fmt.Sprintf("2024-03-%02d", c.day), "product": c.product, "article": c.article}[groupBy]
			n := out[g]
			if c.ua == browser {
				n.Clicks++
				k := key{c.day, c.product, c.article}
				if visitors[k] == nil {
					visitors[k] = map[string]bool{}
				}
				if !visitors[k][c.ip] {
					visitors[k][c.ip] = true
					n.UniqueClicks++
				}
			} else {
				n.BotClicks++
			}
			out[g] = n
		}
		return out
	}
	get := func(query string, header map[string]string) *testenv.Response {
		return s.Do(testenv.Request{Path: "/api/v1/stats/clicks?" + query, Token: editor, Header: header})
	}

	tests := []struct {
		name             string
		groupBy          string
		product, article string
		from, to         int
	}{
		{"by day", "day", "", "", 1, 3},
		{"by product", "product", "", "", 1, 3},
		{"by article", "article", "", "", 1, 3},
		{"one day by product", "product", "", "", 2, 2},
		{"product filter by day", "day", "p1", "", 1, 3},
		{"article filter by product", "product", "", "a1", 1, 3},
		{"both filters by article", "article", "p2", "a2", 1, 3},
		{"range with no clicks", "product", "", "", 4, 9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{"from": {fmt.Sprintf("2024-03-%02d", tc.from)}, "to": {fmt.Sprintf("2024-03-%02d", tc.to)}, "groupBy": {tc.groupBy}}
			if tc.product != "" {
				q.Set("product", tc.product)
			}
			if tc.article != "" {
				q.Set("article", tc.article)
			}
			r := get(q.Encode(), nil)
			if r.Status != 200 {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			var got statsAnswer
			r.JSON(t, &got)
			want := expect(tc.groupBy, tc.product, tc.article, tc.from, tc.to)
			gotMap := map[string]counts{}
			var total counts
			for _, row := range got.Rows {
				if row.counts != (counts{}) || tc.groupBy != "day" {
					gotMap[row.Key] = row.counts
				}
				total.Clicks += row.Clicks
				total.BotClicks += row.BotClicks
				total.UniqueClicks += row.UniqueClicks
			}
			if fmt.Sprint(sorted(gotMap)) != fmt.Sprint(sorted(want)) {
				t.Errorf("rows\n got %v\nwant %v", sorted(gotMap), sorted(want))
			}
			if got.Total != total {
				t.Errorf("total %v, rows sum to %v", got.Total, total)
			}
			if tc.groupBy == "day" && len(got.Rows) != tc.to-tc.from+1 {
				t.Errorf("%d day rows, want one per day", len(got.Rows))
			}

			// The same through CSV, asked for both ways.
			for _, variant := range []struct {
				query  string
				header map[string]string
			}{{q.Encode() + "&format=csv", nil}, {q.Encode(), map[string]string{"Accept": "text/csv"}}} {
				r := get(variant.query, variant.header)
				if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
					t.Fatalf("csv: %d %s", r.Status, r.Header.Get("Content-Type"))
				}
				recs, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				if strings.Join(recs[0], ",") != "key,clicks,botClicks,uniqueClicks" || len(recs)-1 != len(got.Rows) {
					t.Fatalf("csv %q", r.Body)
				}
				for i, rec := range recs[1:] {
					row := got.Rows[i]
					if rec[0] != row.Key || rec[1] != strconv.FormatInt(row.Clicks, 10) || rec[2] != strconv.FormatInt(row.BotClicks, 10) || rec[3] != strconv.FormatInt(row.UniqueClicks, 10) {
						t.Errorf("csv row %v, json row %v", rec, row)
					}
				}
			}
		})
	}

	bad := []string{
		"from=2024-03-01&to=2024-02-01",
		"from=2023-01-01&to=2024-01-02",
		"from=2024-3-1&to=2024-03-03",
		"from=2024-02-30&to=2024-03-03",
		"from=yesterday",
		"to=2024-03-03T00:00:00Z",
		"groupBy=week",
		"groupBy=",
		"product=P1",
		"product=",
		"article=a%20b",
		"article=" + strings.Repeat("a", 201),
		"format=xml",
		"limit=10",
		"groupBy=day&groupBy=product",
		"product[$ne]=x",
	}
	for _, q := range bad {
		if r := get(q, nil); r.Status != 400 {
			t.Errorf("?%s: status %d, want 400", q, r.Status)
		} else {
			r.Problem(t)
		}
	}
	if r := get("from=2023-03-04&to=2024-03-03", nil); r.Status != 200 {
		t.Errorf("a 366-day range: %d %s", r.Status, r.Body)
	}
	if r := get("", nil); r.Status != 200 {
		t.Errorf("defaults: %d %s", r.Status, r.Body)
	}
	// An author without articles sees none of these clicks
	// (TestAuthorStats has the rest).
	author, _ := s.User(t, auth.Author)
	if r := s.Do(testenv.Request{Path: "/api/v1/stats/clicks?groupBy=article", Token: author}); r.Status != 200 || !strings.Contains(string(r.Body), `"rows":[]`) {
		t.Errorf("author: %d %s, want 200 without rows", r.Status, r.Body)
	}
}

func sorted(m map[string]counts) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, fmt.Sprintf("%q:%v", k, v))
	}
	sort.Strings(out)
	return out
}
