package content_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/content"
	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/internal/testenv"
	"github.com/wellness/cms/webhook"
)

// linkServer is a server with associate tags on amazon.com and
// amazon.co.uk.
func linkServer(t *testing.T) *testenv.Server {
	t.Helper()
	return testenv.NewServer(t, func(c *server.Options) {
		c.AmazonTags = map[string]string{"amazon.com": "clinic-20", "amazon.co.uk": "clinic-21"}
	})
}

// html is the served html of the article.
func servedHTML(t *testing.T, s *testenv.Server, slug string) string {
	t.Helper()
	r := get(t, s, "/api/v1/content/articles/"+slug)
	testenv.WantStatus(t, r, http.StatusOK)
	h, _ := jsonObject(t, r)["html"].(string)
	return h
}

// patchSettings changes the affiliate settings at their current version.
func patchSettings(t *testing.T, s *testenv.Server, admin string, patch map[string]any) *testenv.Response {
	t.Helper()
	r := testenv.Call(t, s, admin, "GET", "/api/v1/settings/affiliate", nil)
	testenv.WantStatus(t, r, http.StatusOK)
	return testenv.Call(t, s, admin, "PATCH", "/api/v1/settings/affiliate", patch, "If-Match", r.Header.Get("ETag"))
}

// outboxByEvent counts the webhook deliveries in the outbox by event and slug.
func outboxByEvent(t *testing.T, s *testenv.Server) map[string]int {
	t.Helper()
	ctx := context.Background()
	cur, err := s.DB.Database.Collection("webhook_deliveries").Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []webhook.Delivery
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, d := range docs {
		var p struct {
			Event string
			Data  content.ArticleEvent
		}
		if err := json.Unmarshal([]byte(d.Payload), &p); err != nil {
			t.Fatal(err)
		}
		out[p.Event+" "+p.Data.Slug]++
	}
	return out
}

// TestTagChangeReachesServedLinks: a change of one marketplace's tag shows
// in the next content response of the articles linking to that store,
// without a resanitize, and sends article.updated for the published ones
// among them only.
func TestTagChangeReachesServedLinks(t *testing.T) {
	s := linkServer(t)
	admin, _ := s.User(t, auth.Admin)
	rc := newHookReceiver(t)
	testenv.WantStatus(t, testenv.Call(t, s, admin, "POST", "/api/v1/webhooks",
		map[string]any{"url": rc.srv.URL, "events": content.Events}), http.StatusCreated)

	us := testenv.Publish(t, s, admin, map[string]any{"title": "Heat for back pain",
		"body": `<p>A <a href="https://www.amazon.com/dp/B00TEST002?tag=someone-20">heat pad</a> helps.</p>`})
	uk := testenv.Publish(t, s, admin, map[string]any{"title": "Heat for British backs",
		"body": `<p>A <a href="https://www.amazon.co.uk/dp/B00TEST003">heat pad</a> helps.</p>`})
	plain := testenv.Publish(t, s, admin, map[string]any{"title": "Breathing for calm", "body": "<p>Breathe.</p>"})
	draft := testenv.CreateArticle(t, s, admin, map[string]any{"title": "Unpublished heat",
		"body": `<p><a href="https://www.amazon.com/dp/B00TEST004">pad</a></p>`})

	const before = `href="https://www.amazon.com/dp/B00TEST002?tag=clinic-20"`
	if h := servedHTML(t, s, us.Slug); !strings.Contains(h, before) {
		t.Fatalf("html = %s, want %s", h, before)
	}
	ukBefore := servedHTML(t, s, uk.Slug)
	r := patchSettings(t, s, admin, map[string]any{"tags": map[string]any{"amazon.com": "clinic-99"}})
	testenv.WantStatus(t, r, http.StatusOK)

	if h := servedHTML(t, s, us.Slug); !strings.Contains(h, `href="https://www.amazon.com/dp/B00TEST002?tag=clinic-99"`) {
		t.Errorf("after the tag change html = %s", h)
	}
	if h := servedHTML(t, s, uk.Slug); h != ukBefore {
		t.Errorf("the amazon.co.uk article changed: %s", h)
	}
	// The events are queued before the settings write returns.
	got := outboxByEvent(t, s)
	for key, want := range map[string]int{
		content.EventArticleUpdated + " " + us.Slug:    1,
		content.EventArticleUpdated + " " + uk.Slug:    0,
		content.EventArticleUpdated + " " + plain.Slug: 0,
		content.EventArticleUpdated + " " + draft.Slug: 0,
	} {
		if got[key] != want {
			t.Errorf("%d deliveries %q, want %d (all: %v)", got[key], key, want, got)
		}
	}
}

// TestBodyLinksTiedToProducts: each Amazon product-page link of a body is
// tied to the catalogue product with its ASIN and store, or to one
// created for it (autoCreated, titled from the link text); every counted
// link carries the ping and data-cms-* hooks; the attached products'
// positions follow the body links'.
func TestBodyLinksTiedToProducts(t *testing.T) {
	s := linkServer(t)
	editor, _ := s.User(t, auth.Editor)
	testenv.WantStatus(t, testenv.Call(t, s, editor, "POST", "/api/v1/products", map[string]any{
		"code": "roller", "title": "Foam roller", "asin": "B000123456", "marketplace": "amazon.com"}), http.StatusCreated)
	a := testenv.Publish(t, s, editor, map[string]any{"title": "Pain relief products",
		"body": `<ul><li><a href="https://www.amazon.com/Foam-Roller/dp/B000123456?ref=x">Our roller</a></li>` +
			`<li><a href="https://www.amazon.com/dp/B00NEWPAD1">New <b>heat</b>  pad</a></li>` +
			`<li><a href="https://www.amazon.com/s?k=heat+pads">more pads</a></li>` +
			`<li><a href="https://example.org/" ping="https://evil.example/p" data-cms-product="roller">elsewhere</a></li></ul>`,
		"products": []map[string]string{{"code": "roller"}}})

	r := testenv.Call(t, s, editor, "GET", "/api/v1/products/amazon-com-b00newpad1", nil)
	testenv.WantStatus(t, r, http.StatusOK)
	var p struct {
		Title, ASIN, Marketplace string
		AutoCreated              bool
	}
	r.JSON(t, &p)
	if !p.AutoCreated || p.Title != "New heat pad" || p.ASIN != "B00NEWPAD1" || p.Marketplace != "amazon.com" {
		t.Errorf("created product = %+v", p)
	}
	// The existing product is used, not duplicated.
	testenv.WantStatus(t, testenv.Call(t, s, editor, "GET", "/api/v1/products/amazon-com-b000123456", nil), http.StatusNotFound)

	h := servedHTML(t, s, a.Slug)
	for _, want := range []string{
		`href="https://www.amazon.com/Foam-Roller/dp/B000123456?ref=x&amp;tag=clinic-20" ping="http://cms.test/go/roller/ping?a=pain-relief-products&amp;p=1" data-cms-product="roller" data-cms-position="1"`,
		`href="https://www.amazon.com/dp/B00NEWPAD1?tag=clinic-20" ping="http://cms.test/go/amazon-com-b00newpad1/ping?a=pain-relief-products&amp;p=2" data-cms-product="amazon-com-b00newpad1" data-cms-position="2"`,
		`href="https://www.amazon.com/s?k=heat+pads&amp;tag=clinic-20" rel="sponsored nofollow noopener">`,
		`<a href="https://example.org/">elsewhere</a>`, // an author's ping and data-cms-* are dropped
	} {
		if !strings.Contains(h, want) {
			t.Errorf("html lacks %s:\n%s", want, h)
		}
	}
	if strings.Count(h, "ping=") != 2 {
		t.Errorf("html has %d ping attributes, want 2: %s", strings.Count(h, "ping="), h)
	}
	products, _ := jsonObject(t, get(t, s, "/api/v1/content/articles/"+a.Slug))["products"].([]any)
	if len(products) != 1 || products[0].(map[string]any)["url"] != "http://cms.test/go/roller?a=pain-relief-products&p=4" {
		t.Errorf("products = %v (positions follow the body's 3 Amazon links)", products)
	}
}

// TestBodyLinkPing: a ping is counted, with article and position, when the
// article shows a link to the product at that position (and Ping-To, when
// sent, is that link); a bot's ping is counted as a bot click; anything
// else is refused and not counted.
func TestBodyLinkPing(t *testing.T) {
	s := linkServer(t)
	editor, _ := s.User(t, auth.Editor)
	testenv.WantStatus(t, testenv.Call(t, s, editor, "POST", "/api/v1/products", map[string]any{
		"code": "roller", "title": "Foam roller", "asin": "B000123456", "marketplace": "amazon.com"}), http.StatusCreated)
	a := testenv.Publish(t, s, editor, map[string]any{"title": "Rolling out",
		"body": `<p><a href="https://www.amazon.com/dp/B000123456">roller</a></p>`})
	servedHTML(t, s, a.Slug)
	const href = "https://www.amazon.com/dp/B000123456?tag=clinic-20"
	const browser = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"
	ping := map[string]string{"Content-Type": "text/ping", "User-Agent": browser,
		"Ping-From": "https://clinic.example/articles/rolling-out", "Ping-To": href}
	with := func(k, v string) map[string]string {
		h := map[string]string{}
		for hk, hv := range ping {
			h[hk] = hv
		}
		if v == "" {
			delete(h, k)
		} else {
			h[k] = v
		}
		return h
	}
	for _, tt := range []struct {
		name   string
		path   string
		header map[string]string
		want   int
	}{
		{"a browser's ping", "/go/roller/ping?a=rolling-out&p=1", ping, http.StatusNoContent},
		{"a bot's ping", "/go/roller/ping?a=rolling-out&p=1", with("User-Agent", "Googlebot/2.1 (+http://www.google.com/bot.html)"), http.StatusNoContent},
		{"a beacon without Ping-To", "/go/roller/ping?a=rolling-out&p=1", with("Ping-To", ""), http.StatusNoContent},
		{"Ping-To another URL", "/go/roller/ping?a=rolling-out&p=1", with("Ping-To", "https://www.amazon.com/dp/B000123456?tag=thief-20"), http.StatusBadRequest},
		{"another position", "/go/roller/ping?a=rolling-out&p=2", ping, http.StatusNotFound},
		{"another article", "/go/roller/ping?a=breathing&p=1", ping, http.StatusNotFound},
		{"an unknown product", "/go/mat/ping?a=rolling-out&p=1", ping, http.StatusNotFound},
		{"no article", "/go/roller/ping?p=1", ping, http.StatusBadRequest},
		{"an unknown parameter", "/go/roller/ping?a=rolling-out&p=1&x=1", ping, http.StatusBadRequest},
	} {
		r := s.Do(testenv.Request{Method: "POST", Path: tt.path, Header: tt.header, Body: "PING"})
		if r.Status != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, r.Status, r.Body, tt.want)
		}
	}
	if err := s.Shutdown(context.Background()); err != nil { // drains the click queue
		t.Fatal(err)
	}
	ctx := context.Background()
	cur, err := s.DB.Database.Collection("clicks").Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var clicks []struct {
		Product, Article string
		Position         int
		Bot              bool
	}
	if err := cur.All(ctx, &clicks); err != nil {
		t.Fatal(err)
	}
	bots := 0
	for _, c := range clicks {
		if c.Product != "roller" || c.Article != "rolling-out" || c.Position != 1 {
			t.Errorf("click %+v", c)
		}
		if c.Bot {
			bots++
		}
	}
	if len(clicks) != 3 || bots != 1 {
		t.Errorf("%d clicks (%d bots), want 3 (1 bot): %+v", len(clicks), bots, clicks)
	}
}

// TestLinkModeRedirect: with linkMode redirect the counted body links go
// through /go/ with article and position, carry no ping, and pings are
// refused; an unknown mode is refused.
func TestLinkModeRedirect(t *testing.T) {
	s := linkServer(t)
	admin, _ := s.User(t, auth.Admin)
	a := testenv.Publish(t, s, admin, map[string]any{"title": "Rolling out",
		"body": `<p><a href="https://www.amazon.com/dp/B000123456">roller</a></p>`})
	code := "amazon-com-b000123456"
	testenv.WantStatus(t, patchSettings(t, s, admin, map[string]any{"linkMode": "sometimes"}), http.StatusBadRequest)
	r := patchSettings(t, s, admin, map[string]any{"linkMode": "redirect"})
	testenv.WantStatus(t, r, http.StatusOK)
	if m, _ := jsonObject(t, r)["linkMode"].(string); m != "redirect" {
		t.Errorf("linkMode = %q", m)
	}
	h := servedHTML(t, s, a.Slug)
	want := `href="http://cms.test/go/` + code + `?a=rolling-out&amp;p=1" data-cms-product="` + code + `" data-cms-position="1"`
	if !strings.Contains(h, want) || strings.Contains(h, "ping=") {
		t.Errorf("html = %s, want %s and no ping", h, want)
	}
	r = s.Do(testenv.Request{Method: "POST", Path: "/go/" + code + "/ping?a=rolling-out&p=1", Body: "PING",
		Header: map[string]string{"Content-Type": "text/ping"}})
	testenv.WantStatus(t, r, http.StatusNotFound)
	r = s.Do(testenv.Request{Path: "/go/" + code + "?a=rolling-out&p=1"})
	if r.Status != http.StatusFound || r.Header.Get("Location") != "https://www.amazon.com/dp/B000123456?tag=clinic-20" {
		t.Errorf("redirect: %d %s", r.Status, r.Header.Get("Location"))
	}
	// Back to ping: the store URL again.
	testenv.WantStatus(t, patchSettings(t, s, admin, map[string]any{"linkMode": "ping"}), http.StatusOK)
	if h := servedHTML(t, s, a.Slug); !strings.Contains(h, `href="https://www.amazon.com/dp/B000123456?tag=clinic-20" ping=`) {
		t.Errorf("back in ping mode html = %s", h)
	}
}

// TestResanitizeRecordsBodyLinks: an article stored before body links
// were recorded is served as stored (with its save-time tag) until
// cms resanitize records its links; from then on it carries the current
// tag and the ping.
func TestResanitizeRecordsBodyLinks(t *testing.T) {
	s := linkServer(t)
	admin, _ := s.User(t, auth.Admin)
	a := testenv.Publish(t, s, admin, map[string]any{"title": "Rolling out",
		"body": `<p><a href="https://www.amazon.com/dp/B000123456">roller</a></p>`})
	ctx := context.Background()
	_, err := s.DB.Database.Collection("articles").UpdateOne(ctx, bson.D{{Key: "_id", Value: a.ID}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: "sanitizerVersion", Value: 3}}},
		{Key: "$unset", Value: bson.D{{Key: "bodyLinks", Value: ""}}}})
	if err != nil {
		t.Fatal(err)
	}
	// A fresh instance loads it as stored.
	s = testenv.NewServerOn(t, s.DB, func(c *server.Options) {
		c.AmazonTags = map[string]string{"amazon.com": "clinic-20"}
	})
	svc := s.Services()
	admin, _ = s.User(t, auth.Admin)
	testenv.WantStatus(t, patchSettings(t, s, admin, map[string]any{"tags": map[string]any{"amazon.com": "clinic-99"}}), http.StatusOK)
	if h := servedHTML(t, s, a.Slug); !strings.Contains(h, `href="https://www.amazon.com/dp/B000123456?tag=clinic-20" rel=`) {
		t.Fatalf("before resanitize html = %s, want the stored link", h)
	}
	rep, err := svc.Articles.Resanitize(ctx, cms.ResanitizeOptions{})
	if err != nil || rep.Changed != 1 {
		t.Fatalf("resanitize = %+v, %v", rep, err)
	}
	if h := servedHTML(t, s, a.Slug); !strings.Contains(h, `href="https://www.amazon.com/dp/B000123456?tag=clinic-99" ping=`) {
		t.Errorf("after resanitize html = %s", h)
	}
}

// TestBodyLinkProductCreatedOnce: two instances saving articles that link
// the same new ASIN at once tie both links to one product, created once.
func TestBodyLinkProductCreatedOnce(t *testing.T) {
	a := linkServer(t)
	b := testenv.NewServerOn(t, a.DB, func(c *server.Options) {
		c.AmazonTags = map[string]string{"amazon.com": "clinic-20"}
	})
	tokA, _ := a.User(t, auth.Editor)
	tokB, _ := b.User(t, auth.Editor)
	body := map[string]any{"body": `<p><a href="https://www.amazon.com/dp/B0RACE0001">pad</a></p>`}
	var wg sync.WaitGroup
	status := make([]int, 4)
	for i := range status {
		wg.Go(func() {
			s, tok := a, tokA
			if i%2 == 1 {
				s, tok = b, tokB
			}
			in := map[string]any{"title": fmt.Sprintf("Race %d", i), "body": body["body"]}
			status[i] = s.Do(testenv.Request{Method: "POST", Path: "/api/v1/articles", Token: tok, Body: in}).Status
		})
	}
	wg.Wait()
	for i, st := range status {
		if st != http.StatusCreated {
			t.Errorf("save %d: %d", i, st)
		}
	}
	n, err := a.DB.Database.Collection("products").CountDocuments(context.Background(), bson.D{})
	if err != nil || n != 1 {
		t.Errorf("%d products, %v; want 1", n, err)
	}
	testenv.WantStatus(t, testenv.Call(t, a, tokA, "GET", "/api/v1/products/amazon-com-b0race0001", nil), http.StatusOK)
}
