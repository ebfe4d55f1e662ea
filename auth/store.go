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
	versions *mongodb.Versions
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
		versions: mongodb.NewVersions(db),
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

// userErr says which key a write of a user found taken: besides the ID,
// which the store chooses, the one unique key is the email.
func userErr(err error) error {
	if errors.Is(err, problem.Conflict) {
		return problem.Wrap(problem.Conflict, err, "a user with this email already exists")
	}
	return err
}

// InsertUser inserts u. A taken email is a Conflict.
func (s *Store) InsertUser(ctx context.Context, u *User) error {
	return userErr(mongodb.Insert(ctx, s.users, "insert user", u))
}

// FindUserByID returns the user or a NotFound error.
func (s *Store) FindUserByID(ctx context.Context, id string) (*User, error) {
	return mongodb.FindByID[User](ctx, s.users, "find user", id)
}

// FindUserByEmail looks up a normalized email; NotFound when absent.
func (s *Store) FindUserByEmail(ctx context.Context, email string) (*User, error) {
	return mongodb.FindOne[User](ctx, s.users, "find user", bson.D{{Key: "email", Value: NormalizeEmail(email)}})
}

// FindUsers lists users in creation order after the ID after (exclusive).
func (s *Store) FindUsers(ctx context.Context, after string, limit int) ([]User, error) {
	filter := bson.D{}
	if after != "" {
		filter = bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}}
	}
	return mongodb.FindAll[User](ctx, s.users, "find users", filter,
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
}

// CountUsers counts all users.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	return mongodb.Count(ctx, s.users, "count users", bson.D{})
}

// CountActiveAdmins counts admins who are not disabled.
func (s *Store) CountActiveAdmins(ctx context.Context) (int64, error) {
	return mongodb.Count(ctx, s.users, "count admins", bson.D{{Key: "role", Value: Admin}, {Key: "disabled", Value: false}})
}

// ReplaceUser stores u, read at version prev, as the user's next version
// (mongodb.Versions). Errors: NotFound, Conflict (email taken),
// PreconditionFailed (another change of prev was saved first).
func (s *Store) ReplaceUser(ctx context.Context, u *User, prev int64) error {
	u.Version = prev + 1
	return s.versions.Write(ctx, s.users, u.ID, prev, func(ctx context.Context) error {
		found, err := mongodb.ReplaceByID(ctx, s.users, "replace user", u.ID, u)
		if err == nil && !found {
			return problem.New(problem.NotFound, "")
		}
		return userErr(err)
	})
}

// DeleteUser removes the user, read at version prev. Errors: NotFound,
// PreconditionFailed.
func (s *Store) DeleteUser(ctx context.Context, id string, prev int64) error {
	return s.versions.Write(ctx, s.users, id, prev, func(ctx context.Context) error {
		found, err := mongodb.DeleteByID(ctx, s.users, "delete user", id)
		if err == nil && !found {
			return problem.New(problem.NotFound, "")
		}
		return err
	})
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
	return mongodb.Insert(ctx, s.families, "insert refresh family", f)
}

func (s *Store) findFamilyByID(ctx context.Context, id string) (*refreshFamily, error) {
	return mongodb.FindByID[refreshFamily](ctx, s.families, "find refresh family", id)
}

func (s *Store) updateFamilyRevoked(ctx context.Context, id string) error {
	_, err := mongodb.UpdateByID(ctx, s.families, "revoke refresh family", id,
		bson.D{{Key: "$set", Value: bson.D{{Key: "revoked", Value: true}}}})
	return err
}

func (s *Store) insertRefresh(ctx context.Context, t *refreshToken) error {
	return mongodb.Insert(ctx, s.refresh, "insert refresh token", t)
}

func (s *Store) findRefreshByID(ctx context.Context, id string) (*refreshToken, error) {
	return mongodb.FindByID[refreshToken](ctx, s.refresh, "find refresh token", id)
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

// updateRefreshUsed records when a token was rotated, for reuse detection
// and cleanup.
func (s *Store) updateRefreshUsed(ctx context.Context, id string, now time.Time) error {
	_, err := mongodb.UpdateByID(ctx, s.refresh, "mark refresh token used", id,
		bson.D{{Key: "$set", Value: bson.D{{Key: "usedAt", Value: now}}}})
	return err
}

// deleteExpired removes refresh tokens and families past their expiry,
// and stale sign-in attempts (there are no TTL indexes on the embedded
// engine).
func (s *Store) deleteExpired(ctx context.Context, now time.Time) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	past := bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$lt", Value: now}}}}
	n1, err := mongodb.DeleteMany(ctx, s.refresh, "delete expired refresh tokens", past)
	if err != nil {
		return 0, err
	}
	n2, err := mongodb.DeleteMany(ctx, s.families, "delete expired refresh families", past)
	if err != nil {
		return 0, err
	}
	if err := s.deleteStaleAttempts(ctx, now); err != nil {
		return 0, err
	}
	return n1 + n2, nil
}
