package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSQLSortSpills: an ORDER BY past work_mem spills sorted runs to the
// node's temporary directory (<data dir>/tmp) and merges them; the files
// are gone when the statement ends. Hash aggregation and DISTINCT past 4 ×
// work_mem fail with 53200 naming work_mem.
func TestSQLSortSpills(t *testing.T) {
	cfg := testConfig()
	cfg.InMemory, cfg.DataDir = false, t.TempDir()
	s := startTestServer(t, cfg)
	conn := connectSQL(t, s)
	ctx := testCtx(t)
	h := &sqlHelper{t: t, ctx: ctx, conn: conn}
	tmp := filepath.Join(cfg.DataDir, "tmp")
	if st, err := os.Stat(tmp); err != nil || !st.IsDir() {
		t.Fatalf("temporary directory %s: %v", tmp, err)
	}
	h.exec(`CREATE TABLE s (id INT PRIMARY KEY, k INT, pad TEXT)`)
	h.exec(`INSERT INTO s SELECT g, (g * 7919) % 5003, repeat('x', 100) FROM generate_series(1, 5000) g`)
	if got := h.one(`SHOW work_mem`); got != "64MB" {
		t.Fatalf("default work_mem: %s", got)
	}
	h.exec(`SET work_mem = '64kB'`)
	if got := h.one(`SHOW work_mem`); got != "64kB" {
		t.Fatalf("work_mem: %s", got)
	}
	h.fails("22023", `SET work_mem = '1XB'`)
	h.fails("22023", `SET work_mem = '10kB'`)

	// The rows come back sorted by k, then id DESC, through the spill.
	rows, err := conn.Query(ctx, `SELECT k, id FROM s ORDER BY k, id DESC`)
	if err != nil {
		t.Fatal(err)
	}
	n, prevK, prevID := 0, -1, 0
	for rows.Next() {
		var k, id int
		if err := rows.Scan(&k, &id); err != nil {
			t.Fatal(err)
		}
		if k < prevK || (k == prevK && id >= prevID) {
			t.Fatalf("row %d (%d, %d) after (%d, %d)", n, k, id, prevK, prevID)
		}
		if n == 10 {
			// Mid-read, the runs are on disk.
			if files, _ := filepath.Glob(filepath.Join(tmp, "cairn-sort-*")); len(files) == 0 {
				t.Error("no temporary files while reading a spilled sort")
			}
		}
		prevK, prevID = k, id
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 5000 {
		t.Fatalf("%d rows", n)
	}
	checkEmpty := func(when string) {
		t.Helper()
		if files, _ := filepath.Glob(filepath.Join(tmp, "*")); len(files) != 0 {
			t.Fatalf("%s: temporary files left: %v", when, files)
		}
	}
	checkEmpty("after the query")
	// A LIMIT stops reading early: the files go with the statement.
	if got := h.rows(`SELECT id FROM s ORDER BY pad, k DESC, id LIMIT 3`); len(got) != 3 {
		t.Fatalf("LIMIT: %v", got)
	}
	checkEmpty("after a LIMIT")
	if got := h.one(`SELECT count(*) FROM (SELECT id FROM s ORDER BY pad DESC) x`); got != "5000" {
		t.Fatalf("count over a spilled subquery sort: %s", got)
	}
	checkEmpty("after a subquery")

	// Hash aggregation and DISTINCT do not spill: 53200 past 4 × work_mem.
	for _, q := range []string{
		`SELECT id, count(*) FROM s GROUP BY id`,
		`SELECT DISTINCT id, pad FROM s`,
	} {
		if e := h.fails("53200", q); !strings.Contains(e.Message, "work_mem") {
			t.Errorf("%s: %s", q, e.Message)
		}
	}
	h.exec(`RESET work_mem`)
	if got := len(h.rows(`SELECT DISTINCT id, pad FROM s`)); got != 5000 {
		t.Fatalf("DISTINCT with the default work_mem: %d rows", got)
	}
	if got, want := h.one(`SELECT k FROM s ORDER BY k DESC LIMIT 1`), h.one(`SELECT max(k) FROM s`); got != want {
		t.Fatalf("ORDER BY k DESC LIMIT 1 = %s, max(k) = %s", got, want)
	}
	checkEmpty("at the end")
}
