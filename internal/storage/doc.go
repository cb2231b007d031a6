// Package storage wraps Pebble: one engine per node holds every range's Raft
// log, Raft state and MVCC data.
//
// Engine keys (raw Pebble keys) are laid out as:
//
//	0x01 rangeID(8) suffix      range-local state: Raft log, hard state,
//	                            truncated state, applied state, descriptor
//	0x02 suffix                 store-local state (store ident)
//	0x10 escaped(key) ^ts(8)    MVCC versions of logical key `key`
//
// escaped() is encoding.EncodeBytesAscending, which is order preserving and
// prefix free, so engine order of MVCC keys is (logical key ascending,
// timestamp descending): the newest version of a key comes first. MVCC
// suffixes are appended here and nowhere else.
//
// An MVCC value is either a tombstone (an empty engine value) or 0x01
// followed by the user value.
//
// Readers: the engine (its latest state), a View (one consistent state for
// a request's reads), an indexed Batch (its own writes over the engine), and
// a PointReader over any of them (a request's point reads through one
// re-bounded iterator).
//
// Callers: replica/ evaluates requests against a Reader and writes their
// effects into a Batch whose representation is proposed through Raft; the
// raft store persists logs and applies committed batches.
package storage
