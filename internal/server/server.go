// Package server wires the HTTP service: the Gin engine and its middleware,
// the feature packages' routes, operations endpoints, and an orderly
// shutdown.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wellness/cms/admin"
	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/openapi"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// Options is what the server needs from the process configuration.
type Options struct {
	// PublicURL is the base of links the service emits.
	PublicURL string
	// PreviewURL is the front end's preview page for the admin UI's
	// preview links, with {slug} and {token} (CMS_PREVIEW_URL).
	PreviewURL string
	// DataDir holds files the service keeps beside the database (the
	// click spill file).
	DataDir string
	// AmazonTags are the default associate tags per marketplace, seeding
	// the affiliate settings.
	AmazonTags map[string]string
	// TrustedProxies are CIDRs whose X-Forwarded-For is believed.
	TrustedProxies []string
	// CORSOrigins may read the content API from a browser.
	CORSOrigins []string
	// ContentCacheControl is the Cache-Control of published content
	// (CMS_CONTENT_CACHE_CONTROL); "" means content.DefaultCacheControl.
	ContentCacheControl string
	// BodyLimit caps request bodies unless a route raises it.
	BodyLimit int64
	// ShutdownTimeout bounds how long in-flight requests may finish.
	ShutdownTimeout time.Duration
	// DrainDelay keeps serving, with /readyz at 503, before the listener
	// closes, so a load balancer can notice and stop sending traffic.
	DrainDelay time.Duration
	Logger     *slog.Logger

	// Keys sign and verify access tokens.
	Keys *auth.KeySet
	// AdminEmail and AdminPassword create the first admin when there is
	// no user yet.
	AdminEmail    string
	AdminPassword string
	// Now is the clock; nil means time.Now. Tests move it.
	Now func() time.Time
	// WebhookAllowPrivate lets webhooks reach private and loopback
	// addresses (CMS_WEBHOOK_ALLOW_PRIVATE).
	WebhookAllowPrivate bool
	// Crawlers is the maintained crawler list (CMS_CRAWLER_LIST); nil
	// means the built-in bot rules only.
	Crawlers *affiliate.CrawlerList
	// MetricsToken, when set (CMS_METRICS_TOKEN), also serves /metrics on
	// the main listener to requests bearing it; unset, the main listener
	// has no /metrics and only ServeMetrics's listener answers it.
	MetricsToken string
	// Pprof serves net/http/pprof under /debug/pprof/ on the metrics
	// listener only (CMS_PPROF), for profiling a running instance.
	Pprof bool
	// MediaInDatabase stores the media library's files in the database
	// as well as under DataDir/media, so that instances sharing the
	// database serve the same files (CMS_MEDIA_STORE=database, the default
	// with MONGODB_URI).
	MediaInDatabase bool
	// LogWriter, when the logger's JSON handler writes through one, has
	// its dropped lines counted in cms_log_lines_dropped_total, and
	// receives the access-log lines directly (encoded by hand in the
	// handler's format, with none of the logger's attributes).
	LogWriter *LogWriter
}

// Hook runs during shutdown, after the HTTP server has stopped, in the order
// registered. The click recorder drains its buffer in one.
type Hook func(ctx context.Context) error

// Server is the assembled HTTP service.
type Server struct {
	cfg     Options
	db      *mongodb.DB
	engine  *gin.Engine
	http    *http.Server
	metrics *metrics
	log     *slog.Logger

	metricsEngine *gin.Engine
	metricsHTTP   []*http.Server
	metricsWait   sync.WaitGroup
	closing       bool // under mu: Shutdown has begun

	svc   *Services
	rules *auth.Rules

	ready    atomic.Bool
	mu       sync.Mutex
	hooks    []Hook
	bgCancel context.CancelFunc
	bgWait   sync.WaitGroup
	shutdown sync.Once
	errShut  error
}

// withDefaults fills in what cfg leaves unset.
func (cfg Options) withDefaults() Options {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = web.DefaultBodyLimit
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// New builds the server over an open database: the services (Build), the
// engine, its middleware, the operations endpoints and every feature's
// routes. It loads what the services serve from before it returns.
func New(ctx context.Context, cfg Options, db *mongodb.DB) (*Server, error) {
	cfg = cfg.withDefaults()
	if cfg.Keys == nil {
		return nil, errors.New("server: no token signing keys configured")
	}
	doc, err := openapi.Load()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, db: db, metrics: newMetrics(), log: cfg.Logger, rules: auth.NewRules()}
	var lines io.Writer
	if cfg.LogWriter != nil {
		lines = cfg.LogWriter
	}
	e := newEngine(cfg.Logger, lines)
	if err := e.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("CMS_TRUSTED_PROXIES: %w", err)
	}
	e.Use(s.metrics.middleware, bodyLimit(cfg.BodyLimit))
	if lw := cfg.LogWriter; lw != nil {
		s.metrics.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "cms_log_lines_dropped_total",
			Help: "Log lines dropped because the log output did not keep up (4 MB waiting).",
		}, func() float64 { return float64(lw.Dropped()) }))
	}
	s.metricsEngine = s.newMetricsEngine()

	svc, err := build(ctx, db, cfg, s.metrics.registry)
	if err != nil {
		return nil, err
	}
	s.svc = svc
	if created, err := svc.Auth.Bootstrap(ctx, cfg.AdminEmail, cfg.AdminPassword); err != nil {
		return nil, err
	} else if created {
		cfg.Logger.Info("created the first admin", "email", auth.NormalizeEmail(cfg.AdminEmail))
	}
	if err := svc.Start(ctx); err != nil {
		return nil, err
	}
	// Hooks run after the HTTP server has stopped: no new clicks, so the
	// queue can be drained completely.
	s.OnShutdown(svc.Affiliate.Close)

	root := auth.NewRouter(&e.RouterGroup, s.rules, svc.Auth.Authenticate)
	root.GET("/healthz", auth.Public, web.NoQuery, func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	root.GET("/readyz", auth.Public, web.NoQuery, web.Handle(s.readyz))
	// /metrics is not public: it lives on a listener of its own
	// (ServeMetrics), and on this one only behind a bearer token.
	if cfg.MetricsToken != "" {
		root.GET("/metrics", auth.Public, requireToken(cfg.MetricsToken), s.metrics.handler())
	}
	// The API description is public, like the API it describes.
	serveDoc := web.Handle(doc.Serve)
	root.GET(openapi.Path, auth.Public, web.NoQuery, serveDoc)
	root.HEAD(openapi.Path, auth.Public, web.NoQuery, serveDoc)
	api := root.Group("/api/v1")
	svc.Auth.Register(api)
	svc.Webhooks.Register(api)
	svc.Affiliate.Register(api)
	svc.Affiliate.RegisterRedirect(root)
	svc.Articles.Register(api)
	svc.Site.Register(api)
	svc.Media.Register(api)
	svc.Media.RegisterFiles(root)
	svc.Import.Register(api)
	svc.Content.Register(api, root, cfg.CORSOrigins)
	ui, err := admin.New(admin.Services{Auth: svc.Auth, Articles: svc.Articles, Affiliate: svc.Affiliate,
		Media: svc.Media, Site: svc.Site, Webhooks: svc.Webhooks, Import: svc.Import, DB: db.Database},
		admin.Options{PublicURL: cfg.PublicURL, PreviewURL: cfg.PreviewURL, Logger: cfg.Logger, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	ui.Register(root)

	bg, cancel := context.WithCancel(context.Background())
	s.bgCancel = cancel
	for _, loop := range svc.Loops() {
		s.background(bg, loop)
	}
	s.engine = e
	s.http = newHTTPServer(e, cfg.Logger, 30*time.Second, 60*time.Second, 64<<10)
	s.ready.Store(true)
	return s, nil
}

// newHTTPServer is every listener's http.Server: slow headers get 5 s and
// idle keep-alive connections 120 s everywhere; bodies, responses and
// headers get the bounds of what the listener serves. net/http's own
// complaints go to the log as warnings.
func newHTTPServer(h http.Handler, log *slog.Logger, read, write time.Duration, maxHeader int) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       read,
		WriteTimeout:      write,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    maxHeader,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// Engine is the Gin engine, for tests that mount extra routes.
func (s *Server) Engine() *gin.Engine { return s.engine }

// Services are the feature services the server serves.
func (s *Server) Services() *Services { return s.svc }

// Rules is the access rule of every route, for the route audit test.
func (s *Server) Rules() *auth.Rules { return s.rules }

// background runs fn until shutdown, when its context is cancelled and the
// shutdown waits for it to return.
func (s *Server) background(ctx context.Context, fn func(context.Context)) {
	s.bgWait.Add(1)
	go func() {
		defer s.bgWait.Done()
		fn(ctx)
	}()
}

// Handler is the full router, for tests and embedding.
func (s *Server) Handler() http.Handler { return s.engine }

// OnShutdown registers a hook to run after the HTTP server has stopped.
func (s *Server) OnShutdown(h Hook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = append(s.hooks, h)
}

func (s *Server) readyz(c *gin.Context) error {
	if !s.ready.Load() {
		return problem.New(problem.Unavailable, "the server is shutting down")
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		web.Logger(c).Warn("readiness: database ping failed", "err", err)
		return problem.New(problem.Unavailable, "the database does not answer")
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
	return nil
}

// newEngine is a Gin engine with what every listener shares: the request
// ID and access log, recovery, security headers, and problem+json 404 and
// 405 answers.
//
// No automatic redirects: Gin answers them before any middleware runs (no
// request ID, no security headers, no metrics, no access log, a cacheable
// 301) and builds their Location from X-Forwarded-Prefix, a header anyone
// can send. /api/v1/articles/ is a 404 like any other unknown path; clients
// use the paths the API documents.
func newEngine(logger *slog.Logger, lines io.Writer) *gin.Engine {
	e := gin.New()
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.RemoveExtraSlash = false
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	// Gin believes X-Forwarded-For from anyone until told otherwise; New
	// sets CMS_TRUSTED_PROXIES on the main engine.
	_ = e.SetTrustedProxies(nil)
	e.Use(requestContext(logger, lines), recovery, securityHeaders)
	e.NoRoute(notFound)
	e.NoMethod(methodNotAllowed)
	return e
}

// MetricsHandler serves /metrics and nothing else: what ServeMetrics puts
// on the metrics listener.
func (s *Server) MetricsHandler() http.Handler { return s.metricsEngine }

// ServeMetrics serves MetricsHandler on ln in the background until
// Shutdown, which closes it after the main listener so that scrapes still
// work while requests drain. The listener is CMS_METRICS_ADDR, loopback by
// default, so the metrics are not public.
func (s *Server) ServeMetrics(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		_ = ln.Close()
		return
	}
	hs := s.metricsServer()
	s.metricsHTTP = append(s.metricsHTTP, hs)
	s.metricsWait.Add(1)
	go func() {
		defer s.metricsWait.Done()
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("metrics listener failed", "addr", ln.Addr().String(), "err", err)
		}
	}()
}

// Serve answers requests on ln until ctx is cancelled, then shuts down:
// /readyz turns 503, the listener closes, in-flight requests get up to
// ShutdownTimeout, and the shutdown hooks run. The database is the caller's
// to close afterwards.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			_ = s.Shutdown(context.Background())
			return fmt.Errorf("serve http: %w", err)
		}
	case <-ctx.Done():
	}
	return s.Shutdown(context.Background())
}

// Shutdown stops the server once; later calls return the first result.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdown.Do(func() {
		s.ready.Store(false)
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()
		s.log.Info("shutting down")
		if s.cfg.DrainDelay > 0 {
			time.Sleep(s.cfg.DrainDelay)
		}
		sctx, cancel := context.WithTimeout(ctx, s.cfg.ShutdownTimeout)
		defer cancel()
		var errs []error
		if err := s.http.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("stop http server: %w", err))
		}
		s.mu.Lock()
		metricsHTTP := s.metricsHTTP
		s.mu.Unlock()
		for _, hs := range metricsHTTP {
			if err := hs.Shutdown(sctx); err != nil {
				errs = append(errs, fmt.Errorf("stop metrics listener: %w", err))
			}
		}
		s.metricsWait.Wait()
		s.bgCancel()
		s.bgWait.Wait()
		s.mu.Lock()
		hooks := s.hooks
		s.mu.Unlock()
		// Hooks get their own budget: a slow request must not cost the
		// click buffer its chance to be written.
		hctx, hcancel := context.WithTimeout(ctx, s.cfg.ShutdownTimeout)
		defer hcancel()
		for _, h := range hooks {
			if err := h(hctx); err != nil {
				errs = append(errs, err)
			}
		}
		s.errShut = errors.Join(errs...)
	})
	return s.errShut
}
