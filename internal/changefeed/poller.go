package changefeed

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wellness/cms/internal/problem"
)

// Batch is what one step of a poller found.
type Batch struct {
	// Full means the poller cannot say what changed: its first step, a
	// gap longer than MaxGap, an entry pruned before it was read, a
	// writer that restarted its numbering, FullEvery passed, or another
	// writer said so (Feed.PublishAll). Reload everything.
	Full bool
	// Keys are the keys of the other writers' entries this poller had
	// not seen before, sorted, each once. Nil when Full.
	Keys []string
}

// Empty reports whether the batch asks for nothing.
func (b Batch) Empty() bool { return !b.Full && len(b.Keys) == 0 }

// Poller follows a feed for one instance: each Step reads the feed and
// hands what other writers changed to the handler. Steps are serialized.
type Poller struct {
	feed   *Feed
	handle func(context.Context, Batch) error

	mu      sync.Mutex // serializes steps and guards what follows
	started bool       // a Full step has succeeded
	// seen is, per other writer, the last entry read (or covered by a
	// Full step); said is the last its head said at that step.
	seen      map[string]int64
	said      map[string]int64
	lastOK    time.Time // the last step that succeeded
	lastFull  time.Time // the last Full step that succeeded
	lastPrune time.Time

	synced atomic.Int64 // lastOK, unix nanoseconds, for Synced
}

// NewPoller returns a poller of the feed that hands every batch that is
// not empty to handle. When handle fails, the step fails and nothing is
// marked seen: the next step hands the same changes again (and any newer
// ones), so handle must be idempotent, as it has to be anyway: a change
// can be published twice.
func (f *Feed) NewPoller(handle func(ctx context.Context, b Batch) error) *Poller {
	return &Poller{feed: f, handle: handle, seen: map[string]int64{}, said: map[string]int64{}}
}

// Step is one poll: it publishes what a failed Publish left pending,
// reads the writers' heads and, for each other writer whose head moved,
// its new entries by _id; it hands a batch that is not empty to the
// handler, and returns the batch. On an error, which the handler's error
// is wrapped in, the poller's state is unchanged. Run calls Step on a
// ticker; tests call it directly.
func (p *Poller) Step(ctx context.Context) (Batch, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	o := &p.feed.opts
	now := o.Now()
	full := !p.started || now.Sub(p.lastOK) > o.MaxGap || (o.FullEvery > 0 && now.Sub(p.lastFull) >= o.FullEvery)

	// With the database up a flush does not fail (an entry number taken
	// twice is skipped), so a failure fails the step, logged by Run.
	if err := p.feed.flush(ctx); err != nil {
		return Batch{}, fmt.Errorf("publish the pending changes of feed %q: %w", p.feed.name, err)
	}
	heads, err := p.feed.readHeads(ctx)
	if err != nil {
		return Batch{}, err
	}
	heads = slices.DeleteFunc(heads, func(h head) bool { return p.feed.own(h.Writer) })
	var b Batch
	seen := map[string]int64{}
	if !full {
		var keys []string
		if seen, keys, err = p.read(ctx, heads); errors.Is(err, errMissed) || errors.Is(err, errAll) {
			full = true
		} else if err != nil {
			return Batch{}, err
		}
		slices.Sort(keys)
		b.Keys = slices.Compact(keys)
	}
	if full {
		// A full reload, which the handler does after the heads were
		// read, covers every entry they say: their changes were stored
		// before they were logged. So they count as seen.
		b = Batch{Full: true}
		seen = map[string]int64{}
		for _, h := range heads {
			seen[h.Writer] = h.Last
		}
	}
	if !b.Empty() {
		if err := p.handle(ctx, b); err != nil {
			return Batch{}, fmt.Errorf("apply the changes of feed %q: %w", p.feed.name, err)
		}
	}

	p.seen, p.said = seen, make(map[string]int64, len(heads))
	for _, h := range heads {
		p.said[h.Writer] = h.Last
	}
	if full {
		p.started, p.lastFull = true, now
	}
	p.succeeded(ctx, now, heads)
	return b, nil
}

// errMissed says a step cannot know what it missed: its next batch is Full.
var errMissed = errors.New("entries missed")

// errAll says a step read an entry of PublishAll: its batch is Full.
var errAll = errors.New("everything changed")

// read reads the entries the heads say and this poller has not seen, at
// most maxReadsPerStep of them, and returns what it will then have seen
// and their keys. errMissed when an entry it needs is gone, errAll when
// an entry says everything changed.
func (p *Poller) read(ctx context.Context, heads []head) (map[string]int64, []string, error) {
	seen := maps.Clone(p.seen)
	budget := maxReadsPerStep
	var keys []string
	present := make(map[string]bool, len(heads))
	for _, h := range heads {
		present[h.Writer] = true
		from, known := p.seen[h.Writer]
		switch {
		case !known:
			// A writer that started after this poller's Full step: its
			// entries from the first it keeps (older ones were covered
			// by that Full step, or are older than any gap this poller
			// survived without a Full step).
			from = max(h.From, 1) - 1
		case h.Last < from:
			return nil, nil, errMissed // the same ID numbering again
		case h.From > from+1:
			return nil, nil, errMissed // pruned before this poller read them
		}
		n := from
		for ; n < h.Last && budget > 0; budget-- {
			e, err := p.feed.readEntry(ctx, h.Writer, n+1)
			if errors.Is(err, problem.NotFound) {
				return nil, nil, errMissed
			}
			if err != nil {
				return nil, nil, err
			}
			if e.All {
				return nil, nil, errAll
			}
			keys = append(keys, e.Keys...)
			n++
		}
		seen[h.Writer] = n
	}
	// A head that is gone belonged to a writer silent for longer than
	// the retention (heads are only removed then, see Feed.prune). Since
	// its last write, this poller has stepped at least every MaxGap
	// (else this step would be Full) and each of those steps read its
	// head, so it has read every entry up to the last that head said,
	// unless a step was capped by maxReadsPerStep: that shows as seen
	// short of said, and then it cannot know what it missed. Otherwise
	// there is nothing more to read and it just forgets the writer; its
	// entries are older than MaxGap anyway and are being pruned.
	for w, n := range p.seen {
		if present[w] {
			continue
		}
		if n < p.said[w] {
			return nil, nil, errMissed
		}
		delete(seen, w)
	}
	return seen, keys, nil
}

// succeeded records a successful step and prunes when due. A failed
// prune is only logged: the next one catches up.
func (p *Poller) succeeded(ctx context.Context, now time.Time, heads []head) {
	p.lastOK = now
	p.synced.Store(now.UnixNano())
	if now.Sub(p.lastPrune) < p.feed.opts.PruneEvery {
		return
	}
	if err := p.feed.prune(ctx, heads); err != nil {
		if ctx.Err() == nil {
			p.feed.logger.Warn("cannot prune the change log", "err", err)
		}
		return
	}
	p.lastPrune = now
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
