package sql

import (
	"context"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// SELECT DISTINCT and DISTINCT ON.
//
// DISTINCT removes duplicate result rows with a bounded hash set, before
// the sort (PostgreSQL requires ORDER BY expressions to appear in the
// select list, so sort keys are functions of the distinct columns).
// DISTINCT ON (keys) keeps the first row per key in ORDER BY order:
// without ORDER BY, the first row read; with it, the least row per key by
// the sort order, found with a bounded hash map before the sort.

// outputExpr resolves an ORDER BY or DISTINCT ON item as PostgreSQL does
// (SQL92 rules first): an integer constant is an output column position, a
// bare name an output column name (before an input column), anything else
// an expression over the source (over the aggregation's output row in an
// aggregating query).
func (x *execCtx) outputExpr(src *source, n *pg_query.Node, sp *selectPlan, params []*types.Type, clause string) (sem.Expr, error) {
	if pos, isConst, err := constPosition(n, clause); isConst {
		if err != nil {
			return nil, err
		}
		if pos < 1 || pos > len(sp.targets) {
			return nil, sqlerr.Newf("42P10", "%s position %d is not in select list", clause, pos)
		}
		return sp.targets[pos-1], nil
	}
	if cr := n.GetColumnRef(); cr != nil && len(cr.Fields) == 1 && cr.Fields[0].GetString_() != nil {
		name := cr.Fields[0].GetString_().GetSval()
		var found sem.Expr
		for i, c := range sp.cols {
			if c.name != name {
				continue
			}
			if found != nil && exprKey(found) != exprKey(sp.targets[i]) {
				return nil, sqlerr.Newf(sem.CodeAmbiguousColumn, "%s %q is ambiguous", clause, name)
			}
			if found == nil {
				found = sp.targets[i]
			}
		}
		if found != nil {
			return found, nil
		}
	}
	if sp.agg != nil {
		return sp.agg.buildExpr(x, n, params, clause)
	}
	return x.builder(src, params, clause).Build(n, nil)
}

// planDistinct plans the DISTINCT clause, once the targets and ORDER BY
// are.
func (x *execCtx) planDistinct(src *source, sel *pg_query.SelectStmt, params []*types.Type, sp *selectPlan) error {
	if len(sel.DistinctClause) == 0 {
		return nil
	}
	if len(sel.DistinctClause) == 1 && sel.DistinctClause[0].GetNode() == nil {
		// SELECT DISTINCT.
		sp.distinct = true
		outputs := map[string]bool{}
		for _, t := range sp.targets {
			outputs[exprKey(t)] = true
		}
		for _, k := range sp.order {
			if !outputs[exprKey(k.expr)] {
				return sqlerr.New("42P10", "for SELECT DISTINCT, ORDER BY expressions must appear in select list")
			}
		}
		return nil
	}
	on := map[string]bool{}
	for _, n := range sel.DistinctClause {
		e, err := x.outputExpr(src, n, sp, params, "DISTINCT ON")
		if err != nil {
			return err
		}
		sp.distinctOn = append(sp.distinctOn, e)
		on[exprKey(e)] = true
	}
	// The DISTINCT ON keys must be the leading ORDER BY keys (in any
	// order), as PostgreSQL requires.
	skipped := false
	covered := map[string]bool{}
	for _, k := range sp.order {
		key := exprKey(k.expr)
		if !on[key] {
			skipped = true
			continue
		}
		if skipped {
			return errDistinctOnOrder()
		}
		covered[key] = true
	}
	if skipped && len(covered) < len(on) {
		return errDistinctOnOrder()
	}
	return nil
}

func errDistinctOnOrder() error {
	return sqlerr.New("42P10", "SELECT DISTINCT ON expressions must match initial ORDER BY expressions")
}

// distinctIter wraps the projection in the DISTINCT or DISTINCT ON
// operator, if the query has one. Input rows are [targets..., sort keys...,
// DISTINCT ON keys...].
// memLimit bounds the memory of its hash set (hashMemBytes; 0:
// maxAggMemory).
func (sp *selectPlan) distinctIter(in rowIter, memLimit int64) rowIter {
	width := len(sp.targets)
	switch {
	case sp.distinct:
		return &distinctIter{in: in, from: 0, to: width, seen: map[string]struct{}{}, memLimit: memLimit}
	case len(sp.distinctOn) > 0 && len(sp.order) == 0:
		from := width + len(sp.order)
		return &distinctIter{in: in, from: from, to: from + len(sp.distinctOn), seen: map[string]struct{}{}, memLimit: memLimit}
	case len(sp.distinctOn) > 0:
		from := width + len(sp.order)
		return &distinctOnIter{in: in, from: from, to: from + len(sp.distinctOn),
			less: (&sortIter{keys: sp.order, width: width}).less, memLimit: memLimit}
	}
	return in
}

// distinctIter passes on the first row of each distinct value of columns
// [from, to), streaming, with a bounded hash set.
type distinctIter struct {
	in       rowIter
	from, to int
	seen     map[string]struct{}
	mem      int64
	memLimit int64
	buf      []byte
}

func (d *distinctIter) Next(ctx context.Context) ([]types.Datum, error) {
	for {
		row, err := d.in.Next(ctx)
		if err != nil || row == nil {
			return nil, err
		}
		d.buf = d.buf[:0]
		for _, v := range row[d.from:d.to] {
			d.buf = types.EncodeKey(d.buf, v)
		}
		if _, dup := d.seen[string(d.buf)]; dup {
			continue
		}
		if err := checkDistinctLimit(len(d.seen), d.mem, d.memLimit); err != nil {
			return nil, err
		}
		d.seen[string(d.buf)] = struct{}{}
		d.mem += int64(len(d.buf) + groupOverhead)
		return row, nil
	}
}

func (d *distinctIter) RowsAffected() int64 { return 0 }
func (d *distinctIter) Close()              { d.in.Close() }

func checkDistinctBounds(n int, mem int64) error { return checkDistinctLimit(n, mem, 0) }

// checkDistinctLimit is checkDistinctBounds with a memory limit from
// work_mem (0: maxAggMemory).
func checkDistinctLimit(n int, mem, limit int64) error {
	if n >= maxAggGroups {
		return sqlerr.Newf(sqlerr.CodeOutOfMemory, "DISTINCT over more than %d distinct rows is not supported yet (it does not spill to disk)", maxAggGroups)
	}
	if limit > 0 && mem > limit {
		return sqlerr.Newf(sqlerr.CodeOutOfMemory, "DISTINCT needs more than %s of memory (%d × work_mem), which is not supported yet (it does not spill to disk)",
			formatMemoryKB(limit>>10), hashMemMultiplier).WithHint("Raise work_mem.")
	}
	if limit <= 0 && mem > maxAggMemory {
		return sqlerr.Newf(sqlerr.CodeOutOfMemory, "DISTINCT needs more than %d MB of memory, which is not supported yet (it does not spill to disk)", maxAggMemory>>20)
	}
	return nil
}

// distinctOnIter keeps, per value of columns [from, to), the least row by
// less (the first one among equals), and returns them once its input is
// exhausted, in the order their keys were first seen.
type distinctOnIter struct {
	in       rowIter
	from, to int
	less     func(a, b []types.Datum) bool
	memLimit int64
	out      [][]types.Datum
	i        int
	ready    bool
}

func (d *distinctOnIter) Next(ctx context.Context) ([]types.Datum, error) {
	if !d.ready {
		best := map[string]int{}
		var mem int64
		var buf []byte
		for {
			row, err := d.in.Next(ctx)
			if err != nil {
				return nil, err
			}
			if row == nil {
				break
			}
			buf = buf[:0]
			for _, v := range row[d.from:d.to] {
				buf = types.EncodeKey(buf, v)
			}
			if i, ok := best[string(buf)]; ok {
				if d.less(row, d.out[i]) {
					d.out[i] = row
				}
				continue
			}
			if err := checkDistinctLimit(len(best), mem, d.memLimit); err != nil {
				return nil, err
			}
			best[string(buf)] = len(d.out)
			d.out = append(d.out, row)
			mem += int64(len(buf) + groupOverhead)
			for _, v := range row {
				mem += int64(v.Size() + datumOverhead)
			}
		}
		d.ready = true
	}
	if d.i >= len(d.out) {
		return nil, nil
	}
	d.i++
	row := d.out[d.i-1]
	d.out[d.i-1] = nil
	return row, nil
}

func (d *distinctOnIter) RowsAffected() int64 { return 0 }
func (d *distinctOnIter) Close()              { d.in.Close() }
