package tso

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cairndb/cairn/internal/hlc"
)

// Persister stores the oracle's bound (in the meta range).
type Persister interface {
	// Load returns the persisted bound, 0 if none.
	Load(ctx context.Context) (uint64, error)
	// CompareAndSwap sets the bound to next if it still is prev.
	CompareAndSwap(ctx context.Context, prev, next uint64) (bool, error)
}

// MaxCount bounds the timestamps of one Allocate.
const MaxCount = 1 << 16

// DefaultWindow is the wall time one persisted window covers.
const DefaultWindow = 3 * time.Second

// Oracle allocates timestamps on the meta range's leaseholder.
type Oracle struct {
	p      Persister
	now    func() time.Time
	window uint64 // in timestamp units

	mu struct {
		sync.Mutex
		term uint64 // the reign the window belongs to
		// Invariant: next <= limit <= the persisted bound.
		next, limit uint64
	}
}

// NewOracle returns an oracle; now is the wall clock (time.Now when nil;
// tests inject offsets).
func NewOracle(p Persister, now func() time.Time, window time.Duration) *Oracle {
	if now == nil {
		now = time.Now
	}
	return &Oracle{p: p, now: now, window: hlc.FromPhysical(window.Milliseconds(), 0)}
}

// ErrContended means another oracle moved the persisted bound: this one is
// not the leaseholder any more.
var ErrContended = errors.New("tso: the persisted bound moved: another oracle is active")

// Step is the spacing of the timestamps the oracle hands out: they are all
// even. Timestamps derived as one more than an issued one (a one-phase
// commit's, see replica/replica_tscache.go) are odd, so a version at such a
// timestamp is never exactly at any snapshot's.
const Step = 2

// Issued reports whether ts may have been handed out by the oracle (it is
// even), as opposed to one more than such a timestamp (a one-phase commit's).
func Issued(ts uint64) bool { return ts%Step == 0 }

// Allocate returns the first of count timestamps Step apart, all even
// (first, first+Step, ...). term is the
// caller's current lease term of the meta range: a new term discards the
// in-memory window and starts above the persisted bound.
func (o *Oracle) Allocate(ctx context.Context, count uint32, term uint64) (uint64, error) {
	if count == 0 || count > MaxCount {
		return 0, fmt.Errorf("tso: count %d out of range [1, %d]", count, MaxCount)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if term != o.mu.term {
		o.mu.term, o.mu.next, o.mu.limit = term, 0, 0
	}
	// Timestamps follow the wall clock (their physical part is when they
	// were handed out: lock TTLs are measured from it), not just count up
	// from the start of the window.
	wall := hlc.FromPhysical(o.now().UnixMilli(), 0)
	span := uint64(count) * Step
	if o.mu.next == 0 || even(max(o.mu.next, wall))+span > o.mu.limit {
		if err := o.extendLocked(ctx, span); err != nil {
			return 0, err
		}
	}
	first := even(max(o.mu.next, wall))
	o.mu.next = first + span
	return first, nil
}

// extendLocked persists a new window above the bound, the old window and
// the wall clock. Within a reign the compare-and-set expects the bound this
// oracle persisted last, so a bound moved by another oracle is noticed
// (ErrContended); a new reign starts from the bound as loaded.
func (o *Oracle) extendLocked(ctx context.Context, span uint64) error {
	bound := o.mu.limit
	if bound == 0 {
		var err error
		if bound, err = o.p.Load(ctx); err != nil {
			return fmt.Errorf("tso: loading the bound: %w", err)
		}
	}
	start := max(bound, o.mu.next, hlc.FromPhysical(o.now().UnixMilli(), 0), 1)
	limit := even(start) + max(o.window, span)
	ok, err := o.p.CompareAndSwap(ctx, bound, limit)
	if err != nil {
		return fmt.Errorf("tso: persisting the bound: %w", err)
	}
	if !ok {
		o.mu.next, o.mu.limit = 0, 0
		return ErrContended
	}
	o.mu.next, o.mu.limit = start, limit
	return nil
}

// even rounds ts up to a multiple of Step.
func even(ts uint64) uint64 { return (ts + Step - 1) / Step * Step }
