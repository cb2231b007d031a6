package gcfloor

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// maxPercent bounds the GOGC the tuner sets (a live heap of 64 KiB would
// otherwise ask for 100,000%).
const maxPercent = 1000

const liveHeapMetric = "/gc/heap/live:bytes"

// active guards against two tuners fighting over the process's GOGC.
var active atomic.Bool

// Start tunes GOGC after every collection so that the next one starts when
// the heap reaches floor bytes or twice the live heap, whichever is larger.
// It returns a function that stops the tuning and restores the GOGC in force
// before, and ok true; or, doing nothing, ok false when floor is not
// positive, GOGC is set in the environment (the operator's choice wins) or a
// tuner is running already.
func Start(floor int64) (stop func(), ok bool) {
	if floor <= 0 || os.Getenv("GOGC") != "" || !active.CompareAndSwap(false, true) {
		return func() {}, false
	}
	t := &tuner{floor: uint64(floor), sample: []metrics.Sample{{Name: liveHeapMetric}}}
	t.before = debug.SetGCPercent(t.percent())
	t.arm()
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			t.stopped = true
			debug.SetGCPercent(t.before)
			t.mu.Unlock()
			active.Store(false)
		})
	}, true
}

type tuner struct {
	floor  uint64
	before int // GOGC before Start
	mu     sync.Mutex
	// stopped ends the tuning; under mu, so that a tune in progress never
	// overwrites the GOGC that stop restores.
	stopped bool
	sample  []metrics.Sample // under mu
}

// sentinel is garbage as soon as it is armed: its finalizer runs once the
// next collection has found it so, and arms a new one.
type sentinel struct{ t *tuner }

func (t *tuner) arm() { runtime.SetFinalizer(&sentinel{t: t}, (*sentinel).collected) }

func (s *sentinel) collected() {
	t := s.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	debug.SetGCPercent(t.percentLocked())
	t.arm()
}

func (t *tuner) percent() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.percentLocked()
}

// percentLocked is the GOGC whose heap goal is max(floor, 2 × live).
func (t *tuner) percentLocked() int {
	metrics.Read(t.sample)
	var live uint64
	if v := t.sample[0].Value; v.Kind() == metrics.KindUint64 {
		live = v.Uint64()
	}
	return percentFor(t.floor, live)
}

func percentFor(floor, live uint64) int {
	if live == 0 {
		return maxPercent // nothing measured yet: no collection has run
	}
	if live >= floor/2 {
		return 100
	}
	return int(min(maxPercent, floor*100/live-100))
}
