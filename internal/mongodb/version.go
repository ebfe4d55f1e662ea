package mongodb

import (
	"context"
	"errors"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/wellness/cms/internal/problem"
)

// Versions arbitrates the writes of documents that count their versions
// in a "version" field (products, users, webhooks, settings), so that an
// If-Match on them means what it says on both engines.
//
// A conditional update ({_id, version: v}) cannot do it: the embedded
// engine reads, then writes, so two updates of version v can both match,
// and it scans the collection for any filter but {_id}. The one write
// both engines arbitrate is an insert into a unique _id. So a change from
// version v first inserts the claim "<collection>/<id>/<v>"; the one
// writer whose insert succeeds reads the document again (it must still be
// at v: a claim released after an earlier change of v is gone, and the
// document has moved on), writes version v+1 filtered on {_id} only, and
// deletes its claim. Every other writer of v gets PreconditionFailed.
//
// The guarantee: of the changes that read version v, at most one writes,
// and it writes v+1 on top of v, never on top of another change. The one
// remaining window is a writer that dies or stalls between its claim and
// its write: its claim blocks version v for claimGrace, then the next
// writer steps over it (claim generation n+1). So that a stalled writer
// cannot write after someone stepped over it, its write must be issued
// before half of claimGrace has passed since the claim (its context
// deadline); a write already on the wire for longer than that, and only
// on a networked MongoDB, is the window left.
type Versions struct {
	claims *mongo.Collection
	now    func() time.Time
}

// NewVersions keeps the claims in db's version_claims collection. It
// holds only the claims of writes in progress, and those of writers that
// died, until the document is written again.
func NewVersions(db *mongo.Database) *Versions {
	return &Versions{claims: db.Collection("version_claims"), now: time.Now}
}

// claimGrace is how long a claim blocks its version before another writer
// may step over it: far longer than a write takes.
const claimGrace = 30 * time.Second

// maxClaimGenerations bounds the claims of one version a writer steps
// over; each is a writer that died holding it.
const maxClaimGenerations = 8

type versionClaim struct {
	ID string    `bson:"_id"`
	At time.Time `bson:"at"`
}

// versionDoc reads only the version of a document; one stored before
// versions existed has none and is at version 0.
type versionDoc struct {
	Version int64 `bson:"version"`
}

// Write runs write as the one change from version prev of the document
// id in c; write must store version prev+1 filtered on {_id} only (or
// delete the document). Errors: PreconditionFailed when another change of
// prev was claimed or saved first, NotFound when the document is gone,
// and write's own errors.
func (vs *Versions) Write(ctx context.Context, c *mongo.Collection, id string, prev int64, write func(context.Context) error) error {
	key := c.Name() + "/" + id + "/" + strconv.FormatInt(prev, 10)
	held, at, err := vs.claim(ctx, key)
	defer vs.release(held)
	if err != nil {
		return err
	}
	cur, err := FindByID[versionDoc](ctx, c, "read version of "+c.Name(), id,
		options.FindOne().SetProjection(bson.D{{Key: "version", Value: 1}}))
	if err != nil {
		return err
	}
	if cur.Version != prev {
		return errLostRace
	}
	wctx, cancel := context.WithDeadline(ctx, at.Add(claimGrace/2))
	defer cancel()
	return write(wctx)
}

var errLostRace = problem.New(problem.PreconditionFailed,
	"another change was saved at the same moment; reload and apply your change again")

// claim inserts the claim of key, stepping over claims older than
// claimGrace, and returns the claims to delete afterwards (the one it
// holds and those it stepped over) with the time it claimed.
func (vs *Versions) claim(ctx context.Context, key string) (held []string, at time.Time, err error) {
	for gen := 0; gen < maxClaimGenerations; gen++ {
		id := key + "#" + strconv.Itoa(gen)
		at = vs.now().UTC()
		err := Insert(ctx, vs.claims, "claim version", versionClaim{ID: id, At: at})
		if err == nil {
			return append(held, id), at, nil
		}
		if !errors.Is(err, problem.Conflict) {
			return held, at, err
		}
		old, err := FindByID[versionClaim](ctx, vs.claims, "read version claim", id)
		switch {
		case errors.Is(err, problem.NotFound):
			// Released just now: the change it made is saved, so this one
			// read a version that is gone.
			return held, at, errLostRace
		case err != nil:
			return held, at, err
		case at.Sub(old.At) < claimGrace:
			return held, at, errLostRace
		}
		held = append(held, id)
	}
	return held, at, errLostRace
}

// release deletes claims after the write, with its own deadline so that a
// cancelled request still cleans up. A claim left behind is harmless: its
// version is gone once the write is saved, and a failed write's claim is
// stepped over after claimGrace.
func (vs *Versions) release(ids []string) {
	ctx, cancel := context.WithTimeout(context.Background(), OpTimeout)
	defer cancel()
	for _, id := range ids {
		_, _ = DeleteByID(ctx, vs.claims, "release version claim", id)
	}
}
