package keys

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

var (
	// KeyMin is the smallest logical key.
	KeyMin = []byte{}
	// KeyMax is the end of the logical keyspace (exclusive bound of the last range).
	KeyMax = []byte{0xff, 0xff}

	// MetaPrefix starts the meta range's own data.
	MetaPrefix = []byte{0x02}
	// SystemPrefix is where range 2, the first non-meta range, begins.
	SystemPrefix = []byte{0x03}
	// KVPrefix is the namespace of the client KV API.
	KVPrefix = []byte{'k'}
	// KVPrefixEnd is the end of the KV namespace.
	KVPrefixEnd = []byte{'l'}
	// TablePrefix is the namespace of SQL table and index data.
	TablePrefix = []byte{'t'}

	// metaRangeDescPrefix + end key -> RangeDescriptor (the range directory).
	metaRangeDescPrefix = []byte{0x02, 'd'}
	// RangeIDCounterKey holds the last allocated range id.
	RangeIDCounterKey = []byte{0x02, 'c', 'r'}
	// NodeIDCounterKey holds the last allocated node id.
	NodeIDCounterKey = []byte{0x02, 'c', 'n'}
	// TSOKey holds the timestamp oracle's persisted upper bound: no
	// timestamp at or above it has ever been handed out.
	TSOKey = []byte{0x02, 't'}
	// nodePrefix + node id -> NodeDescriptor (the node registry).
	nodePrefix = []byte{0x02, 'n'}
	// livenessPrefix + node id -> LivenessRecord.
	livenessPrefix = []byte{0x02, 'l'}
	// settingPrefix + name -> setting value (text).
	settingPrefix = []byte{0x02, 's'}
)

// txnRecordPrefix + idempotency key -> a committed transaction's record.
var txnRecordPrefix = []byte{0x03, 't', 'x', 'n', '/'}

// TxnRecordKey is the idempotency record key of a transaction: written (as
// the transaction's primary key) by the commit that carries the key.
func TxnRecordKey(idempotencyKey string) []byte {
	return append(append([]byte(nil), txnRecordPrefix...), idempotencyKey...)
}

// TxnRecordSpan is the span of all transaction records.
func TxnRecordSpan() (start, end []byte) { return txnRecordPrefix, PrefixEnd(txnRecordPrefix) }

// LivenessKey is the liveness record key of a node.
func LivenessKey(nodeID uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), livenessPrefix...), nodeID)
}

// LivenessSpan is the span of all liveness records.
func LivenessSpan() (start, end []byte) { return livenessPrefix, PrefixEnd(livenessPrefix) }

// SettingKey is the key of a cluster setting.
func SettingKey(name string) []byte { return append(append([]byte(nil), settingPrefix...), name...) }

// SettingSpan is the span of all cluster settings.
func SettingSpan() (start, end []byte) { return settingPrefix, PrefixEnd(settingPrefix) }

// NodeKey is the registry key of a node.
func NodeKey(nodeID uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), nodePrefix...), nodeID)
}

// NodeSpan is the span of the whole node registry.
func NodeSpan() (start, end []byte) { return nodePrefix, PrefixEnd(nodePrefix) }

// MetaRangeID is the id of the meta range; it is created at bootstrap.
const MetaRangeID = 1

// FirstUserRangeID is the id of the range created at bootstrap for user data.
const FirstUserRangeID = 2

// MaxUserKeySize bounds the keys accepted by the KV API (documented in docs/kv.md).
const MaxUserKeySize = 4 << 10

// MaxValueSize bounds a single value accepted by the KV API.
const MaxValueSize = 1 << 20

// MetaEnd is the end of the meta range: the meta range never splits.
var MetaEnd = SystemPrefix

// RangeDescKey is the directory key of the range whose span ends at endKey.
// The directory is ordered by end key so that the range containing k is the
// first entry with a key > RangeDescKey(k) (see RangeLookupStart).
func RangeDescKey(endKey []byte) []byte {
	k := make([]byte, 0, len(metaRangeDescPrefix)+len(endKey))
	return append(append(k, metaRangeDescPrefix...), endKey...)
}

// RangeDescSpan is the span of the whole range directory.
func RangeDescSpan() (start, end []byte) {
	return metaRangeDescPrefix, PrefixEnd(metaRangeDescPrefix)
}

// RangeLookupStart returns the directory key from which a forward scan finds
// the descriptor of the range containing key: the first descriptor whose end
// key is strictly greater than key.
func RangeLookupStart(key []byte) []byte {
	return append(RangeDescKey(key), 0x00)
}

// KVKey turns a KV API user key into a logical key.
func KVKey(userKey []byte) []byte {
	k := make([]byte, 0, len(KVPrefix)+len(userKey))
	return append(append(k, KVPrefix...), userKey...)
}

// UserKey strips the KV namespace prefix. ok is false for keys outside it.
func UserKey(key []byte) (userKey []byte, ok bool) {
	if !bytes.HasPrefix(key, KVPrefix) {
		return nil, false
	}
	return key[len(KVPrefix):], true
}

// PrefixEnd returns the smallest key greater than every key with the prefix,
// or KeyMax when no such key exists within the keyspace.
func PrefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return append([]byte(nil), KeyMax...)
}

// EncodeCounter and DecodeCounter define the value format of IncrementRequest
// counters: an 8-byte big-endian int64.
func EncodeCounter(v int64) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(v))
}

// DecodeCounter decodes a counter value; an empty value is 0.
func DecodeCounter(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("counter value has %d bytes, want 8", len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// Pretty renders a logical key for logs and errors.
func Pretty(key []byte) string {
	switch {
	case len(key) == 0:
		return "/Min"
	case bytes.Equal(key, KeyMax):
		return "/Max"
	case bytes.HasPrefix(key, metaRangeDescPrefix):
		return "/Meta/RangeDesc/" + Pretty(key[len(metaRangeDescPrefix):])
	case bytes.HasPrefix(key, MetaPrefix):
		return fmt.Sprintf("/Meta/%q", key[1:])
	case bytes.HasPrefix(key, SystemPrefix):
		return fmt.Sprintf("/System/%q", key[1:])
	case bytes.HasPrefix(key, KVPrefix):
		return fmt.Sprintf("/KV/%q", key[1:])
	case bytes.HasPrefix(key, TablePrefix):
		return fmt.Sprintf("/Table/%q", key[1:])
	}
	return fmt.Sprintf("%q", key)
}

// SQL catalog keys, in the system keyspace (see internal/sql/catalog):
//
//	\x03 desc/<id BE32>                          descriptor (catalogpb.Descriptor)
//	\x03 ns/<parent BE32><schema>\x00<name>      namespace entry -> id (BE32)
//	\x03 ids                                     last allocated descriptor id (counter)
//	\x03 catver                                  cluster-wide catalog version (counter)
//	\x03 seq/<id BE32>                           values handed out by a sequence (counter)
//
// Ids are fixed-width big endian so that a scan returns them in order.
// Databases have parent 0 and schema "". Names never contain NUL (SQL
// identifiers cannot), which keeps schema and name apart.
var (
	descriptorPrefix  = []byte{0x03, 'd', 'e', 's', 'c', '/'}
	namespacePrefix   = []byte{0x03, 'n', 's', '/'}
	sequencePrefix    = []byte{0x03, 's', 'e', 'q', '/'}
	descIDCounterKey  = []byte{0x03, 'i', 'd', 's'}
	catalogVersionKey = []byte{0x03, 'c', 'a', 't', 'v', 'e', 'r'}
)

// DescIDCounterKey holds the last allocated SQL descriptor id, as a
// counter (EncodeCounter).
func DescIDCounterKey() []byte { return append([]byte(nil), descIDCounterKey...) }

// CatalogVersionKey holds the cluster-wide catalog version, a counter that
// every schema change bumps in its transaction.
func CatalogVersionKey() []byte { return append([]byte(nil), catalogVersionKey...) }

// DescriptorKey is the key of SQL descriptor id.
func DescriptorKey(id uint32) []byte {
	return binary.BigEndian.AppendUint32(append([]byte(nil), descriptorPrefix...), id)
}

// DescriptorSpan is the span of all SQL descriptors.
func DescriptorSpan() (start, end []byte) { return descriptorPrefix, PrefixEnd(descriptorPrefix) }

// NamespaceKey is the key of the name entry (parentID, schema, name).
// It panics if schema or name contains a NUL byte, which SQL identifiers
// cannot (callers validate names first).
func NamespaceKey(parentID uint32, schema, name string) []byte {
	if bytes.IndexByte([]byte(schema), 0) >= 0 || bytes.IndexByte([]byte(name), 0) >= 0 {
		panic(fmt.Sprintf("keys: NUL byte in namespace name %q.%q", schema, name))
	}
	k := make([]byte, 0, len(namespacePrefix)+4+len(schema)+1+len(name))
	k = binary.BigEndian.AppendUint32(append(k, namespacePrefix...), parentID)
	k = append(append(k, schema...), 0)
	return append(k, name...)
}

// NamespaceSpan is the span of all name entries under parentID (the
// databases for parent 0, a database's tables and sequences otherwise).
func NamespaceSpan(parentID uint32) (start, end []byte) {
	start = binary.BigEndian.AppendUint32(append([]byte(nil), namespacePrefix...), parentID)
	return start, PrefixEnd(start)
}

// SequenceCounterKey is the counter of the values sequence id has handed
// out (incremented non-transactionally, as PostgreSQL's nextval is).
func SequenceCounterKey(id uint32) []byte {
	return binary.BigEndian.AppendUint32(append([]byte(nil), sequencePrefix...), id)
}
