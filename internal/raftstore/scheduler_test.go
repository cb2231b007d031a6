package raftstore

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// schedSnapshot is the scheduler's state, copied under its lock.
type schedSnapshot struct {
	queue []uint64
	state map[uint64]schedState
}

func (s *scheduler) snapshot() schedSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := schedSnapshot{queue: append([]uint64(nil), s.mu.queue...), state: make(map[uint64]schedState)}
	for id, st := range s.mu.state {
		out.state[id] = *st
	}
	return out
}

// checkInvariants verifies queued <=> in the queue exactly once, and that
// a processing group is never queued.
func (snap schedSnapshot) checkInvariants(t testing.TB) {
	t.Helper()
	count := map[uint64]int{}
	for _, id := range snap.queue {
		count[id]++
	}
	for id, n := range count {
		if n != 1 {
			t.Fatalf("group %d is in the queue %d times: %v", id, n, snap.queue)
		}
		if st, ok := snap.state[id]; !ok || !st.queued {
			t.Fatalf("group %d is in the queue but not marked queued: %+v", id, st)
		}
	}
	for id, st := range snap.state {
		if st.queued && count[id] != 1 {
			t.Fatalf("group %d is marked queued but the queue is %v", id, snap.queue)
		}
		if st.queued && st.processing {
			t.Fatalf("group %d is both queued and processing", id)
		}
	}
}

func ids(items []schedItem) []uint64 {
	var out []uint64
	for _, it := range items {
		out = append(out, it.id)
	}
	return out
}

func TestSchedulerFIFOAndMax(t *testing.T) {
	s := newScheduler()
	for id := uint64(1); id <= 10; id++ {
		s.enqueue(id, flagReady)
	}
	s.enqueue(3, flagReady) // already queued: no second entry
	s.snapshot().checkInvariants(t)
	var got [][]uint64
	var buf []schedItem
	for _, max := range []int{3, 3, 1, 100} {
		buf = s.next(max, buf)
		if len(buf) > max {
			t.Fatalf("next(%d) returned %d items", max, len(buf))
		}
		got = append(got, ids(buf))
	}
	want := "[[1 2 3] [4 5 6] [7] [8 9 10]]"
	if fmt.Sprint(got) != want {
		t.Fatalf("batches = %v, want %s", got, want)
	}
	snap := s.snapshot()
	snap.checkInvariants(t)
	if len(snap.queue) != 0 {
		t.Fatalf("queue not drained: %v", snap.queue)
	}
	for id, st := range snap.state {
		if !st.processing || st.flags != 0 {
			t.Fatalf("group %d after next: %+v, want processing with no pending flags", id, st)
		}
	}
}

func TestSchedulerMergesFlags(t *testing.T) {
	s := newScheduler()
	s.enqueue(7, flagReady)
	s.enqueue(7, flagTick)
	items := s.next(10, nil)
	if len(items) != 1 || items[0].id != 7 || items[0].flags != flagReady|flagTick {
		t.Fatalf("next = %+v, want one item for group 7 with both flags", items)
	}
}

// TestSchedulerRequeueWhileProcessing: work for a group being processed is
// remembered, not handed to a second worker, and re-queued exactly once when
// the worker is done.
func TestSchedulerRequeueWhileProcessing(t *testing.T) {
	s := newScheduler()
	s.enqueue(1, flagReady)
	s.enqueue(2, flagReady)
	first := s.next(1, nil)
	if fmt.Sprint(ids(first)) != "[1]" {
		t.Fatalf("next = %v", ids(first))
	}
	for i := 0; i < 5; i++ {
		s.enqueue(1, flagReady)
		s.enqueue(1, flagTick)
	}
	snap := s.snapshot()
	snap.checkInvariants(t)
	if fmt.Sprint(snap.queue) != "[2]" {
		t.Fatalf("queue while 1 is processing = %v, want [2] (1 must not be handed out again)", snap.queue)
	}
	// Another worker gets group 2 only.
	second := s.next(10, nil)
	if fmt.Sprint(ids(second)) != "[2]" {
		t.Fatalf("second worker got %v, want [2]", ids(second))
	}
	s.done(first)
	snap = s.snapshot()
	snap.checkInvariants(t)
	if fmt.Sprint(snap.queue) != "[1]" {
		t.Fatalf("queue after done = %v, want [1] exactly once", snap.queue)
	}
	s.enqueue(1, flagReady) // still queued once
	if q := s.snapshot().queue; fmt.Sprint(q) != "[1]" {
		t.Fatalf("queue = %v after enqueueing a queued group", q)
	}
	again := s.next(10, nil)
	if len(again) != 1 || again[0].id != 1 || again[0].flags != flagReady|flagTick {
		t.Fatalf("next = %+v, want group 1 with the flags that arrived while it was processed", again)
	}
	// Done with no new work: not re-queued.
	s.done(again)
	s.done(second)
	snap = s.snapshot()
	snap.checkInvariants(t)
	if len(snap.queue) != 0 {
		t.Fatalf("queue = %v, want empty (no work arrived)", snap.queue)
	}
	for id, st := range snap.state {
		if st.processing || st.queued || st.flags != 0 {
			t.Fatalf("group %d idle state = %+v", id, st)
		}
	}
}

func TestSchedulerEnqueueAll(t *testing.T) {
	s := newScheduler()
	s.enqueue(2, flagReady)
	s.enqueueAll([]uint64{1, 2, 3}, flagTick)
	items := s.next(10, nil)
	got := map[uint64]uint8{}
	for _, it := range items {
		got[it.id] = it.flags
	}
	want := map[uint64]uint8{1: flagTick, 2: flagReady | flagTick, 3: flagTick}
	if fmt.Sprint(got) != fmt.Sprint(want) || len(items) != 3 {
		t.Fatalf("items = %+v, want %v", items, want)
	}
	if fmt.Sprint(ids(items)) != "[2 1 3]" {
		t.Fatalf("order = %v, want [2 1 3] (2 was queued first)", ids(items))
	}
}

// TestSchedulerStopUnblocksWaiters: workers blocked in next return nil on
// stop, and next returns nil after stop even with work queued.
func TestSchedulerStopUnblocksWaiters(t *testing.T) {
	s := newScheduler()
	const waiters = 4
	var wg sync.WaitGroup
	var returned atomic.Int32
	for i := 0; i < waiters; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if items := s.next(10, nil); items != nil {
				t.Errorf("next returned %v after stop, want nil", items)
			}
			returned.Add(1)
		}()
	}
	s.stop()
	wg.Wait()
	if returned.Load() != waiters {
		t.Fatalf("%d of %d waiters returned", returned.Load(), waiters)
	}
	s.enqueue(1, flagReady)
	if items := s.next(10, nil); items != nil {
		t.Fatalf("next after stop = %v, want nil", items)
	}
}

// TestSchedulerWakesEnoughWorkers: when more groups are queued than one
// worker takes, idle workers are woken for the rest.
func TestSchedulerWakesEnoughWorkers(t *testing.T) {
	s := newScheduler()
	const workers = 3
	got := make(chan []uint64, workers)
	for i := 0; i < workers; i++ {
		go func() {
			items := s.next(1, nil)
			got <- ids(items)
		}()
	}
	// Queue three groups with a single wake-up: each worker that takes one
	// must pass the signal on.
	s.mu.Lock()
	for id := uint64(1); id <= workers; id++ {
		s.enqueueLocked(id, flagReady)
	}
	s.mu.Unlock()
	s.cond.Signal()
	seen := map[uint64]bool{}
	timeout := time.After(10 * time.Second)
	for i := 0; i < workers; i++ {
		select {
		case items := <-got:
			if len(items) != 1 || seen[items[0]] {
				t.Fatalf("worker got %v (seen %v)", items, seen)
			}
			seen[items[0]] = true
		case <-timeout:
			s.stop()
			t.Fatalf("only %d of %d workers woke up for %d queued groups", i, workers, workers)
		}
	}
	s.stop()
}

func TestSchedulerRemove(t *testing.T) {
	s := newScheduler()
	s.enqueue(1, flagReady)
	s.remove(1) // queued: kept, or the queue would hold an id without state
	if _, ok := s.snapshot().state[1]; !ok {
		t.Fatal("remove dropped the state of a queued group")
	}
	items := s.next(1, nil)
	s.remove(1) // processing: kept
	if _, ok := s.snapshot().state[1]; !ok {
		t.Fatal("remove dropped the state of a processing group")
	}
	s.done(items)
	s.remove(1) // idle: dropped
	if _, ok := s.snapshot().state[1]; ok {
		t.Fatal("remove kept the state of an idle group")
	}
	s.done(items) // done for a removed group is harmless
	s.snapshot().checkInvariants(t)
}

// TestSchedulerConcurrent hammers the scheduler with producers and workers
// and checks that no group is ever held by two workers at once and that no
// work is lost: once producers stop, every flag is eventually handed out.
func TestSchedulerConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	s := newScheduler()
	const (
		groups    = 16
		workers   = 4
		producers = 4
		perProd   = 3000
	)
	var held [groups + 1]atomic.Int32
	var handedOut, processedRounds atomic.Int64
	var workerWG sync.WaitGroup
	for w := 0; w < workers; w++ {
		workerWG.Add(1)
		go func(max int) {
			defer workerWG.Done()
			var buf []schedItem
			for {
				buf = s.next(max, buf)
				if buf == nil {
					return
				}
				if len(buf) > max {
					t.Errorf("next(%d) returned %d items", max, len(buf))
				}
				for _, it := range buf {
					if n := held[it.id].Add(1); n != 1 {
						t.Errorf("group %d held by %d workers at once", it.id, n)
					}
					if it.flags == 0 {
						t.Errorf("group %d handed out without work", it.id)
					}
					handedOut.Add(1)
				}
				processedRounds.Add(1)
				runtime.Gosched() // widen the window for a double hand-out
				for _, it := range buf {
					held[it.id].Add(-1)
				}
				s.done(buf)
			}
		}(1 + w%3)
	}
	var prodWG sync.WaitGroup
	seeds := make([]uint64, producers)
	for i := range seeds {
		seeds[i] = rng.Uint64()
	}
	for p := 0; p < producers; p++ {
		prodWG.Add(1)
		go func(seed uint64) {
			defer prodWG.Done()
			r := rand.New(rand.NewPCG(seed, 2))
			for i := 0; i < perProd; i++ {
				if r.IntN(8) == 0 {
					s.enqueueAll([]uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, flagTick)
				} else {
					s.enqueue(1+r.Uint64N(groups), flagReady)
				}
				runtime.Gosched() // let workers interleave with producers

			}
		}(seeds[p])
	}
	prodWG.Wait()
	// Quiescence: nothing queued, nothing processing, no flag pending.
	waitFor(t, 20*time.Second, "the scheduler to drain", func() bool {
		snap := s.snapshot()
		snap.checkInvariants(t)
		if len(snap.queue) > 0 {
			return false
		}
		for _, st := range snap.state {
			if st.processing || st.queued || st.flags != 0 {
				return false
			}
		}
		return true
	})
	s.stop()
	workerWG.Wait()
	if handedOut.Load() == 0 || processedRounds.Load() == 0 {
		t.Fatal("no work was processed")
	}
	t.Logf("%d items in %d rounds", handedOut.Load(), processedRounds.Load())
}
