package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// exactQuantile is the nearest-rank quantile of sorted values.
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

func TestHistIndexBounds(t *testing.T) {
	// Buckets are contiguous and each value lands in the bucket that
	// contains it.
	var next uint64
	for i := 0; i < histBuckets; i++ {
		lo, width := histBounds(i)
		if lo != next {
			t.Fatalf("bucket %d starts at %d, want %d", i, lo, next)
		}
		if i >= histSub && float64(width)/float64(lo) > 1.0/histSub {
			t.Fatalf("bucket %d [%d,+%d) is wider than 1/%d of its bound", i, lo, width, histSub)
		}
		for _, v := range []uint64{lo, lo + width/2, lo + width - 1} {
			if got := histIndex(v); got != i {
				t.Fatalf("histIndex(%d) = %d, want %d", v, got, i)
			}
		}
		next = lo + width
	}
	if next != 1<<histMaxBits {
		t.Fatalf("buckets end at %d, want %d", next, uint64(1)<<histMaxBits)
	}
	if got := histIndex(math.MaxUint64); got != histBuckets-1 {
		t.Fatalf("histIndex(max) = %d, want the last bucket", got)
	}
}

func TestHistogramQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dists := map[string]func() time.Duration{
		// Log-uniform over the whole 1µs..10s range.
		"loguniform": func() time.Duration {
			return time.Duration(math.Exp(math.Log(1e3) + rng.Float64()*(math.Log(1e10)-math.Log(1e3))))
		},
		// A latency-like shape: lognormal around 2ms with a tail.
		"lognormal": func() time.Duration {
			return time.Duration(2e6 * math.Exp(rng.NormFloat64()*0.7))
		},
		// Few distinct values: quantiles fall on bucket edges.
		"discrete": func() time.Duration {
			return time.Duration(1+rng.IntN(5)) * time.Millisecond
		},
	}
	for name, gen := range dists {
		t.Run(name, func(t *testing.T) {
			for _, n := range []int{1, 7, 100, 10000, 200000} {
				var h histogram
				vals := make([]time.Duration, n)
				var sum time.Duration
				for i := range vals {
					vals[i] = gen()
					sum += vals[i]
					h.Record(vals[i])
				}
				slices.Sort(vals)
				if h.Count() != uint64(n) {
					t.Fatalf("n=%d: Count = %d", n, h.Count())
				}
				if h.Max() != vals[n-1] {
					t.Fatalf("n=%d: Max = %v, want %v", n, h.Max(), vals[n-1])
				}
				if want := sum / time.Duration(n); h.Mean() != want {
					t.Fatalf("n=%d: Mean = %v, want %v", n, h.Mean(), want)
				}
				for _, q := range []float64{0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1} {
					got, want := h.Quantile(q), exactQuantile(vals, q)
					if rel := math.Abs(float64(got-want)) / float64(want); rel > 0.01 {
						t.Errorf("n=%d q=%v: got %v, want %v (off by %.2f%%)", n, q, got, want, rel*100)
					}
				}
			}
		})
	}
}

func TestHistogramMergeAndConcurrency(t *testing.T) {
	// Eight goroutines record into their own histograms and into a shared
	// one; merged and shared results must both match the sorted data.
	const workers, per = 8, 20000
	var shared histogram
	own := make([]histogram, workers)
	all := make([][]time.Duration, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := 0; i < per; i++ {
				d := time.Duration(50e3 + rng.ExpFloat64()*1e6)
				all[w] = append(all[w], d)
				own[w].Record(d)
				shared.Record(d)
			}
		}()
	}
	wg.Wait()
	var merged histogram
	for w := range own {
		merged.Merge(&own[w])
	}
	vals := slices.Concat(all...)
	slices.Sort(vals)
	for _, h := range []*histogram{&merged, &shared} {
		if h.Count() != workers*per || h.Max() != vals[len(vals)-1] {
			t.Fatalf("count %d max %v, want %d %v", h.Count(), h.Max(), workers*per, vals[len(vals)-1])
		}
		for _, q := range []float64{0.5, 0.95, 0.99, 0.9999} {
			got, want := h.Quantile(q), exactQuantile(vals, q)
			if rel := math.Abs(float64(got-want)) / float64(want); rel > 0.01 {
				t.Errorf("q=%v: got %v, want %v", q, got, want)
			}
		}
	}
}

func TestHistogramEdgeCases(t *testing.T) {
	var h histogram
	if h.Quantile(0.5) != 0 || h.Mean() != 0 || h.Max() != 0 {
		t.Fatal("empty histogram must report zeros")
	}
	h.Record(-time.Second) // clock going backwards counts as 0
	h.Record(time.Hour)    // beyond the range: last bucket, exact max
	if h.Quantile(0.5) != 0 {
		t.Errorf("p50 = %v, want 0", h.Quantile(0.5))
	}
	if h.Max() != time.Hour || h.Quantile(1) != time.Hour {
		t.Errorf("max = %v, p100 = %v, want 1h", h.Max(), h.Quantile(1))
	}
	if got := h.Quantile(0.99); got > time.Hour || got < 17*time.Second {
		t.Errorf("p99 = %v, want the top bucket", got)
	}
}

func TestHistogramRecordDoesNotAllocate(t *testing.T) {
	var h histogram
	if a := testing.AllocsPerRun(1000, func() { h.Record(1234567) }); a != 0 {
		t.Fatalf("Record allocates %v times", a)
	}
}
