package sql

import (
	"context"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// Set-returning functions in FROM: generate_series over integers and
// unnest of an array. Their arguments may reference the enclosing
// query's columns (in a subquery); they are evaluated when the scan opens.

type funcScan struct {
	name string
	args []sem.Expr
	typ  *types.Type
}

func (fb *fromBuilder) funcItem(rf *pg_query.RangeFunction) (*rel, error) {
	if rf.Lateral || rf.Ordinality || rf.IsRowsfrom || len(rf.Functions) != 1 || len(rf.Coldeflist) > 0 {
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
	fs := &funcScan{name: name}
	b := fb.x.builder(nil, fb.params, "FROM")
	for _, a := range fc.Args {
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
	default:
		return nil, sqlerr.Unsupportedf("function %s in FROM is not supported yet", name)
	}
	e := &rangeEntry{alias: name}
	var colAliases []*pg_query.Node
	colName := name
	if rf.Alias != nil {
		e.alias, e.aliased, colAliases = rf.Alias.Aliasname, true, rf.Alias.Colnames
		colName = rf.Alias.Aliasname
	}
	e.cols = []nsCol{{name: colName, typ: fs.typ}}
	r, err := fb.leaf(relFunc, e, colAliases)
	if err != nil {
		return nil, err
	}
	r.fn = fs
	return r, nil
}

func (fs *funcScan) open(ctx context.Context, x *execCtx) (rowIter, error) {
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
