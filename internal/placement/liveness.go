package placement

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/kvpb"
)

// LivenessConfig configures a Liveness.
type LivenessConfig struct {
	DB     *kv.DB
	NodeID uint64
	// Epoch is this start of the node (grows with restarts).
	Epoch uint64
	// Interval between heartbeats and observations.
	Interval time.Duration
	// TTL: a node whose heartbeat did not advance for this long is not live.
	TTL time.Duration
	// Stats reports this node's numbers for its heartbeat.
	Stats func() (ranges, leases, diskBytes uint64)
}

// Liveness heartbeats this node's record and observes everyone's. A node is
// live when its record advanced within TTL as seen by this node's monotonic
// clock: liveness never compares clocks of different nodes.
type Liveness struct {
	cfg     LivenessConfig
	started time.Time

	mu struct {
		sync.Mutex
		seq      uint64
		observed map[uint64]*observation
	}
}

type observation struct {
	rec     *kvpb.LivenessRecord
	changed time.Time // local time when seq or epoch last changed
}

// NewLiveness returns a Liveness; Run starts it.
func NewLiveness(cfg LivenessConfig) *Liveness {
	l := &Liveness{cfg: cfg, started: time.Now()}
	l.mu.observed = make(map[uint64]*observation)
	return l
}

// Run heartbeats and observes until stop is closed.
func (l *Liveness) Run(stop <-chan struct{}) {
	t := time.NewTicker(l.cfg.Interval)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), l.cfg.Interval*5)
		go func() {
			select {
			case <-stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		if err := l.heartbeat(ctx); err != nil {
			slog.Debug("liveness: heartbeat", "err", err)
		}
		if err := l.observe(ctx); err != nil {
			slog.Debug("liveness: observe", "err", err)
		}
		cancel()
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

func (l *Liveness) heartbeat(ctx context.Context) error {
	l.mu.Lock()
	l.mu.seq++
	seq := l.mu.seq
	l.mu.Unlock()
	rec := &kvpb.LivenessRecord{NodeId: l.cfg.NodeID, Epoch: l.cfg.Epoch, Seq: seq}
	if l.cfg.Stats != nil {
		rec.Ranges, rec.Leases, rec.DiskBytes = l.cfg.Stats()
	}
	b, err := proto.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = l.cfg.DB.Put(ctx, keys.LivenessKey(l.cfg.NodeID), b)
	return err
}

func (l *Liveness) observe(ctx context.Context) error {
	start, end := keys.LivenessSpan()
	resp, err := l.cfg.DB.Scan(ctx, start, end, maxScan)
	if err != nil {
		return err
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, kv := range resp.Kvs {
		rec := &kvpb.LivenessRecord{}
		if err := proto.Unmarshal(kv.Value, rec); err != nil {
			continue
		}
		o := l.mu.observed[rec.NodeId]
		if o == nil || o.rec.Seq != rec.Seq || o.rec.Epoch != rec.Epoch {
			l.mu.observed[rec.NodeId] = &observation{rec: rec, changed: now}
		}
	}
	return nil
}

// DownFor returns how long a node has not been seen to heartbeat (0 when
// live). A node never observed counts from when this observer started, so
// a new observer does not declare everyone dead at once.
func (l *Liveness) DownFor(nodeID uint64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if nodeID == l.cfg.NodeID {
		return 0
	}
	since := l.started
	if o := l.mu.observed[nodeID]; o != nil && o.changed.After(since) {
		since = o.changed
	}
	if d := time.Since(since); d > l.cfg.TTL {
		return d
	}
	return 0
}

// IsLive reports whether a node heartbeated within TTL.
func (l *Liveness) IsLive(nodeID uint64) bool { return l.DownFor(nodeID) == 0 }

// Record returns the last observed record of a node, or nil.
func (l *Liveness) Record(nodeID uint64) *kvpb.LivenessRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	if o := l.mu.observed[nodeID]; o != nil {
		return o.rec
	}
	return nil
}
