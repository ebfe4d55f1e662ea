package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/internal/testenv"
)

// clicksToday is the test servers' today: every click and every default
// range is computed from it.
var clicksToday = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func clicksServer(t *testing.T) *testenv.Server {
	t.Helper()
	clk := testenv.NewClock(clicksToday)
	return testenv.NewServer(t, func(o *server.Options) {
		o.Now = clk.Now
		o.AmazonTags = map[string]string{"amazon.com": "clinic-20"}
	})
}

type clicksChartData struct {
	Days   []string `json:"days"`
	People []int64  `json:"people"`
	Bots   []int64  `json:"bots"`
}

var clicksChartScript = regexp.MustCompile(`(?s)<script type="application/json" id="chart-data">(.*?)</script>`)

// clicksChart parses the chart's data out of the page, as chart.js does.
func clicksChart(t *testing.T, p *page) clicksChartData {
	t.Helper()
	m := clicksChartScript.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no chart data in the page\n%.4000s", p.Body)
	}
	var d clicksChartData
	dec := json.NewDecoder(strings.NewReader(m[1]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("chart data is not JSON: %v\n%s", err, m[1])
	}
	if len(d.People) != len(d.Days) || len(d.Bots) != len(d.Days) {
		t.Fatalf("chart data of unequal lengths: %d days, %d people, %d bots", len(d.Days), len(d.People), len(d.Bots))
	}
	return d
}

// clicksSection is the part of the page under the heading title, up to
// the next section.
func clicksSection(t *testing.T, p *page, title string) string {
	t.Helper()
	_, after, ok := strings.Cut(p.Body, ">"+title+"</h2>")
	if !ok {
		t.Fatalf("no section %q\n%.4000s", title, p.Body)
	}
	section, _, _ := strings.Cut(after, "</section>")
	return section
}

const (
	clicksBrowser = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
	clicksBot     = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
)

// clicksSetup makes a product, two authors' articles and clicks on them
// today: on alice's a-one two by people (positions 1 and 2) and one by a
// bot, on bob's b-one one by a person. It waits until the stats count
// them all.
func clicksSetup(t *testing.T, s *testenv.Server, alice, bob *auth.User) {
	t.Helper()
	ctx := context.Background()
	editor, _ := s.User(t, auth.Editor)
	r := s.Do(testenv.Request{Method: "POST", Path: "/api/v1/products", Token: editor,
		Body: map[string]any{"code": "roller", "title": "Foam roller", "asin": "B000123456", "marketplace": "amazon.com"}})
	testenv.WantStatus(t, r, http.StatusCreated)
	for u, slug := range map[*auth.User]string{alice: "a-one", bob: "b-one"} {
		if _, err := s.Services().Articles.Create(ctx, historyAs(u), cms.Content{Title: slug, Slug: slug}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ path, ua string }{
		{"/go/roller?a=a-one&p=1", clicksBrowser},
		{"/go/roller?a=a-one&p=2", clicksBrowser},
		{"/go/roller?a=a-one&p=2", clicksBot},
		{"/go/roller?a=b-one&p=1", clicksBrowser},
	} {
		r := s.Do(testenv.Request{Path: c.path, Header: map[string]string{"User-Agent": c.ua}})
		testenv.WantStatus(t, r, http.StatusFound)
	}
	all := &auth.Principal{UserID: "editor", Role: auth.Editor}
	day := clicksToday.Format(time.DateOnly)
	testenv.Eventually(t, "the clicks in the stats", func() bool {
		st, err := s.Services().Affiliate.ClickStats(ctx, all, affiliate.StatsQuery{From: day, To: day, GroupBy: "day"})
		return err == nil && st.Total.Clicks == 3 && st.Total.BotClicks == 1
	})
}

// TestClicksPage checks the dashboard of every role: the figure and its
// data over the default 30 days, and the tables, each showing only what
// the service lets the role see.
func TestClicksPage(t *testing.T) {
	s := clicksServer(t)
	alice := signIn(t, s, auth.Author)
	bob := s.NewUser(t, auth.Author)
	clicksSetup(t, s, alice.User, bob)

	tests := []struct {
		name          string
		b             *browser
		people, bots  int64 // today's
		articles      []string
		notArticles   []string
		positionsSeen []string
	}{
		{"contributor without articles", signIn(t, s, auth.Contributor), 0, 0, nil, []string{"a-one", "b-one"}, nil},
		{"author sees own articles", alice, 2, 1, []string{"a-one"}, []string{"b-one"}, []string{"1", "2"}},
		{"editor sees all", signIn(t, s, auth.Editor), 3, 1, []string{"a-one", "b-one"}, nil, []string{"1", "2"}},
		{"admin sees all", signIn(t, s, auth.Admin), 3, 1, []string{"a-one", "b-one"}, nil, []string{"1", "2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.b.get("/admin/clicks")
			p.want(t, http.StatusOK,
				"<h1>Clicks</h1>",
				`<label for="clicks-from">From</label>`, `<input id="clicks-from" name="from" type="date" value="2026-10-22">`,
				`<label for="clicks-to">To</label>`, `<input id="clicks-to" name="to" type="date" value="2026-11-20">`,
				`>7 days</a>`, `>30 days</a>`, `>90 days</a>`,
				`<figure class="chart" role="figure" aria-labelledby="chart-title">`,
				`<figcaption id="chart-title">Clicks per day</figcaption>`,
				`<div data-chart="chart-data"></div>`,
				`<table class="chart-table">`, `<th scope="col">Day</th>`,
				`/admin/static/chart.js?v=`,
				`<a href="/admin/clicks.csv?from=2026-10-22&amp;to=2026-11-20" download>Download CSV</a>`,
			)
			// The layout's navigation offers Clicks from the author role
			// up, though contributors may read their stats too.
			if tc.b.User.Role != auth.Contributor && !strings.Contains(p.Body, `aria-current="page">Clicks</a>`) {
				t.Error("the navigation does not mark Clicks as the current page")
			}
			d := clicksChart(t, p)
			if len(d.Days) != 30 || d.Days[0] != "2026-10-22" || d.Days[29] != "2026-11-20" {
				t.Fatalf("days %v, want the 30 days up to 2026-11-20", d.Days)
			}
			for i := range 29 {
				if d.People[i] != 0 || d.Bots[i] != 0 {
					t.Errorf("clicks on %s: %d, %d; want none", d.Days[i], d.People[i], d.Bots[i])
				}
			}
			if d.People[29] != tc.people || d.Bots[29] != tc.bots {
				t.Errorf("today: %d people, %d bots; want %d, %d", d.People[29], d.Bots[29], tc.people, tc.bots)
			}
			if !strings.Contains(p.Body, `<tr><th scope="row">2026-11-20</th><td class="num">`) {
				t.Error("the chart's table lacks today")
			}

			articles := clicksSection(t, p, "Top articles")
			for _, a := range tc.articles {
				if !strings.Contains(articles, `<th scope="row">`+a+`</th>`) {
					t.Errorf("top articles lack %s\n%s", a, articles)
				}
			}
			for _, a := range tc.notArticles {
				if strings.Contains(articles, a) {
					t.Errorf("top articles show %s\n%s", a, articles)
				}
			}
			positions := clicksSection(t, p, "Top positions")
			for _, pos := range tc.positionsSeen {
				if !strings.Contains(positions, `<th scope="row">`+pos+`</th>`) {
					t.Errorf("top positions lack %s\n%s", pos, positions)
				}
			}
			products := clicksSection(t, p, "Top products")
			if tc.people > 0 {
				if !strings.Contains(products, `<th scope="row">Foam roller (roller)</th>`) ||
					!strings.Contains(products, `<meter class="bar" min="0" max="`) {
					t.Errorf("top products lack the product and its bar\n%s", products)
				}
			} else if !strings.Contains(products, "No clicks in this range.") {
				t.Errorf("top products of no clicks\n%s", products)
			}
		})
	}
}

func TestClicksRange(t *testing.T) {
	s := clicksServer(t)
	b := signIn(t, s, auth.Author)

	d := clicksChart(t, b.get("/admin/clicks?from=2026-11-14&to=2026-11-20"))
	if want := []string{"2026-11-14", "2026-11-15", "2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20"}; !slices.Equal(d.Days, want) {
		t.Errorf("days %v, want %v", d.Days, want)
	}
	p := b.get("/admin/clicks?from=2026-11-14&to=2026-11-20")
	p.want(t, http.StatusOK, `<a href="/admin/clicks?from=2026-11-14&amp;to=2026-11-20" aria-current="true">7 days</a>`)
	if d := clicksChart(t, b.get("/admin/clicks?from=2026-08-23&to=2026-11-20")); len(d.Days) != 90 {
		t.Errorf("90 days: %d", len(d.Days))
	}

	tests := []struct {
		name, query, field, msg string
	}{
		{"from after to", "from=2026-11-20&to=2026-11-01", "from", "must not be after to"},
		{"not a date", "from=yesterday&to=2026-11-01", "from", "must be a date like"},
		{"bad to", "from=2026-11-01&to=2026-13-01", "to", "must be a date like"},
		{"over a year", "from=2025-01-01&to=2026-11-20", "to", "the range may span at most 366 days"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/admin/clicks?", "/admin/clicks.csv?"} {
				p := b.get(path + tc.query)
				p.want(t, http.StatusBadRequest, `<label for="clicks-from">From</label>`,
					`role="alert">These dates do not make a range the statistics can show; see below.</p>`,
					`<p class="field-error" id="clicks-`+tc.field+`-error" role="alert">`+tc.msg)
				if strings.Contains(p.Body, "<figure") {
					t.Error("a refused range shows a chart")
				}
			}
		})
	}
	// What was typed stays in the form.
	b.get("/admin/clicks?from=yesterday&to=2026-11-01").want(t, http.StatusBadRequest,
		`name="from" type="date" value="yesterday"`, `name="to" type="date" value="2026-11-01"`)
}

// TestClicksCSV checks that the download is the API's CSV for the same
// range and grouping, as an attachment.
func TestClicksCSV(t *testing.T) {
	s := clicksServer(t)
	alice := signIn(t, s, auth.Author)
	clicksSetup(t, s, alice.User, s.NewUser(t, auth.Author))
	token, _, err := s.Services().Auth.Tokens().Issue(alice.User.ID, alice.User.Role, alice.User.SessionVersion)
	if err != nil {
		t.Fatal(err)
	}
	for _, groupBy := range []string{"", "article", "position", "product"} {
		t.Run("by "+groupBy, func(t *testing.T) {
			q := "from=2026-11-14&to=2026-11-20"
			name := "clicks-2026-11-14-2026-11-20-by-day.csv"
			if groupBy != "" {
				q += "&groupBy=" + groupBy
				name = "clicks-2026-11-14-2026-11-20-by-" + groupBy + ".csv"
			}
			p := alice.get("/admin/clicks.csv?" + q)
			p.want(t, http.StatusOK, "key,clicks,botClicks,uniqueClicks\n")
			if ct := p.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if cd := p.Header.Get("Content-Disposition"); cd != `attachment; filename="`+name+`"` {
				t.Errorf("Content-Disposition %q", cd)
			}
			api := s.Do(testenv.Request{Path: "/api/v1/stats/clicks?format=csv&" + q, Token: token})
			testenv.WantStatus(t, api, http.StatusOK)
			if p.Body != string(api.Body) {
				t.Errorf("the page's CSV\n%s\nis not the API's\n%s", p.Body, api.Body)
			}
			if strings.Contains(p.Body, "b-one") {
				t.Error("the CSV shows another author's article")
			}
		})
	}
	p := alice.get("/admin/clicks.csv?from=2026-11-20&to=2026-11-20&groupBy=article")
	if !strings.Contains(p.Body, "\na-one,2,1,") {
		t.Errorf("today's CSV by article:\n%s", p.Body)
	}
}
