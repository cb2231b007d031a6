package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/placement"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	splitsTotal = promauto.NewCounter(prometheus.CounterOpts{
		Name: "cairn_range_splits_total", Help: "Ranges split automatically because of their size.",
	})
	unavailableRanges = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "cairn_ranges_unavailable", Help: "Ranges with a replica on this node that know no leader.",
	})
	leaseTransfers = promauto.NewCounter(prometheus.CounterOpts{
		Name: "cairn_lease_transfers_total", Help: "Leases this node handed to others to balance load.",
	})
)

// startBackground starts the node's long-running tasks; Stop ends them.
func (s *Server) startBackground(epoch uint64) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.registerAddress()
	}()
	s.liveness = placement.NewLiveness(placement.LivenessConfig{
		DB: s.db, NodeID: s.ident.NodeId, Epoch: epoch,
		Interval: livenessInterval, TTL: livenessTTL, Stats: s.stats,
	})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.liveness.Run(s.stopper)
	}()
	d, err := placement.New(placement.DefaultConfig(s.db, s.liveness, s.isMetaLeaseholder))
	if err != nil {
		panic(err) // defaults are valid
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		d.Run(s.stopper)
	}()
	s.runEvery(splitQueueInterval, 30*time.Second, s.splitLargeRanges)
	s.runEvery(publishInterval, 10*time.Second, s.publishDescriptors)
	s.runEvery(leaseRebalanceInterval, 10*time.Second, s.shedLeases)
	s.runEvery(txnIdleTimeout/4, time.Second, s.txns.expireIdle)
	gcInterval := s.cfg.GCInterval
	if gcInterval <= 0 {
		gcInterval = defaultGCInterval
	}
	s.runEvery(gcInterval, gcPassTimeout, newGCQueue(s).pass)
	replicaGCInterval := s.cfg.ReplicaGCInterval
	if replicaGCInterval <= 0 {
		replicaGCInterval = defaultReplicaGCInterval
	}
	s.runEvery(replicaGCInterval, replicaGCPassTimeout, (&replicaGCQueue{s: s}).pass)
}

// Liveness timing: a node is considered down after livenessTTL without a
// heartbeat; dead (replicas replaced) after the dead_node_timeout setting.
const (
	livenessInterval = time.Second
	livenessTTL      = 4 * time.Second
)

// stats are this node's numbers for its liveness record (reported every
// liveness interval); it also refreshes the unavailable-ranges gauge.
func (s *Server) stats() (ranges, leases, diskBytes uint64) {
	unavailable := 0
	for _, r := range s.store.Replicas() {
		if len(r.Desc().EndKey) == 0 {
			continue // uninitialised
		}
		ranges++
		if r.IsLeaseholder() {
			leases++
		}
		if leader, _ := r.Group().Leader(); leader == 0 {
			unavailable++
		}
	}
	unavailableRanges.Set(float64(unavailable))
	return ranges, leases, s.eng.DiskSpaceUsage()
}

// isMetaLeaseholder: the placement driver runs where the meta range is served.
func (s *Server) isMetaLeaseholder() bool {
	r := s.store.Replica(keys.MetaRangeID)
	return r != nil && r.IsLeaseholder()
}

// registerAddress records this node's current address in the registry
// (it may have changed since the last start), retrying until it succeeds.
func (s *Server) registerAddress() {
	nd := &kvpb.NodeDescriptor{NodeId: s.ident.NodeId, Address: s.RPCAddr()}
	s.addrs.learn(nd)
	backoff := 100 * time.Millisecond
	for {
		ctx, cancel := s.stopContext(10 * time.Second)
		_, err := s.db.Put(ctx, keys.NodeKey(nd.NodeId), marshalProto(nd))
		cancel()
		if err == nil {
			return
		}
		slog.Debug("registering the node address", "err", err)
		select {
		case <-s.stopper:
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// Split queue bounds: how often local ranges are checked, and how many are
// measured (a full scan each) per pass.
const (
	splitQueueInterval      = 2 * time.Second
	maxMeasurementsPerCheck = 8
)

// runEvery runs fn every interval, each call bounded by timeout and
// cancelled when the node stops, until the node stops.
func (s *Server) runEvery(interval, timeout time.Duration, fn func(ctx context.Context)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.stopper:
				return
			case <-t.C:
			}
			ctx, cancel := s.stopContext(timeout)
			fn(ctx)
			cancel()
		}
	}()
}

// stopContext returns a context that ends after timeout or when the node
// stops, whichever comes first.
func (s *Server) stopContext(timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	go func() {
		select {
		case <-s.stopper:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// splitLargeRanges splits local ranges this node leads once they pass
// range_max_bytes, at the key in the middle of their bytes.
func (s *Server) splitLargeRanges(ctx context.Context) {
	settings, _, err := placement.ReadSettings(ctx, s.db)
	if err != nil {
		return
	}
	measured := 0
	for _, r := range s.store.Replicas() {
		if r.RangeID == keys.MetaRangeID || !r.IsLeaseholder() || r.SizeEstimate() <= settings.RangeMaxBytes {
			continue
		}
		if measured++; measured > maxMeasurementsPerCheck {
			return
		}
		size, mid, err := r.MeasureSize()
		if err != nil || size <= settings.RangeMaxBytes || mid == nil {
			continue
		}
		left, right, err := s.db.AdminSplit(ctx, mid)
		if err != nil {
			slog.Debug("split queue: split failed", "range", r.RangeID, "err", err)
			continue
		}
		slog.Info("split queue: split a large range", "range", left.RangeId, "new_range", right.RangeId, "bytes", size, "at", keys.Pretty(mid))
		splitsTotal.Inc()
	}
}

// Lease rebalancing: every leaseRebalanceInterval a node holding more than
// 120% of the mean lease count (and at least 2 more than the least loaded
// live node) hands up to maxLeaseTransfers leases to less loaded voters.
const (
	leaseRebalanceInterval = 5 * time.Second
	maxLeaseTransfers      = 2
)

func (s *Server) shedLeases(ctx context.Context) {
	nodes, err := s.nodeStatuses(ctx)
	if err != nil {
		return
	}
	leases := map[uint64]uint64{}
	total, n := uint64(0), 0
	for _, nd := range nodes {
		if !nd.Live || nd.Decommissioning {
			continue
		}
		leases[nd.NodeId] = nd.Leases
		total += nd.Leases
		n++
	}
	mine, ok := leases[s.ident.NodeId]
	if !ok || n < 2 {
		return
	}
	mean := float64(total) / float64(n)
	if float64(mine) <= 1.2*mean {
		return
	}
	moved := 0
	for _, r := range s.store.Replicas() {
		if moved >= maxLeaseTransfers || !r.IsLeaseholder() {
			continue
		}
		var target uint64
		for _, rd := range r.Desc().Replicas {
			l, live := leases[rd.NodeId]
			if live && rd.NodeId != s.ident.NodeId && float64(l) < mean && mine >= l+2 && (target == 0 || l < leases[target]) {
				target = rd.NodeId
			}
		}
		if target != 0 && r.TransferLease(target) {
			leases[target]++
			mine--
			moved++
			leaseTransfers.Inc()
		}
	}
}

// Stats returns this node's range, lease and disk figures.
func (s *Server) Stats() (ranges, leases, diskBytes uint64) { return s.stats() }

// Descriptor publishing: every publishInterval the leaseholder of each range
// makes sure the meta directory holds its descriptor's generation, so a
// directory write lost after a split or replica change (a node crash, a
// lease moving at the wrong moment) is repaired, whoever made the change.
const (
	publishInterval     = 2 * time.Second
	maxPublishesPerPass = 100
)

func (s *Server) publishDescriptors(ctx context.Context) {
	n := 0
	for _, r := range s.store.Replicas() {
		d, ok := r.DescriptorToPublish()
		if !ok {
			continue
		}
		if n++; n > maxPublishesPerPass {
			return
		}
		if err := s.db.PublishDescriptor(ctx, d); err != nil {
			slog.Debug("publishing a range descriptor", "range", d.RangeId, "err", err)
			continue
		}
		r.MarkPublished(d.Generation)
	}
}
