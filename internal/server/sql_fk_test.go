package server

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func mustExec(t *testing.T, conn *pgx.Conn, sqls ...string) {
	t.Helper()
	for _, sql := range sqls {
		if _, err := conn.Exec(testCtx(t), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

func orphans(t *testing.T, conn *pgx.Conn) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(testCtx(t), `SELECT count(*) FROM c WHERE p_id IS NOT NULL AND p_id NOT IN (SELECT id FROM p)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSQLForeignKeyRace races the insert of a child with the delete of its
// parent in two SERIALIZABLE transactions: whichever commits second must
// fail with 40001 (its read of the parent, or its scan of the children,
// is no longer valid), so that no orphan is left.
func TestSQLForeignKeyRace(t *testing.T) {
	s := startTestServer(t, testConfig())
	a, b := connectSQL(t, s), connectSQL(t, s)
	ctx := testCtx(t)
	mustExec(t, a, `CREATE TABLE p (id INT PRIMARY KEY)`, `CREATE TABLE c (id INT PRIMARY KEY, p_id INT REFERENCES p)`)
	for round, childFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("child commits first=%v", childFirst), func(t *testing.T) {
			mustExec(t, a, fmt.Sprintf(`INSERT INTO p VALUES (%d)`, round))
			ta, err := a.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = ta.Rollback(ctx) }()
			tb, err := b.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tb.Rollback(ctx) }()
			if _, err := ta.Exec(ctx, fmt.Sprintf(`INSERT INTO c VALUES (%d, %d)`, round, round)); err != nil {
				t.Fatalf("child insert: %v", err)
			}
			if _, err := tb.Exec(ctx, fmt.Sprintf(`DELETE FROM p WHERE id = %d`, round)); err != nil {
				t.Fatalf("parent delete: %v", err)
			}
			first, second := ta, tb
			if !childFirst {
				first, second = tb, ta
			}
			if err := first.Commit(ctx); err != nil {
				t.Fatalf("first commit: %v", err)
			}
			if err := second.Commit(ctx); sqlState(err) != "40001" {
				t.Fatalf("second commit: got %v, want 40001", err)
			}
			if n := orphans(t, a); n != 0 {
				t.Fatalf("%d orphans", n)
			}
		})
	}
}

// TestSQLForeignKeyConcurrent runs child inserts and parent deletes
// (with ON DELETE CASCADE on one key, NO ACTION on the other) from several
// sessions, retrying serialization failures, and checks that no child is
// left without its parent.
func TestSQLForeignKeyConcurrent(t *testing.T) {
	s := startTestServer(t, testConfig())
	setup := connectSQL(t, s)
	mustExec(t, setup, `CREATE TABLE p (id INT PRIMARY KEY)`,
		`CREATE TABLE c (id INT PRIMARY KEY, p_id INT REFERENCES p ON DELETE CASCADE, q_id INT REFERENCES p)`,
		`INSERT INTO p SELECT g FROM generate_series(1, 20) g`)
	const workers, ops = 4, 15
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := 0; w < workers; w++ {
		conn := connectSQL(t, s)
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			ctx := testCtx(t)
			for i := 0; i < ops; i++ {
				var sql string
				switch key := (w*ops+i)%20 + 1; {
				case w%2 == 0:
					sql = fmt.Sprintf(`INSERT INTO c VALUES (%d, %d, %d)`, w*1000+i, key, (key%20)+1)
				default:
					sql = fmt.Sprintf(`DELETE FROM p WHERE id = %d`, key)
				}
				for try := 0; ; try++ {
					tx, err := conn.Begin(ctx)
					if err != nil {
						errc <- err
						return
					}
					_, err = tx.Exec(ctx, sql)
					if err == nil {
						err = tx.Commit(ctx)
					}
					_ = tx.Rollback(ctx)
					switch sqlState(err) {
					case "":
						if err != nil {
							errc <- fmt.Errorf("%s: %w", sql, err)
							return
						}
					case "40001":
						if try < 50 {
							continue
						}
						errc <- fmt.Errorf("%s: too many retries: %w", sql, err)
						return
					case "23503": // the parent is gone, or still referenced
					default:
						errc <- fmt.Errorf("%s: %w", sql, err)
						return
					}
					break
				}
			}
		}(w)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	var n int
	if err := setup.QueryRow(testCtx(t), `SELECT count(*) FROM c WHERE p_id NOT IN (SELECT id FROM p) OR q_id NOT IN (SELECT id FROM p)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d orphans", n)
	}
}

// TestSQLUpsertConcurrent increments one counter by upserts from several
// sessions: every increment counts once.
func TestSQLUpsertConcurrent(t *testing.T) {
	s := startTestServer(t, testConfig())
	setup := connectSQL(t, s)
	mustExec(t, setup, `CREATE TABLE cnt (k TEXT PRIMARY KEY, n INT NOT NULL)`)
	const workers, ops = 4, 10
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := 0; w < workers; w++ {
		conn := connectSQL(t, s)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < ops; i++ {
				// Outside a transaction block, a conflict is retried by the
				// server.
				if _, err := conn.Exec(testCtx(t), `INSERT INTO cnt VALUES ('k', 1) ON CONFLICT (k) DO UPDATE SET n = cnt.n + 1`); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	var n int
	if err := setup.QueryRow(testCtx(t), `SELECT n FROM cnt WHERE k = 'k'`).Scan(&n); err != nil || n != workers*ops {
		t.Fatalf("n = %d, %v; want %d", n, err, workers*ops)
	}
}

// TestSQLForeignKeyErrors checks the DETAIL and HINT of foreign key errors
// against PostgreSQL 15's.
func TestSQLForeignKeyErrors(t *testing.T) {
	s := startTestServer(t, testConfig())
	conn := connectSQL(t, s)
	mustExec(t, conn,
		`CREATE TABLE dp (a INT, b TEXT, PRIMARY KEY (a, b))`,
		`CREATE TABLE dc (id INT PRIMARY KEY, x INT, y TEXT, FOREIGN KEY (x, y) REFERENCES dp MATCH FULL)`,
		`INSERT INTO dp VALUES (1, 'one')`,
		`INSERT INTO dc VALUES (1, 1, 'one')`)
	for _, tc := range []struct{ sql, code, msg, detail, hint string }{
		{`INSERT INTO dc VALUES (2, 2, 'two')`, "23503", `insert or update on table "dc" violates foreign key constraint "dc_x_y_fkey"`,
			`Key (x, y)=(2, two) is not present in table "dp".`, ""},
		{`INSERT INTO dc VALUES (3, 2, NULL)`, "23503", `insert or update on table "dc" violates foreign key constraint "dc_x_y_fkey"`,
			`MATCH FULL does not allow mixing of null and nonnull key values.`, ""},
		{`DELETE FROM dp`, "23503", `update or delete on table "dp" violates foreign key constraint "dc_x_y_fkey" on table "dc"`,
			`Key (a, b)=(1, one) is still referenced from table "dc".`, ""},
		{`INSERT INTO dc VALUES (1, 1, 'one') ON CONFLICT (id) DO UPDATE SET x = 5`, "23503",
			`insert or update on table "dc" violates foreign key constraint "dc_x_y_fkey"`, `Key (x, y)=(5, one) is not present in table "dp".`, ""},
		{`DROP TABLE dp`, "2BP01", `cannot drop table dp because other objects depend on it`,
			`constraint dc_x_y_fkey on table dc depends on table dp`, `Use DROP ... CASCADE to drop the dependent objects too.`},
		{`TRUNCATE dp`, "0A000", `cannot truncate a table referenced in a foreign key constraint`,
			`Table "dc" references "dp".`, `Truncate table "dc" at the same time, or use TRUNCATE ... CASCADE.`},
		{`CREATE TABLE bad (x TEXT REFERENCES dc)`, "42804", `foreign key constraint "bad_x_fkey" cannot be implemented`,
			`Key columns "x" and "id" are of incompatible types: text and integer.`, ""},
	} {
		_, err := conn.Exec(testCtx(t), tc.sql)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != tc.code || pe.Message != tc.msg || pe.Detail != tc.detail || pe.Hint != tc.hint {
			t.Errorf("%s:\n got %v (detail %q, hint %q)\nwant %s: %s (detail %q, hint %q)", tc.sql, err, detailOf(pe), hintOf(pe), tc.code, tc.msg, tc.detail, tc.hint)
		}
	}
}

func detailOf(pe *pgconn.PgError) string {
	if pe == nil {
		return ""
	}
	return pe.Detail
}

func hintOf(pe *pgconn.PgError) string {
	if pe == nil {
		return ""
	}
	return pe.Hint
}

// TestSQLUpsertPrepared runs ON CONFLICT DO UPDATE with parameters through
// the extended protocol.
func TestSQLUpsertPrepared(t *testing.T) {
	s := startTestServer(t, testConfig())
	conn := connectSQL(t, s)
	ctx := testCtx(t)
	mustExec(t, conn, `CREATE TABLE kv (k TEXT PRIMARY KEY, v INT NOT NULL, note TEXT)`)
	const sql = `INSERT INTO kv VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = kv.v + $2, note = $3 WHERE kv.v < $4 RETURNING v`
	for i, want := range []int{5, 10, 15, 15} {
		var got int
		err := conn.QueryRow(ctx, sql, "a", 5, fmt.Sprint("try ", i), 12).Scan(&got)
		if i == 3 {
			if !errors.Is(err, pgx.ErrNoRows) {
				t.Fatalf("try %d: got %d, %v; want no row (WHERE is false)", i, got, err)
			}
			continue
		}
		if err != nil || got != want {
			t.Fatalf("try %d: got %d, %v; want %d", i, got, err, want)
		}
	}
	var note string
	if err := conn.QueryRow(ctx, `SELECT note FROM kv WHERE k = 'a'`).Scan(&note); err != nil || note != "try 2" {
		t.Fatalf("note = %q, %v", note, err)
	}
}
