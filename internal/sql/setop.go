package sql

import (
	"context"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// UNION, INTERSECT and EXCEPT [ALL]. The two inputs are planned as
// queries; the result's columns are named after the left input's. UNION
// ALL streams both inputs; UNION drops duplicates with a hash set (as
// DISTINCT does); INTERSECT and EXCEPT materialize the right input's rows
// as a multiset of keys. ORDER BY, LIMIT and OFFSET of the whole statement
// apply to the combined rows.

type setopPlan struct {
	op          pg_query.SetOperation
	all         bool
	left, right *selectPlan
	width       int
	// leftCasts, rightCasts: the result column types that an input's
	// values convert to (nil: no conversion).
	leftCasts, rightCasts []*types.Type
}

// buildSetOp plans a SELECT whose Op is a set operation.
func (x *execCtx) buildSetOp(ctx context.Context, sel *pg_query.SelectStmt, params []*types.Type) (*selectPlan, error) {
	if sel.WithClause != nil {
		return nil, sqlerr.Unsupportedf("WITH is not supported yet")
	}
	x.setopBranch = true
	left, err := x.buildSelect(ctx, sel.Larg, params)
	if err != nil {
		return nil, err
	}
	x.setopBranch = true
	right, err := x.buildSelect(ctx, sel.Rarg, params)
	if err != nil {
		return nil, err
	}
	opName := map[pg_query.SetOperation]string{pg_query.SetOperation_SETOP_UNION: "UNION",
		pg_query.SetOperation_SETOP_INTERSECT: "INTERSECT", pg_query.SetOperation_SETOP_EXCEPT: "EXCEPT"}[sel.Op]
	if len(left.cols) != len(right.cols) {
		return nil, sqlerr.Newf(sqlerr.CodeSyntaxError, "each %s query must have the same number of columns", opName)
	}
	so := &setopPlan{op: sel.Op, all: sel.All, left: left, right: right, width: len(left.cols)}
	scope := &fromScope{}
	sp := &selectPlan{src: &source{setop: so}}
	so.leftCasts = make([]*types.Type, len(left.cols))
	so.rightCasts = make([]*types.Type, len(left.cols))
	for i, lc := range left.cols {
		t, rt := lc.typ, right.cols[i].typ
		if !t.Identical(rt) {
			var err error
			if t, err = sem.CommonType([]*types.Type{t, rt}, opName); err != nil {
				return nil, err
			}
		}
		if t.Family() == types.UnknownFamily {
			t = types.Text
		}
		// An input's NULL or 'literal' takes the column's type.
		for _, side := range []*selectPlan{left, right} {
			if side.cols[i].typ.Family() != types.UnknownFamily || i >= len(side.targets) {
				continue
			}
			e, err := x.builder(nil, params, opName).Coerce(side.targets[i], t, types.CoercionAssignment)
			if err != nil {
				return nil, err
			}
			side.targets[i], side.cols[i].typ = e, t
		}
		lc = left.cols[i]
		rt = right.cols[i].typ
		if !lc.typ.Identical(t) && lc.typ.Family() != types.UnknownFamily {
			so.leftCasts[i] = t
		}
		if !rt.Identical(t) && rt.Family() != types.UnknownFamily {
			so.rightCasts[i] = t
		}
		col := nsCol{name: lc.name, idx: i, typ: t}
		scope.ns = append(scope.ns, col)
		sp.targets = append(sp.targets, &sem.ColumnRef{Idx: i, Typ: t, Name: lc.name})
		sp.cols = append(sp.cols, resultCol{name: lc.name, typ: t})
	}
	sp.src.setScope = scope
	if err := x.planOrderBy(sel.SortClause, params, sp); err != nil {
		return nil, err
	}
	if err := x.planLimit(sel, params, sp); err != nil {
		return nil, err
	}
	return sp, nil
}

func (so *setopPlan) open(ctx context.Context, x *execCtx) (rowIter, error) {
	l, err := so.left.open(ctx, x)
	if err != nil {
		return nil, err
	}
	it := &setopIter{so: so, left: l}
	if so.op == pg_query.SetOperation_SETOP_UNION {
		if it.right, err = so.right.open(ctx, x); err != nil {
			l.Close()
			return nil, err
		}
		if !so.all {
			it.seen = map[string]int{}
		}
		return it, nil
	}
	// INTERSECT, EXCEPT: the right rows' keys, counted.
	r, err := so.right.open(ctx, x)
	if err != nil {
		l.Close()
		return nil, err
	}
	defer r.Close()
	it.seen = map[string]int{}
	for {
		row, err := r.Next(ctx)
		if err != nil {
			l.Close()
			return nil, err
		}
		if row == nil {
			break
		}
		if err := checkDistinctBounds(len(it.seen), 0); err != nil {
			l.Close()
			return nil, err
		}
		if row, err = castRow(row[:so.width], so.rightCasts); err != nil {
			l.Close()
			return nil, err
		}
		it.seen[it.key(row)]++
	}
	return it, nil
}

type setopIter struct {
	so          *setopPlan
	left, right rowIter
	onRight     bool
	seen        map[string]int
	emitted     map[string]bool
	buf         []byte
}

func (s *setopIter) key(row []types.Datum) string {
	s.buf = s.buf[:0]
	for _, v := range row[:s.so.width] {
		s.buf = types.EncodeKey(s.buf, v)
	}
	return string(s.buf)
}

func (s *setopIter) Next(ctx context.Context) ([]types.Datum, error) {
	for {
		in := s.left
		if s.onRight {
			in = s.right
		}
		row, err := in.Next(ctx)
		if err != nil {
			return nil, err
		}
		if row == nil {
			if s.so.op == pg_query.SetOperation_SETOP_UNION && !s.onRight {
				s.onRight = true
				continue
			}
			return nil, nil
		}
		row = row[:s.so.width]
		casts := s.so.leftCasts
		if s.onRight {
			casts = s.so.rightCasts
		}
		if row, err = castRow(row, casts); err != nil {
			return nil, err
		}
		switch s.so.op {
		case pg_query.SetOperation_SETOP_UNION:
			if s.seen != nil {
				k := s.key(row)
				if s.seen[k] > 0 {
					continue
				}
				if err := checkDistinctBounds(len(s.seen), 0); err != nil {
					return nil, err
				}
				s.seen[k] = 1
			}
			return row, nil
		case pg_query.SetOperation_SETOP_INTERSECT:
			k := s.key(row)
			if s.seen[k] == 0 {
				continue
			}
			if s.so.all {
				s.seen[k]--
			} else {
				s.seen[k] = 0
			}
			return row, nil
		default: // EXCEPT
			k := s.key(row)
			if s.so.all {
				if s.seen[k] > 0 {
					s.seen[k]--
					continue
				}
				return row, nil
			}
			if s.seen[k] > 0 || s.emitted[k] {
				continue
			}
			if s.emitted == nil {
				s.emitted = map[string]bool{}
			}
			s.emitted[k] = true
			return row, nil
		}
	}
}

func (s *setopIter) RowsAffected() int64 { return 0 }
func (s *setopIter) Close() {
	s.left.Close()
	if s.right != nil {
		s.right.Close()
	}
}

// castRow converts the values of row whose column has a cast.
func castRow(row []types.Datum, casts []*types.Type) ([]types.Datum, error) {
	var out []types.Datum
	for i, t := range casts {
		if t == nil || row[i] == types.DNull {
			continue
		}
		if out == nil {
			out = append([]types.Datum(nil), row...)
		}
		d, err := types.Cast(row[i], t)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	if out == nil {
		return row, nil
	}
	return out, nil
}
