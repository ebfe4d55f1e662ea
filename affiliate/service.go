// Package affiliate is the part of the CMS that earns the owner money: the
// product catalogue with its Amazon links, the affiliate settings (tags
// per marketplace, disclosure text, allowed hosts), the /go/ redirect with
// its click recording, and click statistics.
//
// The redirect is the hot path. It reads an in-memory snapshot of the
// catalogue, never the database, and hands the click to a queue; every
// instance keeps its snapshot fresh by reloading after its own writes and
// by following the catalogue's change feed, which all instances share.
package affiliate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/changefeed"
	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// Options configure the service. Zero values take the defaults noted.
type Options struct {
	// PublicURL is the base of tracked links (<PublicURL>/go/{code}).
	PublicURL string
	// DataDir holds the click spill file. Empty (embedders, tests) means
	// no spill file: clicks the database cannot take wait in memory only.
	DataDir string
	// AmazonTags seed the settings on first start (CMS_AMAZON_TAGS).
	AmazonTags map[string]string
	// TrustedProxies are the CIDRs or addresses (CMS_TRUSTED_PROXIES)
	// whose country header is believed.
	TrustedProxies []string
	// CountryHeader is the header a trusted proxy puts the visitor's
	// country in; default CF-IPCountry (Cloudflare).
	CountryHeader string
	// Crawlers is the maintained crawler list (CMS_CRAWLER_LIST); nil
	// means the built-in list only.
	Crawlers *CrawlerList
	// UsedBy returns the slugs of published articles that use the product
	// code; a product in use is deleted only when forced. Nil means no
	// article uses any product.
	UsedBy func(ctx context.Context, code string) ([]string, error)
	// ArticlesOf returns every slug, current or former, of the articles
	// the user is the author of: the click statistics of callers below
	// editor are limited to them. Nil limits them to nothing (Forbidden).
	ArticlesOf func(ctx context.Context, userID string) ([]string, error)
	// ArticlePage resolves the slug in a dead /go/ link's a to the page
	// and title of the readable article it names, for the page shown to
	// browsers; SiteURL is where that page sends them otherwise. Nil
	// knows no articles, and the site is PublicURL.
	ArticlePage func(slug string) (pageURL, title string, ok bool)
	SiteURL     func() string
	// Registerer receives the click metrics; nil registers none.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ClickDB holds clicks, rollups and salts; nil means the catalogue's
	// database. Tests give it a database they can take away.
	ClickDB *mongo.Database

	// QueueSize bounds the click queue (default 10000); BatchSize the
	// clicks per insert (default 500). FlushInterval is the longest a
	// click waits in the queue (default 1 s); RetryInterval how often an
	// unreachable database is probed (default 2 s); SyncInterval how often
	// the catalogue's change feed is polled (default 1 s); WriteTimeout
	// bounds each click database call (default 5 s).
	QueueSize     int
	BatchSize     int
	FlushInterval time.Duration
	RetryInterval time.Duration
	SyncInterval  time.Duration
	WriteTimeout  time.Duration
}

// catalogueFeed is the change feed of products and settings. Its entries
// name the product codes written, or settingsKey.
const catalogueFeed = "catalogue"

// settingsKey is the feed key of a settings write; it is not a valid
// product code.
const settingsKey = "*settings"

// Service is the affiliate feature.
type Service struct {
	store   *Store
	clicks  *ClickStore
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	trusted []netip.Prefix
	salts   *saltBook

	cat      atomic.Pointer[catalogue]
	reloadMu sync.Mutex
	rec      *Recorder
	feed     *changefeed.Feed
	poller   *changefeed.Poller

	subsMu sync.Mutex
	subs   []func(context.Context, CatalogueChange)

	// bodyLinks is the content API's answer to which link an article
	// shows at a position (SetBodyLinks); nil refuses every ping.
	bodyLinks func(slug string, position int) (BodyLink, bool)
}

// New builds the service. Start must run before it serves.
func New(db *mongo.Database, o Options) (*Service, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CountryHeader == "" {
		o.CountryHeader = "CF-IPCountry"
	}
	if o.ClickDB == nil {
		o.ClickDB = db
	}
	defaults := []struct {
		v   *time.Duration
		def time.Duration
	}{{&o.FlushInterval, time.Second}, {&o.RetryInterval, 2 * time.Second}, {&o.SyncInterval, time.Second}, {&o.WriteTimeout, mongodb.OpTimeout}}
	for _, d := range defaults {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 10000
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	log := o.Logger.With("component", "affiliate")
	feed, err := changefeed.New(db, catalogueFeed, changefeed.Options{Now: o.Now, Logger: log})
	if err != nil {
		return nil, err
	}
	s := &Service{
		store:  NewStore(db),
		clicks: NewClickStore(o.ClickDB, o.WriteTimeout),
		opts:   o,
		log:    log,
		now:    o.Now,
		salts:  newSaltBook(),
		feed:   feed,
	}
	// Products are created with the articles that name them, so the
	// catalogue grows with the articles: a batch reads only the codes it
	// names, by _id, and only a Full one (start, a gap) reads them all.
	// The feed has no periodic full reload for the same reason.
	s.poller = feed.NewPoller(func(ctx context.Context, b changefeed.Batch) error {
		if b.Full {
			return s.reload(ctx, nil)
		}
		return s.reload(ctx, b.Keys)
	})
	for _, p := range o.TrustedProxies {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			a, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return nil, fmt.Errorf("CMS_TRUSTED_PROXIES: %q is neither a CIDR nor an IP address", p)
			}
			pfx = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		s.trusted = append(s.trusted, pfx.Masked())
	}
	return s, nil
}

// EnsureIndexes creates the indexes of the click collections and the
// catalogue's change feed.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	if err := s.clicks.EnsureIndexes(ctx); err != nil {
		return err
	}
	return s.feed.EnsureIndexes(ctx)
}

// CatalogueChange says what a catalogue reload changed, so that what was
// rendered from the catalogue can be redone for just that.
type CatalogueChange struct {
	// Products are the codes of the products added, removed or changed
	// in any field (archived included), sorted.
	Products []string
	// Settings reports a change of the tags, the disclosure text, the
	// allowed hosts or the link mode; the fields below say which.
	Settings bool
	// Tags are the marketplaces whose associate tag changed, sorted.
	Tags []string
	// Disclosure, Hosts and LinkMode report a change of the disclosure
	// text, the allowed hosts and the link mode.
	Disclosure, Hosts, LinkMode bool
	// Local is set when the change is this instance's own settings
	// write: the one instance that reports it further (webhooks), where
	// every instance renders again.
	Local bool
}

// OnCatalogueChange registers fn to run after every reload of this
// instance's catalogue that changed something: after a write through
// this instance (before the write returns to its caller), after another
// instance's write reached this one, or when a full reload found a change
// nobody announced. fn runs with reloads serialized, must be quick, and
// logs its own failures. The first load (Load, Start) is not reported:
// nothing was rendered from a catalogue before it. Register before
// RunSync starts and before the service serves.
func (s *Service) OnCatalogueChange(fn func(ctx context.Context, ch CatalogueChange)) {
	s.subsMu.Lock()
	defer s.subsMu.Unlock()
	s.subs = append(s.subs, fn)
}

// Load seeds the settings on first run and loads the catalogue: enough
// for tagging links and checking products (cms resanitize uses only this).
func (s *Service) Load(ctx context.Context) error {
	if err := s.seed(ctx); err != nil {
		return err
	}
	return s.reload(ctx, nil)
}

// seed stores the default settings unless settings are stored.
func (s *Service) seed(ctx context.Context) error {
	seed := DefaultSettings(s.opts.AmazonTags)
	if err := seed.Validate(); err != nil {
		return fmt.Errorf("CMS_AMAZON_TAGS: %w", describe(err))
	}
	seed.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
	seed.Version = 1
	if _, err := s.store.SeedSettings(ctx, seed); err != nil {
		return fmt.Errorf("affiliate settings: %w", err)
	}
	return nil
}

// Start loads the catalogue, fetches the visitor salts and starts the
// click writer (which first replays any clicks a previous run spilled).
// Close stops the writer. The catalogue is loaded by the change feed's
// first step, which is Full: loading it apart would make RunSync's first
// step read every product a second time.
// clickWriterBusyShare is the click writer's share of its time while
// readers are clicking (recorderOptions.BusyShare): redirects first,
// rollups catch up from the click log.
const clickWriterBusyShare = 0.25

func (s *Service) Start(ctx context.Context) error {
	if err := s.seed(ctx); err != nil {
		return err
	}
	if _, err := s.poller.Step(ctx); err != nil {
		return fmt.Errorf("load the catalogue: %w", err)
	}
	s.refreshSalts(ctx)
	spill, err := openSpill(s.opts.DataDir)
	if err != nil {
		return err
	}
	if s.opts.DataDir == "" {
		s.log.Warn("no data directory: clicks that cannot reach the database are kept in memory only")
	}
	s.rec, err = newRecorder(s.clicks, spill, recorderOptions{
		QueueSize: s.opts.QueueSize, BatchSize: s.opts.BatchSize,
		FlushInterval: s.opts.FlushInterval, RetryInterval: s.opts.RetryInterval,
		BusyShare: clickWriterBusyShare,
	}, s.opts.Registerer, s.log)
	return err
}

// describe spells out a validation error's fields, for start-up messages.
func describe(err error) error {
	var pe *problem.Error
	if !errors.As(err, &pe) || len(pe.Fields) == 0 {
		return err
	}
	parts := make([]string, len(pe.Fields))
	for i, f := range pe.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return errors.New(strings.Join(parts, "; "))
}

// Close drains the click queue; it is the server's shutdown hook, run
// after the HTTP server stopped taking redirects.
func (s *Service) Close(ctx context.Context) error {
	if s.rec == nil {
		return nil
	}
	return s.rec.Close(ctx)
}

// MaxQueueDepth is the deepest the click queue has been since start.
func (s *Service) MaxQueueDepth() int {
	if s.rec == nil {
		return 0
	}
	return s.rec.MaxQueueDepth()
}

// reload replaces the snapshot with the database's current state of the
// feed keys given (product codes, settingsKey), or of everything when
// keys is nil, and tells the subscribers what changed, if anything.
// Reloads are serialized so that an older read can never overwrite a
// newer one.
func (s *Service) reload(ctx context.Context, keys []string) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	return s.reloadLocked(ctx, false, keys)
}

// reloadLocked is reload with reloadMu held; local marks the change as
// this instance's own write (CatalogueChange.Local).
func (s *Service) reloadLocked(ctx context.Context, local bool, keys []string) error {
	old := s.cat.Load()
	var (
		c   *catalogue
		err error
	)
	if keys == nil || old == nil {
		c, err = s.readCatalogue(ctx)
	} else {
		c, err = s.readChanged(ctx, old, keys)
	}
	if err != nil {
		return err
	}
	s.warnUnredirected(c, old, keys)
	old = s.cat.Swap(c)
	if old == nil {
		return nil
	}
	ch := old.diff(c)
	if len(ch.Products) == 0 && !ch.Settings {
		return nil
	}
	ch.Local = local
	s.subsMu.Lock()
	subs := s.subs
	s.subsMu.Unlock()
	for _, fn := range subs {
		fn(ctx, ch)
	}
	return nil
}

// readCatalogue reads the settings and every product.
func (s *Service) readCatalogue(ctx context.Context) (*catalogue, error) {
	st, err := s.store.FindSettings(ctx)
	if err != nil {
		return nil, fmt.Errorf("load affiliate settings: %w", err)
	}
	ps, err := s.store.FindProducts(ctx, ProductFilter{})
	if err != nil {
		return nil, fmt.Errorf("load products: %w", err)
	}
	return buildCatalogue(ps, *st), nil
}

// readChanged builds the catalogue from old with the products keys names
// (and the settings, when settingsKey is among them) read again by _id:
// on the embedded engine, reading every product is a scan that grows
// with the articles.
func (s *Service) readChanged(ctx context.Context, old *catalogue, keys []string) (*catalogue, error) {
	st := old.settings
	products := make(map[string]Product, len(old.products))
	for code, e := range old.products {
		products[code] = e.product
	}
	for _, k := range keys {
		if k == settingsKey {
			fresh, err := s.store.FindSettings(ctx)
			if err != nil {
				return nil, fmt.Errorf("load affiliate settings: %w", err)
			}
			st = *fresh
			continue
		}
		p, err := s.store.FindProductByCode(ctx, k)
		switch {
		case errors.Is(err, problem.NotFound):
			delete(products, k)
		case err != nil:
			return nil, fmt.Errorf("load product %q: %w", k, err)
		default:
			products[k] = *p
		}
	}
	return buildCatalogue(slices.Collect(maps.Values(products)), st), nil
}

// warnUnredirected logs the active products of c that do not redirect:
// all of them after a full reload or a settings change, else only those
// keys names (the others were logged when they were loaded).
func (s *Service) warnUnredirected(c, old *catalogue, keys []string) {
	all := keys == nil || old == nil || slices.Contains(keys, settingsKey)
	for code, e := range c.products {
		if e.target == "" && !e.product.Archived && (all || slices.Contains(keys, code)) {
			s.log.Warn("product does not redirect: its target fails the current rules", "code", code, "reason", e.why)
		}
	}
}

// changed follows every catalogue or settings write, with the product
// codes it wrote (or settingsKey): other instances are told through the
// change feed, this one reloads those keys at once (its poller skips its
// own entries). The write itself has succeeded, so failures here are
// logged, not returned; the feed retries a failed announcement.
func (s *Service) changed(ctx context.Context, keys ...string) {
	if err := s.feed.Publish(ctx, keys...); err != nil {
		s.log.Error("could not announce a catalogue change; the feed retries it at its next step", "err", err)
	}
	if err := s.reload(ctx, keys); err != nil {
		s.log.Error("could not reload the catalogue after a change", "err", err)
	}
}

// RunSync keeps the snapshot in step with other instances (following the
// catalogue's change feed every SyncInterval) and the visitor salts
// current, until ctx ends. This instance's own writes do not come back
// through the feed: changed reloads them here.
func (s *Service) RunSync(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { s.poller.Run(ctx, s.opts.SyncInterval) })
	s.runSalts(ctx)
	wg.Wait()
}

// The visitor salts are fetched every saltEvery; old salts and visitor
// claims are pruned every pruneSaltsEvery.
const (
	saltEvery       = time.Minute
	pruneSaltsEvery = time.Hour
)

// runSalts keeps the visitor salts current and prunes old ones until ctx
// ends.
func (s *Service) runSalts(ctx context.Context) {
	tick := time.NewTicker(saltEvery)
	defer tick.Stop()
	var lastPrune time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		s.refreshSalts(ctx)
		if time.Since(lastPrune) > pruneSaltsEvery {
			// Yesterday's salt stays for clicks near midnight; claims stay a
			// week so that replayed clicks still find theirs.
			yesterday := dayOf(s.now().AddDate(0, 0, -1))
			if err := s.clicks.Prune(ctx, yesterday, dayOf(s.now().AddDate(0, 0, -7))); err != nil && ctx.Err() == nil {
				s.log.Warn("pruning old salts and visitor claims failed", "err", err)
			}
			s.salts.forget(yesterday)
			lastPrune = time.Now()
		}
	}
}

// refreshSalts makes sure today's and tomorrow's shared salts are in
// memory, so midnight needs no database call.
func (s *Service) refreshSalts(ctx context.Context) {
	now := s.now()
	for _, day := range []string{dayOf(now), dayOf(now.AddDate(0, 0, 1))} {
		if s.salts.has(day) {
			continue
		}
		salt, err := s.clicks.Salt(ctx, day)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("cannot fetch the visitor salt; using a local one meanwhile", "day", day, "err", err)
			}
			continue
		}
		if s.salts.set(day, salt) {
			s.log.Warn("replaced a local visitor salt with the shared one; unique counts of the day may count some visitors twice", "day", day)
		}
	}
}

// snapshot is the current catalogue.
func (s *Service) snapshot() *catalogue { return s.cat.Load() }

// TagLink is the article pipeline's link rule: for an http(s) link to an
// allowed host it returns the https link with the marketplace's associate
// tag applied (any other tag removed) and true; any other link comes back
// unchanged with false. Links through short-link hosts (amzn.to) are
// never allowed, so they come back with false; IsAmazonLink finds them.
func (s *Service) TagLink(href string) (tagged string, isAffiliate bool) {
	return s.snapshot().tagLink(href)
}

// IsAmazonLink reports whether href leads to Amazon, through a store
// domain or one of Amazon's short-link domains. Amazon forbids its links
// in email, RSS and print, so those renderings replace such links.
func IsAmazonLink(href string) bool {
	host, ok := linkHost(href)
	return ok && isAmazonHost(host)
}

// Disclosure is the disclosure text to show before the first affiliate
// link.
func (s *Service) Disclosure() string { return s.snapshot().settings.DisclosureText }

// ProductCard is what the content API shows of an attached product.
type ProductCard struct {
	Code     string `json:"code"`
	Title    string `json:"title"`
	ImageURL string `json:"imageUrl"`
	Merchant string `json:"merchant"`
}

// ProductCards expands codes, in order, to what front ends show. Unknown
// and archived products are left out: their links would not redirect.
func (s *Service) ProductCards(codes []string) []ProductCard {
	c := s.snapshot()
	out := make([]ProductCard, 0, len(codes))
	for _, code := range codes {
		e, ok := c.products[code]
		if !ok || e.product.Archived {
			continue
		}
		p := &e.product
		out = append(out, ProductCard{Code: p.Code, Title: p.Title, ImageURL: p.ImageURL, Merchant: p.Merchant})
	}
	return out
}

// UnknownProducts returns the codes, of those given, that an article may
// not attach: not in the catalogue, or archived.
func (s *Service) UnknownProducts(codes []string) []string {
	c := s.snapshot()
	var out []string
	for _, code := range codes {
		if e, ok := c.products[code]; !ok || e.product.Archived {
			out = append(out, code)
		}
	}
	return out
}

// TrackingURL is the public /go/ link of a product placed in an article.
func (s *Service) TrackingURL(code, articleSlug string) string {
	u := s.opts.PublicURL + "/go/" + url.PathEscape(code)
	if articleSlug != "" {
		u += "?a=" + url.QueryEscape(articleSlug)
	}
	return u
}

// CreateProduct validates and stores a new product. Errors: Forbidden,
// Invalid, Conflict (code taken).
func (s *Service) CreateProduct(ctx context.Context, by *auth.Principal, in ProductInput) (*Product, error) {
	if err := may(by, manageProducts); err != nil {
		return nil, err
	}
	p := in.Product()
	if err := p.Validate(s.snapshot().allowed); err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	p.CreatedAt, p.UpdatedAt, p.Version = now, now, 1
	if err := s.store.InsertProduct(ctx, p); err != nil {
		return nil, err
	}
	s.changed(ctx, p.Code)
	return p, nil
}

// Product returns one product. Errors: Forbidden, NotFound.
func (s *Service) Product(ctx context.Context, by *auth.Principal, code string) (*Product, error) {
	if err := may(by, manageProducts); err != nil {
		return nil, err
	}
	if !codePattern.MatchString(code) {
		return nil, problem.New(problem.NotFound, "no product with this code")
	}
	return s.store.FindProductByCode(ctx, code)
}

// Products lists a page of products. Errors: Forbidden.
func (s *Service) Products(ctx context.Context, by *auth.Principal, f ProductFilter) ([]Product, error) {
	if err := may(by, manageProducts); err != nil {
		return nil, err
	}
	return s.store.FindProducts(ctx, f)
}

// UpdateProduct applies a partial change to the product, at the version
// at names if it names one. Errors: Forbidden, NotFound, Invalid,
// PreconditionFailed (at is stale, or another change was saved first).
func (s *Service) UpdateProduct(ctx context.Context, by *auth.Principal, code string, at web.Precondition, u *ProductUpdate) (*Product, error) {
	p, err := s.Product(ctx, by, code)
	if err != nil {
		return nil, err
	}
	if err := at.Check("product", p.Version); err != nil {
		return nil, err
	}
	if err := u.Apply(p); err != nil {
		return nil, err
	}
	if err := p.Validate(s.snapshot().allowed); err != nil {
		return nil, err
	}
	p.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
	if err := s.store.ReplaceProduct(ctx, p, p.Version); err != nil {
		return nil, err
	}
	s.changed(ctx, p.Code)
	return p, nil
}

// DeleteProduct removes a product. While published articles use it the
// delete is a Conflict naming them, unless forced: their /go/ links would
// answer 404. Archiving is the gentler way out. at, when it names a
// version, must be the current one. Errors: Forbidden, NotFound,
// Conflict, PreconditionFailed.
func (s *Service) DeleteProduct(ctx context.Context, by *auth.Principal, code string, at web.Precondition, force bool) error {
	p, err := s.Product(ctx, by, code)
	if err != nil {
		return err
	}
	if err := at.Check("product", p.Version); err != nil {
		return err
	}
	if !force && s.opts.UsedBy != nil {
		slugs, err := s.opts.UsedBy(ctx, code)
		if err != nil {
			return fmt.Errorf("find articles using product %q: %w", code, err)
		}
		if len(slugs) > 0 {
			shown := slugs
			if len(shown) > 10 {
				shown = shown[:10]
			}
			return problem.New(problem.Conflict,
				"published articles use this product (%s%s); archive it instead, or delete with ?force=true",
				strings.Join(shown, ", "), more(len(slugs)-len(shown)))
		}
	}
	if err := s.store.DeleteProduct(ctx, code, p.Version); err != nil {
		return err
	}
	s.changed(ctx, code)
	return nil
}

func more(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf(" and %d more", n)
}

// Settings returns the current settings. Errors: Forbidden.
func (s *Service) Settings(ctx context.Context, by *auth.Principal) (*Settings, error) {
	if err := may(by, configure); err != nil {
		return nil, err
	}
	return s.store.FindSettings(ctx)
}

// UpdateSettings replaces the settings with st (PUT), at the version at
// names if it names one. Products whose target falls outside a shrunken
// allow list stop redirecting (and are logged). Errors: Forbidden,
// Invalid, PreconditionFailed (at is stale, or another change was saved
// first).
func (s *Service) UpdateSettings(ctx context.Context, by *auth.Principal, at web.Precondition, st *Settings) (*Settings, error) {
	return s.changeSettings(ctx, by, at, func(cur *Settings) error {
		*cur = Settings{Tags: st.Tags, DisclosureText: st.DisclosureText, AllowedHosts: st.AllowedHosts, LinkMode: st.LinkMode, Version: cur.Version}
		return nil
	})
}

// PatchSettings applies a merge patch to the settings (PATCH), like
// UpdateSettings otherwise.
func (s *Service) PatchSettings(ctx context.Context, by *auth.Principal, at web.Precondition, u *SettingsUpdate) (*Settings, error) {
	return s.changeSettings(ctx, by, at, u.Apply)
}

// changeSettings is every change of the settings: read the current ones,
// check at, change them, validate and store them as the next version.
func (s *Service) changeSettings(ctx context.Context, by *auth.Principal, at web.Precondition, change func(*Settings) error) (*Settings, error) {
	st, err := s.Settings(ctx, by)
	if err != nil {
		return nil, err
	}
	if err := at.Check("settings", st.Version); err != nil {
		return nil, err
	}
	if err := change(st); err != nil {
		return nil, err
	}
	if err := st.Validate(); err != nil {
		return nil, err
	}
	st.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
	// Reloads wait from the write until this instance's own reload has
	// seen it, so that it is this reload, marked Local, that reports the
	// change: otherwise a poll in between could take the difference and
	// no instance would send the webhooks of the articles it changes.
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if err := s.store.ReplaceSettings(ctx, st, st.Version); err != nil {
		return nil, err
	}
	if err := s.reloadLocked(ctx, true, []string{settingsKey}); err != nil {
		s.log.Error("could not reload the catalogue after a change", "err", err)
	}
	if err := s.feed.Publish(ctx, settingsKey); err != nil {
		s.log.Error("could not announce a catalogue change; the feed retries it at its next step", "err", err)
	}
	return st, nil
}

// ClickStats answers a stats query from the rollups. Editors and admins
// see every click; anyone else the clicks of their own articles only
// (Options.ArticlesOf): all of them, or the one article= names. Another
// author's article is NotFound, as the authoring API answers for it.
// Errors: Forbidden, NotFound.
func (s *Service) ClickStats(ctx context.Context, by *auth.Principal, q StatsQuery) (Stats, error) {
	if err := may(by, readStats); err != nil {
		return Stats{}, err
	}
	var only []string // nil: every article
	if may(by, readAllStats) != nil {
		if s.opts.ArticlesOf == nil {
			return Stats{}, may(by, readAllStats)
		}
		own, err := s.opts.ArticlesOf(ctx, by.UserID)
		if err != nil {
			return Stats{}, fmt.Errorf("find the articles of %s: %w", by.UserID, err)
		}
		if q.Article != "" && !slices.Contains(own, q.Article) {
			return Stats{}, problem.New(problem.NotFound, "none of your articles has the slug %q", q.Article)
		}
		if len(own) == 0 {
			return q.finish(nil), nil
		}
		only = own
	}
	rows, err := s.clicks.Stats(ctx, q, only)
	if err != nil {
		return Stats{}, err
	}
	return q.finish(rows), nil
}

// trustedPeer reports whether the TCP peer is one of the trusted proxies,
// the only case in which a proxy-set header is believed.
func (s *Service) trustedPeer(remote string) bool {
	if len(s.trusted) == 0 {
		return false
	}
	a, err := netip.ParseAddr(remote)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range s.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ProductChoice is a product an author may place in an article body: the
// link to write is the product's untagged page, which the article pipeline
// tags and ties back to the product.
type ProductChoice struct {
	Code  string `json:"code"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// Choices lists the active products whose code or title contains q
// (case-folded), in code order, at most limit: the editor's product
// picker. Every writer may see them, as every writer may attach them; the
// catalogue in memory answers, without the database.
func (s *Service) Choices(q string, limit int) []ProductChoice {
	active := false
	found := s.snapshot().matching(q, ProductFilter{Archived: &active, Limit: limit})
	out := make([]ProductChoice, 0, len(found))
	for _, p := range found {
		out = append(out, ProductChoice{Code: p.Code, Title: p.Title, URL: linkOf(&p)})
	}
	return out
}

// linkOf is the link an article's body gives for p: its Amazon page,
// which the pipeline ties to p by ASIN, or its URL.
func linkOf(p *Product) string {
	if p.ASIN != "" {
		return asinTarget(p.ASIN, p.Marketplace)
	}
	return p.URL
}

// ProductLink is the link the editor's product picker inserts for the
// product code (see linkOf); ok is false for a code the catalogue lacks.
func (s *Service) ProductLink(code string) (string, bool) {
	e, ok := s.snapshot().products[code]
	if !ok {
		return "", false
	}
	return linkOf(&e.product), true
}

// SearchProducts lists the products whose code or title contains q
// (case-folded), in code order after f.After, at most f.Limit (0: all),
// with f.Archived filtering as Products does: the admin list's search.
// The catalogue in memory answers, since the store has no text index and
// a scan of thousands of products per keystroke would be the embedded
// engine's worst case. Errors: Forbidden.
func (s *Service) SearchProducts(by *auth.Principal, q string, f ProductFilter) ([]Product, error) {
	if err := may(by, manageProducts); err != nil {
		return nil, err
	}
	return s.snapshot().matching(q, f), nil
}

// matching is the search of both: the products whose code or title holds
// q (case-folded), after f.After, archived or not as f.Archived says, in
// code order, at most f.Limit of them (0: all).
func (c *catalogue) matching(q string, f ProductFilter) []Product {
	q = strings.ToLower(strings.TrimSpace(q))
	var out []Product
	for _, e := range c.products {
		p := &e.product
		if p.Code <= f.After || f.Archived != nil && p.Archived != *f.Archived ||
			q != "" && !strings.Contains(p.Code, q) && !strings.Contains(strings.ToLower(p.Title), q) {
			continue
		}
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b Product) int { return strings.Compare(a.Code, b.Code) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out
}

// ProductWarnings are what the API's write answers warn of for p: a
// target that earns nothing under the current settings.
func (s *Service) ProductWarnings(p *Product) []problem.FieldError { return s.productWarnings(p) }

// Marketplaces lists the Amazon stores a product may name, for forms.
func Marketplaces() []string { return slices.Clone(marketplaces) }
