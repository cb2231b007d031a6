package rpcmux

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"

	"github.com/cairndb/cairn/internal/kvpb"
)

// fakeClientStream records what a session sends; nothing is ever received.
type fakeClientStream struct {
	grpc.ClientStream // nil: only Send and CloseSend are used
	sends             atomic.Int64
	closeSends        atomic.Int64
}

func (f *fakeClientStream) Send(*kvpb.MuxFrame) error     { f.sends.Add(1); return nil }
func (f *fakeClientStream) Recv() (*kvpb.MuxFrame, error) { select {} }
func (f *fakeClientStream) CloseSend() error              { f.closeSends.Add(1); return nil }

func newFakeSession(fs *fakeClientStream) *session {
	s := &session{ready: make(chan struct{}), done: make(chan struct{}), sendSem: make(chan struct{}, 1), calls: map[uint64]chan result{}}
	s.stream = fs
	s.abort = func() {}
	close(s.ready)
	return s
}

// TestDrainingClosesAfterLastCall: a draining session closes its side
// (CloseSend) once its last call is gone, also when that call gives up
// while waiting for the stream just after the holder flushed; otherwise the
// server's Stream handler, and with it GracefulStop, would wait for good.
func TestDrainingClosesAfterLastCall(t *testing.T) {
	lost := 0
	const iterations = 5000
	for i := 0; i < iterations; i++ {
		fs := &fakeClientStream{}
		s := newFakeSession(fs)
		s.sendSem <- struct{}{} // another sender holds the stream
		ctx, cancel := context.WithCancel(context.Background())
		sent := make(chan struct{})
		go func() {
			defer close(sent)
			_, _ = s.send(ctx, &kvpb.MuxFrame{Method: "m"})
		}()
		// Wait until the call is registered (it waits for sendSem).
		for {
			s.mu.Lock()
			n := len(s.calls)
			s.mu.Unlock()
			if n == 1 {
				break
			}
		}
		// go_away arrives (run sets draining and flushes; the stream is
		// held, so that flush returns at once).
		s.mu.Lock()
		s.draining = true
		s.mu.Unlock()
		s.flush()
		// The caller gives up while the holder releases and flushes.
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); cancel() }()
		go func() { defer wg.Done(); <-s.sendSem; s.flush() }()
		wg.Wait()
		<-sent
		if fs.closeSends.Load() == 0 && s.owes() {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d runs: a draining session with no calls left never sent CloseSend (owes() still true, nobody flushes)", lost, iterations)
	}
}
