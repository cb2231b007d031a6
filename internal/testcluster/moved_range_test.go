package testcluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cairndb/cairn/internal/keys"
)

// TestServeRangeMovedOffNode reproduces the unreadable keys of
// TestFiveNodeHealing: node 1 splits off a range while the cluster has two
// nodes, so its router caches the range's descriptor with replicas on
// nodes 1 and 2 and, leading the range, has no reason to refresh it. The
// range then moves away from both nodes (decommissioned, their replicas
// removed and destroyed). Node 1 must still serve the range's keys, within
// a request timeout: when every replica of its cached descriptor answers
// "range not found", the descriptor is stale and the range must be looked
// up again in the meta directory.
func TestServeRangeMovedOffNode(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	c := Start(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	c.WaitFor("2 voters everywhere", 30*time.Second, func() bool { return everyRange(ctx, c.Nodes[0], 2) })

	db := c.Nodes[0].DB()
	_, right, err := db.AdminSplit(ctx, keys.KVKey([]byte("h")))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("split off r%d with replicas %v (generation %d)", right.RangeId, right.Replicas, right.Generation)
	key := func(i int) []byte { return keys.KVKey([]byte(fmt.Sprintf("h%03d", i))) }
	const n = 20
	for i := 0; i < n; i++ {
		if _, err := db.Put(ctx, key(i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}

	// Two more nodes take over every range; nodes 1 and 2 are drained.
	c.AddNode()
	c.AddNode()
	c.WaitFor("3 voters everywhere", 60*time.Second, func() bool { return everyRange(ctx, c.Nodes[0], 3) })
	for _, id := range []uint64{1, 2} {
		if err := decommission(ctx, c.Nodes[2], id); err != nil {
			t.Fatal(err)
		}
	}
	c.WaitFor("every range on nodes 3 and 4 only", 90*time.Second, func() bool {
		return everyRange(ctx, c.Nodes[2], 2, 1, 2)
	})
	c.WaitFor("nodes 1 and 2 to destroy their replicas", 30*time.Second, func() bool {
		r1, _, _ := statsOf(c.Nodes[0])
		r2, _, _ := statsOf(c.Nodes[1])
		return r1 == 0 && r2 == 0
	})

	// Node 1 still serves the moved range's keys, promptly.
	for i := 0; i < n; i++ {
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		r, err := db.Get(rctx, key(i))
		rcancel()
		if err != nil || !r.Found {
			t.Fatalf("get %s through node 1 after its range moved away: %v %v", keys.Pretty(key(i)), r, err)
		}
	}
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if _, err := db.Put(wctx, key(n), []byte("v")); err != nil {
		t.Fatalf("put through node 1 after its range moved away: %v", err)
	}
}
