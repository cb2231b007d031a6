package sql

import (
	"context"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// Subqueries in expressions: scalar (SELECT ...), EXISTS (...) and
// x IN (SELECT ...) / x op ANY (SELECT ...). A subquery may reference
// the columns of the enclosing queries (correlated): such a reference
// reads the outer row the subquery expression is being evaluated for. The
// subquery runs once per evaluation (no decorrelation, no caching), in the
// statement's transaction.

// outerRow holds the values of the enclosing query's columns (the
// subquery expression's args) while a subquery runs.
type outerRow struct{ row []types.Datum }

// outerRef reads a value of the enclosing query: args[idx] of its
// subquery expression.
type outerRef struct {
	slot *outerRow
	idx  int
	typ  *types.Type
	name string
}

func (o *outerRef) Type() *types.Type { return o.typ }
func (o *outerRef) String() string    { return o.name }
func (o *outerRef) Eval(_ *sem.EvalContext, _ []types.Datum) (types.Datum, error) {
	if o.slot.row == nil || o.idx >= len(o.slot.row) {
		return nil, sqlerr.Internalf("sql: outer column %s read outside its subquery", o.name)
	}
	return o.slot.row[o.idx], nil
}

// valueRef reads the current value of a subquery's row (for IN / ANY).
type valueRef struct {
	v   *types.Datum
	typ *types.Type
}

func (v *valueRef) Type() *types.Type { return v.typ }
func (v *valueRef) String() string    { return "subquery" }
func (v *valueRef) Eval(*sem.EvalContext, []types.Datum) (types.Datum, error) {
	return *v.v, nil
}

type subqueryKind uint8

const (
	subScalar subqueryKind = iota
	subExists
	subAny
	subArray
)

// subqueryExpr is a subquery used as an expression. Its children are the
// expressions over the enclosing query's row that it reads (the tested
// expression of ANY, then the outer columns the subquery references), so
// that the planner's rewrites (rebasing onto a join's input, mapping onto
// an aggregation's output) reach them; they are evaluated and stored in
// slot before the subquery runs.
type subqueryExpr struct {
	kind subqueryKind
	sp   *selectPlan
	slot *outerRow
	typ  *types.Type
	args []sem.Expr
	// For ANY: cmp compares *testVal (test's value) with *cur.
	test         sem.Expr
	cmp          sem.Expr
	cur, testVal *types.Datum
}

var _ sem.Parent = (*subqueryExpr)(nil)

func (s *subqueryExpr) Children() []sem.Expr {
	if s.test != nil {
		return append([]sem.Expr{s.test}, s.args...)
	}
	return s.args
}

func (s *subqueryExpr) WithChildren(ch []sem.Expr) sem.Expr {
	c := *s
	if s.test != nil {
		c.test, ch = ch[0], ch[1:]
	}
	c.args = append([]sem.Expr(nil), ch...)
	return &c
}

func (s *subqueryExpr) Type() *types.Type { return s.typ }
func (s *subqueryExpr) String() string {
	return [...]string{subScalar: "(SubPlan)", subExists: "EXISTS(SubPlan)", subAny: "ANY(SubPlan)", subArray: "ARRAY(SubPlan)"}[s.kind]
}

func (s *subqueryExpr) Eval(ctx *sem.EvalContext, row []types.Datum) (types.Datum, error) {
	ca, ok := ctx.Catalog.(*catalogAccess)
	if !ok {
		return nil, sqlerr.Internalf("sql: subquery evaluated without its statement")
	}
	vals := make([]types.Datum, len(s.args))
	for i, a := range s.args {
		v, err := a.Eval(ctx, row)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	if s.test != nil {
		v, err := s.test.Eval(ctx, row)
		if err != nil {
			return nil, err
		}
		*s.testVal = v
	}
	saved := s.slot.row
	s.slot.row = vals
	defer func() { s.slot.row = saved }()
	c := ctx.Ctx
	if c == nil {
		c = context.Background()
	}
	it, err := s.sp.open(c, ca.x)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var result types.Datum = types.DNull
	switch s.kind {
	case subExists:
		r, err := it.Next(c)
		if err != nil {
			return nil, err
		}
		return types.DBool(r != nil), nil
	case subArray:
		var elems []types.Datum
		for {
			r, err := it.Next(c)
			if err != nil {
				return nil, err
			}
			if r == nil {
				return types.NewDArray(s.typ.Elem(), elems), nil
			}
			elems = append(elems, r[0])
		}
	case subScalar:
		n := 0
		for {
			r, err := it.Next(c)
			if err != nil {
				return nil, err
			}
			if r == nil {
				return result, nil
			}
			if n++; n > 1 {
				return nil, sqlerr.New("21000", "more than one row returned by a subquery used as an expression")
			}
			result = r[0]
		}
	}
	result = types.DFalse
	for {
		r, err := it.Next(c)
		if err != nil {
			return nil, err
		}
		if r == nil {
			return result, nil
		}
		*s.cur = r[0]
		d, err := s.cmp.Eval(ctx, nil)
		if err != nil {
			return nil, err
		}
		switch d {
		case types.DTrue:
			return d, nil
		case types.DNull:
			result = types.DNull
		}
	}
}

// subquery is the builders' SubqueryHook.
func (x *execCtx) subquery(b *sem.Builder, link *pg_query.SubLink) (sem.Expr, error) {
	sel := link.Subselect.GetSelectStmt()
	if sel == nil {
		return nil, sqlerr.Unsupportedf("this subquery is not supported")
	}
	var kind subqueryKind
	switch link.SubLinkType {
	case pg_query.SubLinkType_EXPR_SUBLINK:
		kind = subScalar
	case pg_query.SubLinkType_EXISTS_SUBLINK:
		kind = subExists
	case pg_query.SubLinkType_ANY_SUBLINK:
		kind = subAny
	case pg_query.SubLinkType_ARRAY_SUBLINK:
		kind = subArray
	default:
		return nil, sqlerr.Unsupportedf("this kind of subquery (%s) is not supported yet", link.SubLinkType)
	}
	slot := &outerRow{}
	scope, up := b.Scope, b.OuterHook
	var args []sem.Expr
	saved := x.outer
	x.outer = func(q []string, name string) (sem.Expr, bool) {
		var e sem.Expr
		if scope != nil {
			if idx, typ, err := scope.ResolveColumn(q, name); err == nil {
				e = &sem.ColumnRef{Idx: idx, Typ: typ, Name: strings.Join(append(append([]string(nil), q...), name), ".")}
			}
		}
		if e == nil && up != nil {
			var ok bool
			if e, ok = up(q, name); !ok {
				return nil, false
			}
		}
		if e == nil {
			return nil, false
		}
		args = append(args, e)
		return &outerRef{slot: slot, idx: len(args) - 1, typ: e.Type(), name: e.String()}, true
	}
	ctx := x.planCtx
	if ctx == nil {
		ctx = context.Background()
	}
	sp, err := x.buildSelect(ctx, sel, b.ParamTypes)
	x.outer = saved
	if err != nil {
		return nil, err
	}
	s := &subqueryExpr{kind: kind, sp: sp, slot: slot, typ: types.Bool, args: args}
	if kind != subExists && len(sp.cols) != 1 {
		return nil, sqlerr.New(sqlerr.CodeSyntaxError, "subquery must return only one column")
	}
	switch kind {
	case subScalar:
		s.typ = sp.cols[0].typ
	case subArray:
		if sp.cols[0].typ.Family() == types.ArrayFamily || sp.cols[0].typ.Family() == types.UnknownFamily {
			return nil, sqlerr.Unsupportedf("ARRAY of %s is not supported", sp.cols[0].typ.Name())
		}
		s.typ = types.ArrayOf(sp.cols[0].typ.WithoutModifiers())
	case subAny:
		op := "="
		for _, n := range link.OperName {
			op = n.GetString_().GetSval()
		}
		left, err := b.Build(link.Testexpr, nil)
		if err != nil {
			return nil, err
		}
		colType := sp.cols[0].typ
		if colType.Family() == types.UnknownFamily {
			colType = types.Text
		}
		if left.Type().Family() == types.UnknownFamily {
			if left, err = b.Coerce(left, colType, types.CoercionImplicit); err != nil {
				return nil, err
			}
		}
		s.test, s.cur, s.testVal = left, new(types.Datum), new(types.Datum)
		if s.cmp, err = b.BuildBinary(op, &valueRef{v: s.testVal, typ: left.Type()}, &valueRef{v: s.cur, typ: colType}); err != nil {
			return nil, err
		}
	}
	return s, nil
}
