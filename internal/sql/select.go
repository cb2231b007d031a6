package sql

import (
	"context"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/rowenc"
	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// Bounds of the executor (documented in docs/sql.md).
const (
	// scanBatch is the rows read from the KV layer per request.
	scanBatch = 1000
)

// source is the FROM clause of a query: a single table (desc and its
// scope), several tables, joins or subqueries (from, see from.go), or none.
type source struct {
	desc  *catalog.TableDescriptor
	scope *tableScope
	from  *fromPlan
	// setop: the rows of a UNION, INTERSECT or EXCEPT (setop.go),
	// named by setScope.
	setop    *setopPlan
	setScope *fromScope
	// cte: the rows of a WITH query (cte.go).
	cte *cteSource
}

func (x *execCtx) fromClause(ctx context.Context, from []*pg_query.Node, params []*types.Type) (*source, error) {
	if len(from) == 0 {
		return &source{}, nil
	}
	if rv := from[0].GetRangeVar(); len(from) == 1 && rv != nil && (rv.Alias == nil || len(rv.Alias.Colnames) == 0) && x.lookupCTE(rv) == nil {
		desc, err := x.readTable(ctx, rv)
		if err != nil {
			return nil, err
		}
		alias := desc.Name
		if rv.Alias != nil && rv.Alias.Aliasname != "" {
			alias = rv.Alias.Aliasname
		}
		return &source{desc: desc, scope: &tableScope{desc: desc, alias: alias}}, nil
	}
	fp, err := x.planFrom(ctx, from, params)
	if err != nil {
		return nil, err
	}
	return &source{from: fp}, nil
}

// resolver is the scope of the source's columns; nil for no FROM.
func (s *source) resolver() sem.Scope {
	switch {
	case s == nil:
		return nil
	case s.from != nil:
		return s.from.scope
	case s.setScope != nil:
		return s.setScope
	case s.scope != nil:
		return s.scope
	}
	return nil
}

// star expands * (qualifier nil) or t.* into the columns of the source row.
func (s *source) star(qualifier []string) ([]nsCol, error) {
	var cols []nsCol
	switch {
	case s.from != nil:
		cols = s.from.scope.ns
		if len(qualifier) > 0 {
			e, err := s.from.scope.entry(qualifier)
			if err != nil {
				return nil, err
			}
			cols = e.cols
		}
	case s.desc != nil:
		if err := s.scope.checkQualifier(qualifier); err != nil {
			return nil, err
		}
		for i, c := range s.desc.Columns {
			cols = append(cols, nsCol{name: c.Name, idx: i, typ: c.Type, hidden: c.Hidden, tableOID: s.desc.ID, attNum: uint16(i + 1)})
		}
	case len(qualifier) > 0:
		return nil, missingEntry(qualifier[len(qualifier)-1], nil, nil)
	default:
		return nil, sqlerr.New(sqlerr.CodeSyntaxError, "SELECT * with no tables specified is not valid")
	}
	out := make([]nsCol, 0, len(cols))
	for _, c := range cols {
		if !c.hidden {
			out = append(out, c)
		}
	}
	return out, nil
}

// starQualifier returns whether n is * or t.*, and the qualifier.
func starQualifier(n *pg_query.Node) ([]string, bool) {
	cr := n.GetColumnRef()
	if cr == nil || len(cr.Fields) == 0 || cr.Fields[len(cr.Fields)-1].GetAStar() == nil {
		return nil, false
	}
	var q []string
	for _, f := range cr.Fields[:len(cr.Fields)-1] {
		q = append(q, f.GetString_().GetSval())
	}
	return q, true
}

// colRef is a reference to a column of the source row, named for EXPLAIN
// (qualified in a query over several tables).
func (s *source) colRef(c nsCol) *sem.ColumnRef {
	name := c.name
	if s.from != nil {
		name = qualifiedName(c)
	}
	return &sem.ColumnRef{Idx: c.idx, Typ: c.typ, Name: name}
}

// columnName names a column of the source row for messages: "t.x".
func (s *source) columnName(idx int) string {
	switch {
	case s.from != nil:
		for _, e := range s.from.entries {
			for _, c := range e.cols {
				if c.idx == idx {
					return qualifiedName(c)
				}
			}
		}
		for _, c := range s.from.scope.ns {
			if c.idx == idx {
				return c.name
			}
		}
	case s.desc != nil && idx < len(s.desc.Columns):
		return s.scope.alias + "." + s.desc.Columns[idx].Name
	}
	return ""
}

// builder returns an expression builder over the source.
func (x *execCtx) builder(src *source, params []*types.Type, clause string) *sem.Builder {
	b := &sem.Builder{ParamTypes: append([]*types.Type(nil), params...), Clause: clause, Settings: x.sess.typeSettings()}
	if sc := src.resolver(); sc != nil {
		b.Scope = sc
	}
	b.SubqueryHook = x.subquery
	b.OuterHook = x.outer
	x.builders = append(x.builders, b)
	return b
}

// paramTypes merges the parameter types inferred by the statement's
// builders with the declared ones.
func (x *execCtx) paramTypes(declared []*types.Type) []*types.Type {
	out := append([]*types.Type(nil), declared...)
	for _, b := range x.builders {
		for i, t := range b.ParamTypes {
			for len(out) <= i {
				out = append(out, nil)
			}
			if t != nil && (out[i] == nil || out[i].Family() == types.UnknownFamily) {
				out[i] = t
			}
		}
	}
	return out
}

// evalCtx is the evaluation context of the running statement.
func (x *execCtx) evalCtx(ctx context.Context) *sem.EvalContext {
	if x.eval == nil {
		x.eval = &sem.EvalContext{
			Ctx: ctx, Params: x.params, TxnTimestamp: x.sess.txnTime, Settings: x.sess.typeSettings(),
			Session: &sem.SessionInfo{Database: x.sess.dbName, User: x.sess.user, SearchPath: []string{"public"},
				Version: "PostgreSQL " + serverVersionNumber + " (Cairn)"},
			Catalog:   &catalogAccess{ctx: ctx, x: x},
			Sequences: seqOps{x},
		}
	}
	return x.eval
}

// selectPlan is a planned single-table SELECT.
type selectPlan struct {
	src     *source
	filter  sem.Expr   // nil: all rows
	targets []sem.Expr // evaluated over the table row
	cols    []resultCol
	order   []sortKey
	limit   sem.Expr
	offset  sem.Expr

	// Aggregation and DISTINCT (aggregate.go, distinct.go). With agg,
	// filter is WHERE (applied before aggregating) and targets, order
	// and distinctOn are over the aggregation's output row.
	agg        *aggPlan
	distinct   bool       // SELECT DISTINCT
	distinctOn []sem.Expr // DISTINCT ON (...) keys

	// ctes are the materialized CTEs of its WITH clause (cte.go).
	ctes []*cteDef

	// lock: FOR UPDATE of a single-table query (lock.go).
	lock bool
}

type sortKey struct {
	expr       sem.Expr
	desc       bool
	nullsFirst bool
}

func (s *session) planSelect(ctx context.Context, x *execCtx, sel *pg_query.SelectStmt, params []*types.Type) (*planned, error) {
	sp, err := x.buildSelect(ctx, sel, params)
	if err != nil {
		return nil, err
	}
	return &planned{
		params: params, cols: sp.cols, needsTxn: true,
		open: func(ctx context.Context, x *execCtx) (rowIter, error) { return sp.open(ctx, x) },
		tag:  func(n int64) string { return "SELECT " + itoa64(n) },
	}, nil
}

func (x *execCtx) buildSelect(ctx context.Context, sel *pg_query.SelectStmt, params []*types.Type) (*selectPlan, error) {
	// An input of a set operation leaves its unknown-typed columns to it
	// (the flag concerns this level only, not subqueries).
	setopBranch := x.setopBranch
	x.setopBranch = false
	if sel.WithClause != nil {
		return x.buildWith(ctx, sel, params) // cte.go
	}
	switch {
	case sel.Op != pg_query.SetOperation_SETOP_NONE && len(sel.LockingClause) > 0:
		return nil, sqlerr.Unsupportedf("FOR UPDATE is not allowed with UNION/INTERSECT/EXCEPT")
	case sel.Op != pg_query.SetOperation_SETOP_NONE:
		return x.buildSetOp(ctx, sel, params) // setop.go
	case len(sel.ValuesLists) > 0:
		return x.buildValues(sel, params) // values.go
	case sel.IntoClause != nil:
		return nil, sqlerr.Unsupportedf("SELECT INTO is not supported")
	}
	sel = srfTargetAsFrom(sel) // funcscan.go
	src, err := x.fromClause(ctx, sel.FromClause, params)
	if err != nil {
		return nil, err
	}
	sp := &selectPlan{src: src}
	if sel.WhereClause != nil {
		if sp.filter, err = x.builder(src, params, "WHERE").BuildCondition(sel.WhereClause); err != nil {
			return nil, err
		}
	}
	if src.from != nil {
		// Push WHERE down into the FROM clause (from.go).
		sp.filter = src.from.placeWhere(sp.filter)
		src.from.finish()
	}
	if needsAggregation(sel) { // GROUP BY, HAVING, aggregates: aggregate.go
		if err := x.planAggregation(src, sel, params, sp); err != nil {
			return nil, err
		}
	} else if sp.targets, sp.cols, err = x.buildTargetList(src, sel.TargetList, params, setopBranch); err != nil {
		return nil, err
	}
	if err := x.planOrderBy(sel.SortClause, params, sp); err != nil {
		return nil, err
	}
	if err := x.planDistinct(src, sel, params, sp); err != nil { // distinct.go
		return nil, err
	}
	if err := x.planLimit(sel, params, sp); err != nil {
		return nil, err
	}
	if len(sel.LockingClause) > 0 {
		if err := sp.applyLocking(sel.LockingClause); err != nil { // lock.go
			return nil, err
		}
	}
	return sp, nil
}

// planOrderBy builds ORDER BY's sort keys over sp's source (NULLs sort
// as larger than every value by default).
func (x *execCtx) planOrderBy(clause []*pg_query.Node, params []*types.Type, sp *selectPlan) error {
	for _, sb := range clause {
		by := sb.GetSortBy()
		if len(by.UseOp) > 0 {
			return sqlerr.Unsupportedf("ORDER BY ... USING is not supported")
		}
		e, err := x.sortExpr(sp.src, by.Node, sp, params)
		if err != nil {
			return err
		}
		sp.order = append(sp.order, makeSortKey(e, by))
	}
	return nil
}

// planLimit builds LIMIT and OFFSET.
func (x *execCtx) planLimit(sel *pg_query.SelectStmt, params []*types.Type, sp *selectPlan) error {
	var err error
	if sel.LimitCount != nil {
		if sp.limit, err = x.buildCount(sel.LimitCount, params, "LIMIT"); err != nil {
			return err
		}
	}
	if sel.LimitOffset != nil {
		if sp.offset, err = x.buildCount(sel.LimitOffset, params, "OFFSET"); err != nil {
			return err
		}
	}
	return nil
}

// buildCount builds a LIMIT or OFFSET expression as a bigint, as
// PostgreSQL does: a numeric value is rounded, other types are refused
// (42804), so evaluating it always yields a DInt or NULL.
func (x *execCtx) buildCount(n *pg_query.Node, params []*types.Type, clause string) (sem.Expr, error) {
	b := x.builder(nil, params, clause)
	e, err := b.Build(n, types.Int8)
	if err != nil {
		return nil, err
	}
	ce, err := b.Coerce(e, types.Int8, types.CoercionAssignment)
	if err != nil {
		return nil, sqlerr.Newf(sqlerr.CodeDatatypeMismatch, "argument of %s must be type bigint, not type %s", clause, e.Type().Name())
	}
	return ce, nil
}

// buildTargets builds a target list (SELECT list or RETURNING).
func (x *execCtx) buildTargets(src *source, list []*pg_query.Node, params []*types.Type) ([]sem.Expr, []resultCol, error) {
	return x.buildTargetList(src, list, params, false)
}

// buildTargetList is buildTargets; keepUnknown leaves unknown-typed
// targets (NULL, 'literal') unresolved, for a set operation to resolve.
func (x *execCtx) buildTargetList(src *source, list []*pg_query.Node, params []*types.Type, keepUnknown bool) ([]sem.Expr, []resultCol, error) {
	var exprs []sem.Expr
	var cols []resultCol
	for _, n := range list {
		rt := n.GetResTarget()
		if q, ok := starQualifier(rt.GetVal()); ok {
			star, err := src.star(q)
			if err != nil {
				return nil, nil, err
			}
			for _, c := range star {
				exprs = append(exprs, src.colRef(c))
				cols = append(cols, resultCol{name: c.name, typ: c.typ, tableOID: c.tableOID, attNum: c.attNum})
			}
			continue
		}
		b := x.builder(src, params, "SELECT")
		build := func(n *pg_query.Node) (sem.Expr, error) { return b.Build(n, nil) }
		if keepUnknown {
			build = b.BuildUnresolved
		}
		e, err := build(rt.Val)
		if err != nil {
			return nil, nil, err
		}
		name := rt.Name
		if name == "" {
			name = columnName(rt.Val)
		}
		exprs = append(exprs, e)
		cols = append(cols, resultCol{name: name, typ: e.Type()})
	}
	return exprs, cols, nil
}

// weakColumnName reports whether n's column name is a weak one that an
// enclosing cast replaces with its type's: CASE's, or a cast's type name.
func weakColumnName(n *pg_query.Node) bool {
	switch v := n.Node.(type) {
	case *pg_query.Node_CaseExpr:
		return true
	case *pg_query.Node_TypeCast:
		return columnName(v.TypeCast.Arg) == "?column?" || weakColumnName(v.TypeCast.Arg)
	}
	return false
}

// columnName is the name PostgreSQL gives an unnamed result column.
func columnName(n *pg_query.Node) string {
	switch v := n.Node.(type) {
	case *pg_query.Node_ColumnRef:
		if f := v.ColumnRef.Fields; len(f) > 0 {
			if s := f[len(f)-1].GetString_(); s != nil {
				return s.Sval
			}
		}
	case *pg_query.Node_FuncCall:
		if f := v.FuncCall.Funcname; len(f) > 0 {
			return f[len(f)-1].GetString_().GetSval()
		}
	case *pg_query.Node_TypeCast:
		// A name from a column, function, ... wins over the type's; one
		// from an inner cast's type or CASE does not ('x'::regclass::text
		// is "text"), as in PostgreSQL's FigureColname.
		if inner := columnName(v.TypeCast.Arg); inner != "?column?" && !weakColumnName(v.TypeCast.Arg) {
			return inner
		}
		if tn := v.TypeCast.TypeName; tn != nil && len(tn.Names) > 0 {
			return tn.Names[len(tn.Names)-1].GetString_().GetSval()
		}
	case *pg_query.Node_CaseExpr:
		return "case"
	case *pg_query.Node_SubLink:
		switch v.SubLink.SubLinkType {
		case pg_query.SubLinkType_EXISTS_SUBLINK:
			return "exists"
		case pg_query.SubLinkType_ARRAY_SUBLINK:
			return "array"
		case pg_query.SubLinkType_EXPR_SUBLINK:
			sel := v.SubLink.Subselect.GetSelectStmt()
			for sel != nil && sel.Op != pg_query.SetOperation_SETOP_NONE {
				sel = sel.Larg
			}
			if sel != nil && len(sel.TargetList) > 0 {
				if rt := sel.TargetList[0].GetResTarget(); rt != nil {
					if rt.Name != "" {
						return rt.Name
					}
					return columnName(rt.Val)
				}
			}
		}
	case *pg_query.Node_CoalesceExpr:
		return "coalesce"
	}
	return "?column?"
}

// sortExpr resolves an ORDER BY item: an output column number, an output
// column name, or an expression over the source (see outputExpr in
// distinct.go).
func (x *execCtx) sortExpr(src *source, n *pg_query.Node, sp *selectPlan, params []*types.Type) (sem.Expr, error) {
	return x.outputExpr(src, n, sp, params, "ORDER BY")
}

// open starts the query.
func (sp *selectPlan) open(ctx context.Context, x *execCtx) (rowIter, error) {
	if len(sp.ctes) > 0 {
		return openWith(sp.ctes, func() (rowIter, error) { return sp.openQuery(ctx, x) }) // cte.go
	}
	return sp.openQuery(ctx, x)
}

func (sp *selectPlan) openQuery(ctx context.Context, x *execCtx) (rowIter, error) {
	ev := x.evalCtx(ctx)
	limit, offset := int64(-1), int64(0)
	if sp.limit != nil {
		d, err := sp.limit.Eval(ev, nil)
		if err != nil {
			return nil, err
		}
		if d != types.DNull {
			limit = int64(d.(types.DInt))
		}
		if limit < 0 && d != types.DNull {
			return nil, sqlerr.New("2201W", "LIMIT must not be negative")
		}
	}
	if sp.offset != nil {
		d, err := sp.offset.Eval(ev, nil)
		if err != nil {
			return nil, err
		}
		if d != types.DNull {
			offset = int64(d.(types.DInt))
		}
		if offset < 0 {
			return nil, sqlerr.New("2201X", "OFFSET must not be negative")
		}
	}
	var in rowIter
	var err error
	ordered := false // the input comes in ORDER BY's order
	switch {
	case sp.src.from != nil:
		if in, err = sp.src.from.root.open(ctx, x); err != nil {
			return nil, err
		}
	case sp.src.setop != nil:
		if in, err = sp.src.setop.open(ctx, x); err != nil {
			return nil, err
		}
	case sp.src.cte != nil:
		if in, err = sp.src.cte.open(ctx, x); err != nil {
			return nil, err
		}
	case sp.src.desc == nil:
		in = &sliceIter{rows: [][]types.Datum{{}}} // one empty row (never nil: nil ends)
	default:
		ap := chooseAccess(sp.src.desc, sp.filter)
		ap.lock = sp.lock
		ordered = sp.orderedByScan(ap)
		if in, err = ap.open(ctx, x); err != nil {
			return nil, err
		}
	}
	filter := sp.filter
	if sp.agg != nil { // aggregate.go: WHERE, then aggregation, then HAVING
		in, filter = &aggIter{plan: sp.agg, in: in, where: sp.filter, ev: ev, memLimit: x.sess.vars.hashMemBytes()}, sp.agg.having
	}
	it := &projectIter{in: in, filter: filter, targets: sp.targets, ev: ev}
	// Sort keys (then DISTINCT ON keys) are evaluated over the source
	// row; carry them along.
	if !ordered {
		for _, k := range sp.order {
			it.extra = append(it.extra, k.expr)
		}
	}
	it.extra = append(it.extra, sp.distinctOn...)
	out := sp.distinctIter(it, x.sess.vars.hashMemBytes()) // distinct.go
	if len(sp.order) > 0 && !ordered {
		out = &sortIter{in: out, keys: sp.order, width: len(sp.targets), budget: x.sess.vars.workMemBytes(), dir: x.sess.srv.cfg.TempDir}
	}
	if limit >= 0 || offset > 0 {
		out = &limitIter{in: out, limit: limit, offset: offset}
	}
	return out, nil
}

// tableScan reads a table's rows over primary key spans, in order,
// through the transaction, a batch at a time.
type tableScan struct {
	spans spanReader
	desc  *catalog.TableDescriptor
	buf   [][]types.Datum
}

func newTableScan(txn rowReader, desc *catalog.TableDescriptor) *tableScan {
	return newSpanScan(txn, desc, []rowenc.Span{rowenc.PrimaryKeySpan(desc)})
}

// newSpanScan reads the rows of several primary key spans, in order.
func newSpanScan(txn rowReader, desc *catalog.TableDescriptor, spans []rowenc.Span) *tableScan {
	return &tableScan{spans: spanReader{txn: txn, spans: spans}, desc: desc}
}

func (t *tableScan) Next(ctx context.Context) ([]types.Datum, error) {
	for len(t.buf) == 0 {
		kvs, err := t.spans.nextBatch(ctx)
		if err != nil || kvs == nil {
			return nil, err
		}
		for _, kv := range kvs {
			row, err := rowenc.DecodeRow(t.desc, kv.Value)
			if err != nil {
				return nil, err
			}
			t.buf = append(t.buf, row)
		}
	}
	row := t.buf[0]
	t.buf = t.buf[1:]
	return row, nil
}

// spanReader reads the key-values of spans in order, scanBatch keys per
// round trip.
type spanReader struct {
	txn   rowReader
	spans []rowenc.Span
	next  []byte // resume key within spans[0]; nil: its start
}

// nextBatch returns the next non-empty batch; nil after the last.
func (r *spanReader) nextBatch(ctx context.Context) ([]*kvpb.KeyValue, error) {
	for len(r.spans) > 0 {
		sp := r.spans[0]
		start := sp.Key
		if r.next != nil {
			start = r.next
		}
		resp, err := r.txn.Scan(ctx, start, sp.EndKey, scanBatch)
		if err != nil {
			return nil, err
		}
		if resp.More && len(resp.ResumeKey) > 0 {
			r.next = resp.ResumeKey
		} else {
			r.spans, r.next = r.spans[1:], nil
		}
		if len(resp.Kvs) > 0 {
			return resp.Kvs, nil
		}
	}
	return nil, nil
}
func (t *tableScan) RowsAffected() int64 { return 0 }
func (t *tableScan) Close()              {}

// projectIter filters source rows and evaluates the targets (plus extra
// expressions appended after them, for sorting).
type projectIter struct {
	in      rowIter
	filter  sem.Expr
	targets []sem.Expr
	extra   []sem.Expr
	ev      *sem.EvalContext
}

func (p *projectIter) Next(ctx context.Context) ([]types.Datum, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		src, err := p.in.Next(ctx)
		if err != nil || src == nil {
			return nil, err
		}
		if p.filter != nil {
			ok, err := p.filter.Eval(p.ev, src)
			if err != nil {
				return nil, err
			}
			if ok != types.DBool(true) {
				continue
			}
		}
		out := make([]types.Datum, 0, len(p.targets)+len(p.extra))
		for _, e := range p.targets {
			d, err := e.Eval(p.ev, src)
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
		for _, e := range p.extra {
			d, err := e.Eval(p.ev, src)
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
		return out, nil
	}
}
func (p *projectIter) RowsAffected() int64 { return 0 }
func (p *projectIter) Close()              { p.in.Close() }

// sortIter sorts its input with a rowSorter (sort.go: in memory up to
// budget, work_mem, then spilling to files in dir); the sort keys are the
// input's columns from width on, cut off in the output.
type sortIter struct {
	in     rowIter
	keys   []sortKey
	width  int
	budget int64
	dir    string
	sorter *rowSorter
}

func (s *sortIter) Next(ctx context.Context) ([]types.Datum, error) {
	if s.sorter == nil {
		s.sorter = newRowSorter(s.less, s.budget, s.dir)
		for n := 1; ; n++ {
			row, err := s.in.Next(ctx)
			if err != nil {
				return nil, err
			}
			if row == nil {
				break
			}
			if err := s.sorter.Add(row); err != nil {
				return nil, err
			}
			if n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
		}
		if err := s.sorter.Finish(); err != nil {
			return nil, err
		}
	}
	row, err := s.sorter.Next()
	if row == nil || err != nil {
		return nil, err
	}
	return row[:s.width], nil
}

func (s *sortIter) less(a, b []types.Datum) bool {
	for k, key := range s.keys {
		x, y := a[s.width+k], b[s.width+k]
		xn, yn := x == types.DNull, y == types.DNull
		switch {
		case xn && yn:
			continue
		case xn:
			return key.nullsFirst
		case yn:
			return !key.nullsFirst
		}
		c := types.Compare(x, y)
		if c == 0 {
			continue
		}
		if key.desc {
			return c > 0
		}
		return c < 0
	}
	return false
}
func (s *sortIter) RowsAffected() int64 { return 0 }
func (s *sortIter) Close() {
	if s.sorter != nil {
		s.sorter.Close()
	}
	s.in.Close()
}

type limitIter struct {
	in            rowIter
	limit, offset int64
	seen, sent    int64
}

func (l *limitIter) Next(ctx context.Context) ([]types.Datum, error) {
	for {
		if l.limit >= 0 && l.sent >= l.limit {
			return nil, nil
		}
		row, err := l.in.Next(ctx)
		if err != nil || row == nil {
			return nil, err
		}
		l.seen++
		if l.seen <= l.offset {
			continue
		}
		l.sent++
		return row, nil
	}
}
func (l *limitIter) RowsAffected() int64 { return 0 }
func (l *limitIter) Close()              { l.in.Close() }

func itoa64(n int64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}
