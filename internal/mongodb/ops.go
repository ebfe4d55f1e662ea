package mongodb

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The storage edge every store stands on: one driver call under a
// deadline, its error translated by Err, op naming the call in logs. The
// calls by key filter on exactly {_id: id}: the embedded engine's SQLite
// handler pushes no other filter down and reads the whole collection for
// it.

// Bound gives ctx the default deadline of one call, OpTimeout, unless it
// has a deadline already. A caller that needs longer (a scan of a whole
// collection, a document of several MiB) sets its own first; a caller
// with less time left keeps it.
func Bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, OpTimeout)
}

func byID(id any) bson.D { return bson.D{{Key: "_id", Value: id}} }

// call runs one driver call under Bound and translates its error.
func call[R any](ctx context.Context, op string, fn func(context.Context) (R, error)) (R, error) {
	ctx, cancel := Bound(ctx)
	defer cancel()
	r, err := fn(ctx)
	if err != nil {
		var zero R
		return zero, Err(op, err)
	}
	return r, nil
}

// FindByID decodes the document with this _id; NotFound when there is
// none.
func FindByID[T any](ctx context.Context, c *mongo.Collection, op string, id any, opts ...options.Lister[options.FindOneOptions]) (*T, error) {
	return FindOne[T](ctx, c, op, byID(id), opts...)
}

// FindOne decodes the first document filter selects; NotFound when there
// is none. Prefer FindByID: any other filter scans on the embedded engine.
func FindOne[T any](ctx context.Context, c *mongo.Collection, op string, filter any, opts ...options.Lister[options.FindOneOptions]) (*T, error) {
	return call(ctx, op, func(ctx context.Context) (*T, error) {
		var v T
		if err := c.FindOne(ctx, filter, opts...).Decode(&v); err != nil {
			return nil, err
		}
		return &v, nil
	})
}

// FindAll decodes every document filter selects, in the order opts set.
// No match is an empty list, never nil, so that it encodes as [].
func FindAll[T any](ctx context.Context, c *mongo.Collection, op string, filter any, opts ...options.Lister[options.FindOptions]) ([]T, error) {
	return call(ctx, op, func(ctx context.Context) ([]T, error) {
		cur, err := c.Find(ctx, filter, opts...)
		if err != nil {
			return nil, err
		}
		out := []T{}
		if err := cur.All(ctx, &out); err != nil {
			return nil, err
		}
		return out, nil
	})
}

// Insert stores doc. A taken _id or unique key is Conflict, which is also
// how callers claim a key: the one write atomic on both engines.
func Insert(ctx context.Context, c *mongo.Collection, op string, doc any) error {
	_, err := call(ctx, op, func(ctx context.Context) (*mongo.InsertOneResult, error) {
		return c.InsertOne(ctx, doc)
	})
	return err
}

// ReplaceByID stores doc in place of the document with this _id and
// reports whether there was one (with an upsert option, a missing one is
// created and reported as false).
func ReplaceByID(ctx context.Context, c *mongo.Collection, op string, id, doc any, opts ...options.Lister[options.ReplaceOptions]) (matched bool, err error) {
	res, err := call(ctx, op, func(ctx context.Context) (*mongo.UpdateResult, error) {
		return c.ReplaceOne(ctx, byID(id), doc, opts...)
	})
	return err == nil && res.MatchedCount > 0, err
}

// UpdateByID applies update to the document with this _id and reports
// whether there was one.
func UpdateByID(ctx context.Context, c *mongo.Collection, op string, id, update any, opts ...options.Lister[options.UpdateOneOptions]) (matched bool, err error) {
	res, err := call(ctx, op, func(ctx context.Context) (*mongo.UpdateResult, error) {
		return c.UpdateOne(ctx, byID(id), update, opts...)
	})
	return err == nil && res.MatchedCount > 0, err
}

// DeleteByID removes the document with this _id and reports whether there
// was one; callers decide whether a missing one is NotFound.
func DeleteByID(ctx context.Context, c *mongo.Collection, op string, id any) (deleted bool, err error) {
	res, err := call(ctx, op, func(ctx context.Context) (*mongo.DeleteResult, error) {
		return c.DeleteOne(ctx, byID(id))
	})
	return err == nil && res.DeletedCount > 0, err
}

// DeleteMany removes every document filter selects and reports how many.
// Cleanups scan on the embedded engine; they set a longer deadline.
func DeleteMany(ctx context.Context, c *mongo.Collection, op string, filter any) (int64, error) {
	res, err := call(ctx, op, func(ctx context.Context) (*mongo.DeleteResult, error) {
		return c.DeleteMany(ctx, filter)
	})
	if err != nil {
		return 0, err
	}
	return res.DeletedCount, nil
}

// Count counts the documents filter selects.
func Count(ctx context.Context, c *mongo.Collection, op string, filter any) (int64, error) {
	return call(ctx, op, func(ctx context.Context) (int64, error) {
		return c.CountDocuments(ctx, filter)
	})
}
