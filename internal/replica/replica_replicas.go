package replica

import (
	"context"
	"fmt"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/kvpb"
)

// adminChangeReplicas changes the range's replica set by one replica with a
// Raft configuration change. The new descriptor travels in the change's
// context and is adopted at apply, atomically with the raft configuration.
func (r *Replica) adminChangeReplicas(ctx context.Context, req *kvpb.AdminChangeReplicasRequest) ([]*kvpb.ResponseUnion, error) {
	r.splitMu.Lock() // no write or split in flight across the change
	defer r.splitMu.Unlock()
	term, desc, perr := r.leaseCheck()
	if perr != nil {
		return nil, perr
	}
	next, cc, err := changedDescriptor(desc, req)
	if err != nil {
		return nil, kvpb.NewErrorf("range %d: %v", desc.RangeId, err)
	}
	if req.Change == kvpb.AdminChangeReplicasRequest_REMOVE && req.NodeId == r.store.cfg.NodeID {
		// A leader removing itself leaves the range leaderless for an
		// election timeout: hand the lease over first; the caller retries
		// and the new leaseholder makes the change.
		if target := r.transferTarget(next); target != 0 {
			r.group.TransferLeader(target)
		}
		return nil, kvpb.NewNotLeaseholder(desc.RangeId, nil, desc)
	}
	if req.Change == kvpb.AdminChangeReplicasRequest_PROMOTE_VOTER {
		// A voter without the data would weaken the quorum: promote only a
		// learner that has caught up (received its snapshot).
		id := cc.Changes[0].GetNodeId()
		if !r.group.CaughtUp(id) {
			return nil, kvpb.NewErrorf("range %d: learner on node %d has not caught up yet", desc.RangeId, req.NodeId)
		}
	}
	cmd := &kvpb.RaftCommand{Generation: desc.Generation, ProposerTerm: term, ChangeReplicas: next}
	err = r.proposeWith(ctx, cmd, func(data []byte) error {
		cc.Context = data
		return r.group.ProposeConfChange(cc)
	})
	if err != nil {
		return nil, err
	}
	return []*kvpb.ResponseUnion{{Value: &kvpb.ResponseUnion_AdminChangeReplicas{
		AdminChangeReplicas: &kvpb.AdminChangeReplicasResponse{Desc: next},
	}}}, nil
}

// changedDescriptor returns the descriptor after the change and the raft
// configuration change that makes it so.
func changedDescriptor(desc *kvpb.RangeDescriptor, req *kvpb.AdminChangeReplicasRequest) (*kvpb.RangeDescriptor, *raftpb.ConfChangeV2, error) {
	next := proto.Clone(desc).(*kvpb.RangeDescriptor)
	next.Generation++
	var existing *kvpb.ReplicaDescriptor
	for _, rd := range next.Replicas {
		if rd.NodeId == req.NodeId {
			existing = rd
		}
	}
	var single *raftpb.ConfChangeSingle
	switch req.Change {
	case kvpb.AdminChangeReplicasRequest_ADD_LEARNER:
		if existing != nil {
			return nil, nil, fmt.Errorf("node %d already has a replica", req.NodeId)
		}
		id := next.NextReplicaId
		next.NextReplicaId++
		next.Replicas = append(next.Replicas, &kvpb.ReplicaDescriptor{NodeId: req.NodeId, ReplicaId: id, Type: kvpb.ReplicaType_LEARNER})
		single = &raftpb.ConfChangeSingle{Type: raftpb.ConfChangeAddLearnerNode.Enum(), NodeId: proto.Uint64(id)}
	case kvpb.AdminChangeReplicasRequest_PROMOTE_VOTER:
		if existing == nil || existing.Type != kvpb.ReplicaType_LEARNER {
			return nil, nil, fmt.Errorf("node %d has no learner replica to promote", req.NodeId)
		}
		existing.Type = kvpb.ReplicaType_VOTER
		single = &raftpb.ConfChangeSingle{Type: raftpb.ConfChangeAddNode.Enum(), NodeId: proto.Uint64(existing.ReplicaId)}
	case kvpb.AdminChangeReplicasRequest_REMOVE:
		if existing == nil {
			return nil, nil, fmt.Errorf("node %d has no replica", req.NodeId)
		}
		kept := next.Replicas[:0]
		for _, rd := range next.Replicas {
			if rd.NodeId != req.NodeId {
				kept = append(kept, rd)
			}
		}
		next.Replicas = kept
		if len(confState(next).Voters) == 0 {
			return nil, nil, fmt.Errorf("cannot remove the last voter")
		}
		single = &raftpb.ConfChangeSingle{Type: raftpb.ConfChangeRemoveNode.Enum(), NodeId: proto.Uint64(existing.ReplicaId)}
	default:
		return nil, nil, fmt.Errorf("unknown replica change %v", req.Change)
	}
	return next, &raftpb.ConfChangeV2{Changes: []*raftpb.ConfChangeSingle{single}}, nil
}

// decodeConfChangeCommand extracts our command from a conf-change entry.
// Entries of the V1 type are never proposed by Cairn.
func decodeConfChangeCommand(e *raftpb.Entry) (*kvpb.RaftCommand, error) {
	if e.GetType() != raftpb.EntryConfChangeV2 {
		return nil, fmt.Errorf("entry %d: unexpected conf change type %v", e.GetIndex(), e.GetType())
	}
	cc := &raftpb.ConfChangeV2{}
	if err := proto.Unmarshal(e.Data, cc); err != nil {
		return nil, fmt.Errorf("entry %d: corrupt conf change: %w", e.GetIndex(), err)
	}
	cmd := &kvpb.RaftCommand{}
	if err := proto.Unmarshal(cc.GetContext(), cmd); err != nil {
		return nil, fmt.Errorf("entry %d: corrupt conf change context: %w", e.GetIndex(), err)
	}
	return cmd, nil
}

// transferTarget picks a caught-up voter of desc (other than this replica)
// to hand leadership to, or 0.
func (r *Replica) transferTarget(desc *kvpb.RangeDescriptor) uint64 {
	for _, rd := range desc.Replicas {
		if rd.Type == kvpb.ReplicaType_VOTER && rd.ReplicaId != r.group.ReplicaID && r.group.CaughtUp(rd.ReplicaId) {
			return rd.ReplicaId
		}
	}
	return 0
}

// TransferLease hands this replica's leadership to the voter on nodeID, if
// it has one that has caught up. It reports whether a transfer started.
func (r *Replica) TransferLease(nodeID uint64) bool {
	if !r.IsLeaseholder() {
		return false
	}
	for _, rd := range r.Desc().Replicas {
		if rd.NodeId == nodeID && rd.Type == kvpb.ReplicaType_VOTER && r.group.CaughtUp(rd.ReplicaId) {
			r.group.TransferLeader(rd.ReplicaId)
			return true
		}
	}
	return false
}
