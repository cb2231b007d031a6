package sem

import (
	"fmt"
	"strings"
	"testing"
	"time"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/sql/parser"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// testColumn is a column of the test scope.
type testColumn struct {
	table, name string
	typ         *types.Type
	value       string // text input; "NULL" for NULL
}

func mustType(s string) *types.Type {
	t, err := types.TypeByName(s)
	if err != nil {
		panic(err)
	}
	return t
}

var testColumns = []testColumn{
	{"t", "i", types.Int4, "7"},
	{"t", "b", types.Int8, "9000000000"},
	{"t", "s", types.Int2, "3"},
	{"t", "n", mustType("numeric(10,2)"), "12.50"},
	{"t", "f", types.Float8, "2.5"},
	{"t", "txt", types.Text, "Hello World"},
	{"t", "v", mustType("varchar(10)"), "abc"},
	{"t", "c", mustType("char(5)"), "ab"},
	{"t", "bo", types.Bool, "true"},
	{"t", "d", types.Date, "2024-02-29"},
	{"t", "ts", types.Timestamp, "2024-01-31 10:30:00"},
	{"t", "tz", types.TimestampTZ, "2024-03-10 12:00:00+00"},
	{"t", "iv", types.Interval, "1 day 02:00:00"},
	{"t", "j", types.JSONB, `{"a": 1, "b": [1, 2, {"c": "x"}], "s": "str", "n": null}`},
	{"t", "arr", types.Int4Array, "{1,2,3}"},
	{"t", "tarr", types.TextArray, `{a,NULL,c}`},
	{"t", "u", types.UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
	{"t", "by", types.Bytes, `\x0102ff`},
	{"t", "nul", types.Int4, "NULL"},
	{"t", "nulb", types.Bool, "NULL"},
	{"t", "nult", types.Text, "NULL"},
	{"t", "dup", types.Int4, "1"},
	{"u", "dup", types.Int4, "2"},
}

type testScope struct{}

func (testScope) ResolveColumn(qual []string, name string) (int, *types.Type, error) {
	found := -1
	for i, c := range testColumns {
		if c.name != name || (len(qual) > 0 && qual[len(qual)-1] != c.table) {
			continue
		}
		if found >= 0 {
			return 0, nil, sqlerr.Newf(CodeAmbiguousColumn, "column reference %q is ambiguous", name)
		}
		found = i
	}
	if found < 0 {
		return 0, nil, sqlerr.Newf(sqlerr.CodeUndefinedColumn, "column %q does not exist", name)
	}
	return found, testColumns[found].typ, nil
}

func testRow() []types.Datum {
	row := make([]types.Datum, len(testColumns))
	for i, c := range testColumns {
		if c.value == "NULL" {
			row[i] = types.DNull
			continue
		}
		d, err := types.ParseText(c.value, c.typ, nil)
		if err != nil {
			panic(fmt.Sprintf("%s: %v", c.name, err))
		}
		row[i] = d
	}
	return row
}

var testTxnTime = time.Date(2024, 5, 17, 13, 45, 30, 123456000, time.UTC)

func testEvalContext(params ...types.Datum) *EvalContext {
	return &EvalContext{
		Params:       params,
		TxnTimestamp: testTxnTime,
		Clock:        func() time.Time { return testTxnTime.Add(time.Second) },
		Session: &SessionInfo{Database: "defaultdb", User: "alice", SessionUser: "root",
			SearchPath: []string{"$user", "public"}, Version: "PostgreSQL 16.0 (cairn)"},
	}
}

// parseExpr parses "SELECT <expr>" and returns the expression node.
func parseExpr(t testing.TB, sql string) *pg_query.Node {
	t.Helper()
	stmt, err := parser.ParseOne("SELECT " + sql)
	if err != nil {
		t.Fatalf("parse %q: %v", sql, err)
	}
	return stmt.AST.GetSelectStmt().TargetList[0].GetResTarget().Val
}

func newTestBuilder() *Builder {
	return &Builder{Scope: testScope{}, Clause: "WHERE"}
}

// evalSQL builds and evaluates expr and returns its text output, "NULL",
// or "ERROR <code>: <message>".
func evalSQL(t testing.TB, sql string, params ...types.Datum) string {
	t.Helper()
	b := newTestBuilder()
	e, err := b.Build(parseExpr(t, sql), nil)
	if err != nil {
		return errString(err)
	}
	ctx := testEvalContext(params...)
	d, err := e.Eval(ctx, testRow())
	if err != nil {
		return errString(err)
	}
	// Folding must not change the value.
	if IsConst(e) {
		if c, ok := ConstFold(e).(*Const); ok && types.Compare(c.Datum, d) != 0 {
			t.Errorf("%s: folded to %v, evaluated to %v", sql, c.Datum, d)
		}
	}
	if d == types.DNull {
		return "NULL"
	}
	return types.FormatText(d, e.Type(), ctx.Settings)
}

func errString(err error) string {
	msg := err.Error()
	msg = strings.TrimSuffix(msg, " (SQLSTATE "+sqlerr.CodeOf(err)+")")
	return "ERROR " + sqlerr.CodeOf(err) + ": " + msg
}

type evalCase struct {
	sql, want string
}

func runEvalCases(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, tc := range cases {
		got := evalSQL(t, tc.sql)
		if got != tc.want && !(strings.HasSuffix(tc.want, "…") && strings.HasPrefix(got, strings.TrimSuffix(tc.want, "…"))) {
			t.Errorf("%s\n got: %s\nwant: %s", tc.sql, got, tc.want)
		}
	}
}

// typeOf builds sql and returns its type's name.
func typeOf(t testing.TB, sql string) string {
	t.Helper()
	e, err := newTestBuilder().Build(parseExpr(t, sql), nil)
	if err != nil {
		return errString(err)
	}
	return e.Type().Name()
}
