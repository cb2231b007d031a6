package testcluster

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/server"
)

// TestReplicaGCDestroysReplicasRemovedWhileCutOff: node 3 is cut off from
// its ranges' Raft traffic (its other RPCs still flow: it stays live and can
// read the range directory), the user range splits without it, and node 3
// is decommissioned: the placement driver removes each of its replicas by a
// configuration change it never hears of, and no removal notice reaches it
// (its replicas' messages never reach a member). Only its replica GC pass
// can find out, in the range directory, that its replicas were removed;
// it destroys every one of them, the one whose range split meanwhile (its
// span is stale: the directory lists the range's left part under another
// key) included. Node 3 keeps serving every key by forwarding.
func TestReplicaGCDestroysReplicasRemovedWhileCutOff(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	c := StartWith(t, 3, func(cfg *server.Config) { cfg.ReplicaGCInterval = 100 * time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	c.WaitFor("3 voters everywhere", 30*time.Second, func() bool { return everyRange(ctx, c.Nodes[0], 3) })
	db := c.Nodes[0].DB()
	key := func(i int) []byte { return keys.KVKey(fmt.Appendf(nil, "%c%02d", 'a'+i%26, i)) }
	const n = 52
	for i := 0; i < n; i++ {
		if _, err := db.Put(ctx, key(i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	victim := c.Nodes[2]
	id := victim.NodeID()
	c.WaitFor("node 3 to hold a replica of every range", 30*time.Second, func() bool {
		rn, err := replicaNodes(ctx, c.Nodes[0])
		r, _, _ := statsOf(victim)
		return err == nil && r == uint64(len(rn))
	})
	had, _, _ := statsOf(victim)
	removed0 := counterValue(t, "cairn_replica_gc_removed_total")

	c.CutOffRaft(id, true)
	splitKey := keys.KVKey([]byte("m"))
	c.WaitFor("the user range to split without node 3", 30*time.Second, func() bool {
		if _, _, err := db.AdminSplit(ctx, splitKey); err != nil {
			t.Logf("split: %v", err)
		}
		return rangeStartsAt(ctx, c.Nodes[0], splitKey)
	})
	if err := decommission(ctx, c.Nodes[0], id); err != nil {
		t.Fatal(err)
	}
	c.WaitFor("every range to leave node 3", 90*time.Second, func() bool { return everyRange(ctx, c.Nodes[0], 2, id) })
	c.WaitFor("node 3's replica GC to destroy its replicas", 30*time.Second, func() bool {
		r, _, _ := statsOf(victim)
		return r == 0
	})
	// Cut off, nothing but the GC pass could have destroyed them; the
	// other nodes' passes (as frequent) destroyed none of their replicas.
	if got := counterValue(t, "cairn_replica_gc_removed_total") - removed0; got != float64(had) {
		t.Fatalf("replica GC destroyed %v replicas, want the %d node 3 had", got, had)
	}
	rn, err := replicaNodes(ctx, c.Nodes[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range c.Nodes[:2] {
		if r, _, _ := statsOf(s); r != uint64(len(rn)) {
			t.Fatalf("node %d holds %d replicas, want one of each of the %d ranges", s.NodeID(), r, len(rn))
		}
	}

	for i := 0; i < n; i++ {
		rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
		r, err := victim.DB().Get(rctx, key(i))
		rcancel()
		if err != nil || !r.Found {
			t.Fatalf("get %s through node 3: %v %v", keys.Pretty(key(i)), r, err)
		}
	}
	c.CutOffRaft(id, false)
}

// rangeStartsAt reports whether the range directory, read through s, holds
// a range starting at key.
func rangeStartsAt(ctx context.Context, s *server.Server, key []byte) bool {
	start, end := keys.RangeDescSpan()
	resp, err := s.DB().Scan(ctx, start, end, 1000)
	if err != nil {
		return false
	}
	for _, kv := range resp.Kvs {
		d := &kvpb.RangeDescriptor{}
		if unmarshal(kv.Value, d) == nil && bytes.Equal(d.StartKey, key) {
			return true
		}
	}
	return false
}

// counterValue returns a counter's value in the process's default registry
// (shared by every node of the process).
func counterValue(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			sum := 0.0
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
			return sum
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
