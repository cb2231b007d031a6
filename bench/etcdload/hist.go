// This file is a copy of cmd/cairn/workload_hist.go, so that etcdload's
// percentiles are computed exactly as `cairn workload kv` computes them.
// Keep the two in sync.

package main

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// histogram is a fixed-size log-linear latency histogram in the style of
// HdrHistogram: values (nanoseconds) below histSub are counted exactly, and
// every power-of-two range above is split into histSub equal buckets, so a
// bucket is at most 1/histSub (0.78%) of its lower bound wide and a quantile
// is off by at most half of that (0.4%). It covers 0 to 2^histMaxBits ns
// (17.2s, above the workload's 10s request timeout); larger values fall into
// the last bucket, while Max stays exact.
//
// All methods are safe for concurrent use: Record does a handful of atomic
// adds and never allocates, so workers can share one when there are more
// workers than histograms.
type histogram struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Uint64 // nanoseconds; 2^64ns is 584 years
	max    atomic.Uint64
}

const (
	histSubBits = 7
	histSub     = 1 << histSubBits // linear buckets per power of two
	histMaxBits = 34               // values < 2^34 ns are resolved
	// Values in [2^k, 2^(k+1)) for k >= histSubBits use histSub buckets each.
	histBuckets = histSub * (histMaxBits - histSubBits + 1)
)

// histIndex is the bucket of v nanoseconds.
func histIndex(v uint64) int {
	if v >= 1<<histMaxBits {
		return histBuckets - 1
	}
	if v < histSub {
		return int(v)
	}
	shift := bits.Len64(v) - histSubBits - 1 // v>>shift is in [histSub, 2*histSub)
	return shift*histSub + int(v>>shift)
}

// histBounds is the range [lo, lo+width) of bucket i.
func histBounds(i int) (lo, width uint64) {
	if i < histSub {
		return uint64(i), 1
	}
	shift := i/histSub - 1
	m := uint64(i - shift*histSub) // in [histSub, 2*histSub)
	return m << shift, 1 << shift
}

// Record adds one observation. Negative durations count as zero.
func (h *histogram) Record(d time.Duration) {
	v := uint64(0)
	if d > 0 {
		v = uint64(d)
	}
	h.counts[histIndex(v)].Add(1)
	h.n.Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Merge adds the observations of o to h.
func (h *histogram) Merge(o *histogram) {
	for i := range o.counts {
		if c := o.counts[i].Load(); c != 0 {
			h.counts[i].Add(c)
		}
	}
	h.n.Add(o.n.Load())
	h.sum.Add(o.sum.Load())
	v := o.max.Load()
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Count is the number of observations.
func (h *histogram) Count() uint64 { return h.n.Load() }

// Max is the largest observation (exact).
func (h *histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Mean is the average observation (exact), 0 if there are none.
func (h *histogram) Mean() time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / n)
}

// Quantile is the value of rank ceil(q*n) among the n observations (the
// nearest-rank definition), estimated as the middle of its bucket and never
// above Max; 0 if there are none. Quantile(1) is Max.
func (h *histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	maxV := h.max.Load()
	if q >= 1 {
		return time.Duration(maxV)
	}
	rank := uint64(math.Ceil(q * float64(n)))
	if rank < 1 {
		rank = 1
	}
	var cum uint64
	for i := range h.counts {
		cum += h.counts[i].Load()
		if cum >= rank {
			lo, width := histBounds(i)
			v := lo + width/2
			if v > maxV {
				v = maxV
			}
			return time.Duration(v)
		}
	}
	// Only reachable while other goroutines are recording: n was read
	// before some of the counts.
	return time.Duration(maxV)
}
