package backup

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/wellness/cms/internal/changefeed"
	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/media"
)

// RestoreOptions configure a restore.
type RestoreOptions struct {
	// Progress, when set, is called as in ExportOptions: per collection,
	// with the manifest's count as the total, and "media".
	Progress func(stage string, done, total int64)
	// NewCollections, when set, is called after the first batch written
	// into a collection the database did not have, so that the embedded
	// engine gives its table the _id lookup index at once rather than
	// within seconds (mongodb.DB.IndexNewTables): the restore's writes
	// are by _id, and would otherwise scan the growing table.
	NewCollections func(ctx context.Context) error
	// Now is the clock of the restore's record; nil means time.Now.
	Now func() time.Time
}

// reloadFeeds are the change feeds of everything instances keep in
// memory: the articles (content API snapshot, authoring list), the
// affiliate catalogue, the site settings and the media library. A restore
// announces on each that everything changed (changefeed.Feed.PublishAll).
// The round-trip test proves a running server serves what was restored.
var reloadFeeds = []string{"articles", "catalogue", "site", "media"}

// restoreRecord is a restore's entry in restoresCollection, by archive ID.
type restoreRecord struct {
	ID         string    `bson:"_id"`
	State      string    `bson:"state"` // running, done
	ArchiveAt  time.Time `bson:"archiveCreatedAt"`
	StartedAt  time.Time `bson:"startedAt"`
	FinishedAt time.Time `bson:"finishedAt,omitzero"`
}

// Limits of one write of the restore.
const (
	batchDocs  = 500
	batchBytes = 8 << 20
)

// Restore stores the archive r (size bytes) into db and the media files
// through files, then tells every running instance to reload what it
// keeps in memory.
//
// It checks the manifest first (Invalid for what is not an archive of
// this program, or one of a newer format) and that db is empty: Conflict,
// naming the collection, when any collection the archive restores already
// holds documents (the defaults a fresh server seeds do not count). Each
// document is written by its _id, replacing what is there (upserts, in
// unordered batches), so a restore cut short (a crash, a full disk) may
// simply be run again with the same archive: its record in
// backup_restores says it did not finish, and the second run writes
// everything again. An archive restored to the end is not restored again.
// Media files are stored before the items that name them. A corrupt or
// truncated archive is Invalid, found by the entries' checksums before
// anything is written.
func Restore(ctx context.Context, db *mongo.Database, files *media.Service, r io.ReaderAt, size int64, o RestoreOptions) (Summary, error) {
	start := time.Now()
	if o.Now == nil {
		o.Now = time.Now
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return Summary{}, problem.New(problem.Invalid, "restore: not a readable archive (truncated or not a zip file?): %v", err)
	}
	m, entries, err := readManifest(zr)
	if err != nil {
		return Summary{}, err
	}
	// Every entry's checksum first: damage found after documents were
	// written would leave garbage behind (deflate hands out the bytes
	// before the CRC at the end says they are wrong).
	if err := verify(ctx, zr, o.Progress); err != nil {
		return Summary{}, err
	}
	existing, err := listCollections(ctx, db)
	if err != nil {
		return Summary{}, err
	}
	rec, err := checkTarget(ctx, db, m, existing, o.Now())
	if err != nil {
		return Summary{}, err
	}
	p := &progress{fn: o.Progress}
	if err := restoreMedia(ctx, files, zr, m, p); err != nil {
		return Summary{}, err
	}
	have := map[string]bool{}
	for _, n := range existing {
		have[n] = true
	}
	for _, mc := range m.Collections {
		if err := restoreCollection(ctx, db.Collection(mc.Name), entries[mc.Name], mc, !have[mc.Name], o, p); err != nil {
			return Summary{}, err
		}
	}
	rec.State, rec.FinishedAt = "done", o.Now().UTC()
	if _, err := mongodb.ReplaceByID(ctx, db.Collection(restoresCollection), "record the restore", rec.ID, rec); err != nil {
		return Summary{}, err
	}
	// Every instance reloads; a failure here leaves the data restored,
	// and the instances' periodic full reloads (media, site) or a
	// restart bring the rest.
	for _, name := range reloadFeeds {
		feed, err := changefeed.New(db, name, changefeed.Options{})
		if err == nil {
			err = feed.PublishAll(ctx)
		}
		if err != nil {
			return Summary{}, fmt.Errorf("restore: the data is restored, but running servers were not told to reload %s (restart them): %w", name, err)
		}
	}
	return Summary{Manifest: *m, Bytes: size, Duration: time.Since(start)}, nil
}

// readManifest reads and checks manifest.json, and returns it with the
// archive's entry of every collection it names.
func readManifest(zr *zip.Reader) (*Manifest, map[string]*zip.File, error) {
	byName := map[string]*zip.File{}
	for _, f := range zr.File {
		byName[f.Name] = f
	}
	mf := byName[manifestName]
	if mf == nil {
		return nil, nil, problem.New(problem.Invalid, "restore: not an archive of cms export: no %s in it", manifestName)
	}
	rc, err := mf.Open()
	if err != nil {
		return nil, nil, problem.New(problem.Invalid, "restore: cannot read %s: %v", manifestName, err)
	}
	data, err := io.ReadAll(io.LimitReader(rc, 16<<20))
	rc.Close()
	if err != nil {
		return nil, nil, problem.New(problem.Invalid, "restore: cannot read %s (corrupt archive?): %v", manifestName, err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, nil, problem.New(problem.Invalid, "restore: %s is not valid: %v", manifestName, err)
	}
	switch {
	case m.App != app:
		return nil, nil, problem.New(problem.Invalid, "restore: the archive was written by %q, not by cms export", m.App)
	case m.Format > FormatVersion:
		return nil, nil, problem.New(problem.Invalid, "restore: the archive has format version %d, newer than this cms reads (%d): restore it with the version of cms that wrote it, or a newer one", m.Format, FormatVersion)
	case m.Format < 1 || m.ID == "":
		return nil, nil, problem.New(problem.Invalid, "restore: %s names no format version or archive ID", manifestName)
	}
	entries := map[string]*zip.File{}
	for _, mc := range m.Collections {
		c := classify(mc.Name)
		if c == nil || c.policy == never {
			return nil, nil, problem.New(problem.Invalid, "restore: the archive holds collection %q, which this version of cms does not restore; use the version that wrote it", mc.Name)
		}
		f := byName[collectionPrefix+mc.Name+collectionExt]
		if f == nil {
			return nil, nil, problem.New(problem.Invalid, "restore: the manifest names collection %q, and the archive does not hold it (truncated?)", mc.Name)
		}
		entries[mc.Name] = f
	}
	return &m, entries, nil
}

// checkTarget refuses a database that holds data, unless it is this
// archive's restore cut short, and records the restore as running.
func checkTarget(ctx context.Context, db *mongo.Database, m *Manifest, existing []string, now time.Time) (*restoreRecord, error) {
	records := db.Collection(restoresCollection)
	prev, err := mongodb.FindByID[restoreRecord](ctx, records, "read the restore record", m.ID)
	if err != nil && !errors.Is(err, problem.NotFound) {
		return nil, err
	}
	switch {
	case prev != nil && prev.State == "done":
		return nil, problem.New(problem.Conflict, "restore: this archive (made %s) was restored into this database already, at %s",
			m.CreatedAt.Format(time.RFC3339), prev.FinishedAt.Format(time.RFC3339))
	case prev != nil:
		// The same archive's restore, cut short: writing everything
		// again completes it.
		return prev, nil
	}
	for _, name := range existing {
		c := classify(name)
		if c == nil || c.policy == never || c.seeded {
			continue
		}
		fctx, cancel := mongodb.Bound(ctx)
		err := db.Collection(name).FindOne(fctx, bson.D{}, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
		cancel()
		if err == nil {
			return nil, problem.New(problem.Conflict, "restore: the database is not empty: collection %q holds documents; restore into an empty database (a new data directory or MONGODB_DATABASE)", name)
		}
		if !errors.Is(err, mongo.ErrNoDocuments) {
			return nil, mongodb.Err("check that "+name+" is empty", err)
		}
	}
	rec := &restoreRecord{ID: m.ID, State: "running", ArchiveAt: m.CreatedAt, StartedAt: now.UTC()}
	if err := mongodb.Insert(ctx, records, "record the restore", rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// restoreMedia stores every file of the archive's media/ through files.
func restoreMedia(ctx context.Context, files *media.Service, zr *zip.Reader, m *Manifest, p *progress) error {
	var list []*zip.File
	for _, f := range zr.File {
		if strings.HasPrefix(f.Name, mediaPrefix) && !strings.HasSuffix(f.Name, "/") {
			list = append(list, f)
		}
	}
	if int64(len(list)) != m.Media.Files {
		return problem.New(problem.Invalid, "restore: the manifest names %d media files, and the archive holds %d (truncated?)", m.Media.Files, len(list))
	}
	if len(list) > 0 && files == nil {
		return fmt.Errorf("restore: the archive holds %d media files, and no media service stores them", len(list))
	}
	for i, f := range list {
		base := path.Base(f.Name)
		key := strings.TrimSuffix(base, path.Ext(base))
		data, err := readEntry(f, 64<<20)
		if err != nil {
			return err
		}
		if err := files.PutFile(ctx, key, data); err != nil {
			if errors.Is(err, problem.Invalid) {
				return problem.New(problem.Invalid, "restore: the media file %s of the archive is damaged: %v", f.Name, err)
			}
			return fmt.Errorf("restore media file %s: %w", f.Name, err)
		}
		p.report("media", int64(i+1), int64(len(list)), i+1 == len(list))
	}
	return nil
}

// verify reads every entry of zr through, which checks its CRC-32.
func verify(ctx context.Context, zr *zip.Reader, fn func(string, int64, int64)) error {
	p := &progress{fn: fn}
	for i, f := range zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		rc, err := f.Open()
		if err != nil {
			return problem.New(problem.Invalid, "restore: cannot read %s: %v", f.Name, err)
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return problem.New(problem.Invalid, "restore: %s is damaged (corrupt or truncated archive); nothing was restored: %v", f.Name, err)
		}
		p.report("check", int64(i+1), int64(len(zr.File)), i+1 == len(zr.File))
	}
	return nil
}

// readEntry reads a whole entry of at most limit bytes; the zip reader
// checks its CRC at the end.
func readEntry(f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, problem.New(problem.Invalid, "restore: %s is %d bytes, over the limit of %d", f.Name, f.UncompressedSize64, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, problem.New(problem.Invalid, "restore: cannot read %s: %v", f.Name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, problem.New(problem.Invalid, "restore: %s is damaged (corrupt or truncated archive): %v", f.Name, err)
	}
	return data, nil
}

// restoreCollection writes the documents of entry f into c by _id, in
// batches, and checks their number against the manifest.
func restoreCollection(ctx context.Context, c *mongo.Collection, f *zip.File, mc ManifestCollection, created bool, o RestoreOptions, p *progress) error {
	name := c.Name()
	rc, err := f.Open()
	if err != nil {
		return problem.New(problem.Invalid, "restore: cannot read %s: %v", f.Name, err)
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 256<<10)
	var (
		batch []mongo.WriteModel
		bytes int
		n     int64
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		bctx, cancel := context.WithTimeout(ctx, mongodb.OpTimeout+time.Duration(bytes>>20)*2*time.Second)
		_, err := c.BulkWrite(bctx, batch, options.BulkWrite().SetOrdered(false))
		cancel()
		if err != nil {
			return mongodb.Err("restore "+name, err)
		}
		batch, bytes = batch[:0], 0
		if created && o.NewCollections != nil {
			created = false
			if err := o.NewCollections(ctx); err != nil {
				return fmt.Errorf("restore %s: index the new collection: %w", name, err)
			}
		}
		p.report(name, n, mc.Documents, false)
		return nil
	}
	for line := 1; ; line++ {
		data, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) && len(data) == 0 {
			break
		}
		if err != nil {
			return problem.New(problem.Invalid, "restore: %s is damaged after %d documents (corrupt or truncated archive): %v", f.Name, n, err)
		}
		var doc bson.Raw
		if err := bson.UnmarshalExtJSON(data, true, &doc); err != nil {
			return problem.New(problem.Invalid, "restore: %s line %d is not a document: %v", f.Name, line, err)
		}
		id, err := doc.LookupErr("_id")
		if err != nil {
			return problem.New(problem.Invalid, "restore: %s line %d has no _id", f.Name, line)
		}
		batch = append(batch, mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: id}}).SetReplacement(doc).SetUpsert(true))
		bytes += len(doc)
		n++
		if len(batch) >= batchDocs || bytes >= batchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if n != mc.Documents {
		return problem.New(problem.Invalid, "restore: the manifest says %s has %d documents, and the archive holds %d", name, mc.Documents, n)
	}
	p.report(name, n, mc.Documents, true)
	return nil
}
