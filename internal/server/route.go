package server

import (
	"bytes"
	"context"
	"encoding/hex"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/rpcmux"
)

// RouteHeader is the gRPC response header with which a node that forwarded
// a request tells the client where the request's range is served, so that a
// routing client (pkg/client) sends the next request for that range there
// directly and saves the forwarding hop: "ADDR START END", the leaseholder's
// RPC address and the range's bounds as hex user keys (empty: unbounded).
// It is sent only when the request was served by exactly one range on
// another node. A hint is advice: a node that is no longer the leaseholder
// forwards the request (and sends a newer hint).
const RouteHeader = "cairn-route"

// routeHints attaches RouteHeader to the responses of the client APIs (KV
// and Txn), as a unary interceptor.
type routeHints struct {
	self uint64
	// addr returns a node's RPC address when it is known without a lookup.
	addr func(nodeID uint64) (string, bool)
}

var routedPrefixes = [...]string{"/" + kvpb.KV_ServiceDesc.ServiceName + "/", "/" + kvpb.Txn_ServiceDesc.ServiceName + "/"}

// unary runs a KV or Txn call under a context in which kv records where
// its range requests are served, and on success sends the hint.
func (h routeHints) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if !strings.HasPrefix(info.FullMethod, routedPrefixes[0]) && !strings.HasPrefix(info.FullMethod, routedPrefixes[1]) {
		return handler(ctx, req)
	}
	r := &kv.Route{}
	ctx = kv.WithRoute(ctx, r)
	resp, err := handler(ctx, req)
	if err == nil {
		h.send(ctx, r)
	}
	return resp, err
}

// send sets the header when r's requests were served by one range on
// another node. Errors are ignored: a hint is an optimization.
func (h routeHints) send(ctx context.Context, r *kv.Route) {
	desc, node, ok := r.Single()
	if !ok || node == h.self {
		return
	}
	addr, ok := h.addr(node)
	if !ok {
		return
	}
	start, end, ok := userBounds(desc.StartKey, desc.EndKey)
	if !ok {
		return
	}
	_ = rpcmux.SetHeader(ctx, metadata.Pairs(RouteHeader, addr+" "+hex.EncodeToString(start)+" "+hex.EncodeToString(end)))
}

// userBounds maps a range's bounds into user keys of the KV namespace
// (nil: unbounded); ok is false when the range holds no KV key.
func userBounds(start, end []byte) (us, ue []byte, ok bool) {
	if bytes.Compare(start, keys.KVPrefixEnd) >= 0 || (len(end) > 0 && bytes.Compare(end, keys.KVPrefix) <= 0) {
		return nil, nil, false
	}
	if bytes.Compare(start, keys.KVPrefix) > 0 {
		us, _ = keys.UserKey(start)
	}
	if len(end) > 0 && bytes.Compare(end, keys.KVPrefixEnd) < 0 {
		ue, _ = keys.UserKey(end)
	}
	return us, ue, true
}
