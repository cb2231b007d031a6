package server

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func connectSQL(t *testing.T, s *Server) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(testCtx(t), "postgres://root@"+s.SQLAddr()+"/defaultdb?sslmode=disable")
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(testCtx(t)) })
	return conn
}

func TestSQLSessionBasics(t *testing.T) {
	s := startTestServer(t, testConfig())
	conn := connectSQL(t, s)
	ctx := testCtx(t)
	var v string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil || v != "16.0" {
		t.Fatalf("server_version = %q, %v", v, err)
	}
	if _, err := conn.Exec(ctx, "SET application_name = 'cairn-test'"); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SHOW application_name").Scan(&v); err != nil || v != "cairn-test" {
		t.Fatalf("application_name = %q, %v", v, err)
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRow(ctx, "SHOW transaction_isolation").Scan(&v); err != nil || v != "repeatable read" {
		t.Fatalf("transaction_isolation = %q, %v", v, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var pgErr *pgconn.PgError
	if _, err := conn.Exec(ctx, "SET no_such_setting = 1"); !errors.As(err, &pgErr) || pgErr.Code != "42704" {
		t.Fatalf("unknown setting: %v", err)
	}
	if _, err := conn.Exec(ctx, "SELEC 1"); !errors.As(err, &pgErr) || pgErr.Code != "42601" || pgErr.Position != 1 {
		t.Fatalf("syntax error: %v", err)
	}
	// A failed transaction block refuses statements until ROLLBACK.
	if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SET no_such_setting = 1"); !errors.As(err, &pgErr) || pgErr.Code != "42704" {
		t.Fatalf("unknown setting in a block: %v", err)
	}
	if _, err := conn.Exec(ctx, "SHOW application_name"); !errors.As(err, &pgErr) || pgErr.Code != "25P02" {
		t.Fatalf("in failed txn: %v", err)
	}
	if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SHOW application_name").Scan(&v); err != nil {
		t.Fatal(err)
	}
}

func TestSQLTables(t *testing.T) {
	s := startTestServer(t, testConfig())
	conn := connectSQL(t, s)
	ctx := testCtx(t)
	mustExec := func(sql string, args ...any) pgconn.CommandTag {
		t.Helper()
		tag, err := conn.Exec(ctx, sql, args...)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return tag
	}
	mustExec(`CREATE TABLE accounts (id INT PRIMARY KEY, owner TEXT NOT NULL, balance NUMERIC(12,2) DEFAULT 0 CHECK (balance >= 0))`)
	if tag := mustExec(`INSERT INTO accounts VALUES (1, 'alice', 100.50), (2, 'bob', 20)`); tag.String() != "INSERT 0 2" {
		t.Fatalf("tag %q", tag)
	}
	mustExec(`INSERT INTO accounts (id, owner) VALUES ($1, $2)`, 3, "carol")
	var owner, bal string
	if err := conn.QueryRow(ctx, `SELECT owner, balance::text FROM accounts WHERE id = $1`, 1).Scan(&owner, &bal); err != nil || owner != "alice" || bal != "100.50" {
		t.Fatalf("select = %q %q %v", owner, bal, err)
	}
	// A transfer in a transaction; money does not drift.
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE accounts SET balance = balance - 0.10 WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE accounts SET balance = balance + 0.10 WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, `SELECT id, owner, balance::text FROM accounts ORDER BY accounts.balance DESC, id LIMIT 10`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var id int
		var o, b string
		if err := rows.Scan(&id, &o, &b); err != nil {
			t.Fatal(err)
		}
		got = append(got, o+"="+b)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := "alice=100.40 bob=20.10 carol=0.00"; fmt.Sprint(strings.Join(got, " ")) != want {
		t.Fatalf("rows = %v, want %s", got, want)
	}
	// Constraint errors carry their SQLSTATE.
	var pgErr *pgconn.PgError
	for _, tc := range []struct{ sql, code string }{
		{`INSERT INTO accounts VALUES (1, 'dup', 1)`, "23505"},
		{`INSERT INTO accounts (id) VALUES (9)`, "23502"},
		{`UPDATE accounts SET balance = -1 WHERE id = 2`, "23514"},
		{`SELECT * FROM nope`, "42P01"},
		{`SELECT nope FROM accounts`, "42703"},
		{`SELECT 1/0`, "22012"},
		{`CREATE TABLE accounts (x INT)`, "42P07"},
	} {
		if _, err := conn.Exec(ctx, tc.sql); !errors.As(err, &pgErr) || pgErr.Code != tc.code {
			t.Errorf("%s: %v, want SQLSTATE %s", tc.sql, err, tc.code)
		}
	}
	if tag := mustExec(`DELETE FROM accounts WHERE balance < 1`); tag.String() != "DELETE 1" {
		t.Fatalf("delete tag %q", tag)
	}
	var n int64
	if err := conn.QueryRow(ctx, `SELECT id FROM accounts ORDER BY id DESC LIMIT 1`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("max id = %d %v", n, err)
	}
	// SERIAL and a table without a primary key.
	mustExec(`CREATE TABLE events (id SERIAL PRIMARY KEY, what TEXT)`)
	mustExec(`CREATE TABLE log (msg TEXT)`)
	var id1, id2 int
	if err := conn.QueryRow(ctx, `INSERT INTO events (what) VALUES ('a') RETURNING id`).Scan(&id1); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `INSERT INTO events (what) VALUES ('b') RETURNING id`).Scan(&id2); err != nil || id2 <= id1 {
		t.Fatalf("serial ids %d then %d: %v", id1, id2, err)
	}
	mustExec(`INSERT INTO log VALUES ('x'), ('x')`)
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM log`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("count(*) of a table without a primary key = %d, %v; want 2 (duplicates kept)", n, err)
	}
	mustExec(`DROP TABLE log`)
	mustExec(`DROP TABLE IF EXISTS log`)
}

func TestSQLExplainAccessPaths(t *testing.T) {
	s := startTestServer(t, testConfig())
	conn := connectSQL(t, s)
	ctx := testCtx(t)
	for _, q := range []string{
		`CREATE TABLE kv (a INT, b INT, v TEXT, PRIMARY KEY (a, b))`,
		`INSERT INTO kv VALUES (1, 1, 'x'), (1, 2, 'y'), (2, 1, 'z')`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	plan := func(q string) string {
		t.Helper()
		rows, err := conn.Query(ctx, "EXPLAIN "+q)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, strings.TrimSpace(l))
		}
		return strings.Join(lines, "\n")
	}
	for q, want := range map[string]string{
		`SELECT v FROM kv WHERE a = 1 AND b = 2`: "point lookup on kv@kv_pkey",
		`SELECT v FROM kv WHERE a = 1`:           "range scan on kv@kv_pkey",
		`SELECT v FROM kv WHERE v = 'x'`:         "full scan of kv@kv_pkey",
	} {
		if got := plan(q); !strings.Contains(got, want) {
			t.Errorf("EXPLAIN %s:\n%s\nwant %q", q, got, want)
		}
	}
	// The access path returns the same rows as a full scan would.
	var v string
	if err := conn.QueryRow(ctx, `SELECT v FROM kv WHERE a = 1 AND b = 2`).Scan(&v); err != nil || v != "y" {
		t.Fatalf("point lookup = %q %v", v, err)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM kv WHERE a = $1`, 1).Scan(&n); err != nil || n != 2 {
		t.Fatalf("prefix scan count = %d %v", n, err)
	}
	if tag, err := conn.Exec(ctx, `UPDATE kv SET v = 'w' WHERE a = 2 AND b = 1`); err != nil || tag.String() != "UPDATE 1" {
		t.Fatalf("update by key: %v %v", tag, err)
	}
}

func TestSQLImplicitTransactionsAndSavepoints(t *testing.T) {
	s := startTestServer(t, testConfig())
	conn := connectSQL(t, s)
	ctx := testCtx(t)
	pc := conn.PgConn()
	if _, err := pc.Exec(ctx, `CREATE TABLE s (k INT PRIMARY KEY)`).ReadAll(); err != nil {
		t.Fatal(err)
	}
	// Several statements in one Query: one implicit transaction.
	if _, err := pc.Exec(ctx, `INSERT INTO s VALUES (1); INSERT INTO s VALUES (1)`).ReadAll(); err == nil {
		t.Fatal("duplicate key in a multi-statement query succeeded")
	}
	count := func() int {
		t.Helper()
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM s`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("the first INSERT of the failed query stayed: %d rows", n)
	}
	if _, err := pc.Exec(ctx, `INSERT INTO s VALUES (1); COMMIT; INSERT INTO s VALUES (1)`).ReadAll(); err == nil {
		t.Fatal("expected the third statement to fail")
	}
	if n := count(); n != 1 {
		t.Fatalf("COMMIT inside the query should have kept row 1: %d rows", n)
	}
	// Savepoints.
	for _, q := range []string{
		`BEGIN`, `INSERT INTO s VALUES (2)`, `SAVEPOINT a`, `INSERT INTO s VALUES (3)`,
		`ROLLBACK TO SAVEPOINT a`, `INSERT INTO s VALUES (4)`, `SAVEPOINT b`,
	} {
		if _, err := pc.Exec(ctx, q).ReadAll(); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := pc.Exec(ctx, `INSERT INTO s VALUES (2)`).ReadAll(); err == nil {
		t.Fatal("duplicate in the transaction succeeded")
	}
	for _, q := range []string{`ROLLBACK TO b`, `RELEASE a`, `COMMIT`} {
		if _, err := pc.Exec(ctx, q).ReadAll(); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	rows, err := conn.Query(ctx, `SELECT k FROM s ORDER BY k`)
	if err != nil {
		t.Fatal(err)
	}
	var ks []int
	for rows.Next() {
		var k int
		_ = rows.Scan(&k)
		ks = append(ks, k)
	}
	if fmt.Sprint(ks) != "[1 2 4]" {
		t.Fatalf("rows %v, want [1 2 4]", ks)
	}
	var pgErr *pgconn.PgError
	if _, err := conn.Exec(ctx, `SAVEPOINT x`); !errors.As(err, &pgErr) || pgErr.Code != "25P01" {
		t.Fatalf("savepoint outside a block: %v", err)
	}
}

// LIMIT and OFFSET take any value castable to bigint (numerics round);
// other types are refused — never a crash.
func TestSQLLimitArguments(t *testing.T) {
	s := startTestServer(t, testConfig())
	conn := connectSQL(t, s)
	ctx := testCtx(t)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM (SELECT * FROM generate_series(1, 10) LIMIT 2.5 OFFSET 1.4) s`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("LIMIT 2.5 OFFSET 1.4: %d rows, %v; want 3", n, err)
	}
	var pgErr *pgconn.PgError
	for q, code := range map[string]string{
		`SELECT 1 LIMIT 'a'`:                 "22P02",
		`SELECT 1 LIMIT true`:                "42804",
		`SELECT 1 LIMIT 9223372036854775808`: "22003",
		`SELECT 1 OFFSET -1`:                 "2201X",
	} {
		if _, err := conn.Exec(ctx, q); !errors.As(err, &pgErr) || pgErr.Code != code {
			t.Errorf("%s: %v, want SQLSTATE %s", q, err, code)
		}
	}
	if err := conn.QueryRow(ctx, `SELECT 1 LIMIT $1`, "1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("LIMIT $1: %d %v", n, err)
	}
}

// A DROP TABLE undone by ROLLBACK TO SAVEPOINT (or by a failed block) must
// not delete the table's data when the transaction later commits.
func TestSQLUndoneDropKeepsData(t *testing.T) {
	s := startTestServer(t, testConfig())
	conn := connectSQL(t, s)
	ctx := testCtx(t)
	pc := conn.PgConn()
	for _, q := range []string{
		`CREATE TABLE keep (k INT PRIMARY KEY)`, `INSERT INTO keep VALUES (1), (2), (3)`,
		`BEGIN`, `SAVEPOINT a`, `DROP TABLE keep`, `ROLLBACK TO SAVEPOINT a`, `COMMIT`,
		`BEGIN`, `DROP TABLE keep`, `SELECT 1/0`,
	} {
		_, _ = pc.Exec(ctx, q).ReadAll() // the division fails the block on purpose
	}
	if _, err := pc.Exec(ctx, `COMMIT`).ReadAll(); err != nil { // a failed block: rolls back
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM keep`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("rows after undone drops: %d, %v; want 3", n, err)
	}
}

// INSERT INTO t SELECT ... FROM t reads the query before it writes (it
// doubled the table forever before), and a prepared statement whose
// result columns changed under it fails instead of sending mismatched rows.
func TestSQLSelfInsertAndStalePlan(t *testing.T) {
	s := startTestServer(t, testConfig())
	conn := connectSQL(t, s)
	ctx := testCtx(t)
	for _, q := range []string{
		`CREATE TABLE dbl (k SERIAL PRIMARY KEY, v INT)`,
		`INSERT INTO dbl (v) VALUES (1), (2), (3)`,
		`INSERT INTO dbl (v) SELECT v FROM dbl`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM dbl`).Scan(&n); err != nil || n != 6 {
		t.Fatalf("rows after INSERT ... SELECT from itself: %d, %v; want 6", n, err)
	}
	if _, err := conn.Prepare(ctx, "all", `SELECT * FROM dbl`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `ALTER TABLE dbl ADD COLUMN w TEXT`); err != nil {
		t.Fatal(err)
	}
	var pgErr *pgconn.PgError
	if _, err := conn.Exec(ctx, "all"); !errors.As(err, &pgErr) || pgErr.Code != "0A000" {
		t.Fatalf("stale prepared statement: %v, want 0A000", err)
	}
}
