package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/web"
)

// The dashboard is open to whoever may read click statistics: every
// writer, contributors included (affiliate's readStats). The service
// shows editors and admins every click and anyone else the clicks of
// their own articles.
func (ui *UI) registerClicks(g *auth.Router) {
	g.GET("/clicks", auth.AtLeast(auth.Contributor), ui.clicksPage)
	g.GET("/clicks.csv", auth.AtLeast(auth.Contributor), ui.clicksCSV)
}

// clicksTopRows is how many rows each top table shows; the CSV has all.
const clicksTopRows = 20

type clicksData struct {
	From, To string
	Errors   map[string]string
	Ranges   []clicksRange
	Total    affiliate.Counts
	// Chart is the chart's data as JSON: {"days":[…],"people":[…],"bots":[…]}.
	Chart  template.JS
	Days   []affiliate.StatsRow
	Tables []clicksTable
	// CSV is the link to the CSV of the range, by day.
	CSV string
}

// clicksRange is a quick link to the last few days, up to today.
type clicksRange struct {
	Label   string
	URL     string
	Current bool
}

// clicksTable is the top rows of one grouping, with the largest count of
// people for the bars.
type clicksTable struct {
	ID    string // of its heading
	Title string
	Key   string // the heading of the key column
	// None is what a row with an empty key (clicks of links outside an
	// article, or without a position) shows.
	None string
	// CSV is the link to the table's CSV and CSVLabel its text.
	CSV, CSVLabel string
	Rows          []clicksRow
	Max           int64
	// All is how many rows there are in all.
	All int
}

// clicksRow is a row of a top table, with what its key reads as.
type clicksRow struct {
	Label string
	affiliate.StatsRow
}

// clicksChart is the chart's data: one entry per day of the range.
type clicksChart struct {
	Days   []string `json:"days"`
	People []int64  `json:"people"`
	Bots   []int64  `json:"bots"`
}

// clicksQuery reads the range of the form (empty fields take the
// service's defaults: the 30 days up to today, UTC) through the API's
// parser, so the page and the API take the same dates and limits.
func (ui *UI) clicksQuery(c *gin.Context, groupBy string) (affiliate.StatsQuery, error) {
	v := web.Query{}
	for _, k := range []string{"from", "to"} {
		if s := c.Query(k); s != "" {
			v[k] = s
		}
	}
	if groupBy != "" {
		v["groupBy"] = groupBy
	}
	return affiliate.ParseStatsQuery(v, "", ui.opt.Now())
}

func (ui *UI) clicksPage(c *gin.Context) {
	d := &clicksData{Ranges: ui.clicksRanges(c)}
	q, err := ui.clicksQuery(c, "day")
	if err != nil {
		ui.clicksRefused(c, err)
		return
	}
	d.From, d.To = q.From, q.To
	d.CSV = clicksCSVURL(q, "day")
	ctx := c.Request.Context()
	p := auth.Caller(c)
	days, err := ui.svc.Affiliate.ClickStats(ctx, p, q)
	if err != nil {
		ui.fail(c, err)
		return
	}
	d.Days, d.Total = days.Rows, days.Total
	ch := clicksChart{Days: []string{}, People: []int64{}, Bots: []int64{}}
	for _, r := range days.Rows {
		ch.Days = append(ch.Days, r.Key)
		ch.People = append(ch.People, r.Clicks)
		ch.Bots = append(ch.Bots, r.BotClicks)
	}
	b, err := json.Marshal(ch)
	if err != nil {
		web.Fail(c, fmt.Errorf("admin: chart data: %w", err))
		return
	}
	// json.Marshal escapes <, > and & (\u003c…), so the data cannot end
	// its <script type="application/json"> element.
	d.Chart = template.JS(b)
	for _, t := range []clicksTable{
		{ID: "product", Title: "Top products", Key: "Product", None: "(none)"},
		{ID: "article", Title: "Top articles", Key: "Article", None: "No article"},
		{ID: "position", Title: "Top positions", Key: "Position in the article", None: "Not given"},
	} {
		q.GroupBy = t.ID
		st, err := ui.svc.Affiliate.ClickStats(ctx, p, q)
		if err != nil {
			ui.fail(c, err)
			return
		}
		t.CSV, t.CSVLabel = clicksCSVURL(q, t.ID), "Download CSV by "+t.ID
		names := map[string]string{}
		if t.ID == "product" {
			names = ui.productTitles()
		}
		d.Tables = append(d.Tables, topClicks(t, st.Rows, names))
	}
	ui.render(c, http.StatusOK, "clicks.html", &page{Title: "Clicks", Nav: "clicks", Scripts: []string{"chart.js"}, Data: d})
}

// topClicks keeps the first rows (the service orders them by people's
// clicks, most first), labelled by names where it has the key.
func topClicks(t clicksTable, rows []affiliate.StatsRow, names map[string]string) clicksTable {
	t.All, t.Max = len(rows), 1
	for _, r := range rows[:min(len(rows), clicksTopRows)] {
		label := r.Key
		switch {
		case r.Key == "":
			label = t.None
		case names[r.Key] != "":
			label = names[r.Key] + " (" + r.Key + ")"
		}
		t.Rows = append(t.Rows, clicksRow{Label: label, StatsRow: r})
		t.Max = max(t.Max, r.Clicks)
	}
	return t
}

// productTitles are the active products' titles by code, from the
// catalogue in memory; an archived product shows as its code.
func (ui *UI) productTitles() map[string]string {
	out := map[string]string{}
	for _, p := range ui.svc.Affiliate.Choices("", math.MaxInt32) {
		out[p.Code] = p.Title
	}
	return out
}

// clicksRefused shows the form again with what was typed and why the
// range was refused.
func (ui *UI) clicksRefused(c *gin.Context, err error) {
	status, text, fields := message(c, err)
	if len(fields) > 0 {
		text = "These dates do not make a range the statistics can show; see below."
	}
	d := &clicksData{Ranges: ui.clicksRanges(c), From: c.Query("from"), To: c.Query("to"), Errors: fields}
	if msg, ok := fields["groupBy"]; ok {
		text = "groupBy " + msg + "."
	}
	ui.render(c, status, "clicks.html", &page{Title: "Clicks", Nav: "clicks", Error: text, Data: d})
}

// clicksCSVURL is the link to the CSV of q's range grouped by groupBy.
func clicksCSVURL(q affiliate.StatsQuery, groupBy string) string {
	v := url.Values{"from": {q.From}, "to": {q.To}}
	if groupBy != "day" {
		v.Set("groupBy", groupBy)
	}
	return Path + "/clicks.csv?" + v.Encode()
}

// clicksRanges are the quick links, each ending today (UTC).
func (ui *UI) clicksRanges(c *gin.Context) []clicksRange {
	today := ui.opt.Now().UTC()
	to := today.Format(time.DateOnly)
	var out []clicksRange
	for _, n := range []int{7, 30, 90} {
		from := today.AddDate(0, 0, 1-n).Format(time.DateOnly)
		out = append(out, clicksRange{
			Label:   fmt.Sprintf("%d days", n),
			URL:     Path + "/clicks?" + url.Values{"from": {from}, "to": {to}}.Encode(),
			Current: c.Query("from") == from && c.Query("to") == to,
		})
	}
	return out
}

// clicksCSV answers the CSV the stats API gives for the range, by day or
// by the groupBy the link names.
func (ui *UI) clicksCSV(c *gin.Context) {
	groupBy := c.Query("groupBy")
	if groupBy == "" {
		groupBy = "day"
	}
	q, err := ui.clicksQuery(c, groupBy)
	if err != nil {
		ui.clicksRefused(c, err)
		return
	}
	q.CSV = true
	st, err := ui.svc.Affiliate.ClickStats(c.Request.Context(), auth.Caller(c), q)
	if err != nil {
		ui.fail(c, err)
		return
	}
	var buf bytes.Buffer
	if err := st.WriteCSV(&buf); err != nil {
		web.Fail(c, fmt.Errorf("admin: clicks csv: %w", err))
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="clicks-%s-%s-by-%s.csv"`, q.From, q.To, q.GroupBy))
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}
