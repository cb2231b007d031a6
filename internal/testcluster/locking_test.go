package testcluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/replica"
)

// Locking reads (kv.Txn.GetForUpdate, ScanForUpdate): writers of a hot key
// queue on its lock instead of failing at commit; locks are released by
// commit and rollback; deadlocks end; each isolation level treats a locked
// value newer than its snapshot as documented in txn_lock.go.

// oneNode starts a one-node cluster and returns a context bounded by
// timeout (cancelled when the test ends) and the node's DB.
func oneNode(t *testing.T, timeout time.Duration) (context.Context, *kv.DB) {
	c := Start(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx, c.Nodes[0].DB()
}

func lockingEnv(t *testing.T, db *kv.DB, ctx context.Context, iso kvpb.IsolationLevel, split bool, prefix string) *anomalyEnv {
	return &anomalyEnv{T: t, ctx: ctx, db: db, iso: iso, split: split, prefix: prefix}
}

// TestLockingReadsSerializeHotKey: concurrent read-modify-write
// transactions on one key, each reading it with GetForUpdate, all commit at
// the first attempt (no 40001) under every isolation level, and no
// increment is lost.
func TestLockingReadsSerializeHotKey(t *testing.T) {
	ctx, db := oneNode(t, 120*time.Second)
	for i, lvl := range isoLevels {
		for j, split := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/split=%v", lvl.name, split), func(t *testing.T) {
				e := lockingEnv(t, db, ctx, lvl.iso, split, fmt.Sprintf("hot/%d/%d/", i, j))
				e.layout("counter", "other")
				e.seed("counter", "0", "other", "0")
				const workers, rounds = 6, 8
				var wg sync.WaitGroup
				errs := make(chan error, workers*rounds)
				for w := 0; w < workers; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for r := 0; r < rounds; r++ {
							txn, err := db.Begin(ctx, kv.TxnOptions{Isolation: lvl.iso})
							if err != nil {
								errs <- err
								return
							}
							// A plain read of another key first: the refresh
							// after the lock must validate it (nobody writes it).
							if _, err := txn.Get(ctx, e.key("other")); err != nil {
								txn.Rollback()
								errs <- err
								return
							}
							got, err := txn.GetForUpdate(ctx, e.key("counter"))
							if err != nil {
								txn.Rollback()
								errs <- fmt.Errorf("GetForUpdate: %w", err)
								return
							}
							n, _ := strconv.Atoi(string(got.Value))
							if err := txn.Put(e.key("counter"), []byte(strconv.Itoa(n+1))); err != nil {
								errs <- err
								return
							}
							if _, err := txn.Commit(ctx); err != nil {
								errs <- fmt.Errorf("commit: %w", err)
								return
							}
						}
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					if lvl.iso == kvpb.IsolationLevel_REPEATABLE_READ && kvpb.IsRetryable(err) {
						continue // a snapshot older than the locked value: 40001, as PostgreSQL
					}
					t.Errorf("transaction failed: %v", err)
				}
				if lvl.iso == kvpb.IsolationLevel_REPEATABLE_READ {
					return // the count depends on how many had to restart
				}
				if got := e.latest("counter"); got != strconv.Itoa(workers*rounds) {
					t.Fatalf("counter = %s after %d increments", got, workers*rounds)
				}
			})
		}
	}
}

// TestLockingReadRefresh: under SERIALIZABLE a locking read that finds a
// version newer than the snapshot moves the snapshot when nothing read
// before changed, and fails with a retryable error when something did.
func TestLockingReadRefresh(t *testing.T) {
	ctx, db := oneNode(t, 60*time.Second)
	for i, split := range []bool{false, true} {
		t.Run(fmt.Sprintf("split=%v", split), func(t *testing.T) {
			e := lockingEnv(t, db, ctx, kvpb.IsolationLevel_SERIALIZABLE, split, fmt.Sprintf("refresh/%d/", i))
			e.layout("x", "y", "z")
			e.seed("x", "0", "y", "0", "z", "0")

			// Unchanged reads: the refresh succeeds and the newer value is seen.
			t1 := e.begin()
			if got := e.get(t1, "x"); got != "0" {
				t.Fatalf("x = %q", got)
			}
			t2 := e.begin()
			e.put(t2, "y", "1")
			e.mustCommit(t2, "writer of y")
			r, err := t1.GetForUpdate(ctx, e.key("y"))
			if err != nil {
				t.Fatalf("GetForUpdate(y): %v", err)
			}
			if string(r.Value) != "1" {
				t.Fatalf("locked y = %q, want the newest value 1", r.Value)
			}
			if got := e.get(t1, "z"); got != "0" {
				t.Fatalf("z = %q", got)
			}
			e.put(t1, "y", "2")
			e.mustCommit(t1, "refreshed transaction")
			if got := e.latest("y"); got != "2" {
				t.Fatalf("y = %q, want 2", got)
			}

			// A changed read: the refresh fails.
			t3 := e.begin()
			e.get(t3, "x")
			t4 := e.begin()
			e.put(t4, "x", "9")
			e.put(t4, "z", "9")
			e.mustCommit(t4, "writer of x and z")
			_, err = t3.GetForUpdate(ctx, e.key("z"))
			e.mustAbort(err, "locking read after a read that changed")
			t3.Rollback()

			// Its lock was released: another transaction locks z at once.
			t5 := e.begin()
			lctx, lcancel := context.WithTimeout(ctx, 2*time.Second)
			defer lcancel()
			if _, err := t5.GetForUpdate(lctx, e.key("z")); err != nil {
				t.Fatalf("lock after the rollback released it: %v", err)
			}
			e.mustCommit(t5, "lock only")
			if got := e.latest("z"); got != "9" {
				t.Fatalf("z = %q after a commit that only locked it, want 9", got)
			}
		})
	}
}

// TestLockingReadRepeatableRead: a REPEATABLE READ transaction whose locked
// key changed after its snapshot fails with a retryable error.
func TestLockingReadRepeatableRead(t *testing.T) {
	ctx, db := oneNode(t, 60*time.Second)
	e := lockingEnv(t, db, ctx, kvpb.IsolationLevel_REPEATABLE_READ, false, "rr/")
	e.layout("x")
	e.seed("x", "0")
	t1 := e.begin()
	t2 := e.begin()
	e.put(t2, "x", "1")
	e.mustCommit(t2, "writer")
	_, err := t1.GetForUpdate(ctx, e.key("x"))
	e.mustAbort(err, "REPEATABLE READ locking a key changed after its snapshot")
	t1.Rollback()
}

// TestLockingReadDeadlock: two transactions that lock two keys in opposite
// orders: one of them gets a retryable DEADLOCK error, the other commits.
func TestLockingReadDeadlock(t *testing.T) {
	ctx, db := oneNode(t, 60*time.Second)
	e := lockingEnv(t, db, ctx, kvpb.IsolationLevel_SERIALIZABLE, true, "deadlock/")
	e.layout("a", "b")
	e.seed("a", "0", "b", "0")
	t1, t2 := e.begin(), e.begin()
	if _, err := t1.GetForUpdate(ctx, e.key("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := t2.GetForUpdate(ctx, e.key("b")); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	lockThenCommit := func(txn *kv.Txn, key string) {
		_, err := txn.GetForUpdate(ctx, e.key(key))
		if err != nil {
			txn.Rollback()
			errs <- err
			return
		}
		txn.Put(e.key(key), []byte("x"))
		_, err = txn.Commit(ctx)
		errs <- err
	}
	start := time.Now()
	go lockThenCommit(t1, "b")
	go lockThenCommit(t2, "a")
	var failed, committed int
	for range 2 {
		err := <-errs
		var ke *kvpb.Error
		switch {
		case err == nil:
			committed++
		case errors.As(err, &ke) && ke.GetTxnRetry().GetReason() == kvpb.TxnRetry_DEADLOCK:
			failed++
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if failed != 1 || committed != 1 {
		t.Fatalf("%d deadlock errors and %d commits, want 1 and 1", failed, committed)
	}
	t.Logf("deadlock broken after %s", time.Since(start))
}

// TestLockingScan: ScanForUpdate locks every row it returns; a writer of
// one of them waits until the scanning transaction commits.
func TestLockingScan(t *testing.T) {
	ctx, db := oneNode(t, 60*time.Second)
	for i, lvl := range isoLevels {
		t.Run(lvl.name, func(t *testing.T) {
			e := lockingEnv(t, db, ctx, lvl.iso, true, fmt.Sprintf("lockscan/%d/", i))
			e.layout("a", "b", "c")
			e.seed("a", "1", "b", "2", "c", "3")
			t1 := e.begin()
			r, err := t1.ScanForUpdate(ctx, e.key("a"), e.key("d"), 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Kvs) != 3 {
				t.Fatalf("scan returned %d rows, want 3", len(r.Kvs))
			}
			done := make(chan error, 1)
			waits := replica.LockWaitsStarted()
			go func() {
				t2, err := db.Begin(ctx, kv.TxnOptions{Isolation: lvl.iso})
				if err != nil {
					done <- err
					return
				}
				if _, err := t2.GetForUpdate(ctx, e.key("b")); err != nil {
					t2.Rollback()
					done <- err
					return
				}
				t2.Put(e.key("b"), []byte("20"))
				_, err = t2.Commit(ctx)
				done <- err
			}()
			if err := replica.AwaitLockWait(ctx, waits, done); err != nil {
				t.Fatalf("the writer while the row was locked: %v", err)
			}
			e.put(t1, "b", "200")
			e.mustCommit(t1, "scanner")
			if err := <-done; err != nil && !(lvl.iso == kvpb.IsolationLevel_REPEATABLE_READ && kvpb.IsRetryable(err)) {
				t.Fatalf("writer after the lock was released: %v", err)
			}
			if got := e.latest("b"); lvl.iso != kvpb.IsolationLevel_REPEATABLE_READ && got != "20" {
				t.Fatalf("b = %q, want the queued writer's 20", got)
			}
		})
	}
}

// TestGetValidatedAtEveryLevel: a key read with GetValidated makes the
// transaction fail at commit if another transaction wrote the key since it
// began, whatever its isolation level (SQL's catalog version read).
func TestGetValidatedAtEveryLevel(t *testing.T) {
	ctx, db := oneNode(t, 60*time.Second)
	for i, lvl := range isoLevels {
		for j, split := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/split=%v", lvl.name, split), func(t *testing.T) {
				e := lockingEnv(t, db, ctx, lvl.iso, split, fmt.Sprintf("validated/%d/%d/", i, j))
				e.layout("version", "row")
				e.seed("version", "1", "row", "0")
				t1 := e.begin()
				if _, err := t1.GetValidated(ctx, e.key("version")); err != nil {
					t.Fatal(err)
				}
				t2 := e.begin()
				e.put(t2, "version", "2")
				e.mustCommit(t2, "schema change")
				e.put(t1, "row", "1")
				_, err := t1.Commit(ctx)
				e.mustAbort(err, "writer that read the old version")
				if got := e.latest("row"); got != "0" {
					t.Fatalf("row = %q: the aborted writer's write applied", got)
				}
				// Unchanged: it commits.
				t3 := e.begin()
				if _, err := t3.GetValidated(ctx, e.key("version")); err != nil {
					t.Fatal(err)
				}
				e.put(t3, "row", "3")
				e.mustCommit(t3, "writer of the current version")
			})
		}
	}
}

// TestLockingReadAboveLocalCommit: a one-phase commit of keys its
// transaction read takes a timestamp its leaseholder picks, one above an
// oracle timestamp (odd). A serializable locking read that finds such a
// version newer than its snapshot moves its reads to a fresh oracle
// timestamp above it, never to the commit's own: reads stay at timestamps
// the oracle handed out, which later local commits rely on
// (replica/replica_tscache.go).
func TestLockingReadAboveLocalCommit(t *testing.T) {
	ctx, db := oneNode(t, 60*time.Second)
	e := lockingEnv(t, db, ctx, kvpb.IsolationLevel_SERIALIZABLE, false, "localts/")
	e.seed("k", "0", "warm", "0")
	rmw := func(name string) uint64 {
		txn := e.begin()
		e.get(txn, name)
		e.put(txn, name, "1")
		res, err := txn.Commit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return res.CommitTS
	}
	rmw("warm") // the lease term's first one-phase commit takes the oracle's
	t1 := e.begin()
	e.get(t1, "warm") // t1's snapshot is taken
	c := rmw("k")
	if c%2 != 1 || c <= t1.ReadTS() {
		t.Fatalf("read-modify-write committed at %d (t1 reads at %d): want a local, odd commit timestamp above", c, t1.ReadTS())
	}
	if _, err := t1.GetForUpdate(ctx, e.key("k")); err != nil {
		t.Fatal(err)
	}
	if r := t1.ReadTS(); r <= c || r%2 != 0 {
		t.Fatalf("after a locking read found the version at %d, t1 reads at %d: want an oracle timestamp above it", c, r)
	}
	t1.Rollback()
}
