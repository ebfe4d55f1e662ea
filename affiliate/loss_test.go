package affiliate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/testenv"
)

// burst sends n GET /go/{code} requests from workers goroutines and
// returns how many were answered 302. between, when set, runs once after
// the first half has been sent.
func burst(t *testing.T, base, code string, n, workers int, between func()) int64 {
	t.Helper()
	var sent, ok atomic.Int64
	var once sync.Once
	half := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := sent.Add(1)
				if i > int64(n) {
					return
				}
				if i == int64(n/2) && between != nil {
					once.Do(func() { between(); close(half) })
				}
				if i > int64(n/2) && between != nil {
					<-half
				}
				ua := "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/125.0"
				if i%10 == 0 {
					ua = "Twitterbot/1.0"
				}
				st, _, _ := do(t, "GET", fmt.Sprintf("%s/go/%s?a=article-%d&p=%d", base, code, w, 1+i%5), map[string]string{"User-Agent": ua}, nil)
				if st == http.StatusFound {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return ok.Load()
}

// rollupTotal sums every counter of every monthly rollup collection.
func rollupTotal(t *testing.T, db *mongo.Database) int64 {
	t.Helper()
	ctx := context.Background()
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, name := range names {
		if !strings.HasPrefix(name, affiliate.RollupPrefix) {
			continue
		}
		cur, err := db.Collection(name).Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		var docs []struct {
			Clicks    int64 `bson:"clicks"`
			BotClicks int64 `bson:"botClicks"`
		}
		if err := cur.All(ctx, &docs); err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			n += d.Clicks + d.BotClicks
		}
	}
	return n
}

// TestNoClickLostAtShutdown: concurrent clicks, then the server's own
// shutdown (what SIGTERM runs); every answered redirect is stored and
// counted.
func TestNoClickLostAtShutdown(t *testing.T) {
	s := newServer(t)
	editor, _ := s.User(t, auth.Editor)
	createProduct(t, s, editor, map[string]any{"code": "roller", "title": "Roller", "asin": "B000123456", "marketplace": "amazon.com"})
	const n = 400
	if got := burst(t, s.URL, "roller", n, 16, nil); got != n {
		t.Fatalf("%d of %d redirects answered", got, n)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := countDocs(t, s.DB.Database, "clicks", nil); got != n {
		t.Fatalf("%d clicks stored, want %d", got, n)
	}
	if got := countDocs(t, s.DB.Database, "click_rolled", nil); got != n {
		t.Fatalf("%d clicks marked rolled up, want %d", got, n)
	}
	if got := rollupTotal(t, s.DB.Database); got != n {
		t.Fatalf("rollups count %d clicks, want %d", got, n)
	}
	t.Logf("queued %s, written %s, spilled %s", scrape(t, s, "affiliate_clicks_queued_total"),
		scrape(t, s, "affiliate_clicks_written_total"), scrape(t, s, "affiliate_clicks_spilled_total"))

	// The same on an instance of its own, whose queue depth can be read.
	s2 := newServer(t)
	editor2, _ := s2.User(t, auth.Editor)
	inst := newInstance(t, s2, affiliate.Options{})
	if st, _, body := do(t, "POST", inst.URL+"/api/v1/products", map[string]string{"Authorization": "Bearer " + editor2},
		map[string]any{"code": "roller", "title": "Roller", "asin": "B000123456", "marketplace": "amazon.com"}); st != 201 {
		t.Fatalf("create: %d %s", st, body)
	}
	if got := burst(t, inst.URL, "roller", n, 16, nil); got != n {
		t.Fatalf("%d of %d redirects answered", got, n)
	}
	if err := inst.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := countDocs(t, s2.DB.Database, "clicks", nil); got != n {
		t.Fatalf("instance: %d clicks stored, want %d", got, n)
	}
	t.Logf("instance: largest queue depth %d of 10000", inst.MaxQueueDepth())
}

// TestNoClickLostInOutage stops the clicks database in the middle of a
// burst, keeps clicking, starts it again on the same files and waits for
// the spill file to be replayed: every click is stored once.
func TestNoClickLostInOutage(t *testing.T) {
	s := newServer(t)
	editor, _ := s.User(t, auth.Editor)
	createProduct(t, s, editor, map[string]any{"code": "roller", "title": "Roller", "asin": "B000123456", "marketplace": "amazon.com"})

	// A database of its own that the test can take away. The directory is
	// short so the engine listens on a Unix socket at a fixed path, which
	// the driver finds again after the restart.
	dir, engine := ownEngine(t, "aff-outage-")
	var restarted *mongodb.Engine
	t.Cleanup(func() {
		if restarted != nil {
			restarted.Close()
		}
	})
	if !strings.Contains(engine.URI(), ".sock") {
		t.Skipf("engine is not on a Unix socket (%s); a restart would move it", engine.URI())
	}
	clickDB := connectClicks(t, engine.URI())

	dataDir := t.TempDir()
	inst := newInstance(t, s, affiliate.Options{
		ClickDB: clickDB, DataDir: dataDir,
		QueueSize: 64, BatchSize: 20, FlushInterval: 50 * time.Millisecond,
		RetryInterval: 100 * time.Millisecond, WriteTimeout: time.Second,
	})

	const n = 600
	got := burst(t, inst.URL, "roller", n, 8, func() {
		engine.Close() // the database goes away mid-burst
	})
	if got != n {
		t.Fatalf("%d of %d redirects answered during the outage", got, n)
	}
	spilled := metric(t, inst.Registry, "affiliate_clicks_spilled_total")
	if spilled == 0 {
		t.Fatal("nothing was spilled while the database was down")
	}
	restarted, err := mongodb.StartEngine(dir, testenv.Quiet())
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the spilled clicks to be replayed", func() bool {
		return metric(t, inst.Registry, "affiliate_clicks_replayed_total") >= spilled &&
			countDocs(t, clickDB, "clicks", nil) == n
	})
	if err := inst.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := countDocs(t, clickDB, "clicks", nil); got != n {
		t.Fatalf("%d clicks stored, want %d", got, n)
	}
	if got := countDocs(t, clickDB, "click_rolled", nil); got != n {
		t.Fatalf("%d clicks marked rolled up, want %d", got, n)
	}
	// Rollups are exactly once across the outage (the click ledger).
	if got := rollupTotal(t, clickDB); got != n {
		t.Fatalf("rollups count %d, want %d", got, n)
	}
	left, _ := filepath.Glob(filepath.Join(dataDir, "clicks-spill*"))
	for _, f := range left {
		if fi, err := os.Stat(f); err == nil && fi.Size() > 0 {
			t.Errorf("spill file %s left with %d bytes", filepath.Base(f), fi.Size())
		}
	}
	if lost := metric(t, inst.Registry, "affiliate_clicks_lost_total"); lost != 0 {
		t.Fatalf("%v clicks lost", lost)
	}
	t.Logf("spilled %v, replayed %v, largest queue depth %d of 64",
		spilled, metric(t, inst.Registry, "affiliate_clicks_replayed_total"), inst.MaxQueueDepth())
}

// TestSpillFileCorruption: a spill file left by a crash, with a damaged
// line in the middle and a torn last line, is replayed at start; the bad
// lines are skipped and counted, the rest stored.
func TestSpillFileCorruption(t *testing.T) {
	s := newServer(t)
	dataDir := t.TempDir()
	day := time.Now().UTC()
	line := func(i int) string {
		c := affiliate.Click{
			ID: fmt.Sprintf("%032x", i+1), Product: "roller", Article: "knee-pain", Time: day.Truncate(time.Millisecond),
			Day: day.Format("2006-01-02"), Visitor: fmt.Sprintf("%064x", i),
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		return string(b) + "\n"
	}
	content := line(0) + line(1) + "{\"id\":\"this line was damaged\x00\x01\n" + line(2) + line(1) + `{"id":"00000000000000000000000000000004","prod`
	if err := os.WriteFile(filepath.Join(dataDir, "clicks-spill.jsonl"), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	inst := newInstance(t, s, affiliate.Options{DataDir: dataDir, FlushInterval: 50 * time.Millisecond})
	testenv.Eventually(t, "the spill file to be replayed", func() bool {
		return metric(t, inst.Registry, "affiliate_clicks_replayed_total") >= 4
	})
	if got := countDocs(t, s.DB.Database, "clicks", nil); got != 3 {
		t.Fatalf("%d clicks stored, want 3 (one line appears twice)", got)
	}
	if got := metric(t, inst.Registry, "affiliate_click_spill_corrupt_lines_total"); got != 2 {
		t.Fatalf("%v corrupt lines reported, want 2", got)
	}
	if got := rollupTotal(t, s.DB.Database); got != 3 {
		t.Fatalf("rollups count %d, want 3", got)
	}
	left, _ := filepath.Glob(filepath.Join(dataDir, "clicks-spill*"))
	if len(left) != 0 {
		t.Fatalf("spill files left after replay: %v", left)
	}
}
