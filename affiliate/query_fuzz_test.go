package affiliate

import (
	"net/url"
	"testing"
	"time"

	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// FuzzParseStatsQuery: the stats query never panics, refuses only with a
// validation problem, and what it accepts is a range the stats can serve,
// which written back as a query string reads as the same query.
func FuzzParseStatsQuery(f *testing.F) {
	for _, s := range [][2]string{
		{"", ""}, {"from=2024-03-01&to=2024-03-31&groupBy=product", ""}, {"to=2024-03-03", "text/csv"},
		{"from=2024-03-01", "application/json, text/csv"}, {"from=2023-03-04&to=2024-03-03", ""},
		{"from=2024-02-30", ""}, {"from=0000-01-01&to=9999-12-31", ""}, {"from=2024-03-02&to=2024-03-01", ""},
		{"product=roller&article=knee-pain&format=csv", "*/*"}, {"groupBy=", ""}, {"cursor=%ZZ", ""},
		{"product[$ne]=x", ""}, {"format=xml", "text/csv;q=0.5"}, {"from=2024-3-1", ""}, {"a=1;b=2", ""},
	} {
		f.Add(s[0], s[1])
	}
	now := time.Date(2024, 3, 15, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw, accept string) {
		v, err := web.ParseRawQuery(raw, statsParams...)
		if err != nil {
			if problem.KindOf(err) != problem.Invalid {
				t.Fatalf("%q: error kind %v", raw, problem.KindOf(err))
			}
			return
		}
		q, err := ParseStatsQuery(v, accept, now)
		if err != nil {
			if problem.KindOf(err) != problem.Invalid {
				t.Fatalf("%q: error kind %v: %v", raw, problem.KindOf(err), err)
			}
			return
		}
		from, ferr := time.Parse(dayLayout, q.From)
		to, terr := time.Parse(dayLayout, q.To)
		if ferr != nil || terr != nil || to.Before(from) || to.Sub(from) >= MaxStatsDays*24*time.Hour {
			t.Fatalf("%q: accepted the range %s..%s", raw, q.From, q.To)
		}
		switch q.GroupBy {
		case "day", "product", "article":
		default:
			t.Fatalf("%q: accepted groupBy %q", raw, q.GroupBy)
		}
		if (q.Product != "" && !codePattern.MatchString(q.Product)) || (q.Article != "" && !slugPattern.MatchString(q.Article)) {
			t.Fatalf("%q: accepted product %q, article %q", raw, q.Product, q.Article)
		}
		back := url.Values{"from": {q.From}, "to": {q.To}, "groupBy": {q.GroupBy}, "format": {"json"}}
		if q.CSV {
			back.Set("format", "csv")
		}
		if q.Product != "" {
			back.Set("product", q.Product)
		}
		if q.Article != "" {
			back.Set("article", q.Article)
		}
		v2, err := web.ParseRawQuery(back.Encode(), statsParams...)
		if err != nil {
			t.Fatalf("%q: written back as %q, refused: %v", raw, back.Encode(), err)
		}
		q2, err := ParseStatsQuery(v2, "", now)
		if err != nil || q2 != q {
			t.Fatalf("%q: written back as %q, reads as %+v (%v), want %+v", raw, back.Encode(), q2, err, q)
		}
	})
}

// FuzzProductCursor: the product list's cursor never panics, decodes only
// as the API writes it (one cursor per position) and only for its own list
// (archived or not), and every code round-trips.
func FuzzProductCursor(f *testing.F) {
	all, archived := productsScope(nil), productsScope(new(true))
	for _, s := range []string{"", "cm9sbGVy", "YWI", "YWJ", "YWI=", "%ZZ", "cm9sbGVy\n", "LS0", "QUJD", "AA",
		encodeProductCursor(all, "roller"), encodeProductCursor(archived, "roller") + "\n", encodeProductCursor(all, "Roller")} {
		f.Add(s)
	}
	decode := func(scope, cur string) (string, problem.Fields) {
		var fields problem.Fields
		return productCursor(web.Query{"cursor": cur}, &fields, scope), fields
	}
	f.Fuzz(func(t *testing.T, cur string) {
		for _, scope := range []string{all, archived} {
			code, fields := decode(scope, cur)
			if (code == "") == (len(fields) == 0) || len(fields) > 1 {
				t.Fatalf("%q: code %q with field errors %v", cur, code, fields)
			}
			if code != "" {
				if !ValidCode(code) {
					t.Fatalf("%q decodes to %q, not a code", cur, code)
				}
				if enc := encodeProductCursor(scope, code); enc != cur {
					t.Fatalf("%q decodes to %q, which the API writes as %q", cur, code, enc)
				}
			}
			if ValidCode(cur) {
				if back, fields := decode(scope, encodeProductCursor(scope, cur)); back != cur {
					t.Fatalf("code %q: cursor %q decodes to %q (%v)", cur, encodeProductCursor(scope, cur), back, fields)
				}
			}
		}
		if c, _ := decode(all, cur); c != "" {
			if other, _ := decode(archived, cur); other != "" {
				t.Fatalf("%q decodes for both lists", cur)
			}
		}
	})
}
