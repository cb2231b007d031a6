package sql

import (
	"context"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// Set-returning functions in FROM: generate_series over integers, unnest
// of an array and pg_partition_ancestors (no rows: there are no
// partitions; its column is relid), optionally WITH ORDINALITY. Their
// arguments may reference the enclosing query's columns (in a subquery);
// they are evaluated when the scan opens. SELECT f(...) without FROM is
// SELECT f FROM f(...) (srfTargetAsFrom).

type funcScan struct {
	name string
	args []sem.Expr
	typ  *types.Type
	// ordinality adds the row number (WITH ORDINALITY), a bigint column.
	ordinality bool
}

// srfNames are the set-returning functions funcItem knows.
var srfNames = map[string]bool{"generate_series": true, "unnest": true, "pg_partition_ancestors": true}

// srfTargetAsFrom rewrites SELECT f(...) [AS a] without FROM, f a
// set-returning function, to SELECT f AS a FROM f(...) AS f; other
// statements are returned as they are.
func srfTargetAsFrom(sel *pg_query.SelectStmt) *pg_query.SelectStmt {
	if len(sel.FromClause) > 0 || len(sel.TargetList) != 1 || len(sel.GroupClause) > 0 || sel.HavingClause != nil ||
		len(sel.DistinctClause) > 0 || len(sel.WindowClause) > 0 {
		return sel
	}
	rt := sel.TargetList[0].GetResTarget()
	fc := rt.GetVal().GetFuncCall()
	if fc == nil || fc.AggStar || fc.AggDistinct || fc.Over != nil || len(fc.AggOrder) > 0 || fc.AggFilter != nil || fc.FuncVariadic {
		return sel
	}
	name := fc.Funcname[len(fc.Funcname)-1].GetString_().GetSval()
	if !srfNames[name] || len(fc.Funcname) > 2 || len(fc.Funcname) == 2 && fc.Funcname[0].GetString_().GetSval() != "pg_catalog" {
		return sel
	}
	out := proto.Clone(sel).(*pg_query.SelectStmt)
	colName := rt.Name
	if colName == "" {
		colName = name
	}
	out.FromClause = []*pg_query.Node{{Node: &pg_query.Node_RangeFunction{RangeFunction: &pg_query.RangeFunction{
		Functions: []*pg_query.Node{pg_query.MakeListNode([]*pg_query.Node{rt.Val, nil})},
		Alias:     &pg_query.Alias{Aliasname: name},
	}}}}
	out.TargetList = []*pg_query.Node{pg_query.MakeResTargetNodeWithNameAndVal(colName,
		pg_query.MakeColumnRefNode([]*pg_query.Node{pg_query.MakeStrNode(name)}, rt.Location), rt.Location)}
	return out
}

func (fb *fromBuilder) funcItem(rf *pg_query.RangeFunction) (*rel, error) {
	if rf.Lateral || rf.IsRowsfrom || len(rf.Functions) != 1 || len(rf.Coldeflist) > 0 {
		return nil, sqlerr.Unsupportedf("this function in FROM is not supported yet")
	}
	items := rf.Functions[0].GetList().GetItems()
	if len(items) == 0 || items[0].GetFuncCall() == nil {
		return nil, sqlerr.Unsupportedf("this function in FROM is not supported yet")
	}
	fc := items[0].GetFuncCall()
	var parts []string
	for _, n := range fc.Funcname {
		parts = append(parts, n.GetString_().GetSval())
	}
	name := parts[len(parts)-1]
	if len(parts) > 1 && parts[len(parts)-2] != "pg_catalog" {
		return nil, sqlerr.Newf(sqlerr.CodeUndefinedFunction, "function %s does not exist", name)
	}
	fs := &funcScan{name: name, ordinality: rf.Ordinality}
	b := fb.x.builder(nil, fb.params, "FROM")
	for _, a := range fc.Args {
		if name == "pg_partition_ancestors" {
			// Its argument is a regclass: a string names the relation.
			a = &pg_query.Node{Node: &pg_query.Node_TypeCast{TypeCast: &pg_query.TypeCast{Arg: a,
				TypeName: &pg_query.TypeName{Names: []*pg_query.Node{pg_query.MakeStrNode("regclass")}, Typemod: -1}}}}
		}
		e, err := b.Build(a, nil)
		if err != nil {
			return nil, err
		}
		fs.args = append(fs.args, e)
	}
	switch name {
	case "generate_series":
		if len(fs.args) < 2 || len(fs.args) > 3 {
			return nil, sqlerr.Newf(sqlerr.CodeUndefinedFunction, "function generate_series with %d arguments does not exist", len(fs.args))
		}
		fs.typ = types.Int4
		for _, a := range fs.args {
			if a.Type().Identical(types.Int8) {
				fs.typ = types.Int8
			}
			if f := a.Type().Family(); f != types.IntFamily && f != types.UnknownFamily {
				return nil, sqlerr.Unsupportedf("generate_series over %s is not supported yet", a.Type().Name())
			}
		}
		for i, a := range fs.args {
			e, err := b.Coerce(a, types.Int8, types.CoercionImplicit)
			if err != nil {
				return nil, err
			}
			fs.args[i] = e
		}
	case "unnest":
		if len(fs.args) != 1 || fs.args[0].Type().Family() != types.ArrayFamily {
			return nil, sqlerr.Unsupportedf("this use of unnest is not supported yet")
		}
		fs.typ = fs.args[0].Type().Elem()
	case "pg_partition_ancestors":
		if len(fs.args) != 1 {
			return nil, sqlerr.Newf(sqlerr.CodeUndefinedFunction, "function pg_partition_ancestors with %d arguments does not exist", len(fs.args))
		}
		fs.typ = types.RegClass
	default:
		return nil, sqlerr.Unsupportedf("function %s in FROM is not supported yet", name)
	}
	e := &rangeEntry{alias: name}
	var colAliases []*pg_query.Node
	colName := name
	if name == "pg_partition_ancestors" {
		colName = "relid" // its OUT parameter
	}
	if rf.Alias != nil {
		e.alias, e.aliased, colAliases = rf.Alias.Aliasname, true, rf.Alias.Colnames
		colName = rf.Alias.Aliasname
	}
	e.cols = []nsCol{{name: colName, typ: fs.typ}}
	if fs.ordinality {
		e.cols = append(e.cols, nsCol{name: "ordinality", typ: types.Int8})
	}
	r, err := fb.leaf(relFunc, e, colAliases)
	if err != nil {
		return nil, err
	}
	r.fn = fs
	return r, nil
}

func (fs *funcScan) open(ctx context.Context, x *execCtx) (rowIter, error) {
	it, err := fs.openRows(ctx, x)
	if err != nil || !fs.ordinality {
		return it, err
	}
	return &ordinalityIter{rowIter: it}, nil
}

func (fs *funcScan) openRows(ctx context.Context, x *execCtx) (rowIter, error) {
	ev := x.evalCtx(ctx)
	vals := make([]types.Datum, len(fs.args))
	for i, a := range fs.args {
		d, err := a.Eval(ev, nil)
		if err != nil {
			return nil, err
		}
		if d == types.DNull {
			return &sliceIter{}, nil
		}
		vals[i] = d
	}
	if fs.name == "pg_partition_ancestors" {
		// No rows unless the relation is a partition or partitioned
		// table, as in PostgreSQL: there are none.
		return &sliceIter{}, nil
	}
	if fs.name == "unnest" {
		arr := vals[0].(*types.DArray)
		rows := make([][]types.Datum, 0, len(arr.Elems))
		for _, d := range arr.Elems {
			rows = append(rows, []types.Datum{d})
		}
		return &sliceIter{rows: rows}, nil
	}
	start, stop, step := int64(vals[0].(types.DInt)), int64(vals[1].(types.DInt)), int64(1)
	if len(vals) == 3 {
		step = int64(vals[2].(types.DInt))
	}
	if step == 0 {
		return nil, sqlerr.New(sqlerr.CodeInvalidParameterValue, "step size cannot equal zero")
	}
	return &seriesIter{cur: start, stop: stop, step: step}, nil
}

type seriesIter struct {
	cur, stop, step int64
	done            bool
}

func (s *seriesIter) Next(ctx context.Context) ([]types.Datum, error) {
	if s.done || (s.step > 0 && s.cur > s.stop) || (s.step < 0 && s.cur < s.stop) {
		return nil, nil
	}
	v := s.cur
	if next := s.cur + s.step; (s.step > 0) != (next > s.cur) {
		s.done = true // overflow
	} else {
		s.cur = next
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return []types.Datum{types.DInt(v)}, nil
}
func (s *seriesIter) RowsAffected() int64 { return 0 }
func (s *seriesIter) Close()              {}

// ordinalityIter appends the row number to its rows (WITH ORDINALITY).
type ordinalityIter struct {
	rowIter
	n int64
}

func (o *ordinalityIter) Next(ctx context.Context) ([]types.Datum, error) {
	row, err := o.rowIter.Next(ctx)
	if row == nil || err != nil {
		return row, err
	}
	o.n++
	return append(row[:len(row):len(row)], types.DInt(o.n)), nil
}
