package sem

import (
	"fmt"
	"math"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// Scope resolves column references while an expression is built.
type Scope interface {
	// ResolveColumn resolves a column name, qualified by qualifier (nil,
	// [table], [schema, table] or [db, schema, table]), to an index into
	// the input row and the column's type. It returns a *sqlerr.Error
	// 42703 undefined_column or 42702 ambiguous_column (CodeAmbiguousColumn).
	ResolveColumn(qualifier []string, name string) (idx int, typ *types.Type, err error)
}

// Builder turns pg_query expression nodes into typed Exprs, resolving
// names through Scope, operators and functions through the built-in
// tables, and literal and parameter types from context. A Builder serves
// one statement; it is not safe for concurrent use.
type Builder struct {
	// Scope resolves column references; nil means there are none (every
	// column reference fails with 42703).
	Scope Scope
	// ParamTypes are the types of $1, $2, ...: on input those the client
	// specified (nil or types.Unknown for "infer"), on output those
	// inferred from context as well. A parameter used without any
	// context keeps Unknown; CheckParams reports it.
	ParamTypes []*types.Type
	// Settings are the session's, for reading typed literals
	// ('2024-01-01 10:00'::timestamptz reads in the session TimeZone).
	Settings *types.Settings
	// Clause names the clause being built, for error messages:
	// "WHERE", "HAVING", "JOIN/ON", "VALUES"...
	Clause string
	// AggregateHook is called for a call of an aggregate function and
	// for any call with OVER (a window function): the planner builds its
	// argument expressions (with this Builder or another) and returns an
	// expression that stands for its result, typically a ColumnRef into
	// the aggregation's output. nil means aggregates are not allowed
	// here (42803, or 42P20 for window functions).
	AggregateHook func(b *Builder, call *pg_query.FuncCall) (Expr, error)
	// SubqueryHook is called for a subquery (EXISTS, IN, ANY/ALL, a
	// scalar subquery, ARRAY(...)). nil means subqueries are not
	// supported here (0A000).
	SubqueryHook func(b *Builder, link *pg_query.SubLink) (Expr, error)
	// OuterHook, if set, resolves a column name that Scope does not know
	// against the scopes of enclosing queries (a correlated subquery):
	// it returns the expression that reads the outer column, or false.
	OuterHook func(qualifier []string, name string) (Expr, bool)

	depth int
}

// maxDepth bounds the nesting of an expression, so that building and
// evaluating cannot exhaust the stack.
const maxDepth = 1000

// maxParams is the largest parameter number, as the wire protocol's
// int16 count of parameter types allows.
const maxParams = 65535

// Build builds the expression n. desired, if not nil, is the type the
// context expects: an untyped literal, a parameter or an empty ARRAY[] at
// the top of n takes it (a string literal is read as a value of it); any
// other expression keeps its own type, and the caller converts it (see
// Coerce). With desired nil, a top-level untyped literal becomes text, as
// in a SELECT list.
func (b *Builder) Build(n *pg_query.Node, desired *types.Type) (Expr, error) {
	var e Expr
	var err error
	if arr := n.GetAArrayExpr(); arr != nil && desired != nil && desired.Family() == types.ArrayFamily {
		e, err = b.buildArray(arr, desired.Elem())
	} else {
		e, err = b.build(n)
	}
	if err != nil {
		return nil, err
	}
	if isUnknown(e.Type()) {
		t := desired
		if t == nil || isUnknown(t) {
			t = types.Text
		}
		return b.coerceUnknown(e, t, types.CoercionAssignment)
	}
	return e, nil
}

// BuildUnresolved is Build without resolving an unknown-typed result (a
// NULL or string literal): its type stays Unknown for the caller to
// resolve from context, as a set operation does with its inputs' columns
// (SELECT 1 UNION SELECT NULL is an integer column). Coerce resolves it.
func (b *Builder) BuildUnresolved(n *pg_query.Node) (Expr, error) {
	return b.build(n)
}

// BuildCondition builds a WHERE, HAVING, ON or CHECK condition: the result
// must be boolean (42804 "argument of WHERE must be type boolean, not
// type integer", naming b.Clause).
func (b *Builder) BuildCondition(n *pg_query.Node) (Expr, error) {
	e, err := b.Build(n, types.Bool)
	if err != nil {
		return nil, err
	}
	if e.Type().Family() != types.BoolFamily {
		return nil, sqlerr.Newf(sqlerr.CodeDatatypeMismatch, "argument of %s must be type boolean, not type %s",
			b.clause(), e.Type().Name())
	}
	return e, nil
}

func (b *Builder) clause() string {
	if b.Clause == "" {
		return "expression"
	}
	return b.Clause
}

// CheckParams returns 42P18 if a parameter's type is still unknown: it was
// used only where nothing said what it is ("$1 IS NULL"), or not at all.
// Call it once the whole statement is built.
func (b *Builder) CheckParams() error {
	for i, t := range b.ParamTypes {
		if t == nil || isUnknown(t) {
			return sqlerr.Newf(codeIndeterminateDatatype, "could not determine data type of parameter $%d", i+1)
		}
	}
	return nil
}

// Coerce converts e to type to as context cc allows: an untyped literal or
// parameter takes the type (a literal is read as a value of it); an
// expression of another type gets a cast if PostgreSQL has one in cc,
// else the result is 42804 (42846 for an explicit context). In an
// assignment this is how a value meets its column (INSERT, UPDATE).
func (b *Builder) Coerce(e Expr, to *types.Type, cc types.CoercionContext) (Expr, error) {
	from := e.Type()
	if isUnknown(from) {
		return b.coerceUnknown(e, to, cc)
	}
	if from.Identical(to) || (sameType(from, to) && to.WithoutModifiers() == to) {
		return e, nil
	}
	if !types.CanCast(from, to, cc) {
		if cc == types.CoercionExplicit {
			return nil, sqlerr.Newf(sqlerr.CodeCannotCoerce, "cannot cast type %s to %s", from.Name(), to.Name())
		}
		return nil, sqlerr.Newf(sqlerr.CodeDatatypeMismatch, "expression is of type %s, which cannot be converted to %s", from.Name(), to.Name()).
			WithHint("You will need to rewrite or cast the expression.")
	}
	if (from.Oid() == types.OidRegClass || from.Family() == types.ArrayFamily && from.Elem().Oid() == types.OidRegClass) &&
		to.Family() == types.StringFamily {
		return b.buildRegClassToText(e, to, cc)
	}
	return &CastExpr{Arg: e, Typ: to, Context: cc, vol: castVolatility(from, to)}, nil
}

// coerceUnknown gives an untyped literal or parameter the type t.
func (b *Builder) coerceUnknown(e Expr, t *types.Type, cc types.CoercionContext) (Expr, error) {
	switch x := e.(type) {
	case *Const:
		if x.Datum == types.DNull || isUnknown(t) {
			return &Const{Datum: x.Datum, Typ: t}, nil
		}
		s, _ := x.Datum.(types.DString)
		d, err := b.readLiteral(string(s), t, cc)
		if err != nil {
			return nil, err
		}
		return &Const{Datum: d, Typ: t}, nil
	case *Param:
		if isUnknown(t) {
			return x, nil
		}
		pt := t.WithoutModifiers()
		if err := b.setParamType(x.Idx, pt); err != nil {
			return nil, err
		}
		p := &Param{Idx: x.Idx, Typ: pt}
		if pt != t {
			return &CastExpr{Arg: p, Typ: t, Context: cc}, nil
		}
		return p, nil
	}
	// Another expression of type unknown (NULL::unknown and the like).
	return &CastExpr{Arg: e, Typ: t, Context: cc, vol: Immutable}, nil
}

// readLiteral reads the text of an untyped literal as a value of t: by the
// type's input function, except that an explicit cast to a shorter string
// type cuts instead of failing.
func (b *Builder) readLiteral(s string, t *types.Type, cc types.CoercionContext) (types.Datum, error) {
	if t.Family() == types.StringFamily && cc == types.CoercionExplicit {
		d, err := types.ParseText(s, types.Text, b.Settings)
		if err != nil {
			return nil, err
		}
		return types.Caster{Context: cc, Settings: b.Settings}.Cast(d, types.Text, t)
	}
	return types.ParseText(s, t, b.Settings)
}

func (b *Builder) setParamType(idx int, t *types.Type) error {
	for len(b.ParamTypes) <= idx {
		b.ParamTypes = append(b.ParamTypes, nil)
	}
	cur := b.ParamTypes[idx]
	if cur != nil && !isUnknown(cur) && !sameType(cur, t) {
		return sqlerr.Newf(codeAmbiguousParameter, "inconsistent types deduced for parameter $%d", idx+1).
			WithDetail("%s versus %s", cur.Name(), t.Name())
	}
	b.ParamTypes[idx] = t
	return nil
}

// coerce converts e to t implicitly; the caller checked that it can.
func (b *Builder) coerce(e Expr, t *types.Type) (Expr, error) {
	return b.Coerce(e, t, types.CoercionImplicit)
}

// resolveUnknownAsText gives an expression still untyped the type text, as
// PostgreSQL does where nothing else decides.
func (b *Builder) resolveUnknownAsText(e Expr) (Expr, error) {
	if isUnknown(e.Type()) {
		return b.coerceUnknown(e, types.Text, types.CoercionImplicit)
	}
	return e, nil
}

func (b *Builder) build(n *pg_query.Node) (Expr, error) {
	if n == nil {
		return nil, sqlerr.Internalf("sem: nil expression node")
	}
	b.depth++
	defer func() { b.depth-- }()
	if b.depth > maxDepth {
		return nil, sqlerr.New("54001", "stack depth limit exceeded").
			WithHint("The expression is nested too deeply.")
	}
	switch x := n.Node.(type) {
	case *pg_query.Node_AConst:
		return buildConst(x.AConst)
	case *pg_query.Node_ColumnRef:
		return b.buildColumnRef(x.ColumnRef)
	case *pg_query.Node_ParamRef:
		return b.buildParam(x.ParamRef)
	case *pg_query.Node_TypeCast:
		return b.buildTypeCast(x.TypeCast)
	case *pg_query.Node_AExpr:
		return b.buildAExpr(x.AExpr)
	case *pg_query.Node_BoolExpr:
		return b.buildBoolExpr(x.BoolExpr)
	case *pg_query.Node_NullTest:
		arg, err := b.build(x.NullTest.Arg)
		if err != nil {
			return nil, err
		}
		return &IsNullExpr{Arg: arg, Not: x.NullTest.Nulltesttype == pg_query.NullTestType_IS_NOT_NULL}, nil
	case *pg_query.Node_BooleanTest:
		return b.buildBooleanTest(x.BooleanTest)
	case *pg_query.Node_CaseExpr:
		return b.buildCase(x.CaseExpr)
	case *pg_query.Node_CoalesceExpr:
		return b.buildCoalesce(x.CoalesceExpr.Args)
	case *pg_query.Node_MinMaxExpr:
		return b.buildMinMax(x.MinMaxExpr.Op == pg_query.MinMaxOp_IS_GREATEST, x.MinMaxExpr.Args)
	case *pg_query.Node_SqlvalueFunction:
		return b.buildSQLValueFunction(x.SqlvalueFunction)
	case *pg_query.Node_AArrayExpr:
		return b.buildArray(x.AArrayExpr, nil)
	case *pg_query.Node_FuncCall:
		return b.buildFuncCall(x.FuncCall)
	case *pg_query.Node_AIndirection:
		return b.buildIndirection(x.AIndirection)
	case *pg_query.Node_CollateClause:
		return b.buildCollate(x.CollateClause)
	case *pg_query.Node_SubLink:
		if b.SubqueryHook == nil {
			return nil, sqlerr.Unsupportedf("subqueries are not supported in %s", b.clause())
		}
		return b.SubqueryHook(b, x.SubLink)
	case *pg_query.Node_RowExpr:
		return nil, sqlerr.Unsupportedf("row expressions are not supported")
	case *pg_query.Node_GroupingFunc:
		return nil, sqlerr.Unsupportedf("GROUPING is not supported")
	case *pg_query.Node_SetToDefault:
		return nil, sqlerr.Newf(sqlerr.CodeSyntaxError, "DEFAULT is not allowed in this context")
	}
	return nil, sqlerr.Unsupportedf("expression %s is not supported", nodeKind(n))
}

// nodeKind names a node's type for error messages: "XmlExpr".
func nodeKind(n *pg_query.Node) string {
	s := fmt.Sprintf("%T", n.Node)
	s = strings.TrimPrefix(s, "*pg_query.Node_")
	return s
}

// buildConst types a literal as PostgreSQL does: an integer that fits in
// int4 is integer, one that fits in int8 bigint, a larger one or one with
// a point or exponent numeric; a string is an untyped literal whose type
// the context decides.
func buildConst(c *pg_query.A_Const) (Expr, error) {
	if c.Isnull {
		return &Const{Datum: types.DNull, Typ: types.Unknown}, nil
	}
	switch {
	case c.GetIval() != nil:
		return &Const{Datum: types.DInt(c.GetIval().Ival), Typ: types.Int4}, nil
	case c.GetFval() != nil:
		s := c.GetFval().Fval
		if !strings.ContainsAny(s, ".eE") || strings.HasPrefix(strings.TrimLeft(s, "+-"), "0x") ||
			strings.HasPrefix(strings.TrimLeft(s, "+-"), "0X") {
			// A negated integer comes as a Float: "-2147483648" is still
			// an integer, as PostgreSQL's make_const has it.
			if d, err := types.ParseText(s, types.Int8, nil); err == nil {
				if v := d.(types.DInt); v >= math.MinInt32 && v <= math.MaxInt32 {
					return &Const{Datum: d, Typ: types.Int4}, nil
				}
				return &Const{Datum: d, Typ: types.Int8}, nil
			}
		}
		d, err := types.ParseText(s, types.Numeric, nil)
		if err != nil {
			return nil, err
		}
		return &Const{Datum: d, Typ: types.Numeric}, nil
	case c.GetBoolval() != nil:
		return &Const{Datum: types.MakeDBool(c.GetBoolval().Boolval), Typ: types.Bool}, nil
	case c.GetSval() != nil:
		return &Const{Datum: types.DString(c.GetSval().Sval), Typ: types.Unknown}, nil
	case c.GetBsval() != nil:
		return nil, sqlerr.Unsupportedf("bit string literals are not supported")
	}
	// An A_Const without a value is integer 0 in pg_query's protobuf.
	return &Const{Datum: types.DInt(0), Typ: types.Int4}, nil
}

func strVal(n *pg_query.Node) (string, bool) {
	if s := n.GetString_(); s != nil {
		return s.Sval, true
	}
	return "", false
}

func (b *Builder) buildColumnRef(c *pg_query.ColumnRef) (Expr, error) {
	names := make([]string, 0, len(c.Fields))
	for _, f := range c.Fields {
		s, ok := strVal(f)
		if !ok {
			if f.GetAStar() != nil {
				return nil, sqlerr.Unsupportedf("a row reference (*) is not allowed in %s", b.clause())
			}
			return nil, sqlerr.Unsupportedf("column reference %s is not supported", nodeKind(f))
		}
		names = append(names, s)
	}
	if len(names) == 0 {
		return nil, sqlerr.Internalf("sem: empty column reference")
	}
	full := make([]string, len(names))
	for i, s := range names {
		full[i] = quoteIdent(s)
	}
	display := strings.Join(full, ".")
	if b.Scope == nil {
		if b.OuterHook != nil {
			if e, ok := b.OuterHook(names[:len(names)-1], names[len(names)-1]); ok {
				return e, nil
			}
		}
		return nil, sqlerr.Newf(sqlerr.CodeUndefinedColumn, "column %s does not exist", quoteColumnName(display))
	}
	idx, typ, err := b.Scope.ResolveColumn(names[:len(names)-1], names[len(names)-1])
	if err != nil {
		if b.OuterHook != nil {
			if e, ok := b.OuterHook(names[:len(names)-1], names[len(names)-1]); ok {
				return e, nil
			}
		}
		return nil, err
	}
	return &ColumnRef{Idx: idx, Typ: typ, Name: display}, nil
}

// quoteColumnName quotes a column name for a message as PostgreSQL does:
// column "x" does not exist, column t.x does not exist.
func quoteColumnName(s string) string {
	if strings.Contains(s, ".") {
		return s
	}
	return `"` + strings.Trim(s, `"`) + `"`
}

func (b *Builder) buildParam(p *pg_query.ParamRef) (Expr, error) {
	n := int(p.Number)
	if n < 1 || n > maxParams {
		return nil, sqlerr.Newf("42P02", "there is no parameter $%d", n)
	}
	for len(b.ParamTypes) < n {
		b.ParamTypes = append(b.ParamTypes, nil)
	}
	t := b.ParamTypes[n-1]
	if t == nil {
		t = types.Unknown
	}
	return &Param{Idx: n - 1, Typ: t}, nil
}

// ResolveTypeName returns the type a TypeName node names: "int4",
// "varchar(10)", "pg_catalog.numeric(10,2)", "text[]".
func ResolveTypeName(tn *pg_query.TypeName) (*types.Type, error) {
	var names []string
	for _, n := range tn.Names {
		s, _ := strVal(n)
		names = append(names, s)
	}
	if len(names) == 0 {
		return nil, sqlerr.Internalf("sem: empty type name")
	}
	name := names[len(names)-1]
	if len(names) > 1 && names[len(names)-2] != "pg_catalog" {
		return nil, sqlerr.Newf(sqlerr.CodeUndefinedObject, "type %q does not exist", strings.Join(names, "."))
	}
	if tn.Setof {
		return nil, sqlerr.Unsupportedf("SETOF types are not supported")
	}
	if tn.PctType {
		return nil, sqlerr.Unsupportedf("%%TYPE references are not supported")
	}
	var mods []int32
	for _, m := range tn.Typmods {
		c := m.GetAConst()
		if c == nil || c.GetIval() == nil {
			return nil, sqlerr.New(sqlerr.CodeSyntaxError, "type modifiers must be simple constants or identifiers")
		}
		mods = append(mods, c.GetIval().Ival)
	}
	return types.ResolveTypeName(name, mods, len(tn.ArrayBounds) > 0)
}

func (b *Builder) buildTypeCast(tc *pg_query.TypeCast) (Expr, error) {
	if names := tc.TypeName.GetNames(); len(names) > 0 && len(tc.TypeName.ArrayBounds) == 0 {
		if reg, _ := strVal(names[len(names)-1]); regTypes[reg] {
			e, err := b.build(tc.Arg)
			if err != nil {
				return nil, err
			}
			return b.buildRegCast(reg, e)
		}
	}
	t, err := ResolveTypeName(tc.TypeName)
	if err != nil {
		return nil, err
	}
	var e Expr
	if arr := tc.Arg.GetAArrayExpr(); arr != nil && t.Family() == types.ArrayFamily {
		e, err = b.buildArray(arr, t.Elem())
	} else {
		e, err = b.build(tc.Arg)
	}
	if err != nil {
		return nil, err
	}
	return b.Coerce(e, t, types.CoercionExplicit)
}

func (b *Builder) buildCollate(c *pg_query.CollateClause) (Expr, error) {
	e, err := b.build(c.Arg)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, n := range c.Collname {
		s, _ := strVal(n)
		names = append(names, s)
	}
	switch strings.Join(names, ".") {
	case "C", "POSIX", "default", "pg_catalog.C", "pg_catalog.POSIX", "pg_catalog.default", "ucs_basic":
	default:
		return nil, sqlerr.Unsupportedf("collation %q is not supported: strings compare bytewise (\"C\")", strings.Join(names, "."))
	}
	if e.Type().Family() != types.StringFamily && !isUnknown(e.Type()) {
		return nil, sqlerr.Newf(sqlerr.CodeDatatypeMismatch, "collations are not supported by type %s", e.Type().Name())
	}
	return b.resolveUnknownAsText(e)
}
