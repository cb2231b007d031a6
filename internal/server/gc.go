package server

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/cairndb/cairn/internal/hlc"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/placement"
	"github.com/cairndb/cairn/internal/replica"
)

var (
	gcVersionsDeleted = promauto.NewCounter(prometheus.CounterOpts{
		Name: "cairn_gc_versions_deleted_total",
		Help: "MVCC versions, rollback markers and transaction records deleted by garbage collection.",
	})
	gcRuns = promauto.NewCounter(prometheus.CounterOpts{
		Name: "cairn_gc_runs_total", Help: "Garbage collections of a whole range completed by this node.",
	})
	gcLocksResolved = promauto.NewCounter(prometheus.CounterOpts{
		Name: "cairn_gc_locks_resolved_total", Help: "Abandoned transaction locks resolved by garbage collection.",
	})
)

// Garbage collection queue: every GC interval each node collects the ranges
// it leads, in steps of gcStepKeys engine entries, one Raft command each,
// pausing after each step that deleted something (the rate limit). A pass
// that outlasts its timeout is continued where it stopped by the next one.
const (
	defaultGCInterval = time.Minute
	defaultGCPause    = 20 * time.Millisecond
	gcStepKeys        = 1000
	gcPassTimeout     = 30 * time.Minute
	// gcLockAge: locks older than this (or than gc_ttl or txn_record_ttl,
	// if shorter) are resolved by every pass. Resolution runs well ahead of
	// collection, so a transaction's secondary locks are settled long
	// before its primary's commit record can be collected — a lock whose
	// primary record was collected would be rolled back even if committed.
	gcLockAge = time.Minute
)

// gcThresholds are the timestamps of one GC pass.
type gcThresholds struct {
	gc, record, lock uint64
}

func thresholdsAt(now uint64, settings placement.Settings) gcThresholds {
	phys := hlc.Physical(now)
	before := func(d time.Duration) uint64 { return hlc.FromPhysical(phys.Add(-d).UnixMilli(), 0) }
	return gcThresholds{
		gc:     before(settings.GCTTL),
		record: before(settings.TxnRecordTTL),
		lock:   before(min(settings.GCTTL, settings.TxnRecordTTL, gcLockAge)),
	}
}

// gcQueue runs the passes; its state is only touched by the pass goroutine.
type gcQueue struct {
	s     *Server
	pause time.Duration
	// clean remembers ranges whose last pass left nothing to collect later
	// (no pending keys, no unresolved locks), with their write count then:
	// they are skipped until they apply a write.
	clean  map[uint64]gcMemo
	passes uint64
	// cursor is the start key of the next range to collect: each pass goes
	// round the ranges from there, so none starves behind slow ones.
	cursor []byte
}

type gcMemo struct {
	r          *replica.Replica
	generation uint64
	writes     uint64
	pass       uint64 // the pass that found it clean
}

func newGCQueue(s *Server) *gcQueue {
	pause := s.cfg.GCPause
	if pause <= 0 {
		pause = defaultGCPause
	}
	return &gcQueue{s: s, pause: pause, clean: map[uint64]gcMemo{}}
}

// pass collects every range this node leads.
func (q *gcQueue) pass(ctx context.Context) {
	settings, _, err := placement.ReadSettings(ctx, q.s.db)
	if err != nil {
		return
	}
	now, err := q.s.Now(ctx)
	if err != nil {
		return
	}
	th := thresholdsAt(now, settings)
	q.passes++
	replicas := q.s.store.Replicas() // ordered by start key
	i := sort.Search(len(replicas), func(i int) bool { return bytes.Compare(replicas[i].Desc().StartKey, q.cursor) >= 0 })
	order := append(slices.Clone(replicas[i:]), replicas[:i]...)
	seen := map[uint64]bool{}
	for _, r := range replicas {
		seen[r.RangeID] = true
	}
	for _, r := range order {
		if ctx.Err() != nil {
			return
		}
		desc := r.Desc()
		if len(desc.EndKey) == 0 || !r.IsLeaseholder() {
			continue
		}
		q.cursor = desc.StartKey
		writes := r.WritesApplied()
		if m, ok := q.clean[r.RangeID]; ok && m.r == r && m.generation == desc.Generation && m.writes == writes {
			continue
		}
		delete(q.clean, r.RangeID)
		clean, err := q.collect(ctx, r, desc, th)
		if err != nil {
			slog.Debug("gc: collecting a range", "range", r.RangeID, "err", err)
			continue
		}
		if clean {
			q.clean[r.RangeID] = gcMemo{r: r, generation: desc.Generation, writes: writes, pass: q.passes}
		}
		q.cursor = desc.EndKey
	}
	for id := range q.clean {
		if !seen[id] {
			delete(q.clean, id)
		}
	}
}

// collect runs one range's collection, step by step, and resolves the old
// locks each step reports. clean: nothing was left for a later pass.
func (q *gcQueue) collect(ctx context.Context, r *replica.Replica, desc *kvpb.RangeDescriptor, th gcThresholds) (clean bool, err error) {
	req := &kvpb.GCRequest{
		Key: desc.StartKey, EndKey: desc.EndKey, MaxKeys: gcStepKeys,
		ThresholdTs: th.gc, RecordThresholdTs: th.record, LockThresholdTs: th.lock,
	}
	clean = true
	for {
		resp := q.s.store.Send(ctx, &kvpb.RangeRequest{RangeId: r.RangeID, Requests: []*kvpb.RequestUnion{
			{Value: &kvpb.RequestUnion_Gc{Gc: req}},
		}})
		if resp.Error != nil {
			return false, resp.Error
		}
		g := resp.Responses[0].GetGc()
		gcVersionsDeleted.Add(float64(g.Deleted))
		if g.PendingKeys > 0 {
			clean = false
		}
		if len(g.OldLocks) > 0 {
			resolved, pending, err := q.s.db.ResolveOldLocks(ctx, g.OldLocks)
			gcLocksResolved.Add(float64(resolved))
			if err != nil || pending > 0 {
				slog.Debug("gc: resolving old locks", "range", r.RangeID, "resolved", resolved, "pending", pending, "err", err)
				clean = false
			}
		}
		if len(g.ResumeKey) == 0 {
			break
		}
		req.ResumeKey = g.ResumeKey
		if g.Deleted == 0 {
			continue // nothing proposed: only read
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(q.pause):
		}
	}
	gcRuns.Inc()
	return clean, nil
}
