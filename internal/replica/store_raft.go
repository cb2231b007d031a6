package replica

import (
	"context"
	"fmt"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/kvpb"
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
	if r == nil {
		var err error
		if r, err = s.addUninitializedReplica(m.RangeId, to); err != nil {
			return err
		}
	}
	return r.group.Step(msg)
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
