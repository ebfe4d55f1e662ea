package affiliate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Recorder takes clicks from redirects and stores them without making a
// redirect wait on the database.
//
// Durability: Record appends the click to the click log in the data
// directory (one write call; see clickLog) before it returns, that is
// before the redirect is answered, so a click whose 302 went out is in a
// file the kernel owns and survives SIGKILL or an OOM kill of the process.
// The writer fsyncs the log every tick (FlushInterval, 1 s by default), so
// a power loss or kernel crash can take at most that last tick of clicks;
// nothing can count those. Only then is the click offered to the bounded
// in-memory queue, so the queue holds nothing that is not in the log. When
// the queue is full, or the database does not answer, the click is in the
// log only, and the writer reads it back from there.
//
// The writer stores clicks in log order, from the queue while it keeps
// up and from the log file where the queue has gaps, and keeps a
// checkpoint: the place in the log up to which every click is stored.
// Fully stored segments are deleted. At start the log is replayed from
// the checkpoint. Clicks are stored once however often they are replayed:
// each is inserted under its random _id.
//
// Rollups, exactly once: a click is counted when newly inserted, or when
// stored before but not yet marked rolled. Per batch, the writer (one per
// data directory, named in clicks-writer-id) first writes its ledger, one
// document under its own _id holding the batch's sequence number, its
// rollup increments and the marks to insert; then it applies the
// increments, each rollup document remembering in the same update the
// last ledger sequence of this writer applied to it (applied.<writer>);
// then it inserts the marks. After a crash or a database failure at any
// step, the writer first finishes its last ledger: increments whose
// rollup already remembers the ledger are skipped, marks already there
// are duplicates. So no increment is applied twice, and a click is either
// marked (counted) or not yet counted at all. This uses only inserts and
// updates by _id, which both engines apply atomically per document.
//
// Pacing: while clicks keep arriving, the writer spends at most BusyShare
// of its time storing them (it pauses after each batch), so a burst of
// redirects gets the CPU and the database engine's share of it (on the
// embedded engine they share the process) and the log takes the backlog,
// which the writer stores at full speed once the burst is over, or as
// soon as the backlog passes maxPacedBacklog. affiliate_click_log_backlog_bytes
// shows it.
//
// Legacy spill files (clicks-spill*.jsonl, written by earlier versions)
// are replayed the same way once the database answers.
type Recorder struct {
	store  *ClickStore
	clog   *clickLog
	spill  *spillFile
	writer string // this data directory's name in the click ledger
	log    *slog.Logger
	m      *recorderMetrics
	opts   recorderOptions

	queue    chan queuedClick
	mu       sync.RWMutex // guards closed and drainCtx against Record
	closed   bool
	closing  chan struct{}
	drainCtx context.Context
	done     chan struct{}
	closeErr error
	maxDepth atomic.Int64
	arrived  atomic.Int64           // clicks recorded since start
	storedAt atomic.Pointer[logPos] // r.stored, for the backlog gauge

	// Owned by the writer goroutine.
	healthy     bool
	nextProbe   time.Time
	batch       []Click
	next        logPos // after the last logged click taken into batch
	stored      logPos // every logged click before it is stored
	checkpoint  logPos // the stored position last written to disk
	ledgerSeq   int64
	needRecover bool // the last ledger may be unfinished
	unlogged    int  // clicks in batch that are not in the log
	seenArrived int64
	lastSync    time.Time

	// fault, in tests, fails persist before the named step: a crash
	// there.
	fault func(step string) error
}

// queuedClick is a click in the queue and, when logged, its place in the
// click log.
type queuedClick struct {
	c          Click
	start, end logPos
	logged     bool
}

type recorderOptions struct {
	QueueSize     int
	BatchSize     int
	FlushInterval time.Duration
	RetryInterval time.Duration
	// BusyShare is the most of its time the writer spends storing while
	// clicks keep arriving (see Recorder); 0 or 1: no pauses.
	BusyShare float64
}

// The writer's pause after a batch is at most maxPause, and it does not
// pause while the log holds more than maxPacedBacklog bytes it has not
// stored (about 250,000 clicks).
const (
	maxPause        = 250 * time.Millisecond
	maxPacedBacklog = 64 << 20
)

type recorderMetrics struct {
	queued, written, spilled, replayed, corrupt, lost prometheus.Counter
}

func newRecorderMetrics(reg prometheus.Registerer, depth, maxDepth, backlog func() float64) (*recorderMetrics, error) {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &recorderMetrics{
		queued:   counter("affiliate_clicks_queued_total", "Clicks logged and accepted into the in-memory queue."),
		written:  counter("affiliate_clicks_written_total", "Clicks newly stored in the database."),
		spilled:  counter("affiliate_clicks_spilled_total", "Clicks logged but not queued (queue full, database down, or closing): stored later from the click log."),
		replayed: counter("affiliate_clicks_replayed_total", "Clicks read back from the click log or a spill file and stored."),
		corrupt:  counter("affiliate_click_spill_corrupt_lines_total", "Damaged click log or spill file lines skipped during replay."),
		lost:     counter("affiliate_clicks_lost_total", "Clicks that could not be appended to the click log (a disk error): kept in memory only, so gone if the process dies before storing them. Clicks lost to a power loss within the last fsync interval cannot be counted."),
	}
	if reg == nil {
		return m, nil
	}
	gauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "affiliate_click_queue_depth", Help: "Clicks waiting in the in-memory queue.",
	}, depth)
	maxGauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "affiliate_click_queue_depth_max", Help: "The most clicks that have waited in the queue at once since start.",
	}, maxDepth)
	backlogGauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "affiliate_click_log_backlog_bytes", Help: "Bytes of the click log not yet stored in the database: clicks whose rollups are still to come.",
	}, backlog)
	for _, c := range []prometheus.Collector{m.queued, m.written, m.spilled, m.replayed, m.corrupt, m.lost, gauge, maxGauge, backlogGauge} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register click metrics: %w", err)
		}
	}
	return m, nil
}

// newRecorder opens the click log in the spill file's directory and starts
// the writer, which first replays what an earlier run left; Close stops it.
func newRecorder(store *ClickStore, spill *spillFile, opts recorderOptions, reg prometheus.Registerer, log *slog.Logger) (*Recorder, error) {
	r, err := prepareRecorder(store, spill, opts, reg, log)
	if err != nil {
		return nil, err
	}
	go r.run()
	return r, nil
}

// prepareRecorder is newRecorder without starting the writer.
func prepareRecorder(store *ClickStore, spill *spillFile, opts recorderOptions, reg prometheus.Registerer, log *slog.Logger) (*Recorder, error) {
	clog, from, err := openClickLog(spill.dir)
	if err != nil {
		return nil, err
	}
	writer, err := writerID(spill.dir)
	if err != nil {
		return nil, err
	}
	r := &Recorder{
		store: store, clog: clog, spill: spill, writer: writer, log: log, opts: opts,
		queue:   make(chan queuedClick, opts.QueueSize),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
		healthy: true, needRecover: true,
		next: from, stored: from, checkpoint: from,
	}
	r.storedAt.Store(&from)
	m, err := newRecorderMetrics(reg, func() float64 { return float64(len(r.queue)) },
		func() float64 { return float64(r.MaxQueueDepth()) }, func() float64 { return float64(r.Backlog()) })
	if err != nil {
		return nil, err
	}
	r.m = m
	return r, nil
}

// Record accepts a click. It never waits on the database: it appends the
// click to the click log (one write call) and offers it to the queue;
// when the queue is full the log alone holds it until the writer reads it
// back. After Close it fsyncs the append, as no writer is left to.
func (r *Recorder) Record(c Click) {
	r.arrived.Add(1)
	r.mu.RLock()
	closed := r.closed
	logged, queued := false, false
	err := r.clog.append(&c, closed, func(start, end logPos) {
		logged = r.clog.dir != ""
		if closed {
			return
		}
		select {
		case r.queue <- queuedClick{c: c, start: start, end: end, logged: logged}:
			queued = true
		default:
		}
	})
	if err != nil && !logged && !queued && !closed {
		// Not in the log: memory is all that is left.
		select {
		case r.queue <- queuedClick{c: c}:
			queued = true
		default:
		}
	}
	r.mu.RUnlock()
	switch {
	case err != nil && !errors.Is(err, errNoSpillDir):
		r.m.lost.Inc()
		r.log.Error("click not durable: the click log cannot be written", "err", err, "queued", queued)
	case !logged && !queued:
		r.m.lost.Inc()
		r.log.Error("click lost: queue full and no data directory for the click log")
	}
	if queued {
		r.m.queued.Inc()
		r.noteDepth(int64(len(r.queue)))
	} else if logged {
		r.m.spilled.Inc()
	}
}

func (r *Recorder) noteDepth(d int64) {
	for {
		cur := r.maxDepth.Load()
		if d <= cur || r.maxDepth.CompareAndSwap(cur, d) {
			return
		}
	}
}

// MaxQueueDepth is the largest queue depth seen since start.
func (r *Recorder) MaxQueueDepth() int { return int(r.maxDepth.Load()) }

// Backlog is how many bytes of the click log are not stored yet.
func (r *Recorder) Backlog() int64 { return r.storedAt.Load().bytesTo(r.clog.end()) }

// Close stops accepting clicks into the queue, stores what is queued and
// what the log holds beyond it while ctx allows, and waits for the writer.
// What it cannot store stays in the click log for the next start. Clicks
// that arrive afterwards are appended to the log and fsynced. The error
// reports clicks that were in memory only (see affiliate_clicks_lost_total)
// and could not be stored.
func (r *Recorder) Close(ctx context.Context) error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		r.drainCtx = ctx
		close(r.queue)
		close(r.closing)
	}
	r.mu.Unlock()
	<-r.done
	return r.closeErr
}

// opCtx is the context of database work: unbounded (each call has its own
// timeout) while running, the caller's deadline while draining.
func (r *Recorder) opCtx() context.Context {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.drainCtx != nil {
		return r.drainCtx
	}
	return context.Background()
}

// run is the writer: it takes clicks from the queue while the database
// keeps up, and on every tick fsyncs the log, stores what is batched,
// reads back from the log what the queue did not hold, writes the
// checkpoint, and probes a database that failed.
func (r *Recorder) run() {
	defer close(r.done)
	tick := time.NewTicker(r.opts.FlushInterval)
	defer tick.Stop()
	r.batch = make([]Click, 0, r.opts.BatchSize)
	for {
		var queue <-chan queuedClick
		if r.healthy && len(r.batch) < r.opts.BatchSize {
			queue = r.queue
		}
		select {
		case q, ok := <-queue:
			if !ok {
				r.drain()
				return
			}
			r.accept(q)
		case <-tick.C:
			r.maintain()
		case <-r.closing:
			r.drain()
			return
		}
	}
}

// accept takes a queued click into the batch, first reading from the log
// whatever lies between the last click taken and this one (clicks that
// found the queue full).
func (r *Recorder) accept(q queuedClick) {
	if !q.logged {
		r.batch = append(r.batch, q.c)
		r.unlogged++
	} else {
		if q.start.before(r.next) {
			return // already read back from the log
		}
		if q.start != r.next && !r.catchUp(q.start) {
			return // still in the log; a later catch-up reads it
		}
		if q.start != r.next {
			return
		}
		r.batch = append(r.batch, q.c)
		r.next = q.end
	}
	if len(r.batch) >= r.opts.BatchSize {
		r.flush()
	}
}

// catchUp reads the log from r.next to `to` into batches and stores them.
// It stops, returning false, when the database fails.
func (r *Recorder) catchUp(to logPos) bool {
	if r.clog.dir == "" {
		return true
	}
	for r.next.before(to) {
		limit := int64(-1)
		if r.next.Seq == to.Seq {
			limit = to.Off - r.next.Off
		}
		ok := true
		seq := r.next.Seq
		end, err := r.clog.read(seq, r.next.Off, limit, func(c Click, end int64) {
			if !ok {
				return
			}
			r.batch = append(r.batch, c)
			r.next = logPos{Seq: seq, Off: end}
			r.m.replayed.Inc()
			if len(r.batch) >= r.opts.BatchSize {
				ok = r.flush()
			}
		}, func(off int64, why string) {
			if ok {
				r.m.corrupt.Inc()
				r.log.Warn("skipped a damaged line of the click log", "segment", seq, "offset", off, "reason", why)
			}
		})
		if err != nil {
			r.log.Error("cannot read the click log", "err", err)
			return false
		}
		if !ok {
			return false
		}
		r.next.Off = end
		if seq < to.Seq {
			r.next = logPos{Seq: seq + 1}
		}
	}
	return true
}

// flush stores the batch; on failure it keeps it for the next attempt and
// marks the database down.
func (r *Recorder) flush() bool {
	if len(r.batch) > 0 {
		ctx := r.opCtx()
		err := ctx.Err()
		start := time.Now()
		if err == nil {
			err = r.persist(ctx, r.batch)
		}
		if err != nil {
			if r.healthy {
				r.log.Warn("clicks database unavailable: clicks wait in the click log until it answers", "err", err, "clicks", len(r.batch))
			}
			r.healthy = false
			r.nextProbe = time.Now().Add(r.opts.RetryInterval)
			return false
		}
		r.batch = r.batch[:0]
		r.unlogged = 0
		r.setStored(r.next)
		r.pace(time.Since(start))
		return true
	}
	r.setStored(r.next)
	return true
}

func (r *Recorder) setStored(p logPos) {
	if p != r.stored {
		r.stored = p
		r.storedAt.Store(&p)
	}
}

// pace pauses the writer after a batch that took `took`, as pauseAfter
// says, and fsyncs the log when a tick has passed.
func (r *Recorder) pace(took time.Duration) {
	r.syncIfDue()
	n := r.arrived.Load()
	arriving := n != r.seenArrived
	r.seenArrived = n
	pause := pauseAfter(took, r.opts.BusyShare, arriving, r.stored.bytesTo(r.clog.end()))
	if pause <= 0 {
		return
	}
	t := time.NewTimer(pause)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.closing:
	}
}

// pauseAfter is the writer's pause after a batch that took `took`, so
// that while clicks keep arriving it stores for at most share of its time
// (see Recorder): none once arrivals stop, with share 0 or 1, or while
// the log holds more than maxPacedBacklog bytes not yet stored; at most
// maxPause.
func pauseAfter(took time.Duration, share float64, arriving bool, backlog int64) time.Duration {
	if !arriving || share <= 0 || share >= 1 || backlog > maxPacedBacklog {
		return 0
	}
	return min(time.Duration(float64(took)*(1-share)/share), maxPause)
}

// syncIfDue fsyncs the click log when the last fsync is a tick old: a
// long catch-up runs many batches between ticks.
func (r *Recorder) syncIfDue() {
	if time.Since(r.lastSync) < r.opts.FlushInterval {
		return
	}
	if err := r.clog.sync(); err != nil {
		r.log.Error("cannot fsync the click log", "err", err)
	}
	r.lastSync = time.Now()
}

// maintain runs once per tick.
func (r *Recorder) maintain() {
	r.lastSync = time.Time{}
	r.syncIfDue()
	if !r.healthy {
		if time.Now().Before(r.nextProbe) {
			return
		}
		if err := r.store.Ping(context.Background()); err != nil {
			r.nextProbe = time.Now().Add(r.opts.RetryInterval)
			return
		}
		r.log.Info("clicks database answers again")
		r.healthy = true
	}
	if r.flush() && r.catchUp(r.clog.end()) {
		r.flush()
	}
	r.saveCheckpoint()
	if r.healthy && r.spill.hasPending() {
		if err := r.replay(context.Background()); err != nil {
			r.spill.markPending()
			r.healthy = false
			r.nextProbe = time.Now().Add(r.opts.RetryInterval)
			r.log.Warn("replaying spilled clicks failed; will retry", "err", err)
		}
	}
}

// saveCheckpoint records how far the log is stored and deletes the
// segments before it.
func (r *Recorder) saveCheckpoint() {
	if r.clog.dir == "" || r.stored == r.checkpoint {
		return
	}
	if err := r.clog.writeCheckpoint(r.stored); err != nil {
		r.log.Error("cannot write the click log checkpoint", "err", err)
		return
	}
	r.checkpoint = r.stored
	if err := r.clog.removeBefore(r.stored.Seq); err != nil {
		r.log.Error("cannot remove stored click log segments", "err", err)
	}
}

// drain runs at Close: what is queued, then the rest of the log, while
// the drain context allows.
func (r *Recorder) drain() {
	for q := range r.queue {
		r.accept(q)
	}
	if r.flush() && r.catchUp(r.clog.end()) {
		r.flush()
	}
	r.saveCheckpoint()
	if err := r.clog.close(); err != nil {
		r.log.Error("closing the click log", "err", err)
	}
	if len(r.batch) > 0 && r.unlogged > 0 {
		r.m.lost.Add(float64(r.unlogged))
		r.closeErr = fmt.Errorf("affiliate: %d clicks could be neither stored nor logged", r.unlogged)
	}
}

// replay stores the clicks of every legacy spill file. A file is deleted
// only after all of it is stored; a replay cut short starts the file
// again next time, which stores nothing twice (see Recorder).
func (r *Recorder) replay(ctx context.Context) error {
	files, err := r.spill.take()
	if err != nil {
		return err
	}
	for _, path := range files {
		chunk := make([]Click, 0, r.opts.BatchSize)
		n := 0
		store := func() error {
			if len(chunk) == 0 {
				return nil
			}
			if err := r.persist(ctx, chunk); err != nil {
				return err
			}
			r.m.replayed.Add(float64(len(chunk)))
			n += len(chunk)
			chunk = chunk[:0]
			return nil
		}
		err := readSpill(path, func(c Click) error {
			chunk = append(chunk, c)
			if len(chunk) >= r.opts.BatchSize {
				return store()
			}
			return nil
		}, func(line int, why string) {
			r.m.corrupt.Inc()
			r.log.Warn("skipped a damaged line of the click spill file", "file", filepath.Base(path), "line", line, "reason", why)
		})
		if err == nil {
			err = store()
		}
		if err != nil {
			return fmt.Errorf("replay %s: %w", filepath.Base(path), err)
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove replayed click file: %w", err)
		}
		r.log.Info("replayed spilled clicks", "file", filepath.Base(path), "clicks", n)
	}
	return nil
}

// step is a point between persist's writes where a test can fail it.
func (r *Recorder) step(name string) error {
	if r.fault == nil {
		return nil
	}
	return r.fault(name)
}

// persist stores a batch and counts it in the rollups exactly once (see
// Recorder): insert, claim visitors, write the ledger, apply it, mark.
func (r *Recorder) persist(ctx context.Context, batch []Click) error {
	if r.needRecover {
		l, err := r.store.readLedger(ctx, r.writer)
		if err != nil {
			return err
		}
		if l != nil {
			r.ledgerSeq = l.Seq
			if err := r.finishLedger(ctx, l, true); err != nil {
				return err
			}
		}
		r.needRecover = false
	}
	clicks := dedupeClicks(batch)
	if err := r.step("insert"); err != nil {
		return err
	}
	dups, err := r.store.InsertClicks(ctx, clicks)
	if err != nil {
		return err
	}
	r.m.written.Add(float64(len(clicks) - len(dups)))
	toRoll := make([]Click, 0, len(clicks))
	for i := range clicks {
		if dups[i] {
			rolled, err := r.store.IsRolled(ctx, clicks[i].ID)
			if err != nil {
				return err
			}
			if rolled {
				continue
			}
		}
		toRoll = append(toRoll, clicks[i])
	}
	if len(toRoll) == 0 {
		return nil
	}
	if err := r.step("claim"); err != nil {
		return err
	}
	unique, err := r.store.ClaimVisitors(ctx, toRoll)
	if err != nil {
		return err
	}
	deltas := map[rollupKey]Counts{}
	for i := range toRoll {
		c := &toRoll[i]
		k := rollupKey{Day: c.Day, Product: c.Product, Article: c.Article, Position: c.Position}
		d := deltas[k]
		switch {
		case c.Bot:
			d.BotClicks++
		case unique[c.ID]:
			d.Clicks++
			d.UniqueClicks++
		default:
			d.Clicks++
		}
		deltas[k] = d
	}
	l := &ledger{Writer: r.writer, Seq: r.ledgerSeq + 1, Marks: make([]rolledMark, len(toRoll))}
	for k, d := range deltas {
		l.Deltas = append(l.Deltas, ledgerDelta{Key: k, Counts: d})
	}
	for i := range toRoll {
		l.Marks[i] = rolledMark{ID: toRoll[i].ID, Day: toRoll[i].Day}
	}
	if err := r.step("ledger"); err != nil {
		return err
	}
	// From here the ledger may be written even if the call fails.
	r.needRecover = true
	if err := r.store.writeLedger(ctx, l); err != nil {
		return err
	}
	r.ledgerSeq = l.Seq
	if err := r.finishLedger(ctx, l, false); err != nil {
		return err
	}
	r.needRecover = false
	return nil
}

// finishLedger applies a written ledger and inserts its marks; both are
// safe to repeat. resumed says the ledger may be partly applied already.
func (r *Recorder) finishLedger(ctx context.Context, l *ledger, resumed bool) error {
	if err := r.step("rollup"); err != nil {
		return err
	}
	if err := r.store.applyLedger(ctx, l, resumed); err != nil {
		return err
	}
	if err := r.step("mark"); err != nil {
		return err
	}
	return r.store.markRolled(ctx, l.Marks)
}

// dedupeClicks drops repeated IDs within a batch (a click spilled twice),
// keeping the first.
func dedupeClicks(batch []Click) []Click {
	seen := make(map[string]bool, len(batch))
	out := batch[:0:0]
	for _, c := range batch {
		if !seen[c.ID] {
			seen[c.ID] = true
			out = append(out, c)
		}
	}
	return out
}
