package changefeed

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Batch is what one step of a poller found.
type Batch struct {
	// Full means the poller cannot say what changed: its first step, a
	// gap longer than MaxGap, or FullEvery passed. Reload everything.
	Full bool
	// Keys are the keys of the entries this poller had not seen before,
	// sorted, each once. Nil when Full.
	Keys []string
}

// Empty reports whether the batch asks for nothing.
func (b Batch) Empty() bool { return !b.Full && len(b.Keys) == 0 }

// Poller follows a feed for one instance: each Step reads the feed and
// hands what changed to the handler. Steps are serialized.
type Poller struct {
	feed   *Feed
	handle func(context.Context, Batch) error

	mu        sync.Mutex // serializes steps and guards what follows
	started   bool       // a Full step has succeeded
	token     string     // the marker when the last step succeeded
	seen      map[string]bool
	lastOK    time.Time // the last step that succeeded
	lastFull  time.Time // the last Full step that succeeded
	lastPrune time.Time

	appliedMu sync.Mutex
	applied   map[string]time.Time // entry ID -> when Applied was called

	synced atomic.Int64 // lastOK, unix nanoseconds, for Synced
}

// NewPoller returns a poller of the feed that hands every batch that is
// not empty to handle. When handle fails, the step fails and nothing is
// marked seen: the next step hands the same changes again (and any newer
// ones), so handle must be idempotent, as it has to be anyway: a change
// can reach it both from its writer and from the feed.
func (f *Feed) NewPoller(handle func(ctx context.Context, b Batch) error) *Poller {
	return &Poller{feed: f, handle: handle, seen: map[string]bool{}, applied: map[string]time.Time{}}
}

// Step is one poll: it reads the marker and, when the marker moved (or the
// step is Full), the log; it hands a batch that is not empty to the
// handler, and returns the batch. On an error, which the handler's error
// is wrapped in, the poller's state is unchanged. Run calls Step on a
// ticker; tests call it directly.
func (p *Poller) Step(ctx context.Context) (Batch, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	o := &p.feed.opts
	now := o.Now()
	full := !p.started || now.Sub(p.lastOK) > o.MaxGap || now.Sub(p.lastFull) >= o.FullEvery

	// The marker is read before the log: an entry logged after this read
	// is followed by a marker move after it, which the next step sees.
	token, err := p.feed.token(ctx)
	if err != nil {
		return Batch{}, err
	}
	if !full && token == p.token {
		p.succeeded(ctx, now)
		return Batch{}, nil
	}
	log, err := p.feed.entries(ctx)
	if err != nil {
		return Batch{}, err
	}
	var b Batch
	if full {
		// A full reload, which the handler does after this read, covers
		// every entry in it: their changes were stored before they were
		// logged. So they count as seen.
		b.Full = true
	} else {
		b.Keys = p.unseen(log)
	}
	if !b.Empty() {
		if err := p.handle(ctx, b); err != nil {
			return Batch{}, fmt.Errorf("apply the changes of feed %q: %w", p.feed.name, err)
		}
	}

	p.token = token
	p.seen = make(map[string]bool, len(log))
	for _, e := range log {
		p.seen[e.ID] = true
	}
	p.forgetApplied(now)
	if full {
		p.started, p.lastFull = true, now
	}
	p.succeeded(ctx, now)
	return b, nil
}

// unseen returns the keys of entries neither seen nor applied locally.
func (p *Poller) unseen(log []entry) []string {
	p.appliedMu.Lock()
	defer p.appliedMu.Unlock()
	var keys []string
	for _, e := range log {
		if p.seen[e.ID] {
			continue
		}
		if _, ok := p.applied[e.ID]; ok {
			continue
		}
		keys = append(keys, e.Keys...)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// forgetApplied drops the locally applied entries that the log read just
// made seen, and those older than the retention (pruned, or never logged
// because Publish failed).
func (p *Poller) forgetApplied(now time.Time) {
	p.appliedMu.Lock()
	defer p.appliedMu.Unlock()
	for id, at := range p.applied {
		if p.seen[id] || now.Sub(at) > p.feed.opts.Retention {
			delete(p.applied, id)
		}
	}
}

// succeeded records a successful step and prunes the log when due. A
// failed prune is only logged: the next one catches up.
func (p *Poller) succeeded(ctx context.Context, now time.Time) {
	p.lastOK = now
	p.synced.Store(now.UnixNano())
	if now.Sub(p.lastPrune) < p.feed.opts.PruneEvery {
		return
	}
	if err := p.feed.prune(ctx); err != nil {
		if ctx.Err() == nil {
			p.feed.logger.Warn("cannot prune the change log", "err", err)
		}
		return
	}
	p.lastPrune = now
}

// Applied tells the poller that this instance has applied the change
// logged as entryID itself (a writer that updates its own instance's copy
// in its goroutine), so that no later step reports it. It is an
// optimization only: a step that read the entry before Applied was called
// reports it anyway.
func (p *Poller) Applied(entryID string) {
	p.appliedMu.Lock()
	defer p.appliedMu.Unlock()
	p.applied[entryID] = p.feed.opts.Now()
}

// Synced is when the last step succeeded (on the feed's clock): until
// then this instance knew every change published before it. Zero before
// the first.
func (p *Poller) Synced() time.Time {
	n := p.synced.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Run steps every interval until ctx ends. A failing step is logged once
// until a step succeeds again; the handler logs what it applies.
func (p *Poller) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := p.Step(ctx); err != nil {
			if !failing && ctx.Err() == nil {
				p.feed.logger.Warn("cannot follow the change feed; serving the last copy", "err", err)
			}
			failing = true
			continue
		}
		if failing {
			p.feed.logger.Info("following the change feed again")
		}
		failing = false
	}
}
