package mongodb

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// plan asks the embedded engine how it answers a find by _id: FerretDB's
// explain runs SQLite's EXPLAIN QUERY PLAN on the very query it sends.
// EXPLAIN alone does not make a connection notice a schema another
// connection changed (a real statement does, and re-prepares), so a
// find runs first.
func plan(t *testing.T, ctx context.Context, db *mongo.Database, coll string) string {
	t.Helper()
	if err := db.Collection(coll).FindOne(ctx, bson.D{{Key: "_id", Value: "n1"}}).Err(); err != nil {
		t.Fatalf("find before explain: %v", err)
	}
	var out bson.M
	cmd := bson.D{{Key: "explain", Value: bson.D{{Key: "find", Value: coll}, {Key: "filter", Value: bson.D{{Key: "_id", Value: "n7"}}}}}}
	if err := db.RunCommand(ctx, cmd).Decode(&out); err != nil {
		t.Fatalf("explain: %v", err)
	}
	return fmt.Sprint(out["queryPlanner"])
}

// TestLookupsByIDUseAnIndex: a table created after the engine started
// is searched, not scanned, for {_id: X} once IndexNewTables ran; the
// next pass finds nothing to do; lookups, replaces and deletes by _id
// still find their documents; and a restart keeps the index.
func TestLookupsByIDUseAnIndex(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	db, err := Open(ctx, Options{Database: "cms", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	notes := db.Database.Collection("notes")
	for i := range 20 {
		if _, err := notes.InsertOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("n%d", i)}, {Key: "n", Value: i}}); err != nil {
			t.Fatal(err)
		}
	}
	if p := plan(t, ctx, db.Database, "notes"); strings.Contains(p, idLookupSuffix) {
		t.Fatalf("the new table uses the lookup index before any pass: %s", p)
	}

	if err := db.IndexNewTables(ctx); err != nil {
		t.Fatal(err)
	}
	if p := plan(t, ctx, db.Database, "notes"); !strings.Contains(p, "USING INDEX") || !strings.Contains(p, idLookupSuffix) {
		t.Fatalf("plan of a find by _id = %s; want a search using the %s index", p, idLookupSuffix)
	}
	if n, err := indexIDLookups(ctx, filepath.Join(dir, "db")); err != nil || n != 0 {
		t.Fatalf("second pass created %d indexes (err %v); want 0", n, err)
	}

	if _, err := FindByID[bson.M](ctx, notes, "find", "n7"); err != nil {
		t.Fatalf("find by _id after indexing: %v", err)
	}
	if ok, err := ReplaceByID(ctx, notes, "replace", "n7", bson.D{{Key: "_id", Value: "n7"}, {Key: "n", Value: 70}}); err != nil || !ok {
		t.Fatalf("replace by _id: matched %v, %v", ok, err)
	}
	if ok, err := DeleteByID(ctx, notes, "delete", "n8"); err != nil || !ok {
		t.Fatalf("delete by _id: deleted %v, %v", ok, err)
	}
	got, err := FindByID[struct{ N int }](ctx, notes, "find", "n7")
	if err != nil || got.N != 70 {
		t.Fatalf("n7 after replace = %+v, %v; want n 70", got, err)
	}
	if err := db.Close(ctx); err != nil {
		t.Fatal(err)
	}

	db, err = Open(ctx, Options{Database: "cms", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	if p := plan(t, ctx, db.Database, "notes"); !strings.Contains(p, idLookupSuffix) {
		t.Fatalf("after a restart the plan is %s; want the lookup index", p)
	}
}

// BenchmarkFindByIDGrowth reads one document by _id from collections of
// growing size: flat with the lookup index. Run with -bench FindByID.
func BenchmarkFindByIDGrowth(b *testing.B) {
	body := strings.Repeat("massage for chronic pain relief ", 256) // 8 KB, an article's size
	for _, n := range []int{500, 5000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ctx := context.Background()
			db, err := Open(ctx, Options{Database: "cms", DataDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close(ctx)
			c := db.Database.Collection("articles")
			docs := make([]any, n)
			for i := range docs {
				docs[i] = bson.D{{Key: "_id", Value: fmt.Sprintf("a%06d", i)}, {Key: "body", Value: body}}
			}
			if _, err := c.InsertMany(ctx, docs); err != nil {
				b.Fatal(err)
			}
			if err := db.IndexNewTables(ctx); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				// Spread over the collection: a scan stops at its match.
				if _, err := FindByID[bson.M](ctx, c, "find", fmt.Sprintf("a%06d", i*7919%n)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
