package server

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

// viaSlog is the access line as the logger's JSON handler writes it.
func viaSlog(t testing.TB, a access) []byte {
	var buf bytes.Buffer
	r := slog.NewRecord(a.at, slog.LevelInfo, "request", 0)
	r.AddAttrs(
		slog.String("requestId", a.id), slog.String("method", a.method), slog.String("route", a.route),
		slog.String("path", a.path), slog.String("query", a.query), slog.Int("status", a.status),
		slog.Int("bytes", a.bytes), slog.Duration("duration", a.duration), slog.String("clientIp", a.clientIP))
	if err := slog.NewJSONHandler(&buf, nil).Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// members decodes a JSON object line into its member names, in order,
// and values.
func members(t testing.TB, line []byte) ([]string, map[string]any) {
	t.Helper()
	var keys []string
	d := json.NewDecoder(bytes.NewReader(line))
	if _, err := d.Token(); err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	for d.More() {
		k, err := d.Token()
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		keys = append(keys, k.(string))
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
	}
	var vals map[string]any
	if err := json.Unmarshal(line, &vals); err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	return keys, vals
}

// sameAsSlog checks that the hand-encoded line is one valid JSON line
// with the members, order and values the JSON handler gives.
func sameAsSlog(t testing.TB, a access) {
	t.Helper()
	got := a.appendJSON(nil)
	if !json.Valid(got) || bytes.IndexByte(got, '\n') != len(got)-1 {
		t.Fatalf("not one JSON line: %q", got)
	}
	want := viaSlog(t, a)
	gk, gv := members(t, got)
	wk, wv := members(t, want)
	if !reflect.DeepEqual(gk, wk) || !reflect.DeepEqual(gv, wv) {
		t.Fatalf("access line\n got %s\nwant %s", got, want)
	}
}

func TestAccessLineIsWhatSlogWrites(t *testing.T) {
	at := time.Date(2026, 12, 2, 16, 3, 48, 123456789, time.UTC)
	base := access{at: at, id: "9f2c-1", method: "GET", route: "/api/v1/content/articles/:slug",
		path: "/api/v1/content/articles/massage-for-chronic-pain-relief", status: 200, bytes: 10725,
		duration: 1234567 * time.Nanosecond, clientIP: "127.0.0.1"}
	for _, tt := range []struct {
		name        string
		path, query string
	}{
		{"plain", base.path, ""},
		{"query", base.path, "limit=20&tag=massage"},
		{"quotes and backslashes", `/a"b\c`, `q="x"\`},
		{"control bytes", "/a\nb\rc\td\x00e\x1f", "\x7f"},
		{"html", "/<script>&amp;", "a=<b>"},
		{"unicode", "/bücher/日本語/🙂", "q=naïve"},
		{"line separators", "/a\u2028b\u2029", ""},
		{"invalid UTF-8", "/a\xffb\xc3", "\xe2\x82"},
		{"empty", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := base
			a.path, a.query = tt.path, tt.query
			sameAsSlog(t, a)
		})
	}
	// Local time and zero durations come out as slog writes them too.
	a := base
	a.at, a.duration = time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600)), 0
	sameAsSlog(t, a)
	if got := string(base.appendJSON(nil)); !strings.HasPrefix(got, `{"time":"2026-12-02T16:03:48.123456789Z","level":"INFO","msg":"request",`) {
		t.Errorf("line starts %q", got[:80])
	}
}

// FuzzAccessLine: whatever a client puts in the path and query (and an
// incoming request ID, though those are checked first), the access line
// is one valid JSON line saying what slog would have said.
func FuzzAccessLine(f *testing.F) {
	for _, s := range []string{"/a", `"\`, "\x00\n", "\xff", "\u2028", "日本"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, path, query string) {
		sameAsSlog(t, access{at: time.Unix(1, 5).UTC(), id: "x", method: "GET", route: "unmatched",
			path: path, query: query, status: 404, bytes: 0, duration: time.Millisecond, clientIP: "::1"})
	})
}

// BenchmarkAccessLine compares the hand-encoded line with slog's.
func BenchmarkAccessLine(b *testing.B) {
	a := access{at: time.Now(), id: "9f2c8e1d0a7b6c5d-1", method: "GET", route: "/api/v1/content/articles/:slug",
		path: "/api/v1/content/articles/massage-for-chronic-pain-relief", query: "limit=20", status: 200,
		bytes: 10725, duration: time.Millisecond, clientIP: "127.0.0.1"}
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = a.appendJSON(buf[:0])
		}
	})
	b.Run("slog", func(b *testing.B) {
		b.ReportAllocs()
		l := slog.New(slog.NewJSONHandler(discard{}, nil))
		ctx := context.Background()
		for b.Loop() {
			l.LogAttrs(ctx, slog.LevelInfo, "request",
				slog.String("requestId", a.id), slog.String("method", a.method), slog.String("route", a.route),
				slog.String("path", a.path), slog.String("query", a.query), slog.Int("status", a.status),
				slog.Int("bytes", a.bytes), slog.Duration("duration", a.duration), slog.String("clientIp", a.clientIP))
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
