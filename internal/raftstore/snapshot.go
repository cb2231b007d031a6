package raftstore

import (
	"go.etcd.io/raft/v3/raftpb"

	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/storage"
)

// stageSnapshot stages a received snapshot: the state machine replaces its
// data, and the whole log is replaced by the snapshot's position. Called by
// the group's worker between Ready and Advance.
func (g *Group) stageSnapshot(b *storage.Batch, snap *raftpb.Snapshot) (func(), error) {
	after, err := g.sm.ApplySnapshot(b, snap)
	if err != nil {
		return nil, err
	}
	md := snap.GetMetadata()
	if err := b.DeleteRange(storage.RaftLogPrefix(g.RangeID), storage.RaftLogKey(g.RangeID, ^uint64(0)), nil); err != nil {
		return nil, err
	}
	if err := PutProto(b, storage.RaftTruncatedStateKey(g.RangeID), &kvpb.RaftTruncatedState{Index: md.GetIndex(), Term: md.GetTerm()}); err != nil {
		return nil, err
	}
	if err := PutProto(b, storage.RangeAppliedStateKey(g.RangeID), &kvpb.RangeAppliedState{AppliedIndex: md.GetIndex(), AppliedTerm: md.GetTerm()}); err != nil {
		return nil, err
	}
	return after, nil
}

// installSnapshot updates the in-memory log and positions once the snapshot
// is durable.
func (g *Group) installSnapshot(snap *raftpb.Snapshot) error {
	// The log cache keeps metadata only; data lives in the engine.
	meta := &raftpb.Snapshot{Metadata: snap.GetMetadata()}
	if err := g.mem.ApplySnapshot(meta); err != nil {
		return err
	}
	md := snap.GetMetadata()
	g.mu.Lock()
	g.mu.applied = md.GetIndex()
	g.mu.truncated, g.mu.truncatedTerm = md.GetIndex(), md.GetTerm()
	g.mu.confState = md.GetConfState()
	g.mu.Unlock()
	g.store.metrics.snapshotsApplied.Inc()
	return nil
}
