// Package replica implements a range replica: the state machine of one Raft
// group, request evaluation at the leaseholder, and splits. Store is the set
// of replicas on a node; it bootstraps the first ranges and dispatches
// range-addressed requests (kvpb.RangeRequest) to them.
//
// Request flow on the leaseholder (proposer-evaluated, as in CockroachDB):
//
//	Send ─► check span (RangeKeyMismatch) and leadership (NotLeaseholder)
//	  reads:  evaluate against the engine's applied state, reply
//	  writes: latch keys ─► evaluate into a batch at a timestamp above every
//	          existing version ─► propose RaftCommand{batch repr} ─► wait for
//	          apply ─► release latches ─► reply
//
// Invariants:
//   - Apply is deterministic. A command evaluated at another descriptor
//     generation or in another leader term than the one it is applied in is
//     rejected on every replica alike, and its proposer told to retry.
//   - A replica serves only after it has applied an entry of its current term,
//     so it has applied everything committed by earlier leaders.
//   - Writes hold their latches until applied, so an evaluation never reads
//     state that a pending write to the same key will change.
//   - The range-local descriptor is authoritative; the meta directory is
//     updated after a split and repaired from RangeKeyMismatch errors.
//   - A replica removed from its range is destroyed (Raft state and data
//     deleted, a tombstone left) once it learns of it: by applying the
//     removal, from a member's removal notice, or from the node's replica
//     GC pass reading the meta directory (replica_removal.go).
//
// Lock order: Replica.splitMu, then latches, then Replica.mu.
package replica
