package cms_test

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/testenv"
)

// BenchmarkArticleSave measures full saves of a 50 KB article through the
// real router, server and embedded database: a PATCH of the body with
// If-Match, which renders, claims the version, writes the article and
// keeps a revision. saves/s is the rate; "parallel" runs one article per
// goroutine, as several editors would.
func BenchmarkArticleSave(b *testing.B) {
	s := testenv.NewServer(b)
	token, _ := s.User(b, auth.Editor)
	body := benchmarkArticle(50 << 10)
	create := func() *cms.Article {
		r := s.Do(testenv.Request{Method: "POST", Path: "/api/v1/articles", Token: token,
			Body: map[string]any{"title": "Massage for chronic pain relief", "body": body}})
		if r.Status != http.StatusCreated {
			b.Fatalf("create: %d %s", r.Status, r.Body)
		}
		var a cms.Article
		r.JSON(b, &a)
		return &a
	}
	save := func(a *cms.Article, n int) {
		r := s.Do(testenv.Request{Method: "PATCH", Path: "/api/v1/articles/" + a.ID, Token: token,
			Header: map[string]string{"If-Match": a.ETag()},
			Body:   map[string]any{"body": body + fmt.Sprintf("<p>edit %d</p>", n)}})
		if r.Status != http.StatusOK {
			b.Fatalf("save: %d %s", r.Status, r.Body)
		}
		a.Version++
	}
	b.Run("sequential", func(b *testing.B) {
		a := create()
		n := 0
		for b.Loop() {
			n++
			save(a, n)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "saves/s")
	})
	b.Run("parallel", func(b *testing.B) {
		var count atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			a := create()
			n := 0
			for pb.Next() {
				n++
				save(a, n)
				count.Add(1)
			}
		})
		b.ReportMetric(float64(count.Load())/b.Elapsed().Seconds(), "saves/s")
	})
}
