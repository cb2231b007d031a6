package gcfloor

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercentFor(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		floor, live, roots uint64
		want               int
	}{
		{64 * mib, 0, 0, maxPercent},
		{64 * mib, 0, 1 * mib, 6400},
		{64 * mib, 1 * mib, 1 * mib, 3150}, // 1 + 2 × 31.5 = 64
		{64 * mib, 8 * mib, 0, 700},        // 8 + 8 × 7 = 64
		{64 * mib, 8 * mib, 8 * mib, 350},  // 8 + 16 × 3.5 = 64
		{64 * mib, 16 * mib, 0, 300},
		{64 * mib, 31 * mib, 0, 106},
		{64 * mib, 32 * mib, 0, 100},        // twice the live heap reaches the floor
		{64 * mib, 30 * mib, 10 * mib, 100}, // GOGC=100's goal (70) is above the floor
		{64 * mib, 1024 * mib, 0, 100},
		{64 * mib, 1024, 0, maxPercent}, // bounded
		{maxFloor, 1, maxFloor, 100},    // no overflow at the largest floor
	} {
		if got := percentFor(tc.floor, tc.live, tc.roots); got != tc.want {
			t.Errorf("percentFor(floor %d MiB, live %d B, roots %d B) = %d, want %d", tc.floor/mib, tc.live, tc.roots, got, tc.want)
		}
	}
}

// gogc reads the process's current GOGC.
func gogc(t *testing.T) int {
	t.Helper()
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// waitGOGC collects until the tuner (which runs after a collection, on the
// finalizer goroutine) has set want.
func waitGOGC(t *testing.T, want func(int) bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		runtime.GC()
		if want(gogc(t)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GOGC is %d after 10 s of collections, want %s", gogc(t), what)
		}
		time.Sleep(time.Millisecond)
	}
}

var keep [][]byte

// TestStartTunesAndStopRestores runs the tuner on the test process: with a
// small live heap it raises GOGC, with a live heap above half the floor it
// sets 100, and stop restores the GOGC from before for good.
func TestStartTunesAndStopRestores(t *testing.T) {
	t.Setenv("GOGC", "") // as if unset: Start only looks at whether it is empty
	before := gogc(t)
	stop, ok := Start(256 << 20)
	if !ok {
		t.Fatal("Start did not start")
	}
	defer stop()
	if _, again := Start(256 << 20); again {
		t.Fatal("a second tuner started beside the first")
	}
	waitGOGC(t, func(p int) bool { return p > 100 }, "above 100 with a small live heap")

	// A live heap above half the floor: back to GOGC=100.
	for range 160 {
		keep = append(keep, make([]byte, 1<<20))
	}
	waitGOGC(t, func(p int) bool { return p == 100 }, "100 with 160 MiB live")
	keep = nil
	waitGOGC(t, func(p int) bool { return p > 100 }, "above 100 once the heap is small again")

	stop()
	stop() // idempotent
	if got := gogc(t); got != before {
		t.Fatalf("GOGC after stop = %d, want %d (before Start)", got, before)
	}
	runPendingFinalizers(t) // a sentinel armed before stop has fired now
	if got := gogc(t); got != before {
		t.Fatalf("GOGC changed after stop: %d, want %d", got, before)
	}
}

func TestStartRespectsGOGCAndFloor(t *testing.T) {
	t.Setenv("GOGC", "200")
	if stop, ok := Start(64 << 20); ok {
		stop()
		t.Fatal("Start tuned although GOGC is set in the environment")
	}
	t.Setenv("GOGC", "")
	if stop, ok := Start(0); ok {
		stop()
		t.Fatal("Start tuned with a floor of 0")
	}
}

// runPendingFinalizers returns once every finalizer that was pending when
// it was called has run. Finalizers run one batch at a time on a single
// goroutine, and a collection queues every unreachable object's: a probe
// queued by a second collection runs only after the first one's batch.
func runPendingFinalizers(t *testing.T) {
	t.Helper()
	for range 2 {
		ran := make(chan struct{})
		runtime.SetFinalizer(&sentinel{}, func(*sentinel) { close(ran) })
		runtime.GC()
		select {
		case <-ran:
		case <-time.After(10 * time.Second):
			t.Fatal("a finalizer did not run within 10 s of a collection")
		}
	}
}
