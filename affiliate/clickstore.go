package affiliate

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/problem"
)

// ClickStore keeps raw clicks, their daily rollups, the claims that make a
// click unique, the marks of clicks counted in the rollups, and the daily
// salts of visitor hashes.
//
// Every write here is idempotent or a claim by unique _id, because FerretDB
// has no transactions and applies conditional updates by reading then
// writing: inserting a document under a chosen _id is the one claim that
// is atomic on both engines. It is also the one write that stays cheap
// there: on FerretDB v1.24 (SQLite) an update, replace or delete by _id
// costs time in proportion to the collection's size (measured: 2 ms at
// 1,000 documents, 16 ms at 10,000), while an insert or a find by _id does
// not. Hence rolled marks are inserted documents rather than a flag updated
// on each click, and rollups, the one thing updated ($inc), live in one
// collection per month so each update touches a month's documents only.
type ClickStore struct {
	db       *mongo.Database
	clicks   *mongo.Collection
	rolled   *mongo.Collection
	visitors *mongo.Collection
	salts    *mongo.Collection
	ledgers  *mongo.Collection
	timeout  time.Duration
	holders  claimHolders
}

// NewClickStore uses collections of db; every call is bounded by timeout
// (0 means 5 s).
func NewClickStore(db *mongo.Database, timeout time.Duration) *ClickStore {
	if timeout <= 0 {
		timeout = mongodb.OpTimeout
	}
	return &ClickStore{
		db:       db,
		clicks:   db.Collection("clicks"),
		rolled:   db.Collection("click_rolled"),
		visitors: db.Collection("click_visitors"),
		salts:    db.Collection("click_salts"),
		ledgers:  db.Collection("click_ledgers"),
		timeout:  timeout,
	}
}

// RollupPrefix starts the names of the monthly rollup collections,
// click_rollups_YYYY_MM.
const RollupPrefix = "click_rollups_"

// rollups is the rollup collection of the month of day (YYYY-MM-DD).
func (s *ClickStore) rollups(day string) *mongo.Collection {
	return s.db.Collection(RollupPrefix + day[:4] + "_" + day[5:7])
}

// EnsureIndexes creates the indexes maintenance uses; the hot lookups are
// all by _id, and a month of rollups is small enough to scan.
func (s *ClickStore) EnsureIndexes(ctx context.Context) error {
	day := mongo.IndexModel{Keys: bson.D{{Key: "day", Value: 1}}, Options: options.Index().SetName("day")}
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
	_, err := mongodb.FindByID[rolledMark](ctx, s.rolled, "read rolled mark of click "+id, id)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, problem.NotFound):
		return false, nil
	}
	return false, err
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
//
// It inserts one claim per key it does not know the holder of: a visitor
// who clicks a link again, in the same batch or a later one, is settled
// from the first click's claim, which this store remembers (holders). So
// the repeat clicks of one reader, or of a load test from one address,
// cost no write.
func (s *ClickStore) ClaimVisitors(ctx context.Context, clicks []Click) (map[string]bool, error) {
	holder := map[string]string{} // claim key -> click that holds it
	var claims []any
	var claimers []*Click
	for i := range clicks {
		c := &clicks[i]
		if c.Bot || c.Visitor == "" {
			continue
		}
		key := visitorKey(c)
		if _, seen := holder[key]; seen {
			continue
		}
		if h, ok := s.holders.get(c.Day, key); ok {
			holder[key] = h
			continue
		}
		holder[key] = "" // claimed below
		claims = append(claims, visitorClaim{Key: key, Click: c.ID, Day: c.Day})
		claimers = append(claimers, c)
	}
	if len(claims) > 0 {
		ictx, cancel := context.WithTimeout(ctx, s.timeout)
		_, err := s.visitors.InsertMany(ictx, claims, options.InsertMany().SetOrdered(false))
		cancel()
		dups, ok := onlyDuplicates(err)
		if err != nil && !ok {
			return nil, fmt.Errorf("claim visitors: %w", err)
		}
		for i, c := range claimers {
			key := visitorKey(c)
			if !dups[i] {
				holder[key] = c.ID
				continue
			}
			fctx, cancel := context.WithTimeout(ctx, s.timeout)
			doc, err := mongodb.FindByID[visitorClaim](fctx, s.visitors, "read visitor claim", key)
			cancel()
			if err != nil {
				return nil, err
			}
			holder[key] = doc.Click
		}
	}
	unique := map[string]bool{}
	for i := range clicks {
		c := &clicks[i]
		if c.Bot || c.Visitor == "" {
			continue
		}
		key := visitorKey(c)
		h := holder[key]
		s.holders.put(c.Day, key, h)
		if h == c.ID {
			unique[c.ID] = true
		}
	}
	return unique, nil
}

// claimHolders remembers which click holds each visitor claim this store
// made or read, per day. A claim never changes once inserted (Prune
// deletes whole days), so a remembered holder is the one in the database.
// It is a cache: a day that grows past maxClaimHolders starts over.
type claimHolders struct {
	mu   sync.Mutex
	days map[string]map[string]string // day -> claim key -> click ID
}

const maxClaimHolders = 200_000

func (h *claimHolders) get(day, key string) (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	id, ok := h.days[day][key]
	return id, ok
}

func (h *claimHolders) put(day, key, id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.days == nil {
		h.days = map[string]map[string]string{}
	}
	m := h.days[day]
	if m == nil || len(m) >= maxClaimHolders {
		m = map[string]string{}
		h.days[day] = m
	}
	m[key] = id
}

// forget drops the days before keep, as Prune deletes their claims.
func (h *claimHolders) forget(keep string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for d := range h.days {
		if d < keep {
			delete(h.days, d)
		}
	}
}

// rollupKey names one rollup document: a day, a product, an article
// ("" for links without one) and the link's position in it (0 for none).
type rollupKey struct {
	Day, Product, Article string
	Position              int
}

// id is the rollup's _id. Clicks without a position keep the form rollups
// had before positions were counted, so their documents go on growing.
func (k rollupKey) id() string {
	id := k.Day + "|" + k.Product + "|" + k.Article
	if k.Position > 0 {
		id += "|" + strconv.Itoa(k.Position)
	}
	return id
}

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
	return s.applyRollups(ctx, deltas, nil)
}

// applyRollups is ApplyRollups with more fields to $set in the same update
// of every document.
func (s *ClickStore) applyRollups(ctx context.Context, deltas map[rollupKey]Counts, set bson.D) error {
	byColl := map[string][]mongo.WriteModel{}
	for k, d := range deltas {
		name := s.rollups(k.Day).Name()
		update := bson.D{
			{Key: "$inc", Value: bson.D{
				{Key: "clicks", Value: d.Clicks},
				{Key: "botClicks", Value: d.BotClicks},
				{Key: "uniqueClicks", Value: d.UniqueClicks},
			}},
			{Key: "$setOnInsert", Value: bson.D{
				{Key: "day", Value: k.Day}, {Key: "product", Value: k.Product}, {Key: "article", Value: k.Article},
				{Key: "position", Value: k.Position},
			}},
		}
		if len(set) > 0 {
			update = append(update, bson.E{Key: "$set", Value: set})
		}
		byColl[name] = append(byColl[name], mongo.NewUpdateOneModel().
			SetFilter(bson.D{{Key: "_id", Value: k.id()}}).SetUpdate(update).SetUpsert(true))
	}
	for name, models := range byColl {
		coll := s.db.Collection(name)
		for attempt := 0; len(models) > 0; attempt++ {
			bctx, cancel := context.WithTimeout(ctx, s.timeout)
			_, err := coll.BulkWrite(bctx, models, options.BulkWrite().SetOrdered(false))
			cancel()
			if err == nil {
				break
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
	}
	return nil
}

// ledger is a writer's record of the rollup increments of its latest
// batch, written before any of them is applied (see Recorder). There is
// one per writer (_id), replaced by every batch: a writer has at most one
// batch in flight.
type ledger struct {
	Writer string        `bson:"_id"`
	Seq    int64         `bson:"seq"`
	Deltas []ledgerDelta `bson:"deltas"`
	Marks  []rolledMark  `bson:"marks"`
}

type ledgerDelta struct {
	Key    rollupKey `bson:"key"`
	Counts Counts    `bson:"counts"`
}

// appliedField is the rollup field that remembers the last ledger of
// writer applied to the document. A writer is one instance's data
// directory, so the number of these fields is the number of instances.
func appliedField(writer string) string { return "applied." + writer }

// readLedger is writer's last ledger, nil when it has none.
func (s *ClickStore) readLedger(ctx context.Context, writer string) (*ledger, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	l, err := mongodb.FindByID[ledger](ctx, s.ledgers, "read click ledger", writer)
	if errors.Is(err, problem.NotFound) {
		return nil, nil
	}
	return l, err
}

// writeLedger replaces writer's ledger (one document, by _id).
func (s *ClickStore) writeLedger(ctx context.Context, l *ledger) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	_, err := s.ledgers.ReplaceOne(ctx, bson.D{{Key: "_id", Value: l.Writer}}, l, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("write click ledger %d: %w", l.Seq, err)
	}
	return nil
}

// applyLedger applies l's increments to the rollups that have not had
// them yet: each rollup document remembers, per writer, the last ledger
// applied to it, in the same update as the increment. Only the ledger's
// own writer applies it, one batch at a time, so reading that field by
// _id and then updating by _id cannot race with another application of
// the same ledger. Only a ledger being finished after a failure can have
// been applied anywhere, so only then (resumed) are the rollups read.
func (s *ClickStore) applyLedger(ctx context.Context, l *ledger, resumed bool) error {
	todo := map[rollupKey]Counts{}
	for _, d := range l.Deltas {
		if !resumed {
			c := todo[d.Key]
			c.add(d.Counts)
			todo[d.Key] = c
			continue
		}
		var doc struct {
			Applied map[string]int64 `bson:"applied"`
		}
		fctx, cancel := context.WithTimeout(ctx, s.timeout)
		err := s.rollups(d.Key.Day).FindOne(fctx, bson.D{{Key: "_id", Value: d.Key.id()}}).Decode(&doc)
		cancel()
		switch {
		case errors.Is(err, mongo.ErrNoDocuments):
		case err != nil:
			return fmt.Errorf("read click rollup %s: %w", d.Key.id(), err)
		case doc.Applied[l.Writer] >= l.Seq:
			continue
		}
		c := todo[d.Key]
		c.add(d.Counts)
		todo[d.Key] = c
	}
	return s.applyRollups(ctx, todo, bson.D{{Key: appliedField(l.Writer), Value: l.Seq}})
}

// rolledMark records that a click is counted in the rollups.
type rolledMark struct {
	ID  string `bson:"_id" json:"id"`
	Day string `bson:"day" json:"day"`
}

// MarkRolled records the clicks as counted: one inserted mark per click,
// keyed by the click's _id (see ClickStore for why not an update).
func (s *ClickStore) MarkRolled(ctx context.Context, clicks []Click) error {
	marks := make([]rolledMark, len(clicks))
	for i := range clicks {
		marks[i] = rolledMark{ID: clicks[i].ID, Day: clicks[i].Day}
	}
	return s.markRolled(ctx, marks)
}

func (s *ClickStore) markRolled(ctx context.Context, marks []rolledMark) error {
	if len(marks) == 0 {
		return nil
	}
	docs := make([]any, len(marks))
	for i := range marks {
		docs[i] = marks[i]
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	_, err := s.rolled.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if _, ok := onlyDuplicates(err); err != nil && !ok {
		return fmt.Errorf("mark clicks rolled: %w", err)
	}
	return nil
}

// saltDoc is the shared salt of one day (YYYY-MM-DD).
type saltDoc struct {
	Day  string `bson:"_id"`
	Salt []byte `bson:"salt"`
}

// Salt returns the shared salt of day, creating it if no instance has:
// insert-if-absent under the day as _id, then read what won.
func (s *ClickStore) Salt(ctx context.Context, day string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	fresh := make([]byte, 32)
	_, _ = rand.Read(fresh)
	err := mongodb.Insert(ctx, s.salts, "create salt for "+day, saltDoc{Day: day, Salt: fresh})
	if err != nil && !errors.Is(err, problem.Conflict) {
		return nil, err
	}
	doc, err := mongodb.FindByID[saltDoc](ctx, s.salts, "read salt for "+day, day)
	if err != nil {
		return nil, err
	}
	if len(doc.Salt) < 16 {
		return nil, fmt.Errorf("salt for %s is too short", day)
	}
	return doc.Salt, nil
}

// Prune deletes the salts of days before saltsBefore, so old visitor
// hashes can no longer be linked to an address by anyone, and the
// unique-visitor claims of days before claimsBefore. Raw clicks, rolled
// marks and rollups are kept.
func (s *ClickStore) Prune(ctx context.Context, saltsBefore, claimsBefore string) error {
	ctx, cancel := context.WithTimeout(ctx, 4*s.timeout)
	defer cancel()
	if _, err := s.salts.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$lt", Value: saltsBefore}}}}); err != nil {
		return fmt.Errorf("delete old salts: %w", err)
	}
	s.holders.forget(claimsBefore)
	if _, err := s.visitors.DeleteMany(ctx, bson.D{{Key: "day", Value: bson.D{{Key: "$lt", Value: claimsBefore}}}}); err != nil {
		return fmt.Errorf("delete old visitor claims: %w", err)
	}
	return nil
}

// Stats sums the rollups the query selects, grouped by its field; only,
// when not nil, limits them to the clicks of those article slugs. It reads
// only rollups, so its cost follows days x products x articles, not the
// number of clicks, and uses $match, $group and $sum alone, which both
// engines run. It groups once per counter: FerretDB v1.24 returns 0 for
// every $sum after the first in one $group (measured), so each $group
// carries a single accumulator.
func (s *ClickStore) Stats(ctx context.Context, q StatsQuery, only []string) ([]StatsRow, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*s.timeout)
	defer cancel()
	match := bson.D{{Key: "day", Value: bson.D{{Key: "$gte", Value: q.From}, {Key: "$lte", Value: q.To}}}}
	if q.Product != "" {
		match = append(match, bson.E{Key: "product", Value: q.Product})
	}
	if q.Article != "" {
		match = append(match, bson.E{Key: "article", Value: q.Article})
	} else if only != nil {
		match = append(match, bson.E{Key: "article", Value: bson.D{{Key: "$in", Value: only}}})
	}
	rows := map[string]*StatsRow{}
	var order []string
	for _, month := range months(q.From, q.To) {
		coll := s.rollups(month)
		for _, counter := range []string{"clicks", "botClicks", "uniqueClicks"} {
			pipeline := mongo.Pipeline{
				{{Key: "$match", Value: match}},
				{{Key: "$group", Value: bson.D{
					{Key: "_id", Value: "$" + q.GroupBy},
					{Key: "n", Value: bson.D{{Key: "$sum", Value: "$" + counter}}},
				}}},
			}
			cur, err := coll.Aggregate(ctx, pipeline)
			if err != nil {
				return nil, fmt.Errorf("aggregate click rollups: %w", err)
			}
			var docs []struct {
				Key bson.RawValue `bson:"_id"`
				N   int64         `bson:"n"`
			}
			if err := cur.All(ctx, &docs); err != nil {
				return nil, fmt.Errorf("read click rollups: %w", err)
			}
			for _, d := range docs {
				key := groupKey(d.Key)
				r := rows[key]
				if r == nil {
					r = &StatsRow{Key: key}
					rows[key] = r
					order = append(order, key)
				}
				switch counter {
				case "clicks":
					r.Clicks += d.N
				case "botClicks":
					r.BotClicks += d.N
				default:
					r.UniqueClicks += d.N
				}
			}
		}
	}
	out := make([]StatsRow, len(order))
	for i, k := range order {
		out[i] = *rows[k]
	}
	return out, nil
}

// groupKey is a group's key as a row shows it: strings as they are,
// positions in decimal, and "" for rollups without the field (clicks that
// named no article, or no position, and rollups older than positions).
func groupKey(v bson.RawValue) string {
	if s, ok := v.StringValueOK(); ok {
		return s
	}
	if n, ok := v.AsInt64OK(); ok && n > 0 {
		return strconv.FormatInt(n, 10)
	}
	return ""
}

// months returns the first day of every month from..to touch.
func months(from, to string) []string {
	start, err1 := time.Parse(dayLayout, from[:7]+"-01")
	end, err2 := time.Parse(dayLayout, to)
	if err1 != nil || err2 != nil {
		return nil
	}
	var out []string
	for m := start; !m.After(end); m = m.AddDate(0, 1, 0) {
		out = append(out, m.Format(dayLayout))
	}
	return out
}
