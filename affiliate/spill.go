package affiliate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// The spill file holds clicks the database could not take: JSON lines,
// appended, never rewritten. To replay, the file is first renamed to a
// replay file, so new spills go to a fresh file while the old one is read;
// a replay file is deleted only once every click in it is stored.
const (
	spillName     = "clicks-spill.jsonl"
	replayPrefix  = "clicks-spill-"
	replaySuffix  = ".replay.jsonl"
	maxSpillLine  = 64 << 10
	spillFileMode = 0o600 // visitor hashes are personal data, if pseudonymous
)

// errNoSpillDir is the spill error when no data directory is configured.
var errNoSpillDir = errors.New("no data directory configured for the click spill file")

// spillFile is the append side, shared by the writer and by redirects that
// find the queue full.
type spillFile struct {
	dir string

	mu      sync.Mutex
	f       *os.File
	dirty   bool // written since the last fsync
	pending bool // there is something to replay
	seq     int
}

// openSpill prepares the spill directory and notes leftovers of an earlier
// run, which the writer replays first.
func openSpill(dir string) (*spillFile, error) {
	if dir == "" {
		// Only embedders and tests leave the data directory out; the
		// binary always has one. Without it nothing can be spilled.
		return &spillFile{}, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("CMS_DATA_DIR: create %s: %w", dir, err)
	}
	s := &spillFile{dir: dir}
	left, err := s.replayFiles()
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(filepath.Join(dir, spillName)); err == nil && fi.Size() > 0 {
		s.pending = true
	}
	s.pending = s.pending || len(left) > 0
	return s, nil
}

// encodeClicks renders clicks as JSON lines.
func encodeClicks(clicks []Click) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for i := range clicks {
		if err := enc.Encode(&clicks[i]); err != nil {
			return nil, fmt.Errorf("encode click: %w", err)
		}
	}
	return buf.Bytes(), nil
}

// append writes clicks to the spill file. With durable set it fsyncs
// before returning; otherwise the data is with the kernel (safe from a
// crash of this process) and the next sync call makes it durable.
func (s *spillFile) append(clicks []Click, durable bool) error {
	data, err := encodeClicks(clicks)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir == "" {
		return errNoSpillDir
	}
	if s.f == nil {
		if err := s.open(); err != nil {
			return err
		}
	}
	if _, err := s.f.Write(data); err != nil {
		// The file may now end in a torn line; reopening checks for that.
		_ = s.f.Close()
		s.f = nil
		return fmt.Errorf("write click spill file: %w", err)
	}
	s.pending = true
	s.dirty = true
	if durable {
		return s.syncLocked()
	}
	return nil
}

// open opens the spill file for appending. A file that does not end in a
// newline was torn by a crash mid-write; a newline is added first so the
// torn fragment stays one corrupt line instead of spoiling the next.
func (s *spillFile) open() error {
	f, err := os.OpenFile(filepath.Join(s.dir, spillName), os.O_RDWR|os.O_CREATE|os.O_APPEND, spillFileMode)
	if err != nil {
		return fmt.Errorf("open click spill file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat click spill file: %w", err)
	}
	if n := fi.Size(); n > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, n-1); err != nil {
			f.Close()
			return fmt.Errorf("read click spill file: %w", err)
		}
		if last[0] != '\n' {
			if _, err := f.Write([]byte{'\n'}); err != nil {
				f.Close()
				return fmt.Errorf("repair click spill file: %w", err)
			}
		}
	}
	s.f = f
	return nil
}

// sync makes everything appended so far durable.
func (s *spillFile) sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncLocked()
}

func (s *spillFile) syncLocked() error {
	if s.f == nil || !s.dirty {
		return nil
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("fsync click spill file: %w", err)
	}
	s.dirty = false
	return nil
}

// hasPending reports whether there may be clicks to replay.
func (s *spillFile) hasPending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending
}

// markPending records that a replay did not finish.
func (s *spillFile) markPending() {
	s.mu.Lock()
	s.pending = true
	s.mu.Unlock()
}

// take moves the current spill file aside for replay and returns every
// replay file, oldest first.
func (s *spillFile) take() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil {
		if err := s.syncLocked(); err != nil {
			return nil, err
		}
		_ = s.f.Close()
		s.f = nil
	}
	cur := filepath.Join(s.dir, spillName)
	if fi, err := os.Stat(cur); s.dir != "" && err == nil && fi.Size() > 0 {
		s.seq++
		name := fmt.Sprintf("%s%020d-%04d%s", replayPrefix, time.Now().UnixNano(), s.seq%10000, replaySuffix)
		if err := os.Rename(cur, filepath.Join(s.dir, name)); err != nil {
			return nil, fmt.Errorf("move click spill file aside: %w", err)
		}
	}
	s.pending = false
	return s.replayFiles()
}

func (s *spillFile) replayFiles() ([]string, error) {
	if s.dir == "" {
		return nil, nil
	}
	files, err := filepath.Glob(filepath.Join(s.dir, replayPrefix+"*"+replaySuffix))
	if err != nil {
		return nil, fmt.Errorf("list click replay files: %w", err)
	}
	sort.Strings(files)
	return files, nil
}

// close syncs and closes the spill file.
func (s *spillFile) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.syncLocked()
	if cerr := s.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close click spill file: %w", cerr)
	}
	s.f = nil
	return err
}

// readSpill calls fn with every whole click of a spill file, in order, and
// bad with the line number of every line that is not one (a torn write,
// a damaged disk). Only a failure to read the file, or fn's error, stops
// it.
func readSpill(path string, fn func(Click) error, bad func(line int, why string)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open click replay file: %w", err)
	}
	defer f.Close()
	return readClicks(f, fn, bad)
}

// readClicks is readSpill on any reader. Its memory is bounded by
// maxSpillLine whatever the input: a longer line is skipped, not held.
func readClicks(rd io.Reader, fn func(Click) error, bad func(line int, why string)) error {
	r := bufio.NewReaderSize(rd, 64<<10)
	for line := 1; ; line++ {
		data, tooLong, err := readLine(r)
		if err == io.EOF && len(data) == 0 && !tooLong {
			return nil
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("read click replay file: %w", err)
		}
		switch {
		case tooLong:
			bad(line, "line too long")
		case len(bytes.TrimSpace(data)) == 0:
		default:
			var c Click
			if jerr := json.Unmarshal(data, &c); jerr != nil {
				bad(line, "not a JSON click")
			} else if !c.valid() {
				bad(line, "incomplete click")
			} else if ferr := fn(c); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// readLine reads one line without its newline. A line longer than
// maxSpillLine (not counting the newline) is skipped to its end and
// reported as too long.
func readLine(r *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong {
			line = append(line, chunk...)
			if len(bytes.TrimSuffix(line, []byte{'\n'})) > maxSpillLine {
				tooLong, line = true, nil
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err != nil:
			return line, tooLong, err
		}
		return bytes.TrimSuffix(line, []byte{'\n'}), tooLong, nil
	}
}
