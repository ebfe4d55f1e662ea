package affiliate

import (
	"os"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestClickLogConcurrentAppends: appends from many goroutines at once
// each get the place of their own line, places follow one another in log
// order without gaps, the segment holds exactly those lines, and a line
// is in the file by the time its append returned.
func TestClickLogConcurrentAppends(t *testing.T) {
	l, _, err := openClickLog(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	const writers, each = 16, 200
	type placed struct {
		id         string
		start, end logPos
	}
	var mu sync.Mutex
	var got []placed
	var wg sync.WaitGroup
	at := time.Now().UTC()
	for range writers {
		wg.Go(func() {
			for i := range each {
				c := Click{ID: newClickID(), Product: "roller", Position: i, Time: at, Day: dayOf(at),
					Visitor: "0f3c6d1e9a7b4c2d8e5f6a7b8c9d0e1f0f3c6d1e9a7b4c2d8e5f6a7b8c9d0e1f"}
				var p placed
				err := l.append(&c, false, func(start, end logPos) {
					p = placed{c.ID, start, end}
					mu.Lock()
					got = append(got, p)
					mu.Unlock()
				})
				if err != nil {
					t.Error(err)
					return
				}
				// Returned: the line is the kernel's.
				fi, err := os.Stat(l.segPath(p.end.Seq))
				if err != nil || fi.Size() < p.end.Off {
					t.Errorf("append of %s returned before its line was written (file %v, %v)", c.ID, fi, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if len(got) != writers*each {
		t.Fatalf("%d clicks enqueued, want %d", len(got), writers*each)
	}
	// got is in enqueue order, which must be log order.
	var want logPos
	want.Seq = got[0].start.Seq
	var ids []string
	for _, p := range got {
		if p.start != want {
			t.Fatalf("click %s starts at %+v, want %+v (the end of the one before)", p.id, p.start, want)
		}
		want = p.end
		ids = append(ids, p.id)
	}
	var read []string
	if _, err := l.read(want.Seq, 0, -1, func(c Click, end int64) { read = append(read, c.ID) },
		func(off int64, why string) { t.Errorf("damaged line at %d: %s", off, why) }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(read, ids) {
		t.Fatalf("the segment holds %d lines, not the %d enqueued in their order", len(read), len(ids))
	}
}
