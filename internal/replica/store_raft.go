package replica

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/storage"
)

// peerKey names a replica of a range.
type peerKey struct{ rangeID, replicaID uint64 }

// ReplicaDescriptor resolves a replica of a range to its node, for the Raft
// transport: from the local descriptor, or, for a replica not initialised
// yet (its descriptor arrives with a snapshot), from the senders it heard.
func (s *Store) ReplicaDescriptor(rangeID, replicaID uint64) (*kvpb.ReplicaDescriptor, bool) {
	if r := s.Replica(rangeID); r != nil {
		for _, rd := range r.Desc().Replicas {
			if rd.ReplicaId == replicaID {
				return rd, true
			}
		}
	}
	s.mu.RLock()
	node, ok := s.mu.peers[peerKey{rangeID, replicaID}]
	s.mu.RUnlock()
	if !ok {
		return nil, false
	}
	return &kvpb.ReplicaDescriptor{NodeId: node, ReplicaId: replicaID}, true
}

// HandleRaftMessage steps a message from another node into its group,
// creating an uninitialised replica for a range this node does not have yet.
func (s *Store) HandleRaftMessage(_ context.Context, m *kvpb.RaftMessage) error {
	msg := &raftpb.Message{}
	if err := proto.Unmarshal(m.Message, msg); err != nil {
		return fmt.Errorf("corrupt raft message: %w", err)
	}
	to := m.GetToReplica()
	if to.GetNodeId() != s.cfg.NodeID {
		return fmt.Errorf("raft message for node %d delivered to node %d", to.GetNodeId(), s.cfg.NodeID)
	}
	if msg.GetType() == removedNotice {
		return s.handleRemovedNotice(m, msg)
	}
	if msg.GetType() == raftpb.MessageType_MsgSnap {
		if err := s.checkSnapshotSpan(m.RangeId, msg.GetSnapshot()); err != nil {
			return err
		}
	}
	key := peerKey{m.RangeId, msg.GetFrom()}
	s.mu.RLock()
	known := s.mu.peers[key] == m.FromNodeId
	s.mu.RUnlock()
	if !known {
		s.mu.Lock()
		s.mu.peers[key] = m.FromNodeId
		s.mu.Unlock()
	}
	r := s.Replica(m.RangeId)
	if r != nil && r.group.ReplicaID == to.GetReplicaId() {
		if d := r.Desc(); removedFrom(d, msg.GetFrom()) {
			// From a replica removed from the range that has not applied
			// its removal (it missed the commit: the leader stops talking
			// to a replica once it applies the removal), so it will not
			// destroy itself, and it campaigns for good. Tell it; what it
			// says is of no use to the range. (Sent from a goroutine of
			// its own: a transport may deliver synchronously, as the
			// tests' does, and the receiver waits for its replica's Raft
			// round to end, which may be the one that sent this message.)
			notice := &raftpb.Message{
				Type: removedNotice.Enum(), To: proto.Uint64(msg.GetFrom()), From: proto.Uint64(r.group.ReplicaID), Context: marshal(d),
			}
			go s.cfg.Raft.SendMessages(m.RangeId, notice)
			return nil
		}
	}
	if r != nil && r.group.ReplicaID != to.ReplicaId {
		if to.ReplicaId < r.group.ReplicaID {
			return nil // addressed to an older incarnation of our replica
		}
		// Our replica was removed from the range (and this node re-added
		// under a new id) while we were away: it is stale. Replace it by a
		// new replica that catches up by snapshot.
		s.destroyReplicaFromOutside(r) // unless replaced meanwhile by another message
		r = s.Replica(m.RangeId)
		if r != nil && r.group.ReplicaID != to.ReplicaId {
			return nil
		}
	}
	if r == nil {
		if tomb, err := readTombstone(s.eng.Reader(), m.RangeId); err != nil {
			return err
		} else if to.ReplicaId < tomb {
			return nil // a message for a replica destroyed here
		}
		var err error
		if r, err = s.addUninitializedReplica(m.RangeId, to); err != nil {
			return err
		}
	}
	return r.group.Step(msg)
}

// removedNotice is the type of the message with which a member of a range
// tells a replica removed from it that it was (see HandleRaftMessage). It
// is a type Raft itself only uses locally, never on the wire; the store
// handles it without stepping it. Its context is the member's descriptor.
const removedNotice = raftpb.MessageType_MsgCheckQuorum

// handleRemovedNotice destroys the replica a removedNotice addresses, if the
// descriptor it carries shows that replica removed.
func (s *Store) handleRemovedNotice(m *kvpb.RaftMessage, msg *raftpb.Message) error {
	d := &kvpb.RangeDescriptor{}
	if err := unmarshal(msg.GetContext(), d); err != nil {
		return fmt.Errorf("range %d: corrupt removal notice: %w", m.RangeId, err)
	}
	id := m.GetToReplica().GetReplicaId()
	if r := s.Replica(m.RangeId); d.RangeId != m.RangeId || r == nil || r.group.ReplicaID != id {
		return nil // not for this range, already gone, or replaced by a newer incarnation
	}
	destroyed, err := s.DestroyIfRemoved(m.RangeId, d)
	if destroyed {
		slog.Info("replica removed from its range while it was not listening", "range", m.RangeId, "replica", id,
			"current_generation", d.Generation, "notified_by_node", m.FromNodeId)
	}
	return err
}

// addUninitializedReplica creates an empty replica that waits for the
// leader's snapshot. Nothing is persisted until the snapshot arrives; it
// never campaigns (it is not in any configuration it knows).
func (s *Store) addUninitializedReplica(rangeID uint64, self *kvpb.ReplicaDescriptor) (*Replica, error) {
	s.createMu.Lock()
	defer s.createMu.Unlock()
	if r := s.Replica(rangeID); r != nil {
		return r, nil
	}
	desc := &kvpb.RangeDescriptor{RangeId: rangeID, Replicas: []*kvpb.ReplicaDescriptor{self}}
	return s.startReplica(desc, self, &raftpb.ConfState{}, false)
}

// readTombstone returns the next replica id recorded when a replica of the
// range was destroyed here (0: none).
func readTombstone(rd storage.Reader, rangeID uint64) (uint64, error) {
	v, err := storage.Get(rd, storage.RangeTombstoneKey(rangeID))
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("range %d: corrupt tombstone", rangeID)
	}
	return binary.BigEndian.Uint64(v), nil
}
