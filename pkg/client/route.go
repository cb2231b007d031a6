package client

import (
	"bytes"
	"encoding/hex"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/rpcmux"
)

// routeHeader is the response header a node sends after forwarding a
// request, naming where its range is served (server.RouteHeader).
const routeHeader = "cairn-route"

// Bounds of a client's routing state.
const (
	maxRoutes    = 4096 // cached ranges
	maxNodeConns = 64   // connections to nodes other than the dialed one
	// failedNodeBackoff is how long a node whose connection failed is not
	// routed to again (hints naming it are ignored meanwhile): a node the
	// client cannot reach (a firewall, a certificate without its address)
	// must not cost a new connection per forwarded request.
	failedNodeBackoff = 30 * time.Second
)

// nodeConn is a connection to one node with its service clients. Their
// unary calls share one multiplexed stream (internal/rpcmux), except scans.
type nodeConn struct {
	addr string
	conn *grpc.ClientConn
	mux  *rpcmux.Conn
	kv   kvpb.KVClient
	txn  kvpb.TxnClient
}

func newNodeConn(addr string, conn *grpc.ClientConn) *nodeConn {
	mux := rpcmux.NewConn(conn, maxMessageBytes, muxPolicy)
	return &nodeConn{addr: addr, conn: conn, mux: mux, kv: kvpb.NewKVClient(mux), txn: kvpb.NewTxnClient(mux)}
}

// muxPolicy sends every unary call over the stream but scans: a scan's
// answer may be megabytes, which would hold up the answers behind it.
func muxPolicy(method string, _ any) bool {
	return method != kvpb.KV_Scan_FullMethodName && method != kvpb.Txn_Scan_FullMethodName
}

func (nc *nodeConn) close() {
	nc.mux.Close()
	nc.conn.Close()
}

// route is one cached range: [start, end) (nil end: unbounded) served by
// the node at addr.
type route struct {
	start, end []byte
	addr       string
}

// router sends each request to the node that holds the lease of its key's
// range, learned from the hints nodes attach to forwarded requests (see
// docs/design/cluster.md, "Client routing"). Requests with no known range,
// or whose node is not connected, go to the dialed node, which forwards
// them: routing only saves a hop, it is never needed for correctness.
type router struct {
	enabled  bool // WithRouting
	dialed   *nodeConn
	dialAddr string
	dial     func(addr string) (*grpc.ClientConn, error)

	mu     sync.RWMutex
	routes []route // sorted by start, disjoint
	conns  map[string]*nodeConn
	failed map[string]time.Time // nodes not routed to until then (bounded by maxNodeConns)
}

func newRouter(enabled bool, addr string, conn *grpc.ClientConn, creds credentials.TransportCredentials, opts []grpc.DialOption) *router {
	return &router{
		enabled:  enabled,
		dialed:   newNodeConn(addr, conn),
		dialAddr: addr,
		dial: func(a string) (*grpc.ClientConn, error) {
			return grpc.NewClient(a, append([]grpc.DialOption{grpc.WithTransportCredentials(creds)}, opts...)...)
		},
		conns:  map[string]*nodeConn{},
		failed: map[string]time.Time{},
	}
}

// forKey returns the connection to send a request for key to: the
// leaseholder's when it is known and connected, else the dialed node's.
func (r *router) forKey(key []byte) *nodeConn {
	if !r.enabled || key == nil {
		return r.dialed
	}
	r.mu.RLock()
	i := sort.Search(len(r.routes), func(i int) bool { return bytes.Compare(r.routes[i].start, key) > 0 }) - 1
	var addr string
	if i >= 0 && (r.routes[i].end == nil || bytes.Compare(key, r.routes[i].end) < 0) {
		addr = r.routes[i].addr
	}
	nc := r.conns[addr]
	r.mu.RUnlock()
	if nc == nil { // no route, the dialed node, or no connection
		return r.dialed
	}
	switch nc.conn.GetState() {
	case connectivity.Ready:
		return nc
	case connectivity.Idle:
		nc.conn.Connect() // used from the next request on
	case connectivity.TransientFailure, connectivity.Shutdown:
		r.forget(addr)
	}
	return r.dialed
}

// learn applies the route hint of a response's header, if any.
func (r *router) learn(md metadata.MD) {
	v := md.Get(routeHeader)
	if !r.enabled || len(v) != 1 {
		return
	}
	f := strings.Split(v[0], " ")
	if len(f) != 3 || f[0] == "" {
		return
	}
	start, err1 := hex.DecodeString(f[1])
	end, err2 := hex.DecodeString(f[2])
	if err1 != nil || err2 != nil || (len(end) > 0 && bytes.Compare(start, end) >= 0) {
		return
	}
	if len(end) == 0 {
		end = nil // unbounded
	}
	r.insert(route{start: start, end: end, addr: f[0]})
}

func (r *router) insert(rt route) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rt.addr != r.dialAddr && r.conns[rt.addr] == nil {
		if len(r.conns) >= maxNodeConns || time.Now().Before(r.failed[rt.addr]) {
			return
		}
		conn, err := r.dial(rt.addr)
		if err != nil {
			return
		}
		conn.Connect()
		r.conns[rt.addr] = newNodeConn(rt.addr, conn)
	}
	if len(r.routes) >= maxRoutes {
		r.routes = nil
	}
	// Drop the cached ranges the new one overlaps (they split, merged or
	// moved), then insert it in order.
	kept := r.routes[:0]
	for _, o := range r.routes {
		if (rt.end == nil || bytes.Compare(o.start, rt.end) < 0) && (o.end == nil || bytes.Compare(rt.start, o.end) < 0) {
			continue
		}
		kept = append(kept, o)
	}
	i := sort.Search(len(kept), func(i int) bool { return bytes.Compare(kept[i].start, rt.start) > 0 })
	kept = append(kept, route{})
	copy(kept[i+1:], kept[i:])
	kept[i] = rt
	r.routes = kept
}

// forget drops the ranges routed to addr and its connection: the node
// failed; requests go to the dialed node until a new hint arrives.
func (r *router) forget(addr string) {
	r.mu.Lock()
	nc := r.conns[addr]
	delete(r.conns, addr)
	if len(r.failed) >= maxNodeConns {
		clear(r.failed)
	}
	r.failed[addr] = time.Now().Add(failedNodeBackoff)
	kept := r.routes[:0]
	for _, o := range r.routes {
		if o.addr != addr {
			kept = append(kept, o)
		}
	}
	clear(r.routes[len(kept):])
	r.routes = kept
	r.mu.Unlock()
	if nc != nil {
		nc.close()
	}
}

func (r *router) close() {
	r.mu.Lock()
	conns := r.conns
	r.conns, r.routes = map[string]*nodeConn{}, nil
	r.mu.Unlock()
	for _, nc := range conns {
		nc.close()
	}
	r.dialed.mux.Close()
}

// call sends one request with f on the connection for key and learns the
// route hint of its response. A request routed to a node other than the
// dialed one that fails because that node is unreachable is sent again to
// the dialed node: always for a read, and for a write only when it
// certainly was not sent (else it is ambiguous, as it would have been
// through the dialed node).
func call[T any](r *router, key []byte, write bool, f func(nc *nodeConn, opt grpc.CallOption) (T, error)) (T, error) {
	nc := r.forKey(key)
	var md metadata.MD
	resp, err := f(nc, grpc.Header(&md))
	if err != nil && nc != r.dialed && status.Code(err) == codes.Unavailable {
		r.forget(nc.addr)
		if !write || kvpb.NotSent(err) {
			md = nil
			resp, err = f(r.dialed, grpc.Header(&md))
		}
	}
	if err == nil {
		r.learn(md)
	}
	return resp, err
}
