package cms

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/problem"
)

// sizedTimeout bounds a write of a document of about n bytes: the embedded
// engine needs around a quarter second per MiB, and a 2 MiB article with
// its revision copies is several MiB.
func sizedTimeout(n int) time.Duration {
	return mongodb.OpTimeout + time.Duration(n>>20)*2*time.Second
}

// articleSize estimates an article document's size from its bulk.
func articleSize(a *Article) int {
	if a == nil {
		return 0
	}
	n := len(a.Body) + len(a.BodyHTML)
	if a.Live != nil {
		n += len(a.Live.Body) + len(a.Live.BodyHTML)
	}
	return n
}

// store is the articles' persistence. It knows the driver and nothing of
// permissions; every filter is built from typed values, never from client
// JSON.
//
// Collections:
//
//	articles           one document per article, _id = article ID
//	article_revisions  _id = "<article ID>/<version>": the article as it was
//	                   at that version; inserting it is also how a change
//	                   claims that version (see Service.commit)
//	slugs              _id = slug → {articleId, current}: live and former
//	                   slugs, unique by construction
//	slug_takeovers     _id = "<slug>/<orphaned article ID>": who may take a
//	                   slug over from an article whose creation crashed
//	preview_tokens     _id = SHA-256 of a preview token
type store struct {
	// atomicGuards says the database applies a write filtered on more
	// than its _id atomically and from the _id index (MongoDB); see
	// guarded.
	atomicGuards bool

	articles  *mongo.Collection
	revisions *mongo.Collection
	slugs     *mongo.Collection
	takeovers *mongo.Collection
	previews  *mongo.Collection
}

func newStore(db *mongo.Database, atomicGuards bool) *store {
	return &store{
		atomicGuards: atomicGuards,
		articles:     db.Collection("articles"),
		revisions:    db.Collection("article_revisions"),
		slugs:        db.Collection("slugs"),
		takeovers:    db.Collection("slug_takeovers"),
		previews:     db.Collection("preview_tokens"),
	}
}

// newID returns a new article ID. ObjectIDs grow with time, so sorting by
// ID lists the newest articles first.
func newID() string { return bson.NewObjectID().Hex() }

var idPattern = regexp.MustCompile(`^[0-9a-f]{24}$`)

// ValidID reports whether s has the form of an article ID.
func ValidID(s string) bool { return idPattern.MatchString(s) }

// ensureIndexes creates the secondary indexes. The hot lookups (article by
// ID, slug, revision, preview token) are all by _id, which is what the
// embedded engine can answer without a scan; these indexes serve MongoDB.
func (s *store) ensureIndexes(ctx context.Context) error {
	idx := func(name string, keys bson.D) mongo.IndexModel {
		return mongo.IndexModel{Keys: keys, Options: options.Index().SetName(name)}
	}
	if err := mongodb.EnsureIndexes(ctx, s.articles,
		idx("status_publishAt", bson.D{{Key: "status", Value: 1}, {Key: "publishAt", Value: 1}}),
		idx("author_id", bson.D{{Key: "author.id", Value: 1}, {Key: "_id", Value: -1}}),
		idx("authorSlug_id", bson.D{{Key: "authorSlug", Value: 1}, {Key: "_id", Value: -1}}),
		idx("searchWords_id", bson.D{{Key: "searchWords", Value: 1}, {Key: "_id", Value: -1}}),
		idx("tags", bson.D{{Key: "tags", Value: 1}}),
		idx("status_publishedAt", bson.D{{Key: "status", Value: 1}, {Key: "publishedAt", Value: -1}}),
		idx("sanitizerVersion", bson.D{{Key: "sanitizerVersion", Value: 1}}),
	); err != nil {
		return err
	}
	if err := mongodb.EnsureIndexes(ctx, s.revisions,
		idx("articleId_version", bson.D{{Key: "articleId", Value: 1}, {Key: "version", Value: -1}}),
	); err != nil {
		return err
	}
	if err := mongodb.EnsureIndexes(ctx, s.slugs, idx("articleId", bson.D{{Key: "articleId", Value: 1}})); err != nil {
		return err
	}
	return mongodb.EnsureIndexes(ctx, s.previews, idx("expiresAt", bson.D{{Key: "expiresAt", Value: 1}}))
}

// fixTimes puts times read back from the database into UTC, as the API
// promises, and lists into their non-nil form.
func fixTimes(a *Article) {
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	if a.PublishAt != nil {
		t := a.PublishAt.UTC()
		a.PublishAt = &t
	}
	if a.PublishedAt != nil {
		t := a.PublishedAt.UTC()
		a.PublishedAt = &t
	}
	if a.LastTransition != nil {
		a.LastTransition.At = a.LastTransition.At.UTC()
	}
	if a.Live != nil {
		a.Live.UpdatedAt = a.Live.UpdatedAt.UTC()
	}
	if a.PublishedVersion == nil && a.Live == nil && a.Status == StatusPublished {
		// Stored before staged changes: what it holds is what readers get.
		v := a.Version
		a.PublishedVersion = &v
	}
	if a.Tags == nil {
		a.Tags = []string{}
	}
	if a.Sources == nil {
		a.Sources = []Source{}
	}
	if a.Products == nil {
		a.Products = []ProductRef{}
	}
	if a.ChangedFields == nil {
		a.ChangedFields = []string{}
	}
}

// InsertArticle stores a new article. Conflict means the ID exists.
func (s *store) InsertArticle(ctx context.Context, a *Article) error {
	ctx, cancel := context.WithTimeout(ctx, sizedTimeout(articleSize(a)))
	defer cancel()
	return mongodb.Insert(ctx, s.articles, "insert article", a)
}

// FindArticleByID returns the article or a NotFound error.
func (s *store) FindArticleByID(ctx context.Context, id string) (*Article, error) {
	if !idPattern.MatchString(id) {
		return nil, problem.New(problem.NotFound, "")
	}
	// Twice the bulk: a published article may hold its live copy too.
	ctx, cancel := context.WithTimeout(ctx, sizedTimeout(2*(MaxBody+MaxBodyHTML)))
	defer cancel()
	a, err := mongodb.FindByID[Article](ctx, s.articles, "find article", id)
	if err != nil {
		return nil, err
	}
	fixTimes(a)
	return a, nil
}

// guarded is the filter of a write to the document with this _id that
// is only right while guard still holds. The claim every such write
// follows is what arbitrates it (Service.commit, the slug takeover); the
// guard is a second line against a writer that stalled past its claim's
// grace. MongoDB checks it atomically from the _id index, so it is kept
// there. The embedded engine would read the whole collection for it and
// check it non-atomically anyway (a read, then a write), so there the
// filter is the _id alone, which that engine looks up directly: the cost
// of every change then stays independent of how many articles there are.
func (s *store) guarded(id string, guard bson.E) bson.D {
	if s.atomicGuards {
		return bson.D{{Key: "_id", Value: id}, guard}
	}
	return bson.D{{Key: "_id", Value: id}}
}

// ReplaceArticle writes a over the stored version expect. It reports
// whether the article was found (at that version, where the database can
// check it: see guarded). Only the holder of the claim on version expect
// calls it (see Service.commit), within the claim's grace.
func (s *store) ReplaceArticle(ctx context.Context, a *Article, expect int64) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, sizedTimeout(articleSize(a)))
	defer cancel()
	res, err := s.articles.ReplaceOne(ctx, s.guarded(a.ID, bson.E{Key: "version", Value: expect}), a)
	if err != nil {
		return false, mongodb.Err("replace article", err)
	}
	return res.MatchedCount == 1, nil
}

// ArticleFilter selects articles for a list. Zero fields do not filter.
type ArticleFilter struct {
	Status     Status
	AuthorID   string
	AuthorSlug string
	Tag        string
	// Words are folded query words; each must be one of the article's
	// search words or, as search.MatchesPrefix says, begin one.
	Words []string
	// Before is the cursor: only articles with a smaller ID.
	Before string
	Limit  int
}

// FindDueArticles returns up to limit scheduled articles, and published
// ones with scheduled changes, whose time has come.
func (s *store) FindDueArticles(ctx context.Context, now time.Time, limit int) ([]*Article, error) {
	due := bson.D{{Key: "$lte", Value: now}}
	return s.findArticlesWhere(ctx, "find due articles", bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "status", Value: string(StatusScheduled)}, {Key: "publishAt", Value: due}},
		// Articles the scheduler published before staged changes existed
		// kept their publishAt; hasUnpublishedChanges leaves them out.
		bson.D{{Key: "status", Value: string(StatusPublished)}, {Key: "publishAt", Value: due},
			{Key: "hasUnpublishedChanges", Value: true}},
	}}}, options.Find().SetLimit(int64(limit)))
}

// FindPublishedArticlesByProduct returns up to limit published articles
// that attach the product code, in their draft or in the version readers
// get (live).
func (s *store) FindPublishedArticlesByProduct(ctx context.Context, code string, limit int) ([]*Article, error) {
	return s.findArticlesWhere(ctx, "find articles using a product", bson.D{
		{Key: "status", Value: StatusPublished},
		{Key: "$or", Value: bson.A{
			bson.D{{Key: "products.code", Value: code}},
			bson.D{{Key: "live.products.code", Value: code}},
		}},
	}, options.Find().SetLimit(int64(limit)))
}

// FindArticleIDs pages through article IDs in ascending order after
// after; olderThan > 0 keeps only articles sanitized with an older policy.
func (s *store) FindArticleIDs(ctx context.Context, after string, olderThan, limit int) ([]string, error) {
	filter := bson.D{}
	if after != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}})
	}
	if olderThan > 0 {
		older := bson.D{{Key: "$lt", Value: olderThan}}
		// The live copy of a published article is served too.
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "sanitizerVersion", Value: older}},
			bson.D{{Key: "live.sanitizerVersion", Value: older}},
		}})
	}
	docs, err := mongodb.FindAll[struct {
		ID string `bson:"_id"`
	}](ctx, s.articles, "find article ids", filter, options.Find().
		SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)).
		SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	return ids, nil
}

// findArticlesWhere is every query for a list of articles: the articles
// filter selects, in the order and the shape opts give, times fixed.
func (s *store) findArticlesWhere(ctx context.Context, op string, filter bson.D, opts *options.FindOptionsBuilder) ([]*Article, error) {
	out, err := mongodb.FindAll[*Article](ctx, s.articles, op, filter, opts)
	if err != nil {
		return nil, err
	}
	for _, a := range out {
		fixTimes(a)
	}
	return out, nil
}

// Revision is an article as it was at one version, with who made that
// version, when, and which fields it changed. Next is set only while the
// change that replaces this version is being written: it is what lets an
// interrupted change be finished by whoever finds it.
type Revision struct {
	ID            string    `json:"-" bson:"_id"`
	ArticleID     string    `json:"articleId" bson:"articleId"`
	Version       int64     `json:"version" bson:"version"`
	By            Person    `json:"by" bson:"by"`
	At            time.Time `json:"at" bson:"at"`
	ChangedFields []string  `json:"changedFields" bson:"changedFields"`
	// Published is whether this version was what readers got when it was
	// replaced: false for a draft, a staged change or a scheduled article
	// not yet due. Revisions written before staged changes say false.
	Published bool      `json:"published" bson:"published"`
	Article   *Article  `json:"article,omitempty" bson:"article,omitempty"`
	Next      *Article  `json:"-" bson:"next,omitempty"`
	ClaimedAt time.Time `json:"-" bson:"claimedAt"`
}

func revisionID(articleID string, version int64) string {
	return fmt.Sprintf("%s/%d", articleID, version)
}

// InsertRevision stores r. Conflict means the version is already claimed
// by another change.
func (s *store) InsertRevision(ctx context.Context, r *Revision) error {
	ctx, cancel := context.WithTimeout(ctx, sizedTimeout(articleSize(r.Article)+articleSize(r.Next)))
	defer cancel()
	return mongodb.Insert(ctx, s.revisions, "insert revision", r)
}

func fixRevision(r *Revision) {
	r.At, r.ClaimedAt = r.At.UTC(), r.ClaimedAt.UTC()
	if r.ChangedFields == nil {
		r.ChangedFields = []string{}
	}
	if r.Article != nil {
		fixTimes(r.Article)
	}
	if r.Next != nil {
		fixTimes(r.Next)
	}
}

// FindRevisionByID returns the revision holding version, or NotFound.
func (s *store) FindRevisionByID(ctx context.Context, articleID string, version int64) (*Revision, error) {
	// A revision may hold two versions of a 2 MiB article, the next one
	// with its live copy.
	ctx, cancel := context.WithTimeout(ctx, sizedTimeout(3*(MaxBody+MaxBodyHTML)))
	defer cancel()
	r, err := mongodb.FindByID[Revision](ctx, s.revisions, "find revision", revisionID(articleID, version))
	if err != nil {
		return nil, err
	}
	fixRevision(r)
	return r, nil
}

// FindRevisions lists an article's revisions below version, newest first,
// without their article copies.
func (s *store) FindRevisions(ctx context.Context, articleID string, below int64, limit int) ([]*Revision, error) {
	out, err := mongodb.FindAll[*Revision](ctx, s.revisions, "find revisions",
		bson.D{{Key: "articleId", Value: articleID}, {Key: "version", Value: bson.D{{Key: "$lt", Value: below}}}},
		options.Find().SetSort(bson.D{{Key: "version", Value: -1}}).SetLimit(int64(limit)).
			SetProjection(bson.D{{Key: "article", Value: 0}, {Key: "next", Value: 0}}))
	if err != nil {
		return nil, err
	}
	for _, r := range out {
		fixRevision(r)
	}
	return out, nil
}

// UpdateRevisionClearNext drops the copy of the next version once that version
// is written, halving what a revision costs.
func (s *store) UpdateRevisionClearNext(ctx context.Context, articleID string, version int64, size int) error {
	ctx, cancel := context.WithTimeout(ctx, sizedTimeout(size))
	defer cancel()
	_, err := mongodb.UpdateByID(ctx, s.revisions, "clear revision", revisionID(articleID, version),
		bson.D{{Key: "$unset", Value: bson.D{{Key: "next", Value: ""}}}})
	return err
}

// DeleteRevision removes one revision; a missing one is not an error.
func (s *store) DeleteRevision(ctx context.Context, articleID string, version int64) error {
	_, err := mongodb.DeleteByID(ctx, s.revisions, "delete revision", revisionID(articleID, version))
	return err
}
