package affiliate

import (
	"testing"
	"time"
)

// BenchmarkClickLogAppend is what the click log adds to a counted
// redirect: encoding the click and one write call, under the log's lock.
func BenchmarkClickLogAppend(b *testing.B) {
	l, _, err := openClickLog(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer l.close()
	at := time.Now()
	c := Click{ID: newClickID(), Product: "roller", Article: "knee-pain", Position: 2, Time: at, Day: dayOf(at),
		Visitor: "0f3c6d1e9a7b4c2d8e5f6a7b8c9d0e1f0f3c6d1e9a7b4c2d8e5f6a7b8c9d0e1f"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.append(&c, false, func(start, end logPos) {}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
