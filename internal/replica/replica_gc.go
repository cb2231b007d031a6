package replica

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/storage"
)

// Garbage collection (see docs/design/transactions.md).
//
// A GCRequest is evaluated on the leaseholder without latches, from the
// engine's current state (one iterator: a consistent view), and proposed as
// an ordinary write batch of deletions together with the new GC threshold T.
// This is safe although writes keep landing meanwhile, because everything
// it deletes is at or below T and no write evaluated concurrently can make
// such a deletion wrong:
//
//   - Plain writes and one-phase commits take fresh oracle timestamps,
//     above T (T is an oracle timestamp minus gc_ttl).
//   - The only writes below T are a transaction's own commit of a locked key
//     (rolling an old secondary forward) and rollback markers. A locked key
//     gets no versions above its lock's start ts but the owner's commit, so
//     the commit lands above every version GC considered for the key: GC's
//     decisions (keep the newest live version at or below T, drop what is
//     older) stay right. Markers are invisible to reads.
//   - Deletions target exact engine keys seen in the view (or, for the long
//     run of versions below a kept one, a span of versions older than it,
//     where nothing but markers can appear concurrently — see above).
//   - Transaction records (keys.TxnRecordSpan) are also deleted above T, up
//     to the record threshold. Nothing reads them at a timestamp, and a
//     record key holding a committed version takes no writes but invisible
//     markers (a new attempt's prewrite of it fails while it is there).
//
// What the deletions change is only reads below T and the conflict checks
// of transactions that started at or below T: those are refused through
// the replicated threshold, checked after the read or evaluation took its
// view. Apply raises the in-memory threshold before the GC batch commits,
// so a view that may miss collected versions always sees the new threshold.

// maxGCKeys is the default bound on the engine entries one GC request
// examines (the request's max_keys may lower or raise it up to maxGCKeysCap).
const (
	maxGCKeys    = 1000
	maxGCKeysCap = 100000
	maxGCBytes   = 4 << 20
)

// GCThreshold returns the range's GC threshold: reads below it are refused.
func (r *Replica) GCThreshold() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.gcThreshold
}

// WritesApplied counts the commands with data (writes, snapshots) this
// replica applied since it started, GC's own excluded: unchanged, the range
// holds no new garbage.
func (r *Replica) WritesApplied() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.writesApplied
}

// raiseGCThreshold raises the in-memory threshold (never lowers it).
func (r *Replica) raiseGCThreshold(t uint64) {
	r.mu.Lock()
	r.mu.gcThreshold = max(r.mu.gcThreshold, t)
	r.mu.Unlock()
}

func (r *Replica) gc(ctx context.Context, q *kvpb.GCRequest) ([]*kvpb.ResponseUnion, error) {
	r.splitMu.RLock()
	defer r.splitMu.RUnlock()
	term, desc, perr := r.leaseCheck()
	if perr != nil {
		return nil, perr
	}
	req := &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Gc{Gc: q}}
	if perr := checkSpans(desc, []*kvpb.RequestUnion{req}); perr != nil {
		return nil, perr
	}
	if len(q.EndKey) == 0 {
		return nil, kvpb.NewErrorf("a GC request needs an end key")
	}
	now := r.store.cfg.Clock.Now()
	if q.ThresholdTs == 0 {
		return nil, kvpb.NewErrorf("a GC request needs a threshold")
	}
	if q.ThresholdTs >= now || q.RecordThresholdTs >= now {
		return nil, kvpb.NewErrorf("GC thresholds %d/%d are not in the past (now %d)", q.ThresholdTs, q.RecordThresholdTs, now)
	}
	from := q.Key
	if bytes.Compare(q.ResumeKey, from) > 0 {
		from = q.ResumeKey
	}
	if bytes.Compare(from, q.EndKey) >= 0 {
		return []*kvpb.ResponseUnion{{Value: &kvpb.ResponseUnion_Gc{Gc: &kvpb.GCResponse{}}}}, nil
	}
	maxKeys := q.MaxKeys
	if maxKeys <= 0 {
		maxKeys = maxGCKeys
	}
	recStart, recEnd := keys.TxnRecordSpan()
	eng := r.store.eng
	b := eng.NewBatch()
	defer b.Close()
	res, err := storage.MVCCGarbageCollect(eng.Reader(), b, from, q.EndKey, storage.GCOptions{
		Threshold: q.ThresholdTs, RecordThreshold: q.RecordThresholdTs, LockThreshold: q.LockThresholdTs,
		RecordStart: recStart, RecordEnd: recEnd,
		MaxKeys: min(maxKeys, maxGCKeysCap), MaxBytes: maxGCBytes,
	})
	if err != nil {
		return nil, err
	}
	out := &kvpb.GCResponse{ResumeKey: res.Resume, Deleted: uint64(res.Deleted), PendingKeys: uint64(res.PendingKeys)}
	for _, kl := range res.Locks {
		out.OldLocks = append(out.OldLocks, lockInfo(kl.Key, kl.Lock))
	}
	if !b.Empty() {
		cmd := &kvpb.RaftCommand{WriteBatch: b.Repr(), Generation: desc.Generation, ProposerTerm: term, GcThreshold: q.ThresholdTs}
		if err := r.proposeAndWait(ctx, cmd); err != nil {
			return nil, err
		}
	}
	return []*kvpb.ResponseUnion{{Value: &kvpb.ResponseUnion_Gc{Gc: out}}}, nil
}

// checkReadThreshold refuses a read at ts (a transaction's snapshot) below
// the range's GC threshold.
func (r *Replica) checkReadThreshold(reqs []*kvpb.RequestUnion, ts uint64) error {
	if t := r.GCThreshold(); ts < t {
		k, _ := kvpb.RequestKeys(reqs[0])
		return kvpb.NewBelowGCThreshold(k, ts, t)
	}
	return nil
}

// checkTxnThreshold refuses the transaction steps whose checks rely on
// history GC may have collected: a prewrite at or below the threshold (its
// conflict check looks for the rollback marker at start_ts, collected at or
// below it) and a read validation starting below it (it looks for versions
// after start_ts).
func (r *Replica) checkTxnThreshold(reqs []*kvpb.RequestUnion) error {
	t := r.GCThreshold()
	if t == 0 {
		return nil
	}
	for _, q := range reqs {
		switch v := q.Value.(type) {
		case *kvpb.RequestUnion_Prewrite:
			if v.Prewrite.StartTs <= t {
				return kvpb.NewBelowGCThreshold(v.Prewrite.Key, v.Prewrite.StartTs, t)
			}
		case *kvpb.RequestUnion_AcquireLock:
			if v.AcquireLock.StartTs <= t {
				return kvpb.NewBelowGCThreshold(v.AcquireLock.Key, v.AcquireLock.StartTs, t)
			}
		case *kvpb.RequestUnion_ValidateRead:
			if after := max(v.ValidateRead.StartTs, v.ValidateRead.ReadTs); after < t {
				return kvpb.NewBelowGCThreshold(v.ValidateRead.Key, after, t)
			}
		}
	}
	return nil
}

// readGCThreshold reads a range's persisted GC threshold (0 if none).
func readGCThreshold(rd storage.Reader, rangeID uint64) (uint64, error) {
	v, err := storage.Get(rd, storage.RangeGCThresholdKey(rangeID))
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("range %d: corrupt GC threshold", rangeID)
	}
	return binary.BigEndian.Uint64(v), nil
}
