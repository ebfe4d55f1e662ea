package mongodb_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/problem"
)

type note struct {
	ID   string `bson:"_id"`
	Text string `bson:"text"`
}

// TestBound checks the deadline rule: the default only where the caller
// set none.
func TestBound(t *testing.T) {
	ctx, cancel := mongodb.Bound(context.Background())
	defer cancel()
	if _, ok := ctx.Deadline(); !ok {
		t.Error("a context without a deadline got none")
	}

	long, cancelLong := context.WithTimeout(context.Background(), time.Hour)
	defer cancelLong()
	want, _ := long.Deadline()
	ctx, cancel = mongodb.Bound(long)
	defer cancel()
	if got, _ := ctx.Deadline(); !got.Equal(want) {
		t.Errorf("deadline = %v, want the caller's %v", got, want)
	}
}

// TestOps runs every helper against the embedded engine, in order on one
// collection: each row starts from what the rows before left.
func TestOps(t *testing.T) {
	ctx := context.Background()
	c := openDB(t).Collection("notes")
	set := func(text string) bson.D { return bson.D{{Key: "$set", Value: bson.D{{Key: "text", Value: text}}}} }

	for _, tt := range []struct {
		name string
		run  func() (any, error)
		want any          // the result, when the call succeeds (nil: not checked)
		kind problem.Kind // the error's kind; 0 for none
	}{
		{"find all of nothing is an empty list", func() (any, error) {
			return mongodb.FindAll[note](ctx, c, "find notes", bson.D{})
		}, []note{}, 0},
		{"insert", func() (any, error) {
			return nil, mongodb.Insert(ctx, c, "insert note", note{ID: "a", Text: "one"})
		}, nil, 0},
		{"insert a taken _id", func() (any, error) {
			return nil, mongodb.Insert(ctx, c, "insert note", note{ID: "a", Text: "again"})
		}, nil, problem.Conflict},
		{"find by id", func() (any, error) {
			return mongodb.FindByID[note](ctx, c, "find note", "a")
		}, &note{ID: "a", Text: "one"}, 0},
		{"find a missing id", func() (any, error) {
			return mongodb.FindByID[note](ctx, c, "find note", "zz")
		}, nil, problem.NotFound},
		{"find one by another field", func() (any, error) {
			return mongodb.FindOne[note](ctx, c, "find note", bson.D{{Key: "text", Value: "one"}})
		}, &note{ID: "a", Text: "one"}, 0},
		{"replace", func() (any, error) {
			return mongodb.ReplaceByID(ctx, c, "replace note", "a", note{ID: "a", Text: "two"})
		}, true, 0},
		{"replace a missing id", func() (any, error) {
			return mongodb.ReplaceByID(ctx, c, "replace note", "b", note{ID: "b", Text: "x"})
		}, false, 0},
		{"replace a missing id with upsert creates it", func() (any, error) {
			return mongodb.ReplaceByID(ctx, c, "replace note", "b", note{ID: "b", Text: "three"}, options.Replace().SetUpsert(true))
		}, false, 0},
		{"update", func() (any, error) {
			return mongodb.UpdateByID(ctx, c, "update note", "b", set("four"))
		}, true, 0},
		{"update a missing id", func() (any, error) {
			return mongodb.UpdateByID(ctx, c, "update note", "zz", set("x"))
		}, false, 0},
		{"find all, sorted", func() (any, error) {
			return mongodb.FindAll[note](ctx, c, "find notes", bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}))
		}, []note{{"b", "four"}, {"a", "two"}}, 0},
		{"count", func() (any, error) {
			return mongodb.Count(ctx, c, "count notes", bson.D{{Key: "text", Value: "two"}})
		}, int64(1), 0},
		{"delete", func() (any, error) {
			return mongodb.DeleteByID(ctx, c, "delete note", "a")
		}, true, 0},
		{"delete a missing id", func() (any, error) {
			return mongodb.DeleteByID(ctx, c, "delete note", "a")
		}, false, 0},
		{"delete many", func() (any, error) {
			return mongodb.DeleteMany(ctx, c, "delete notes", bson.D{})
		}, int64(1), 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.run()
			if tt.kind != 0 {
				if k := problem.KindOf(err); err == nil || k != tt.kind {
					t.Fatalf("err = %v (%v), want %v", err, k, tt.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != nil && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}

	t.Run("a passed deadline is Unavailable", func(t *testing.T) {
		past, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
		defer cancel()
		_, err := mongodb.FindByID[note](past, c, "find note", "a")
		if problem.KindOf(err) != problem.Unavailable {
			t.Fatalf("err = %v, want Unavailable", err)
		}
	})
}
