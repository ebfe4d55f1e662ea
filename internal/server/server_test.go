package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/internal/testenv"
	"github.com/wellness/cms/internal/web"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// echoRoutes mounts routes that exercise the shared middleware: strict
// decoding, a panic, and a raised body limit.
func echoRoutes(s *testenv.Server) {
	type in struct {
		Name  string   `json:"name"`
		Count int      `json:"count"`
		Tags  []string `json:"tags"`
	}
	decode := web.Handle(func(c *gin.Context) error {
		var v in
		if err := web.Decode(c, &v); err != nil {
			return err
		}
		c.JSON(http.StatusOK, v)
		return nil
	})
	e := s.Engine()
	e.POST("/test/echo", decode)
	e.POST("/test/big", web.BodyLimit(4<<20), decode)
	e.GET("/test/panic", func(*gin.Context) { panic("boom: secret driver detail") })
}

func TestProblemResponses(t *testing.T) {
	s := testenv.NewServer(t)
	echoRoutes(s)
	big := `{"name":"` + strings.Repeat("a", 2<<20) + `"}`
	tests := []struct {
		name       string
		req        testenv.Request
		wantStatus int
		wantField  string
	}{
		{"unknown route", testenv.Request{Path: "/nope"}, 404, ""},
		{"wrong method", testenv.Request{Method: "DELETE", Path: "/healthz"}, 405, ""},
		{"probe with a query", testenv.Request{Path: "/healthz?verbose=1"}, 400, "verbose"},
		{"readiness with a query", testenv.Request{Path: "/readyz?x=1"}, 400, "x"},
		{"panic", testenv.Request{Path: "/test/panic"}, 500, ""},
		{"oversize body", testenv.Request{Method: "POST", Path: "/test/echo", Body: big}, 413, ""},
		{"malformed json", testenv.Request{Method: "POST", Path: "/test/echo", Body: `{"name":`}, 400, ""},
		{"syntax error", testenv.Request{Method: "POST", Path: "/test/echo", Body: `{"name" "x"}`}, 400, ""},
		{"empty body", testenv.Request{Method: "POST", Path: "/test/echo", Body: ` `}, 400, ""},
		{"trailing data", testenv.Request{Method: "POST", Path: "/test/echo", Body: `{"name":"a"} {}`}, 400, ""},
		{"unknown field", testenv.Request{Method: "POST", Path: "/test/echo", Body: `{"name":"a","role":"admin"}`}, 400, "role"},
		{"wrong type", testenv.Request{Method: "POST", Path: "/test/echo", Body: `{"count":"many"}`}, 400, "count"},
		{"operator injection", testenv.Request{Method: "POST", Path: "/test/echo", Body: `{"name":{"$gt":""}}`}, 400, "name"},
		{"not json media type", testenv.Request{Method: "POST", Path: "/test/echo", Body: `{}`,
			Header: map[string]string{"Content-Type": "text/plain"}}, 415, ""},
		{"wrong charset", testenv.Request{Method: "POST", Path: "/test/echo", Body: `{}`,
			Header: map[string]string{"Content-Type": "application/json; charset=latin1"}}, 415, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.Do(tt.req)
			if r.Status != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", r.Status, tt.wantStatus, r.Body)
			}
			p := r.Problem(t)
			if int(p["status"].(float64)) != tt.wantStatus || p["type"] == "" || p["title"] == "" {
				t.Errorf("problem body incomplete: %v", p)
			}
			if strings.Contains(string(r.Body), "secret driver detail") || strings.Contains(string(r.Body), "goroutine") {
				t.Errorf("internal detail leaked: %s", r.Body)
			}
			if tt.wantField != "" {
				errs, _ := p["errors"].([]any)
				if len(errs) != 1 || errs[0].(map[string]any)["field"] != tt.wantField {
					t.Errorf("errors = %v, want one naming %q", p["errors"], tt.wantField)
				}
			}
		})
	}
}

func TestBodyLimitRaisedPerRoute(t *testing.T) {
	s := testenv.NewServer(t)
	echoRoutes(s)
	body := `{"name":"` + strings.Repeat("a", 2<<20) + `"}`
	if r := s.Do(testenv.Request{Method: "POST", Path: "/test/big", Body: body}); r.Status != 200 {
		t.Fatalf("2 MiB on a 4 MiB route: status %d, body %.200s", r.Status, r.Body)
	}
	huge := `{"name":"` + strings.Repeat("a", 5<<20) + `"}`
	if r := s.Do(testenv.Request{Method: "POST", Path: "/test/big", Body: huge}); r.Status != 413 {
		t.Fatalf("5 MiB on a 4 MiB route: status %d", r.Status)
	}
}

func TestRequestID(t *testing.T) {
	s := testenv.NewServer(t)
	tests := []struct {
		name, sent string
		kept       bool
	}{
		{"well formed is echoed", "abc-123.DEF:9", true},
		{"absent is generated", "", false},
		{"too long is replaced", strings.Repeat("x", 129), false},
		{"odd characters are replaced", "a b<script>", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			if tt.sent != "" {
				h["X-Request-ID"] = tt.sent
			}
			r := s.Do(testenv.Request{Path: "/nope", Header: h})
			got := r.Header.Get("X-Request-ID")
			if tt.kept && got != tt.sent {
				t.Fatalf("X-Request-ID = %q, want %q", got, tt.sent)
			}
			if !tt.kept && (got == "" || got == tt.sent) {
				t.Fatalf("X-Request-ID = %q, want a generated one", got)
			}
			if p := r.Problem(t); p["requestId"] != got {
				t.Errorf("problem requestId = %v, header %q", p["requestId"], got)
			}
		})
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	s := testenv.NewServer(t)
	for _, path := range []string{"/healthz", "/readyz", "/nope", "/metrics"} {
		r := s.Do(testenv.Request{Path: path})
		for k, want := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "strict-origin-when-cross-origin",
			"X-Frame-Options":        "DENY",
		} {
			if got := r.Header.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", path, k, got, want)
			}
		}
	}
}

func TestMetricsByRoutePattern(t *testing.T) {
	s := testenv.NewServer(t)
	s.Do(testenv.Request{Path: "/healthz"})
	s.Do(testenv.Request{Path: "/no/such/thing"})
	body := s.Metrics(t)
	for _, want := range []string{
		`http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`http_request_duration_seconds_bucket{method="GET",route="/healthz"`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(body, "/no/such/thing") {
		t.Error("raw paths must not become metric labels")
	}
}

func TestReadyzFollowsDatabase(t *testing.T) {
	s := testenv.NewServer(t)
	if r := s.Do(testenv.Request{Path: "/readyz"}); r.Status != 200 {
		t.Fatalf("readyz = %d, want 200", r.Status)
	}
	if err := s.DB.Client.Disconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := s.Do(testenv.Request{Path: "/readyz"}); r.Status != 503 {
		t.Fatalf("readyz with the database gone = %d, want 503", r.Status)
	}
	if r := s.Do(testenv.Request{Path: "/healthz"}); r.Status != 200 {
		t.Fatalf("healthz = %d, want 200 while the process runs", r.Status)
	}
}

// TestGracefulShutdown checks the order: /readyz turns 503 while requests
// are still served, an in-flight request finishes, and hooks run after it.
func TestGracefulShutdown(t *testing.T) {
	db := testenv.OpenDB(t)
	srv, err := server.New(context.Background(), server.Options{
		Logger: testenv.Quiet(), DrainDelay: 700 * time.Millisecond, Keys: testenv.Keys(t),
	}, db)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var finished atomic.Bool
	srv.Engine().GET("/test/slow", func(c *gin.Context) {
		<-release
		finished.Store(true)
		c.String(200, "done")
	})
	var hookSawFinished atomic.Bool
	srv.OnShutdown(func(context.Context) error {
		hookSawFinished.Store(finished.Load())
		return nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	slow := make(chan int, 1)
	go func() {
		resp, err := http.Get(base + "/test/slow")
		if err != nil {
			slow <- -1
			return
		}
		resp.Body.Close()
		slow <- resp.StatusCode
	}()
	waitStatus(t, base+"/readyz", 200)
	cancel()
	waitStatus(t, base+"/readyz", 503)
	close(release)
	if code := <-slow; code != 200 {
		t.Fatalf("in-flight request ended with %d, want 200", code)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return after shutdown")
	}
	if !hookSawFinished.Load() {
		t.Error("shutdown hook ran before the in-flight request finished")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("server still accepts connections after shutdown")
	}
}

func waitStatus(t *testing.T, url string, want int) {
	t.Helper()
	testenv.Eventually(t, fmt.Sprintf("%s to answer %d", url, want), func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == want
	})
}

// TestAccessLogThroughLogWriter: with a LogWriter, as cmd/cms runs, each
// request's access line goes straight into it, one JSON line beside the
// logger's own, with the query's secrets redacted.
func TestAccessLogThroughLogWriter(t *testing.T) {
	var out server.LockedBuffer
	lw := server.NewLogWriter(&out)
	t.Cleanup(func() { _ = lw.Close() })
	s := testenv.NewServer(t, func(o *server.Options) {
		o.LogWriter = lw
		o.Logger = slog.New(slog.NewJSONHandler(lw, nil))
	})
	r := s.Do(testenv.Request{Path: "/nope?preview=secret-token&x=%22", Header: map[string]string{"X-Request-ID": "req-1"}})
	if r.Status != http.StatusNotFound {
		t.Fatalf("status %d", r.Status)
	}
	lw.Flush()
	var line map[string]any
	for l := range strings.Lines(out.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", l, err)
		}
		if m["msg"] == "request" && m["requestId"] == "req-1" {
			line = m
		}
	}
	want := map[string]any{"level": "INFO", "method": "GET", "route": "unmatched", "path": "/nope",
		"query": "preview=REDACTED&x=%22", "status": float64(404), "clientIp": "127.0.0.1"}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("access line %s = %v, want %v (line %v)", k, line[k], v, line)
		}
	}
	if strings.Contains(out.String(), "secret-token") {
		t.Error("the preview token reached the log")
	}
}
