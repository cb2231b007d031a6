package server

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

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
