package web

import (
	"errors"
	"testing"

	"github.com/wellness/cms/internal/problem"
)

func TestParseRawQuery(t *testing.T) {
	tests := []struct {
		name      string
		raw       string
		allowed   []string
		want      Query
		badFields []string
	}{
		{"empty", "", []string{"limit"}, Query{}, nil},
		{"allowed", "limit=5&cursor=abc", []string{"limit", "cursor"}, Query{"limit": "5", "cursor": "abc"}, nil},
		{"unknown", "limit=5&foo=1", []string{"limit"}, nil, []string{"foo"}},
		{"nothing allowed", "x=1", nil, nil, []string{"x"}},
		{"repeated", "limit=5&limit=6", []string{"limit"}, nil, []string{"limit"}},
		{"empty value", "limit=", []string{"limit"}, nil, []string{"limit"}},
		{"bare key", "limit", []string{"limit"}, nil, []string{"limit"}},
		{"bad escape", "cursor=%ZZ", []string{"cursor"}, nil, []string{"(query)"}},
		{"bad escape hides nothing", "cursor=%ZZ&foo=1", []string{"cursor"}, nil, []string{"(query)", "foo"}},
		{"semicolon", "a=1;b=2", []string{"a", "b"}, nil, []string{"(query)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseRawQuery(tt.raw, tt.allowed...)
			if tt.badFields == nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if len(q) != len(tt.want) {
					t.Fatalf("q = %v, want %v", q, tt.want)
				}
				for k, v := range tt.want {
					if q[k] != v {
						t.Fatalf("q[%s] = %q, want %q", k, q[k], v)
					}
				}
				return
			}
			var pe *problem.Error
			if !errors.As(err, &pe) || pe.Kind != problem.Invalid {
				t.Fatalf("err = %v, want an Invalid problem", err)
			}
			got := map[string]bool{}
			for _, fe := range pe.Fields {
				got[fe.Field] = true
			}
			for _, f := range tt.badFields {
				if !got[f] {
					t.Errorf("fields %v do not name %q", pe.Fields, f)
				}
			}
		})
	}
}

func TestQueryLimit(t *testing.T) {
	for _, tt := range []struct {
		raw  string
		want int
		bad  bool
	}{{"", 20, false}, {"limit=1", 1, false}, {"limit=100", 100, false}, {"limit=0", 20, true}, {"limit=101", 20, true}, {"limit=x", 20, true}, {"limit=-1", 20, true}} {
		q, err := ParseRawQuery(tt.raw, "limit")
		if err != nil {
			t.Fatal(err)
		}
		var f problem.Fields
		if got := q.Limit(&f, 20, 100); got != tt.want || (len(f) > 0) != tt.bad {
			t.Errorf("%q: limit %d, fields %v", tt.raw, got, f)
		}
	}
}

func FuzzParseRawQuery(f *testing.F) {
	for _, s := range []string{"", "limit=5", "cursor=%ZZ", "a=1&a=2", "a=1;b=2", "q=%E2%82%AC"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := ParseRawQuery(raw, "limit", "cursor", "q")
		if err != nil {
			if problem.KindOf(err) != problem.Invalid {
				t.Fatalf("error kind %v", problem.KindOf(err))
			}
			return
		}
		for k, v := range q {
			if v == "" || (k != "limit" && k != "cursor" && k != "q") {
				t.Fatalf("accepted %q=%q", k, v)
			}
		}
	})
}
