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

// The spill file held clicks the database could not take, before the
// click log (below) took every click: JSON lines, appended, never
// rewritten. Nothing writes it now; a data directory that still has one
// from an older version gets it replayed: it is renamed to a replay file,
// which is deleted only once every click in it is stored.
const (
	spillName     = "clicks-spill.jsonl"
	replayPrefix  = "clicks-spill-"
	replaySuffix  = ".replay.jsonl"
	maxSpillLine  = 64 << 10
	spillFileMode = 0o600 // visitor hashes are personal data, if pseudonymous
)

// errNoSpillDir is the click log's error when no data directory is
// configured.
var errNoSpillDir = errors.New("no data directory configured for the click log")

// spillFile is the legacy spill file of a data directory, for replay.
type spillFile struct {
	dir string

	mu      sync.Mutex
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

// take moves the legacy spill file aside for replay and returns every
// replay file, oldest first.
func (s *spillFile) take() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
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
			if c, why := parseClickLine(data); why != "" {
				bad(line, why)
			} else if ferr := fn(c); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// parseClickLine decodes one line of a spill file or click log; why says
// what is wrong with a line that is not a whole click.
func parseClickLine(data []byte) (c Click, why string) {
	if err := json.Unmarshal(data, &c); err != nil {
		return c, "not a JSON click"
	}
	if !c.valid() {
		return c, "incomplete click"
	}
	return c, ""
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

// The click log holds every click before its redirect is answered: JSON
// lines like the spill file, appended with one write each, in numbered
// segments (clicks-log-<seq>.jsonl) of at most logSegmentMax bytes. The
// writer stores clicks in log order and keeps a checkpoint, the position
// up to which every click is stored; segments before it are deleted. At
// start the log is replayed from the checkpoint (see Recorder).
const (
	logPrefix      = "clicks-log-"
	logSuffix      = ".jsonl"
	checkpointName = "clicks-log.checkpoint"
	writerIDName   = "clicks-writer-id"
	logSegmentMax  = 4 << 20
)

// logPos is a place in the click log: a segment and a byte offset in it.
type logPos struct {
	Seq int64
	Off int64
}

func (p logPos) before(q logPos) bool {
	return p.Seq < q.Seq || (p.Seq == q.Seq && p.Off < q.Off)
}

// bytesTo is about how many bytes of the log lie from p to q (0 when q is
// not after p): a sealed segment counts as logSegmentMax bytes.
func (p logPos) bytesTo(q logPos) int64 {
	switch {
	case !p.before(q):
		return 0
	case p.Seq == q.Seq:
		return q.Off - p.Off
	}
	return (q.Seq-p.Seq)*logSegmentMax - p.Off + q.Off
}

// clickLog is the append side of the click log. Without a data directory
// there is no log (embedders and tests only): clicks then live in memory
// until stored, as before.
type clickLog struct {
	dir string

	mu    sync.Mutex
	f     *os.File
	seq   int64 // the segment being appended to
	size  int64 // its length
	dirty bool  // written since the last fsync
	buf   []byte
}

// openClickLog finds the segments an earlier run left (from is the oldest
// still to store, with the checkpoint's offset) and starts a new segment
// after them.
func openClickLog(dir string) (*clickLog, logPos, error) {
	l := &clickLog{dir: dir}
	if dir == "" {
		return l, logPos{}, nil
	}
	segs, err := l.segments()
	if err != nil {
		return nil, logPos{}, err
	}
	if len(segs) == 0 {
		l.seq = 1
		return l, logPos{Seq: 1}, nil
	}
	l.seq = segs[len(segs)-1] + 1
	from := logPos{Seq: segs[0]}
	if cp, ok := l.readCheckpoint(); ok && !cp.before(from) {
		from = cp
	}
	return l, from, nil
}

func (l *clickLog) segPath(seq int64) string {
	return filepath.Join(l.dir, fmt.Sprintf("%s%020d%s", logPrefix, seq, logSuffix))
}

// segments are the numbers of the log segments on disk, ascending.
func (l *clickLog) segments() ([]int64, error) {
	files, err := filepath.Glob(filepath.Join(l.dir, logPrefix+"*"+logSuffix))
	if err != nil {
		return nil, fmt.Errorf("list click log segments: %w", err)
	}
	var out []int64
	for _, f := range files {
		var seq int64
		if _, err := fmt.Sscanf(filepath.Base(f), logPrefix+"%d"+logSuffix, &seq); err == nil {
			out = append(out, seq)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// append writes one click as one line with one write call, so that once
// it returns the click is the kernel's and survives the process (SIGKILL,
// OOM kill). enqueue runs under the log's lock with the click's place, so
// the order of what it queues is the order of the log. With durable set
// it also fsyncs (after Close, when no writer will).
func (l *clickLog) append(c *Click, durable bool, enqueue func(start, end logPos)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dir == "" {
		enqueue(logPos{}, logPos{})
		return errNoSpillDir
	}
	buf, err := appendClickLine(l.buf[:0], c)
	if err != nil {
		return err
	}
	l.buf = buf
	if l.f == nil {
		f, err := os.OpenFile(l.segPath(l.seq), os.O_WRONLY|os.O_CREATE|os.O_APPEND, spillFileMode)
		if err != nil {
			return fmt.Errorf("open click log: %w", err)
		}
		l.f = f
	}
	if _, err := l.f.Write(buf); err != nil {
		// The segment may end in a torn line: start a fresh one, and
		// let the reader skip the fragment as damaged.
		l.rotateLocked()
		return fmt.Errorf("append to click log: %w", err)
	}
	start := logPos{Seq: l.seq, Off: l.size}
	l.size += int64(len(buf))
	l.dirty = true
	enqueue(start, logPos{Seq: l.seq, Off: l.size})
	if l.size >= logSegmentMax {
		l.rotateLocked()
	}
	if durable {
		return l.syncLocked()
	}
	return nil
}

// appendClickLine renders c as a JSON line onto buf.
func appendClickLine(buf []byte, c *Click) ([]byte, error) {
	data, err := json.Marshal(c)
	if err != nil {
		return buf, fmt.Errorf("encode click: %w", err)
	}
	return append(append(buf, data...), '\n'), nil
}

// rotateLocked seals the current segment (after an fsync) and starts the
// next one at the next append.
func (l *clickLog) rotateLocked() {
	if l.f != nil {
		_ = l.syncLocked()
		_ = l.f.Close()
		l.f = nil
	}
	l.seq++
	l.size = 0
}

// end is the place after the last click appended.
func (l *clickLog) end() logPos {
	l.mu.Lock()
	defer l.mu.Unlock()
	return logPos{Seq: l.seq, Off: l.size}
}

// sync makes every append so far durable: the writer calls it every tick
// (a second at most), which bounds what a power loss can take.
func (l *clickLog) sync() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.syncLocked()
}

func (l *clickLog) syncLocked() error {
	if l.f == nil || !l.dirty {
		return nil
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("fsync click log: %w", err)
	}
	l.dirty = false
	return nil
}

func (l *clickLog) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.syncLocked()
	_ = l.f.Close()
	l.f = nil
	return err
}

// read returns the whole lines of segment seq from off, up to limit bytes
// (limit < 0: to its end), each with the offset after it. A last line
// without its newline is a write torn by a crash when the segment is
// sealed, and is returned as damaged; in the live segment every append is
// whole, so it cannot occur there below the log's end.
func (l *clickLog) read(seq, off, limit int64, fn func(c Click, end int64), bad func(off int64, why string)) (int64, error) {
	f, err := os.Open(l.segPath(seq))
	if errors.Is(err, os.ErrNotExist) {
		return off, nil
	}
	if err != nil {
		return off, fmt.Errorf("open click log segment: %w", err)
	}
	defer f.Close()
	var rd io.Reader = io.NewSectionReader(f, off, 1<<62)
	if limit >= 0 {
		rd = io.NewSectionReader(f, off, limit)
	}
	data, err := io.ReadAll(rd)
	if err != nil {
		return off, fmt.Errorf("read click log segment: %w", err)
	}
	pos := off
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		line := data
		if i >= 0 {
			line = data[:i]
			data = data[i+1:]
		} else {
			data = nil
		}
		start := pos
		pos += int64(len(line))
		if i >= 0 {
			pos++
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if len(line) > maxSpillLine {
			bad(start, "line too long")
			continue
		}
		c, why := parseClickLine(line)
		if why != "" {
			bad(start, why)
			continue
		}
		fn(c, pos)
	}
	return pos, nil
}

// removeBefore deletes the segments wholly before seq: every click in
// them is stored.
func (l *clickLog) removeBefore(seq int64) error {
	segs, err := l.segments()
	if err != nil {
		return err
	}
	for _, s := range segs {
		if s >= seq {
			break
		}
		if err := os.Remove(l.segPath(s)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove stored click log segment: %w", err)
		}
	}
	return nil
}

// writeCheckpoint records p, written to a temporary file and renamed so a
// crash leaves the old checkpoint or the new one. It is not fsynced: an
// older checkpoint after a power loss only means storing some clicks
// again, which stores nothing twice.
func (l *clickLog) writeCheckpoint(p logPos) error {
	tmp := filepath.Join(l.dir, checkpointName+".tmp")
	if err := os.WriteFile(tmp, fmt.Appendf(nil, "%d %d\n", p.Seq, p.Off), spillFileMode); err != nil {
		return fmt.Errorf("write click log checkpoint: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(l.dir, checkpointName)); err != nil {
		return fmt.Errorf("write click log checkpoint: %w", err)
	}
	return nil
}

func (l *clickLog) readCheckpoint() (logPos, bool) {
	data, err := os.ReadFile(filepath.Join(l.dir, checkpointName))
	if err != nil {
		return logPos{}, false
	}
	var p logPos
	if _, err := fmt.Sscanf(string(data), "%d %d", &p.Seq, &p.Off); err != nil || p.Off < 0 {
		return logPos{}, false
	}
	return p, true
}

// writerID names this data directory's writer in the click ledger. It is
// created once and kept, so a restart resumes its own ledger.
func writerID(dir string) (string, error) {
	if dir == "" {
		return newClickID(), nil
	}
	path := filepath.Join(dir, writerIDName)
	if data, err := os.ReadFile(path); err == nil {
		if id := string(bytes.TrimSpace(data)); clickIDPattern.MatchString(id) {
			return id, nil
		}
	}
	id := newClickID()
	if err := os.WriteFile(path, []byte(id+"\n"), spillFileMode); err != nil {
		return "", fmt.Errorf("write click writer id: %w", err)
	}
	return id, nil
}
