// Package hlc provides the node's timestamp source for MVCC writes: a
// monotonic clock combining wall time (milliseconds, upper bits) with a
// logical counter (lower 18 bits), in the manner of TiDB's PD timestamps.
//
// The transactions issue replaces it, for transactional writes, by the
// cluster's timestamp oracle; per-key write timestamps stay monotonic
// regardless, because writers always write above a key's newest version.
package hlc

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// LogicalBits is the number of low bits holding the logical counter.
const LogicalBits = 18

// Clock hands out strictly increasing timestamps. Safe for concurrent use.
type Clock struct {
	wallNow func() time.Time
	mu      struct {
		sync.Mutex
		last uint64 // Invariant: every returned timestamp is <= last.
	}
}

// New returns a clock reading wallNow (time.Now when nil). Tests inject a
// skewed clock here; libfaketime does not affect Go.
func New(wallNow func() time.Time) *Clock {
	if wallNow == nil {
		wallNow = time.Now
	}
	return &Clock{wallNow: wallNow}
}

// FromPhysical builds a timestamp from wall milliseconds and a logical count.
func FromPhysical(ms int64, logical uint64) uint64 {
	return uint64(ms)<<LogicalBits | logical&(1<<LogicalBits-1)
}

// Physical returns the wall-time part of ts.
func Physical(ts uint64) time.Time {
	return time.UnixMilli(int64(ts >> LogicalBits))
}

// Expired reports whether a lifetime of ttl, counted from the physical time
// of start, is over at the wall time now (transaction lock TTLs).
func Expired(start uint64, ttl time.Duration, now time.Time) bool {
	return now.After(Physical(start).Add(ttl))
}

// Now returns a timestamp greater than every earlier one.
func (c *Clock) Now() uint64 {
	phys := FromPhysical(c.wallNow().UnixMilli(), 0)
	c.mu.Lock()
	defer c.mu.Unlock()
	if phys > c.mu.last {
		c.mu.last = phys
	} else {
		c.mu.last++
	}
	return c.mu.last
}

// MaxForwardJump bounds how far ahead of this node's wall clock a
// timestamp received from a request may move the clock (UpdateChecked): a
// larger jump is a bad or hostile request, or a clock so far off that the
// node should not serve.
const MaxForwardJump = 10 * time.Minute

// ErrTimestampTooFar is returned by UpdateChecked.
var ErrTimestampTooFar = errors.New("hlc: timestamp too far ahead of this node's clock")

// UpdateChecked is Update for a timestamp a request carried: it refuses
// one more than MaxForwardJump ahead of the wall clock.
func (c *Clock) UpdateChecked(ts uint64) error {
	if ahead := Physical(ts).Sub(c.wallNow()); ahead > MaxForwardJump {
		return fmt.Errorf("%w: %s ahead (at most %s)", ErrTimestampTooFar, ahead.Round(time.Second), MaxForwardJump)
	}
	c.Update(ts)
	return nil
}

// Update moves the clock to at least ts (after observing a newer timestamp).
func (c *Clock) Update(ts uint64) {
	c.mu.Lock()
	if ts > c.mu.last {
		c.mu.last = ts
	}
	c.mu.Unlock()
}
