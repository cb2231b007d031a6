package raftstore

import (
	"encoding/binary"
	"time"

	"go.etcd.io/raft/v3"
)

// Leader leases.
//
// The Raft leader is the range's leaseholder. It may serve reads from its
// applied state without a round trip only while it holds a lease: every
// heartbeat interval the leader starts a ReadIndex round (a heartbeat that a
// quorum must acknowledge), carrying the round's send time. When a quorum
// has acknowledged it, the lease runs until
//
//	sendTime + leaseFraction × electionTimeout
//
// Why this is safe without synchronised clocks: with CheckQuorum, a
// follower that heard from the leader ignores votes for electionTimeout of
// its own ticks. Every member of the acknowledging quorum heard from the
// leader after sendTime, so no new leader can be elected (any new quorum
// intersects it) before sendTime + electionTimeout. Only the *rate* of the
// clocks matters, and leaseFraction leaves margin for it. A leadership
// transfer skips that wait, so no lease is valid while one is in progress.

// leaseFraction of the election timeout is the lease duration.
const leaseFraction = 0.8

var processStart = time.Now()

// monoNow is monotonic time in nanoseconds since the process started.
func monoNow() int64 { return int64(time.Since(processStart)) }

// maybeRenewLeaseLocked starts a lease-renewal round if this replica leads.
// Rounds are started every heartbeat interval whether or not the previous
// one was acknowledged: raft releases pending rounds in order when a later
// one is acknowledged, and a leader that hears from no quorum steps down
// within an election timeout (CheckQuorum), which bounds the pending rounds.
// The caller holds g.mu.
func (g *Group) maybeRenewLeaseLocked() {
	if g.soleVoterLocked() || g.mu.rn.BasicStatus().RaftState != raft.StateLeader {
		return // a sole voter's lease needs no renewal
	}
	g.mu.rn.ReadIndex(binary.BigEndian.AppendUint64(nil, uint64(monoNow())))
}

// leaseAcknowledgedLocked extends the lease after a quorum acknowledged the
// round sent at sendTime. The caller holds g.mu.
func (g *Group) leaseAcknowledgedLocked(ctx []byte) {
	if len(ctx) != 8 {
		return
	}
	sent := int64(binary.BigEndian.Uint64(ctx))
	expiry := sent + int64(leaseFraction*float64(g.store.electionTimeout()))
	if expiry > g.mu.leaseExpiry {
		g.mu.leaseExpiry = expiry
	}
}

// HasLease reports whether this replica is the leader with a valid lease and
// no leadership transfer under way: it may serve reads from applied state.
func (g *Group) HasLease() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.mu.removed {
		return false
	}
	st := g.mu.rn.BasicStatus()
	if st.RaftState != raft.StateLeader || st.LeadTransferee != 0 {
		return false
	}
	// A sole voter's lease never runs out: no other replica can become
	// leader until a configuration change, which this leader commits, adds
	// a voter (and then the rounds below apply again).
	return g.soleVoterLocked() || monoNow() < g.mu.leaseExpiry
}

// soleVoterLocked reports whether this replica is the only member of its
// group (no other voter, no learner). The caller holds g.mu.
func (g *Group) soleVoterLocked() bool {
	cs := g.mu.confState
	return cs != nil && len(cs.Voters) == 1 && cs.Voters[0] == g.ReplicaID && len(cs.Learners) == 0 && len(cs.VotersOutgoing) == 0
}

// maybeQuiesceLocked marks a sole-voter leader with nothing to do as
// quiescent: it needs no ticks (no elections can happen, its lease holds)
// until new work arrives. Multi-replica groups keep ticking: quiescing them
// needs followers to stop too (a later step). The caller holds g.mu.
func (g *Group) maybeQuiesceLocked() {
	quiet := g.mu.leader == g.ReplicaID && g.soleVoterLocked() && !g.mu.rn.HasReady()
	g.quiescent.Store(quiet)
}

func (s *Store) electionTimeout() time.Duration {
	return time.Duration(s.cfg.ElectionTicks) * s.cfg.TickInterval
}
