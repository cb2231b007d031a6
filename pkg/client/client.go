// Package client is the Go client of Cairn's key-value API: the only public
// Go API of the module. It speaks gRPC to any node.
//
//	c, err := client.Dial("127.0.0.1:7400", client.WithInsecure())
//	err = c.Put(ctx, []byte("k"), []byte("v"))
//	v, found, err := c.Get(ctx, []byte("k"))
//
// Errors: ErrAmbiguous when a write may or may not have been applied (a
// timeout or a lost connection after sending), ErrUnavailable when the
// request was not applied and may be retried, ErrInvalid for requests the
// server rejects as malformed; other errors mean the request failed.
package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/cairndb/cairn/internal/kvpb"
)

var (
	// ErrAmbiguous: the write may or may not have been applied.
	ErrAmbiguous = errors.New("cairn: result is ambiguous")
	// ErrInvalid: the server rejected the request as malformed.
	ErrInvalid = errors.New("cairn: invalid request")
	// ErrUnavailable: the cluster could not serve the request; retry later.
	ErrUnavailable = errors.New("cairn: unavailable")
)

// Option configures Dial.
type Option func(*options)

type options struct {
	tls       *tls.Config
	insecure  bool
	noRouting bool
}

// WithTLS connects with TLS (see security.ClientTLSConfig for certs).
func WithTLS(c *tls.Config) Option { return func(o *options) { o.tls = c } }

// WithInsecure connects in plaintext, to a node started with --insecure.
func WithInsecure() Option { return func(o *options) { o.insecure = true } }

// WithRouting turns leaseholder routing on (the default) or off. On, the
// client sends each request for a key straight to the node that holds the
// lease of the key's range, once a node has told it where that is (a hint
// returned by a node that had to forward a request), and a transaction to
// the leaseholder of its first key. Off, every request goes to the dialed
// node, which forwards what it does not serve itself (one more hop).
func WithRouting(on bool) Option { return func(o *options) { o.noRouting = !on } }

// maxMessageBytes bounds one message to or from a node.
const maxMessageBytes = 64 << 20

// Client is safe for concurrent use.
type Client struct {
	conn   *grpc.ClientConn
	admin  kvpb.AdminClient
	router *router
}

// Dial connects to a node's RPC address. It does not wait for the
// connection: the first request does. Other nodes are connected to as
// they are learned (see WithRouting).
func Dial(addr string, opts ...Option) (*Client, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	var creds credentials.TransportCredentials
	switch {
	case o.tls != nil:
		creds = credentials.NewTLS(o.tls)
	case o.insecure:
		creds = insecure.NewCredentials()
	default:
		return nil, errors.New("cairn: choose WithTLS or WithInsecure")
	}
	dialOpts := []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.MaxCallSendMsgSize(maxMessageBytes))}
	conn, err := grpc.NewClient(addr, append([]grpc.DialOption{grpc.WithTransportCredentials(creds)}, dialOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("cairn: dial %s: %w", addr, err)
	}
	return &Client{conn: conn, admin: kvpb.NewAdminClient(conn), router: newRouter(!o.noRouting, addr, conn, creds, dialOpts)}, nil
}

// Close releases the connections.
func (c *Client) Close() error {
	c.router.close()
	return c.conn.Close()
}

// wrap classifies gRPC errors; write reports whether the call wrote.
func wrap(err error, write bool) error {
	if err == nil {
		return nil
	}
	st := status.Convert(err)
	switch st.Code() {
	case codes.InvalidArgument:
		return fmt.Errorf("%w: %s", ErrInvalid, st.Message())
	case codes.Unknown:
		return fmt.Errorf("%w: %s", ErrAmbiguous, st.Message())
	case codes.DeadlineExceeded, codes.Canceled:
		if write {
			return fmt.Errorf("%w: %s", ErrAmbiguous, st.Message())
		}
	case codes.Aborted:
		// The server knows the request was not applied: retry.
		return fmt.Errorf("%w: %s", ErrUnavailable, st.Message())
	case codes.Unavailable:
		// A write whose connection broke after sending may have been
		// applied; one that never left, or that the node refused unrun,
		// was not.
		if write && !kvpb.NotSent(err) {
			return fmt.Errorf("%w: %s", ErrAmbiguous, st.Message())
		}
		return fmt.Errorf("%w: %s", ErrUnavailable, st.Message())
	}
	return fmt.Errorf("cairn: %s", st.Message())
}

// Get returns the value of key and whether it exists.
func (c *Client) Get(ctx context.Context, key []byte) (value []byte, found bool, err error) {
	resp, err := call(c.router, key, false, func(nc *nodeConn, o grpc.CallOption) (*kvpb.GetResponse, error) {
		return nc.kv.Get(ctx, &kvpb.GetRequest{Key: key}, o)
	})
	if err != nil {
		return nil, false, wrap(err, false)
	}
	return resp.Value, resp.Found, nil
}

// Put writes value under key. It returns once the write is durable on a quorum.
func (c *Client) Put(ctx context.Context, key, value []byte) error {
	_, err := call(c.router, key, true, func(nc *nodeConn, o grpc.CallOption) (*kvpb.PutResponse, error) {
		return nc.kv.Put(ctx, &kvpb.PutRequest{Key: key, Value: value}, o)
	})
	return wrap(err, true)
}

// Delete removes key and reports whether it existed.
func (c *Client) Delete(ctx context.Context, key []byte) (existed bool, err error) {
	resp, err := call(c.router, key, true, func(nc *nodeConn, o grpc.CallOption) (*kvpb.DeleteResponse, error) {
		return nc.kv.Delete(ctx, &kvpb.DeleteRequest{Key: key}, o)
	})
	if err != nil {
		return false, wrap(err, true)
	}
	return resp.Deleted, nil
}

// KeyValue is one scan result.
type KeyValue struct {
	Key, Value []byte
}

// Scan returns up to limit keys of [start, end) in key order (end nil: to the
// end of the keyspace; limit 0: the server default of 1000). more reports
// that the limit cut the result; continue from after the last key.
func (c *Client) Scan(ctx context.Context, start, end []byte, limit int) (kvs []KeyValue, more bool, err error) {
	resp, err := call(c.router, start, false, func(nc *nodeConn, o grpc.CallOption) (*kvpb.ScanResponse, error) {
		return nc.kv.Scan(ctx, &kvpb.ScanRequest{StartKey: start, EndKey: end, Limit: int64(limit)}, o)
	})
	if err != nil {
		return nil, false, wrap(err, false)
	}
	return toKeyValues(resp.Kvs), resp.More, nil
}

func toKeyValues(in []*kvpb.KeyValue) []KeyValue {
	kvs := make([]KeyValue, len(in))
	for i, kv := range in {
		kvs[i] = KeyValue{Key: kv.Key, Value: kv.Value}
	}
	return kvs
}

// CompareAndSet writes newValue under key if its current value equals
// expected; expected nil means "only if the key does not exist". It returns
// whether it wrote, and the current value when it did not.
func (c *Client) CompareAndSet(ctx context.Context, key, expected, newValue []byte) (ok bool, current []byte, err error) {
	req := &kvpb.CompareAndSetRequest{Key: key, ExpectedValue: expected, ExpectAbsent: expected == nil, NewValue: newValue}
	resp, err := call(c.router, key, true, func(nc *nodeConn, o grpc.CallOption) (*kvpb.CompareAndSetResponse, error) {
		return nc.kv.CompareAndSet(ctx, req, o)
	})
	if err != nil {
		return false, nil, wrap(err, true)
	}
	return resp.Succeeded, resp.ActualValue, nil
}

// Op is one operation of a Batch.
type Op struct{ req *kvpb.RequestUnion }

// GetOp reads key.
func GetOp(key []byte) Op {
	return Op{&kvpb.RequestUnion{Value: &kvpb.RequestUnion_Get{Get: &kvpb.GetRequest{Key: key}}}}
}

// PutOp writes value under key.
func PutOp(key, value []byte) Op {
	return Op{&kvpb.RequestUnion{Value: &kvpb.RequestUnion_Put{Put: &kvpb.PutRequest{Key: key, Value: value}}}}
}

// DeleteOp removes key.
func DeleteOp(key []byte) Op {
	return Op{&kvpb.RequestUnion{Value: &kvpb.RequestUnion_Delete{Delete: &kvpb.DeleteRequest{Key: key}}}}
}

// CompareAndSetOp is CompareAndSet inside a batch.
func CompareAndSetOp(key, expected, newValue []byte) Op {
	return Op{&kvpb.RequestUnion{Value: &kvpb.RequestUnion_Cas{Cas: &kvpb.CompareAndSetRequest{
		Key: key, ExpectedValue: expected, ExpectAbsent: expected == nil, NewValue: newValue,
	}}}}
}

// Result is the outcome of one batch operation: Found/Value for gets,
// Found (existed) for deletes, Succeeded/Value (current) for compare-and-set.
type Result struct {
	Found     bool
	Value     []byte
	Succeeded bool
}

// Batch runs ops in order, atomically when all keys fall into one range.
func (c *Client) Batch(ctx context.Context, ops ...Op) ([]Result, error) {
	req := &kvpb.BatchRequest{Requests: make([]*kvpb.RequestUnion, len(ops))}
	write := false
	for i, op := range ops {
		req.Requests[i] = op.req
		write = write || op.req.GetGet() == nil
	}
	resp, err := call(c.router, firstKey(ops), write, func(nc *nodeConn, o grpc.CallOption) (*kvpb.BatchResponse, error) {
		return nc.kv.Batch(ctx, req, o)
	})
	if err != nil {
		return nil, wrap(err, write)
	}
	out := make([]Result, len(resp.Responses))
	for i, r := range resp.Responses {
		switch v := r.Value.(type) {
		case *kvpb.ResponseUnion_Get:
			out[i] = Result{Found: v.Get.Found, Value: v.Get.Value}
		case *kvpb.ResponseUnion_Put:
			out[i] = Result{Succeeded: true}
		case *kvpb.ResponseUnion_Delete:
			out[i] = Result{Found: v.Delete.Deleted, Succeeded: true}
		case *kvpb.ResponseUnion_Cas:
			out[i] = Result{Succeeded: v.Cas.Succeeded, Found: v.Cas.Found, Value: v.Cas.ActualValue}
		}
	}
	return out, nil
}

// firstKey is the key of a batch's first operation (nil if none): the
// batch is sent to its range's leaseholder.
func firstKey(ops []Op) []byte {
	if len(ops) == 0 {
		return nil
	}
	switch v := ops[0].req.Value.(type) {
	case *kvpb.RequestUnion_Get:
		return v.Get.Key
	case *kvpb.RequestUnion_Put:
		return v.Put.Key
	case *kvpb.RequestUnion_Delete:
		return v.Delete.Key
	case *kvpb.RequestUnion_Cas:
		return v.Cas.Key
	}
	return nil
}

// Split splits the range containing key at key (an operator command).
func (c *Client) Split(ctx context.Context, key []byte) (leftRangeID, rightRangeID uint64, err error) {
	resp, err := c.admin.Split(ctx, &kvpb.SplitRequest{Key: key})
	if err != nil {
		return 0, 0, wrap(err, true)
	}
	return resp.Left.RangeId, resp.Right.RangeId, nil
}

// NodeStatus describes a node of the cluster.
type NodeStatus struct {
	NodeID          uint64
	Address         string
	Live            bool
	Ranges, Leases  uint64
	DiskBytes       uint64
	Decommissioning bool
}

// Nodes lists the cluster's nodes as the contacted node sees them.
func (c *Client) Nodes(ctx context.Context) ([]NodeStatus, error) {
	resp, err := c.admin.Nodes(ctx, &kvpb.NodesRequest{})
	if err != nil {
		return nil, wrap(err, false)
	}
	out := make([]NodeStatus, len(resp.Nodes))
	for i, n := range resp.Nodes {
		out[i] = NodeStatus{NodeID: n.NodeId, Address: n.Address, Live: n.Live, Ranges: n.Ranges, Leases: n.Leases,
			DiskBytes: n.DiskBytes, Decommissioning: n.Decommissioning}
	}
	return out, nil
}

// Decommission marks a node for removal: its replicas move to other nodes.
func (c *Client) Decommission(ctx context.Context, nodeID uint64) error {
	_, err := c.admin.Decommission(ctx, &kvpb.DecommissionRequest{NodeId: nodeID})
	return wrap(err, true)
}

// SetSetting changes a cluster setting (replicas, dead_node_timeout,
// range_max_bytes).
func (c *Client) SetSetting(ctx context.Context, name, value string) error {
	_, err := c.admin.SetSetting(ctx, &kvpb.SetSettingRequest{Name: name, Value: value})
	return wrap(err, true)
}

// Settings returns every cluster setting.
func (c *Client) Settings(ctx context.Context) (map[string]string, error) {
	resp, err := c.admin.Settings(ctx, &kvpb.SettingsRequest{})
	if err != nil {
		return nil, wrap(err, false)
	}
	return resp.Settings, nil
}
