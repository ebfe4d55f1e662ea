package mongodb_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/wellness/cms/internal/mongodb"
)

// openDB starts an embedded engine of the test's own and opens a database
// on it, closed when the test ends.
func openDB(t *testing.T) *mongo.Database {
	t.Helper()
	db, err := mongodb.Open(context.Background(), mongodb.Options{Database: "cms", DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	return db.Database
}

// TestDataSurvivesRestart opens the embedded engine, writes, closes it, and
// opens it again on the same directory.
func TestDataSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	open := func() *mongodb.DB {
		db, err := mongodb.Open(ctx, mongodb.Options{Database: "cms", DataDir: dir})
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		if !db.Embedded {
			t.Fatal("no URI given, but the database is not the embedded one")
		}
		return db
	}
	db := open()
	if _, err := db.Database.Collection("notes").InsertOne(ctx, bson.D{{Key: "_id", Value: "n1"}, {Key: "text", Value: "kept"}}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "db", "ferretdb.sock")
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket %s: %v, mode %v; want a 0600 socket", sock, err, fi.Mode())
	}
	if err := db.Close(ctx); err != nil {
		t.Fatal(err)
	}

	db = open()
	defer db.Close(ctx)
	var got struct{ Text string }
	if err := db.Database.Collection("notes").FindOne(ctx, bson.D{{Key: "_id", Value: "n1"}}).Decode(&got); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if got.Text != "kept" {
		t.Fatalf("after restart text = %q", got.Text)
	}
}

// TestLongPathFallsBackToLoopback checks that a data directory too deep for
// a Unix socket still works, over a random loopback port.
func TestLongPathFallsBackToLoopback(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 100))
	e, err := mongodb.StartEngine(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if !strings.HasPrefix(e.URI(), "mongodb://127.0.0.1:") {
		t.Fatalf("URI = %q, want a loopback address", e.URI())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := mongodb.Connect(ctx, e.URI(), 0)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Disconnect(ctx)
}

func TestSecondProcessOnSameDirIsRefused(t *testing.T) {
	dir := t.TempDir()
	e, err := mongodb.StartEngine(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := mongodb.StartEngine(dir, nil); err == nil {
		t.Fatal("a second engine on a served directory started")
	}
}

func TestConnectRejectsBadURI(t *testing.T) {
	_, err := mongodb.Connect(context.Background(), "postgres://nope", 0)
	if err == nil || !strings.HasPrefix(err.Error(), "MONGODB_URI") {
		t.Fatalf("err = %v, want one naming MONGODB_URI", err)
	}
}

// TestEnsureIndexesTwice guards the workaround for FerretDB dropping the
// connection when several existing indexes are created at once.
func TestEnsureIndexesTwice(t *testing.T) {
	ctx := context.Background()
	coll := openDB(t).Collection("things")
	models := []mongo.IndexModel{
		{Keys: bson.D{{Key: "a", Value: 1}}, Options: options.Index().SetUnique(true)},
		{Keys: bson.D{{Key: "b", Value: 1}}},
	}
	for i := 0; i < 2; i++ {
		if err := mongodb.EnsureIndexes(ctx, coll, models...); err != nil {
			t.Fatalf("round %d: %v", i+1, err)
		}
	}
}
