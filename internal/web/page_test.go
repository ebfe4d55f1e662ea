package web

import (
	"encoding/json"
	"strconv"
	"testing"
)

func TestNewPage(t *testing.T) {
	cursor := func(n int) string { return strconv.Itoa(n) }
	for _, tt := range []struct {
		items []int
		limit int
		want  string
	}{
		{nil, 2, `{"items":[],"nextCursor":null}`},
		{[]int{1, 2}, 2, `{"items":[1,2],"nextCursor":null}`},
		{[]int{1, 2, 3}, 2, `{"items":[1,2],"nextCursor":"2"}`},
	} {
		b, _ := json.Marshal(NewPage(tt.items, tt.limit, cursor))
		if string(b) != tt.want {
			t.Errorf("NewPage(%v, %d) = %s, want %s", tt.items, tt.limit, b, tt.want)
		}
	}
}
