package replica

import (
	"bytes"
	"context"
	"fmt"
	"sync"
)

// latchSpan is a key (end nil) or a span [key, end) latched for reading or
// writing. An empty (nil or zero-length) end means the single key "key".
//
// The key and end bytes are retained while the latch is held and must not be
// modified until it is released.
type latchSpan struct {
	key, end []byte
	write    bool
	// pastReads, on a write latch, lets it be taken while reads hold
	// overlapping latches (it still waits for writes, and later reads wait
	// for it): for writes that cannot change what a read in progress
	// sees (see requestLatches).
	pastReads bool
	// readTS, on a read latch, is the timestamp the read reads at (0:
	// unknown): it does not wait for a held write stamped above it.
	readTS uint64
}

func (s latchSpan) isPoint() bool { return len(s.end) == 0 }

// overlaps reports whether s and o cover a common key. A point k overlaps a
// span [s, e) when s <= k < e; two spans overlap when s1 < e2 && s2 < e1; two
// points overlap when they are equal.
func (s latchSpan) overlaps(o latchSpan) bool {
	switch sp, op := s.isPoint(), o.isPoint(); {
	case sp && op:
		return bytes.Equal(s.key, o.key)
	case sp:
		return bytes.Compare(o.key, s.key) <= 0 && bytes.Compare(s.key, o.end) < 0
	case op:
		return bytes.Compare(s.key, o.key) <= 0 && bytes.Compare(o.key, s.end) < 0
	default:
		return bytes.Compare(s.key, o.end) < 0 && bytes.Compare(o.key, s.end) < 0
	}
}

// conflicts reports whether a request for s must wait for a held latch o
// whose entry is stamped oTS (0: not stamped): they overlap and at least
// one of them is a write, except that a write that may pass reads does not
// wait for a held read, and a read at a timestamp does not wait for a write
// stamped above it. Reads share.
func (s latchSpan) conflicts(o latchSpan, oTS uint64) bool {
	if o.write && !s.write && s.readTS != 0 && oTS > s.readTS {
		return false
	}
	return (o.write || s.waitsForReads()) && s.overlaps(o)
}

func (s latchSpan) waitsForReads() bool { return s.write && !s.pastReads }

// latchEntry is one acquisition: the spans it holds and a channel closed when
// they are released.
type latchEntry struct {
	spans []latchSpan
	done  chan struct{}
	// ranged: some of spans are ranges (not points).
	ranged bool
	// ts is the timestamp of the entry's writes once known (0 before; see
	// latchManager.stamp), and stamped is closed then, if anyone waits
	// for it. Both under latchManager.mu.
	ts      uint64
	stamped chan struct{}
}

// pointHold is one entry's latch on a point key.
type pointHold struct {
	e     *latchEntry
	write bool
}

// latchManager serialises conflicting requests with span latches. A write
// latch conflicts with any overlapping latch; a read latch conflicts only with
// overlapping write latches.
//
// Acquisition is all-or-nothing: under the mutex every requested span is
// checked against the held latches, and the spans are taken only if none
// conflicts. Otherwise the caller holds nothing while it waits for one
// conflicting holder to release, then re-checks everything. Since nobody
// waits while holding latches there is no hold-and-wait and hence no
// deadlock, whatever the order or overlap of the requested spans.
//
// Point latches (nearly all of them: single-key reads and writes) are
// indexed by key, so checking a requested point costs a map lookup plus a
// look at the entries that hold ranges (scans, span validations: few). A
// requested range is checked against every held entry. The number of
// entries is bounded by the number of in-flight requests (each bounded in
// spans by MaxBatchRequests). No goroutines are started.
//
// Fairness: there is no queue. A waiter only re-checks after the holder it
// waited on releases, and meanwhile new requests that do not conflict with the
// current holders are admitted. So a steady stream of overlapping readers can
// starve a writer indefinitely (each new reader shares with the ones already
// holding, and the writer never sees the span free), and likewise a request
// over a wide span can be starved by a stream of narrower ones. This is
// acceptable for now; fixing it needs waiters to be queued so that later
// arrivals also wait on earlier conflicting waiters.
type latchManager struct {
	mu     sync.Mutex
	held   map[*latchEntry]struct{}
	points map[string][]pointHold
	ranged map[*latchEntry]struct{} // held entries with range spans
}

func newLatchManager() *latchManager {
	return &latchManager{
		held:   make(map[*latchEntry]struct{}),
		points: make(map[string][]pointHold),
		ranged: make(map[*latchEntry]struct{}),
	}
}

// acquire takes write latches on the point keys; the caller must call the
// returned release. It is acquireSpans for a batch of point writes.
func (m *latchManager) acquire(ctx context.Context, keys [][]byte) (release func(), err error) {
	spans := make([]latchSpan, len(keys))
	for i, k := range keys {
		spans[i] = latchSpan{key: k, write: true}
	}
	return m.acquireSpans(ctx, spans)
}

// acquireSpans takes latches on all spans at once, waiting while any of them
// conflicts with a held latch. On success the caller must call the returned
// release exactly once; further calls are no-ops. If ctx is done while
// waiting, it returns ctx.Err() and holds nothing. An acquisition that does not
// have to wait succeeds even if ctx is already done.
//
// Spans within one call never conflict with each other (duplicates and
// overlaps are fine). A span whose end is non-empty but not greater than its
// key is rejected.
func (m *latchManager) acquireSpans(ctx context.Context, spans []latchSpan) (release func(), err error) {
	release, _, err = m.acquireStamped(ctx, spans)
	return release, err
}

// acquireStamped is acquireSpans returning also the latches' entry (nil
// when there are none), for stamp: once the timestamp of the latched writes
// is known, reads at a lower timestamp stop waiting for them (their versions
// are invisible there).
func (m *latchManager) acquireStamped(ctx context.Context, spans []latchSpan) (release func(), e *latchEntry, err error) {
	ranged := false
	for _, s := range spans {
		if !s.isPoint() {
			if bytes.Compare(s.key, s.end) >= 0 {
				return nil, nil, fmt.Errorf("replica: invalid latch span [%q, %q)", s.key, s.end)
			}
			ranged = true
		}
	}
	if len(spans) == 0 {
		return func() {}, nil, nil
	}
	e = &latchEntry{
		spans:  append([]latchSpan(nil), spans...),
		done:   make(chan struct{}),
		ranged: ranged,
	}
	if release, err = m.acquireEntry(ctx, e); err != nil {
		return nil, nil, err
	}
	return release, e, nil
}

func (m *latchManager) acquireEntry(ctx context.Context, e *latchEntry) (func(), error) {
	for {
		m.mu.Lock()
		h := m.conflictLocked(e.spans)
		if h == nil {
			m.insertLocked(e)
			m.mu.Unlock()
			return func() { m.release(e) }, nil
		}
		// A read may stop waiting once the write it waits for is stamped
		// (above it): wait for that too, unless it already happened.
		var stamped chan struct{}
		if h.ts == 0 && readsAtTS(e.spans) {
			if h.stamped == nil {
				h.stamped = make(chan struct{})
			}
			stamped = h.stamped
		}
		m.mu.Unlock()
		select {
		case <-h.done:
		case <-stamped:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func readsAtTS(spans []latchSpan) bool {
	for _, s := range spans {
		if !s.write && s.readTS != 0 {
			return true
		}
	}
	return false
}

// stamp records the timestamp of e's writes and wakes the reads waiting
// for it. Only the first stamp counts; a nil entry (no latches) is a no-op.
func (m *latchManager) stamp(e *latchEntry, ts uint64) {
	if e == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e.ts != 0 || ts == 0 {
		return
	}
	e.ts = ts
	if e.stamped != nil {
		close(e.stamped)
	}
}

// conflictLocked returns a held entry conflicting with any of spans, or nil
// if there is none. m.mu must be held.
func (m *latchManager) conflictLocked(spans []latchSpan) *latchEntry {
	for _, s := range spans {
		if !s.isPoint() {
			for h := range m.held {
				for _, hs := range h.spans {
					if s.conflicts(hs, h.ts) {
						return h
					}
				}
			}
			continue
		}
		for _, ph := range m.points[string(s.key)] {
			if s.conflicts(latchSpan{key: s.key, write: ph.write}, ph.e.ts) {
				return ph.e
			}
		}
		for h := range m.ranged {
			for _, hs := range h.spans {
				if !hs.isPoint() && s.conflicts(hs, h.ts) {
					return h
				}
			}
		}
	}
	return nil
}

func (m *latchManager) insertLocked(e *latchEntry) {
	m.held[e] = struct{}{}
	if e.ranged {
		m.ranged[e] = struct{}{}
	}
	for _, s := range e.spans {
		if s.isPoint() {
			m.points[string(s.key)] = append(m.points[string(s.key)], pointHold{e: e, write: s.write})
		}
	}
}

// release drops e's latches and wakes its waiters; a second call is a no-op.
func (m *latchManager) release(e *latchEntry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.held[e]; !ok {
		return
	}
	delete(m.held, e)
	delete(m.ranged, e)
	for _, s := range e.spans {
		if !s.isPoint() {
			continue
		}
		// string(s.key) inline: a lookup or delete converts without
		// allocating (only the rarer update does).
		hs := m.points[string(s.key)]
		kept := hs[:0]
		for _, h := range hs {
			if h.e != e {
				kept = append(kept, h)
			}
		}
		if len(kept) == 0 {
			delete(m.points, string(s.key))
		} else {
			clear(hs[len(kept):])
			m.points[string(s.key)] = kept
		}
	}
	close(e.done)
}
