package raftstore

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/storage"
)

// StateMachine is a range replica's replicated state, implemented by replica/.
type StateMachine interface {
	// Apply stages the effects of committed entries (in log order) into b, the
	// round's shared apply batch. Empty and conf-change entries are included.
	// It must be deterministic: the same entries give the same writes on every
	// replica. The returned callback, if any, runs after b has committed.
	// An error is a broken invariant: the store stops the node rather than
	// diverge.
	Apply(b *storage.Batch, ents []*raftpb.Entry) (ApplyResult, error)
	// LeadershipChanged is called (without group locks held) when this
	// replica gains or loses leadership or the term changes.
	LeadershipChanged(isLeader bool, term uint64)
	// Snapshot returns a snapshot of the applied state: metadata (applied
	// index and term, configuration) and data read from one consistent
	// engine snapshot. Called by raft with the group locked.
	Snapshot() (*raftpb.Snapshot, error)
	// ApplySnapshot stages the replacement of the replica's state by snap's
	// data into b; the store replaces the log. The callback runs after b
	// has committed.
	ApplySnapshot(b *storage.Batch, snap *raftpb.Snapshot) (after func(), err error)
}

// groupStorage is the raft.Storage of a group: the MemoryStorage log cache,
// with snapshots produced by the state machine at its applied index (so a
// snapshot's metadata always matches its data).
type groupStorage struct {
	*raft.MemoryStorage
	sm StateMachine
}

func (s groupStorage) Snapshot() (*raftpb.Snapshot, error) { return s.sm.Snapshot() }

// ApplyResult is what the state machine tells the store about an Apply.
type ApplyResult struct {
	// After, if set, runs once the apply batch has committed.
	After func()
	// CancelledConfChanges holds the indexes of conf-change entries the state
	// machine rejected (deterministically); raft is told to apply them as
	// no-ops. Every other conf change among the entries is applied to raft.
	CancelledConfChanges []uint64
}

// ErrGroupRemoved is returned for operations on a removed group.
var ErrGroupRemoved = errors.New("raftstore: raft group removed")

// ErrStoreFailed is returned once the store stopped on a fatal error.
var ErrStoreFailed = errors.New("raftstore: store stopped after a fatal error")

// Group is one range's Raft group on this store.
type Group struct {
	RangeID   uint64
	ReplicaID uint64

	store *Store
	sm    StateMachine
	mem   *raft.MemoryStorage // thread-safe; caches the untruncated log

	// quiescent: the group is a sole voter that leads with nothing to do, so
	// the ticker skips it (see lease.go). Any work wakes it.
	quiescent atomic.Bool

	mu struct {
		sync.Mutex
		rn        *raft.RawNode
		removed   bool
		hardState *raftpb.HardState // last persisted
		leader    uint64
		term      uint64
		applied   uint64
		// Invariant: truncated <= applied; entries <= truncated are gone
		// from both the engine and mem.
		truncated     uint64
		truncatedTerm uint64
		confState     *raftpb.ConfState
		// leaseExpiry: as leader, this replica may serve reads until then
		// (monotonic nanoseconds since process start; see lease.go).
		leaseExpiry int64
		// ticks counts Tick calls (lease renewal every heartbeat interval).
		ticks uint64
	}
}

// loadGroupState reads a group's persisted Raft state into a MemoryStorage.
func loadGroupState(eng *storage.Engine, rangeID uint64, cs *raftpb.ConfState) (*raft.MemoryStorage, *raftpb.HardState, *kvpb.RaftTruncatedState, uint64, error) {
	r := eng.Reader()
	var trunc kvpb.RaftTruncatedState
	if err := getProto(r, storage.RaftTruncatedStateKey(rangeID), &trunc); err != nil {
		return nil, nil, nil, 0, fmt.Errorf("range %d truncated state: %w", rangeID, err)
	}
	var applied kvpb.RangeAppliedState
	if err := getProto(r, storage.RangeAppliedStateKey(rangeID), &applied); err != nil {
		return nil, nil, nil, 0, fmt.Errorf("range %d applied state: %w", rangeID, err)
	}
	hs := &raftpb.HardState{}
	if err := getProto(r, storage.RaftHardStateKey(rangeID), hs); err != nil {
		return nil, nil, nil, 0, fmt.Errorf("range %d hard state: %w", rangeID, err)
	}
	mem := raft.NewMemoryStorage()
	if trunc.Index > 0 { // 0: an uninitialised replica, waiting for a snapshot
		snap := &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{
			Index: proto.Uint64(trunc.Index), Term: proto.Uint64(trunc.Term), ConfState: cs,
		}}
		if err := mem.ApplySnapshot(snap); err != nil {
			return nil, nil, nil, 0, err
		}
	}
	ents, err := readLog(r, rangeID, trunc.Index+1)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	if err := mem.Append(ents); err != nil {
		return nil, nil, nil, 0, err
	}
	if err := mem.SetHardState(hs); err != nil {
		return nil, nil, nil, 0, err
	}
	return mem, hs, &trunc, applied.AppliedIndex, nil
}

// Propose submits a command. It returns once the proposal is in the leader's
// (or forwarded to the leader's) unstable log; the state machine sees it
// in Apply when committed.
func (g *Group) Propose(data []byte) error {
	if err := g.propose(func(rn *raft.RawNode) error { return rn.Propose(data) }); err != nil {
		return err
	}
	g.store.metrics.proposals.Inc()
	return nil
}

// propose runs a proposal against the RawNode unless the store failed or
// the group was removed, then wakes the group.
func (g *Group) propose(f func(*raft.RawNode) error) error {
	if g.store.failed.Load() {
		return ErrStoreFailed
	}
	g.mu.Lock()
	if g.mu.removed {
		g.mu.Unlock()
		return ErrGroupRemoved
	}
	err := f(g.mu.rn)
	g.mu.Unlock()
	if err != nil {
		return err
	}
	g.quiescent.Store(false)
	g.store.sched.enqueue(g.RangeID, flagReady)
	return nil
}

// Step delivers a message from a peer.
func (g *Group) Step(m *raftpb.Message) error {
	g.mu.Lock()
	if g.mu.removed {
		g.mu.Unlock()
		return ErrGroupRemoved
	}
	err := g.mu.rn.Step(m)
	g.mu.Unlock()
	g.quiescent.Store(false)
	g.store.sched.enqueue(g.RangeID, flagReady)
	return err
}

// ProposeConfChange submits a configuration change; the state machine sees
// it in Apply when committed and may cancel it.
func (g *Group) ProposeConfChange(cc raftpb.ConfChangeI) error {
	return g.propose(func(rn *raft.RawNode) error { return rn.ProposeConfChange(cc) })
}

// Campaign makes this replica start an election.
func (g *Group) Campaign() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.mu.removed {
		return ErrGroupRemoved
	}
	err := g.mu.rn.Campaign()
	g.quiescent.Store(false)
	g.store.sched.enqueue(g.RangeID, flagReady)
	return err
}

// Leader returns the replica id of the leader known to this replica (0 if
// none) and the current term.
func (g *Group) Leader() (leader, term uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.mu.leader, g.mu.term
}

// IsLeader reports whether this replica is the leader.
func (g *Group) IsLeader() bool {
	l, _ := g.Leader()
	return l == g.ReplicaID
}

// CaughtUp reports whether, as seen by this replica as leader, the replica
// replicaID has every committed entry (a learner that got its snapshot).
func (g *Group) CaughtUp(replicaID uint64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.mu.rn.Status()
	pr, ok := st.Progress[replicaID]
	return ok && pr.Match >= st.GetCommit()
}

// ReportSnapshot tells raft whether a snapshot reached replicaID.
func (g *Group) ReportSnapshot(replicaID uint64, ok bool) {
	status := raft.SnapshotFinish
	if !ok {
		status = raft.SnapshotFailure
	}
	g.mu.Lock()
	if !g.mu.removed {
		g.mu.rn.ReportSnapshot(replicaID, status)
	}
	g.mu.Unlock()
	g.quiescent.Store(false)
	g.store.sched.enqueue(g.RangeID, flagReady)
}

// TransferLeader asks raft to hand leadership to replicaID (it happens once
// the target has caught up; the caller observes the outcome).
func (g *Group) TransferLeader(replicaID uint64) {
	g.mu.Lock()
	if !g.mu.removed {
		g.mu.rn.TransferLeader(replicaID)
	}
	g.mu.Unlock()
	g.quiescent.Store(false)
	g.store.sched.enqueue(g.RangeID, flagReady)
}

// Status returns the Raft status (for diagnostics).
func (g *Group) Status() raft.Status {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.mu.rn.Status()
}

// getProto reads and decodes a protobuf stored under an engine key; a missing
// key leaves msg empty.
func getProto(r storage.Reader, key []byte, msg proto.Message) error {
	v, err := storage.Get(r, key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return proto.Unmarshal(v, msg)
}

// PutProto encodes msg into w under key.
func PutProto(w storage.Writer, key []byte, msg proto.Message) error {
	v, err := proto.Marshal(msg)
	if err != nil {
		return err
	}
	return w.Set(key, v, nil)
}
