package testcluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/server"
)

// voters returns the voter count of every range in the meta directory, as
// read through node s.
func voters(ctx context.Context, s *server.Server) (map[uint64]int, error) {
	start, end := keys.RangeDescSpan()
	resp, err := s.DB().Scan(ctx, start, end, 1000)
	if err != nil {
		return nil, err
	}
	out := map[uint64]int{}
	for _, kv := range resp.Kvs {
		d := &kvpb.RangeDescriptor{}
		if err := unmarshal(kv.Value, d); err != nil {
			return nil, err
		}
		for _, r := range d.Replicas {
			if r.Type == kvpb.ReplicaType_VOTER {
				out[d.RangeId]++
			}
		}
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
