package sql

import (
	"context"
	"regexp"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/sql/parser"
	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// Subqueries in expressions: scalar (SELECT ...), EXISTS (...),
// x IN (SELECT ...) / x op ANY|SOME|ALL (SELECT ...), ARRAY(SELECT ...), and
// their row forms: (a, b) op (SELECT x, y), (a, b) [NOT] IN (SELECT x, y),
// (a, b) op ANY|ALL (SELECT x, y). A subquery may reference
// the columns of the enclosing queries (correlated): such a reference
// reads the outer row the subquery expression is being evaluated for. The
// subquery runs once per evaluation (no decorrelation); one that reads no
// column of the enclosing queries runs once per execution of the statement
// (its rows are kept, up to the bounds of a materialized CTE), in the
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

// An outer value is fixed for each run of the subquery (its slot is set
// before the subquery opens), so the subquery's plan may use it as a
// parameter: a key of a point lookup or an index span (o.cust = c.id),
// a filter pushed down to a scan or a join's input (sem.ReadsNoRow).
func (o *outerRef) Volatility() sem.Volatility { return sem.Stable }
func (o *outerRef) ReadsNoRow()                {}

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
	subAll
	subRow // (a, b) op (SELECT x, y): a row comparison with a one-row subquery
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
	// For ANY, ALL and row comparisons: tests are the left operand's
	// expressions (one, or a row's), cmp compares their values with those
	// of a subquery row.
	tests []sem.Expr
	cmp   *rowCompare
	// cache holds the rows of a subquery that reads no column of the
	// enclosing queries (nil for EXISTS and correlated subqueries).
	cache *subqueryCache
}

// subqueryCache holds an uncorrelated subquery's rows for one execution
// of the statement: it runs once, as PostgreSQL runs it once (an
// InitPlan, or a materialized SubPlan), rather than once per outer row.
type subqueryCache struct {
	x    *execCtx // the execution the rows are of
	rows [][]types.Datum
	off  bool // more than the bound: run the subquery each time
}

// openRows returns the subquery's rows: read from the cache if it can.
func (s *subqueryExpr) openRows(ctx context.Context, x *execCtx) (rowIter, error) {
	c := s.cache
	if c == nil || c.off {
		return s.sp.open(ctx, x)
	}
	if c.x == x {
		return &sliceIter{rows: c.rows}, nil
	}
	it, err := s.sp.open(ctx, x)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var rows [][]types.Datum
	var mem int64
	for {
		r, err := it.Next(ctx)
		if err != nil {
			return nil, err
		}
		if r == nil {
			break
		}
		if checkCTEBounds(func() string { return "subquery" }, len(rows)+1, &mem, r) != nil {
			c.off = true // too big to hold: run it at each evaluation
			return s.sp.open(ctx, x)
		}
		rows = append(rows, append([]types.Datum(nil), r...))
	}
	c.x, c.rows = x, rows
	return &sliceIter{rows: rows}, nil
}

var _ sem.Parent = (*subqueryExpr)(nil)

func (s *subqueryExpr) Children() []sem.Expr {
	if len(s.tests) > 0 {
		return append(append([]sem.Expr(nil), s.tests...), s.args...)
	}
	return s.args
}

func (s *subqueryExpr) WithChildren(ch []sem.Expr) sem.Expr {
	c := *s
	n := len(s.tests)
	c.tests = append([]sem.Expr(nil), ch[:n]...)
	c.args = append([]sem.Expr(nil), ch[n:]...)
	return &c
}

func (s *subqueryExpr) Type() *types.Type { return s.typ }

// Volatility: an uncorrelated scalar subquery runs once per execution (its
// rows are cached), as PostgreSQL runs an InitPlan, so its value may be an
// index key (k = (SELECT max(id) FROM t)) and its comparisons may go down
// to a scan. Any other subquery stays where it is written. The node itself
// reads no row; the outer values it passes to the subquery are its
// children (sem.ReadsNoRow).
func (s *subqueryExpr) Volatility() sem.Volatility {
	if s.kind == subScalar && len(s.args) == 0 && s.cache != nil {
		return sem.Stable
	}
	return sem.Volatile
}
func (s *subqueryExpr) ReadsNoRow() {}
func (s *subqueryExpr) String() string {
	return [...]string{subScalar: "(SubPlan)", subExists: "EXISTS(SubPlan)", subAny: "ANY(SubPlan)", subArray: "ARRAY(SubPlan)",
		subAll: "ALL(SubPlan)", subRow: "ROW(SubPlan)"}[s.kind]
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
	var testVals []types.Datum
	if len(s.tests) > 0 {
		testVals = make([]types.Datum, len(s.tests))
		for i, t := range s.tests {
			v, err := t.Eval(ctx, row)
			if err != nil {
				return nil, err
			}
			testVals[i] = v
		}
	}
	saved := s.slot.row
	s.slot.row = vals
	defer func() { s.slot.row = saved }()
	c := ctx.Ctx
	if c == nil {
		c = context.Background()
	}
	it, err := s.openRows(c, ca.x)
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
	if s.kind == subRow {
		var found []types.Datum
		for {
			r, err := it.Next(c)
			if err != nil {
				return nil, err
			}
			if r == nil {
				break
			}
			if found != nil {
				return nil, sqlerr.New("21000", "more than one row returned by a subquery used as an expression")
			}
			found = append([]types.Datum(nil), r[:len(s.tests)]...)
		}
		if found == nil { // no row: NULLs
			found = make([]types.Datum, len(s.tests))
			for i := range found {
				found[i] = types.DNull
			}
		}
		return s.cmp.eval(ctx, testVals, found)
	}
	f := newBoolFold(s.kind == subAll)
	for {
		r, err := it.Next(c)
		if err != nil {
			return nil, err
		}
		if r == nil {
			return f.result, nil
		}
		d, err := s.cmp.eval(ctx, testVals, r)
		if err != nil {
			return nil, err
		}
		if f.add(d) {
			return f.result, nil
		}
	}
}

// boolFold combines three-valued results as ANY (OR) or ALL (AND) does:
// ANY is true if one is true, else NULL if one is NULL, else false; ALL is
// false if one is false, else NULL if one is NULL, else true.
type boolFold struct {
	decisive types.Datum // the value that decides the result
	result   types.Datum // the result so far
}

func newBoolFold(all bool) boolFold {
	if all {
		return boolFold{decisive: types.DFalse, result: types.DTrue}
	}
	return boolFold{decisive: types.DTrue, result: types.DFalse}
}

// add folds d in; it reports whether the result is decided.
func (f *boolFold) add(d types.Datum) bool {
	switch d {
	case f.decisive:
		f.result = d
		return true
	case types.DNull:
		f.result = types.DNull
	}
	return false
}

// rowCompare compares a row of values (the left operand) with a subquery
// row, as PostgreSQL compares rows: = is true if every pair is equal,
// false if one is not, else NULL; <> the opposite; <, <=, >, >= compare the
// first pair that is not equal (NULL if either is NULL); with one
// non-row operand, the operator's own result.
type rowCompare struct {
	op     string
	row    bool
	eq     []sem.Expr // l_i = r_i, for ordering operators
	cmp    []sem.Expr // l_i op r_i
	lv, rv []types.Datum
}

func (rc *rowCompare) eval(ctx *sem.EvalContext, left, right []types.Datum) (types.Datum, error) {
	copy(rc.lv, left)
	copy(rc.rv, right)
	if !rc.row {
		return rc.cmp[0].Eval(ctx, nil)
	}
	switch rc.op {
	case "=", "<>": // = is the ALL of the pairs' =, <> the ANY of their <>
		f := newBoolFold(rc.op == "=")
		for _, c := range rc.cmp {
			d, err := c.Eval(ctx, nil)
			if err != nil {
				return nil, err
			}
			if f.add(d) {
				break
			}
		}
		return f.result, nil
	}
	for i := range rc.cmp {
		if rc.lv[i] == types.DNull || rc.rv[i] == types.DNull {
			return types.DNull, nil
		}
		d, err := rc.eq[i].Eval(ctx, nil)
		if err != nil {
			return nil, err
		}
		if d == types.DTrue {
			continue
		}
		return rc.cmp[i].Eval(ctx, nil)
	}
	return types.DBool(rc.op == "<=" || rc.op == ">="), nil
}

// isRowCompareOp reports whether op compares rows.
func isRowCompareOp(op string) bool {
	switch op {
	case "=", "<>", "<", "<=", ">", ">=":
		return true
	}
	return false
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
	case pg_query.SubLinkType_ALL_SUBLINK:
		kind = subAll
	case pg_query.SubLinkType_ROWCOMPARE_SUBLINK:
		kind = subRow
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
	x.cte.sublinks++
	variant := x.cte.variantRefs
	sp, err := x.buildSelect(ctx, sel, b.ParamTypes)
	x.cte.sublinks--
	variant = x.cte.variantRefs - variant
	x.outer = saved
	if err != nil {
		return nil, err
	}
	s := &subqueryExpr{kind: kind, sp: sp, slot: slot, typ: types.Bool, args: args}
	if len(args) == 0 && variant == 0 && kind != subExists {
		s.cache = &subqueryCache{}
	}
	if (kind == subScalar || kind == subArray) && len(sp.cols) != 1 {
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
	case subAny, subAll, subRow:
		op := "="
		for _, n := range link.OperName {
			op = n.GetString_().GetSval()
		}
		if err := s.buildCompare(b, op, link.Testexpr); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// buildCompare builds the comparison of an ANY, ALL or row subquery: its
// left operand (a row or one expression) with the subquery's columns.
func (s *subqueryExpr) buildCompare(b *sem.Builder, op string, test *pg_query.Node) error {
	items := []*pg_query.Node{test}
	row := false
	if re := test.GetRowExpr(); re != nil {
		items, row = re.Args, true
	}
	cols := s.sp.cols
	switch {
	case len(cols) > len(items):
		return sqlerr.New(sqlerr.CodeSyntaxError, "subquery has too many columns")
	case len(cols) < len(items):
		return sqlerr.New(sqlerr.CodeSyntaxError, "subquery has too few columns")
	case row && !isRowCompareOp(op):
		return sqlerr.Newf(sqlerr.CodeUndefinedFunction, "could not determine interpretation of row comparison operator %s", op).
			WithHint("Row comparison operators must be associated with btree operator families.")
	}
	n := len(items)
	rc := &rowCompare{op: op, row: row, lv: make([]types.Datum, n), rv: make([]types.Datum, n)}
	for i, it := range items {
		colType := cols[i].typ
		if colType.Family() == types.UnknownFamily {
			colType = types.Text
		}
		left, err := b.Build(it, colType)
		if err != nil {
			return err
		}
		l := &valueRef{v: &rc.lv[i], typ: left.Type()}
		r := &valueRef{v: &rc.rv[i], typ: colType}
		c, err := b.BuildBinary(op, l, r)
		if err != nil {
			return err
		}
		if c.Type().Family() != types.BoolFamily {
			return sqlerr.Newf(sqlerr.CodeDatatypeMismatch, "op ANY/ALL (array) requires operator to yield boolean")
		}
		rc.cmp = append(rc.cmp, c)
		if row && op != "=" && op != "<>" {
			eq, err := b.BuildBinary("=", l, r)
			if err != nil {
				return err
			}
			rc.eq = append(rc.eq, eq)
		}
		s.tests = append(s.tests, left)
	}
	s.cmp = rc
	return nil
}

// rewriteRowComparisons rewrites the row comparisons of a statement into
// what the expression builder knows, as PostgreSQL's parse analysis does:
//
//   - (a, b) op (c, d) into comparisons of the pairs: = into a = c AND
//     b = d, <> into a <> c OR b <> d, < into a < c OR (a = c AND b < d)
//     (which has PostgreSQL's NULL semantics: the first pair that is not
//     equal decides, NULL if it has a NULL), and so on;
//   - (a, b) IS [NOT] DISTINCT FROM (c, d) likewise;
//   - (a, b) IS NULL into a IS NULL AND b IS NULL (IS NOT NULL likewise);
//   - (a, b) [NOT] IN ((c, d), ...) into an OR (AND) of row = (<>);
//   - (a, b) op (SELECT x, y) into a row comparison subquery.
func rewriteRowComparisons(stmt *parser.Statement) error {
	ast := stmt.AST
	if ast == nil {
		return nil
	}
	switch ast.Node.(type) {
	case *pg_query.Node_SelectStmt, *pg_query.Node_InsertStmt, *pg_query.Node_UpdateStmt,
		*pg_query.Node_DeleteStmt, *pg_query.Node_ExplainStmt:
	default:
		return nil
	}
	if stmt.SQL != "" && !maybeRowComparison.MatchString(stmt.SQL) {
		return nil // no need to walk the tree (a long INSERT ... VALUES)
	}
	var err error
	walkNodes(ast.ProtoReflect(), func(n *pg_query.Node) {
		if err != nil {
			return
		}
		if nt := n.GetNullTest(); nt != nil && nt.Arg.GetRowExpr() != nil {
			// ROW(a, b) IS NULL: every field is; IS NOT NULL: none is.
			var args []*pg_query.Node
			for _, f := range nt.Arg.GetRowExpr().Args {
				args = append(args, &pg_query.Node{Node: &pg_query.Node_NullTest{NullTest: &pg_query.NullTest{
					Arg: f, Nulltesttype: nt.Nulltesttype, Location: nt.Location}}})
			}
			if len(args) > 0 {
				n.Node = boolNode(pg_query.BoolExprType_AND_EXPR, args, nt.Location).Node
			}
			return
		}
		a := n.GetAExpr()
		if a == nil || a.Lexpr.GetRowExpr() == nil {
			return
		}
		var e *pg_query.Node
		if e, err = rewriteRowExpr(a); err == nil && e != nil {
			n.Node = e.Node
		}
	})
	return err
}

// maybeRowComparison matches the text of every statement that may have a
// row comparison (a closing parenthesis followed by a comparison), and
// few others.
var maybeRowComparison = regexp.MustCompile(`(?i)\)\s*(=|<|>|!|in\b|not\b|is\b)`)

func rewriteRowExpr(a *pg_query.A_Expr) (*pg_query.Node, error) {
	op := ""
	if len(a.Name) > 0 {
		op = a.Name[len(a.Name)-1].GetString_().GetSval()
	}
	left := a.Lexpr.GetRowExpr().Args
	switch a.Kind {
	case pg_query.A_Expr_Kind_AEXPR_OP:
		if sl := a.Rexpr.GetSubLink(); sl != nil && sl.SubLinkType == pg_query.SubLinkType_EXPR_SUBLINK {
			return &pg_query.Node{Node: &pg_query.Node_SubLink{SubLink: &pg_query.SubLink{
				SubLinkType: pg_query.SubLinkType_ROWCOMPARE_SUBLINK, Testexpr: a.Lexpr, OperName: a.Name,
				Subselect: sl.Subselect, Location: a.Location}}}, nil
		}
		re := a.Rexpr.GetRowExpr()
		if re == nil {
			return nil, nil
		}
		return rowCompareExpr(op, a.Name, left, re.Args, a.Location)
	case pg_query.A_Expr_Kind_AEXPR_DISTINCT, pg_query.A_Expr_Kind_AEXPR_NOT_DISTINCT:
		re := a.Rexpr.GetRowExpr()
		if re == nil {
			return nil, nil
		}
		if len(left) != len(re.Args) {
			return nil, sqlerr.New(sqlerr.CodeSyntaxError, "unequal number of entries in row expressions")
		}
		boolop := pg_query.BoolExprType_OR_EXPR
		if a.Kind == pg_query.A_Expr_Kind_AEXPR_NOT_DISTINCT {
			boolop = pg_query.BoolExprType_AND_EXPR
		}
		var args []*pg_query.Node
		for i := range left {
			args = append(args, pg_query.MakeAExprNode(a.Kind, a.Name, left[i], re.Args[i], a.Location))
		}
		return boolNode(boolop, args, a.Location), nil
	case pg_query.A_Expr_Kind_AEXPR_IN:
		items := a.Rexpr.GetList().GetItems()
		cmpOp, boolop := "=", pg_query.BoolExprType_OR_EXPR
		if op == "<>" {
			cmpOp, boolop = "<>", pg_query.BoolExprType_AND_EXPR
		}
		var args []*pg_query.Node
		for _, it := range items {
			re := it.GetRowExpr()
			if re == nil {
				return nil, sqlerr.New(sqlerr.CodeSyntaxError, "unequal number of entries in row expressions")
			}
			e, err := rowCompareExpr(cmpOp, []*pg_query.Node{pg_query.MakeStrNode(cmpOp)}, left, re.Args, a.Location)
			if err != nil {
				return nil, err
			}
			args = append(args, e)
		}
		return boolNode(boolop, args, a.Location), nil
	}
	return nil, nil
}

func boolNode(op pg_query.BoolExprType, args []*pg_query.Node, loc int32) *pg_query.Node {
	if len(args) == 1 {
		return args[0]
	}
	return pg_query.MakeBoolExprNode(op, args, loc)
}

// rowCompareExpr expands l op r over rows into comparisons of their pairs.
func rowCompareExpr(op string, name []*pg_query.Node, l, r []*pg_query.Node, loc int32) (*pg_query.Node, error) {
	if len(l) != len(r) {
		return nil, sqlerr.New(sqlerr.CodeSyntaxError, "unequal number of entries in row expressions")
	}
	if len(l) == 0 {
		return nil, sqlerr.Unsupportedf("cannot compare rows of zero length")
	}
	if !isRowCompareOp(op) {
		return nil, sqlerr.Newf(sqlerr.CodeUndefinedFunction, "could not determine interpretation of row comparison operator %s", op).
			WithHint("Row comparison operators must be associated with btree operator families.")
	}
	cmp := func(op string, i int) *pg_query.Node {
		n := name
		if op != name[len(name)-1].GetString_().GetSval() {
			n = []*pg_query.Node{pg_query.MakeStrNode(op)}
		}
		return pg_query.MakeAExprNode(pg_query.A_Expr_Kind_AEXPR_OP, n, l[i], r[i], loc)
	}
	switch op {
	case "=", "<>":
		var args []*pg_query.Node
		for i := range l {
			args = append(args, cmp(op, i))
		}
		if op == "=" {
			return boolNode(pg_query.BoolExprType_AND_EXPR, args, loc), nil
		}
		return boolNode(pg_query.BoolExprType_OR_EXPR, args, loc), nil
	}
	strict := op[:1] // < or >
	e := cmp(op, len(l)-1)
	for i := len(l) - 2; i >= 0; i-- {
		e = boolNode(pg_query.BoolExprType_OR_EXPR, []*pg_query.Node{cmp(strict, i),
			boolNode(pg_query.BoolExprType_AND_EXPR, []*pg_query.Node{cmp("=", i), e}, loc)}, loc)
	}
	return e, nil
}
