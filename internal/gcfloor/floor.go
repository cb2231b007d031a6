package gcfloor

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// maxPercent bounds the GOGC the tuner sets (a live heap of a few KiB
// would otherwise ask for millions of percent); maxFloor bounds the floor
// (so that the arithmetic cannot overflow).
const (
	maxPercent = 10000
	maxFloor   = 1 << 40
)

// The runtime's heap goal is live + (live + stacks + globals) × GOGC/100.
var sampleNames = []string{"/gc/heap/live:bytes", "/gc/scan/stack:bytes", "/gc/scan/globals:bytes"}

// active guards against two tuners fighting over the process's GOGC.
var active atomic.Bool

// Start tunes GOGC after every collection so that the next one starts when
// the heap reaches floor bytes, or at GOGC=100's goal if that is larger
// (about twice the live heap).
// It returns a function that stops the tuning and restores the GOGC in force
// before, and ok true; or, doing nothing, ok false when floor is not
// positive, GOGC is set in the environment (the operator's choice wins) or a
// tuner is running already.
func Start(floor int64) (stop func(), ok bool) {
	if floor <= 0 || os.Getenv("GOGC") != "" || !active.CompareAndSwap(false, true) {
		return func() {}, false
	}
	t := &tuner{floor: uint64(min(floor, maxFloor)), sample: make([]metrics.Sample, len(sampleNames))}
	for i, n := range sampleNames {
		t.sample[i].Name = n
	}
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

// percentLocked is the GOGC whose heap goal is the floor, or 100 if that
// is less.
func (t *tuner) percentLocked() int {
	metrics.Read(t.sample)
	var v [3]uint64
	for i, s := range t.sample {
		if s.Value.Kind() == metrics.KindUint64 {
			v[i] = s.Value.Uint64()
		}
	}
	return percentFor(t.floor, v[0], v[1]+v[2])
}

// percentFor solves live + (live + roots) × p/100 = floor for p, where roots
// are the stacks and globals the collector scans; at least 100, at most
// maxPercent.
func percentFor(floor, live, roots uint64) int {
	if live >= floor {
		return 100
	}
	scanned := live + roots
	if scanned == 0 {
		return maxPercent // nothing measured yet
	}
	return int(max(100, min(maxPercent, (floor-live)*100/scanned)))
}
