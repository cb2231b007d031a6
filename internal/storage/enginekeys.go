package storage

import (
	"encoding/binary"

	"github.com/cairndb/cairn/internal/encoding"
)

const (
	rangeLocalPrefix byte = 0x01
	storeLocalPrefix byte = 0x02
	mvccPrefix       byte = 0x10
)

// Range-local suffixes, one byte after the range id. Their order is the
// order in which a range's local state is laid out in the engine.
const (
	suffixAppliedState   byte = 'a'
	suffixDescriptor     byte = 'd'
	suffixGCThreshold    byte = 'g'
	suffixHardState      byte = 'h'
	suffixLockCount      byte = 'k'
	suffixRaftLog        byte = 'l'
	suffixTruncatedState byte = 't'
	suffixMaxWriteTS     byte = 'w'
	suffixTombstone      byte = 'z'
)

func rangeLocalKey(rangeID uint64, suffix byte, extra int) []byte {
	k := make([]byte, 0, 10+extra)
	k = append(k, rangeLocalPrefix)
	k = binary.BigEndian.AppendUint64(k, rangeID)
	return append(k, suffix)
}

// RangeLocalPrefix is the start of all local state of a range.
func RangeLocalPrefix(rangeID uint64) []byte {
	k := []byte{rangeLocalPrefix}
	return binary.BigEndian.AppendUint64(k, rangeID)
}

// RangeLocalEnd is the end of all local state of a range.
func RangeLocalEnd(rangeID uint64) []byte { return RangeLocalPrefix(rangeID + 1) }

// RangeIDFromLocalKey extracts the range id of a range-local engine key.
func RangeIDFromLocalKey(k []byte) (uint64, bool) {
	if len(k) < 9 || k[0] != rangeLocalPrefix {
		return 0, false
	}
	return binary.BigEndian.Uint64(k[1:9]), true
}

// IsRangeDescriptorKey reports whether k is a range's local descriptor key.
func IsRangeDescriptorKey(k []byte) bool {
	return len(k) == 10 && k[0] == rangeLocalPrefix && k[9] == suffixDescriptor
}

// RangeAppliedStateKey holds the range's RangeAppliedState.
func RangeAppliedStateKey(rangeID uint64) []byte {
	return rangeLocalKey(rangeID, suffixAppliedState, 0)
}

// RangeDescriptorKey holds the range's authoritative RangeDescriptor.
func RangeDescriptorKey(rangeID uint64) []byte {
	return rangeLocalKey(rangeID, suffixDescriptor, 0)
}

// RaftHardStateKey holds the range's raftpb.HardState.
func RaftHardStateKey(rangeID uint64) []byte {
	return rangeLocalKey(rangeID, suffixHardState, 0)
}

// RaftTruncatedStateKey holds the range's RaftTruncatedState.
func RaftTruncatedStateKey(rangeID uint64) []byte {
	return rangeLocalKey(rangeID, suffixTruncatedState, 0)
}

// RangeMaxWriteTSKey holds the highest MVCC timestamp written to the range
// (8 bytes big endian), replicated state maintained at apply.
func RangeMaxWriteTSKey(rangeID uint64) []byte {
	return rangeLocalKey(rangeID, suffixMaxWriteTS, 0)
}

// RangeGCThresholdKey holds the range's GC threshold (8 bytes big endian),
// replicated state raised by garbage collection: versions at or below it
// may have been collected, so reads below it are refused.
func RangeGCThresholdKey(rangeID uint64) []byte {
	return rangeLocalKey(rangeID, suffixGCThreshold, 0)
}

// RangeLockCountKey holds the number of transaction locks in the range's
// MVCC span (8 bytes big endian), replicated state maintained at apply from
// the delta each command's evaluation computed. Absent means unknown (a
// range created before the count existed): writers then look locks up.
func RangeLockCountKey(rangeID uint64) []byte {
	return rangeLocalKey(rangeID, suffixLockCount, 0)
}

// IsLockKey reports whether k, an engine key of the MVCC keyspace, is a
// lock (a bare key prefix, without a timestamp).
func IsLockKey(k []byte) bool {
	_, _, lock, err := DecodeDataKey(k)
	return err == nil && lock
}

// RangeTombstoneKey marks a destroyed replica: it holds the range's next
// replica id at destruction (8 bytes BE); messages to older replica ids are
// dropped instead of re-creating the replica.
func RangeTombstoneKey(rangeID uint64) []byte {
	return rangeLocalKey(rangeID, suffixTombstone, 0)
}

// RaftLogKey is the key of the Raft log entry at index.
func RaftLogKey(rangeID, index uint64) []byte {
	k := rangeLocalKey(rangeID, suffixRaftLog, 8)
	return binary.BigEndian.AppendUint64(k, index)
}

// RaftLogPrefix is the start of the range's Raft log.
func RaftLogPrefix(rangeID uint64) []byte { return rangeLocalKey(rangeID, suffixRaftLog, 0) }

// RaftLogIndex decodes the index from a Raft log key.
func RaftLogIndex(k []byte) uint64 { return binary.BigEndian.Uint64(k[len(k)-8:]) }

// StoreIdentKey holds the store's StoreIdent.
var StoreIdentKey = []byte{storeLocalPrefix, 'i'}

// StoreEpochKey holds the number of starts of the store (8 bytes BE).
var StoreEpochKey = []byte{storeLocalPrefix, 'e'}

// MVCCKeyPrefix is the engine prefix of every version of a logical key.
func MVCCKeyPrefix(key []byte) []byte { return appendMVCCKeyPrefix(make([]byte, 0, len(key)+11), key) }

// appendMVCCKeyPrefix appends MVCCKeyPrefix(key) to dst.
func appendMVCCKeyPrefix(dst, key []byte) []byte {
	return encoding.EncodeBytesAscending(append(dst, mvccPrefix), key)
}

// EncodeMVCCKey is the engine key of the version of key at ts. Versions of a
// key sort newest first.
func EncodeMVCCKey(key []byte, ts uint64) []byte {
	k := MVCCKeyPrefix(key)
	return binary.BigEndian.AppendUint64(k, ^ts)
}

// DecodeMVCCKey splits an engine MVCC key into logical key and timestamp.
func DecodeMVCCKey(k []byte) (key []byte, ts uint64, err error) {
	if len(k) < 1 || k[0] != mvccPrefix {
		return nil, 0, errCorruptMVCCKey
	}
	rest, key, err := encoding.DecodeBytesAscending(k[1:])
	if err != nil {
		return nil, 0, err
	}
	if len(rest) != 8 {
		return nil, 0, errCorruptMVCCKey
	}
	return key, ^binary.BigEndian.Uint64(rest), nil
}

// EncodeLockKey is the engine key of key's transaction lock: the bare MVCC
// prefix, which sorts before every version of the key, so one iterator pass
// sees a key's lock and then its versions.
func EncodeLockKey(key []byte) []byte { return MVCCKeyPrefix(key) }

// DecodeDataKey decodes any key of the MVCC keyspace: a version (lock false,
// ts its timestamp) or a lock (lock true, ts 0).
func DecodeDataKey(k []byte) (key []byte, ts uint64, lock bool, err error) {
	if len(k) < 1 || k[0] != mvccPrefix {
		return nil, 0, false, errCorruptMVCCKey
	}
	rest, key, err := encoding.DecodeBytesAscending(k[1:])
	if err != nil {
		return nil, 0, false, err
	}
	switch len(rest) {
	case 0:
		return key, 0, true, nil
	case 8:
		return key, ^binary.BigEndian.Uint64(rest), false, nil
	}
	return nil, 0, false, errCorruptMVCCKey
}

// splitDataKey returns the length of the MVCC prefix of k, a key of the
// MVCC keyspace, and whether k is a lock (the prefix alone) rather than a
// version (the prefix and 8 timestamp bytes), without decoding the user key.
func splitDataKey(k []byte) (prefixLen int, lock bool, err error) {
	if len(k) < 1 || k[0] != mvccPrefix {
		return 0, false, errCorruptMVCCKey
	}
	n, err := encoding.BytesAscendingLen(k[1:])
	if err != nil {
		return 0, false, err
	}
	switch len(k) - 1 - n {
	case 0:
		return len(k), true, nil
	case 8:
		return len(k) - 8, false, nil
	}
	return 0, false, errCorruptMVCCKey
}

// mvccUserKey decodes the user key of an MVCC prefix (a new slice).
func mvccUserKey(prefix []byte) ([]byte, error) {
	_, key, err := encoding.DecodeBytesAscending(prefix[1:])
	return key, err
}

// MVCCSpan maps a logical span [start, end) to engine bounds.
func MVCCSpan(start, end []byte) (lower, upper []byte) {
	return MVCCKeyPrefix(start), MVCCKeyPrefix(end)
}
