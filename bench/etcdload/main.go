// Command etcdload is the etcd counterpart of `cairn workload kv`, for the
// side-by-side benchmark bench/cluster.sh. It runs the same load with the
// same flags and the same output: --concurrency workers, each with one
// request in flight, looping over a Get (with probability --read-percent) or
// a Put of a --value-size value on a key drawn uniformly from --keys
// zero-padded decimal keys of --key-size bytes. With reads, up to 10000 keys
// spread over the key space are written first and reads draw from them, so
// that they hit. Gets are etcd's default, linearizable reads (not
// serializable). It prints a progress line every second, a summary in the
// format of CockroachDB's workload tool, and a last line
//
//	ops/s=... p50=... p95=... p99=... errors=N
//
// and exits non-zero if more than 1% of the operations failed, the preload
// had any error, no operation succeeded, or it was interrupted.
//
// It lives in its own Go module (bench/etcdload/go.mod) so that the etcd
// client stays out of Cairn's dependencies. For the same reason its
// histogram and summary code is a deliberate copy of cmd/cairn's
// workload_hist.go and workload_kv.go (package main, not importable): keep
// the two in step, or both sides of the comparison stop measuring alike.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// config is what etcdload runs; the fields and defaults are those of
// `cairn workload kv`.
type config struct {
	endpoints   []string
	concurrency int
	duration    time.Duration
	readPercent int
	keySize     int
	valueSize   int
	keys        int64
	maxOps      int64
	connections int
}

const (
	maxConcurrency = 10000
	maxDuration    = 24 * time.Hour
	maxConnections = 1024
	// requestTimeout bounds every request, as in `cairn workload kv`.
	requestTimeout = 10 * time.Second
	// maxPreloadKeys bounds the preload that makes reads hit.
	maxPreloadKeys = 10000
	// maxRecorders bounds the number of latency recorders.
	maxRecorders = 256
	// maxErrorSamples is how many error messages are kept for the report.
	maxErrorSamples = 5
	// maxKeySize and maxValueSize are etcd's practical limits (the default
	// request size limit is 1.5 MiB).
	maxKeySize   = 4096
	maxValueSize = 1 << 20
)

func (c config) validate() error {
	switch {
	case len(c.endpoints) == 0:
		return errors.New("--endpoints: at least one HOST:PORT is required")
	case c.concurrency < 1 || c.concurrency > maxConcurrency:
		return fmt.Errorf("--concurrency %d: must be between 1 and %d", c.concurrency, maxConcurrency)
	case c.duration <= 0 || c.duration > maxDuration:
		return fmt.Errorf("--duration %v: must be greater than 0 and at most %v", c.duration, maxDuration)
	case c.readPercent < 0 || c.readPercent > 100:
		return fmt.Errorf("--read-percent %d: must be between 0 and 100", c.readPercent)
	case c.keySize < 1 || c.keySize > maxKeySize:
		return fmt.Errorf("--key-size %d: must be between 1 and %d bytes", c.keySize, maxKeySize)
	case c.valueSize < 1 || c.valueSize > maxValueSize:
		return fmt.Errorf("--value-size %d: must be between 1 and %d bytes (1 MiB)", c.valueSize, maxValueSize)
	case c.keys < 1:
		return fmt.Errorf("--keys %d: must be at least 1", c.keys)
	case c.maxOps < 0:
		return fmt.Errorf("--max-ops %d: must be 0 (unbounded) or positive", c.maxOps)
	case c.connections < 1 || c.connections > maxConnections:
		return fmt.Errorf("--connections %d: must be between 1 and %d", c.connections, maxConnections)
	}
	if digits := len(strconv.FormatInt(c.keys-1, 10)); c.keySize < digits {
		return fmt.Errorf("--key-size %d: too small for --keys %d, which needs keys of at least %d bytes", c.keySize, c.keys, digits)
	}
	return nil
}

// kvOps is the part of the etcd client the workload uses.
type kvOps interface {
	Get(ctx context.Context, key []byte) (found bool, err error)
	Put(ctx context.Context, key, value []byte) error
}

// etcdKV adapts *clientv3.Client. Get is linearizable: clientv3's default,
// without clientv3.WithSerializable().
type etcdKV struct{ c *clientv3.Client }

func (e etcdKV) Get(ctx context.Context, key []byte) (bool, error) {
	resp, err := e.c.Get(ctx, string(key))
	if err != nil {
		return false, err
	}
	return len(resp.Kvs) > 0, nil
}

func (e etcdKV) Put(ctx context.Context, key, value []byte) error {
	_, err := e.c.Put(ctx, string(key), string(value))
	return err
}

func main() {
	var endpoints string
	cfg := config{concurrency: 64, duration: 20 * time.Second, keySize: 16, valueSize: 256, keys: 100000, connections: 4}
	fs := flag.NewFlagSet("etcdload", flag.ContinueOnError)
	fs.StringVar(&endpoints, "endpoints", "127.0.0.1:2379", "etcd client endpoints (HOST:PORT,...); every connection uses all of them")
	fs.IntVar(&cfg.concurrency, "concurrency", cfg.concurrency, "number of concurrent workers, each with one request in flight")
	fs.DurationVar(&cfg.duration, "duration", cfg.duration, "how long to run (the preload does not count)")
	fs.IntVar(&cfg.readPercent, "read-percent", cfg.readPercent, "percentage of operations that are gets (0-100); the rest are puts")
	fs.IntVar(&cfg.keySize, "key-size", cfg.keySize, "key size in bytes")
	fs.IntVar(&cfg.valueSize, "value-size", cfg.valueSize, "value size in bytes of puts")
	fs.Int64Var(&cfg.keys, "keys", cfg.keys, "size of the key space")
	fs.Int64Var(&cfg.maxOps, "max-ops", 0, "stop after this many operations in total (0: only --duration bounds the run)")
	fs.IntVar(&cfg.connections, "connections", cfg.connections, "number of etcd clients (each its own gRPC connection), shared round-robin by the workers")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		os.Exit(2)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "etcdload: unexpected arguments %q\n", fs.Args())
		os.Exit(2)
	}
	for _, e := range strings.Split(endpoints, ",") {
		if e = strings.TrimSpace(e); e != "" {
			cfg.endpoints = append(cfg.endpoints, e)
		}
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "etcdload:", err)
		os.Exit(1)
	}
}

func run(cfg config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	// clientv3 logs a warning for every request cut by the end of the run;
	// the workload counts and reports failures itself.
	logCfg := zap.NewProductionConfig()
	logCfg.Level = zap.NewAtomicLevelAt(zap.ErrorLevel)
	logger, err := logCfg.Build()
	if err != nil {
		return err
	}
	n := min(cfg.connections, cfg.concurrency)
	clients := make([]kvOps, 0, n)
	for range n {
		c, err := clientv3.New(clientv3.Config{
			Endpoints:   cfg.endpoints,
			DialTimeout: requestTimeout,
			Logger:      logger,
		})
		if err != nil {
			return fmt.Errorf("connecting to %v: %w", cfg.endpoints, err)
		}
		defer c.Close()
		clients = append(clients, etcdKV{c})
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runKV(ctx, cfg, clients, os.Stdout)
}

type opRecorder struct {
	read, write histogram
	readMisses  atomic.Uint64
}

// errorStats counts failed operations by kind and keeps the first messages.
// The kinds are those of `cairn workload kv`.
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
	// As pkg/client classifies errors: a write that timed out, was canceled
	// or lost its connection may have been applied.
	code := status.Code(err)
	var coded interface{ Code() codes.Code } // etcd's rpctypes.EtcdError
	if errors.As(err, &coded) {
		code = coded.Code()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		code = codes.DeadlineExceeded
	} else if errors.Is(err, context.Canceled) {
		code = codes.Canceled
	}
	switch {
	case code == codes.Unknown,
		!read && (code == codes.DeadlineExceeded || code == codes.Canceled || code == codes.Unavailable):
		e.ambiguous.Add(1)
	case code == codes.Unavailable:
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

func (e *errorStats) report(w io.Writer, prefix string) {
	fmt.Fprintf(w, "%serrors by kind: ambiguous=%d unavailable=%d other=%d\n",
		prefix, e.ambiguous.Load(), e.unavailable.Load(), e.other.Load())
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.samples {
		fmt.Fprintf(w, "%s  %s\n", prefix, s)
	}
}

// fillKey writes key number n into buf as zero-padded decimal.
func fillKey(buf []byte, n uint64) {
	for i := len(buf) - 1; i >= 0; i-- {
		buf[i] = byte('0' + n%10)
		n /= 10
	}
}

type worker struct {
	c           kvOps
	rec         *opRecorder
	errs        *errorStats
	rng         *rand.Rand
	key, value  []byte
	readPercent uint64
	keys        uint64
	readKeys    uint64
	readStride  uint64
}

// do runs one operation; failures once the run has ended are not counted.
func (w *worker) do(ctx context.Context) {
	read := w.readPercent > 0 && w.rng.Uint64N(100) < w.readPercent
	if read {
		fillKey(w.key, w.rng.Uint64N(w.readKeys)*w.readStride)
	} else {
		fillKey(w.key, w.rng.Uint64N(w.keys))
	}
	opCtx, cancel := context.WithTimeout(ctx, requestTimeout)
	var err error
	found := true
	start := time.Now()
	if read {
		found, err = w.c.Get(opCtx, w.key)
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

func runOver(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// preload writes n keys spread evenly over the key space (key i*stride), so
// that reads can hit. It stops at the first error.
func preload(ctx context.Context, cfg config, clients []kvOps, value []byte, out io.Writer) (n, stride uint64, err error) {
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
				opCtx, opCancel := context.WithTimeout(ctx, requestTimeout)
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

// runKV is runKVWorkload of cmd/cairn/workload_kv.go with etcd clients.
func runKV(ctx context.Context, cfg config, clients []kvOps, out io.Writer) error {
	seed := rand.Uint64()
	value := make([]byte, cfg.valueSize)
	_, _ = rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)}).Read(value)

	// Fail fast, with the reason, if the cluster cannot be reached.
	probeKey := make([]byte, cfg.keySize)
	fillKey(probeKey, 0)
	for _, c := range clients {
		pctx, cancel := context.WithTimeout(ctx, requestTimeout)
		_, err := c.Get(pctx, probeKey)
		cancel()
		if err != nil {
			return fmt.Errorf("probing the cluster: %w", err)
		}
	}

	var readKeys, readStride uint64
	if cfg.readPercent > 0 {
		var err error
		if readKeys, readStride, err = preload(ctx, cfg, clients, value, out); err != nil {
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

	fmt.Fprintf(out, "running for %v against etcd %s: %d workers, %d connections, %d%% reads (linearizable), %d-byte keys out of %d, %d-byte values\n",
		cfg.duration, strings.Join(cfg.endpoints, ","), cfg.concurrency, len(clients), cfg.readPercent, cfg.keySize, cfg.keys, cfg.valueSize)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range cfg.concurrency {
		w := &worker{
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
	if ctx.Err() != nil {
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
	printSummary(out, elapsed, []summaryRow{
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
	case ctx.Err() != nil:
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

func printSummary(out io.Writer, elapsed time.Duration, rows []summaryRow) {
	fmt.Fprintln(out, "_elapsed___errors_____ops(total)___ops/sec(cum)__avg(ms)__p50(ms)__p95(ms)__p99(ms)_pMax(ms)")
	for _, r := range rows {
		fmt.Fprintf(out, "%7.1fs %8d %14d %14.1f %8.2f %8.2f %8.2f %8.2f %8.2f  %s\n",
			elapsed.Seconds(), r.errors, r.h.Count(), float64(r.h.Count())/elapsed.Seconds(),
			ms(r.h.Mean()), ms(r.h.Quantile(0.50)), ms(r.h.Quantile(0.95)), ms(r.h.Quantile(0.99)), ms(r.h.Max()), r.name)
	}
}
