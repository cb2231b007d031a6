package tso

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cairndb/cairn/internal/hlc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// memPersister is an in-memory Persister that counts writes.
type memPersister struct {
	mu     sync.Mutex
	bound  uint64
	writes int
}

func (p *memPersister) Load(context.Context) (uint64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bound, nil
}

func (p *memPersister) CompareAndSwap(_ context.Context, prev, next uint64) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bound != prev {
		return false, nil
	}
	p.bound = next
	p.writes++
	return true, nil
}

func TestOracleStrictlyIncreasingAcrossReigns(t *testing.T) {
	p := &memPersister{}
	wall := time.UnixMilli(1_000_000)
	clock := func() time.Time { return wall }
	ctx := context.Background()

	o := NewOracle(p, clock, time.Second)
	var last uint64
	for term := uint64(1); term <= 3; term++ {
		for i := 0; i < 1000; i++ {
			first, err := o.Allocate(ctx, 3, term)
			if err != nil {
				t.Fatal(err)
			}
			if first <= last {
				t.Fatalf("term %d: %d after %d", term, first, last)
			}
			if first%Step != 0 {
				t.Fatalf("term %d: odd timestamp %d handed out", term, first)
			}
			last = first + 2*Step
			if last >= p.bound {
				t.Fatalf("handed out %d at or above the persisted bound %d", last, p.bound)
			}
		}
		// The clock jumps back, and a brand-new oracle (a restart, another
		// node) takes over: still above everything handed out.
		wall = wall.Add(-time.Hour)
		o = NewOracle(p, clock, time.Second)
	}
	if p.writes > 10 {
		t.Fatalf("%d persisted writes for 3000 allocations: windows are not reused", p.writes)
	}
}

func TestOracleDetectsAnotherOracle(t *testing.T) {
	p := &memPersister{}
	ctx := context.Background()
	a := NewOracle(p, nil, time.Millisecond) // tiny windows: extends often
	b := NewOracle(p, nil, time.Millisecond)
	if _, err := a.Allocate(ctx, 1, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Allocate(ctx, 1, 1); err != nil {
		t.Fatal(err)
	}
	// a's next extension finds the bound moved by b.
	var err error
	for i := 0; i < 1<<20 && err == nil; i++ {
		_, err = a.Allocate(ctx, MaxCount, 1)
	}
	if err != ErrContended {
		t.Fatalf("got %v, want ErrContended", err)
	}
	if _, err := a.Allocate(ctx, 0, 1); err == nil {
		t.Fatal("count 0 accepted")
	}
}

func TestBatcherCoalescesAndStaysUnique(t *testing.T) {
	p := &memPersister{}
	o := NewOracle(p, nil, DefaultWindow)
	var mu sync.Mutex
	calls := 0
	b := NewBatcher(func(ctx context.Context, count uint32) (uint64, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		time.Sleep(time.Millisecond) // a round trip, so callers pile up
		return o.Allocate(ctx, count, 1)
	})
	defer b.Stop()
	const workers, each = 32, 100
	got := make([][]uint64, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var prev uint64
			for i := 0; i < each; i++ {
				ts, err := b.Now(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if ts <= prev {
					t.Errorf("worker %d: %d after %d", w, ts, prev)
				}
				prev = ts
				got[w] = append(got[w], ts)
			}
		}(w)
	}
	wg.Wait()
	var all []uint64
	for _, g := range got {
		all = append(all, g...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	for i := 1; i < len(all); i++ {
		if all[i] == all[i-1] {
			t.Fatalf("timestamp %d handed out twice", all[i])
		}
	}
	if calls >= workers*each {
		t.Fatalf("%d oracle calls for %d timestamps: no batching", calls, workers*each)
	}
	t.Logf("%d timestamps in %d oracle calls", workers*each, calls)
}

// Timestamps follow the wall clock, not only count up from the start of
// their window: a timestamp's physical part is when it was handed out
// (lock TTLs are measured from it).
func TestOracleFollowsWallClock(t *testing.T) {
	p := &memPersister{}
	wall := time.UnixMilli(1_000_000)
	o := NewOracle(p, func() time.Time { return wall }, 3*time.Second)
	ctx := context.Background()
	last := uint64(0)
	for step := 0; step < 10; step++ {
		ts, err := o.Allocate(ctx, 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := hlc.Physical(ts); !got.Equal(wall) {
			t.Fatalf("step %d: physical time %v, wall clock %v", step, got, wall)
		}
		if ts <= last {
			t.Fatalf("%d after %d", ts, last)
		}
		last = ts
		wall = wall.Add(700 * time.Millisecond) // within a window, and across
	}
	if p.writes > 4 {
		t.Fatalf("%d persisted windows for 7 s of wall time", p.writes)
	}
}
