package media

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/problem"
)

// keyLen is how many hex digits of a file's SHA-256 name it: 128 bits.
const keyLen = 32

// keyOf is the key of data.
func keyOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:keyLen]
}

// validKey reports whether k could be a key keyOf wrote.
func validKey(k string) bool {
	if len(k) != keyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// KeysIn returns the keys of the files that html names by their path
// (Path + key), in order, repeats included. Linear in len(html).
func KeysIn(html string) []string {
	var keys []string
	for rest := html; ; {
		i := strings.Index(rest, Path)
		if i < 0 {
			return keys
		}
		rest = rest[i+len(Path):]
		if len(rest) >= keyLen && validKey(rest[:keyLen]) {
			keys = append(keys, rest[:keyLen])
		}
	}
}

// chunkSize splits a file stored in the database into documents well under
// the 16 MB document limit.
const chunkSize = 4 << 20

// Small files (every resized rendition) are kept in memory once served:
// up to memoryBudget in all.
const (
	memoryMaxFile = 1 << 20
	memoryBudget  = 64 << 20
)

// files keeps the bytes of renditions by key. They always live on local
// disk under dir (the embedded default's only copy); in database mode they
// are also stored in the database, the copy every instance shares, and the
// local files are a cache filled on first use.
type files struct {
	dir    string
	heads  *mongo.Collection // nil: disk only
	chunks *mongo.Collection

	mu     sync.Mutex
	memory map[string][]byte
	held   int64
}

func newFiles(dir string, db *mongo.Database) *files {
	f := &files{dir: dir, memory: map[string][]byte{}}
	if db != nil {
		f.heads = db.Collection("media_files")
		f.chunks = db.Collection("media_chunks")
	}
	return f
}

// head is a file stored in the database: its chunks are "<key>/0" ... in
// media_chunks. At is when it was last put, which the sweep's grace
// period counts from.
type head struct {
	Key    string    `bson:"_id"`
	Bytes  int64     `bson:"bytes"`
	Chunks int       `bson:"chunks"`
	At     time.Time `bson:"at"`
}

type chunk struct {
	ID   string `bson:"_id"`
	Data []byte `bson:"data"`
}

func (f *files) path(key string) string { return filepath.Join(f.dir, key[:2], key) }

// put stores data under key, atomically: a reader sees all of it or
// nothing. A file already there is touched instead, so that the sweep's
// grace period starts again for the item about to record it.
func (f *files) put(ctx context.Context, key string, data []byte, now time.Time) error {
	if err := f.putLocal(key, data, now); err != nil {
		return err
	}
	if f.heads == nil {
		return nil
	}
	// The head first, so that every chunk written is reachable from a
	// head for the sweep, even if the process dies halfway. Nothing reads
	// the file before an item records it, which is after put returns.
	n := (len(data) + chunkSize - 1) / chunkSize
	_, err := mongodb.ReplaceByID(ctx, f.heads, "store media file", key,
		head{Key: key, Bytes: int64(len(data)), Chunks: n, At: now}, options.Replace().SetUpsert(true))
	if err != nil {
		return err
	}
	for i := range n {
		part := data[i*chunkSize : min(len(data), (i+1)*chunkSize)]
		_, err := mongodb.ReplaceByID(ctx, f.chunks, "store media chunk", chunkID(key, i),
			chunk{ID: chunkID(key, i), Data: part}, options.Replace().SetUpsert(true))
		if err != nil {
			return err
		}
	}
	return nil
}

func chunkID(key string, i int) string { return key + "/" + strconv.Itoa(i) }

// putLocal writes data to key's file through a temporary file renamed into
// place after it is synced.
func (f *files) putLocal(key string, data []byte, now time.Time) error {
	p := f.path(key)
	if st, err := os.Stat(p); err == nil && st.Size() == int64(len(data)) {
		return os.Chtimes(p, now, now)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("media: %w", err)
	}
	tmp, err := os.CreateTemp(f.dir, ".upload-*")
	if err != nil {
		return fmt.Errorf("media: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("media: write %s: %w", key, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("media: sync %s: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("media: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("media: %w", err)
	}
	// The sweep's grace period counts on the service's clock.
	if err := os.Chtimes(p, now, now); err != nil {
		return fmt.Errorf("media: %w", err)
	}
	return syncDir(filepath.Dir(p))
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("media: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("media: sync %s: %w", dir, err)
	}
	return nil
}

// body returns the bytes of key for serving: from memory, else from the
// local file (fetched from the database first in database mode). Files of
// at most memoryMaxFile are kept in memory after their first read. The
// result is either the bytes or the open file, which the caller closes.
func (f *files) body(ctx context.Context, key string, size int64) ([]byte, *os.File, error) {
	f.mu.Lock()
	data, ok := f.memory[key]
	f.mu.Unlock()
	if ok {
		return data, nil, nil
	}
	file, err := os.Open(f.path(key))
	if errors.Is(err, fs.ErrNotExist) && f.heads != nil {
		if err = f.fetch(ctx, key); err == nil {
			file, err = os.Open(f.path(key))
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("media: open %s: %w", key, err)
	}
	if size > memoryMaxFile {
		return nil, file, nil
	}
	defer file.Close()
	data = make([]byte, size)
	if _, err := io.ReadFull(file, data); err != nil {
		return nil, nil, fmt.Errorf("media: read %s: %w", key, err)
	}
	f.remember(key, data)
	return data, nil, nil
}

// remember keeps data in memory, forgetting others (any: map order) when
// the budget is spent.
func (f *files) remember(key string, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.memory[key]; ok {
		return
	}
	for k, v := range f.memory {
		if f.held+int64(len(data)) <= memoryBudget {
			break
		}
		delete(f.memory, k)
		f.held -= int64(len(v))
	}
	f.memory[key] = data
	f.held += int64(len(data))
}

// forget drops key from memory: its item is gone.
func (f *files) forget(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if v, ok := f.memory[key]; ok {
		delete(f.memory, key)
		f.held -= int64(len(v))
	}
}

// fetch copies key from the database to its local file.
func (f *files) fetch(ctx context.Context, key string) error {
	h, err := mongodb.FindByID[head](ctx, f.heads, "read media file", key)
	if err != nil {
		return err
	}
	data := make([]byte, 0, h.Bytes)
	for i := range h.Chunks {
		c, err := mongodb.FindByID[chunk](ctx, f.chunks, "read media chunk", chunkID(key, i))
		if err != nil {
			return err
		}
		data = append(data, c.Data...)
	}
	if int64(len(data)) != h.Bytes || keyOf(data) != key {
		return fmt.Errorf("media: the stored file %s does not match its key", key)
	}
	return f.putLocal(key, data, h.At)
}

// sweep removes the files no item records (keep) that were put before
// cutoff, locally and in the database, and temporary files of uploads
// that never finished. It returns how many files it removed.
func (f *files) sweep(ctx context.Context, keep map[string]bool, cutoff time.Time) (int, error) {
	removed := 0
	err := filepath.WalkDir(f.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		name := d.Name()
		if !strings.HasPrefix(name, ".upload-") && (!validKey(name) || keep[name]) {
			return nil
		}
		info, err := d.Info()
		if err != nil || !info.ModTime().Before(cutoff) {
			return nil
		}
		if err := os.Remove(p); err == nil && validKey(name) {
			f.forget(name)
			removed++
		}
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("media: sweep %s: %w", f.dir, err)
	}
	if f.heads == nil {
		return removed, nil
	}
	// Run hourly: a scan of the heads, small documents.
	old, err := mongodb.FindAll[head](ctx, f.heads, "list old media files", bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: cutoff}}}})
	if err != nil {
		return removed, err
	}
	for _, h := range old {
		if keep[h.Key] {
			continue
		}
		if _, err := mongodb.DeleteByID(ctx, f.heads, "delete media file", h.Key); err != nil {
			return removed, err
		}
		for i := range h.Chunks {
			if _, err := mongodb.DeleteByID(ctx, f.chunks, "delete media chunk", chunkID(h.Key, i)); err != nil {
				return removed, err
			}
		}
		removed++
	}
	return removed, nil
}

// checkDir creates dir and proves it writable, so a misconfigured data
// directory fails at start rather than at the first upload.
func checkDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("media: %w", err)
	}
	name := filepath.Join(dir, ".upload-check-"+rand.Text())
	if err := os.WriteFile(name, nil, 0o600); err != nil {
		return problem.New(problem.Internal, "media: the media directory %s is not writable: %v", dir, err)
	}
	return os.Remove(name)
}

// read returns all the bytes of key: the local file, fetched from the
// database first in database mode when it is not here. They must match
// the key.
func (f *files) read(ctx context.Context, key string) ([]byte, error) {
	data, err := os.ReadFile(f.path(key))
	if errors.Is(err, fs.ErrNotExist) && f.heads != nil {
		if err = f.fetch(ctx, key); err == nil {
			data, err = os.ReadFile(f.path(key))
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, problem.New(problem.NotFound, "media: the file %s is not in %s", key, f.dir)
	}
	if err != nil {
		return nil, fmt.Errorf("media: read %s: %w", key, err)
	}
	if keyOf(data) != key {
		return nil, fmt.Errorf("media: the file %s in %s does not match its key", key, f.dir)
	}
	return data, nil
}
