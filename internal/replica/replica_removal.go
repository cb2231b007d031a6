package replica

import (
	"bytes"
	"fmt"
	"log/slog"
	"slices"

	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/storage"
)

// Destroying replicas removed from their range.
//
// A replica learns that it was removed from its range in one of three ways:
//
//   - it applies the configuration change that removes it (afterApply →
//     destroyReplica, on the group's own worker);
//   - it sends a Raft message to a member, which answers with a
//     removedNotice (HandleRaftMessage → handleRemovedNotice →
//     DestroyIfRemoved);
//   - the node's replica GC pass (server/replica_gc.go) reads the range's
//     descriptor in the meta directory and finds it removed there
//     (DestroyIfRemoved). This covers the replicas that never hear of their
//     removal otherwise: a removed learner (it never campaigns, so it never
//     talks to a member) and a replica whose former peers are gone or
//     cannot hear it.
//
// Replica ids are never reused, so any descriptor of the range that handed
// out a replica's id and does not list it proves the removal, however stale
// that descriptor is (removedFrom).
//
// A destroyed replica's Raft state and descriptor are deleted and a
// tombstone (the next replica id) stops late messages from re-creating it,
// in one synced batch. Its data is deleted too, except for what another
// replica on this node may hold (see dataSpansLocked): replicas on a node
// normally never overlap, but one that missed its removal keeps its old
// span while the range splits, and a range split off it may have come to
// this node since by snapshot.

// removedFrom reports whether the replica replicaID of d's range was
// removed from it by the time of d: replica ids are never reused, so an id
// that d's range handed out (below NextReplicaId) and d does not list is
// gone for good.
func removedFrom(d *kvpb.RangeDescriptor, replicaID uint64) bool {
	if len(d.EndKey) == 0 || replicaID == 0 || replicaID >= d.NextReplicaId {
		return false // uninitialised (knows no history), or an id not handed out yet
	}
	for _, rd := range d.Replicas {
		if rd.ReplicaId == replicaID {
			return false
		}
	}
	return true
}

// DestroyIfRemoved destroys this node's replica of range rangeID if current,
// a descriptor of that range, is newer than the replica's own and shows the
// replica removed (see removedFrom); it reports whether it destroyed it. It
// never destroys a replica that is the range's leaseholder or that current
// lists. current is not retained. The error is for a descriptor of another
// range, a caller's bug.
func (s *Store) DestroyIfRemoved(rangeID uint64, current *kvpb.RangeDescriptor) (bool, error) {
	if current.GetRangeId() != rangeID {
		return false, fmt.Errorf("replica: descriptor of range %d given to destroy a replica of range %d", current.GetRangeId(), rangeID)
	}
	r := s.Replica(rangeID)
	if r == nil || current.Generation <= r.Desc().Generation || !removedFrom(current, r.group.ReplicaID) {
		return false, nil
	}
	if r.IsLeaseholder() {
		// A removed replica cannot keep serving (its lease needs a quorum
		// it is no longer part of); it steps down within an election
		// timeout and is destroyed by the next attempt.
		return false, nil
	}
	return s.destroyReplicaFromOutside(r), nil
}

// destroyReplica removes a replica that applied its own removal: its group
// stops, its Raft state and data are deleted and a tombstone stops late
// messages from re-creating it. Only the group's own worker calls it
// (afterApply), so no round of the group is in flight; desc is the
// descriptor it applied, which does not list it.
func (s *Store) destroyReplica(r *Replica, desc *kvpb.RangeDescriptor) {
	s.removeReplica(r)
	s.deleteReplicaState(r, desc, wholeSpan(desc))
}

// destroyReplicaFromOutside is destroyReplica for callers that are not the
// group's own worker. It reports whether it destroyed r: not if r was
// destroyed or replaced by another incarnation meanwhile. It stops the group
// first, then waits for a round in flight to end without holding createMu
// (applying a split takes createMu), then destroys the replica holding
// createMu, so that no replica is created or split off meanwhile (see
// dataSpansLocked). Caller must not hold createMu.
func (s *Store) destroyReplicaFromOutside(r *Replica) bool {
	s.createMu.Lock()
	if s.Replica(r.RangeID) != r {
		s.createMu.Unlock()
		return false
	}
	s.cfg.Raft.RemoveGroup(r.RangeID) // no round of it starts any more
	s.createMu.Unlock()
	s.cfg.Raft.WaitRound(r.RangeID)
	s.createMu.Lock()
	defer s.createMu.Unlock()
	if s.Replica(r.RangeID) != r {
		return false // destroyed meanwhile (it applied its removal after all)
	}
	desc := r.Desc()
	data, err := s.dataSpansLocked(r, desc)
	if err != nil {
		slog.Warn("destroying a replica: its data is left in place", "range", r.RangeID, "err", err)
		data = nil
	}
	s.removeReplica(r)
	s.deleteReplicaState(r, desc, data)
	return true
}

// keySpan is the span [start, end) of logical keys.
type keySpan struct{ start, end []byte }

// wholeSpan is the span of an initialised descriptor (none otherwise).
func wholeSpan(d *kvpb.RangeDescriptor) []keySpan {
	if len(d.EndKey) == 0 {
		return nil
	}
	return []keySpan{{d.StartKey, d.EndKey}}
}

// dataSpansLocked returns the parts of the span of r's descriptor desc whose
// data r's destruction may delete: the span less every span that another
// range's descriptor persisted on this node covers. A descriptor is
// persisted in the batch that brings its range's data (a snapshot, a
// split), and ranges only shrink, so a persisted descriptor covers the data
// its range has or will have here. An uninitialised replica may be applying
// a snapshot right now (that takes no createMu), into a span nobody knows
// yet: while one exists nothing is deleted (a later snapshot over the span
// clears what is left). The caller holds createMu: no replica is created
// meanwhile.
func (s *Store) dataSpansLocked(r *Replica, desc *kvpb.RangeDescriptor) ([]keySpan, error) {
	whole := wholeSpan(desc)
	if whole == nil {
		return nil, nil
	}
	s.mu.RLock()
	uninitialised := 0
	for _, o := range s.mu.replicas {
		if o != r && len(o.Desc().EndKey) == 0 {
			uninitialised++
		}
	}
	s.mu.RUnlock()
	if uninitialised > 0 {
		slog.Info("destroying a replica without deleting its data: an uninitialised replica may be receiving part of its span",
			"range", r.RangeID, "uninitialised_replicas", uninitialised)
		return nil, nil
	}
	persisted, err := s.loadDescriptors()
	if err != nil {
		return nil, err
	}
	others := make([]keySpan, 0, len(persisted))
	for _, d := range persisted {
		if d.RangeId != r.RangeID && len(d.EndKey) > 0 {
			others = append(others, keySpan{d.StartKey, d.EndKey})
		}
	}
	return uncoveredSpans(whole[0], others), nil
}

// uncoveredSpans returns the parts of sp that no span of others covers, in
// key order. others may overlap sp and each other in any way; it is
// reordered.
func uncoveredSpans(sp keySpan, others []keySpan) []keySpan {
	slices.SortFunc(others, func(a, b keySpan) int { return bytes.Compare(a.start, b.start) })
	var out []keySpan
	from := sp.start // everything of sp below from is covered or emitted
	for _, o := range others {
		if bytes.Compare(from, sp.end) >= 0 {
			return out
		}
		if bytes.Compare(o.end, from) <= 0 || bytes.Compare(o.start, sp.end) >= 0 {
			continue // wholly below from, or above sp
		}
		if bytes.Compare(o.start, from) > 0 {
			out = append(out, keySpan{from, o.start})
		}
		from = o.end
	}
	if bytes.Compare(from, sp.end) < 0 {
		out = append(out, keySpan{from, sp.end})
	}
	return out
}

// deleteReplicaState deletes a removed replica's range-local state (Raft log
// and state, descriptor) and its data in the data spans, and writes its
// tombstone, in one synced batch. The replica is no longer registered.
func (s *Store) deleteReplicaState(r *Replica, desc *kvpb.RangeDescriptor, data []keySpan) {
	r.LeadershipChanged(false, 0) // pending proposals: ambiguous, not hung
	s.mu.Lock()
	for k := range s.mu.peers { // rare: only on destruction
		if k.rangeID == r.RangeID {
			delete(s.mu.peers, k)
		}
	}
	s.mu.Unlock()
	b := s.eng.NewBatch()
	defer b.Close()
	err := b.DeleteRange(storage.RangeLocalPrefix(r.RangeID), storage.RangeLocalEnd(r.RangeID), nil)
	for _, sp := range data {
		if err != nil {
			break
		}
		lo, hi := storage.MVCCSpan(sp.start, sp.end)
		err = b.DeleteRange(lo, hi, nil)
	}
	if err == nil {
		err = b.Set(storage.RangeTombstoneKey(r.RangeID), encodeUint64(desc.NextReplicaId), nil)
	}
	if err == nil {
		err = b.Commit(storage.Sync)
	}
	if err != nil {
		s.cfg.Raft.Fatal(fmt.Errorf("destroying replica of range %d: %w", r.RangeID, err))
		return
	}
	s.releaseReservation(r.RangeID) // held since removeReplica
	slog.Info("removed replica", "range", r.RangeID, "data_spans", len(data))
}
