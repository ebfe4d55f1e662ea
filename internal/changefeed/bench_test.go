package changefeed_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/wellness/cms/internal/changefeed"
	"github.com/wellness/cms/internal/testenv"
)

// BenchmarkStepAfterOneChange is the usual poll of a busy feed: another
// instance published one change, and the log holds 5,000 entries (about
// what 5 minutes of seeding at 30 writes/s leave). A step reads the heads
// and that one entry by _id, whatever the log holds.
func BenchmarkStepAfterOneChange(b *testing.B) {
	ctx := context.Background()
	db := testenv.DB(b)
	o := changefeed.Options{Logger: testenv.Quiet()}
	writer, err := changefeed.New(db, "things", o)
	if err != nil {
		b.Fatal(err)
	}
	reader, err := changefeed.New(db, "things", o)
	if err != nil {
		b.Fatal(err)
	}
	p := reader.NewPoller(func(context.Context, changefeed.Batch) error { return nil })
	for i := range 5000 {
		if err := writer.Publish(ctx, fmt.Sprintf("seed-%d", i)); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := p.Step(ctx); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		if err := writer.Publish(ctx, fmt.Sprintf("k%d", i)); err != nil {
			b.Fatal(err)
		}
		if got, err := p.Step(ctx); err != nil || len(got.Keys) != 1 {
			b.Fatalf("step = %+v, %v", got, err)
		}
	}
}
