package replica

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"

	"github.com/cockroachdb/pebble/v2"

	"github.com/cairndb/cairn/internal/storage"
)

// lockCount is the number of transaction locks in a range's MVCC span, kept
// with the applied state (RangeLockCountKey) so that a plain write can skip
// looking its key's lock up when the range holds none — that lookup, a
// Pebble Get that walks the memtable, was a fifth of a leaseholder's CPU
// under a stream of puts.
//
// Every command carries the delta its evaluation computed (evalContext
// putLock/clearLock know whether the key held a lock: they run under the
// key's latch, on the state the command applies to). Apply adds it; a split
// hands the right half the number of locks counted in it at evaluation; a
// snapshot counts the locks it installs. A range created before the count
// existed, or whose count went wrong, has an unknown count, and its writers
// look locks up as before.
type lockCount struct {
	n     int64
	known bool
}

// none reports whether the range certainly holds no lock.
func (c lockCount) none() bool { return c.known && c.n == 0 }

// add applies a command's delta. A count that would go negative is wrong:
// it becomes unknown, logged with the range id.
func (c lockCount) add(delta int64, rangeID uint64) lockCount {
	if !c.known {
		return c
	}
	if c.n += delta; c.n < 0 {
		slog.Error("range lock count went negative; its writers look locks up from now on", "range", rangeID, "count", c.n)
		return lockCount{}
	}
	return c
}

// readLockCount reads a range's persisted lock count.
func readLockCount(rd storage.Reader, rangeID uint64) (lockCount, error) {
	v, err := storage.Get(rd, storage.RangeLockCountKey(rangeID))
	if errors.Is(err, storage.ErrNotFound) {
		return lockCount{}, nil
	}
	if err != nil {
		return lockCount{}, err
	}
	if len(v) != 8 {
		return lockCount{}, fmt.Errorf("range %d: corrupt lock count", rangeID)
	}
	return lockCount{n: int64(binary.BigEndian.Uint64(v)), known: true}, nil
}

// writeLockCount persists c (an unknown count deletes the key).
func writeLockCount(w storage.Writer, rangeID uint64, c lockCount) error {
	if !c.known {
		return w.Delete(storage.RangeLockCountKey(rangeID), nil)
	}
	return w.Set(storage.RangeLockCountKey(rangeID), encodeUint64(uint64(c.n)), nil)
}

// countLocks counts the locks in the MVCC span of [start, end). It reads
// every entry of the span: locks are stored beside the versions.
func countLocks(rd storage.Reader, start, end []byte) (int64, error) {
	lo, hi := storage.MVCCSpan(start, end)
	it, err := rd.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return 0, err
	}
	var n int64
	for valid := it.First(); valid; valid = it.Next() {
		if storage.IsLockKey(it.Key()) {
			n++
		}
	}
	if err := it.Error(); err != nil {
		_ = it.Close()
		return 0, err
	}
	return n, it.Close()
}

// locks returns the range's applied lock count.
func (r *Replica) locks() lockCount {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.locks
}
