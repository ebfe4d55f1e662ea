package web

// Page is the body of a list route: {"items":[...],"nextCursor":...},
// with nextCursor null on the last page.
type Page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"nextCursor"`
}

// NewPage makes a page of items fetched one beyond limit: when that extra
// item came back, more follow, and the cursor names the last item shown.
// Items is never null.
func NewPage[T any](items []T, limit int, cursor func(last T) string) Page[T] {
	p := Page[T]{Items: items}
	if len(items) > limit {
		p.Items = items[:limit]
		next := cursor(items[limit-1])
		p.NextCursor = &next
	}
	if p.Items == nil {
		p.Items = []T{}
	}
	return p
}
