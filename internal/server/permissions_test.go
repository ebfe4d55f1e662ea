package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/testenv"
)

// byRole is one expected status per caller, in this order: anonymous,
// contributor, author, editor, admin.
type byRole [5]int

// callers names the columns of byRole; "" is anonymous.
var callers = [5]auth.Role{"", auth.Contributor, auth.Author, auth.Editor, auth.Admin}

// articleRoute is a route of the authoring API; {id} in path is filled in
// with the article under test.
type articleRoute struct {
	method, path string
	body         any
	// moves is set when a success changes the article's status or its
	// owner, so that a row expecting success gets an article of its own.
	moves bool
	// assigns is set when the body is {"authorId": <heir>}, a user the
	// test creates.
	assigns bool
}

// scheduleAt is a publication time far enough ahead that the scheduler
// leaves the article alone while the test runs.
var scheduleAt = time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)

// backdateTo is the publishedAt of a backdated publication.
const backdateTo = "2019-04-02T08:30:00Z"

var articleRoutes = map[string]articleRoute{
	"get":       {method: "GET", path: "/api/v1/articles/{id}"},
	"revisions": {method: "GET", path: "/api/v1/articles/{id}/revisions"},
	"revision":  {method: "GET", path: "/api/v1/articles/{id}/revisions/1"},
	"preview":   {method: "POST", path: "/api/v1/articles/{id}/preview-token"},
	"edit":      {method: "PATCH", path: "/api/v1/articles/{id}", body: map[string]any{"summary": "Changed by the matrix."}},
	"restore":   {method: "POST", path: "/api/v1/articles/{id}/revisions/1/restore"},
	"submit":    {method: "POST", path: "/api/v1/articles/{id}/submit", moves: true},
	"publish":   {method: "POST", path: "/api/v1/articles/{id}/publish", moves: true},
	"schedule":  {method: "POST", path: "/api/v1/articles/{id}/publish", body: map[string]any{"publishAt": scheduleAt}, moves: true},
	"unpublish": {method: "POST", path: "/api/v1/articles/{id}/unpublish", moves: true},
	"archive":   {method: "DELETE", path: "/api/v1/articles/{id}", moves: true},
	"assign":    {method: "PATCH", path: "/api/v1/articles/{id}", assigns: true, moves: true},
	"backdate":  {method: "POST", path: "/api/v1/articles/{id}/publish", body: map[string]any{"publishedAt": backdateTo}, moves: true},
	"discard":   {method: "POST", path: "/api/v1/articles/{id}/discard-changes"},
}

// What the 403s of a row must say: the route's first gate, or the rule
// that a live article needs the right to publish it.
const (
	gated  = "needs the author role or higher"
	isLive = "needs the right to publish it"
	// The fields only editors may send (ActionAssignAuthor, ActionBackdate).
	assignRefused   = "authorId needs the editor role or higher"
	backdateRefused = "publishedAt needs the editor role or higher"
)

// articleRows is who may do what to an article, by ownership and status:
// the permission table of cms/permissions.go as a client sees it. "own"
// is an article the caller created; "other" one another author created.
// 404 means the caller may not even see the article (as if it did not
// exist); 409 that the caller may act but the status does not allow it.
var articleRows = []struct {
	action    string
	own       bool
	status    cms.Status
	want      byRole
	forbidden string // what any 403 of the row says
	// contributorSays is what a contributor's 403 says when it is not
	// forbidden: stopped at an earlier rule.
	contributorSays string
}{
	// Reading does not depend on status.
	{"get", true, cms.StatusDraft, byRole{401, 200, 200, 200, 200}, "", ""},
	{"get", false, cms.StatusDraft, byRole{401, 404, 404, 200, 200}, "", ""},
	{"get", false, cms.StatusPublished, byRole{401, 404, 404, 200, 200}, "", ""},
	{"revisions", true, cms.StatusPublished, byRole{401, 200, 200, 200, 200}, "", ""},
	{"revisions", false, cms.StatusDraft, byRole{401, 404, 404, 200, 200}, "", ""},
	{"revision", false, cms.StatusPublished, byRole{401, 404, 404, 200, 200}, "", ""},
	{"preview", true, cms.StatusDraft, byRole{401, 200, 200, 200, 200}, "", ""},
	{"preview", false, cms.StatusDraft, byRole{401, 404, 404, 200, 200}, "", ""},

	// Changing content: a scheduled article needs the right to publish
	// it; draft, in review and archived do not, and neither does a
	// published one, whose changes are staged until someone who may
	// publish it does (cms.ActionStage).
	{"edit", true, cms.StatusDraft, byRole{401, 200, 200, 200, 200}, "", ""},
	{"edit", true, cms.StatusInReview, byRole{401, 200, 200, 200, 200}, "", ""},
	{"edit", true, cms.StatusScheduled, byRole{401, 403, 200, 200, 200}, isLive, ""},
	{"edit", true, cms.StatusPublished, byRole{401, 200, 200, 200, 200}, "", ""},
	{"edit", true, cms.StatusArchived, byRole{401, 200, 200, 200, 200}, "", ""},
	{"edit", false, cms.StatusDraft, byRole{401, 404, 404, 200, 200}, "", ""},
	{"edit", false, cms.StatusPublished, byRole{401, 404, 404, 200, 200}, "", ""},
	{"restore", true, cms.StatusDraft, byRole{401, 200, 200, 200, 200}, "", ""},
	{"restore", true, cms.StatusPublished, byRole{401, 200, 200, 200, 200}, "", ""},
	{"restore", false, cms.StatusPublished, byRole{401, 404, 404, 200, 200}, "", ""},
	// Discarding staged changes: whoever may edit; these articles have
	// none, so 409 (cms/staged_test.go discards real ones).
	{"discard", true, cms.StatusPublished, byRole{401, 409, 409, 409, 409}, "", ""},
	{"discard", false, cms.StatusPublished, byRole{401, 404, 404, 409, 409}, "", ""},
	{"archive", true, cms.StatusDraft, byRole{401, 204, 204, 204, 204}, "", ""},
	{"archive", true, cms.StatusScheduled, byRole{401, 403, 204, 204, 204}, isLive, ""},
	{"archive", true, cms.StatusPublished, byRole{401, 403, 204, 204, 204}, isLive, ""},
	{"archive", true, cms.StatusArchived, byRole{401, 204, 204, 204, 204}, "", ""}, // a no-op, so DELETE can be repeated
	{"archive", false, cms.StatusPublished, byRole{401, 404, 404, 204, 204}, "", ""},

	// Workflow: anyone who may edit a draft may submit it; publishing,
	// scheduling and unpublishing need the author role for one's own
	// articles and the editor role for anyone's. The author gate comes
	// before the article is looked up, so a contributor gets 403 even
	// for an article it cannot see.
	{"submit", true, cms.StatusDraft, byRole{401, 200, 200, 200, 200}, "", ""},
	{"submit", true, cms.StatusInReview, byRole{401, 409, 409, 409, 409}, "", ""},
	{"submit", false, cms.StatusDraft, byRole{401, 404, 404, 200, 200}, "", ""},
	{"publish", true, cms.StatusDraft, byRole{401, 403, 200, 200, 200}, gated, ""},
	{"publish", true, cms.StatusInReview, byRole{401, 403, 200, 200, 200}, gated, ""},
	{"publish", true, cms.StatusPublished, byRole{401, 403, 409, 409, 409}, gated, ""},
	{"publish", true, cms.StatusArchived, byRole{401, 403, 409, 409, 409}, gated, ""},
	{"publish", false, cms.StatusInReview, byRole{401, 403, 404, 200, 200}, gated, ""},
	{"schedule", true, cms.StatusDraft, byRole{401, 403, 200, 200, 200}, gated, ""},
	{"schedule", false, cms.StatusDraft, byRole{401, 403, 404, 200, 200}, gated, ""},
	{"unpublish", true, cms.StatusDraft, byRole{401, 403, 409, 409, 409}, gated, ""},
	{"unpublish", true, cms.StatusScheduled, byRole{401, 403, 200, 200, 200}, gated, ""},
	{"unpublish", true, cms.StatusPublished, byRole{401, 403, 200, 200, 200}, gated, ""},
	{"unpublish", true, cms.StatusArchived, byRole{401, 403, 200, 200, 200}, gated, ""},
	{"unpublish", false, cms.StatusPublished, byRole{401, 403, 404, 200, 200}, gated, ""},

	// Who wrote an article and when it appeared: editors and admins only,
	// on any article they may edit or publish.
	{"assign", true, cms.StatusDraft, byRole{401, 403, 403, 200, 200}, assignRefused, ""},
	{"assign", true, cms.StatusPublished, byRole{401, 403, 403, 200, 200}, assignRefused, ""},
	{"assign", false, cms.StatusDraft, byRole{401, 404, 404, 200, 200}, "", ""},
	{"assign", false, cms.StatusPublished, byRole{401, 404, 404, 200, 200}, "", ""},
	{"backdate", true, cms.StatusDraft, byRole{401, 403, 403, 200, 200}, backdateRefused, gated},
	{"backdate", true, cms.StatusScheduled, byRole{401, 403, 403, 200, 200}, backdateRefused, gated},
	{"backdate", true, cms.StatusPublished, byRole{401, 403, 403, 409, 409}, backdateRefused, gated},
	{"backdate", false, cms.StatusInReview, byRole{401, 403, 404, 200, 200}, gated, ""},
}

// otherRows are the routes whose rule is the role alone: creating and
// listing articles, products, click statistics, affiliate settings, users
// and webhooks. {id} is filled in with an object made by the row's make,
// a fresh one whenever a mutating request is expected to succeed.
type otherRow struct {
	name         string
	method, path string
	body         func() any
	make         func(t *testing.T) string
	want         byRole
	// shows is, per caller as in byRole, a fragment the body must hold
	// ({id} filled in too); "" checks nothing.
	shows [5]string
}

// TestPermissionMatrix walks who may do what through the real router with
// real tokens: every authoring, catalogue and admin route per role, and
// for articles per ownership and status too. It is the rule as a client
// meets it; cms/permissions.go and affiliate/product.go are the tables
// it checks.
func TestPermissionMatrix(t *testing.T) {
	s := testenv.NewServer(t)
	tokens := map[auth.Role]string{}
	for _, r := range callers[1:] {
		tokens[r], _ = s.User(t, r)
	}
	strangerToken, strangerID := s.User(t, auth.Author)
	// heir is whom the assign rows hand articles to.
	heir := s.NewUser(t, auth.Author)
	editorToken := tokens[auth.Editor]
	var n atomic.Int64

	// newArticle creates an article owned by owner's token and brings it
	// to status with the editor's token. With revised it is at version 2
	// or more, so revision 1 exists and, for a draft, differs from the
	// current text.
	newArticle := func(t *testing.T, owner string, status cms.Status, revised bool) *cms.Article {
		t.Helper()
		r := s.Do(testenv.Request{Method: "POST", Path: "/api/v1/articles", Token: owner,
			Body: map[string]any{"title": fmt.Sprintf("Matrix article %d", n.Add(1)), "summary": "First."}})
		mustStatus(t, r, http.StatusCreated)
		var a cms.Article
		r.JSON(t, &a)
		path := "/api/v1/articles/" + a.ID
		var step testenv.Request
		switch status {
		case cms.StatusDraft:
			if !revised {
				return &a
			}
			step = testenv.Request{Method: "PATCH", Path: path, Token: owner, Body: map[string]any{"summary": "Second."},
				Header: map[string]string{"If-Match": `"1"`}}
		case cms.StatusInReview:
			step = testenv.Request{Method: "POST", Path: path + "/submit", Token: editorToken}
		case cms.StatusPublished:
			step = testenv.Request{Method: "POST", Path: path + "/publish", Token: editorToken}
		case cms.StatusScheduled:
			step = testenv.Request{Method: "POST", Path: path + "/publish", Token: editorToken, Body: map[string]any{"publishAt": scheduleAt}}
		case cms.StatusArchived:
			step = testenv.Request{Method: "DELETE", Path: path, Token: editorToken}
		}
		r = s.Do(step)
		if r.Status == http.StatusNoContent {
			a.Status, a.Version = status, a.Version+1
			return &a
		}
		mustStatus(t, r, http.StatusOK)
		r.JSON(t, &a)
		if a.Status != status {
			t.Fatalf("article is %s, want %s", a.Status, status)
		}
		return &a
	}

	// Requests not expected to move an article's status share one article
	// per owner and status (edits and restores keep it); a request that
	// changes it wrongly fails its own row.
	shared := map[string]*cms.Article{}
	article := func(t *testing.T, owner string, status cms.Status, fresh bool) *cms.Article {
		t.Helper()
		if fresh {
			return newArticle(t, owner, status, false)
		}
		key := owner + " " + string(status)
		if shared[key] == nil {
			shared[key] = newArticle(t, owner, status, true)
		}
		return shared[key]
	}

	for _, row := range articleRows {
		route, ok := articleRoutes[row.action]
		if !ok {
			t.Fatalf("no route for action %q", row.action)
		}
		whose := "other's"
		if row.own {
			whose = "own"
		}
		for i, role := range callers {
			want := row.want[i]
			name := fmt.Sprintf("%s/%s/%s/%s", row.action, whose, row.status, caller(role))
			t.Run(name, func(t *testing.T) {
				// Anonymous calls stop at the gate: no article needed.
				a := &cms.Article{ID: "000000000000000000000000", Version: 1}
				if role != "" {
					owner := strangerToken
					if row.own {
						owner = tokens[role]
					}
					a = article(t, owner, row.status, route.moves && want < 300)
				}
				req := testenv.Request{Method: route.method, Path: strings.ReplaceAll(route.path, "{id}", a.ID),
					Token: tokens[role], Body: route.body}
				if route.assigns {
					req.Body = map[string]any{"authorId": heir.ID}
				}
				if route.method == "PATCH" || route.path == articleRoutes["discard"].path {
					req.Header = map[string]string{"If-Match": fmt.Sprintf(`"%d"`, a.Version)}
				}
				r := s.Do(req)
				mustStatus(t, r, want)
				switch want {
				case http.StatusOK:
					if route.method != "GET" && route.path != articleRoutes["preview"].path {
						r.JSON(t, a) // the shared article's new version
					}
				case http.StatusNotFound:
					wantDetail(t, r, "no article with this ID")
				case http.StatusForbidden:
					if role == auth.Contributor && row.contributorSays != "" {
						wantDetail(t, r, row.contributorSays)
					} else {
						wantDetail(t, r, row.forbidden)
					}
				}
			})
		}
	}

	var (
		product = func(t *testing.T) string {
			code := fmt.Sprintf("matrix-product-%d", n.Add(1))
			r := s.Do(testenv.Request{Method: "POST", Path: "/api/v1/products", Token: editorToken,
				Body: map[string]any{"code": code, "title": "Foam roller", "url": "https://www.amazon.com/dp/B000123456"}})
			mustStatus(t, r, http.StatusCreated)
			return code
		}
		user = func(t *testing.T) string { return s.NewUser(t, auth.Contributor).ID }
		hook = func(t *testing.T) string {
			r := s.Do(testenv.Request{Method: "POST", Path: "/api/v1/webhooks", Token: tokens[auth.Admin],
				Body: map[string]any{"url": "http://127.0.0.1:9/matrix", "events": []string{"article.published"}}})
			mustStatus(t, r, http.StatusCreated)
			var h struct{ ID string }
			r.JSON(t, &h)
			return h.ID
		}
		// theirs is an article of another author, to see who a list shows it to.
		theirs = func(t *testing.T) string { return newArticle(t, strangerToken, cms.StatusDraft, false).ID }
	)
	rows := []otherRow{
		{name: "create an article", method: "POST", path: "/api/v1/articles",
			body: func() any { return map[string]any{"title": fmt.Sprintf("Matrix new %d", n.Add(1))} },
			want: byRole{401, 201, 201, 201, 201}},
		{name: "create an article for another author", method: "POST", path: "/api/v1/articles",
			body: func() any {
				return map[string]any{"title": fmt.Sprintf("Matrix new %d", n.Add(1)), "authorId": heir.ID}
			},
			want: byRole{401, 403, 403, 201, 201}, shows: [5]string{"", assignRefused, assignRefused, heir.ID, heir.ID}},
		{name: "list another author's articles", path: "/api/v1/articles?author=" + strangerID, make: theirs,
			want: byRole{401, 200, 200, 200, 200}, shows: [5]string{"", `"items":[]`, `"items":[]`, `"id":"{id}"`, `"id":"{id}"`}},

		{name: "list products", path: "/api/v1/products", want: byRole{401, 403, 403, 200, 200}},
		{name: "create a product", method: "POST", path: "/api/v1/products",
			body: func() any {
				return map[string]any{"code": fmt.Sprintf("matrix-new-%d", n.Add(1)), "title": "Mat", "url": "https://www.amazon.com/dp/B000123457"}
			},
			want: byRole{401, 403, 403, 201, 201}},
		{name: "get a product", path: "/api/v1/products/{id}", make: product, want: byRole{401, 403, 403, 200, 200}},
		{name: "change a product", method: "PATCH", path: "/api/v1/products/{id}", make: product,
			body: func() any { return map[string]any{"title": "Foam roller, firm"} }, want: byRole{401, 403, 403, 200, 200}},
		{name: "delete a product", method: "DELETE", path: "/api/v1/products/{id}", make: product, want: byRole{401, 403, 403, 204, 204}},
		// Below editor, the statistics of one's own articles (none here).
		{name: "click statistics", path: "/api/v1/stats/clicks?groupBy=product", want: byRole{401, 200, 200, 200, 200}},

		{name: "read affiliate settings", path: "/api/v1/settings/affiliate", want: byRole{401, 403, 403, 403, 200}},
		{name: "replace affiliate settings", method: "PUT", path: "/api/v1/settings/affiliate",
			body: func() any {
				return map[string]any{"tags": map[string]string{"amazon.com": "matrix-20"}, "disclosureText": "I earn from qualifying purchases.",
					"allowedHosts": []string{"www.amazon.com", "amazon.com"}}
			},
			want: byRole{401, 403, 403, 403, 200}},

		{name: "read site settings", path: "/api/v1/settings/site", want: byRole{401, 403, 403, 403, 200}},
		{name: "change site settings", method: "PATCH", path: "/api/v1/settings/site",
			body: func() any { return map[string]any{"description": fmt.Sprintf("Matrix %d", n.Add(1))} },
			want: byRole{401, 403, 403, 403, 200}},
		{name: "public site settings", path: "/api/v1/content/site", want: byRole{200, 200, 200, 200, 200}},

		{name: "list users", path: "/api/v1/users", want: byRole{401, 403, 403, 403, 200}},
		{name: "create a user", method: "POST", path: "/api/v1/users",
			body: func() any {
				return map[string]any{"email": fmt.Sprintf("matrix%d@example.com", n.Add(1)), "name": "Matrix", "role": "author", "password": testenv.Password}
			},
			want: byRole{401, 403, 403, 403, 201}},
		{name: "get a user", path: "/api/v1/users/{id}", make: user, want: byRole{401, 403, 403, 403, 200}},
		{name: "change a user", method: "PATCH", path: "/api/v1/users/{id}", make: user,
			body: func() any { return map[string]any{"name": "Renamed"} }, want: byRole{401, 403, 403, 403, 200}},
		{name: "delete a user", method: "DELETE", path: "/api/v1/users/{id}", make: user, want: byRole{401, 403, 403, 403, 204}},
		{name: "own account", path: "/api/v1/auth/me", want: byRole{401, 200, 200, 200, 200}},

		{name: "list webhooks", path: "/api/v1/webhooks", want: byRole{401, 403, 403, 403, 200}},
		{name: "create a webhook", method: "POST", path: "/api/v1/webhooks",
			body: func() any {
				return map[string]any{"url": "http://127.0.0.1:9/matrix", "events": []string{"article.published"}}
			},
			want: byRole{401, 403, 403, 403, 201}},
		{name: "get a webhook", path: "/api/v1/webhooks/{id}", make: hook, want: byRole{401, 403, 403, 403, 200}},
		{name: "change a webhook", method: "PATCH", path: "/api/v1/webhooks/{id}", make: hook,
			body: func() any { return map[string]any{"active": false} }, want: byRole{401, 403, 403, 403, 200}},
		{name: "delete a webhook", method: "DELETE", path: "/api/v1/webhooks/{id}", make: hook, want: byRole{401, 403, 403, 403, 204}},
		{name: "webhook deliveries", path: "/api/v1/webhooks/{id}/deliveries", make: hook, want: byRole{401, 403, 403, 403, 200}},
	}
	for _, row := range rows {
		var sharedID string
		for i, role := range callers {
			want := row.want[i]
			t.Run(row.name+"/"+caller(role), func(t *testing.T) {
				id := "none" // anonymous calls stop at the gate
				if row.make != nil && role != "" {
					switch {
					case row.method != "" && row.method != "GET" && want < 300:
						id = row.make(t)
					case sharedID == "":
						sharedID = row.make(t)
						fallthrough
					default:
						id = sharedID
					}
				}
				req := testenv.Request{Method: row.method, Path: strings.ReplaceAll(row.path, "{id}", id), Token: tokens[role]}
				if row.body != nil {
					req.Body = row.body()
				}
				r := s.Do(req)
				mustStatus(t, r, want)
				if row.shows[i] != "" {
					if frag := strings.ReplaceAll(row.shows[i], "{id}", id); !strings.Contains(string(r.Body), frag) {
						t.Errorf("body does not hold %q: %.300s", frag, r.Body)
					}
				}
			})
		}
	}
}

func caller(r auth.Role) string {
	if r == "" {
		return "anonymous"
	}
	return string(r)
}

func mustStatus(t *testing.T, r *testenv.Response, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %.300s", r.Status, want, r.Body)
	}
}

// wantDetail checks that a problem response's detail holds frag.
func wantDetail(t *testing.T, r *testenv.Response, frag string) {
	t.Helper()
	if d, _ := r.Problem(t)["detail"].(string); !strings.Contains(d, frag) {
		t.Errorf("detail %q does not say %q", d, frag)
	}
}
