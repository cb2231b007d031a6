package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// sqlHelper wraps a connection with fatal-on-error helpers.
type sqlHelper struct {
	t    *testing.T
	ctx  context.Context
	conn *pgx.Conn
}

func (h *sqlHelper) exec(sql string, args ...any) string {
	h.t.Helper()
	tag, err := h.conn.Exec(h.ctx, sql, args...)
	if err != nil {
		h.t.Fatalf("%s: %v", sql, err)
	}
	return tag.String()
}

// fails runs sql and checks that it fails with code.
func (h *sqlHelper) fails(code, sql string) *pgconn.PgError {
	h.t.Helper()
	_, err := h.conn.Exec(h.ctx, sql)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != code {
		h.t.Fatalf("%s: got %v, want SQLSTATE %s", sql, err, code)
	}
	return pgErr
}

// strings returns the rows of a query, each row's columns joined by "|".
func (h *sqlHelper) rows(sql string, args ...any) []string {
	h.t.Helper()
	rows, err := h.conn.Query(h.ctx, sql, args...)
	if err != nil {
		h.t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			h.t.Fatalf("%s: %v", sql, err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		h.t.Fatalf("%s: %v", sql, err)
	}
	return out
}

func (h *sqlHelper) one(sql string, args ...any) string {
	h.t.Helper()
	r := h.rows(sql, args...)
	if len(r) != 1 {
		h.t.Fatalf("%s: %d rows, want 1: %v", sql, len(r), r)
	}
	return r[0]
}

func (h *sqlHelper) plan(sql string) string {
	h.t.Helper()
	return strings.Join(h.rows("EXPLAIN "+sql), "\n")
}

// insertRows inserts rows [from, to) into big(id, g, s) with g = id % 100
// and s = 'v' || id, a few thousand per statement (a transaction writes at
// most 10000 keys).
func (h *sqlHelper) insertRows(table string, from, to int) {
	h.t.Helper()
	for lo := from; lo < to; lo += 2000 {
		var b strings.Builder
		fmt.Fprintf(&b, "INSERT INTO %s VALUES ", table)
		for i := lo; i < min(lo+2000, to); i++ {
			if i > lo {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "(%d, %d, 'v%d')", i, i%100, i)
		}
		h.exec(b.String())
	}
}

func TestSQLCreateIndexBackfill(t *testing.T) {
	s := startTestServer(t, testConfig())
	h := &sqlHelper{t: t, ctx: testCtx(t), conn: connectSQL(t, s)}
	const n = 12000 // more index entries than one transaction may write
	h.exec(`CREATE TABLE big (id INT PRIMARY KEY, g INT, s TEXT)`)
	h.insertRows("big", 0, n)

	if tag := h.exec(`CREATE INDEX big_g_idx ON big (g)`); tag != "CREATE INDEX" {
		t.Fatalf("tag %q", tag)
	}
	if p := h.plan(`SELECT id FROM big WHERE g = 7`); !strings.Contains(p, "index lookup on big@big_g_idx: /g = 7") {
		t.Fatalf("plan:\n%s", p)
	}
	viaIndex := h.rows(`SELECT id FROM big WHERE g = 7`)
	fullScan := h.rows(`SELECT id FROM big WHERE g + 0 = 7`)
	if p := h.plan(`SELECT id FROM big WHERE g + 0 = 7`); !strings.Contains(p, "full scan of big@big_pkey") {
		t.Fatalf("plan:\n%s", p)
	}
	slices.Sort(viaIndex)
	slices.Sort(fullScan)
	if len(viaIndex) != n/100 || !slices.Equal(viaIndex, fullScan) {
		t.Fatalf("index lookup found %d rows, full scan %d", len(viaIndex), len(fullScan))
	}
	// Every row is in the index.
	if c := h.one(`SELECT count(*) FROM big WHERE g >= 0`); c != fmt.Sprint(n) {
		t.Fatalf("count through the index = %s", c)
	}
	if p := h.plan(`SELECT id FROM big WHERE g >= 0`); !strings.Contains(p, "index lookup on big@big_g_idx: /g >= 0") {
		t.Fatalf("plan:\n%s", p)
	}
	// Writes maintain the index.
	h.exec(`UPDATE big SET g = 1000 WHERE id = 5`)
	h.exec(`INSERT INTO big VALUES ($1, 1000, 'new')`, n)
	if got := h.rows(`SELECT id FROM big WHERE g = 1000 ORDER BY id`); fmt.Sprint(got) != fmt.Sprint([]string{"5", fmt.Sprint(n)}) {
		t.Fatalf("after writes: %v", got)
	}
	h.exec(`DELETE FROM big WHERE id = 5`)
	if got := h.rows(`SELECT id FROM big WHERE g = 1000`); len(got) != 1 {
		t.Fatalf("after delete: %v", got)
	}
	if got := h.one(`SELECT count(*) FROM big WHERE g = 5`); got != fmt.Sprint(n/100-1) {
		t.Fatalf("old entry of the updated row: %s", got)
	}

	// A unique index over duplicates fails and leaves nothing behind.
	e := h.fails("23505", `CREATE UNIQUE INDEX big_g_key ON big (g)`)
	if !strings.Contains(e.Message, `could not create unique index "big_g_key"`) || !strings.Contains(e.Detail, "is duplicated") {
		t.Fatalf("error %q detail %q", e.Message, e.Detail)
	}
	h.fails("42704", `DROP INDEX big_g_key`)
	h.exec(`INSERT INTO big VALUES (-1, 7, 'x')`) // not blocked by a leftover unique index
	if p := h.plan(`SELECT id FROM big WHERE g = 7`); !strings.Contains(p, "big@big_g_idx") {
		t.Fatalf("plan:\n%s", p)
	}

	// A unique index over more rows than a transaction writes.
	h.exec(`CREATE UNIQUE INDEX big_s_key ON big (s)`)
	if got := h.one(`SELECT id FROM big WHERE s = 'v1234'`); got != "1234" {
		t.Fatalf("lookup by s: %s", got)
	}
	if p := h.plan(`SELECT id FROM big WHERE s = 'v1234'`); !strings.Contains(p, "index lookup on big@big_s_key") {
		t.Fatalf("plan:\n%s", p)
	}
	h.fails("23505", `INSERT INTO big VALUES (-2, 0, 'v1234')`)
	h.fails("42P07", `CREATE INDEX big_s_key ON big (g)`)
	h.exec(`CREATE INDEX IF NOT EXISTS big_s_key ON big (g)`)

	// Primary key ranges.
	if p := h.plan(`SELECT id FROM big WHERE id BETWEEN 10 AND 20`); !strings.Contains(p, "range scan on big@big_pkey: /id >= 10/id <= 20") {
		t.Fatalf("plan:\n%s", p)
	}
	if got := h.one(`SELECT count(*) FROM big WHERE id BETWEEN 10 AND 20`); got != "11" {
		t.Fatalf("range count %s", got)
	}
	if got := h.one(`SELECT count(*) FROM big WHERE id > $1 AND id < 100`, 90); got != "9" {
		t.Fatalf("range count %s", got)
	}

	if tag := h.exec(`DROP INDEX big_g_idx`); tag != "DROP INDEX" {
		t.Fatalf("tag %q", tag)
	}
	if p := h.plan(`SELECT id FROM big WHERE g = 7`); !strings.Contains(p, "full scan") {
		t.Fatalf("plan after DROP INDEX:\n%s", p)
	}
	h.exec(`DROP INDEX IF EXISTS big_g_idx`)

	// Inside a transaction block the index is built in the transaction
	// (bounded by kv.MaxTxnWrites): rolled back, it never existed.
	if _, err := h.conn.Exec(h.ctx, `BEGIN`); err != nil {
		t.Fatal(err)
	}
	h.exec(`CREATE INDEX big_g_idx ON big (g)`)
	h.exec(`ROLLBACK`)
	if p := h.plan(`SELECT id FROM big WHERE g = 7`); !strings.Contains(p, "full scan") {
		t.Fatalf("plan after a rolled-back CREATE INDEX:\n%s", p)
	}
	tx, err := h.conn.Begin(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(h.ctx, `CREATE TABLE small (id INT PRIMARY KEY, g INT, s TEXT)`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(h.ctx, `INSERT INTO small VALUES (1, 1, 'a'), (2, 1, 'b'), (3, 2, 'c')`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(h.ctx, `CREATE INDEX ON small (g DESC)`); err != nil {
		t.Fatal(err)
	}
	var c int
	if err := tx.QueryRow(h.ctx, `SELECT count(*) FROM small WHERE g = 1`).Scan(&c); err != nil || c != 2 {
		t.Fatalf("count in txn = %d, %v", c, err)
	}
	if err := tx.Commit(h.ctx); err != nil {
		t.Fatal(err)
	}
	if p := h.plan(`SELECT id FROM small WHERE g < 2`); !strings.Contains(p, "index lookup on small@small_g_idx: /g < 2") {
		t.Fatalf("plan:\n%s", p)
	}
	if got := h.rows(`SELECT id FROM small WHERE g < 2 ORDER BY id`); fmt.Sprint(got) != "[1 2]" {
		t.Fatalf("descending index range: %v", got)
	}
	if got := h.rows(`SELECT id FROM small WHERE g > 1`); fmt.Sprint(got) != "[3]" {
		t.Fatalf("descending index range: %v", got)
	}
}

func TestSQLAlterTable(t *testing.T) {
	s := startTestServer(t, testConfig())
	h := &sqlHelper{t: t, ctx: testCtx(t), conn: connectSQL(t, s)}
	h.exec(`CREATE TABLE t (a INT PRIMARY KEY, b TEXT)`)
	h.exec(`INSERT INTO t VALUES (1, 'x'), (2, 'y')`)

	// ADD COLUMN with a default: old rows read it without being rewritten.
	if tag := h.exec(`ALTER TABLE t ADD COLUMN c INT NOT NULL DEFAULT 7`); tag != "ALTER TABLE" {
		t.Fatalf("tag %q", tag)
	}
	h.exec(`ALTER TABLE t ADD COLUMN d TEXT, ADD COLUMN e TIMESTAMPTZ DEFAULT now()`)
	h.exec(`INSERT INTO t (a, b) VALUES (3, 'z')`)
	h.exec(`INSERT INTO t (a, b, c, d) VALUES (4, 'w', 8, 'dd')`)
	if got := h.rows(`SELECT a, c, d, e IS NOT NULL FROM t ORDER BY a`); fmt.Sprint(got) != "[1|7|<nil>|true 2|7|<nil>|true 3|7|<nil>|true 4|8|dd|true]" {
		t.Fatalf("rows %v", got)
	}
	if got := h.one(`SELECT count(*) FROM t WHERE c = 7`); got != "3" {
		t.Fatalf("count %s", got)
	}
	h.fails("23502", `ALTER TABLE t ADD COLUMN f INT NOT NULL`)
	h.fails("42701", `ALTER TABLE t ADD COLUMN c INT`)
	h.fails("0A000", `ALTER TABLE t ADD COLUMN r FLOAT8 DEFAULT random()`)
	// An index over the added column sees the default of old rows.
	h.exec(`CREATE INDEX t_c_idx ON t (c)`)
	if got := h.rows(`SELECT a FROM t WHERE c = 7 ORDER BY a`); fmt.Sprint(got) != "[1 2 3]" {
		t.Fatalf("index on added column: %v", got)
	}
	h.exec(`UPDATE t SET c = 9 WHERE a = 1`)
	if got := h.rows(`SELECT a FROM t WHERE c = 7 ORDER BY a`); fmt.Sprint(got) != "[2 3]" {
		t.Fatalf("after update: %v", got)
	}

	// DROP COLUMN, RENAME COLUMN, RENAME TO.
	h.exec(`ALTER TABLE t DROP COLUMN b`)
	h.fails("42703", `SELECT b FROM t`)
	h.fails("0A000", `ALTER TABLE t DROP COLUMN a`)
	h.exec(`ALTER TABLE t ADD CONSTRAINT c_positive CHECK (c > 0)`)
	h.exec(`ALTER TABLE t RENAME COLUMN c TO cc`)
	h.exec(`ALTER TABLE t RENAME TO t2`)
	h.fails("42P01", `SELECT * FROM t`)
	h.fails("23514", `INSERT INTO t2 (a, cc) VALUES (10, -1)`) // the check follows the rename
	h.fails("23514", `ALTER TABLE t2 ADD CHECK (cc > 8)`)
	if got := h.rows(`SELECT a, cc FROM t2 WHERE cc = 7 ORDER BY a`); fmt.Sprint(got) != "[2|7 3|7]" {
		t.Fatalf("renamed: %v", got)
	}

	// ADD CONSTRAINT UNIQUE builds a unique index; duplicates fail.
	h.fails("23505", `ALTER TABLE t2 ADD CONSTRAINT t2_cc_key UNIQUE (cc)`)
	h.exec(`ALTER TABLE t2 ADD UNIQUE (a, cc)`)
	h.fails("23505", `INSERT INTO t2 (a, cc) VALUES (1, 9)`)
	h.exec(`ALTER TABLE t2 DROP CONSTRAINT t2_a_cc_key`)

	// TRUNCATE.
	if tag := h.exec(`TRUNCATE t2`); tag != "TRUNCATE TABLE" {
		t.Fatalf("tag %q", tag)
	}
	if got := h.one(`SELECT count(*) FROM t2`); got != "0" {
		t.Fatalf("count after TRUNCATE %s", got)
	}
	h.exec(`INSERT INTO t2 (a, cc) VALUES (1, 7)`)
	if got := h.rows(`SELECT a FROM t2 WHERE cc = 7`); fmt.Sprint(got) != "[1]" {
		t.Fatalf("after TRUNCATE: %v", got)
	}

	// ADD PRIMARY KEY on a table with the hidden rowid.
	h.exec(`CREATE TABLE r (x INT NOT NULL, y TEXT)`)
	h.exec(`CREATE INDEX r_y_idx ON r (y)`)
	h.exec(`INSERT INTO r VALUES (1, 'a'), (2, 'b'), (2, 'c')`)
	e := h.fails("23505", `ALTER TABLE r ADD PRIMARY KEY (x)`)
	if !strings.Contains(e.Message, `"r_pkey"`) {
		t.Fatalf("error %q", e.Message)
	}
	h.exec(`DELETE FROM r WHERE y = 'c'`)
	h.exec(`ALTER TABLE r ADD PRIMARY KEY (x)`)
	if p := h.plan(`SELECT y FROM r WHERE x = 2`); !strings.Contains(p, "point lookup on r@r_pkey") {
		t.Fatalf("plan:\n%s", p)
	}
	if got := h.rows(`SELECT * FROM r ORDER BY x`); fmt.Sprint(got) != "[1|a 2|b]" {
		t.Fatalf("rows %v", got)
	}
	if got := h.one(`SELECT x FROM r WHERE y = 'b'`); got != "2" {
		t.Fatalf("secondary index after ADD PRIMARY KEY: %s", got)
	}
	h.fails("23505", `INSERT INTO r VALUES (1, 'z')`)
	h.fails("42P16", `ALTER TABLE r ADD PRIMARY KEY (y)`)
	h.exec(`INSERT INTO r VALUES (3, 'c')`)
	if got := h.rows(`SELECT x FROM r WHERE y >= 'b' ORDER BY x`); fmt.Sprint(got) != "[2 3]" {
		t.Fatalf("rows %v", got)
	}
}

// TestSQLSchemaChangeConcurrentWrites builds indexes while another
// session updates, inserts and deletes rows: every index must end up with
// exactly one entry per row, with the row's current values.
func TestSQLSchemaChangeConcurrentWrites(t *testing.T) {
	for _, tc := range []struct {
		name, create, change string
		checks               [][2]string // queries that must agree: through an index, and not
	}{
		{
			name:   "create index",
			create: `CREATE TABLE big (id INT PRIMARY KEY, g INT, s TEXT)`,
			change: `CREATE INDEX big_g_idx ON big (g)`,
			checks: [][2]string{{
				`SELECT count(*), sum(id), sum(g) FROM big WHERE g >= -1`,
				`SELECT count(*), sum(id), sum(g) FROM big WHERE g + 0 >= -1`,
			}},
		},
		{
			name:   "add primary key",
			create: `CREATE TABLE big (id INT NOT NULL, g INT, s TEXT); CREATE INDEX big_g_idx ON big (g)`,
			change: `ALTER TABLE big ADD PRIMARY KEY (id)`,
			checks: [][2]string{{
				`SELECT count(*), sum(id), sum(g) FROM big WHERE g >= -1`,
				`SELECT count(*), sum(id), sum(g) FROM big WHERE g + 0 >= -1`,
			}, {
				`SELECT count(*), sum(id), sum(g) FROM big WHERE id >= -1`,
				`SELECT count(*), sum(id), sum(g) FROM big WHERE id + 0 >= -1`,
			}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startTestServer(t, testConfig())
			h := &sqlHelper{t: t, ctx: testCtx(t), conn: connectSQL(t, s)}
			const n = 12000
			for _, q := range strings.Split(tc.create, "; ") {
				h.exec(q)
			}
			h.insertRows("big", 0, n)
			writer := connectSQL(t, s)
			stop := make(chan struct{})
			type result struct {
				ops int
				err error
			}
			done := make(chan result)
			go func() {
				var r result
				for i := 0; ; i++ {
					select {
					case <-stop:
						done <- r
						return
					default:
					}
					id := (i * 7919) % n
					var err error
					switch i % 4 {
					case 0, 1:
						_, err = writer.Exec(h.ctx, `UPDATE big SET g = g + 100 WHERE id = $1`, id)
					case 2:
						_, err = writer.Exec(h.ctx, `INSERT INTO big VALUES ($1, $2, 'w')`, n+i, i%1000)
					case 3:
						_, err = writer.Exec(h.ctx, `DELETE FROM big WHERE id = $1`, id+1)
					}
					var pgErr *pgconn.PgError
					if err != nil && !(errors.As(err, &pgErr) && pgErr.Code == "40001") {
						r.err = err
						done <- r
						<-stop
						return
					}
					r.ops++
				}
			}()
			h.exec(tc.change)
			close(stop)
			r := <-done
			if r.err != nil {
				t.Fatalf("writer: %v", r.err)
			}
			t.Logf("%d writes during the schema change", r.ops)
			for _, c := range tc.checks {
				if p := h.plan(c[0]); strings.Contains(p, "full scan") {
					t.Fatalf("plan:\n%s", p)
				}
				if a, b := h.one(c[0]), h.one(c[1]); a != b {
					t.Fatalf("%s: %s\n%s: %s", c[0], a, c[1], b)
				}
			}
		})
	}
}
