package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairndb/cairn/pkg/client"
)

// fakeKV is an in-memory kvOps; every failEvery-th request fails with err.
type fakeKV struct {
	mu        sync.Mutex
	data      map[string]bool
	n         atomic.Int64
	failEvery int64
	err       error
	putFails  bool // only puts fail
	keyLens   sync.Map
}

func newFakeKV() *fakeKV { return &fakeKV{data: map[string]bool{}} }

func (f *fakeKV) fail(put bool) error {
	if f.failEvery > 0 && (put || !f.putFails) && f.n.Add(1)%f.failEvery == 0 {
		return f.err
	}
	return nil
}

func (f *fakeKV) Get(_ context.Context, key []byte) ([]byte, bool, error) {
	if err := f.fail(false); err != nil {
		return nil, false, err
	}
	f.keyLens.Store(len(key), true)
	f.mu.Lock()
	defer f.mu.Unlock()
	return nil, f.data[string(key)], nil
}

func (f *fakeKV) Put(_ context.Context, key, _ []byte) error {
	if err := f.fail(true); err != nil {
		return err
	}
	f.keyLens.Store(len(key), true)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.data[string(key)] = true
	return nil
}

func testKVConfig() kvWorkloadConfig {
	cfg := defaultKVWorkloadConfig()
	cfg.concurrency = 8
	cfg.duration = 5 * time.Second
	cfg.keys = 1000
	return cfg
}

var summaryLine = regexp.MustCompile(`(?m)^ +[0-9.]+s +(\d+) +(\d+) +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+  (read|write|total)$`)

// parseSummary returns the errors and ops of each summary line.
func parseSummary(t *testing.T, out string) map[string][2]int {
	t.Helper()
	if !strings.Contains(out, "_elapsed___errors_____ops(total)___ops/sec(cum)__avg(ms)__p50(ms)__p95(ms)__p99(ms)_pMax(ms)\n") {
		t.Fatalf("no summary header in:\n%s", out)
	}
	rows := map[string][2]int{}
	for _, m := range summaryLine.FindAllStringSubmatch(out, -1) {
		var e, n int
		fmt.Sscan(m[1], &e)
		fmt.Sscan(m[2], &n)
		rows[m[3]] = [2]int{e, n}
	}
	if len(rows) != 3 {
		t.Fatalf("want read, write and total summary lines in:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^ops/s=[0-9.]+ p50=[0-9.]+ p95=[0-9.]+ p99=[0-9.]+ errors=\d+\n\z`).MatchString(out) {
		t.Fatalf("no final ops/s line in:\n%s", out)
	}
	return rows
}

func TestKVWorkloadValidate(t *testing.T) {
	if err := defaultKVWorkloadConfig().validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tc := range []struct {
		mod  func(*kvWorkloadConfig)
		want string
	}{
		{func(c *kvWorkloadConfig) { c.concurrency = 0 }, "--concurrency"},
		{func(c *kvWorkloadConfig) { c.concurrency = 10001 }, "--concurrency"},
		{func(c *kvWorkloadConfig) { c.duration = 0 }, "--duration"},
		{func(c *kvWorkloadConfig) { c.duration = 25 * time.Hour }, "--duration"},
		{func(c *kvWorkloadConfig) { c.readPercent = -1 }, "--read-percent"},
		{func(c *kvWorkloadConfig) { c.readPercent = 101 }, "--read-percent"},
		{func(c *kvWorkloadConfig) { c.keySize = 0 }, "--key-size"},
		{func(c *kvWorkloadConfig) { c.keySize = 3 }, "too small for --keys 100000"},
		{func(c *kvWorkloadConfig) { c.valueSize = 0 }, "--value-size"},
		{func(c *kvWorkloadConfig) { c.valueSize = 1<<20 + 1 }, "--value-size"},
		{func(c *kvWorkloadConfig) { c.keys = 0 }, "--keys"},
		{func(c *kvWorkloadConfig) { c.maxOps = -1 }, "--max-ops"},
		{func(c *kvWorkloadConfig) { c.connections = 0 }, "--connections"},
	} {
		cfg := defaultKVWorkloadConfig()
		tc.mod(&cfg)
		if err := cfg.validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want an error about %s", cfg, err, tc.want)
		}
	}
	cfg := defaultKVWorkloadConfig()
	cfg.keySize, cfg.keys = 5, 100000 // 0..99999 fits in 5 digits
	if err := cfg.validate(); err != nil {
		t.Errorf("5-byte keys for 100000 keys: %v", err)
	}
}

func TestFillKey(t *testing.T) {
	buf := make([]byte, 8)
	fillKey(buf, 42)
	if string(buf) != "00000042" {
		t.Fatalf("got %q", buf)
	}
	fillKey(buf, 123456789)
	if string(buf) != "23456789" {
		t.Fatalf("got %q", buf)
	}
}

func TestKVWorkloadMaxOps(t *testing.T) {
	f := newFakeKV()
	cfg := testKVConfig()
	cfg.maxOps = 5000
	cfg.readPercent = 30
	var out bytes.Buffer
	if err := runKVWorkload(context.Background(), cfg, []kvOps{f, f}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	rows := parseSummary(t, out.String())
	if rows["total"][1] != 5000 || rows["read"][1]+rows["write"][1] != 5000 {
		t.Fatalf("want 5000 ops in all: %v\n%s", rows, out.String())
	}
	if r := rows["read"][1]; r < 1000 || r > 2000 {
		t.Errorf("%d reads of 5000 at 30%%", r)
	}
	if !strings.Contains(out.String(), "preloaded 1000 of 1000 keys") ||
		!strings.Contains(out.String(), "read misses: 0 of") {
		t.Errorf("preload must make every read hit:\n%s", out.String())
	}
	if _, ok := f.keyLens.Load(16); !ok {
		t.Errorf("keys are not 16 bytes")
	}
}

func TestKVWorkloadDuration(t *testing.T) {
	cfg := testKVConfig()
	cfg.duration = 1500 * time.Millisecond
	var out bytes.Buffer
	start := time.Now()
	if err := runKVWorkload(context.Background(), cfg, []kvOps{newFakeKV()}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if d := time.Since(start); d < cfg.duration || d > cfg.duration+time.Second {
		t.Errorf("ran %v for --duration %v", d, cfg.duration)
	}
	if !strings.Contains(out.String(), "\n    1.0s ") {
		t.Errorf("no progress line after 1s:\n%s", out.String())
	}
	if rows := parseSummary(t, out.String()); rows["write"][1] == 0 || rows["read"][1] != 0 {
		t.Errorf("want only writes: %v", rows)
	}
}

func TestKVWorkloadErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		failEvery int64
		err       error
		kind      string
		wantErr   bool
	}{
		{"below 1%", 200, fmt.Errorf("%w: timeout", client.ErrAmbiguous), "ambiguous=", false},
		{"above 1%", 50, fmt.Errorf("%w: no leader", client.ErrUnavailable), "unavailable=", true},
		{"other", 10, fmt.Errorf("boom"), "other=", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeKV()
			f.failEvery, f.err = tc.failEvery, tc.err
			cfg := testKVConfig()
			cfg.maxOps = 10000
			var out bytes.Buffer
			err := runKVWorkload(context.Background(), cfg, []kvOps{f}, &out)
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error %v\n%s", err, tc.wantErr, out.String())
			}
			rows := parseSummary(t, out.String())
			// The probe is the first request; it succeeds.
			wantErrs := int((10000 + 1) / tc.failEvery)
			if rows["total"][0] != wantErrs || rows["write"][0] != wantErrs || rows["total"][1] != 10000-wantErrs {
				t.Errorf("want %d errors: %v\n%s", wantErrs, rows, out.String())
			}
			if !strings.Contains(out.String(), fmt.Sprintf("%s%d", tc.kind, wantErrs)) ||
				!strings.Contains(out.String(), "write: "+tc.err.Error()) {
				t.Errorf("want the error kinds and samples:\n%s", out.String())
			}
			if !strings.Contains(out.String(), fmt.Sprintf("errors=%d\n", wantErrs)) {
				t.Errorf("final line:\n%s", out.String())
			}
		})
	}
}

func TestKVWorkloadPreloadError(t *testing.T) {
	f := newFakeKV()
	f.failEvery, f.putFails, f.err = 500, true, fmt.Errorf("%w: lost", client.ErrAmbiguous)
	cfg := testKVConfig()
	cfg.readPercent = 100
	var out bytes.Buffer
	err := runKVWorkload(context.Background(), cfg, []kvOps{f}, &out)
	if err == nil || !strings.Contains(err.Error(), "preload failed") {
		t.Fatalf("got %v, want a preload failure\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "preload errors by kind: ambiguous=1") || strings.Contains(out.String(), "_elapsed") {
		t.Fatalf("want the preload error report and no run:\n%s", out.String())
	}
}

func TestKVWorkloadInterrupt(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var out bytes.Buffer
	err := runKVWorkload(ctx, testKVConfig(), []kvOps{newFakeKV()}, &out)
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("got %v, want an interrupted error\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "interrupted after") || parseSummary(t, out.String())["total"][0] != 0 {
		t.Fatalf("want an interrupted run without errors:\n%s", out.String())
	}
}

// deadlineKV succeeds, except that requests whose deadline is near fail at
// the deadline, as the server reports them, without waiting for ctx.Done.
type deadlineKV struct{ nopKV }

func (deadlineKV) Put(ctx context.Context, _, _ []byte) error {
	// Like gRPC, fail at once if the deadline has passed.
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= 0 {
		return fmt.Errorf("cairn: context deadline exceeded")
	} else if ok && time.Until(d) < 20*time.Millisecond {
		time.Sleep(time.Until(d))
		return fmt.Errorf("cairn: context deadline exceeded")
	}
	time.Sleep(time.Millisecond)
	return nil
}

func TestKVWorkloadEndOfRunIsNoError(t *testing.T) {
	cfg := testKVConfig()
	cfg.concurrency, cfg.duration = 64, 300*time.Millisecond
	var out bytes.Buffer
	if err := runKVWorkload(context.Background(), cfg, []kvOps{deadlineKV{}}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if rows := parseSummary(t, out.String()); rows["total"][0] != 0 || rows["total"][1] == 0 {
		t.Fatalf("requests cut by the end of the run count as errors: %v\n%s", rows, out.String())
	}
}

// nopKV succeeds without allocating.
type nopKV struct{}

func (nopKV) Get(context.Context, []byte) ([]byte, bool, error) { return nil, true, nil }
func (nopKV) Put(context.Context, []byte, []byte) error         { return nil }

func TestKVWorkerDoesNotAllocate(t *testing.T) {
	ctx := context.Background()
	// The per-request timeout is the only allocation besides the client's.
	budget := testing.AllocsPerRun(1000, func() {
		_, cancel := context.WithTimeout(ctx, workloadRequestTimeout)
		cancel()
	})
	w := &kvWorker{
		c: nopKV{}, rec: new(opRecorder), errs: new(errorStats), rng: rand.New(rand.NewPCG(1, 2)),
		key: make([]byte, 16), value: make([]byte, 256), readPercent: 50, keys: 1000, readKeys: 100, readStride: 10,
	}
	if a := testing.AllocsPerRun(1000, func() { w.do(ctx) }); a > budget {
		t.Fatalf("an operation allocates %v times, context.WithTimeout %v", a, budget)
	}
	if w.rec.read.Count() == 0 || w.rec.write.Count() == 0 {
		t.Fatal("no operation recorded")
	}
}
