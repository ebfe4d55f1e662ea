package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/testenv"
	"github.com/wellness/cms/internal/web"
)

// BenchmarkPages renders every screen of the UI in process, through the
// whole router and the session check, over 1,000 articles: the server
// time of a page, which the issue bounds at 20 ms.
func BenchmarkPages(b *testing.B) {
	s := testenv.NewServer(b)
	ctx := context.Background()
	admin := s.NewUser(b, auth.Admin)
	para := "<p>" + strings.Repeat("Gentle massage and stretching ease neck pain and improve posture. ", 12) + "</p>\n"
	var docs, slugs []any
	start := time.Now().Add(-1000 * time.Hour).UTC().Truncate(time.Millisecond)
	var last string
	for i := range 1000 {
		at := start.Add(time.Duration(i) * time.Hour)
		a := &cms.Article{ID: bson.NewObjectID().Hex(), Status: []cms.Status{cms.StatusDraft, cms.StatusPublished}[i%2], Version: 1,
			Author: cms.Person{ID: admin.ID, Name: admin.Name}, CreatedAt: at, UpdatedAt: at,
			BodyHTML: strings.Repeat(para, 10), Excerpt: "A practical guide to relief."}
		if a.Status == cms.StatusPublished {
			a.PublishedAt = &at
		}
		a.Title, a.Slug, a.Tags = fmt.Sprintf("Article %04d about posture", i), fmt.Sprintf("article-%04d", i), []string{"posture"}
		a.Body, a.BodyFormat = a.BodyHTML, cms.FormatHTML
		a.SearchWords = []string{"article", "about", "posture", fmt.Sprintf("%04d", i)}
		docs = append(docs, a)
		slugs = append(slugs, bson.D{{Key: "_id", Value: a.Slug}, {Key: "articleId", Value: a.ID}, {Key: "current", Value: true}, {Key: "createdAt", Value: at}})
		last = a.ID
	}
	if _, err := s.DB.Database.Collection("slugs").InsertMany(ctx, slugs); err != nil {
		b.Fatal(err)
	}
	if _, err := s.DB.Database.Collection("articles").InsertMany(ctx, docs); err != nil {
		b.Fatal(err)
	}
	testenv.IndexTables(b)
	// The last article gets a history of ten revisions.
	p := &auth.Principal{UserID: admin.ID, Name: admin.Name, Email: admin.Email, Role: admin.Role}
	for v := int64(1); v <= 10; v++ {
		body := fmt.Sprintf("%s<p>Revision %d.</p>", strings.Repeat(para, 10), v)
		if _, err := s.Services().Articles.Update(ctx, p, last, v, &cms.ArticleUpdate{Body: web.Some(body)}); err != nil {
			b.Fatal(err)
		}
	}

	h := s.Handler()
	login := httptest.NewRequest("POST", "/admin/login", strings.NewReader(url.Values{"email": {admin.Email}, "password": {testenv.Password}}.Encode()))
	login.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, login)
	if w.Code != http.StatusSeeOther {
		b.Fatalf("sign in: %d", w.Code)
	}
	cookie := w.Result().Cookies()[0]

	for _, pg := range []struct{ name, path string }{
		{"articles", "/admin/articles"},
		{"articles_search", "/admin/articles?q=posture&status=published"},
		{"editor", "/admin/articles/" + last},
		{"new_article", "/admin/articles/new"},
		{"history", "/admin/articles/" + last + "/history"},
		{"diff", "/admin/articles/" + last + "/history/1"},
		{"products", "/admin/products"},
		{"media", "/admin/media"},
		{"clicks", "/admin/clicks"},
		{"users", "/admin/users"},
		{"settings", "/admin/settings"},
		{"account", "/admin/account"},
	} {
		b.Run(pg.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("GET", pg.path, nil)
				req.AddCookie(cookie)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d\n%.500s", pg.path, w.Code, w.Body)
				}
			}
		})
	}
}
