package server

import (
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// LogWriter buffers log output in memory and writes it from a background
// goroutine every 100 ms, or sooner once 64 KB are waiting, and at Close.
//
// Why this design rather than a bufio.Writer under a mutex: a request
// holding the mutex while bufio writes a full buffer would wait on stderr,
// which can block for seconds when a log collector stalls a pipe. Here a
// request only copies its line into a buffer under a mutex; only the
// background goroutine writes, and it swaps the buffer out first. The
// buffer is bounded (4 MB): if the output is stuck that long, further
// lines are dropped and counted (cms_log_lines_dropped_total) instead of
// blocking requests or growing without bound. Close writes everything
// still buffered, so a shutdown loses nothing.
type LogWriter struct {
	out     io.Writer
	max     int
	dropped atomic.Uint64

	mu     sync.Mutex
	buf    []byte
	spare  []byte
	closed bool

	outMu    sync.Mutex // serializes writes to out
	wake     chan struct{}
	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

const (
	logFlushEvery = 100 * time.Millisecond
	logFlushAt    = 64 << 10
	logBufferMax  = 4 << 20
)

// NewLogWriter starts the background writer to out; Close stops it.
func NewLogWriter(out io.Writer) *LogWriter {
	w := &LogWriter{
		out: out, max: logBufferMax,
		buf:  make([]byte, 0, logFlushAt),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go w.run()
	return w
}

// Write copies p into the buffer. It never waits for the output. A log
// handler calls it once per record, so p is whole lines.
func (w *LogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		// After Close there is no background writer: write through.
		w.outMu.Lock()
		defer w.outMu.Unlock()
		return w.out.Write(p)
	}
	if len(w.buf)+len(p) > w.max {
		w.mu.Unlock()
		w.dropped.Add(1)
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	full := len(w.buf) >= logFlushAt
	w.mu.Unlock()
	if full {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

// Dropped is how many lines were dropped because the buffer was full.
func (w *LogWriter) Dropped() uint64 { return w.dropped.Load() }

func (w *LogWriter) run() {
	defer close(w.done)
	tick := time.NewTicker(logFlushEvery)
	defer tick.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-tick.C:
		case <-w.wake:
		}
		w.Flush()
	}
}

// Flush writes what is buffered now.
func (w *LogWriter) Flush() {
	w.outMu.Lock()
	defer w.outMu.Unlock()
	w.mu.Lock()
	data := w.buf
	w.buf, w.spare = w.spare[:0], nil
	w.mu.Unlock()
	if len(data) > 0 {
		// A failing stderr has nowhere to report to; the lines are gone.
		_, _ = w.out.Write(data)
	}
	w.mu.Lock()
	if w.spare == nil && cap(data) <= 4*logFlushAt {
		w.spare = data[:0]
	}
	w.mu.Unlock()
}

// Close stops the background writer and writes everything buffered;
// later writes go straight to the output.
func (w *LogWriter) Close() error {
	w.stopOnce.Do(func() { close(w.stop) })
	<-w.done
	w.outMu.Lock()
	w.mu.Lock()
	data := w.buf
	w.buf, w.closed = nil, true
	w.mu.Unlock()
	var err error
	if len(data) > 0 {
		_, err = w.out.Write(data)
	}
	w.outMu.Unlock()
	return err
}
