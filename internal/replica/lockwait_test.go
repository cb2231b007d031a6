package replica

import (
	"fmt"
	"testing"
	"time"

	"github.com/cairndb/cairn/internal/kvpb"
)

func TestLockWaitQueue(t *testing.T) {
	var q lockWaitQueue
	a1, a2, b := q.channel([]byte("a")), q.channel([]byte("a")), q.channel([]byte("b"))
	q.released([][]byte{[]byte("a"), []byte("c")})
	for _, ch := range []<-chan struct{}{a1, a2} {
		select {
		case <-ch:
		default:
			t.Fatal("a waiter of a released key was not woken")
		}
	}
	select {
	case <-b:
		t.Fatal("a waiter of another key was woken")
	default:
	}
	if again := q.channel([]byte("a")); again == a1 {
		t.Fatal("a released key's channel was reused")
	}
}

func TestLockWaitFor(t *testing.T) {
	conflict := kvpb.NewLockConflict([]*kvpb.LockInfo{{Key: []byte("k"), StartTs: 5}})
	lock := func(waitMs uint64) *kvpb.RequestUnion {
		return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_AcquireLock{AcquireLock: &kvpb.AcquireLockRequest{Key: []byte("k"), WaitMs: waitMs}}}
	}
	put := &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Put{Put: &kvpb.PutRequest{Key: []byte("k")}}}
	for _, tc := range []struct {
		name string
		reqs []*kvpb.RequestUnion
		err  error
		want time.Duration
	}{
		{"locking read", []*kvpb.RequestUnion{lock(200)}, conflict, 200 * time.Millisecond},
		{"bounded", []*kvpb.RequestUnion{lock(60000)}, conflict, maxLockWait},
		{"no wait asked", []*kvpb.RequestUnion{lock(0)}, conflict, 0},
		{"plain write", []*kvpb.RequestUnion{put}, conflict, 0},
		{"mixed batch", []*kvpb.RequestUnion{lock(200), put}, conflict, 0},
		{"other error", []*kvpb.RequestUnion{lock(200)}, kvpb.NewErrorf("boom"), 0},
	} {
		got, key := lockWaitFor(tc.reqs, tc.err)
		if got != tc.want || (got > 0 && string(key) != "k") {
			t.Errorf("%s: wait %s on %q, want %s", tc.name, got, key, tc.want)
		}
	}
}

// TestLockWaitQueueBounded: past maxLockWaitKeys keys with waiters, every
// waiter is woken (it evaluates again) and the queue starts over.
func TestLockWaitQueueBounded(t *testing.T) {
	var q lockWaitQueue
	first := q.channel([]byte("k0"))
	for i := 1; i < maxLockWaitKeys; i++ {
		q.channel([]byte(fmt.Sprintf("k%d", i)))
	}
	select {
	case <-first:
		t.Fatal("woken before the bound")
	default:
	}
	q.channel([]byte("one more"))
	select {
	case <-first:
	default:
		t.Fatal("a waiter was not woken when the queue reached its bound")
	}
	if n := len(q.waits); n != 1 {
		t.Fatalf("%d keys after starting over, want 1", n)
	}
}
