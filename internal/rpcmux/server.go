package rpcmux

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/kvpb"
)

// MaxInFlight bounds the calls a Server runs at once for one stream; calls
// beyond are answered at once as not run.
const MaxInFlight = 4096

// MaxAnswerBytes bounds a multiplexed call's response: a larger one fails
// alone with codes.ResourceExhausted (as a direct call over gRPC's message
// limit does) instead of breaking the stream, and every call on it, with a
// message over the limit. Below the 64 MiB message limit of both ends, with
// room for the frame.
const MaxAnswerBytes = 63 << 20

// Service is a gRPC service whose unary methods a Server serves.
type Service struct {
	Desc *grpc.ServiceDesc
	Impl any
}

type method struct {
	impl    any
	handler grpc.MethodHandler
}

// Server serves the Mux service: it runs each call of a stream through
// the method's generated handler and the given unary interceptors, as the
// gRPC server would for a direct call.
type Server struct {
	kvpb.UnimplementedMuxServer
	methods     map[string]method
	interceptor grpc.UnaryServerInterceptor

	stop     chan struct{}
	stopOnce sync.Once

	work        chan func() // to an idle worker (unbuffered)
	workersOnce sync.Once
}

// Workers is how many long-lived goroutines a Server runs calls on. A call
// runs on an idle worker, else on a goroutine of its own. A fresh
// goroutine starts with a small stack, which a call's deep path
// (interceptors, handler, KV layer, Pebble) grows by copying, several
// times per call: stack growth was 9.8% of a leaseholder's CPU in the bank
// benchmark with a goroutine per call, 2.1% with workers. A worker's stack
// stays grown. (grpc.NumStreamWorkers does the same for
// direct calls.)
const Workers = 128

// run runs f on an idle worker, or on a goroutine of its own.
func (s *Server) run(f func()) {
	s.workersOnce.Do(func() {
		for range Workers {
			go s.worker()
		}
	})
	select {
	case s.work <- f:
	default:
		go f()
	}
}

// worker runs calls until the server stops.
func (s *Server) worker() {
	for {
		select {
		case f := <-s.work:
			f()
		case <-s.stop:
			return
		}
	}
}

// NewServer returns a Server for the unary methods of services; calls pass
// through interceptors in order (the first is outermost).
func NewServer(interceptors []grpc.UnaryServerInterceptor, services ...Service) *Server {
	s := &Server{methods: map[string]method{}, interceptor: chain(interceptors), stop: make(chan struct{}), work: make(chan func())}
	for _, svc := range services {
		for _, m := range svc.Desc.Methods {
			s.methods["/"+svc.Desc.ServiceName+"/"+m.MethodName] = method{impl: svc.Impl, handler: m.Handler}
		}
	}
	return s
}

// Stop ends every stream once its calls in progress are answered, and
// every stream opened later at once, and ends the workers (calls still to
// come run on goroutines of their own). Call it before the gRPC server's
// GracefulStop, which waits for all streams to end.
func (s *Server) Stop() { s.stopOnce.Do(func() { close(s.stop) }) }

// chain combines interceptors into one (nil when there are none).
func chain(ics []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	if len(ics) == 0 {
		return nil
	}
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		var next func(i int) grpc.UnaryHandler
		next = func(i int) grpc.UnaryHandler {
			if i == len(ics) {
				return handler
			}
			return func(ctx context.Context, req any) (any, error) { return ics[i](ctx, req, info, next(i+1)) }
		}
		return next(0)(ctx, req)
	}
}

// Stream serves one Mux stream until the caller closes it (calls in
// progress are answered first) or it breaks (they are cancelled). Once the
// server stops (Stop), it tells the caller to go away, answers the calls
// that still arrive as not run, and ends when the caller has closed its
// side and the calls in progress are answered.
func (s *Server) Stream(stream kvpb.Mux_StreamServer) error {
	ctx, cancelAll := context.WithCancel(stream.Context())
	defer cancelAll()
	st := &streamState{calls: map[uint64]context.CancelFunc{}}
	select {
	case <-s.stop: // opened after Stop: refuse every call at once
		st.stopping = true
	default:
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.receive(ctx, cancelAll, stream, st)
	}()
	select {
	case <-done:
		return nil
	case <-s.stop:
	}
	st.mu.Lock()
	st.stopping = true // calls read from now on are refused
	st.mu.Unlock()
	st.send(stream, &kvpb.MuxFrame{GoAway: true})
	<-done // the caller closes its side (or the stream breaks, or the gRPC server's Stop cuts it)
	return nil
}

// streamState is what a stream's receive loop and its calls share.
type streamState struct {
	wg     sync.WaitGroup // calls in progress
	sendMu sync.Mutex

	mu       sync.Mutex
	calls    map[uint64]context.CancelFunc // in progress, by call id
	stopping bool
}

// send sends an answer; a broken stream ends the receive loop too.
func (st *streamState) send(stream kvpb.Mux_StreamServer, f *kvpb.MuxFrame) {
	st.sendMu.Lock()
	_ = stream.Send(f)
	st.sendMu.Unlock()
}

// receive reads frames until the stream ends, then waits for the calls in
// progress. It never stops reading while the stream lasts: a cancellation,
// or the call that would let the others finish, must always get through.
// A call beyond MaxInFlight, or read while stopping, is answered at once
// as not run (kvpb.NotRunPrefix: the caller may send it again).
func (s *Server) receive(ctx context.Context, cancelAll context.CancelFunc, stream kvpb.Mux_StreamServer, st *streamState) {
	defer st.wg.Wait()
	for {
		f, err := stream.Recv()
		if err != nil {
			if err != io.EOF {
				cancelAll()
			}
			return
		}
		if f.Cancel {
			st.mu.Lock()
			if cancel := st.calls[f.Id]; cancel != nil {
				cancel()
			}
			st.mu.Unlock()
			continue
		}
		st.mu.Lock()
		var refuse error
		_, dup := st.calls[f.Id]
		switch {
		case st.stopping:
			refuse = status.Error(codes.Unavailable, kvpb.NotRunPrefix+"rpcmux: the server is stopping")
		case len(st.calls) >= MaxInFlight:
			refuse = status.Errorf(codes.Unavailable, kvpb.NotRunPrefix+"rpcmux: %d calls in progress on this stream", MaxInFlight)
		case dup:
			refuse = status.Errorf(codes.InvalidArgument, "rpcmux: call id %d is already in progress on this stream", f.Id)
		}
		if refuse != nil {
			st.wg.Add(1)
			st.mu.Unlock()
			// Not from this loop, which must keep reading (the answers
			// ahead of this one may be blocked by flow control).
			s.run(func() {
				defer st.wg.Done()
				st.send(stream, errorFrame(f.Id, refuse))
			})
			continue
		}
		var callCtx context.Context
		var cancel context.CancelFunc
		if f.TimeoutNanos > 0 {
			callCtx, cancel = context.WithTimeout(ctx, time.Duration(f.TimeoutNanos))
		} else {
			callCtx, cancel = context.WithCancel(ctx)
		}
		st.calls[f.Id] = cancel
		st.wg.Add(1)
		st.mu.Unlock()
		s.run(func() {
			defer st.wg.Done()
			out := s.call(callCtx, f)
			st.mu.Lock()
			delete(st.calls, f.Id)
			st.mu.Unlock()
			cancel()
			st.send(stream, out)
		})
	}
}

// call runs one call and builds its answer.
func (s *Server) call(ctx context.Context, f *kvpb.MuxFrame) *kvpb.MuxFrame {
	m, ok := s.methods[f.Method]
	if !ok {
		return errorFrame(f.Id, status.Errorf(codes.Unimplemented, "rpcmux: unknown method %q", f.Method))
	}
	sink := &headerSink{}
	ctx = context.WithValue(ctx, sinkKey{}, sink)
	dec := func(v any) error {
		msg, ok := v.(proto.Message)
		if !ok {
			return fmt.Errorf("rpcmux: %T is not a protobuf message", v)
		}
		if err := proto.Unmarshal(f.Payload, msg); err != nil {
			return status.Errorf(codes.InvalidArgument, "rpcmux: decoding the request of %s: %v", f.Method, err)
		}
		return nil
	}
	resp, err := m.handler(m.impl, ctx, dec, s.interceptor)
	if err != nil {
		return errorFrame(f.Id, err)
	}
	// An interceptor may answer nil (or a non-message): an Internal error,
	// as the gRPC server's codec makes it of a direct call, not a panic.
	msg, ok := resp.(proto.Message)
	if !ok {
		return errorFrame(f.Id, status.Errorf(codes.Internal, "rpcmux: encoding the response of %s: %T is not a protobuf message", f.Method, resp))
	}
	out := &kvpb.MuxFrame{Id: f.Id}
	if out.Payload, err = proto.Marshal(msg); err != nil {
		return errorFrame(f.Id, status.Errorf(codes.Internal, "rpcmux: encoding the response of %s: %v", f.Method, err))
	}
	limit := MaxAnswerBytes
	if f.MaxAnswerBytes > 0 {
		limit = int(min(int64(limit), f.MaxAnswerBytes))
	}
	if len(out.Payload) > limit {
		// Sent, it would break the stream and every call on it.
		return errorFrame(f.Id, status.Errorf(codes.ResourceExhausted, "rpcmux: the response of %s is %d bytes, over the limit of %d", f.Method, len(out.Payload), limit))
	}
	sink.mu.Lock()
	for k, vs := range sink.md {
		out.Headers = append(out.Headers, &kvpb.MuxHeader{Key: k, Values: encodeHeader(k, vs)})
	}
	sink.mu.Unlock()
	return out
}

// errorFrame answers call id with err's gRPC status. Like the gRPC server
// for a direct call, it gives an error without a status that is (or wraps)
// a context error the matching code, not Unknown.
func errorFrame(id uint64, err error) *kvpb.MuxFrame {
	st, ok := status.FromError(err)
	if !ok {
		st = status.FromContextError(err)
	}
	p := st.Proto()
	b, mErr := proto.Marshal(p)
	if mErr != nil {
		// A message that is not valid UTF-8 (gRPC percent-encodes the
		// message of a direct call; a proto3 string cannot carry it, and
		// the caller could not decode the status): keep the code.
		p.Message = strings.ToValidUTF8(p.Message, "\uFFFD")
		if b, mErr = proto.Marshal(p); mErr != nil {
			p.Details = nil
			b, _ = proto.Marshal(p)
		}
	}
	return &kvpb.MuxFrame{Id: id, Status: b}
}
