package sem

import (
	"strings"
	"time"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// builtin is a built-in function: overloads resolved by argument types,
// or a custom builder for the polymorphic and variadic ones.
type builtin struct {
	overloads []*overload
	// build, if set, builds a call from its built arguments.
	build func(b *Builder, name string, args []Expr) (Expr, error)
}

var builtins = map[string]*builtin{}

func lookupBuiltin(name string) *builtin {
	bi := builtins[name]
	if bi == nil {
		bi = &builtin{}
		builtins[name] = bi
	}
	return bi
}

// def registers an overload of name.
func def(name string, args []*types.Type, ret *types.Type, fn evalFn) *overload {
	o := &overload{args: args, ret: ret, fn: fn}
	bi := lookupBuiltin(name)
	bi.overloads = append(bi.overloads, o)
	return o
}

// defAlias makes name a synonym of target.
func defAlias(name, target string) { builtins[name] = builtins[target] }

// defCustom registers a function with its own builder.
func defCustom(name string, build func(b *Builder, name string, args []Expr) (Expr, error)) {
	lookupBuiltin(name).build = build
}

// tt is shorthand for an argument type list.
func tt(ts ...*types.Type) []*types.Type { return ts }

func (b *Builder) buildFuncCall(fc *pg_query.FuncCall) (Expr, error) {
	var parts []string
	for _, n := range fc.Funcname {
		s, _ := strVal(n)
		parts = append(parts, s)
	}
	name := parts[len(parts)-1]
	schema := ""
	if len(parts) > 1 {
		schema = parts[len(parts)-2]
	}
	builtinSchema := schema == "" || schema == "pg_catalog"
	if fc.Over != nil || (builtinSchema && IsAggregate(name)) {
		if b.AggregateHook == nil {
			if fc.Over != nil {
				return nil, sqlerr.Newf(codeWindowingError, "window functions are not allowed in %s", b.clauseHere())
			}
			return nil, sqlerr.Newf(codeGroupingError, "aggregate functions are not allowed in %s", b.clauseHere())
		}
		return b.AggregateHook(b, fc)
	}
	switch {
	case fc.AggStar:
		return nil, sqlerr.Newf(codeWrongObjectType, "%s(*) specified, but %s is not an aggregate function", name, name)
	case fc.AggDistinct:
		return nil, sqlerr.Newf(codeWrongObjectType, "DISTINCT specified, but %s is not an aggregate function", name)
	case fc.AggFilter != nil:
		return nil, sqlerr.Newf(codeWrongObjectType, "FILTER specified, but %s is not an aggregate function", name)
	case len(fc.AggOrder) > 0:
		return nil, sqlerr.Newf(codeWrongObjectType, "ORDER BY specified, but %s is not an aggregate function", name)
	case fc.AggWithinGroup:
		return nil, sqlerr.Newf(codeWrongObjectType, "WITHIN GROUP specified, but %s is not an aggregate function", name)
	case fc.FuncVariadic:
		return nil, sqlerr.Unsupportedf("VARIADIC arguments are not supported")
	}
	args := make([]Expr, len(fc.Args))
	for i, n := range fc.Args {
		if n.GetNamedArgExpr() != nil {
			return nil, sqlerr.Unsupportedf("named arguments are not supported")
		}
		var err error
		if args[i], err = b.build(n); err != nil {
			return nil, err
		}
	}
	bi := builtins[name]
	if !builtinSchema || bi == nil {
		qualified := name
		if schema != "" {
			qualified = schema + "." + name
		}
		return nil, errUndefinedFunction(qualified, exprTypes(args))
	}
	if bi.build != nil {
		return bi.build(b, name, args)
	}
	return b.callOverload(name, bi.overloads, args)
}

func (b *Builder) clauseHere() string {
	if b.Clause == "" {
		return "this context"
	}
	return b.Clause
}

func exprTypes(es []Expr) []*types.Type {
	ts := make([]*types.Type, len(es))
	for i, e := range es {
		ts[i] = e.Type()
	}
	return ts
}

// callOverload resolves name(args) among overloads and builds the call.
func (b *Builder) callOverload(name string, overloads []*overload, args []Expr) (Expr, error) {
	ts := exprTypes(args)
	ov, ambiguous := resolveOverload(overloads, ts, false)
	if ov == nil {
		if ambiguous {
			return nil, sqlerr.Newf(codeAmbiguousFunction, "function %s(%s) is not unique", name, typeNames(ts)).
				WithHint("Could not choose a best candidate function. You might need to add explicit type casts.")
		}
		return nil, errUndefinedFunction(name, ts)
	}
	for i := range args {
		var err error
		if args[i], err = b.coerce(args[i], ov.args[i]); err != nil {
			return nil, err
		}
	}
	return &FuncExpr{Name: name, Args: args, typ: ov.ret, fn: ov.fn, strict: !ov.nonStrict, vol: ov.vol}, nil
}

// newCall builds a FuncExpr for a custom builder.
func newCall(name string, args []Expr, ret *types.Type, fn evalFn, strict bool, vol Volatility) *FuncExpr {
	return &FuncExpr{Name: name, Args: args, typ: ret, fn: fn, strict: strict, vol: vol}
}

func (b *Builder) buildSQLValueFunction(f *pg_query.SQLValueFunction) (Expr, error) {
	kw := func(name string, t *types.Type, vol Volatility, fn evalFn) Expr {
		return &FuncExpr{Name: name, typ: t, fn: fn, vol: vol, form: formKeyword}
	}
	switch f.Op {
	case pg_query.SQLValueFunctionOp_SVFOP_CURRENT_DATE:
		return kw("CURRENT_DATE", types.Date, Stable, func(ctx *EvalContext, _ []types.Datum) (types.Datum, error) {
			return types.DateFromTime(ctx.txnTime().In(ctx.location()))
		}), nil
	case pg_query.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP, pg_query.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP_N:
		t, err := precisionOf(types.TimestampTZ, f)
		if err != nil {
			return nil, err
		}
		return kw("CURRENT_TIMESTAMP", t, Stable, func(ctx *EvalContext, _ []types.Datum) (types.Datum, error) {
			return roundTo(ctx, makeTSTZ, ctx.txnTime(), t)
		}), nil
	case pg_query.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP, pg_query.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP_N:
		t, err := precisionOf(types.Timestamp, f)
		if err != nil {
			return nil, err
		}
		return kw("LOCALTIMESTAMP", t, Stable, func(ctx *EvalContext, _ []types.Datum) (types.Datum, error) {
			return roundTo(ctx, func(x time.Time) (types.Datum, error) {
				return types.MakeDTimestamp(x.In(ctx.location()))
			}, ctx.txnTime(), t)
		}), nil
	case pg_query.SQLValueFunctionOp_SVFOP_CURRENT_TIME, pg_query.SQLValueFunctionOp_SVFOP_CURRENT_TIME_N,
		pg_query.SQLValueFunctionOp_SVFOP_LOCALTIME, pg_query.SQLValueFunctionOp_SVFOP_LOCALTIME_N:
		return nil, sqlerr.Unsupportedf("type time is not supported")
	case pg_query.SQLValueFunctionOp_SVFOP_CURRENT_ROLE, pg_query.SQLValueFunctionOp_SVFOP_CURRENT_USER,
		pg_query.SQLValueFunctionOp_SVFOP_USER:
		name := map[pg_query.SQLValueFunctionOp]string{pg_query.SQLValueFunctionOp_SVFOP_CURRENT_ROLE: "CURRENT_ROLE",
			pg_query.SQLValueFunctionOp_SVFOP_CURRENT_USER: "CURRENT_USER", pg_query.SQLValueFunctionOp_SVFOP_USER: "USER"}[f.Op]
		return kw(name, types.Name, Stable, func(ctx *EvalContext, _ []types.Datum) (types.Datum, error) {
			return types.DString(ctx.session().User), nil
		}), nil
	case pg_query.SQLValueFunctionOp_SVFOP_SESSION_USER:
		return kw("SESSION_USER", types.Name, Stable, func(ctx *EvalContext, _ []types.Datum) (types.Datum, error) {
			s := ctx.session()
			if s.SessionUser != "" {
				return types.DString(s.SessionUser), nil
			}
			return types.DString(s.User), nil
		}), nil
	case pg_query.SQLValueFunctionOp_SVFOP_CURRENT_CATALOG:
		return kw("CURRENT_CATALOG", types.Name, Stable, currentDatabase), nil
	case pg_query.SQLValueFunctionOp_SVFOP_CURRENT_SCHEMA:
		return kw("CURRENT_SCHEMA", types.Name, Stable, currentSchema), nil
	}
	return nil, sqlerr.Unsupportedf("SQL value function %s is not supported", f.Op)
}

func currentDatabase(ctx *EvalContext, _ []types.Datum) (types.Datum, error) {
	return types.DString(ctx.session().Database), nil
}

func currentSchema(ctx *EvalContext, _ []types.Datum) (types.Datum, error) {
	for _, s := range ctx.session().SearchPath {
		if s != "" && s != "$user" && s != `"$user"` {
			return types.DString(s), nil
		}
	}
	return types.DString("public"), nil
}

func precisionOf(t *types.Type, f *pg_query.SQLValueFunction) (*types.Type, error) {
	switch f.Op {
	case pg_query.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP_N, pg_query.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP_N:
		if t.Family() == types.TimestampTZFamily {
			return types.TimestampTZType(f.Typmod)
		}
		return types.TimestampType(f.Typmod)
	}
	return t, nil
}

// roundTo makes a timestamp datum of t and rounds it to t's precision.
func roundTo(ctx *EvalContext, mk func(time.Time) (types.Datum, error), at time.Time, t *types.Type) (types.Datum, error) {
	d, err := mk(at)
	if err != nil || t.Precision() < 0 {
		return d, err
	}
	return types.Caster{Context: types.CoercionAssignment, Settings: ctx.settings()}.Cast(d, nil, t)
}

// aggregateNames are the aggregate functions PostgreSQL has that a query
// may name; Builder hands their calls to AggregateHook.
var aggregateNames = map[string]bool{
	"count": true, "sum": true, "avg": true, "min": true, "max": true,
	"bool_and": true, "bool_or": true, "every": true, "string_agg": true, "array_agg": true,
	"jsonb_agg": true, "json_agg": true, "jsonb_object_agg": true, "json_object_agg": true,
	"bit_and": true, "bit_or": true, "bit_xor": true,
	"stddev": true, "stddev_pop": true, "stddev_samp": true,
	"variance": true, "var_pop": true, "var_samp": true,
	"corr": true, "covar_pop": true, "covar_samp": true,
	"regr_avgx": true, "regr_avgy": true, "regr_count": true, "regr_intercept": true,
	"regr_r2": true, "regr_slope": true, "regr_sxx": true, "regr_sxy": true, "regr_syy": true,
	"percentile_cont": true, "percentile_disc": true, "mode": true,
	"any_value": true, "xmlagg": true,
}

// IsAggregate reports whether name is an aggregate function.
func IsAggregate(name string) bool { return aggregateNames[strings.ToLower(name)] }

// AggregateType returns the result type of the aggregate name over
// arguments of types args, as PostgreSQL's catalog has it: count is
// bigint; sum of smallint or integer is bigint, of bigint numeric, of
// float4/float8/numeric/interval the same; avg of integers and numeric is
// numeric, of floats double precision, of interval interval; min and max
// the argument's type; bool_and, bool_or, every boolean; string_agg text
// (or bytea); array_agg an array of the argument; jsonb_agg and
// jsonb_object_agg jsonb. An unsupported combination is 42883.
func AggregateType(name string, args []*types.Type) (*types.Type, error) {
	name = strings.ToLower(name)
	bad := func() (*types.Type, error) { return nil, errUndefinedFunction(name, args) }
	arg := func(i int) *types.Type {
		if i < len(args) {
			return args[i]
		}
		return nil
	}
	a := arg(0)
	switch name {
	case "count", "regr_count":
		return types.Int8, nil
	}
	if a == nil {
		return bad()
	}
	if isUnknown(a) {
		a = types.Text
	}
	switch name {
	case "sum":
		switch a.Oid() {
		case types.OidInt2, types.OidInt4:
			return types.Int8, nil
		case types.OidInt8, types.OidNumeric:
			return types.Numeric, nil
		case types.OidFloat4, types.OidFloat8, types.OidInterval:
			return a.WithoutModifiers(), nil
		}
	case "avg":
		switch a.Family() {
		case types.IntFamily, types.NumericFamily:
			return types.Numeric, nil
		case types.FloatFamily:
			return types.Float8, nil
		case types.IntervalFamily:
			return types.Interval, nil
		}
	case "any_value":
		return a, nil
	case "min", "max":
		switch a.Family() {
		case types.BoolFamily, types.JSONFamily:
			return bad()
		case types.ArrayFamily:
			return a, nil
		}
		if _, err := resolveBinaryOp("<", a, a); err == nil {
			return a, nil
		}
	case "bool_and", "bool_or", "every":
		if a.Family() == types.BoolFamily {
			return types.Bool, nil
		}
	case "string_agg":
		if len(args) == 2 {
			if a.Family() == types.BytesFamily {
				return types.Bytes, nil
			}
			if a.Family() == types.StringFamily {
				return types.Text, nil
			}
		}
	case "array_agg":
		if a.Family() == types.ArrayFamily {
			return nil, sqlerr.Unsupportedf("multidimensional arrays are not supported")
		}
		return types.ArrayOf(a), nil
	case "jsonb_agg", "json_agg", "jsonb_object_agg", "json_object_agg":
		return types.JSONB, nil
	case "bit_and", "bit_or", "bit_xor":
		if a.Family() == types.IntFamily {
			return a, nil
		}
	case "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp":
		switch a.Family() {
		case types.IntFamily, types.NumericFamily:
			return types.Numeric, nil
		case types.FloatFamily:
			return types.Float8, nil
		}
	}
	return bad()
}
