package problem

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestWriteExtensions: extension members join the standard ones, never
// replace them, and an internal error shows none.
func TestWriteExtensions(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		want   map[string]any // members and values; nil value: absent
	}{
		{"added", &Error{Kind: Unprocessable, Detail: "not yet", Extensions: map[string]any{"findings": []string{"a"}}},
			422, map[string]any{"findings": []any{"a"}, "detail": "not yet"}},
		{"standard members win", &Error{Kind: Conflict, Detail: "d", Extensions: map[string]any{"status": 200, "title": "x"}},
			409, map[string]any{"status": float64(409), "title": "Conflict"}},
		{"internal shows none", &Error{Kind: Internal, Extensions: map[string]any{"secret": "x"}, Err: errors.New("boom")},
			500, map[string]any{"secret": nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			Write(w, httptest.NewRequest(http.MethodGet, "/x", nil), "", tc.err)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			var got map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				g, ok := got[k]
				if v == nil {
					if ok {
						t.Errorf("%s present: %s", k, w.Body)
					}
					continue
				}
				gj, _ := json.Marshal(g)
				vj, _ := json.Marshal(v)
				if string(gj) != string(vj) {
					t.Errorf("%s = %s, want %s", k, gj, vj)
				}
			}
		})
	}
}
