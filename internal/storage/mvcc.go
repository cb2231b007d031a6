package storage

import (
	"bytes"
	"errors"

	"github.com/cockroachdb/pebble/v2"
)

var errCorruptMVCCKey = errors.New("storage: corrupt MVCC key")

// MaxTimestamp reads the newest version of every key.
const MaxTimestamp = ^uint64(0)

const valueTagLive byte = 0x01

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
	// LatestTimestamp is the newest version at any timestamp, 0 when none;
	// writers use it to stay above every existing version.
	LatestTimestamp uint64
}

// MVCCGet reads the newest version of key at or below ts.
func MVCCGet(r Reader, key []byte, ts uint64) (MVCCGetResult, error) {
	prefix := MVCCKeyPrefix(key)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return MVCCGetResult{}, err
	}
	defer it.Close()
	var res MVCCGetResult
	if !it.First() {
		return res, it.Error()
	}
	_, latest, err := DecodeMVCCKey(it.Key())
	if err != nil {
		return res, err
	}
	res.LatestTimestamp = latest
	if latest > ts && !it.SeekGE(EncodeMVCCKey(key, ts)) {
		return res, it.Error()
	}
	_, vts, err := DecodeMVCCKey(it.Key())
	if err != nil {
		return res, err
	}
	res.Timestamp = vts
	val, err := it.ValueAndErr()
	if err != nil {
		return res, err
	}
	if len(val) > 0 {
		res.Found = true
		res.Value = append([]byte(nil), val[1:]...)
	}
	return res, nil
}

// ScanOptions bound an MVCCScan.
type ScanOptions struct {
	// MaxKeys stops the scan after this many live keys (0: no limit).
	MaxKeys int64
	// MaxBytes stops the scan once the result holds at least this many key and
	// value bytes (0: no limit). At least one key is always returned.
	MaxBytes int64
}

// MVCCScan returns the newest live version at or below ts of each key in
// [start, end), in key order. resume is the key to continue from when a limit
// stopped the scan, nil when the span was exhausted.
func MVCCScan(r Reader, start, end []byte, ts uint64, opts ScanOptions) (kvs []KeyValue, resume []byte, err error) {
	lower, upper := MVCCSpan(start, end)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, nil, err
	}
	defer it.Close()
	var bytesRead int64
	valid := it.First()
	for valid {
		key, vts, err := DecodeMVCCKey(it.Key())
		if err != nil {
			return nil, nil, err
		}
		if (opts.MaxKeys > 0 && int64(len(kvs)) >= opts.MaxKeys) ||
			(opts.MaxBytes > 0 && bytesRead >= opts.MaxBytes) {
			return kvs, append([]byte(nil), key...), nil
		}
		if vts > ts {
			// Skip to the newest version visible at ts.
			if valid = it.SeekGE(EncodeMVCCKey(key, ts)); !valid {
				break
			}
			k2, vts2, err := DecodeMVCCKey(it.Key())
			if err != nil {
				return nil, nil, err
			}
			if !bytes.Equal(k2, key) {
				continue // no visible version of key; k2 is the next key
			}
			vts = vts2
		}
		val, err := it.ValueAndErr()
		if err != nil {
			return nil, nil, err
		}
		if len(val) > 0 {
			kv := KeyValue{Key: append([]byte(nil), key...), Value: append([]byte(nil), val[1:]...), Timestamp: vts}
			bytesRead += int64(len(kv.Key) + len(kv.Value))
			kvs = append(kvs, kv)
		}
		// Move past the remaining (older) versions of key.
		valid = it.SeekGE(prefixEnd(MVCCKeyPrefix(key)))
	}
	return kvs, nil, it.Error()
}

// prefixEnd returns the first key after every key with the given prefix.
// MVCC prefixes end in the escaped-bytes terminator 0x00 0x01, so the last
// byte never overflows.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}
