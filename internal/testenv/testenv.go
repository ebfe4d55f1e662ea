// Package testenv gives tests the real parts: the embedded database engine,
// started once per test binary, a fresh database per test, and the full
// router built over it.
package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/wellness/cms/internal/mongodb"
)

var (
	once      sync.Once
	engine    *mongodb.Engine
	client    *mongo.Client
	engineDir string
	startErr  error
	dbCounter atomic.Int64
)

// Main runs the package's tests and then stops the shared engine and removes
// its files. Use it from TestMain in every package that calls DB.
func Main(m *testing.M) {
	gin.SetMode(gin.ReleaseMode) // as cmd/cms's main does
	code := m.Run()
	if client != nil {
		_ = client.Disconnect(context.Background())
	}
	if engine != nil {
		engine.Close()
	}
	if engineDir != "" {
		_ = os.RemoveAll(engineDir)
	}
	os.Exit(code)
}

// Quiet is a logger for servers under test: warnings and errors only, so a
// failing test's output is not buried in access logs.
func Quiet() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewJSONHandler(io.Discard, nil))
}

// start runs the embedded engine once for the whole test binary; starting it
// per test would cost seconds each under -race.
func start() {
	once.Do(func() {
		engineDir, startErr = os.MkdirTemp("", "cms-test-db-")
		if startErr != nil {
			return
		}
		engine, startErr = mongodb.StartEngine(engineDir, Quiet())
		if startErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		client, startErr = mongodb.Connect(ctx, engine.URI(), 0)
	})
}

// IndexTables gives the shared engine's new tables their _id lookup index
// at once (mongodb.Engine.IndexNewTables), as a server does at start: a
// benchmark that seeds a collection directly measures lookups as they are
// in production, not the scans before the engine's next indexing pass.
func IndexTables(t testing.TB) {
	t.Helper()
	start()
	if err := engine.IndexNewTables(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// URI is the connection string of the shared engine.
func URI(t testing.TB) string {
	t.Helper()
	start()
	if startErr != nil {
		t.Fatalf("start embedded database: %v", startErr)
	}
	return engine.URI()
}

var nameChars = regexp.MustCompile(`[^A-Za-z0-9]+`)

// DBName returns a database name unique to this test, short enough for the
// engine and readable in a failure message.
func DBName(t testing.TB) string {
	sum := sha256.Sum256([]byte(t.Name()))
	base := nameChars.ReplaceAllString(t.Name(), "_")
	if len(base) > 30 {
		base = base[:30]
	}
	return fmt.Sprintf("t%d_%s_%s", dbCounter.Add(1), base, hex.EncodeToString(sum[:3]))
}

// DB returns a database of its own for this test on the shared engine,
// dropped when the test ends.
func DB(t testing.TB) *mongo.Database {
	t.Helper()
	URI(t)
	db := client.Database(DBName(t))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = db.Drop(ctx)
	})
	return db
}

// OpenDB opens a *mongodb.DB on this test's own database through the same
// code the service uses, with its own client. It is closed when the test
// ends.
func OpenDB(t testing.TB) *mongodb.DB {
	t.Helper()
	return OpenDBWith(t, nil)
}

// OpenDBWith is OpenDB with options adjusted by set (nil: none), such as
// a command monitor.
func OpenDBWith(t testing.TB, set func(*mongodb.Options)) *mongodb.DB {
	t.Helper()
	name := DB(t).Name()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	o := mongodb.Options{URI: URI(t), Database: name}
	if set != nil {
		set(&o)
	}
	db, err := mongodb.Open(ctx, o)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	return db
}
