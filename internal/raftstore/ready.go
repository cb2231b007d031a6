package raftstore

import (
	"fmt"
	"slices"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/kvpb"
)

// readyWork is one group's share of a worker round.
type readyWork struct {
	g        *Group
	rd       raft.Ready
	prevLast uint64 // last log index before this Ready's entries
	// leadership notification to deliver after the round, if changed.
	notify   bool
	isLeader bool
	term     uint64
	// afterSnap publishes an installed snapshot once it is durable.
	afterSnap func()
	// commitHS, for an early apply (applyDurable), is written with it.
	commitHS *raftpb.HardState
}

func (s *Store) worker() {
	defer s.wg.Done()
	var items []schedItem
	var work []readyWork
	for {
		items = s.sched.next(s.cfg.MaxReadyBatch, items)
		if items == nil {
			return
		}
		work = s.processRound(items, work[:0])
		s.sched.done(items)
	}
}

// processRound runs Tick/Ready → persist (one fsync) → send → apply (one
// batch) → Advance for a batch of groups. See doc.go for the order.
func (s *Store) processRound(items []schedItem, work []readyWork) []readyWork {
	for _, it := range items {
		if w, ok := s.collectReady(it); ok {
			work = append(work, w)
		}
	}
	if len(work) == 0 {
		return work
	}
	for i := range work {
		s.sendAppends(&work[i])
	}
	if s.applyDurable(work); s.failed.Load() {
		return work
	}
	// What the early apply ran may have removed groups of this round (a
	// split replaces an uninitialised replica of its right half): their
	// Ready is stale, and persisting it would overwrite the state written
	// for their successor (or resurrect a destroyed replica's).
	work = slices.DeleteFunc(work, func(w readyWork) bool { return w.g.isRemoved() })
	if s.persist(work); s.failed.Load() {
		return work // nothing durable may be acted on: no send, apply or Advance
	}
	for i := range work {
		w := &work[i]
		if w.afterSnap != nil {
			if err := w.g.installSnapshot(w.rd.Snapshot); err != nil {
				s.fatal(fmt.Errorf("range %d: installing snapshot: %w", w.g.RangeID, err))
				return work
			}
			w.afterSnap()
		}
		if err := w.g.mem.Append(w.rd.Entries); err != nil {
			s.fatal(fmt.Errorf("range %d: append to log cache: %w", w.g.RangeID, err))
			return work
		}
		if w.rd.HardState != nil {
			if err := w.g.mem.SetHardState(w.rd.HardState); err != nil {
				s.fatal(err)
				return work
			}
		}
		if len(w.rd.Messages) > 0 && s.cfg.Transport != nil {
			s.cfg.Transport.Send(w.g.RangeID, w.rd.Messages)
		}
	}
	if s.apply(work); s.failed.Load() {
		return work // the apply batch did not commit: never Advance past it
	}
	for i := range work {
		w := &work[i]
		g := w.g
		g.mu.Lock()
		if w.rd.HardState != nil {
			g.mu.hardState = w.rd.HardState
		}
		g.mu.rn.Advance(w.rd)
		if g.mu.rn.HasReady() {
			s.sched.enqueue(g.RangeID, flagReady)
		}
		g.maybeQuiesceLocked()
		g.mu.Unlock()
		if w.notify {
			g.sm.LeadershipChanged(w.isLeader, w.term)
		}
		s.maybeTruncate(g)
	}
	return work
}

// sendAppends sends a leader's appends (MsgApp) at once, before the
// leader's own write of the same entries: the leader's disk write and the
// followers' overlap (Raft thesis §10.2.1; CockroachDB does the same). This
// is safe because the leader counts its own log toward the commit quorum
// only after the write (raft self-acknowledges the entries at Advance), and
// an entry a quorum of followers holds is committed whether or not the
// leader's copy survives. Every other message (responses, votes) still waits
// for the round's fsync.
func (s *Store) sendAppends(w *readyWork) {
	if s.cfg.Transport == nil || len(w.rd.Messages) == 0 {
		return
	}
	var apps, rest []*raftpb.Message
	for _, m := range w.rd.Messages {
		if m.GetType() == raftpb.MsgApp {
			apps = append(apps, m)
		} else {
			rest = append(rest, m)
		}
	}
	if len(apps) > 0 {
		s.cfg.Transport.Send(w.g.RangeID, apps)
		w.rd.Messages = rest
	}
}

// applyDurable applies, before the round's fsync, the committed entries
// that are already durable in the local log: those below both the log's
// end before this Ready and the first entry this Ready writes (a committed
// entry is never overwritten, but an entry this Ready rewrites is not
// durable yet). A leader's write is then acknowledged as soon as a quorum
// has it, not after the leader's next fsync of newer proposals. Only
// normal entries are applied early (see the loop). The batch
// also records a hard state whose commit index covers what it applies, so
// the persisted applied index never passes the persisted commit index.
func (s *Store) applyDurable(work []readyWork) {
	var early []readyWork
	for i := range work {
		w := &work[i]
		ents := w.rd.CommittedEntries
		if len(ents) == 0 || !raft.IsEmptySnap(w.rd.Snapshot) {
			continue
		}
		limit := w.prevLast
		if len(w.rd.Entries) > 0 {
			limit = min(limit, w.rd.Entries[0].GetIndex()-1)
		}
		// A configuration change stops the early part: applying one may
		// remove this replica (its state is deleted after the apply), and
		// the round must not write the group's log and hard state again
		// after that; it is applied after the fsync, as before.
		n := 0
		for n < len(ents) && ents[n].GetIndex() <= limit && ents[n].GetType() == raftpb.EntryNormal {
			n++
		}
		if n == 0 {
			continue
		}
		e := *w
		e.rd.CommittedEntries = ents[:n]
		e.commitHS = w.g.durableCommitState(w.rd.HardState, ents[n-1].GetIndex())
		early = append(early, e)
		w.rd.CommittedEntries = ents[n:]
	}
	if len(early) > 0 {
		s.apply(early)
		if s.afterEarlyApply != nil {
			s.afterEarlyApply()
		}
	}
}

// durableCommitState returns the hard state to record with entries applied
// up to index before the round's fsync: the newest term and vote, and a
// commit index that covers index but not the entries still to be written.
func (g *Group) durableCommitState(next *raftpb.HardState, index uint64) *raftpb.HardState {
	prev := g.persistedHardState()
	term, vote, commit := prev.GetTerm(), prev.GetVote(), prev.GetCommit()
	if next != nil {
		term, vote = next.GetTerm(), next.GetVote()
	}
	if index <= commit {
		return nil // the persisted commit index covers it already
	}
	return &raftpb.HardState{Term: proto.Uint64(term), Vote: proto.Uint64(vote), Commit: proto.Uint64(index)}
}

// collectReady ticks a group and takes its Ready, if any.
func (s *Store) collectReady(it schedItem) (readyWork, bool) {
	g := s.Group(it.id)
	if g == nil {
		return readyWork{}, false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.mu.removed {
		return readyWork{}, false
	}
	if it.flags&flagTick != 0 {
		g.mu.rn.Tick()
		g.mu.ticks++
		if g.mu.ticks%uint64(s.cfg.HeartbeatTicks) == 0 {
			g.maybeRenewLeaseLocked()
		}
	}
	if !g.mu.rn.HasReady() {
		return readyWork{}, false
	}
	prevLast, _ := g.mem.LastIndex()
	w := readyWork{g: g, rd: g.mu.rn.Ready(), prevLast: prevLast}
	for _, rs := range w.rd.ReadStates {
		g.leaseAcknowledgedLocked(rs.RequestCtx)
	}
	if ss := w.rd.SoftState; ss != nil && ss.Lead != g.mu.leader {
		g.mu.leader = ss.Lead
		g.mu.leaseExpiry = 0 // a new reign earns its own lease
		if ss.Lead == g.ReplicaID {
			g.maybeRenewLeaseLocked()
		}
		w.notify = true
	}
	if hs := w.rd.HardState; hs != nil && hs.GetTerm() != g.mu.term {
		g.mu.term = hs.GetTerm()
		w.notify = true
	}
	w.isLeader, w.term = g.mu.leader == g.ReplicaID, g.mu.term
	return w, true
}

// persist writes the entries and hard states of every group of the round in
// one batch and syncs it once if any group needs durability.
func (s *Store) persist(work []readyWork) {
	b := s.eng.NewBatch()
	defer b.Close()
	mustSync := false
	for i := range work {
		w := &work[i]
		if !raft.IsEmptySnap(w.rd.Snapshot) {
			after, err := w.g.stageSnapshot(b, w.rd.Snapshot)
			if err != nil {
				s.fatal(fmt.Errorf("range %d: installing snapshot: %w", w.g.RangeID, err))
				return
			}
			w.afterSnap = after
			mustSync = true
		}
		if err := appendToBatch(b, w.g.RangeID, w.rd.Entries, w.prevLast); err != nil {
			s.fatal(err)
			return
		}
		if hs := w.rd.HardState; hs != nil {
			if err := PutProto(b, storageHardStateKey(w.g.RangeID), hs); err != nil {
				s.fatal(err)
				return
			}
			mustSync = mustSync || raft.MustSync(hs, w.g.persistedHardState(), len(w.rd.Entries))
		} else if len(w.rd.Entries) > 0 {
			mustSync = true
		}
	}
	if b.Empty() {
		return
	}
	start := time.Now()
	opts := noSync
	if mustSync {
		opts = doSync
	}
	if err := b.Commit(opts); err != nil {
		s.fatal(fmt.Errorf("raftstore: persisting raft state: %w", err))
		return
	}
	if mustSync {
		s.metrics.fsyncLatency.Observe(time.Since(start).Seconds())
		s.metrics.fsyncGroups.Observe(float64(len(work)))
	}
}

func (g *Group) isRemoved() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.mu.removed
}

func (g *Group) persistedHardState() *raftpb.HardState {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.mu.hardState
}

// apply hands committed entries to the state machines, staging all their
// effects and applied states in one batch, commits it, then runs callbacks.
func (s *Store) apply(work []readyWork) {
	b := s.eng.NewBatch()
	defer b.Close()
	var afters []func()
	start := time.Now()
	for i := range work {
		w := &work[i]
		ents := w.rd.CommittedEntries
		if len(ents) == 0 {
			continue
		}
		res, err := w.g.sm.Apply(b, ents)
		if err != nil {
			s.fatal(fmt.Errorf("range %d: apply: %w", w.g.RangeID, err))
			return
		}
		if res.After != nil {
			afters = append(afters, res.After)
		}
		if w.commitHS != nil {
			if err := PutProto(b, storageHardStateKey(w.g.RangeID), w.commitHS); err != nil {
				s.fatal(err)
				return
			}
		}
		last := ents[len(ents)-1]
		if err := PutProto(b, storageAppliedStateKey(w.g.RangeID), &kvpb.RangeAppliedState{
			AppliedIndex: last.GetIndex(), AppliedTerm: last.GetTerm(),
		}); err != nil {
			s.fatal(err)
			return
		}
		if err := w.g.applyConfChanges(ents, res.CancelledConfChanges); err != nil {
			s.fatal(err)
			return
		}
		w.g.mu.Lock()
		w.g.mu.applied = last.GetIndex()
		w.g.mu.Unlock()
	}
	if b.Empty() {
		return
	}
	if err := b.Commit(noSync); err != nil {
		s.fatal(fmt.Errorf("raftstore: applying: %w", err))
		return
	}
	s.metrics.applyLatency.Observe(time.Since(start).Seconds())
	for _, f := range afters {
		f()
	}
}

// applyConfChanges tells raft about committed configuration changes. The
// state machine has already recorded the new replica set in its descriptor.
func (g *Group) applyConfChanges(ents []*raftpb.Entry, cancelled []uint64) error {
	for _, e := range ents {
		if slices.Contains(cancelled, e.GetIndex()) {
			// Raft must still be told; an empty change cancels it.
			g.mu.Lock()
			g.mu.confState = g.mu.rn.ApplyConfChange(&raftpb.ConfChangeV2{})
			g.mu.Unlock()
			continue
		}
		var cc raftpb.ConfChangeI
		switch e.GetType() {
		case raftpb.EntryConfChange:
			c := &raftpb.ConfChange{}
			if err := proto.Unmarshal(e.Data, c); err != nil {
				return err
			}
			cc = c
		case raftpb.EntryConfChangeV2:
			c := &raftpb.ConfChangeV2{}
			if err := proto.Unmarshal(e.Data, c); err != nil {
				return err
			}
			cc = c
		default:
			continue
		}
		g.mu.Lock()
		g.mu.confState = g.mu.rn.ApplyConfChange(cc)
		g.mu.Unlock()
	}
	return nil
}

// maybeTruncate drops applied log entries once the log is long enough. The
// leader keeps entries its followers still need.
func (s *Store) maybeTruncate(g *Group) {
	g.mu.Lock()
	if g.mu.removed || g.mu.applied-g.mu.truncated <= s.cfg.LogTruncateEntries {
		g.mu.Unlock()
		return
	}
	idx := g.mu.applied
	if g.mu.leader == g.ReplicaID {
		g.mu.rn.WithProgress(func(id uint64, _ raft.ProgressType, pr tracker) {
			if id != g.ReplicaID && pr.Match < idx && pr.RecentActive {
				idx = max(pr.Match, g.mu.truncated)
			}
		})
	}
	cs, truncated := g.mu.confState, g.mu.truncated
	g.mu.Unlock()
	if idx <= truncated+s.cfg.LogTruncateEntries/2 {
		return
	}
	term, err := g.mem.Term(idx)
	if err != nil {
		return // compacted concurrently or not yet stable; try later
	}
	b := s.eng.NewBatch()
	defer b.Close()
	if err := truncateToBatch(b, g.RangeID, truncated, idx, term); err != nil {
		s.fatal(err)
		return
	}
	if err := b.Commit(noSync); err != nil {
		s.fatal(err)
		return
	}
	if _, err := g.mem.CreateSnapshot(idx, cs, nil); err != nil && err != raft.ErrSnapOutOfDate {
		s.fatal(err)
		return
	}
	if err := g.mem.Compact(idx); err != nil && err != raft.ErrCompacted {
		s.fatal(err)
		return
	}
	g.mu.Lock()
	g.mu.truncated, g.mu.truncatedTerm = idx, term
	g.mu.Unlock()
	s.metrics.truncations.Inc()
}
