package affiliate

import (
	"encoding/csv"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// MaxStatsDays bounds a stats query: a year, leap day included.
const MaxStatsDays = 366

// StatsQuery selects click statistics: UTC days From..To, both inclusive,
// grouped by day, product, article or position (the p of the link),
// optionally for one product and/or one article.
type StatsQuery struct {
	From, To string // YYYY-MM-DD
	GroupBy  string // day, product, article or position
	Product  string
	Article  string
	// CSV asks for text/csv instead of JSON.
	CSV bool
}

// StatsRow is one group of a stats answer. Key is the day, the product
// code, the article slug or the position ("" for clicks that named no
// article, or no position).
type StatsRow struct {
	Key string `json:"key"`
	Counts
}

// Stats is a stats answer.
type Stats struct {
	Rows  []StatsRow `json:"rows"`
	Total Counts     `json:"total"`
}

// statsParams are the parameters of the stats route.
var statsParams = []string{"from", "to", "groupBy", "product", "article", "format"}

// ParseStatsQuery checks the stats route's query string, read by
// web.ParseQuery under statsParams (which refuses unknown, repeated and
// empty parameters); every malformed value is an Invalid error naming its
// parameter. accept is the Accept header, which may ask for CSV. A missing
// range is the 30 days up to today; a lone to is the 30 days up to it.
func ParseStatsQuery(v web.Query, accept string, now time.Time) (StatsQuery, error) {
	var f problem.Fields
	q := StatsQuery{GroupBy: "day"}
	today := now.UTC().Truncate(24 * time.Hour)
	to, from := today, today.AddDate(0, 0, -29)
	if s, ok := v["to"]; ok {
		t, err := time.Parse(dayLayout, s)
		if err != nil {
			f.Add("to", "must be a date like 2024-05-31")
		}
		to = t
	}
	if s, ok := v["from"]; ok {
		t, err := time.Parse(dayLayout, s)
		if err != nil {
			f.Add("from", "must be a date like 2024-05-01")
		}
		from = t
	} else if _, ok := v["to"]; ok {
		from = to.AddDate(0, 0, -29)
	}
	if len(f) == 0 {
		switch days := int(to.Sub(from).Hours()/24) + 1; {
		case days < 1:
			f.Add("from", "must not be after to")
		case days > MaxStatsDays:
			f.Add("to", "the range may span at most %d days", MaxStatsDays)
		}
	}
	q.From, q.To = from.Format(dayLayout), to.Format(dayLayout)
	if s, ok := v["groupBy"]; ok {
		switch s {
		case "day", "product", "article", "position":
			q.GroupBy = s
		default:
			f.Add("groupBy", "must be day, product, article or position")
		}
	}
	if s, ok := v["product"]; ok {
		if !codePattern.MatchString(s) {
			f.Add("product", "must be a product code")
		}
		q.Product = s
	}
	if s, ok := v["article"]; ok {
		if !slugPattern.MatchString(s) {
			f.Add("article", "must be an article slug")
		}
		q.Article = s
	}
	if s, ok := v["format"]; ok {
		switch s {
		case "json":
		case "csv":
			q.CSV = true
		default:
			f.Add("format", "must be json or csv")
		}
	} else {
		q.CSV = acceptsCSV(accept)
	}
	return q, f.Err()
}

// acceptsCSV reports whether the Accept header names text/csv before, or
// instead of, JSON.
func acceptsCSV(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch mt {
		case "text/csv":
			return true
		case "application/json", "application/*", "*/*":
			return false
		}
	}
	return false
}

// finish orders the rows and computes the total. Days are listed in order,
// with the days without clicks filled in so a chart has no gaps; products
// articles and positions by clicks, most first.
func (q StatsQuery) finish(rows []StatsRow) Stats {
	if q.GroupBy == "day" {
		have := make(map[string]StatsRow, len(rows))
		for _, r := range rows {
			have[r.Key] = r
		}
		from, _ := time.Parse(dayLayout, q.From)
		to, _ := time.Parse(dayLayout, q.To)
		rows = rows[:0]
		for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
			k := d.Format(dayLayout)
			r, ok := have[k]
			if !ok {
				r = StatsRow{Key: k}
			}
			rows = append(rows, r)
		}
	} else {
		sort.Slice(rows, func(i, j int) bool {
			if rows[i].Clicks != rows[j].Clicks {
				return rows[i].Clicks > rows[j].Clicks
			}
			return rows[i].Key < rows[j].Key
		})
	}
	st := Stats{Rows: rows}
	if st.Rows == nil {
		st.Rows = []StatsRow{}
	}
	for _, r := range rows {
		st.Total.add(r.Counts)
	}
	return st
}

// WriteCSV writes the rows as CSV under the header line
// key,clicks,botClicks,uniqueClicks (the JSON names). Keys are codes,
// slugs and dates; one that a spreadsheet would read as a formula is
// quoted with a leading apostrophe.
func (st Stats) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"key", "clicks", "botClicks", "uniqueClicks"})
	for _, r := range st.Rows {
		key := r.Key
		if key != "" && strings.ContainsRune("=+-@", rune(key[0])) {
			key = "'" + key
		}
		_ = cw.Write([]string{key, strconv.FormatInt(r.Clicks, 10),
			strconv.FormatInt(r.BotClicks, 10), strconv.FormatInt(r.UniqueClicks, 10)})
	}
	cw.Flush()
	return cw.Error()
}
