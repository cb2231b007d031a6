package sem

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// opName returns the operator of an A_Expr name list: "+" from ["+"] or
// ["pg_catalog", "+"] (OPERATOR(pg_catalog.+)).
func opName(names []*pg_query.Node) (string, error) {
	var parts []string
	for _, n := range names {
		s, _ := strVal(n)
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "", sqlerr.Internalf("sem: operator without a name")
	}
	if len(parts) > 1 && parts[len(parts)-2] != "pg_catalog" {
		return "", sqlerr.Newf(sqlerr.CodeUndefinedFunction, "operator does not exist: %s", strings.Join(parts, "."))
	}
	return parts[len(parts)-1], nil
}

func (b *Builder) buildAExpr(a *pg_query.A_Expr) (Expr, error) {
	op, err := opName(a.Name)
	if err != nil {
		return nil, err
	}
	switch a.Kind {
	case pg_query.A_Expr_Kind_AEXPR_OP:
		if a.Lexpr == nil {
			arg, err := b.build(a.Rexpr)
			if err != nil {
				return nil, err
			}
			return b.buildPrefix(op, arg)
		}
		if a.Rexpr == nil {
			return nil, sqlerr.Newf(sqlerr.CodeUndefinedFunction, "postfix operators are not supported: %s", op)
		}
		l, r, err := b.build2(a.Lexpr, a.Rexpr)
		if err != nil {
			return nil, err
		}
		return b.BuildBinary(op, l, r)
	case pg_query.A_Expr_Kind_AEXPR_OP_ANY, pg_query.A_Expr_Kind_AEXPR_OP_ALL:
		l, r, err := b.build2(a.Lexpr, a.Rexpr)
		if err != nil {
			return nil, err
		}
		return b.buildArrayOp(op, a.Kind == pg_query.A_Expr_Kind_AEXPR_OP_ALL, l, r)
	case pg_query.A_Expr_Kind_AEXPR_DISTINCT, pg_query.A_Expr_Kind_AEXPR_NOT_DISTINCT:
		l, r, err := b.build2(a.Lexpr, a.Rexpr)
		if err != nil {
			return nil, err
		}
		l, r, err = b.resolveComparison("=", l, r)
		if err != nil {
			return nil, err
		}
		return &DistinctExpr{Left: l, Right: r, Not: a.Kind == pg_query.A_Expr_Kind_AEXPR_NOT_DISTINCT}, nil
	case pg_query.A_Expr_Kind_AEXPR_NULLIF:
		l, r, err := b.build2(a.Lexpr, a.Rexpr)
		if err != nil {
			return nil, err
		}
		return b.buildNullIf(l, r)
	case pg_query.A_Expr_Kind_AEXPR_IN:
		return b.buildIn(op, a.Lexpr, a.Rexpr.GetList().GetItems())
	case pg_query.A_Expr_Kind_AEXPR_LIKE, pg_query.A_Expr_Kind_AEXPR_ILIKE:
		return b.buildLike(op, a.Lexpr, a.Rexpr)
	case pg_query.A_Expr_Kind_AEXPR_SIMILAR:
		return b.buildSimilar(op, a.Lexpr, a.Rexpr)
	case pg_query.A_Expr_Kind_AEXPR_BETWEEN, pg_query.A_Expr_Kind_AEXPR_NOT_BETWEEN,
		pg_query.A_Expr_Kind_AEXPR_BETWEEN_SYM, pg_query.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM:
		return b.buildBetween(a.Kind, a.Lexpr, a.Rexpr.GetList().GetItems())
	}
	return nil, sqlerr.Unsupportedf("operator kind %s is not supported", a.Kind)
}

func (b *Builder) build2(l, r *pg_query.Node) (Expr, Expr, error) {
	le, err := b.build(l)
	if err != nil {
		return nil, nil, err
	}
	re, err := b.build(r)
	if err != nil {
		return nil, nil, err
	}
	return le, re, nil
}

// BuildBinary builds "l op r" for built expressions: operator resolution
// as PostgreSQL's (an untyped operand takes the other's type when that
// gives an exact match, else implicit casts with a preference for the
// category's preferred type), then the casts it implies.
func (b *Builder) BuildBinary(op string, l, r Expr) (Expr, error) {
	lt, rt := l.Type(), r.Type()
	switch {
	case op == "||":
		return b.buildConcat(l, r)
	case lt.Family() == types.ArrayFamily || rt.Family() == types.ArrayFamily:
		if e, ok, err := b.buildArrayBinary(op, l, r); ok || err != nil {
			return e, err
		}
	}
	ov, err := resolveBinaryOp(op, lt, rt)
	if err != nil {
		return nil, err
	}
	if l, err = b.coerce(l, ov.args[0]); err != nil {
		return nil, err
	}
	if r, err = b.coerce(r, ov.args[1]); err != nil {
		return nil, err
	}
	if ov.cmp {
		return &CompareExpr{Op: op, Left: l, Right: r}, nil
	}
	return &FuncExpr{Name: op, Args: []Expr{l, r}, typ: ov.ret, fn: ov.fn, strict: !ov.nonStrict, vol: ov.vol, form: formInfix}, nil
}

func resolveBinaryOp(op string, lt, rt *types.Type) (*overload, error) {
	ov, ambiguous := resolveOverload(binaryOps[op], []*types.Type{lt, rt}, true)
	if ov == nil {
		if ambiguous {
			return nil, sqlerr.Newf(codeAmbiguousFunction, "operator is not unique: %s %s %s", lt.Name(), op, rt.Name()).
				WithHint("Could not choose a best candidate operator. You might need to add explicit type casts.")
		}
		return nil, errUndefinedOperator(op, lt, rt)
	}
	return ov, nil
}

func (b *Builder) buildPrefix(op string, arg Expr) (Expr, error) {
	if op == "-" {
		// -<numeric literal>: fold, so that -9223372036854775808 is an int8.
		if c, ok := arg.(*Const); ok && c.Datum != types.DNull {
			if e, err := negate(c.Typ)(nil, []types.Datum{c.Datum}); err == nil {
				return &Const{Datum: e, Typ: c.Typ}, nil
			}
		}
	}
	ov, ambiguous := resolveOverload(prefixOps[op], []*types.Type{arg.Type()}, false)
	if ov == nil {
		if ambiguous {
			return nil, sqlerr.Newf(codeAmbiguousFunction, "operator is not unique: %s %s", op, arg.Type().Name())
		}
		return nil, errUndefinedOperator(op, nil, arg.Type())
	}
	arg, err := b.coerce(arg, ov.args[0])
	if err != nil {
		return nil, err
	}
	return &FuncExpr{Name: op, Args: []Expr{arg}, typ: ov.ret, fn: ov.fn, strict: true, vol: ov.vol, form: formPrefix}, nil
}

// resolveComparison coerces l and r for the comparison op and checks that
// one exists.
func (b *Builder) resolveComparison(op string, l, r Expr) (Expr, Expr, error) {
	e, err := b.BuildBinary(op, l, r)
	if err != nil {
		return nil, nil, err
	}
	c, ok := e.(*CompareExpr)
	if !ok {
		return nil, nil, sqlerr.Newf(sqlerr.CodeDatatypeMismatch, "operator %s must be a comparison here", op)
	}
	return c.Left, c.Right, nil
}

func (b *Builder) buildNullIf(l, r Expr) (Expr, error) {
	l, r, err := b.resolveComparison("=", l, r)
	if err != nil {
		return nil, err
	}
	return &NullIfExpr{Left: l, Right: r}, nil
}

// buildArrayOp builds "l op ANY (r)" / "l op ALL (r)".
func (b *Builder) buildArrayOp(op string, all bool, l, r Expr) (Expr, error) {
	rt := r.Type()
	if isUnknown(rt) {
		lt := l.Type()
		if isUnknown(lt) {
			lt = types.Text
			var err error
			if l, err = b.coerceUnknown(l, lt, types.CoercionImplicit); err != nil {
				return nil, err
			}
		}
		var err error
		if r, err = b.coerceUnknown(r, types.ArrayOf(lt), types.CoercionImplicit); err != nil {
			return nil, err
		}
		rt = r.Type()
	}
	if rt.Family() != types.ArrayFamily {
		return nil, sqlerr.New(codeWrongObjectType, "op ANY/ALL (array) requires array on right side")
	}
	elem := rt.Elem()
	var fn binaryFn
	var vol Volatility
	var lType, eType *types.Type
	if lt := l.Type(); lt.Family() == types.ArrayFamily && isCompareOp(op) {
		ct, err := CommonType([]*types.Type{lt, elem}, "ANY/ALL")
		if err != nil {
			return nil, err
		}
		lType, eType = ct, ct
		fn = func(_ *EvalContext, x, y types.Datum) (types.Datum, error) {
			return types.MakeDBool(cmpResult(op, types.Compare(x, y))), nil
		}
	} else {
		ov, err := resolveBinaryOp(op, l.Type(), elem)
		if err != nil {
			return nil, err
		}
		if ov.ret.Family() != types.BoolFamily {
			return nil, sqlerr.New(codeWrongObjectType, "op ANY/ALL (array) requires operator to yield boolean")
		}
		lType, eType, vol = ov.args[0], ov.args[1], ov.vol
		if ov.cmp {
			fn = func(_ *EvalContext, x, y types.Datum) (types.Datum, error) {
				return types.MakeDBool(cmpResult(op, types.Compare(x, y))), nil
			}
		} else {
			f, strict := ov.fn, !ov.nonStrict
			fn = func(ctx *EvalContext, x, y types.Datum) (types.Datum, error) {
				if strict && (x == types.DNull || y == types.DNull) {
					return types.DNull, nil
				}
				return f(ctx, []types.Datum{x, y})
			}
		}
	}
	var err error
	if l, err = b.coerce(l, lType); err != nil {
		return nil, err
	}
	if !sameType(eType, elem) {
		if r, err = b.coerce(r, types.ArrayOf(eType)); err != nil {
			return nil, err
		}
	}
	return &ArrayOpExpr{Op: op, All: all, Left: l, Right: r, fn: fn, vol: vol}, nil
}

func isCompareOp(op string) bool {
	switch op {
	case "=", "<>", "<", "<=", ">", ">=":
		return true
	}
	return false
}

// buildIn builds "l IN (list)" (op "=") or "l NOT IN (list)" (op "<>"):
// one comparison type for all when there is one, else a chain of
// comparisons each resolved on its own, as PostgreSQL does.
func (b *Builder) buildIn(op string, ln *pg_query.Node, items []*pg_query.Node) (Expr, error) {
	l, err := b.build(ln)
	if err != nil {
		return nil, err
	}
	list := make([]Expr, len(items))
	ts := []*types.Type{l.Type()}
	for i, n := range items {
		if list[i], err = b.build(n); err != nil {
			return nil, err
		}
		ts = append(ts, list[i].Type())
	}
	not := op == "<>"
	if ct, err := CommonType(ts, "IN"); err == nil && ct.Family() != types.ArrayFamily {
		if _, err := resolveBinaryOp("=", ct, ct); err == nil {
			if l, err = b.coerce(l, ct); err != nil {
				return nil, err
			}
			for i := range list {
				if list[i], err = b.coerce(list[i], ct); err != nil {
					return nil, err
				}
			}
			return &InExpr{Left: l, List: list, Not: not}, nil
		}
	}
	parts := make([]Expr, len(list))
	for i, e := range list {
		if parts[i], err = b.BuildBinary(op, l, e); err != nil {
			return nil, err
		}
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	if not {
		return &AndExpr{Args: parts}, nil
	}
	return &OrExpr{Args: parts}, nil
}

func (b *Builder) buildBetween(kind pg_query.A_Expr_Kind, ln *pg_query.Node, bounds []*pg_query.Node) (Expr, error) {
	if len(bounds) != 2 {
		return nil, sqlerr.Internalf("sem: BETWEEN with %d bounds", len(bounds))
	}
	l, err := b.build(ln)
	if err != nil {
		return nil, err
	}
	lo, hi, err := b.build2(bounds[0], bounds[1])
	if err != nil {
		return nil, err
	}
	cmp := func(op string, x, y Expr) (Expr, error) { return b.BuildBinary(op, x, y) }
	inRange := func(lo, hi Expr) (Expr, error) {
		a, err := cmp(">=", l, lo)
		if err != nil {
			return nil, err
		}
		c, err := cmp("<=", l, hi)
		if err != nil {
			return nil, err
		}
		return &AndExpr{Args: []Expr{a, c}}, nil
	}
	outRange := func(lo, hi Expr) (Expr, error) {
		a, err := cmp("<", l, lo)
		if err != nil {
			return nil, err
		}
		c, err := cmp(">", l, hi)
		if err != nil {
			return nil, err
		}
		return &OrExpr{Args: []Expr{a, c}}, nil
	}
	switch kind {
	case pg_query.A_Expr_Kind_AEXPR_BETWEEN:
		return inRange(lo, hi)
	case pg_query.A_Expr_Kind_AEXPR_NOT_BETWEEN:
		return outRange(lo, hi)
	case pg_query.A_Expr_Kind_AEXPR_BETWEEN_SYM:
		x, err := inRange(lo, hi)
		if err != nil {
			return nil, err
		}
		y, err := inRange(hi, lo)
		if err != nil {
			return nil, err
		}
		return &OrExpr{Args: []Expr{x, y}}, nil
	default:
		x, err := outRange(lo, hi)
		if err != nil {
			return nil, err
		}
		y, err := outRange(hi, lo)
		if err != nil {
			return nil, err
		}
		return &AndExpr{Args: []Expr{x, y}}, nil
	}
}

// buildLike builds LIKE and ILIKE; "x LIKE p ESCAPE e" arrives as
// "x ~~ like_escape(p, e)", which the like_escape function handles.
func (b *Builder) buildLike(op string, ln, rn *pg_query.Node) (Expr, error) {
	l, r, err := b.build2(ln, rn)
	if err != nil {
		return nil, err
	}
	if l.Type().Family() == types.BytesFamily {
		return nil, sqlerr.Unsupportedf("LIKE on bytea is not supported")
	}
	return b.BuildBinary(op, l, r)
}

// buildSimilar builds SIMILAR TO: a regular expression match against the
// pattern translated by similar_to_escape.
func (b *Builder) buildSimilar(op string, ln, rn *pg_query.Node) (Expr, error) {
	l, r, err := b.build2(ln, rn)
	if err != nil {
		return nil, err
	}
	return b.BuildBinary(op, l, r)
}

// buildConcat builds ||: arrays, jsonb and bytea concatenate as such;
// otherwise text, a non-text operand converted by its output function.
func (b *Builder) buildConcat(l, r Expr) (Expr, error) {
	lt, rt := l.Type(), r.Type()
	lf, rf := lt.Family(), rt.Family()
	var err error
	switch {
	case lf == types.ArrayFamily || rf == types.ArrayFamily:
		return b.buildArrayConcat(l, r)
	case (lf == types.JSONFamily || isUnknown(lt)) && (rf == types.JSONFamily || isUnknown(rt)) && !(isUnknown(lt) && isUnknown(rt)):
		if l, err = b.coerce(l, types.JSONB); err != nil {
			return nil, err
		}
		if r, err = b.coerce(r, types.JSONB); err != nil {
			return nil, err
		}
		return &FuncExpr{Name: "||", Args: []Expr{l, r}, typ: types.JSONB, fn: jsonConcat, strict: true, form: formInfix}, nil
	case (lf == types.BytesFamily || isUnknown(lt)) && (rf == types.BytesFamily || isUnknown(rt)) && !(isUnknown(lt) && isUnknown(rt)):
		if l, err = b.coerce(l, types.Bytes); err != nil {
			return nil, err
		}
		if r, err = b.coerce(r, types.Bytes); err != nil {
			return nil, err
		}
		return &FuncExpr{Name: "||", Args: []Expr{l, r}, typ: types.Bytes, fn: bytesConcat, strict: true, form: formInfix}, nil
	}
	if lf != types.StringFamily && rf != types.StringFamily && !isUnknown(lt) && !isUnknown(rt) {
		return nil, errUndefinedOperator("||", lt, rt)
	}
	if l, err = b.toText(l); err != nil {
		return nil, err
	}
	if r, err = b.toText(r); err != nil {
		return nil, err
	}
	return &FuncExpr{Name: "||", Args: []Expr{l, r}, typ: types.Text, fn: textConcat, strict: true, form: formInfix}, nil
}

// toText converts e to text as textanycat does: by the type's output
// function (a boolean gives "t", not "true").
func (b *Builder) toText(e Expr) (Expr, error) {
	t := e.Type()
	switch {
	case isUnknown(t):
		return b.coerceUnknown(e, types.Text, types.CoercionImplicit)
	case t.Oid() == types.OidText:
		return e, nil
	}
	return outputText(e), nil
}

// outputText is e's value as text by its output function.
func outputText(e Expr) Expr {
	t := e.Type()
	fn := func(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
		if s, ok := a[0].(types.DString); ok {
			return s, nil // a string type to text: bpchar loses its padding
		}
		if o, ok := a[0].(types.DOid); ok && t.Oid() == types.OidRegClass {
			var c CatalogAccess
			if ctx != nil {
				c = ctx.Catalog
			}
			s, err := RegClassText(c, uint32(o))
			return types.DString(s), err
		}
		return types.DString(types.FormatText(a[0], t, ctx.settings())), nil
	}
	return &FuncExpr{Name: "text", Args: []Expr{e}, typ: types.Text, fn: fn, strict: true,
		vol: castVolatility(t, types.Text), form: formCast}
}

func textConcat(_ *EvalContext, a []types.Datum) (types.Datum, error) {
	x, y := a[0].(types.DString), a[1].(types.DString)
	if len(x)+len(y) > maxResultBytes {
		return nil, errTooLarge()
	}
	return x + y, nil
}

func bytesConcat(_ *EvalContext, a []types.Datum) (types.Datum, error) {
	x, y := a[0].(types.DBytes), a[1].(types.DBytes)
	if len(x)+len(y) > maxResultBytes {
		return nil, errTooLarge()
	}
	out := make(types.DBytes, 0, len(x)+len(y))
	return append(append(out, x...), y...), nil
}

func (b *Builder) buildBoolExpr(be *pg_query.BoolExpr) (Expr, error) {
	args := make([]Expr, len(be.Args))
	for i, n := range be.Args {
		e, err := b.build(n)
		if err != nil {
			return nil, err
		}
		if e, err = b.asBool(e, be.Boolop); err != nil {
			return nil, err
		}
		args[i] = e
	}
	switch be.Boolop {
	case pg_query.BoolExprType_AND_EXPR:
		return &AndExpr{Args: flatten(args, true)}, nil
	case pg_query.BoolExprType_OR_EXPR:
		return &OrExpr{Args: flatten(args, false)}, nil
	}
	return &NotExpr{Arg: args[0]}, nil
}

// flatten merges nested ANDs (or ORs) into one list.
func flatten(args []Expr, and bool) []Expr {
	var out []Expr
	for _, a := range args {
		if x, ok := a.(*AndExpr); ok && and {
			out = append(out, x.Args...)
		} else if x, ok := a.(*OrExpr); ok && !and {
			out = append(out, x.Args...)
		} else {
			out = append(out, a)
		}
	}
	return out
}

func (b *Builder) asBool(e Expr, op pg_query.BoolExprType) (Expr, error) {
	if isUnknown(e.Type()) {
		return b.coerceUnknown(e, types.Bool, types.CoercionImplicit)
	}
	if e.Type().Family() != types.BoolFamily {
		name := map[pg_query.BoolExprType]string{pg_query.BoolExprType_AND_EXPR: "AND",
			pg_query.BoolExprType_OR_EXPR: "OR", pg_query.BoolExprType_NOT_EXPR: "NOT"}[op]
		return nil, sqlerr.Newf(sqlerr.CodeDatatypeMismatch, "argument of %s must be type boolean, not type %s", name, e.Type().Name())
	}
	return e, nil
}

func (b *Builder) buildBooleanTest(bt *pg_query.BooleanTest) (Expr, error) {
	arg, err := b.build(bt.Arg)
	if err != nil {
		return nil, err
	}
	test := map[pg_query.BoolTestType]BoolTest{
		pg_query.BoolTestType_IS_TRUE: IsTrue, pg_query.BoolTestType_IS_NOT_TRUE: IsNotTrue,
		pg_query.BoolTestType_IS_FALSE: IsFalse, pg_query.BoolTestType_IS_NOT_FALSE: IsNotFalse,
		pg_query.BoolTestType_IS_UNKNOWN: IsUnknown, pg_query.BoolTestType_IS_NOT_UNKNOWN: IsNotUnknown,
	}[bt.Booltesttype]
	if isUnknown(arg.Type()) {
		if arg, err = b.coerceUnknown(arg, types.Bool, types.CoercionImplicit); err != nil {
			return nil, err
		}
	}
	if arg.Type().Family() != types.BoolFamily {
		return nil, sqlerr.Newf(sqlerr.CodeDatatypeMismatch, "argument of %s must be type boolean, not type %s",
			boolTestNames[test], arg.Type().Name())
	}
	return &BoolTestExpr{Arg: arg, Test: test}, nil
}

func (b *Builder) buildCase(c *pg_query.CaseExpr) (Expr, error) {
	var operand Expr
	var err error
	if c.Arg != nil {
		if operand, err = b.build(c.Arg); err != nil {
			return nil, err
		}
	}
	n := len(c.Args)
	whens := make([]Expr, n)
	thens := make([]Expr, n)
	for i, a := range c.Args {
		w := a.GetCaseWhen()
		if w == nil {
			return nil, sqlerr.Internalf("sem: CASE argument %s", nodeKind(a))
		}
		if whens[i], err = b.build(w.Expr); err != nil {
			return nil, err
		}
		if thens[i], err = b.build(w.Result); err != nil {
			return nil, err
		}
	}
	var els Expr
	if c.Defresult != nil {
		if els, err = b.build(c.Defresult); err != nil {
			return nil, err
		}
	}
	// The WHEN side: conditions, or values compared with the operand.
	if operand != nil {
		ts := []*types.Type{operand.Type()}
		for _, w := range whens {
			ts = append(ts, w.Type())
		}
		ct, err := CommonType(ts, "CASE/WHEN")
		if err != nil {
			return nil, err
		}
		if _, err := resolveBinaryOp("=", ct, ct); err != nil && ct.Family() != types.ArrayFamily {
			return nil, err
		}
		if operand, err = b.coerce(operand, ct); err != nil {
			return nil, err
		}
		for i := range whens {
			if whens[i], err = b.coerce(whens[i], ct); err != nil {
				return nil, err
			}
		}
	} else {
		for i, w := range whens {
			if isUnknown(w.Type()) {
				if whens[i], err = b.coerceUnknown(w, types.Bool, types.CoercionImplicit); err != nil {
					return nil, err
				}
			} else if w.Type().Family() != types.BoolFamily {
				return nil, sqlerr.Newf(sqlerr.CodeDatatypeMismatch, "argument of CASE/WHEN must be type boolean, not type %s", w.Type().Name())
			}
		}
	}
	// The THEN side: one result type.
	results := append([]Expr(nil), thens...)
	if els != nil {
		results = append(results, els)
	}
	ts := make([]*types.Type, len(results))
	for i, r := range results {
		ts[i] = r.Type()
	}
	rt, err := CommonType(ts, "CASE")
	if err != nil {
		return nil, err
	}
	for i := range thens {
		if thens[i], err = b.coerce(thens[i], rt); err != nil {
			return nil, err
		}
	}
	if els != nil {
		if els, err = b.coerce(els, rt); err != nil {
			return nil, err
		}
	}
	return &CaseExpr{Operand: operand, Whens: whens, Thens: thens, Else: els, Typ: rt}, nil
}

// unify builds nodes and converts them to their common type.
func (b *Builder) unify(nodes []*pg_query.Node, context string) ([]Expr, *types.Type, error) {
	args := make([]Expr, len(nodes))
	for i, n := range nodes {
		var err error
		if args[i], err = b.build(n); err != nil {
			return nil, nil, err
		}
	}
	return b.unifyExprs(args, context)
}

func (b *Builder) unifyExprs(args []Expr, context string) ([]Expr, *types.Type, error) {
	ts := make([]*types.Type, len(args))
	for i, a := range args {
		ts[i] = a.Type()
	}
	t, err := CommonType(ts, context)
	if err != nil {
		return nil, nil, err
	}
	for i := range args {
		if args[i], err = b.coerce(args[i], t); err != nil {
			return nil, nil, err
		}
	}
	return args, t, nil
}

func (b *Builder) buildCoalesce(nodes []*pg_query.Node) (Expr, error) {
	args, t, err := b.unify(nodes, "COALESCE")
	if err != nil {
		return nil, err
	}
	return &CoalesceExpr{Args: args, Typ: t}, nil
}

func (b *Builder) buildMinMax(greatest bool, nodes []*pg_query.Node) (Expr, error) {
	ctx := "LEAST"
	if greatest {
		ctx = "GREATEST"
	}
	args, t, err := b.unify(nodes, ctx)
	if err != nil {
		return nil, err
	}
	if _, err := resolveBinaryOp("<", t, t); err != nil && t.Family() != types.ArrayFamily {
		return nil, sqlerr.Newf(sqlerr.CodeUndefinedFunction, "could not identify a comparison function for type %s", t.Name())
	}
	return &MinMaxExpr{Greatest: greatest, Args: args, Typ: t}, nil
}
