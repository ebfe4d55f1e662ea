package affiliate_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/testenv"
)

var errCrash = errors.New("simulated crash")

// rollupSums sums each counter over every monthly rollup collection.
func rollupSums(t *testing.T, db *mongo.Database) (clicks, bots, unique int64) {
	t.Helper()
	ctx := context.Background()
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if !strings.HasPrefix(name, affiliate.RollupPrefix) {
			continue
		}
		cur, err := db.Collection(name).Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		var docs []affiliate.Counts
		if err := cur.All(ctx, &docs); err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			clicks, bots, unique = clicks+d.Clicks, bots+d.BotClicks, unique+d.UniqueClicks
		}
	}
	return clicks, bots, unique
}

// TestRollupsExactlyOnceAfterCrash: the writer dies before each step of
// storing a batch; a new writer over the same data directory stores the
// same clicks again (the log's replay), twice. Every count is exact.
func TestRollupsExactlyOnceAfterCrash(t *testing.T) {
	s := newServer(t)
	at := time.Date(2026, 3, 31, 23, 0, 0, 0, time.UTC)
	var clicks []affiliate.Click
	for i := range 40 {
		visitor := fmt.Sprintf("v%d", i%5) // 5 people, each on 2 articles
		if i%4 == 0 {
			visitor = "" // a bot
		}
		// Two days across a month boundary: two rollup collections.
		clicks = append(clicks, affiliate.NewClickForTest("roller", fmt.Sprintf("a-%d", i%2), visitor, at.Add(time.Duration(i)*3*time.Minute)))
	}
	var wantClicks, wantBots, wantUnique int64
	seen := map[string]bool{}
	for _, c := range clicks {
		if c.Bot {
			wantBots++
			continue
		}
		wantClicks++
		if k := c.Day + c.Article + c.Visitor; !seen[k] {
			seen[k], wantUnique = true, wantUnique+1
		}
	}
	for _, step := range []string{"insert", "claim", "ledger", "rollup", "mark", "none"} {
		t.Run(step, func(t *testing.T) {
			db := s.DB.Database.Client().Database("eo_" + step)
			dir := t.TempDir()
			ctx := context.Background()
			armed, crashed := false, false
			first, err := affiliate.NewRecorderForTest(db, dir, func(name string) error {
				if armed && name == step && !crashed {
					crashed = true
					return errCrash
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// A first batch that completes, so the crash is not in the
			// writer's first ledger.
			if err := first.Persist(ctx, clicks[:10]); err != nil {
				t.Fatal(err)
			}
			armed = true
			if err := first.Persist(ctx, clicks[10:]); !errors.Is(err, errCrash) && step != "none" {
				t.Fatalf("persist: %v, want the crash", err)
			}
			for range 2 {
				again, err := affiliate.NewRecorderForTest(db, dir, nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := again.Persist(ctx, clicks); err != nil {
					t.Fatal(err)
				}
			}
			if got := countDocs(t, db, "clicks", nil); got != int64(len(clicks)) {
				t.Errorf("%d clicks stored, want %d", got, len(clicks))
			}
			if got := countDocs(t, db, "click_rolled", nil); got != int64(len(clicks)) {
				t.Errorf("%d clicks marked, want %d", got, len(clicks))
			}
			c, b, u := rollupSums(t, db)
			if c != wantClicks || b != wantBots || u != wantUnique {
				t.Errorf("rollups: clicks %d bots %d unique %d, want %d %d %d", c, b, u, wantClicks, wantBots, wantUnique)
			}
		})
	}
}

// TestHelperProcess is the child of TestClicksSurviveSIGKILL: it records
// clicks as fast as it can and prints each click's ID once Record has
// returned, which is when a redirect would be answered, until killed.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("AFF_KILL_HELPER") != "1" {
		t.Skip("the child of TestClicksSurviveSIGKILL")
	}
	client, err := mongodb.Connect(context.Background(), os.Getenv("AFF_KILL_URI"), 0)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := affiliate.StartRecorderForTest(client.Database("clicks"), os.Getenv("AFF_KILL_DIR"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	for i := 0; ; i++ {
		visitor := fmt.Sprintf("v%d", i%50)
		if i%10 == 0 {
			visitor = ""
		}
		c := affiliate.NewClickForTest("roller", fmt.Sprintf("a-%d", i%3), visitor, at)
		rec.Record(c)
		// One write per line: the parent sees exactly the answered clicks.
		if _, err := os.Stdout.WriteString(c.ID + "\n"); err != nil {
			return
		}
	}
}

// TestClicksSurviveSIGKILL: a process records clicks and is killed with
// SIGKILL mid-stream, its queue full of clicks not yet stored. A new
// recorder over the same data directory stores every click the child
// answered, exactly once, and counts each once in the rollups.
func TestClicksSurviveSIGKILL(t *testing.T) {
	_, engine := ownEngine(t, "aff-kill-")
	dataDir := t.TempDir()

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "AFF_KILL_HELPER=1", "AFF_KILL_URI="+engine.URI(), "AFF_KILL_DIR="+dataDir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var answered []string
	sc := bufio.NewScanner(stdout)
	killed := false
	for sc.Scan() {
		line := sc.Text()
		if len(line) != 32 {
			continue // the test framework's own output
		}
		answered = append(answered, line)
		if len(answered) == 1500 && !killed {
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			killed = true
		}
	}
	_ = cmd.Wait()
	if !killed {
		t.Fatalf("the child stopped by itself after %d clicks", len(answered))
	}

	db := connectClicks(t, engine.URI())
	before := countDocs(t, db, "clicks", nil)
	rec, err := affiliate.StartRecorderForTest(db, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	ids := bson.A{}
	for _, id := range answered {
		ids = append(ids, id)
	}
	// Counting is cheap; the exact check by ID follows once stored.
	testenv.Eventually(t, "the replay to store as many clicks as were answered", func() bool {
		return countDocs(t, db, "clicks", nil) >= int64(len(answered))
	})
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := countDocs(t, db, "clicks", bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}); got != int64(len(answered)) {
		t.Fatalf("%d of the %d answered clicks stored", got, len(answered))
	}
	stored := countDocs(t, db, "clicks", nil)
	if got := countDocs(t, db, "click_rolled", nil); got != stored {
		t.Errorf("%d clicks marked rolled, %d stored", got, stored)
	}
	if c, b, _ := rollupSums(t, db); c+b != stored {
		t.Errorf("rollups count %d clicks, %d stored", c+b, stored)
	}
	t.Logf("answered %d before the kill, %d stored by the child, %d after replay", len(answered), before, stored)
}
