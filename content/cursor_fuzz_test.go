package content

import (
	"testing"

	"github.com/wellness/cms/cms"
)

// fuzzLists are list queries with and without filters: a cursor carries a
// hash of its list's filters, so each decodes only its own cursors.
var fuzzLists = []*listQuery{
	{limit: 20},
	{tag: "massage", limit: 20},
	{category: "self-care", author: cms.AuthorRef{Slug: "jane-doe"}, words: []string{"neck", "pain"}, limit: 5},
}

// FuzzContentCursor: the content API's cursor decoder never panics, takes
// only the exact text the API writes (so one position has one cursor, and
// one cache key), rejects another list's cursor, and round-trips every
// position.
func FuzzContentCursor(f *testing.F) {
	id := "0123456789abcdef01234567"
	for _, q := range fuzzLists {
		f.Add(q.encodeCursor(position{ms: 1700000000000, id: id}), int64(1700000000000), 3)
		f.Add(q.encodeCursor(position{score: 24, ms: -1, id: id}), int64(-1), 0)
	}
	for _, s := range []string{"", "%ZZ", "MQ", "MS4wMDAwMDAwMC4wLjAuMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3", "AAAA",
		// Found by this target: ms "-0", which used to decode.
		"MS4zODA2Y2I2My40NC4tMC40Y2Y0ZDA0YzA0Y2ZjZGZmZDA0Y2Y0YzA",
	} {
		f.Add(s, int64(0), 0)
	}
	f.Fuzz(func(t *testing.T, cur string, ms int64, score int) {
		for i, q := range fuzzLists {
			p, msg := q.decodeCursor(cur)
			if (p == nil) == (msg == "") {
				t.Fatalf("%q: position %v with message %q", cur, p, msg)
			}
			if p != nil {
				if enc := q.encodeCursor(*p); enc != cur {
					t.Fatalf("list %d: %q decodes to %+v, which the API writes as %q", i, cur, *p, enc)
				}
				for j, other := range fuzzLists {
					if j != i && other.filterKey() != q.filterKey() {
						if op, _ := other.decodeCursor(cur); op != nil {
							t.Fatalf("list %d's cursor %q decodes for list %d", i, cur, j)
						}
					}
				}
			}
			if score < 0 {
				score = -score
			}
			if score < 0 { // the smallest int
				score = 0
			}
			want := position{score: score, ms: ms, id: id}
			got, msg := q.decodeCursor(q.encodeCursor(want))
			if got == nil || *got != want {
				t.Fatalf("list %d: %+v does not round-trip: %v %q", i, want, got, msg)
			}
		}
	})
}
