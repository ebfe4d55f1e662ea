package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/content"
	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/internal/testenv"
	"github.com/wellness/cms/webhook"
)

// The article events, as cms defines them; the service takes its event
// names from its callers.
var (
	eventPublished = content.EventArticlePublished
	eventUpdated   = content.EventArticleUpdated
	eventDeleted   = content.EventArticleDeleted
)

func TestMain(m *testing.M) { testenv.Main(m) }

// receiver records deliveries and answers with the next queued status.
type receiver struct {
	mu       sync.Mutex
	got      []*http.Request
	bodies   [][]byte
	statuses []int
	srv      *httptest.Server
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	rc := &receiver{statuses: statuses}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, r)
		rc.bodies = append(rc.bodies, body)
		code := 204
		if len(rc.statuses) > 0 {
			code, rc.statuses = rc.statuses[0], rc.statuses[1:]
		}
		rc.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

// waitFor polls until the receiver has seen n requests.
func (rc *receiver) waitFor(t *testing.T, n int) {
	t.Helper()
	testenv.Eventually(t, fmt.Sprintf("%d deliveries at the receiver", n), func() bool { return rc.count() >= n })
}

func createHook(t *testing.T, s *testenv.Server, token, url string, events ...string) (id, secret string) {
	t.Helper()
	r := s.Do(testenv.Request{Method: "POST", Path: "/api/v1/webhooks", Token: token,
		Body: map[string]any{"url": url, "events": events}})
	if r.Status != 201 {
		t.Fatalf("create hook: %d %s", r.Status, r.Body)
	}
	var out struct{ ID, Secret string }
	r.JSON(t, &out)
	if out.Secret == "" {
		t.Fatal("the secret is not shown at creation")
	}
	return out.ID, out.Secret
}

func TestDeliverySignedAndListed(t *testing.T) {
	s := testenv.NewServer(t)
	admin, _ := s.User(t, auth.Admin)
	rc := newReceiver(t)
	id, secret := createHook(t, s, admin, rc.srv.URL+"/rebuild", eventPublished)
	other := newReceiver(t)
	otherID, _ := createHook(t, s, admin, other.srv.URL, eventDeleted)

	data := map[string]string{"slug": "massage-for-chronic-pain-relief"}
	if err := s.Services().Webhooks.Emit(context.Background(), eventPublished, data); err != nil {
		t.Fatal(err)
	}
	rc.waitFor(t, 1)
	req, body := rc.got[0], rc.bodies[0]
	if req.Method != "POST" || req.URL.Path != "/rebuild" || req.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("request %s %s %s", req.Method, req.URL.Path, req.Header.Get("Content-Type"))
	}
	ts, err := strconv.ParseInt(req.Header.Get(webhook.HeaderTimestamp), 10, 64)
	if err != nil {
		t.Fatalf("timestamp header: %v", err)
	}
	if !webhook.Verify(secret, ts, body, req.Header.Get(webhook.HeaderSignature)) {
		t.Fatalf("signature %q does not verify", req.Header.Get(webhook.HeaderSignature))
	}
	if webhook.Verify("wrong secret", ts, body, req.Header.Get(webhook.HeaderSignature)) ||
		webhook.Verify(secret, ts+1, body, req.Header.Get(webhook.HeaderSignature)) {
		t.Fatal("signature verifies with the wrong secret or timestamp")
	}
	var payload struct {
		ID, Event string
		Data      map[string]string
	}
	if err := json.Unmarshal(body, &payload); err != nil || payload.Event != eventPublished ||
		payload.Data["slug"] != data["slug"] || payload.ID != req.Header.Get(webhook.HeaderDelivery) {
		t.Fatalf("payload %s (%v)", body, err)
	}
	// The admin sees the delivery and the hook's last status.
	testenv.Eventually(t, "the delivery to show as delivered", func() bool {
		r := s.Do(testenv.Request{Path: "/api/v1/webhooks/" + id + "/deliveries", Token: admin})
		var list struct{ Items []webhook.Delivery }
		r.JSON(t, &list)
		return len(list.Items) == 1 && list.Items[0].Status == webhook.Delivered
	})
	// The hook that did not subscribe got no outbox entry, so no scan can
	// ever send it this event; and with the one delivery done, a scan finds
	// nothing due.
	r := s.Do(testenv.Request{Path: "/api/v1/webhooks/" + otherID + "/deliveries", Token: admin})
	if r.Status != 200 || strings.TrimSpace(string(r.Body)) != `{"items":[],"nextCursor":null}` {
		t.Fatalf("deliveries of the hook that did not subscribe: %d %s", r.Status, r.Body)
	}
	if n, err := s.Services().Webhooks.DeliverDue(context.Background()); err != nil || n != 0 {
		t.Fatalf("a scan after the delivery attempted %d (%v), want 0", n, err)
	}
	if other.count() != 0 {
		t.Fatal("a hook received an event it did not subscribe to")
	}
	// The hook's lastStatus is written after the delivery's status.
	var h webhook.Hook
	testenv.Eventually(t, "the hook's last status", func() bool {
		r = s.Do(testenv.Request{Path: "/api/v1/webhooks/" + id, Token: admin})
		r.JSON(t, &h)
		return h.LastStatus != ""
	})
	if h.LastStatus != "delivered (HTTP 204)" {
		t.Errorf("hook lastStatus = %q", h.LastStatus)
	}
	if strings.Contains(string(r.Body), secret) {
		t.Error("the secret is shown after creation")
	}
}

// TestRetriesWithBackoff drives the delivery loop's step (DeliverDue) on a
// service of its own with a test clock, so every scan is one call and its
// result says what it did.
func TestRetriesWithBackoff(t *testing.T) {
	db := testenv.OpenDB(t)
	clk := testenv.NewClock(time.Now().UTC())
	svc := webhook.New(db.Database, webhook.Options{Events: content.Events, AllowPrivate: true, Now: clk.Now, Logger: testenv.Quiet()})
	rc := newReceiver(t, 500, 503)
	if _, err := svc.CreateHook(context.Background(), webhook.HookInput{URL: rc.srv.URL, Events: []string{eventUpdated}}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Emit(context.Background(), eventUpdated, map[string]int{"n": 1}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		advance   time.Duration
		attempted int
		received  int
	}{
		{0, 1, 1},                // first attempt at once: 500
		{0, 0, 1},                // a scan right after: not due
		{29 * time.Second, 0, 1}, // still inside the 30 s backoff
		{2 * time.Second, 1, 2},  // due: 503
		{59 * time.Second, 0, 2}, // the backoff doubled to 60 s
		{2 * time.Second, 1, 3},  // due: 204, delivered
		{24 * time.Hour, 0, 3},   // delivered: never again
	}
	for i, st := range steps {
		clk.Advance(st.advance)
		n, err := svc.DeliverDue(context.Background())
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if n != st.attempted || rc.count() != st.received {
			t.Fatalf("step %d (+%v): attempted %d, receiver has %d; want %d and %d",
				i, st.advance, n, rc.count(), st.attempted, st.received)
		}
	}
}

func TestRetriesGiveUpAfterADay(t *testing.T) {
	clk := testenv.NewClock(time.Now().UTC())
	s := testenv.NewServer(t, func(c *server.Options) { c.Now = clk.Now })
	admin, _ := s.User(t, auth.Admin)

	// A target that always fails is retried for more than a day, then
	// given up.
	dead := newReceiver(t, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500)
	id, _ := createHook(t, s, admin, dead.srv.URL, eventDeleted)
	if err := s.Services().Webhooks.Emit(context.Background(), eventDeleted, nil); err != nil {
		t.Fatal(err)
	}
	dead.waitFor(t, 1)
	for i := 0; i < 60; i++ {
		clk.Advance(time.Hour)
		if _, err := s.Services().Webhooks.DeliverDue(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	admin, _ = s.User(t, auth.Admin) // the first token expired hours ago
	r := s.Do(testenv.Request{Path: "/api/v1/webhooks/" + id + "/deliveries", Token: admin})
	var list struct{ Items []webhook.Delivery }
	r.JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].Status != webhook.Failed || list.Items[0].Attempts < 20 {
		t.Fatalf("after 60 h: %s", r.Body)
	}
	if n := dead.count(); n > 40 {
		t.Fatalf("%d attempts: backoff did not slow retries", n)
	}
}

// TestOutboxSurvivesRestart: an event queued by one process is delivered by
// the next one; the outbox lives in the database.
func TestOutboxSurvivesRestart(t *testing.T) {
	db := testenv.OpenDB(t)
	cfg := webhook.Options{Events: content.Events, AllowPrivate: true, Logger: testenv.Quiet()}
	rc := newReceiver(t)
	first := webhook.New(db.Database, cfg)
	if _, err := first.CreateHook(context.Background(), webhook.HookInput{URL: rc.srv.URL, Events: webhook.Events}); err != nil {
		t.Fatal(err)
	}
	if err := first.Emit(context.Background(), eventPublished, map[string]string{"slug": "a"}); err != nil {
		t.Fatal(err)
	}
	// first stops without delivering (its Run never started).
	second := webhook.New(db.Database, cfg)
	n, err := second.DeliverDue(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("after restart delivered %d (%v), want 1", n, err)
	}
	rc.waitFor(t, 1)
	if n, _ := second.DeliverDue(context.Background()); n != 0 {
		t.Fatalf("delivered again: %d", n)
	}
}

func TestPrivateTargetsRefusedByDefault(t *testing.T) {
	s := testenv.NewServer(t, func(c *server.Options) { c.WebhookAllowPrivate = false })
	admin, _ := s.User(t, auth.Admin)
	for _, u := range []string{"http://127.0.0.1:8080/", "http://localhost/", "http://[::1]/", "http://169.254.169.254/", "http://192.168.0.10/",
		"http://0.0.0.0:8080/", "http://198.18.0.1/", "http://240.0.0.1/", "http://192.0.0.8/", "http://[64:ff9b::7f00:1]/",
		"http://[2002:7f00:1::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:a9fe:a9fe]/", "http://[fd00::1]/", "http://api.localhost/"} {
		r := s.Do(testenv.Request{Method: "POST", Path: "/api/v1/webhooks", Token: admin,
			Body: map[string]any{"url": u, "events": []string{eventPublished}}})
		if r.Status != 400 {
			t.Errorf("%s: %d, want 400", u, r.Status)
		}
	}
	// A name that resolved to a public address at registration but points
	// to loopback now (DNS rebinding) is refused at delivery, after
	// resolution. The hook is written directly, as registration would have
	// accepted it.
	rc := newReceiver(t)
	port := rc.srv.URL[len("http://127.0.0.1:"):]
	id := "0123456789abcdef0123456789abcdef"
	now := time.Now().UTC()
	if _, err := s.DB.Database.Collection("webhooks").InsertOne(context.Background(), webhook.Hook{
		ID: id, URL: "http://localhost:" + port + "/", Events: []string{eventPublished},
		Secret: "s", Active: true, CreatedAt: now, UpdatedAt: now,
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Services().Webhooks.Emit(context.Background(), eventPublished, nil); err != nil {
		t.Fatal(err)
	}
	var d webhook.Delivery
	testenv.Eventually(t, "an attempt to deliver", func() bool {
		r := s.Do(testenv.Request{Path: "/api/v1/webhooks/" + id + "/deliveries", Token: admin})
		var list struct{ Items []webhook.Delivery }
		r.JSON(t, &list)
		if len(list.Items) == 1 {
			d = list.Items[0]
		}
		return d.Attempts > 0
	})
	if d.LastError == "" || d.Status == webhook.Delivered {
		t.Fatalf("delivery to loopback was not refused: %+v", d)
	}
	if rc.count() != 0 {
		t.Fatal("the loopback receiver was reached")
	}
}

func TestWebhookRoutesAdminOnly(t *testing.T) {
	s := testenv.NewServer(t)
	admin, _ := s.User(t, auth.Admin)
	editor, _ := s.User(t, auth.Editor)
	rc := newReceiver(t)
	id, _ := createHook(t, s, admin, rc.srv.URL, eventPublished)
	for _, rt := range []struct{ method, path string }{
		{"GET", "/api/v1/webhooks"}, {"POST", "/api/v1/webhooks"}, {"GET", "/api/v1/webhooks/" + id},
		{"PATCH", "/api/v1/webhooks/" + id}, {"DELETE", "/api/v1/webhooks/" + id}, {"GET", "/api/v1/webhooks/" + id + "/deliveries"},
	} {
		if r := s.Do(testenv.Request{Method: rt.method, Path: rt.path, Token: editor, Body: map[string]any{}}); r.Status != 403 {
			t.Errorf("%s %s as editor: %d", rt.method, rt.path, r.Status)
		}
	}
	r := s.Do(testenv.Request{Method: "PATCH", Path: "/api/v1/webhooks/" + id, Token: admin,
		Body: map[string]any{"active": false, "events": []string{eventUpdated, eventDeleted}}})
	if r.Status != 200 {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	var h webhook.Hook
	r.JSON(t, &h)
	if h.Active || len(h.Events) != 2 {
		t.Fatalf("patched hook %+v", h)
	}
	if r := s.Do(testenv.Request{Method: "PATCH", Path: "/api/v1/webhooks/" + id, Token: admin, Body: map[string]any{"secret": "x"}}); r.Status != 400 {
		t.Fatalf("secret in a patch: %d", r.Status)
	}
	// A merge patch: null cannot clear a hook's members, and a wrong type
	// is named; neither changes the hook.
	for _, tt := range []struct{ body, field, msg string }{
		{`{"url":null}`, "url", "cannot be cleared"},
		{`{"events":null}`, "events", "cannot be cleared"},
		{`{"active":null}`, "active", "cannot be cleared"},
		{`{"active":"no"}`, "active", "must be a boolean"},
	} {
		r := s.Do(testenv.Request{Method: "PATCH", Path: "/api/v1/webhooks/" + id, Token: admin, Body: tt.body})
		if r.Status != 400 {
			t.Fatalf("%s: %d %s", tt.body, r.Status, r.Body)
		}
		r.WantField(t, tt.field, tt.msg)
	}
	r = s.Do(testenv.Request{Path: "/api/v1/webhooks/" + id, Token: admin})
	var after webhook.Hook
	r.JSON(t, &after)
	if after.URL != h.URL || after.Active || len(after.Events) != 2 {
		t.Errorf("a refused patch changed the hook: %+v", after)
	}
	if r := s.Do(testenv.Request{Method: "DELETE", Path: "/api/v1/webhooks/" + id, Token: admin}); r.Status != 204 {
		t.Fatalf("delete: %d", r.Status)
	}
	if r := s.Do(testenv.Request{Path: "/api/v1/webhooks/" + id, Token: admin}); r.Status != 404 {
		t.Fatalf("get deleted: %d", r.Status)
	}
}

// TestWebhookQueryStrings: every webhook route refuses a query string it
// does not understand, naming the parameter, and the lists honour limit.
func TestWebhookQueryStrings(t *testing.T) {
	s := testenv.NewServer(t)
	admin, _ := s.User(t, auth.Admin)
	rc := newReceiver(t)
	id, _ := createHook(t, s, admin, rc.srv.URL, eventPublished)
	lists := []string{"/api/v1/webhooks", "/api/v1/webhooks/" + id + "/deliveries"}
	for _, path := range lists {
		for _, tt := range []struct{ query, field string }{
			{"?foo=1", "foo"},
			{"?limit=0", "limit"},
			{"?limit=101", "limit"},
			{"?limit=ten", "limit"},
			{"?limit=-1", "limit"},
			{"?limit=", "limit"},
			{"?limit", "limit"},
			{"?limit=1&limit=2", "limit"},
			{"?cursor=", "cursor"},
			{"?cursor=%ZZ", "(query)"},
			{"?cursor=bm90IGEgY3Vyc29y", "cursor"},
			{"?cursor=!!", "cursor"},
			{"?a=1;b=2", "(query)"},
		} {
			r := s.Do(testenv.Request{Path: path + tt.query, Token: admin})
			if r.Status != 400 {
				t.Errorf("GET %s%s: %d, want 400", path, tt.query, r.Status)
				continue
			}
			if !namesField(r.Problem(t), tt.field) {
				t.Errorf("GET %s%s: %s, want an error naming %q", path, tt.query, r.Body, tt.field)
			}
		}
		for _, q := range []string{"", "?limit=1", "?limit=100"} {
			if r := s.Do(testenv.Request{Path: path + q, Token: admin}); r.Status != 200 {
				t.Errorf("GET %s%s: %d %s", path, q, r.Status, r.Body)
			}
		}
	}
	for _, rt := range []struct{ method, path string }{
		{"GET", "/api/v1/webhooks/" + id}, {"PATCH", "/api/v1/webhooks/" + id},
		{"POST", "/api/v1/webhooks"}, {"DELETE", "/api/v1/webhooks/" + id},
	} {
		r := s.Do(testenv.Request{Method: rt.method, Path: rt.path + "?limit=5", Token: admin, Body: map[string]any{}})
		if r.Status != 400 || !namesField(r.Problem(t), "limit") {
			t.Errorf("%s %s?limit=5: %d %s, want 400 naming limit", rt.method, rt.path, r.Status, r.Body)
		}
	}
	if r := s.Do(testenv.Request{Path: "/api/v1/webhooks/" + id, Token: admin}); r.Status != 200 {
		t.Fatalf("the hook was changed by a refused request: %d", r.Status)
	}
}

func namesField(p map[string]any, field string) bool {
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		if m, _ := e.(map[string]any); m["field"] == field {
			return true
		}
	}
	return false
}

// listPages follows nextCursor from path with limit and returns the ids in
// order and the size of each page.
func listPages(t *testing.T, s *testenv.Server, token, path string, limit int) (ids []string, sizes []int) {
	t.Helper()
	next := ""
	for range 100 {
		q := "?limit=" + strconv.Itoa(limit)
		if next != "" {
			q += "&cursor=" + next
		}
		r := s.Do(testenv.Request{Path: path + q, Token: token})
		if r.Status != 200 {
			t.Fatalf("GET %s%s: %d %s", path, q, r.Status, r.Body)
		}
		var pg struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			NextCursor *string `json:"nextCursor"`
		}
		r.JSON(t, &pg)
		sizes = append(sizes, len(pg.Items))
		for _, it := range pg.Items {
			ids = append(ids, it.ID)
		}
		if pg.NextCursor == nil {
			return ids, sizes
		}
		next = *pg.NextCursor
	}
	t.Fatalf("%s: more than 100 pages", path)
	return nil, nil
}

func TestWebhookListsArePaged(t *testing.T) {
	clk := testenv.NewClock(time.Now().UTC().Truncate(time.Millisecond))
	s := testenv.NewServer(t, func(c *server.Options) { c.Now = clk.Now })
	admin, _ := s.User(t, auth.Admin)
	rc := newReceiver(t)

	// Hooks, oldest first; two share a creation time, so the id breaks
	// the tie.
	var hooks []string
	for i := range 5 {
		if i != 2 {
			clk.Advance(time.Second)
		}
		id, _ := createHook(t, s, admin, rc.srv.URL+"/"+strconv.Itoa(i), eventPublished)
		hooks = append(hooks, id)
	}
	ids, sizes := listPages(t, s, admin, "/api/v1/webhooks", 2)
	if fmt.Sprint(sizes) != "[2 2 1]" || len(ids) != 5 {
		t.Fatalf("pages of 2: sizes %v, ids %v", sizes, ids)
	}
	if hooks[1] > hooks[2] {
		hooks[1], hooks[2] = hooks[2], hooks[1]
	}
	if fmt.Sprint(ids) != fmt.Sprint(hooks) {
		t.Fatalf("order %v, want %v", ids, hooks)
	}

	// Deliveries, newest first, 20 by default. Several share a time.
	for i := range 25 {
		if i%3 == 0 {
			clk.Advance(time.Second)
		}
		if err := s.Services().Webhooks.Emit(context.Background(), eventPublished, map[string]int{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
	path := "/api/v1/webhooks/" + hooks[0] + "/deliveries"
	r := s.Do(testenv.Request{Path: path, Token: admin})
	var first struct {
		Items      []webhook.Delivery
		NextCursor *string
	}
	r.JSON(t, &first)
	if len(first.Items) != 20 || first.NextCursor == nil {
		t.Fatalf("default page: %d items, cursor %v", len(first.Items), first.NextCursor)
	}
	ids, sizes = listPages(t, s, admin, path, 7)
	if fmt.Sprint(sizes) != "[7 7 7 4]" {
		t.Fatalf("pages of 7: sizes %v", sizes)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("delivery %s listed twice", id)
		}
		seen[id] = true
	}
	for i, d := range first.Items {
		if ids[i] != d.ID {
			t.Fatalf("paged order differs from the default page at %d", i)
		}
		if i > 0 && d.CreatedAt.After(first.Items[i-1].CreatedAt) {
			t.Fatalf("not newest first at %d", i)
		}
	}

	// A cursor belongs to its list: a delivery cursor pages neither the
	// hook list nor another hook's deliveries.
	for _, other := range []string{"/api/v1/webhooks", "/api/v1/webhooks/" + hooks[1] + "/deliveries"} {
		r := s.Do(testenv.Request{Path: other + "?cursor=" + *first.NextCursor, Token: admin})
		if r.Status != 400 {
			t.Fatalf("GET %s with a cursor of %s: %d %s", other, path, r.Status, r.Body)
		}
		r.WantField(t, "cursor", "belongs to a list with other filters")
	}
}
