package mongodb

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// countingHandler counts the attributes handed to WithAttrs, which is
// where slog's handlers encode them.
type countingHandler struct {
	slog.Handler
	added *int
}

func (h countingHandler) WithAttrs(a []slog.Attr) slog.Handler {
	*h.added += len(a)
	return countingHandler{h.Handler.WithAttrs(a), h.added}
}

func (h countingHandler) WithGroup(name string) slog.Handler {
	return countingHandler{h.Handler.WithGroup(name), h.added}
}

// TestLevelFilterDefersAttributes: what FerretDB adds with With for a
// debug line the filter drops is never encoded, and a record that passes
// carries every attribute and group in order.
func TestLevelFilterDefersAttributes(t *testing.T) {
	var out bytes.Buffer
	added := 0
	inner := countingHandler{slog.NewJSONHandler(&out, nil), &added}
	l := slog.New(levelFilter{inner: inner, min: slog.LevelWarn}).With("component", "ferretdb")

	doc := strings.Repeat("x", 1<<10)
	l.With("args", []any{doc}).DebugContext(context.Background(), ">>> INSERT")
	if added != 0 || out.Len() != 0 {
		t.Fatalf("a dropped debug line encoded %d attributes and wrote %q", added, out.String())
	}

	l.WithGroup("conn").With("id", 7).Warn("Connection stopped", "error", "broken pipe")
	got := out.String()
	want := `"msg":"Connection stopped","component":"ferretdb","conn":{"id":7,"error":"broken pipe"}}`
	if !strings.Contains(got, want) {
		t.Errorf("warning = %s\nwant it to end in %s", got, want)
	}
	if added != 2 {
		t.Errorf("%d attributes encoded for the warning, want 2", added)
	}

	out.Reset()
	l.Warn("Response header: dump")
	if out.Len() != 0 {
		t.Errorf("wire-protocol dump logged: %s", out.String())
	}
}
