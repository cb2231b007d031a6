package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairndb/cairn/pkg/client"
)

const (
	durabilityCycles  = 20
	durabilityWorkers = 16
	// durabilityBudget bounds the kill/restart cycles; verification follows.
	durabilityBudget = 120 * time.Second
	// requestTimeout bounds one KV request of the durability test.
	requestTimeout = 5 * time.Second
	// sampleFromHistory and sampleFromLastCycle size the check after a restart.
	sampleFromHistory   = 100
	sampleFromLastCycle = 100
)

// durabilityValue derives the value written under key, so that any key
// found later can be checked without a table of values.
func durabilityValue(key string) []byte {
	sum := crc32.ChecksumIEEE([]byte(key))
	return []byte(fmt.Sprintf("v|%s|%08x|%s", key, sum, strings.Repeat("*", int(sum%97))))
}

// cycleResult is what the writers of one cycle did.
type cycleResult struct {
	attempted  []string // every key a put was sent for
	acked      []string // puts that returned nil
	lastAcked  []string // the last acked key of each worker (most at risk)
	ambiguous  int      // ErrAmbiguous after the kill
	failed     int      // other errors after the kill
	errsBefore []error  // errors while the node was still alive
}

// TestKillNineDurability kills a single node with SIGKILL while 16 writers
// are putting keys, restarts it on the same data dir, and checks that every
// acknowledged put survived and nothing unexpected appeared.
func TestKillNineDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: kill -9 / restart cycles")
	}
	began := time.Now()
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, seed>>1|1))
	t.Logf("seed %d", seed)

	dataDir := t.TempDir()
	attempted := map[string]bool{}
	var acked []string
	var ambiguous, failed, errsBefore int
	var last cycleResult
	for cycle := range durabilityCycles {
		if time.Since(began) > durabilityBudget {
			t.Fatalf("only %d of %d cycles within %v", cycle, durabilityCycles, durabilityBudget)
		}
		n := startNode(t, nodeConfig{DataDir: dataDir})
		c, err := client.Dial(n.RPCAddr, client.WithInsecure())
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		if cycle > 0 {
			sample := sampleKeys(rng, acked, sampleFromHistory)
			sample = append(sample, sampleKeys(rng, last.acked, sampleFromLastCycle)...)
			sample = append(sample, last.lastAcked...)
			if bad := verifyAcked(t, c, sample, 4); bad > 0 {
				t.Fatalf("after restart %d: %d of %d sampled acknowledged keys lost or wrong", cycle, bad, len(sample))
			}
		}
		delay := time.Duration(50+rng.IntN(451)) * time.Millisecond
		last = writeUntilKilled(t, n, c, cycle, delay)
		c.Close()
		for _, k := range last.attempted {
			attempted[k] = true
		}
		acked = append(acked, last.acked...)
		ambiguous += last.ambiguous
		failed += last.failed
		errsBefore += len(last.errsBefore)
		for i, err := range last.errsBefore {
			if i == 3 {
				break
			}
			t.Logf("cycle %d: error before the kill: %v", cycle, err)
		}
		t.Logf("cycle %d: killed after %v: %d attempted, %d acked, %d ambiguous, %d failed, %d errors before the kill",
			cycle, delay, len(last.attempted), len(last.acked), last.ambiguous, last.failed, len(last.errsBefore))
	}
	if len(acked) == 0 {
		t.Fatalf("no put was acknowledged in %d cycles", durabilityCycles)
	}

	// Final restart: every acknowledged key, then the whole keyspace.
	n := startNode(t, nodeConfig{DataDir: dataDir})
	c := n.client(t)
	if bad := verifyAcked(t, c, acked, 8); bad > 0 {
		t.Errorf("%d of %d acknowledged keys lost or wrong after the final restart", bad, len(acked))
	}
	total := verifyScan(t, c, attempted)
	if total < len(acked) {
		t.Errorf("scan found %d keys, fewer than the %d acknowledged", total, len(acked))
	}
	if code := n.terminate(exitTimeout); code != 0 {
		t.Errorf("SIGTERM after the final verification: exit code %d, want 0", code)
	}
	t.Logf("%d cycles in %v: %d attempted, %d acked, %d ambiguous, %d failed after kill, %d errors before kill; scan found %d keys",
		durabilityCycles, time.Since(began).Round(time.Millisecond), len(attempted), len(acked), ambiguous, failed, errsBefore, total)
}

// writeUntilKilled runs the writers against n and SIGKILLs it after delay.
func writeUntilKilled(t *testing.T, n *node, c *client.Client, cycle int, delay time.Duration) cycleResult {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var killed atomic.Bool
	results := make([]cycleResult, durabilityWorkers)
	var wg sync.WaitGroup
	for w := range durabilityWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[w]
			for seq := 0; ctx.Err() == nil; seq++ {
				key := fmt.Sprintf("w%02d-c%03d-%07d", w, cycle, seq)
				r.attempted = append(r.attempted, key) // before sending
				rctx, rcancel := context.WithTimeout(ctx, requestTimeout)
				err := c.Put(rctx, []byte(key), durabilityValue(key))
				rcancel()
				switch {
				case err == nil:
					r.acked = append(r.acked, key)
				case killed.Load():
					if errors.Is(err, client.ErrAmbiguous) {
						r.ambiguous++
					} else {
						r.failed++
					}
					return
				default:
					r.errsBefore = append(r.errsBefore, fmt.Errorf("put %s: %w", key, err))
				}
			}
		}()
	}
	timer := time.NewTimer(delay) // the kill time itself, not a wait for a condition
	<-timer.C
	killed.Store(true)
	n.kill9()
	cancel()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * requestTimeout):
		t.Fatalf("cycle %d: writers did not stop within %v of the kill", cycle, 2*requestTimeout)
	}
	var out cycleResult
	for _, r := range results {
		out.attempted = append(out.attempted, r.attempted...)
		out.acked = append(out.acked, r.acked...)
		if len(r.acked) > 0 {
			out.lastAcked = append(out.lastAcked, r.acked[len(r.acked)-1])
		}
		out.ambiguous += r.ambiguous
		out.failed += r.failed
		out.errsBefore = append(out.errsBefore, r.errsBefore...)
	}
	return out
}

// sampleKeys returns up to k distinct random elements of keys.
func sampleKeys(rng *rand.Rand, keys []string, k int) []string {
	if len(keys) <= k {
		return slices.Clone(keys)
	}
	out := make([]string, 0, k)
	for _, i := range rng.Perm(len(keys))[:k] {
		out = append(out, keys[i])
	}
	return out
}

// verifyAcked Gets every key with the given parallelism and reports (up to
// a few) keys that are missing or hold the wrong value; it returns how many.
func verifyAcked(t *testing.T, c *client.Client, keys []string, parallel int) int {
	t.Helper()
	var mu sync.Mutex
	var bad int
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		bad++
		if bad <= 10 {
			t.Errorf(format, args...)
		}
	}
	work := make(chan string)
	var wg sync.WaitGroup
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
				v, found, err := c.Get(ctx, []byte(k))
				cancel()
				switch {
				case err != nil:
					report("get %s: %v", k, err)
				case !found:
					report("acknowledged key %s is missing", k)
				case !bytes.Equal(v, durabilityValue(k)):
					report("acknowledged key %s: value %q, want %q", k, v, durabilityValue(k))
				}
			}
		}()
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
	return bad
}

// verifyScan pages through the whole keyspace (limit 1000, resuming after
// the last key) and checks order, that every key was attempted and that it
// holds its derived value. It returns the number of keys.
func verifyScan(t *testing.T, c *client.Client, attempted map[string]bool) int {
	t.Helper()
	const limit = 1000
	maxPages := len(attempted)/limit + 10
	var start, prev []byte
	total, unexpected := 0, 0
	for page := 0; ; page++ {
		if page > maxPages {
			t.Fatalf("scan: more than %d pages for %d attempted keys", maxPages, len(attempted))
		}
		ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		kvs, more, err := c.Scan(ctx, start, nil, limit)
		cancel()
		if err != nil {
			t.Fatalf("scan from %q: %v", start, err)
		}
		if len(kvs) > limit {
			t.Fatalf("scan returned %d keys with limit %d", len(kvs), limit)
		}
		for _, kv := range kvs {
			if prev != nil && bytes.Compare(kv.Key, prev) <= 0 {
				t.Fatalf("scan out of order: %q after %q", kv.Key, prev)
			}
			prev = kv.Key
			total++
			k := string(kv.Key)
			if !attempted[k] {
				if unexpected++; unexpected <= 10 {
					t.Errorf("scan found key %q that was never written", k)
				}
				continue
			}
			if !bytes.Equal(kv.Value, durabilityValue(k)) {
				t.Errorf("scan: key %s holds %q, want %q", k, kv.Value, durabilityValue(k))
			}
		}
		if !more {
			break
		}
		if len(kvs) == 0 {
			t.Fatalf("scan from %q: more=true but no keys", start)
		}
		start = append(slices.Clone(kvs[len(kvs)-1].Key), 0)
	}
	if unexpected > 0 {
		t.Errorf("scan found %d keys that were never written", unexpected)
	}
	return total
}
