package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// metrics is the server's own registry: no global state, so several servers
// (as in tests) can run in one process.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	// children are the counter and histogram of each method, route and
	// status met so far: a vector's WithLabelValues hashes its labels on
	// every call, and the status label would be a new string each time.
	// The set is bounded: methods and statuses are few, routes are the
	// patterns (routeLabel).
	mu       sync.RWMutex
	children map[childKey]*child
}

type childKey struct {
	method, route string
	status        int
}

type child struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// child returns the metrics of one method, route and status.
func (m *metrics) child(method, route string, status int) *child {
	k := childKey{method, route, status}
	m.mu.RLock()
	c := m.children[k]
	m.mu.RUnlock()
	if c != nil {
		return c
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if c = m.children[k]; c == nil {
		c = &child{m.requests.WithLabelValues(method, route, statusLabel(status)), m.duration.WithLabelValues(method, route)}
		m.children[k] = c
	}
	return c
}

func newMetrics() *metrics {
	m := &metrics{
		children: map[childKey]*child{},
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by method and route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "route"}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.duration,
	)
	return m
}

func (m *metrics) middleware(c *gin.Context) {
	start := time.Now()
	c.Next()
	ch := m.child(methodLabel(c.Request.Method), routeLabel(c), c.Writer.Status())
	ch.requests.Inc()
	ch.duration.Observe(time.Since(start).Seconds())
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() gin.HandlerFunc {
	return gin.WrapH(promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
}

// requireToken guards /metrics on the main listener: the request must carry
// "Authorization: Bearer <token>". Both sides are hashed first so the
// comparison takes the same time whatever the length of the guess.
func requireToken(token string) gin.HandlerFunc {
	want := sha256.Sum256([]byte(token))
	return func(c *gin.Context) {
		h := c.GetHeader("Authorization")
		ok := len(h) > len("Bearer ") && strings.EqualFold(h[:len("Bearer ")], "Bearer ")
		got := sha256.Sum256([]byte(strings.TrimSpace(h[min(len(h), len("Bearer ")):])))
		if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			c.Header("WWW-Authenticate", `Bearer realm="metrics"`)
			web.Fail(c, problem.New(problem.Unauthorized, "the metrics need the bearer token set in CMS_METRICS_TOKEN"))
			return
		}
		c.Next()
	}
}

// newMetricsEngine answers the metrics listener (CMS_METRICS_ADDR): GET
// /metrics and nothing else, through the same request ID, recovery and
// security-header middleware as the main engine.
func (s *Server) newMetricsEngine() *gin.Engine {
	e := newEngine(s.log, nil) // scrapes are few: their lines go through the logger
	e.GET("/metrics", s.metrics.handler())
	if s.cfg.Pprof {
		// Profiles show code paths and heap contents: only the metrics
		// listener, loopback by default, ever serves them.
		e.GET("/debug/pprof/*name", gin.WrapF(servePprof))
	}
	return e
}

// servePprof routes /debug/pprof/{name} to net/http/pprof.
func servePprof(w http.ResponseWriter, r *http.Request) {
	switch strings.TrimPrefix(r.URL.Path, "/debug/pprof/") {
	case "cmdline":
		pprof.Cmdline(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "trace":
		pprof.Trace(w, r)
	default:
		pprof.Index(w, r)
	}
}

// metricsServer is the http.Server of a metrics listener; its timeouts are
// short because a scrape is one small GET.
func (s *Server) metricsServer() *http.Server {
	return newHTTPServer(s.metricsEngine, s.log, 10*time.Second, 30*time.Second, 16<<10)
}
