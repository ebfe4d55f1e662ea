package affiliate_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/internal/testenv"
)

// TestRepeatVisitorsClaimOnce: a visitor's repeat clicks, in one batch or
// a later one, insert no further claim and are not unique; a store that
// has not seen the claim (another instance, a restart) reads its holder,
// and a replayed first click is still unique.
func TestRepeatVisitorsClaimOnce(t *testing.T) {
	var claimed atomic.Int64 // claim documents sent to the database
	monitor := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName != "insert" {
			return
		}
		if coll, _ := e.Command.Lookup("insert").StringValueOK(); coll != "click_visitors" {
			return
		}
		if docs, ok := e.Command.Lookup("documents").ArrayOK(); ok {
			values, _ := docs.Values()
			claimed.Add(int64(len(values)))
		}
	}}
	client, err := mongo.Connect(options.Client().ApplyURI(testenv.URI(t)).SetMonitor(monitor))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	db := client.Database("claims_once")
	ctx := context.Background()
	at := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	click := func(visitor, article string) affiliate.Click {
		at = at.Add(time.Second)
		return affiliate.NewClickForTest("roller", article, visitor, at)
	}

	store := affiliate.NewClickStore(db, 0)
	first := []affiliate.Click{click("ann", "a"), click("ann", "a"), click("bob", "a"), click("", "a"), click("ann", "b")}
	unique, err := store.ClaimVisitors(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{first[0].ID: true, first[2].ID: true, first[4].ID: true}
	if len(unique) != len(want) || !unique[first[0].ID] || !unique[first[2].ID] || !unique[first[4].ID] {
		t.Errorf("unique = %v, want the first clicks of ann on a, bob on a and ann on b: %v", unique, want)
	}
	if n := claimed.Load(); n != 3 {
		t.Errorf("%d claims inserted for 3 visitor keys", n)
	}

	again := click("ann", "a")
	unique, err = store.ClaimVisitors(ctx, []affiliate.Click{again})
	if err != nil {
		t.Fatal(err)
	}
	if unique[again.ID] || claimed.Load() != 3 {
		t.Errorf("a repeat click: unique %v, %d claims inserted in all; want not unique and no new claim", unique[again.ID], claimed.Load())
	}

	fresh := affiliate.NewClickStore(db, 0)
	unique, err = fresh.ClaimVisitors(ctx, []affiliate.Click{first[0], click("ann", "a")})
	if err != nil {
		t.Fatal(err)
	}
	if len(unique) != 1 || !unique[first[0].ID] {
		t.Errorf("a fresh store: unique = %v, want only the replayed first click %s", unique, first[0].ID)
	}
}
