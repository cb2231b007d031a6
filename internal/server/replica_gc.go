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
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/replica"
)

var replicaGCRemoved = promauto.NewCounter(prometheus.CounterOpts{
	Name: "cairn_replica_gc_removed_total",
	Help: "Replicas this node destroyed because the range directory showed them removed from their range.",
})

// Replica GC: a replica removed from its range usually destroys itself when
// it applies its removal, or when a member answers its next message with a
// removal notice (replica/replica_removal.go). One that hears of neither —
// a removed learner, which never campaigns, or a replica whose former peers
// are gone or cannot hear it — would keep its data for good. So every
// replica GC interval each node reads, for up to replicaGCChecksPerPass of
// its replicas (round-robin from a cursor, so none starves), the range
// directory's descriptor of the range containing the replica's start key,
// all in one batch read of the meta range. A split keeps the range id with
// the left part, whose start key is the range's own, so that descriptor is
// the range's current one unless it is another range's (then nothing is
// done). A replica the directory's newer descriptor shows removed is
// destroyed (Store.DestroyIfRemoved), at most replicaGCDestroysPerPass per
// pass. Leaseholders are not checked: they are members.
const (
	defaultReplicaGCInterval = 30 * time.Second
	replicaGCPassTimeout     = 30 * time.Second
	replicaGCChecksPerPass   = 128
	replicaGCDestroysPerPass = 8
)

// replicaGCQueue runs the passes; its state is only touched by the pass
// goroutine.
type replicaGCQueue struct {
	s *Server
	// cursor is the start key of the first replica the next pass checks.
	cursor []byte
}

// pass checks a batch of this node's replicas against the range directory
// and destroys those removed from their range.
func (q *replicaGCQueue) pass(ctx context.Context) {
	candidates, locals := q.nextBatch()
	if len(candidates) == 0 {
		return
	}
	_, dirEnd := keys.RangeDescSpan()
	reqs := make([]*kvpb.RequestUnion, len(candidates))
	for i, d := range locals {
		reqs[i] = &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Scan{Scan: &kvpb.ScanRequest{
			StartKey: keys.RangeLookupStart(d.StartKey), EndKey: dirEnd, Limit: 1,
		}}}
	}
	resps, err := q.s.db.Batch(ctx, reqs)
	if err != nil {
		slog.Debug("replica GC: reading the range directory", "err", err)
		return
	}
	destroyed := 0
	for i, r := range candidates {
		local := locals[i]
		current, ok := directoryEntry(resps[i])
		if !ok || current.RangeId != r.RangeID || current.Generation <= local.Generation {
			continue // another range's entry, or not newer than what the replica knows
		}
		removed, err := q.s.store.DestroyIfRemoved(r.RangeID, current)
		if err != nil {
			slog.Warn("replica GC: destroying a removed replica", "range", r.RangeID, "err", err)
			continue
		}
		if !removed {
			continue
		}
		replicaGCRemoved.Inc()
		nodes := make([]uint64, len(current.Replicas))
		for j, rd := range current.Replicas {
			nodes[j] = rd.NodeId
		}
		slog.Info("replica GC: destroyed a replica removed from its range", "range", r.RangeID,
			"generation", local.Generation, "current_generation", current.Generation, "current_nodes", nodes)
		if destroyed++; destroyed >= replicaGCDestroysPerPass {
			return
		}
	}
}

// nextBatch returns up to replicaGCChecksPerPass initialised replicas that
// do not hold their range's lease, from the cursor on, with their
// descriptors, and moves the cursor past them.
func (q *replicaGCQueue) nextBatch() ([]*replica.Replica, []*kvpb.RangeDescriptor) {
	replicas := q.s.store.Replicas() // ordered by start key
	i := sort.Search(len(replicas), func(i int) bool { return bytes.Compare(replicas[i].Desc().StartKey, q.cursor) >= 0 })
	order := append(slices.Clone(replicas[i:]), replicas[:i]...)
	var candidates []*replica.Replica
	var locals []*kvpb.RangeDescriptor
	q.cursor = nil // went round: the next pass starts from the first replica
	for _, r := range order {
		d := r.Desc()
		if len(candidates) == replicaGCChecksPerPass {
			q.cursor = d.StartKey
			break
		}
		if len(d.EndKey) == 0 || r.IsLeaseholder() {
			continue // uninitialised (no span to look up yet), or a member
		}
		candidates = append(candidates, r)
		locals = append(locals, d)
	}
	return candidates, locals
}

// directoryEntry decodes the descriptor a directory lookup found, if any.
func directoryEntry(resp *kvpb.ResponseUnion) (*kvpb.RangeDescriptor, bool) {
	kvs := resp.GetScan().GetKvs()
	if len(kvs) == 0 {
		return nil, false
	}
	d := &kvpb.RangeDescriptor{}
	if err := proto.Unmarshal(kvs[0].Value, d); err != nil {
		slog.Warn("replica GC: corrupt descriptor in the range directory", "key", keys.Pretty(kvs[0].Key), "err", err)
		return nil, false
	}
	return d, true
}
