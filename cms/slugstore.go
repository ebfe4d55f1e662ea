package cms

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wellness/cms/internal/mongodb"
)

// SlugRecord reserves a slug for one article, forever: the current slug
// and every former one (which the content API answers with a redirect).
// The article's own slug field is the authority on which slug is current;
// Current here mirrors it for readers of the collection and is repaired
// after every slug change, so a crash between the two writes can leave it
// stale but never wrong about ownership.
type SlugRecord struct {
	Slug      string    `bson:"_id"`
	ArticleID string    `bson:"articleId"`
	Current   bool      `bson:"current"`
	CreatedAt time.Time `bson:"createdAt"`
}

// InsertSlug reserves a slug. Conflict means it is taken.
func (s *store) InsertSlug(ctx context.Context, r *SlugRecord) error {
	return mongodb.Insert(ctx, s.slugs, "insert slug", r)
}

// FindSlugByID returns the reservation of slug, or NotFound.
func (s *store) FindSlugByID(ctx context.Context, slug string) (*SlugRecord, error) {
	r, err := mongodb.FindByID[SlugRecord](ctx, s.slugs, "find slug", slug)
	if err != nil {
		return nil, err
	}
	r.CreatedAt = r.CreatedAt.UTC()
	return r, nil
}

// FindSlugsByArticle lists every slug reserved for an article.
func (s *store) FindSlugsByArticle(ctx context.Context, articleID string) ([]SlugRecord, error) {
	return mongodb.FindAll[SlugRecord](ctx, s.slugs, "find slugs", bson.D{{Key: "articleId", Value: articleID}})
}

// UpdateSlugCurrent sets the Current mirror of a slug the article owns.
// Where the database can check it atomically (guarded), the filter names
// the owner as well, so a slug another article has taken over is left
// alone; elsewhere the caller's own reservation of the slug, made before
// its change, is the guarantee.
func (s *store) UpdateSlugCurrent(ctx context.Context, slug, articleID string, current bool) error {
	ctx, cancel := mongodb.Bound(ctx)
	defer cancel()
	_, err := s.slugs.UpdateOne(ctx,
		s.guarded(slug, bson.E{Key: "articleId", Value: articleID}),
		bson.D{{Key: "$set", Value: bson.D{{Key: "current", Value: current}}}})
	if err != nil {
		return mongodb.Err("update slug", err)
	}
	return nil
}

// InsertTakeover records that the caller takes slug over from an article
// that was never created. Only one caller can: Conflict means another
// already did.
func (s *store) InsertTakeover(ctx context.Context, slug, orphanID string, now time.Time) error {
	return mongodb.Insert(ctx, s.takeovers, "claim slug takeover", bson.D{
		{Key: "_id", Value: slug + "/" + orphanID},
		{Key: "createdAt", Value: now},
	})
}

// ReplaceSlug overwrites the reservation of r.Slug held by orphanID. Only
// the winner of InsertTakeover calls it.
func (s *store) ReplaceSlug(ctx context.Context, r *SlugRecord, orphanID string) error {
	ctx, cancel := mongodb.Bound(ctx)
	defer cancel()
	_, err := s.slugs.ReplaceOne(ctx, s.guarded(r.Slug, bson.E{Key: "articleId", Value: orphanID}), r)
	if err != nil {
		return mongodb.Err("replace slug", err)
	}
	return nil
}
