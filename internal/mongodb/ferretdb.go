package mongodb

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// IsFerretDB reports whether db is served by FerretDB: the embedded
// engine, or a FerretDB deployment named by MONGODB_URI. Writers use it
// to choose their filters: FerretDB reads the whole collection for any
// filter but exactly {_id: X}, and applies a conditional write as a read
// followed by a write, so a guard beside the _id costs a scan there and
// adds no atomicity. MongoDB answers the same guard from the _id index,
// atomically.
func IsFerretDB(ctx context.Context, db *mongo.Database) (bool, error) {
	ctx, cancel := Bound(ctx)
	defer cancel()
	var info bson.M
	if err := db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return false, fmt.Errorf("ask the database what it is: %w", err)
	}
	_, ok := info["ferretdbVersion"]
	return ok, nil
}
