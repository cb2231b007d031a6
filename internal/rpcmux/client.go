package rpcmux

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/kvpb"
)

// MaxRequestBytes is the largest encoded request a Conn sends over its
// stream; larger ones are sent directly, so that they do not hold up the
// small calls behind them.
const MaxRequestBytes = 64 << 10

// Policy reports whether a unary call goes over the stream.
type Policy func(method string, req any) bool

// Conn is a grpc.ClientConnInterface that sends the unary calls its policy
// accepts over one Mux stream of cc, opened on first use and again after
// it breaks, and everything else over cc directly. It does not own cc.
// Call options other than grpc.Header are ignored for multiplexed calls
// (cc's defaults apply to the stream).
type Conn struct {
	cc        *grpc.ClientConn
	policy    Policy
	maxAnswer int64 // sent with each call (see NewConn)

	ctx    context.Context // the streams' context, cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // receive loops

	mu          sync.Mutex
	sess        *session // nil: none open (or the last one broke)
	unsupported bool     // the server has no Mux service
	closed      bool
}

// DefaultMaxRecvBytes is gRPC's default receive limit of a client.
const DefaultMaxRecvBytes = 4 << 20

// frameSlack is room for a frame's own fields around its payload.
const frameSlack = 1 << 10

// NewConn returns a Conn over cc. maxRecvBytes must be cc's receive limit
// for one message (grpc.MaxCallRecvMsgSize; DefaultMaxRecvBytes if cc uses
// gRPC's default): the server fails a call whose answer would not fit,
// rather than send a frame that breaks the stream.
func NewConn(cc *grpc.ClientConn, maxRecvBytes int, policy Policy) *Conn {
	ctx, cancel := context.WithCancel(context.Background())
	return &Conn{cc: cc, policy: policy, maxAnswer: int64(max(maxRecvBytes-frameSlack, 1)), ctx: ctx, cancel: cancel}
}

// Close ends the stream; calls waiting on it fail. It does not close the
// underlying connection.
func (c *Conn) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
}

// NewStream opens a streaming call directly on the underlying connection.
func (c *Conn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return c.cc.NewStream(ctx, desc, method, opts...)
}

// errUnsupported: the server has no Mux service; call directly.
var errUnsupported = errors.New("rpcmux: the server does not serve Mux")

// errDraining: the session's server is going away; the call was not sent.
var errDraining = errors.New("rpcmux: the server is going away")

// Invoke makes a unary call, over the stream when the policy accepts it.
func (c *Conn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	req, ok1 := args.(proto.Message)
	resp, ok2 := reply.(proto.Message)
	if !ok1 || !ok2 || !c.policy(method, args) {
		return c.cc.Invoke(ctx, method, args, reply, opts...)
	}
	payload, err := proto.Marshal(req)
	if err != nil {
		return status.Errorf(codes.Internal, "rpcmux: encoding the request of %s: %v", method, err)
	}
	if len(payload) > MaxRequestBytes {
		return c.cc.Invoke(ctx, method, args, reply, opts...)
	}
	var s *session
	var ch chan result
	var f *kvpb.MuxFrame
	for attempt := 0; ; attempt++ {
		if s, err = c.session(ctx); errors.Is(err, errUnsupported) {
			return c.cc.Invoke(ctx, method, args, reply, opts...)
		} else if err != nil {
			return err
		}
		f = &kvpb.MuxFrame{Method: method, Payload: payload, MaxAnswerBytes: c.maxAnswer}
		if dl, ok := ctx.Deadline(); ok {
			left := time.Until(dl)
			if left <= 0 {
				return status.Error(codes.DeadlineExceeded, context.DeadlineExceeded.Error())
			}
			f.TimeoutNanos = int64(left)
		}
		ch, err = s.send(ctx, f)
		switch {
		case errors.Is(err, errUnsupported):
			// The server refused the stream before this call was sent.
			return c.cc.Invoke(ctx, method, args, reply, opts...)
		case errors.Is(err, errDraining) && attempt == 0:
			continue // the server is going away: a fresh stream, once
		case errors.Is(err, errDraining):
			return notSent(err)
		case err != nil:
			return err
		}
		break
	}
	select {
	case a := <-ch:
		if errors.Is(a.err, errUnsupported) {
			// The server refused the stream before reading any call.
			return c.cc.Invoke(ctx, method, args, reply, opts...)
		}
		if a.err != nil {
			return a.err
		}
		return answer(a.frame, resp, opts)
	case <-ctx.Done():
		s.abandon(f.Id)
		return status.FromContextError(ctx.Err()).Err()
	}
}

// answer decodes an answer frame into resp and delivers its headers.
func answer(f *kvpb.MuxFrame, resp proto.Message, opts []grpc.CallOption) error {
	if len(f.Status) > 0 {
		st := &spb.Status{}
		if err := proto.Unmarshal(f.Status, st); err != nil {
			return status.Errorf(codes.Internal, "rpcmux: decoding an error status: %v", err)
		}
		return status.ErrorProto(st)
	}
	if err := proto.Unmarshal(f.Payload, resp); err != nil {
		return status.Errorf(codes.Internal, "rpcmux: decoding a response: %v", err)
	}
	if len(f.Headers) == 0 {
		return nil
	}
	for _, o := range opts {
		if h, ok := o.(grpc.HeaderCallOption); ok && h.HeaderAddr != nil {
			md := make(metadata.MD, len(f.Headers))
			for _, kv := range f.Headers {
				md[kv.Key] = decodeHeader(kv.Key, kv.Values)
			}
			*h.HeaderAddr = md
		}
	}
	return nil
}

// session returns the open stream, opening one if needed; it waits for the
// opening at most as long as ctx allows.
func (c *Conn) session(ctx context.Context) (*session, error) {
	c.mu.Lock()
	switch {
	case c.unsupported:
		c.mu.Unlock()
		return nil, errUnsupported
	case c.closed:
		c.mu.Unlock()
		return nil, status.Error(codes.Canceled, "rpcmux: connection closed")
	}
	s := c.sess
	if s == nil {
		s = &session{c: c, ready: make(chan struct{}), done: make(chan struct{}), sendSem: make(chan struct{}, 1), calls: map[uint64]chan result{}}
		c.sess = s
		c.wg.Add(1)
		go s.run()
	}
	c.mu.Unlock()
	select {
	case <-s.ready:
		if s.openErr != nil {
			return nil, s.openErr
		}
		return s, nil
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	}
}

// drop forgets s as the open stream (it broke).
func (c *Conn) drop(s *session, unsupported bool) {
	c.mu.Lock()
	if c.sess == s {
		c.sess = nil
	}
	c.unsupported = c.unsupported || unsupported
	c.mu.Unlock()
}

// result is a call's answer, or why it has none.
type result struct {
	frame *kvpb.MuxFrame
	err   error
}

// session is one Mux stream and its calls in flight.
type session struct {
	c       *Conn
	ready   chan struct{} // closed once the stream is open or failed to
	done    chan struct{} // closed once run returned (broken is set)
	openErr error
	stream  kvpb.Mux_StreamClient
	// received: an answer arrived (touched by run only).
	received bool
	// abort cuts the stream: a send blocked by flow control past its
	// caller's deadline (the server stopped reading) ends the session, as
	// a direct call would end at its deadline.
	abort context.CancelFunc

	// sendSem is held while sending (capacity 1): callers wait for it at
	// most as long as their context allows.
	sendSem chan struct{}

	mu       sync.Mutex
	nextID   uint64
	calls    map[uint64]chan result // in flight
	broken   error                  // set once the stream failed
	draining bool                   // the server sent go_away: no new calls
	closed   bool                   // our side is closed (CloseSend)
	// cancels are abandoned calls whose cancellation is not sent yet: the
	// caller found the stream busy, and whoever releases it sends them
	// (bounded by maxQueuedCancels).
	cancels []uint64
}

// stuckSendTimeout is how long flush waits for the stream to take a
// cancellation before it cuts the stream: the server has stopped reading.
const stuckSendTimeout = 2 * time.Second

// maxQueuedCancels bounds a session's unsent cancellations; beyond, the
// oldest are dropped (their calls still end by their deadlines).
const maxQueuedCancels = 1 << 16

// run opens the stream, then delivers answers until it ends.
func (s *session) run() {
	defer s.c.wg.Done()
	defer close(s.done)
	ctx, abort := context.WithCancel(s.c.ctx)
	defer abort()
	s.abort = abort
	stream, err := kvpb.NewMuxClient(s.c.cc).Stream(ctx)
	if err != nil {
		s.openErr = err
		s.c.drop(s, false)
		close(s.ready)
		return
	}
	s.stream = stream
	close(s.ready)
	for {
		f, err := stream.Recv()
		if err != nil {
			s.fail(err)
			return
		}
		if f.GoAway {
			s.c.drop(s, false) // new calls open a fresh stream
			s.mu.Lock()
			s.draining = true
			s.mu.Unlock()
		} else {
			s.received = true
			s.mu.Lock()
			ch := s.calls[f.Id]
			delete(s.calls, f.Id)
			s.mu.Unlock()
			if ch != nil {
				ch <- result{frame: f}
			}
		}
		// This loop never sends (a send blocked by flow control would
		// stop it reading the answers that unblock the server): what is
		// owed goes from another goroutine.
		if s.owes() {
			go s.flush()
		}
	}
}

// fail ends the session: every call in flight fails. A server without the
// Mux service read none of them, so they may be sent directly.
func (s *session) fail(err error) {
	// Unimplemented means "no Mux service" only before any answer (gRPC
	// also uses the code for, say, an unknown compressor, after calls ran).
	unsupported := status.Code(err) == codes.Unimplemented && !s.received
	s.c.drop(s, unsupported)
	if unsupported {
		err = errUnsupported
	} else {
		// Not "connection error: ...": the calls were sent and may have
		// been served (see kvpb.NotSent).
		err = status.Errorf(codes.Unavailable, "rpcmux: the stream broke after the call was sent: %v", status.Convert(err).Message())
	}
	s.mu.Lock()
	s.broken = err
	calls := s.calls
	s.calls = map[uint64]chan result{}
	s.mu.Unlock()
	for _, ch := range calls {
		ch <- result{err: err}
	}
}

// send registers and sends a call; its answer arrives on the channel.
func (s *session) send(ctx context.Context, f *kvpb.MuxFrame) (chan result, error) {
	ch := make(chan result, 1)
	s.mu.Lock()
	switch {
	case s.broken != nil:
		err := s.broken
		s.mu.Unlock()
		if errors.Is(err, errUnsupported) {
			return nil, err
		}
		return nil, notSent(err)
	case s.draining:
		s.mu.Unlock()
		return nil, errDraining
	}
	s.nextID++
	f.Id = s.nextID
	s.calls[f.Id] = ch
	s.mu.Unlock()
	select {
	case s.sendSem <- struct{}{}:
	case <-ctx.Done():
		s.forget(f.Id)
		s.flush() // a draining session may have no calls left now
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	if err := ctx.Err(); err != nil { // not sent: do not cut the stream for it
		<-s.sendSem
		s.forget(f.Id)
		s.flush()
		return nil, status.FromContextError(err).Err()
	}
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, s.abort)
	}
	s.sendCancelsLocked()
	err := s.stream.Send(f)
	if stop != nil {
		stop()
	}
	<-s.sendSem
	if err != nil {
		s.forget(f.Id)
	}
	s.flush()
	if err != nil {
		if err == io.EOF {
			// The stream had ended: the frame was not sent. The receive
			// loop learns why and drops the session; wait for it, since
			// the reason may be a server without the Mux service (then
			// the call goes directly, not fails).
			select {
			case <-s.done:
			case <-ctx.Done():
				return nil, status.FromContextError(ctx.Err()).Err()
			}
			s.mu.Lock()
			broken := s.broken
			s.mu.Unlock()
			if errors.Is(broken, errUnsupported) {
				return nil, errUnsupported
			}
			return nil, notSent(err)
		}
		return nil, status.Errorf(codes.Unavailable, "rpcmux: sending a call: %v", err)
	}
	return ch, nil
}

// forget drops call id from the calls in flight.
func (s *session) forget(id uint64) {
	s.mu.Lock()
	delete(s.calls, id)
	s.mu.Unlock()
}

// notSent is the error of a call that never left: a connection error in
// the sense of kvpb.NotSent, so a write may be sent again.
func notSent(err error) error {
	return status.Errorf(codes.Unavailable, "connection error: rpcmux: the stream had ended before the call was sent (%v)", status.Convert(err).Message())
}

// abandon forgets call id and has the server cancel it.
func (s *session) abandon(id uint64) {
	s.mu.Lock()
	_, inFlight := s.calls[id]
	delete(s.calls, id)
	if inFlight {
		if len(s.cancels) >= maxQueuedCancels {
			s.cancels = s.cancels[1:]
		}
		s.cancels = append(s.cancels, id)
	}
	s.mu.Unlock()
	if inFlight {
		go s.flush() // the caller, whose context ended, does not wait
	}
}

// flush sends what is owed to the server when the stream is free: queued
// cancellations, and the close of our side once a draining session has no
// calls left. Whoever holds the stream calls it after releasing it, so
// nothing queued waits for a later call.
func (s *session) flush() {
	for s.owes() {
		select {
		case s.sendSem <- struct{}{}:
		default:
			return // the holder flushes when it releases the stream
		}
		// No caller's deadline bounds these sends: a server that does not
		// read them for stuckSendTimeout has stopped reading the stream.
		watchdog := time.AfterFunc(stuckSendTimeout, s.abort)
		s.sendCancelsLocked()
		s.mu.Lock()
		closeSend := s.draining && !s.closed && len(s.calls) == 0
		s.closed = s.closed || closeSend
		s.mu.Unlock()
		if closeSend {
			_ = s.stream.CloseSend() // the server ends the stream once it has answered
		}
		watchdog.Stop()
		<-s.sendSem
	}
}

// owes reports whether flush has something to send.
func (s *session) owes() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cancels) > 0 || (s.draining && !s.closed && len(s.calls) == 0)
}

// sendCancelsLocked sends the queued cancellations; sendSem is held.
func (s *session) sendCancelsLocked() {
	s.mu.Lock()
	ids := s.cancels
	s.cancels = nil
	s.mu.Unlock()
	for _, id := range ids {
		_ = s.stream.Send(&kvpb.MuxFrame{Id: id, Cancel: true})
	}
}

var _ grpc.ClientConnInterface = (*Conn)(nil)

func (c *Conn) String() string { return fmt.Sprintf("rpcmux.Conn(%s)", c.cc.Target()) }
