package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/placement"
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
}

// Liveness timing: a node is considered down after livenessTTL without a
// heartbeat; dead (replicas replaced) after the dead_node_timeout setting.
const (
	livenessInterval = time.Second
	livenessTTL      = 4 * time.Second
)

// stats are this node's numbers for its liveness record.
func (s *Server) stats() (ranges, leases, diskBytes uint64) {
	for _, r := range s.store.Replicas() {
		if len(r.Desc().EndKey) == 0 {
			continue // uninitialised
		}
		ranges++
		if r.IsLeaseholder() {
			leases++
		}
	}
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
	base, cancelAll := context.WithCancel(context.Background())
	defer cancelAll()
	go func() {
		select {
		case <-s.stopper:
			cancelAll()
		case <-base.Done():
		}
	}()
	backoff := 100 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(base, 10*time.Second)
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
