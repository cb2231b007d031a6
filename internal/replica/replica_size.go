package replica

import (
	"math"

	"github.com/cockroachdb/pebble/v2"

	"github.com/cairndb/cairn/internal/storage"
)

// SizeEstimate returns the range's last measured size plus the bytes
// applied since: cheap, and an upper-bound-ish trigger for MeasureSize.
func (r *Replica) SizeEstimate() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.mu.measured {
		return math.MaxInt64 // never measured: measure it
	}
	return r.mu.measuredBytes + r.mu.appliedBytes
}

// MeasureSize scans the range's MVCC data (every version) and returns its
// size in bytes and the logical key at which about half of the bytes lie
// before it, for a split. midKey is nil when no key strictly inside the
// range splits it (a single huge key).
func (r *Replica) MeasureSize() (size int64, midKey []byte, err error) {
	desc := r.Desc()
	if len(desc.EndKey) == 0 {
		return 0, nil, nil
	}
	snap := r.store.eng.NewSnapshot()
	defer snap.Close()
	lo, hi := storage.MVCCSpan(desc.StartKey, desc.EndKey)
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return 0, nil, err
	}
	defer it.Close()
	for valid := it.First(); valid; valid = it.Next() {
		size += int64(len(it.Key()) + len(it.LazyValue().ValueOrHandle))
	}
	if err := it.Error(); err != nil {
		return 0, nil, err
	}
	half, seen := size/2, int64(0)
	for valid := it.First(); valid; valid = it.Next() {
		seen += int64(len(it.Key()) + len(it.LazyValue().ValueOrHandle))
		if seen < half {
			continue
		}
		key, _, _, err := storage.DecodeDataKey(it.Key())
		if err != nil {
			return 0, nil, err
		}
		if string(key) > string(desc.StartKey) {
			midKey = append([]byte(nil), key...)
		}
		break
	}
	r.mu.Lock()
	r.mu.measuredBytes, r.mu.appliedBytes, r.mu.measured = size, 0, true
	r.mu.Unlock()
	return size, midKey, it.Error()
}

// MeasuredSize returns the last measured size plus bytes applied since, and
// whether the range was ever measured.
func (r *Replica) MeasuredSize() (int64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.measuredBytes + r.mu.appliedBytes, r.mu.measured
}
