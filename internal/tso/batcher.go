package tso

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Fetch asks the oracle for count timestamps (a kv request).
type Fetch func(ctx context.Context, count uint32) (first uint64, err error)

// Batcher coalesces concurrent requests for timestamps into one Fetch:
// a single goroutine takes whatever requests are waiting (up to MaxCount)
// and serves them all from one call.
type Batcher struct {
	fetch   Fetch
	reqs    chan *waiter
	stopper chan struct{}
	wg      sync.WaitGroup
	// ctx ends with Stop, cancelling a fetch in flight.
	ctx    context.Context
	cancel context.CancelFunc
}

type waiter struct {
	ctx  context.Context
	done chan result // buffered(1)
}

type result struct {
	ts  uint64
	err error
}

var (
	fetchDuration = promauto.NewHistogram(prometheus.HistogramOpts{
		Name: "cairn_tso_fetch_duration_seconds", Help: "Latency of one batched call to the timestamp oracle.",
		Buckets: prometheus.ExponentialBuckets(50e-6, 2, 16),
	})
	fetchBatch = promauto.NewHistogram(prometheus.HistogramOpts{
		Name: "cairn_tso_fetch_batch", Help: "Timestamps requested by one call to the oracle.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 12),
	})
)

// batcherQueue bounds the waiting requests.
const batcherQueue = 4096

// fetchTimeout bounds one call to the oracle.
const fetchTimeout = 10 * time.Second

// ErrStopped is returned after Stop.
var ErrStopped = errors.New("tso: batcher stopped")

// NewBatcher starts a batcher; Stop ends it.
func NewBatcher(fetch Fetch) *Batcher {
	b := &Batcher{fetch: fetch, reqs: make(chan *waiter, batcherQueue), stopper: make(chan struct{})}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.wg.Add(1)
	go b.run()
	return b
}

// Now returns a timestamp greater than every timestamp handed out before
// this call started.
func (b *Batcher) Now(ctx context.Context) (uint64, error) {
	w := &waiter{ctx: ctx, done: make(chan result, 1)}
	select {
	case b.reqs <- w:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-b.stopper:
		return 0, ErrStopped
	}
	select {
	case r := <-w.done:
		return r.ts, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-b.stopper:
		return 0, ErrStopped
	}
}

func (b *Batcher) run() {
	defer b.wg.Done()
	batch := make([]*waiter, 0, 256)
	for {
		batch = batch[:0]
		select {
		case <-b.stopper:
			return
		case w := <-b.reqs:
			batch = append(batch, w)
		}
	drain:
		for len(batch) < MaxCount {
			select {
			case w := <-b.reqs:
				batch = append(batch, w)
			default:
				break drain
			}
		}
		ctx, cancel := context.WithTimeout(b.ctx, fetchTimeout)
		start := time.Now()
		first, err := b.fetch(ctx, uint32(len(batch)))
		cancel()
		fetchDuration.Observe(time.Since(start).Seconds())
		fetchBatch.Observe(float64(len(batch)))
		for i, w := range batch {
			w.done <- result{ts: first + Step*uint64(i), err: err}
		}
	}
}

// Stop ends the batcher; waiting calls return ErrStopped or their context's error.
func (b *Batcher) Stop() {
	close(b.stopper)
	b.cancel()
	b.wg.Wait()
}
