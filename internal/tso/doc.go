// Package tso is Cairn's timestamp oracle: the source of transaction
// timestamps, served by the meta range's leaseholder.
//
// Timestamps are hybrid (wall milliseconds << 18 | logical, as in
// internal/hlc) and strictly increasing across the whole cluster, across
// leaseholder changes and restarts:
//
//   - The oracle hands out timestamps from a window [next, limit). Before a
//     window is used, its limit is persisted in the meta range (through Raft)
//     with a compare-and-set: no timestamp at or above the persisted bound
//     has ever been handed out.
//   - A new reign (the meta range's lease moved, the node restarted) starts
//     from the persisted bound, so it is above everything the previous
//     leaseholder gave out; the old leaseholder stopped serving when its
//     lease ran out, before the new one could be elected.
//   - Windows are about 3 s of wall time, so persisting costs one Raft write
//     every few seconds, not one per request.
//
// Clients batch: Batcher coalesces concurrent requests into one call for
// count timestamps.
//
//	Batcher.Now ──(coalesced)──► kv TimestampRequest to the meta range
//	                                  │ leaseholder, lease checked
//	                                  ▼
//	                             Oracle.Allocate(count, term)
package tso
