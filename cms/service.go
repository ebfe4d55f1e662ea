package cms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/changefeed"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/media"
)

// MaxRevisions is how many previous versions an article keeps.
const MaxRevisions = 100

const (
	// claimGrace is how long a claimed version may stay unwritten before
	// another writer treats the claimant as crashed and finishes its
	// change. A live writer needs two database calls of at most mongodb.OpTimeout.
	claimGrace = 30 * time.Second
	// orphanGrace is how long a slug reserved for an article that does
	// not exist is left alone before another article may take it: a create
	// in progress holds such a reservation for a moment.
	orphanGrace = 2 * time.Minute
	// maxSlugTries bounds the -2, -3, ... suffixes tried for a derived
	// slug before the article ID is used to make it unique.
	maxSlugTries = 20
)

// Options configure a Service. The zero value works.
type Options struct {
	// Now is the clock; nil means time.Now. Tests move it.
	Now    func() time.Time
	Logger *slog.Logger
	// RewriteLink is the pipeline's link hook; nil with Affiliate set
	// means the affiliate tagging rule.
	RewriteLink LinkRewriter
	// Affiliate, when set, checks product attachments and tags Amazon
	// links.
	Affiliate *affiliate.Service
	// Changes, when set, is the articles' change feed: every change
	// readers can see is published on it, for the other instances' content
	// APIs. Nil (tests of the authoring side alone) announces nothing.
	Changes *changefeed.Feed
	// SchedulerInterval is how often RunScheduler looks for due articles;
	// 0 means one second.
	SchedulerInterval time.Duration
	// FindUser looks a user up by ID, for authorId (the auth store's
	// FindUserByID): NotFound when there is none. Nil knows no users, so
	// only the author an article already has can be named.
	FindUser func(ctx context.Context, id string) (*auth.User, error)
	// AtomicGuards says the database checks a write's filter beyond its
	// _id atomically and from the _id index, as MongoDB does (not
	// FerretDB: mongodb.IsFerretDB). Writes then also name the version
	// they replace; without it they filter on the _id alone, so that they
	// cost the same however many articles there are.
	AtomicGuards bool
	// Media, when set, is the media library a cover's mediaId must name.
	Media *media.Service
}

// Service is the authoring side of articles: every change goes through it,
// and it decides who may make it.
//
// The database offers no transactions, and the embedded engine applies a
// conditional update as a read followed by a write, so two racing updates
// can both "match". The one write both engines arbitrate atomically is an
// insert into a unique _id. So a change from version v claims v by
// inserting the revision that keeps version v (_id "<id>/v"); exactly one
// change can, and only it writes version v+1. The claim also carries the
// new version, so if the writer dies between the two writes, the next
// writer to find the claim finishes the change (see finishInterrupted).
type Service struct {
	store    *store
	pipeline *Pipeline
	aff      *affiliate.Service
	feed     *changefeed.Feed
	now      func() time.Time
	log      *slog.Logger
	interval time.Duration
	findUser func(ctx context.Context, id string) (*auth.User, error)
	media    *media.Service // nil: covers' mediaId are not checked
	// maxRevisions is MaxRevisions; tests lower it to check the bound
	// without writing a hundred versions.
	maxRevisions int64

	// failpoint, set only by tests, is called between the writes of a
	// multi-document change; an error stops the change there, as a crash
	// of the process would.
	failpoint func(step string) error

	// changes tells readers of articles about every committed change (see
	// OnChange).
	changes changeHooks

	// list is the authoring list in memory (listing.go), which listPoller
	// keeps current with other instances' changes.
	list       *listing
	listPoller *changefeed.Poller
}

// New returns the service over db.
func New(db *mongo.Database, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.SchedulerInterval <= 0 {
		o.SchedulerInterval = time.Second
	}
	if o.Affiliate != nil && o.RewriteLink == nil {
		o.RewriteLink = affiliateRewriter(o.Affiliate)
	}
	s := &Service{
		store:    newStore(db, o.AtomicGuards),
		aff:      o.Affiliate,
		feed:     o.Changes,
		pipeline: NewPipeline(o.RewriteLink),
		now:      o.Now,
		log:      o.Logger.With("component", "cms"),
		interval: o.SchedulerInterval,
		findUser: o.FindUser,
		media:    o.Media,
		list:     &listing{},

		maxRevisions: MaxRevisions,
	}
	if o.Changes != nil {
		s.listPoller = o.Changes.NewPoller(s.applyListBatch)
	}
	return s
}

// EnsureIndexes creates the indexes the service relies on; safe at every
// start.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	return s.store.ensureIndexes(ctx)
}

// Pipeline is the HTML pipeline every write goes through.
func (s *Service) Pipeline() *Pipeline { return s.pipeline }

// clock is the current time as stored: UTC, in the millisecond precision
// the database keeps, so a value reads back exactly as it was written.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

func (s *Service) fail(step string) error {
	if s.failpoint == nil {
		return nil
	}
	return s.failpoint(step)
}

func person(p *auth.Principal) Person { return Person{ID: p.UserID, Name: p.Name} }

func notFound() error { return problem.New(problem.NotFound, "no article with this ID") }

// stale is the 412 of an If-Match naming version sent while the article
// is at version current.
func stale(sent, current int64) error {
	return problem.New(problem.PreconditionFailed,
		`If-Match names version %d but the article is at version %d (ETag "%d"); reload it and apply your change again`,
		sent, current, current)
}

// lostRace is the 412 of a change that read version v but lost the claim
// on it to another change saved at the same moment.
func lostRace(v int64) error {
	return problem.New(problem.PreconditionFailed,
		"another change to version %d was saved first; reload the article and apply your change again", v)
}

// maxUserID bounds an authorId before it is looked up; user IDs are 24
// hexadecimal digits.
const maxUserID = 64

// assignAuthor resolves authorID, the author a create or a patch asks for.
// cur is the author the article has (the caller, on create) and a the
// article (nil on create). Naming cur again is no change and needs no
// right; anyone else needs ActionAssignAuthor, checked before the user is
// looked up so that callers without it cannot probe for user IDs. An
// unknown or disabled user is added to f, so that one answer names every
// bad field.
func (s *Service) assignAuthor(ctx context.Context, p *auth.Principal, a *Article, cur Person, authorID string, f *problem.Fields) (Person, error) {
	if authorID == cur.ID {
		return cur, nil
	}
	if err := mayField(p, ActionAssignAuthor, a, "authorId"); err != nil {
		return cur, err
	}
	if authorID == "" || len(authorID) > maxUserID || s.findUser == nil {
		f.Add("authorId", "no user with this ID")
		return cur, nil
	}
	u, err := s.findUser(ctx, authorID)
	switch {
	case errors.Is(err, problem.NotFound):
		f.Add("authorId", "no user with this ID")
		return cur, nil
	case err != nil:
		return cur, fmt.Errorf("find author %s: %w", authorID, err)
	case u.Disabled:
		f.Add("authorId", "the user is disabled; name an active user")
		return cur, nil
	}
	return Person{ID: u.ID, Name: u.Name}, nil
}

// withFields adds the field errors f to err, the Invalid error of a
// Validate or nil, so that one answer names every bad field. Any other
// error wins.
// checkCover adds a field error when c's cover names a media item the
// library does not hold. An unchanged cover (cur's) is not checked again:
// an item deleted with force leaves its articles editable.
func (s *Service) checkCover(c, cur *Content, f *problem.Fields) {
	img := c.CoverImage
	if s.media == nil || img == nil || img.MediaID == "" || !ValidID(img.MediaID) {
		return
	}
	if cur != nil && cur.CoverImage != nil && cur.CoverImage.MediaID == img.MediaID {
		return
	}
	if _, ok := s.media.Find(img.MediaID); !ok {
		f.Add("coverImage.mediaId", "no media item with this ID")
	}
}

func withFields(err error, f problem.Fields) error {
	var pe *problem.Error
	switch {
	case len(f) == 0:
		return err
	case err == nil:
		return f.Err()
	case errors.As(err, &pe) && pe.Kind == problem.Invalid:
		pe.Fields = append(pe.Fields, f...)
		return pe
	default:
		return err
	}
}

func slugTaken() error {
	return &problem.Error{Kind: problem.Conflict, Detail: "the slug is already used by another article",
		Fields: []problem.FieldError{{Field: "slug", Message: "already used"}}}
}

// load finds an article the caller may read. Articles the caller may not
// read are NotFound, exactly like missing ones, so IDs do not leak (see
// may).
func (s *Service) load(ctx context.Context, p *auth.Principal, id string) (*Article, error) {
	a, err := s.store.FindArticleByID(ctx, id)
	if errors.Is(err, problem.NotFound) {
		return nil, notFound()
	}
	if err != nil {
		return nil, fmt.Errorf("load article %s: %w", id, err)
	}
	if err := may(p, ActionRead, a); err != nil {
		return nil, err
	}
	return a, nil
}

// Get returns an article the caller may see.
func (s *Service) Get(ctx context.Context, p *auth.Principal, id string) (*Article, error) {
	return s.load(ctx, p, id)
}

// derive fills the fields computed from the content. render re-runs the
// pipeline; without it the stored HTML is measured again for the excerpt.
func (s *Service) derive(ctx context.Context, a *Article, render bool) error {
	paragraph := ""
	if render {
		r, err := s.pipeline.Render(ctx, a.Body, a.BodyFormat)
		if err != nil {
			return fmt.Errorf("render article body: %w", err)
		}
		if len(r.HTML) > MaxBodyHTML {
			var f problem.Fields
			f.Add("body", "renders to more than %d bytes of HTML", MaxBodyHTML)
			return f.Err()
		}
		a.BodyHTML, a.SanitizerVersion = r.HTML, r.SanitizerVersion
		a.WordCount, a.ReadingTimeMinutes = r.WordCount, r.ReadingTimeMinutes
		a.HasAffiliateLinks, a.BodyLinks = r.HasAffiliateLinks, r.Links
		paragraph = r.Excerpt
	} else {
		_, paragraph = measure(a.BodyHTML)
	}
	a.Excerpt = a.Summary
	if a.Excerpt == "" {
		a.Excerpt = paragraph
	}
	a.deriveKeys()
	return nil
}

// Create stores a new draft owned by the caller. A slug left empty is
// derived from the title (with -2, -3, ... when taken); an explicit slug
// that is taken is a Conflict.
func (s *Service) Create(ctx context.Context, p *auth.Principal, c Content) (*Article, error) {
	return s.CreateFor(ctx, p, c, nil)
}

// CreateFor is Create with authorID, when not nil, naming the author
// (see assignAuthor): Forbidden for a caller who may not name someone
// else, Invalid for an unknown or disabled user.
func (s *Service) CreateFor(ctx context.Context, p *auth.Principal, c Content, authorID *string) (*Article, error) {
	if err := may(p, ActionCreate, nil); err != nil {
		return nil, err
	}
	author := person(p)
	var f problem.Fields
	if authorID != nil {
		var err error
		if author, err = s.assignAuthor(ctx, p, nil, author, *authorID, &f); err != nil {
			return nil, err
		}
	}
	return s.create(ctx, p, c, author, f)
}

// create stores the new draft c by p for author; f holds the field errors
// found so far.
func (s *Service) create(ctx context.Context, p *auth.Principal, c Content, author Person, f problem.Fields) (*Article, error) {
	by := person(p)
	now := s.clock()
	c.Normalize()
	s.checkCover(&c, nil, &f)
	if err := withFields(c.Validate(now), f); err != nil {
		return nil, err
	}
	if err := s.checkProducts(c.Products); err != nil {
		return nil, err
	}
	a := &Article{
		ID: newID(), Content: c, Status: StatusDraft, Version: 1,
		Author: author, CreatedAt: now, UpdatedAt: now, UpdatedBy: by, ChangedFields: []string{},
	}
	if err := s.derive(ctx, a, true); err != nil {
		return nil, err
	}
	ctx = context.WithoutCancel(ctx) // a client hanging up must not stop the write half-way
	// The slug is reserved before the article exists: a crash in between
	// leaves an unused reservation (taken over after orphanGrace), never
	// an article without a slug or a slug with two articles.
	if err := s.claimFirstSlug(ctx, a, c.Slug != "", now); err != nil {
		return nil, err
	}
	if err := s.fail("create: slug claimed"); err != nil {
		return nil, err
	}
	if err := s.store.InsertArticle(ctx, a); err != nil {
		return nil, fmt.Errorf("create article: %w", err)
	}
	s.created(ctx, a)
	return a, nil
}

func (s *Service) claimFirstSlug(ctx context.Context, a *Article, explicit bool, now time.Time) error {
	if explicit {
		return s.claimSlug(ctx, a.Slug, a.ID, true, now)
	}
	base := Slugify(a.Title)
	if base == "" {
		base = fallbackSlug(a.ID)
	}
	for n := 1; n <= maxSlugTries; n++ {
		cand := slugCandidate(base, n)
		err := s.claimSlug(ctx, cand, a.ID, true, now)
		if err == nil {
			a.Slug = cand
			return nil
		}
		if !errors.Is(err, problem.Conflict) {
			return err
		}
	}
	// So many alike titles: the article ID makes this one unique.
	cand := slugCandidate(base[:min(len(base), MaxSlug-len(a.ID)-1)], 1) + "-" + a.ID
	if err := s.claimSlug(ctx, cand, a.ID, true, now); err != nil {
		return err
	}
	a.Slug = cand
	return nil
}

// claimSlug reserves slug for articleID. A slug the article already holds
// (a former one coming back) is fine. A slug held by an article that was
// never created, because its creation crashed after the reservation, is
// taken over once orphanGrace has passed; InsertTakeover makes sure only one
// claimant does. Anything else is a Conflict.
func (s *Service) claimSlug(ctx context.Context, slug, articleID string, current bool, now time.Time) error {
	rec := &SlugRecord{Slug: slug, ArticleID: articleID, Current: current, CreatedAt: now}
	err := s.store.InsertSlug(ctx, rec)
	if !errors.Is(err, problem.Conflict) {
		if err != nil {
			return fmt.Errorf("reserve slug %q: %w", slug, err)
		}
		return nil
	}
	held, err := s.store.FindSlugByID(ctx, slug)
	if err != nil {
		return fmt.Errorf("find slug %q: %w", slug, err)
	}
	if held.ArticleID == articleID {
		return nil
	}
	if now.Sub(held.CreatedAt) < orphanGrace {
		return slugTaken()
	}
	if _, err := s.store.FindArticleByID(ctx, held.ArticleID); err == nil {
		return slugTaken()
	} else if !errors.Is(err, problem.NotFound) {
		return fmt.Errorf("check owner of slug %q: %w", slug, err)
	}
	if err := s.store.InsertTakeover(ctx, slug, held.ArticleID, now); err != nil {
		if errors.Is(err, problem.Conflict) {
			return slugTaken()
		}
		return fmt.Errorf("take over slug %q: %w", slug, err)
	}
	if err := s.store.ReplaceSlug(ctx, rec, held.ArticleID); err != nil {
		return fmt.Errorf("take over slug %q: %w", slug, err)
	}
	s.log.Warn("took over a slug reserved by an article whose creation was interrupted",
		"slug", slug, "orphan", held.ArticleID, "article", articleID)
	return nil
}

// Update applies a merge patch to the article's content and, with
// authorId, its author (see assignAuthor). On a published article it
// changes the draft only (see stage). ifMatch is the version the
// client last saw: a different current version is PreconditionFailed, and
// so is losing a race for the next version. A patch that changes nothing
// returns the article unchanged.
func (s *Service) Update(ctx context.Context, p *auth.Principal, id string, ifMatch int64, u *ArticleUpdate) (*Article, error) {
	if err := u.Check(); err != nil {
		return nil, err
	}
	cur, err := s.load(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if err := may(p, contentAction(ActionEdit, cur), cur); err != nil {
		return nil, err
	}
	if cur.Version != ifMatch {
		return nil, stale(ifMatch, cur.Version)
	}
	next := cur.Clone()
	var f problem.Fields
	if u.AuthorID.Set && !u.AuthorID.Null { // null is refused by Check
		if next.Author, err = s.assignAuthor(ctx, p, cur, cur.Author, u.AuthorID.Value, &f); err != nil {
			return nil, err
		}
	}
	u.Apply(&next.Content)
	next.Content.Normalize()
	s.checkCover(&next.Content, &cur.Content, &f)
	if err := withFields(next.Content.Validate(s.clock()), f); err != nil {
		return nil, err
	}
	changed := next.Content.Changed(&cur.Content)
	if next.Author != cur.Author {
		changed = append(changed, "author")
	}
	if len(changed) == 0 {
		return cur, nil
	}
	if slices.Contains(changed, "products") {
		if err := s.checkProducts(next.Products); err != nil {
			return nil, err
		}
	}
	render := slices.Contains(changed, "body") || slices.Contains(changed, "bodyFormat") ||
		cur.SanitizerVersion != SanitizerVersion
	if err := s.derive(ctx, next, render); err != nil {
		return nil, err
	}
	next.stage(cur)
	return s.commit(ctx, cur, next, person(p), changed)
}

// commit writes next as the version after prev. The order of the writes
// is what keeps the data consistent without transactions:
//
//  1. a new slug is reserved for the article (a crash leaves a spare
//     reservation pointing at the article: a harmless redirect);
//  2. version prev is claimed by inserting its revision, which also holds
//     next (only one change can; a crash leaves a claim that the next
//     writer finishes after claimGrace);
//  3. the article is replaced by next;
//  4. tidying: the claim's copy of next is dropped, the slug mirrors are
//     updated and the oldest revision beyond MaxRevisions is deleted.
//
// At no point can two articles own one slug or an article lack one.
func (s *Service) commit(ctx context.Context, prev, next *Article, by Person, changed []string) (*Article, error) {
	ctx = context.WithoutCancel(ctx) // a client hanging up must not stop the write half-way
	now := s.clock()
	next.Version = prev.Version + 1
	next.UpdatedAt, next.UpdatedBy, next.ChangedFields = now, by, changed
	next.settle()
	if next.Slug != prev.Slug {
		if err := s.claimSlug(ctx, next.Slug, next.ID, false, now); err != nil {
			return nil, err
		}
		if err := s.fail("commit: slug claimed"); err != nil {
			return nil, err
		}
	}
	rev := &Revision{
		ID: revisionID(prev.ID, prev.Version), ArticleID: prev.ID, Version: prev.Version,
		By: prev.UpdatedBy, At: prev.UpdatedAt, ChangedFields: prev.ChangedFields,
		Published: prev.Status == StatusPublished && prev.Live == nil,
		Article:   prev.forRevision(), Next: next, ClaimedAt: now,
	}
	if err := s.store.InsertRevision(ctx, rev); err != nil {
		if !errors.Is(err, problem.Conflict) {
			return nil, fmt.Errorf("claim version %d of article %s: %w", prev.Version, prev.ID, err)
		}
		if err := s.finishInterrupted(ctx, prev.ID, prev.Version, now); err != nil {
			s.log.Error("finish an interrupted change", "article", prev.ID, "err", err)
		}
		return nil, lostRace(prev.Version)
	}
	if err := s.fail("commit: version claimed"); err != nil {
		return nil, err
	}
	if err := s.writeClaimed(ctx, prev, next); err != nil {
		return nil, err
	}
	s.changed(ctx, prev, next)
	return next, nil
}

// writeClaimed performs steps 3 and 4 of commit for the holder of the
// claim on prev (or whoever finishes its change).
func (s *Service) writeClaimed(ctx context.Context, prev, next *Article) error {
	ok, err := s.store.ReplaceArticle(ctx, next, prev.Version)
	if err != nil {
		return fmt.Errorf("write version %d of article %s: %w", next.Version, next.ID, err)
	}
	if !ok {
		// Only possible when another writer finished this change for us
		// after claimGrace; then the article is at next or later.
		cur, err := s.store.FindArticleByID(ctx, next.ID)
		if err != nil {
			return fmt.Errorf("recheck article %s: %w", next.ID, err)
		}
		if cur.Version < next.Version {
			return fmt.Errorf("article %s is at version %d, not %d, after claiming it", next.ID, cur.Version, prev.Version)
		}
	}
	if err := s.fail("commit: article written"); err != nil {
		return err
	}
	// What follows only tidies; a failure leaves a harmless leftover, so
	// it is logged rather than failing a change that is already made.
	if err := s.store.UpdateRevisionClearNext(ctx, prev.ID, prev.Version, articleSize(prev)+articleSize(next)); err != nil {
		s.log.Warn("drop the copy of a written version", "article", prev.ID, "err", err)
	}
	if next.Slug != prev.Slug {
		if err := s.store.UpdateSlugCurrent(ctx, next.Slug, next.ID, true); err != nil {
			s.log.Warn("mark slug current", "slug", next.Slug, "err", err)
		}
		if err := s.store.UpdateSlugCurrent(ctx, prev.Slug, prev.ID, false); err != nil {
			s.log.Warn("mark slug former", "slug", prev.Slug, "err", err)
		}
	}
	if old := prev.Version - s.maxRevisions; old >= 1 {
		if err := s.store.DeleteRevision(ctx, prev.ID, old); err != nil {
			s.log.Warn("delete old revision", "article", prev.ID, "version", old, "err", err)
		}
	}
	return nil
}

// finishInterrupted completes the change that claimed version v of an
// article if its writer has evidently died: the claim still carries the
// next version and is older than claimGrace. The change is replayed
// exactly as it was claimed, so finishing it twice is harmless.
//
// It announces the change (changed), which is what lets the articles'
// change feed do without a periodic full reload. Still not covered: a
// writer that died after writing the article (writeClaimed) but before
// changed. The article is then already at the next version, so the next
// edit claims that one and never comes here; other instances serve the
// old copy until the article changes again or they restart (their first
// step is a full reload).
func (s *Service) finishInterrupted(ctx context.Context, articleID string, v int64, now time.Time) error {
	rev, err := s.store.FindRevisionByID(ctx, articleID, v)
	if errors.Is(err, problem.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if rev.Next == nil || rev.Article == nil || now.Sub(rev.ClaimedAt) < claimGrace {
		return nil
	}
	s.log.Warn("finishing an interrupted change", "article", articleID, "version", rev.Next.Version)
	if err := s.writeClaimed(ctx, rev.Article, rev.Next); err != nil {
		return err
	}
	s.changed(ctx, rev.Article, rev.Next)
	return nil
}

// Transition performs a workflow action, if the permission table lets the
// caller (may). ifMatch, when not 0, must be the current version. The
// dates only matter to publish; a backdated one (PublishedAt) also needs
// ActionBackdate. Archiving an archived article is a no-op, so DELETE can
// be repeated.
func (s *Service) Transition(ctx context.Context, p *auth.Principal, id string, act Action, ifMatch int64, d PublishDates) (*Article, error) {
	cur, err := s.load(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if err := may(p, act, cur); err != nil {
		return nil, err
	}
	if act == ActionPublish && d.PublishedAt != nil {
		if err := mayField(p, ActionBackdate, cur, "publishedAt"); err != nil {
			return nil, err
		}
	}
	if act == ActionArchive && cur.Status == StatusArchived {
		return cur, nil
	}
	if ifMatch != 0 && ifMatch != cur.Version {
		return nil, stale(ifMatch, cur.Version)
	}
	next := cur.Clone()
	if err := next.Step(act, person(p), s.clock(), d); err != nil {
		return nil, err
	}
	if act == ActionPublish {
		// Now, scheduled or staged changes alike: nothing reaches readers
		// while a compliance error remains.
		if err := s.publishable(next); err != nil {
			return nil, err
		}
	}
	return s.commit(ctx, cur, next, person(p), workflowChanges(cur, next))
}

// workflowChanges names the workflow fields a transition changed.
func workflowChanges(prev, next *Article) []string {
	changed := []string{"status"}
	if !equalTime(prev.PublishAt, next.PublishAt) {
		changed = append(changed, "publishAt")
	}
	if !equalTime(prev.PublishedAt, next.PublishedAt) {
		changed = append(changed, "publishedAt")
	}
	return changed
}

func equalTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// Revisions lists the previous versions of an article the caller may see,
// newest first, without their content: at most limit of those below
// version below (0 = from the newest). The article comes with them, read
// once for both.
func (s *Service) Revisions(ctx context.Context, p *auth.Principal, id string, below int64, limit int) (*Article, []*Revision, error) {
	a, err := s.load(ctx, p, id)
	if err != nil {
		return nil, nil, err
	}
	if below <= 0 || below > a.Version {
		below = a.Version
	}
	revs, err := s.store.FindRevisions(ctx, a.ID, below, min(limit, int(s.maxRevisions)))
	if err != nil {
		return nil, nil, fmt.Errorf("list revisions of %s: %w", id, err)
	}
	return a, revs, nil
}

// Revision returns the article as it was at version n, a previous version.
func (s *Service) Revision(ctx context.Context, p *auth.Principal, id string, n int64) (*Revision, error) {
	a, err := s.load(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return s.revision(ctx, a, n)
}

func (s *Service) revision(ctx context.Context, a *Article, n int64) (*Revision, error) {
	if n < 1 || n >= a.Version {
		return nil, problem.New(problem.NotFound, "the article has no revision %d", n)
	}
	r, err := s.store.FindRevisionByID(ctx, a.ID, n)
	if errors.Is(err, problem.NotFound) || (err == nil && r.Article == nil) {
		return nil, problem.New(problem.NotFound, "the article has no revision %d", n)
	}
	if err != nil {
		return nil, fmt.Errorf("find revision %d of %s: %w", n, a.ID, err)
	}
	r.Next = nil
	return r, nil
}

// Restore makes the content of revision n the article's next version
// (on a published article, its draft: see stage). The slug stays as it
// is, so restoring never moves a published URL; the workflow status stays
// too. Restoring content equal to the current one
// changes nothing.
func (s *Service) Restore(ctx context.Context, p *auth.Principal, id string, n, ifMatch int64) (*Article, error) {
	cur, err := s.load(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if err := may(p, contentAction(ActionRestore, cur), cur); err != nil {
		return nil, err
	}
	if ifMatch != 0 && ifMatch != cur.Version {
		return nil, stale(ifMatch, cur.Version)
	}
	rev, err := s.revision(ctx, cur, n)
	if err != nil {
		return nil, err
	}
	next := cur.Clone()
	next.Content = rev.Article.Content.clone()
	next.Slug = cur.Slug
	next.Content.Normalize()
	if err := next.Content.Validate(s.clock()); err != nil {
		return nil, err
	}
	changed := next.Content.Changed(&cur.Content)
	if len(changed) == 0 {
		return cur, nil
	}
	if err := s.derive(ctx, next, true); err != nil {
		return nil, err
	}
	next.stage(cur)
	return s.commit(ctx, cur, next, person(p), changed)
}

// ListQuery is a validated list request.
type ListQuery struct {
	Status Status
	Author AuthorRef
	Tag    string
	// Words are the folded words of q (ParseQuery).
	Words []string
	// Before is the ID of the last article of the page before (the
	// decoded cursor): the page starts after it.
	Before string
	Limit  int
}

// List returns the articles the caller may see that match q, newest
// first, and the ID the next page starts before ("" at the end). Callers
// who may not read everyone's articles (readsAll) see only their own,
// whatever author they ask for.
func (s *Service) List(ctx context.Context, p *auth.Principal, q ListQuery) ([]*Article, string, error) {
	f := ArticleFilter{
		Status: q.Status, AuthorID: q.Author.ID, AuthorSlug: q.Author.Slug, Tag: q.Tag,
		Words: q.Words, Before: q.Before, Limit: q.Limit + 1,
	}
	if !readsAll(p) {
		if q.Author.ID != "" && q.Author.ID != p.UserID {
			return []*Article{}, "", nil
		}
		f.AuthorID = p.UserID
	}
	l, err := s.articles(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("list articles: %w", err)
	}
	items := l.find(f)
	next := ""
	if len(items) > q.Limit {
		items = items[:q.Limit]
		next = items[len(items)-1].ID
	}
	return items, next, nil
}

// ArticleBySlug returns the article a slug names, whether the slug is its
// current one or a former one; the caller compares a.Slug with slug to
// decide on a redirect. Status is the caller's concern. A slug whose
// article was never created is NotFound.
func (s *Service) ArticleBySlug(ctx context.Context, slug string) (*Article, error) {
	if CheckSlug(slug) != "" {
		return nil, problem.New(problem.NotFound, "")
	}
	rec, err := s.store.FindSlugByID(ctx, slug)
	if err != nil {
		if errors.Is(err, problem.NotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("find slug %q: %w", slug, err)
	}
	a, err := s.store.FindArticleByID(ctx, rec.ArticleID)
	if err != nil && !errors.Is(err, problem.NotFound) {
		return nil, fmt.Errorf("find article of slug %q: %w", slug, err)
	}
	return a, err
}
