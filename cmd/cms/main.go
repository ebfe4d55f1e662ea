// Command cms runs the wellness publishing CMS: the HTTP server (cms serve,
// the default) and administrative subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/gin-gonic/gin"
	"golang.org/x/term"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/server"
)

func main() {
	// Gin's debug mode prints every route and warns on stdout; the
	// service logs through slog.
	gin.SetMode(gin.ReleaseMode)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "cms:", err)
		}
		os.Exit(1)
	}
}

const usage = `usage: cms [command] [flags]

commands:
  serve      run the HTTP server (the default)
  user       add, list and change users (cms user for details)
  resanitize re-render stored article HTML after a sanitizer policy change
  import     import a WordPress export (import wxr) or restore a backup (import archive)
  export     write everything to one backup archive
  help       show this text

Configuration comes from the environment; see README.md.
`

// run dispatches a subcommand. It returns instead of exiting so tests can
// drive it with their own environment and streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stderr)
	case "user":
		return userCmd(ctx, args, getenv, stdin, stdout, stderr)
	case "resanitize":
		return resanitizeCmd(ctx, args, getenv, stdout, stderr)
	case "import":
		return importCmd(ctx, args, getenv, stdout, stderr)
	case "export":
		return exportCmd(ctx, args, getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// tool is what a command working on the configured database has open.
type tool struct {
	cfg    config
	db     *mongodb.DB
	logger *slog.Logger
	// where names the database for the operator: the name, and the data
	// directory or the MongoDB hosts (never a password).
	where string
}

// openTool prepares a command that works on the configured database
// beside a running server: it reads the configuration (dataDir, when set,
// overrides CMS_DATA_DIR; use says whether a new database may be started)
// and opens the database with Attach, so that on the embedded engine it
// goes through the running server's socket instead of failing because the
// data directory is in use. It prints which database it opened to stderr
// before the command does anything, so a wrong CMS_DATA_DIR or
// MONGODB_URI shows at once.
func openTool(ctx context.Context, getenv func(string) string, dataDir string, use dataUse, stderr io.Writer) (*tool, error) {
	cfg, err := loadToolConfig(getenv, dataDir, use, stderr)
	if err != nil {
		return nil, err
	}
	logger := newLogger(stderr, cfg.LogLevel)
	db, err := mongodb.Open(ctx, mongodb.Options{URI: cfg.MongoURI, Database: cfg.MongoDatabase,
		DataDir: cfg.DataDir, Logger: logger, Attach: true})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	t := &tool{cfg: cfg, db: db, logger: logger, where: describeDatabase(cfg, db)}
	fmt.Fprintf(stderr, "cms: using %s\n", t.where)
	return t, nil
}

// describeDatabase names the database a command uses.
func describeDatabase(cfg config, db *mongodb.DB) string {
	if cfg.MongoURI != "" {
		return fmt.Sprintf("database %q at %s", cfg.MongoDatabase, redactURI(cfg.MongoURI))
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		dir = cfg.DataDir
	}
	how := "embedded engine"
	if !db.Embedded {
		how = "embedded engine of the running server"
	}
	return fmt.Sprintf("database %q in %s (%s)", cfg.MongoDatabase, dir, how)
}

// redactURI keeps what identifies a deployment, the scheme, user name and
// hosts as written, and drops the password and the options, which may hold
// secrets of their own (authMechanismProperties, TLS key passwords). It
// splits the string itself: url.Parse refuses several hosts and
// percent-encoded socket paths, both valid in a MongoDB URI.
func redactURI(uri string) string {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok || scheme == "" || strings.ContainsFunc(uri, unicode.IsControl) {
		return "MONGODB_URI (not shown: it does not look like a connection string)"
	}
	rest, _, _ = strings.Cut(rest, "?")
	out := scheme + "://"
	// Everything before the last @ is user information, even a stray
	// unescaped / in a password.
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		user, _, hasPassword := strings.Cut(rest[:i], ":")
		user, _, _ = strings.Cut(user, "/")
		out += user
		if hasPassword {
			out += ":xxxxx"
		}
		out += "@"
		rest = rest[i+1:]
	}
	hosts, _, _ := strings.Cut(rest, "/")
	return out + hosts + "/"
}

// openDB opens the configured database, naming the variable to fix when it
// fails.
func openDB(ctx context.Context, cfg config, logger *slog.Logger) (*mongodb.DB, error) {
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	db, err := mongodb.Open(octx, mongodb.Options{
		URI:      cfg.MongoURI,
		Database: cfg.MongoDatabase,
		DataDir:  cfg.DataDir,
		Logger:   logger,
	})
	if err != nil {
		if cfg.MongoURI != "" {
			return nil, &configError{Var: "MONGODB_URI", Err: err}
		}
		return nil, fmt.Errorf("embedded database in CMS_DATA_DIR: %w", err)
	}
	return db, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	start := time.Now()
	cfg, err := loadConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	// Requests must not wait on stderr: lines are buffered and written in
	// the background, and the deferred Close writes the rest at exit.
	logOut := server.NewLogWriter(stderr)
	defer logOut.Close()
	logger := newLogger(logOut, cfg.LogLevel)

	// Bind first: a taken port should fail before the database starts.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return bad("CMS_ADDR", "cannot listen on %s: %v", cfg.Addr, unwrapAll(err))
	}
	defer ln.Close()
	var metricsLn net.Listener
	if cfg.MetricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return bad("CMS_METRICS_ADDR", "cannot listen on %s: %v (set another address, or off)", cfg.MetricsAddr, unwrapAll(err))
		}
		defer metricsLn.Close()
	}

	db, err := openDB(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := db.Close(cctx); err != nil {
			logger.Error("close database", "err", err)
		}
	}()

	keys, generated, err := auth.LoadKeys(cfg.DataDir, cfg.JWTSecret, cfg.JWTPrevious)
	if err != nil {
		return err
	}
	if generated {
		logger.Info("generated a token signing key", "file", filepath.Join(cfg.DataDir, auth.KeyFileName))
	}
	if cfg.JWTSecret == nil && cfg.MongoURI != "" {
		logger.Warn("CMS_JWT_SECRET is unset: this instance signs with a key from its own data directory; " +
			"instances sharing the database must share CMS_JWT_SECRET")
	}

	opts := cfg.serverOptions(logger)
	opts.LogWriter = logOut
	opts.Keys, opts.AdminEmail, opts.AdminPassword = keys, cfg.AdminEmail, cfg.AdminPassword
	srv, err := server.New(ctx, opts, db)
	if err != nil {
		return err
	}
	metricsAddr := "off"
	if metricsLn != nil {
		srv.ServeMetrics(metricsLn)
		metricsAddr = metricsLn.Addr().String()
	}
	logger.Info("ready", "addr", ln.Addr().String(), "metricsAddr", metricsAddr,
		"metricsOnMainListener", cfg.MetricsToken != "", "embeddedDatabase", db.Embedded,
		"startup", time.Since(start).Round(time.Millisecond).String())
	if err := srv.Serve(ctx, ln); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}

// unwrapAll reduces a wrapped network error to its root cause, e.g.
// "address already in use", which reads better on one line.
func unwrapAll(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// serverOptions is the part of the configuration the services are built
// from: the server and every tool build them alike (server.Build).
func (c config) serverOptions(logger *slog.Logger) server.Options {
	return server.Options{
		PublicURL:      c.PublicURL,
		PreviewURL:     c.PreviewURL,
		DataDir:        c.DataDir,
		AmazonTags:     c.AmazonTags,
		TrustedProxies: c.TrustedProxies,
		CORSOrigins:    c.CORSOrigins,
		DrainDelay:     c.DrainDelay,
		Logger:         logger,

		WebhookAllowPrivate: c.WebhookAllowPrivate,
		Pprof:               c.Pprof,
		Crawlers:            c.Crawlers,
		ContentCacheControl: c.ContentCacheControl,
		MetricsToken:        c.MetricsToken,
		MediaInDatabase:     c.MediaInDatabase,
	}
}

// isTerminal reports whether w is a terminal, where progress is shown.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressLine shows progress on one line of a terminal, and nothing
// when w is not one.
type progressLine struct {
	w     io.Writer
	shown bool
}

func newProgressLine(w io.Writer) *progressLine {
	if isTerminal(w) {
		return &progressLine{w: w}
	}
	return &progressLine{}
}

func (p *progressLine) show(stage string, done, total int64) {
	if p.w == nil {
		return
	}
	p.shown = true
	if total > 0 {
		fmt.Fprintf(p.w, "\r\033[K%s: %d of %d", stage, done, total)
		return
	}
	fmt.Fprintf(p.w, "\r\033[K%s: %d", stage, done)
}

func (p *progressLine) done() {
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
