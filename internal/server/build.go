package server

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/content"
	"github.com/wellness/cms/internal/changefeed"
	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/media"
	"github.com/wellness/cms/site"
	"github.com/wellness/cms/webhook"
	"github.com/wellness/cms/wpimport"
)

// Services are the feature services of one process, each given its
// collaborators when it is built. Build is the only place that wires them,
// so the server and every command-line tool (resanitize, and the coming
// import and export) work on the same service: a tool's write renders its
// links, checks its products and reaches webhooks and readers exactly as
// the server's does.
//
// The path of a write: a handler in cms checks the request, cms's rules
// decide who may do it (cms/permissions.go), the store commits it, the
// change is published on the articles' change feed (cms/changes.go,
// internal/changefeed); on this instance the content API applies it
// before the write returns and queues its webhook event, and every other
// instance's content API picks it up at its next poll. A read of the content API is answered from its
// in-memory snapshot, never the database.
type Services struct {
	Auth      *auth.Service
	Webhooks  *webhook.Service
	Affiliate *affiliate.Service
	Articles  *cms.Service
	Site      *site.Service
	Content   *content.API
	Media     *media.Service
	Import    *wpimport.Service
}

// Build constructs and wires every feature service over db and creates
// their indexes. Nothing is loaded or started: the server calls Start,
// a tool calls Load.
func Build(ctx context.Context, db *mongodb.DB, cfg Options) (*Services, error) {
	return build(ctx, db, cfg, nil)
}

// build is Build with the registry the click metrics go to (nil: none).
func build(ctx context.Context, db *mongodb.DB, cfg Options, reg prometheus.Registerer) (*Services, error) {
	cfg = cfg.withDefaults()
	s := &Services{}
	s.Auth = auth.New(auth.NewStore(db.Database), auth.Options{Keys: cfg.Keys, Now: cfg.Now, Logger: cfg.Logger})
	s.Webhooks = webhook.New(db.Database, webhook.Options{Events: content.Events,
		AllowPrivate: cfg.WebhookAllowPrivate, Now: cfg.Now, Logger: cfg.Logger})
	aff, err := affiliate.New(db.Database, affiliate.Options{
		PublicURL: cfg.PublicURL, DataDir: cfg.DataDir, AmazonTags: cfg.AmazonTags,
		TrustedProxies: cfg.TrustedProxies, Registerer: reg, Crawlers: cfg.Crawlers,
		Logger: cfg.Logger, Now: cfg.Now,
		// A product that published articles show may not be deleted. The
		// articles are built below, before anything can delete.
		UsedBy: func(ctx context.Context, code string) ([]string, error) {
			return s.Articles.PublishedSlugsUsing(ctx, code)
		},
		// Authors' click statistics cover their own articles.
		ArticlesOf: func(ctx context.Context, userID string) ([]string, error) {
			return s.Articles.ArticleSlugsOf(ctx, userID)
		},
		// A dead /go/ link shows browsers the way back to the article,
		// from the content API's snapshot, or to the site.
		ArticlePage: func(slug string) (string, string, bool) { return s.Content.ArticlePage(slug) },
		SiteURL:     func() string { return s.Content.SiteURL() },
	})
	if err != nil {
		return nil, err
	}
	s.Affiliate = aff
	// Article changes reach the other instances' content APIs through one
	// change feed: cms publishes on it, content follows it.
	changes, err := changefeed.New(db.Database, "articles", changefeed.Options{Now: cfg.Now, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	// The site settings follow a change feed of their own, like the
	// catalogue: a write here reloads at once, others within a poll.
	if s.Site, err = site.New(db.Database, site.Options{PublicURL: cfg.PublicURL, Now: cfg.Now, Logger: cfg.Logger}); err != nil {
		return nil, err
	}
	// The media library: its files under the data directory, and in the
	// database too when instances share one (CMS_MEDIA_STORE).
	if s.Media, err = media.New(db.Database, media.Options{PublicURL: cfg.PublicURL,
		Dir: filepath.Join(cfg.DataDir, "media"), InDatabase: cfg.MediaInDatabase,
		// An image published articles show is deleted only with force.
		UsedBy: func(ctx context.Context, id string) ([]string, error) { return s.Content.MediaUsers(ctx, id) },
		Now:    cfg.Now, Logger: cfg.Logger}); err != nil {
		return nil, err
	}
	ferret, err := mongodb.IsFerretDB(ctx, db.Database)
	if err != nil {
		return nil, err
	}
	// authorId names a user: cms looks users up in the auth store.
	s.Articles = cms.New(db.Database, cms.Options{Now: cfg.Now, Logger: cfg.Logger, Affiliate: aff, Changes: changes,
		FindUser: s.Auth.Store().FindUserByID, AtomicGuards: !ferret, Media: s.Media})
	s.Content = content.New(s.Articles, content.Options{PublicURL: cfg.PublicURL,
		CacheControl: cfg.ContentCacheControl, Catalogue: aff, Site: s.Site, Media: s.Media, Changes: changes, Emit: s.Webhooks.Emit,
		Now: cfg.Now, Logger: cfg.Logger})
	// The content API follows every article change this instance commits
	// (before the write returns), every catalogue change and every change
	// of the site settings.
	s.Articles.OnChange(s.Content.ArticleChanged)
	aff.OnCatalogueChange(s.Content.CatalogueChanged)
	s.Site.OnChange(s.Content.SiteChanged)
	s.Media.OnChange(s.Content.MediaChanged)
	// A body link's ping is checked against the article as served.
	aff.SetBodyLinks(s.Content.BodyLink)
	// The WordPress import writes through the services, like an editor;
	// it fetches images under the webhooks' rule of what may be reached.
	s.Import = wpimport.New(db.Database, wpimport.Options{Articles: s.Articles, Affiliate: aff, Auth: s.Auth,
		Media: s.Media, Site: s.Site, Fetch: webhook.SafeClient(cfg.WebhookAllowPrivate), Now: cfg.Now, Logger: cfg.Logger})

	for _, ensure := range []func(context.Context) error{
		s.Auth.Store().EnsureIndexes, s.Webhooks.EnsureIndexes, aff.EnsureIndexes, s.Articles.EnsureIndexes,
		changes.EnsureIndexes, s.Site.EnsureIndexes, s.Media.EnsureIndexes,
	} {
		if err := ensure(ctx); err != nil {
			return nil, err
		}
	}
	// The collections the indexes created are tables now: give them their
	// _id lookup index before serving rather than within seconds.
	if err := db.IndexNewTables(ctx); err != nil {
		cfg.Logger.Warn("cannot index new tables for lookups by _id", "err", err)
	}
	return s, nil
}

// Load readies the services for a command-line tool: the catalogue, which
// tags links and checks products. Tools start no background loop.
func (s *Services) Load(ctx context.Context) error {
	return s.Affiliate.Load(ctx)
}

// Start readies the services for serving: the catalogue and the click
// writer, the site settings, then every readable article.
func (s *Services) Start(ctx context.Context) error {
	if err := s.Affiliate.Start(ctx); err != nil {
		return err
	}
	if err := s.Site.Start(ctx); err != nil {
		return err
	}
	// Before the articles, whose covers and images it sizes.
	if err := s.Media.Start(ctx); err != nil {
		return err
	}
	if err := s.Content.Start(ctx); err != nil {
		return fmt.Errorf("content: %w", err)
	}
	if err := s.Articles.StartListing(ctx); err != nil {
		return err
	}
	// The first loads decoded every readable article, in the embedded
	// engine and in the driver, several times the size of what they keep;
	// hand that memory back now rather than hold it as heap headroom for
	// the life of the process (at 10,000 articles, most of the RSS).
	debug.FreeOSMemory()
	return nil
}

// Loops are the background loops a serving process runs until shutdown.
func (s *Services) Loops() []func(context.Context) {
	return []func(context.Context){
		s.Auth.RunCleanup,
		s.Webhooks.Run,
		func(ctx context.Context) { s.Articles.RunScheduler(ctx, s.Content.DueHint) },
		s.Content.RunSync,
		s.Articles.RunListing,
		s.Affiliate.RunSync,
		s.Site.RunSync,
		s.Media.RunSync,
		s.Media.RunSweep,
	}
}
