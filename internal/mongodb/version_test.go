package mongodb_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/problem"
)

type versioned struct {
	ID      string `bson:"_id"`
	Text    string `bson:"text"`
	Version int64  `bson:"version"`
}

// TestVersionsOneWriterWins: of several changes that read the same
// version, exactly one is saved, whatever the interleaving; the others
// are PreconditionFailed. A claim left by a writer that died blocks its
// version only until it is old, then the next writer steps over it.
func TestVersionsOneWriterWins(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	c := db.Collection("notes")
	vs := mongodb.NewVersions(db)
	if err := mongodb.Insert(ctx, c, "insert", versioned{ID: "n", Text: "start", Version: 1}); err != nil {
		t.Fatal(err)
	}
	write := func(text string, next int64) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := mongodb.ReplaceByID(ctx, c, "replace", "n", versioned{ID: "n", Text: text, Version: next})
			return err
		}
	}
	const writers = 6
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() { errs[i] = vs.Write(ctx, c, "n", 1, write("w", 2)) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, problem.PreconditionFailed):
			t.Fatalf("a losing writer got %v, want PreconditionFailed", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d writers of version 1 won, want 1", won)
	}

	// A writer died holding the claim of version 2, a minute ago: the
	// next writer steps over it. A fresh claim blocks.
	claims := db.Collection("version_claims")
	if err := mongodb.Insert(ctx, claims, "claim", bson.D{{Key: "_id", Value: "notes/n/2#0"}, {Key: "at", Value: time.Now().Add(-time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	if err := mongodb.Insert(ctx, claims, "claim", bson.D{{Key: "_id", Value: "notes/n/3#0"}, {Key: "at", Value: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if err := vs.Write(ctx, c, "n", 2, write("after a dead writer", 3)); err != nil {
		t.Fatalf("stepping over an old claim: %v", err)
	}
	if err := vs.Write(ctx, c, "n", 3, write("blocked", 4)); !errors.Is(err, problem.PreconditionFailed) {
		t.Fatalf("writing past a fresh claim: %v, want PreconditionFailed", err)
	}
	if n, err := mongodb.Count(ctx, claims, "count", bson.D{}); err != nil || n != 1 {
		t.Errorf("%d claims left (%v), want only the fresh one", n, err)
	}
	if err := vs.Write(ctx, c, "gone", 1, write("x", 2)); !errors.Is(err, problem.NotFound) {
		t.Errorf("writing a missing document: %v, want NotFound", err)
	}
}
