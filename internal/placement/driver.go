package placement

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/kvpb"
)

// Config configures a Driver.
type Config struct {
	DB *kv.DB
	// Active reports whether this node should drive placement now (it holds
	// the meta range's lease).
	Active func() bool
	// Interval between ticks.
	Interval time.Duration
	// ReplicationFactor is the target number of voters per range.
	ReplicationFactor int
	// MaxChangesPerTick rate-limits replica changes (each may send a snapshot).
	MaxChangesPerTick int
}

// DefaultConfig returns the defaults.
func DefaultConfig(db *kv.DB, active func() bool) Config {
	return Config{DB: db, Active: active, Interval: time.Second, ReplicationFactor: 3, MaxChangesPerTick: 4}
}

// Driver is the placement loop.
type Driver struct{ cfg Config }

// New returns a driver; Run starts it.
func New(cfg Config) (*Driver, error) {
	if cfg.DB == nil || cfg.Active == nil {
		return nil, errors.New("placement: a DB and an Active function are required")
	}
	if cfg.Interval <= 0 || cfg.ReplicationFactor <= 0 || cfg.MaxChangesPerTick <= 0 {
		return nil, errors.New("placement: interval, replication factor and change limit must be positive")
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

// Tick makes up to MaxChangesPerTick replica changes.
func (d *Driver) Tick(ctx context.Context) error {
	nodes, err := scanNodes(ctx, d.cfg.DB)
	if err != nil {
		return err
	}
	ranges, err := scanRanges(ctx, d.cfg.DB)
	if err != nil {
		return err
	}
	load := map[uint64]int{}
	for _, n := range nodes {
		load[n.NodeId] = 0
	}
	for _, r := range ranges {
		for _, rd := range r.Replicas {
			load[rd.NodeId]++
		}
	}
	target := min(d.cfg.ReplicationFactor, len(nodes))
	changes := 0
	for _, r := range ranges {
		if changes >= d.cfg.MaxChangesPerTick {
			break
		}
		change, node, ok := nextChange(r, target, load)
		if !ok {
			continue
		}
		changes++
		desc, err := d.cfg.DB.AdminChangeReplicas(ctx, r, change, node)
		if err != nil {
			slog.Debug("placement: replica change", "range", r.RangeId, "change", change, "node", node, "err", err)
			continue
		}
		if change == kvpb.AdminChangeReplicasRequest_ADD_LEARNER {
			load[node]++
		}
		slog.Info("placement: changed replicas", "range", r.RangeId, "change", change.String(), "node", node, "generation", desc.Generation)
		placementChanges.WithLabelValues(change.String()).Inc()
	}
	underReplicated.Set(float64(countUnder(ranges, target)))
	return nil
}

// nextChange picks the one change a range needs now: promote a learner,
// else add a learner on the least-loaded node without a replica.
func nextChange(r *kvpb.RangeDescriptor, target int, load map[uint64]int) (kvpb.AdminChangeReplicasRequest_ChangeType, uint64, bool) {
	voters := 0
	has := map[uint64]bool{}
	for _, rd := range r.Replicas {
		has[rd.NodeId] = true
		switch rd.Type {
		case kvpb.ReplicaType_LEARNER:
			return kvpb.AdminChangeReplicasRequest_PROMOTE_VOTER, rd.NodeId, true
		case kvpb.ReplicaType_VOTER:
			voters++
		}
	}
	if voters >= target {
		return 0, 0, false
	}
	candidates := make([]uint64, 0, len(load))
	for n := range load {
		if !has[n] {
			candidates = append(candidates, n)
		}
	}
	if len(candidates) == 0 {
		return 0, 0, false
	}
	sort.Slice(candidates, func(i, j int) bool {
		a, b := candidates[i], candidates[j]
		return load[a] < load[b] || (load[a] == load[b] && a < b)
	})
	return kvpb.AdminChangeReplicasRequest_ADD_LEARNER, candidates[0], true
}

func countUnder(ranges []*kvpb.RangeDescriptor, target int) int {
	n := 0
	for _, r := range ranges {
		voters := 0
		for _, rd := range r.Replicas {
			if rd.Type == kvpb.ReplicaType_VOTER {
				voters++
			}
		}
		if voters < target {
			n++
		}
	}
	return n
}

func scanNodes(ctx context.Context, db *kv.DB) ([]*kvpb.NodeDescriptor, error) {
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
