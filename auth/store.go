package auth

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/problem"
)

// Store keeps users, refresh tokens and sign-in attempts.
type Store struct {
	users    *mongo.Collection
	refresh  *mongo.Collection
	families *mongo.Collection
	attempts *mongo.Collection
	// claimLocks queues this instance's sign-in attempt claims per key.
	claimLocks keyLocks
}

// NewStore uses collections of db.
func NewStore(db *mongo.Database) *Store {
	return &Store{
		users:    db.Collection("users"),
		refresh:  db.Collection("refresh_tokens"),
		families: db.Collection("refresh_families"),
		attempts: db.Collection("login_attempts"),
	}
}

// EnsureIndexes creates the indexes this package relies on. It is safe to
// run at every start.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	if err := mongodb.EnsureIndexes(ctx, s.users, mongo.IndexModel{
		Keys:    bson.D{{Key: "email", Value: 1}},
		Options: options.Index().SetUnique(true).SetName("email_unique"),
	}); err != nil {
		return err
	}
	return mongodb.EnsureIndexes(ctx, s.refresh,
		mongo.IndexModel{Keys: bson.D{{Key: "family", Value: 1}}, Options: options.Index().SetName("family")},
		// One child per token: inserting the child is how a rotation claims
		// its parent, atomically on both engines.
		mongo.IndexModel{Keys: bson.D{{Key: "parent", Value: 1}}, Options: options.Index().SetUnique(true).SetName("parent_unique")},
		mongo.IndexModel{Keys: bson.D{{Key: "expiresAt", Value: 1}}, Options: options.Index().SetName("expiresAt")},
	)
}

// userErr is mongodb.Err for writes of a user, where the one unique key
// besides the ID is the email.
func userErr(op string, err error) error {
	if mongo.IsDuplicateKeyError(err) {
		return problem.Wrap(problem.Conflict, err, "a user with this email already exists")
	}
	return mongodb.Err(op, err)
}

// CreateUser inserts u. A taken email is a Conflict.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	ctx, cancel := context.WithTimeout(ctx, mongodb.OpTimeout)
	defer cancel()
	if _, err := s.users.InsertOne(ctx, u); err != nil {
		return userErr("insert user", err)
	}
	return nil
}

// FindUserByID returns the user or a NotFound error.
func (s *Store) FindUserByID(ctx context.Context, id string) (*User, error) {
	return s.findUser(ctx, bson.D{{Key: "_id", Value: id}})
}

// FindUserByEmail looks up a normalized email; NotFound when absent.
func (s *Store) FindUserByEmail(ctx context.Context, email string) (*User, error) {
	return s.findUser(ctx, bson.D{{Key: "email", Value: NormalizeEmail(email)}})
}

func (s *Store) findUser(ctx context.Context, filter bson.D) (*User, error) {
	ctx, cancel := context.WithTimeout(ctx, mongodb.OpTimeout)
	defer cancel()
	var u User
	if err := s.users.FindOne(ctx, filter).Decode(&u); err != nil {
		return nil, mongodb.Err("find user", err)
	}
	return &u, nil
}

// FindUsers lists users in creation order after the ID after (exclusive).
func (s *Store) FindUsers(ctx context.Context, after string, limit int) ([]User, error) {
	ctx, cancel := context.WithTimeout(ctx, mongodb.OpTimeout)
	defer cancel()
	filter := bson.D{}
	if after != "" {
		filter = bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}}
	}
	cur, err := s.users.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, mongodb.Err("find users", err)
	}
	var out []User
	if err := cur.All(ctx, &out); err != nil {
		return nil, mongodb.Err("read users", err)
	}
	return out, nil
}

// CountUsers counts all users.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, mongodb.OpTimeout)
	defer cancel()
	n, err := s.users.CountDocuments(ctx, bson.D{})
	if err != nil {
		return 0, mongodb.Err("count users", err)
	}
	return n, nil
}

// CountActiveAdmins counts admins who are not disabled.
func (s *Store) CountActiveAdmins(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, mongodb.OpTimeout)
	defer cancel()
	n, err := s.users.CountDocuments(ctx, bson.D{{Key: "role", Value: Admin}, {Key: "disabled", Value: false}})
	if err != nil {
		return 0, mongodb.Err("count admins", err)
	}
	return n, nil
}

// ReplaceUser stores u in place of the user with its ID.
func (s *Store) ReplaceUser(ctx context.Context, u *User) error {
	ctx, cancel := context.WithTimeout(ctx, mongodb.OpTimeout)
	defer cancel()
	res, err := s.users.ReplaceOne(ctx, bson.D{{Key: "_id", Value: u.ID}}, u)
	if err != nil {
		return userErr("replace user", err)
	}
	if res.MatchedCount == 0 {
		return problem.New(problem.NotFound, "")
	}
	return nil
}

// DeleteUser removes the user.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, mongodb.OpTimeout)
	defer cancel()
	res, err := s.users.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return mongodb.Err("delete user", err)
	}
	if res.DeletedCount == 0 {
		return problem.New(problem.NotFound, "")
	}
	return nil
}

// refreshToken is one issued refresh token; only its SHA-256 is stored.
type refreshToken struct {
	ID     string `bson:"_id"` // hex SHA-256 of the token
	Family string `bson:"family"`
	// Parent is the token this one was rotated from, or "login:<family>"
	// for the first token of a login. It is unique.
	Parent    string     `bson:"parent"`
	UserID    string     `bson:"userId"`
	CreatedAt time.Time  `bson:"createdAt"`
	ExpiresAt time.Time  `bson:"expiresAt"`
	UsedAt    *time.Time `bson:"usedAt,omitempty"`
}

// refreshFamily is one login: every refresh token rotated from it shares
// the family, and revoking the family ends them all, even ones issued by a
// rotation racing with the revocation.
type refreshFamily struct {
	ID     string `bson:"_id"`
	UserID string `bson:"userId"`
	// SessionVersion is the user's when the login began; a password
	// change or disable bumps the user's, which ends this login.
	SessionVersion int       `bson:"sessionVersion"`
	CreatedAt      time.Time `bson:"createdAt"`
	ExpiresAt      time.Time `bson:"expiresAt"` // absolute end of the login
	Revoked        bool      `bson:"revoked"`
}

func (s *Store) insertFamily(ctx context.Context, f *refreshFamily) error {
	ctx, cancel := context.WithTimeout(ctx, mongodb.OpTimeout)
	defer cancel()
	if _, err := s.families.InsertOne(ctx, f); err != nil {
		return mongodb.Err("insert refresh family", err)
	}
	return nil
}

func (s *Store) findFamily(ctx context.Context, id string) (*refreshFamily, error) {
	ctx, cancel := context.WithTimeout(ctx, mongodb.OpTimeout)
	defer cancel()
	var f refreshFamily
	if err := s.families.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&f); err != nil {
		return nil, mongodb.Err("find refresh family", err)
	}
	return &f, nil
}

func (s *Store) revokeFamily(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, mongodb.OpTimeout)
	defer cancel()
	if _, err := s.families.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "revoked", Value: true}}}}); err != nil {
		return mongodb.Err("revoke refresh family", err)
	}
	return nil
}

func (s *Store) insertRefresh(ctx context.Context, t *refreshToken) error {
	ctx, cancel := context.WithTimeout(ctx, mongodb.OpTimeout)
	defer cancel()
	if _, err := s.refresh.InsertOne(ctx, t); err != nil {
		return mongodb.Err("insert refresh token", err)
	}
	return nil
}

func (s *Store) findRefresh(ctx context.Context, id string) (*refreshToken, error) {
	ctx, cancel := context.WithTimeout(ctx, mongodb.OpTimeout)
	defer cancel()
	var t refreshToken
	if err := s.refresh.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&t); err != nil {
		return nil, mongodb.Err("find refresh token", err)
	}
	return &t, nil
}

// claimRefresh inserts child, whose unique Parent claims the parent
// token. It reports false when another rotation claimed it first. (A
// conditional update cannot do this: FerretDB reads and writes it in two
// steps, so two racing updates can both match.)
func (s *Store) claimRefresh(ctx context.Context, child *refreshToken) (bool, error) {
	err := s.insertRefresh(ctx, child)
	if errors.Is(err, problem.Conflict) {
		return false, nil
	}
	return err == nil, err
}

// markRefreshUsed records when a token was rotated, for reuse detection
// and cleanup.
func (s *Store) markRefreshUsed(ctx context.Context, id string, now time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, mongodb.OpTimeout)
	defer cancel()
	_, err := s.refresh.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "usedAt", Value: now}}}})
	if err != nil {
		return mongodb.Err("mark refresh token used", err)
	}
	return nil
}

// deleteExpired removes refresh tokens and families past their expiry,
// and stale sign-in attempts (there are no TTL indexes on the embedded
// engine).
func (s *Store) deleteExpired(ctx context.Context, now time.Time) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	past := bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$lt", Value: now}}}}
	r1, err := s.refresh.DeleteMany(ctx, past)
	if err != nil {
		return 0, mongodb.Err("delete expired refresh tokens", err)
	}
	r2, err := s.families.DeleteMany(ctx, past)
	if err != nil {
		return 0, mongodb.Err("delete expired refresh families", err)
	}
	if err := s.deleteStaleAttempts(ctx, now); err != nil {
		return 0, err
	}
	return r1.DeletedCount + r2.DeletedCount, nil
}
