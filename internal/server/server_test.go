package server

import (
	"go.uber.org/goleak"

	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/pkg/client"
)

func testConfig() Config {
	return Config{
		InMemory: true, Insecure: true,
		RPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", SQLAddr: "127.0.0.1:0",
	}
}

// startTestServer starts a node, stops it when the test ends, and waits
// until it is ready to serve.
func startTestServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(s.Stop)
	waitReady(t, s)
	return s
}

func waitReady(t *testing.T, s *Server) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := s.Ready(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node not ready after 30s: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func dial(t *testing.T, s *Server) *client.Client {
	t.Helper()
	c, err := client.Dial(s.RPCAddr(), client.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustPut(t *testing.T, c *client.Client, k, v string) {
	t.Helper()
	if err := c.Put(testCtx(t), []byte(k), []byte(v)); err != nil {
		t.Fatalf("Put(%q): %v", k, err)
	}
}

func getString(t *testing.T, c *client.Client, k string) (string, bool) {
	t.Helper()
	v, found, err := c.Get(testCtx(t), []byte(k))
	if err != nil {
		t.Fatalf("Get(%q): %v", k, err)
	}
	return string(v), found
}

func resultsString(rs []client.Result) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("{found=%v value=%q ok=%v}", r.Found, r.Value, r.Succeeded))
	}
	return strings.Join(parts, " ")
}

func scanString(kvs []client.KeyValue) string {
	var parts []string
	for _, kv := range kvs {
		parts = append(parts, fmt.Sprintf("%s=%s", kv.Key, kv.Value))
	}
	return strings.Join(parts, " ")
}

func TestConfigValidate(t *testing.T) {
	ok := testConfig()
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string // "" for valid
	}{
		{"test config", func(*Config) {}, ""},
		{"defaults with insecure", func(c *Config) { *c = DefaultConfig(); c.Insecure = true }, ""},
		{"defaults need a security mode", func(c *Config) { *c = DefaultConfig() }, "--insecure"},
		{"on disk without a dir", func(c *Config) { c.InMemory, c.DataDir = false, "" }, "--data-dir"},
		{"in memory without a dir", func(c *Config) { c.DataDir = "" }, ""},
		{"on disk with a dir", func(c *Config) { c.InMemory, c.DataDir = false, "/tmp/x" }, ""},
		{"rpc addr without port", func(c *Config) { c.RPCAddr = "127.0.0.1" }, "--rpc-addr"},
		{"empty rpc addr", func(c *Config) { c.RPCAddr = "" }, "--rpc-addr"},
		{"http addr garbage", func(c *Config) { c.HTTPAddr = "nonsense" }, "--http-addr"},
		{"sql addr without port", func(c *Config) { c.SQLAddr = "localhost" }, "--sql-addr"},
		{"port only", func(c *Config) { c.RPCAddr = ":7400" }, ""},
		{"ipv6", func(c *Config) { c.HTTPAddr = "[::1]:0" }, ""},
		{"insecure and certs", func(c *Config) { c.CertsDir = "/certs" }, "mutually exclusive"},
		{"neither insecure nor certs", func(c *Config) { c.Insecure = false }, "--certs-dir"},
		{"certs only", func(c *Config) { c.Insecure, c.CertsDir = false, "/certs" }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.mutate(&cfg)
			err := cfg.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate() = %v, want an error mentioning %q", err, tc.wantErr)
			}
			if s, err := Start(cfg); err == nil || s != nil {
				if s != nil {
					s.Stop()
				}
				t.Fatal("Start accepted a config that Validate rejects")
			}
		})
	}
}

func TestPutGetDelete(t *testing.T) {
	s := startTestServer(t, testConfig())
	c := dial(t, s)
	ctx := testCtx(t)

	if _, found := getString(t, c, "missing"); found {
		t.Fatal("Get of a missing key found it")
	}
	mustPut(t, c, "k", "v1")
	if v, found := getString(t, c, "k"); !found || v != "v1" {
		t.Fatalf("Get = %q, %v", v, found)
	}
	mustPut(t, c, "k", "v2")
	if v, _ := getString(t, c, "k"); v != "v2" {
		t.Fatalf("Get after overwrite = %q", v)
	}
	existed, err := c.Delete(ctx, []byte("k"))
	if err != nil || !existed {
		t.Fatalf("Delete = %v, %v; want existed", existed, err)
	}
	if _, found := getString(t, c, "k"); found {
		t.Fatal("key found after Delete")
	}
	existed, err = c.Delete(ctx, []byte("k"))
	if err != nil || existed {
		t.Fatalf("second Delete = %v, %v; want not existed", existed, err)
	}
	mustPut(t, c, "k", "v3") // a write after a delete is visible again
	if v, found := getString(t, c, "k"); !found || v != "v3" {
		t.Fatalf("Get after re-put = %q, %v", v, found)
	}

	// An empty value is a value, not a deletion.
	mustPut(t, c, "empty", "")
	if v, found := getString(t, c, "empty"); !found || v != "" {
		t.Fatalf("Get of an empty value = %q, %v", v, found)
	}
	// Binary keys and values round-trip exactly.
	bk, bv := []byte{0x00, 0xff, 0x00, 'k'}, []byte{0xff, 0x00, 0x01}
	if err := c.Put(ctx, bk, bv); err != nil {
		t.Fatal(err)
	}
	v, found, err := c.Get(ctx, bk)
	if err != nil || !found || !bytes.Equal(v, bv) {
		t.Fatalf("binary Get = %x, %v, %v", v, found, err)
	}
	// Keys differing only in a trailing zero byte are distinct.
	if _, found, _ := c.Get(ctx, bk[:3]); found {
		t.Fatal("a prefix of a binary key was found")
	}
}

func TestScan(t *testing.T) {
	s := startTestServer(t, testConfig())
	c := dial(t, s)
	ctx := testCtx(t)
	for _, k := range []string{"d", "a", "c", "b", "e", "b\x00", "ab"} {
		mustPut(t, c, k, "v"+k)
	}
	if _, err := c.Delete(ctx, []byte("c")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		start, end string
		limit      int
		want       string
		more       bool
	}{
		{"", "", 0, "a=va ab=vab b=vb b\x00=vb\x00 d=vd e=ve", false},
		{"b", "", 0, "b=vb b\x00=vb\x00 d=vd e=ve", false},
		{"b", "d", 0, "b=vb b\x00=vb\x00", false},
		{"a", "b", 0, "a=va ab=vab", false},
		{"", "", 2, "a=va ab=vab", true},
		{"", "", 6, "a=va ab=vab b=vb b\x00=vb\x00 d=vd e=ve", false},
		{"", "", 10000, "a=va ab=vab b=vb b\x00=vb\x00 d=vd e=ve", false},
		{"c", "c", 0, "", false},
		{"e", "a", 0, "", false}, // inverted: empty
		{"f", "", 0, "", false},
	}
	for _, tc := range tests {
		var end []byte
		if tc.end != "" {
			end = []byte(tc.end)
		}
		kvs, more, err := c.Scan(ctx, []byte(tc.start), end, tc.limit)
		if err != nil {
			t.Fatalf("Scan(%q, %q, %d): %v", tc.start, tc.end, tc.limit, err)
		}
		if got := scanString(kvs); got != tc.want || more != tc.more {
			t.Errorf("Scan(%q, %q, %d) = %q more=%v, want %q more=%v", tc.start, tc.end, tc.limit, got, more, tc.want, tc.more)
		}
	}
}

// TestScanDefaultLimit: limit 0 means the server default of 1000 keys.
func TestScanDefaultLimit(t *testing.T) {
	s := startTestServer(t, testConfig())
	c := dial(t, s)
	ctx := testCtx(t)
	ops := make([]client.Op, 1000)
	for i := range ops {
		ops[i] = client.PutOp([]byte(fmt.Sprintf("k%04d", i)), []byte("v"))
	}
	if _, err := c.Batch(ctx, ops...); err != nil {
		t.Fatalf("Batch of 1000 puts: %v", err)
	}
	mustPut(t, c, "k1000", "v")
	kvs, more, err := c.Scan(ctx, []byte("k"), nil, 0)
	if err != nil || len(kvs) != 1000 || !more {
		t.Fatalf("Scan limit 0 = %d keys more=%v %v; want 1000 and more", len(kvs), more, err)
	}
	if string(kvs[999].Key) != "k0999" {
		t.Fatalf("last key %q", kvs[999].Key)
	}
	kvs, more, err = c.Scan(ctx, []byte("k"), nil, 1001)
	if err != nil || len(kvs) != 1001 || more {
		t.Fatalf("Scan limit 1001 = %d keys more=%v %v", len(kvs), more, err)
	}
}

// TestScanByteLimit: a scan stops after about 4 MiB and reports more.
func TestScanByteLimit(t *testing.T) {
	s := startTestServer(t, testConfig())
	c := dial(t, s)
	ctx := testCtx(t)
	big := bytes.Repeat([]byte("x"), 1<<20)
	for i := 0; i < 6; i++ {
		if err := c.Put(ctx, []byte(fmt.Sprintf("big%d", i)), big); err != nil {
			t.Fatal(err)
		}
	}
	kvs, more, err := c.Scan(ctx, []byte("big"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !more || len(kvs) == 0 || len(kvs) >= 6 {
		t.Fatalf("Scan of 6 MiB = %d keys more=%v; want a cut with more", len(kvs), more)
	}
	// Continuing after the last key returns the rest.
	last := append(append([]byte(nil), kvs[len(kvs)-1].Key...), 0)
	rest, _, err := c.Scan(ctx, last, nil, 0)
	if err != nil || len(kvs)+len(rest) != 6 {
		t.Fatalf("continued scan = %d more keys, %v; want %d", len(rest), err, 6-len(kvs))
	}
}

func TestCompareAndSet(t *testing.T) {
	s := startTestServer(t, testConfig())
	c := dial(t, s)
	ctx := testCtx(t)
	k := []byte("cas")

	ok, cur, err := c.CompareAndSet(ctx, k, nil, []byte("v1")) // expect absent
	if err != nil || !ok || cur != nil {
		t.Fatalf("CAS absent->v1 = %v, %q, %v", ok, cur, err)
	}
	ok, cur, err = c.CompareAndSet(ctx, k, nil, []byte("v2")) // not absent any more
	if err != nil || ok || string(cur) != "v1" {
		t.Fatalf("CAS expecting absent on an existing key = %v, %q, %v; want failure with v1", ok, cur, err)
	}
	ok, cur, err = c.CompareAndSet(ctx, k, []byte("wrong"), []byte("v2"))
	if err != nil || ok || string(cur) != "v1" {
		t.Fatalf("CAS mismatch = %v, %q, %v; want failure with current value v1", ok, cur, err)
	}
	if v, _ := getString(t, c, "cas"); v != "v1" {
		t.Fatalf("a failed CAS wrote: %q", v)
	}
	ok, _, err = c.CompareAndSet(ctx, k, []byte("v1"), []byte("v2"))
	if err != nil || !ok {
		t.Fatalf("CAS v1->v2 = %v, %v", ok, err)
	}
	if v, _ := getString(t, c, "cas"); v != "v2" {
		t.Fatalf("after CAS = %q", v)
	}
	// Expecting a value of a missing key fails and reports no current value.
	ok, cur, err = c.CompareAndSet(ctx, []byte("cas-missing"), []byte("x"), []byte("y"))
	if err != nil || ok || cur != nil {
		t.Fatalf("CAS on a missing key = %v, %q, %v", ok, cur, err)
	}
	// After a delete the key is absent again.
	if _, err := c.Delete(ctx, k); err != nil {
		t.Fatal(err)
	}
	ok, _, err = c.CompareAndSet(ctx, k, nil, []byte("v3"))
	if err != nil || !ok {
		t.Fatalf("CAS expecting absent after delete = %v, %v", ok, err)
	}
	// An empty expected value (not nil) matches an existing empty value only.
	mustPut(t, c, "cas-empty", "")
	ok, _, err = c.CompareAndSet(ctx, []byte("cas-empty"), []byte{}, []byte("filled"))
	if err != nil || !ok {
		t.Fatalf("CAS \"\"->filled = %v, %v", ok, err)
	}
	ok, _, err = c.CompareAndSet(ctx, []byte("cas-empty-missing"), []byte{}, []byte("x"))
	if err != nil || ok {
		t.Fatalf("CAS expecting \"\" on a missing key = %v, %v; want failure", ok, err)
	}
}

// TestConcurrentCompareAndSet: concurrent CAS increments of one counter
// lose no update: the final value counts the successful CASes.
func TestConcurrentCompareAndSet(t *testing.T) {
	s := startTestServer(t, testConfig())
	c := dial(t, s)
	ctx := testCtx(t)
	mustPut(t, c, "counter", "0")
	const workers, perWorker = 4, 15
	var wg sync.WaitGroup
	var mu sync.Mutex
	succeeded := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done, attempts := 0, 0; done < perWorker; attempts++ {
				if attempts > 10000 {
					t.Error("too many CAS attempts")
					return
				}
				v, _, err := c.Get(ctx, []byte("counter"))
				if err != nil {
					t.Error(err)
					return
				}
				n, err := strconv.Atoi(string(v))
				if err != nil {
					t.Error(err)
					return
				}
				ok, _, err := c.CompareAndSet(ctx, []byte("counter"), v, []byte(fmt.Sprint(n+1)))
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					done++
					mu.Lock()
					succeeded++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if v, _ := getString(t, c, "counter"); v != fmt.Sprint(succeeded) || succeeded != workers*perWorker {
		t.Fatalf("counter = %s after %d successful CAS increments", v, succeeded)
	}
}

func TestBatch(t *testing.T) {
	s := startTestServer(t, testConfig())
	c := dial(t, s)
	ctx := testCtx(t)
	mustPut(t, c, "b-existing", "old")
	res, err := c.Batch(ctx,
		client.PutOp([]byte("b-a"), []byte("1")),
		client.GetOp([]byte("b-a")), // sees the put before it
		client.CompareAndSetOp([]byte("b-a"), []byte("1"), []byte("2")),
		client.CompareAndSetOp([]byte("b-existing"), []byte("nope"), []byte("x")),
		client.DeleteOp([]byte("b-existing")),
		client.DeleteOp([]byte("b-missing")),
		client.GetOp([]byte("b-existing")),
		client.GetOp([]byte("b-a")),
	)
	if err != nil {
		t.Fatal(err)
	}
	want := []client.Result{
		{Succeeded: true},
		{Found: true, Value: []byte("1")},
		{Succeeded: true},
		{Found: true, Value: []byte("old")}, // failed CAS: current value
		{Found: true, Succeeded: true},      // deleted
		{Succeeded: true},                   // nothing to delete
		{},                                  // gone
		{Found: true, Value: []byte("2")},
	}
	if resultsString(res) != resultsString(want) {
		t.Fatalf("batch results\n  %s\nwant\n  %s", resultsString(res), resultsString(want))
	}
	if v, found := getString(t, c, "b-a"); v != "2" || !found {
		t.Fatalf("after batch b-a = %q", v)
	}
	if _, found := getString(t, c, "b-existing"); found {
		t.Fatal("after batch b-existing still exists")
	}
	// A read-only batch and an empty batch.
	res, err = c.Batch(ctx, client.GetOp([]byte("b-a")), client.GetOp([]byte("b-nope")))
	if err != nil || len(res) != 2 || string(res[0].Value) != "2" || res[1].Found {
		t.Fatalf("read-only batch = %s, %v", resultsString(res), err)
	}
	res, err = c.Batch(ctx)
	if err != nil || len(res) != 0 {
		t.Fatalf("empty batch = %s, %v", resultsString(res), err)
	}
}

// TestBatchAtomicWithinRange: a reader never sees half of a single-range
// batch, and a batch with an invalid op applies nothing.
func TestBatchAtomicWithinRange(t *testing.T) {
	s := startTestServer(t, testConfig())
	c := dial(t, s)
	ctx := testCtx(t)
	if _, err := c.Batch(ctx, client.PutOp([]byte("x"), []byte("0")), client.PutOp([]byte("y"), []byte("0"))); err != nil {
		t.Fatal(err)
	}
	const writes = 60
	done := make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		defer close(readErr)
		for reads := 0; ; reads++ {
			select {
			case <-done:
				if reads == 0 {
					readErr <- errors.New("no reads")
				}
				return
			default:
			}
			res, err := c.Batch(ctx, client.GetOp([]byte("x")), client.GetOp([]byte("y")))
			if err != nil {
				readErr <- err
				return
			}
			if !bytes.Equal(res[0].Value, res[1].Value) {
				readErr <- fmt.Errorf("torn batch: x=%s y=%s", res[0].Value, res[1].Value)
				return
			}
		}
	}()
	for i := 1; i <= writes; i++ {
		v := []byte(fmt.Sprint(i))
		if _, err := c.Batch(ctx, client.PutOp([]byte("x"), v), client.PutOp([]byte("y"), v)); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	if err := <-readErr; err != nil {
		t.Fatal(err)
	}

	_, err := c.Batch(ctx, client.PutOp([]byte("x"), []byte("bad")), client.PutOp(nil, []byte("v")))
	if !errors.Is(err, client.ErrInvalid) {
		t.Fatalf("batch with an empty key = %v, want ErrInvalid", err)
	}
	if v, _ := getString(t, c, "x"); v != fmt.Sprint(writes) {
		t.Fatalf("an invalid batch applied its valid part: x=%q", v)
	}
}

func TestValidationErrors(t *testing.T) {
	s := startTestServer(t, testConfig())
	c := dial(t, s)
	ctx := testCtx(t)
	maxKey := bytes.Repeat([]byte("k"), 4096)
	longKey := bytes.Repeat([]byte("k"), 4097)
	maxValue := bytes.Repeat([]byte("v"), 1<<20)
	bigValue := bytes.Repeat([]byte("v"), 1<<20+1)
	manyOps := func(n int) []client.Op {
		ops := make([]client.Op, n)
		for i := range ops {
			ops[i] = client.GetOp([]byte(fmt.Sprint(i)))
		}
		return ops
	}
	tests := []struct {
		name    string
		call    func() error
		invalid bool
	}{
		{"get empty key", func() error { _, _, err := c.Get(ctx, nil); return err }, true},
		{"put empty key", func() error { return c.Put(ctx, []byte{}, []byte("v")) }, true},
		{"delete empty key", func() error { _, err := c.Delete(ctx, nil); return err }, true},
		{"cas empty key", func() error { _, _, err := c.CompareAndSet(ctx, nil, nil, []byte("v")); return err }, true},
		{"get key of 4096 bytes", func() error { _, _, err := c.Get(ctx, maxKey); return err }, false},
		{"put key of 4096 bytes", func() error { return c.Put(ctx, maxKey, []byte("v")) }, false},
		{"get key of 4097 bytes", func() error { _, _, err := c.Get(ctx, longKey); return err }, true},
		{"put key of 4097 bytes", func() error { return c.Put(ctx, longKey, []byte("v")) }, true},
		{"delete key of 4097 bytes", func() error { _, err := c.Delete(ctx, longKey); return err }, true},
		{"cas key of 4097 bytes", func() error { _, _, err := c.CompareAndSet(ctx, longKey, nil, nil); return err }, true},
		{"put value of 1 MiB", func() error { return c.Put(ctx, []byte("v1m"), maxValue) }, false},
		{"put value over 1 MiB", func() error { return c.Put(ctx, []byte("v1m+"), bigValue) }, true},
		{"cas value over 1 MiB", func() error { _, _, err := c.CompareAndSet(ctx, []byte("c"), nil, bigValue); return err }, true},
		{"scan limit 10000", func() error { _, _, err := c.Scan(ctx, nil, nil, 10000); return err }, false},
		{"scan limit 10001", func() error { _, _, err := c.Scan(ctx, nil, nil, 10001); return err }, true},
		{"scan negative limit", func() error { _, _, err := c.Scan(ctx, nil, nil, -1); return err }, true},
		{"scan start over 4096 bytes", func() error { _, _, err := c.Scan(ctx, longKey, nil, 0); return err }, true},
		{"scan end over 4096 bytes", func() error { _, _, err := c.Scan(ctx, nil, longKey, 0); return err }, true},
		{"batch of 1000", func() error { _, err := c.Batch(ctx, manyOps(1000)...); return err }, false},
		{"batch of 1001", func() error { _, err := c.Batch(ctx, manyOps(1001)...); return err }, true},
		{"batch with a long key", func() error { _, err := c.Batch(ctx, client.GetOp([]byte("ok")), client.GetOp(longKey)); return err }, true},
		{"batch with a big value", func() error { _, err := c.Batch(ctx, client.PutOp([]byte("ok"), bigValue)); return err }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.invalid && !errors.Is(err, client.ErrInvalid) {
				t.Fatalf("error = %v, want ErrInvalid", err)
			}
			if !tc.invalid && err != nil {
				t.Fatalf("error = %v, want success", err)
			}
		})
	}
	if _, found := getString(t, c, "v1m+"); found {
		t.Fatal("an oversized value was written")
	}
	if v, found := getString(t, c, "v1m"); !found || len(v) != 1<<20 {
		t.Fatalf("1 MiB value read back with %d bytes", len(v))
	}
}

// TestSplit splits the KV range and reads, writes, scans and batches across
// the boundary.
func TestSplit(t *testing.T) {
	s := startTestServer(t, testConfig())
	c := dial(t, s)
	ctx := testCtx(t)
	var all []string
	for ch := 'a'; ch <= 'z'; ch++ {
		mustPut(t, c, string(ch), "v"+string(ch))
		all = append(all, fmt.Sprintf("%c=v%c", ch, ch))
	}
	left, right, err := c.Split(ctx, []byte("m"))
	if err != nil {
		t.Fatalf("Split: %v", err)
	}
	if left == right || left == 0 || right == 0 {
		t.Fatalf("Split = %d, %d", left, right)
	}
	if infos := s.rangeInfos(); len(infos) != 3 {
		t.Fatalf("%d ranges after one split, want 3 (meta, left, right)", len(infos))
	}
	for _, k := range []string{"a", "l", "m", "z"} {
		if v, found := getString(t, c, k); !found || v != "v"+k {
			t.Fatalf("Get(%q) after split = %q, %v", k, v, found)
		}
	}
	kvs, more, err := c.Scan(ctx, nil, nil, 0)
	if err != nil || more || scanString(kvs) != strings.Join(all, " ") {
		t.Fatalf("full scan after split = %q more=%v %v", scanString(kvs), more, err)
	}
	kvs, more, err = c.Scan(ctx, []byte("k"), []byte("p"), 0)
	if err != nil || more || scanString(kvs) != "k=vk l=vl m=vm n=vn o=vo" {
		t.Fatalf("scan across the boundary = %q more=%v %v", scanString(kvs), more, err)
	}
	kvs, more, err = c.Scan(ctx, nil, nil, 15)
	if err != nil || !more || len(kvs) != 15 || string(kvs[14].Key) != "o" {
		t.Fatalf("limited scan across the boundary = %q more=%v %v", scanString(kvs), more, err)
	}
	kvs, _, err = c.Scan(ctx, []byte("o\x00"), nil, 0)
	if err != nil || len(kvs) != 11 || string(kvs[0].Key) != "p" {
		t.Fatalf("continued scan = %q, %v", scanString(kvs), err)
	}

	// Writes on both sides.
	mustPut(t, c, "b", "new-b")
	mustPut(t, c, "y", "new-y")
	if v, _ := getString(t, c, "y"); v != "new-y" {
		t.Fatalf("y = %q", v)
	}

	// A batch across the boundary runs request by request, in order.
	res, err := c.Batch(ctx,
		client.PutOp([]byte("c"), []byte("batch-c")),
		client.PutOp([]byte("x"), []byte("batch-x")),
		client.GetOp([]byte("c")),
		client.GetOp([]byte("x")),
		client.CompareAndSetOp([]byte("x"), []byte("batch-x"), []byte("cas-x")),
		client.DeleteOp([]byte("d")),
	)
	if err != nil {
		t.Fatalf("batch across ranges: %v", err)
	}
	if len(res) != 6 || string(res[2].Value) != "batch-c" || string(res[3].Value) != "batch-x" || !res[4].Succeeded || !res[5].Found {
		t.Fatalf("batch across ranges = %s", resultsString(res))
	}
	if v, _ := getString(t, c, "x"); v != "cas-x" {
		t.Fatalf("x after cross-range batch = %q", v)
	}
	// A batch on one side is still one range (and atomic).
	res, err = c.Batch(ctx, client.PutOp([]byte("n"), []byte("1")), client.GetOp([]byte("n")), client.GetOp([]byte("z")))
	if err != nil || string(res[1].Value) != "1" || string(res[2].Value) != "vz" {
		t.Fatalf("right-side batch = %s, %v", resultsString(res), err)
	}

	// Splitting again at the boundary fails; a second split elsewhere works.
	if _, _, err := c.Split(ctx, []byte("m")); err == nil {
		t.Fatal("split at an existing boundary succeeded")
	}
	if _, _, err := c.Split(ctx, nil); !errors.Is(err, client.ErrInvalid) {
		t.Fatalf("split at an empty key = %v, want ErrInvalid", err)
	}
	if _, _, err := c.Split(ctx, []byte("t")); err != nil {
		t.Fatalf("second split: %v", err)
	}
	kvs, _, err = c.Scan(ctx, nil, nil, 0)
	if err != nil || len(kvs) != 25 { // d deleted
		t.Fatalf("scan over three user ranges = %d keys, %v", len(kvs), err)
	}
}

// TestStopReleasesPortsAndGoroutines: after Stop the node's ports can be
// bound again and none of its goroutines is left.
func TestStopReleasesPortsAndGoroutines(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	s, err := Start(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	waitReady(t, s)
	c, err := client.Dial(s.RPCAddr(), client.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Put(testCtx(t), []byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	rpc, httpAddr := s.RPCAddr(), s.HTTPAddr()
	stopped := make(chan struct{})
	go func() { s.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(60 * time.Second):
		t.Fatal("Stop did not return")
	}
	s.Stop() // idempotent
	for _, addr := range []string{rpc, httpAddr} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("port %s still bound after Stop: %v", addr, err)
		}
		_ = ln.Close()
	}
	goleak.VerifyNone(t, ignore) // retries until the node's goroutines exit
}

// TestStartFailureReleasesListeners: when Start fails after binding the RPC
// port (here: the HTTP port is taken), the RPC port is released.
func TestStartFailureReleasesListeners(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := testConfig()
	cfg.HTTPAddr = busy.Addr().String()
	cfg.RPCAddr = freePort(t)
	if s, err := Start(cfg); err == nil || s != nil {
		if s != nil {
			s.Stop()
		}
		t.Fatal("Start succeeded with the HTTP port taken")
	} else if !strings.Contains(err.Error(), "--http-addr") {
		t.Fatalf("Start error %v does not name --http-addr", err)
	}
	ln, err := net.Listen("tcp", cfg.RPCAddr)
	if err != nil {
		t.Fatalf("Start left the RPC listener %s open after failing: %v", cfg.RPCAddr, err)
	}
	_ = ln.Close()
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// TestRestartOnDisk: data written to a data dir survives Stop and Start, and
// a second node on the same data dir is refused while the first runs.
func TestRestartOnDisk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg := testConfig()
	cfg.InMemory, cfg.DataDir = false, dir
	s := startTestServer(t, cfg)
	c := dial(t, s)
	mustPut(t, c, "durable", "yes")
	if _, _, err := c.Split(testCtx(t), []byte("m")); err != nil {
		t.Fatal(err)
	}
	mustPut(t, c, "z-durable", "yes")

	if s2, err := Start(cfg); err == nil {
		s2.Stop()
		t.Fatal("a second node started on a data dir in use")
	} else if !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Start error = %v, want one saying the dir is in use", err)
	}
	_ = c.Close()
	s.Stop()

	s = startTestServer(t, cfg)
	c = dial(t, s)
	for _, k := range []string{"durable", "z-durable"} {
		if v, found := getString(t, c, k); !found || v != "yes" {
			t.Fatalf("after restart %s = %q, %v", k, v, found)
		}
	}
	if n := len(s.rangeInfos()); n != 3 {
		t.Fatalf("%d ranges after restart, want 3 (the split survives)", n)
	}
	mustPut(t, c, "after-restart", "ok")
}

// TestRawGRPCRejectsNonClientRequests: the public KV service accepts only
// the client API; internal requests (increment, split) and empty requests are
// InvalidArgument, also inside a batch, and nothing of such a batch applies.
func TestRawGRPCRejectsNonClientRequests(t *testing.T) {
	s := startTestServer(t, testConfig())
	conn, err := grpc.NewClient(s.RPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	kv := kvpb.NewKVClient(conn)
	ctx := testCtx(t)
	put := &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Put{Put: &kvpb.PutRequest{Key: []byte("raw"), Value: []byte("v")}}}
	for name, bad := range map[string]*kvpb.RequestUnion{
		"empty":     {},
		"increment": {Value: &kvpb.RequestUnion_Increment{Increment: &kvpb.IncrementRequest{Key: []byte("raw"), Delta: 1}}},
		"split":     {Value: &kvpb.RequestUnion_AdminSplit{AdminSplit: &kvpb.AdminSplitRequest{SplitKey: []byte("raw"), NewRangeId: 99}}},
	} {
		_, err := kv.Batch(ctx, &kvpb.BatchRequest{Requests: []*kvpb.RequestUnion{put, bad}})
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "request 1") {
			t.Errorf("batch with %s request = %v, want InvalidArgument naming request 1", name, err)
		}
	}
	if resp, err := kv.Get(ctx, &kvpb.GetRequest{Key: []byte("raw")}); err != nil || resp.Found {
		t.Fatalf("a rejected batch applied its put: %v, %v", resp, err)
	}
	// Scans inside a batch are served and their keys are user keys.
	if _, err := kv.Put(ctx, &kvpb.PutRequest{Key: []byte("raw"), Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	resp, err := kv.Batch(ctx, &kvpb.BatchRequest{Requests: []*kvpb.RequestUnion{
		{Value: &kvpb.RequestUnion_Scan{Scan: &kvpb.ScanRequest{StartKey: []byte("r"), Limit: 10}}},
	}})
	if err != nil || len(resp.Responses) != 1 {
		t.Fatalf("batch scan = %v, %v", resp, err)
	}
	if kvs := resp.Responses[0].GetScan().GetKvs(); len(kvs) != 1 || string(kvs[0].Key) != "raw" {
		t.Fatalf("batch scan keys = %v, want [raw] without the namespace prefix", kvs)
	}
	// A unary Scan reports a user resume key.
	if _, err := kv.Put(ctx, &kvpb.PutRequest{Key: []byte("rax"), Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	sr, err := kv.Scan(ctx, &kvpb.ScanRequest{StartKey: []byte("r"), Limit: 1})
	if err != nil || !sr.More || len(sr.Kvs) != 1 || string(sr.Kvs[0].Key) != "raw" || string(sr.ResumeKey) != "rax" {
		t.Fatalf("scan limit 1 = %v, %v; want raw with resume key rax", sr, err)
	}
}
