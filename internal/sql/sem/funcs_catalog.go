package sem

import (
	"fmt"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// CatalogAccess is what the system catalog functions (pg_get_indexdef,
// 'name'::regclass, ...) read of the catalog, at the statement's
// snapshot. The SQL layer implements it; nil makes those functions
// return NULL (or fail, for a regclass cast).
type CatalogAccess interface {
	// RelationOID resolves a relation name (optionally schema-qualified)
	// to its oid; 42P01 if there is none.
	RelationOID(name string) (uint32, error)
	// IndexDef is pg_get_indexdef's text for an index oid: the whole
	// CREATE INDEX statement for column 0, else the column's definition.
	IndexDef(oid uint32, column int) (string, bool, error)
	// ConstraintDef is pg_get_constraintdef's text for a constraint oid.
	ConstraintDef(oid uint32) (string, bool, error)
	// RelationName is regclass's output for a relation oid: its name,
	// quoted if needed, qualified if its schema is not on the search path;
	// false if there is no such relation (the output is then the number).
	RelationName(oid uint32) (string, bool, error)
}

// RegClassText is regclass's text output of oid: the relation's name, or
// the number if there is no such relation (or no catalog).
func RegClassText(c CatalogAccess, oid uint32) (string, error) {
	if c != nil {
		s, ok, err := c.RelationName(oid)
		if err != nil || ok {
			return s, err
		}
	}
	return fmt.Sprint(oid), nil
}

// buildRegClassToText builds a regclass's (or regclass[]'s) cast to a
// string type: the relation's name (then cast to the target type, as for
// a varchar(n)); for an array, the array of the names.
func (b *Builder) buildRegClassToText(e Expr, to *types.Type, cc types.CoercionContext) (Expr, error) {
	name := newCall("regclassout", []Expr{e}, types.Text, func(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
		var c CatalogAccess
		if ctx != nil {
			c = ctx.Catalog
		}
		arr, ok := a[0].(*types.DArray) // regclass[]
		if !ok {
			s, err := RegClassText(c, uint32(a[0].(types.DOid)))
			return types.DString(s), err
		}
		names := &types.DArray{Elem: types.Text, Elems: make([]types.Datum, len(arr.Elems))}
		for i, d := range arr.Elems {
			names.Elems[i] = d
			if o, ok := d.(types.DOid); ok {
				s, err := RegClassText(c, uint32(o))
				if err != nil {
					return nil, err
				}
				names.Elems[i] = types.DString(s)
			}
		}
		return types.DString(types.FormatText(names, types.TextArray, ctx.settings())), nil
	}, true, Stable)
	return b.Coerce(name, to, cc)
}

// regTypes are the OID alias types: values are oids; a cast from a
// string resolves a name.
var regTypes = map[string]bool{
	"regclass": true, "regtype": true, "regproc": true, "regprocedure": true,
	"regnamespace": true, "regrole": true, "regoper": true, "regoperator": true,
	"regconfig": true, "regdictionary": true, "regcollation": true,
}

// buildRegCast builds x::regclass and the other OID alias casts: a
// number is the oid itself; a string is looked up by name.
func (b *Builder) buildRegCast(reg string, e Expr) (Expr, error) {
	to := types.OidType
	if reg == "regclass" {
		to = types.RegClass
	}
	if f := e.Type().Family(); f != types.StringFamily && f != types.UnknownFamily {
		return b.Coerce(e, to, types.CoercionExplicit)
	}
	e, err := b.resolveUnknownAsText(e)
	if err != nil {
		return nil, err
	}
	return newCall(reg, []Expr{e}, to, func(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
		s := string(a[0].(types.DString))
		var n uint32
		if _, err := fmt.Sscanf(s, "%d", &n); err == nil && fmt.Sprint(n) == s {
			return types.DOid(n), nil
		}
		switch reg {
		case "regclass":
			if ctx == nil || ctx.Catalog == nil {
				return nil, sqlerr.Newf(sqlerr.CodeUndefinedTable, "relation %q does not exist", s)
			}
			oid, err := ctx.Catalog.RelationOID(s)
			if err != nil {
				return nil, err
			}
			return types.DOid(oid), nil
		case "regtype":
			t, err := types.TypeByName(s)
			if err != nil {
				return nil, err
			}
			return types.DOid(t.Oid()), nil
		case "regnamespace":
			switch s {
			case "pg_catalog":
				return types.DOid(OidPgCatalog), nil
			case "public":
				return types.DOid(OidPublic), nil
			case "information_schema":
				return types.DOid(OidInformationSchema), nil
			}
			return nil, sqlerr.Newf(sqlerr.CodeInvalidSchemaName, "schema %q does not exist", s)
		}
		return nil, sqlerr.Unsupportedf("casting a name to %s is not supported", reg)
	}, true, Stable), nil
}

// The oids of the schemas (namespaces).
const (
	OidPgCatalog         = 11
	OidPublic            = 2200
	OidInformationSchema = 13000
)

func init() {
	T, O, I4, I8, B := types.Text, types.OidType, types.Int4, types.Int8, types.Bool
	stable := func(o *overload) { o.vol = Stable }
	constant := func(name string, ret *types.Type, d types.Datum, argLists ...[]*types.Type) {
		for _, args := range argLists {
			o := def(name, args, ret, func(*EvalContext, []types.Datum) (types.Datum, error) { return d, nil })
			o.nonStrict = true
			stable(o)
		}
	}
	N := types.Name
	constant("pg_get_userbyid", N, types.DString("root"), tt(O))
	constant("pg_table_is_visible", B, types.DTrue, tt(O))
	constant("pg_type_is_visible", B, types.DTrue, tt(O))
	constant("pg_function_is_visible", B, types.DTrue, tt(O))
	for _, f := range []string{"has_table_privilege", "has_schema_privilege", "has_database_privilege", "has_column_privilege", "has_sequence_privilege", "has_any_column_privilege"} {
		constant(f, B, types.DTrue, tt(T, T), tt(O, T), tt(T, T, T), tt(N, T, T), tt(N, O, T), tt(O, O, T), tt(T, O, T), tt(O, T, T), tt(T, I4, T), tt(O, I4, T), tt(O, T, T, T), tt(T, T, T, T))
	}
	constant("obj_description", T, types.DNull, tt(O), tt(O, N))
	constant("col_description", T, types.DNull, tt(O, I4))
	constant("shobj_description", T, types.DNull, tt(O, N))
	for _, f := range []string{"pg_relation_size", "pg_total_relation_size", "pg_table_size", "pg_indexes_size", "pg_database_size"} {
		constant(f, I8, types.DInt(0), tt(O))
	}
	constant("pg_database_size", I8, types.DInt(0), tt(N))
	constant("pg_encoding_to_char", N, types.DString("UTF8"), tt(I4))
	constant("pg_get_viewdef", T, types.DNull, tt(O), tt(O, B))
	constant("pg_get_partkeydef", T, types.DNull, tt(O))
	constant("pg_get_triggerdef", T, types.DNull, tt(O), tt(O, B))
	constant("pg_get_statisticsobjdef_columns", T, types.DNull, tt(O))
	constant("pg_relation_is_publishable", B, types.DFalse, tt(O))
	constant("pg_is_other_temp_schema", B, types.DFalse, tt(O))
	constant("pg_my_temp_schema", O, types.DOid(0), nil)
	def("pg_size_pretty", tt(I8), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		n := int64(a[0].(types.DInt))
		units := []string{"bytes", "kB", "MB", "GB", "TB", "PB"}
		i := 0
		for (n >= 10*1024 || n <= -10*1024) && i < len(units)-1 {
			n = (n + 512) / 1024
			i++
		}
		return types.DString(fmt.Sprintf("%d %s", n, units[i])), nil
	})
	// pg_get_expr: expressions are kept as SQL text (pg_attrdef.adbin).
	for _, args := range [][]*types.Type{tt(T, O), tt(T, O, B)} {
		def("pg_get_expr", args, T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) { return a[0], nil })
	}
	indexDef := func(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
		if ctx == nil || ctx.Catalog == nil {
			return types.DNull, nil
		}
		col := 0
		if len(a) > 1 && a[1] != types.DNull {
			col = int(a[1].(types.DInt))
		}
		s, ok, err := ctx.Catalog.IndexDef(uint32(a[0].(types.DOid)), col)
		if err != nil || !ok {
			return types.DNull, err
		}
		return types.DString(s), nil
	}
	stable(def("pg_get_indexdef", tt(O), T, indexDef))
	stable(def("pg_get_indexdef", tt(O, I4, B), T, indexDef))
	conDef := func(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
		if ctx == nil || ctx.Catalog == nil {
			return types.DNull, nil
		}
		s, ok, err := ctx.Catalog.ConstraintDef(uint32(a[0].(types.DOid)))
		if err != nil || !ok {
			return types.DNull, err
		}
		return types.DString(s), nil
	}
	stable(def("pg_get_constraintdef", tt(O), T, conDef))
	stable(def("pg_get_constraintdef", tt(O, B), T, conDef))
	stable(def("current_schemas", tt(B), types.NameArray, func(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
		var out []types.Datum
		if a[0] == types.DTrue {
			out = append(out, types.DString("pg_catalog"))
		}
		path := ctx.session().SearchPath
		if len(path) == 0 {
			path = []string{"public"}
		}
		for _, s := range path {
			out = append(out, types.DString(s))
		}
		return types.NewDArray(types.Name, out), nil
	}))
}
