package server

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/rpc"
	"github.com/cairndb/cairn/internal/rpcmux"
	"github.com/cairndb/cairn/internal/security"
	"github.com/cairndb/cairn/pkg/client"
)

// With TLS, client certificates reach the KV API but not the node-to-node
// service; node certificates do, and a second node joins over TLS.
func TestInternalServiceIsForNodesOnly(t *testing.T) {
	dir := t.TempDir()
	if err := security.CreateCA(dir, "", false); err != nil {
		t.Fatal(err)
	}
	if err := security.CreateNodeCert(dir, "", []string{"127.0.0.1", "localhost"}, false); err != nil {
		t.Fatal(err)
	}
	if err := security.CreateClientCert(dir, "", "root", false); err != nil {
		t.Fatal(err)
	}
	cfg := Config{InMemory: true, CertsDir: dir, RPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", SQLAddr: "127.0.0.1:0"}
	s := startTestServer(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	clientTLS, err := security.ClientTLSConfig(dir, "root")
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(s.RPCAddr(), client.WithTLS(clientTLS))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Put(ctx, []byte("k"), []byte("v")); err != nil {
		t.Fatalf("a client certificate must reach the KV API: %v", err)
	}

	conn, err := rpc.DialAddress(s.RPCAddr(), clientTLS)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	asClient := kvpb.NewInternalClient(conn)
	_, err = asClient.Send(ctx, &kvpb.RangeRequest{RangeId: keys.MetaRangeID})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("Internal.Send with a client certificate: %v, want PermissionDenied", err)
	}
	if _, err := asClient.Join(ctx, &kvpb.JoinRequest{Address: "127.0.0.1:1"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("Internal.Join with a client certificate: %v, want PermissionDenied", err)
	}
	// Nor over a Mux stream, which a client certificate may open: each
	// call on it is authorized as if made directly.
	mux := rpcmux.NewConn(conn, rpcmux.DefaultMaxRecvBytes, func(string, any) bool { return true })
	defer mux.Close()
	viaMux := kvpb.NewInternalClient(mux)
	if _, err := viaMux.Send(ctx, &kvpb.RangeRequest{RangeId: keys.MetaRangeID}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("Internal.Send over a Mux stream with a client certificate: %v, want PermissionDenied", err)
	}
	if _, err := kvpb.NewKVClient(mux).Get(ctx, &kvpb.GetRequest{Key: []byte("k")}); err != nil {
		t.Fatalf("KV.Get over a Mux stream with a client certificate: %v", err)
	}

	// A node (node certificate) joins over TLS and serves the key.
	cfg2 := cfg
	cfg2.Join = []string{s.RPCAddr()}
	s2 := startTestServer(t, cfg2)
	for {
		r, err := s2.DB().Get(ctx, keys.KVKey([]byte("k")))
		if err == nil && r.Found {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the TLS-joined node cannot read: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
