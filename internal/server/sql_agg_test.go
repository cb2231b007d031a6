package server

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// textQuery runs sql with the simple protocol and returns its rows in
// text format as psql -A shows them: columns joined by "|", rows by " ; ",
// NULL as NULL.
func textQuery(t *testing.T, conn *pgx.Conn, sql string) (string, []uint32, error) {
	t.Helper()
	res, err := conn.PgConn().Exec(testCtx(t), sql).ReadAll()
	if err != nil {
		return "", nil, err
	}
	r := res[len(res)-1]
	var oids []uint32
	for _, f := range r.FieldDescriptions {
		oids = append(oids, f.DataTypeOID)
	}
	rows := make([]string, len(r.Rows))
	for i, row := range r.Rows {
		cells := make([]string, len(row))
		for j, c := range row {
			if c == nil {
				cells[j] = "NULL"
			} else {
				cells[j] = string(c)
			}
		}
		rows[i] = strings.Join(cells, "|")
	}
	return strings.Join(rows, " ; "), oids, nil
}

func setupAggTables(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	for _, sql := range []string{
		`CREATE TABLE t (id INT PRIMARY KEY, g TEXT, x INT, n NUMERIC, f FLOAT8, b BOOL, s TEXT, sm SMALLINT, r REAL, iv INTERVAL)`,
		`INSERT INTO t VALUES (1, 'a', 1, 0.1, 1.5, true, 'p', 1, 1.5, '1 day'), (2, 'a', 2, 0.10, 2.5, false, 'q', 2, 2.5, '2 hours'), (3, 'b', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), (4, 'b', 4, 0.1, 0.5, true, 'r', 4, 0.25, '1 mon'), (5, NULL, 5, 0.1, NULL, true, 's', 5, NULL, '3 days'), (6, 'a', 2, 0.1, 1.0, true, 'q', 2, 1.0, '1 day'), (7, 'c', 7, 0.1, 3.0, false, 'p', 7, 3.5, '10 min'), (8, 'c', 1, 0.1, 2.0, true, 't', 1, 2.25, '1 day'), (9, NULL, NULL, 0.1, NULL, NULL, 'u', NULL, NULL, NULL), (10, 'b', 3, 0.1, 4.0, false, 'v', 3, 0.5, '5 days')`,
		`CREATE TABLE e (id INT PRIMARY KEY, x INT, n NUMERIC, b BOOL, s TEXT)`,
		`CREATE TABLE big (id INT PRIMARY KEY, v BIGINT)`,
		`INSERT INTO big VALUES (1, 9223372036854775807), (2, 9223372036854775807), (3, -1), (4, 100)`,
		`CREATE TABLE nopk (a INT, b TEXT)`,
		`INSERT INTO nopk VALUES (1, 'x'), (1, 'x'), (2, 'y'), (NULL, 'x'), (NULL, 'x'), (2, NULL)`,
		`CREATE TABLE dec (id INT PRIMARY KEY, n NUMERIC, f FLOAT8)`,
		`INSERT INTO dec VALUES (1, 0.1, 0.1), (2, 0.1, 0.1), (3, 0.1, 0.1), (4, 0.1, 0.1), (5, 0.1, 0.1), (6, 0.1, 0.1), (7, 0.1, 0.1), (8, 0.1, 0.1), (9, 0.1, 0.1), (10, 0.1, 0.1)`,
	} {
		if _, err := conn.Exec(testCtx(t), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

// TestSQLAggregates checks aggregation, GROUP BY, HAVING and DISTINCT
// against results taken from PostgreSQL 15 over the same data.
func TestSQLAggregates(t *testing.T) {
	s := startTestServer(t, testConfig())
	conn := connectSQL(t, s)
	ctx := testCtx(t)
	setupAggTables(t, conn)

	for _, tc := range []struct{ sql, want string }{
		{`SELECT count(*), count(x), count(DISTINCT x), sum(x), avg(x), min(x), max(x) FROM t`,
			`10|8|6|25|3.1250000000000000|1|7`},
		{`SELECT count(*), sum(x), avg(x), min(x), max(x), bool_and(b), string_agg(s, ','), array_agg(x) FROM e`,
			`0|NULL|NULL|NULL|NULL|NULL|NULL|NULL`},
		{`SELECT sum(n), avg(n), min(n), max(n) FROM t`,
			`0.90|0.10000000000000000000|0.1|0.1`},
		{`SELECT sum(n) = 1.0, sum(n) FROM t`,
			`f|0.90`},
		{`SELECT sum(f), avg(f), sum(r), avg(r) FROM t`,
			`14.5|2.0714285714285716|11.5|1.6428571428571428`},
		{`SELECT sum(sm), avg(sm), sum(iv), avg(iv) FROM t`,
			`25|3.1250000000000000|1 mon 11 days 02:10:00|5 days 03:16:15`},
		{`SELECT g, count(*), sum(x) FROM t GROUP BY g ORDER BY g`,
			`a|3|5 ; b|3|7 ; c|2|8 ; NULL|2|5`},
		{`SELECT g, count(*) AS c FROM t GROUP BY g HAVING count(*) > 2 ORDER BY c DESC, g`,
			`a|3 ; b|3`},
		{`SELECT g, count(*) FROM t GROUP BY 1 ORDER BY 2 DESC, 1`,
			`a|3 ; b|3 ; c|2 ; NULL|2`},
		{`SELECT g AS k, max(s) FROM t GROUP BY k ORDER BY k`,
			`a|q ; b|v ; c|t ; NULL|u`},
		{`SELECT x % 2 AS parity, count(*) FROM t GROUP BY parity ORDER BY 1`,
			`0|3 ; 1|5 ; NULL|2`},
		{`SELECT t.g, count(*) FROM t GROUP BY g ORDER BY sum(x) DESC NULLS LAST, 1`,
			`c|2 ; b|3 ; a|3 ; NULL|2`},
		{`SELECT g, bool_and(b), bool_or(b), every(b) FROM t GROUP BY g ORDER BY g`,
			`a|f|t|f ; b|f|t|f ; c|f|t|f ; NULL|t|t|t`},
		{`SELECT g, string_agg(s, ',' ORDER BY s), string_agg(DISTINCT s, '|' ORDER BY s DESC) FROM t GROUP BY g ORDER BY g`,
			`a|p,q,q|q|p ; b|r,v|v|r ; c|p,t|t|p ; NULL|s,u|u|s`},
		{`SELECT g, array_agg(x ORDER BY id), array_agg(DISTINCT x) FROM t GROUP BY g ORDER BY g`,
			`a|{1,2,2}|{1,2} ; b|{NULL,4,3}|{3,4,NULL} ; c|{7,1}|{1,7} ; NULL|{5,NULL}|{5,NULL}`},
		{`SELECT count(*) FILTER (WHERE x > 2), sum(x) FILTER (WHERE b), count(DISTINCT s) FILTER (WHERE b) FROM t`,
			`4|13|5`},
		{`SELECT sum(v), avg(v) FROM big`,
			`18446744073709551713|4611686018427387928`},
		{`SELECT count(*) FROM e HAVING count(*) > 0`,
			``},
		{`SELECT count(*) FROM t WHERE g = 'zzz' GROUP BY g`,
			``},
		{`SELECT count(*), sum(1), max('a')`,
			`1|1|a`},
		{`SELECT id, g, count(*) FROM t GROUP BY id HAVING id < 3 ORDER BY id`,
			`1|a|1 ; 2|a|1`},
		{`SELECT g, max(id) FROM t GROUP BY g ORDER BY max(id) DESC LIMIT 1`,
			`b|10`},
		{`SELECT coalesce(g, 'none'), count(*) FROM t GROUP BY coalesce(g, 'none') ORDER BY 1`,
			`a|3 ; b|3 ; c|2 ; none|2`},
		{`SELECT DISTINCT g FROM t ORDER BY g`,
			`a ; b ; c ; NULL`},
		{`SELECT DISTINCT * FROM nopk ORDER BY a, b`,
			`1|x ; 2|y ; 2|NULL ; NULL|x`},
		{`SELECT count(DISTINCT a), count(a), count(*) FROM nopk`,
			`2|4|6`},
		{`SELECT DISTINCT ON (g) g, id, x FROM t ORDER BY g, id DESC`,
			`a|6|2 ; b|10|3 ; c|8|1 ; NULL|9|NULL`},
		{`SELECT DISTINCT ON (g) g, id, x FROM t ORDER BY g, x NULLS FIRST, id`,
			`a|1|1 ; b|3|NULL ; c|8|1 ; NULL|9|NULL`},
		{`SELECT DISTINCT ON (a) a, b FROM nopk ORDER BY a, b DESC NULLS LAST`,
			`1|x ; 2|y ; NULL|x`},
		{`SELECT DISTINCT count(*) FROM t GROUP BY g ORDER BY 1`,
			`2 ; 3`},
		{`SELECT DISTINCT x % 3 AS m FROM t ORDER BY m`,
			`0 ; 1 ; 2 ; NULL`},
		{`SELECT string_agg(s, ', ' ORDER BY id DESC) FILTER (WHERE b) FROM t`,
			`t, q, s, r, p`},
		{`SELECT sum(n), sum(n) = 1.0, sum(n) = 1, avg(n), sum(f) FROM dec`,
			`1.0|t|t|0.10000000000000000000|0.9999999999999999`},
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

	// PostgreSQL's result types.
	const (
		int8OID, numericOID, float4OID, float8OID, textOID, intervalOID = 20, 1700, 700, 701, 25, 1186
		int4ArrayOID, boolOID                                           = 1007, 16
	)
	for _, tc := range []struct {
		sql  string
		oids []uint32
	}{
		{`SELECT count(*), count(x), sum(x), sum(sm), sum(x::int8), sum(n), sum(f), sum(r), sum(iv) FROM t`,
			[]uint32{int8OID, int8OID, int8OID, int8OID, numericOID, numericOID, float8OID, float4OID, intervalOID}},
		{`SELECT avg(x), avg(sm), avg(x::int8), avg(n), avg(f), avg(r), avg(iv) FROM t`,
			[]uint32{numericOID, numericOID, numericOID, numericOID, float8OID, float8OID, intervalOID}},
		{`SELECT min(x), max(s), bool_and(b), bool_or(b), every(b), string_agg(s, ','), array_agg(x) FROM t`,
			[]uint32{23, textOID, boolOID, boolOID, boolOID, textOID, int4ArrayOID}},
	} {
		_, oids, err := textQuery(t, conn, tc.sql)
		if err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		if fmt.Sprint(oids) != fmt.Sprint(tc.oids) {
			t.Errorf("%s: types %v, want %v", tc.sql, oids, tc.oids)
		}
	}

	// The extended protocol: parameters in WHERE, FILTER and HAVING;
	// binary results.
	rows, err := conn.Query(ctx, `SELECT g, count(*), sum(x) FILTER (WHERE x > $1) FROM t WHERE x >= $2 GROUP BY g HAVING count(*) >= $3 ORDER BY g`, 1, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var g string
		var n int64
		var sum *int64
		if err := rows.Scan(&g, &n, &sum); err != nil {
			t.Fatal(err)
		}
		sv := "NULL"
		if sum != nil {
			sv = fmt.Sprint(*sum)
		}
		got = append(got, fmt.Sprintf("%s:%d:%s", g, n, sv))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := "a:3:4 b:2:7 c:2:7"; strings.Join(got, " ") != want {
		t.Errorf("grouped with parameters = %v, want %s", got, want)
	}
	// A bigint sum past int64 is an exact numeric, not a wrapped integer.
	var sum pgtype.Numeric
	if err := conn.QueryRow(ctx, `SELECT sum(v) FROM big`).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	want, _ := new(big.Int).SetString("18446744073709551713", 10)
	if sum.Int == nil || sum.Exp != 0 || sum.Int.Cmp(want) != 0 {
		t.Errorf("sum(v) = %v e%d, want %v", sum.Int, sum.Exp, want)
	}
	var cnt int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM e`).Scan(&cnt); err != nil || cnt != 0 {
		t.Errorf("count(*) of an empty table = %d, %v", cnt, err)
	}
	var none *int64
	if err := conn.QueryRow(ctx, `SELECT sum(x) FROM e`).Scan(&none); err != nil || none != nil {
		t.Errorf("sum of no rows = %v, %v; want NULL", none, err)
	}

	// Errors.
	for _, tc := range []struct{ sql, code, msg string }{
		{`SELECT g, x FROM t GROUP BY g`, "42803", `column "t.x" must appear in the GROUP BY clause or be used in an aggregate function`},
		{`SELECT x, count(*) FROM t`, "42803", `column "t.x" must appear in the GROUP BY clause or be used in an aggregate function`},
		{`SELECT tt.g, count(*) FROM t AS tt GROUP BY x`, "42803", `column "tt.g" must appear in the GROUP BY clause or be used in an aggregate function`},
		{`SELECT g FROM t GROUP BY g HAVING x > 1`, "42803", `column "t.x" must appear`},
		{`SELECT g FROM t GROUP BY g ORDER BY x`, "42803", `column "t.x" must appear`},
		{`SELECT count(*) FROM t WHERE count(*) > 1`, "42803", "aggregate functions are not allowed in WHERE"},
		{`SELECT count(*) FROM t GROUP BY count(*)`, "42803", "aggregate functions are not allowed in GROUP BY"},
		{`SELECT max(sum(x)) FROM t`, "42803", "aggregate function calls cannot be nested"},
		{`SELECT count(*) FILTER (WHERE count(*) > 1) FROM t`, "42803", "aggregate functions are not allowed in FILTER"},
		{`SELECT count(*) FILTER (WHERE x) FROM t`, "42804", "argument of FILTER must be type boolean"},
		{`SELECT g FROM t GROUP BY 3`, "42P10", "GROUP BY position 3 is not in select list"},
		{`SELECT g FROM t GROUP BY 'a'`, "42601", "non-integer constant in GROUP BY"},
		{`SELECT DISTINCT g FROM t ORDER BY x`, "42P10", "for SELECT DISTINCT, ORDER BY expressions must appear in select list"},
		{`SELECT DISTINCT ON (g) g, x FROM t ORDER BY x`, "42P10", "SELECT DISTINCT ON expressions must match initial ORDER BY expressions"},
		{`SELECT count(DISTINCT x ORDER BY id) FROM t`, "42P10", "in an aggregate with DISTINCT, ORDER BY expressions must appear in argument list"},
		{`SELECT sum(s) FROM t`, "42883", "function sum(text) does not exist"},
		{`SELECT sum(*) FROM t`, "42883", "function sum() does not exist"},
		{`SELECT avg(b) FROM t`, "42883", "function avg(boolean) does not exist"},
		{`SELECT g, count(*) FROM t GROUP BY ROLLUP (g)`, "0A000", "ROLLUP"},
	} {
		_, err := conn.Exec(ctx, tc.sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != tc.code || !strings.Contains(pgErr.Message, tc.msg) {
			t.Errorf("%s: %v, want %s %q", tc.sql, err, tc.code, tc.msg)
		}
	}
}

// TestSQLAggregateMany groups a few thousand rows.
func TestSQLAggregateMany(t *testing.T) {
	s := startTestServer(t, testConfig())
	conn := connectSQL(t, s)
	ctx := testCtx(t)
	if _, err := conn.Exec(ctx, `CREATE TABLE m (id INT PRIMARY KEY, k INT, v INT)`); err != nil {
		t.Fatal(err)
	}
	const n = 3000
	var sb strings.Builder
	sb.WriteString("INSERT INTO m VALUES ")
	counts, sums := map[int]int64{}, map[int]int64{}
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "(%d, %d, %d)", i, i%37, i*7)
		counts[i%37]++
		sums[i%37] += int64(i * 7)
	}
	if _, err := conn.Exec(ctx, sb.String()); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, `SELECT k, count(*), sum(v), count(DISTINCT v % 5) FROM m GROUP BY k ORDER BY k`)
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	for rows.Next() {
		var key int
		var c, sum, d int64
		if err := rows.Scan(&key, &c, &sum, &d); err != nil {
			t.Fatal(err)
		}
		if key != k || c != counts[k] || sum != sums[k] || d != 5 {
			t.Errorf("group %d: k=%d count=%d sum=%d distinct=%d, want count=%d sum=%d distinct=5", k, key, c, sum, d, counts[k], sums[k])
		}
		k++
	}
	if err := rows.Err(); err != nil || k != 37 {
		t.Fatalf("%d groups, %v", k, err)
	}
	var nd int
	rows2, err := conn.Query(ctx, `SELECT DISTINCT k % 10 FROM m`)
	if err != nil {
		t.Fatal(err)
	}
	for rows2.Next() {
		nd++
	}
	if err := rows2.Err(); err != nil || nd != 10 {
		t.Fatalf("SELECT DISTINCT: %d rows, %v", nd, err)
	}
}
