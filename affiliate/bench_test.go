package affiliate_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/testenv"
)

// BenchmarkRedirect measures /go/{code} through the full router and
// middleware, in process. GET includes click recording: the writer stores
// clicks meanwhile in the embedded engine, which runs in this process and
// so shares its CPUs and shows in B/op. When the writer falls behind, the
// queue (10,000) fills and clicks go to the spill file, which is what a
// redirect costs under sustained overload; -benchtime=8000x keeps within
// the queue.
func BenchmarkRedirect(b *testing.B) {
	s := newServer(b)
	editor, _ := s.User(b, auth.Editor)
	createProduct(b, s, editor, map[string]any{"code": "roller", "title": "Roller", "asin": "B000123456", "marketplace": "amazon.com"})
	h := s.Handler()
	run := func(method string) func(b *testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			before, _ := strconv.ParseFloat(scrape(b, s, "affiliate_clicks_spilled_total"), 64)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(method, "/go/roller?a=knee-pain&p=2", nil)
					req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0")
					req.RemoteAddr = "198.51.100.7:4242"
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusFound {
						b.Fatalf("status %d", w.Code)
					}
				}
			})
			b.StopTimer()
			after, _ := strconv.ParseFloat(scrape(b, s, "affiliate_clicks_spilled_total"), 64)
			b.ReportMetric((after-before)/float64(b.N), "spilled/op")
		}
	}
	// GET records a click; HEAD does not, so it is the floor.
	b.Run("GET", run(http.MethodGet))
	b.Run("HEAD", run(http.MethodHead))
}

// BenchmarkPing measures counting the follow of an article's body link
// (POST /go/{code}/ping, as browsers send the ping attribute's request)
// through the full router, like BenchmarkRedirect: the check against the
// content API's snapshot and the same click recorder.
func BenchmarkPing(b *testing.B) {
	s := newServer(b)
	editor, _ := s.User(b, auth.Editor)
	createProduct(b, s, editor, map[string]any{"code": "roller", "title": "Roller", "asin": "B000123456", "marketplace": "amazon.com"})
	testenv.Publish(b, s, editor, map[string]any{"title": "Knee pain",
		"body": `<p><a href="https://www.amazon.com/dp/B000123456">roller</a></p>`})
	h := s.Handler()
	b.ReportAllocs()
	before, _ := strconv.ParseFloat(scrape(b, s, "affiliate_clicks_spilled_total"), 64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/go/roller/ping?a=knee-pain&p=1", strings.NewReader("PING"))
			req.Header.Set("Content-Type", "text/ping")
			req.Header.Set("Ping-From", "https://clinic.example/articles/knee-pain")
			req.Header.Set("Ping-To", "https://www.amazon.com/dp/B000123456?tag=mysite-20")
			req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36")
			req.RemoteAddr = "198.51.100.7:4242"
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusNoContent {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
	b.StopTimer()
	after, _ := strconv.ParseFloat(scrape(b, s, "affiliate_clicks_spilled_total"), 64)
	b.ReportMetric((after-before)/float64(b.N), "spilled/op")
}
