package testcluster

import (
	"bytes"
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/pkg/client"
)

// leaseholderOf returns the index of the node holding the lease of the
// range containing the KV key k, or -1.
func leaseholderOf(ctx context.Context, c *Cluster, k []byte) int {
	key := keys.KVKey(k)
	for i, s := range c.Nodes {
		if s == nil {
			continue
		}
		conn, err := grpc.NewClient(s.RPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			continue
		}
		resp, err := kvpb.NewAdminClient(conn).Ranges(ctx, &kvpb.RangesRequest{})
		conn.Close()
		if err != nil {
			continue
		}
		for _, r := range resp.Ranges {
			d := r.Desc
			if r.Leaseholder && bytes.Compare(d.StartKey, key) <= 0 && (len(d.EndKey) == 0 || bytes.Compare(key, d.EndKey) < 0) {
				return i
			}
		}
	}
	return -1
}

// TestClientRoutesToLeaseholder: a client dialed to a node that is not the
// leaseholder learns from the forwarding node's hint where the range is
// served and sends its requests there directly, so that they keep working
// after the dialed node is stopped; a client with routing off cannot.
func TestClientRoutesToLeaseholder(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	c := Start(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c.WaitFor("every range to have 3 voters", 30*time.Second, func() bool { return everyRange(ctx, c.Nodes[0], 3) })
	k := []byte("routed")
	// Pick a dialed node that is not the leaseholder, and make sure the
	// lease did not move while the client learned where it is (the
	// placement driver spreads leases after up-replicating).
	var routed, plain *client.Client
	dialed := -1
	c.WaitFor("a put through a follower while the lease stays put", 30*time.Second, func() bool {
		lh := leaseholderOf(ctx, c, k)
		if lh < 0 {
			return false
		}
		if routed != nil {
			routed.Close()
			plain.Close()
		}
		dialed = (lh + 1) % 3
		var err error
		if routed, err = client.Dial(c.Nodes[dialed].RPCAddr(), client.WithInsecure()); err != nil {
			t.Fatal(err)
		}
		if plain, err = client.Dial(c.Nodes[dialed].RPCAddr(), client.WithInsecure(), client.WithRouting(false)); err != nil {
			t.Fatal(err)
		}
		if err := routed.Put(ctx, k, []byte("v1")); err != nil {
			t.Fatal(err)
		}
		if err := plain.Put(ctx, []byte("plain"), []byte("v")); err != nil {
			t.Fatal(err)
		}
		return leaseholderOf(ctx, c, k) == lh
	})
	defer routed.Close()
	defer plain.Close()

	// Stop the dialed node (a follower: the range keeps its quorum). The
	// routed client learned the leaseholder from the put's hint and reads
	// from it (a first read may still fail while its connection comes up).
	c.StopNode(dialed)
	c.WaitFor("a routed read after the dialed node stopped", 10*time.Second, func() bool {
		v, found, err := routed.Get(ctx, k)
		if err == nil && (!found || string(v) != "v1") {
			t.Fatalf("routed get: %q %v", v, found)
		}
		return err == nil
	})
	if err := routed.Put(ctx, k, []byte("v2")); err != nil {
		t.Fatalf("routed put after the dialed node stopped: %v", err)
	}
	// A transaction is coordinated by the leaseholder of its first key
	// (Begin needs the oracle, whose range may have lost its leader with
	// the stopped node: Client.Txn retries until it is back).
	var got []byte
	tctx, tcancel := context.WithTimeout(ctx, 30*time.Second)
	defer tcancel()
	if _, err := routed.Txn(tctx, func(ctx context.Context, txn *client.Txn) error {
		vals, _, err := txn.GetMany(ctx, k)
		if err != nil {
			return err
		}
		got = vals[0]
		return txn.Put(ctx, k, append(vals[0], '+'))
	}); err != nil {
		t.Fatalf("routed transaction after the dialed node stopped: %v", err)
	}
	if string(got) != "v2" {
		t.Fatalf("transaction read %q, want v2", got)
	}
	if v, _, err := routed.Get(ctx, k); err != nil || string(v) != "v2+" {
		t.Fatalf("after the transaction: %q %v", v, err)
	}
	// Without routing, every request goes to the stopped node.
	gctx, gcancel := context.WithTimeout(ctx, 2*time.Second)
	defer gcancel()
	if _, _, err := plain.Get(gctx, k); err == nil {
		t.Fatal("a client without routing read through a stopped node")
	}
}
