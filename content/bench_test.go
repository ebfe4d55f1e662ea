package content_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/content"
	"github.com/wellness/cms/internal/changefeed"
	"github.com/wellness/cms/internal/testenv"
)

// benchContent starts a server holding n published articles of about 8 KB
// of HTML each, stored straight into the database (seeding a thousand
// through the API would take most of a minute) and loaded by a content
// reload, as another instance's writes would be.
func benchContent(b *testing.B, n int) (*testenv.Server, []*cms.Article) {
	b.Helper()
	s := testenv.NewServer(b)
	ctx := context.Background()
	para := "<p>" + strings.Repeat("Gentle massage and stretching ease neck pain and improve posture. ", 12) + "</p>\n"
	tags := []string{"massage", "pain", "stretching", "sleep", "posture", "recovery"}
	var docs, slugs []any
	var out []*cms.Article
	start := time.Now().Add(-time.Duration(n) * time.Hour).UTC().Truncate(time.Millisecond)
	for i := range n {
		at := start.Add(time.Duration(i) * time.Hour)
		a := &cms.Article{ID: bson.NewObjectID().Hex(), Status: cms.StatusPublished, Version: 2,
			Author: cms.Person{ID: "u1", Name: "Bench Author"}, CreatedAt: at, UpdatedAt: at, PublishedAt: &at,
			BodyHTML: fmt.Sprintf("<h2>Part %d</h2>\n", i) + strings.Repeat(para, 10),
			Excerpt:  "A practical guide to relief.", ReadingTimeMinutes: 5}
		a.Title = fmt.Sprintf("Article %04d about %s", i, tags[i%len(tags)])
		a.Slug, a.Tags, a.Category = fmt.Sprintf("article-%04d", i), []string{tags[i%len(tags)], tags[(i/2)%len(tags)]}, "Self Care"
		a.Sources, a.Products = []cms.Source{{Title: "Review", URL: "https://pubmed.ncbi.nlm.nih.gov/1/"}}, []cms.ProductRef{}
		a.MedicalReview = &cms.MedicalReview{ReviewerName: "Dr. Bench", ReviewerCredentials: "MD", ReviewedAt: "2025-01-01T00:00:00Z"}
		docs = append(docs, a)
		slugs = append(slugs, bson.D{{Key: "_id", Value: a.Slug}, {Key: "articleId", Value: a.ID}, {Key: "current", Value: true}, {Key: "createdAt", Value: at}})
		out = append(out, a)
	}
	if _, err := s.DB.Database.Collection("slugs").InsertMany(ctx, slugs); err != nil {
		b.Fatal(err)
	}
	if _, err := s.DB.Database.Collection("articles").InsertMany(ctx, docs); err != nil {
		b.Fatal(err)
	}
	if err := content.ReloadContent(ctx, s.Services().Content); err != nil {
		b.Fatal(err)
	}
	return s, out
}

// serve runs requests for path through the full router (middleware
// included) in process, without the network, and fails on another status.
func serve(b *testing.B, h http.Handler, path string, want int, header ...string) {
	b.Helper()
	req := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != want {
		b.Fatalf("%s: %d, want %d: %s", path, w.Code, want, w.Body)
	}
	b.SetBytes(int64(w.Body.Len()))
	b.ResetTimer()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req.Clone(req.Context()))
			if w.Code != want {
				b.Errorf("%s: %d", path, w.Code)
				return
			}
		}
	})
}

func BenchmarkContentArticle(b *testing.B) {
	s, as := benchContent(b, 200)
	serve(b, s.Handler(), "/api/v1/content/articles/"+as[100].Slug, http.StatusOK)
}

func BenchmarkContentArticleGzip(b *testing.B) {
	s, as := benchContent(b, 200)
	serve(b, s.Handler(), "/api/v1/content/articles/"+as[100].Slug, http.StatusOK, "Accept-Encoding", "gzip")
}

func BenchmarkContentNotModified(b *testing.B) {
	s, as := benchContent(b, 200)
	req := httptest.NewRequest("GET", "/api/v1/content/articles/"+as[100].Slug, nil)
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	serve(b, s.Handler(), req.URL.Path, http.StatusNotModified, "If-None-Match", w.Header().Get("ETag"))
}

func BenchmarkContentList(b *testing.B) {
	s, _ := benchContent(b, 200)
	serve(b, s.Handler(), "/api/v1/content/articles?limit=20", http.StatusOK)
}

func BenchmarkContentListTag(b *testing.B) {
	s, _ := benchContent(b, 200)
	serve(b, s.Handler(), "/api/v1/content/articles?tag=posture&limit=20", http.StatusOK)
}

func BenchmarkContentSearch(b *testing.B) {
	s, _ := benchContent(b, 200)
	serve(b, s.Handler(), "/api/v1/content/articles?q=massage+posture", http.StatusOK)
}

// BenchmarkContentSearchUncached renders a search page from the index on
// every request: what a stream of distinct queries costs.
func BenchmarkContentSearchUncached(b *testing.B) {
	s, _ := benchContent(b, 1000)
	h := s.Handler()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", fmt.Sprintf("/api/v1/content/articles?q=massage&limit=%d", 1+i%100), nil))
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkContentReload measures what another instance's change costs
// this one: reading every article's version and the slugs, and fetching
// the changed article (one per reload here).
func BenchmarkContentReload(b *testing.B) {
	s, as := benchContent(b, 1000)
	ctx := context.Background()
	coll := s.DB.Database.Collection("articles")
	for b.Loop() {
		if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: as[0].ID}},
			bson.D{{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}}); err != nil {
			b.Fatal(err)
		}
		if err := content.ReloadContent(ctx, s.Services().Content); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkContentCatchUp measures the usual cost of another instance's
// change: a step of the change feed (the writers' heads, the new entry) and fetching
// the changed article by _id.
func BenchmarkContentCatchUp(b *testing.B) {
	s, as := benchContent(b, 1000)
	ctx := context.Background()
	db := s.DB.Database
	feed, err := changefeed.New(db, "articles", changefeed.Options{})
	if err != nil {
		b.Fatal(err)
	}
	v := as[0].Version
	for b.Loop() {
		v++
		if _, err := db.Collection("articles").UpdateOne(ctx, bson.D{{Key: "_id", Value: as[0].ID}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "version", Value: v}}}}); err != nil {
			b.Fatal(err)
		}
		next := *as[0]
		next.Version = v
		c := cms.Change{Next: &next}
		if err := feed.Publish(ctx, c.FeedKeys()...); err != nil {
			b.Fatal(err)
		}
		if err := content.CatchUpContent(ctx, s.Services().Content); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkContentMemory reports what the content API holds per article
// once every article has been served and searched: the growth of the heap
// in use (after a GC) from a server of 1,000 articles to one of 5,000, per
// article, which leaves out what a server holds whatever its articles;
// heapB when clients asked for each article gzipped and plain, gzipB when
// they asked only gzipped (behind a CDN). Run it with -benchtime=1x.
func BenchmarkContentMemory(b *testing.B) {
	for b.Loop() {
		for _, plain := range []bool{true, false} {
			small, large := loadedHeap(b, 1000, plain), loadedHeap(b, 5000, plain)
			unit := "gzipB/article"
			if plain {
				unit = "heapB/article"
			}
			b.ReportMetric(float64(large-small)/4000, unit)
		}
	}
}

// loadedHeap is how much the heap grows for a server holding n articles,
// each served (gzipped, and plain too if plain) and searched.
func loadedHeap(b *testing.B, n int, plain bool) int64 {
	before := heapInUse()
	s, as := benchContent(b, n)
	h := s.Handler()
	fetch := func(path string, header ...string) {
		req := httptest.NewRequest("GET", path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("%s: %d", path, w.Code)
		}
	}
	for _, a := range as {
		fetch("/api/v1/content/articles/"+a.Slug, "Accept-Encoding", "gzip")
		if plain {
			fetch("/api/v1/content/articles/" + a.Slug)
		}
	}
	fetch("/api/v1/content/articles?limit=100")
	fetch("/api/v1/content/articles?q=massage+posture")
	grown := int64(heapInUse()) - int64(before)
	runtime.KeepAlive(s)
	return grown
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
