package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// TestSQLThreeNodes runs SQL through every node of a 3-node cluster: DDL
// on one node is seen by the others, rows written through one node are
// read through another, constraint errors keep their SQLSTATE, and psql
// (when installed) works against any node.
func TestSQLThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	nodes, _ := startThreeNodes(t, stepLogger(t))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conns := make([]*pgx.Conn, len(nodes))
	for i, n := range nodes {
		c, err := pgx.Connect(ctx, "postgres://root@"+n.SQLAddr+"/defaultdb?sslmode=disable")
		if err != nil {
			t.Fatalf("connect to %s: %v", n.name, err)
		}
		defer c.Close(context.Background())
		conns[i] = c
	}
	run := func(i int, sql string, args ...any) {
		t.Helper()
		if _, err := conns[i].Exec(ctx, sql, args...); err != nil {
			t.Fatalf("node %d: %s: %v", i+1, sql, err)
		}
	}
	run(0, `CREATE TABLE accounts (id INT PRIMARY KEY, owner TEXT NOT NULL, balance NUMERIC(12,2) NOT NULL CHECK (balance >= 0))`)
	// Node 2 sees the table node 1 created (catalog version, not a cache).
	for i := 0; i < 30; i++ {
		run(1, `INSERT INTO accounts VALUES ($1, $2, 100)`, i, fmt.Sprintf("owner-%d", i))
	}
	// A transfer through node 3 in an explicit transaction.
	tx, err := conns[2].Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE accounts SET balance = balance - 12.34 WHERE id = 1`,
		`UPDATE accounts SET balance = balance + 12.34 WHERE id = 2`,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range conns {
		var total, one string
		if err := conns[i].QueryRow(ctx, `SELECT sum(balance)::text FROM accounts`).Scan(&total); err != nil || total != "3000.00" {
			t.Fatalf("node %d: total %q %v", i+1, total, err)
		}
		if err := conns[i].QueryRow(ctx, `SELECT balance::text FROM accounts WHERE id = 1`).Scan(&one); err != nil || one != "87.66" {
			t.Fatalf("node %d: balance of 1 = %q %v", i+1, one, err)
		}
	}
	var pgErr *pgconn.PgError
	if _, err := conns[1].Exec(ctx, `INSERT INTO accounts VALUES (1, 'dup', 1)`); !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		t.Fatalf("duplicate key through node 2: %v", err)
	}
	if _, err := conns[2].Exec(ctx, `UPDATE accounts SET balance = balance - 1000 WHERE id = 3`); !errors.As(err, &pgErr) || pgErr.Code != "23514" {
		t.Fatalf("overdraft through node 3: %v", err)
	}
	// Dropped on node 3, gone on node 1.
	run(2, `CREATE TABLE scratch (k INT PRIMARY KEY)`)
	run(0, `INSERT INTO scratch VALUES (1)`)
	run(2, `DROP TABLE scratch`)
	if _, err := conns[0].Exec(ctx, `SELECT * FROM scratch`); !errors.As(err, &pgErr) || pgErr.Code != "42P01" {
		t.Fatalf("dropped table still visible on node 1: %v", err)
	}
	databaseSQLChecks(t, ctx, "postgres://root@"+nodes[2].SQLAddr+"/defaultdb?sslmode=disable")
	if psql, err := exec.LookPath("psql"); err == nil {
		out, err := exec.CommandContext(ctx, psql, "postgres://root@"+nodes[1].SQLAddr+"/defaultdb?sslmode=disable",
			"-X", "-A", "-t", "-c", "SELECT owner FROM accounts WHERE id = 2").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "owner-2" {
			t.Fatalf("psql: %v: %s", err, out)
		}
	}
}

// databaseSQLChecks uses Go's database/sql (through pgx's stdlib driver, as
// most Go applications and ORMs do): a pool, prepared statements, a
// serializable transaction with a retry loop on 40001, NULLs and the types
// of the accounts table.
func databaseSQLChecks(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(4)
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("database/sql ping: %v", err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE gosql (id BIGINT PRIMARY KEY, name TEXT, amount NUMERIC(10,2), seen TIMESTAMPTZ, tags TEXT[])`); err != nil {
		t.Fatal(err)
	}
	stmt, err := db.PrepareContext(ctx, `INSERT INTO gosql VALUES ($1, $2, $3, $4, $5)`)
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for i := int64(1); i <= 20; i++ {
		var name any = fmt.Sprintf("n%d", i)
		if i%5 == 0 {
			name = nil
		}
		if _, err := stmt.ExecContext(ctx, i, name, fmt.Sprintf("%d.25", i), now.Add(time.Duration(i)*time.Hour), "{a,b}"); err != nil {
			t.Fatalf("prepared insert %d: %v", i, err)
		}
	}
	// A transfer between two rows, retried on serialization failures.
	for attempt := 0; ; attempt++ {
		err := func() error {
			tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable})
			if err != nil {
				return err
			}
			defer tx.Rollback()
			if _, err := tx.ExecContext(ctx, `UPDATE gosql SET amount = amount - 1 WHERE id = $1`, 1); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE gosql SET amount = amount + 1 WHERE id = $1`, 2); err != nil {
				return err
			}
			return tx.Commit()
		}()
		var pgErr *pgconn.PgError
		if err == nil {
			break
		}
		if !errors.As(err, &pgErr) || pgErr.Code != "40001" || attempt >= 10 {
			t.Fatalf("database/sql transaction: %v", err)
		}
	}
	var (
		n      int
		nulls  int
		total  string
		latest time.Time
	)
	if err := db.QueryRowContext(ctx, `SELECT count(*), count(*) - count(name), sum(amount)::text, max(seen) FROM gosql`).Scan(&n, &nulls, &total, &latest); err != nil {
		t.Fatal(err)
	}
	if n != 20 || nulls != 4 || total != "215.00" || !latest.Equal(now.Add(20*time.Hour)) {
		t.Fatalf("database/sql aggregates: count %d, nulls %d, sum %s, max %s", n, nulls, total, latest)
	}
	rows, err := db.QueryContext(ctx, `SELECT id, name FROM gosql WHERE id <= $1 ORDER BY id`, 5)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id int64
		var name sql.NullString
		if err := rows.Scan(&id, &name); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d:%s:%v", id, name.String, name.Valid))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "1:n1:true 2:n2:true 3:n3:true 4:n4:true 5::false" {
		t.Fatalf("database/sql rows: %v", got)
	}
	var pgErr *pgconn.PgError
	if _, err := db.ExecContext(ctx, `INSERT INTO gosql (id) VALUES (1)`); !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		t.Fatalf("database/sql duplicate key: %v", err)
	}
}
