package rpcmux

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/kvpb"
)

// stuckMux is a Mux server that accepts the stream but never reads it
// (a paused node, or a Server whose MaxInFlight calls are all blocked).
type stuckMux struct {
	kvpb.UnimplementedMuxServer
}

func (stuckMux) Stream(s kvpb.Mux_StreamServer) error {
	<-s.Context().Done()
	return nil
}

// TestDeadlineWhileStreamBlocked: a server that never reads the stream (a
// paused node) fills its flow-control window; every later call still
// returns by its deadline (a blocked send cuts the stream).
func TestDeadlineWhileStreamBlocked(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	kvpb.RegisterMuxServer(srv, stuckMux{})
	go srv.Serve(lis)
	defer srv.Stop()
	cc, err := grpc.NewClient("passthrough:///"+lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	conn := NewConn(cc, DefaultMaxRecvBytes, defaultPolicy)
	defer conn.Close()
	txn := kvpb.NewTxnClient(conn)
	for i := 0; i < 40; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		start := time.Now()
		done := make(chan struct{})
		go func() {
			_, _ = txn.Put(ctx, &kvpb.TxnPutRequest{TxnId: "t", Value: make([]byte, 16<<10)})
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("call %d with a 100ms deadline still blocked after %v", i, time.Since(start))
		}
		cancel()
	}
}

// TestCancelAtInFlightCap: with MaxInFlight calls blocked, the stream is
// still read: one more call is answered at once as not run (it may be sent
// again), and the blocked calls' cancellations reach their handlers.
func TestCancelAtInFlightCap(t *testing.T) {
	var started sync.WaitGroup
	started.Add(MaxInFlight)
	ended := make(chan struct{}, MaxInFlight)
	e := newEnv(t, envConfig{handler: func(ctx context.Context, method string, req proto.Message) (proto.Message, error) {
		if method == kvpb.Txn_Rollback_FullMethodName {
			started.Done()
			<-ctx.Done()
			ended <- struct{}{}
			return nil, ctx.Err()
		}
		return echo(method, req), nil
	}})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range MaxInFlight {
		wg.Go(func() { _, _ = e.txn.Rollback(ctx, &kvpb.TxnRollbackRequest{}) })
	}
	started.Wait()
	_, err := e.txn.Begin(testCtx(t), &kvpb.TxnBeginRequest{})
	if status.Code(err) != codes.Unavailable || !kvpb.NotSent(err) {
		t.Errorf("a call beyond MaxInFlight: %v, want Unavailable, not run (NotSent)", err)
	}
	cancel() // every blocked caller gives up
	wg.Wait()
	for i := range MaxInFlight {
		select {
		case <-ended:
		case <-time.After(waitTimeout):
			t.Fatalf("%d of %d handlers' contexts ended after their callers cancelled", i, MaxInFlight)
		}
	}
}

// TestCancelQueuedBehindSender: a cancellation queued while another caller
// holds the stream is sent when that caller releases it, not with some
// later call.
func TestCancelQueuedBehindSender(t *testing.T) {
	started := make(chan struct{}, 1)
	ended := make(chan error, 1)
	e := newEnv(t, envConfig{handler: blockUntilCancelled(kvpb.Txn_Rollback_FullMethodName, started, ended)})
	if _, err := e.txn.Begin(testCtx(t), &kvpb.TxnBeginRequest{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := e.txn.Rollback(ctx, &kvpb.TxnRollbackRequest{}); errc <- err }()
	<-started
	e.conn.mu.Lock()
	s := e.conn.sess
	e.conn.mu.Unlock()
	s.sendSem <- struct{}{} // another sender, between its sendCancelsLocked and Send
	cancel()
	<-errc
	<-s.sendSem // that sender is done: it flushes what was queued meanwhile
	s.flush()
	recv(t, ended, "the handler's context to end (the cancellation must not wait for a later call)")
	e.conn.Close()
}

// TestOversizedAnswerFailsAlone: an answer over the caller's receive limit
// fails that call alone, as a direct call does (ResourceExhausted), and
// does not break the stream under the other calls in flight.
func TestOversizedAnswerFailsAlone(t *testing.T) {
	started := make(chan struct{}, 1)
	ended := make(chan error, 1)
	block := blockUntilCancelled(kvpb.Txn_Rollback_FullMethodName, started, ended)
	e := newEnv(t, envConfig{handler: func(ctx context.Context, method string, req proto.Message) (proto.Message, error) {
		if method == kvpb.Txn_Get_FullMethodName {
			return &kvpb.GetResponse{Found: true, Value: make([]byte, 2<<20)}, nil
		}
		return block(ctx, method, req)
	}})
	cc, err := grpc.NewClient("passthrough:///"+e.addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<20)))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	conn := NewConn(cc, 1<<20, defaultPolicy)
	defer conn.Close()
	txn := kvpb.NewTxnClient(conn)
	errc := make(chan error, 1)
	go func() { _, err := txn.Rollback(context.Background(), &kvpb.TxnRollbackRequest{}); errc <- err }()
	<-started
	_, err = txn.Get(context.Background(), &kvpb.TxnGetRequest{})
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("an oversized answer: %v, want ResourceExhausted", err)
	}
	// The stream still serves calls, and the call in flight is still
	// waiting for its answer.
	if _, err := txn.Begin(testCtx(t), &kvpb.TxnBeginRequest{}); err != nil {
		t.Errorf("a call after the oversized answer: %v", err)
	}
	select {
	case err := <-errc:
		t.Errorf("an unrelated call in flight failed: %v (NotSent=%v)", err, kvpb.NotSent(err))
	default:
	}
}

// TestCallsDuringStopAreNotRun: after Server.Stop the caller is told to go
// away while a call still runs; a call made then is never reported as
// possibly applied: it fails as not sent (kvpb.NotSent) without having run,
// and the call in progress is answered.
func TestCallsDuringStopAreNotRun(t *testing.T) {
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	var ran sync.Map
	e := newEnv(t, envConfig{handler: func(ctx context.Context, method string, req proto.Message) (proto.Message, error) {
		ran.Store(method, true)
		if method == kvpb.Txn_Commit_FullMethodName {
			started <- struct{}{}
			<-release
		}
		return echo(method, req), nil
	}})
	if _, err := e.txn.Begin(testCtx(t), &kvpb.TxnBeginRequest{}); err != nil {
		t.Fatal(err)
	}
	e.conn.mu.Lock()
	old := e.conn.sess
	e.conn.mu.Unlock()
	commitErr, stopped := e.stopDuringCommit(t, started)
	// Wait for the go_away to reach the client.
	for deadline := time.Now().Add(waitTimeout); ; time.Sleep(time.Millisecond) {
		e.conn.mu.Lock()
		gone := e.conn.sess != old
		e.conn.mu.Unlock()
		if gone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the client never learned that the server is going away")
		}
	}
	_, err := e.txn.Put(testCtx(t), &kvpb.TxnPutRequest{TxnId: "w"})
	_, putRan := ran.Load(kvpb.Txn_Put_FullMethodName)
	if err == nil || !kvpb.NotSent(err) || putRan {
		t.Errorf("a write during the stop: %v (NotSent %v, ran %v), want a not-sent error and no run", err, kvpb.NotSent(err), putRan)
	}
	close(release)
	if err := recv(t, commitErr, "the commit's answer"); err != nil {
		t.Errorf("the call in progress at Stop: %v, want its answer", err)
	}
	recv(t, stopped, "GracefulStop to return")
	<-e.serveDone
	e.srv = nil
}

// TestDirectBrokenCallNotSent: a call that goes directly over the
// connection (here a request over MaxRequestBytes) and whose established
// connection breaks while its handler runs must not be taken for one that
// never left (kvpb.NotSent false): pkg/client's wrap() would otherwise
// report such a write as retryable instead of ambiguous.
func TestDirectBrokenCallNotSent(t *testing.T) {
	started := make(chan struct{}, 1)
	ended := make(chan error, 1)
	e := newEnv(t, envConfig{handler: blockUntilCancelled(kvpb.Txn_Put_FullMethodName, started, ended)})
	ctx := testCtx(t)
	errc := make(chan error, 1)
	go func() {
		// Over MaxRequestBytes: Conn.Invoke sends it directly.
		_, err := e.txn.Put(ctx, &kvpb.TxnPutRequest{TxnId: "t", Value: make([]byte, MaxRequestBytes+1)})
		errc <- err
	}()
	recv(t, started, "the handler to start")
	e.stopServer()
	err := recv(t, errc, "the call to fail")
	recv(t, ended, "the handler's context to end")
	if kvpb.NotSent(err) {
		t.Errorf("kvpb.NotSent is true for a write whose handler was running: %v", err)
	}
}
