package cms_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/testenv"
)

// byRole is one expected status per caller: contributor, author, editor,
// admin.
type byRole [4]int

var roles = [4]auth.Role{auth.Contributor, auth.Author, auth.Editor, auth.Admin}

// disabledUser stores a user and disables it through the users API.
func disabledUser(t *testing.T, s *testenv.Server, admin string) *auth.User {
	t.Helper()
	u := s.NewUser(t, auth.Author)
	testenv.WantStatus(t, testenv.Call(t, s, admin, "PATCH", "/api/v1/users/"+u.ID, map[string]any{"disabled": true}), http.StatusOK)
	return u
}

// TestAuthorID walks authorId on create and PATCH by role: only editors
// and admins may name someone else, naming the author an article already
// has is no change, and an unknown or disabled user is a 400 naming the
// field (after the permission check, so no one else can probe for IDs).
func TestAuthorID(t *testing.T) {
	s, _ := newAPI(t)
	tokens, ids := map[auth.Role]string{}, map[auth.Role]string{}
	for _, r := range roles {
		tokens[r], ids[r] = s.User(t, r)
	}
	target := s.NewUser(t, auth.Author)
	gone := disabledUser(t, s, tokens[auth.Admin])

	const (
		other    = "another user"
		self     = "the caller"
		unknown  = "unknown"
		disabled = "disabled"
	)
	authorID := func(who string, role auth.Role) any {
		switch who {
		case other:
			return target.ID
		case self:
			return ids[role]
		case unknown:
			return "0123456789abcdef01234567"
		case disabled:
			return gone.ID
		}
		return nil // null
	}
	// wantAuthor is the author a success names.
	wantAuthor := func(who string, role auth.Role) string {
		if who == other {
			return target.ID
		}
		return ids[role]
	}
	const (
		refused  = "authorId needs the editor role or higher"
		noUser   = "no user with this ID"
		inactive = "the user is disabled; name an active user"
	)
	tests := []struct {
		who  string
		want byRole
		// field is the errors[] message a 400 gives for authorId, detail
		// what a 403 says.
		field, detail string
	}{
		{other, byRole{403, 403, 0, 0}, "", refused},
		{self, byRole{0, 0, 0, 0}, "", ""},
		{unknown, byRole{403, 403, 400, 400}, noUser, refused},
		{disabled, byRole{403, 403, 400, 400}, inactive, refused},
	}
	check := func(t *testing.T, r *testenv.Response, role auth.Role, who string, want int, field, detail string) {
		t.Helper()
		testenv.WantStatus(t, r, want)
		switch want {
		case http.StatusOK, http.StatusCreated:
			a := testenv.ArticleOf(t, r)
			if a.Author.ID != wantAuthor(who, role) || a.Author.Name == "" {
				t.Errorf("author = %+v, want %s", a.Author, wantAuthor(who, role))
			}
			if who == other && (a.Author.Name != target.Name || a.UpdatedBy.ID != ids[role]) {
				t.Errorf("author %+v updatedBy %+v: want %s by the caller", a.Author, a.UpdatedBy, target.Name)
			}
		case http.StatusBadRequest:
			r.WantField(t, "authorId", field)
		case http.StatusForbidden:
			if d, _ := r.Problem(t)["detail"].(string); d != detail {
				t.Errorf("detail = %q, want %q", d, detail)
			}
			r.WantField(t, "authorId", "needs the editor role or higher")
		}
	}

	for _, tt := range tests {
		for i, role := range roles {
			want := tt.want[i]
			t.Run(fmt.Sprintf("create/%s/%s", tt.who, role), func(t *testing.T) {
				want := want
				if want == 0 {
					want = http.StatusCreated
				}
				r := testenv.Call(t, s, tokens[role], "POST", "/api/v1/articles",
					map[string]any{"title": "Posted for someone", "authorId": authorID(tt.who, role)})
				check(t, r, role, tt.who, want, tt.field, tt.detail)
			})
			t.Run(fmt.Sprintf("patch/%s/%s", tt.who, role), func(t *testing.T) {
				want := want
				if want == 0 {
					want = http.StatusOK
				}
				a := testenv.CreateArticle(t, s, tokens[role], map[string]any{"title": "Handed on"})
				r := testenv.Call(t, s, tokens[role], "PATCH", "/api/v1/articles/"+a.ID,
					map[string]any{"summary": "Changed.", "authorId": authorID(tt.who, role)}, "If-Match", testenv.ETag(a.Version))
				check(t, r, role, tt.who, want, tt.field, tt.detail)
				if want != http.StatusOK {
					return
				}
				got := testenv.ArticleOf(t, r)
				if wantChanged := tt.who == other; slices.Contains(got.ChangedFields, "author") != wantChanged {
					t.Errorf("changedFields = %v", got.ChangedFields)
				}
			})
		}
	}

	t.Run("null", func(t *testing.T) {
		a := testenv.CreateArticle(t, s, tokens[auth.Editor], map[string]any{"title": "Kept"})
		r := testenv.Call(t, s, tokens[auth.Editor], "PATCH", "/api/v1/articles/"+a.ID, map[string]any{"authorId": nil}, "If-Match", testenv.ETag(a.Version))
		testenv.WantStatus(t, r, http.StatusBadRequest)
		if fields, _ := r.Problem(t)["errors"].([]any); len(fields) != 1 || !strings.Contains(string(r.Body), `"field":"authorId"`) {
			t.Errorf("null authorId: %s", r.Body)
		}
	})
	t.Run("unchanged alone changes nothing", func(t *testing.T) {
		a := testenv.CreateArticle(t, s, tokens[auth.Contributor], map[string]any{"title": "Mine"})
		r := testenv.Call(t, s, tokens[auth.Contributor], "PATCH", "/api/v1/articles/"+a.ID,
			map[string]any{"authorId": ids[auth.Contributor]}, "If-Match", testenv.ETag(a.Version))
		testenv.WantStatus(t, r, http.StatusOK)
		if got := testenv.ArticleOf(t, r); got.Version != a.Version {
			t.Errorf("version %d, want %d", got.Version, a.Version)
		}
	})
	t.Run("one answer names every bad field", func(t *testing.T) {
		r := testenv.Call(t, s, tokens[auth.Editor], "POST", "/api/v1/articles",
			map[string]any{"title": "", "authorId": "0123456789abcdef01234567"})
		testenv.WantStatus(t, r, http.StatusBadRequest)
		r.WantField(t, "title", "required")
		r.WantField(t, "authorId", noUser)
	})
}

// TestReassignedOwnership checks that the permission rules follow the new
// author: a contributor's draft given to an author is the author's to
// edit and publish, and no longer the contributor's to see.
func TestReassignedOwnership(t *testing.T) {
	s, _ := newAPI(t)
	writer, _ := s.User(t, auth.Contributor)
	editor, _ := s.User(t, auth.Editor)
	heir, heirID := s.User(t, auth.Author)

	a := testenv.CreateArticle(t, s, writer, map[string]any{"title": "Left behind"})
	path := "/api/v1/articles/" + a.ID
	a = testenv.PatchArticle(t, s, editor, a, map[string]any{"authorId": heirID})
	if a.Author.ID != heirID {
		t.Fatalf("author = %+v", a.Author)
	}

	steps := []struct {
		name, token, method, path string
		body                      any
		want                      int
	}{
		{"former author reads", writer, "GET", path, nil, http.StatusNotFound},
		{"former author edits", writer, "PATCH", path, map[string]any{"summary": "Mine still?"}, http.StatusNotFound},
		{"former author submits", writer, "POST", path + "/submit", nil, http.StatusNotFound},
		{"new author reads", heir, "GET", path, nil, http.StatusOK},
		{"new author edits", heir, "PATCH", path, map[string]any{"summary": "Taken over."}, http.StatusOK},
		{"new author publishes", heir, "POST", path + "/publish", nil, http.StatusOK},
		{"new author edits the live article", heir, "PATCH", path, map[string]any{"summary": "Live now."}, http.StatusOK},
		{"new author may not give it away", heir, "PATCH", path, map[string]any{"authorId": "0123456789abcdef01234567"}, http.StatusForbidden},
	}
	for _, st := range steps {
		r := testenv.Call(t, s, st.token, st.method, st.path, st.body, "If-Match", testenv.ETag(a.Version))
		if r.Status != st.want {
			t.Fatalf("%s: status %d, want %d; %s", st.name, r.Status, st.want, r.Body)
		}
		if r.Status == http.StatusOK && st.method != "GET" {
			a = testenv.ArticleOf(t, r)
		}
	}
	// The new author's list holds it; the former author's does not.
	r := testenv.Call(t, s, heir, "GET", "/api/v1/articles", nil)
	testenv.WantStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), `"id":"`+a.ID+`"`) {
		t.Errorf("the new author's list lacks the article: %.300s", r.Body)
	}
	r = testenv.Call(t, s, writer, "GET", "/api/v1/articles", nil)
	testenv.WantStatus(t, r, http.StatusOK)
	if strings.Contains(string(r.Body), a.ID) {
		t.Errorf("the former author's list still shows the article")
	}
}

// TestBackdatedPublish checks publish with publishedAt: editors and
// admins publish now under an earlier date; others are refused; a future
// publishedAt and a past publishAt are 400s that point at the other field.
func TestBackdatedPublish(t *testing.T) {
	s, clock := newAPI(t)
	tokens := map[auth.Role]string{}
	for _, r := range roles {
		tokens[r], _ = s.User(t, r)
	}
	now := clock.Now()
	past := time.Date(2019, 4, 2, 8, 30, 0, 0, time.UTC)
	stamp := func(t time.Time) string { return t.Format(time.RFC3339) }
	const (
		gated    = "this needs the author role or higher"
		refused  = "publishedAt needs the editor role or higher"
		future   = "is in the future; to schedule the article, send publishAt instead"
		notAhead = "is not in the future; to publish now under an earlier date, send publishedAt instead"
		both     = "cannot be sent with publishAt: publishAt schedules a publication, publishedAt backdates one"
		badTime  = "must be an RFC 3339 timestamp such as 2030-01-02T09:00:00Z"
	)
	tests := []struct {
		name string
		body map[string]any
		want byRole
		// field and message name the errors[] entry of a 400; detail is
		// what a 403 says (the contributor's is the route's gate).
		field, message, detail string
	}{
		{"backdated", map[string]any{"publishedAt": stamp(past)}, byRole{403, 403, 200, 200}, "", "", refused},
		{"dated now", map[string]any{"publishedAt": stamp(now)}, byRole{403, 403, 200, 200}, "", "", refused},
		{"future publishedAt", map[string]any{"publishedAt": stamp(now.Add(time.Hour))}, byRole{403, 403, 400, 400}, "publishedAt", future, refused},
		{"before 1970", map[string]any{"publishedAt": "1969-12-31T23:59:59Z"}, byRole{403, 403, 400, 400}, "publishedAt", "must not be before 1970", refused},
		{"malformed publishedAt", map[string]any{"publishedAt": "last spring"}, byRole{403, 400, 400, 400}, "publishedAt", badTime, ""},
		{"past publishAt", map[string]any{"publishAt": stamp(past)}, byRole{403, 400, 400, 400}, "publishAt", notAhead, ""},
		{"both", map[string]any{"publishAt": stamp(now.Add(time.Hour)), "publishedAt": stamp(past)}, byRole{403, 403, 400, 400}, "publishedAt", both, refused},
	}
	for _, tt := range tests {
		for i, role := range roles {
			t.Run(tt.name+"/"+string(role), func(t *testing.T) {
				a := testenv.CreateArticle(t, s, tokens[role], map[string]any{"title": "From the old site"})
				r := testenv.Call(t, s, tokens[role], "POST", "/api/v1/articles/"+a.ID+"/publish", tt.body)
				testenv.WantStatus(t, r, tt.want[i])
				switch tt.want[i] {
				case http.StatusOK:
					got := testenv.ArticleOf(t, r)
					want, _ := time.Parse(time.RFC3339, tt.body["publishedAt"].(string))
					if got.Status != cms.StatusPublished || got.PublishedAt == nil || !got.PublishedAt.Equal(want) || got.PublishAt != nil {
						t.Errorf("published %s at %v, want %v", got.Status, got.PublishedAt, want)
					}
					if lt := got.LastTransition; lt == nil || !lt.At.Equal(now) {
						t.Errorf("the transition is not stamped now: %+v", lt)
					}
				case http.StatusBadRequest:
					r.WantField(t, tt.field, tt.message)
				case http.StatusForbidden:
					detail := tt.detail
					if role == auth.Contributor {
						detail = gated
					}
					if d, _ := r.Problem(t)["detail"].(string); d != detail {
						t.Errorf("detail = %q, want %q", d, detail)
					}
				}
			})
		}
	}
}
