package affiliate

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/wellness/cms/internal/mongodb"
)

// ClickStore keeps raw clicks, their daily rollups, the claims that make a
// click unique, and the daily salts of visitor hashes.
//
// Every write here is idempotent or a claim by unique _id, because FerretDB
// has no transactions and applies conditional updates by reading then
// writing: inserting a document under a chosen _id is the one claim that
// is atomic on both engines.
type ClickStore struct {
	db       *mongo.Database
	clicks   *mongo.Collection
	rollups  *mongo.Collection
	visitors *mongo.Collection
	salts    *mongo.Collection
	timeout  time.Duration
}

// NewClickStore uses collections of db; every call is bounded by timeout
// (0 means 5 s).
func NewClickStore(db *mongo.Database, timeout time.Duration) *ClickStore {
	if timeout <= 0 {
		timeout = opTimeout
	}
	return &ClickStore{
		db:       db,
		clicks:   db.Collection("clicks"),
		rollups:  db.Collection("click_rollups"),
		visitors: db.Collection("click_visitors"),
		salts:    db.Collection("click_salts"),
		timeout:  timeout,
	}
}

// EnsureIndexes creates the indexes the stats and the clean-up use. The
// hot lookups are all by _id.
func (s *ClickStore) EnsureIndexes(ctx context.Context) error {
	day := mongo.IndexModel{Keys: bson.D{{Key: "day", Value: 1}}, Options: options.Index().SetName("day")}
	if err := mongodb.EnsureIndexes(ctx, s.rollups, day); err != nil {
		return err
	}
	if err := mongodb.EnsureIndexes(ctx, s.visitors, day); err != nil {
		return err
	}
	return mongodb.EnsureIndexes(ctx, s.clicks,
		mongo.IndexModel{Keys: bson.D{{Key: "day", Value: 1}, {Key: "product", Value: 1}}, Options: options.Index().SetName("day_product")})
}

// Ping checks that the clicks database answers.
func (s *ClickStore) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.db.Client().Ping(ctx, readpref.Primary()); err != nil {
		return fmt.Errorf("ping clicks database: %w", err)
	}
	return nil
}

// dupCode is the server's duplicate key error code.
const dupCode = 11000

// onlyDuplicates returns the indexes of the writes that failed for a
// duplicate key, or ok=false when anything else went wrong.
func onlyDuplicates(err error) (dups map[int]bool, ok bool) {
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return nil, false
	}
	dups = make(map[int]bool, len(bwe.WriteErrors))
	for _, we := range bwe.WriteErrors {
		if we.Code != dupCode {
			return nil, false
		}
		dups[we.Index] = true
	}
	return dups, true
}

// InsertClicks writes clicks unordered and returns the indexes of those
// that were stored already (a replay).
func (s *ClickStore) InsertClicks(ctx context.Context, clicks []Click) (map[int]bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	docs := make([]any, len(clicks))
	for i := range clicks {
		docs[i] = clicks[i]
	}
	_, err := s.clicks.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return nil, nil
	}
	if dups, ok := onlyDuplicates(err); ok {
		return dups, nil
	}
	return nil, fmt.Errorf("insert clicks: %w", err)
}

// IsRolled reports whether the stored click id is counted in the rollups.
func (s *ClickStore) IsRolled(ctx context.Context, id string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var doc struct {
		Rolled bool `bson:"rolled"`
	}
	err := s.clicks.FindOne(ctx, bson.D{{Key: "_id", Value: id}},
		options.FindOne().SetProjection(bson.D{{Key: "rolled", Value: 1}})).Decode(&doc)
	if err != nil {
		return false, fmt.Errorf("read click %s: %w", id, err)
	}
	return doc.Rolled, nil
}

// visitorKey is the _id of a unique-visitor claim.
func visitorKey(c *Click) string {
	return c.Day + "|" + c.Product + "|" + c.Article + "|" + c.Visitor
}

// visitorClaim records which click first brought a visitor to a (day,
// product, article). Keeping the click's ID makes the claim idempotent: a
// replayed click finds its own claim and is still counted as unique.
type visitorClaim struct {
	Key   string `bson:"_id"`
	Click string `bson:"click"`
	Day   string `bson:"day"`
}

// ClaimVisitors returns the IDs of the clicks that are the first of their
// visitor for their day, product and article. Bots never claim.
func (s *ClickStore) ClaimVisitors(ctx context.Context, clicks []Click) (map[string]bool, error) {
	var claims []any
	var owners []*Click
	for i := range clicks {
		c := &clicks[i]
		if c.Bot || c.Visitor == "" {
			continue
		}
		claims = append(claims, visitorClaim{Key: visitorKey(c), Click: c.ID, Day: c.Day})
		owners = append(owners, c)
	}
	unique := make(map[string]bool, len(owners))
	if len(claims) == 0 {
		return unique, nil
	}
	ictx, cancel := context.WithTimeout(ctx, s.timeout)
	_, err := s.visitors.InsertMany(ictx, claims, options.InsertMany().SetOrdered(false))
	cancel()
	dups, ok := onlyDuplicates(err)
	if err != nil && !ok {
		return nil, fmt.Errorf("claim visitors: %w", err)
	}
	holder := map[string]string{} // claim key -> click that holds it
	for i, c := range owners {
		if !dups[i] {
			unique[c.ID] = true
			continue
		}
		key := visitorKey(c)
		h, seen := holder[key]
		if !seen {
			var doc visitorClaim
			fctx, cancel := context.WithTimeout(ctx, s.timeout)
			err := s.visitors.FindOne(fctx, bson.D{{Key: "_id", Value: key}}).Decode(&doc)
			cancel()
			if err != nil {
				return nil, fmt.Errorf("read visitor claim: %w", err)
			}
			h = doc.Click
			holder[key] = h
		}
		if h == c.ID {
			unique[c.ID] = true
		}
	}
	return unique, nil
}

// rollupKey names one rollup document: a day, a product and an article
// ("" for links without one).
type rollupKey struct {
	Day, Product, Article string
}

func (k rollupKey) id() string { return k.Day + "|" + k.Product + "|" + k.Article }

// Counts are click counters: Clicks are people, BotClicks the rest.
type Counts struct {
	Clicks       int64 `bson:"clicks" json:"clicks"`
	BotClicks    int64 `bson:"botClicks" json:"botClicks"`
	UniqueClicks int64 `bson:"uniqueClicks" json:"uniqueClicks"`
}

func (c *Counts) add(o Counts) {
	c.Clicks += o.Clicks
	c.BotClicks += o.BotClicks
	c.UniqueClicks += o.UniqueClicks
}

// ApplyRollups adds deltas to the daily rollups with $inc upserts keyed by
// _id. On MongoDB two instances may race to create the same document; the
// loser's duplicate key is retried once, as an update of the winner's.
func (s *ClickStore) ApplyRollups(ctx context.Context, deltas map[rollupKey]Counts) error {
	models := make([]mongo.WriteModel, 0, len(deltas))
	for k, d := range deltas {
		models = append(models, mongo.NewUpdateOneModel().
			SetFilter(bson.D{{Key: "_id", Value: k.id()}}).
			SetUpdate(bson.D{
				{Key: "$inc", Value: bson.D{
					{Key: "clicks", Value: d.Clicks},
					{Key: "botClicks", Value: d.BotClicks},
					{Key: "uniqueClicks", Value: d.UniqueClicks},
				}},
				{Key: "$setOnInsert", Value: bson.D{
					{Key: "day", Value: k.Day}, {Key: "product", Value: k.Product}, {Key: "article", Value: k.Article},
				}},
			}).SetUpsert(true))
	}
	for attempt := 0; len(models) > 0; attempt++ {
		bctx, cancel := context.WithTimeout(ctx, s.timeout)
		_, err := s.rollups.BulkWrite(bctx, models, options.BulkWrite().SetOrdered(false))
		cancel()
		if err == nil {
			return nil
		}
		dups, ok := onlyDuplicates(err)
		if !ok || attempt > 0 {
			return fmt.Errorf("update click rollups: %w", err)
		}
		retry := models[:0:0]
		for i := range models {
			if dups[i] {
				retry = append(retry, models[i])
			}
		}
		models = retry
	}
	return nil
}

// MarkRolled flags the clicks as counted, one update per _id (the only
// filter FerretDB answers without scanning).
func (s *ClickStore) MarkRolled(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	models := make([]mongo.WriteModel, len(ids))
	for i, id := range ids {
		models[i] = mongo.NewUpdateOneModel().
			SetFilter(bson.D{{Key: "_id", Value: id}}).
			SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "rolled", Value: true}}}})
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if _, err := s.clicks.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
		return fmt.Errorf("mark clicks rolled: %w", err)
	}
	return nil
}

// Salt returns the shared salt of day, creating it if no instance has:
// insert-if-absent under the day as _id, then read what won.
func (s *ClickStore) Salt(ctx context.Context, day string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	fresh := make([]byte, 32)
	_, _ = rand.Read(fresh)
	_, err := s.salts.InsertOne(ctx, bson.D{{Key: "_id", Value: day}, {Key: "salt", Value: fresh}})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return nil, fmt.Errorf("create salt for %s: %w", day, err)
	}
	var doc struct {
		Salt []byte `bson:"salt"`
	}
	if err := s.salts.FindOne(ctx, bson.D{{Key: "_id", Value: day}}).Decode(&doc); err != nil {
		return nil, fmt.Errorf("read salt for %s: %w", day, err)
	}
	if len(doc.Salt) < 16 {
		return nil, fmt.Errorf("salt for %s is too short", day)
	}
	return doc.Salt, nil
}

// Prune deletes salts and unique-visitor claims of days before day. Raw
// clicks and rollups are kept.
func (s *ClickStore) Prune(ctx context.Context, day string) error {
	ctx, cancel := context.WithTimeout(ctx, 4*s.timeout)
	defer cancel()
	if _, err := s.salts.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$lt", Value: day}}}}); err != nil {
		return fmt.Errorf("delete old salts: %w", err)
	}
	if _, err := s.visitors.DeleteMany(ctx, bson.D{{Key: "day", Value: bson.D{{Key: "$lt", Value: day}}}}); err != nil {
		return fmt.Errorf("delete old visitor claims: %w", err)
	}
	return nil
}

// statsRowDoc is one $group result.
type statsRowDoc struct {
	Key    string `bson:"_id"`
	Counts `bson:",inline"`
}

// Stats sums the rollups the query selects, grouped by its field. It reads
// only rollups, so its cost follows days x products x articles, not the
// number of clicks; it uses $match, $group and $sum alone, which is what
// both engines run.
func (s *ClickStore) Stats(ctx context.Context, q StatsQuery) ([]StatsRow, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*s.timeout)
	defer cancel()
	match := bson.D{{Key: "day", Value: bson.D{{Key: "$gte", Value: q.From}, {Key: "$lte", Value: q.To}}}}
	if q.Product != "" {
		match = append(match, bson.E{Key: "product", Value: q.Product})
	}
	if q.Article != "" {
		match = append(match, bson.E{Key: "article", Value: q.Article})
	}
	pipeline := mongo.Pipeline{
		{{Key: "$match", Value: match}},
		{{Key: "$group", Value: bson.D{
			{Key: "_id", Value: "$" + q.GroupBy},
			{Key: "clicks", Value: bson.D{{Key: "$sum", Value: "$clicks"}}},
			{Key: "botClicks", Value: bson.D{{Key: "$sum", Value: "$botClicks"}}},
			{Key: "uniqueClicks", Value: bson.D{{Key: "$sum", Value: "$uniqueClicks"}}},
		}}},
	}
	cur, err := s.rollups.Aggregate(ctx, pipeline)
	if err != nil {
		return nil, fmt.Errorf("aggregate click rollups: %w", err)
	}
	var docs []statsRowDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read click rollups: %w", err)
	}
	rows := make([]StatsRow, len(docs))
	for i, d := range docs {
		rows[i] = StatsRow{Key: d.Key, Counts: d.Counts}
	}
	return rows, nil
}
