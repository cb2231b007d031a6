package placement

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/kvpb"
)

// Config configures a Driver.
type Config struct {
	DB *kv.DB
	// Liveness tells which nodes are live and which are draining.
	Liveness *Liveness
	// Active reports whether this node should drive placement now (it holds
	// the meta range's lease).
	Active func() bool
	// Interval between ticks.
	Interval time.Duration
	// MaxChangesPerTick rate-limits replica changes (each may send a snapshot).
	MaxChangesPerTick int
}

// DefaultConfig returns the defaults.
func DefaultConfig(db *kv.DB, l *Liveness, active func() bool) Config {
	return Config{DB: db, Liveness: l, Active: active, Interval: time.Second, MaxChangesPerTick: 4}
}

// Driver is the placement loop.
type Driver struct{ cfg Config }

// New returns a driver; Run starts it.
func New(cfg Config) (*Driver, error) {
	if cfg.DB == nil || cfg.Active == nil || cfg.Liveness == nil {
		return nil, errors.New("placement: a DB, a Liveness and an Active function are required")
	}
	if cfg.Interval <= 0 || cfg.MaxChangesPerTick <= 0 {
		return nil, errors.New("placement: interval and change limit must be positive")
	}
	return &Driver{cfg: cfg}, nil
}

// Run ticks until stop is closed; closing stop also cancels a running tick.
func (d *Driver) Run(stop <-chan struct{}) {
	t := time.NewTicker(d.cfg.Interval)
	defer t.Stop()
	base, cancelAll := context.WithCancel(context.Background())
	defer cancelAll()
	go func() {
		<-stop
		cancelAll()
	}()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if !d.cfg.Active() {
			continue
		}
		ctx, cancel := context.WithTimeout(base, 10*d.cfg.Interval)
		if err := d.Tick(ctx); err != nil {
			slog.Debug("placement: tick", "err", err)
		}
		cancel()
	}
}

// maxScan bounds the registry and directory reads of one tick.
const maxScan = 10000

// nodeState is what a tick knows of a node.
type nodeState struct {
	live     bool // heartbeating
	dead     bool // down longer than dead_node_timeout: replace its replicas
	draining bool // decommissioning: move its replicas away
	load     int  // replicas
}

// usable reports whether new replicas may go to the node.
func (n *nodeState) usable() bool { return n.live && !n.draining }

// Tick makes up to MaxChangesPerTick replica changes.
func (d *Driver) Tick(ctx context.Context) error {
	settings, _, err := ReadSettings(ctx, d.cfg.DB)
	if err != nil {
		return err
	}
	nodes, err := ScanNodes(ctx, d.cfg.DB)
	if err != nil {
		return err
	}
	ranges, err := scanRanges(ctx, d.cfg.DB)
	if err != nil {
		return err
	}
	state := map[uint64]*nodeState{}
	members := 0 // nodes that count toward the target: not dead, not draining
	for _, n := range nodes {
		down := d.cfg.Liveness.DownFor(n.NodeId)
		st := &nodeState{live: down == 0, dead: down > settings.DeadNodeTimeout, draining: n.Decommissioning}
		state[n.NodeId] = st
		if !st.dead && !st.draining {
			members++
		}
	}
	for _, r := range ranges {
		for _, rd := range r.Replicas {
			if st := state[rd.NodeId]; st != nil {
				st.load++
			}
		}
	}
	// A node that is merely down (not yet dead) still counts: its replicas
	// are neither replaced nor is the target lowered until
	// dead_node_timeout, so a restart or a blip moves nothing.
	target := min(settings.Replicas, members)
	changes := 0
	for _, r := range ranges {
		if changes >= d.cfg.MaxChangesPerTick {
			break
		}
		change, node, ok := nextChange(r, target, state)
		if !ok {
			continue
		}
		changes++
		desc, err := d.cfg.DB.AdminChangeReplicas(ctx, r, change, node)
		if err != nil {
			slog.Debug("placement: replica change", "range", r.RangeId, "change", change, "node", node, "err", err)
			continue
		}
		switch change {
		case kvpb.AdminChangeReplicasRequest_ADD_LEARNER:
			state[node].load++
		case kvpb.AdminChangeReplicasRequest_REMOVE:
			state[node].load--
		}
		slog.Info("placement: changed replicas", "range", r.RangeId, "change", change.String(), "node", node, "generation", desc.Generation)
		placementChanges.WithLabelValues(change.String()).Inc()
	}
	if changes == 0 {
		if r, node, ok := rebalanceMove(ranges, state); ok {
			// Add a replica on the least-loaded node; once it is a voter the
			// range has one voter too many and the most-loaded one goes.
			if desc, err := d.cfg.DB.AdminChangeReplicas(ctx, r, kvpb.AdminChangeReplicasRequest_ADD_LEARNER, node); err == nil {
				slog.Info("placement: rebalancing", "range", r.RangeId, "to_node", node, "generation", desc.Generation)
				placementChanges.WithLabelValues("REBALANCE").Inc()
			}
		}
	}
	underReplicated.Set(float64(countUnder(ranges, target, state)))
	return nil
}

// rebalanceMove finds a range to move from the most- to the least-loaded
// usable node when their replica counts differ by 2 or more and one of them
// is more than 20% from the mean.
func rebalanceMove(ranges []*kvpb.RangeDescriptor, state map[uint64]*nodeState) (*kvpb.RangeDescriptor, uint64, bool) {
	var over, under uint64
	total, n := 0, 0
	for id, st := range state {
		if !st.usable() {
			continue
		}
		total += st.load
		n++
		if over == 0 || st.load > state[over].load {
			over = id
		}
		if under == 0 || st.load < state[under].load {
			under = id
		}
	}
	if n < 2 || state[over].load-state[under].load < 2 {
		return nil, 0, false
	}
	mean := float64(total) / float64(n)
	if float64(state[over].load) <= 1.2*mean && float64(state[under].load) >= 0.8*mean {
		return nil, 0, false
	}
	for _, r := range ranges {
		onOver, onUnder := false, false
		for _, rd := range r.Replicas {
			onOver = onOver || rd.NodeId == over
			onUnder = onUnder || rd.NodeId == under
		}
		if onOver && !onUnder {
			return r, under, true
		}
	}
	return nil, 0, false
}

// nextChange picks the one change a range needs now, in this order:
// promote a caught-up learner on a usable node; drop a learner elsewhere;
// add a learner on the least-loaded usable node while the range has fewer
// healthy voters than the target; once it has enough, remove a voter from a
// dead or draining node, or beyond the target.
func nextChange(r *kvpb.RangeDescriptor, target int, state map[uint64]*nodeState) (kvpb.AdminChangeReplicasRequest_ChangeType, uint64, bool) {
	healthy, suspect, voters := 0, 0, 0
	var replaceable []uint64 // voters on dead or draining nodes
	has := map[uint64]bool{}
	for _, rd := range r.Replicas {
		has[rd.NodeId] = true
		st := state[rd.NodeId]
		if st == nil {
			st = &nodeState{} // unregistered: treat as dead
		}
		if rd.Type == kvpb.ReplicaType_LEARNER {
			if st.usable() {
				return kvpb.AdminChangeReplicasRequest_PROMOTE_VOTER, rd.NodeId, true
			}
			return kvpb.AdminChangeReplicasRequest_REMOVE, rd.NodeId, true
		}
		if rd.Type != kvpb.ReplicaType_VOTER {
			continue
		}
		voters++
		switch {
		case st.dead || st.draining:
			replaceable = append(replaceable, rd.NodeId)
		case st.live:
			healthy++
		default:
			suspect++ // down, not yet dead: may come back
		}
	}
	if healthy+suspect < target {
		if n, ok := leastLoaded(state, has); ok {
			return kvpb.AdminChangeReplicasRequest_ADD_LEARNER, n, true
		}
	}
	if healthy >= target && len(replaceable) > 0 && voters > 1 {
		return kvpb.AdminChangeReplicasRequest_REMOVE, replaceable[0], true
	}
	// One voter too many (after a rebalancing add, or a lowered replication
	// factor): drop the one on the most-loaded node, but only while every
	// voter is live; removing a live voter while another is down could
	// leave the range without a quorum.
	if voters > target && target > 0 && healthy == voters {
		var worst uint64
		for _, rd := range r.Replicas {
			if rd.Type == kvpb.ReplicaType_VOTER && (worst == 0 || state[rd.NodeId].load > state[worst].load) {
				worst = rd.NodeId
			}
		}
		return kvpb.AdminChangeReplicasRequest_REMOVE, worst, true
	}
	return 0, 0, false
}

// leastLoaded picks the usable node with the fewest replicas among those
// without a replica of the range.
func leastLoaded(state map[uint64]*nodeState, has map[uint64]bool) (uint64, bool) {
	var best uint64
	found := false
	for n, st := range state {
		if has[n] || !st.usable() {
			continue
		}
		if !found || st.load < state[best].load || (st.load == state[best].load && n < best) {
			best, found = n, true
		}
	}
	return best, found
}

func countUnder(ranges []*kvpb.RangeDescriptor, target int, state map[uint64]*nodeState) int {
	n := 0
	for _, r := range ranges {
		voters := 0
		for _, rd := range r.Replicas {
			if st := state[rd.NodeId]; rd.Type == kvpb.ReplicaType_VOTER && st != nil && st.live {
				voters++
			}
		}
		if voters < target {
			n++
		}
	}
	return n
}

// ScanNodes reads the node registry.
func ScanNodes(ctx context.Context, db *kv.DB) ([]*kvpb.NodeDescriptor, error) {
	start, end := keys.NodeSpan()
	resp, err := db.Scan(ctx, start, end, maxScan)
	if err != nil {
		return nil, fmt.Errorf("placement: reading nodes: %w", err)
	}
	out := make([]*kvpb.NodeDescriptor, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		nd := &kvpb.NodeDescriptor{}
		if err := proto.Unmarshal(kv.Value, nd); err != nil {
			return nil, err
		}
		out = append(out, nd)
	}
	return out, nil
}

func scanRanges(ctx context.Context, db *kv.DB) ([]*kvpb.RangeDescriptor, error) {
	start, end := keys.RangeDescSpan()
	resp, err := db.Scan(ctx, start, end, maxScan)
	if err != nil {
		return nil, fmt.Errorf("placement: reading the range directory: %w", err)
	}
	out := make([]*kvpb.RangeDescriptor, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		d := &kvpb.RangeDescriptor{}
		if err := proto.Unmarshal(kv.Value, d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}
