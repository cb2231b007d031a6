package replica

import (
	"sync/atomic"

	"github.com/cairndb/cairn/internal/kvpb"
)

// Local commit timestamps for one-phase commits.
//
// A plain write takes a fresh oracle timestamp after latching (see
// writeTimestamp). A one-phase commit does not need one: its leaseholder
// picks the commit timestamp itself, as the smallest value that is
//
//   - above the transaction's start and conflict timestamps: its own reads,
//     and every transaction acknowledged before it began (their commit
//     timestamps are below its start, which the oracle issued after them);
//   - above every timestamp a read of this range was served at, or is being
//     served at, by this leaseholder (readTimestamps.max, raised before the
//     read latches), and above every 2PC validation's commit timestamp: no
//     read that already missed the commit's versions can be below them;
//   - above the low-water mark: a fresh oracle timestamp taken in the
//     current lease term, above every read the previous leaseholder served
//     (it stopped serving before this term's election: raftstore/lease.go).
//
// Each of these is one more than an oracle-issued timestamp. Issued
// timestamps are even (tso.Step), so every snapshot taken after the commit
// is acknowledged (a newer oracle timestamp) is strictly above it and sees
// it: real-time order holds without the oracle round trip. And the commit
// timestamp, odd, is never exactly a snapshot's: a version at it is never
// mistaken for a write conflict at a snapshot (conflicts count versions at
// or above a transaction's read timestamp).
// The other commit conditions are checked at evaluation as before (no
// version of a written key above the conflict timestamp, reads validated up
// to the commit timestamp). See docs/design/transactions.md.
type readTimestamps struct {
	max atomic.Uint64
}

// note raises the high-water mark of served reads to ts.
func (t *readTimestamps) note(ts uint64) {
	for {
		cur := t.max.Load()
		if ts <= cur || t.max.CompareAndSwap(cur, ts) {
			return
		}
	}
}

// noteValidations records the commit timestamps up to which a batch's
// (two-phase) read validations check: a later commit must not land below.
func (t *readTimestamps) noteValidations(reqs []*kvpb.RequestUnion) {
	for _, q := range reqs {
		if v := q.GetValidateRead(); v != nil && v.CommitTs > 0 {
			t.note(v.CommitTs)
		}
	}
}

// localCommitTimestamp returns the commit timestamp of a one-phase commit
// batch chosen without the oracle, or false when the batch is not one (it
// writes plain versions or validates reads), writes a key blind (one the
// transaction did not read: see below), or the low-water mark of term is
// not known yet.
//
// Blind writes keep a fresh timestamp so that, of two transactions that
// write the same key, the one that commits first in real time also gets
// the lower timestamp whenever the second had begun before: the second then
// fails with a write conflict (first committer wins, as PostgreSQL's
// REPEATABLE READ and SERIALIZABLE do). A transaction that read every key
// it writes needs no such care: any transaction that read one of its keys
// before it committed pushed its timestamp up (readTimestamps).
func (r *Replica) localCommitTimestamp(reqs []*kvpb.RequestUnion, term uint64) (uint64, bool) {
	ts := r.reads.max.Load() + 1
	onePC := false
	for _, q := range reqs {
		switch v := q.Value.(type) {
		case *kvpb.RequestUnion_Prewrite:
			if !v.Prewrite.OnePc || !v.Prewrite.Read {
				return 0, false
			}
			onePC = true
			ts = max(ts, v.Prewrite.StartTs+1, v.Prewrite.ConflictTs+1)
		default:
			// Plain writes need a fresh timestamp; so do read validations:
			// a validated read fails if any transaction that committed
			// before this commit began wrote the key (GetValidated's
			// contract, which SQL's schema versions rely on), and only a
			// fresh timestamp is above all of those.
			return 0, false
		}
	}
	if !onePC {
		return 0, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if term == 0 || r.mu.lowWaterTerm != term {
		return 0, false
	}
	return max(ts, r.mu.lowWater+1), true
}

// setLowWater records a fresh oracle timestamp taken under the lease of term.
func (r *Replica) setLowWater(ts, term uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.lowWaterTerm != term {
		r.mu.lowWaterTerm, r.mu.lowWater = term, ts
	}
}
