// Package mongodb opens the service's database: a MongoDB deployment named
// by a URI, or, when none is configured, FerretDB running inside this
// process over SQLite files in the data directory. Both are reached through
// the same official driver, so the rest of the code has one path.
package mongodb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// Options says which database to open.
type Options struct {
	// URI of a MongoDB deployment; empty starts the embedded engine.
	URI string
	// Database name.
	Database string
	// DataDir holds the embedded engine's files (under DataDir/db).
	DataDir string
	// Logger receives the embedded engine's warnings and errors.
	Logger *slog.Logger
	// MaxPoolSize bounds the driver's connection pool; 0 means 50.
	MaxPoolSize uint64
	// Attach lets a short-lived command (cms user ...) use the embedded
	// engine of a server already running on DataDir instead of failing.
	Attach bool
	// Monitor, when set, sees every command the client sends; tests use
	// it to check which filters a code path uses.
	Monitor *event.CommandMonitor
}

// DB is an open database. Close releases it.
type DB struct {
	Client   *mongo.Client
	Database *mongo.Database
	// Embedded reports whether this is the in-process engine.
	Embedded bool

	engine *Engine
}

// Open connects to the configured database and pings it. With no URI it
// starts the embedded engine first.
func Open(ctx context.Context, o Options) (*DB, error) {
	uri := o.URI
	var engine *Engine
	if uri == "" {
		dir := filepath.Join(o.DataDir, "db")
		if running := runningEngineURI(dir); o.Attach && running != "" {
			uri = running
		} else {
			var err error
			engine, err = StartEngine(dir, o.Logger)
			if err != nil {
				return nil, err
			}
			uri = engine.URI()
		}
	}
	client, err := connect(ctx, uri, o.MaxPoolSize, o.Monitor)
	if err != nil {
		if engine != nil {
			engine.Close()
		}
		return nil, err
	}
	return &DB{
		Client:   client,
		Database: client.Database(o.Database),
		Embedded: engine != nil,
		engine:   engine,
	}, nil
}

// Connect opens a driver client for uri with the service's settings and
// verifies that the deployment answers.
func Connect(ctx context.Context, uri string, maxPool uint64) (*mongo.Client, error) {
	return connect(ctx, uri, maxPool, nil)
}

func connect(ctx context.Context, uri string, maxPool uint64, monitor *event.CommandMonitor) (*mongo.Client, error) {
	if maxPool == 0 {
		maxPool = 50
	}
	// Defaults first: options written in the URI by the operator win.
	opts := options.Client().
		SetAppName("wellness-cms").
		SetServerSelectionTimeout(5 * time.Second).
		SetConnectTimeout(5 * time.Second).
		SetMaxPoolSize(maxPool).
		SetWriteConcern(writeconcern.Majority()).
		SetMonitor(monitor).
		ApplyURI(uri)
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("MONGODB_URI: %w", err)
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := client.Ping(pctx, readpref.Primary()); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, fmt.Errorf("database did not answer a ping: %w", err)
	}
	return client, nil
}

// IndexNewTables gives the embedded engine's tables created since its
// last pass their _id lookup index now rather than within idIndexEvery;
// the server calls it once its collections exist. It does nothing on
// MongoDB, whose _id index serves every lookup.
func (db *DB) IndexNewTables(ctx context.Context) error {
	if db.engine == nil {
		return nil
	}
	return db.engine.IndexNewTables(ctx)
}

// IndexNewTables gives the engine's tables created since its last pass
// their _id lookup index now; tests that seed a collection directly call
// it, as the server does at start.
func (e *Engine) IndexNewTables(ctx context.Context) error {
	_, err := indexIDLookups(ctx, e.dir)
	return err
}

// Ping checks that the database answers within the context's deadline.
func (db *DB) Ping(ctx context.Context) error {
	return db.Client.Ping(ctx, readpref.Primary())
}

// Close disconnects the client first, then stops the embedded engine, so no
// request is in flight when the engine's files close.
func (db *DB) Close(ctx context.Context) error {
	err := db.Client.Disconnect(ctx)
	if db.engine != nil {
		db.engine.Close()
	}
	if err != nil {
		return fmt.Errorf("disconnect from database: %w", err)
	}
	return nil
}

// Engine is FerretDB running in this process.
type Engine struct {
	uri    string
	dir    string
	cancel context.CancelFunc
	done   chan struct{} // closed when FerretDB and the indexer have stopped
	once   sync.Once
}

// maxSocketPath is the longest Unix socket path Linux accepts (sun_path less
// its terminating NUL).
const maxSocketPath = 107

// StartEngine runs FerretDB with the SQLite handler on files in dir. It
// listens on a Unix socket inside dir so that only this user can reach the
// unauthenticated engine; where the path would be too long for a socket it
// falls back to a random loopback port.
func StartEngine(dir string, logger *slog.Logger) (*Engine, error) {
	if logger == nil {
		logger = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("CMS_DATA_DIR: create database directory: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("CMS_DATA_DIR: %w", err)
	}
	listener := ferretdb.ListenerConfig{}
	sock := filepath.Join(abs, "ferretdb.sock")
	if len(sock) <= maxSocketPath {
		// A socket left by a crashed run would make the listen fail; nobody
		// else may use this path, so remove it. A live engine of another
		// process holding the same directory is caught by checking first.
		if runningEngineURI(dir) != "" {
			return nil, errors.New("CMS_DATA_DIR: another process is serving this data directory")
		}
		_ = os.Remove(sock)
		listener.Unix = sock
	} else {
		listener.TCP = "127.0.0.1:0"
	}
	// FerretDB logs every command at info level; keep warnings and errors.
	fl := slog.New(levelFilter{inner: logger.Handler(), min: slog.LevelWarn}).With("component", "ferretdb")
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  listener,
		Logger:    fl,
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		return nil, fmt.Errorf("start embedded database: %w", err)
	}
	// Tables of an existing data directory get their _id lookup index
	// before anything is served (once, on the first start of a version
	// with it, this takes a second or so per 10,000 documents); new ones
	// within idIndexEvery. Without it lookups are correct, only slow.
	if _, err := indexIDLookups(context.Background(), abs); err != nil {
		logger.Warn("cannot index tables for lookups by _id", "err", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Engine{dir: abs, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		var wg sync.WaitGroup
		wg.Go(func() { keepIndexing(ctx, abs, logger) })
		_ = f.Run(ctx)
		wg.Wait()
	}()
	e.uri = f.MongoDBURI()
	if listener.Unix != "" {
		if err := os.Chmod(sock, 0o600); err != nil {
			e.Close()
			return nil, fmt.Errorf("restrict database socket: %w", err)
		}
	}
	return e, nil
}

// runningEngineURI returns the URI of an engine another process runs on
// dir, or "" when none answers on its socket.
func runningEngineURI(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	sock := filepath.Join(abs, "ferretdb.sock")
	conn, err := net.DialTimeout("unix", sock, 200*time.Millisecond)
	if err != nil {
		return ""
	}
	conn.Close()
	return (&url.URL{Scheme: "mongodb", Host: sock, Path: "/"}).String()
}

// URI is the connection string of the running engine.
func (e *Engine) URI() string { return e.uri }

// Close stops the engine and waits until its files are closed.
func (e *Engine) Close() {
	e.once.Do(func() {
		e.cancel()
		<-e.done
	})
}

// levelFilter passes records at or above min to the wrapped handler. It
// keeps what With and WithGroup add and hands it to the wrapped handler
// only for a record that passes: FerretDB adds each SQL statement's
// arguments, whole documents, to a logger for a debug line, twice per
// statement, and the slog handlers encode attributes as they are added
// (4% of the CPU of seeding articles, 40% of a find by _id behind the
// default handler).
type levelFilter struct {
	inner slog.Handler
	min   slog.Level
	with  []func(slog.Handler) slog.Handler // applied to inner in order
}

func (h levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.inner.Enabled(ctx, l)
}

// Handle drops FerretDB's wire-protocol dumps of failed commands: the driver
// already returns those failures to the caller, and the dumps are noise (the
// driver's endSessions at disconnect, which FerretDB lacks, is one).
func (h levelFilter) Handle(ctx context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "Response header") || strings.HasPrefix(r.Message, "Response message") ||
		strings.HasPrefix(r.Message, "Request header") || strings.HasPrefix(r.Message, "Request message") {
		return nil
	}
	inner := h.inner
	for _, f := range h.with {
		inner = f(inner)
	}
	return inner.Handle(ctx, r)
}

func (h levelFilter) WithAttrs(a []slog.Attr) slog.Handler {
	return h.then(func(in slog.Handler) slog.Handler { return in.WithAttrs(a) })
}

func (h levelFilter) WithGroup(name string) slog.Handler {
	return h.then(func(in slog.Handler) slog.Handler { return in.WithGroup(name) })
}

func (h levelFilter) then(f func(slog.Handler) slog.Handler) levelFilter {
	h.with = append(slices.Clip(h.with), f)
	return h
}

// EnsureIndexes creates each index if it is missing. It creates them one
// at a time: FerretDB v1.24 drops the connection when createIndexes names
// several indexes that already exist, which every restart would do.
func EnsureIndexes(ctx context.Context, coll *mongo.Collection, models ...mongo.IndexModel) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, m := range models {
		if _, err := coll.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("create index on %s: %w", coll.Name(), err)
		}
	}
	return nil
}
