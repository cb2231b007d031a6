package server

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func setupJoinTables(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	for _, sql := range []string{
		`CREATE TABLE dept (id INT PRIMARY KEY, name TEXT, floor INT)`,
		`INSERT INTO dept VALUES (1, 'eng', 3), (2, 'ops', 1), (3, 'sales', 2), (4, 'empty', NULL)`,
		`CREATE TABLE emp (id INT PRIMARY KEY, name TEXT, dept_id INT, salary INT)`,
		`INSERT INTO emp VALUES (1, 'ann', 1, 120), (2, 'bob', 1, 100), (3, 'cat', 2, 90), (4, 'dan', NULL, 90), (5, 'eve', 2, NULL), (6, 'fay', 9, 70)`,
		`CREATE TABLE a (id INT PRIMARY KEY, x TEXT)`,
		`CREATE TABLE b (id INT PRIMARY KEY, y TEXT)`,
		`INSERT INTO a VALUES (1, 'a1'), (2, 'a2'), (3, 'a3')`,
		`INSERT INTO b VALUES (2, 'b2'), (3, 'b3'), (4, 'b4')`,
	} {
		if _, err := conn.Exec(testCtx(t), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

// TestSQLJoins checks joins against results taken from PostgreSQL 15 over
// the same data.
func TestSQLJoins(t *testing.T) {
	s := startTestServer(t, testConfig())
	conn := connectSQL(t, s)
	ctx := testCtx(t)
	setupJoinTables(t, conn)

	for _, tc := range []struct{ sql, want string }{
		{`SELECT e.name, d.name FROM emp e, dept d WHERE e.dept_id = d.id ORDER BY e.id`,
			`ann|eng ; bob|eng ; cat|ops ; eve|ops`},
		{`SELECT e.name, d.name FROM emp e JOIN dept d ON e.dept_id = d.id AND e.salary > 95 ORDER BY 1`,
			`ann|eng ; bob|eng`},
		{`SELECT e.name, d.name FROM emp e LEFT JOIN dept d ON e.dept_id = d.id ORDER BY e.id`,
			`ann|eng ; bob|eng ; cat|ops ; dan|NULL ; eve|ops ; fay|NULL`},
		{`SELECT e.name, d.name FROM emp e RIGHT JOIN dept d ON e.dept_id = d.id ORDER BY d.id, e.id`,
			`ann|eng ; bob|eng ; cat|ops ; eve|ops ; NULL|sales ; NULL|empty`},
		{`SELECT e.name, d.name FROM emp e FULL JOIN dept d ON e.dept_id = d.id ORDER BY e.id, d.id`,
			`ann|eng ; bob|eng ; cat|ops ; dan|NULL ; eve|ops ; fay|NULL ; NULL|sales ; NULL|empty`},
		{`SELECT count(*) FROM emp CROSS JOIN dept`, `24`},
		{`SELECT e.name, d.name FROM emp e JOIN dept d ON e.dept_id < d.id AND d.floor = 2 ORDER BY 1`,
			`ann|sales ; bob|sales ; cat|sales ; eve|sales`},
		{`SELECT * FROM a FULL JOIN b USING (id) ORDER BY id`,
			`1|a1|NULL ; 2|a2|b2 ; 3|a3|b3 ; 4|NULL|b4`},
		{`SELECT * FROM a NATURAL JOIN b`, `2|a2|b2 ; 3|a3|b3`},
		{`SELECT a.*, b.id FROM a LEFT JOIN b ON a.id = b.id ORDER BY a.id`,
			`1|a1|NULL ; 2|a2|2 ; 3|a3|3`},
		{`SELECT d.name, count(e.id), sum(e.salary) FROM dept d LEFT JOIN emp e ON e.dept_id = d.id GROUP BY d.name ORDER BY d.name`,
			`empty|0|NULL ; eng|2|220 ; ops|2|90 ; sales|0|NULL`},
		{`SELECT DISTINCT d.name FROM emp e JOIN dept d ON e.dept_id = d.id ORDER BY 1`, `eng ; ops`},
		{`SELECT e.name FROM emp e JOIN dept d ON e.dept_id = d.id ORDER BY e.salary DESC NULLS LAST LIMIT 2 OFFSET 1`,
			`bob ; cat`},
		{`SELECT s.name, s.n FROM (SELECT d.name, count(*) AS n FROM emp e JOIN dept d ON e.dept_id = d.id GROUP BY d.name) AS s ORDER BY s.name`,
			`eng|2 ; ops|2`},
		{`SELECT e.name, d.name FROM emp e JOIN dept d ON e.dept_id = d.id WHERE e.id = 2`, `bob|eng`},
	} {
		got, _, err := textQuery(t, conn, tc.sql)
		if err != nil {
			t.Errorf("%s: %v", tc.sql, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.sql, got, tc.want)
		}
	}

	// The extended protocol: parameters in ON and WHERE, binary results,
	// and column metadata of a join's *.
	rows, err := conn.Query(ctx, `SELECT e.name, d.name FROM emp e JOIN dept d ON e.dept_id = d.id AND e.salary >= $1 WHERE d.floor > $2 ORDER BY e.id`, 95, 2)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var en, dn string
		if err := rows.Scan(&en, &dn); err != nil {
			t.Fatal(err)
		}
		got = append(got, en+"/"+dn)
	}
	if err := rows.Err(); err != nil || strings.Join(got, ",") != "ann/eng,bob/eng" {
		t.Fatalf("parameters: %v %v", got, err)
	}
	rows, err = conn.Query(ctx, `SELECT * FROM a JOIN b USING (id) WHERE id = $1`, 2)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range rows.FieldDescriptions() {
		names = append(names, f.Name)
		if f.TableOID == 0 {
			t.Errorf("column %s: no table OID", f.Name)
		}
	}
	rows.Close()
	if strings.Join(names, ",") != "id,x,y" {
		t.Errorf("columns of USING *: %v", names)
	}

	// Errors.
	for _, tc := range []struct{ sql, code, msg string }{
		{`SELECT id FROM emp, dept`, "42702", `column reference "id" is ambiguous`},
		{`SELECT x.id FROM emp, dept`, "42P01", `missing FROM-clause entry for table "x"`},
		{`SELECT emp.id FROM emp e, dept`, "42P01", `invalid reference to FROM-clause entry for table "emp"`},
		{`SELECT 1 FROM emp, emp`, "42712", `table name "emp" specified more than once`},
		{`SELECT e.nope FROM emp e JOIN dept d ON true`, "42703", `column e.nope does not exist`},
		{`SELECT 1 FROM a JOIN b USING (x)`, "42703", `column "x" specified in USING clause does not exist in right table`},
		{`SELECT 1 FROM a JOIN b ON 1`, "42804", `argument of JOIN/ON must be type boolean, not type integer`},
		{`SELECT * FROM (SELECT 1)`, "42601", `subquery in FROM must have an alias`},
		{`SELECT * FROM a, LATERAL (SELECT a.id) s`, "0A000", `LATERAL`},
	} {
		_, err := conn.Exec(ctx, tc.sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != tc.code || !strings.Contains(pgErr.Message, tc.msg) {
			t.Errorf("%s: %v, want %s %q", tc.sql, err, tc.code, tc.msg)
		}
	}
}

// TestSQLJoinExplain checks the plans of joins: hash joins on equalities,
// nested loops otherwise, and WHERE conjuncts pushed down to each table's
// access path.
func TestSQLJoinExplain(t *testing.T) {
	s := startTestServer(t, testConfig())
	conn := connectSQL(t, s)
	setupJoinTables(t, conn)
	plan := func(q string) string {
		t.Helper()
		got, _, err := textQuery(t, conn, "EXPLAIN "+q)
		if err != nil {
			t.Fatalf("EXPLAIN %s: %v", q, err)
		}
		return got
	}
	for _, tc := range []struct {
		sql  string
		want []string
	}{
		{`SELECT e.name, d.name FROM emp e JOIN dept d ON e.dept_id = d.id WHERE e.id = 1`,
			[]string{"hash join (inner) on (e.dept_id = d.id)", "point lookup on emp@emp_pkey: /id = 1", "full scan of dept@dept_pkey"}},
		{`SELECT e.name, d.name FROM emp e, dept d WHERE e.dept_id = d.id AND d.id = 2 AND e.salary > 10`,
			[]string{"hash join (inner) on (e.dept_id = d.id)", "filter ((e.salary > 10) AND (e.dept_id = 2))", "full scan of emp@emp_pkey", "point lookup on dept@dept_pkey: /id = 2"}},
		{`SELECT * FROM emp e LEFT JOIN dept d ON e.dept_id = d.id AND e.salary > d.floor WHERE d.name IS NULL`,
			[]string{"filter (d.name IS NULL)", "hash join (left) on (e.dept_id = d.id), filter (e.salary > d.floor)"}},
		{`SELECT * FROM emp e JOIN dept d ON e.dept_id < d.id`,
			[]string{"nested loop join (inner) on (e.dept_id < d.id)"}},
		{`SELECT * FROM emp CROSS JOIN dept`, []string{"nested loop join (cross)"}},
		{`SELECT * FROM a FULL JOIN b USING (id)`, []string{"hash join (full) on (a.id = b.id)"}},
		{`SELECT d.name, count(*) FROM emp e JOIN dept d ON e.dept_id = d.id GROUP BY d.name`,
			[]string{"aggregate (hash)", "hash join (inner) on (e.dept_id = d.id)"}},
		// Equalities with constants carry over an equi-join.
		{`SELECT * FROM emp e JOIN dept d ON e.dept_id = d.id WHERE e.dept_id = 1`,
			[]string{"point lookup on dept@dept_pkey: /id = 1"}},
		{`SELECT * FROM a, b WHERE a.id = b.id AND b.id = 2`,
			[]string{"point lookup on a@a_pkey: /id = 2", "point lookup on b@b_pkey: /id = 2"}},
		{`SELECT * FROM a LEFT JOIN b ON a.id = b.id WHERE a.id = $1`,
			[]string{"point lookup on a@a_pkey: /id = $1", "point lookup on b@b_pkey: /id = $1"}},
		{`SELECT * FROM (SELECT id FROM a WHERE id = 2) s JOIN b ON b.id = s.id`,
			[]string{"subquery s", "point lookup on a@a_pkey: /id = 2"}},
	} {
		got := plan(tc.sql)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("EXPLAIN %s:\n%s\nwant %q", tc.sql, strings.ReplaceAll(got, " ; ", "\n"), w)
			}
		}
	}
}

// TestSQLJoinMany joins a few thousand rows on each side.
func TestSQLJoinMany(t *testing.T) {
	s := startTestServer(t, testConfig())
	conn := connectSQL(t, s)
	ctx := testCtx(t)
	for _, q := range []string{
		`CREATE TABLE l (id INT PRIMARY KEY, k INT)`,
		`CREATE TABLE r (id INT PRIMARY KEY, k INT)`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	const n = 3000
	for _, tbl := range []string{"l", "r"} {
		var sb strings.Builder
		fmt.Fprintf(&sb, "INSERT INTO %s VALUES ", tbl)
		for i := 0; i < n; i++ {
			if i > 0 {
				sb.WriteString(", ")
			}
			k := i % 100
			if tbl == "r" {
				k = i % 150
			}
			fmt.Fprintf(&sb, "(%d, %d)", i, k)
		}
		if _, err := conn.Exec(ctx, sb.String()); err != nil {
			t.Fatal(err)
		}
	}
	// l has 30 rows per k in 0..99, r 20 rows per k in 0..149.
	var cnt int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM l JOIN r ON l.k = r.k`).Scan(&cnt); err != nil || cnt != 100*30*20 {
		t.Fatalf("hash join count = %d, %v; want %d", cnt, err, 100*30*20)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM r LEFT JOIN l ON l.k = r.k`).Scan(&cnt); err != nil || cnt != 100*30*20+50*20 {
		t.Fatalf("left join count = %d, %v; want %d", cnt, err, 100*30*20+50*20)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM l JOIN r ON l.id = r.id + 1 WHERE l.id < 100`).Scan(&cnt); err != nil || cnt != 99 {
		t.Fatalf("join on id count = %d, %v; want 99", cnt, err)
	}
}
