package server

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/cairndb/cairn/internal/security"
)

// internalMethodPrefix names the node-to-node service: only nodes may call it.
const internalMethodPrefix = "/cairn.kvpb.Internal/"

// requireNodeForInternal rejects calls to the Internal service unless the
// peer presented a node certificate. Client certificates reach the KV and
// Admin services only: a client must never be able to inject Raft messages
// or range requests below the KV API's validation. (Insecure clusters have
// no identities to check.)
func requireNodeForInternal(ctx context.Context, method string) error {
	if !strings.HasPrefix(method, internalMethodPrefix) {
		return nil
	}
	p, ok := peer.FromContext(ctx)
	if !ok {
		return status.Error(codes.Unauthenticated, "no peer")
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return status.Error(codes.Unauthenticated, "node-to-node RPC requires TLS")
	}
	if user, ok := security.PeerUser(info.State); !ok || user != security.NodeUser {
		return status.Errorf(codes.PermissionDenied, "%s is for nodes only (peer is %q)", method, user)
	}
	return nil
}

func nodeAuthUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := requireNodeForInternal(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func nodeAuthStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := requireNodeForInternal(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return handler(srv, ss)
}
