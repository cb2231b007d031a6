package sql

import (
	"context"
	"fmt"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// VALUES as a query: VALUES (1, 'a'), (2, 'b') [ORDER BY ...] [LIMIT ...],
// alone, in FROM ((VALUES ...) AS v (id, name)) or as a CTE's query. Its
// columns are column1, column2, ...; each column's type is the common type
// of its values (as UNION resolves it: untyped literals take it, and a
// column of only untyped literals is text).

// maxValuesRows bounds the rows of a VALUES query (its expressions are
// held by the plan).
const maxValuesRows = 1 << 20

// isUntypedLiteral reports whether n is a string literal or NULL, whose
// type the context decides.
func isUntypedLiteral(n *pg_query.Node) bool {
	c := n.GetAConst()
	return c != nil && (c.Isnull || c.GetSval() != nil)
}

// buildValues plans a SELECT that is a VALUES list.
func (x *execCtx) buildValues(sel *pg_query.SelectStmt, params []*types.Type) (*selectPlan, error) {
	lists := sel.ValuesLists
	if len(lists) > maxValuesRows {
		return nil, sqlerr.Newf(sqlerr.CodeOutOfMemory, "VALUES with more than %d rows is not supported", maxValuesRows)
	}
	width := len(lists[0].GetList().GetItems())
	for _, l := range lists {
		if len(l.GetList().GetItems()) != width {
			return nil, sqlerr.New(sqlerr.CodeSyntaxError, "VALUES lists must all be the same length")
		}
	}
	// The column types: the common type of the values that have one.
	colTypes := make([]*types.Type, width)
	for j := 0; j < width; j++ {
		var ts []*types.Type
		for _, l := range lists {
			it := l.GetList().GetItems()[j]
			if isUntypedLiteral(it) || it.GetSetToDefault() != nil {
				continue
			}
			e, err := x.builder(nil, params, "VALUES").Build(it, nil)
			if err != nil {
				return nil, err
			}
			ts = append(ts, e.Type())
		}
		t := types.Text
		if len(ts) > 0 {
			var err error
			if t, err = sem.CommonType(ts, "VALUES"); err != nil {
				return nil, err
			}
			if t.Family() == types.UnknownFamily {
				t = types.Text
			}
		}
		colTypes[j] = t
	}
	vs := &cteSource{kind: cteValues}
	for _, l := range lists {
		row := make([]sem.Expr, width)
		for j, it := range l.GetList().GetItems() {
			b := x.builder(nil, params, "VALUES")
			e, err := b.Build(it, colTypes[j])
			if err != nil {
				return nil, err
			}
			if row[j], err = b.Coerce(e, colTypes[j], types.CoercionImplicit); err != nil {
				return nil, sqlerr.Newf(sqlerr.CodeDatatypeMismatch, "VALUES types %s and %s cannot be matched", colTypes[j].Name(), e.Type().Name())
			}
		}
		vs.values = append(vs.values, row)
	}
	scope := &fromScope{}
	sp := &selectPlan{src: &source{cte: vs, setScope: scope}}
	for j, t := range colTypes {
		name := fmt.Sprintf("column%d", j+1)
		scope.ns = append(scope.ns, nsCol{name: name, idx: j, typ: t})
		sp.targets = append(sp.targets, &sem.ColumnRef{Idx: j, Typ: t, Name: name})
		sp.cols = append(sp.cols, resultCol{name: name, typ: t})
	}
	if err := x.planOrderBy(sel.SortClause, params, sp); err != nil {
		return nil, err
	}
	if err := x.planLimit(sel, params, sp); err != nil {
		return nil, err
	}
	return sp, nil
}

// valuesIter evaluates the rows of a VALUES list.
type valuesIter struct {
	rows [][]sem.Expr
	ev   *sem.EvalContext
	i    int
}

func (v *valuesIter) Next(ctx context.Context) ([]types.Datum, error) {
	if v.i >= len(v.rows) {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	exprs := v.rows[v.i]
	v.i++
	out := make([]types.Datum, len(exprs))
	for j, e := range exprs {
		d, err := e.Eval(v.ev, nil)
		if err != nil {
			return nil, err
		}
		out[j] = d
	}
	return out, nil
}
func (v *valuesIter) RowsAffected() int64 { return 0 }
func (v *valuesIter) Close()              {}
