package webhook

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// cursor is a position in a list ordered by (createdAt, _id): the last item
// of the page before. Keyset paging stays correct while items are added,
// which a skip count would not.
type cursor struct {
	at time.Time
	id string
}

// The scopes of the two lists: a hook list's cursor is refused by a
// delivery list, and one hook's delivery cursor by another hook's list.
const hooksScope = "webhook.hooks"

func deliveriesScope(hookID string) string { return "webhook.deliveries\x00" + hookID }

// cursorAfter is the opaque cursor of the item (at, id) in the list scope.
// The database keeps times to the millisecond, so that is all the cursor
// carries.
func cursorAfter(scope string, at time.Time, id string) string {
	return web.EncodeCursor(scope, at.UnixMilli(), id)
}

// queryCursor reads q's cursor of the list scope: nil when there is none,
// a field error on cursor when it is not one cursorAfter wrote.
func queryCursor(q web.Query, f *problem.Fields, scope string) *cursor {
	var ms int64
	var id string
	if !q.Cursor(f, scope, func() bool { return ms >= 0 && idPattern.MatchString(id) }, &ms, &id) {
		return nil
	}
	return &cursor{at: time.UnixMilli(ms).UTC(), id: id}
}

// beyond is the filter for items after c in the order dir (1 ascending,
// -1 descending) of (createdAt, _id).
func (c *cursor) beyond(dir int) bson.E {
	op := "$gt"
	if dir < 0 {
		op = "$lt"
	}
	return bson.E{Key: "$or", Value: bson.A{
		bson.D{{Key: "createdAt", Value: bson.D{{Key: op, Value: c.at}}}},
		bson.D{{Key: "createdAt", Value: c.at}, {Key: "_id", Value: bson.D{{Key: op, Value: c.id}}}},
	}}
}

// findHooks returns up to n hooks, oldest first, after the cursor (nil:
// from the start).
func (s *Service) findHooks(ctx context.Context, after *cursor, n int) ([]Hook, error) {
	filter := bson.D{}
	if after != nil {
		filter = append(filter, after.beyond(1))
	}
	return mongodb.FindAll[Hook](ctx, s.hooks, "list webhooks", filter, options.Find().
		SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(n)))
}

// findDeliveries returns up to n of the hook's deliveries, newest first,
// after the cursor (nil: from the newest).
func (s *Service) findDeliveries(ctx context.Context, hookID string, before *cursor, n int) ([]Delivery, error) {
	filter := bson.D{{Key: "hookId", Value: hookID}}
	if before != nil {
		filter = append(filter, before.beyond(-1))
	}
	return mongodb.FindAll[Delivery](ctx, s.deliveries, "list deliveries", filter, options.Find().
		SetSort(bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(n)))
}
