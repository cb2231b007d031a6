package storage

import (
	"bytes"

	"github.com/cockroachdb/pebble/v2"
)

// GCOptions parameterise MVCCGarbageCollect.
type GCOptions struct {
	// Threshold: reads at or above it must not change. Of a key's versions
	// at or below it only the newest is kept, and only when it is live;
	// rollback markers at or below it are deleted. 0 collects nothing.
	Threshold uint64
	// RecordThreshold applies to the keys of [RecordStart, RecordEnd) (the
	// transaction records of idempotency keys): their committed versions
	// at or below it are deleted, the newest one included, so a record
	// disappears once it is older than the idempotency window. Rollback
	// markers there follow Threshold, as everywhere. 0: no extra rule.
	RecordThreshold        uint64
	RecordStart, RecordEnd []byte
	// LockThreshold: locks whose start timestamp is below it are reported
	// (GCResult.Locks) for resolution; 0 means Threshold. Locks themselves
	// are never touched.
	LockThreshold uint64
	// MaxKeys and MaxBytes bound the engine entries (locks, versions,
	// markers) and their bytes examined per call; 0: no bound. They are
	// checked between logical keys (a key is always finished), so a call
	// may examine one key's worth more.
	MaxKeys, MaxBytes int64
	// MaxLocks stops the call (at the next key) once this many locks are
	// reported; 0 means DefaultGCMaxLocks.
	MaxLocks int
}

// DefaultGCMaxLocks bounds the locks one MVCCGarbageCollect call reports.
const DefaultGCMaxLocks = 100

// gcRangeDeleteRun: a key with more than this many collectable versions
// older than the kept one has the rest cleared with one range deletion,
// which keeps the batch small however many versions a hot key piled up.
// A variable for tests.
var gcRangeDeleteRun = 32

// GCResult is the outcome of one MVCCGarbageCollect call.
type GCResult struct {
	// Deleted counts the versions and rollback markers deleted.
	Deleted int64
	// Locks lists locks that started below the lock threshold.
	Locks []KeyLock
	// PendingKeys counts keys (of those examined) that hold something a
	// later collection may remove or report: superseded versions,
	// tombstones or markers not old enough yet, transaction records,
	// younger locks. A span whose collection found none (and whose
	// reported locks were resolved) needs no collection until written.
	PendingKeys int64
	// Resume is the key to continue from when a bound stopped the call,
	// nil when the span was finished.
	Resume []byte
}

// MVCCGarbageCollect computes the garbage of [start, end) and writes its
// deletions into w; it never writes anything else. For every ts >=
// opts.Threshold, MVCCGet and MVCCScan at ts find the same live versions
// after the deletions as before (a collected tombstone reads as no version
// at all), except for the transaction records collected by
// opts.RecordThreshold, which nothing reads at a timestamp.
//
// A key is always handled whole, in one call: deleting a tombstone (or a
// record) without everything older would resurrect an older version.
func MVCCGarbageCollect(r Reader, w Writer, start, end []byte, opts GCOptions) (GCResult, error) {
	lower, upper := MVCCSpan(start, end)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return GCResult{}, err
	}
	defer it.Close()
	if opts.LockThreshold == 0 {
		opts.LockThreshold = opts.Threshold
	}
	if opts.MaxLocks <= 0 {
		opts.MaxLocks = DefaultGCMaxLocks
	}
	g := &gcState{it: it, w: w, opts: opts}
	valid := it.First()
	for valid {
		key, _, _, err := DecodeDataKey(it.Key())
		if err != nil {
			return GCResult{}, err
		}
		if (opts.MaxKeys > 0 && g.examined >= opts.MaxKeys) || (opts.MaxBytes > 0 && g.bytes >= opts.MaxBytes) ||
			len(g.res.Locks) >= opts.MaxLocks {
			g.res.Resume = append([]byte(nil), key...)
			return g.res, nil
		}
		if valid, err = g.collectKey(append([]byte(nil), key...)); err != nil {
			return GCResult{}, err
		}
	}
	if err := it.Error(); err != nil {
		return GCResult{}, err
	}
	return g.res, nil
}

type gcState struct {
	it              *pebble.Iterator
	w               Writer
	opts            GCOptions
	examined, bytes int64
	res             GCResult
}

// collectKey handles every engine entry of key, the iterator positioned on
// its first one; it returns whether the iterator is still valid (on the
// next key).
func (g *gcState) collectKey(key []byte) (bool, error) {
	it, opts := g.it, g.opts
	prefix := MVCCKeyPrefix(key)
	record := opts.RecordThreshold > 0 && bytes.Compare(key, opts.RecordStart) >= 0 && bytes.Compare(key, opts.RecordEnd) < 0
	pending := false
	kept := 0         // versions and markers left in place
	keptLive := false // the newest entry left in place is a live version
	del := func(k []byte) error {
		g.res.Deleted++
		return g.w.Delete(k, nil)
	}
	sameKey := func(valid bool) bool { return valid && bytes.HasPrefix(it.Key(), prefix) }

	valid := true
	if len(it.Key()) == len(prefix) { // the lock sorts first
		v, err := it.ValueAndErr()
		if err != nil {
			return false, err
		}
		g.count(len(it.Key()) + len(v))
		l, err := DecodeLock(v)
		if err != nil {
			return false, err
		}
		if l.StartTS < opts.LockThreshold {
			g.res.Locks = append(g.res.Locks, KeyLock{Key: key, Lock: l})
		} else {
			pending = true
		}
		valid = it.Next()
	}

	// Versions above the threshold are kept (except records past their
	// window). They may be many (a hot key): past the newest, seek over them.
	inOlder := false    // past the newest non-marker version <= threshold
	var runStart []byte // first version of a run cleared by a range deletion
	run := 0
	for sameKey(valid) {
		_, ts, err := DecodeMVCCKey(it.Key())
		if err != nil {
			return false, err
		}
		if ts > opts.Threshold && !record {
			raw, err := it.ValueAndErr()
			if err != nil {
				return false, err
			}
			g.count(len(it.Key()) + len(raw))
			ver, err := decodeVersion(raw)
			if err != nil {
				return false, err
			}
			kept, keptLive = 1, ver.live
			if valid = it.Next(); sameKey(valid) {
				if _, ts2, err := DecodeMVCCKey(it.Key()); err == nil && ts2 > opts.Threshold {
					kept = 2 // more above the threshold
				}
				valid = it.SeekGE(EncodeMVCCKey(key, opts.Threshold))
			}
			continue
		}
		if inOlder {
			// Everything older than the kept position goes.
			g.count(len(it.Key()))
			switch {
			case runStart != nil:
				g.res.Deleted++
			case run < gcRangeDeleteRun:
				if err := del(it.Key()); err != nil {
					return false, err
				}
				run++
			default:
				runStart = append([]byte(nil), it.Key()...)
				g.res.Deleted++
			}
			valid = it.Next()
			continue
		}
		raw, err := it.ValueAndErr()
		if err != nil {
			return false, err
		}
		g.count(len(it.Key()) + len(raw))
		ver, err := decodeVersion(raw)
		if err != nil {
			return false, err
		}
		switch {
		case ts > opts.Threshold: // a record's version above the threshold
			if !ver.rollback && ts <= opts.RecordThreshold {
				if err := del(it.Key()); err != nil {
					return false, err
				}
			} else {
				if kept == 0 {
					keptLive = ver.live
				}
				kept++
			}
		case ver.invisible():
			// Invisible, and prewrites at or below the threshold are refused:
			// safe to delete on its own.
			if err := del(it.Key()); err != nil {
				return false, err
			}
		default: // the newest version at or below the threshold
			inOlder = true
			if !ver.live || (record && ts <= opts.RecordThreshold) {
				if err := del(it.Key()); err != nil {
					return false, err
				}
			} else {
				if kept == 0 {
					keptLive = true
				}
				kept++
			}
		}
		valid = it.Next()
	}
	if runStart != nil {
		if err := g.w.DeleteRange(runStart, prefixEnd(prefix), nil); err != nil {
			return false, err
		}
	}
	if pending || kept > 1 || (kept == 1 && (!keptLive || record)) {
		g.res.PendingKeys++
	}
	return valid, nil
}

func (g *gcState) count(n int) {
	g.examined++
	g.bytes += int64(n)
}
