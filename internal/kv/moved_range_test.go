package kv

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
)

// movedCluster plays several nodes over one fakeCluster: the range with id
// moved is served by the nodes in members; the nodes in gone answer it with
// RangeNotFound (their replica was removed and destroyed), the nodes in
// removedNotGCd with NotLeaseholder and their replica's descriptor (removed
// from the range: the descriptor no longer names them), and the nodes in
// dead fail at the transport level. Every node serves the other ranges (the
// meta range among them).
type movedCluster struct {
	c     *fakeCluster
	moved uint64

	mu struct {
		sync.Mutex
		members, gone, dead map[uint64]bool
		removedNotGCd       map[uint64]*kvpb.RangeDescriptor
		sends               map[uint64]int // node -> requests for the moved range
	}
}

func newMovedCluster(c *fakeCluster, moved uint64) *movedCluster {
	m := &movedCluster{c: c, moved: moved}
	m.mu.members, m.mu.gone, m.mu.dead = map[uint64]bool{}, map[uint64]bool{}, map[uint64]bool{}
	m.mu.removedNotGCd = map[uint64]*kvpb.RangeDescriptor{}
	m.mu.sends = map[uint64]int{}
	return m
}

func (m *movedCluster) send(ctx context.Context, node uint64, req *kvpb.RangeRequest) (*kvpb.RangeResponse, error) {
	m.mu.Lock()
	if m.mu.dead[node] {
		m.mu.Unlock()
		return nil, fmt.Errorf("%w: node %d: connection refused", ErrNotSent, node)
	}
	if req.RangeId != m.moved {
		m.mu.Unlock()
		return m.c.Send(ctx, req), nil
	}
	m.mu.sends[node]++
	member, gone, stale := m.mu.members[node], m.mu.gone[node], m.mu.removedNotGCd[node]
	m.mu.Unlock()
	switch {
	case member:
		return m.c.Send(ctx, req), nil
	case stale != nil:
		return &kvpb.RangeResponse{Error: kvpb.NewNotLeaseholder(req.RangeId, nil, stale)}, nil
	case gone:
		return &kvpb.RangeResponse{Error: kvpb.NewRangeNotFound(req.RangeId)}, nil
	}
	return nil, fmt.Errorf("movedCluster: node %d has no part in range %d", node, req.RangeId)
}

func (m *movedCluster) sendsTo(node uint64) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mu.sends[node]
}

// dbOn returns node's router: its local sender is the node's own replicas.
func (m *movedCluster) dbOn(t *testing.T, node uint64) *DB {
	t.Helper()
	local := senderFunc(func(ctx context.Context, req *kvpb.RangeRequest) *kvpb.RangeResponse {
		resp, err := m.send(ctx, node, req)
		if err != nil {
			t.Fatalf("local send on node %d: %v", node, err)
		}
		return resp
	})
	db, err := New(Config{NodeID: node, Local: local, Remote: m.send, MaxAttempts: 50, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

type senderFunc func(ctx context.Context, req *kvpb.RangeRequest) *kvpb.RangeResponse

func (f senderFunc) Send(ctx context.Context, req *kvpb.RangeRequest) *kvpb.RangeResponse {
	return f(ctx, req)
}

func replicas(voters []uint64, learners ...uint64) []*kvpb.ReplicaDescriptor {
	var out []*kvpb.ReplicaDescriptor
	for i, n := range voters {
		out = append(out, &kvpb.ReplicaDescriptor{NodeId: n, ReplicaId: uint64(i + 1), Type: kvpb.ReplicaType_VOTER})
	}
	for i, n := range learners {
		out = append(out, &kvpb.ReplicaDescriptor{NodeId: n, ReplicaId: uint64(len(voters) + i + 1), Type: kvpb.ReplicaType_LEARNER})
	}
	return out
}

// TestRouterRangeMovedAway reproduces TestFiveNodeHealing's unreadable keys:
// node 1 led a range and cached its descriptor from when it was created
// (the split), then the range moved off node 1 (its replica removed) and
// off or away from every other replica that descriptor names, one of which
// is dead. Node 1 must still serve the range's keys: every replica it knows
// of is gone or unreachable, so its cached descriptor is stale and it must
// look the range up again in the meta directory instead of asking itself
// (RangeNotFound) until its attempts run out.
func TestRouterRangeMovedAway(t *testing.T) {
	current := &kvpb.RangeDescriptor{RangeId: 2, StartKey: keys.MetaEnd, EndKey: kk("m"), Generation: 9, Replicas: replicas([]uint64{3, 4, 5})}
	for _, tc := range []struct {
		name   string
		cached *kvpb.RangeDescriptor // node 1's cached descriptor of r2
		gone   []uint64
		dead   []uint64
		// removedNotGCd: nodes whose replica applied its own removal but
		// is not destroyed yet (it knows descriptor gen 8 without itself).
		removedNotGCd []uint64
	}{
		{name: "two voters, the other dead",
			cached: &kvpb.RangeDescriptor{Generation: 3, Replicas: replicas([]uint64{1, 2})},
			gone:   []uint64{1}, dead: []uint64{2}},
		{name: "two voters and a learner",
			cached: &kvpb.RangeDescriptor{Generation: 4, Replicas: replicas([]uint64{1, 2}, 6)},
			gone:   []uint64{1, 6}, dead: []uint64{2}},
		{name: "three voters, all moved or dead",
			cached: &kvpb.RangeDescriptor{Generation: 5, Replicas: replicas([]uint64{1, 2, 6})},
			gone:   []uint64{1, 6}, dead: []uint64{2}},
		{name: "three voters, all moved",
			cached: &kvpb.RangeDescriptor{Generation: 5, Replicas: replicas([]uint64{1, 6, 7})},
			gone:   []uint64{1, 6, 7}},
		{name: "removed replicas not destroyed yet",
			cached:        &kvpb.RangeDescriptor{Generation: 5, Replicas: replicas([]uint64{1, 2, 6})},
			removedNotGCd: []uint64{1, 6}, dead: []uint64{2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := twoRangeCluster()
			c.addRange(current, true)
			m := newMovedCluster(c, 2)
			for _, n := range []uint64{3, 4, 5} {
				m.mu.members[n] = true
			}
			for _, n := range tc.gone {
				m.mu.gone[n] = true
			}
			for _, n := range tc.dead {
				m.mu.dead[n] = true
			}
			for _, n := range tc.removedNotGCd {
				d := &kvpb.RangeDescriptor{RangeId: 2, StartKey: keys.MetaEnd, EndKey: kk("m"), Generation: 8, Replicas: replicas([]uint64{3, 4, 5})}
				m.mu.removedNotGCd[n] = d
			}
			db := m.dbOn(t, 1)
			cached := tc.cached
			cached.RangeId, cached.StartKey, cached.EndKey = 2, keys.MetaEnd, kk("m")
			db.LearnDescriptor(cached)
			db.setLeaseholder(2, 1) // node 1 led the range
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			start := time.Now()
			if _, err := db.Put(ctx, kk("a"), []byte("va")); err != nil {
				t.Fatalf("put through node 1 after the range moved off it: %v", err)
			}
			for i := 0; i < 3; i++ {
				r, err := db.Get(ctx, kk("a"))
				if err != nil || !r.Found || string(r.Value) != "va" {
					t.Fatalf("get through node 1 after the range moved off it: %v %v", r, err)
				}
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("took %v", took)
			}
			if d := db.cache.lookup(kk("a")); d == nil || d.Generation < 8 || d.HasNode(1) || d.HasNode(2) {
				t.Errorf("cached descriptor after the requests: %v, want the current one", d)
			}
			// Each stale replica was asked at most once: once the
			// descriptor was found stale, the router used the fresh one.
			for _, n := range []uint64{1, 2, 6, 7} {
				if s := m.sendsTo(n); s > 1 {
					t.Errorf("node %d asked %d times", n, s)
				}
			}
			// A scan meets the stale descriptor the same way.
			db2 := m.dbOn(t, 1)
			db2.LearnDescriptor(cached)
			if resp, err := db2.Scan(ctx, kk(""), kk("m"), 10); err != nil || len(resp.Kvs) != 1 {
				t.Fatalf("scan through node 1 after the range moved off it: %v %v", resp, err)
			}
		})
	}
}

// TestRouterRangeMovedAwayMetaStale: a meta directory still naming stale
// replicas (its update lags) costs bounded retries, not a hang: the router
// keeps looking the range up, with backoff, until its attempts run out, and
// serves once the directory is fixed.
func TestRouterRangeMovedAwayMetaStale(t *testing.T) {
	stale := &kvpb.RangeDescriptor{RangeId: 2, StartKey: keys.MetaEnd, EndKey: kk("m"), Generation: 3, Replicas: replicas([]uint64{1, 2})}
	c := twoRangeCluster()
	c.addRange(stale, true) // the directory names only the old replicas
	m := newMovedCluster(c, 2)
	m.mu.gone[1], m.mu.dead[2] = true, true
	m.mu.members[3] = true
	db := m.dbOn(t, 1)
	db.cfg.MaxAttempts = 5
	ctx := ctxT(t)
	if _, err := db.Get(ctx, kk("a")); err == nil {
		t.Fatal("get succeeded with no replica to serve it")
	}
	if n := m.sendsTo(1); n > db.cfg.MaxAttempts {
		t.Fatalf("node 1 asked %d times with MaxAttempts %d", n, db.cfg.MaxAttempts)
	}
	// The directory catches up: the next request finds the range.
	c.mu.Lock()
	c.putMetaLocked(&kvpb.RangeDescriptor{RangeId: 2, StartKey: keys.MetaEnd, EndKey: kk("m"), Generation: 4, Replicas: replicas([]uint64{3})})
	c.mu.Unlock()
	if _, err := db.Get(ctx, kk("a")); err != nil {
		t.Fatalf("get once the directory names the new replica: %v", err)
	}
}
