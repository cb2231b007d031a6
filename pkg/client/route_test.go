package client

import (
	"encoding/hex"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func testRouter(t *testing.T) *router {
	t.Helper()
	dialAddr := closedAddr(t)
	creds := insecure.NewCredentials()
	conn, err := grpc.NewClient(dialAddr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	r := newRouter(true, dialAddr, conn, creds, nil)
	t.Cleanup(func() { r.close(); conn.Close() })
	return r
}

func hint(addr, start, end string) metadata.MD {
	return metadata.Pairs(routeHeader, addr+" "+hex.EncodeToString([]byte(start))+" "+hex.EncodeToString([]byte(end)))
}

func routeOf(r *router, key string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, rt := range r.routes {
		if rt.start != nil && string(rt.start) > key {
			continue
		}
		if rt.end == nil || key < string(rt.end) {
			return rt.addr
		}
	}
	return ""
}

// TestRouterRanges: hints replace the cached ranges they overlap, keys are
// found in the right range, and malformed hints are ignored.
func TestRouterRanges(t *testing.T) {
	r := testRouter(t)
	x, y, z := closedAddr(t), r.dialAddr, closedAddr(t)
	r.learn(hint(x, "a", "c"))
	r.learn(hint(y, "c", ""))
	for key, want := range map[string]string{"": "", "a": x, "b": x, "c": y, "zz": y} {
		if got := routeOf(r, key); got != want {
			t.Errorf("key %q: routed to %q, want %q", key, got, want)
		}
	}
	r.learn(hint(z, "b", "d")) // a split and a move: overlaps both
	for key, want := range map[string]string{"a": "", "b": z, "c": z, "d": ""} {
		if got := routeOf(r, key); got != want {
			t.Errorf("after the overlap, key %q: routed to %q, want %q", key, got, want)
		}
	}
	for _, bad := range []metadata.MD{
		metadata.Pairs(routeHeader, "only-an-address"),
		metadata.Pairs(routeHeader, x+" zz 00"),
		metadata.Pairs(routeHeader, x+" 62 61"), // start after end
		metadata.Pairs(routeHeader, " 61 62"),
	} {
		before := len(r.routes)
		r.learn(bad)
		if len(r.routes) != before {
			t.Errorf("hint %v was applied", bad)
		}
	}
	// A key routed to the dialed node uses the dialed connection.
	if nc := r.forKey([]byte("zz")); nc != r.dialed {
		t.Error("a key of no known range did not use the dialed node")
	}
}

// TestRouterUnreachableNode: a node the client cannot connect to is not
// used, and hints naming it are ignored for a while instead of dialing it
// again for every forwarded request.
func TestRouterUnreachableNode(t *testing.T) {
	r := testRouter(t)
	bad := closedAddr(t)
	r.learn(hint(bad, "", ""))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if nc := r.forKey([]byte("k")); nc != r.dialed {
			t.Fatal("routed to a node whose connection is not ready")
		}
		r.mu.RLock()
		_, connected := r.conns[bad]
		r.mu.RUnlock()
		if !connected {
			break // its connection failed and was dropped
		}
		if time.Now().After(deadline) {
			t.Fatal("the failed connection was never dropped")
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.learn(hint(bad, "", ""))
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.conns) != 0 || len(r.routes) != 0 {
		t.Fatalf("a hint to a node that just failed was applied: %d conns, %d routes", len(r.conns), len(r.routes))
	}
}
