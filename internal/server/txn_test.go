package server

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cairndb/cairn/pkg/client"
)

func TestTxnBasic(t *testing.T) {
	s := startTestServer(t, testConfig())
	c := dial(t, s)
	ctx := testCtx(t)
	mustPut(t, c, "a", "1")
	txn, err := c.BeginTxn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok, err := txn.Get(ctx, []byte("a")); err != nil || !ok || string(v) != "1" {
		t.Fatalf("txn get a = %q %v %v", v, ok, err)
	}
	if err := txn.Put(ctx, []byte("b"), []byte("2")); err != nil {
		t.Fatal(err)
	}
	if err := txn.Delete(ctx, []byte("a")); err != nil {
		t.Fatal(err)
	}
	// Own writes are visible inside, not outside.
	if _, ok, _ := txn.Get(ctx, []byte("a")); ok {
		t.Fatal("own delete not visible")
	}
	vals, found, err := txn.GetMany(ctx, []byte("a"), []byte("b"), []byte("zz"))
	if err != nil || found[0] || !found[1] || string(vals[1]) != "2" || found[2] {
		t.Fatalf("GetMany = %q %v %v", vals, found, err)
	}
	kvs, _, err := txn.Scan(ctx, nil, nil, 0)
	if err != nil || scanString(kvs) != "b=2" {
		t.Fatalf("txn scan = %s, %v", scanString(kvs), err)
	}
	if v, ok := getString(t, c, "a"); !ok || v != "1" {
		t.Fatalf("uncommitted delete visible outside: %q %v", v, ok)
	}
	if _, err := txn.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := getString(t, c, "a"); ok {
		t.Fatal("committed delete not applied")
	}
	if v, ok := getString(t, c, "b"); !ok || v != "2" {
		t.Fatalf("b = %q %v", v, ok)
	}
}

// TestTxnNoLostUpdates runs concurrent read-modify-write increments of one
// counter through Client.Txn: every committed increment must count.
func TestTxnNoLostUpdates(t *testing.T) {
	s := startTestServer(t, testConfig())
	c := dial(t, s)
	ctx := testCtx(t)
	mustPut(t, c, "n", "0")
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				_, err := c.Txn(ctx, func(ctx context.Context, txn *client.Txn) error {
					v, _, err := txn.Get(ctx, []byte("n"))
					if err != nil {
						return err
					}
					n, _ := strconv.Atoi(string(v))
					return txn.Put(ctx, []byte("n"), []byte(strconv.Itoa(n+1)))
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if v, _ := getString(t, c, "n"); v != strconv.Itoa(workers*each) {
		t.Fatalf("counter = %s, want %d", v, workers*each)
	}
}

// TestTxnIdempotentRetry commits twice under one idempotency key: the
// second attempt reports the first commit and applies nothing.
func TestTxnIdempotentRetry(t *testing.T) {
	s := startTestServer(t, testConfig())
	c := dial(t, s)
	ctx := testCtx(t)
	mustPut(t, c, "x", "0")
	run := func() client.CommitResult {
		txn, err := c.BeginTxn(ctx, client.WithIdempotencyKey("transfer-1"))
		if err != nil {
			t.Fatal(err)
		}
		v, _, err := txn.Get(ctx, []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(string(v))
		if err := txn.Put(ctx, []byte("x"), []byte(strconv.Itoa(n+10))); err != nil {
			t.Fatal(err)
		}
		res, err := txn.Commit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := run()
	second := run()
	if first.AlreadyCommitted || !second.AlreadyCommitted || second.CommitTS != first.CommitTS {
		t.Fatalf("first %+v, second %+v", first, second)
	}
	if v, _ := getString(t, c, "x"); v != "10" {
		t.Fatalf("x = %s, want 10 (applied once)", v)
	}
	// A user error from fn is returned and nothing is written.
	boom := errors.New("boom")
	if _, err := c.Txn(ctx, func(ctx context.Context, txn *client.Txn) error {
		if err := txn.Put(ctx, []byte("x"), []byte("99")); err != nil {
			t.Errorf("put: %v", err)
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if v, _ := getString(t, c, "x"); v != "10" {
		t.Fatalf("x = %s after a failed txn", v)
	}
}

// TestTxnLockingReadsNoRetries runs the same increments with
// GetManyForUpdate through BeginTxn (no retry loop): the writers queue on
// the lock, so none fails, and a ScanForUpdate and GetForUpdate see the
// transaction's own buffered writes.
func TestTxnLockingReadsNoRetries(t *testing.T) {
	s := startTestServer(t, testConfig())
	c := dial(t, s)
	ctx := testCtx(t)
	mustPut(t, c, "n", "0")
	mustPut(t, c, "m", "0")
	const workers, each = 6, 8
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				txn, err := c.BeginTxn(ctx)
				if err != nil {
					errs <- err
					return
				}
				vals, _, err := txn.GetManyForUpdate(ctx, []byte("n"), []byte("m"))
				if err != nil {
					errs <- err
					txn.Rollback(ctx)
					continue
				}
				for j, k := range []string{"n", "m"} {
					n, _ := strconv.Atoi(string(vals[j]))
					if err := txn.Put(ctx, []byte(k), []byte(strconv.Itoa(n+1))); err != nil {
						errs <- err
					}
				}
				if _, err := txn.Commit(ctx); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("locking increment failed: %v", err)
	}
	for _, k := range []string{"n", "m"} {
		if v, _ := getString(t, c, k); v != strconv.Itoa(workers*each) {
			t.Fatalf("%s = %s, want %d", k, v, workers*each)
		}
	}

	txn, err := c.BeginTxn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := txn.Put(ctx, []byte("n"), []byte("own")); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := txn.GetForUpdate(ctx, []byte("n")); err != nil || !ok || string(v) != "own" {
		t.Fatalf("GetForUpdate of an own write = %q %v %v", v, ok, err)
	}
	kvs, _, err := txn.ScanForUpdate(ctx, []byte("m"), []byte("o"), 0)
	if err != nil || scanString(kvs) != "m="+strconv.Itoa(workers*each)+" n=own" {
		t.Fatalf("ScanForUpdate = %s, %v", scanString(kvs), err)
	}
	if err := txn.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// Rolled back: the locks are gone, a new locking read does not wait
	// for them to expire.
	lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	txn2, err := c.BeginTxn(lctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := txn2.GetManyForUpdate(lctx, []byte("n"), []byte("m")); err != nil {
		t.Fatalf("locking read after a rollback: %v", err)
	}
	if _, err := txn2.Commit(lctx); err != nil {
		t.Fatal(err)
	}
}
