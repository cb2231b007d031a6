// Package raftstore is the multi-Raft driver of a node: it hosts one
// go.etcd.io/raft/v3 RawNode per range replica, persists every group's log
// and hard state in the node's single Pebble engine, and drives all groups
// with a small worker pool instead of a goroutine per range.
//
// A worker takes a batch of ready groups from the scheduler and runs one
// round for all of them:
//
//	scheduler ──(up to MaxReadyBatch groups)──► worker
//	                                             │ for each group: Tick, Ready()
//	                                             ▼
//	                   one Pebble batch: entries + hard states of all groups
//	                                             │ Commit(Sync): ONE fsync
//	                                             ▼
//	                   MemoryStorage.Append, send messages (transport)
//	                                             │
//	                                             ▼
//	                   one apply batch: StateMachine.Apply for all groups
//	                                             │ Commit(NoSync): the log is durable
//	                                             ▼
//	                   post-apply callbacks (wake proposers), Advance
//
// Persistence order: entries and hard state are synced before messages are
// sent and before committed entries are applied, so an acknowledged write is
// in a durable log of a quorum. Applied state is written in the same batch
// as the applied effects (atomic), so after a crash the group re-applies
// exactly the committed entries after the persisted applied index.
//
// The in-memory raft.MemoryStorage of each group caches the untruncated
// tail of its log; the log is truncated locally once it passes
// LogTruncateEntries, keeping memory bounded.
//
// Callers: replica/ creates groups (AddGroup), proposes commands and
// implements StateMachine; the node's RPC layer delivers incoming messages
// with Step.
package raftstore
