package raftstore

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/storage"
)

// Config configures a Store.
type Config struct {
	Engine *storage.Engine
	// Transport sends messages to peers; nil drops them (single node).
	Transport Transport
	// TickInterval is the Raft tick; ElectionTicks and HeartbeatTicks count it.
	TickInterval   time.Duration
	ElectionTicks  int
	HeartbeatTicks int
	// Workers is the size of the worker pool driving all groups.
	Workers int
	// MaxReadyBatch bounds the groups one worker persists with one fsync.
	MaxReadyBatch int
	// LogTruncateEntries: a group's log is truncated once it holds more
	// applied entries than this.
	LogTruncateEntries uint64
	// MaxUncommittedBytes bounds the uncommitted log of a leader (raft
	// rejects proposals beyond it with ErrProposalDropped).
	MaxUncommittedBytes uint64
	// OnFatal is called when persisting or applying fails: the node must stop
	// rather than diverge. nil panics.
	OnFatal func(error)
}

// DefaultConfig returns production defaults.
func DefaultConfig(eng *storage.Engine) Config {
	return Config{
		Engine:              eng,
		TickInterval:        100 * time.Millisecond,
		ElectionTicks:       10,
		HeartbeatTicks:      2,
		Workers:             4,
		MaxReadyBatch:       256,
		LogTruncateEntries:  1000,
		MaxUncommittedBytes: 64 << 20,
	}
}

// Validate rejects bad combinations.
func (c Config) Validate() error {
	switch {
	case c.Engine == nil:
		return errors.New("raftstore: an engine is required")
	case c.TickInterval <= 0:
		return errors.New("raftstore: tick interval must be positive")
	case c.HeartbeatTicks <= 0 || c.ElectionTicks <= c.HeartbeatTicks:
		return fmt.Errorf("raftstore: election ticks (%d) must exceed heartbeat ticks (%d) > 0", c.ElectionTicks, c.HeartbeatTicks)
	case c.Workers <= 0 || c.MaxReadyBatch <= 0:
		return errors.New("raftstore: workers and ready batch must be positive")
	case c.LogTruncateEntries == 0:
		return errors.New("raftstore: log truncation threshold must be positive")
	}
	return nil
}

// Transport delivers Raft messages of a range to the peers they address.
type Transport interface {
	Send(rangeID uint64, msgs []*raftpb.Message)
}

// Store drives every Raft group of one node.
type Store struct {
	cfg     Config
	eng     *storage.Engine
	sched   *scheduler
	metrics *metrics

	mu struct {
		sync.RWMutex
		groups map[uint64]*Group
	}

	stopper chan struct{}
	wg      sync.WaitGroup
	stopped sync.Once
	// failed is set by fatal; from then on no round makes progress.
	failed atomic.Bool
	// afterEarlyApply, for tests, runs between a round's early apply and
	// its fsync (the window a crash can hit).
	afterEarlyApply func()
}

// NewStore creates a store; call Start to run it.
func NewStore(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Store{cfg: cfg, eng: cfg.Engine, sched: newScheduler(), metrics: storeMetrics, stopper: make(chan struct{})}
	s.mu.groups = make(map[uint64]*Group)
	return s, nil
}

// Start launches the worker pool and the ticker.
func (s *Store) Start() {
	for i := 0; i < s.cfg.Workers; i++ {
		s.wg.Add(1)
		go s.worker()
	}
	s.wg.Add(1)
	go s.ticker()
}

// Stop halts workers and the ticker. Groups stay registered but are no longer
// driven; in-flight proposals never complete.
func (s *Store) Stop() {
	s.stopped.Do(func() {
		close(s.stopper)
		s.sched.stop()
		s.wg.Wait()
	})
}

// Stopped is closed when the store stops: in-flight proposals then never
// complete, so whoever waits for one must also wait for this.
func (s *Store) Stopped() <-chan struct{} { return s.stopper }

func (s *Store) ticker() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.TickInterval)
	defer t.Stop()
	var ids []uint64
	for {
		select {
		case <-s.stopper:
			return
		case <-t.C:
			ids = s.groupIDs(ids[:0])
			s.sched.enqueueAll(ids, flagTick)
		}
	}
}

func (s *Store) groupIDs(buf []uint64) []uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for id, g := range s.mu.groups {
		if !g.quiescent.Load() {
			buf = append(buf, id)
		}
	}
	return buf
}

// Group returns the group of a range, or nil.
func (s *Store) Group(rangeID uint64) *Group {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.groups[rangeID]
}

// NumGroups returns the number of groups on the store.
func (s *Store) NumGroups() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.mu.groups)
}

// Step routes an incoming message to its group.
func (s *Store) Step(rangeID uint64, m *raftpb.Message) error {
	g := s.Group(rangeID)
	if g == nil {
		return fmt.Errorf("raftstore: no group for range %d", rangeID)
	}
	return g.Step(m)
}

// WriteInitialState stages the Raft state of a brand-new range replica: an
// empty log that starts after a synthetic truncated prefix (index 10, term 5,
// as CockroachDB does), so all replicas of a new range agree on its start.
func WriteInitialState(w storage.Writer, rangeID uint64) error {
	return writeInitialRaftState(w, rangeID, &raftpb.HardState{})
}

// WriteInitialStateOver is WriteInitialState for a range that may already
// have an uninitialised replica here (created by a message from the new
// range's leader before this node applied the split): its term and vote
// are kept, so the replica never votes twice in a term.
func WriteInitialStateOver(r storage.Reader, w storage.Writer, rangeID uint64) error {
	hs := &raftpb.HardState{}
	if err := getProto(r, storage.RaftHardStateKey(rangeID), hs); err != nil {
		return err
	}
	return writeInitialRaftState(w, rangeID, hs)
}

func writeInitialRaftState(w storage.Writer, rangeID uint64, prev *raftpb.HardState) error {
	const initIndex, initTerm = 10, 5
	if err := PutProto(w, storage.RaftTruncatedStateKey(rangeID), &kvpb.RaftTruncatedState{Index: initIndex, Term: initTerm}); err != nil {
		return err
	}
	if err := PutProto(w, storage.RangeAppliedStateKey(rangeID), &kvpb.RangeAppliedState{AppliedIndex: initIndex, AppliedTerm: initTerm}); err != nil {
		return err
	}
	hs := &raftpb.HardState{Term: ptr(max(prev.GetTerm(), initTerm)), Commit: ptr(uint64(initIndex))}
	if prev.GetTerm() > initTerm {
		hs.Vote = ptr(prev.GetVote())
	}
	return PutProto(w, storage.RaftHardStateKey(rangeID), hs)
}

func ptr[T any](v T) *T { return &v }

// AddGroup loads a range's persisted Raft state and starts driving it.
func (s *Store) AddGroup(rangeID, replicaID uint64, cs *raftpb.ConfState, sm StateMachine) (*Group, error) {
	mem, hs, trunc, applied, err := loadGroupState(s.eng, rangeID, cs)
	if err != nil {
		return nil, err
	}
	rn, err := raft.NewRawNode(&raft.Config{
		ID:                        replicaID,
		ElectionTick:              s.cfg.ElectionTicks,
		HeartbeatTick:             s.cfg.HeartbeatTicks,
		Storage:                   groupStorage{MemoryStorage: mem, sm: sm},
		Applied:                   applied,
		MaxSizePerMsg:             1 << 20,
		MaxCommittedSizePerReady:  16 << 20,
		MaxInflightMsgs:           256,
		MaxUncommittedEntriesSize: s.cfg.MaxUncommittedBytes,
		CheckQuorum:               true,
		PreVote:                   true,
		Logger:                    raftLogger{},
	})
	if err != nil {
		return nil, fmt.Errorf("raftstore: range %d: %w", rangeID, err)
	}
	g := &Group{RangeID: rangeID, ReplicaID: replicaID, store: s, sm: sm, mem: mem}
	g.mu.rn = rn
	g.mu.hardState = hs
	g.mu.term = hs.GetTerm()
	g.mu.applied = applied
	g.mu.truncated, g.mu.truncatedTerm = trunc.Index, trunc.Term
	g.mu.confState = cs

	s.mu.Lock()
	if _, ok := s.mu.groups[rangeID]; ok {
		s.mu.Unlock()
		return nil, fmt.Errorf("raftstore: range %d already has a group", rangeID)
	}
	s.mu.groups[rangeID] = g
	n := len(s.mu.groups)
	s.mu.Unlock()
	s.metrics.groups.Set(float64(n))
	s.sched.enqueue(rangeID, flagReady)
	return g, nil
}

// RemoveGroupAndWait is RemoveGroup that also waits until no worker is in
// the middle of a round for the group, so the caller may then delete its
// state without racing a last persist. Never call it from a worker (a
// state machine callback): use RemoveGroup there.
func (s *Store) RemoveGroupAndWait(rangeID uint64) {
	s.RemoveGroup(rangeID)
	s.WaitRound(rangeID)
}

// WaitRound waits (boundedly) until no worker is in the middle of a round
// for the range's group: after RemoveGroup, none starts again. Never call
// it from a worker.
func (s *Store) WaitRound(rangeID uint64) {
	for deadline := time.Now().Add(10 * time.Second); s.sched.processing(rangeID) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
}

// RemoveGroup stops driving a group (its persisted state is left to the caller).
func (s *Store) RemoveGroup(rangeID uint64) {
	s.mu.Lock()
	g := s.mu.groups[rangeID]
	delete(s.mu.groups, rangeID)
	n := len(s.mu.groups)
	s.mu.Unlock()
	if g != nil {
		g.mu.Lock()
		g.mu.removed = true
		g.mu.Unlock()
	}
	s.sched.remove(rangeID)
	s.metrics.groups.Set(float64(n))
}

// fatal stops the store on a broken invariant (a failed persist or apply):
// no group is driven any further, so nothing is acknowledged, applied or
// advanced past the failure. The caller returns without Advance.
func (s *Store) fatal(err error) {
	if s.failed.Swap(true) {
		return
	}
	slog.Error("raftstore: fatal", "err", err)
	s.sched.stop() // workers exit after their current round
	if s.cfg.OnFatal != nil {
		s.cfg.OnFatal(err)
		return
	}
	panic(err)
}

// raftLogger routes etcd raft's logging to slog, quietly.
type raftLogger struct{}

func (raftLogger) Debug(...interface{})          {}
func (raftLogger) Debugf(string, ...interface{}) {}
func (raftLogger) Info(...interface{})           {}
func (raftLogger) Infof(string, ...interface{})  {}
func (raftLogger) Warning(v ...interface{})      { slog.Warn(fmt.Sprint(v...)) }
func (raftLogger) Warningf(f string, v ...interface{}) {
	slog.Warn(fmt.Sprintf(f, v...))
}
func (raftLogger) Error(v ...interface{})            { slog.Error(fmt.Sprint(v...)) }
func (raftLogger) Errorf(f string, v ...interface{}) { slog.Error(fmt.Sprintf(f, v...)) }
func (raftLogger) Fatal(v ...interface{})            { panic(fmt.Sprint(v...)) }
func (raftLogger) Fatalf(f string, v ...interface{}) { panic(fmt.Sprintf(f, v...)) }
func (raftLogger) Panic(v ...interface{})            { panic(fmt.Sprint(v...)) }
func (raftLogger) Panicf(f string, v ...interface{}) { panic(fmt.Sprintf(f, v...)) }

// Fatal stops the node on a broken invariant found above the store.
func (s *Store) Fatal(err error) { s.fatal(err) }

// SetTransport sets the transport; call before Start (the transport needs
// the replica layer, which needs the store).
func (s *Store) SetTransport(t Transport) { s.cfg.Transport = t }

// SendMessages hands messages of a range that no group produced (notices
// of the replica layer, see replica.Store.HandleRaftMessage) to the
// transport; without one they are dropped.
func (s *Store) SendMessages(rangeID uint64, msgs ...*raftpb.Message) {
	if s.cfg.Transport != nil {
		s.cfg.Transport.Send(rangeID, msgs)
	}
}
