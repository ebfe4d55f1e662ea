package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/internal/testenv"
)

const metricsToken = "a metrics bearer token of 32+ bytes"

// TestMetricsNotPublic: the main listener has no /metrics unless a token is
// configured, and then only for requests bearing it.
func TestMetricsNotPublic(t *testing.T) {
	plain := testenv.NewServer(t)
	if r := plain.Do(testenv.Request{Path: "/metrics"}); r.Status != 404 || strings.Contains(string(r.Body), "go_goroutines") {
		t.Fatalf("GET /metrics without a token configured: %d %.100s, want 404", r.Status, r.Body)
	}

	var logs testenv.LogBuffer
	s := testenv.NewServer(t, func(c *server.Options) {
		c.MetricsToken = metricsToken
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	tests := []struct {
		name, auth string
		want       int
	}{
		{"no credentials", "", 401},
		{"wrong token", "Bearer not the token", 401},
		{"token as basic", "Basic " + metricsToken, 401},
		{"token without scheme", metricsToken, 401},
		{"token prefix", "Bearer " + metricsToken[:10], 401},
		{"token plus more", "Bearer " + metricsToken + "x", 401},
		{"empty bearer", "Bearer ", 401},
		{"the token", "Bearer " + metricsToken, 200},
		{"scheme in lower case", "bearer " + metricsToken, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			if tt.auth != "" {
				h["Authorization"] = tt.auth
			}
			r := s.Do(testenv.Request{Path: "/metrics", Header: h})
			if r.Status != tt.want {
				t.Fatalf("status %d, want %d", r.Status, tt.want)
			}
			if tt.want == 401 {
				if r.Header.Get("WWW-Authenticate") == "" || strings.Contains(string(r.Body), "go_goroutines") {
					t.Errorf("401 without WWW-Authenticate or with metrics: %s", r.Body)
				}
				r.Problem(t)
			} else if !strings.Contains(string(r.Body), "http_requests_total") {
				t.Errorf("no metrics in the 200: %.200s", r.Body)
			}
			for k, want := range promised {
				if r.Header.Get(k) != want || r.Header.Get("X-Request-ID") == "" {
					t.Errorf("%s = %q, X-Request-ID %q", k, r.Header.Get(k), r.Header.Get("X-Request-ID"))
				}
			}
		})
	}
	if _, ok := s.Rules().Lookup("GET", "/metrics"); !ok {
		t.Error("/metrics on the main listener declares no access rule")
	}
	if strings.Contains(logs.String(), "32+ bytes") {
		t.Error("the metrics token reached the log")
	}
}

// TestMetricsListener: ServeMetrics answers /metrics and nothing else, with
// the shared middleware, and Shutdown closes it.
func TestMetricsListener(t *testing.T) {
	db := testenv.OpenDB(t)
	srv, err := server.New(context.Background(), server.Options{Logger: testenv.Quiet(), Keys: testenv.Keys(t)}, db)
	if err != nil {
		t.Fatal(err)
	}
	main, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.ServeMetrics(mln)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, main) }()
	base, metricsBase := "http://"+main.Addr().String(), "http://"+mln.Addr().String()

	waitStatus(t, base+"/healthz", 200)
	for _, tt := range []struct {
		method, url string
		want        int
	}{
		{"GET", metricsBase + "/metrics", 200},
		{"HEAD", metricsBase + "/metrics", 405},
		{"GET", metricsBase + "/metrics/", 404},
		{"GET", metricsBase + "/healthz", 404},
		{"GET", metricsBase + "/api/v1/articles", 404},
		{"POST", metricsBase + "/metrics", 405},
		{"GET", base + "/metrics", 404},
	} {
		req, _ := http.NewRequest(tt.method, tt.url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.method, tt.url, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.url, resp.StatusCode, tt.want)
		}
		if tt.want == 200 && tt.method == "GET" && !bytes.Contains(body, []byte(`http_requests_total{method="GET",route="/healthz",status="200"}`)) {
			t.Errorf("metrics lack the main listener's requests: %.300s", body)
		}
		if resp.Header.Get("X-Request-ID") == "" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s %s: the shared middleware did not run", tt.method, tt.url)
		}
	}

	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return")
	}
	if conn, err := net.DialTimeout("tcp", mln.Addr().String(), time.Second); err == nil {
		conn.Close()
		t.Fatal("the metrics listener still accepts connections after shutdown")
	}
	// A metrics listener handed over after shutdown is closed at once.
	late, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.ServeMetrics(late)
	if _, err := late.Accept(); err == nil {
		t.Fatal("a metrics listener was served after shutdown")
	}
}

// TestPprofOnlyWhenAsked: net/http/pprof is on the metrics listener with
// CMS_PPROF (Options.Pprof) and nowhere otherwise.
func TestPprofOnlyWhenAsked(t *testing.T) {
	for _, on := range []bool{false, true} {
		s := testenv.NewServer(t, func(c *server.Options) { c.Pprof = on })
		want := http.StatusNotFound
		if on {
			want = http.StatusOK
		}
		w := httptest.NewRecorder()
		s.MetricsHandler().ServeHTTP(w, httptest.NewRequest("GET", "/debug/pprof/heap?debug=1", nil))
		if w.Code != want {
			t.Errorf("pprof %v: metrics listener %d, want %d", on, w.Code, want)
		}
		w = httptest.NewRecorder()
		s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/debug/pprof/heap", nil))
		if w.Code != http.StatusNotFound {
			t.Errorf("pprof %v: main listener %d, want 404", on, w.Code)
		}
	}
}
