package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cairndb/cairn/internal/replica"
)

// Row locking in SQL (internal/sql/lock.go): UPDATE, DELETE and SELECT ...
// FOR UPDATE lock the rows they read, so writers of a hot row queue
// instead of failing with 40001.

// TestSQLHotRowUpdatesQueue runs pgbench's TPC-B shape (several UPDATEs of
// rows shared by every client, one INSERT) from concurrent explicit
// transactions under each isolation level: no transaction fails under
// SERIALIZABLE and READ COMMITTED, and the balances add up.
func TestSQLHotRowUpdatesQueue(t *testing.T) {
	s := startTestServer(t, testConfig())
	ctx := testCtx(t)
	setup := connectSQL(t, s)
	for _, q := range []string{
		"CREATE TABLE branches (bid INT PRIMARY KEY, bbalance INT NOT NULL)",
		"CREATE TABLE tellers (tid INT PRIMARY KEY, bid INT, tbalance INT NOT NULL)",
		"CREATE TABLE accounts (aid INT PRIMARY KEY, bid INT, abalance INT NOT NULL)",
		"CREATE TABLE history (tid INT, bid INT, aid INT, delta INT)",
		"INSERT INTO branches VALUES (1, 0)",
		"INSERT INTO tellers SELECT g, 1, 0 FROM generate_series(1, 3) g",
		"INSERT INTO accounts SELECT g, 1, 0 FROM generate_series(1, 50) g",
	} {
		if _, err := setup.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, iso := range []string{"serializable", "read committed"} {
		t.Run(iso, func(t *testing.T) {
			const clients, rounds = 6, 10
			var wg sync.WaitGroup
			errs := make(chan error, clients*rounds)
			for c := 0; c < clients; c++ {
				conn := connectSQL(t, s)
				wg.Add(1)
				go func() {
					defer wg.Done()
					for r := 0; r < rounds; r++ {
						aid, tid, delta := 1+(c*rounds+r)%50, 1+(c+r)%3, 1+r%5
						err := pgx.BeginTxFunc(ctx, conn, pgx.TxOptions{IsoLevel: pgx.TxIsoLevel(iso)}, func(tx pgx.Tx) error {
							for _, q := range []struct {
								sql  string
								args []any
							}{
								{"UPDATE accounts SET abalance = abalance + $1 WHERE aid = $2", []any{delta, aid}},
								{"SELECT abalance FROM accounts WHERE aid = $1", []any{aid}},
								{"UPDATE tellers SET tbalance = tbalance + $1 WHERE tid = $2", []any{delta, tid}},
								{"UPDATE branches SET bbalance = bbalance + $1 WHERE bid = 1", []any{delta}},
								{"INSERT INTO history VALUES ($1, 1, $2, $3)", []any{tid, aid, delta}},
							} {
								if _, err := tx.Exec(ctx, q.sql, q.args...); err != nil {
									return fmt.Errorf("%s: %w", q.sql, err)
								}
							}
							return nil
						})
						if err != nil {
							errs <- err
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("transaction failed: %v", err)
			}
			var b, tl, a, h int
			if err := setup.QueryRow(ctx, `SELECT (SELECT bbalance FROM branches), (SELECT sum(tbalance) FROM tellers),
				(SELECT sum(abalance) FROM accounts), (SELECT sum(delta) FROM history)`).Scan(&b, &tl, &a, &h); err != nil {
				t.Fatal(err)
			}
			if b != h || tl != h || a != h {
				t.Fatalf("branch %d, tellers %d, accounts %d, history %d: want all equal", b, tl, a, h)
			}
		})
	}
}

// TestSQLSelectForUpdate: a row read FOR UPDATE is locked until the
// transaction ends; a concurrent UPDATE of it waits, then applies to the
// committed row.
func TestSQLSelectForUpdate(t *testing.T) {
	s := startTestServer(t, testConfig())
	ctx := testCtx(t)
	a, b := connectSQL(t, s), connectSQL(t, s)
	if _, err := a.Exec(ctx, "CREATE TABLE kv (k INT PRIMARY KEY, v INT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Exec(ctx, "INSERT INTO kv VALUES (1, 10), (2, 20), (3, 30)"); err != nil {
		t.Fatal(err)
	}
	for _, lock := range []string{"WHERE k = 2 FOR UPDATE", "WHERE v >= 20 FOR UPDATE", "FOR SHARE OF kv"} {
		t.Run(lock, func(t *testing.T) {
			tx, err := a.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := tx.Query(ctx, "SELECT k, v FROM kv "+lock)
			if err != nil {
				t.Fatal(err)
			}
			rows.Close()
			if rows.Err() != nil {
				t.Fatal(rows.Err())
			}
			done := make(chan error, 1)
			waits := replica.LockWaitsStarted()
			go func() {
				_, err := b.Exec(ctx, "UPDATE kv SET v = v + 1 WHERE k = 2")
				done <- err
			}()
			if err := replica.AwaitLockWait(ctx, waits, done); err != nil {
				t.Fatalf("UPDATE of a locked row: %v", err)
			}
			if _, err := tx.Exec(ctx, "UPDATE kv SET v = v * 2 WHERE k = 2"); err != nil {
				t.Fatal(err)
			}
			var before int
			if err := tx.QueryRow(ctx, "SELECT v FROM kv WHERE k = 2").Scan(&before); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatalf("queued UPDATE: %v", err)
			}
			var after int
			if err := a.QueryRow(ctx, "SELECT v FROM kv WHERE k = 2").Scan(&after); err != nil {
				t.Fatal(err)
			}
			if after != before+1 {
				t.Fatalf("v = %d after the queued +1 on %d: an update was lost", after, before)
			}
		})
	}
}

// TestSQLLockingErrors: what SELECT ... FOR UPDATE refuses, with
// PostgreSQL's SQLSTATEs, and a deadlock reported as 40P01.
func TestSQLLockingErrors(t *testing.T) {
	s := startTestServer(t, testConfig())
	ctx := testCtx(t)
	a, b := connectSQL(t, s), connectSQL(t, s)
	if _, err := a.Exec(ctx, "CREATE TABLE kv (k INT PRIMARY KEY, v INT); INSERT INTO kv VALUES (1, 1), (2, 2)"); err != nil {
		t.Fatal(err)
	}
	for q, code := range map[string]string{
		"SELECT count(*) FROM kv FOR UPDATE":         "0A000",
		"SELECT DISTINCT v FROM kv FOR UPDATE":       "0A000",
		"SELECT k FROM kv FOR UPDATE NOWAIT":         "0A000",
		"SELECT k FROM kv FOR UPDATE SKIP LOCKED":    "0A000",
		"SELECT k FROM kv FOR UPDATE OF nope":        "42P01",
		"SELECT k FROM kv UNION SELECT 1 FOR UPDATE": "0A000",
	} {
		var pgErr *pgconn.PgError
		if _, err := a.Exec(ctx, q); !errors.As(err, &pgErr) || pgErr.Code != code {
			t.Errorf("%s: %v, want SQLSTATE %s", q, err, code)
		}
	}
	if _, err := a.Exec(ctx, "SELECT a.k FROM kv a JOIN kv b ON a.k = b.k FOR UPDATE OF a"); err != nil {
		t.Errorf("FOR UPDATE OF one side of a join: %v", err)
	}

	// Deadlock: each holds one row and asks for the other's.
	ta, err := a.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := b.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ta.Exec(ctx, "UPDATE kv SET v = 10 WHERE k = 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.Exec(ctx, "UPDATE kv SET v = 20 WHERE k = 2"); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	errs := make(chan error, 2)
	go func() {
		_, err := ta.Exec(wctx, "UPDATE kv SET v = 11 WHERE k = 2")
		if err == nil {
			err = ta.Commit(wctx)
		}
		errs <- err
	}()
	go func() {
		_, err := tb.Exec(wctx, "UPDATE kv SET v = 21 WHERE k = 1")
		if err == nil {
			err = tb.Commit(wctx)
		}
		errs <- err
	}()
	var deadlocks, ok int
	for range 2 {
		err := <-errs
		var pgErr *pgconn.PgError
		switch {
		case err == nil:
			ok++
		case errors.As(err, &pgErr) && pgErr.Code == "40P01":
			deadlocks++
		default:
			t.Fatalf("unexpected: %v", err)
		}
	}
	ta.Rollback(ctx)
	tb.Rollback(ctx)
	if deadlocks != 1 || ok != 1 {
		t.Fatalf("%d deadlocks and %d commits, want 1 and 1", deadlocks, ok)
	}
}

// TestSQLForeignKeyRaceReadCommitted: under READ COMMITTED (which validates
// no reads) a child insert locks its parent row, so a concurrent delete of
// the parent waits for it and then finds the child (23503), and a child
// insert after a pending delete waits and then finds no parent (23503):
// no orphan either way.
func TestSQLForeignKeyRaceReadCommitted(t *testing.T) {
	s := startTestServer(t, testConfig())
	a, b := connectSQL(t, s), connectSQL(t, s)
	ctx := testCtx(t)
	mustExec(t, a, `CREATE TABLE p (id INT PRIMARY KEY)`, `CREATE TABLE c (id INT PRIMARY KEY, p_id INT REFERENCES p)`)
	rc := pgx.TxOptions{IsoLevel: pgx.ReadCommitted}
	for round, childFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("child first=%v", childFirst), func(t *testing.T) {
			mustExec(t, a, fmt.Sprintf(`INSERT INTO p VALUES (%d)`, round))
			first, second := a, b
			firstSQL := fmt.Sprintf(`INSERT INTO c VALUES (%d, %d)`, round, round)
			secondSQL := fmt.Sprintf(`DELETE FROM p WHERE id = %d`, round)
			if !childFirst {
				firstSQL, secondSQL = secondSQL, firstSQL
			}
			t1, err := first.BeginTx(ctx, rc)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := t1.Exec(ctx, firstSQL); err != nil {
				t.Fatalf("%s: %v", firstSQL, err)
			}
			done := make(chan error, 1)
			waits := replica.LockWaitsStarted()
			go func() {
				t2, err := second.BeginTx(ctx, rc)
				if err != nil {
					done <- err
					return
				}
				_, err = t2.Exec(ctx, secondSQL)
				if err != nil {
					_ = t2.Rollback(ctx)
				} else {
					err = t2.Commit(ctx)
				}
				done <- err
			}()
			if err := replica.AwaitLockWait(ctx, waits, done); err != nil {
				t.Fatalf("%s while the parent row was locked: %v", secondSQL, err)
			}
			if err := t1.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			if err := <-done; sqlState(err) != "23503" {
				t.Fatalf("%s after the first committed: %v, want 23503", secondSQL, err)
			}
			if n := orphans(t, a); n != 0 {
				t.Fatalf("%d orphans", n)
			}
		})
	}
}
