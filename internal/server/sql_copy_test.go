package server

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// copyFrom runs COPY with data through pgconn's CopyFrom.
func (h *sqlHelper) copyFrom(sql, data string) (string, error) {
	h.t.Helper()
	tag, err := h.conn.PgConn().CopyFrom(h.ctx, strings.NewReader(data), sql)
	return tag.String(), err
}

func (h *sqlHelper) copyFails(code, sql, data string) *pgconn.PgError {
	h.t.Helper()
	_, err := h.copyFrom(sql, data)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != code {
		h.t.Fatalf("%s: got %v, want SQLSTATE %s", sql, err, code)
	}
	return pgErr
}

func TestSQLCopyFrom(t *testing.T) {
	s := startTestServer(t, testConfig())
	h := &sqlHelper{t: t, ctx: testCtx(t), conn: connectSQL(t, s)}
	h.exec(`CREATE TABLE t (id INT PRIMARY KEY, name TEXT, score FLOAT8 DEFAULT 1.5, tag TEXT UNIQUE)`)

	// Text format: tabs, \N, backslash escapes, the end marker.
	tag, err := h.copyFrom(`COPY t FROM STDIN`,
		"1\talice\t2.5\ta\n2\t\\N\t\\N\tb\n3\ttab\\there\\nnl\\\\bs\\101\\x42\t0\t\\N\n\\.\n")
	if err != nil || tag != "COPY 3" {
		t.Fatalf("text copy: %q, %v", tag, err)
	}
	want := []string{"1|alice|2.5|a", "2|<nil>|<nil>|b", "3|tab\there\nnl\\bsAB|0|<nil>"}
	if got := h.rows(`SELECT id, name, score, tag FROM t ORDER BY id`); !slices.Equal(got, want) {
		t.Fatalf("rows %q, want %q", got, want)
	}

	// A column list: the others get their defaults. Old-style CSV HEADER.
	tag, err = h.copyFrom(`COPY t (name, id) FROM STDIN CSV HEADER`,
		"name,id\n\"quoted, with comma\",4\n,5\n\"\",6\n\"multi\nline \"\"q\"\"\",7\n")
	if err != nil || tag != "COPY 4" {
		t.Fatalf("csv copy: %q, %v", tag, err)
	}
	want = []string{"4|quoted, with comma|1.5", "5|<nil>|1.5", "6||1.5", "7|multi\nline \"q\"|1.5"}
	if got := h.rows(`SELECT id, name, score FROM t WHERE id >= 4 ORDER BY id`); !slices.Equal(got, want) {
		t.Fatalf("rows %q, want %q", got, want)
	}

	// WITH (...) options: delimiter and null string.
	tag, err = h.copyFrom(`COPY t (id, name) FROM STDIN WITH (FORMAT csv, DELIMITER ';', NULL 'nil')`, "8;nil\n9;x\r\n")
	if err != nil || tag != "COPY 2" {
		t.Fatalf("csv options copy: %q, %v", tag, err)
	}
	if got := h.rows(`SELECT id, name FROM t WHERE id IN (8, 9) ORDER BY id`); !slices.Equal(got, []string{"8|<nil>", "9|x"}) {
		t.Fatalf("rows %q", got)
	}

	// A bad value: 22P02 with the line in the context.
	e := h.copyFails("22P02", `COPY t (id, name) FROM STDIN`, "10\ta\n11\tb\nx\tc\n")
	if !strings.Contains(e.Where, "COPY t, line 3") {
		t.Fatalf("where %q", e.Where)
	}
	e = h.copyFails("22P04", `COPY t (id, name) FROM STDIN`, "10\ta\textra\n")
	if !strings.Contains(e.Where, "line 1") {
		t.Fatalf("where %q", e.Where)
	}
	h.copyFails("22P04", `COPY t (id, name) FROM STDIN`, "10\n")
	// A duplicate key: 23505, also against a unique index.
	e = h.copyFails("23505", `COPY t (id) FROM STDIN`, "12\n13\n1\n")
	if !strings.Contains(e.Where, "line 3") {
		t.Fatalf("where %q", e.Where)
	}
	h.copyFails("23505", `COPY t (id, tag) FROM STDIN`, "20\tz\n21\tz\n")
	h.copyFails("42703", `COPY t (nope) FROM STDIN`, "1\n")
	h.copyFails("42P01", `COPY nope FROM STDIN`, "1\n")
	h.fails("0A000", `COPY t TO STDOUT`)

	// Inside a transaction block the rows are part of the transaction.
	h.exec(`BEGIN`)
	if tag, err := h.copyFrom(`COPY t (id) FROM STDIN`, "100\n101\n"); err != nil || tag != "COPY 2" {
		t.Fatalf("copy in block: %q, %v", tag, err)
	}
	h.exec(`ROLLBACK`)
	if got := h.one(`SELECT count(*) FROM t WHERE id >= 100`); got != "0" {
		t.Fatalf("rolled back copy left %s rows", got)
	}
}

func TestSQLCopyLarge(t *testing.T) {
	s := startTestServer(t, testConfig())
	h := &sqlHelper{t: t, ctx: testCtx(t), conn: connectSQL(t, s)}
	h.exec(`CREATE TABLE big (id SERIAL PRIMARY KEY, v INT, s TEXT)`)
	h.exec(`CREATE INDEX big_v ON big (v)`)
	const n = 20000
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%d\trow %d\n", i, i)
	}
	// More rows (and index entries) than one transaction may write:
	// outside a block COPY commits in batches.
	tag, err := h.copyFrom(`COPY big (v, s) FROM STDIN`, b.String())
	if err != nil || tag != fmt.Sprintf("COPY %d", n) {
		t.Fatalf("copy: %q, %v", tag, err)
	}
	if got := h.one(`SELECT count(*), count(DISTINCT id), min(v), max(v) FROM big`); got != fmt.Sprintf("%d|%d|0|%d", n, n, n-1) {
		t.Fatalf("got %s", got)
	}
	// nextval and currval see the SERIAL sequence COPY drew from.
	if got := h.one(`SELECT nextval('big_id_seq')`); got != fmt.Sprint(n+1) {
		t.Fatalf("nextval %s", got)
	}
	// Inside a block COPY writes through the block's transaction, atomic
	// (up to kv.MaxTxnWrites keys): rolled back, nothing stays.
	h.exec(`BEGIN`)
	if _, err = h.copyFrom(`COPY big (v, s) FROM STDIN`, b.String()); err != nil {
		t.Fatalf("copy in block: %v", err)
	}
	h.exec(`ROLLBACK`)
	if got := h.one(`SELECT count(*) FROM big`); got != fmt.Sprint(n) {
		t.Fatalf("after a rolled-back COPY: %s rows, want %d", got, n)
	}
}

func TestSQLSequences(t *testing.T) {
	s := startTestServer(t, testConfig())
	h := &sqlHelper{t: t, ctx: testCtx(t), conn: connectSQL(t, s)}
	h.exec(`CREATE SEQUENCE s`)
	h.fails("55000", `SELECT currval('s')`)
	if got := h.one(`SELECT nextval('s'), nextval('s'), currval('s')`); got != "1|2|2" {
		t.Fatalf("got %s", got)
	}
	h.exec(`CREATE SEQUENCE IF NOT EXISTS s`)
	h.fails("42P07", `CREATE SEQUENCE s`)
	h.exec(`CREATE SEQUENCE d INCREMENT BY -5 START WITH 100 MINVALUE 90 MAXVALUE 100 CACHE 10`)
	if got := h.one(`SELECT nextval('d'), nextval('d'), nextval('d')`); got != "100|95|90" {
		t.Fatalf("got %s", got)
	}
	h.fails("2200H", `SELECT nextval('d')`)
	if got := h.one(`SELECT setval('s', 10), nextval('s'), setval('s', 20, false), nextval('s'), currval('s')`); got != "10|11|20|20|20" {
		t.Fatalf("got %s", got)
	}
	h.fails("22003", `SELECT setval('s', 0)`)
	h.fails("42P01", `SELECT nextval('nope')`)
	// SERIAL columns draw from a named sequence.
	h.exec(`CREATE TABLE t (id SERIAL PRIMARY KEY, v TEXT)`)
	h.exec(`INSERT INTO t (v) VALUES ('a'), ('b')`)
	if got := h.one(`SELECT currval('t_id_seq'), nextval('t_id_seq')`); got != "2|3" {
		t.Fatalf("got %s", got)
	}
	h.exec(`INSERT INTO t VALUES (nextval('s'), 'c')`)
	h.fails("2BP01", `DROP SEQUENCE t_id_seq`)
	h.exec(`DROP SEQUENCE s`)
	h.fails("42P01", `SELECT nextval('s')`)
	h.fails("42P01", `DROP SEQUENCE s`)
	h.exec(`DROP SEQUENCE IF EXISTS s`)
	// Another session has its own currval.
	h2 := &sqlHelper{t: t, ctx: testCtx(t), conn: connectSQL(t, s)}
	h2.fails("55000", `SELECT currval('t_id_seq')`)
}
