package content_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/content"
	"github.com/wellness/cms/internal/testenv"
	"github.com/wellness/cms/webhook"
)

func previewToken(t *testing.T, s *testenv.Server, token string, a *cms.Article) string {
	t.Helper()
	r := testenv.Call(t, s, token, "POST", "/api/v1/articles/"+a.ID+"/preview-token", nil)
	testenv.WantStatus(t, r, http.StatusOK)
	var out struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expiresAt"`
	}
	r.JSON(t, &out)
	return out.Token
}

// TestContentPreview checks that a preview token opens the current draft
// of its one article, privately, for about an hour, and nothing else; and
// that previews never pass through the shared cache.
func TestContentPreview(t *testing.T) {
	s, clock := newContentAPI(t)
	token, _ := s.User(t, auth.Author)
	draft := testenv.CreateArticle(t, s, token, map[string]any{"title": "Work in progress", "body": "<p>First draft.</p>"})
	live := testenv.Publish(t, s, token, map[string]any{"title": "Already live"})
	pv := previewToken(t, s, token, draft)
	q := "?preview=" + url.QueryEscape(pv)

	r := get(t, s, contentPath+draft.Slug+q)
	testenv.WantStatus(t, r, http.StatusOK)
	if cc := r.Header.Get("Cache-Control"); cc != "private, no-store" {
		t.Errorf("preview Cache-Control = %q", cc)
	}
	var v struct {
		Title, HTML string
		PublishedAt *time.Time
	}
	r.JSON(t, &v)
	if v.Title != "Work in progress" || v.HTML != "<p>First draft.</p>" || v.PublishedAt != nil {
		t.Errorf("preview = %+v", v)
	}
	// The current draft, not a cached copy.
	draft = testenv.PatchArticle(t, s, token, draft, map[string]any{"title": "Second draft"})
	r = get(t, s, contentPath+draft.Slug+q)
	r.JSON(t, &v)
	if v.Title != "Second draft" {
		t.Errorf("preview after an edit = %q", v.Title)
	}
	// Never into the cache: without the token the draft stays unknown.
	testenv.WantStatus(t, get(t, s, contentPath+draft.Slug), http.StatusNotFound)
	// The token opens nothing else, not even a published article.
	testenv.WantStatus(t, get(t, s, contentPath+live.Slug+q), http.StatusNotFound)
	testenv.WantStatus(t, get(t, s, contentPath+"no-such-slug"+q), http.StatusNotFound)
	testenv.WantStatus(t, get(t, s, contentPath+draft.Slug+"?preview=pv_forged"), http.StatusNotFound)
	// Its former slug still names it.
	old := draft.Slug
	draft = testenv.PatchArticle(t, s, token, draft, map[string]any{"slug": "renamed-draft"})
	testenv.WantStatus(t, get(t, s, contentPath+old+q), http.StatusOK)
	testenv.WantStatus(t, get(t, s, contentPath+"renamed-draft"+q), http.StatusOK)
	// A published article is served from the cache as usual.
	r = get(t, s, contentPath+live.Slug)
	if r.Header.Get("Cache-Control") != content.DefaultCacheControl {
		t.Errorf("published Cache-Control = %q", r.Header.Get("Cache-Control"))
	}
	// Archived: the token no longer shows it.
	archived := testenv.CreateArticle(t, s, token, map[string]any{"title": "To be archived"})
	pa := previewToken(t, s, token, archived)
	testenv.WantStatus(t, testenv.Call(t, s, token, "DELETE", "/api/v1/articles/"+archived.ID, nil), http.StatusNoContent)
	testenv.WantStatus(t, get(t, s, contentPath+archived.Slug+"?preview="+url.QueryEscape(pa)), http.StatusNotFound)

	// About an hour.
	clock.Advance(cms.PreviewTokenTTL - time.Minute)
	testenv.WantStatus(t, get(t, s, contentPath+draft.Slug+q), http.StatusOK)
	clock.Advance(time.Minute)
	testenv.WantStatus(t, get(t, s, contentPath+draft.Slug+q), http.StatusNotFound)
	if cms.PreviewTokenTTL > 2*time.Hour {
		t.Errorf("preview tokens live %v", cms.PreviewTokenTTL)
	}
}

// TestContentCORS checks that the configured origin may read the content
// routes (preflight included) and that the authoring API stays closed.
func TestContentCORS(t *testing.T) {
	s, _ := newContentAPI(t)
	token, _ := s.User(t, auth.Editor)
	a := testenv.Publish(t, s, token, map[string]any{"title": "Cross origin"})

	for _, p := range []string{contentPath + a.Slug, "/api/v1/content/articles", "/api/v1/content/tags", "/feed.xml", "/sitemap.xml"} {
		r := get(t, s, p, "Origin", clinicOrigin)
		testenv.WantStatus(t, r, http.StatusOK)
		if r.Header.Get("Access-Control-Allow-Origin") != clinicOrigin || r.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("%s: CORS headers %v", p, r.Header)
		}
		if r.Header.Get("Vary") != "Accept-Encoding, Origin" {
			t.Errorf("%s: Vary = %q", p, r.Header.Get("Vary"))
		}
		if r := get(t, s, p, "Origin", "https://evil.example"); r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: another origin is allowed", p)
		}
		pre := testenv.Call(t, s, "", "OPTIONS", p, nil, "Origin", clinicOrigin, "Access-Control-Request-Method", "GET",
			"Access-Control-Request-Headers", "If-None-Match")
		testenv.WantStatus(t, pre, http.StatusNoContent)
		if pre.Header.Get("Access-Control-Allow-Origin") != clinicOrigin || pre.Header.Get("Access-Control-Allow-Methods") == "" {
			t.Errorf("%s: preflight %v", p, pre.Header)
		}
	}
	// The authoring API: no CORS headers, and no preflight.
	r := testenv.Call(t, s, token, "GET", "/api/v1/articles", nil, "Origin", clinicOrigin)
	testenv.WantStatus(t, r, http.StatusOK)
	if r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("the authoring API answers with CORS headers")
	}
	pre := testenv.Call(t, s, "", "OPTIONS", "/api/v1/articles/"+a.ID, nil, "Origin", clinicOrigin, "Access-Control-Request-Method", "PATCH")
	if pre.Header.Get("Access-Control-Allow-Origin") != "" || pre.Status == http.StatusNoContent {
		t.Errorf("authoring preflight: %d %v", pre.Status, pre.Header)
	}
}

// hookReceiver records webhook deliveries.
type hookReceiver struct {
	mu     sync.Mutex
	bodies [][]byte
	reqs   []*http.Request
	srv    *httptest.Server
}

func newHookReceiver(t *testing.T) *hookReceiver {
	rc := &hookReceiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.bodies, rc.reqs = append(rc.bodies, b), append(rc.reqs, r)
		rc.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// wait returns the n-th delivery (from 0) once it has arrived.
func (rc *hookReceiver) wait(t *testing.T, n int) (*http.Request, []byte) {
	t.Helper()
	testenv.Eventually(t, fmt.Sprintf("delivery %d", n+1), func() bool {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		return len(rc.bodies) > n
	})
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.reqs[n], rc.bodies[n]
}

// TestContentWebhooks checks that publishing, changing, unpublishing and
// archiving a published article each produce a signed delivery with the
// article's slug and URL.
func TestContentWebhooks(t *testing.T) {
	s := testenv.NewServer(t)
	admin, _ := s.User(t, auth.Admin)
	rc := newHookReceiver(t)
	r := testenv.Call(t, s, admin, "POST", "/api/v1/webhooks", map[string]any{"url": rc.srv.URL + "/rebuild", "events": content.Events})
	testenv.WantStatus(t, r, http.StatusCreated)
	var hook struct{ Secret string }
	r.JSON(t, &hook)

	a := testenv.CreateArticle(t, s, admin, map[string]any{"title": "Hooked article"})
	a = testenv.PatchArticle(t, s, admin, a, map[string]any{"summary": "Draft edits send nothing."})
	a = testenv.Transition(t, s, admin, a, "publish", nil)
	// Staged: the change is sent when it is published, not when saved.
	a = testenv.PatchArticle(t, s, admin, a, map[string]any{"slug": "hooked-and-moved"})
	a = testenv.Transition(t, s, admin, a, "publish", nil)
	a = testenv.Transition(t, s, admin, a, "unpublish", nil)
	a = testenv.Transition(t, s, admin, a, "publish", nil)
	testenv.WantStatus(t, testenv.Call(t, s, admin, "DELETE", "/api/v1/articles/"+a.ID, nil), http.StatusNoContent)

	want := []struct{ event, slug, previous string }{
		{content.EventArticlePublished, "hooked-article", ""},
		{content.EventArticleUpdated, "hooked-and-moved", "hooked-article"},
		{content.EventArticleUnpublished, "hooked-and-moved", ""},
		{content.EventArticlePublished, "hooked-and-moved", ""},
		{content.EventArticleDeleted, "hooked-and-moved", ""},
	}
	got := map[string]int{}
	for i := range want {
		req, body := rc.wait(t, i)
		ts, _ := strconv.ParseInt(req.Header.Get(webhook.HeaderTimestamp), 10, 64)
		if !webhook.Verify(hook.Secret, ts, body, req.Header.Get(webhook.HeaderSignature)) {
			t.Errorf("delivery %d: bad signature", i)
		}
		var p struct {
			Event string
			Data  content.ArticleEvent
		}
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		if p.Data.ID != a.ID || p.Data.URL != "http://cms.test/articles/"+p.Data.Slug {
			t.Errorf("delivery %d data = %+v", i, p.Data)
		}
		got[p.Event+" "+p.Data.Slug+" "+p.Data.PreviousSlug]++
	}
	for _, w := range want {
		key := w.event + " " + w.slug + " " + w.previous
		if got[key] == 0 {
			t.Errorf("no delivery %q; got %v", key, got)
		}
		got[key]--
	}
	// Nothing else was queued: every event is in the outbox before the
	// request that caused it returns, so the outbox now holds exactly the
	// five above (draft edits sent none), with no waiting for deliveries
	// that should not happen.
	cur, err := s.DB.Database.Collection("webhook_deliveries").Find(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var queued []webhook.Delivery
	if err := cur.All(context.Background(), &queued); err != nil {
		t.Fatal(err)
	}
	outbox := map[string]int{}
	for _, d := range queued {
		var p struct {
			Event string
			Data  content.ArticleEvent
		}
		if err := json.Unmarshal([]byte(d.Payload), &p); err != nil {
			t.Fatal(err)
		}
		outbox[p.Event+" "+p.Data.Slug+" "+p.Data.PreviousSlug]++
	}
	for _, w := range want {
		outbox[w.event+" "+w.slug+" "+w.previous]--
	}
	for k, n := range outbox {
		if n != 0 {
			t.Errorf("outbox has %d more %q than expected (draft edits must send none); %d queued in all", n, k, len(queued))
		}
	}
}
