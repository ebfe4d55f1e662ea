package site

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/changefeed"
	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// feedName is the change feed of the settings document; its entries carry
// feedKey.
const (
	feedName = "site"
	feedKey  = "settings"
)

// fullEvery is how often the settings are read again whatever the feed
// says: one document by _id, a cheap net for a change never announced (a
// writer that died between its write and Publish).
const fullEvery = 5 * time.Minute

// DefaultSyncInterval is how often an instance polls the settings' feed.
const DefaultSyncInterval = time.Second

// Options configure the service. PublicURL gives the defaults.
type Options struct {
	// PublicURL is CMS_PUBLIC_URL: the default url, and its host the
	// default name.
	PublicURL string
	// SyncInterval is how often other instances' changes are looked for
	// (DefaultSyncInterval).
	SyncInterval time.Duration
	Now          func() time.Time
	Logger       *slog.Logger
}

// Service keeps the site settings: in memory for every reader (Current),
// in one document for the admins who change them, and in step across
// instances through a change feed.
type Service struct {
	store    store
	defaults Settings
	opts     Options
	log      *slog.Logger
	feed     *changefeed.Feed
	poller   *changefeed.Poller

	cur      atomic.Pointer[Settings]
	reloadMu sync.Mutex // serializes reloads, so an older read never wins

	subsMu sync.Mutex
	subs   []func(context.Context, Settings)
}

// New builds the service over db. Until Start it serves the defaults.
func New(db *mongo.Database, o Options) (*Service, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.SyncInterval <= 0 {
		o.SyncInterval = DefaultSyncInterval
	}
	if o.PublicURL == "" {
		o.PublicURL = "http://localhost:8080"
	}
	log := o.Logger.With("component", "site")
	feed, err := changefeed.New(db, feedName, changefeed.Options{FullEvery: fullEvery, Now: o.Now, Logger: log})
	if err != nil {
		return nil, err
	}
	s := &Service{store: store{c: db.Collection("site_settings"), versions: mongodb.NewVersions(db)}, defaults: Defaults(o.PublicURL),
		opts: o, log: log, feed: feed}
	// One document: whatever a batch says, reading it again is the
	// cheapest answer.
	s.poller = feed.NewPoller(func(ctx context.Context, _ changefeed.Batch) error { return s.reload(ctx) })
	def := s.defaults
	s.cur.Store(&def)
	return s, nil
}

// EnsureIndexes creates the index of the settings' change feed.
func (s *Service) EnsureIndexes(ctx context.Context) error { return s.feed.EnsureIndexes(ctx) }

// Start loads the settings: the feed's first step, a full reload.
func (s *Service) Start(ctx context.Context) error {
	if _, err := s.poller.Step(ctx); err != nil {
		return fmt.Errorf("load site settings: %w", err)
	}
	return nil
}

// RunSync follows the settings' change feed until ctx ends.
func (s *Service) RunSync(ctx context.Context) { s.poller.Run(ctx, s.opts.SyncInterval) }

// OnChange registers fn to run after every reload that changed the
// settings: after a write through this instance (before the write
// returns) and when another instance's write reaches this one. fn runs
// with reloads serialized and must be quick. Register before Start.
func (s *Service) OnChange(fn func(ctx context.Context, st Settings)) {
	s.subsMu.Lock()
	defer s.subsMu.Unlock()
	s.subs = append(s.subs, fn)
}

// Current is the settings as this instance knows them, from memory.
func (s *Service) Current() Settings { return *s.cur.Load() }

// reload reads the document and, when it changed, installs it and tells
// the subscribers.
func (s *Service) reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	d, err := s.store.find(ctx)
	if err != nil {
		return err
	}
	next := d.resolve(s.defaults)
	old := s.cur.Load()
	if old.Version == next.Version && sameSettings(*old, next) {
		return nil
	}
	s.cur.Store(&next)
	s.subsMu.Lock()
	subs := s.subs
	s.subsMu.Unlock()
	for _, fn := range subs {
		fn(ctx, next)
	}
	return nil
}

func sameSettings(a, b Settings) bool {
	return a.Name == b.Name && a.Description == b.Description && a.URL == b.URL && a.Locale == b.Locale &&
		a.LogoURL == b.LogoURL && a.Publisher == b.Publisher && sameTime(a.UpdatedAt, b.UpdatedAt)
}

// may is the one rule of who manages the site settings: admins.
func may(by *auth.Principal) error {
	if !by.AtLeast(auth.Admin) {
		return problem.New(problem.Forbidden, "site settings need the %s role", auth.Admin)
	}
	return nil
}

// Get returns the stored settings (not this instance's copy, so that the
// ETag is the one a PATCH is checked against). Errors: Forbidden.
func (s *Service) Get(ctx context.Context, by *auth.Principal) (Settings, error) {
	if err := may(by); err != nil {
		return Settings{}, err
	}
	d, err := s.store.find(ctx)
	if err != nil {
		return Settings{}, err
	}
	return d.resolve(s.defaults), nil
}

// Update applies a merge patch as the next version; at is the request's
// If-Match. Other instances learn of the change through the feed; this one
// reloads before Update returns. Errors: Forbidden, Invalid,
// PreconditionFailed (at is stale, or another change was saved first).
func (s *Service) Update(ctx context.Context, by *auth.Principal, p *Patch, at web.Precondition) (Settings, error) {
	if err := may(by); err != nil {
		return Settings{}, err
	}
	d, err := s.store.find(ctx)
	if err != nil {
		return Settings{}, err
	}
	cur := d.resolve(s.defaults)
	if err := at.Check("site settings", d.Version); err != nil {
		return Settings{}, err
	}
	next, err := p.apply(cur, s.defaults)
	if err != nil {
		return Settings{}, err
	}
	stored := newDoc(next, s.defaults, d.Version+1, s.opts.Now().UTC().Truncate(time.Millisecond))
	if err := s.store.replace(ctx, stored, d.Version); err != nil {
		return Settings{}, fmt.Errorf("store site settings: %w", err)
	}
	// Stored: failures from here on are logged; the feed retries the
	// announcement, and its periodic full reload catches other instances
	// up in any case. This instance's poller skips its own entry: the
	// reload below is what applies it here.
	if err := s.feed.Publish(ctx, feedKey); err != nil {
		s.log.Error("could not announce a site settings change; the feed retries it at its next step, and other instances reload every 5 minutes", "err", err)
	}
	if err := s.reload(ctx); err != nil {
		s.log.Error("could not reload the site settings after a change", "err", err)
	}
	return stored.resolve(s.defaults), nil
}
