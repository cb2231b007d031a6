package replica

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// failAfter bounds every wait in these tests; it only detects hangs.
const failAfter = 10 * time.Second

func pt(k string, write bool) latchSpan { return latchSpan{key: []byte(k), write: write} }

func sp(k, e string, write bool) latchSpan {
	return latchSpan{key: []byte(k), end: []byte(e), write: write}
}

func mustAcquire(t *testing.T, m *latchManager, spans ...latchSpan) func() {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), failAfter)
	defer cancel()
	release, err := m.acquireSpans(ctx, spans)
	if err != nil {
		t.Fatalf("acquire %v: %v", spans, err)
	}
	return release
}

// canAcquire reports whether spans could be latched right now, without
// waiting: with a done context acquireSpans succeeds only if nothing
// conflicts. Whatever is acquired is released again.
func canAcquire(t *testing.T, m *latchManager, spans ...latchSpan) bool {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	release, err := m.acquireSpans(ctx, spans)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("acquire %v: %v", spans, err)
		}
		return false
	}
	release()
	return true
}

// acquireAsync acquires spans in a goroutine and returns a channel that
// yields the release function once acquired.
func acquireAsync(t *testing.T, m *latchManager, spans ...latchSpan) <-chan func() {
	t.Helper()
	ch := make(chan func(), 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), failAfter)
		defer cancel()
		release, err := m.acquireSpans(ctx, spans)
		if err != nil {
			t.Errorf("acquire %v: %v", spans, err)
			close(ch)
			return
		}
		ch <- release
	}()
	return ch
}

func awaitAcquired(t *testing.T, ch <-chan func()) func() {
	t.Helper()
	select {
	case release, ok := <-ch:
		if !ok {
			t.Fatal("acquire failed")
		}
		return release
	case <-time.After(failAfter):
		t.Fatal("acquire still blocked after release")
		return nil
	}
}

func heldCount(m *latchManager) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.held)
}

func TestLatchSpanOverlaps(t *testing.T) {
	for _, tc := range []struct {
		a, b latchSpan
		want bool
	}{
		{pt("a", false), pt("a", false), true},
		{pt("a", false), pt("b", false), false},
		{pt("a", false), latchSpan{key: []byte("a"), end: []byte{}}, true}, // empty end is a point
		{pt("b", false), sp("b", "d", false), true},
		{pt("c", false), sp("b", "d", false), true},
		{pt("d", false), sp("b", "d", false), false},
		{pt("a", false), sp("b", "d", false), false},
		{pt("b\x00", false), sp("b", "b\x00", false), false},
		{sp("a", "c", false), sp("b", "d", false), true},
		{sp("a", "b", false), sp("b", "d", false), false},
		{sp("a", "z", false), sp("b", "c", false), true},
	} {
		if got := tc.a.overlaps(tc.b); got != tc.want {
			t.Errorf("%v overlaps %v = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if got := tc.b.overlaps(tc.a); got != tc.want {
			t.Errorf("%v overlaps %v = %v, want %v", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestLatchReadReadShare(t *testing.T) {
	m := newLatchManager()
	r1 := mustAcquire(t, m, pt("a", false))
	// A second reader on the same key must not wait for the first.
	r2 := awaitAcquired(t, acquireAsync(t, m, pt("a", false)))
	r3 := mustAcquire(t, m, sp("a", "c", false))
	if canAcquire(t, m, pt("a", true)) {
		t.Fatal("write acquired while reads held")
	}
	r1()
	r2()
	r3()
	if !canAcquire(t, m, pt("a", true)) {
		t.Fatal("write blocked after reads released")
	}
}

func TestLatchWriteBlocksReadAndWrite(t *testing.T) {
	m := newLatchManager()
	w := mustAcquire(t, m, pt("a", true))
	if canAcquire(t, m, pt("a", false)) {
		t.Fatal("read acquired while write held")
	}
	if canAcquire(t, m, pt("a", true)) {
		t.Fatal("write acquired while write held")
	}
	if !canAcquire(t, m, pt("b", true), pt("b", false)) {
		t.Fatal("other key blocked")
	}
	rc := acquireAsync(t, m, pt("a", false))
	wc := acquireAsync(t, m, pt("a", true))
	select {
	case <-rc:
		t.Fatal("read acquired while write held")
	case <-wc:
		t.Fatal("write acquired while write held")
	case <-time.After(20 * time.Millisecond):
	}
	w()
	// Exactly one of the waiters gets in first, and they exclude each other.
	var first, second func()
	var secondCh <-chan func()
	select {
	case first = <-rc:
		secondCh = wc
	case first = <-wc:
		secondCh = rc
	case <-time.After(failAfter):
		t.Fatal("waiters still blocked after release")
	}
	select {
	case <-secondCh:
		t.Fatal("read and write held together")
	default:
	}
	first()
	second = awaitAcquired(t, secondCh)
	second()
	if n := heldCount(m); n != 0 {
		t.Fatalf("%d entries still held", n)
	}
}

func TestLatchSpanWriteBlocksPointReadInside(t *testing.T) {
	m := newLatchManager()
	w := mustAcquire(t, m, sp("b", "d", true))
	for _, k := range []string{"b", "c", "c\xff"} {
		if canAcquire(t, m, pt(k, false)) {
			t.Errorf("read of %q inside [b, d) acquired", k)
		}
	}
	for _, k := range []string{"a", "d", "e"} {
		if !canAcquire(t, m, pt(k, false)) {
			t.Errorf("read of %q outside [b, d) blocked", k)
		}
	}
	if !canAcquire(t, m, sp("d", "f", true)) || !canAcquire(t, m, sp("a", "b", true)) {
		t.Error("adjacent span blocked")
	}
	rc := acquireAsync(t, m, pt("c", false))
	w()
	awaitAcquired(t, rc)()
}

func TestLatchSpanReadBlocksPointWriteInside(t *testing.T) {
	m := newLatchManager()
	r := mustAcquire(t, m, sp("b", "d", false))
	if canAcquire(t, m, pt("c", true)) {
		t.Error("write inside read span acquired")
	}
	if canAcquire(t, m, sp("a", "c", true)) {
		t.Error("overlapping write span acquired")
	}
	if !canAcquire(t, m, pt("c", false)) {
		t.Error("read inside read span blocked")
	}
	if !canAcquire(t, m, pt("d", true)) {
		t.Error("write outside read span blocked")
	}
	wc := acquireAsync(t, m, pt("c", true))
	r()
	awaitAcquired(t, wc)()
}

// TestLatchWritePassesReads: a write latch that passes reads is taken while
// reads hold the key or a span over it; it still waits for writes, and
// reads (and writes) that come later wait for it.
func TestLatchWritePassesReads(t *testing.T) {
	m := newLatchManager()
	pw := func(k string) latchSpan { s := pt(k, true); s.pastReads = true; return s }
	rp := mustAcquire(t, m, pt("c", false))
	rs := mustAcquire(t, m, sp("b", "d", false))
	if canAcquire(t, m, pt("c", true)) {
		t.Error("a plain write passed a read")
	}
	w := mustAcquire(t, m, pw("c"))
	if canAcquire(t, m, pt("c", false)) || canAcquire(t, m, sp("a", "z", false)) {
		t.Error("a read passed a held write")
	}
	if canAcquire(t, m, pw("c")) {
		t.Error("a write passed a held write")
	}
	rc := acquireAsync(t, m, pt("c", false))
	w()
	awaitAcquired(t, rc)()
	rp()
	rs()
}

// TestLatchReadBelowStampedWrite: a read at a timestamp waits for a write
// until the write is stamped above it (then at once), or released.
func TestLatchReadBelowStampedWrite(t *testing.T) {
	m := newLatchManager()
	at := func(k string, ts uint64) latchSpan { s := pt(k, false); s.readTS = ts; return s }
	ctx := context.Background()
	w, e, err := m.acquireStamped(ctx, []latchSpan{pt("k", true)})
	if err != nil {
		t.Fatal(err)
	}
	below := acquireAsync(t, m, at("k", 10))
	above := acquireAsync(t, m, at("k", 20))
	unknown := acquireAsync(t, m, pt("k", false))
	// Stamp once a read at a timestamp waits for the write (it asked to be
	// woken by the stamp).
	deadline := time.Now().Add(failAfter)
	for {
		m.mu.Lock()
		waiting := e.stamped != nil
		m.mu.Unlock()
		if waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no read waited for the write")
		}
		runtime.Gosched()
	}
	m.stamp(e, 15)
	awaitAcquired(t, below)()
	if canAcquire(t, m, at("k", 20)) || canAcquire(t, m, at("k", 15)) || canAcquire(t, m, pt("k", false)) {
		t.Error("a read at or above the write's stamp, or at no timestamp, passed it")
	}
	select {
	case <-above:
		t.Fatal("a read above the stamp stopped waiting before the write was released")
	case <-unknown:
		t.Fatal("a read without a timestamp stopped waiting before the write was released")
	case <-time.After(20 * time.Millisecond):
	}
	w()
	awaitAcquired(t, above)()
	awaitAcquired(t, unknown)()
}

func TestLatchContextCancel(t *testing.T) {
	m := newLatchManager()
	w := mustAcquire(t, m, pt("a", true))
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		// "b" is free but must not stay latched when the call gives up.
		release, err := m.acquireSpans(ctx, []latchSpan{pt("b", true), pt("a", true)})
		if err == nil {
			release()
		}
		errc <- err
	}()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(failAfter):
		t.Fatal("acquire not cancelled")
	}
	if n := heldCount(m); n != 1 {
		t.Fatalf("%d entries held, want 1", n)
	}
	if !canAcquire(t, m, pt("b", true)) {
		t.Fatal("cancelled acquire left b latched")
	}
	w()
	if n := heldCount(m); n != 0 {
		t.Fatalf("%d entries held, want 0", n)
	}
	if !canAcquire(t, m, pt("a", true), pt("b", true)) {
		t.Fatal("latch left held")
	}

	// A deadline behaves the same.
	w = mustAcquire(t, m, sp("a", "c", false))
	dctx, dcancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer dcancel()
	if _, err := m.acquireSpans(dctx, []latchSpan{pt("b", true)}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	w()
	if n := heldCount(m); n != 0 {
		t.Fatalf("%d entries held, want 0", n)
	}
}

func TestLatchReleaseIdempotent(t *testing.T) {
	m := newLatchManager()
	r1 := mustAcquire(t, m, pt("a", true))
	r1()
	r2 := mustAcquire(t, m, pt("a", true))
	r1() // must not release r2's latch
	if canAcquire(t, m, pt("a", false)) {
		t.Fatal("second release of a stale latch freed a newer holder")
	}
	r2()
	r2()
	if n := heldCount(m); n != 0 {
		t.Fatalf("%d entries held, want 0", n)
	}
}

func TestLatchInvalidAndEmpty(t *testing.T) {
	m := newLatchManager()
	if _, err := m.acquireSpans(context.Background(), []latchSpan{sp("b", "a", true)}); err == nil {
		t.Error("inverted span accepted")
	}
	if _, err := m.acquireSpans(context.Background(), []latchSpan{sp("b", "b", false)}); err == nil {
		t.Error("empty span accepted")
	}
	release, err := m.acquireSpans(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	release()
	release()
	if n := heldCount(m); n != 0 {
		t.Fatalf("%d entries held, want 0", n)
	}
}

func TestLatchAcquirePointKeys(t *testing.T) {
	m := newLatchManager()
	ctx := context.Background()
	// Duplicate keys within one batch do not conflict with each other.
	release, err := m.acquire(ctx, [][]byte{[]byte("b"), []byte("a"), []byte("b")})
	if err != nil {
		t.Fatal(err)
	}
	if canAcquire(t, m, pt("a", false)) || canAcquire(t, m, sp("b", "c", false)) {
		t.Fatal("acquire did not take write latches")
	}
	if !canAcquire(t, m, pt("c", true)) {
		t.Fatal("unrelated key blocked")
	}
	release()
	if !canAcquire(t, m, pt("a", true), pt("b", true)) {
		t.Fatal("latches left held")
	}
}

// TestLatchStress runs random mixes of overlapping batches concurrently and
// checks mutual exclusion with a counter per key. Hangs (deadlock) are caught
// by the overall timeout.
func TestLatchStress(t *testing.T) {
	const (
		goroutines = 8
		iterations = 500
		writerMark = 1 << 20 // added by a writer; readers add 1
	)
	keys := [...]string{"a", "b", "c", "d", "e", "f"}
	bound := append(keys[:], "g") // span ends
	var counts [len(keys)]atomic.Int64

	m := newLatchManager()
	var wg sync.WaitGroup
	done := make(chan struct{})
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 42))
			for range iterations {
				n := 1 + rng.IntN(4)
				spans := make([]latchSpan, n)
				// mode per key index: 0 none, 1 read, 2 write.
				var mode [len(keys)]int
				for i := range spans {
					write := rng.IntN(2) == 0
					lo := rng.IntN(len(keys))
					hi := lo + 1
					if rng.IntN(2) == 0 {
						spans[i] = pt(keys[lo], write)
					} else {
						hi = lo + 1 + rng.IntN(len(bound)-lo-1)
						spans[i] = sp(keys[lo], bound[hi], write)
					}
					for k := lo; k < hi; k++ {
						if write {
							mode[k] = 2
						} else {
							mode[k] = max(mode[k], 1)
						}
					}
				}

				ctx, cancel := context.WithTimeout(context.Background(), failAfter)
				if rng.IntN(10) == 0 {
					// Some acquisitions give up early; they must leave nothing behind.
					cancel()
				}
				release, err := m.acquireSpans(ctx, spans)
				if err != nil {
					cancel()
					if !errors.Is(err, context.Canceled) {
						t.Errorf("acquire %v: %v", spans, err)
						return
					}
					continue
				}

				for k, md := range mode {
					switch md {
					case 1:
						if v := counts[k].Add(1); v >= writerMark {
							t.Errorf("read of %q overlaps a write (count %d)", keys[k], v)
						}
					case 2:
						if v := counts[k].Add(writerMark); v != writerMark {
							t.Errorf("write of %q overlaps another latch (count %d)", keys[k], v)
						}
					}
				}
				runtime.Gosched()
				for k, md := range mode {
					switch md {
					case 1:
						counts[k].Add(-1)
					case 2:
						counts[k].Add(-writerMark)
					}
				}
				release()
				if rng.IntN(4) == 0 {
					release() // second release is a no-op
				}
				cancel()
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("stress test hung: deadlock?")
	}
	if n := heldCount(m); n != 0 {
		t.Fatalf("%d entries held after stress, want 0", n)
	}
	for k := range counts {
		if v := counts[k].Load(); v != 0 {
			t.Errorf("count for %q = %d, want 0", keys[k], v)
		}
	}
}

// TestLatchIndexMatchesBruteForce: the key index finds a conflict exactly
// when checking every held span against every requested one does.
func TestLatchIndexMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	key := func() string { return string(rune('a' + rng.IntN(8))) }
	span := func() latchSpan {
		w := rng.IntN(2) == 0
		if rng.IntN(3) == 0 {
			k, e := key(), key()
			if k == e {
				e = k + "z"
			}
			if k > e {
				k, e = e, k
			}
			return sp(k, e, w)
		}
		p := pt(key(), w)
		p.pastReads = w && rng.IntN(2) == 0
		if !w && rng.IntN(2) == 0 {
			p.readTS = uint64(1 + rng.IntN(4))
		}
		return p
	}
	for round := 0; round < 2000; round++ {
		m := newLatchManager()
		var held [][]latchSpan
		var stamps []uint64
		var releases []func()
		for i := rng.IntN(5); i > 0; i-- {
			spans := []latchSpan{span(), span()}
			m.mu.Lock()
			c := m.conflictLocked(spans)
			m.mu.Unlock()
			if c != nil {
				continue
			}
			rel, e, err := m.acquireStamped(context.Background(), spans)
			if err != nil {
				t.Fatal(err)
			}
			ts := uint64(rng.IntN(5)) // 0: not stamped
			m.stamp(e, ts)
			held, stamps, releases = append(held, spans), append(stamps, ts), append(releases, rel)
		}
		// Release one at random, to exercise the index's removal.
		if len(releases) > 0 && rng.IntN(2) == 0 {
			i := rng.IntN(len(releases))
			releases[i]()
			held = append(held[:i], held[i+1:]...)
			stamps = append(stamps[:i], stamps[i+1:]...)
		}
		req := []latchSpan{span(), span()}
		want := false
		for hi, h := range held {
			for _, hs := range h {
				for _, s := range req {
					// A request waits for an overlapping held write
					// (unless it reads below the write's stamp), and a
					// write also for a held read unless it passes reads.
					below := !s.write && s.readTS != 0 && stamps[hi] > s.readTS
					want = want || (s.overlaps(hs) && ((hs.write && !below) || (s.write && !s.pastReads)))
				}
			}
		}
		m.mu.Lock()
		got := m.conflictLocked(req) != nil
		m.mu.Unlock()
		if got != want {
			t.Fatalf("round %d: held %v, request %v: conflict %v, want %v", round, held, req, got, want)
		}
	}
}
