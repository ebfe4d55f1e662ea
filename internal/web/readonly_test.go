package web

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/wellness/cms/internal/problem"
)

// roBody is an update that takes title and an Optional cover; the
// resource it changes also serves id, updatedAt, cover.size (inside a
// member the update takes) and a volatile lastSeen.
type roBody struct {
	Title string              `json:"title"`
	Cover Optional[pathImage] `json:"cover"`
}

var roList = ReadOnlyMembers("id", "updatedAt", "cover.size").
	With("status", "read-only; use POST .../publish").
	With("lastSeen", Volatile)

var roCurrent = map[string]any{
	"id": "a1", "title": "T", "status": "draft", "updatedAt": "2026-01-02T03:04:05.000Z",
	"cover": map[string]any{"url": "u", "size": 12}, "lastSeen": "2026-01-01T00:00:00Z",
}

// TestDecodeUpdate: members the server owns are ignored while unchanged
// (times compared as instants) and refused with their message when
// changed; unknown members are refused; one answer names them all, in
// document order after the wrong types.
func TestDecodeUpdate(t *testing.T) {
	tests := []struct {
		name, body string
		want       []FieldErrorPair // nil: accepted
	}{
		{"nothing owned", `{"title":"x"}`, nil},
		{"owned, unchanged", `{"id":"a1","status":"draft","title":"x"}`, nil},
		{"a time in another precision and zone", `{"updatedAt":"2026-01-02T04:04:05+01:00"}`, nil},
		{"a nested owned member, unchanged", `{"cover":{"url":"v","size":12.0}}`, nil},
		{"volatile, changed", `{"lastSeen":"2030-01-01T00:00:00Z"}`, nil},
		{"owned, changed", `{"id":"b2"}`, []FieldErrorPair{{"id", ReadOnlyField}}},
		{"status has its own message", `{"status":"published"}`, []FieldErrorPair{{"status", "read-only; use POST .../publish"}}},
		{"a different time", `{"updatedAt":"2026-01-02T03:04:06Z"}`, []FieldErrorPair{{"updatedAt", ReadOnlyField}}},
		{"not a time", `{"updatedAt":"yesterday"}`, []FieldErrorPair{{"updatedAt", ReadOnlyField}}},
		{"another type", `{"id":1}`, []FieldErrorPair{{"id", ReadOnlyField}}},
		{"null for a value", `{"id":null}`, []FieldErrorPair{{"id", ReadOnlyField}}},
		{"a member the list does not name", `{"stats":{"words":12}}`, []FieldErrorPair{{"stats", "unknown field"}}},
		{"a nested owned member, changed", `{"cover":{"size":13}}`, []FieldErrorPair{{"cover.size", ReadOnlyField}}},
		{"three bad members", `{"a":1,"id":"b2","cover":{"url":"u","b":2}}`,
			[]FieldErrorPair{{"a", "unknown field"}, {"id", ReadOnlyField}, {"cover.b", "unknown field"}}},
		{"every kind at once", `{"title":5,"cover":{"url":7},"x":1,"status":"live"}`, []FieldErrorPair{
			{"title", "must be a string"}, {"cover.url", "must be a string"}, {"x", "unknown field"}, {"status", "read-only; use POST .../publish"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b roBody
			err := DecodeUpdateBytes([]byte(tt.body), &b, roList, func() (any, error) { return roCurrent, nil })
			if got := fieldPairs(t, err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("fields %v, want %v (%v)", got, tt.want, err)
			}
		})
	}
}

// FieldErrorPair is a field error without the problem around it.
type FieldErrorPair struct{ Field, Message string }

func fieldPairs(t *testing.T, err error) []FieldErrorPair {
	t.Helper()
	if err == nil {
		return nil
	}
	var pe *problem.Error
	if !errors.As(err, &pe) || pe.Kind != problem.Invalid {
		t.Fatalf("error %v, want Invalid", err)
	}
	var out []FieldErrorPair
	for _, f := range pe.Fields {
		out = append(out, FieldErrorPair{f.Field, f.Message})
	}
	return out
}

// TestDecodeUpdateCurrent: the current value is read only when the body
// has members the server owns, and its error (a 404, a stale If-Match's
// 412) is the answer; without a list every such member is unknown.
func TestDecodeUpdateCurrent(t *testing.T) {
	calls := 0
	fail := func() (any, error) { calls++; return nil, problem.New(problem.PreconditionFailed, "stale") }
	var b roBody
	if err := DecodeUpdateBytes([]byte(`{"title":"x","y":1}`), &b, roList, fail); calls != 0 || problem.KindOf(err) != problem.Invalid {
		t.Errorf("no owned member: %d calls, error %v", calls, err)
	}
	if err := DecodeUpdateBytes([]byte(`{"id":"a1"}`), &b, roList, fail); calls != 1 || problem.KindOf(err) != problem.PreconditionFailed {
		t.Errorf("an owned member: %d calls, error %v", calls, err)
	}
	got := fieldPairs(t, DecodeBytes([]byte(`{"id":"a1"}`), &b))
	if !reflect.DeepEqual(got, []FieldErrorPair{{"id", "unknown field"}}) {
		t.Errorf("DecodeBytes: %v", got)
	}
}

// TestDecodeManyUnknown: a body of many unknown members gets a bounded
// answer that says there are more.
func TestDecodeManyUnknown(t *testing.T) {
	var sb strings.Builder
	sb.WriteString(`{"title":"t"`)
	for i := range 5000 {
		sb.WriteString(`,"k` + strings.Repeat("x", i%7) + `":1`)
	}
	sb.WriteString("}")
	var b roBody
	got := fieldPairs(t, DecodeBytes([]byte(sb.String()), &b))
	if len(got) != maxUnknown+1 || got[maxUnknown].Field != "(body)" {
		t.Errorf("%d fields, last %v", len(got), got[len(got)-1])
	}
}
