package sql

import (
	"context"
	"math"
	"sort"
	"strings"

	"github.com/cockroachdb/apd/v3"
	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// Hash aggregation (GROUP BY, HAVING, aggregate functions) of a
// single-table SELECT.
//
// The input rows (the table's, after WHERE) are grouped by the GROUP BY
// expressions; each group keeps one state per aggregate call. The
// aggregation emits one row per group laid out as
//
//	[group keys..., aggregate results...]
//
// and the SELECT list, HAVING and ORDER BY are evaluated over that row:
// while they are built, sem.Builder's AggregateHook turns each aggregate
// call into a placeholder (aggRef), and mapExpr then replaces the
// placeholders and the sub-expressions equal to a GROUP BY expression by
// references into the row; any other column reference is a grouping error
// (42803). A query with aggregates or HAVING but no GROUP BY has one group,
// so it returns exactly one row (before HAVING) even over no rows.

// Bounds of the hash aggregation and of DISTINCT (they do not spill);
// variables for tests.
var (
	// maxAggGroups bounds the groups of a hash aggregation (and the
	// distinct rows of SELECT DISTINCT).
	maxAggGroups = 1 << 20
	// maxAggMemory bounds the estimated memory of a hash aggregation's
	// groups and states (and of a DISTINCT's hash set).
	maxAggMemory int64 = 256 << 20
)

// Rough per-entry overheads for the memory estimate.
const (
	groupOverhead = 96 // map entry, group struct, slices
	stateOverhead = 48 // one aggregate state
	datumOverhead = 16 // an interface value
)

// aggKind is an implemented aggregate function.
type aggKind uint8

const (
	aggCount aggKind = iota
	aggSum
	aggAvg
	aggMin
	aggMax
	aggBoolAnd
	aggBoolOr
	aggStringAgg
	aggArrayAgg
	aggAnyValue
	aggBitAnd
	aggBitOr
	aggBitXor
	aggFirst // a column functionally dependent on the GROUP BY (primary key)
)

var aggKinds = map[string]aggKind{
	"count": aggCount, "sum": aggSum, "avg": aggAvg, "min": aggMin, "max": aggMax,
	"bool_and": aggBoolAnd, "every": aggBoolAnd, "bool_or": aggBoolOr,
	"string_agg": aggStringAgg, "array_agg": aggArrayAgg, "any_value": aggAnyValue,
	"bit_and": aggBitAnd, "bit_or": aggBitOr, "bit_xor": aggBitXor,
}

// aggFunc is one aggregate call of the query.
type aggFunc struct {
	kind     aggKind
	text     string      // as EXPLAIN and messages show it
	typ      *types.Type // result type
	args     []sem.Expr  // over the source row
	distinct bool
	filter   sem.Expr  // FILTER (WHERE ...), over the source row; nil: none
	order    []sortKey // ORDER BY inside the call, over the source row
	// add and div compute, over a row [a, b], a + b (sum and avg of
	// numeric, float4, interval) and a / b (avg: sum / count).
	add, div sem.Expr
}

// aggPlan is the aggregation of a SELECT.
type aggPlan struct {
	src     *source
	keys    []sem.Expr // GROUP BY expressions, over the source row
	keyText []string   // exprKey of keys
	aggs    []*aggFunc
	byText  map[string]int // an aggregate call's text → index in aggs
	having  sem.Expr       // over the aggregation's output row; nil: none
	// pkGrouped: the ranges of source columns of the tables whose every
	// primary key column is in the GROUP BY, so every column of the table
	// is functionally dependent on it and may be used (carried by an
	// aggFirst aggregate).
	pkGrouped [][2]int
	carried   map[int]int // column index → index in aggs
}

// aggRef stands for an aggregate's result while an expression is built;
// mapExpr replaces it with a ColumnRef into the aggregation's output.
type aggRef struct {
	idx int
	fn  *aggFunc
}

func (r *aggRef) Type() *types.Type { return r.fn.typ }
func (r *aggRef) String() string    { return r.fn.text }
func (r *aggRef) Eval(*sem.EvalContext, []types.Datum) (types.Datum, error) {
	return nil, sqlerr.Internalf("aggregate %s evaluated outside an aggregation", r.fn.text)
}

// exprKey is a canonical text of e, equal for two expressions that compute
// the same thing (column references are by position, not by spelling), to
// match expressions against GROUP BY, the SELECT list and arguments.
func exprKey(e sem.Expr) string {
	e = sem.Rewrite(e, func(x sem.Expr) sem.Expr {
		if c, ok := x.(*sem.ColumnRef); ok && c.Name != "" {
			return &sem.ColumnRef{Idx: c.Idx, Typ: c.Typ}
		}
		return x
	})
	return e.String() + "::" + e.Type().Name()
}

// needsAggregation reports whether the query aggregates: it has GROUP BY
// or HAVING, or an aggregate call in its SELECT list, ORDER BY or
// DISTINCT ON (not counting those of subqueries).
func needsAggregation(sel *pg_query.SelectStmt) bool {
	if len(sel.GroupClause) > 0 || sel.HavingClause != nil {
		return true
	}
	for _, list := range [][]*pg_query.Node{sel.TargetList, sel.SortClause, sel.DistinctClause} {
		for _, n := range list {
			if n != nil && hasAggregateCall(n.ProtoReflect()) {
				return true
			}
		}
	}
	return false
}

// hasAggregateCall walks a parse tree for a call of an aggregate function
// (without OVER), not descending into subqueries.
func hasAggregateCall(m protoreflect.Message) bool {
	switch v := m.Interface().(type) {
	case *pg_query.SubLink:
		return false
	case *pg_query.FuncCall:
		if v.Over == nil && len(v.Funcname) > 0 {
			schema := ""
			if len(v.Funcname) > 1 {
				schema = v.Funcname[len(v.Funcname)-2].GetString_().GetSval()
			}
			if (schema == "" || schema == "pg_catalog") && sem.IsAggregate(v.Funcname[len(v.Funcname)-1].GetString_().GetSval()) {
				return true
			}
		}
	}
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind {
			return true
		}
		if fd.IsList() {
			l := val.List()
			for i := 0; i < l.Len() && !found; i++ {
				found = hasAggregateCall(l.Get(i).Message())
			}
		} else if !fd.IsMap() {
			found = hasAggregateCall(val.Message())
		}
		return !found
	})
	return found
}

// selectItem is an entry of the SELECT list with * expanded.
type selectItem struct {
	node *pg_query.Node // nil for a column of *
	col  nsCol          // the source column of a * entry
	name string
}

func expandTargets(src *source, list []*pg_query.Node) ([]selectItem, error) {
	var items []selectItem
	for _, n := range list {
		rt := n.GetResTarget()
		if q, ok := starQualifier(rt.GetVal()); ok {
			star, err := src.star(q)
			if err != nil {
				return nil, err
			}
			for _, c := range star {
				items = append(items, selectItem{col: c, name: c.name})
			}
			continue
		}
		name := rt.Name
		if name == "" {
			name = columnName(rt.Val)
		}
		items = append(items, selectItem{node: rt.Val, name: name})
	}
	return items, nil
}

// planAggregation plans the GROUP BY, SELECT list and HAVING of an
// aggregating query into sp (ORDER BY and DISTINCT ON come after, through
// sp.agg.buildExpr).
func (x *execCtx) planAggregation(src *source, sel *pg_query.SelectStmt, params []*types.Type, sp *selectPlan) error {
	ap := &aggPlan{src: src, byText: map[string]int{}, carried: map[int]int{}}
	sp.agg = ap
	items, err := expandTargets(src, sel.TargetList)
	if err != nil {
		return err
	}
	// GROUP BY: a bare name is an input column first, then an output
	// column; an integer is an output column's position.
	for _, n := range sel.GroupClause {
		if gs := n.GetGroupingSet(); gs != nil {
			if gs.Kind == pg_query.GroupingSetKind_GROUPING_SET_EMPTY {
				continue
			}
			return sqlerr.Unsupportedf("GROUPING SETS, ROLLUP and CUBE are not supported yet")
		}
		e, err := x.groupExpr(src, n, items, params)
		if err != nil {
			return err
		}
		k := exprKey(e)
		dup := false
		for _, have := range ap.keyText {
			dup = dup || have == k
		}
		if !dup {
			ap.keys = append(ap.keys, e)
			ap.keyText = append(ap.keyText, k)
		}
	}
	ap.pkGrouped = ap.groupsPrimaryKey()
	for _, it := range items {
		var e sem.Expr
		var col resultCol
		if it.node == nil {
			c := it.col
			e = src.colRef(c)
			col = resultCol{name: c.name, typ: c.typ, tableOID: c.tableOID, attNum: c.attNum}
		} else {
			b := x.builder(src, params, "SELECT")
			b.AggregateHook = ap.hook
			if e, err = b.Build(it.node, nil); err != nil {
				return err
			}
			col = resultCol{name: it.name, typ: e.Type()}
		}
		if e, err = ap.mapExpr(e); err != nil {
			return err
		}
		sp.targets = append(sp.targets, e)
		sp.cols = append(sp.cols, col)
	}
	if sel.HavingClause != nil {
		b := x.builder(src, params, "HAVING")
		b.AggregateHook = ap.hook
		e, err := b.BuildCondition(sel.HavingClause)
		if err != nil {
			return err
		}
		if ap.having, err = ap.mapExpr(e); err != nil {
			return err
		}
	}
	return nil
}

// groupExpr resolves a GROUP BY item over the source row.
func (x *execCtx) groupExpr(src *source, n *pg_query.Node, items []selectItem, params []*types.Type) (sem.Expr, error) {
	buildItem := func(it selectItem) (sem.Expr, error) {
		if it.node == nil {
			return src.colRef(it.col), nil
		}
		return x.builder(src, params, "GROUP BY").Build(it.node, nil)
	}
	if pos, isConst, err := constPosition(n, "GROUP BY"); isConst {
		if err != nil {
			return nil, err
		}
		if pos < 1 || pos > len(items) {
			return nil, sqlerr.Newf("42P10", "GROUP BY position %d is not in select list", pos)
		}
		return buildItem(items[pos-1])
	}
	if cr := n.GetColumnRef(); cr != nil && len(cr.Fields) == 1 && cr.Fields[0].GetString_() != nil {
		name := cr.Fields[0].GetString_().GetSval()
		if sc := src.resolver(); sc == nil || !resolves(sc, name) {
			var found sem.Expr
			for _, it := range items {
				if it.name != name {
					continue
				}
				e, err := buildItem(it)
				if err != nil {
					return nil, err
				}
				if found != nil && exprKey(found) != exprKey(e) {
					return nil, sqlerr.Newf(sem.CodeAmbiguousColumn, "GROUP BY %q is ambiguous", name)
				}
				if found == nil {
					found = e
				}
			}
			if found != nil {
				return found, nil
			}
		}
	}
	return x.builder(src, params, "GROUP BY").Build(n, nil)
}

// resolves reports whether an unqualified name resolves in sc (an
// ambiguous name does: it is an error there, not an output column).
func resolves(sc sem.Scope, name string) bool {
	_, _, err := sc.ResolveColumn(nil, name)
	return err == nil || sqlerr.CodeOf(err) == sem.CodeAmbiguousColumn
}

// constPosition reads an ORDER BY, GROUP BY or DISTINCT ON item that is a
// constant: an integer is an output column position; another constant is
// an error, as in PostgreSQL.
func constPosition(n *pg_query.Node, clause string) (pos int, isConst bool, err error) {
	c := n.GetAConst()
	if c == nil {
		return 0, false, nil
	}
	switch v := c.Val.(type) {
	case *pg_query.A_Const_Ival:
		return int(v.Ival.Ival), true, nil
	case nil:
		if !c.Isnull {
			return 0, true, nil // pg_query's protobuf leaves out an integer 0
		}
	}
	return 0, true, sqlerr.Newf(sqlerr.CodeSyntaxError, "non-integer constant in %s", clause)
}

// groupsPrimaryKey returns the column ranges of the source's tables whose
// every primary key column is a GROUP BY key (as a bare column).
func (ap *aggPlan) groupsPrimaryKey() [][2]int {
	var out [][2]int
	for _, t := range ap.src.tables() {
		d := t.desc
		if len(d.PrimaryIndex.ColumnIDs) == 0 {
			continue
		}
		all := true
		for _, id := range d.PrimaryIndex.ColumnIDs {
			ord, ok := t.offset+d.ColumnOrdinal(id), false
			for _, k := range ap.keys {
				if c, isCol := k.(*sem.ColumnRef); isCol && c.Idx == ord {
					ok = true
				}
			}
			all = all && ok
		}
		if all {
			out = append(out, [2]int{t.offset, t.offset + len(d.Columns)})
		}
	}
	return out
}

// functionallyDependent reports whether a source column is determined by
// the GROUP BY (a column of a table whose primary key is grouped).
func (ap *aggPlan) functionallyDependent(idx int) bool {
	for _, r := range ap.pkGrouped {
		if idx >= r[0] && idx < r[1] {
			return true
		}
	}
	return false
}

// buildExpr builds an expression evaluated after the aggregation (ORDER
// BY, DISTINCT ON) over the output row.
func (ap *aggPlan) buildExpr(x *execCtx, n *pg_query.Node, params []*types.Type, clause string) (sem.Expr, error) {
	b := x.builder(ap.src, params, clause)
	b.AggregateHook = ap.hook
	e, err := b.Build(n, nil)
	if err != nil {
		return nil, err
	}
	return ap.mapExpr(e)
}

// mapExpr rewrites an expression built over the source row (with aggRef
// placeholders) into one over the aggregation's output row.
func (ap *aggPlan) mapExpr(e sem.Expr) (sem.Expr, error) {
	if r, ok := e.(*aggRef); ok {
		return &sem.ColumnRef{Idx: len(ap.keys) + r.idx, Typ: r.fn.typ, Name: r.fn.text}, nil
	}
	if len(ap.keys) > 0 {
		k := exprKey(e)
		for i, kt := range ap.keyText {
			if kt == k {
				return &sem.ColumnRef{Idx: i, Typ: ap.keys[i].Type(), Name: e.String()}, nil
			}
		}
	}
	switch v := e.(type) {
	case *sem.ColumnRef:
		if ap.functionallyDependent(v.Idx) {
			return ap.carry(v), nil
		}
		name := v.Name
		if n := ap.src.columnName(v.Idx); n != "" {
			name = n
		}
		return nil, sqlerr.Newf(sem.CodeGroupingError, "column \"%s\" must appear in the GROUP BY clause or be used in an aggregate function", name)
	case sem.Parent:
		kids := v.Children()
		out := make([]sem.Expr, len(kids))
		changed := false
		for i, c := range kids {
			m, err := ap.mapExpr(c)
			if err != nil {
				return nil, err
			}
			out[i] = m
			changed = changed || m != c
		}
		if changed {
			return v.WithChildren(out), nil
		}
	}
	return e, nil
}

// carry returns the output reference of a column functionally dependent
// on the GROUP BY: its value in the group's first row.
func (ap *aggPlan) carry(c *sem.ColumnRef) sem.Expr {
	i, ok := ap.carried[c.Idx]
	if !ok {
		i = len(ap.aggs)
		ap.aggs = append(ap.aggs, &aggFunc{kind: aggFirst, text: c.String(), typ: c.Typ,
			args: []sem.Expr{&sem.ColumnRef{Idx: c.Idx, Typ: c.Typ, Name: c.Name}}})
		ap.carried[c.Idx] = i
	}
	return &sem.ColumnRef{Idx: len(ap.keys) + i, Typ: c.Typ, Name: c.String()}
}

func errNestedAggregate(_ *sem.Builder, fc *pg_query.FuncCall) (sem.Expr, error) {
	if fc.Over != nil {
		return nil, sqlerr.New(sem.CodeGroupingError, "aggregate function calls cannot contain window function calls")
	}
	return nil, sqlerr.New(sem.CodeGroupingError, "aggregate function calls cannot be nested")
}

// hook is the AggregateHook: it builds the call's arguments over the
// source row, registers the aggregate (once per distinct call) and returns
// its placeholder.
func (ap *aggPlan) hook(b *sem.Builder, fc *pg_query.FuncCall) (sem.Expr, error) {
	name := strings.ToLower(fc.Funcname[len(fc.Funcname)-1].GetString_().GetSval())
	switch {
	case fc.Over != nil:
		return nil, sqlerr.Unsupportedf("window functions are not supported yet")
	case fc.AggWithinGroup:
		return nil, sqlerr.Unsupportedf("WITHIN GROUP is not supported yet")
	case fc.FuncVariadic:
		return nil, sqlerr.Unsupportedf("VARIADIC arguments are not supported")
	}
	kind, ok := aggKinds[name]
	if !ok {
		return nil, sqlerr.Unsupportedf("aggregate function %s is not supported yet", name)
	}
	inner := &sem.Builder{Scope: b.Scope, ParamTypes: b.ParamTypes, Settings: b.Settings, Clause: b.Clause,
		AggregateHook: errNestedAggregate, OuterHook: b.OuterHook}
	defer func() { b.ParamTypes = inner.ParamTypes }()

	f := &aggFunc{kind: kind, distinct: fc.AggDistinct}
	if fc.AggStar {
		if kind != aggCount {
			return nil, sqlerr.Newf(sqlerr.CodeUndefinedFunction, "function %s() does not exist", name)
		}
	} else {
		for i, n := range fc.Args {
			if n.GetNamedArgExpr() != nil {
				return nil, sqlerr.Unsupportedf("named arguments are not supported")
			}
			var desired *types.Type
			switch {
			case kind == aggBoolAnd || kind == aggBoolOr:
				desired = types.Bool
			case kind == aggStringAgg && i == 1:
				desired = types.Text
				if f.args[0].Type().Family() == types.BytesFamily {
					desired = types.Bytes
				}
			}
			e, err := inner.Build(n, desired)
			if err != nil {
				return nil, err
			}
			f.args = append(f.args, e)
		}
	}
	argTypes := make([]*types.Type, len(f.args))
	for i, a := range f.args {
		argTypes[i] = a.Type()
	}
	wantArgs := 1
	switch {
	case kind == aggStringAgg:
		wantArgs = 2
	case fc.AggStar:
		wantArgs = 0
	}
	if len(f.args) != wantArgs {
		return nil, sqlerr.Newf(sqlerr.CodeUndefinedFunction, "function %s(%s) does not exist", name, typeList(argTypes)).
			WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
	}
	var err error
	if f.typ, err = sem.AggregateType(name, argTypes); err != nil {
		return nil, err
	}
	if err := f.prepare(inner); err != nil {
		return nil, err
	}
	if fc.AggFilter != nil {
		inner.Clause = "FILTER"
		inner.AggregateHook = func(_ *sem.Builder, fc *pg_query.FuncCall) (sem.Expr, error) {
			if fc.Over != nil {
				return nil, sqlerr.New("42P20", "window functions are not allowed in FILTER")
			}
			return nil, sqlerr.New(sem.CodeGroupingError, "aggregate functions are not allowed in FILTER")
		}
		if f.filter, err = inner.BuildCondition(fc.AggFilter); err != nil {
			return nil, err
		}
	}
	for _, n := range fc.AggOrder {
		by := n.GetSortBy()
		if len(by.UseOp) > 0 {
			return nil, sqlerr.Unsupportedf("ORDER BY ... USING is not supported")
		}
		inner.Clause = "ORDER BY"
		e, err := inner.Build(by.Node, nil)
		if err != nil {
			return nil, err
		}
		if f.distinct {
			found := false
			for _, a := range f.args {
				found = found || exprKey(a) == exprKey(e)
			}
			if !found {
				return nil, sqlerr.New("42P10", "in an aggregate with DISTINCT, ORDER BY expressions must appear in argument list")
			}
		}
		f.order = append(f.order, makeSortKey(e, by))
	}
	f.text = aggText(name, fc.AggStar, f)
	key := f.text
	for _, a := range f.args {
		key += "|" + exprKey(a)
	}
	if f.filter != nil {
		key += "|F" + exprKey(f.filter)
	}
	for _, k := range f.order {
		key += "|O" + exprKey(k.expr)
		if k.desc {
			key += " DESC"
		}
		if k.nullsFirst {
			key += " NF"
		}
	}
	if f.distinct && len(f.order) == 0 && (kind == aggStringAgg || kind == aggArrayAgg) {
		// PostgreSQL sorts the input of a DISTINCT aggregate: the order
		// shows in string_agg's and array_agg's results.
		for _, a := range f.args {
			f.order = append(f.order, sortKey{expr: a})
		}
	}
	idx, ok := ap.byText[key]
	if !ok {
		idx = len(ap.aggs)
		ap.aggs = append(ap.aggs, f)
		ap.byText[key] = idx
	}
	return &aggRef{idx: idx, fn: ap.aggs[idx]}, nil
}

// makeSortKey makes an ORDER BY key with PostgreSQL's default NULL order
// (NULLs sort as larger than every value).
func makeSortKey(e sem.Expr, by *pg_query.SortBy) sortKey {
	k := sortKey{expr: e, desc: by.SortbyDir == pg_query.SortByDir_SORTBY_DESC}
	k.nullsFirst = k.desc
	switch by.SortbyNulls {
	case pg_query.SortByNulls_SORTBY_NULLS_FIRST:
		k.nullsFirst = true
	case pg_query.SortByNulls_SORTBY_NULLS_LAST:
		k.nullsFirst = false
	}
	return k
}

func typeList(ts []*types.Type) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.Name()
	}
	return strings.Join(s, ", ")
}

func aggText(name string, star bool, f *aggFunc) string {
	var sb strings.Builder
	sb.WriteString(name + "(")
	if star {
		sb.WriteString("*")
	}
	if f.distinct {
		sb.WriteString("DISTINCT ")
	}
	for i, a := range f.args {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(a.String())
	}
	for i, k := range f.order {
		if i == 0 {
			sb.WriteString(" ORDER BY ")
		} else {
			sb.WriteString(", ")
		}
		sb.WriteString(k.expr.String())
		if k.desc {
			sb.WriteString(" DESC")
		}
	}
	sb.WriteString(")")
	if f.filter != nil {
		sb.WriteString(" FILTER (WHERE " + f.filter.String() + ")")
	}
	return sb.String()
}

// prepare coerces the arguments and builds the arithmetic an aggregate
// needs, with PostgreSQL's operators (exact numeric addition and
// division, float4 rounding, interval arithmetic).
func (f *aggFunc) prepare(b *sem.Builder) error {
	col := func(i int, t *types.Type) sem.Expr { return &sem.ColumnRef{Idx: i, Typ: t} }
	var err error
	switch f.kind {
	case aggStringAgg:
		for i := range f.args {
			if f.args[i], err = b.Coerce(f.args[i], f.typ, types.CoercionImplicit); err != nil {
				return err
			}
		}
	case aggSum:
		if f.typ.Family() != types.IntFamily && f.args[0].Type().Family() != types.IntFamily {
			f.add, err = b.BuildBinary("+", col(0, f.typ), col(1, f.typ))
		}
	case aggAvg:
		switch f.args[0].Type().Family() {
		case types.IntFamily:
			f.div, err = b.BuildBinary("/", col(0, types.Numeric), col(1, types.Numeric))
		case types.NumericFamily:
			if f.add, err = b.BuildBinary("+", col(0, types.Numeric), col(1, types.Numeric)); err == nil {
				f.div, err = b.BuildBinary("/", col(0, types.Numeric), col(1, types.Numeric))
			}
		case types.IntervalFamily:
			if f.add, err = b.BuildBinary("+", col(0, types.Interval), col(1, types.Interval)); err == nil {
				f.div, err = b.BuildBinary("/", col(0, types.Interval), col(1, types.Float8))
			}
		}
	}
	return err
}

// nullPolicy says which input rows an aggregate skips: PostgreSQL's
// strict transition functions skip a row with a NULL argument;
// string_agg skips a NULL value (a NULL delimiter is empty); array_agg
// keeps NULLs.
func (f *aggFunc) skips(args []types.Datum) bool {
	switch f.kind {
	case aggArrayAgg, aggFirst:
		return false
	case aggStringAgg:
		return args[0] == types.DNull
	}
	for _, a := range args {
		if a == types.DNull {
			return true
		}
	}
	return false
}

// aggState is the running state of one aggregate in one group.
type aggState interface {
	// add feeds one input row's arguments (not kept: copy to keep) and
	// returns the growth of the state's memory, in bytes.
	add(ev *sem.EvalContext, args []types.Datum) (int64, error)
	result(ev *sem.EvalContext) (types.Datum, error)
}

func (f *aggFunc) newState() aggState {
	var s aggState
	switch f.kind {
	case aggCount:
		s = &countState{}
	case aggSum, aggAvg:
		avg := f.kind == aggAvg
		switch t := f.args[0].Type(); {
		case t.Family() == types.IntFamily:
			s = &intSumState{avg: avg, div: f.div, toInt8: f.typ.Family() == types.IntFamily}
		case t.Family() == types.FloatFamily && avg:
			s = &floatAvgState{}
		default:
			s = &exprSumState{plus: f.add, div: f.div, interval: t.Family() == types.IntervalFamily}
		}
	case aggMin:
		s = &minMaxState{}
	case aggMax:
		s = &minMaxState{max: true}
	case aggBoolAnd:
		s = &boolState{and: true}
	case aggBoolOr:
		s = &boolState{}
	case aggStringAgg:
		s = &stringAggState{bytes: f.typ.Family() == types.BytesFamily}
	case aggArrayAgg:
		s = &arrayAggState{elem: f.typ.Elem()}
	case aggAnyValue, aggFirst:
		s = &firstState{}
	case aggBitAnd, aggBitOr, aggBitXor:
		s = &bitState{kind: f.kind}
	}
	if len(f.order) > 0 {
		return &orderedState{f: f, inner: s}
	}
	if f.distinct {
		return &distinctState{inner: s, seen: map[string]struct{}{}}
	}
	return s
}

type countState struct{ n int64 }

func (s *countState) add(*sem.EvalContext, []types.Datum) (int64, error) { s.n++; return 0, nil }
func (s *countState) result(*sem.EvalContext) (types.Datum, error)       { return types.DInt(s.n), nil }

// intSumState sums integers exactly: in an int64 while it fits, then in a
// big integer (sum(int8) and avg are numeric). sum(int2/int4) is bigint,
// as in PostgreSQL, and fails with 22003 rather than wrap.
type intSumState struct {
	n      int64
	big    *apd.BigInt // the sum, once it left int64
	count  int64
	toInt8 bool
	avg    bool
	div    sem.Expr
}

func (s *intSumState) add(_ *sem.EvalContext, args []types.Datum) (int64, error) {
	v := int64(args[0].(types.DInt))
	s.count++
	if s.big != nil {
		s.big.Add(s.big, apd.NewBigInt(v))
		return 0, nil
	}
	r := s.n + v
	if (v > 0 && r < s.n) || (v < 0 && r > s.n) {
		if s.toInt8 {
			return 0, sqlerr.New(sqlerr.CodeNumericValueOutOfRange, "bigint out of range")
		}
		s.big = apd.NewBigInt(s.n)
		s.big.Add(s.big, apd.NewBigInt(v))
		return 0, nil
	}
	s.n = r
	return 0, nil
}

func (s *intSumState) sum() (types.Datum, error) {
	if s.big != nil {
		return types.NewDDecimal(apd.NewWithBigInt(s.big, 0))
	}
	return types.NewDDecimal(apd.New(s.n, 0))
}

func (s *intSumState) result(ev *sem.EvalContext) (types.Datum, error) {
	if s.count == 0 {
		return types.DNull, nil
	}
	if s.toInt8 {
		return types.DInt(s.n), nil
	}
	sum, err := s.sum()
	if err != nil || !s.avg {
		return sum, err
	}
	n, err := types.NewDDecimal(apd.New(s.count, 0))
	if err != nil {
		return nil, err
	}
	return s.div.Eval(ev, []types.Datum{sum, n})
}

// floatAvgState is avg of float4/float8: the float8 sum over the count,
// with float8_accum's overflow check.
type floatAvgState struct {
	sum   float64
	count int64
}

func (s *floatAvgState) add(_ *sem.EvalContext, args []types.Datum) (int64, error) {
	v := float64(args[0].(types.DFloat))
	r := s.sum + v
	if math.IsInf(r, 0) && !math.IsInf(s.sum, 0) && !math.IsInf(v, 0) {
		return 0, sqlerr.New(sqlerr.CodeNumericValueOutOfRange, "value out of range: overflow")
	}
	s.sum = r
	s.count++
	return 0, nil
}

func (s *floatAvgState) result(*sem.EvalContext) (types.Datum, error) {
	if s.count == 0 {
		return types.DNull, nil
	}
	return types.DFloat(s.sum / float64(s.count)), nil
}

// exprSumState sums with the type's + operator (numeric, float4, float8,
// interval); avg divides by the count (numeric / numeric, interval /
// float8).
type exprSumState struct {
	plus, div sem.Expr
	acc       types.Datum
	count     int64
	interval  bool
	buf       [2]types.Datum
}

func (s *exprSumState) add(ev *sem.EvalContext, args []types.Datum) (int64, error) {
	v := args[0]
	s.count++
	if s.acc == nil {
		s.acc = v
		return 0, nil
	}
	s.buf[0], s.buf[1] = s.acc, v
	r, err := s.plus.Eval(ev, s.buf[:])
	if err != nil {
		return 0, err
	}
	grow := int64(r.Size() - s.acc.Size())
	s.acc = r
	return grow, nil
}

func (s *exprSumState) result(ev *sem.EvalContext) (types.Datum, error) {
	if s.count == 0 {
		return types.DNull, nil
	}
	if s.div == nil {
		return s.acc, nil
	}
	var n types.Datum = types.DFloat(float64(s.count))
	if !s.interval {
		var err error
		if n, err = types.NewDDecimal(apd.New(s.count, 0)); err != nil {
			return nil, err
		}
	}
	return s.div.Eval(ev, []types.Datum{s.acc, n})
}

type minMaxState struct {
	v   types.Datum
	max bool
}

func (s *minMaxState) add(_ *sem.EvalContext, args []types.Datum) (int64, error) {
	d := args[0]
	if s.v == nil {
		s.v = d
		return int64(d.Size()), nil
	}
	if c := types.Compare(d, s.v); (s.max && c > 0) || (!s.max && c < 0) {
		grow := int64(d.Size() - s.v.Size())
		s.v = d
		return grow, nil
	}
	return 0, nil
}

func (s *minMaxState) result(*sem.EvalContext) (types.Datum, error) {
	if s.v == nil {
		return types.DNull, nil
	}
	return s.v, nil
}

type boolState struct {
	and, seen, v bool
}

func (s *boolState) add(_ *sem.EvalContext, args []types.Datum) (int64, error) {
	b := bool(args[0].(types.DBool))
	switch {
	case !s.seen:
		s.v = b
	case s.and:
		s.v = s.v && b
	default:
		s.v = s.v || b
	}
	s.seen = true
	return 0, nil
}

func (s *boolState) result(*sem.EvalContext) (types.Datum, error) {
	if !s.seen {
		return types.DNull, nil
	}
	return types.MakeDBool(s.v), nil
}

type bitState struct {
	kind aggKind
	seen bool
	v    int64
}

func (s *bitState) add(_ *sem.EvalContext, args []types.Datum) (int64, error) {
	b := int64(args[0].(types.DInt))
	switch {
	case !s.seen:
		s.v = b
	case s.kind == aggBitAnd:
		s.v &= b
	case s.kind == aggBitOr:
		s.v |= b
	default:
		s.v ^= b
	}
	s.seen = true
	return 0, nil
}

func (s *bitState) result(*sem.EvalContext) (types.Datum, error) {
	if !s.seen {
		return types.DNull, nil
	}
	return types.DInt(s.v), nil
}

// stringAggState is string_agg: each value after the first is preceded by
// its row's delimiter (none if NULL).
type stringAggState struct {
	bytes bool
	seen  bool
	buf   []byte
}

func appendBytes(buf []byte, d types.Datum) []byte {
	switch v := d.(type) {
	case types.DString:
		return append(buf, v...)
	case types.DBytes:
		return append(buf, v...)
	}
	return buf
}

func (s *stringAggState) add(_ *sem.EvalContext, args []types.Datum) (int64, error) {
	n := len(s.buf)
	if s.seen {
		s.buf = appendBytes(s.buf, args[1])
	}
	s.buf = appendBytes(s.buf, args[0])
	s.seen = true
	return int64(len(s.buf) - n), nil
}

func (s *stringAggState) result(*sem.EvalContext) (types.Datum, error) {
	switch {
	case !s.seen:
		return types.DNull, nil
	case s.bytes:
		return types.DBytes(append([]byte(nil), s.buf...)), nil
	}
	return types.DString(s.buf), nil
}

type arrayAggState struct {
	elem  *types.Type
	elems []types.Datum
}

func (s *arrayAggState) add(_ *sem.EvalContext, args []types.Datum) (int64, error) {
	s.elems = append(s.elems, args[0])
	return int64(args[0].Size() + datumOverhead), nil
}

func (s *arrayAggState) result(*sem.EvalContext) (types.Datum, error) {
	if len(s.elems) == 0 {
		return types.DNull, nil
	}
	return types.NewDArray(s.elem, append([]types.Datum(nil), s.elems...)), nil
}

// firstState keeps the first value: any_value, and the columns carried
// through a GROUP BY of the primary key.
type firstState struct{ v types.Datum }

func (s *firstState) add(_ *sem.EvalContext, args []types.Datum) (int64, error) {
	if s.v != nil {
		return 0, nil
	}
	s.v = args[0]
	return int64(s.v.Size()), nil
}

func (s *firstState) result(*sem.EvalContext) (types.Datum, error) {
	if s.v == nil {
		return types.DNull, nil
	}
	return s.v, nil
}

// distinctState feeds its aggregate each distinct argument list once.
type distinctState struct {
	inner aggState
	seen  map[string]struct{}
	buf   []byte
}

func (s *distinctState) add(ev *sem.EvalContext, args []types.Datum) (int64, error) {
	s.buf = s.buf[:0]
	for _, a := range args {
		s.buf = types.EncodeKey(s.buf, a)
	}
	if _, ok := s.seen[string(s.buf)]; ok {
		return 0, nil
	}
	s.seen[string(s.buf)] = struct{}{}
	grow, err := s.inner.add(ev, args)
	return grow + int64(len(s.buf)+groupOverhead/2), err
}

func (s *distinctState) result(ev *sem.EvalContext) (types.Datum, error) { return s.inner.result(ev) }

// orderedState buffers the rows of an aggregate with ORDER BY and feeds
// them in order (once per distinct argument list with DISTINCT).
type orderedState struct {
	f     *aggFunc
	inner aggState
	rows  [][]types.Datum // args..., sort keys...
}

func (s *orderedState) addRow(row []types.Datum) int64 {
	s.rows = append(s.rows, row)
	n := int64(datumOverhead * (len(row) + 2))
	for _, d := range row {
		n += int64(d.Size())
	}
	return n
}

func (s *orderedState) add(_ *sem.EvalContext, args []types.Datum) (int64, error) {
	// The sort keys were appended after the arguments by the caller
	// (aggGroup.add): args holds both.
	return s.addRow(append([]types.Datum(nil), args...)), nil
}

func (s *orderedState) result(ev *sem.EvalContext) (types.Datum, error) {
	nargs := len(s.f.args)
	cmp := sortIter{keys: s.f.order, width: nargs}
	sort.SliceStable(s.rows, func(i, j int) bool { return cmp.less(s.rows[i], s.rows[j]) })
	inner := s.inner
	if s.f.distinct {
		inner = &distinctState{inner: inner, seen: map[string]struct{}{}}
	}
	for _, r := range s.rows {
		if _, err := inner.add(ev, r[:nargs]); err != nil {
			return nil, err
		}
	}
	s.rows = nil
	return inner.result(ev)
}

// aggGroup is one group: its key values and aggregate states.
type aggGroup struct {
	keys   []types.Datum
	states []aggState
}

// aggIter runs a hash aggregation over its input (filtered by WHERE) and
// returns a row per group: [keys..., aggregate results...].
type aggIter struct {
	plan  *aggPlan
	in    rowIter
	where sem.Expr
	ev    *sem.EvalContext
	// memLimit bounds the groups' memory (hashMemBytes; 0: maxAggMemory).
	memLimit int64
	out      [][]types.Datum
	i        int
	ready    bool
}

func (a *aggIter) Next(ctx context.Context) ([]types.Datum, error) {
	if !a.ready {
		if err := a.run(ctx); err != nil {
			return nil, err
		}
		a.ready = true
	}
	if a.i >= len(a.out) {
		return nil, nil
	}
	a.i++
	row := a.out[a.i-1]
	a.out[a.i-1] = nil
	return row, nil
}

func (a *aggIter) RowsAffected() int64 { return 0 }
func (a *aggIter) Close()              { a.in.Close() }

func (a *aggIter) newGroup(keys []types.Datum) (*aggGroup, int64) {
	g := &aggGroup{keys: keys, states: make([]aggState, len(a.plan.aggs))}
	mem := int64(groupOverhead + stateOverhead*len(g.states))
	for i, f := range a.plan.aggs {
		g.states[i] = f.newState()
	}
	for _, k := range keys {
		mem += int64(k.Size() + datumOverhead)
	}
	return g, mem
}

func (a *aggIter) run(ctx context.Context) error {
	p := a.plan
	groups := map[string]*aggGroup{}
	var order []*aggGroup
	var mem int64
	var keyBuf []byte
	keyVals := make([]types.Datum, len(p.keys))
	var argBuf []types.Datum
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		row, err := a.in.Next(ctx)
		if err != nil {
			return err
		}
		if row == nil {
			break
		}
		if a.where != nil {
			ok, err := a.where.Eval(a.ev, row)
			if err != nil {
				return err
			}
			if ok != types.DBool(true) {
				continue
			}
		}
		keyBuf = keyBuf[:0]
		for i, k := range p.keys {
			if keyVals[i], err = k.Eval(a.ev, row); err != nil {
				return err
			}
			keyBuf = types.EncodeKey(keyBuf, keyVals[i])
		}
		g := groups[string(keyBuf)]
		if g == nil {
			if len(groups) >= maxAggGroups {
				return sqlerr.Newf(sqlerr.CodeOutOfMemory, "GROUP BY with more than %d groups is not supported yet (hash aggregation does not spill to disk)", maxAggGroups)
			}
			var grow int64
			g, grow = a.newGroup(append([]types.Datum(nil), keyVals...))
			groups[string(keyBuf)] = g
			order = append(order, g)
			mem += grow + int64(len(keyBuf))
		}
		for j, f := range p.aggs {
			if f.filter != nil {
				ok, err := f.filter.Eval(a.ev, row)
				if err != nil {
					return err
				}
				if ok != types.DBool(true) {
					continue
				}
			}
			argBuf = argBuf[:0]
			for _, e := range f.args {
				d, err := e.Eval(a.ev, row)
				if err != nil {
					return err
				}
				argBuf = append(argBuf, d)
			}
			if f.skips(argBuf) {
				continue
			}
			for _, k := range f.order {
				d, err := k.expr.Eval(a.ev, row)
				if err != nil {
					return err
				}
				argBuf = append(argBuf, d)
			}
			grow, err := g.states[j].add(a.ev, argBuf)
			if err != nil {
				return err
			}
			mem += grow
		}
		if a.memLimit > 0 && mem > a.memLimit {
			return sqlerr.Newf(sqlerr.CodeOutOfMemory, "aggregation needs more than %s of memory (%d × work_mem), which is not supported yet (hash aggregation does not spill to disk)",
				formatMemoryKB(a.memLimit>>10), hashMemMultiplier).WithHint("Raise work_mem.")
		}
		if a.memLimit <= 0 && mem > maxAggMemory {
			return sqlerr.Newf(sqlerr.CodeOutOfMemory, "aggregation needs more than %d MB of memory, which is not supported yet (hash aggregation does not spill to disk)", maxAggMemory>>20)
		}
	}
	if len(p.keys) == 0 && len(order) == 0 {
		g, _ := a.newGroup(nil)
		order = append(order, g)
	}
	groups = nil
	a.out = make([][]types.Datum, 0, len(order))
	for i, g := range order {
		row := make([]types.Datum, 0, len(g.keys)+len(g.states))
		row = append(row, g.keys...)
		for _, s := range g.states {
			d, err := s.result(a.ev)
			if err != nil {
				return err
			}
			row = append(row, d)
		}
		a.out = append(a.out, row)
		order[i] = nil
	}
	return nil
}
