package sql

import (
	"context"
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// planExplain plans EXPLAIN <select>: one text row per line of the plan,
// innermost operator last, with the table access (index and key spans).
func (s *session) planExplain(ctx context.Context, x *execCtx, ex *pg_query.ExplainStmt, params []*types.Type) (*planned, error) {
	for _, o := range ex.Options {
		if de := o.GetDefElem(); de != nil && strings.EqualFold(de.Defname, "analyze") {
			return nil, sqlerr.Unsupportedf("EXPLAIN ANALYZE is not supported yet")
		}
	}
	sel := ex.Query.GetSelectStmt()
	if sel == nil {
		return nil, sqlerr.Unsupportedf("EXPLAIN is supported for SELECT only")
	}
	sp, err := x.buildSelect(ctx, sel, params)
	if err != nil {
		return nil, err
	}
	lines := sp.explain()
	return &planned{
		params: params, cols: []resultCol{{name: "QUERY PLAN", typ: types.Text}}, needsTxn: true,
		open: func(context.Context, *execCtx) (rowIter, error) {
			rows := make([][]types.Datum, len(lines))
			for i, l := range lines {
				rows[i] = []types.Datum{types.DString(l)}
			}
			return &sliceIter{rows: rows}, nil
		},
		tag: constTag("EXPLAIN"),
	}, nil
}

// explain lists the operators of a SELECT, outermost first.
func (sp *selectPlan) explain() []string {
	ops := sp.explainOps()
	ops[0] = strings.TrimPrefix(ops[0], "-> ")
	return ops
}

// explainOps lists the operators of a SELECT, outermost first, each as
// "-> operator" indented under the one it feeds.
func (sp *selectPlan) explainOps() []string {
	if sp.src.cte != nil && sp.src.cte.kind != cteValues {
		return sp.src.cte.explainLines() // cte.go
	}
	var ops []string
	if sp.limit != nil || sp.offset != nil {
		ops = append(ops, fmt.Sprintf("limit (count %s, offset %s)", exprText(sp.limit), exprText(sp.offset)))
	}
	if len(sp.order) > 0 && sp.src.from == nil && sp.src.setop == nil && sp.src.cte == nil && sp.src.desc != nil &&
		sp.orderedByScan(chooseAccess(sp.src.desc, sp.filter)) {
		ops = append(ops, "no sort: the scan reads in primary key order")
	} else if len(sp.order) > 0 {
		keys := make([]string, len(sp.order))
		for i, k := range sp.order {
			keys[i] = k.expr.String()
			if k.desc {
				keys[i] += " DESC"
			}
		}
		ops = append(ops, "sort (in memory) by "+strings.Join(keys, ", "))
	}
	if sp.distinct || len(sp.distinctOn) > 0 {
		ops = append(ops, "distinct (hash)")
	}
	targets := make([]string, len(sp.targets))
	for i, t := range sp.targets {
		targets[i] = t.String()
	}
	ops = append(ops, "project "+strings.Join(targets, ", "))
	if sp.agg != nil {
		if sp.agg.having != nil {
			ops = append(ops, "filter (HAVING) "+sp.agg.having.String())
		}
		ops = append(ops, "aggregate (hash)")
	}
	if sp.filter != nil {
		ops = append(ops, "filter "+sp.filter.String())
	}
	var from []string
	switch {
	case sp.src.from != nil:
		from = sp.src.from.root.explain()
	case sp.src.cte != nil: // VALUES
		from = sp.src.cte.explainLines()
	case sp.src.setop != nil:
		so := sp.src.setop
		name := map[pg_query.SetOperation]string{pg_query.SetOperation_SETOP_UNION: "union",
			pg_query.SetOperation_SETOP_INTERSECT: "intersect", pg_query.SetOperation_SETOP_EXCEPT: "except"}[so.op]
		if so.all {
			name += " all"
		}
		ops = append(ops, name)
		from = append(so.left.explainOps(), so.right.explainOps()...)
	case sp.src.desc == nil:
		ops = append(ops, "one row (no FROM)")
	default:
		ops = append(ops, chooseAccess(sp.src.desc, sp.filter).explain()+lockText(sp.lock))
	}
	for i := range ops {
		ops[i] = strings.Repeat("  ", i) + "-> " + ops[i]
	}
	depth := len(ops)
	for _, l := range from {
		ops = append(ops, strings.Repeat("  ", depth)+l)
	}
	if len(sp.ctes) > 0 { // the materialized CTEs, under the top operator (cte.go)
		ops = append(ops[:1], append(sp.explainCTEs(1), ops[1:]...)...)
	}
	for _, s := range sp.subplans() { // the subqueries of expressions, at the end
		how := "runs per row"
		if s.cache != nil {
			how = "runs once"
		}
		ops = append(ops, "  -> subplan "+s.String()+" ("+how+")")
		for _, l := range s.sp.explainOps() {
			ops = append(ops, "    "+l)
		}
	}
	return ops
}

// subplans lists the subqueries of the query's expressions (not those of
// its FROM subqueries, which their own plans list), in the order of the
// select list, HAVING, WHERE, ORDER BY, then the FROM clause's filters and
// join conditions.
func (sp *selectPlan) subplans() []*subqueryExpr {
	var out []*subqueryExpr
	seen := map[*selectPlan]bool{}
	add := func(e sem.Expr) {
		if e == nil {
			return
		}
		sem.Walk(e, func(x sem.Expr) bool {
			if s, ok := x.(*subqueryExpr); ok && !seen[s.sp] {
				seen[s.sp] = true
				out = append(out, s)
			}
			return true
		})
	}
	for _, t := range sp.targets {
		add(t)
	}
	if sp.agg != nil {
		add(sp.agg.having)
	}
	add(sp.filter)
	for _, k := range sp.order {
		add(k.expr)
	}
	for _, e := range sp.distinctOn {
		add(e)
	}
	if sp.src.from != nil {
		var visit func(r *rel)
		visit = func(r *rel) {
			for _, c := range r.filter {
				add(c)
			}
			for _, c := range r.cond {
				add(c)
			}
			if r.kind == relJoin {
				visit(r.left)
				visit(r.right)
			}
		}
		visit(sp.src.from.root)
	}
	return out
}

// lockText is what EXPLAIN adds to a table access that locks the rows it
// reads (SELECT ... FOR UPDATE/SHARE [OF]; lock.go).
func lockText(lock bool) string {
	if lock {
		return " (locking)"
	}
	return ""
}

func exprText(e sem.Expr) string {
	if e == nil {
		return "none"
	}
	return e.String()
}
