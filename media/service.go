package media

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/changefeed"
	"github.com/wellness/cms/internal/imagefile"
	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// Intervals of the background work.
const (
	// DefaultSyncInterval is how often an instance looks for other
	// instances' changes to the library.
	DefaultSyncInterval = time.Second
	// sweepEvery is how often files no item records are looked for, and
	// sweepGrace how old such a file must be before it goes: far longer
	// than an upload takes between writing its files and recording them.
	sweepEvery = time.Hour
	sweepGrace = time.Hour
	// fullEvery reads the whole library again whatever the feed says,
	// for a change never announced (a writer that died in between).
	fullEvery = 10 * time.Minute
)

// Options configure the service.
type Options struct {
	// PublicURL is the base of the files' URLs.
	PublicURL string
	// Dir holds the files (CMS_DATA_DIR/media).
	Dir string
	// InDatabase also stores every file in the database, so that
	// instances sharing it serve the same media; Dir is then a cache.
	InDatabase bool
	// UsedBy lists the published articles (slugs) that show an item, which
	// may then not be deleted without force.
	UsedBy func(ctx context.Context, id string) ([]string, error)
	// MaxResizes bounds the uploads decoded and resized at once, and so
	// the memory they take (a 12-megapixel photo is about 50 MB decoded);
	// 0 means one per two cores, at least one.
	MaxResizes   int
	SyncInterval time.Duration
	Now          func() time.Time
	Logger       *slog.Logger
}

// Service is the media library.
type Service struct {
	items    *mongo.Collection
	versions *mongodb.Versions
	files    *files
	feed     *changefeed.Feed
	poller   *changefeed.Poller
	opts     Options
	log      *slog.Logger
	resizes  chan struct{}

	lib     atomic.Pointer[library]
	applyMu sync.Mutex // serializes changes of lib, so an older read never wins

	subsMu sync.Mutex
	subs   []func(ctx context.Context, ch Change)

	// failpoint, set only by tests, runs between storing an upload's
	// files and recording its item; an error stops the upload there, as a
	// crash would.
	failpoint func(step string) error
}

// library is the recorded items in memory: what serving, lists and the
// content API read, never the database.
type library struct {
	byID   map[string]*Item
	byKey  map[string]*served
	newest []*Item // newest first, then by ID
}

// served is one file as the public route serves it, with its header
// values made once.
type served struct {
	item   *Item
	file   File
	format imagefile.Format

	etag                        string
	etagH, contentType, lengthH []string
}

func newServed(it *Item, f File) *served {
	etag := `"` + f.Key + `"`
	return &served{item: it, file: f, format: f.Format, etag: etag, etagH: []string{etag},
		contentType: []string{f.Format.ContentType()}, lengthH: []string{strconv.FormatInt(f.Bytes, 10)}}
}

// New builds the service over db; it serves nothing until Start.
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
	if o.MaxResizes <= 0 {
		o.MaxResizes = max(1, runtime.GOMAXPROCS(0)/2)
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	if o.Dir == "" {
		return nil, errors.New("media: no directory for the files")
	}
	log := o.Logger.With("component", "media")
	feed, err := changefeed.New(db, "media", changefeed.Options{FullEvery: fullEvery, Now: o.Now, Logger: log})
	if err != nil {
		return nil, err
	}
	var shared *mongo.Database
	if o.InDatabase {
		shared = db
	}
	s := &Service{items: db.Collection("media"), versions: mongodb.NewVersions(db),
		files: newFiles(filepath.Clean(o.Dir), shared), feed: feed, opts: o, log: log,
		resizes: make(chan struct{}, o.MaxResizes)}
	s.poller = feed.NewPoller(s.follow)
	s.lib.Store(newLibrary(nil))
	return s, nil
}

// EnsureIndexes creates the indexes of the library's change feed; items
// are read by _id alone.
func (s *Service) EnsureIndexes(ctx context.Context) error { return s.feed.EnsureIndexes(ctx) }

// Start checks the directory and loads the library (the feed's first step
// is a full read).
func (s *Service) Start(ctx context.Context) error {
	if err := checkDir(s.files.dir); err != nil {
		return err
	}
	if _, err := s.poller.Step(ctx); err != nil {
		return fmt.Errorf("load the media library: %w", err)
	}
	return nil
}

// RunSync follows other instances' changes until ctx ends.
func (s *Service) RunSync(ctx context.Context) { s.poller.Run(ctx, s.opts.SyncInterval) }

// RunSweep removes unrecorded files a minute after start and then every
// hour, until ctx ends.
func (s *Service) RunSweep(ctx context.Context) {
	t := time.NewTimer(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := s.Sweep(ctx); err != nil {
			s.log.Warn("could not sweep unrecorded media files; the next sweep tries again", "err", err)
		} else if n > 0 {
			s.log.Info("removed media files no item records", "files", n)
		}
		t.Reset(sweepEvery)
	}
}

// Sweep removes the files that no recorded item names and that were
// written more than an hour ago: those of deleted items and of uploads
// that died before recording their item. Which files are recorded is read
// from the database, not from memory, so an item another instance just
// recorded keeps its files.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	all, err := mongodb.FindAll[Item](ctx, s.items, "list media", bson.D{})
	if err != nil {
		return 0, err
	}
	keep := map[string]bool{}
	for i := range all {
		for _, f := range all[i].Files() {
			keep[f.Key] = true
		}
	}
	return s.files.sweep(ctx, keep, s.opts.Now().Add(-sweepGrace))
}

// ReadFile returns the bytes of the file key names (File.Key), for a
// backup: from the local directory, or from the database in database
// mode when this instance has no copy yet. The bytes are checked against
// the key. Errors: NotFound when no copy is anywhere, Internal.
func (s *Service) ReadFile(ctx context.Context, key string) ([]byte, error) {
	if !validKey(key) {
		return nil, problem.New(problem.NotFound, "media: %q is not a file key", key)
	}
	return s.files.read(ctx, key)
}

// PutFile stores data as the file key names, as an upload stores it
// (locally, and in the database in database mode), for a restore: files
// first, then the items that name them, so that the sweep keeps them.
// Storing a file that is there already only touches it. Errors: Invalid
// when key is not the key of data, Internal.
func (s *Service) PutFile(ctx context.Context, key string, data []byte) error {
	if keyOf(data) != key {
		return problem.New(problem.Invalid, "media: the bytes given for file %q have the key %s", key, keyOf(data))
	}
	return s.files.put(ctx, key, data, s.opts.Now())
}

// Change names the items that changed (uploaded, edited, deleted) and
// the keys of their files, before and after.
type Change struct {
	IDs, Keys []string
}

// OnChange registers fn to run after items change here or on another
// instance. Register before Start.
func (s *Service) OnChange(fn func(ctx context.Context, ch Change)) {
	s.subsMu.Lock()
	defer s.subsMu.Unlock()
	s.subs = append(s.subs, fn)
}

// follow applies a batch of the feed: the items it names read again by
// _id, or the whole library.
func (s *Service) follow(ctx context.Context, b changefeed.Batch) error {
	if b.Full {
		all, err := mongodb.FindAll[Item](ctx, s.items, "load media", bson.D{})
		if err != nil {
			return err
		}
		// The feed reads everything again every 10 minutes: only what
		// differs from memory counts as changed, so that the content API
		// renders nothing again when nothing changed.
		changed := map[string]*Item{}
		old := s.lib.Load().byID
		stored := make(map[string]bool, len(all))
		for i := range all {
			it := &all[i]
			stored[it.ID] = true
			if old[it.ID] == nil || old[it.ID].Version != it.Version {
				changed[it.ID] = it
			}
		}
		for id := range old {
			if !stored[id] {
				changed[id] = nil
			}
		}
		if len(changed) > 0 {
			s.apply(ctx, changed)
		}
		return nil
	}
	changed := map[string]*Item{}
	for _, id := range b.Keys {
		it, err := mongodb.FindByID[Item](ctx, s.items, "read media item", id)
		if err != nil && !errors.Is(err, problem.NotFound) {
			return err
		}
		changed[id] = it // nil: deleted
	}
	s.apply(ctx, changed)
	return nil
}

// apply installs the changed items (nil: removed) and tells the
// subscribers.
func (s *Service) apply(ctx context.Context, changed map[string]*Item) {
	s.applyMu.Lock()
	old := s.lib.Load()
	byID := make(map[string]*Item, len(old.byID)+len(changed))
	for id, it := range old.byID {
		byID[id] = it
	}
	var ch Change
	for id, it := range changed {
		ch.IDs = append(ch.IDs, id)
		if prev := byID[id]; prev != nil {
			for _, f := range prev.Files() {
				ch.Keys = append(ch.Keys, f.Key)
				if it == nil {
					s.files.forget(f.Key)
				}
			}
		}
		if it != nil {
			for _, f := range it.Files() {
				ch.Keys = append(ch.Keys, f.Key)
			}
		}
		if it == nil {
			delete(byID, id)
		} else {
			byID[id] = it
		}
	}
	items := make([]*Item, 0, len(byID))
	for _, it := range byID {
		items = append(items, it)
	}
	s.lib.Store(newLibrary(items))
	s.applyMu.Unlock()
	slices.Sort(ch.IDs)
	s.subsMu.Lock()
	subs := s.subs
	s.subsMu.Unlock()
	for _, fn := range subs {
		fn(ctx, ch)
	}
}

func newLibrary(items []*Item) *library {
	l := &library{byID: make(map[string]*Item, len(items)), byKey: make(map[string]*served, len(items)*11), newest: items}
	for _, it := range items {
		l.byID[it.ID] = it
		for _, f := range it.Files() {
			l.byKey[f.Key] = newServed(it, f)
		}
	}
	slices.SortFunc(l.newest, func(a, b *Item) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return l
}

// Find returns the recorded item id, from memory.
func (s *Service) Find(id string) (*Item, bool) {
	it, ok := s.lib.Load().byID[id]
	return it, ok
}

// FindURL returns the item whose file u names (an absolute URL on the
// public base, or a path /media/...), with that file, from memory.
func (s *Service) FindURL(u string) (*Item, File, bool) {
	p, ok := strings.CutPrefix(u, s.opts.PublicURL)
	if !ok && !strings.HasPrefix(u, "/") {
		return nil, File{}, false
	}
	if !ok {
		p = u
	}
	name, ok := strings.CutPrefix(p, Path)
	if !ok {
		return nil, File{}, false
	}
	key, _, _ := strings.Cut(name, ".")
	sv, ok := s.lib.Load().byKey[key]
	if !ok {
		return nil, File{}, false
	}
	return sv.item, sv.file, true
}

// Path is where the files are served.
const Path = "/media/"

// URL is the public URL of f.
func (s *Service) URL(f File) string { return s.opts.PublicURL + Path + f.Key + f.Format.Ext() }

// Upload is one file sent to the library.
type Upload struct {
	FileName, Alt, Caption string
	Data                   []byte
}

// Create checks, resizes, stores and records an upload. Errors:
// Forbidden, Invalid, TooLarge, UnsupportedMediaType.
func (s *Service) Create(ctx context.Context, by *auth.Principal, up Upload) (*Item, error) {
	if err := may(by, actUpload, ""); err != nil {
		return nil, err
	}
	var f problem.Fields
	alt, ok := cleanText(up.Alt, MaxText)
	if !ok {
		f.Add("alt", "must be valid UTF-8 of at most %d characters", MaxText)
	}
	caption, ok := cleanText(up.Caption, MaxText)
	if !ok {
		f.Add("caption", "must be valid UTF-8 of at most %d characters", MaxText)
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	// Refuse what is not an image before waiting for a turn to resize.
	if _, err := imagefile.Inspect(up.Data); err != nil {
		return nil, imageProblem(err)
	}
	res, err := s.process(ctx, up.Data)
	if err != nil {
		return nil, err
	}
	now := s.opts.Now().UTC().Truncate(time.Millisecond)
	it := &Item{ID: bson.NewObjectID().Hex(), Version: 1, FileName: cleanFileName(up.FileName),
		Format: res.Original.Format, Width: res.Original.Width, Height: res.Original.Height,
		Alt: alt, Caption: caption, UploadedBy: by.UserID, CreatedAt: now, UpdatedAt: now}
	it.Original = s.fileOf(res.Original)
	for _, v := range res.Sizes {
		it.Sizes = append(it.Sizes, s.fileOf(v))
	}
	// Files first, the item second: see the package comment.
	for _, pair := range s.renditions(it, res) {
		if err := s.files.put(ctx, pair.file.Key, pair.data, now); err != nil {
			return nil, fmt.Errorf("store media file: %w", err)
		}
	}
	if s.failpoint != nil {
		if err := s.failpoint("files stored"); err != nil {
			return nil, err
		}
	}
	if err := mongodb.Insert(ctx, s.items, "record media item", it); err != nil {
		return nil, err
	}
	s.changed(ctx, it.ID, it)
	return it, nil
}

// process runs imagefile.Process in one of MaxResizes turns.
func (s *Service) process(ctx context.Context, data []byte) (imagefile.Result, error) {
	select {
	case s.resizes <- struct{}{}:
	case <-ctx.Done():
		return imagefile.Result{}, ctx.Err()
	}
	defer func() { <-s.resizes }()
	res, err := imagefile.Process(data)
	if err != nil {
		return imagefile.Result{}, imageProblem(err)
	}
	return res, nil
}

func (s *Service) fileOf(v imagefile.Variant) File {
	return File{Key: keyOf(v.Data), Format: v.Format, Width: v.Width, Height: v.Height, Bytes: int64(len(v.Data))}
}

type rendition struct {
	file File
	data []byte
}

func (s *Service) renditions(it *Item, res imagefile.Result) []rendition {
	out := []rendition{{it.Original, res.Original.Data}}
	for i, v := range res.Sizes {
		out = append(out, rendition{it.Sizes[i], v.Data})
	}
	return out
}

// imageProblem maps imagefile's refusals to the API's kinds, keeping their
// messages.
func imageProblem(err error) error {
	switch {
	case errors.Is(err, imagefile.ErrUnsupported):
		return problem.New(problem.UnsupportedMediaType, "%v", err)
	case errors.Is(err, imagefile.ErrTooManyPixels), errors.Is(err, imagefile.ErrTooLarge):
		return problem.New(problem.TooLarge, "%v", err)
	case errors.Is(err, imagefile.ErrCorrupt):
		var f problem.Fields
		f.Add("file", "%v", err)
		return f.Err()
	}
	return err
}

// changed announces a change of id to the other instances and applies it
// here (it nil: deleted) before the write returns.
func (s *Service) changed(ctx context.Context, id string, it *Item) {
	if err := s.feed.Publish(ctx, id); err != nil {
		s.log.Error("could not announce a media change; the feed retries it, and other instances reload the library every 10 minutes", "err", err)
	}
	s.apply(ctx, map[string]*Item{id: it})
}

// Get returns an item. Errors: Forbidden, NotFound.
func (s *Service) Get(ctx context.Context, by *auth.Principal, id string) (*Item, error) {
	if err := may(by, actRead, ""); err != nil {
		return nil, err
	}
	return s.stored(ctx, id)
}

// stored reads the item from the database: a write is checked against
// what is stored, not this instance's copy.
func (s *Service) stored(ctx context.Context, id string) (*Item, error) {
	if !ValidID(id) {
		return nil, problem.New(problem.NotFound, "no media item with this ID")
	}
	it, err := mongodb.FindByID[Item](ctx, s.items, "read media item", id)
	if errors.Is(err, problem.NotFound) {
		return nil, problem.New(problem.NotFound, "no media item with this ID")
	}
	return it, err
}

// Filter selects a page of the library, newest first.
type Filter struct {
	// Q matches file name, alt and caption, case-insensitively.
	Q     string
	Limit int
	// After is the position of the last item of the previous page.
	After *Position
}

// Position is an item's place in the list.
type Position struct {
	CreatedAt time.Time
	ID        string
}

// List returns up to f.Limit items from memory. Errors: Forbidden.
func (s *Service) List(by *auth.Principal, f Filter) ([]*Item, error) {
	if err := may(by, actRead, ""); err != nil {
		return nil, err
	}
	q := strings.ToLower(strings.TrimSpace(f.Q))
	var out []*Item
	for _, it := range s.lib.Load().newest {
		if f.After != nil && !after(it, *f.After) {
			continue
		}
		if q != "" && !matches(it, q) {
			continue
		}
		out = append(out, it)
		if len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

// after reports whether it comes after p in the newest-first order.
func after(it *Item, p Position) bool {
	if c := it.CreatedAt.Compare(p.CreatedAt); c != 0 {
		return c < 0
	}
	return it.ID < p.ID
}

func matches(it *Item, q string) bool {
	for _, field := range []string{it.FileName, it.Alt, it.Caption} {
		if strings.Contains(strings.ToLower(field), q) {
			return true
		}
	}
	return false
}

// Patch is an edit of an item's text.
type Patch struct {
	Alt     web.Optional[string] `json:"alt"`
	Caption web.Optional[string] `json:"caption"`
}

// Update applies p at the version at names. Errors: Forbidden, NotFound,
// Invalid, PreconditionFailed.
func (s *Service) Update(ctx context.Context, by *auth.Principal, id string, at web.Precondition, p *Patch) (*Item, error) {
	if err := may(by, actRead, ""); err != nil {
		return nil, err
	}
	it, err := s.stored(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := may(by, actChange, it.UploadedBy); err != nil {
		return nil, err
	}
	if err := at.Check("media item", it.Version); err != nil {
		return nil, err
	}
	next := *it
	var f problem.Fields
	for _, m := range []struct {
		name string
		in   web.Optional[string]
		dst  *string
	}{{"alt", p.Alt, &next.Alt}, {"caption", p.Caption, &next.Caption}} {
		if !m.in.Set {
			continue
		}
		v, ok := cleanText(m.in.Value, MaxText)
		if !ok {
			f.Add(m.name, "must be valid UTF-8 of at most %d characters", MaxText)
		}
		*m.dst = v
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	next.Version++
	next.UpdatedAt = s.opts.Now().UTC().Truncate(time.Millisecond)
	err = s.versions.Write(ctx, s.items, id, it.Version, func(ctx context.Context) error {
		_, err := mongodb.ReplaceByID(ctx, s.items, "update media item", id, &next)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.changed(ctx, id, &next)
	return &next, nil
}

// Delete removes an item; while published articles show it, only with
// force. Its files stop being served at once and are removed by the next
// sweep. Errors: Forbidden, NotFound, Conflict, PreconditionFailed.
func (s *Service) Delete(ctx context.Context, by *auth.Principal, id string, at web.Precondition, force bool) error {
	if err := may(by, actRead, ""); err != nil {
		return err
	}
	it, err := s.stored(ctx, id)
	if err != nil {
		return err
	}
	if err := may(by, actChange, it.UploadedBy); err != nil {
		return err
	}
	if err := at.Check("media item", it.Version); err != nil {
		return err
	}
	if !force && s.opts.UsedBy != nil {
		slugs, err := s.opts.UsedBy(ctx, id)
		if err != nil {
			return fmt.Errorf("find articles using media item %s: %w", id, err)
		}
		if len(slugs) > 0 {
			shown := slugs[:min(len(slugs), 10)]
			more := ""
			if n := len(slugs) - len(shown); n > 0 {
				more = fmt.Sprintf(" and %d more", n)
			}
			return problem.New(problem.Conflict,
				"published articles show this image (%s%s); delete with ?force=true to remove it from them",
				strings.Join(shown, ", "), more)
		}
	}
	err = s.versions.Write(ctx, s.items, id, it.Version, func(ctx context.Context) error {
		_, err := mongodb.DeleteByID(ctx, s.items, "delete media item", id)
		return err
	})
	if err != nil {
		return err
	}
	s.changed(ctx, id, nil)
	return nil
}

// UsedBy lists the slugs of the published articles that show the item,
// the ones a Delete without force names: the admin UI shows them before
// anyone tries. Errors: Forbidden.
func (s *Service) UsedBy(ctx context.Context, by *auth.Principal, id string) ([]string, error) {
	if err := may(by, actRead, ""); err != nil {
		return nil, err
	}
	if s.opts.UsedBy == nil {
		return nil, nil
	}
	slugs, err := s.opts.UsedBy(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("find articles using media item %s: %w", id, err)
	}
	return slugs, nil
}
