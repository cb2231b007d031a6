package storage

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

// openMem opens an in-memory engine that is closed when the test ends.
func openMem(t testing.TB) *Engine {
	t.Helper()
	eng, err := Open(Config{InMemory: true})
	if err != nil {
		t.Fatalf("open in-memory engine: %v", err)
	}
	t.Cleanup(func() {
		if err := eng.Close(); err != nil {
			t.Errorf("close engine: %v", err)
		}
	})
	return eng
}

// testRand returns a seeded generator. The seed is logged so that a failure
// can be replayed with CAIRN_TEST_SEED=<seed>.
func testRand(t testing.TB) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CAIRN_TEST_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CAIRN_TEST_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed: CAIRN_TEST_SEED=%d", seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// commit writes through a batch so that tests exercise the same path as the
// raft store (a committed batch), then commits it.
func commit(t testing.TB, eng *Engine, f func(b *Batch) error) {
	t.Helper()
	b := eng.NewBatch()
	defer b.Close()
	if err := f(b); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(NoSync); err != nil {
		t.Fatal(err)
	}
}

func mustPut(t testing.TB, w Writer, key string, ts uint64, value string) {
	t.Helper()
	if err := MVCCPut(w, []byte(key), ts, []byte(value)); err != nil {
		t.Fatalf("MVCCPut(%q@%d): %v", key, ts, err)
	}
}

func mustDelete(t testing.TB, w Writer, key string, ts uint64) {
	t.Helper()
	if err := MVCCDelete(w, []byte(key), ts); err != nil {
		t.Fatalf("MVCCDelete(%q@%d): %v", key, ts, err)
	}
}
