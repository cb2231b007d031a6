package sql

import (
	"context"
	"testing"

	"github.com/cairndb/cairn/internal/sql/parser"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// runQuery plans and runs a query that reads no table, and returns its
// rows.
func runQuery(t *testing.T, sql string) ([][]types.Datum, error) {
	t.Helper()
	stmt, err := parser.ParseOne(sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	ctx := context.Background()
	x := &execCtx{sess: &session{}, planCtx: ctx}
	if err := rewriteRowComparisons(&stmt); err != nil {
		return nil, err
	}
	sp, err := x.buildSelect(ctx, stmt.AST.GetSelectStmt(), nil)
	if err != nil {
		return nil, err
	}
	it, err := sp.open(ctx, x)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var rows [][]types.Datum
	for {
		row, err := it.Next(ctx)
		if err != nil {
			return rows, err
		}
		if row == nil {
			return rows, nil
		}
		rows = append(rows, append([]types.Datum(nil), row...))
	}
}

func wantInt(t *testing.T, sql string, want int64) {
	t.Helper()
	rows, err := runQuery(t, sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	if len(rows) != 1 || len(rows[0]) != 1 || rows[0][0] != types.DInt(want) {
		t.Fatalf("%s: %v, want %d", sql, rows, want)
	}
}

func wantCode(t *testing.T, sql, code string) {
	t.Helper()
	if _, err := runQuery(t, sql); sqlerr.CodeOf(err) != code {
		t.Fatalf("%s: %v, want %s", sql, err, code)
	}
}

// TestRecursionBound checks that a recursion stops with 54001 after
// maxRecursion iterations, that a LIMIT over an endless recursion reads
// only what it needs, and the UNION form's stop on no new rows.
func TestRecursionBound(t *testing.T) {
	defer func(n int) { maxRecursion = n }(maxRecursion)
	maxRecursion = 50
	wantInt(t, "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 50) SELECT count(*) FROM t", 50)
	wantCode(t, "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 51) SELECT count(*) FROM t", sqlerr.CodeStatementTooComplex)
	wantCode(t, "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n FROM t) SELECT count(*) FROM t", sqlerr.CodeStatementTooComplex)
	// Materialized (referenced twice) as well as streamed.
	wantCode(t, "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n FROM t) SELECT (SELECT count(*) FROM t) + (SELECT count(*) FROM t)", sqlerr.CodeStatementTooComplex)
	wantInt(t, "SELECT count(*) FROM (WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT n FROM t LIMIT 20) AS s", 20)
	wantInt(t, "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT (SELECT max(n) FROM (SELECT n FROM t LIMIT 30) AS a) + (SELECT max(n) FROM (SELECT n FROM t LIMIT 10) AS b)", 40)
	// UNION: a cycle ends when it makes no new row.
	wantInt(t, "WITH RECURSIVE t(n) AS (SELECT 0 UNION SELECT (n + 1) % 7 FROM t) SELECT count(*) FROM t", 7)
}

// TestCTEBounds checks that a materialized CTE's buffer, a recursion's
// working table and its UNION set fail with 53200 past their bounds.
func TestCTEBounds(t *testing.T) {
	defer func(r int, m int64) { maxCTERows, maxCTEMemory = r, m }(maxCTERows, maxCTEMemory)
	maxCTERows = 10
	wantInt(t, "WITH c AS MATERIALIZED (SELECT * FROM generate_series(1, 10)) SELECT count(*) FROM c", 10)
	wantCode(t, "WITH c AS MATERIALIZED (SELECT * FROM generate_series(1, 11)) SELECT count(*) FROM c", sqlerr.CodeOutOfMemory)
	// Inlined (one reference): not buffered.
	wantInt(t, "WITH c AS (SELECT * FROM generate_series(1, 11)) SELECT count(*) FROM c", 11)
	// A LIMIT reads only part of the buffer.
	wantInt(t, "WITH c AS MATERIALIZED (SELECT * FROM generate_series(1, 100)) SELECT count(*) FROM (SELECT * FROM c LIMIT 5) AS s", 5)
	// One iteration making more than 10 rows.
	wantCode(t, "WITH RECURSIVE t(n) AS (SELECT * FROM generate_series(1, 11) UNION ALL SELECT n FROM t WHERE false) SELECT count(*) FROM t", sqlerr.CodeOutOfMemory)
	// The UNION's set of rows seen.
	wantCode(t, "WITH RECURSIVE t(n) AS (SELECT 1 UNION SELECT n + 1 FROM t WHERE n < 20) SELECT count(*) FROM t", sqlerr.CodeOutOfMemory)
	wantInt(t, "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 20) SELECT count(*) FROM t", 20)
	maxCTERows, maxCTEMemory = 1<<20, 1000
	wantCode(t, "WITH c AS MATERIALIZED (SELECT * FROM generate_series(1, 100)) SELECT count(*) FROM c", sqlerr.CodeOutOfMemory)
}

// TestRowCompare checks row comparisons' NULL semantics against what
// PostgreSQL returns.
func TestRowCompare(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want types.Datum
	}{
		{"SELECT (1, NULL) = (2, 3)", types.DFalse},
		{"SELECT (1, NULL) = (1, 3)", types.DNull},
		{"SELECT (1, NULL) <> (2, 3)", types.DTrue},
		{"SELECT (1, NULL) < (2, 3)", types.DTrue},
		{"SELECT (NULL, 1) < (2, 3)", types.DNull},
		{"SELECT (1, 2, 3) <= (1, 2, 3)", types.DTrue},
		{"SELECT (1, 2, 3) < (1, 2, 3)", types.DFalse},
		{"SELECT (1, 2) = (SELECT 1, 2)", types.DTrue},
		{"SELECT (1, NULL) < (SELECT 1, 3)", types.DNull},
		{"SELECT (1, 2) = (SELECT 1, 2 WHERE false)", types.DNull},
		{"SELECT (1, 2) IN (SELECT 1, NULL::int)", types.DNull},
		{"SELECT (1, 2) >= ALL (SELECT 1, 1 UNION ALL SELECT 0, 5)", types.DTrue},
	} {
		rows, err := runQuery(t, tc.sql)
		if err != nil || len(rows) != 1 || rows[0][0] != tc.want {
			t.Errorf("%s: %v, %v; want %v", tc.sql, rows, err, tc.want)
		}
	}
	wantCode(t, "SELECT (1, 2) = (1, 2, 3)", sqlerr.CodeSyntaxError)
	wantCode(t, "SELECT (1, 2) = (SELECT 1)", sqlerr.CodeSyntaxError)
	wantCode(t, "SELECT (1, 2) IN (SELECT 1, 2, 3)", sqlerr.CodeSyntaxError)
	wantCode(t, "SELECT (1, 2) = (SELECT 1, 2 UNION ALL SELECT 1, 2)", "21000")
}

// TestCTEErrors checks the errors of malformed WITH queries and row
// comparisons (and that none of them panics).
func TestCTEErrors(t *testing.T) {
	for _, tc := range []struct{ sql, code string }{
		{"WITH x AS (SELECT 1) SELECT * FROM x AS y(a, b)", codeInvalidColumnReference},
		{"WITH RECURSIVE t(a, b) AS (SELECT 1 UNION ALL SELECT 1 FROM t) SELECT * FROM t", codeInvalidColumnReference},
		{"WITH RECURSIVE t AS (SELECT 1 UNION ALL SELECT 1, 2 FROM t) SELECT * FROM t", sqlerr.CodeSyntaxError},
		{"WITH RECURSIVE t AS (SELECT 1 UNION ALL SELECT * FROM t, t) SELECT * FROM t", codeInvalidRecursion},
		{"WITH RECURSIVE t(n) AS (SELECT 1 INTERSECT SELECT n FROM t) SELECT * FROM t", codeInvalidRecursion},
		{"WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n FROM t WHERE EXISTS (SELECT 1 FROM t)) SELECT * FROM t", codeInvalidRecursion},
		{"WITH x AS (INSERT INTO t VALUES (1) RETURNING 1) SELECT * FROM x", sqlerr.CodeFeatureNotSupported},
		{"SELECT ROW() = ROW()", sqlerr.CodeFeatureNotSupported},
		{"SELECT (1, 2) IN ((1, 2), 3)", sqlerr.CodeSyntaxError},
		{"SELECT (1, 2) IS DISTINCT FROM (1, 2, 3)", sqlerr.CodeSyntaxError},
		{"SELECT (SELECT (1, 2))", sqlerr.CodeFeatureNotSupported},
		{"SELECT 1 = ANY (SELECT)", sqlerr.CodeSyntaxError},
	} {
		wantCode(t, tc.sql, tc.code)
	}
	// A recursive CTE read twice, once in a subquery.
	wantInt(t, "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) SELECT count(*) FROM t WHERE n IN (SELECT n + 1 FROM t)", 2)
}
