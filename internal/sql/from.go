package sql

import (
	"context"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// FROM clauses over several tables, joins and subqueries.
//
// A FROM clause becomes a tree of rels: tables and subqueries at the
// leaves, joins above them (a FROM list is a chain of cross joins). The
// row of a join is the concatenation of its inputs' rows, followed by the
// computed columns of its USING columns where they need one (a FULL join's
// COALESCE, or a cast to the columns' common type), so that every rel's row
// is a contiguous range [base, base+width) of the whole FROM row. WHERE
// and ON are built over the whole row (absolute column indices) and
// rebased onto the rel that evaluates them once they are placed:
//
//   - a WHERE conjunct, or an ON conjunct of an inner join, goes down to
//     the lowest rel whose rows it reads, as long as it does not cross
//     into the nullable side of an outer join: into a table's filter (where
//     chooseAccess turns it into a point lookup or a key span), an inner
//     join's condition, or a filter over an outer join's output;
//   - an ON conjunct of an outer join over its nullable side only filters
//     that side; any other ON conjunct is part of the join condition;
//   - the join condition's equalities between the two sides are the keys of
//     a hash join (the right input is the build side); the rest of the
//     condition is a residual filter of the matching pairs. A join without
//     equalities is a nested loop over the materialized right input.
//
// Column names resolve as PostgreSQL's do: an unqualified name against
// every column visible in the FROM clause (a USING column once), a
// qualified one against the table or subquery of that alias.

type relKind uint8

const (
	relTable relKind = iota
	relSubquery
	relJoin
	relFunc // a set-returning function (funcscan.go)
)

type joinKind uint8

const (
	joinInner joinKind = iota
	joinLeft
	joinRight
	joinFull
)

// SQLSTATEs of FROM clauses.
const (
	codeDuplicateAlias         = "42712" // duplicate_alias
	codeInvalidColumnReference = "42P10" // invalid_column_reference
)

var joinKindNames = [...]string{joinInner: "inner", joinLeft: "left", joinRight: "right", joinFull: "full"}

// nsCol is a column of the FROM row, as a name resolves to it.
type nsCol struct {
	name     string
	idx      int // in the whole FROM row
	typ      *types.Type
	hidden   bool   // a table's rowid: not part of *
	qual     string // the alias of its table or subquery ("" for a USING column)
	tableOID uint32
	attNum   uint16
}

// rangeEntry is a table or subquery of the FROM clause.
type rangeEntry struct {
	alias   string
	aliased bool                     // the query gave it an alias
	desc    *catalog.TableDescriptor // nil for a subquery
	cols    []nsCol
}

// rel is a node of a FROM clause's plan.
type rel struct {
	kind        relKind
	base, width int        // its row in the whole FROM row
	ns          []nsCol    // columns visible by unqualified name and in *
	leaves      []*rel     // the tables and subqueries under it (itself for a leaf)
	filter      []sem.Expr // conjuncts over its output (a leaf's, or after an outer join)

	// A table or subquery.
	entry *rangeEntry
	desc  *catalog.TableDescriptor
	lock  bool // a table read FOR UPDATE (lock.go)
	sub   *selectPlan
	fn    *funcScan

	// A join.
	join        joinKind
	left, right *rel
	cond        []sem.Expr // the join condition's conjuncts
	extras      []sem.Expr // computed USING columns, over left ‖ right

	// Set by finish, over the rel's own rows (rebased).
	localFilter         sem.Expr   // nil: none
	leftKeys, rightKeys []sem.Expr // hash join keys over the left and right rows
	keyConds            []sem.Expr // the equalities the keys come from (EXPLAIN)
	residual            sem.Expr   // the rest of the join condition; nil: none
	localExtras         []sem.Expr
}

// fromPlan is a FROM clause with joins, several items or a subquery.
type fromPlan struct {
	root    *rel
	scope   *fromScope
	entries []*rangeEntry
}

// fromScope resolves names over (part of) a FROM clause.
type fromScope struct {
	entries []*rangeEntry  // visible to qualified names
	ns      []nsCol        // visible to unqualified names
	all     *[]*rangeEntry // every entry so far, for messages
}

var _ sem.Scope = (*fromScope)(nil)

func (s *fromScope) ResolveColumn(qualifier []string, name string) (int, *types.Type, error) {
	if len(qualifier) == 0 {
		var found *nsCol
		for i := range s.ns {
			if c := &s.ns[i]; c.name == name {
				if found != nil {
					return 0, nil, sqlerr.Newf(sem.CodeAmbiguousColumn, "column reference %q is ambiguous", name)
				}
				found = c
			}
		}
		if found == nil {
			return 0, nil, sqlerr.Newf(sqlerr.CodeUndefinedColumn, "column %q does not exist", name)
		}
		return found.idx, found.typ, nil
	}
	e, err := s.entry(qualifier)
	if err != nil {
		return 0, nil, err
	}
	var found *nsCol
	for i := range e.cols {
		if c := &e.cols[i]; c.name == name {
			if found != nil {
				return 0, nil, sqlerr.Newf(sem.CodeAmbiguousColumn, "column reference %q is ambiguous", name)
			}
			found = c
		}
	}
	if found == nil {
		return 0, nil, sqlerr.Newf(sqlerr.CodeUndefinedColumn, "column %s.%s does not exist", qualifier[len(qualifier)-1], name)
	}
	return found.idx, found.typ, nil
}

// entry finds the table or subquery a qualifier names.
func (s *fromScope) entry(qualifier []string) (*rangeEntry, error) {
	t := qualifier[len(qualifier)-1]
	for _, e := range s.entries {
		if e.alias != t {
			continue
		}
		if n := len(qualifier); n > 1 && (e.aliased || e.desc == nil || e.desc.Schema != qualifier[n-2]) {
			continue
		}
		return e, nil // aliases are unique (addEntry)
	}
	return nil, missingEntry(t, s.entries, s.all)
}

// missingEntry is PostgreSQL's error for a qualifier that names no
// visible table.
func missingEntry(t string, visible []*rangeEntry, all *[]*rangeEntry) error {
	for _, e := range visible {
		if e.aliased && e.desc != nil && e.desc.Name == t {
			return sqlerr.Newf(sqlerr.CodeUndefinedTable, "invalid reference to FROM-clause entry for table %q", t).
				WithHint("Perhaps you meant to reference the table alias %q.", e.alias)
		}
	}
	if all != nil {
		for _, e := range *all {
			if e.alias == t {
				return sqlerr.Newf(sqlerr.CodeUndefinedTable, "invalid reference to FROM-clause entry for table %q", t).
					WithHint("There is an entry for table %q, but it cannot be referenced from this part of the query.", t)
			}
		}
	}
	return sqlerr.Newf(sqlerr.CodeUndefinedTable, "missing FROM-clause entry for table %q", t)
}

// fromBuilder plans a FROM clause.
type fromBuilder struct {
	x       *execCtx
	params  []*types.Type
	entries []*rangeEntry // in the order of the FROM row
	width   int           // of the FROM row so far
}

// planFrom plans a FROM clause that is not a single plain table.
func (x *execCtx) planFrom(ctx context.Context, from []*pg_query.Node, params []*types.Type) (*fromPlan, error) {
	fb := &fromBuilder{x: x, params: params}
	var root *rel
	for _, n := range from {
		r, err := fb.item(ctx, n)
		if err != nil {
			return nil, err
		}
		if root == nil {
			root = r
			continue
		}
		root = &rel{kind: relJoin, join: joinInner, left: root, right: r, base: root.base,
			width: root.width + r.width, ns: concatNS(root.ns, r.ns), leaves: concatRels(root.leaves, r.leaves)}
	}
	fp := &fromPlan{root: root, entries: fb.entries}
	fp.scope = &fromScope{entries: fb.entries, ns: root.ns, all: &fb.entries}
	return fp, nil
}

func concatNS(a, b []nsCol) []nsCol {
	return append(append(make([]nsCol, 0, len(a)+len(b)), a...), b...)
}

func concatRels(a, b []*rel) []*rel {
	return append(append(make([]*rel, 0, len(a)+len(b)), a...), b...)
}

// addEntry registers a table or subquery under its alias.
func (fb *fromBuilder) addEntry(e *rangeEntry) error {
	for _, o := range fb.entries {
		if o.alias == e.alias {
			return sqlerr.Newf(codeDuplicateAlias, "table name %q specified more than once", e.alias)
		}
	}
	fb.entries = append(fb.entries, e)
	return nil
}

// leaf makes the rel of a table or subquery with the given columns.
func (fb *fromBuilder) leaf(kind relKind, e *rangeEntry, colAliases []*pg_query.Node) (*rel, error) {
	if len(colAliases) > 0 {
		visible := 0
		for _, c := range e.cols {
			if !c.hidden {
				visible++
			}
		}
		if len(colAliases) > visible {
			return nil, sqlerr.Newf(codeInvalidColumnReference, "table %q has %d columns available but %d columns specified", e.alias, visible, len(colAliases))
		}
		j := 0
		for i := range e.cols {
			if e.cols[i].hidden || j >= len(colAliases) {
				continue
			}
			e.cols[i].name = colAliases[j].GetString_().GetSval()
			j++
		}
	}
	if err := fb.addEntry(e); err != nil {
		return nil, err
	}
	r := &rel{kind: kind, base: fb.width, width: len(e.cols), entry: e, desc: e.desc}
	for i := range e.cols {
		e.cols[i].idx = fb.width + i
		e.cols[i].qual = e.alias
	}
	fb.width += len(e.cols)
	r.ns = e.cols
	r.leaves = []*rel{r}
	return r, nil
}

func (fb *fromBuilder) item(ctx context.Context, n *pg_query.Node) (*rel, error) {
	switch v := n.Node.(type) {
	case *pg_query.Node_RangeVar:
		rv := v.RangeVar
		if d := fb.x.lookupCTE(rv); d != nil {
			return fb.cteItem(ctx, d, rv) // cte.go
		}
		desc, err := fb.x.readTable(ctx, rv)
		if err != nil {
			return nil, err
		}
		e := &rangeEntry{alias: desc.Name, desc: desc}
		var colAliases []*pg_query.Node
		if rv.Alias != nil {
			e.alias, e.aliased, colAliases = rv.Alias.Aliasname, true, rv.Alias.Colnames
		}
		for i, c := range desc.Columns {
			e.cols = append(e.cols, nsCol{name: c.Name, typ: c.Type, hidden: c.Hidden, tableOID: desc.ID, attNum: uint16(i + 1)})
		}
		return fb.leaf(relTable, e, colAliases)
	case *pg_query.Node_RangeSubselect:
		rs := v.RangeSubselect
		if rs.Lateral {
			return nil, sqlerr.Unsupportedf("LATERAL is not supported yet")
		}
		if rs.Alias == nil {
			return nil, sqlerr.New(sqlerr.CodeSyntaxError, "subquery in FROM must have an alias").
				WithHint("For example, FROM (SELECT ...) [AS] foo.")
		}
		sel := rs.Subquery.GetSelectStmt()
		if sel == nil {
			return nil, sqlerr.Unsupportedf("this subquery in FROM is not supported yet")
		}
		sp, err := fb.x.buildSelect(ctx, sel, fb.params)
		if err != nil {
			return nil, err
		}
		e := &rangeEntry{alias: rs.Alias.Aliasname, aliased: true}
		for _, c := range sp.cols {
			e.cols = append(e.cols, nsCol{name: c.name, typ: c.typ})
		}
		r, err := fb.leaf(relSubquery, e, rs.Alias.Colnames)
		if err != nil {
			return nil, err
		}
		r.sub = sp
		return r, nil
	case *pg_query.Node_JoinExpr:
		return fb.joinItem(ctx, v.JoinExpr)
	case *pg_query.Node_RangeFunction:
		return fb.funcItem(v.RangeFunction)
	}
	return nil, sqlerr.Unsupportedf("this FROM clause item is not supported yet")
}

func (fb *fromBuilder) joinItem(ctx context.Context, j *pg_query.JoinExpr) (*rel, error) {
	var kind joinKind
	switch j.Jointype {
	case pg_query.JoinType_JOIN_INNER:
		kind = joinInner
	case pg_query.JoinType_JOIN_LEFT:
		kind = joinLeft
	case pg_query.JoinType_JOIN_RIGHT:
		kind = joinRight
	case pg_query.JoinType_JOIN_FULL:
		kind = joinFull
	default:
		return nil, sqlerr.Unsupportedf("this kind of join is not supported yet")
	}
	if j.Alias != nil || j.JoinUsingAlias != nil {
		return nil, sqlerr.Unsupportedf("aliases of joins are not supported yet")
	}
	l, err := fb.item(ctx, j.Larg)
	if err != nil {
		return nil, err
	}
	r, err := fb.item(ctx, j.Rarg)
	if err != nil {
		return nil, err
	}
	n := &rel{kind: relJoin, join: kind, left: l, right: r, base: l.base, leaves: concatRels(l.leaves, r.leaves)}
	var using []string
	switch {
	case j.IsNatural:
		for _, lc := range l.ns {
			if lc.hidden {
				continue
			}
			for _, rc := range r.ns {
				if !rc.hidden && rc.name == lc.name && !containsString(using, lc.name) {
					using = append(using, lc.name)
				}
			}
		}
	case len(j.UsingClause) > 0:
		for _, u := range j.UsingClause {
			name := u.GetString_().GetSval()
			if containsString(using, name) {
				return nil, sqlerr.Newf(sqlerr.CodeDuplicateColumn, "column name %q appears more than once in USING clause", name)
			}
			using = append(using, name)
		}
	}
	lns, rns := l.ns, r.ns
	if len(using) > 0 {
		var merged []nsCol
		if merged, lns, rns, err = fb.using(n, using); err != nil {
			return nil, err
		}
		n.ns = concatNS(merged, concatNS(lns, rns))
	} else {
		n.ns = concatNS(lns, rns)
	}
	n.width = fb.width - n.base
	if j.Quals != nil {
		entries := make([]*rangeEntry, len(n.leaves))
		for i, lf := range n.leaves {
			entries[i] = lf.entry
		}
		b := fb.x.builder(nil, fb.params, "JOIN/ON")
		b.Scope = &fromScope{entries: entries, ns: n.ns, all: &fb.entries}
		on, err := b.BuildCondition(j.Quals)
		if err != nil {
			return nil, err
		}
		for _, c := range sem.SplitConjuncts(on) {
			n.placeOn(c)
		}
	}
	return n, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// findUsing finds the one column of a join side that a USING name names.
func findUsing(ns []nsCol, name, side string) (int, error) {
	at := -1
	for i, c := range ns {
		if c.name != name {
			continue
		}
		if at >= 0 {
			return 0, sqlerr.Newf(sem.CodeAmbiguousColumn, "common column name %q appears more than once in %s table", name, side)
		}
		at = i
	}
	if at < 0 {
		return 0, sqlerr.Newf(sqlerr.CodeUndefinedColumn, "column %q specified in USING clause does not exist in %s table", name, side)
	}
	return at, nil
}

// pairScope resolves "l.x" and "r.x" to two given columns: for building
// the expressions of a USING column.
type pairScope struct{ l, r nsCol }

func (s pairScope) ResolveColumn(q []string, _ string) (int, *types.Type, error) {
	if len(q) == 1 && q[0] == "r" {
		return s.r.idx, s.r.typ, nil
	}
	return s.l.idx, s.l.typ, nil
}

// using adds the join condition of USING (or NATURAL) columns to n and
// returns the merged columns and the remaining columns of each side.
func (fb *fromBuilder) using(n *rel, names []string) (merged, lns, rns []nsCol, err error) {
	l, r := n.left, n.right
	ldrop, rdrop := map[int]bool{}, map[int]bool{}
	colRef := func(side string) *pg_query.Node {
		return pg_query.MakeColumnRefNode([]*pg_query.Node{pg_query.MakeStrNode(side), pg_query.MakeStrNode("x")}, -1)
	}
	for _, name := range names {
		li, err := findUsing(l.ns, name, "left")
		if err != nil {
			return nil, nil, nil, err
		}
		ri, err := findUsing(r.ns, name, "right")
		if err != nil {
			return nil, nil, nil, err
		}
		ldrop[li], rdrop[ri] = true, true
		lc, rc := l.ns[li], r.ns[ri]
		b := fb.x.builder(nil, fb.params, "JOIN/USING")
		b.Scope = pairScope{l: lc, r: rc}
		lref := &sem.ColumnRef{Idx: lc.idx, Typ: lc.typ, Name: qualifiedName(lc)}
		rref := &sem.ColumnRef{Idx: rc.idx, Typ: rc.typ, Name: qualifiedName(rc)}
		eq, err := b.BuildBinary("=", lref, rref)
		if err != nil {
			return nil, nil, nil, err
		}
		n.cond = append(n.cond, eq)
		// The merged column: the common type of both, the left one for an
		// inner or left join, the right one for a right join, COALESCE of
		// both for a full join.
		co, err := b.Build(&pg_query.Node{Node: &pg_query.Node_CoalesceExpr{CoalesceExpr: &pg_query.CoalesceExpr{
			Args: []*pg_query.Node{colRef("l"), colRef("r")}}}}, nil)
		if err != nil {
			return nil, nil, nil, err
		}
		typ := co.Type()
		m := nsCol{name: name, typ: typ}
		var extra sem.Expr
		if n.join == joinFull {
			extra = sem.Rewrite(co, func(e sem.Expr) sem.Expr { // for EXPLAIN: the columns' names
				if c, ok := e.(*sem.ColumnRef); ok {
					if c.Idx == lc.idx {
						return lref
					}
					return rref
				}
				return e
			})
		} else {
			side, ref := lc, lref
			if n.join == joinRight {
				side, ref = rc, rref
			}
			if side.typ.Identical(typ) {
				m.idx, m.tableOID, m.attNum = side.idx, side.tableOID, side.attNum
			} else if extra, err = b.Coerce(ref, typ, types.CoercionImplicit); err != nil {
				return nil, nil, nil, err
			}
		}
		if extra != nil {
			m.idx = fb.width
			fb.width++
			n.extras = append(n.extras, extra)
		}
		merged = append(merged, m)
	}
	for i, c := range l.ns {
		if !ldrop[i] {
			lns = append(lns, c)
		}
	}
	for i, c := range r.ns {
		if !rdrop[i] {
			rns = append(rns, c)
		}
	}
	return merged, lns, rns, nil
}

func qualifiedName(c nsCol) string {
	if c.qual == "" {
		return c.name
	}
	return c.qual + "." + c.name
}

// columnsOf returns the FROM row columns e reads.
func columnsOf(e sem.Expr) []int {
	var cols []int
	sem.Walk(e, func(x sem.Expr) bool {
		if c, ok := x.(*sem.ColumnRef); ok {
			cols = append(cols, c.Idx)
		}
		return true
	})
	return cols
}

// covers reports whether every column of cols is in r's row.
func (r *rel) covers(cols []int) bool {
	for _, c := range cols {
		if c < r.base || c >= r.base+r.width {
			return false
		}
	}
	return true
}

// movable reports whether a conjunct may be evaluated elsewhere than
// where it was written: it reads columns and is not volatile.
func movable(c sem.Expr, cols []int) bool {
	return len(cols) > 0 && sem.MaxVolatility(c) != sem.Volatile
}

// placeOn places a conjunct of n's ON condition.
func (n *rel) placeOn(c sem.Expr) {
	cols := columnsOf(c)
	if !movable(c, cols) {
		n.cond = append(n.cond, c)
		return
	}
	switch {
	case n.join == joinInner:
		n.place(c, cols)
	case n.join == joinLeft && n.right.covers(cols):
		n.right.place(c, cols)
	case n.join == joinRight && n.left.covers(cols):
		n.left.place(c, cols)
	default:
		n.cond = append(n.cond, c)
	}
}

// place places a conjunct that filters r's output rows (a WHERE conjunct,
// or an inner join's ON conjunct) as deep as it can go.
func (r *rel) place(c sem.Expr, cols []int) {
	if r.kind != relJoin {
		r.filter = append(r.filter, c)
		return
	}
	switch {
	case (r.join == joinInner || r.join == joinLeft) && r.left.covers(cols):
		r.left.place(c, cols)
	case (r.join == joinInner || r.join == joinRight) && r.right.covers(cols):
		r.right.place(c, cols)
	case r.join == joinInner:
		r.cond = append(r.cond, c)
	default:
		r.filter = append(r.filter, c)
	}
}

// placeWhere places the conjuncts of WHERE and returns those that stay
// above the FROM clause (no columns, or volatile).
func (fp *fromPlan) placeWhere(where sem.Expr) sem.Expr {
	if where == nil {
		return nil
	}
	var rest []sem.Expr
	for _, c := range sem.SplitConjuncts(where) {
		cols := columnsOf(c)
		if movable(c, cols) {
			fp.root.place(c, cols)
		} else {
			rest = append(rest, c)
		}
	}
	if len(rest) == 0 {
		return nil
	}
	return sem.Conjoin(rest)
}

// finish completes the plan once WHERE is placed.
func (fp *fromPlan) finish() {
	fp.deriveEqualities()
	fp.root.finish()
}

// deriveEqualities adds the equalities with constants that a join's
// equality between two columns implies: with a.id = b.id in an inner join
// and a.id = 1 filtering a's rows, b's rows can be filtered with b.id = 1
// (often a point lookup). Into the nullable side of an outer join only (its
// rows that could not match are not needed); never into a full join.
func (fp *fromPlan) deriveEqualities() {
	seen := map[string]bool{}
	for round := 0; round < 4; round++ {
		changed := false
		var visit func(n *rel)
		visit = func(n *rel) {
			if n.kind != relJoin {
				return
			}
			visit(n.left)
			visit(n.right)
			for _, c := range n.cond {
				cmp, ok := c.(*sem.CompareExpr)
				if !ok || cmp.Op != "=" {
					continue
				}
				x, ok1 := cmp.Left.(*sem.ColumnRef)
				y, ok2 := cmp.Right.(*sem.ColumnRef)
				if !ok1 || !ok2 || !x.Typ.Identical(y.Typ) {
					continue
				}
				if n.left.covers([]int{y.Idx}) && n.right.covers([]int{x.Idx}) {
					x, y = y, x
				}
				if !n.left.covers([]int{x.Idx}) || !n.right.covers([]int{y.Idx}) {
					continue
				}
				derive := func(from *rel, col *sem.ColumnRef, into *rel, target *sem.ColumnRef) {
					v := from.constFor(col.Idx)
					if v == nil {
						return
					}
					d := &sem.CompareExpr{Op: "=", Left: target, Right: v}
					if k := exprKey(d); !seen[k] && !into.hasFilter(k) {
						seen[k] = true
						into.place(d, []int{target.Idx})
						changed = true
					}
				}
				if n.join == joinInner || n.join == joinLeft {
					derive(n.left, x, n.right, y)
				}
				if n.join == joinInner || n.join == joinRight {
					derive(n.right, y, n.left, x)
				}
			}
		}
		visit(fp.root)
		if !changed {
			return
		}
	}
}

// leafOf returns the table or subquery under r whose row has column idx.
func (r *rel) leafOf(idx int) *rel {
	for _, lf := range r.leaves {
		if lf.covers([]int{idx}) {
			return lf
		}
	}
	return nil
}

// constFor returns the value an equality in the filter of column idx's
// table fixes it to, if there is one.
func (r *rel) constFor(idx int) sem.Expr {
	lf := r.leafOf(idx)
	if lf == nil {
		return nil
	}
	for _, c := range lf.filter {
		if col, op, v, ok := sem.ColumnComparison(c); ok && op == "=" && col == idx && v != nil && sem.IsRowIndependent(v) {
			if cmp, isCmp := c.(*sem.CompareExpr); isCmp && sameDatumKind(cmp.Left.Type(), cmp.Right.Type()) {
				return v
			}
		}
	}
	return nil
}

// hasFilter reports whether the leaf of a derived equality's column
// already has it.
func (r *rel) hasFilter(key string) bool {
	for _, lf := range r.leaves {
		for _, c := range lf.filter {
			if exprKey(c) == key {
				return true
			}
		}
	}
	return false
}

// rebase shifts e's column references by -base.
func rebase(e sem.Expr, base int) sem.Expr {
	if e == nil || base == 0 {
		return e
	}
	return sem.Rewrite(e, func(x sem.Expr) sem.Expr {
		if c, ok := x.(*sem.ColumnRef); ok {
			return &sem.ColumnRef{Idx: c.Idx - base, Typ: c.Typ, Name: c.Name}
		}
		return x
	})
}

func conjoinRebased(list []sem.Expr, base int) sem.Expr {
	if len(list) == 0 {
		return nil
	}
	return rebase(sem.Conjoin(list), base)
}

// finish derives what r's operators evaluate, over their own rows.
func (r *rel) finish() {
	r.localFilter = conjoinRebased(r.filter, r.base)
	if r.kind != relJoin {
		return
	}
	r.left.finish()
	r.right.finish()
	var rest []sem.Expr
	for _, c := range r.cond {
		if lk, rk, ok := r.hashKey(c); ok {
			r.leftKeys = append(r.leftKeys, rebase(lk, r.left.base))
			r.rightKeys = append(r.rightKeys, rebase(rk, r.right.base))
			r.keyConds = append(r.keyConds, c)
			continue
		}
		rest = append(rest, c)
	}
	r.residual = conjoinRebased(rest, r.base)
	for _, e := range r.extras {
		r.localExtras = append(r.localExtras, rebase(e, r.base))
	}
}

// hashKey recognizes an equality between an expression of the left input
// and one of the right input whose values a hash table can match: both of
// the same kind of datum, so that their key encodings are equal exactly
// when = holds.
func (r *rel) hashKey(c sem.Expr) (l, rt sem.Expr, ok bool) {
	cmp, isCmp := c.(*sem.CompareExpr)
	if !isCmp || cmp.Op != "=" || sem.MaxVolatility(c) == sem.Volatile {
		return nil, nil, false
	}
	a, b := cmp.Left, cmp.Right
	ac, bc := columnsOf(a), columnsOf(b)
	if len(ac) == 0 || len(bc) == 0 {
		return nil, nil, false
	}
	switch {
	case r.left.covers(ac) && r.right.covers(bc):
	case r.left.covers(bc) && r.right.covers(ac):
		a, b = b, a
	default:
		return nil, nil, false
	}
	if !sameDatumKind(a.Type(), b.Type()) {
		return nil, nil, false
	}
	return a, b, true
}

func sameDatumKind(a, b *types.Type) bool {
	if a.Family() != b.Family() {
		return false
	}
	if a.Family() == types.ArrayFamily {
		return sameDatumKind(a.Elem(), b.Elem())
	}
	return a.Family() != types.UnknownFamily
}

// tables lists the tables of the FROM clause with the offset of their
// rows in the FROM row.
func (s *source) tables() []tableAt {
	if s.from != nil {
		var out []tableAt
		for _, lf := range s.from.root.leaves {
			if lf.kind == relTable {
				out = append(out, tableAt{desc: lf.desc, offset: lf.base})
			}
		}
		return out
	}
	if s.desc != nil {
		return []tableAt{{desc: s.desc}}
	}
	return nil
}

type tableAt struct {
	desc   *catalog.TableDescriptor
	offset int
}
