package sem

import (
	"context"
	"sync"
	"testing"
	"time"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

func colIdx(name string) int {
	for i, c := range testColumns {
		if c.name == name {
			return i
		}
	}
	panic(name)
}

func TestParamTyping(t *testing.T) {
	for _, tc := range []struct {
		sql     string
		given   []*types.Type
		desired *types.Type
		want    []string // inferred type names, "unknown" for none
	}{
		{"$1 + 1", nil, nil, []string{"integer"}},
		{"i = $1", nil, nil, []string{"integer"}},
		{"$1 = b", nil, nil, []string{"bigint"}},
		{"txt LIKE $1", nil, nil, []string{"text"}},
		{"$1::int8", nil, nil, []string{"bigint"}},
		{"ts > $1", nil, nil, []string{"timestamp without time zone"}},
		{"$1 = $2", nil, nil, []string{"text", "text"}},
		{"$1 IS NULL", nil, nil, []string{"unknown"}},
		{"$1", nil, nil, []string{"text"}},
		{"$1", nil, types.Int4, []string{"integer"}},
		{"$1", nil, mustType("numeric(10,2)"), []string{"numeric"}},
		{"i = ANY($1)", nil, nil, []string{"integer[]"}},
		{"$1 + $1", []*types.Type{types.Int8}, nil, []string{"bigint"}},
		{"lower($1)", nil, nil, []string{"text"}},
		{"substr($1, $2)", nil, nil, []string{"text", "integer"}},
		{"$1 || 'x'", nil, nil, []string{"text"}},
		{"COALESCE($1, 5)", nil, nil, []string{"integer"}},
		{"CASE WHEN $1 THEN 1 END", nil, nil, []string{"boolean"}},
		{"$1 IN (1, 2)", nil, nil, []string{"integer"}},
		{"$1 BETWEEN 1 AND 10", nil, nil, []string{"integer"}},
		{"NOT $1", nil, nil, []string{"boolean"}},
		{"jsonb_build_object('a', $1)", nil, nil, []string{"text"}},
		{"now() - $1", nil, nil, []string{"timestamp with time zone"}},
		{"$2 > 0", nil, nil, []string{"unknown", "integer"}},
		{"arr[$1]", nil, nil, []string{"integer"}},
		{"j -> $1", nil, nil, []string{"text"}},
	} {
		b := newTestBuilder()
		b.ParamTypes = append([]*types.Type(nil), tc.given...)
		if _, err := b.Build(parseExpr(t, tc.sql), tc.desired); err != nil {
			t.Errorf("%s: %v", tc.sql, err)
			continue
		}
		var got []string
		for _, pt := range b.ParamTypes {
			if pt == nil {
				pt = types.Unknown
			}
			got = append(got, pt.Name())
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: params %v, want %v", tc.sql, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: params %v, want %v", tc.sql, got, tc.want)
				break
			}
		}
		unresolved := false
		for _, w := range tc.want {
			unresolved = unresolved || w == "unknown"
		}
		if err := b.CheckParams(); (err != nil) != unresolved || (err != nil && sqlerr.CodeOf(err) != CodeIndeterminateDatatype) {
			t.Errorf("%s: CheckParams = %v", tc.sql, err)
		}
	}
	// Errors.
	for sql, want := range map[string]string{
		"d + $1":              "ERROR 42725: operator is not unique: date + unknown",
		"$1 = i AND $1 = txt": "ERROR 42883: operator does not exist: integer = text",
		"$0":                  "ERROR 42P02: there is no parameter $0",
	} {
		_, err := newTestBuilder().Build(parseExpr(t, sql), nil)
		if got := errString(err); err == nil || got != want {
			t.Errorf("%s: %v, want %s", sql, err, want)
		}
	}
	// Evaluation with parameters.
	for _, tc := range []struct {
		sql    string
		params []types.Datum
		want   string
	}{
		{"$1 + 1", []types.Datum{types.DInt(41)}, "42"},
		{"txt LIKE $1", []types.Datum{types.DString("Hello%")}, "t"},
		{"i = ANY($1)", []types.Datum{types.NewDArray(types.Int4, []types.Datum{types.DInt(7)})}, "t"},
		{"$1 + 1", []types.Datum{types.DString("5")}, "6"}, // text from a session that did not convert
		{"$1 + 1", nil, "ERROR 08P01: there is no parameter $1"},
		{"COALESCE($1, 'none')", []types.Datum{types.DNull}, "none"},
	} {
		if got := evalSQL(t, tc.sql, tc.params...); got != tc.want {
			t.Errorf("%s %v: %s, want %s", tc.sql, tc.params, got, tc.want)
		}
	}
}

func TestBuildCondition(t *testing.T) {
	for sql, want := range map[string]string{
		"i > 1": "", "'t'": "", "NULL": "", "bo": "", "nulb": "",
		"i + 1": "ERROR 42804: argument of WHERE must be type boolean, not type integer",
		"txt":   "ERROR 42804: argument of WHERE must be type boolean, not type text",
		"'x'":   `ERROR 22P02: invalid input syntax for type boolean: "x"`,
	} {
		e, err := newTestBuilder().BuildCondition(parseExpr(t, sql))
		got := ""
		if err != nil {
			got = errString(err)
		} else if e.Type() != types.Bool {
			got = "type " + e.Type().Name()
		}
		if got != want {
			t.Errorf("%s: %s, want %s", sql, got, want)
		}
	}
}

func TestHooks(t *testing.T) {
	var calls []string
	b := newTestBuilder()
	b.AggregateHook = func(b *Builder, call *pg_query.FuncCall) (Expr, error) {
		name, _ := strVal(call.Funcname[len(call.Funcname)-1])
		calls = append(calls, name)
		// The planner builds the arguments with the same builder.
		if len(call.Args) > 0 {
			arg, err := b.Build(call.Args[0], nil)
			if err != nil {
				return nil, err
			}
			t, err := AggregateType(name, []*types.Type{arg.Type()})
			if err != nil {
				return nil, err
			}
			return &ColumnRef{Idx: 0, Typ: t, Name: "agg"}, nil
		}
		return &ColumnRef{Idx: 0, Typ: types.Int8, Name: "agg"}, nil
	}
	b.SubqueryHook = func(b *Builder, link *pg_query.SubLink) (Expr, error) {
		return &Const{Datum: types.DTrue, Typ: types.Bool}, nil
	}
	e, err := b.Build(parseExpr(t, "sum(i) + count(*) FILTER (WHERE bo)"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.Type() != types.Int8 || len(calls) != 2 || calls[0] != "sum" || calls[1] != "count" {
		t.Fatalf("type %s, calls %v", e.Type(), calls)
	}
	e, err = b.Build(parseExpr(t, "avg(n)"), nil)
	if err != nil || e.Type() != types.Numeric {
		t.Fatalf("avg: %v %v", e, err)
	}
	if _, err := b.Build(parseExpr(t, "i IN (SELECT 1) AND EXISTS (SELECT 1)"), nil); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"count": "bigint", "sum": "bigint", "avg": "numeric",
		"min": "integer", "bool_and": "ERROR 42883: function bool_and(integer) does not exist", "array_agg": "integer[]"} {
		got, err := AggregateType(name, []*types.Type{types.Int4})
		s := ""
		if err != nil {
			s = errString(err)
		} else {
			s = got.Name()
		}
		if s != want {
			t.Errorf("AggregateType(%s, int4) = %s, want %s", name, s, want)
		}
	}
	if !IsAggregate("COUNT") || IsAggregate("lower") {
		t.Error("IsAggregate")
	}
}

func TestCoerce(t *testing.T) {
	b := newTestBuilder()
	build := func(sql string) Expr {
		e, err := b.build(parseExpr(t, sql))
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return e
	}
	for _, tc := range []struct {
		sql  string
		to   *types.Type
		cc   types.CoercionContext
		want string
	}{
		{"'5'", types.Int4, types.CoercionAssignment, "5"},
		{"NULL", types.Int4, types.CoercionAssignment, "NULL"},
		{"txt", types.Int4, types.CoercionAssignment, "ERROR 42804: expression is of type text, which cannot be converted to integer"},
		{"i", types.Int8, types.CoercionImplicit, "7"},
		{"b", types.Int4, types.CoercionAssignment, "ERROR 22003: integer out of range"},
		{"n", mustType("numeric(5,1)"), types.CoercionAssignment, "12.5"},
		{"f", types.Numeric, types.CoercionAssignment, "2.5"},
		{"f", types.Numeric, types.CoercionImplicit, "ERROR 42804: expression is of type double precision, which cannot be converted to numeric"},
		{"'abcdefghijkl'", mustType("varchar(10)"), types.CoercionAssignment, "ERROR 22001: value too long for type character varying(10)"},
		{"txt", mustType("varchar(3)"), types.CoercionAssignment, "ERROR 22001: value too long for type character varying(3)"},
		{"txt", mustType("varchar(3)"), types.CoercionExplicit, "Hel"},
		{"i", types.Text, types.CoercionAssignment, "7"},
		{"d", types.Int4, types.CoercionExplicit, "ERROR 42846: cannot cast type date to integer"},
	} {
		e, err := b.Coerce(build(tc.sql), tc.to, tc.cc)
		var got string
		if err != nil {
			got = errString(err)
		} else {
			d, err := e.Eval(testEvalContext(), testRow())
			switch {
			case err != nil:
				got = errString(err)
			case d == types.DNull:
				got = "NULL"
			default:
				got = types.FormatText(d, e.Type(), nil)
			}
			if err == nil && !e.Type().Identical(tc.to) {
				t.Errorf("%s to %s: type %s", tc.sql, tc.to.Name(), e.Type().Name())
			}
		}
		if got != tc.want {
			t.Errorf("%s to %s: %s, want %s", tc.sql, tc.to.Name(), got, tc.want)
		}
	}
	if ct, err := CommonType([]*types.Type{types.Int4, types.Unknown, types.Numeric, types.Int8}, "UNION"); err != nil || ct != types.Numeric {
		t.Errorf("CommonType: %v %v", ct, err)
	}
	if _, err := CommonType([]*types.Type{types.Int4, types.Text}, "UNION"); errString(err) != "ERROR 42804: UNION types integer and text cannot be matched" {
		t.Errorf("CommonType error: %v", err)
	}
	if ct, _ := CommonType([]*types.Type{types.Date, types.TimestampTZ, types.Timestamp}, "VALUES"); ct != types.TimestampTZ {
		t.Errorf("CommonType of dates: %v", ct)
	}
}

func TestString(t *testing.T) {
	for sql, want := range map[string]string{
		"i + 1 > 5":                             "((i + 1) > 5)",
		"txt = 'x'":                             "(txt = 'x'::text)",
		"lower(txt)":                            "lower(txt)",
		"i IN (1, 2)":                           "(i IN (1, 2))",
		"i = 1 AND (bo OR nul IS NULL)":         "((i = 1) AND (bo OR (nul IS NULL)))",
		"CASE WHEN i > 1 THEN 'a' ELSE 'b' END": "CASE WHEN (i > 1) THEN 'a'::text ELSE 'b'::text END",
		"COALESCE(nul, 1)":                      "COALESCE(nul, 1)",
		"current_date":                          "CURRENT_DATE",
		"i::text":                               "(i)::text",
		"t.dup":                                 "t.dup",
		"i = ANY(arr)":                          "(i = ANY (arr))",
		"NOT bo":                                "(NOT bo)",
		"- i":                                   "(- i)",
		"'x' || i":                              "('x'::text || (i)::text)",
		"1.5":                                   "1.5",
		"-1.5":                                  "'-1.5'::numeric",
		"nul IS DISTINCT FROM 1":                "(nul IS DISTINCT FROM 1)",
	} {
		e, err := newTestBuilder().Build(parseExpr(t, sql), nil)
		if err != nil {
			t.Errorf("%s: %v", sql, err)
			continue
		}
		if got := e.String(); got != want {
			t.Errorf("%s: %s, want %s", sql, got, want)
		}
	}
}

func TestConstFold(t *testing.T) {
	for sql, want := range map[string]string{
		"1 + 2":                          "3",
		"i > 1 + 1":                      "(i > 2)",
		"'2024-01-01'::date + 1":         "'2024-01-02'::date",
		"false AND i > 1":                "false",
		"true AND i > 1":                 "(i > 1)",
		"i > 1 OR true":                  "true",
		"i > 1 AND NULL":                 "((i > 1) AND NULL::boolean)",
		"now() > tz":                     "(now() > tz)",
		"1 / 0":                          "(1 / 0)",
		"random() < 2":                   "(random() < '2'::double precision)",
		"COALESCE(NULL, i, 3)":           "COALESCE(i, 3)",
		"COALESCE(NULL, 3, i)":           "3",
		"b = 5":                          "(b = 5::bigint)",
		"upper('a') || lower(txt)":       "('A'::text || lower(txt))",
		"'2024-01-01'::timestamptz < tz": "('2024-01-01 00:00:00+00'::timestamp with time zone < tz)",
	} {
		e, err := newTestBuilder().Build(parseExpr(t, sql), nil)
		if err != nil {
			t.Errorf("%s: %v", sql, err)
			continue
		}
		if got := ConstFold(e).String(); got != want {
			t.Errorf("%s: %s, want %s", sql, got, want)
		}
	}
	b := newTestBuilder()
	e, err := b.Build(parseExpr(t, "tz < now() + $1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if IsConst(e) || IsRowIndependent(e) {
		t.Error("IsConst/IsRowIndependent of a column comparison")
	}
	ctx := testEvalContext(types.DInterval{Days: 1})
	if got := FoldStable(ctx, e).String(); got != "(tz < '2024-05-18 13:45:30.123456+00'::timestamp with time zone)" {
		t.Errorf("FoldStable: %s", got)
	}
	c, _ := newTestBuilder().Build(parseExpr(t, "upper('x') || 1"), nil)
	if !IsConst(c) {
		t.Error("IsConst(upper('x') || 1)")
	}
	p, err := newTestBuilder().Build(parseExpr(t, "$1 + extract(year from now())"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if IsConst(p) || !IsRowIndependent(p) {
		t.Error("a parameter is row-independent but not constant")
	}
}

func TestColumnComparison(t *testing.T) {
	for sql, want := range map[string]struct {
		col, op, value string
	}{
		"i = 5":                {"i", "=", "5"},
		"5 < i":                {"i", ">", "5"},
		"i >= $1":              {"i", ">=", "$1"},
		"b = 5":                {"b", "=", "5::bigint"},
		"i = 5000000000":       {"i", "=", "5000000000::bigint"},
		"i IN (1, 2)":          {"i", OpIn, "ARRAY[1, 2]"},
		"i = ANY($1)":          {"i", OpIn, "$1"},
		"i IS NULL":            {"i", OpIsNull, ""},
		"i IS NOT NULL":        {"i", OpIsNotNull, ""},
		"bo":                   {"bo", "=", "true"},
		"NOT bo":               {"bo", "=", "false"},
		"txt = 'x'":            {"txt", "=", "'x'::text"},
		"v = 'abc'":            {"v", "=", "'abc'::text"},
		"c = 'ab'":             {"c", "=", "'ab'::bpchar"},
		"n = 12.5":             {"n", "=", "12.5"},
		"d >= '2024-01-01'":    {"d", ">=", "'2024-01-01'::date"},
		"tz < now()":           {"tz", "<", "now()"},
		"i + 1 = 5":            {},
		"i = s":                {},
		"i = random()::int":    {},
		"i <> 5":               {},
		"i NOT IN (1)":         {},
		"i = 1.5":              {},
		"ts > now()":           {},
		"i > 1 OR i < 0":       {},
		"i = ALL(ARRAY[1, 2])": {},
	} {
		e, err := newTestBuilder().Build(parseExpr(t, sql), nil)
		if err != nil {
			t.Errorf("%s: %v", sql, err)
			continue
		}
		e = ConstFold(e)
		idx, op, v, ok := ColumnComparison(e)
		if ok != (want.col != "") {
			t.Errorf("%s: ok = %v", sql, ok)
			continue
		}
		if !ok {
			continue
		}
		vs := ""
		if v != nil {
			vs = v.String()
		}
		if idx != colIdx(want.col) || op != want.op || vs != want.value {
			t.Errorf("%s: (%s, %s, %s), want (%s, %s, %s)", sql, testColumns[idx].name, op, vs, want.col, want.op, want.value)
		}
	}
	e, _ := newTestBuilder().Build(parseExpr(t, "i = 1 AND (b > 2 AND txt LIKE 'a%') AND i BETWEEN 1 AND 5"), nil)
	parts := SplitConjuncts(e)
	if len(parts) != 5 {
		t.Fatalf("SplitConjuncts: %d parts: %v", len(parts), parts)
	}
	if Conjoin(parts).String() != e.String() {
		t.Errorf("Conjoin: %s", Conjoin(parts))
	}
}

func TestConcurrentEval(t *testing.T) {
	e, err := newTestBuilder().Build(parseExpr(t,
		"CASE WHEN txt ~ 'W.r' THEN lower(txt) || (n / 3)::text ELSE '' END || (j ->> 's') || to_char(ts, 'YYYY')"), nil)
	if err != nil {
		t.Fatal(err)
	}
	row := testRow()
	want, err := e.Eval(testEvalContext(), row)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := testEvalContext()
			for i := 0; i < 200; i++ {
				got, err := e.Eval(ctx, row)
				if err != nil || types.Compare(got, want) != 0 {
					t.Errorf("concurrent eval: %v %v", got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestCancel(t *testing.T) {
	e, err := newTestBuilder().Build(parseExpr(t, "repeat('x', 10)"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	ctx := testEvalContext()
	ctx.Ctx = cctx
	if _, err := e.Eval(ctx, nil); sqlerr.CodeOf(err) != sqlerr.CodeQueryCanceled {
		t.Fatalf("canceled eval: %v", err)
	}
}

func TestDepthLimit(t *testing.T) {
	sql := "1"
	for i := 0; i < 1200; i++ {
		sql = "(" + sql + " + 1)"
	}
	_, err := newTestBuilder().Build(parseExpr(t, sql), nil)
	if sqlerr.CodeOf(err) != "54001" {
		t.Fatalf("deep expression: %v", err)
	}
}

func TestTimeZone(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone database")
	}
	b := newTestBuilder()
	b.Settings = &types.Settings{Location: ny}
	for sql, want := range map[string]string{
		// Across the DST change: a day is a calendar day, 24 hours are 24 hours.
		"'2024-03-09 12:00:00'::timestamptz + interval '1 day'":    "2024-03-10 12:00:00-04",
		"'2024-03-09 12:00:00'::timestamptz + interval '24 hours'": "2024-03-10 13:00:00-04",
		"date_trunc('day', '2024-03-10 12:00:00-04'::timestamptz)": "2024-03-10 00:00:00-05",
		"extract(hour from '2024-03-10 16:00:00+00'::timestamptz)": "12",
		"'2024-03-10 16:00:00+00'::timestamptz::date":              "2024-03-10",
		"current_date": "2024-05-17",
		"to_char('2024-07-01 12:00:00+00'::timestamptz, 'HH24 TZ OF')": "08 EDT -04",
	} {
		e, err := b.Build(parseExpr(t, sql), nil)
		if err != nil {
			t.Errorf("%s: %v", sql, err)
			continue
		}
		ctx := testEvalContext()
		ctx.Settings = b.Settings
		d, err := e.Eval(ctx, testRow())
		if err != nil {
			t.Errorf("%s: %v", sql, err)
			continue
		}
		if got := types.FormatText(d, e.Type(), ctx.Settings); got != want {
			t.Errorf("%s: %s, want %s", sql, got, want)
		}
	}
}
