package rpcmux

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"

	"github.com/cairndb/cairn/internal/kvpb"
)

// waitTimeout bounds every wait for a condition; it is a failure bound,
// never an expectation of how long something takes.
const waitTimeout = 20 * time.Second

// pathKey is the context key under which the recording interceptors note
// which path (pathDirect or pathMux) a call took on the server.
type pathKey struct{}

const (
	pathDirect = "direct"
	pathMux    = "mux"
)

func pathOf(ctx context.Context) string {
	p, _ := ctx.Value(pathKey{}).(string)
	return p
}

// handlerFunc serves one call of the fake Txn service. A nil response with
// a nil error means "answer with the default echo".
type handlerFunc func(ctx context.Context, method string, req proto.Message) (proto.Message, error)

// fakeTxn is a Txn server whose behaviour the test sets (before the server
// starts, so that no synchronization is needed) and that otherwise echoes
// its requests.
type fakeTxn struct {
	kvpb.UnimplementedTxnServer
	fn handlerFunc
}

// echo is the default answer of each method: derived from the request so
// that a caller can tell its answer from another caller's.
func echo(method string, req proto.Message) proto.Message {
	switch r := req.(type) {
	case *kvpb.TxnBeginRequest:
		return &kvpb.TxnBeginResponse{TxnId: r.IdempotencyKey, StartTs: uint64(len(r.IdempotencyKey))}
	case *kvpb.TxnGetRequest:
		return &kvpb.GetResponse{Found: true, Value: append([]byte(r.TxnId+"/"), r.Key...)}
	case *kvpb.TxnScanRequest:
		return &kvpb.ScanResponse{ResumeKey: []byte(r.TxnId)}
	case *kvpb.TxnPutRequest, *kvpb.TxnDeleteRequest:
		return &kvpb.TxnWriteResponse{}
	case *kvpb.TxnCommitRequest:
		return &kvpb.TxnCommitResponse{CommitTs: uint64(len(r.TxnId))}
	case *kvpb.TxnRollbackRequest:
		return &kvpb.TxnRollbackResponse{}
	}
	panic(fmt.Sprintf("echo: unexpected %s request %T", method, req))
}

func serveFake[Resp proto.Message](f *fakeTxn, ctx context.Context, method string, req proto.Message) (Resp, error) {
	var zero Resp
	var resp proto.Message
	var err error
	if f.fn != nil {
		resp, err = f.fn(ctx, method, req)
	}
	if err != nil {
		return zero, err
	}
	if resp == nil {
		resp = echo(method, req)
	}
	return resp.(Resp), nil
}

func (f *fakeTxn) Begin(ctx context.Context, req *kvpb.TxnBeginRequest) (*kvpb.TxnBeginResponse, error) {
	return serveFake[*kvpb.TxnBeginResponse](f, ctx, kvpb.Txn_Begin_FullMethodName, req)
}

func (f *fakeTxn) Get(ctx context.Context, req *kvpb.TxnGetRequest) (*kvpb.GetResponse, error) {
	return serveFake[*kvpb.GetResponse](f, ctx, kvpb.Txn_Get_FullMethodName, req)
}

func (f *fakeTxn) Scan(ctx context.Context, req *kvpb.TxnScanRequest) (*kvpb.ScanResponse, error) {
	return serveFake[*kvpb.ScanResponse](f, ctx, kvpb.Txn_Scan_FullMethodName, req)
}

func (f *fakeTxn) Put(ctx context.Context, req *kvpb.TxnPutRequest) (*kvpb.TxnWriteResponse, error) {
	return serveFake[*kvpb.TxnWriteResponse](f, ctx, kvpb.Txn_Put_FullMethodName, req)
}

func (f *fakeTxn) Commit(ctx context.Context, req *kvpb.TxnCommitRequest) (*kvpb.TxnCommitResponse, error) {
	return serveFake[*kvpb.TxnCommitResponse](f, ctx, kvpb.Txn_Commit_FullMethodName, req)
}

func (f *fakeTxn) Rollback(ctx context.Context, req *kvpb.TxnRollbackRequest) (*kvpb.TxnRollbackResponse, error) {
	return serveFake[*kvpb.TxnRollbackResponse](f, ctx, kvpb.Txn_Rollback_FullMethodName, req)
}

// envConfig describes a test's server and client.
type envConfig struct {
	handler handlerFunc
	// noMux: the server has no Mux service (an older node).
	noMux bool
	// muxInterceptors run for multiplexed calls after the path recorder.
	muxInterceptors []grpc.UnaryServerInterceptor
	// policy of the Conn; nil: everything but Txn/Scan goes over the stream.
	policy Policy
}

// env is a gRPC server on 127.0.0.1 serving the fake Txn service directly
// and over Mux, and a client connection to it.
type env struct {
	tb   testing.TB
	cfg  envConfig
	fake *fakeTxn
	addr string

	srv       *grpc.Server
	mux       *Server // nil without the Mux service
	serveDone chan struct{}

	cc     *grpc.ClientConn
	conn   *Conn
	txn    kvpb.TxnClient // over conn
	direct kvpb.TxnClient // over cc

	directCalls, muxCalls atomic.Int64 // calls that reached the interceptors
}

func defaultPolicy(method string, _ any) bool { return method != kvpb.Txn_Scan_FullMethodName }

func newEnv(tb testing.TB, cfg envConfig) *env {
	tb.Helper()
	e := &env{tb: tb, cfg: cfg, fake: &fakeTxn{fn: cfg.handler}}
	if err := e.startServer("127.0.0.1:0"); err != nil {
		tb.Fatal(err)
	}
	cc, err := grpc.NewClient("passthrough:///"+e.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	e.cc = cc
	policy := cfg.policy
	if policy == nil {
		policy = defaultPolicy
	}
	e.conn = NewConn(cc, DefaultMaxRecvBytes, policy)
	e.txn = kvpb.NewTxnClient(e.conn)
	e.direct = kvpb.NewTxnClient(cc)
	tb.Cleanup(e.close)
	return e
}

// record counts the calls that take path and notes it in their context.
func (e *env) record(path string) grpc.UnaryServerInterceptor {
	n := &e.directCalls
	if path == pathMux {
		n = &e.muxCalls
	}
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		n.Add(1)
		return handler(context.WithValue(ctx, pathKey{}, path), req)
	}
}

// startServer serves on addr (e.addr is set to the bound address).
func (e *env) startServer(addr string) error {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	e.addr = lis.Addr().String()
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(e.record(pathDirect)))
	kvpb.RegisterTxnServer(srv, e.fake)
	if !e.cfg.noMux {
		ics := append([]grpc.UnaryServerInterceptor{e.record(pathMux)}, e.cfg.muxInterceptors...)
		e.mux = NewServer(ics, Service{Desc: &kvpb.Txn_ServiceDesc, Impl: e.fake})
		kvpb.RegisterMuxServer(srv, e.mux)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
	e.srv, e.serveDone = srv, done
	return nil
}

// stopServer stops the server at once (connections and calls are cut).
func (e *env) stopServer() {
	if e.mux != nil {
		e.mux.Stop() // its workers
	}
	if e.srv == nil {
		return
	}
	e.srv.Stop()
	<-e.serveDone
	e.srv = nil
}

// stopDuringCommit starts a commit, waits for its handler to signal
// started, then stops the Mux server and begins the gRPC server's
// GracefulStop: the commit's outcome and GracefulStop's return arrive on
// the channels.
func (e *env) stopDuringCommit(t *testing.T, started <-chan struct{}) (commitErr <-chan error, stopped <-chan struct{}) {
	errc := make(chan error, 1)
	go func() {
		_, err := e.txn.Commit(testCtx(t), &kvpb.TxnCommitRequest{TxnId: "t"})
		errc <- err
	}()
	recv(t, started, "the commit to start")
	e.mux.Stop()
	done := make(chan struct{})
	srv := e.srv
	go func() {
		srv.GracefulStop()
		close(done)
	}()
	return errc, done
}

func (e *env) close() {
	e.conn.Close()
	_ = e.cc.Close()
	e.stopServer()
}

// ctx returns a context bounded by waitTimeout (a failure bound).
func testCtx(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	tb.Cleanup(cancel)
	return ctx
}

// recv waits for a value on ch, failing the test after waitTimeout.
func recv[T any](tb testing.TB, ch <-chan T, what string) T {
	tb.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		tb.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func wantCode(t *testing.T, err error, code codes.Code) {
	t.Helper()
	if got := status.Code(err); got != code {
		t.Fatalf("got error %v (code %v), want code %v", err, got, code)
	}
}

// blockUntilCancelled returns a handler for method that reports that it
// started, then blocks until its ctx ends and reports ctx.Err().
func blockUntilCancelled(method string, started chan<- struct{}, ended chan<- error) handlerFunc {
	return func(ctx context.Context, m string, _ proto.Message) (proto.Message, error) {
		if m != method {
			return nil, nil
		}
		started <- struct{}{}
		<-ctx.Done()
		ended <- ctx.Err()
		return nil, ctx.Err()
	}
}

// TestConcurrentCalls: concurrent callers on one stream each get their own
// answer.
func TestConcurrentCalls(t *testing.T) {
	e := newEnv(t, envConfig{})
	const goroutines, calls = 64, 50
	ctx := testCtx(t)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range calls {
				key := fmt.Sprintf("g%d-c%d", g, i)
				if i%2 == 0 {
					resp, err := e.txn.Begin(ctx, &kvpb.TxnBeginRequest{IdempotencyKey: key})
					if err != nil {
						t.Errorf("Begin %s: %v", key, err)
						return
					}
					if resp.TxnId != key || resp.StartTs != uint64(len(key)) {
						t.Errorf("Begin %s: got the answer %v", key, resp)
						return
					}
				} else {
					resp, err := e.txn.Get(ctx, &kvpb.TxnGetRequest{TxnId: key, Key: []byte{byte(g), byte(i)}})
					if err != nil {
						t.Errorf("Get %s: %v", key, err)
						return
					}
					if want := append([]byte(key+"/"), byte(g), byte(i)); !resp.Found || string(resp.Value) != string(want) {
						t.Errorf("Get %s: got the answer %v", key, resp)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if got, want := e.muxCalls.Load(), int64(goroutines*calls); got != want {
		t.Errorf("%d calls over the stream, want %d", got, want)
	}
	if got := e.directCalls.Load(); got != 0 {
		t.Errorf("%d direct calls, want 0", got)
	}
}

// TestErrorStatusDetails: a handler's status (code, message, details)
// reaches the caller as it would on a direct call.
func TestErrorStatusDetails(t *testing.T) {
	detail := &kvpb.Error{
		Message: "m",
		Detail:  &kvpb.Error_TxnRetry{TxnRetry: &kvpb.TxnRetry{Reason: kvpb.TxnRetry_READ_INVALIDATED, Key: []byte("k")}},
	}
	e := newEnv(t, envConfig{handler: func(ctx context.Context, method string, req proto.Message) (proto.Message, error) {
		switch method {
		case kvpb.Txn_Commit_FullMethodName:
			st, err := status.New(codes.Aborted, "x: write conflict").WithDetails(protoadapt.MessageV1Of(detail))
			if err != nil {
				return nil, err
			}
			return nil, st.Err()
		case kvpb.Txn_Get_FullMethodName:
			return nil, errors.New("plain error")
		}
		return nil, nil
	}})
	ctx := testCtx(t)

	_, muxErr := e.txn.Commit(ctx, &kvpb.TxnCommitRequest{TxnId: "t"})
	_, directErr := e.direct.Commit(ctx, &kvpb.TxnCommitRequest{TxnId: "t"})
	if e.muxCalls.Load() != 1 || e.directCalls.Load() != 1 {
		t.Fatalf("calls: %d over the stream, %d direct; want 1 and 1", e.muxCalls.Load(), e.directCalls.Load())
	}
	for _, err := range []error{muxErr, directErr} {
		st, ok := status.FromError(err)
		if !ok {
			t.Fatalf("%v is not a gRPC status", err)
		}
		if st.Code() != codes.Aborted || st.Message() != "x: write conflict" {
			t.Fatalf("got %v, want Aborted \"x: write conflict\"", err)
		}
		details := st.Details()
		if len(details) != 1 {
			t.Fatalf("got details %v, want one", details)
		}
		got, ok := details[0].(*kvpb.Error)
		if !ok {
			t.Fatalf("got a detail of type %T (%v), want *kvpb.Error", details[0], details[0])
		}
		if !proto.Equal(got, detail) {
			t.Fatalf("got the detail %v, want %v", got, detail)
		}
	}
	if !proto.Equal(status.Convert(muxErr).Proto(), status.Convert(directErr).Proto()) {
		t.Errorf("over the stream: %v; directly: %v", status.Convert(muxErr).Proto(), status.Convert(directErr).Proto())
	}

	// An error without a status is Unknown with its text, either way.
	_, muxErr = e.txn.Get(ctx, &kvpb.TxnGetRequest{})
	_, directErr = e.direct.Get(ctx, &kvpb.TxnGetRequest{})
	for _, err := range []error{muxErr, directErr} {
		if st := status.Convert(err); st.Code() != codes.Unknown || st.Message() != "plain error" {
			t.Errorf("got %v, want Unknown \"plain error\"", err)
		}
	}
}

// TestContextErrorStatus: a handler that returns a bare context error gets
// the matching code, as the gRPC server gives a direct call.
func TestContextErrorStatus(t *testing.T) {
	e := newEnv(t, envConfig{handler: func(ctx context.Context, method string, req proto.Message) (proto.Message, error) {
		switch method {
		case kvpb.Txn_Get_FullMethodName:
			return nil, fmt.Errorf("waiting for a lock: %w", context.DeadlineExceeded)
		case kvpb.Txn_Put_FullMethodName:
			return nil, context.Canceled
		}
		return nil, nil
	}})
	ctx := testCtx(t)
	_, muxErr := e.txn.Get(ctx, &kvpb.TxnGetRequest{})
	_, directErr := e.direct.Get(ctx, &kvpb.TxnGetRequest{})
	if status.Code(directErr) != codes.DeadlineExceeded || status.Code(muxErr) != status.Code(directErr) {
		t.Errorf("a wrapped context.DeadlineExceeded: over the stream %v, directly %v", muxErr, directErr)
	}
	_, muxErr = e.txn.Put(ctx, &kvpb.TxnPutRequest{})
	_, directErr = e.direct.Put(ctx, &kvpb.TxnPutRequest{})
	if status.Code(directErr) != codes.Canceled || status.Code(muxErr) != status.Code(directErr) {
		t.Errorf("context.Canceled: over the stream %v, directly %v", muxErr, directErr)
	}
	if e.muxCalls.Load() != 2 {
		t.Errorf("%d calls over the stream, want 2", e.muxCalls.Load())
	}
}

// TestHeaders: headers set with SetHeader reach grpc.Header, over the
// stream and directly.
func TestHeaders(t *testing.T) {
	e := newEnv(t, envConfig{handler: func(ctx context.Context, method string, req proto.Message) (proto.Message, error) {
		if method != kvpb.Txn_Get_FullMethodName {
			return nil, nil
		}
		if err := SetHeader(ctx, metadata.Pairs("x-route", "n2 61 62", "x-bin", "\x00\x01\xff")); err != nil {
			return nil, err
		}
		if err := SetHeader(ctx, metadata.Pairs("x-route", "second", "x-path", pathOf(ctx))); err != nil {
			return nil, err
		}
		return nil, nil
	}})
	ctx := testCtx(t)
	check := func(md metadata.MD, path string) {
		t.Helper()
		if got, want := md.Get("x-route"), []string{"n2 61 62", "second"}; !slices.Equal(got, want) {
			t.Errorf("%s: x-route %q, want %q (headers %v)", path, got, want, md)
		}
		if got, want := md.Get("x-bin"), []string{"\x00\x01\xff"}; !slices.Equal(got, want) {
			t.Errorf("%s: x-bin %q, want %q", path, got, want)
		}
		if got, want := md.Get("x-path"), []string{path}; !slices.Equal(got, want) {
			t.Errorf("%s: x-path %q, want %q", path, got, want)
		}
	}

	var md metadata.MD
	if _, err := e.txn.Get(ctx, &kvpb.TxnGetRequest{}, grpc.Header(&md)); err != nil {
		t.Fatal(err)
	}
	check(md, pathMux)

	md = nil
	if _, err := e.direct.Get(ctx, &kvpb.TxnGetRequest{}, grpc.Header(&md)); err != nil {
		t.Fatal(err)
	}
	check(md, pathDirect)

	// A call without headers leaves them empty.
	md = nil
	if _, err := e.txn.Begin(ctx, &kvpb.TxnBeginRequest{}, grpc.Header(&md)); err != nil {
		t.Fatal(err)
	}
	if len(md.Get("x-route")) != 0 {
		t.Errorf("headers of another call leaked: %v", md)
	}
	if e.muxCalls.Load() != 2 || e.directCalls.Load() != 1 {
		t.Errorf("calls: %d over the stream, %d direct; want 2 and 1", e.muxCalls.Load(), e.directCalls.Load())
	}
}

// TestInvalidHeader: a header gRPC would refuse is refused by SetHeader
// on a Mux stream (it could not be encoded in the answer, and a failed Send
// breaks the stream and every call on it).
func TestInvalidHeader(t *testing.T) {
	setErrs := make(chan error, 3)
	e := newEnv(t, envConfig{handler: func(ctx context.Context, method string, req proto.Message) (proto.Message, error) {
		if method == kvpb.Txn_Get_FullMethodName {
			setErrs <- SetHeader(ctx, metadata.MD{"x-bad": {"\xff\xfe"}})
			setErrs <- SetHeader(ctx, metadata.MD{"X-Upper": {"v"}})
			setErrs <- SetHeader(ctx, metadata.Pairs("x-good", "v"))
		}
		return nil, nil
	}})
	ctx := testCtx(t)
	var md metadata.MD
	if _, err := e.txn.Get(ctx, &kvpb.TxnGetRequest{}, grpc.Header(&md)); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{false, false, true} {
		if err := recv(t, setErrs, "SetHeader"); (err == nil) != want {
			t.Errorf("SetHeader %d: got %v", i, err)
		}
	}
	if got := md.Get("x-good"); !slices.Equal(got, []string{"v"}) || len(md) != 1 {
		t.Errorf("got the headers %v, want x-good only", md)
	}
	e.conn.mu.Lock()
	before := e.conn.sess
	e.conn.mu.Unlock()
	if _, err := e.txn.Begin(ctx, &kvpb.TxnBeginRequest{}); err != nil {
		t.Fatal(err)
	}
	e.conn.mu.Lock()
	after := e.conn.sess
	e.conn.mu.Unlock()
	if before == nil || before != after {
		t.Error("the stream broke")
	}
}

// TestInvalidUTF8Status: an error message that is not valid UTF-8 (a
// proto3 string cannot carry it) still fails the call with its code.
func TestInvalidUTF8Status(t *testing.T) {
	e := newEnv(t, envConfig{handler: func(ctx context.Context, method string, req proto.Message) (proto.Message, error) {
		if method == kvpb.Txn_Commit_FullMethodName {
			return nil, status.Errorf(codes.Aborted, "conflict on key %s", []byte{0xff, 0xfe, 'k'})
		}
		return nil, nil
	}})
	ctx := testCtx(t)
	_, err := e.txn.Commit(ctx, &kvpb.TxnCommitRequest{})
	wantCode(t, err, codes.Aborted)
	if msg := status.Convert(err).Message(); !strings.HasPrefix(msg, "conflict on key ") || !strings.HasSuffix(msg, "k") {
		t.Errorf("got the message %q", msg)
	}
	_, err = e.direct.Commit(ctx, &kvpb.TxnCommitRequest{})
	wantCode(t, err, codes.Aborted)
	if e.muxCalls.Load() != 1 {
		t.Errorf("%d calls over the stream, want 1", e.muxCalls.Load())
	}
}

// TestDeadline: the caller's deadline bounds the handler's context; an
// expired one fails without a call; one that expires during the call ends
// the handler's context.
func TestDeadline(t *testing.T) {
	deadlines := make(chan time.Time, 1)
	started := make(chan struct{}, 1)
	ended := make(chan error, 1)
	block := blockUntilCancelled(kvpb.Txn_Rollback_FullMethodName, started, ended)
	e := newEnv(t, envConfig{handler: func(ctx context.Context, method string, req proto.Message) (proto.Message, error) {
		if method == kvpb.Txn_Get_FullMethodName {
			dl, ok := ctx.Deadline()
			if !ok {
				dl = time.Time{}
			}
			deadlines <- dl
			return nil, nil
		}
		return block(ctx, method, req)
	}})

	// The handler's deadline is the caller's, moved by the transit time.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	want, _ := ctx.Deadline()
	if _, err := e.txn.Get(ctx, &kvpb.TxnGetRequest{}); err != nil {
		t.Fatal(err)
	}
	got := recv(t, deadlines, "the handler's deadline")
	if got.IsZero() {
		t.Fatal("the handler's context has no deadline")
	}
	if got.Before(want.Add(-time.Second)) || got.After(want.Add(10*time.Second)) {
		t.Errorf("the handler's deadline is %v, the caller's %v", got, want)
	}

	// Without a deadline, the handler has none.
	if _, err := e.txn.Get(context.Background(), &kvpb.TxnGetRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, deadlines, "the handler's deadline"); !got.IsZero() {
		t.Errorf("the handler has the deadline %v, the caller none", got)
	}

	// An expired deadline fails before anything is sent.
	expired, cancelExpired := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancelExpired()
	_, err := e.txn.Get(expired, &kvpb.TxnGetRequest{})
	wantCode(t, err, codes.DeadlineExceeded)
	if n := e.muxCalls.Load(); n != 2 {
		t.Errorf("%d calls reached the server, want 2 (the expired one must not)", n)
	}

	// A deadline that expires during the call fails it and ends the
	// handler's context.
	short, cancelShort := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancelShort()
	errc := make(chan error, 1)
	go func() {
		_, err := e.txn.Rollback(short, &kvpb.TxnRollbackRequest{})
		errc <- err
	}()
	select {
	case <-started:
		wantCode(t, recv(t, errc, "the call to fail"), codes.DeadlineExceeded)
		if err := recv(t, ended, "the handler's context to end"); err == nil {
			t.Error("the handler's context ended without an error")
		}
	case err := <-errc:
		// A (very) slow machine: the deadline passed before the handler
		// started.
		wantCode(t, err, codes.DeadlineExceeded)
		t.Log("the deadline passed before the handler started")
	case <-time.After(waitTimeout):
		t.Fatal("timed out waiting for the call")
	}
	if e.directCalls.Load() != 0 {
		t.Errorf("%d direct calls, want 0", e.directCalls.Load())
	}
}

// TestCancel: a caller that gives up gets Canceled and the handler's
// context is cancelled.
func TestCancel(t *testing.T) {
	started := make(chan struct{}, 1)
	ended := make(chan error, 1)
	e := newEnv(t, envConfig{handler: blockUntilCancelled(kvpb.Txn_Rollback_FullMethodName, started, ended)})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := e.txn.Rollback(ctx, &kvpb.TxnRollbackRequest{TxnId: "t"})
		errc <- err
	}()
	recv(t, started, "the handler to start")
	cancel()
	err := recv(t, errc, "the call to return")
	wantCode(t, err, codes.Canceled)
	if err := recv(t, ended, "the handler's context to end"); !errors.Is(err, context.Canceled) {
		t.Errorf("the handler's context ended with %v, want context.Canceled", err)
	}

	// The stream still serves calls.
	if _, err := e.txn.Begin(testCtx(t), &kvpb.TxnBeginRequest{IdempotencyKey: "after"}); err != nil {
		t.Fatal(err)
	}
	if e.muxCalls.Load() != 2 || e.directCalls.Load() != 0 {
		t.Errorf("calls: %d over the stream, %d direct; want 2 and 0", e.muxCalls.Load(), e.directCalls.Load())
	}
}

// TestPolicy: calls the policy refuses and large requests go directly.
func TestPolicy(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	e := newEnv(t, envConfig{policy: func(method string, req any) bool {
		if _, ok := req.(proto.Message); !ok {
			t.Errorf("the policy got a %T request", req)
		}
		mu.Lock()
		asked = append(asked, method)
		mu.Unlock()
		return defaultPolicy(method, req)
	}, handler: func(ctx context.Context, method string, req proto.Message) (proto.Message, error) {
		// The answer tells which path served the call.
		switch method {
		case kvpb.Txn_Scan_FullMethodName:
			return &kvpb.ScanResponse{ResumeKey: []byte(pathOf(ctx))}, nil
		case kvpb.Txn_Begin_FullMethodName:
			return &kvpb.TxnBeginResponse{TxnId: pathOf(ctx)}, nil
		}
		return nil, nil
	}})
	ctx := testCtx(t)

	scan, err := e.txn.Scan(ctx, &kvpb.TxnScanRequest{TxnId: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if string(scan.ResumeKey) != pathDirect {
		t.Errorf("a refused method took the path %q", scan.ResumeKey)
	}
	begin, err := e.txn.Begin(ctx, &kvpb.TxnBeginRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if begin.TxnId != pathMux {
		t.Errorf("an accepted method took the path %q", begin.TxnId)
	}
	mu.Lock()
	if want := []string{kvpb.Txn_Scan_FullMethodName, kvpb.Txn_Begin_FullMethodName}; !slices.Equal(asked, want) {
		t.Errorf("the policy was asked about %q, want %q", asked, want)
	}
	mu.Unlock()

	// Requests larger than MaxRequestBytes go directly, others over the
	// stream.
	d0, m0 := e.directCalls.Load(), e.muxCalls.Load()
	if _, err := e.txn.Put(ctx, &kvpb.TxnPutRequest{TxnId: "t", Value: make([]byte, MaxRequestBytes+1)}); err != nil {
		t.Fatal(err)
	}
	if d, m := e.directCalls.Load()-d0, e.muxCalls.Load()-m0; d != 1 || m != 0 {
		t.Errorf("a large request: %d direct calls, %d over the stream; want 1 and 0", d, m)
	}
	small := &kvpb.TxnPutRequest{TxnId: "t", Value: make([]byte, MaxRequestBytes-64)}
	if n := proto.Size(small); n > MaxRequestBytes {
		t.Fatalf("the small request has %d bytes", n)
	}
	if _, err := e.txn.Put(ctx, small); err != nil {
		t.Fatal(err)
	}
	if d, m := e.directCalls.Load()-d0, e.muxCalls.Load()-m0; d != 1 || m != 1 {
		t.Errorf("then a request within the limit: %d direct calls, %d over the stream; want 1 and 1", d, m)
	}
}

// TestServerWithoutMux: calls to a server without the Mux service go
// directly, the first ones (concurrent, while the stream is refused) too.
func TestServerWithoutMux(t *testing.T) {
	e := newEnv(t, envConfig{noMux: true})
	ctx := testCtx(t)
	const first = 16
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range first {
		wg.Go(func() {
			<-start
			key := fmt.Sprintf("first-%d", i)
			resp, err := e.txn.Begin(ctx, &kvpb.TxnBeginRequest{IdempotencyKey: key})
			if err != nil {
				t.Errorf("first call %d: %v", i, err)
				return
			}
			if resp.TxnId != key {
				t.Errorf("first call %d: got %v", i, resp)
			}
		})
	}
	close(start)
	wg.Wait()
	for i := range 10 {
		key := fmt.Sprintf("later-%d", i)
		resp, err := e.txn.Begin(ctx, &kvpb.TxnBeginRequest{IdempotencyKey: key})
		if err != nil {
			t.Fatalf("later call %d: %v", i, err)
		}
		if resp.TxnId != key {
			t.Fatalf("later call %d: got %v", i, resp)
		}
	}
	if got, want := e.directCalls.Load(), int64(first+10); got != want {
		t.Errorf("%d direct calls, want %d", got, want)
	}
	e.conn.mu.Lock()
	unsupported := e.conn.unsupported
	e.conn.mu.Unlock()
	if !unsupported {
		t.Error("the Conn did not note that the server has no Mux service")
	}
}

// TestStreamBreaks: a call in flight when the stream breaks fails with
// Unavailable that does not claim it was not sent; a call while the server
// is down fails as not sent; once the server is back, calls go over a new
// stream.
func TestStreamBreaks(t *testing.T) {
	started := make(chan struct{}, 1)
	ended := make(chan error, 1)
	e := newEnv(t, envConfig{handler: blockUntilCancelled(kvpb.Txn_Rollback_FullMethodName, started, ended)})
	ctx := testCtx(t)
	if _, err := e.txn.Begin(ctx, &kvpb.TxnBeginRequest{}); err != nil {
		t.Fatal(err)
	}
	e.conn.mu.Lock()
	first := e.conn.sess
	e.conn.mu.Unlock()

	errc := make(chan error, 1)
	go func() {
		_, err := e.txn.Rollback(ctx, &kvpb.TxnRollbackRequest{TxnId: "t"})
		errc <- err
	}()
	recv(t, started, "the handler to start")
	addr := e.addr
	e.stopServer()
	err := recv(t, errc, "the call to fail")
	wantCode(t, err, codes.Unavailable)
	if kvpb.NotSent(err) {
		t.Errorf("kvpb.NotSent(%v) is true for a call that was sent", err)
	}
	recv(t, ended, "the handler's context to end")

	// With the server down, a call cannot be sent.
	_, err = e.txn.Begin(ctx, &kvpb.TxnBeginRequest{})
	wantCode(t, err, codes.Unavailable)
	if !kvpb.NotSent(err) {
		t.Errorf("kvpb.NotSent(%v) is false for a call made while the server is down", err)
	}

	// A server on the same address again. Another process may have taken
	// the port meanwhile: then this part is skipped.
	if err := e.startServer(addr); err != nil {
		t.Logf("not restarting the server on %s: %v", addr, err)
		return
	}
	m0 := e.muxCalls.Load()
	for {
		// The connection may report the outage for a moment (reconnection
		// backoff): poll until a call succeeds.
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		resp, err := e.txn.Begin(callCtx, &kvpb.TxnBeginRequest{IdempotencyKey: "back"})
		cancel()
		if err == nil {
			if resp.TxnId != "back" {
				t.Fatalf("got %v", resp)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no call succeeded after the restart: %v", err)
		}
		if c := status.Code(err); c != codes.Unavailable && c != codes.DeadlineExceeded {
			t.Fatalf("after the restart: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	if e.muxCalls.Load() == m0 {
		t.Error("the call after the restart did not go over a stream")
	}
	e.conn.mu.Lock()
	second := e.conn.sess
	e.conn.mu.Unlock()
	if second == nil || second == first {
		t.Errorf("the call after the restart did not use a new stream (before %p, after %p)", first, second)
	}
}

// TestUnknownMethod: a method the server does not know is Unimplemented,
// and does not make the Conn give up on the stream.
func TestUnknownMethod(t *testing.T) {
	e := newEnv(t, envConfig{})
	ctx := testCtx(t)
	err := e.conn.Invoke(ctx, "/cairn.kvpb.Txn/NoSuchMethod", &kvpb.TxnBeginRequest{}, &kvpb.TxnBeginResponse{})
	wantCode(t, err, codes.Unimplemented)
	if !strings.Contains(status.Convert(err).Message(), "rpcmux") {
		t.Errorf("%v was not answered over the stream", err)
	}
	err = e.conn.Invoke(ctx, "/cairn.kvpb.NoSuchService/Begin", &kvpb.TxnBeginRequest{}, &kvpb.TxnBeginResponse{})
	wantCode(t, err, codes.Unimplemented)

	if _, err := e.txn.Begin(ctx, &kvpb.TxnBeginRequest{}); err != nil {
		t.Fatal(err)
	}
	e.conn.mu.Lock()
	unsupported := e.conn.unsupported
	e.conn.mu.Unlock()
	if unsupported {
		t.Error("an unknown method made the Conn stop using the stream")
	}
	if e.muxCalls.Load() != 1 || e.directCalls.Load() != 0 {
		t.Errorf("calls: %d over the stream, %d direct; want 1 and 0", e.muxCalls.Load(), e.directCalls.Load())
	}
}

// TestClose: Close fails the calls waiting on the stream, ends their
// handlers' contexts, refuses later calls, and leaves no goroutines.
func TestClose(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	const waiting = 8
	started := make(chan struct{}, waiting)
	ended := make(chan error, waiting)
	e := newEnv(t, envConfig{handler: blockUntilCancelled(kvpb.Txn_Rollback_FullMethodName, started, ended)})

	errc := make(chan error, waiting)
	for range waiting {
		go func() {
			_, err := e.txn.Rollback(context.Background(), &kvpb.TxnRollbackRequest{})
			errc <- err
		}()
	}
	for range waiting {
		recv(t, started, "the handlers to start")
	}
	e.conn.Close()
	for range waiting {
		err := recv(t, errc, "the waiting calls to fail")
		if c := status.Code(err); c != codes.Unavailable && c != codes.Canceled {
			t.Errorf("a call waiting at Close got %v, want Unavailable or Canceled", err)
		}
	}
	for range waiting {
		if err := recv(t, ended, "the handlers' contexts to end"); err == nil {
			t.Error("a handler's context ended without an error")
		}
	}

	// Later calls fail at once, without reaching the server.
	m0 := e.muxCalls.Load()
	_, err := e.txn.Begin(context.Background(), &kvpb.TxnBeginRequest{})
	wantCode(t, err, codes.Canceled)
	if e.muxCalls.Load() != m0 || e.directCalls.Load() != 0 {
		t.Error("a call after Close reached the server")
	}
	e.conn.Close() // again: a no-op

	e.close()
	goleak.VerifyNone(t, ignore)
}

// TestStopEndsStreams: Server.Stop lets the calls in progress finish and
// be answered, then ends the stream, so that the gRPC server's
// GracefulStop (which waits for every stream) completes although the
// client keeps its stream open; later calls fail as Unavailable.
func TestStopEndsStreams(t *testing.T) {
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	e := newEnv(t, envConfig{handler: func(ctx context.Context, method string, req proto.Message) (proto.Message, error) {
		if method == kvpb.Txn_Commit_FullMethodName {
			started <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return echo(method, req), nil
	}})
	// An idle stream, as a connected client keeps it.
	if _, err := e.txn.Begin(testCtx(t), &kvpb.TxnBeginRequest{}); err != nil {
		t.Fatal(err)
	}
	callErr, stopped := e.stopDuringCommit(t, started)
	close(release)
	if err := recv(t, callErr, "the commit's answer"); err != nil {
		t.Fatalf("a call in progress at Stop: %v, want its answer", err)
	}
	recv(t, stopped, "GracefulStop to return")
	<-e.serveDone
	e.srv = nil
	_, err := e.txn.Begin(testCtx(t), &kvpb.TxnBeginRequest{})
	wantCode(t, err, codes.Unavailable)
}

// TestCloseRacesCalls: Close while many calls start and run: each returns,
// successfully or not.
func TestCloseRacesCalls(t *testing.T) {
	e := newEnv(t, envConfig{})
	var wg sync.WaitGroup
	started := make(chan struct{}, 16)
	for g := range 16 {
		wg.Go(func() {
			started <- struct{}{}
			for i := 0; ; i++ {
				_, err := e.txn.Begin(context.Background(), &kvpb.TxnBeginRequest{IdempotencyKey: fmt.Sprint(g, i)})
				if err != nil {
					if c := status.Code(err); c != codes.Canceled && c != codes.Unavailable {
						t.Errorf("a call racing Close: %v", err)
					}
					return
				}
			}
		})
	}
	for range 16 {
		recv(t, started, "the callers to start")
	}
	// Let some calls through (without sleeping): wait for a few answers.
	deadline := time.Now().Add(waitTimeout)
	for e.muxCalls.Load() < 100 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // polling interval
	}
	e.conn.Close()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	recv(t, done, "the callers to return")
}

// TestInterceptors: calls over the stream pass the server's interceptors in
// order, which see the method and can reject it.
func TestInterceptors(t *testing.T) {
	var mu sync.Mutex
	var log []string
	note := func(s string) {
		mu.Lock()
		log = append(log, s)
		mu.Unlock()
	}
	var fake any
	logging := func(name string) grpc.UnaryServerInterceptor {
		return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			note(name + ">" + info.FullMethod)
			if info.Server != fake {
				t.Errorf("interceptor %s: info.Server is %T %p", name, info.Server, info.Server)
			}
			resp, err := handler(ctx, req)
			note("<" + name)
			return resp, err
		}
	}
	reject := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if info.FullMethod == kvpb.Txn_Commit_FullMethodName {
			note("reject")
			return nil, status.Error(codes.PermissionDenied, "no commits for you")
		}
		return handler(ctx, req)
	}
	e := newEnv(t, envConfig{
		muxInterceptors: []grpc.UnaryServerInterceptor{logging("a"), logging("b"), reject},
		handler: func(ctx context.Context, method string, req proto.Message) (proto.Message, error) {
			note("handler:" + pathOf(ctx))
			return nil, nil
		},
	})
	fake = e.fake // written before any call, read by the interceptors during calls
	ctx := testCtx(t)

	if _, err := e.txn.Begin(ctx, &kvpb.TxnBeginRequest{}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	want := []string{"a>" + kvpb.Txn_Begin_FullMethodName, "b>" + kvpb.Txn_Begin_FullMethodName, "handler:" + pathMux, "<b", "<a"}
	if !slices.Equal(log, want) {
		t.Errorf("ran %q, want %q", log, want)
	}
	log = nil
	mu.Unlock()

	_, err := e.txn.Commit(ctx, &kvpb.TxnCommitRequest{})
	wantCode(t, err, codes.PermissionDenied)
	if msg := status.Convert(err).Message(); msg != "no commits for you" {
		t.Errorf("got the message %q", msg)
	}
	mu.Lock()
	want = []string{"a>" + kvpb.Txn_Commit_FullMethodName, "b>" + kvpb.Txn_Commit_FullMethodName, "reject", "<b", "<a"}
	if !slices.Equal(log, want) {
		t.Errorf("ran %q, want %q", log, want)
	}
	mu.Unlock()
	if e.directCalls.Load() != 0 {
		t.Errorf("%d direct calls, want 0", e.directCalls.Load())
	}
}

// TestNilResponse: an interceptor that answers nothing (nor an error) is an
// Internal error for the caller, as on a direct call, not a crash.
func TestNilResponse(t *testing.T) {
	nothing := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		return nil, nil
	}
	e := newEnv(t, envConfig{muxInterceptors: []grpc.UnaryServerInterceptor{nothing}})
	_, err := e.txn.Begin(testCtx(t), &kvpb.TxnBeginRequest{})
	wantCode(t, err, codes.Internal)
}

// TestServerDirect: a Server serves a Mux stream driven frame by frame:
// a duplicate id is refused, a bad payload is InvalidArgument, and calls
// in progress are answered after the caller closes its side.
func TestServerDirect(t *testing.T) {
	started := make(chan struct{}, 2)
	release := make(chan struct{})
	e := newEnv(t, envConfig{handler: func(ctx context.Context, method string, req proto.Message) (proto.Message, error) {
		if method == kvpb.Txn_Rollback_FullMethodName {
			started <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return nil, nil
	}})
	ctx := testCtx(t)
	stream, err := kvpb.NewMuxClient(e.cc).Stream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := proto.Marshal(&kvpb.TxnRollbackRequest{TxnId: "t"})
	send := func(f *kvpb.MuxFrame) {
		t.Helper()
		if err := stream.Send(f); err != nil {
			t.Fatal(err)
		}
	}
	send(&kvpb.MuxFrame{Id: 1, Method: kvpb.Txn_Rollback_FullMethodName, Payload: payload})
	recv(t, started, "the handler to start")
	send(&kvpb.MuxFrame{Id: 1, Method: kvpb.Txn_Rollback_FullMethodName, Payload: payload})
	send(&kvpb.MuxFrame{Id: 2, Method: kvpb.Txn_Begin_FullMethodName, Payload: []byte{0xff, 0xff}})
	answers := map[uint64]*kvpb.MuxFrame{}
	for range 2 {
		f, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		answers[f.Id] = f
	}
	if a := answers[1]; a == nil || statusOf(t, a).Code() != codes.InvalidArgument {
		t.Errorf("a duplicate id got %v, want InvalidArgument", a)
	}
	if a := answers[2]; a == nil || statusOf(t, a).Code() != codes.InvalidArgument {
		t.Errorf("an undecodable request got %v, want InvalidArgument", a)
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	close(release)
	f, err := stream.Recv()
	if err != nil {
		t.Fatalf("the call in progress at CloseSend was not answered: %v", err)
	}
	if f.Id != 1 || len(f.Status) != 0 {
		t.Errorf("got %v, want the answer of call 1", f)
	}
	if _, err := stream.Recv(); err == nil {
		t.Error("the stream did not end after the last answer")
	}
}

func statusOf(t *testing.T, f *kvpb.MuxFrame) *status.Status {
	t.Helper()
	if len(f.Status) == 0 {
		return status.New(codes.OK, "")
	}
	err := answer(f, &kvpb.TxnBeginResponse{}, nil)
	return status.Convert(err)
}

// BenchmarkMuxVsUnary compares a small call made directly with one made
// over the stream.
func BenchmarkMuxVsUnary(b *testing.B) {
	for _, bc := range []struct {
		name string
		mux  bool
	}{{"unary", false}, {"mux", true}} {
		b.Run(bc.name, func(b *testing.B) {
			e := newEnv(b, envConfig{})
			client := e.direct
			if bc.mux {
				client = e.txn
			}
			ctx := context.Background()
			req := &kvpb.TxnGetRequest{TxnId: "0123456789abcdef", Key: []byte("key")}
			if _, err := client.Get(ctx, req); err != nil { // open the connection and stream
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU(b)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := client.Get(ctx, req); err != nil {
						b.Error(err)
						return
					}
				}
			})
			// Client and server share the process: the CPU of both ends.
			b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-us/op")
		})
	}
}

// processCPU is the CPU time (user and system) the process has used.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
