package sql

import (
	"context"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/rowenc"
	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// INSERT ... ON CONFLICT.
//
// Each proposed row is looked up by its arbiter index (the unique index
// or primary key that ON CONFLICT (cols) or ON CONSTRAINT name names):
// absent, it is inserted (a conflict on another unique index fails with
// 23505); present, DO NOTHING skips it and DO UPDATE updates the existing
// row with SET, evaluated over the existing row (the table's name or
// alias) and the proposed one (EXCLUDED), if WHERE holds. A row that the
// statement already inserted or updated cannot be updated again (21000).
// Without an arbiter, DO NOTHING skips a row that conflicts on any unique
// index.

// onConflict is a planned ON CONFLICT clause.
type onConflict struct {
	nothing bool
	arbiter *catalog.Index // nil: any unique index (DO NOTHING only)
	sets    []upsertSet
	where   sem.Expr // over the existing row ‖ the proposed row
}

type upsertSet struct {
	ord  int
	expr sem.Expr // nil: DEFAULT
}

// excludedScope resolves the names of DO UPDATE: the target table's
// columns, and EXCLUDED's after them in the row.
type excludedScope struct {
	target *tableScope
}

func (s *excludedScope) ResolveColumn(qualifier []string, name string) (int, *types.Type, error) {
	desc := s.target.desc
	if len(qualifier) == 1 && qualifier[0] == "excluded" && s.target.alias != "excluded" {
		for i, c := range desc.Columns {
			if c.Name == name && !c.Hidden {
				return len(desc.Columns) + i, c.Type, nil
			}
		}
		return 0, nil, sqlerr.Newf(sqlerr.CodeUndefinedColumn, "column excluded.%s does not exist", name)
	}
	i, t, err := s.target.ResolveColumn(qualifier, name)
	if err == nil && len(qualifier) == 0 && !desc.Columns[i].Hidden {
		return 0, nil, sqlerr.Newf("42702", "column reference %q is ambiguous", name)
	}
	return i, t, err
}

// planOnConflict plans the ON CONFLICT clause of an INSERT into desc.
func (x *execCtx) planOnConflict(ctx context.Context, desc *catalog.TableDescriptor, src *source, oc *pg_query.OnConflictClause, params []*types.Type) (*onConflict, error) {
	out := &onConflict{nothing: oc.Action == pg_query.OnConflictAction_ONCONFLICT_NOTHING}
	if !out.nothing && oc.Action != pg_query.OnConflictAction_ONCONFLICT_UPDATE {
		return nil, sqlerr.Unsupportedf("this ON CONFLICT action is not supported")
	}
	switch inf := oc.Infer; {
	case inf == nil:
		if !out.nothing {
			return nil, sqlerr.New(sqlerr.CodeSyntaxError, "ON CONFLICT DO UPDATE requires inference specification or constraint name").
				WithHint("For example, ON CONFLICT (column_name).")
		}
	case inf.Conname != "":
		idx := desc.IndexByName(inf.Conname)
		if idx == nil || !idx.Public() || !(idx.Unique || idx == &desc.PrimaryIndex) {
			if idx != nil || constraintNameTaken(desc, inf.Conname) {
				return nil, sqlerr.Newf(sqlerr.CodeWrongObjectType, "constraint in ON CONFLICT clause has no associated index")
			}
			return nil, sqlerr.Newf(sqlerr.CodeUndefinedObject, "constraint %q for table %q does not exist", inf.Conname, desc.Name)
		}
		out.arbiter = idx
	default:
		if inf.WhereClause != nil {
			return nil, sqlerr.Unsupportedf("ON CONFLICT with a WHERE clause (partial indexes) is not supported")
		}
		var ids []uint32
		for _, n := range inf.IndexElems {
			ie := n.GetIndexElem()
			if ie == nil || ie.Name == "" {
				return nil, sqlerr.Unsupportedf("ON CONFLICT on expressions is not supported")
			}
			c, err := userColumn(desc, ie.Name)
			if err != nil {
				return nil, sqlerr.Newf(sqlerr.CodeUndefinedColumn, "column %q does not exist", ie.Name)
			}
			ids = append(ids, c.ID)
		}
		if out.arbiter = catalog.UniqueIndexOn(desc, ids); out.arbiter == nil {
			return nil, sqlerr.New("42P10", "there is no unique or exclusion constraint matching the ON CONFLICT specification")
		}
	}
	if out.nothing {
		return out, nil
	}
	scope := &excludedScope{target: src.scope}
	seen := map[int]bool{}
	for _, n := range oc.TargetList {
		rt := n.GetResTarget()
		if rt == nil || len(rt.Indirection) > 0 || rt.Val.GetMultiAssignRef() != nil {
			return nil, sqlerr.Unsupportedf("this form of SET is not supported in ON CONFLICT DO UPDATE")
		}
		c := desc.ColumnByName(rt.Name)
		if c == nil || c.Hidden {
			return nil, sqlerr.Newf(sqlerr.CodeUndefinedColumn, "column %q of relation %q does not exist", rt.Name, desc.Name)
		}
		set := upsertSet{ord: desc.ColumnOrdinal(c.ID)}
		if seen[set.ord] {
			return nil, sqlerr.Newf(sqlerr.CodeSyntaxError, "multiple assignments to same column %q", rt.Name)
		}
		seen[set.ord] = true
		if rt.Val.GetSetToDefault() == nil {
			b := x.builder(nil, params, "UPDATE")
			b.Scope = scope
			e, err := b.Build(rt.Val, c.Type)
			if err != nil {
				return nil, err
			}
			if set.expr, err = b.Coerce(e, c.Type, types.CoercionAssignment); err != nil {
				return nil, columnTypeError(err, *c, e)
			}
		}
		out.sets = append(out.sets, set)
	}
	if oc.WhereClause != nil {
		b := x.builder(nil, params, "WHERE")
		b.Scope = scope
		var err error
		if out.where, err = b.BuildCondition(oc.WhereClause); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// lookupConflict returns the row of desc whose key in index idx is row's,
// or nil (none, or a NULL in row's key).
func (x *execCtx) lookupConflict(ctx context.Context, desc *catalog.TableDescriptor, idx *catalog.Index, row []types.Datum) ([]types.Datum, error) {
	for _, id := range idx.ColumnIDs {
		if row[desc.ColumnOrdinal(id)] == types.DNull {
			return nil, nil
		}
	}
	var pk []byte
	var err error
	if idx == &desc.PrimaryIndex {
		if pk, err = rowenc.EncodePrimaryKey(desc, row); err != nil {
			return nil, err
		}
	} else {
		key, unique, err := rowenc.SecondaryIndexKey(desc, idx, row)
		if err != nil || !unique {
			return nil, err
		}
		ent, err := x.txn.Get(ctx, key)
		if err != nil || !ent.Found {
			return nil, err
		}
		vals, err := rowenc.DecodeIndexValue(desc, ent.Value)
		if err != nil {
			return nil, err
		}
		if pk, err = rowenc.EncodePrimaryKeyPrefix(desc, vals); err != nil {
			return nil, err
		}
	}
	cur, err := x.txn.Get(ctx, pk)
	if err != nil || !cur.Found {
		return nil, err
	}
	return rowenc.DecodeRow(desc, cur.Value)
}

// upsert writes a proposed row under the ON CONFLICT clause: it returns
// the row inserted or updated, or nil if it was skipped. touched holds the
// primary keys the statement has written.
func (oc *onConflict) upsert(ctx context.Context, x *execCtx, w *tableWriter, row []types.Datum, touched map[string]bool) ([]types.Datum, error) {
	desc := w.desc
	mark := func(r []types.Datum) error {
		pk, err := rowenc.EncodePrimaryKey(desc, r)
		if err == nil {
			touched[string(pk)] = true
		}
		return err
	}
	if oc.arbiter == nil {
		ok, err := w.insert(ctx, x, row, true)
		if err != nil || !ok {
			return nil, err
		}
		return row, mark(row)
	}
	cur, err := x.lookupConflict(ctx, desc, oc.arbiter, row)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		if _, err := w.insert(ctx, x, row, false); err != nil {
			return nil, err
		}
		return row, mark(row)
	}
	if oc.nothing {
		return nil, nil
	}
	pk, err := rowenc.EncodePrimaryKey(desc, cur)
	if err != nil {
		return nil, err
	}
	if touched[string(pk)] {
		return nil, sqlerr.New("21000", "ON CONFLICT DO UPDATE command cannot affect row a second time").
			WithHint("Ensure that no rows proposed for insertion within the same command have duplicate constrained values.")
	}
	both := append(append(make([]types.Datum, 0, 2*len(cur)), cur...), row...)
	if oc.where != nil {
		ok, err := oc.where.Eval(x.evalCtx(ctx), both)
		if err != nil {
			return nil, err
		}
		if ok != types.DBool(true) {
			return nil, nil
		}
	}
	next := append([]types.Datum(nil), cur...)
	for _, s := range oc.sets {
		if s.expr == nil {
			set := make([]bool, len(next))
			for i := range set {
				set[i] = i != s.ord
			}
			if err := w.fill(ctx, x, next, set); err != nil {
				return nil, err
			}
			continue
		}
		if next[s.ord], err = s.expr.Eval(x.evalCtx(ctx), both); err != nil {
			return nil, err
		}
	}
	if err := w.update(ctx, x, cur, next); err != nil {
		return nil, err
	}
	return next, mark(next)
}
