package auth

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/wellness/cms/internal/problem"
)

// Login throttling. Failures are counted per account and per client
// address in the database, so that several instances share the count.
// After the free attempts every further failure doubles the wait, up to
// maxLockout; a quiet throttleWindow forgets the count.
const (
	throttleWindow   = time.Hour
	maxLockout       = 15 * time.Minute
	freeAccountFails = 5
	freeAddressFails = 20
)

type throttleDoc struct {
	ID          string    `bson:"_id"`
	Failures    int       `bson:"failures"`
	LastFailure time.Time `bson:"lastFailure"`
}

// lockout is how long after the last failure the next attempt must wait.
func lockout(failures, free int) time.Duration {
	excess := failures - free
	if excess <= 0 {
		return 0
	}
	if excess > 10 {
		return maxLockout
	}
	return min(time.Second<<(excess-1), maxLockout)
}

func accountKey(email string) string { return "acct:" + NormalizeEmail(email) }
func addressKey(ip string) string    { return "ip:" + ip }

// checkThrottle returns a TooManyRequests error with the wait when either
// key is locked out.
func (s *Store) checkThrottle(ctx context.Context, now time.Time, email, ip string) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	cur, err := s.throttles.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{accountKey(email), addressKey(ip)}}}}})
	if err != nil {
		return storeErr("read login counters", err)
	}
	var docs []throttleDoc
	if err := cur.All(ctx, &docs); err != nil {
		return storeErr("read login counters", err)
	}
	var wait time.Duration
	for _, d := range docs {
		if now.Sub(d.LastFailure) > throttleWindow {
			continue
		}
		free := freeAccountFails
		if d.ID == addressKey(ip) {
			free = freeAddressFails
		}
		if until := d.LastFailure.Add(lockout(d.Failures, free)); until.After(now) {
			wait = max(wait, until.Sub(now))
		}
	}
	if wait > 0 {
		return &problem.Error{Kind: problem.TooManyRequests, RetryAfter: wait,
			Detail: "too many failed sign-in attempts; wait before trying again"}
	}
	return nil
}

// recordFailure counts a failed login for both keys.
func (s *Store) recordFailure(ctx context.Context, now time.Time, email, ip string) error {
	for _, key := range []string{accountKey(email), addressKey(ip)} {
		if err := s.bumpCounter(ctx, now, key); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) bumpCounter(ctx context.Context, now time.Time, key string) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	// A recent counter is incremented atomically; a stale or missing one
	// starts again at 1.
	res, err := s.throttles.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: key}, {Key: "lastFailure", Value: bson.D{{Key: "$gte", Value: now.Add(-throttleWindow)}}}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "failures", Value: 1}}}, {Key: "$set", Value: bson.D{{Key: "lastFailure", Value: now}}}})
	if err != nil {
		return storeErr("count login failure", err)
	}
	if res.MatchedCount == 1 {
		return nil
	}
	_, err = s.throttles.ReplaceOne(ctx, bson.D{{Key: "_id", Value: key}},
		throttleDoc{ID: key, Failures: 1, LastFailure: now}, options.Replace().SetUpsert(true))
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return storeErr("count login failure", err)
	}
	return nil
}

// clearAccountFailures forgets an account's failures after a good login.
// The address counter stays: one good login must not unlock a guesser.
func (s *Store) clearAccountFailures(ctx context.Context, email string) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	_, err := s.throttles.DeleteOne(ctx, bson.D{{Key: "_id", Value: accountKey(email)}})
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return storeErr("clear login failures", err)
	}
	return nil
}
