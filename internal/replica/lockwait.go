package replica

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/cairndb/cairn/internal/kvpb"
)

// lockWaitQueue lets a locking read (AcquireLock) that met another
// transaction's lock wait at the leaseholder until a command that clears
// that lock applies, instead of polling from the coordinator. The waiter
// takes its channel while it still holds its latches, so a release cannot
// slip in between (the releasing Resolve needs a write latch on the key).
// Waits are bounded (AcquireLockRequest.wait_ms, at most maxLockWait); the
// coordinator then checks that the holder is alive and for deadlocks, and
// asks again.
type lockWaitQueue struct {
	mu    sync.Mutex
	waits map[string]chan struct{}
}

// maxLockWait bounds one server-side wait.
const maxLockWait = time.Second

// maxLockWaitKeys bounds the keys with waiters: past it every waiter is
// woken (a spurious wake-up only makes a waiter evaluate again) and the
// queue starts over. Entries of keys whose lock is never cleared here (the
// lease moved, the clearing command failed) go that way too.
const maxLockWaitKeys = 10000

// channel returns a channel closed when a lock of key is next cleared.
func (q *lockWaitQueue) channel(key []byte) <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.waits == nil {
		q.waits = make(map[string]chan struct{})
	}
	ch, ok := q.waits[string(key)]
	if !ok {
		if len(q.waits) >= maxLockWaitKeys {
			for k, c := range q.waits {
				close(c)
				delete(q.waits, k)
			}
		}
		ch = make(chan struct{})
		q.waits[string(key)] = ch
	}
	return ch
}

// released wakes the waiters of keys (their locks were cleared).
func (q *lockWaitQueue) released(keys [][]byte) {
	if len(keys) == 0 {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, k := range keys {
		if ch, ok := q.waits[string(k)]; ok {
			close(ch)
			delete(q.waits, string(k))
		}
	}
}

// lockWaitFor returns how long a batch that failed with err may wait for
// the conflicting lock at the leaseholder, and that lock's key: only
// batches of AcquireLock requests that ask to wait do.
func lockWaitFor(reqs []*kvpb.RequestUnion, err error) (time.Duration, []byte) {
	var e *kvpb.Error
	if !errors.As(err, &e) || e.GetLockConflict() == nil || len(e.GetLockConflict().Locks) == 0 {
		return 0, nil
	}
	var wait time.Duration
	for _, q := range reqs {
		a := q.GetAcquireLock()
		if a == nil {
			return 0, nil
		}
		wait = max(wait, time.Duration(a.WaitMs)*time.Millisecond)
	}
	return min(wait, maxLockWait), e.GetLockConflict().Locks[0].Key
}

// Lock waits at the leaseholder, for operators and tests.
var (
	lockWaitsStarted atomic.Uint64
	_                = promauto.NewCounterFunc(prometheus.CounterOpts{
		Name: "cairn_lock_waits_total", Help: "Locking reads that waited at a leaseholder for a transaction's lock to be released.",
	}, func() float64 { return float64(lockWaitsStarted.Load()) })
	lockWaiters = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "cairn_lock_waiters", Help: "Locking reads waiting at this node's leaseholders for a transaction's lock to be released.",
	})
)

// LockWaitsStarted returns how many locking reads have started waiting for
// a lock in this process (every node of a test cluster included): a test
// knows a request reached a lock and waits, instead of guessing by time.
func LockWaitsStarted() uint64 { return lockWaitsStarted.Load() }

// lockWaitBegins records a wait until the returned function is called.
func lockWaitBegins() (ended func()) {
	lockWaitsStarted.Add(1)
	lockWaiters.Inc()
	return lockWaiters.Dec
}

// AwaitLockWait returns nil once a locking read has started waiting for a
// lock since LockWaitsStarted returned since, and an error if the request
// under test reports on finished first (it did not block) or ctx ends.
// Tests use it to know a request is blocked on a lock rather than guess it
// from elapsed time.
func AwaitLockWait(ctx context.Context, since uint64, finished <-chan error) error {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for lockWaitsStarted.Load() <= since {
		select {
		case err := <-finished:
			return fmt.Errorf("finished (%v) without waiting for a lock", err)
		case <-ctx.Done():
			return fmt.Errorf("no lock wait began: %w", ctx.Err())
		case <-tick.C:
		}
	}
	select {
	case err := <-finished:
		return fmt.Errorf("finished (%v) while the lock was held", err)
	default:
		return nil
	}
}
