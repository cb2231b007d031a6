package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/rpc"
	"github.com/cairndb/cairn/internal/storage"
)

// internalAPI serves node-to-node RPC: range requests, Raft messages, join.
type internalAPI struct {
	kvpb.UnimplementedInternalServer
	s *Server
}

func (a *internalAPI) Send(ctx context.Context, req *kvpb.RangeRequest) (*kvpb.RangeResponse, error) {
	return a.s.store.Send(ctx, req), nil
}

// RaftMessages receives a peer's stream of Raft message batches until the
// peer closes it or this node stops (a peer's stream never ends by itself,
// so a graceful server stop must not wait for it). One goroutine per stream
// receives; the handler delivers.
func (a *internalAPI) RaftMessages(stream kvpb.Internal_RaftMessagesServer) error {
	type recv struct {
		batch *kvpb.RaftMessageBatch
		err   error
	}
	ch := make(chan recv)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			b, err := stream.Recv()
			select {
			case ch <- recv{b, err}:
			case <-done: // the handler returned; the stream is being torn down
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for {
		var r recv
		select {
		case <-a.s.stopper:
			return status.Error(codes.Unavailable, "node stopping")
		case r = <-ch:
		}
		if errors.Is(r.err, io.EOF) {
			return stream.SendAndClose(&kvpb.RaftMessageBatchResponse{})
		}
		if r.err != nil {
			return r.err
		}
		for _, m := range r.batch.Messages {
			if drop := a.s.cfg.DropRaftMessage; drop != nil && drop(m) {
				continue
			}
			// A bad message is dropped (raft retransmits); the stream goes on.
			_ = a.s.store.HandleRaftMessage(stream.Context(), m)
		}
	}
}

// RaftSnapshot receives one streamed snapshot and hands it to its replica.
func (a *internalAPI) RaftSnapshot(stream kvpb.Internal_RaftSnapshotServer) error {
	m, err := rpc.ReceiveSnapshot(stream.Recv)
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	if drop := a.s.cfg.DropRaftMessage; drop != nil && drop(m) {
		return status.Error(codes.Unavailable, "snapshot dropped")
	}
	if err := a.s.store.HandleRaftMessage(stream.Context(), m); err != nil {
		return status.Error(codes.FailedPrecondition, err.Error())
	}
	return stream.SendAndClose(&kvpb.RaftMessageBatchResponse{})
}

// maxRegisteredNodes bounds the node list of a join response.
const maxRegisteredNodes = 10000

func (a *internalAPI) Join(ctx context.Context, req *kvpb.JoinRequest) (*kvpb.JoinResponse, error) {
	if req.Address == "" {
		return nil, status.Error(codes.InvalidArgument, "join: the joining node must give its address")
	}
	db := a.s.db
	id := req.NodeId
	if id == 0 {
		n, err := db.Increment(ctx, keys.NodeIDCounterKey, 1)
		if err != nil {
			return nil, status.Errorf(codes.Unavailable, "join: allocating a node id: %v", err)
		}
		id = uint64(n)
	}
	nd := &kvpb.NodeDescriptor{NodeId: id, Address: req.Address}
	if req.NodeId != 0 {
		// A known node re-registering keeps its other attributes
		// (decommissioning).
		if cur, err := db.Get(ctx, keys.NodeKey(id)); err == nil && cur.Found {
			old := &kvpb.NodeDescriptor{}
			if proto.Unmarshal(cur.Value, old) == nil {
				nd.Decommissioning = old.Decommissioning
			}
		}
	}
	if _, err := db.Put(ctx, keys.NodeKey(id), marshalProto(nd)); err != nil {
		return nil, status.Errorf(codes.Unavailable, "join: registering node %d: %v", id, err)
	}
	a.s.addrs.learn(nd)
	nodes, err := a.s.registeredNodes(ctx)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "join: %v", err)
	}
	return &kvpb.JoinResponse{ClusterId: a.s.ident.ClusterId, NodeId: id, MetaRange: db.MetaDescriptor(), Nodes: nodes}, nil
}

// registeredNodes reads the node registry.
func (s *Server) registeredNodes(ctx context.Context) ([]*kvpb.NodeDescriptor, error) {
	start, end := keys.NodeSpan()
	resp, err := s.db.Scan(ctx, start, end, maxRegisteredNodes)
	if err != nil {
		return nil, fmt.Errorf("reading the node registry: %w", err)
	}
	out := make([]*kvpb.NodeDescriptor, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		nd := &kvpb.NodeDescriptor{}
		if err := proto.Unmarshal(kv.Value, nd); err != nil {
			return nil, fmt.Errorf("corrupt node registry entry: %w", err)
		}
		out = append(out, nd)
	}
	return out, nil
}

// addressBook resolves node ids to RPC addresses: learned at join and from
// the registry, cached.
type addressBook struct {
	s  *Server
	mu sync.Mutex
	m  map[uint64]string
}

func (b *addressBook) learn(nds ...*kvpb.NodeDescriptor) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, nd := range nds {
		if nd.GetAddress() != "" {
			b.m[nd.NodeId] = nd.Address
		}
	}
}

// NodeAddress implements rpc.AddressResolver.
func (b *addressBook) NodeAddress(ctx context.Context, nodeID uint64) (string, error) {
	b.mu.Lock()
	addr, ok := b.m[nodeID]
	b.mu.Unlock()
	if ok {
		return addr, nil
	}
	// Resolving may itself need an address (the registry lives in the meta
	// range, maybe on the node being resolved): never recurse.
	if ctx.Value(resolvingKey{}) != nil || b.s.db == nil {
		return "", fmt.Errorf("node %d: address unknown", nodeID)
	}
	ctx = context.WithValue(ctx, resolvingKey{}, true)
	value, found, err := b.s.readRegistry(ctx, nodeID)
	if err != nil {
		// The registry may be out of reach for want of this very address
		// (the meta leaseholder is the node being resolved): ask the nodes
		// whose addresses are known for theirs.
		if addr, ok := b.askKnownNodes(ctx, nodeID); ok {
			return addr, nil
		}
		return "", err
	}
	if !found {
		return "", fmt.Errorf("node %d is not registered", nodeID)
	}
	nd := &kvpb.NodeDescriptor{}
	if err := proto.Unmarshal(value, nd); err != nil {
		return "", err
	}
	b.learn(nd)
	return nd.Address, nil
}

type resolvingKey struct{}

// askKnownNodes re-registers this node through each node whose address is
// known, until one answers with the registry (a JoinRequest naming this
// node is idempotent and returns every node's address), and learns it.
func (b *addressBook) askKnownNodes(ctx context.Context, nodeID uint64) (string, bool) {
	b.mu.Lock()
	var addrs []string
	for id, a := range b.m {
		if id != b.s.ident.NodeId && id != nodeID {
			addrs = append(addrs, a)
		}
	}
	b.mu.Unlock()
	dial := dialInternal(b.s.clientTLS)
	for _, a := range addrs {
		c, closeConn, err := dial(a)
		if err != nil {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		resp, err := c.Join(cctx, &kvpb.JoinRequest{Address: b.s.RPCAddr(), NodeId: b.s.ident.NodeId})
		cancel()
		closeConn()
		if err != nil {
			continue
		}
		b.learn(resp.Nodes...)
		b.mu.Lock()
		addr, ok := b.m[nodeID]
		b.mu.Unlock()
		if ok {
			return addr, true
		}
	}
	return "", false
}

// readRegistry reads a node's registry entry: from this node's own replica
// of the meta range when it has one (addresses change rarely, and a
// follower's copy is enough to reach a node), else through the cluster.
func (s *Server) readRegistry(ctx context.Context, nodeID uint64) ([]byte, bool, error) {
	if r := s.store.Replica(keys.MetaRangeID); r != nil && len(r.Desc().EndKey) > 0 {
		res, err := storage.MVCCGet(s.eng.Reader(), keys.NodeKey(nodeID), storage.MaxTimestamp)
		if err == nil && res.Found {
			return res.Value, true, nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := s.db.Get(ctx, keys.NodeKey(nodeID))
	if err != nil {
		return nil, false, err
	}
	return resp.Value, resp.Found, nil
}

// remoteAttemptTimeout bounds one request to another node, so a node that
// hangs (paused, partitioned) costs a bounded wait before the next replica.
const remoteAttemptTimeout = 10 * time.Second

// sendRemote implements kv.RemoteSender over the node pool.
func (s *Server) sendRemote(ctx context.Context, nodeID uint64, req *kvpb.RangeRequest) (*kvpb.RangeResponse, error) {
	c, err := s.pool.Internal(ctx, nodeID)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", kv.ErrNotSent, err)
	}
	ctx, cancel := context.WithTimeout(ctx, remoteAttemptTimeout)
	defer cancel()
	resp, err := c.Send(ctx, req)
	if err != nil {
		if kvpb.NotSent(err) { // the request never left this node
			return nil, fmt.Errorf("%w: node %d: %v", kv.ErrNotSent, nodeID, status.Convert(err).Message())
		}
		return nil, fmt.Errorf("node %d: %w", nodeID, err)
	}
	return resp, nil
}

// joinCluster asks the nodes at addrs, in turn, to admit this node (or to
// re-register it after a restart), retrying for up to joinTimeout.
func joinCluster(ctx context.Context, addrs []string, self string, nodeID uint64, dial func(string) (kvpb.InternalClient, func(), error)) (*kvpb.JoinResponse, error) {
	deadline := time.Now().Add(joinTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		for _, addr := range addrs {
			c, closeConn, err := dial(addr)
			if err != nil {
				lastErr = err
				continue
			}
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			resp, err := c.Join(cctx, &kvpb.JoinRequest{Address: self, NodeId: nodeID})
			cancel()
			closeConn()
			if err == nil {
				return resp, nil
			}
			lastErr = fmt.Errorf("%s: %v", addr, status.Convert(err).Message())
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return nil, fmt.Errorf("could not join the cluster through %s: %v", strings.Join(addrs, ","), lastErr)
}

// joinTimeout bounds how long a new node tries to reach the cluster.
const joinTimeout = 60 * time.Second

func dialInternal(clientTLS *tls.Config) func(string) (kvpb.InternalClient, func(), error) {
	return func(addr string) (kvpb.InternalClient, func(), error) {
		conn, err := rpc.DialAddress(addr, clientTLS)
		if err != nil {
			return nil, nil, err
		}
		return kvpb.NewInternalClient(conn), func() { conn.Close() }, nil
	}
}

func marshalProto(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}
