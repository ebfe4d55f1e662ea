package server

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

func TestRedactQuery(t *testing.T) {
	for _, tt := range []struct{ raw, want string }{
		{"", ""},
		{"limit=20&tag=posture", "limit=20&tag=posture"},
		{"preview=abc", "preview=REDACTED"},
		{"a=1&Access_Token=xyz&b=2", "a=1&Access_Token=REDACTED&b=2"},
		{"apiKey=1&apikey=2", "apiKey=REDACTED&apikey=REDACTED"},
		{"pr%65view=abc&x=1", "pr%65view=REDACTED&x=1"},
		{"code_verifier=v&state=s", "code_verifier=REDACTED&state=s"},
		{"token", "token"}, // no value, nothing to hide
		{"q=a%zz&secret=s", "q=a%zz&secret=REDACTED"},
		{"password=p&", "password=REDACTED&"},
	} {
		if got := redactQuery(tt.raw); got != tt.want {
			t.Errorf("redactQuery(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

func TestValidRequestID(t *testing.T) {
	for _, tt := range []struct {
		id   string
		want bool
	}{
		{"", false},
		{"abc-123_x.y:z", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"a b", false},
		{"a\nb", false},
		{"é", false},
	} {
		if got := validRequestID(tt.id); got != tt.want {
			t.Errorf("validRequestID(%q) = %v", tt.id, got)
		}
	}
	a, b := newRequestID(), newRequestID()
	if a == b || !validRequestID(a) || !strings.HasPrefix(b, requestIDPrefix) {
		t.Fatalf("request IDs %q, %q", a, b)
	}
}

// lockedBuffer is an output the test can read while the writer writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// LockedBuffer lets the external tests share it.
type LockedBuffer = lockedBuffer

// TestLogWriterLosesNothingAtClose: every line written before Close is in
// the output after it, in order, and lines after Close go straight out.
func TestLogWriterLosesNothingAtClose(t *testing.T) {
	var out lockedBuffer
	w := NewLogWriter(&out)
	var want strings.Builder
	for i := range 5000 {
		line := strings.Repeat("x", i%97) + "\n"
		want.WriteString(line)
		if _, err := w.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("after\n"))
	want.WriteString("after\n")
	if out.String() != want.String() || w.Dropped() != 0 {
		t.Fatalf("output differs (%d bytes, want %d), dropped %d", out.b.Len(), want.Len(), w.Dropped())
	}
}

// blockedWriter never returns until released: a stalled log pipe.
type blockedWriter struct{ release chan struct{} }

func (b blockedWriter) Write(p []byte) (int, error) { <-b.release; return len(p), nil }

// TestLogWriterNeverBlocks: with the output stuck, writes still return,
// and what does not fit in the buffer is counted as dropped.
func TestLogWriterNeverBlocks(t *testing.T) {
	out := blockedWriter{release: make(chan struct{})}
	w := NewLogWriter(out)
	line := []byte(strings.Repeat("y", 1023) + "\n")
	for range 3 * logBufferMax / len(line) {
		_, _ = w.Write(line)
	}
	if w.Dropped() == 0 {
		t.Fatal("nothing dropped with the output stuck")
	}
	close(out.release)
	_ = w.Close()
}
