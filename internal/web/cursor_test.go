package web

import (
	"encoding/base64"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/wellness/cms/internal/problem"
)

// cursorKeys are the shapes lists use: a code, a version, a (time, ID)
// pair and a search position (score, time, ID).
type cursorKeys struct {
	score int
	ms    int64
	id    string
}

func decodeKeys(s, scope string) (cursorKeys, error) {
	var k cursorKeys
	err := DecodeCursor(s, scope, &k.score, &k.ms, &k.id)
	return k, err
}

func TestCursor(t *testing.T) {
	const scope = "articles\x00tag=massage"
	good := EncodeCursor(scope, 24, int64(1700000000000), "0123456789abcdef01234567")
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	if len(good)%4 != 2 {
		t.Fatalf("cursor %q: the stray-bits case needs a length of 4n+2", good)
	}
	withRaw := func(edit func(b []byte) []byte) string {
		return base64.RawURLEncoding.EncodeToString(edit(append([]byte(nil), raw...)))
	}
	for _, tt := range []struct {
		name, cursor, scope string
		want                error
	}{
		{"as written", good, scope, nil},
		{"another list", good, "articles\x00tag=yoga", ErrCursorScope},
		{"no filters", good, "", ErrCursorScope},
		{"empty", "", scope, ErrCursor},
		{"not base64", "!!", scope, ErrCursor},
		{"padded", good + strings.Repeat("=", (4-len(good)%4)%4) + "=", scope, ErrCursor},
		{"line break", good + "\n", scope, ErrCursor},
		// good is 2 characters past a multiple of 4, so its last character's
		// low 4 bits are padding the decoder alone would ignore.
		{"stray bits", good[:len(good)-1] + string(good[len(good)-1]^1), scope, ErrCursor},
		{"too long", EncodeCursor(scope, 1, int64(1), strings.Repeat("a", MaxCursorLen)), scope, ErrCursor},
		{"other version", withRaw(func(b []byte) []byte { b[0] = 2; return b }), scope, ErrCursor},
		{"left-over byte", withRaw(func(b []byte) []byte { return append(b, 0) }), scope, ErrCursor},
		{"cut short", withRaw(func(b []byte) []byte { return b[:len(b)-1] }), scope, ErrCursor},
		{"scope hash only", withRaw(func(b []byte) []byte { return b[:5] }), scope, ErrCursor},
		{"header cut", withRaw(func(b []byte) []byte { return b[:3] }), scope, ErrCursor},
		// The score 24 is the zigzag varint 0x30; 0xb0 0x00 is the same
		// number spelled longer.
		{"long varint", withRaw(func(b []byte) []byte { return append(append(b[:5:5], 0xb0, 0x00), b[6:]...) }), scope, ErrCursor},
		{"fewer keys", EncodeCursor(scope, 24, int64(1)), scope, ErrCursor},
		{"more keys", EncodeCursor(scope, 24, int64(1), "a", "b"), scope, ErrCursor},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k, err := decodeKeys(tt.cursor, tt.scope)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("DecodeCursor(%q) = %v, want %v", tt.cursor, err, tt.want)
			}
			if err == nil && k != (cursorKeys{24, 1700000000000, "0123456789abcdef01234567"}) {
				t.Fatalf("decoded %+v", k)
			}
			if err != nil && k != (cursorKeys{}) {
				t.Fatalf("keys set on error: %+v", k)
			}
		})
	}
}

func TestQueryCursor(t *testing.T) {
	const scope = "webhooks"
	id := "0123456789abcdef0123456789abcdef"
	for _, tt := range []struct {
		name, query string
		ok          bool
		msg         string
	}{
		{"absent", "limit=5", false, ""},
		{"accepted", "cursor=" + EncodeCursor(scope, int64(5), id), true, ""},
		{"not a cursor", "cursor=bm90IGEgY3Vyc29y", false, ErrCursor.Error()},
		{"another list", "cursor=" + EncodeCursor("deliveries", int64(5), id), false, ErrCursorScope.Error()},
		{"refused key", "cursor=" + EncodeCursor(scope, int64(-5), id), false, ErrCursor.Error()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseRawQuery(tt.query, "limit", "cursor")
			if err != nil {
				t.Fatal(err)
			}
			var f problem.Fields
			var ms int64
			var got string
			ok := q.Cursor(&f, scope, func() bool { return ms >= 0 }, &ms, &got)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v (%v)", ok, tt.ok, f)
			}
			if ok && (ms != 5 || got != id) {
				t.Fatalf("keys %d %q", ms, got)
			}
			switch {
			case tt.msg == "" && len(f) != 0:
				t.Fatalf("fields %v", f)
			case tt.msg != "" && (len(f) != 1 || f[0].Field != "cursor" || f[0].Message != tt.msg):
				t.Fatalf("fields %v, want cursor: %s", f, tt.msg)
			}
		})
	}
}

func TestEncodeCursorPanicsOnOtherTypes(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a float key")
		}
	}()
	EncodeCursor("", 1.5)
}

// FuzzCursor: the cursor decoder never panics, refuses with one of its two
// errors, accepts only text that EncodeCursor writes back unchanged,
// refuses another scope's cursors, and round-trips every position that
// fits the length bound.
func FuzzCursor(f *testing.F) {
	for _, s := range []string{"", "!!", "AQ", "AAAAAAA", EncodeCursor("list"), EncodeCursor("list", int64(0)) + "\n",
		EncodeCursor("", "roller"), EncodeCursor("list", 24, int64(-1), "0123456789abcdef01234567")} {
		f.Add(s, "list", 24, int64(1700000000000), "0123456789abcdef01234567")
	}
	f.Add("", "", math.MinInt, int64(math.MaxInt64), "")
	f.Fuzz(func(t *testing.T, cur, scope string, score int, ms int64, id string) {
		for _, decode := range []func(s, scope string) ([]any, error){
			func(s, scope string) ([]any, error) {
				var id string
				err := DecodeCursor(s, scope, &id)
				return []any{id}, err
			},
			func(s, scope string) ([]any, error) {
				var ms int64
				var id string
				err := DecodeCursor(s, scope, &ms, &id)
				return []any{ms, id}, err
			},
			func(s, scope string) ([]any, error) {
				k, err := decodeKeys(s, scope)
				return []any{k.score, k.ms, k.id}, err
			},
		} {
			keys, err := decode(cur, scope)
			switch {
			case errors.Is(err, ErrCursor) || errors.Is(err, ErrCursorScope):
			case err != nil:
				t.Fatalf("%q: error %v", cur, err)
			default:
				if enc := EncodeCursor(scope, keys...); enc != cur {
					t.Fatalf("%q decodes to %v, which is written %q", cur, keys, enc)
				}
				if other := scope + "x"; scopeHash(other) != scopeHash(scope) {
					if _, err := decode(cur, other); !errors.Is(err, ErrCursorScope) {
						t.Fatalf("%q decodes for scope %q: %v", cur, other, err)
					}
				}
			}
		}
		enc := EncodeCursor(scope, score, ms, id)
		got, err := decodeKeys(enc, scope)
		switch {
		case len(enc) > MaxCursorLen:
			if !errors.Is(err, ErrCursor) {
				t.Fatalf("%d-character cursor: %v", len(enc), err)
			}
		case err != nil || got != (cursorKeys{score, ms, id}):
			t.Fatalf("(%d, %d, %q) reads back as %+v: %v", score, ms, id, got, err)
		}
	})
}
