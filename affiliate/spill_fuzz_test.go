package affiliate

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// spillLines is what a reader of data must report, worked out line by line
// from the file format's definition: each newline-terminated line (and a
// final unterminated one) is a click, blank, or bad.
func spillLines(data []byte) (clicks []Click, bad []int) {
	lines := bytes.Split(data, []byte{'\n'})
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1] // the newline ends the last line
	}
	for i, l := range lines {
		var c Click
		switch {
		case len(l) > maxSpillLine:
			bad = append(bad, i+1)
		case len(bytes.TrimSpace(l)) == 0:
		case json.Unmarshal(l, &c) != nil || !c.valid():
			bad = append(bad, i+1)
		default:
			clicks = append(clicks, c)
		}
	}
	return clicks, bad
}

func readAll(t *testing.T, data []byte) (clicks []Click, bad []int) {
	t.Helper()
	err := readClicks(bytes.NewReader(data), func(c Click) error {
		clicks = append(clicks, c)
		return nil
	}, func(line int, why string) {
		if why == "" {
			t.Errorf("line %d reported bad without a reason", line)
		}
		bad = append(bad, line)
	})
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return clicks, bad
}

func spillSeed(t testing.TB) []byte {
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	data, err := encodeClicks([]Click{
		{ID: strings.Repeat("a", 32), Product: "roller", Time: now, Day: dayOf(now), Visitor: "ab"},
		{ID: strings.Repeat("b", 32), Product: "mat", Article: "knee-pain", Position: 2, Time: now, Day: dayOf(now), Bot: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// FuzzReadSpill: the replay reader survives any bytes: it never panics or
// fails, and reports exactly the whole clicks and the bad lines the format
// defines, however the file was torn or damaged. Lines over the limit are
// in TestReadSpillLineLimit: seeds that large would slow every run.
func FuzzReadSpill(f *testing.F) {
	good := spillSeed(f)
	first := good[:bytes.IndexByte(good, '\n')+1]
	for _, s := range [][]byte{
		nil, {'\n'}, good, good[:len(good)-1], good[:len(good)/2], append(good[:len(good)/2:len(good)/2], good...),
		[]byte("garbage\n\n  \r\n{}\n{\"id\":1}\nnull\n[]\n"), append([]byte("\x00\xff\n"), first...),
		bytes.ReplaceAll(good, []byte{'\n'}, []byte("\r\n")),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		clicks, bad := readAll(t, data)
		wantClicks, wantBad := spillLines(data)
		if !reflect.DeepEqual(clicks, wantClicks) || !reflect.DeepEqual(bad, wantBad) {
			t.Fatalf("%q: read %d clicks, bad lines %v; want %d clicks, bad lines %v",
				data, len(clicks), bad, len(wantClicks), wantBad)
		}
		for _, c := range clicks {
			if !c.valid() {
				t.Fatalf("%q: delivered an invalid click %+v", data, c)
			}
		}
	})
}

// TestReadSpillLineLimit checks the boundary of the line limit (a line of
// exactly maxSpillLine bytes is read, one byte more is skipped, with or
// without its newline) and that a huge line does not hide the next one.
func TestReadSpillLineLimit(t *testing.T) {
	good := spillSeed(t)
	first := good[:bytes.IndexByte(good, '\n')+1]
	pad := func(n int) []byte { // a valid click padded with spaces to n bytes
		l := bytes.TrimSuffix(first, []byte{'\n'})
		return append(append([]byte{}, l...), bytes.Repeat([]byte{' '}, n-len(l))...)
	}
	tests := []struct {
		name       string
		data       []byte
		wantClicks int
		wantBad    []int
	}{
		{"at the limit, with newline", append(pad(maxSpillLine), '\n'), 1, nil},
		{"at the limit, last line", pad(maxSpillLine), 1, nil},
		{"one over, with newline", append(pad(maxSpillLine+1), '\n'), 0, []int{1}},
		{"one over, last line", pad(maxSpillLine + 1), 0, []int{1}},
		{"huge line then a click", append(append(bytes.Repeat([]byte{'{'}, 4<<20), '\n'), first...), 1, []int{1}},
		{"torn line then a click", append(append([]byte{}, good[:20]...), append([]byte{'\n'}, first...)...), 1, []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clicks, bad := readAll(t, tt.data)
			if len(clicks) != tt.wantClicks || !reflect.DeepEqual(bad, tt.wantBad) {
				t.Fatalf("%d clicks, bad lines %v; want %d, %v", len(clicks), bad, tt.wantClicks, tt.wantBad)
			}
		})
	}
}

// BenchmarkReadSpillHugeLine shows the reader's memory does not grow with
// a line's length: B/op stays near the buffer size for a 16 MiB line.
func BenchmarkReadSpillHugeLine(b *testing.B) {
	data := append(bytes.Repeat([]byte{'x'}, 16<<20), '\n')
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := readClicks(bytes.NewReader(data), func(Click) error { return nil }, func(int, string) {}); err != nil {
			b.Fatal(err)
		}
	}
}
