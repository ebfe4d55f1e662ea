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
// redirect wait: a bounded queue feeds one writer goroutine that inserts
// batches and then updates the daily rollups. Nothing accepted is dropped:
// when the queue is full or the database does not answer, clicks go to the
// spill file in the data directory and are replayed once the database is
// back, or at the next start.
//
// Counting rules, and the one window left: raw clicks are exact (each is
// stored once under its random _id however often it is replayed). A click
// is added to the rollups only when newly inserted, or when it was stored
// before but has no rolled mark yet (its first attempt failed after the
// insert; a mark is a document inserted under the click's _id after the
// rollups). Unique-visitor claims name the click that made them, so they
// are replay-safe too. If the process dies, or the database fails, after
// some of a batch's rollup updates are applied but before its marks are
// inserted, a replay counts those clicks in the rollups twice. The raw
// clicks remain the truth to rebuild rollups from.
type Recorder struct {
	store *ClickStore
	spill *spillFile
	log   *slog.Logger
	m     *recorderMetrics
	opts  recorderOptions

	queue    chan Click
	mu       sync.RWMutex // guards closed and drainCtx against Record
	closed   bool
	drainCtx context.Context
	done     chan struct{}
	closeErr error
	maxDepth atomic.Int64

	// Owned by the writer goroutine.
	healthy   bool
	nextProbe time.Time
	carry     []Click // clicks neither stored nor spilled yet (disk errors)
}

type recorderOptions struct {
	QueueSize     int
	BatchSize     int
	FlushInterval time.Duration
	RetryInterval time.Duration
}

type recorderMetrics struct {
	queued, written, spilled, replayed, corrupt, lost prometheus.Counter
}

func newRecorderMetrics(reg prometheus.Registerer, depth, maxDepth func() float64) (*recorderMetrics, error) {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &recorderMetrics{
		queued:   counter("affiliate_clicks_queued_total", "Clicks accepted into the in-memory queue."),
		written:  counter("affiliate_clicks_written_total", "Clicks newly stored in the database."),
		spilled:  counter("affiliate_clicks_spilled_total", "Clicks written to the spill file because the queue was full or the database did not answer."),
		replayed: counter("affiliate_clicks_replayed_total", "Clicks read back from the spill file and stored."),
		corrupt:  counter("affiliate_click_spill_corrupt_lines_total", "Damaged spill file lines skipped during replay."),
		lost:     counter("affiliate_clicks_lost_total", "Clicks neither stored nor spilled (both the database and the disk failed)."),
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
	for _, c := range []prometheus.Collector{m.queued, m.written, m.spilled, m.replayed, m.corrupt, m.lost, gauge, maxGauge} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register click metrics: %w", err)
		}
	}
	return m, nil
}

// newRecorder starts the writer; Close stops it.
func newRecorder(store *ClickStore, spill *spillFile, opts recorderOptions, reg prometheus.Registerer, log *slog.Logger) (*Recorder, error) {
	r := &Recorder{
		store: store, spill: spill, log: log, opts: opts,
		queue:   make(chan Click, opts.QueueSize),
		done:    make(chan struct{}),
		healthy: true,
	}
	m, err := newRecorderMetrics(reg, func() float64 { return float64(len(r.queue)) },
		func() float64 { return float64(r.MaxQueueDepth()) })
	if err != nil {
		return nil, err
	}
	r.m = m
	go r.run()
	return r, nil
}

// Record accepts a click. It never blocks on the database: when the queue
// is full, or the recorder is closing, the click goes to the spill file.
func (r *Recorder) Record(c Click) {
	r.mu.RLock()
	if !r.closed {
		select {
		case r.queue <- c:
			r.mu.RUnlock()
			r.m.queued.Inc()
			r.noteDepth(int64(len(r.queue)))
			return
		default:
		}
	}
	closed := r.closed
	r.mu.RUnlock()
	// While running, the writer fsyncs within a tick; once closed there is
	// no writer left, so the write is made durable now.
	if err := r.spill.append([]Click{c}, closed); err != nil {
		r.m.lost.Inc()
		r.log.Error("click lost: queue full and the spill file cannot be written", "err", err)
		return
	}
	r.m.spilled.Inc()
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

// Close stops accepting clicks into the queue, writes what is queued (to
// the database while ctx allows, else to the spill file) and waits for the
// writer. Clicks that arrive afterwards go straight to the spill file. The
// error reports clicks that could be neither stored nor spilled.
func (r *Recorder) Close(ctx context.Context) error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		r.drainCtx = ctx
		close(r.queue)
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

// run is the writer: batches by size or by time, then maintenance (fsync
// of overflow spills, probing the database, replaying the spill file).
func (r *Recorder) run() {
	defer close(r.done)
	tick := time.NewTicker(r.opts.FlushInterval)
	defer tick.Stop()
	batch := make([]Click, 0, r.opts.BatchSize)
	for {
		select {
		case c, ok := <-r.queue:
			if !ok {
				r.flush(batch)
				r.finish()
				return
			}
			batch = append(batch, c)
			if len(batch) >= r.opts.BatchSize {
				r.flush(batch)
				batch = make([]Click, 0, r.opts.BatchSize)
			}
		case <-tick.C:
			if len(batch) > 0 {
				r.flush(batch)
				batch = make([]Click, 0, r.opts.BatchSize)
			}
			r.maintain()
		}
	}
}

// flush stores a batch, or spills it when the database is known to be
// down or fails now.
func (r *Recorder) flush(batch []Click) {
	if len(batch) == 0 {
		return
	}
	ctx := r.opCtx()
	if r.healthy && ctx.Err() == nil {
		err := r.persist(ctx, batch)
		if err == nil {
			return
		}
		r.log.Warn("clicks database unavailable: spilling clicks to disk until it answers", "err", err, "clicks", len(batch))
		r.healthy = false
		r.nextProbe = time.Now().Add(r.opts.RetryInterval)
	}
	r.spillBatch(batch)
}

func (r *Recorder) spillBatch(batch []Click) {
	if err := r.spill.append(batch, true); err != nil {
		r.log.Error("cannot write the click spill file; keeping clicks in memory", "err", err, "clicks", len(batch))
		r.carry = append(r.carry, batch...)
		return
	}
	r.m.spilled.Add(float64(len(batch)))
}

// maintain runs once per tick.
func (r *Recorder) maintain() {
	if err := r.spill.sync(); err != nil {
		r.log.Error("cannot fsync the click spill file", "err", err)
	}
	if len(r.carry) > 0 {
		carried := r.carry
		r.carry = nil
		r.flush(carried)
	}
	if r.healthy && !r.spill.hasPending() {
		return
	}
	if time.Now().Before(r.nextProbe) {
		return
	}
	ctx := context.Background()
	if err := r.store.Ping(ctx); err != nil {
		r.nextProbe = time.Now().Add(r.opts.RetryInterval)
		return
	}
	if !r.healthy {
		r.log.Info("clicks database answers again")
		r.healthy = true
	}
	if err := r.replay(ctx); err != nil {
		r.spill.markPending()
		r.healthy = false
		r.nextProbe = time.Now().Add(r.opts.RetryInterval)
		r.log.Warn("replaying spilled clicks failed; will retry", "err", err)
	}
}

// replay stores the clicks of every spill file. A file is deleted only
// after all of it is stored; a replay cut short starts the file again next
// time, which stores nothing twice (see Recorder).
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

// finish runs after the last batch at shutdown.
func (r *Recorder) finish() {
	if len(r.carry) > 0 {
		carried := r.carry
		r.carry = nil
		r.spillBatch(carried)
	}
	if err := r.spill.close(); err != nil {
		r.log.Error("closing the click spill file", "err", err)
	}
	if n := len(r.carry); n > 0 {
		r.m.lost.Add(float64(n))
		r.closeErr = fmt.Errorf("affiliate: %d clicks could be neither stored nor spilled", n)
	}
}

// persist stores a batch and counts it in the rollups (see Recorder for
// why each step is safe to repeat).
func (r *Recorder) persist(ctx context.Context, batch []Click) error {
	clicks := dedupeClicks(batch)
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
	if err := r.store.ApplyRollups(ctx, deltas); err != nil {
		return err
	}
	return r.store.MarkRolled(ctx, toRoll)
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
