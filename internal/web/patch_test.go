package web

import (
	"errors"
	"slices"
	"testing"

	"github.com/wellness/cms/internal/problem"
)

type pathImage struct {
	URL string `json:"url"`
}

type pathEmbedded struct {
	Note string `json:"note"`
}

type pathBody struct {
	pathEmbedded
	Title  string               `json:"title"`
	Cover  *pathImage           `json:"cover"`
	List   []pathImage          `json:"list"`
	Labels map[string]pathImage `json:"labels"`
	Patch  Optional[pathPatch]  `json:"patch"`
}

type pathPatch struct {
	Alt  Optional[string]    `json:"alt"`
	Deep Optional[pathImage] `json:"deep"`
}

// TestDecodeNamesPaths: every decoding error names its member by the JSON
// path from the body's root, at the top level and inside Optional members.
func TestDecodeNamesPaths(t *testing.T) {
	tests := []struct {
		name, body, field, msg string
	}{
		{"top-level unknown", `{"price":1}`, "price", "unknown field"},
		{"nested unknown", `{"cover":{"url":"u","size":2}}`, "cover.size", "unknown field"},
		{"unknown in array", `{"list":[{"url":"a"},{"alt":"b"}]}`, "list.alt", "unknown field"},
		{"unknown in map value", `{"labels":{"k":{"x":1}}}`, "labels.k.x", "unknown field"},
		{"embedded and folded names are known", `{"Note":"n","TITLE":"t","cover":{"URL":"u"},"oops":1}`, "oops", "unknown field"},
		{"every unknown: the first", `{"cover":{"a":1},"b":2}`, "cover.a", "unknown field"},
		{"every unknown: the last", `{"cover":{"a":1},"b":2}`, "b", "unknown field"},
		{"unknown beside a wrong type", `{"title":5,"b":2}`, "b", "unknown field"},
		{"wrong type beside an unknown", `{"title":5,"b":2}`, "title", "must be a string"},
		{"nested wrong type", `{"cover":{"url":5}}`, "cover.url", "must be a string"},
		{"optional wrong type", `{"patch":{"alt":5}}`, "patch.alt", "must be a string"},
		{"optional itself", `{"patch":[]}`, "patch", "must be an object"},
		{"optional unknown", `{"patch":{"x":1}}`, "patch.x", "unknown field"},
		{"optional deep unknown", `{"patch":{"deep":{"url":"u","y":1}}}`, "patch.deep.y", "unknown field"},
		{"optional deep type", `{"patch":{"deep":{"url":true}}}`, "patch.deep.url", "must be a string"},
		{"every wrong type: the first", `{"title":5,"list":{},"cover":{"url":[1]}}`, "title", "must be a string"},
		{"every wrong type: a second", `{"title":5,"list":{},"cover":{"url":[1]}}`, "list", "must be an array"},
		{"every wrong type: a nested one", `{"title":5,"list":{},"cover":{"url":[1]}}`, "cover.url", "must be a string"},
		{"wrong type in an array", `{"title":"t","list":[{"url":"a"},{"url":2}]}`, "list.url", "must be a string"},
		{"wrong type of the body", `[]`, "(body)", "must be an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b pathBody
			err := DecodeBytes([]byte(tt.body), &b)
			var pe *problem.Error
			if !errors.As(err, &pe) || pe.Kind != problem.Invalid {
				t.Fatalf("error %v, want Invalid", err)
			}
			for _, f := range pe.Fields {
				if f.Field == tt.field && f.Message == tt.msg {
					return
				}
			}
			t.Errorf("fields %v, want %s: %s", pe.Fields, tt.field, tt.msg)
		})
	}
}

// TestDecodeEveryWrongType: one answer names each wrong member once, in
// document order, as encoding/json alone would name only the first (and
// a member of an embedded struct under the struct's Go name).
func TestDecodeEveryWrongType(t *testing.T) {
	var b pathBody
	err := DecodeBytes([]byte(`{"note":5,"title":5,"cover":{"url":true},"list":"x","patch":{"alt":1},"zz":1}`), &b)
	var pe *problem.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v, want a problem", err)
	}
	var got []string
	for _, f := range pe.Fields {
		got = append(got, f.Field+": "+f.Message)
	}
	want := []string{"note: must be a string", "title: must be a string", "cover.url: must be a string", "list: must be an array",
		"patch.alt: must be a string", "zz: unknown field"}
	if !slices.Equal(got, want) {
		t.Errorf("fields\n%q\nwant\n%q", got, want)
	}
}

// TestOptionalMerge: absent keeps, null clears to zero, a value replaces.
func TestOptionalMerge(t *testing.T) {
	var b struct {
		A Optional[string] `json:"a"`
		B Optional[string] `json:"b"`
		C Optional[string] `json:"c"`
	}
	if err := DecodeBytes([]byte(`{"b":null,"c":"new"}`), &b); err != nil {
		t.Fatal(err)
	}
	a, bb, c := "old", "old", "old"
	b.A.Merge(&a)
	b.B.Merge(&bb)
	b.C.Merge(&c)
	if a != "old" || bb != "" || c != "new" {
		t.Errorf("merged a=%q b=%q c=%q", a, bb, c)
	}
	var f problem.Fields
	RefuseNull(&f, "a", b.A)
	RefuseNull(&f, "b", b.B)
	RefuseNull(&f, "c", b.C)
	if len(f) != 1 || f[0].Field != "b" || f[0].Message != CannotClear {
		t.Errorf("RefuseNull fields %v, want b only", f)
	}
}
