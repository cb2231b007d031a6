package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestSQLBankUnderKills moves money between accounts with SQL transactions
// (SERIALIZABLE, retried on 40001) through all three nodes while one node at
// a time is killed with SIGKILL and restarted. Every snapshot (SELECT sum)
// must add up to the initial total, no balance may go negative, and the
// final total must equal the initial one.
func TestSQLBankUnderKills(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: three node processes, kill -9 and restarts under SQL transactions")
	}
	const (
		accounts = 10
		initial  = 1000
		total    = accounts * initial
		runFor   = 30 * time.Second
	)
	step := stepLogger(t)
	nodes, ids := startThreeNodes(t, step)
	addrs := make([]string, len(nodes))
	for i, n := range nodes {
		addrs[i] = n.SQLAddr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	connect := func(i int) (*pgx.Conn, error) {
		cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
		defer ccancel()
		return pgx.Connect(cctx, "postgres://root@"+addrs[i%len(addrs)]+"/defaultdb?sslmode=disable&connect_timeout=5")
	}
	setup, err := connect(0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := setup.Exec(ctx, `CREATE TABLE accounts (id INT PRIMARY KEY, balance INT NOT NULL CHECK (balance >= 0))`); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < accounts; i++ {
		if _, err := setup.Exec(ctx, `INSERT INTO accounts VALUES ($1, $2)`, i, initial); err != nil {
			t.Fatal(err)
		}
	}
	setup.Close(ctx)

	var (
		transfers, retries, unknown, reads atomic.Int64
		mu                                 sync.Mutex
		violations                         []string
	)
	violate := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(violations) < 20 {
			violations = append(violations, fmt.Sprintf(format, args...))
		}
	}
	stop := time.Now().Add(runFor)
	var wg sync.WaitGroup
	worker := func(w int, read bool) {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
		var conn *pgx.Conn
		defer func() {
			if conn != nil {
				conn.Close(context.Background())
			}
		}()
		node := w
		for time.Now().Before(stop) && ctx.Err() == nil {
			if conn == nil || conn.IsClosed() {
				var err error
				if conn, err = connect(node); err != nil {
					node++
					time.Sleep(100 * time.Millisecond)
					continue
				}
			}
			if read {
				var sum, neg int64
				err := conn.QueryRow(ctx, `SELECT sum(balance), count(*) FILTER (WHERE balance < 0) FROM accounts`).Scan(&sum, &neg)
				if err == nil {
					reads.Add(1)
					if sum != total || neg != 0 {
						violate("snapshot through %s: total %d (want %d), %d negative", addrs[node%len(addrs)], sum, total, neg)
					}
				} else {
					conn.Close(context.Background())
					conn, node = nil, node+1
				}
				continue
			}
			from, to := rng.IntN(accounts), rng.IntN(accounts-1)
			if to >= from {
				to++
			}
			amount := 1 + rng.IntN(50)
			err := transfer(ctx, conn, from, to, amount)
			var pgErr *pgconn.PgError
			switch {
			case err == nil:
				transfers.Add(1)
			case errors.As(err, &pgErr) && pgErr.Code == "40001":
				retries.Add(1)
			case errors.As(err, &pgErr):
				// 23514 (not enough money) and the like: nothing moved.
			default:
				// Connection lost (maybe at COMMIT: the outcome is unknown,
				// which the invariants do not depend on).
				unknown.Add(1)
				conn.Close(context.Background())
				conn, node = nil, node+1
			}
		}
	}
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go worker(w, false)
	}
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go worker(100+w, true)
	}
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	kills := 0
	for time.Now().Add(bankDownFor + 5*time.Second).Before(stop) {
		time.Sleep(3 * time.Second)
		kills++
		killAndRestart(t, nodes, ids, rng.IntN(len(nodes)), kills, step)
	}
	wg.Wait()
	step("SQL bank: %d transfers, %d serialization retries, %d unknown, %d snapshot reads, %d kills",
		transfers.Load(), retries.Load(), unknown.Load(), reads.Load(), kills)
	if kills == 0 {
		t.Fatal("no node was killed: the run tested nothing about faults")
	}
	for _, v := range violations {
		t.Errorf("violation: %s", v)
	}
	if transfers.Load() == 0 || reads.Load() == 0 {
		t.Fatalf("no progress: %d transfers, %d reads", transfers.Load(), reads.Load())
	}
	// A final check through every node.
	for i := range addrs {
		conn, err := connect(i)
		if err != nil {
			t.Fatalf("final check through %s: %v", addrs[i], err)
		}
		var sum int64
		if err := conn.QueryRow(ctx, `SELECT sum(balance) FROM accounts`).Scan(&sum); err != nil || sum != total {
			t.Errorf("final total through %s = %d, %v; want %d", addrs[i], sum, err, total)
		}
		conn.Close(ctx)
	}
}

// transfer moves amount from one account to another in one SERIALIZABLE
// transaction.
func transfer(ctx context.Context, conn *pgx.Conn, from, to, amount int) error {
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tx, err := conn.BeginTx(tctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.Background()) }() // after Commit: a no-op
	var balance int
	if err := tx.QueryRow(tctx, `SELECT balance FROM accounts WHERE id = $1`, from).Scan(&balance); err != nil {
		return err
	}
	if balance < amount {
		return nil
	}
	if _, err := tx.Exec(tctx, `UPDATE accounts SET balance = balance - $1 WHERE id = $2`, amount, from); err != nil {
		return err
	}
	if _, err := tx.Exec(tctx, `UPDATE accounts SET balance = balance + $1 WHERE id = $2`, amount, to); err != nil {
		return err
	}
	return tx.Commit(tctx)
}
