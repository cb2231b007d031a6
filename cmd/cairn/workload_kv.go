package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairndb/cairn/pkg/client"
)

// kvOps is the part of *client.Client the KV workload uses.
type kvOps interface {
	Get(ctx context.Context, key []byte) (value []byte, found bool, err error)
	Put(ctx context.Context, key, value []byte) error
}

var _ kvOps = (*client.Client)(nil)

// maxRecorders bounds the number of latency recorders: workers get one each
// up to this many, and share them (atomically) beyond, so that memory stays
// bounded (a recorder is two 28 KiB histograms) at 10000 workers.
const maxRecorders = 256

// maxErrorSamples is how many error messages are kept for the report.
const maxErrorSamples = 5

// opRecorder holds the latencies of successful operations.
type opRecorder struct {
	read, write histogram
	readMisses  atomic.Uint64
}

// errorStats counts failed operations by kind and keeps the first messages.
type errorStats struct {
	read, write                   atomic.Uint64
	ambiguous, unavailable, other atomic.Uint64
	nSamples                      atomic.Int32
	mu                            sync.Mutex
	samples                       []string
}

func (e *errorStats) add(read bool, err error) {
	op := "write"
	if read {
		op = "read"
		e.read.Add(1)
	} else {
		e.write.Add(1)
	}
	switch {
	case errors.Is(err, client.ErrAmbiguous):
		e.ambiguous.Add(1)
	case errors.Is(err, client.ErrUnavailable):
		e.unavailable.Add(1)
	default:
		e.other.Add(1)
	}
	if e.nSamples.Load() < maxErrorSamples {
		e.mu.Lock()
		if len(e.samples) < maxErrorSamples {
			e.samples = append(e.samples, op+": "+err.Error())
			e.nSamples.Store(int32(len(e.samples)))
		}
		e.mu.Unlock()
	}
}

func (e *errorStats) total() uint64 { return e.read.Load() + e.write.Load() }

// report prints the error counts by kind and the first messages.
func (e *errorStats) report(w io.Writer, prefix string) {
	fmt.Fprintf(w, "%serrors by kind: ambiguous=%d unavailable=%d other=%d\n",
		prefix, e.ambiguous.Load(), e.unavailable.Load(), e.other.Load())
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.samples {
		fmt.Fprintf(w, "%s  %s\n", prefix, s)
	}
}

// fillKey writes key number n into buf as zero-padded decimal, keeping the
// low-order digits if buf is too short (validate prevents that).
func fillKey(buf []byte, n uint64) {
	for i := len(buf) - 1; i >= 0; i-- {
		buf[i] = byte('0' + n%10)
		n /= 10
	}
}

// kvWorker issues one request at a time. Nothing on its hot path allocates
// besides the per-request context.WithTimeout and the client itself.
type kvWorker struct {
	c           kvOps
	rec         *opRecorder
	errs        *errorStats
	rng         *rand.Rand
	key, value  []byte
	readPercent uint64
	keys        uint64 // writes draw from [0, keys)
	readKeys    uint64 // reads draw from the preloaded keys i*readStride, i < readKeys
	readStride  uint64
}

// do runs one operation against the run context ctx. Failures once ctx has
// ended (the run's end or an interrupt) are the run's doing, not the
// cluster's, and count neither as operations nor as errors.
func (w *kvWorker) do(ctx context.Context) {
	read := w.readPercent > 0 && w.rng.Uint64N(100) < w.readPercent
	if read {
		fillKey(w.key, w.rng.Uint64N(w.readKeys)*w.readStride)
	} else {
		fillKey(w.key, w.rng.Uint64N(w.keys))
	}
	opCtx, cancel := context.WithTimeout(ctx, workloadRequestTimeout)
	var err error
	found := true
	start := time.Now()
	if read {
		_, found, err = w.c.Get(opCtx, w.key)
	} else {
		err = w.c.Put(opCtx, w.key, w.value)
	}
	lat := time.Since(start)
	cancel()
	switch {
	case err == nil && read:
		w.rec.read.Record(lat)
		if !found {
			w.rec.readMisses.Add(1)
		}
	case err == nil:
		w.rec.write.Record(lat)
	case runOver(ctx):
	default:
		w.errs.add(read, err)
	}
}

// runOver reports whether the run context ctx has ended. It checks the
// deadline itself too: a request cut by the run's deadline (on the server,
// whose copy of the deadline can expire first) can fail before the
// context's timer has fired.
func runOver(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// preloadKV writes n keys spread evenly over the key space (key i*stride)
// with up to cfg.concurrency workers, so that reads can hit. It stops at the
// first error.
func preloadKV(ctx context.Context, cfg kvWorkloadConfig, clients []kvOps, value []byte, out io.Writer) (n, stride uint64, err error) {
	n = min(uint64(cfg.keys), maxPreloadKeys)
	stride = uint64(cfg.keys) / n
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next, loaded atomic.Uint64
	var errs errorStats
	var wg sync.WaitGroup
	start := time.Now()
	for i := range min(uint64(cfg.concurrency), n) {
		c := clients[i%uint64(len(clients))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := make([]byte, cfg.keySize)
			for ctx.Err() == nil {
				j := next.Add(1) - 1
				if j >= n {
					return
				}
				fillKey(key, j*stride)
				opCtx, opCancel := context.WithTimeout(ctx, workloadRequestTimeout)
				err := c.Put(opCtx, key, value)
				opCancel()
				if err != nil {
					if ctx.Err() == nil {
						errs.add(false, err)
						cancel()
					}
					return
				}
				loaded.Add(1)
			}
		}()
	}
	wg.Wait()
	fmt.Fprintf(out, "preloaded %d of %d keys (one in every %d of the %d keys) in %.1fs\n",
		loaded.Load(), n, stride, cfg.keys, time.Since(start).Seconds())
	if errs.total() > 0 {
		errs.report(out, "preload ")
		return 0, 0, fmt.Errorf("preload failed after %d of %d keys", loaded.Load(), n)
	}
	if err := ctx.Err(); err != nil {
		return 0, 0, fmt.Errorf("preload interrupted after %d of %d keys: %w", loaded.Load(), n, err)
	}
	return n, stride, nil
}

// runKVWorkload runs the KV workload with the given clients (shared
// round-robin by the workers) and writes progress and the summary to out.
// It fails if the preload had any error, if no operation succeeded, if more
// than 1% of the operations failed or if ctx ended first (an interrupt); the
// summary is printed in all cases but the first.
func runKVWorkload(ctx context.Context, cfg kvWorkloadConfig, clients []kvOps, out io.Writer) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	if len(clients) == 0 {
		return errors.New("no client connections")
	}
	seed := rand.Uint64()
	value := make([]byte, cfg.valueSize) // shared read-only by all puts
	_, _ = rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)}).Read(value)

	// Fail fast, with the reason, if the node cannot be reached.
	probeKey := make([]byte, cfg.keySize)
	fillKey(probeKey, 0)
	for _, c := range clients {
		pctx, cancel := context.WithTimeout(ctx, workloadRequestTimeout)
		_, _, err := c.Get(pctx, probeKey)
		cancel()
		if err != nil {
			return fmt.Errorf("probing the node: %w", err)
		}
	}

	var readKeys, readStride uint64
	if cfg.readPercent > 0 {
		var err error
		if readKeys, readStride, err = preloadKV(ctx, cfg, clients, value, out); err != nil {
			return err
		}
	}

	nRec := min(cfg.concurrency, maxRecorders)
	recs := make([]*opRecorder, nRec)
	for i := range recs {
		recs[i] = new(opRecorder)
	}
	var errs errorStats
	var started atomic.Int64
	var stopping atomic.Bool

	runCtx, cancelRun := context.WithTimeout(ctx, cfg.duration)
	defer cancelRun()
	runDeadline, _ := runCtx.Deadline()
	go func() {
		<-runCtx.Done()
		stopping.Store(true)
	}()

	fmt.Fprintf(out, "running for %v: %d workers, %d connections, %d%% reads, %d-byte keys out of %d, %d-byte values\n",
		cfg.duration, cfg.concurrency, len(clients), cfg.readPercent, cfg.keySize, cfg.keys, cfg.valueSize)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range cfg.concurrency {
		w := &kvWorker{
			c:           clients[i%len(clients)],
			rec:         recs[i%nRec],
			errs:        &errs,
			rng:         rand.New(rand.NewPCG(seed, uint64(i))),
			key:         make([]byte, cfg.keySize),
			value:       value,
			readPercent: uint64(cfg.readPercent),
			keys:        uint64(cfg.keys),
			readKeys:    readKeys,
			readStride:  readStride,
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The deadline is checked here too, as the context's timer can
			// fire late on a busy machine.
			for !stopping.Load() && time.Now().Before(runDeadline) {
				if cfg.maxOps > 0 && started.Add(1) > cfg.maxOps {
					return
				}
				w.do(runCtx)
			}
		}()
	}
	workersDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(workersDone)
	}()

	succeeded := func() uint64 {
		var n uint64
		for _, r := range recs {
			n += r.read.Count() + r.write.Count()
		}
		return n
	}
	fmt.Fprintln(out, "_elapsed___errors__ops/sec(inst)___ops/sec(cum)")
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var lastOps uint64
	lastTime := start
progress:
	for {
		select {
		case <-workersDone:
			break progress
		case now := <-tick.C:
			ops := succeeded()
			fmt.Fprintf(out, "%7.1fs %8d %14.1f %14.1f\n", now.Sub(start).Seconds(), errs.total(),
				float64(ops-lastOps)/now.Sub(lastTime).Seconds(), float64(ops)/now.Sub(start).Seconds())
			lastOps, lastTime = ops, now
		}
	}
	elapsed := time.Since(start)
	interrupted := runInterrupted(ctx)
	if interrupted {
		fmt.Fprintf(out, "interrupted after %.1fs\n", elapsed.Seconds())
	}

	var read, write, total histogram
	var misses uint64
	for _, r := range recs {
		read.Merge(&r.read)
		write.Merge(&r.write)
		misses += r.readMisses.Load()
	}
	total.Merge(&read)
	total.Merge(&write)
	printKVSummary(out, elapsed, []summaryRow{
		{"read", &read, errs.read.Load()},
		{"write", &write, errs.write.Load()},
		{"total", &total, errs.total()},
	})
	failed, ok := errs.total(), total.Count()
	if failed > 0 {
		errs.report(out, "")
	}
	if read.Count() > 0 {
		fmt.Fprintf(out, "read misses: %d of %d reads (reads draw from the %d preloaded keys)\n", misses, read.Count(), readKeys)
	}
	fmt.Fprintf(out, "ops/s=%.1f p50=%.3f p95=%.3f p99=%.3f errors=%d\n", float64(ok)/elapsed.Seconds(),
		ms(total.Quantile(0.50)), ms(total.Quantile(0.95)), ms(total.Quantile(0.99)), failed)

	switch {
	case interrupted:
		return fmt.Errorf("interrupted after %.1fs", elapsed.Seconds())
	case ok == 0:
		return fmt.Errorf("no operation succeeded (%d failed)", failed)
	case failed*100 > ok+failed:
		return fmt.Errorf("%d of %d operations failed (%.2f%%, more than 1%%)", failed, ok+failed, 100*float64(failed)/float64(ok+failed))
	}
	return nil
}

type summaryRow struct {
	name   string
	h      *histogram
	errors uint64
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// printKVSummary prints the summary in the format of CockroachDB's workload
// tool: a header, then one line per operation type.
func printKVSummary(out io.Writer, elapsed time.Duration, rows []summaryRow) {
	fmt.Fprintln(out, "_elapsed___errors_____ops(total)___ops/sec(cum)__avg(ms)__p50(ms)__p95(ms)__p99(ms)_pMax(ms)")
	for _, r := range rows {
		fmt.Fprintf(out, "%7.1fs %8d %14d %14.1f %8.2f %8.2f %8.2f %8.2f %8.2f  %s\n",
			elapsed.Seconds(), r.errors, r.h.Count(), float64(r.h.Count())/elapsed.Seconds(),
			ms(r.h.Mean()), ms(r.h.Quantile(0.50)), ms(r.h.Quantile(0.95)), ms(r.h.Quantile(0.99)), ms(r.h.Max()), r.name)
	}
}

// runInterrupted reports whether a workload run ended because the caller's
// context did: it was cancelled, or its deadline passed (the workers stop
// at the deadline by the clock, which may be just before the context's
// timer fires).
func runInterrupted(ctx context.Context) bool {
	deadline, ok := ctx.Deadline()
	return ctx.Err() != nil || (ok && !time.Now().Before(deadline))
}
