package rpc

import (
	"context"
	"crypto/tls"
	"fmt"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/rpcmux"
)

// AddressResolver finds a node's RPC address (the node registry).
type AddressResolver interface {
	NodeAddress(ctx context.Context, nodeID uint64) (string, error)
}

// Pool keeps one gRPC connection per node.
type Pool struct {
	tls      *tls.Config // nil: plaintext
	resolver AddressResolver

	mu struct {
		sync.Mutex
		conns map[uint64]*grpc.ClientConn
		muxes map[uint64]*rpcmux.Conn // each conn's multiplexed calls
		addrs map[uint64]string
	}
}

// MaxMessageBytes bounds one gRPC message between nodes.
const MaxMessageBytes = 64 << 20

// NewPool returns a pool dialing with tlsCfg (nil for an insecure cluster).
func NewPool(tlsCfg *tls.Config, resolver AddressResolver) *Pool {
	p := &Pool{tls: tlsCfg, resolver: resolver}
	p.mu.conns = make(map[uint64]*grpc.ClientConn)
	p.mu.muxes = make(map[uint64]*rpcmux.Conn)
	p.mu.addrs = make(map[uint64]string)
	return p
}

// DialAddress opens a connection to an address (used before node ids are
// known, to join). The caller closes it.
func DialAddress(addr string, tlsCfg *tls.Config) (*grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if tlsCfg != nil {
		creds = credentials.NewTLS(tlsCfg)
	}
	return grpc.NewClient(addr, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageBytes), grpc.MaxCallSendMsgSize(MaxMessageBytes)))
}

// Conn returns the connection to a node, dialing it if needed.
func (p *Pool) Conn(ctx context.Context, nodeID uint64) (*grpc.ClientConn, error) {
	c, _, err := p.conn(ctx, nodeID)
	return c, err
}

func (p *Pool) conn(ctx context.Context, nodeID uint64) (*grpc.ClientConn, *rpcmux.Conn, error) {
	p.mu.Lock()
	c, m := p.mu.conns[nodeID], p.mu.muxes[nodeID]
	p.mu.Unlock()
	if c != nil {
		return c, m, nil
	}
	addr, err := p.resolver.NodeAddress(ctx, nodeID)
	if err != nil {
		return nil, nil, fmt.Errorf("rpc: address of node %d: %w", nodeID, err)
	}
	c, err = DialAddress(addr, p.tls)
	if err != nil {
		return nil, nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if old := p.mu.conns[nodeID]; old != nil {
		c.Close()
		return old, p.mu.muxes[nodeID], nil
	}
	m = rpcmux.NewConn(c, MaxMessageBytes, muxPolicy)
	p.mu.conns[nodeID], p.mu.muxes[nodeID], p.mu.addrs[nodeID] = c, m, addr
	return c, m, nil
}

// muxPolicy sends a node's range requests over the connection's Mux
// stream (internal/rpcmux), unless they scan: a scan's answer may be
// megabytes, which would hold up the answers behind it. Raft messages and
// snapshots have streams of their own.
func muxPolicy(method string, req any) bool {
	if method != kvpb.Internal_Send_FullMethodName {
		return false
	}
	rr, ok := req.(*kvpb.RangeRequest)
	if !ok {
		return false
	}
	for _, r := range rr.Requests {
		if r.GetScan() != nil {
			return false
		}
	}
	return true
}

// Forget drops a node's connection (its address may have changed).
func (p *Pool) Forget(nodeID uint64) {
	p.mu.Lock()
	c, m := p.mu.conns[nodeID], p.mu.muxes[nodeID]
	delete(p.mu.conns, nodeID)
	delete(p.mu.muxes, nodeID)
	delete(p.mu.addrs, nodeID)
	p.mu.Unlock()
	if c != nil {
		m.Close()
		c.Close()
	}
}

// Internal returns the Internal service client of a node. Its range
// requests share one stream (see muxPolicy).
func (p *Pool) Internal(ctx context.Context, nodeID uint64) (kvpb.InternalClient, error) {
	_, m, err := p.conn(ctx, nodeID)
	if err != nil {
		return nil, err
	}
	return kvpb.NewInternalClient(m), nil
}

// Close closes every connection.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, c := range p.mu.conns {
		p.mu.muxes[id].Close()
		c.Close()
		delete(p.mu.conns, id)
		delete(p.mu.muxes, id)
	}
}

// Address returns the address a node was dialed at, if the pool has a
// connection to it.
func (p *Pool) Address(nodeID uint64) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.mu.addrs[nodeID]
	return a, ok
}
