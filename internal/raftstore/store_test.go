package raftstore

import (
	"go.uber.org/goleak"

	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/storage"
)

func TestConfigValidate(t *testing.T) {
	eng := openEngine(t)
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string // "" for valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"no engine", func(c *Config) { c.Engine = nil }, "engine"},
		{"zero tick", func(c *Config) { c.TickInterval = 0 }, "tick interval"},
		{"negative tick", func(c *Config) { c.TickInterval = -time.Second }, "tick interval"},
		{"zero heartbeat", func(c *Config) { c.HeartbeatTicks = 0 }, "heartbeat"},
		{"negative heartbeat", func(c *Config) { c.HeartbeatTicks = -1 }, "heartbeat"},
		{"election equals heartbeat", func(c *Config) { c.ElectionTicks, c.HeartbeatTicks = 2, 2 }, "election ticks"},
		{"election below heartbeat", func(c *Config) { c.ElectionTicks, c.HeartbeatTicks = 1, 2 }, "election ticks"},
		{"election just above heartbeat", func(c *Config) { c.ElectionTicks, c.HeartbeatTicks = 3, 2 }, ""},
		{"zero workers", func(c *Config) { c.Workers = 0 }, "workers"},
		{"negative workers", func(c *Config) { c.Workers = -1 }, "workers"},
		{"zero ready batch", func(c *Config) { c.MaxReadyBatch = 0 }, "ready batch"},
		{"zero truncation threshold", func(c *Config) { c.LogTruncateEntries = 0 }, "truncation"},
		{"single worker and batch", func(c *Config) { c.Workers, c.MaxReadyBatch = 1, 1 }, ""},
		{"no transport is fine", func(c *Config) { c.Transport = nil }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig(eng)
			tc.mutate(&cfg)
			err := cfg.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate() = %v, want an error mentioning %q", err, tc.wantErr)
			}
			if s, err := NewStore(cfg); err == nil || s != nil {
				t.Fatalf("NewStore accepted an invalid config")
			}
		})
	}
}

func openEngine(t testing.TB) *storage.Engine {
	t.Helper()
	eng, err := storage.Open(storage.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close() })
	return eng
}

// appliedEntry is one entry as the state machine saw it.
type appliedEntry struct {
	index, term uint64
	typ         raftpb.EntryType
	data        string
}

// fakeSM records every entry handed to Apply. It stages one engine key per
// command into the apply batch so applied effects are persisted with the
// applied state, as the real replica does.
type fakeSM struct {
	rangeID uint64
	poison  string // a command whose Apply fails
	// afterCmd, if set, runs for each applied command once its batch
	// committed (in the apply's After).
	afterCmd func(cmd string)

	mu struct {
		sync.Mutex
		entries    []appliedEntry
		afterCalls int
		leadership []string
	}
}

func smDataKey(rangeID uint64, cmd string) []byte {
	return []byte(fmt.Sprintf("sm/%d/%s", rangeID, cmd))
}

func (f *fakeSM) Apply(b *storage.Batch, ents []*raftpb.Entry) (ApplyResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range ents {
		if f.poison != "" && string(e.GetData()) == f.poison {
			return ApplyResult{}, fmt.Errorf("poisoned command at index %d", e.GetIndex())
		}
		f.mu.entries = append(f.mu.entries, appliedEntry{e.GetIndex(), e.GetTerm(), e.GetType(), string(e.GetData())})
		if e.GetType() == raftpb.EntryNormal && len(e.GetData()) > 0 {
			if err := storage.MVCCPut(b, smDataKey(f.rangeID, string(e.GetData())), e.GetIndex(), []byte("applied")); err != nil {
				return ApplyResult{}, err
			}
		}
	}
	return ApplyResult{After: func() {
		f.mu.Lock()
		f.mu.afterCalls++
		f.mu.Unlock()
		if f.afterCmd != nil {
			for _, e := range ents {
				f.afterCmd(string(e.GetData()))
			}
		}
	}}, nil
}

func (f *fakeSM) LeadershipChanged(isLeader bool, term uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mu.leadership = append(f.mu.leadership, fmt.Sprintf("leader=%v term=%d", isLeader, term))
}

func (f *fakeSM) Snapshot() (*raftpb.Snapshot, error) {
	return nil, raft.ErrSnapshotTemporarilyUnavailable // single voter: never needed
}

func (f *fakeSM) ApplySnapshot(*storage.Batch, *raftpb.Snapshot) (func(), error) {
	return nil, errors.New("fakeSM: a single voter never receives a snapshot")
}

func (f *fakeSM) applied() []appliedEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]appliedEntry(nil), f.mu.entries...)
}

// commands counts the applications of each non-empty normal entry.
func (f *fakeSM) commands() map[string]int {
	out := map[string]int{}
	for _, e := range f.applied() {
		if e.typ == raftpb.EntryNormal && e.data != "" {
			out[e.data]++
		}
	}
	return out
}

func testStoreConfig(eng *storage.Engine) Config {
	cfg := DefaultConfig(eng)
	cfg.TickInterval = time.Millisecond // many ticks: exercise the scheduler
	cfg.Workers = 2
	return cfg
}

func startStore(t *testing.T, cfg Config) *Store {
	t.Helper()
	s, err := NewStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Stop) // Stop is idempotent
	return s
}

func writeInitialState(t *testing.T, eng *storage.Engine, rangeID uint64) {
	t.Helper()
	b := eng.NewBatch()
	defer b.Close()
	if err := WriteInitialState(b, rangeID); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(storage.Sync); err != nil {
		t.Fatal(err)
	}
}

var singleVoter = &raftpb.ConfState{Voters: []uint64{1}}

// addLeader adds a single-voter group and waits until it leads.
func addLeader(t *testing.T, s *Store, rangeID uint64, sm *fakeSM) *Group {
	t.Helper()
	g, err := s.AddGroup(rangeID, 1, singleVoter, sm)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Campaign(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the single voter to become leader", g.IsLeader)
	return g
}

// proposeAll proposes cmds from several goroutines at once.
func proposeAll(t *testing.T, g *Group, cmds []string) {
	t.Helper()
	const proposers = 8
	var wg sync.WaitGroup
	errs := make(chan error, len(cmds))
	for p := 0; p < proposers; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for i := p; i < len(cmds); i += proposers {
				if err := g.Propose([]byte(cmds[i])); err != nil {
					errs <- fmt.Errorf("propose %s: %w", cmds[i], err)
				}
			}
		}(p)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
}

func makeCommands(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%04d", prefix, i)
	}
	return out
}

// waitApplied waits until every command was applied at least once.
func waitApplied(t *testing.T, sm *fakeSM, cmds []string) {
	t.Helper()
	waitFor(t, 30*time.Second, fmt.Sprintf("%d commands to apply", len(cmds)), func() bool {
		got := sm.commands()
		for _, c := range cmds {
			if got[c] == 0 {
				return false
			}
		}
		return true
	})
}

// checkAppliedSequence verifies the state machine saw a gap-free, strictly
// increasing run of log indices starting after fromIndex, every command once.
func checkAppliedSequence(t *testing.T, ents []appliedEntry, fromIndex uint64) {
	t.Helper()
	seen := map[string]uint64{}
	next := fromIndex + 1
	for _, e := range ents {
		if e.index != next {
			t.Fatalf("applied index %d, want %d (applied out of order, twice, or with a gap)", e.index, next)
		}
		next++
		if e.typ == raftpb.EntryNormal && e.data != "" {
			if prev, ok := seen[e.data]; ok {
				t.Fatalf("command %q applied twice, at %d and %d", e.data, prev, e.index)
			}
			seen[e.data] = e.index
		}
	}
}

// checkMatchesLog verifies every applied entry is the entry of the persisted
// log at its index (for entries not yet truncated).
func checkMatchesLog(t *testing.T, eng *storage.Engine, rangeID uint64, ents []appliedEntry) {
	t.Helper()
	var trunc kvpb.RaftTruncatedState
	if err := getProto(eng.Reader(), storage.RaftTruncatedStateKey(rangeID), &trunc); err != nil {
		t.Fatal(err)
	}
	log, err := readLog(eng.Reader(), rangeID, trunc.Index+1)
	if err != nil {
		t.Fatal(err)
	}
	byIndex := map[uint64]*raftpb.Entry{}
	for _, e := range log {
		byIndex[e.GetIndex()] = e
	}
	checked := 0
	for _, a := range ents {
		if a.index <= trunc.Index {
			continue
		}
		e, ok := byIndex[a.index]
		if !ok {
			t.Fatalf("applied index %d is not in the persisted log (truncated at %d)", a.index, trunc.Index)
		}
		if e.GetTerm() != a.term || string(e.GetData()) != a.data || e.GetType() != a.typ {
			t.Fatalf("applied %+v but the log holds term %d %q at index %d", a, e.GetTerm(), e.GetData(), a.index)
		}
		checked++
	}
	if checked == 0 && len(ents) > 0 {
		t.Fatal("no applied entry left in the log to compare with")
	}
}

func readAppliedState(t *testing.T, r storage.Reader, rangeID uint64) *kvpb.RangeAppliedState {
	t.Helper()
	var as kvpb.RangeAppliedState
	if err := getProto(r, storage.RangeAppliedStateKey(rangeID), &as); err != nil {
		t.Fatal(err)
	}
	return &as
}

func readTruncatedState(t *testing.T, r storage.Reader, rangeID uint64) *kvpb.RaftTruncatedState {
	t.Helper()
	var ts kvpb.RaftTruncatedState
	if err := getProto(r, storage.RaftTruncatedStateKey(rangeID), &ts); err != nil {
		t.Fatal(err)
	}
	return &ts
}

func lastApplied(ents []appliedEntry) uint64 {
	if len(ents) == 0 {
		return 0
	}
	return ents[len(ents)-1].index
}

const initIndex = 10 // WriteInitialState's synthetic truncated prefix

// TestGroupProposeApplyRestart: concurrent proposals to a single voter are
// applied exactly once in log order; after a restart on the same engine
// nothing at or below the persisted applied index is applied again, and new
// proposals work.
func TestGroupProposeApplyRestart(t *testing.T) {
	eng := openEngine(t)
	writeInitialState(t, eng, 1)
	s1 := startStore(t, testStoreConfig(eng))
	sm1 := &fakeSM{rangeID: 1}
	g := addLeader(t, s1, 1, sm1)
	if s1.Group(1) != g || s1.NumGroups() != 1 {
		t.Fatalf("Group(1) = %p (want %p), NumGroups = %d", s1.Group(1), g, s1.NumGroups())
	}
	if leader, term := g.Leader(); leader != 1 || term <= 5 {
		t.Fatalf("Leader() = %d, term %d; want 1 in a term after the initial term 5", leader, term)
	}

	cmds := makeCommands("a", 300)
	proposeAll(t, g, cmds)
	waitApplied(t, sm1, cmds)
	ents := sm1.applied()
	checkAppliedSequence(t, ents, initIndex)
	checkMatchesLog(t, eng, 1, ents)
	sm1.mu.Lock()
	leadership := fmt.Sprint(sm1.mu.leadership)
	sm1.mu.Unlock()
	if !strings.Contains(leadership, "leader=true") {
		t.Errorf("LeadershipChanged calls = %s, want a gain of leadership", leadership)
	}

	s1.Stop()
	ents = sm1.applied() // final: Stop waited for the workers
	as := readAppliedState(t, eng.Reader(), 1)
	if as.AppliedIndex != lastApplied(ents) {
		t.Fatalf("persisted applied index %d, but the state machine applied up to %d", as.AppliedIndex, lastApplied(ents))
	}
	var hs raftpb.HardState
	if err := getProto(eng.Reader(), storage.RaftHardStateKey(1), &hs); err != nil {
		t.Fatal(err)
	}
	if hs.GetCommit() < as.AppliedIndex {
		t.Fatalf("hard state commit %d below the applied index %d", hs.GetCommit(), as.AppliedIndex)
	}
	// The state machine's effects were committed with the applied state.
	for _, c := range cmds {
		if got, err := storage.MVCCGet(eng.Reader(), smDataKey(1, c), storage.MaxTimestamp); err != nil || !got.Found {
			t.Fatalf("effect of %s not in the engine: %+v, %v", c, got, err)
		}
	}

	// Restart on the same engine.
	s2 := startStore(t, testStoreConfig(eng))
	sm2 := &fakeSM{rangeID: 1}
	g2 := addLeader(t, s2, 1, sm2)
	cmds2 := makeCommands("b", 100)
	proposeAll(t, g2, cmds2)
	waitApplied(t, sm2, cmds2)
	s2.Stop()
	ents2 := sm2.applied()
	if len(ents2) == 0 || ents2[0].index != as.AppliedIndex+1 {
		t.Fatalf("after restart the first applied index is %v, want %d", ents2, as.AppliedIndex+1)
	}
	checkAppliedSequence(t, ents2, as.AppliedIndex)
	for c, n := range sm2.commands() {
		if strings.HasPrefix(c, "a-") {
			t.Fatalf("command %s from before the restart applied again (%d times)", c, n)
		}
	}
	checkMatchesLog(t, eng, 1, ents2)
	if got := readAppliedState(t, eng.Reader(), 1).AppliedIndex; got != lastApplied(ents2) {
		t.Fatalf("persisted applied index %d after restart, want %d", got, lastApplied(ents2))
	}
}

// TestGroupLogTruncation: with a small LogTruncateEntries the log is
// truncated while proposals flow; the engine never holds log entries at or
// below the truncated index, the remaining log is contiguous, and the group
// restarts from the truncated log.
func TestGroupLogTruncation(t *testing.T) {
	eng := openEngine(t)
	writeInitialState(t, eng, 1)
	cfg := testStoreConfig(eng)
	cfg.LogTruncateEntries = 8
	s1 := startStore(t, cfg)
	sm1 := &fakeSM{rangeID: 1}
	g := addLeader(t, s1, 1, sm1)

	// Check the on-disk invariant on consistent snapshots while writing.
	stop := make(chan struct{})
	checkerDone := make(chan error, 1)
	go func() {
		var err error
		for err == nil {
			select {
			case <-stop:
				checkerDone <- nil
				return
			default:
			}
			snap := eng.NewSnapshot()
			err = checkLogLayout(snap, 1)
			_ = snap.Close()
		}
		checkerDone <- err
	}()
	cmds := makeCommands("t", 200)
	proposeAll(t, g, cmds)
	waitApplied(t, sm1, cmds)
	close(stop)
	if err := <-checkerDone; err != nil {
		t.Fatal(err)
	}
	last := lastApplied(sm1.applied())
	waitFor(t, 10*time.Second, "the log to be truncated near the applied index", func() bool {
		return readTruncatedState(t, eng.Reader(), 1).Index+cfg.LogTruncateEntries >= last
	})
	s1.Stop()
	ents := sm1.applied()
	checkAppliedSequence(t, ents, initIndex)
	trunc := readTruncatedState(t, eng.Reader(), 1)
	if trunc.Index <= initIndex || trunc.Index > lastApplied(ents) {
		t.Fatalf("truncated index %d, want in (%d, %d]", trunc.Index, initIndex, lastApplied(ents))
	}
	if err := checkLogLayout(eng.Reader(), 1); err != nil {
		t.Fatal(err)
	}

	applied := readAppliedState(t, eng.Reader(), 1).AppliedIndex
	if applied != lastApplied(ents) {
		t.Fatalf("persisted applied index %d, state machine applied %d", applied, lastApplied(ents))
	}

	// Restart from the truncated log.
	s2 := startStore(t, cfg)
	sm2 := &fakeSM{rangeID: 1}
	g2, err := s2.AddGroup(1, 1, singleVoter, sm2)
	if err != nil {
		t.Fatal(err)
	}
	if first, err := g2.mem.FirstIndex(); err != nil || first != trunc.Index+1 {
		t.Fatalf("log cache starts at %d (%v), want %d", first, err, trunc.Index+1)
	}
	if err := g2.Campaign(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "leadership after restart", g2.IsLeader)
	cmds2 := makeCommands("u", 50)
	proposeAll(t, g2, cmds2)
	waitApplied(t, sm2, cmds2)
	s2.Stop()
	ents2 := sm2.applied()
	checkAppliedSequence(t, ents2, applied)
	for c := range sm2.commands() {
		if strings.HasPrefix(c, "t-") {
			t.Fatalf("command %s from before the restart applied again", c)
		}
	}
	if err := checkLogLayout(eng.Reader(), 1); err != nil {
		t.Fatal(err)
	}
	if got := readTruncatedState(t, eng.Reader(), 1).Index; got <= trunc.Index {
		t.Fatalf("no truncation after restart: truncated index %d, was %d", got, trunc.Index)
	}
}

// checkLogLayout verifies, on one consistent view, that no log entry at or
// below the truncated index is left and that the log after it is gap-free.
func checkLogLayout(r storage.Reader, rangeID uint64) error {
	var trunc kvpb.RaftTruncatedState
	if err := getProto(r, storage.RaftTruncatedStateKey(rangeID), &trunc); err != nil {
		return err
	}
	it, err := r.NewIter(&pebble.IterOptions{
		LowerBound: storage.RaftLogPrefix(rangeID),
		UpperBound: storage.RaftLogKey(rangeID, ^uint64(0)),
	})
	if err != nil {
		return err
	}
	defer it.Close()
	next := trunc.Index + 1
	for valid := it.First(); valid; valid = it.Next() {
		idx := storage.RaftLogIndex(it.Key())
		if idx <= trunc.Index {
			return fmt.Errorf("log entry %d survives truncation at %d", idx, trunc.Index)
		}
		if idx != next {
			return fmt.Errorf("log gap: entry %d follows %d", idx, next-1)
		}
		next++
	}
	return it.Error()
}

// TestMultipleGroups: groups on one store are independent; each applies
// its own commands in order.
func TestMultipleGroups(t *testing.T) {
	eng := openEngine(t)
	cfg := testStoreConfig(eng)
	cfg.MaxReadyBatch = 2 // several rounds per batch of ready groups
	s := startStore(t, cfg)
	const groups = 5
	sms := make([]*fakeSM, groups+1)
	gs := make([]*Group, groups+1)
	for id := uint64(1); id <= groups; id++ {
		writeInitialState(t, eng, id)
		sms[id] = &fakeSM{rangeID: id}
		gs[id] = addLeader(t, s, id, sms[id])
	}
	if s.NumGroups() != groups {
		t.Fatalf("NumGroups = %d", s.NumGroups())
	}
	if _, err := s.AddGroup(1, 1, singleVoter, &fakeSM{rangeID: 1}); err == nil {
		t.Fatal("AddGroup accepted a second group for range 1")
	}
	var wg sync.WaitGroup
	for id := uint64(1); id <= groups; id++ {
		wg.Add(1)
		go func(id uint64) {
			defer wg.Done()
			proposeAll(t, gs[id], makeCommands(fmt.Sprintf("g%d", id), 60))
		}(id)
	}
	wg.Wait()
	for id := uint64(1); id <= groups; id++ {
		cmds := makeCommands(fmt.Sprintf("g%d", id), 60)
		waitApplied(t, sms[id], cmds)
		for c := range sms[id].commands() {
			if !strings.HasPrefix(c, fmt.Sprintf("g%d-", id)) {
				t.Fatalf("group %d applied %s of another group", id, c)
			}
		}
	}
	s.Stop()
	for id := uint64(1); id <= groups; id++ {
		checkAppliedSequence(t, sms[id].applied(), initIndex)
		if got := readAppliedState(t, eng.Reader(), id).AppliedIndex; got != lastApplied(sms[id].applied()) {
			t.Fatalf("group %d persisted applied index %d, applied %d", id, got, lastApplied(sms[id].applied()))
		}
	}
}

// TestProposeWithoutLeader: a group that has not elected itself drops
// proposals instead of queueing them.
func TestProposeWithoutLeader(t *testing.T) {
	eng := openEngine(t)
	writeInitialState(t, eng, 1)
	cfg := testStoreConfig(eng)
	cfg.TickInterval = time.Hour // no election by ticks during the test
	s := startStore(t, cfg)
	g, err := s.AddGroup(1, 1, singleVoter, &fakeSM{rangeID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Propose([]byte("x")); !errors.Is(err, raft.ErrProposalDropped) {
		t.Fatalf("Propose without a leader = %v, want ErrProposalDropped", err)
	}
	if g.IsLeader() {
		t.Fatal("leader without an election")
	}
}

func TestRemoveGroup(t *testing.T) {
	eng := openEngine(t)
	writeInitialState(t, eng, 1)
	s := startStore(t, testStoreConfig(eng))
	sm := &fakeSM{rangeID: 1}
	g := addLeader(t, s, 1, sm)
	s.RemoveGroup(1)
	if s.Group(1) != nil || s.NumGroups() != 0 {
		t.Fatal("group still registered after RemoveGroup")
	}
	if err := g.Propose([]byte("x")); !errors.Is(err, ErrGroupRemoved) {
		t.Fatalf("Propose on a removed group = %v, want ErrGroupRemoved", err)
	}
	if err := g.Campaign(); !errors.Is(err, ErrGroupRemoved) {
		t.Fatalf("Campaign on a removed group = %v, want ErrGroupRemoved", err)
	}
	if err := g.Step(&raftpb.Message{}); !errors.Is(err, ErrGroupRemoved) {
		t.Fatalf("Step on a removed group = %v, want ErrGroupRemoved", err)
	}
	if err := s.Step(1, &raftpb.Message{}); err == nil {
		t.Fatal("Store.Step to a removed range succeeded")
	}
	// The range can be added again (e.g. re-created after a restart).
	sm2 := &fakeSM{rangeID: 1}
	g2 := addLeader(t, s, 1, sm2)
	proposeAll(t, g2, []string{"after-readd"})
	waitApplied(t, sm2, []string{"after-readd"})
}

// TestStopIsIdempotentAndStopsWorkers: Stop returns with no worker or ticker
// left, twice in a row, and works on a store that was never started.
func TestStopIsIdempotentAndStopsWorkers(t *testing.T) {
	eng := openEngine(t)
	writeInitialState(t, eng, 1)
	ignore := goleak.IgnoreCurrent()
	s, err := NewStore(testStoreConfig(eng))
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	addLeader(t, s, 1, &fakeSM{rangeID: 1})
	s.Stop()
	s.Stop()
	goleak.VerifyNone(t, ignore) // retries until workers and ticker exit
	never, err := NewStore(testStoreConfig(eng))
	if err != nil {
		t.Fatal(err)
	}
	never.Stop()
}

// TestApplyFailureStopsTheGroup: an Apply error is a broken invariant. The
// store reports it through OnFatal and must not carry on as if the entries
// had been applied: raft must not be told they were (Advance), or the next
// round applies later entries and persists an applied index past entries
// whose effects were never written.
func TestApplyFailureStopsTheGroup(t *testing.T) {
	eng := openEngine(t)
	writeInitialState(t, eng, 1)
	cfg := testStoreConfig(eng)
	fatal := make(chan error, 10)
	cfg.OnFatal = func(err error) {
		select {
		case fatal <- err:
		default:
		}
	}
	s := startStore(t, cfg)
	sm := &fakeSM{rangeID: 1, poison: "poison"}
	g := addLeader(t, s, 1, sm)
	proposeAll(t, g, []string{"ok-1"})
	waitApplied(t, sm, []string{"ok-1"})
	if err := g.Propose([]byte("poison")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-fatal:
		if !strings.Contains(err.Error(), "poisoned") {
			t.Fatalf("OnFatal got %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("OnFatal was not called for a failing Apply")
	}
	// Proposals after the failure may be accepted or refused, but must never
	// be applied.
	_ = g.Propose([]byte("after-poison"))
	s.Stop()
	persisted := readAppliedState(t, eng.Reader(), 1).AppliedIndex
	if raftApplied := g.Status().Applied; raftApplied > persisted {
		t.Errorf("raft applied index %d is past the persisted applied index %d after a failed apply", raftApplied, persisted)
	}
	if n := sm.commands()["after-poison"]; n > 0 {
		t.Errorf("a command proposed after the fatal apply error was applied")
	}
}

// TestGroupRestartMidFlight stops the store while proposals are still
// arriving. Whatever reached the durable log is applied exactly once across
// both lives of the group, the second life starting right after the
// persisted applied index.
func TestGroupRestartMidFlight(t *testing.T) {
	eng := openEngine(t)
	writeInitialState(t, eng, 1)
	cfg := testStoreConfig(eng)
	cfg.LogTruncateEntries = 50
	s1 := startStore(t, cfg)
	sm1 := &fakeSM{rangeID: 1}
	g := addLeader(t, s1, 1, sm1)

	cmds := makeCommands("m", 400)
	proposed := make(chan struct{})
	go func() {
		defer close(proposed)
		for _, c := range cmds {
			if g.Propose([]byte(c)) != nil {
				return
			}
		}
	}()
	waitFor(t, 30*time.Second, "some commands to apply", func() bool { return len(sm1.commands()) >= 100 })
	s1.Stop() // proposals keep arriving at the stopped group; they are lost
	<-proposed

	applied := readAppliedState(t, eng.Reader(), 1).AppliedIndex
	ents1 := sm1.applied()
	if lastApplied(ents1) != applied {
		t.Fatalf("persisted applied index %d, state machine applied %d", applied, lastApplied(ents1))
	}
	trunc := readTruncatedState(t, eng.Reader(), 1)
	log, err := readLog(eng.Reader(), 1, trunc.Index+1)
	if err != nil {
		t.Fatal(err)
	}
	lastLogged := trunc.Index
	if len(log) > 0 {
		lastLogged = log[len(log)-1].GetIndex()
	}
	t.Logf("stopped with %d commands applied, applied index %d, log up to %d", len(sm1.commands()), applied, lastLogged)

	s2 := startStore(t, cfg)
	sm2 := &fakeSM{rangeID: 1}
	g2 := addLeader(t, s2, 1, sm2)
	// The new leader commits the old tail with its first entry.
	waitFor(t, 30*time.Second, "the logged tail to apply after restart", func() bool {
		return lastApplied(sm2.applied()) > lastLogged
	})
	proposeAll(t, g2, []string{"after-restart"})
	waitApplied(t, sm2, []string{"after-restart"})
	s2.Stop()

	ents2 := sm2.applied()
	checkAppliedSequence(t, ents1, initIndex)
	checkAppliedSequence(t, ents2, applied)
	total := map[string]int{}
	for c, n := range sm1.commands() {
		total[c] += n
	}
	for c, n := range sm2.commands() {
		total[c] += n
	}
	for c, n := range total {
		if n != 1 {
			t.Fatalf("command %s applied %d times across the restart", c, n)
		}
	}
	// Every command of the durable log was applied.
	for _, e := range log {
		if d := string(e.GetData()); d != "" && e.GetType() == raftpb.EntryNormal && total[d] != 1 {
			t.Fatalf("logged command %s (index %d) applied %d times", d, e.GetIndex(), total[d])
		}
	}
}

// TestCrashKeepsAppliedWithinLog: entries are applied before a round's
// fsync when they are already durable (applyDurable), and their Raft
// messages to followers go out before it (sendAppends). Whatever a crash
// keeps of the unsynced writes, the persisted state must stay consistent:
// applied index <= persisted commit index <= last persisted log index, and
// the store must restart on it.
func TestCrashKeepsAppliedWithinLog(t *testing.T) {
	fs := vfs.NewCrashableMem()
	eng, err := storage.Open(storage.Config{Dir: "data", FS: fs, CacheBytes: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	writeInitialState(t, eng, 1)
	s, err := NewStore(testStoreConfig(eng))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var clones []*vfs.MemFS
	// A crash right after an early apply (made durable), before the
	// round's fsync, keeping all or a random part of later unsynced writes.
	s.afterEarlyApply = func() {
		if len(clones) < 40 {
			// Pebble's log writer flushes unsynced batches in the
			// background: make sure the apply batch reached the file.
			if err := eng.DB().LogData(nil, pebble.Sync); err != nil {
				t.Error(err)
			}
			pct := 100
			if len(clones)%2 == 1 {
				pct = rng.IntN(100)
			}
			clones = append(clones, fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: pct, RNG: rand.New(rand.NewPCG(rng.Uint64(), 3))}))
		}
	}
	s.Start()
	t.Cleanup(s.Stop)
	sm := &fakeSM{}
	g := addLeader(t, s, 1, sm)
	for i := 0; i < 50; i++ {
		cmds := makeCommands(fmt.Sprintf("c%d-", i), 8)
		proposeAll(t, g, cmds)
		waitApplied(t, sm, cmds)
	}
	s.Stop()
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	if len(clones) < 10 {
		t.Fatalf("only %d rounds applied entries before their fsync", len(clones))
	}
	for i, c := range clones {
		ce, err := storage.Open(storage.Config{Dir: "data", FS: c, CacheBytes: 8 << 20})
		if err != nil {
			t.Fatalf("clone %d: %v", i, err)
		}
		r := ce.Reader()
		hs := &raftpb.HardState{}
		if err := getProto(r, storageHardStateKey(1), hs); err != nil {
			t.Fatal(err)
		}
		applied := readAppliedState(t, r, 1).GetAppliedIndex()
		ents, err := readLog(r, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		last := readTruncatedState(t, r, 1).GetIndex()
		if len(ents) > 0 {
			last = ents[len(ents)-1].GetIndex()
		}
		if applied > hs.GetCommit() || hs.GetCommit() > last {
			t.Fatalf("clone %d: applied %d, commit %d, last log index %d", i, applied, hs.GetCommit(), last)
		}
		// The group restarts on it and applies the rest of its log.
		cs := startStore(t, testStoreConfig(ce))
		sm := &fakeSM{}
		cg, err := cs.AddGroup(1, 1, singleVoter, sm)
		if err != nil {
			t.Fatalf("clone %d: restart: %v", i, err)
		}
		if err := cg.Campaign(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the restarted voter to lead", cg.IsLeader)
		cs.Stop()
		if err := ce.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGroupRemovedByApplyIsNotPersistedAgain: applying an entry can remove
// its group and delete its state (a replica removed from its range, an
// uninitialised replica replaced by a split). Entries are applied before
// the round's fsync (applyDurable), so the rest of that round must not
// write the removed group's log and hard state again.
func TestGroupRemovedByApplyIsNotPersistedAgain(t *testing.T) {
	for round := 0; round < 5; round++ {
		eng := openEngine(t)
		writeInitialState(t, eng, 1)
		s := startStore(t, testStoreConfig(eng))
		sm := &fakeSM{rangeID: 1}
		removed := make(chan struct{})
		var once sync.Once
		sm.afterCmd = func(cmd string) {
			if cmd != "remove" {
				return
			}
			once.Do(func() {
				s.RemoveGroup(1)
				b := eng.NewBatch()
				defer b.Close()
				if err := b.DeleteRange(storage.RangeLocalPrefix(1), storage.RangeLocalEnd(1), nil); err != nil {
					t.Error(err)
				}
				if err := b.Commit(storage.Sync); err != nil {
					t.Error(err)
				}
				close(removed)
			})
		}
		g := addLeader(t, s, 1, sm)
		// Keep proposing, so that the round applying "remove" also
		// persists newer entries.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for p := 0; p < 4; p++ {
			wg.Add(1)
			go func(p int) {
				defer wg.Done()
				for i := 0; i < 2000; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if err := g.Propose([]byte(fmt.Sprintf("x%d-%d", p, i))); err != nil {
						return // removed
					}
					if i == 20 && p == 0 {
						_ = g.Propose([]byte("remove"))
					}
				}
			}(p)
		}
		select {
		case <-removed:
		case <-time.After(10 * time.Second):
			t.Fatal("the remove command was not applied")
		}
		close(stop)
		wg.Wait()
		s.Stop()
		r := eng.Reader()
		if _, err := storage.Get(r, storage.RaftHardStateKey(1)); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("round %d: the removed group's hard state was written again (err %v)", round, err)
		}
		if ents, err := readLog(r, 1, 0); err != nil || len(ents) > 0 {
			t.Fatalf("round %d: the removed group's log was written again: %d entries (err %v)", round, len(ents), err)
		}
	}
}
