package testcluster

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/server"
)

// voters returns the voter count of every range in the meta directory, as
// read through node s.
func voters(ctx context.Context, s *server.Server) (map[uint64]int, error) {
	rn, err := replicaNodes(ctx, s)
	if err != nil {
		return nil, err
	}
	out := make(map[uint64]int, len(rn))
	for id, nodes := range rn {
		out[id] = len(nodes)
	}
	return out, nil
}

func TestJoinUpReplicateFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	c := Start(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Every range reaches three voters on its own.
	c.WaitFor("every range to have 3 voters", 30*time.Second, func() bool {
		v, err := voters(ctx, c.Nodes[0])
		if err != nil || len(v) < 2 {
			return false
		}
		for _, n := range v {
			if n != 3 {
				return false
			}
		}
		return true
	})

	// Any node serves any key: write through each, read through the others.
	for i, s := range c.Nodes {
		if _, err := s.DB().Put(ctx, keys.KVKey([]byte(fmt.Sprintf("k%d", i))), []byte("v")); err != nil {
			t.Fatalf("put via node %d: %v", i+1, err)
		}
	}
	for i, s := range c.Nodes {
		for j := range c.Nodes {
			r, err := s.DB().Get(ctx, keys.KVKey([]byte(fmt.Sprintf("k%d", j))))
			if err != nil || !r.Found {
				t.Fatalf("get k%d via node %d: %v %v", j, i+1, r, err)
			}
		}
	}

	// Kill the first node (it bootstrapped, so it led everything): the
	// others elect new leaders and keep serving reads and writes.
	c.StopNode(0)
	start := time.Now()
	c.WaitFor("writes through node 2 after node 1 died", 30*time.Second, func() bool {
		wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		_, err := c.Nodes[1].DB().Put(wctx, keys.KVKey([]byte("after")), []byte("x"))
		return err == nil
	})
	t.Logf("writes resumed %v after the node was stopped", time.Since(start).Round(time.Millisecond))
	r, err := c.Nodes[2].DB().Get(ctx, keys.KVKey([]byte("k0")))
	if err != nil || !r.Found {
		t.Fatalf("a write acknowledged before the failure is gone: %v %v", r, err)
	}
}

// replicaNodes returns, per range, the nodes holding a voter.
func replicaNodes(ctx context.Context, s *server.Server) (map[uint64][]uint64, error) {
	start, end := keys.RangeDescSpan()
	resp, err := s.DB().Scan(ctx, start, end, 1000)
	if err != nil {
		return nil, err
	}
	out := map[uint64][]uint64{}
	for _, kv := range resp.Kvs {
		d := &kvpb.RangeDescriptor{}
		if err := unmarshal(kv.Value, d); err != nil {
			return nil, err
		}
		for _, r := range d.Replicas {
			if r.Type == kvpb.ReplicaType_VOTER {
				out[d.RangeId] = append(out[d.RangeId], r.NodeId)
			}
		}
	}
	return out, nil
}

// everyRange reports whether every range has exactly want voters, none on
// the excluded nodes.
func everyRange(ctx context.Context, s *server.Server, want int, excluded ...uint64) bool {
	rn, err := replicaNodes(ctx, s)
	if err != nil || len(rn) < 2 {
		return false
	}
	for _, nodes := range rn {
		if len(nodes) != want {
			return false
		}
		for _, n := range nodes {
			for _, x := range excluded {
				if n == x {
					return false
				}
			}
		}
	}
	return true
}

func TestDeadNodeReplacedAndDecommission(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	c := Start(t, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if err := placementSetting(ctx, c.Nodes[0], "dead_node_timeout", "1s"); err != nil {
		t.Fatal(err)
	}
	c.WaitFor("3 voters everywhere", 30*time.Second, func() bool { return everyRange(ctx, c.Nodes[0], 3) })
	for i := 0; i < 20; i++ {
		if _, err := c.Nodes[0].DB().Put(ctx, keys.KVKey([]byte(fmt.Sprintf("k%02d", i))), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}

	// Stop a node holding replicas; after dead_node_timeout (and the
	// liveness TTL) its replicas are replaced on the remaining nodes.
	rn, err := replicaNodes(ctx, c.Nodes[0])
	if err != nil {
		t.Fatal(err)
	}
	victim := uint64(0)
	for _, nodes := range rn {
		for _, n := range nodes {
			if n != 1 {
				victim = n
			}
		}
	}
	c.StopNode(int(victim - 1))
	c.WaitFor("the dead node's replicas to be replaced", 60*time.Second, func() bool {
		return everyRange(ctx, c.Nodes[0], 3, victim)
	})

	// Decommission another node (not node 1, whose DB we read through):
	// with two usable nodes left, every range ends with two voters, none
	// on the decommissioned node.
	var drained uint64
	for id := uint64(2); id <= 4; id++ {
		if id != victim {
			drained = id
			break
		}
	}
	if err := decommission(ctx, c.Nodes[0], drained); err != nil {
		t.Fatal(err)
	}
	c.WaitFor("the decommissioned node to be drained", 60*time.Second, func() bool {
		return everyRange(ctx, c.Nodes[0], 2, victim, drained)
	})
	for i := 0; i < 20; i++ {
		r, err := c.Nodes[0].DB().Get(ctx, keys.KVKey([]byte(fmt.Sprintf("k%02d", i))))
		if err != nil || !r.Found {
			t.Fatalf("k%02d lost: %v %v", i, r, err)
		}
	}
}

// Writing well past range_max_bytes splits the user range automatically,
// repeatedly, and every key stays readable; the meta range never splits.
func TestAutomaticSplitBySize(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	c := Start(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	s := c.Nodes[0]
	if err := placementSetting(ctx, s, "range_max_bytes", "65536"); err != nil {
		t.Fatal(err)
	}
	value := make([]byte, 1000)
	const n = 400 // ~400 KB of data: several times the limit
	for i := 0; i < n; i++ {
		if _, err := s.DB().Put(ctx, keys.KVKey([]byte(fmt.Sprintf("key-%05d", i))), value); err != nil {
			t.Fatal(err)
		}
	}
	c.WaitFor("the user range to split at least 3 times", 60*time.Second, func() bool {
		rn, err := replicaNodes(ctx, s)
		return err == nil && len(rn) >= 5 // meta + 4 user ranges
	})
	resp, err := s.DB().Scan(ctx, keys.KVKey(nil), keys.KVPrefixEnd, 10000)
	if err != nil || len(resp.Kvs) != n {
		t.Fatalf("scan after splits: %d keys, %v", len(resp.Kvs), err)
	}
}

// A node joining a loaded cluster receives replicas and leases until every
// node holds a fair share (replica counts within ±20% of the mean).
func TestScaleOutRebalances(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	c := Start(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	db := c.Nodes[0].DB()
	for i := 1; i <= 10; i++ {
		if _, _, err := db.AdminSplit(ctx, keys.KVKey([]byte(fmt.Sprintf("s%02d", i)))); err != nil {
			t.Fatal(err)
		}
	}
	c.WaitFor("3 voters on every range", 60*time.Second, func() bool { return everyRange(ctx, c.Nodes[0], 3) })

	c.AddNode()
	var counts map[uint64]int
	c.WaitFor("replicas spread within 20% of the mean", 90*time.Second, func() bool {
		rn, err := replicaNodes(ctx, c.Nodes[0])
		if err != nil || len(rn) != 12 {
			return false
		}
		counts = map[uint64]int{}
		total := 0
		for _, nodes := range rn {
			if len(nodes) != 3 {
				return false
			}
			for _, n := range nodes {
				counts[n]++
				total++
			}
		}
		mean := float64(total) / 4
		for id := uint64(1); id <= 4; id++ {
			if f := float64(counts[id]); f < 0.8*mean || f > 1.2*mean {
				return false
			}
		}
		return true
	})
	t.Logf("replicas per node: %v", counts)
	c.WaitFor("the new node to hold leases", 60*time.Second, func() bool {
		var leases []uint64
		for _, s := range c.Nodes {
			_, l, _ := statsOf(s)
			leases = append(leases, l)
		}
		return leases[3] >= 2
	})
}

// Timestamps from the oracle are unique and increasing whichever node asks,
// and stay above everything handed out before the meta range's leaseholder
// dies and another takes over.
func TestTimestampOracleAcrossFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	c := Start(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c.WaitFor("3 voters everywhere", 30*time.Second, func() bool { return everyRange(ctx, c.Nodes[0], 3) })

	seen := map[uint64]bool{}
	var highest uint64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, s := range c.Nodes {
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(s *server.Server) {
				defer wg.Done()
				var prev uint64
				for j := 0; j < 200; j++ {
					ts, err := s.Now(ctx)
					if err != nil {
						t.Errorf("node %d: %v", i+1, err)
						return
					}
					if ts <= prev {
						t.Errorf("node %d: timestamp %d after %d", i+1, ts, prev)
					}
					prev = ts
					mu.Lock()
					if seen[ts] {
						t.Errorf("timestamp %d handed out twice", ts)
					}
					seen[ts] = true
					highest = max(highest, ts)
					mu.Unlock()
				}
			}(s)
		}
	}
	wg.Wait()

	// Kill the node serving the meta range; the next oracle starts above.
	for i, s := range c.Nodes {
		if r := s.MetaLeaseholder(); r {
			c.StopNode(i)
			break
		}
	}
	for _, s := range c.Nodes {
		if s == nil {
			continue
		}
		ts, err := s.Now(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ts <= highest {
			t.Fatalf("after failover the oracle handed out %d, not above %d", ts, highest)
		}
	}
}
