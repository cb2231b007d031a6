package storage

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

var errCorruptMVCCKey = errors.New("storage: corrupt MVCC key")

// MaxTimestamp reads the newest version of every key.
const MaxTimestamp = ^uint64(0)

// Version value encodings. An empty value is a plain tombstone.
const (
	valueTagLive      byte = 0x01 // tag ‖ value: written outside transactions
	valueTagTxnLive   byte = 0x02 // tag ‖ start_ts (8) ‖ value: committed by a transaction
	valueTagTxnDelete byte = 0x03 // tag ‖ start_ts (8): a transaction's delete
	valueTagRollback  byte = 0x04 // tag, at the aborted transaction's start_ts: invisible
	valueTagTxnLock   byte = 0x05 // tag ‖ start_ts (8): a committed lock-only write: invisible
)

// version is a decoded version value.
type version struct {
	live     bool
	value    []byte // aliases the engine's buffer
	startTS  uint64 // the writing transaction's start timestamp; 0 for plain writes
	rollback bool
	// keyOnly: a transaction locked the key and committed without writing
	// it; the marker records the outcome (startTS) and reads skip it.
	keyOnly bool
}

// invisible reports markers that reads and conflict checks skip.
func (v version) invisible() bool { return v.rollback || v.keyOnly }

func decodeVersion(v []byte) (version, error) {
	if len(v) == 0 {
		return version{}, nil
	}
	switch v[0] {
	case valueTagLive:
		return version{live: true, value: v[1:]}, nil
	case valueTagTxnLive, valueTagTxnDelete:
		if len(v) < 9 || (v[0] == valueTagTxnDelete && len(v) != 9) {
			break
		}
		return version{live: v[0] == valueTagTxnLive, value: v[9:], startTS: binary.BigEndian.Uint64(v[1:9])}, nil
	case valueTagTxnLock:
		if len(v) == 9 {
			return version{keyOnly: true, startTS: binary.BigEndian.Uint64(v[1:9])}, nil
		}
	case valueTagRollback:
		if len(v) == 1 {
			return version{rollback: true}, nil
		}
	}
	return version{}, fmt.Errorf("storage: corrupt MVCC value (tag %#x, %d bytes)", v[0], len(v))
}

// KeyValue is one version read from the engine. Key and Value are owned by the
// caller.
type KeyValue struct {
	Key       []byte
	Value     []byte
	Timestamp uint64
}

// MVCCPut writes value as the version of key at ts. ts must be > 0.
func MVCCPut(w Writer, key []byte, ts uint64, value []byte) error {
	if ts == 0 {
		return errors.New("storage: MVCC write at timestamp 0")
	}
	v := make([]byte, 1+len(value))
	v[0] = valueTagLive
	copy(v[1:], value)
	return w.Set(EncodeMVCCKey(key, ts), v, nil)
}

// MVCCDelete writes a tombstone version of key at ts.
func MVCCDelete(w Writer, key []byte, ts uint64) error {
	if ts == 0 {
		return errors.New("storage: MVCC write at timestamp 0")
	}
	return w.Set(EncodeMVCCKey(key, ts), nil, nil)
}

// MVCCGetResult is the outcome of MVCCGet.
type MVCCGetResult struct {
	// Found is true when a live (non-tombstone) version <= ts exists.
	Found bool
	Value []byte
	// Timestamp of the version read (live or tombstone); 0 when none.
	Timestamp uint64
	// LatestTimestamp is the newest version (or rollback marker) at any
	// timestamp, 0 when none; writers use it to stay above every version.
	LatestTimestamp uint64
	// Lock is the transaction lock on the key, whatever its timestamp; nil
	// when the key is not locked. The caller decides whether it conflicts.
	Lock *Lock
}

// MVCCGet reads the newest version of key at or below ts, and the key's lock.
// Through a PointReader it reuses the PointReader's iterator.
func MVCCGet(r Reader, key []byte, ts uint64) (MVCCGetResult, error) {
	if p, ok := r.(*PointReader); ok {
		return p.mvccGet(key, ts)
	}
	prefix, end := mvccPrefixAndEnd(key)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: end})
	if err != nil {
		return MVCCGetResult{}, err
	}
	defer it.Close()
	return mvccGetIter(it, prefix, ts)
}

// mvccGetIter is MVCCGet on an iterator bounded to the versions (and lock)
// of the key whose MVCC prefix is prefix, not yet positioned.
func mvccGetIter(it *pebble.Iterator, prefix []byte, ts uint64) (MVCCGetResult, error) {
	var res MVCCGetResult
	valid := it.First()
	if valid && len(it.Key()) == len(prefix) { // the lock sorts first
		v, err := it.ValueAndErr()
		if err != nil {
			return res, err
		}
		if res.Lock, err = DecodeLock(v); err != nil {
			return res, err
		}
		valid = it.Next()
	}
	if !valid {
		return res, it.Error()
	}
	latest, err := versionTimestamp(it.Key(), prefix)
	if err != nil {
		return res, err
	}
	res.LatestTimestamp = latest
	if latest > ts {
		sk := newVersionSkipper()
		if valid, _ = sk.skipToVisible(it, prefix, ts); !valid {
			return res, it.Error() // (bounded to the key: no visible version)
		}
	}
	for ; valid; valid = it.Next() {
		vts, err := versionTimestamp(it.Key(), prefix)
		if err != nil {
			return res, err
		}
		raw, err := it.ValueAndErr()
		if err != nil {
			return res, err
		}
		ver, err := decodeVersion(raw)
		if err != nil {
			return res, err
		}
		if ver.invisible() {
			continue
		}
		res.Timestamp = vts
		if ver.live {
			res.Found = true
			res.Value = append([]byte(nil), ver.value...)
		}
		return res, nil
	}
	return res, it.Error()
}

// ScanOptions bound an MVCCScan.
type ScanOptions struct {
	// MaxKeys stops the scan after this many live keys (0: no limit).
	MaxKeys int64
	// MaxBytes stops the scan once the result holds at least this many key and
	// value bytes (0: no limit). At least one key is always returned.
	MaxBytes int64
}

// maxLocksReported bounds the locks one LockedError carries.
const maxLocksReported = 100

// MVCCScan returns the newest live version at or below ts of each key in
// [start, end), in key order. resume is the key to continue from when a limit
// stopped the scan, nil when the span was exhausted. Locks of transactions
// that started at or below ts make the scan fail with a *LockedError listing
// them: their owners may commit below ts, so the caller resolves them first.
func MVCCScan(r Reader, start, end []byte, ts uint64, opts ScanOptions) (kvs []KeyValue, resume []byte, err error) {
	lower, upper := MVCCSpan(start, end)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, nil, err
	}
	defer it.Close()
	var bytesRead int64
	var locked *LockedError
	var cur []byte // the current key's MVCC prefix
	sk := newVersionSkipper()
	valid := it.First()
	for valid {
		// The user key is decoded (copied) only when the scan hands it out.
		rk := it.Key()
		n, isLock, err := splitDataKey(rk)
		if err != nil {
			return nil, nil, err
		}
		cur = append(cur[:0], rk[:n]...)
		// The limits are checked before a key's lock (which sorts first):
		// locks of keys past the limit do not concern this scan.
		if (opts.MaxKeys > 0 && int64(len(kvs)) >= opts.MaxKeys) ||
			(opts.MaxBytes > 0 && bytesRead >= opts.MaxBytes) {
			if locked != nil {
				return nil, nil, locked
			}
			key, err := mvccUserKey(cur)
			return kvs, key, err
		}
		if isLock {
			v, err := it.ValueAndErr()
			if err != nil {
				return nil, nil, err
			}
			l, err := DecodeLock(v)
			if err != nil {
				return nil, nil, err
			}
			if l.StartTS <= ts && l.Op.BlocksReads() {
				if locked == nil {
					locked = &LockedError{}
				}
				key, err := mvccUserKey(cur)
				if err != nil {
					return nil, nil, err
				}
				locked.Locks = append(locked.Locks, KeyLock{Key: key, Lock: l})
				if len(locked.Locks) >= maxLocksReported {
					return nil, nil, locked
				}
			}
			valid = it.Next()
			continue
		}
		vts := ^binary.BigEndian.Uint64(rk[n:])
		if vts > ts {
			// Skip to the newest version visible at ts.
			var same bool
			if valid, same = sk.skipToVisible(it, cur, ts); !valid {
				break
			}
			if !same {
				continue // no visible version of key; the iterator is at the next key
			}
			vts = ^binary.BigEndian.Uint64(it.Key()[len(cur):])
		}
		val, err := it.ValueAndErr()
		if err != nil {
			return nil, nil, err
		}
		ver, err := decodeVersion(val)
		if err != nil {
			return nil, nil, err
		}
		if ver.invisible() {
			valid = it.Next() // an older version of key, or the next key
			continue
		}
		if ver.live { // counted even once locked: the limits bound the locks reported
			key, err := mvccUserKey(cur)
			if err != nil {
				return nil, nil, err
			}
			kv := KeyValue{Key: key, Value: append([]byte(nil), ver.value...), Timestamp: vts}
			bytesRead += int64(len(kv.Key) + len(kv.Value))
			kvs = append(kvs, kv)
		}
		// Move past the remaining (older) versions of key.
		valid = sk.skipKey(it, cur)
	}
	if err := it.Error(); err != nil {
		return nil, nil, err
	}
	if locked != nil {
		return nil, nil, locked
	}
	return kvs, nil, nil
}

// mvccPrefixAndEnd returns key's MVCC prefix and prefixEnd of it, in one
// allocation.
func mvccPrefixAndEnd(key []byte) (prefix, end []byte) {
	buf := appendMVCCKeyPrefix(make([]byte, 0, 2*(len(key)+11)), key)
	prefix = buf[:len(buf):len(buf)]
	return prefix, appendPrefixEnd(buf[len(buf):], prefix)
}

// versionTimestamp returns the timestamp of k, which must be a version of
// the key whose MVCC prefix is p (what an iterator bounded to p's versions
// returns past the lock); anything else is corrupt.
func versionTimestamp(k, p []byte) (uint64, error) {
	if !isVersionOf(k, p) {
		return 0, errCorruptMVCCKey
	}
	return ^binary.BigEndian.Uint64(k[len(p):]), nil
}

// prefixEnd returns the first key after every key with the given prefix.
// MVCC prefixes end in the escaped-bytes terminator 0x00 0x01, so the last
// byte never overflows.
func prefixEnd(p []byte) []byte { return appendPrefixEnd(nil, p) }

// appendPrefixEnd appends prefixEnd(p) to dst (nil when p has no end: all
// 0xff).
func appendPrefixEnd(dst, p []byte) []byte {
	n := len(dst)
	dst = append(dst, p...)
	for i := len(dst) - 1; i >= n; i-- {
		dst[i]++
		if dst[i] != 0 {
			return dst[:i+1]
		}
	}
	return nil
}
