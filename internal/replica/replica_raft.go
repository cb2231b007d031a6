package replica

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/raftstore"
	"github.com/cairndb/cairn/internal/storage"
)

// proposal is a client waiting for its command to apply.
type proposal struct {
	done chan error // buffered(1); receives nil once applied, or the rejection
}

// proposeAndWait proposes cmd and waits until it is applied or rejected. A
// context that ends first makes the outcome ambiguous.
func (r *Replica) proposeAndWait(ctx context.Context, cmd *kvpb.RaftCommand) error {
	return r.proposeWith(ctx, cmd, r.group.Propose)
}

// proposeWith registers cmd as a pending proposal, hands its encoding to
// propose, and waits for the outcome.
func (r *Replica) proposeWith(ctx context.Context, cmd *kvpb.RaftCommand, propose func([]byte) error) error {
	id, done, err := r.register(cmd, propose)
	if err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		r.dropProposal(id)
		return kvpb.NewAmbiguousResult(ctx.Err())
	}
}

// register records cmd as a pending proposal and proposes it. done receives
// the outcome: nil once applied, the rejection, or an ambiguous result when
// leadership moved. Every registered proposal gets an outcome (see
// afterApply and LeadershipChanged) unless dropped with dropProposal.
func (r *Replica) register(cmd *kvpb.RaftCommand, propose func([]byte) error) (uint64, <-chan error, error) {
	p := &proposal{done: make(chan error, 1)}
	r.mu.Lock()
	r.mu.nextID++
	id := r.mu.nextID
	r.mu.proposals[id] = p
	r.mu.Unlock()
	cmd.ProposalId = id
	if err := propose(marshal(cmd)); err != nil {
		r.dropProposal(id)
		if errors.Is(err, raft.ErrProposalDropped) || errors.Is(err, raftstore.ErrGroupRemoved) || errors.Is(err, raftstore.ErrStoreFailed) {
			// Not appended anywhere: safe to retry elsewhere.
			return 0, nil, kvpb.NewNotLeaseholder(r.RangeID, nil)
		}
		return 0, nil, err
	}
	return id, p.done, nil
}

func (r *Replica) dropProposal(id uint64) {
	r.mu.Lock()
	delete(r.mu.proposals, id)
	r.mu.Unlock()
}

// appliedResult is the outcome of one applied command for its proposer.
type appliedResult struct {
	id  uint64
	err error
}

// Apply implements raftstore.StateMachine.
func (r *Replica) Apply(b *storage.Batch, ents []*raftpb.Entry) (raftstore.ApplyResult, error) {
	r.mu.Lock()
	desc, maxTS, gcThreshold, locks := r.mu.desc, r.mu.maxWriteTS, r.mu.gcThreshold, r.mu.locks
	r.mu.Unlock()
	prevMaxTS, prevGC, prevLocks := maxTS, gcThreshold, locks
	var appliedBytes int64
	var writes uint64
	var results []appliedResult
	var splits []*kvpb.SplitTrigger
	var res raftstore.ApplyResult
	for _, e := range ents {
		confChange := e.GetType() != raftpb.EntryNormal
		if !confChange && len(e.Data) == 0 {
			continue // leader no-ops
		}
		cmd := &kvpb.RaftCommand{}
		if confChange {
			var err error
			if cmd, err = decodeConfChangeCommand(e); err != nil {
				return res, err
			}
		} else if err := proto.Unmarshal(e.Data, cmd); err != nil {
			return res, fmt.Errorf("entry %d: corrupt command: %w", e.GetIndex(), err)
		}
		var rejected error
		switch {
		case cmd.ProposerTerm != e.GetTerm():
			rejected = kvpb.NewNotLeaseholder(r.RangeID, nil)
		case cmd.Generation != desc.Generation:
			rejected = kvpb.NewRangeKeyMismatch(r.RangeID, nil, desc)
		case confChange:
			if err := raftstore.PutProto(b, storage.RangeDescriptorKey(r.RangeID), cmd.ChangeReplicas); err != nil {
				return res, err
			}
			desc = cmd.ChangeReplicas
		case cmd.Split != nil:
			if err := stageSplit(r.store.eng.Reader(), b, cmd.Split, maxTS, gcThreshold); err != nil {
				return res, err
			}
			if cmd.Split.LocksCounted {
				locks = locks.add(-cmd.Split.RightLocks, r.RangeID)
			} else {
				locks = lockCount{}
			}
			desc = cmd.Split.Left
			splits = append(splits, cmd.Split)
		case len(cmd.WriteBatch) > 0 || cmd.GcThreshold > 0:
			if len(cmd.WriteBatch) > 0 {
				if err := applyWriteBatch(r.store.eng, b, cmd.WriteBatch); err != nil {
					return res, fmt.Errorf("entry %d: %w", e.GetIndex(), err)
				}
			}
			maxTS = max(maxTS, cmd.WriteTimestamp)
			locks = locks.add(cmd.LockDelta, r.RangeID)
			if cmd.GcThreshold > 0 { // GC deletes: no new data, no growth
				gcThreshold = max(gcThreshold, cmd.GcThreshold)
			} else {
				appliedBytes += int64(len(cmd.WriteBatch))
				writes++
			}
		}
		if confChange && rejected != nil {
			res.CancelledConfChanges = append(res.CancelledConfChanges, e.GetIndex())
		}
		results = append(results, appliedResult{id: cmd.ProposalId, err: rejected})
	}
	if maxTS > prevMaxTS {
		if err := b.Set(storage.RangeMaxWriteTSKey(r.RangeID), encodeUint64(maxTS), nil); err != nil {
			return res, err
		}
	}
	if locks != prevLocks {
		if err := writeLockCount(b, r.RangeID, locks); err != nil {
			return res, err
		}
	}
	if gcThreshold > prevGC {
		if err := b.Set(storage.RangeGCThresholdKey(r.RangeID), encodeUint64(gcThreshold), nil); err != nil {
			return res, err
		}
		// Raised before the batch (with the GC's deletions) commits: a read
		// that could see the deletions also sees the threshold.
		r.raiseGCThreshold(gcThreshold)
	}
	lastTerm := ents[len(ents)-1].GetTerm()
	res.After = func() {
		r.mu.Lock()
		r.mu.appliedBytes += appliedBytes
		r.mu.writesApplied += writes
		r.mu.locks = locks
		r.mu.Unlock()
		r.afterApply(desc, maxTS, lastTerm, splits, results)
	}
	return res, nil
}

func applyWriteBatch(eng *storage.Engine, b *storage.Batch, repr []byte) error {
	tmp := eng.NewBatch()
	defer tmp.Close()
	if err := tmp.SetRepr(repr); err != nil {
		return fmt.Errorf("corrupt write batch: %w", err)
	}
	return b.Apply(tmp, nil)
}

// afterApply publishes applied state once the apply batch is durable in the
// engine: the new descriptor, new ranges, serving status and proposer results.
func (r *Replica) afterApply(desc *kvpb.RangeDescriptor, maxTS, lastTerm uint64, splits []*kvpb.SplitTrigger, results []appliedResult) {
	// Before this replica may serve (below), the clock passes every applied
	// version.
	r.store.cfg.Clock.Update(maxTS)
	r.mu.Lock()
	r.mu.desc = desc
	r.mu.maxWriteTS = maxTS
	if r.mu.leaderTerm != 0 && lastTerm == r.mu.leaderTerm {
		r.mu.servingTerm = lastTerm
	}
	leader := r.mu.leaderTerm != 0
	var waiting []*proposal
	var errs []error
	for _, res := range results {
		if p, ok := r.mu.proposals[res.id]; ok {
			delete(r.mu.proposals, res.id)
			waiting, errs = append(waiting, p), append(errs, res.err)
		}
	}
	r.mu.Unlock()
	for _, s := range splits {
		r.store.installSplit(s, leader)
	}
	for i, p := range waiting {
		p.done <- errs[i]
	}
	if !desc.HasNode(r.store.cfg.NodeID) {
		r.store.destroyReplica(r, desc) // removed from the range
	}
}

// LeadershipChanged implements raftstore.StateMachine. Pending proposals of a
// former leader may or may not commit: their outcome becomes ambiguous.
func (r *Replica) LeadershipChanged(isLeader bool, term uint64) {
	r.mu.Lock()
	var failed []*proposal
	if isLeader {
		r.mu.leaderTerm = term
	} else {
		r.mu.leaderTerm = 0
	}
	if !isLeader || r.mu.servingTerm != term {
		for id, p := range r.mu.proposals {
			failed = append(failed, p)
			delete(r.mu.proposals, id)
		}
	}
	r.mu.Unlock()
	for _, p := range failed {
		p.done <- kvpb.NewAmbiguousResult(errors.New("leadership changed while the command was pending"))
	}
}
