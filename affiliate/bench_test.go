package affiliate_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/wellness/cms/auth"
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
