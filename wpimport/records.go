package wpimport

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/problem"
)

// record ties one thing of a WordPress site to what the import made of
// it: "<site>/post/<ID>" to an article, "<site>/product/<ID>" to a
// product code, "<site>/user/<login>" to a user, "<site>/media/<URL>" to
// a media item. Hash is of the source as it was imported, so a rerun
// knows what changed. Every read and write is by _id (../shared/mongodb.md).
type record struct {
	ID     string    `bson:"_id"`
	Target string    `bson:"target"`
	Hash   string    `bson:"hash,omitempty"`
	At     time.Time `bson:"at"`
}

type records struct{ c *mongo.Collection }

func (r records) find(ctx context.Context, id string) (*record, error) {
	rec, err := mongodb.FindByID[record](ctx, r.c, "find import record", id)
	if errors.Is(err, problem.NotFound) {
		return nil, nil
	}
	return rec, err
}

// put stores rec, whether or not it was there.
func (r records) put(ctx context.Context, rec *record) error {
	_, err := mongodb.ReplaceByID(ctx, r.c, "store import record", rec.ID, rec, options.Replace().SetUpsert(true))
	return err
}
