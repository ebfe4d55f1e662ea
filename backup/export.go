package backup

import (
	"archive/zip"
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/media"
)

// FormatVersion is the version of the archive format this package writes.
// Restore reads this version and older ones, and refuses newer ones.
const FormatVersion = 1

// app names the program that writes the archives, in the manifest.
const app = "wellness-cms"

// Names inside the archive.
const (
	manifestName     = "manifest.json"
	collectionPrefix = "collections/"
	collectionExt    = ".jsonl"
	mediaPrefix      = "media/"
)

// ExportOptions say what goes into an archive beyond the site's data.
type ExportOptions struct {
	// WithClicks adds the raw clicks and what goes with them (see the
	// table in collections.go); the rollups, the statistics, are always
	// in.
	WithClicks bool
	// WithSecrets keeps users' password hashes, webhooks' signing
	// secrets, preview links and (with WithClicks) the visitor salts.
	WithSecrets bool
	// Source describes where the data comes from, for the manifest (the
	// database and data directory); it must not hold credentials.
	Source string
	// Progress, when set, is called with the stage (a collection's name,
	// or "media"), what is done and the total (-1 when not known), at
	// most every 100 ms and at the end of every stage.
	Progress func(stage string, done, total int64)
	// Now is the clock of the manifest; nil means time.Now.
	Now func() time.Time
}

// Manifest describes an archive: manifest.json.
type Manifest struct {
	Format int    `json:"format"`
	App    string `json:"app"`
	// ID names this archive; a restore records it, so that a restore
	// cut short can run again and a finished one is not repeated.
	ID          string               `json:"id"`
	CreatedAt   time.Time            `json:"createdAt"`
	Source      string               `json:"source,omitempty"`
	Options     ManifestOptions      `json:"options"`
	Collections []ManifestCollection `json:"collections"`
	Media       ManifestMedia        `json:"media"`
	// Skipped are collections of the source not in the archive: those the
	// table keeps out (or in only with an option), and those it does not
	// know (Unknown).
	Skipped []string `json:"skipped"`
	Unknown []string `json:"unknown,omitempty"`
}

// ManifestOptions are the options the archive was made with.
type ManifestOptions struct {
	WithClicks  bool `json:"withClicks"`
	WithSecrets bool `json:"withSecrets"`
}

// ManifestCollection is one collection in the archive.
type ManifestCollection struct {
	Name      string `json:"name"`
	Documents int64  `json:"documents"`
	// Stripped are the fields emptied in every document (secrets).
	Stripped []string `json:"stripped,omitempty"`
}

// ManifestMedia counts the media files.
type ManifestMedia struct {
	Files int64 `json:"files"`
	Bytes int64 `json:"bytes"`
}

// Summary is what an export wrote or a restore stored.
type Summary struct {
	Manifest Manifest
	// Bytes is the archive's size (an export's bytes written).
	Bytes    int64
	Duration time.Duration
}

// countingWriter counts what passes to w.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// progress calls fn at most every 100 ms, and always at a stage's end.
type progress struct {
	fn   func(stage string, done, total int64)
	last time.Time
}

func (p *progress) report(stage string, done, total int64, end bool) {
	if p.fn == nil {
		return
	}
	if now := time.Now(); end || now.Sub(p.last) >= 100*time.Millisecond {
		p.last = now
		p.fn(stage, done, total)
	}
}

// Export writes one archive of db (and of the media files through files)
// to w: the collections the table exports with o, one document at a time
// from a cursor, then the files every media item names, then the
// manifest. Nothing is held in memory but the media keys. A collection
// the table does not know is left out and named in the manifest's Unknown
// (the table's test makes sure none is). Errors are the database's, the
// writer's, or NotFound for a media file missing from every copy.
func Export(ctx context.Context, db *mongo.Database, files *media.Service, w io.Writer, o ExportOptions) (Summary, error) {
	start := time.Now()
	if o.Now == nil {
		o.Now = time.Now
	}
	cw := &countingWriter{w: w}
	bw := bufio.NewWriterSize(cw, 256<<10)
	zw := zip.NewWriter(bw)
	m := Manifest{Format: FormatVersion, App: app, ID: newArchiveID(), CreatedAt: o.Now().UTC(), Source: o.Source,
		Options: ManifestOptions{WithClicks: o.WithClicks, WithSecrets: o.WithSecrets}, Collections: []ManifestCollection{}, Skipped: []string{}}
	names, err := listCollections(ctx, db)
	if err != nil {
		return Summary{}, err
	}
	p := &progress{fn: o.Progress}
	mf := &mediaFiles{seen: map[string]bool{}}
	for _, name := range exportOrder(names) {
		c := classify(name)
		switch {
		case c == nil:
			m.Unknown = append(m.Unknown, name)
			m.Skipped = append(m.Skipped, name)
			continue
		case !c.exported(o):
			m.Skipped = append(m.Skipped, name)
			continue
		}
		mc := ManifestCollection{Name: name}
		var strip map[string]any
		if c.policy == stripped && !o.WithSecrets {
			strip = c.strip
			for f := range strip {
				mc.Stripped = append(mc.Stripped, f)
			}
			slices.Sort(mc.Stripped)
		}
		var onDoc func(bson.Raw) error
		if name == "media" {
			onDoc = mf.add
		}
		if mc.Documents, err = exportCollection(ctx, db.Collection(name), zw, m.CreatedAt, strip, onDoc, p); err != nil {
			return Summary{}, err
		}
		m.Collections = append(m.Collections, mc)
	}
	if m.Media, err = exportMedia(ctx, files, mf.list, zw, m.CreatedAt, p); err != nil {
		return Summary{}, err
	}
	if err := writeManifest(zw, &m); err != nil {
		return Summary{}, err
	}
	if err := zw.Close(); err != nil {
		return Summary{}, fmt.Errorf("export: finish the archive: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return Summary{}, fmt.Errorf("export: write the archive: %w", err)
	}
	return Summary{Manifest: m, Bytes: cw.n, Duration: time.Since(start)}, nil
}

func newArchiveID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// listCollections names the collections of db, sorted.
func listCollections(ctx context.Context, db *mongo.Database) ([]string, error) {
	ctx, cancel := mongodb.Bound(ctx)
	defer cancel()
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("list collections: %w", err)
	}
	slices.Sort(names)
	return names, nil
}

// exportOrder sorts names in the order of the table (collections the
// table does not know last).
func exportOrder(names []string) []string {
	rank := func(name string) int {
		for i := range collections {
			if c := classify(name); c == &collections[i] {
				return i
			}
		}
		return len(collections)
	}
	out := slices.Clone(names)
	slices.SortStableFunc(out, func(a, b string) int { return rank(a) - rank(b) })
	return out
}

// exportCollection writes the documents of c, one a line, to the
// archive's entry for it, emptying the fields in strip, and hands each
// stored document to onDoc when set. It returns how many it wrote.
func exportCollection(ctx context.Context, c *mongo.Collection, zw *zip.Writer, at time.Time, strip map[string]any, onDoc func(bson.Raw) error, p *progress) (int64, error) {
	name := c.Name()
	total := int64(-1)
	ectx, cancel := mongodb.Bound(ctx)
	if n, err := c.EstimatedDocumentCount(ectx); err == nil {
		total = n
	}
	cancel()
	ew, err := zw.CreateHeader(&zip.FileHeader{Name: collectionPrefix + name + collectionExt, Method: zip.Deflate, Modified: at})
	if err != nil {
		return 0, fmt.Errorf("export %s: %w", name, err)
	}
	// The cursor lives as long as the collection takes to write; ctx
	// bounds it.
	cur, err := c.Find(ctx, bson.D{}, options.Find().SetBatchSize(200))
	if err != nil {
		return 0, fmt.Errorf("export %s: %w", name, err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	var n int64
	for cur.Next(ctx) {
		doc := cur.Current
		if onDoc != nil {
			if err := onDoc(doc); err != nil {
				return n, fmt.Errorf("export %s: %w", name, err)
			}
		}
		var v any = doc
		if strip != nil {
			if v, err = stripFields(doc, strip); err != nil {
				return n, fmt.Errorf("export %s: %w", name, err)
			}
		}
		line, err := bson.MarshalExtJSON(v, true, false)
		if err != nil {
			return n, fmt.Errorf("export %s: encode a document: %w", name, err)
		}
		if _, err := ew.Write(append(line, '\n')); err != nil {
			return n, fmt.Errorf("export %s: %w", name, err)
		}
		n++
		p.report(name, n, max(total, n), false)
	}
	if err := cur.Err(); err != nil {
		return n, fmt.Errorf("export %s: %w", name, err)
	}
	p.report(name, n, n, true)
	return n, nil
}

// stripFields returns doc with each field in strip set to its value
// there (added when missing).
func stripFields(doc bson.Raw, strip map[string]any) (bson.D, error) {
	var d bson.D
	if err := bson.Unmarshal(doc, &d); err != nil {
		return nil, err
	}
	done := map[string]bool{}
	for i := range d {
		if v, ok := strip[d[i].Key]; ok {
			d[i].Value = v
			done[d[i].Key] = true
		}
	}
	keys := make([]string, 0, len(strip))
	for k := range strip {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !done[k] {
			d = append(d, bson.E{Key: k, Value: strip[k]})
		}
	}
	return d, nil
}

// mediaFiles gathers the files media items name, each once.
type mediaFiles struct {
	seen map[string]bool
	list []media.File
}

func (mf *mediaFiles) add(doc bson.Raw) error {
	var it media.Item
	if err := bson.Unmarshal(doc, &it); err != nil {
		return fmt.Errorf("read media item: %w", err)
	}
	for _, f := range it.Files() {
		if f.Key != "" && !mf.seen[f.Key] {
			mf.seen[f.Key] = true
			mf.list = append(mf.list, f)
		}
	}
	return nil
}

// mediaEntry is the archive's name of a file.
func mediaEntry(f media.File) string { return mediaPrefix + f.Key + f.Format.Ext() }

// exportMedia writes the bytes of every file, stored (images are
// compressed already).
func exportMedia(ctx context.Context, files *media.Service, list []media.File, zw *zip.Writer, at time.Time, p *progress) (ManifestMedia, error) {
	var mm ManifestMedia
	if len(list) > 0 && files == nil {
		return mm, fmt.Errorf("export: media items name %d files, and no media service reads them", len(list))
	}
	for _, f := range list {
		data, err := files.ReadFile(ctx, f.Key)
		if err != nil {
			return mm, fmt.Errorf("export media file %s: %w", f.Key, err)
		}
		ew, err := zw.CreateHeader(&zip.FileHeader{Name: mediaEntry(f), Method: zip.Store, Modified: at})
		if err == nil {
			_, err = ew.Write(data)
		}
		if err != nil {
			return mm, fmt.Errorf("export media file %s: %w", f.Key, err)
		}
		mm.Files++
		mm.Bytes += int64(len(data))
		p.report("media", mm.Files, int64(len(list)), false)
	}
	p.report("media", mm.Files, mm.Files, true)
	return mm, nil
}

func writeManifest(zw *zip.Writer, m *Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("export: manifest: %w", err)
	}
	ew, err := zw.CreateHeader(&zip.FileHeader{Name: manifestName, Method: zip.Deflate, Modified: m.CreatedAt})
	if err == nil {
		_, err = ew.Write(append(data, '\n'))
	}
	if err != nil {
		return fmt.Errorf("export: manifest: %w", err)
	}
	return nil
}
