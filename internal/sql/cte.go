package sql

import (
	"context"
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/cairndb/cairn/internal/sql/parser"
	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// Common table expressions: WITH [RECURSIVE] name [(cols)] AS
// [[NOT] MATERIALIZED] (query), on SELECT (at any level) and on INSERT,
// UPDATE and DELETE.
//
// Names: a WITH clause opens a frame of names that the query's FROM
// clauses (and its subqueries') look up before tables; an unqualified
// table name that a CTE of an enclosing frame has is that CTE. Without
// RECURSIVE a CTE's body sees the CTEs before it (and the enclosing
// frames); with RECURSIVE it sees all of them, and the ones it references
// are planned first (a cycle is mutual recursion: 0A000).
//
// Evaluation: a CTE referenced once (or NOT MATERIALIZED) is inlined: each
// reference runs its plan as a subquery. Otherwise (MATERIALIZED, or
// several references) it runs once per execution of its WITH query: the
// first reference to read pulls rows from the body into a shared buffer,
// which the others read as well (lazily: a LIMIT over a CTE reads only
// what it needs). The buffer is bounded like a join's build side
// (maxCTERows, maxCTEMemory: 53200 beyond).
//
// WITH RECURSIVE t AS (non-recursive term UNION [ALL] recursive term):
// the non-recursive term's rows are the first working table; the recursive
// term runs over the working table (its one reference to t) and its new
// rows (for UNION: rows not seen before) become the next working table,
// until one is empty. Rows stream out as they are made. The working table
// is bounded like the buffer, and the iterations by maxRecursion (54001),
// so that a recursion without a stop condition fails instead of running
// forever. The column types are the non-recursive term's; the recursive
// term's values convert to them (42804 if their common type differs).

// Bounds of CTE evaluation; variables for tests.
var (
	maxCTERows         = 1 << 20
	maxCTEMemory int64 = 256 << 20
	maxRecursion       = 1_000_000
)

// SQLSTATEs of CTEs.
const codeInvalidRecursion = "42P19" // invalid_recursion

// cteEnv is the CTE state of the statement being planned (execCtx.cte).
type cteEnv struct {
	frame *cteFrame // the innermost WITH clause's names
	// sublinks counts the expression subqueries being planned, to find a
	// recursive reference inside one.
	sublinks int
	// planning is the CTE whose body is being planned (innermost).
	planning *cteDef
	// variantRefs counts the references to CTEs whose rows may differ
	// between evaluations within one execution (defined inside a subquery
	// expression or inside another CTE): a subquery that reads one is not
	// cached (subquery.go).
	variantRefs int
}

// cteFrame holds the names of one WITH clause.
type cteFrame struct {
	parent *cteFrame
	defs   []*cteDef
}

type cteState uint8

const (
	cteUnplanned cteState = iota
	ctePlanning           // its body (or non-recursive term) is being planned
	cteRecursive          // its recursive term is being planned
	ctePlanned
)

// cteDef is one CTE of a WITH clause.
type cteDef struct {
	name  string
	node  *pg_query.CommonTableExpr
	frame *cteFrame // the names its body sees
	// outer is execCtx.outer where the WITH clause is (its body's
	// references to enclosing queries resolve there).
	outer func(qualifier []string, name string) (sem.Expr, bool)
	// within is the CTE whose body has the WITH clause, if any.
	within *cteDef
	// sublinks is cteEnv.sublinks where the WITH clause is.
	sublinks  int
	recursive bool // a WITH RECURSIVE CTE that references itself
	state     cteState
	refs      int  // references to its name in the WITH query (syntactic)
	inline    bool // run its plan at each reference instead of buffering

	cols []resultCol
	body *selectPlan // a non-recursive CTE's plan
	rec  *recursivePlan

	// Planning the recursive term: its references to the working table.
	workRefs     int
	workSublinks int

	// buf is the current execution's buffer (materialized CTEs).
	buf *cteBuffer
}

// lookupCTE finds the CTE an unqualified table name names, if any.
func (x *execCtx) lookupCTE(rv *pg_query.RangeVar) *cteDef {
	if rv == nil || rv.Schemaname != "" || rv.Catalogname != "" {
		return nil
	}
	for f := x.cte.frame; f != nil; f = f.parent {
		for _, d := range f.defs {
			if d.name == rv.Relname {
				return d
			}
		}
	}
	return nil
}

// stripWith returns a copy of sel without its WITH clause.
func stripWith(sel *pg_query.SelectStmt) *pg_query.SelectStmt {
	w := sel.WithClause
	sel.WithClause = nil
	c := proto.Clone(sel).(*pg_query.SelectStmt)
	sel.WithClause = w
	return c
}

// buildWith plans a SELECT with a WITH clause.
func (x *execCtx) buildWith(ctx context.Context, sel *pg_query.SelectStmt, params []*types.Type) (*selectPlan, error) {
	inner := stripWith(sel)
	defs, pop, err := x.pushWith(ctx, sel.WithClause, inner, params)
	if err != nil {
		return nil, err
	}
	defer pop()
	sp, err := x.buildSelect(ctx, inner, params)
	if err != nil {
		return nil, err
	}
	for _, d := range defs {
		if !d.inline {
			sp.ctes = append(sp.ctes, d)
		}
	}
	return sp, nil
}

// pushWith plans the CTEs of a WITH clause whose query is rest, and makes
// their names visible until pop.
func (x *execCtx) pushWith(ctx context.Context, w *pg_query.WithClause, rest proto.Message, params []*types.Type) ([]*cteDef, func(), error) {
	saved := x.cte.frame
	pop := func() { x.cte.frame = saved }
	f := &cteFrame{parent: saved}
	var defs []*cteDef
	for _, n := range w.Ctes {
		c := n.GetCommonTableExpr()
		if c == nil {
			return nil, nil, sqlerr.Unsupportedf("this WITH clause is not supported")
		}
		for _, d := range defs {
			if d.name == c.Ctename {
				return nil, nil, sqlerr.Newf(codeDuplicateAlias, "WITH query name %q specified more than once", c.Ctename)
			}
		}
		if c.SearchClause != nil || c.CycleClause != nil {
			return nil, nil, sqlerr.Unsupportedf("SEARCH and CYCLE clauses of WITH queries are not supported yet")
		}
		if c.Ctequery.GetSelectStmt() == nil {
			return nil, nil, sqlerr.Unsupportedf("data-modifying statements in WITH (%s in WITH query %q) are not supported yet", stmtName(c.Ctequery), c.Ctename)
		}
		d := &cteDef{name: c.Ctename, node: c, frame: f, outer: x.outer, within: x.cte.planning, sublinks: x.cte.sublinks}
		if w.Recursive && countRefs(c.Ctequery, d.name) > 0 {
			d.recursive = true
		}
		// References from the query and from the other CTEs.
		d.refs = countRefs(rest, d.name)
		for _, o := range w.Ctes {
			if o != n {
				d.refs += countRefs(o.GetCommonTableExpr().GetCtequery(), d.name)
			}
		}
		switch {
		case d.recursive: // [NOT] MATERIALIZED does not apply
			d.inline = d.refs <= 1
		case c.Ctematerialized == pg_query.CTEMaterialize_CTEMaterializeAlways:
		case c.Ctematerialized == pg_query.CTEMaterialize_CTEMaterializeNever:
			d.inline = true
		default: // as PostgreSQL: inline a CTE referenced once, unless volatile
			d.inline = d.refs <= 1 && !callsVolatile(c.Ctequery)
		}
		defs = append(defs, d)
	}
	if w.Recursive {
		f.defs = defs // all names are visible to all bodies
		x.cte.frame = f
		for _, d := range defs {
			if err := x.planCTE(ctx, d, params); err != nil {
				pop()
				return nil, nil, err
			}
		}
	} else {
		x.cte.frame = f
		for _, d := range defs {
			if err := x.planCTE(ctx, d, params); err != nil {
				pop()
				return nil, nil, err
			}
			f.defs = append(f.defs, d) // visible to the next ones
		}
	}
	return defs, pop, nil
}

// countRefs counts the RangeVars of m that could name a CTE called name.
func countRefs(m interface{ ProtoReflect() protoreflect.Message }, name string) int {
	if m == nil {
		return 0
	}
	n := 0
	walkNodes(m.ProtoReflect(), func(node *pg_query.Node) {
		if rv := node.GetRangeVar(); rv != nil && rv.Relname == name && rv.Schemaname == "" && rv.Catalogname == "" {
			n++
		}
	})
	return n
}

// volatileFuncs are the built-in functions whose value may change at each
// call: a CTE that calls one is evaluated once even if referenced once.
var volatileFuncs = map[string]bool{"random": true, "random_normal": true, "gen_random_uuid": true,
	"nextval": true, "setval": true, "currval": true, "lastval": true, "clock_timestamp": true, "timeofday": true}

// callsVolatile reports whether a query calls a volatile function.
func callsVolatile(n *pg_query.Node) bool {
	found := false
	walkNodes(n.ProtoReflect(), func(node *pg_query.Node) {
		if fc := node.GetFuncCall(); fc != nil && len(fc.Funcname) > 0 {
			found = found || volatileFuncs[fc.Funcname[len(fc.Funcname)-1].GetString_().GetSval()]
		}
	})
	return found
}

// walkNodes calls fn for every Node under m, children first.
func walkNodes(m protoreflect.Message, fn func(*pg_query.Node)) {
	if !m.IsValid() {
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap() || fd.Message() == nil:
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				walkNodes(l.Get(i).Message(), fn)
			}
		default:
			walkNodes(v.Message(), fn)
		}
		return true
	})
	if n, ok := m.Interface().(*pg_query.Node); ok && n != nil {
		fn(n)
	}
}

// planCTE plans d's body, in the scope of its WITH clause.
func (x *execCtx) planCTE(ctx context.Context, d *cteDef, params []*types.Type) error {
	switch d.state {
	case ctePlanned:
		return nil
	case ctePlanning, cteRecursive:
		return sqlerr.Unsupportedf("mutual recursion between WITH items is not implemented")
	}
	savedFrame, savedOuter, savedPlanning := x.cte.frame, x.outer, x.cte.planning
	x.cte.frame, x.outer, x.cte.planning = d.frame, d.outer, d
	defer func() { x.cte.frame, x.outer, x.cte.planning = savedFrame, savedOuter, savedPlanning }()
	d.state = ctePlanning
	sel := d.node.Ctequery.GetSelectStmt()
	if d.recursive {
		if err := x.planRecursive(ctx, d, sel, params); err != nil {
			return err
		}
	} else {
		sp, err := x.buildSelect(ctx, sel, params)
		if err != nil {
			return err
		}
		d.body = sp
		if err := d.setColumns(sp.cols); err != nil {
			return err
		}
	}
	d.state = ctePlanned
	return nil
}

// setColumns names d's columns: its column list, then the body's names.
func (d *cteDef) setColumns(cols []resultCol) error {
	aliases := d.node.Aliascolnames
	if len(aliases) > len(cols) {
		return sqlerr.Newf(codeInvalidColumnReference, "WITH query %q has %d columns available but %d columns specified", d.name, len(cols), len(aliases))
	}
	d.cols = make([]resultCol, len(cols))
	for i, c := range cols {
		typ := c.typ
		if typ.Family() == types.UnknownFamily {
			typ = types.Text
		}
		d.cols[i] = resultCol{name: c.name, typ: typ}
		if i < len(aliases) {
			d.cols[i].name = aliases[i].GetString_().GetSval()
		}
	}
	return nil
}

// recursivePlan is a recursive CTE's two terms.
type recursivePlan struct {
	def         *cteDef
	all         bool // UNION ALL
	left, right *selectPlan
	leftCasts   []*types.Type
	rightCasts  []*types.Type
	work        *workTable
}

// workTable is the rows of the previous iteration, which the recursive
// term's reference to the CTE reads.
type workTable struct{ rows [][]types.Datum }

func (x *execCtx) planRecursive(ctx context.Context, d *cteDef, sel *pg_query.SelectStmt, params []*types.Type) error {
	if sel.Op != pg_query.SetOperation_SETOP_UNION || sel.WithClause != nil {
		if sel.WithClause != nil && sel.Op == pg_query.SetOperation_SETOP_UNION {
			return sqlerr.Unsupportedf("WITH inside a recursive query is not supported yet")
		}
		return sqlerr.Newf(codeInvalidRecursion, "recursive query %q does not have the form non-recursive-term UNION [ALL] recursive-term", d.name)
	}
	switch {
	case len(sel.SortClause) > 0:
		return sqlerr.Unsupportedf("ORDER BY in a recursive query is not implemented")
	case sel.LimitOffset != nil:
		return sqlerr.Unsupportedf("OFFSET in a recursive query is not implemented")
	case sel.LimitCount != nil:
		return sqlerr.Unsupportedf("LIMIT in a recursive query is not implemented")
	case len(sel.LockingClause) > 0:
		return sqlerr.Unsupportedf("FOR UPDATE/SHARE in a recursive query is not implemented")
	}
	if r := sel.Rarg; r != nil && r.Op == pg_query.SetOperation_SETOP_NONE && needsAggregation(r) {
		return sqlerr.Newf(codeInvalidRecursion, "aggregate functions are not allowed in a recursive query's recursive term")
	}
	if err := checkOuterJoinRefs(sel.Rarg, d.name); err != nil {
		return err
	}
	left, err := x.buildSelect(ctx, sel.Larg, params) // a reference here fails (state ctePlanning)
	if err != nil {
		return err
	}
	if err := d.setColumns(left.cols); err != nil {
		return err
	}
	rp := &recursivePlan{def: d, all: sel.All, left: left, work: &workTable{}}
	rp.leftCasts = make([]*types.Type, len(d.cols))
	for i, c := range left.cols {
		if c.typ.Family() == types.UnknownFamily {
			rp.leftCasts[i] = types.Text
		}
	}
	d.rec = rp
	d.state, d.workRefs, d.workSublinks = cteRecursive, 0, x.cte.sublinks
	right, err := x.buildSelect(ctx, sel.Rarg, params)
	if err != nil {
		return err
	}
	if len(right.cols) != len(d.cols) {
		return sqlerr.New(sqlerr.CodeSyntaxError, "each UNION query must have the same number of columns")
	}
	rp.right = right
	rp.rightCasts = make([]*types.Type, len(d.cols))
	for i, c := range d.cols {
		rt := right.cols[i].typ
		if rt.Identical(c.typ) {
			continue
		}
		common := rt
		if rt.Family() != types.UnknownFamily {
			if common, err = sem.CommonType([]*types.Type{c.typ, rt}, "UNION"); err != nil {
				return err
			}
		}
		if rt.Family() != types.UnknownFamily && !common.Identical(c.typ) {
			return sqlerr.Newf(sqlerr.CodeDatatypeMismatch, "recursive query %q column %d has type %s in non-recursive term but type %s overall",
				d.name, i+1, c.typ.Name(), common.Name()).WithHint("Cast the output of the non-recursive term to the correct type.")
		}
		rp.rightCasts[i] = c.typ
	}
	return nil
}

// checkOuterJoinRefs refuses a recursive reference on the nullable side of
// an outer join, as PostgreSQL does.
func checkOuterJoinRefs(sel *pg_query.SelectStmt, name string) error {
	if sel == nil {
		return nil
	}
	var err error
	walkNodes(sel.ProtoReflect(), func(n *pg_query.Node) {
		j := n.GetJoinExpr()
		if j == nil || err != nil {
			return
		}
		bad := false
		switch j.Jointype {
		case pg_query.JoinType_JOIN_LEFT:
			bad = countRefs(j.Rarg, name) > 0
		case pg_query.JoinType_JOIN_RIGHT:
			bad = countRefs(j.Larg, name) > 0
		case pg_query.JoinType_JOIN_FULL:
			bad = countRefs(j.Larg, name)+countRefs(j.Rarg, name) > 0
		}
		if bad {
			err = sqlerr.Newf(codeInvalidRecursion, "recursive reference to query %q must not appear within an outer join", name)
		}
	})
	return err
}

// cteSource is the rows of a CTE reference: a materialized CTE's buffer,
// a recursive CTE's iteration (streamed), or the working table (inside
// the recursive term).
type cteSource struct {
	def  *cteDef
	kind cteSourceKind
	work *workTable
	// values: the rows of a VALUES query (values.go).
	values [][]sem.Expr
}

type cteSourceKind uint8

const (
	cteBuffered cteSourceKind = iota
	cteStream
	cteWork
	cteValues
)

// cteItem makes the FROM item of a reference to d.
func (fb *fromBuilder) cteItem(ctx context.Context, d *cteDef, rv *pg_query.RangeVar) (*rel, error) {
	x := fb.x
	var sub *selectPlan
	switch d.state {
	case cteUnplanned:
		if err := x.planCTE(ctx, d, fb.params); err != nil {
			return nil, err
		}
	case ctePlanning:
		if d.recursive && x.planningInside(d) {
			return nil, sqlerr.Newf(codeInvalidRecursion, "recursive reference to query %q must not appear within its non-recursive term", d.name)
		}
		return nil, sqlerr.Unsupportedf("mutual recursion between WITH items is not implemented")
	case cteRecursive:
		if !x.planningInside(d) {
			return nil, sqlerr.Unsupportedf("mutual recursion between WITH items is not implemented")
		}
		if x.cte.sublinks > d.workSublinks {
			return nil, sqlerr.Newf(codeInvalidRecursion, "recursive reference to query %q must not appear within a subquery", d.name)
		}
		if d.workRefs++; d.workRefs > 1 {
			return nil, sqlerr.Newf(codeInvalidRecursion, "recursive reference to query %q must not appear more than once", d.name)
		}
		sub = d.scanPlan(&cteSource{def: d, kind: cteWork, work: d.rec.work})
	}
	if sub == nil {
		switch {
		case d.inline && d.rec != nil:
			sub = d.scanPlan(&cteSource{def: d, kind: cteStream})
		case d.inline:
			sub = d.body
		default:
			sub = d.scanPlan(&cteSource{def: d, kind: cteBuffered})
		}
	}
	if d.sublinks > 0 || d.within != nil || d.state != ctePlanned {
		x.cte.variantRefs++
	}
	e := &rangeEntry{alias: d.name}
	var colAliases []*pg_query.Node
	if rv.Alias != nil {
		e.alias, e.aliased, colAliases = rv.Alias.Aliasname, true, rv.Alias.Colnames
	}
	for _, c := range d.cols {
		e.cols = append(e.cols, nsCol{name: c.name, typ: c.typ})
	}
	r, err := fb.leaf(relSubquery, e, colAliases)
	if err != nil {
		return nil, err
	}
	r.sub = sub
	return r, nil
}

// planningInside reports whether the body being planned is d's, or that of
// a CTE defined inside d's body (not another CTE that d references).
func (x *execCtx) planningInside(d *cteDef) bool {
	for p := x.cte.planning; p != nil; p = p.within {
		if p == d {
			return true
		}
	}
	return false
}

// scanPlan is a query returning src's rows.
func (d *cteDef) scanPlan(src *cteSource) *selectPlan {
	sp := &selectPlan{src: &source{cte: src}, cols: append([]resultCol(nil), d.cols...)}
	for i, c := range d.cols {
		sp.targets = append(sp.targets, &sem.ColumnRef{Idx: i, Typ: c.typ, Name: d.name + "." + c.name})
	}
	return sp
}

func (s *cteSource) open(ctx context.Context, x *execCtx) (rowIter, error) {
	switch s.kind {
	case cteWork:
		return &sliceIter{rows: s.work.rows}, nil
	case cteStream:
		return s.def.rec.open(ctx, x), nil
	case cteValues:
		return &valuesIter{rows: s.values, ev: x.evalCtx(ctx)}, nil
	}
	if s.def.buf == nil {
		s.def.buf = &cteBuffer{def: s.def}
	}
	return &cteScan{buf: s.def.buf, x: x}, nil
}

// resetCTEs starts a new execution of the materialized CTEs of a WITH
// query: fresh buffers (the old ones stay with the scans reading them).
func resetCTEs(defs []*cteDef) {
	for _, d := range defs {
		d.buf = &cteBuffer{def: d}
	}
}

// cteBuffer holds the rows of a materialized CTE read so far.
type cteBuffer struct {
	def  *cteDef
	prod rowIter // nil before the first read
	rows [][]types.Datum
	mem  int64
	done bool
	err  error
}

// fill reads the next row of the body into the buffer; false at the end.
func (b *cteBuffer) fill(ctx context.Context, x *execCtx) (bool, error) {
	if b.err != nil {
		return false, b.err
	}
	if b.done {
		return false, nil
	}
	if b.prod == nil {
		var err error
		if b.def.rec != nil {
			b.prod = b.def.rec.open(ctx, x)
		} else if b.prod, err = b.def.body.open(ctx, x); err != nil {
			b.err = err
			return false, err
		}
	}
	row, err := b.prod.Next(ctx)
	if err == nil && row != nil {
		err = checkCTEBounds(func() string { return fmt.Sprintf("WITH query %q", b.def.name) }, len(b.rows)+1, &b.mem, row)
	}
	if err != nil {
		b.err = err
		b.prod.Close()
		return false, err
	}
	if row == nil {
		b.done = true
		b.prod.Close()
		return false, nil
	}
	b.rows = append(b.rows, append([]types.Datum(nil), row[:len(b.def.cols)]...))
	return true, nil
}

// checkCTEBounds accounts for one more row of a CTE's buffer or working
// table (n rows with it, *mem bytes so far). what names the buffer in the
// error; it is called only then (not per row).
func checkCTEBounds(what func() string, n int, mem *int64, row []types.Datum) error {
	if n > maxCTERows {
		return sqlerr.Newf(sqlerr.CodeOutOfMemory, "%s has more than %d rows, which is not supported yet (WITH queries do not spill to disk)", what(), maxCTERows)
	}
	if *mem += rowMemory(row); *mem > maxCTEMemory {
		return sqlerr.Newf(sqlerr.CodeOutOfMemory, "%s needs more than %d MB of memory, which is not supported yet (WITH queries do not spill to disk)", what(), maxCTEMemory>>20)
	}
	return nil
}

// cteScan reads a materialized CTE's buffer, filling it as needed.
type cteScan struct {
	buf *cteBuffer
	x   *execCtx
	i   int
}

func (s *cteScan) Next(ctx context.Context) ([]types.Datum, error) {
	for s.i >= len(s.buf.rows) {
		ok, err := s.buf.fill(ctx, s.x)
		if err != nil || !ok {
			return nil, err
		}
	}
	s.i++
	return s.buf.rows[s.i-1], nil
}
func (s *cteScan) RowsAffected() int64 { return 0 }
func (s *cteScan) Close()              {}

// open starts the recursion.
func (rp *recursivePlan) open(_ context.Context, x *execCtx) rowIter {
	it := &recursiveIter{rp: rp, x: x}
	if !rp.all {
		it.seen = map[string]struct{}{}
	}
	return it
}

// recursiveIter runs the non-recursive term, then the recursive term over
// the previous iteration's rows until it makes none.
type recursiveIter struct {
	rp      *recursivePlan
	x       *execCtx
	cur     rowIter
	started bool
	next    [][]types.Datum // this iteration's rows: the next working table
	nextMem int64
	seen    map[string]struct{} // UNION: every row so far
	seenMem int64
	iter    int
	keyBuf  []byte
	done    bool
}

func (r *recursiveIter) Next(ctx context.Context) ([]types.Datum, error) {
	rp := r.rp
	for !r.done {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if r.cur == nil {
			var err error
			if !r.started {
				r.started = true
				r.cur, err = rp.left.open(ctx, r.x)
			} else {
				if len(r.next) == 0 {
					r.done = true
					rp.work.rows = nil
					return nil, nil
				}
				if r.iter++; r.iter > maxRecursion {
					return nil, sqlerr.Newf(sqlerr.CodeStatementTooComplex, "recursive query %q did not finish after %d iterations", rp.def.name, maxRecursion).
						WithHint("Check the recursive term's stop condition, or read the query with a LIMIT.")
				}
				rp.work.rows, r.next, r.nextMem = r.next, nil, 0
				r.cur, err = rp.right.open(ctx, r.x)
			}
			if err != nil {
				return nil, err
			}
		}
		row, err := r.cur.Next(ctx)
		if err != nil {
			return nil, err
		}
		if row == nil {
			r.cur.Close()
			r.cur = nil
			continue
		}
		casts := rp.rightCasts
		if r.iter == 0 {
			casts = rp.leftCasts
		}
		width := len(rp.def.cols)
		if row, err = castRow(row[:width], casts); err != nil {
			return nil, err
		}
		row = append([]types.Datum(nil), row...)
		if r.seen != nil {
			r.keyBuf = r.keyBuf[:0]
			for _, v := range row {
				r.keyBuf = types.EncodeKey(r.keyBuf, v)
			}
			if _, dup := r.seen[string(r.keyBuf)]; dup {
				continue
			}
			r.seen[string(r.keyBuf)] = struct{}{}
			r.seenMem += int64(len(r.keyBuf))
			if err := checkCTEBounds(func() string { return fmt.Sprintf("the UNION of recursive query %q", rp.def.name) }, len(r.seen), &r.seenMem, nil); err != nil {
				return nil, err
			}
		}
		if err := checkCTEBounds(func() string { return fmt.Sprintf("an iteration of recursive query %q", rp.def.name) }, len(r.next)+1, &r.nextMem, row); err != nil {
			return nil, err
		}
		r.next = append(r.next, row)
		return row, nil
	}
	return nil, nil
}
func (r *recursiveIter) RowsAffected() int64 { return 0 }
func (r *recursiveIter) Close() {
	if r.cur != nil {
		r.cur.Close()
		r.cur = nil
	}
}

// withIter closes the buffers of its WITH query's CTEs with the query.
type withIter struct {
	in   rowIter
	bufs []*cteBuffer
}

func (w *withIter) Next(ctx context.Context) ([]types.Datum, error) { return w.in.Next(ctx) }
func (w *withIter) RowsAffected() int64                             { return w.in.RowsAffected() }
func (w *withIter) Close() {
	w.in.Close()
	for _, b := range w.bufs {
		if b.prod != nil && !b.done && b.err == nil {
			b.prod.Close()
			b.done = true
		}
	}
}

// openWith wraps the iterator of a WITH query: it starts a new execution of
// the query's materialized CTEs.
func openWith(defs []*cteDef, open func() (rowIter, error)) (rowIter, error) {
	resetCTEs(defs)
	bufs := make([]*cteBuffer, len(defs))
	for i, d := range defs {
		bufs[i] = d.buf
	}
	in, err := open()
	if err != nil {
		return nil, err
	}
	return &withIter{in: in, bufs: bufs}, nil
}

// planWithStmt plans INSERT, UPDATE or DELETE with a WITH clause: the
// statement without it, with the CTEs' names visible. ok is false for
// other statements.
func (s *session) planWithStmt(ctx context.Context, x *execCtx, stmt *parser.Statement, params []*types.Type) (p *planned, ok bool, err error) {
	switch {
	case stmt.AST.GetInsertStmt().GetWithClause() != nil, stmt.AST.GetUpdateStmt().GetWithClause() != nil,
		stmt.AST.GetDeleteStmt().GetWithClause() != nil:
	default:
		return nil, false, nil
	}
	var w *pg_query.WithClause
	clone := proto.Clone(stmt.AST).(*pg_query.Node)
	switch n := clone.Node.(type) {
	case *pg_query.Node_InsertStmt:
		w, n.InsertStmt.WithClause = n.InsertStmt.WithClause, nil
	case *pg_query.Node_UpdateStmt:
		w, n.UpdateStmt.WithClause = n.UpdateStmt.WithClause, nil
	case *pg_query.Node_DeleteStmt:
		w, n.DeleteStmt.WithClause = n.DeleteStmt.WithClause, nil
	}
	if w == nil {
		return nil, false, nil
	}
	defs, pop, err := x.pushWith(ctx, w, clone, params)
	if err != nil {
		return nil, true, err
	}
	defer pop()
	p, err = s.planStmt(ctx, x, &parser.Statement{AST: clone, SQL: stmt.SQL}, params)
	if err != nil {
		return nil, true, err
	}
	var mat []*cteDef
	for _, d := range defs {
		if !d.inline {
			mat = append(mat, d)
		}
	}
	if len(mat) > 0 {
		open := p.open
		p.open = func(ctx context.Context, x *execCtx) (rowIter, error) {
			return openWith(mat, func() (rowIter, error) { return open(ctx, x) })
		}
	}
	return p, true, nil
}

// explainLines describes a CTE reference's rows for EXPLAIN.
func (s *cteSource) explainLines() []string {
	switch s.kind {
	case cteWork:
		return []string{"-> working table scan " + s.def.name}
	case cteStream:
		return s.def.rec.explainLines()
	case cteValues:
		return []string{fmt.Sprintf("-> values (%d rows)", len(s.values))}
	}
	return []string{"-> cte scan " + s.def.name + " (materialized)"}
}

// explainLines describes a recursive CTE: its two terms under a
// "recursive union" operator.
func (rp *recursivePlan) explainLines() []string {
	head := "-> recursive union"
	if rp.all {
		head += " all"
	}
	out := []string{head + " " + rp.def.name}
	for _, l := range rp.left.explainOps() {
		out = append(out, "  "+l)
	}
	for _, l := range rp.right.explainOps() {
		out = append(out, "  "+l)
	}
	return out
}

// explainCTEs describes the materialized CTEs of a WITH query, each with
// its plan, indented by depth.
func (sp *selectPlan) explainCTEs(depth int) []string {
	var out []string
	ind := strings.Repeat("  ", depth)
	for _, d := range sp.ctes {
		out = append(out, ind+"-> cte "+d.name+" (materialized)")
		var lines []string
		if d.rec != nil {
			lines = d.rec.explainLines()
		} else {
			lines = d.body.explainOps()
		}
		for _, l := range lines {
			out = append(out, ind+"  "+l)
		}
	}
	return out
}
