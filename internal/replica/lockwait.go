package replica

import (
	"errors"
	"sync"
	"time"

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
