package cms_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/testenv"
)

// listTitles is the titles of an authoring list page, joined by |.
func listTitles(t *testing.T, s *testenv.Server, token, query string) string {
	t.Helper()
	return strings.Join(testenv.ListField(t, s, token, "/api/v1/articles"+query, "title"), "|")
}

// TestListSearchesWhatSearchFinds: q of the authoring list matches the
// words of the title, tags, summary and body, folded as the public search
// folds them, in drafts too, and among the caller's own articles only for
// authors and contributors.
func TestListSearchesWhatSearchFinds(t *testing.T) {
	s, _ := newAPI(t)
	alice, aliceID := s.User(t, auth.Author)
	bob, _ := s.User(t, auth.Contributor)
	ed, _ := s.User(t, auth.Editor)
	testenv.CreateArticle(t, s, alice, map[string]any{"title": "Evening routine", "summary": "Calm nights",
		"tags": []string{"foot-care"}, "body": "<p>A warm <em>Fußbad</em> before bed.</p><p>Then a Crème.</p>"})
	testenv.CreateArticle(t, s, bob, map[string]any{"title": "Morning routine",
		"body": "<p>A cold footbath in the morning (a fussbad, in German).</p>"})
	tests := []struct {
		name, token, query, want string
	}{
		{"body word of an own draft", alice, "?q=fussbad", "Evening routine"},
		{"not another author's draft", bob, "?q=warm", ""},
		{"the contributor's own", bob, "?q=fussbad", "Morning routine"},
		{"an editor sees every draft", ed, "?q=fussbad", "Morning routine|Evening routine"},
		{"the fold: ß, case", ed, "?q=FU%C3%9FBAD", "Morning routine|Evening routine"},
		{"the fold: accents", ed, "?q=creme", "Evening routine"},
		{"a tag's words", ed, "?q=care", "Evening routine"},
		{"the summary", ed, "?q=calm", "Evening routine"},
		{"the title", ed, "?q=morning", "Morning routine"},
		{"a prefix of three letters", ed, "?q=foo", "Morning routine|Evening routine"},
		{"two letters match only a word", ed, "?q=fo", ""},
		{"a word inside a word is no prefix", ed, "?q=bath", ""},
		{"every word must match", ed, "?q=warm+bed", "Evening routine"},
		{"in one article", ed, "?q=warm+morning", ""},
		{"with other filters", ed, "?q=routine&author=" + aliceID + "&status=draft", "Evening routine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := listTitles(t, s, tt.token, tt.query); got != tt.want {
				t.Errorf("list %s = %q, want %q", tt.query, got, tt.want)
			}
		})
	}
}

// TestListAuthor: author= names a user by ID or by the slug of the name
// the articles carry; authors and contributors still see only their own.
func TestListAuthor(t *testing.T) {
	s, _ := newAPI(t)
	alice, aliceID := s.User(t, auth.Author)
	bob, bobID := s.User(t, auth.Contributor)
	ed, _ := s.User(t, auth.Editor)
	a := testenv.CreateArticle(t, s, alice, map[string]any{"title": "Alice writes"})
	b := testenv.CreateArticle(t, s, bob, map[string]any{"title": "Bob writes"})
	aliceSlug, bobSlug := cms.Slugify(a.Author.Name), cms.Slugify(b.Author.Name)
	if aliceSlug == "" || aliceSlug == bobSlug {
		t.Fatalf("author slugs %q and %q", aliceSlug, bobSlug)
	}
	tests := []struct {
		name, token, author, want string
	}{
		{"by ID", ed, aliceID, "Alice writes"},
		{"by slug", ed, aliceSlug, "Alice writes"},
		{"another by slug", ed, bobSlug, "Bob writes"},
		{"an author's own by slug", alice, aliceSlug, "Alice writes"},
		{"another's by ID, for an author", alice, bobID, ""},
		{"another's by slug, for a contributor", bob, aliceSlug, ""},
		{"nobody by that slug", ed, "no-such-author", ""},
		{"nobody by that ID", ed, "0123456789abcdef01234567", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := listTitles(t, s, tt.token, "?author="+tt.author); got != tt.want {
				t.Errorf("author=%s: %q, want %q", tt.author, got, tt.want)
			}
		})
	}
}

// TestListRefuses: bad q and author values are 400 naming the parameter.
func TestListRefuses(t *testing.T) {
	s, _ := newAPI(t)
	ed, _ := s.User(t, auth.Editor)
	for _, tt := range []struct{ query, field, msg string }{
		{"?q=%21%21%21", "q", "has no words to search for"},
		{"?q=", "q", ""},
		{"?q=" + strings.Repeat("x", cms.MaxQuery+1), "q", "at most 200 characters"},
		{"?q=" + strings.Repeat("w+", cms.MaxQueryWords) + "w", "q", "at most 20 words"},
		{"?author=Jane%20Doe", "author", "must be a user ID or the slug of an author's name, like jane-doe"},
		{"?author=JANE-DOE", "author", ""},
		{"?author=" + strings.Repeat("a", 200), "author", ""},
	} {
		r := testenv.Call(t, s, ed, "GET", "/api/v1/articles"+tt.query, nil)
		testenv.WantStatus(t, r, http.StatusBadRequest)
		if tt.msg != "" {
			r.WantField(t, tt.field, tt.msg)
		} else if !strings.Contains(string(r.Body), `"field":"`+tt.field+`"`) {
			t.Errorf("%s: %s does not name %s", tt.query, r.Body, tt.field)
		}
	}
}

// TestSearchKeys: the stored search words are those of SearchDoc, once
// each, first met first, with long words cut and the total bounded.
func TestSearchKeys(t *testing.T) {
	a := &cms.Article{Content: cms.Content{Title: "Crème, crème", Tags: []string{"deep-tissue"}},
		Excerpt: "Ça va", BodyHTML: "<p>Tissue<br>massage</p><p>" + strings.Repeat("z", 100) + "</p>",
		Author: cms.Person{ID: "u", Name: "Zoë O'Neil"}}
	cms.DeriveKeys(a)
	if got, want := strings.Join(a.SearchWords, " "), "creme deep tissue ca va massage "+strings.Repeat("z", cms.MaxSearchWord); got != want {
		t.Errorf("search words = %q, want %q", got, want)
	}
	if a.AuthorSlug != "zoe-oneil" {
		t.Errorf("author slug = %q", a.AuthorSlug)
	}
	// A body of nothing but distinct words stops at the bound.
	var body strings.Builder
	for i := range 100000 {
		body.WriteString(" w")
		for n := i; n > 0; n /= 26 {
			body.WriteByte(byte('a' + n%26))
		}
	}
	a.BodyHTML = body.String()
	cms.DeriveKeys(a)
	size := 0
	for _, w := range a.SearchWords {
		size += len(w) + 1
	}
	if size > cms.MaxSearchBytes || size < cms.MaxSearchBytes-cms.MaxSearchWord-1 {
		t.Errorf("search words take %d bytes, bound %d", size, cms.MaxSearchBytes)
	}
}

// TestResanitizeBackfillsSearchKeys: an article stored before the search
// words existed is not found by q until `cms resanitize --all` derives
// them.
func TestResanitizeBackfillsSearchKeys(t *testing.T) {
	db := testenv.DB(t)
	svc := newService(t, db, newClock())
	ctx := context.Background()
	a, err := svc.Create(ctx, writer, cms.Content{Title: "Old article", Body: "<p>Lavender oil</p>"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection("articles").UpdateOne(ctx, bson.D{{Key: "_id", Value: a.ID}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "searchWords", Value: ""}, {Key: "authorSlug", Value: ""}}}}); err != nil {
		t.Fatal(err)
	}
	find := func() int {
		items, _, err := svc.List(ctx, editor, cms.ListQuery{Words: []string{"lavender"}, Author: cms.AuthorRef{Slug: "al-author"}, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return len(items)
	}
	if n := find(); n != 0 {
		t.Fatalf("found %d before the backfill", n)
	}
	rep, err := svc.Resanitize(ctx, cms.ResanitizeOptions{All: true})
	if err != nil || rep != (cms.ResanitizeReport{Checked: 1, Changed: 1}) {
		t.Fatalf("resanitize --all = %+v, %v", rep, err)
	}
	if n := find(); n != 1 {
		t.Errorf("found %d after the backfill", n)
	}
}
