package sql

import (
	"context"
	"fmt"
	"sort"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// Virtual tables: pg_catalog and information_schema.
//
// They are computed from the catalog as the statement's transaction sees
// it, when a scan opens them. Each has a synthetic TableDescriptor (id
// vtableIDBase + n, no key columns, so it is always read whole) that FROM
// resolves like any table: schema pg_catalog (searched first for an
// unqualified name, as PostgreSQL does) or information_schema. Writes to
// them are refused.
//
// OIDs: a table's or sequence's oid is its descriptor id, a database's its
// descriptor id; an index's is indexOIDBase + table id * 1024 + index id,
// a constraint's constraintOIDBase + table id * 1024 + n; types keep their
// PostgreSQL oids, schemas 11 (pg_catalog), 2200 (public), 13000
// (information_schema).

const (
	vtableIDBase      = 0xFFFF0000
	indexOIDBase      = 0x80000000
	constraintOIDBase = 0xC0000000
	oidHeap           = 2
	oidBtree          = 403
)

func indexOID(t *catalog.TableDescriptor, idx *catalog.Index) uint32 {
	return indexOIDBase + t.ID*1024 + idx.ID%1024
}

func constraintOID(t *catalog.TableDescriptor, n int) uint32 {
	return constraintOIDBase + t.ID*1024 + uint32(n)
}

// vtable is a virtual table.
type vtable struct {
	desc *catalog.TableDescriptor
	rows func(ctx context.Context, x *execCtx, s *catalogSnapshot) ([][]types.Datum, error)
}

var (
	vtablesByName = map[[2]string]*vtable{}
	vtablesByID   = map[uint32]*vtable{}
	// "char" columns are text (there is no "char" type yet).
	tChar = types.Text
)

// defVTable registers a virtual table; cols is "name type, ...".
func defVTable(schema, name string, cols string, rows func(ctx context.Context, x *execCtx, s *catalogSnapshot) ([][]types.Datum, error)) {
	d := &catalog.TableDescriptor{ID: vtableIDBase + uint32(len(vtablesByID)), Schema: schema, Name: name, Version: 1}
	for i, c := range strings.Split(cols, ",") {
		f := strings.Fields(c)
		var t *types.Type
		switch f[1] {
		case "char":
			t = tChar
		case "oid", "regproc":
			t = types.OidType
		default:
			var err error
			if t, err = types.TypeByName(f[1]); err != nil {
				panic(fmt.Sprintf("vtable %s.%s: %v", schema, name, err))
			}
		}
		d.Columns = append(d.Columns, catalog.Column{ID: uint32(i + 1), Name: f[0], Type: t, Nullable: true})
	}
	d.NextColumnID = uint32(len(d.Columns) + 1)
	d.PrimaryIndex = catalog.Index{ID: 1, Name: name + "_pkey"}
	d.NextIndexID = 2
	vt := &vtable{desc: d, rows: rows}
	vtablesByName[[2]string{schema, name}] = vt
	vtablesByID[d.ID] = vt
}

// virtualTable returns the virtual table a RangeVar names, if any.
func virtualTable(rv *pg_query.RangeVar) *vtable {
	switch rv.Schemaname {
	case "":
		return vtablesByName[[2]string{"pg_catalog", rv.Relname}]
	case "pg_catalog", "information_schema":
		return vtablesByName[[2]string{rv.Schemaname, rv.Relname}]
	}
	return nil
}

func isVirtual(d *catalog.TableDescriptor) bool {
	return d != nil && vtablesByID[d.ID] != nil && vtablesByID[d.ID].desc == d
}

// readTable resolves a table that the statement reads: a virtual table or
// a table of the database.
func (x *execCtx) readTable(ctx context.Context, rv *pg_query.RangeVar) (*catalog.TableDescriptor, error) {
	if rv.Catalogname == "" {
		if vt := virtualTable(rv); vt != nil {
			return vt.desc, nil
		}
	}
	return x.table(ctx, rv, false)
}

// openVirtual returns the rows of a virtual table.
func openVirtual(ctx context.Context, x *execCtx, d *catalog.TableDescriptor) (rowIter, error) {
	s, err := x.catalogSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := vtablesByID[d.ID].rows(ctx, x, s)
	if err != nil {
		return nil, err
	}
	return &sliceIter{rows: rows}, nil
}

// catalogSnapshot is the catalog as the statement's transaction sees it.
type catalogSnapshot struct {
	db     *catalog.DatabaseDescriptor
	dbs    []*catalog.DatabaseDescriptor
	tables []*catalog.TableDescriptor
	seqs   []*catalog.SequenceDescriptor
}

func (x *execCtx) catalogSnapshot(ctx context.Context) (*catalogSnapshot, error) {
	if x.snap != nil {
		return x.snap, nil
	}
	db, err := x.database(ctx)
	if err != nil {
		return nil, err
	}
	s := &catalogSnapshot{db: db}
	if s.dbs, err = catalog.ListDatabases(ctx, x.txn); err != nil {
		return nil, err
	}
	if s.tables, err = catalog.ListTables(ctx, x.txn, db.ID); err != nil {
		return nil, err
	}
	if s.seqs, err = catalog.ListSequences(ctx, x.txn, db.ID); err != nil {
		return nil, err
	}
	x.snap = s
	return s, nil
}

func (s *catalogSnapshot) tableByID(id uint32) *catalog.TableDescriptor {
	for _, t := range s.tables {
		if t.ID == id {
			return t
		}
	}
	return nil
}

// schemaOID is the oid of a schema.
func schemaOID(name string) uint32 {
	switch name {
	case "pg_catalog":
		return sem.OidPgCatalog
	case "information_schema":
		return sem.OidInformationSchema
	}
	return sem.OidPublic
}

// Datum helpers.
func dOid(v uint32) types.Datum  { return types.DOid(v) }
func dText(s string) types.Datum { return types.DString(s) }
func dInt(v int64) types.Datum   { return types.DInt(v) }
func dBool(v bool) types.Datum {
	if v {
		return types.DTrue
	}
	return types.DFalse
}

var null = types.DNull

func textOrNull(s string) types.Datum {
	if s == "" {
		return null
	}
	return dText(s)
}

// columnNums are the attnums (1-based ordinals) of columns ids.
func columnNums(t *catalog.TableDescriptor, ids []uint32) []types.Datum {
	out := make([]types.Datum, len(ids))
	for i, id := range ids {
		out[i] = dInt(int64(t.ColumnOrdinal(id) + 1))
	}
	return out
}

// tableIndexes are the indexes of t pg_class and pg_index show: the
// primary index (unless it is the hidden rowid's) and the secondary ones.
func tableIndexes(t *catalog.TableDescriptor) []*catalog.Index {
	var out []*catalog.Index
	if !hiddenKey(t) {
		out = append(out, &t.PrimaryIndex)
	}
	for i := range t.Indexes {
		if !t.Indexes[i].NewPrimary {
			out = append(out, &t.Indexes[i])
		}
	}
	return out
}

func hiddenKey(t *catalog.TableDescriptor) bool {
	ids := t.PrimaryIndex.ColumnIDs
	return len(ids) == 1 && t.ColumnByID(ids[0]) != nil && t.ColumnByID(ids[0]).Hidden
}

// indexColumns is the column list of an index as CREATE INDEX writes it.
func indexColumns(t *catalog.TableDescriptor, idx *catalog.Index) string {
	var cols []string
	for i, id := range idx.ColumnIDs {
		c := quoteIdentIfNeeded(t.ColumnByID(id).Name)
		if idx.IsDescending(i) {
			c += " DESC"
		}
		cols = append(cols, c)
	}
	return strings.Join(cols, ", ")
}

func quoteIdentIfNeeded(s string) string {
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r == '_' || i > 0 && r >= '0' && r <= '9') {
			return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
		}
	}
	return s
}

func indexDef(t *catalog.TableDescriptor, idx *catalog.Index) string {
	u := ""
	if idx.Unique || idx == &t.PrimaryIndex {
		u = "UNIQUE "
	}
	return fmt.Sprintf("CREATE %sINDEX %s ON %s.%s USING btree (%s)", u, quoteIdentIfNeeded(idx.Name),
		quoteIdentIfNeeded(t.Schema), quoteIdentIfNeeded(t.Name), indexColumns(t, idx))
}

// constraint is a row of pg_constraint.
type constraint struct {
	oid     uint32
	name    string
	typ     string // p, u, c, f
	table   *catalog.TableDescriptor
	index   *catalog.Index
	cols    []uint32
	def     string
	refOID  uint32
	refCols []uint32
	fk      *catalog.ForeignKey
}

func tableConstraints(t *catalog.TableDescriptor) []constraint {
	var out []constraint
	n := 0
	next := func() uint32 { n++; return constraintOID(t, n) }
	for _, idx := range tableIndexes(t) {
		if idx == &t.PrimaryIndex {
			out = append(out, constraint{oid: next(), name: idx.Name, typ: "p", table: t, index: idx, cols: idx.ColumnIDs,
				def: "PRIMARY KEY (" + indexColumns(t, idx) + ")"})
		} else if idx.Unique {
			out = append(out, constraint{oid: next(), name: idx.Name, typ: "u", table: t, index: idx, cols: idx.ColumnIDs,
				def: "UNIQUE (" + indexColumns(t, idx) + ")"})
		} else {
			n++
		}
	}
	for _, c := range t.Checks {
		out = append(out, constraint{oid: next(), name: c.Name, typ: "c", table: t, def: "CHECK (" + c.Expr + ")"})
	}
	for i := range t.ForeignKeys {
		fk := &t.ForeignKeys[i]
		out = append(out, constraint{oid: next(), name: fk.Name, typ: "f", table: t, cols: fk.ColumnIDs, refOID: fk.RefTableID, refCols: fk.RefColumnIDs, fk: fk})
	}
	return out
}

// catalogAccess implements sem.CatalogAccess over the statement's snapshot.
type catalogAccess struct {
	ctx context.Context
	x   *execCtx
}

func (c *catalogAccess) RelationOID(name string) (uint32, error) {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		if len(p) >= 2 && p[0] == '"' && p[len(p)-1] == '"' {
			parts[i] = strings.ReplaceAll(p[1:len(p)-1], `""`, `"`)
		} else {
			parts[i] = strings.ToLower(p)
		}
	}
	rv := &pg_query.RangeVar{Relname: parts[len(parts)-1]}
	if len(parts) > 1 {
		rv.Schemaname = parts[len(parts)-2]
	}
	if vt := virtualTable(rv); vt != nil {
		return vt.desc.ID, nil
	}
	s, err := c.x.catalogSnapshot(c.ctx)
	if err != nil {
		return 0, err
	}
	schema := rv.Schemaname
	if schema == "" {
		schema = catalog.DefaultSchema
	}
	for _, t := range s.tables {
		if t.Schema == schema && t.Name == rv.Relname {
			return t.ID, nil
		}
		for _, idx := range tableIndexes(t) {
			if t.Schema == schema && idx.Name == rv.Relname {
				return indexOID(t, idx), nil
			}
		}
	}
	for _, q := range s.seqs {
		if q.Schema == schema && q.Name == rv.Relname {
			return q.ID, nil
		}
	}
	return 0, sqlerr.Newf(sqlerr.CodeUndefinedTable, "relation %q does not exist", name)
}

// RelationName is regclass output: the name of a table, index, sequence
// or virtual table, qualified unless its schema is pg_catalog or public
// (the search path).
func (c *catalogAccess) RelationName(oid uint32) (string, bool, error) {
	name := func(schema, rel string) (string, bool, error) {
		n := quoteIdentIfNeeded(rel)
		if schema != "pg_catalog" && schema != catalog.DefaultSchema {
			n = quoteIdentIfNeeded(schema) + "." + n
		}
		return n, true, nil
	}
	if vt := vtablesByID[oid]; vt != nil {
		return name(vt.desc.Schema, vt.desc.Name)
	}
	s, err := c.x.catalogSnapshot(c.ctx)
	if err != nil {
		return "", false, err
	}
	for _, t := range s.tables {
		if t.ID == oid {
			return name(t.Schema, t.Name)
		}
		for _, idx := range tableIndexes(t) {
			if indexOID(t, idx) == oid {
				return name(t.Schema, idx.Name)
			}
		}
	}
	for _, q := range s.seqs {
		if q.ID == oid {
			return name(q.Schema, q.Name)
		}
	}
	return "", false, nil
}

// isRegClass reports whether t is regclass or regclass[], whose text
// output names relations (regclassText).
func isRegClass(t *types.Type) bool {
	if t.Family() == types.ArrayFamily {
		t = t.Elem()
	}
	return t.Oid() == types.OidRegClass
}

// regclassText is the text output of a regclass or regclass[] value: the
// names of the relations (numbers for oids that name none).
func regclassText(c *catalogAccess, d types.Datum, t *types.Type, set *types.Settings) ([]byte, error) {
	name := func(d types.Datum) (types.Datum, error) {
		oid, ok := d.(types.DOid)
		if !ok {
			return d, nil
		}
		s, err := sem.RegClassText(c, uint32(oid))
		return dText(s), err
	}
	if a, ok := d.(*types.DArray); ok {
		names := &types.DArray{Elem: types.Text, Elems: make([]types.Datum, len(a.Elems))}
		for i, e := range a.Elems {
			var err error
			if names.Elems[i], err = name(e); err != nil {
				return nil, err
			}
		}
		return types.AppendText(nil, names, types.TextArray, set), nil
	}
	n, err := name(d)
	if err != nil {
		return nil, err
	}
	return types.AppendText(nil, n, types.Text, set), nil
}

func (c *catalogAccess) IndexDef(oid uint32, column int) (string, bool, error) {
	s, err := c.x.catalogSnapshot(c.ctx)
	if err != nil {
		return "", false, err
	}
	for _, t := range s.tables {
		for _, idx := range tableIndexes(t) {
			if indexOID(t, idx) == oid {
				if column > 0 {
					if column > len(idx.ColumnIDs) {
						return "", false, nil
					}
					return quoteIdentIfNeeded(t.ColumnByID(idx.ColumnIDs[column-1]).Name), true, nil
				}
				return indexDef(t, idx), true, nil
			}
		}
	}
	return "", false, nil
}

func (c *catalogAccess) ConstraintDef(oid uint32) (string, bool, error) {
	s, err := c.x.catalogSnapshot(c.ctx)
	if err != nil {
		return "", false, err
	}
	for _, t := range s.tables {
		for _, con := range tableConstraints(t) {
			if con.oid != oid {
				continue
			}
			if con.typ == "f" {
				return fkDef(t, con.fk, s.tableByID(con.refOID)), true, nil
			}
			return con.def, true, nil
		}
	}
	return "", false, nil
}

// The types pg_type lists.
var pgTypes = []*types.Type{
	types.Bool, types.Bytes, types.Name, types.Int8, types.Int2, types.Int4, types.Text, types.OidType,
	types.Float4, types.Float8, types.BPChar, types.VarChar, types.Date, types.Timestamp, types.TimestampTZ,
	types.Interval, types.Numeric, types.UUID, types.JSONB,
	types.BoolArray, types.BytesArray, types.NameArray, types.Int8Array, types.Int2Array, types.Int4Array,
	types.TextArray, types.OidArray, types.Float4Array, types.Float8Array, types.BPCharArray, types.VarCharArray,
	types.DateArray, types.TimestampArray, types.TimestampTZArray, types.IntervalArray, types.NumericArray,
	types.UUIDArray, types.JSONBArray,
}

// typStorage is pg_type.typstorage (and attstorage): x (extended) for
// the variable-length types but numeric (m, main) and name (a fixed 64
// bytes), p (plain) for the fixed-size ones.
func typStorage(t *types.Type) string {
	switch {
	case t.Oid() == types.OidNumeric:
		return "m"
	case t.Oid() == types.OidName:
		return "p"
	case t.Family() == types.StringFamily || t.Family() == types.BytesFamily || t.Family() == types.JSONFamily ||
		t.Family() == types.ArrayFamily:
		return "x"
	}
	return "p"
}

func typeCategory(t *types.Type) string {
	switch t.Family() {
	case types.ArrayFamily:
		return "A"
	case types.BoolFamily:
		return "B"
	case types.IntFamily, types.FloatFamily, types.NumericFamily, types.OidFamily:
		return "N"
	case types.StringFamily:
		return "S"
	case types.DateFamily, types.TimestampFamily, types.TimestampTZFamily:
		return "D"
	case types.IntervalFamily:
		return "T"
	}
	return "U"
}

func init() {
	defVTable("pg_catalog", "pg_namespace", "oid oid, nspname name, nspowner oid, nspacl _text",
		func(_ context.Context, _ *execCtx, _ *catalogSnapshot) ([][]types.Datum, error) {
			var rows [][]types.Datum
			for _, n := range []string{"pg_catalog", "public", "information_schema"} {
				rows = append(rows, []types.Datum{dOid(schemaOID(n)), dText(n), dOid(10), null})
			}
			return rows, nil
		})
	defVTable("pg_catalog", "pg_class", "oid oid, relname name, relnamespace oid, reltype oid, reloftype oid, relowner oid, relam oid, "+
		"relfilenode oid, reltablespace oid, relpages int4, reltuples float4, relallvisible int4, reltoastrelid oid, relhasindex bool, "+
		"relisshared bool, relpersistence char, relkind char, relnatts int2, relchecks int2, relhasrules bool, relhastriggers bool, "+
		"relhassubclass bool, relrowsecurity bool, relforcerowsecurity bool, relispopulated bool, relreplident char, relispartition bool, "+
		"relrewrite oid, relacl _text, reloptions _text, relpartbound text",
		func(_ context.Context, _ *execCtx, s *catalogSnapshot) ([][]types.Datum, error) {
			var rows [][]types.Datum
			// relhastriggers: PostgreSQL's foreign keys are triggers on
			// both tables (psql's \d lists foreign keys only then).
			fkTables := map[uint32]bool{}
			for _, t := range s.tables {
				for _, fk := range t.ForeignKeys {
					fkTables[t.ID], fkTables[fk.RefTableID] = true, true
				}
			}
			row := func(oid uint32, name string, ns uint32, am uint32, kind string, natts, checks int, hasIndex bool) {
				rows = append(rows, []types.Datum{dOid(oid), dText(name), dOid(ns), dOid(0), dOid(0), dOid(10), dOid(am),
					dOid(oid), dOid(0), dInt(0), types.DFloat(-1), dInt(0), dOid(0), dBool(hasIndex),
					dBool(false), dText("p"), dText(kind), dInt(int64(natts)), dInt(int64(checks)), dBool(false), dBool(kind == "r" && fkTables[oid]),
					dBool(false), dBool(false), dBool(false), dBool(true), dText("d"), dBool(false),
					dOid(0), null, null, null})
			}
			for _, t := range s.tables {
				idxs := tableIndexes(t)
				row(t.ID, t.Name, schemaOID(t.Schema), oidHeap, "r", len(t.PublicColumns()), len(t.Checks), len(idxs) > 0)
				for _, idx := range idxs {
					row(indexOID(t, idx), idx.Name, schemaOID(t.Schema), oidBtree, "i", len(idx.ColumnIDs), 0, false)
				}
			}
			hidden := map[uint32]bool{} // the sequences of hidden rowid columns
			for _, t := range s.tables {
				for _, c := range t.Columns {
					if c.Hidden && c.SequenceID != 0 {
						hidden[c.SequenceID] = true
					}
				}
			}
			for _, q := range s.seqs {
				if !hidden[q.ID] {
					row(q.ID, q.Name, schemaOID(q.Schema), 0, "S", 3, 0, false)
				}
			}
			names := make([][2]string, 0, len(vtablesByName))
			for k := range vtablesByName {
				names = append(names, k)
			}
			sort.Slice(names, func(i, j int) bool { return names[i][0]+"."+names[i][1] < names[j][0]+"."+names[j][1] })
			for _, k := range names {
				vt := vtablesByName[k]
				kind := "r"
				if k[0] == "information_schema" || k[1] == "pg_settings" || k[1] == "pg_roles" || k[1] == "pg_user" {
					kind = "v"
				}
				row(vt.desc.ID, vt.desc.Name, schemaOID(vt.desc.Schema), oidHeap, kind, len(vt.desc.Columns), 0, false)
			}
			return rows, nil
		})
	defVTable("pg_catalog", "pg_attribute", "attrelid oid, attname name, atttypid oid, attstattarget int4, attlen int2, attnum int2, "+
		"attndims int4, attcacheoff int4, atttypmod int4, attbyval bool, attalign char, attstorage char, attcompression char, "+
		"attnotnull bool, atthasdef bool, atthasmissing bool, attidentity char, attgenerated char, attisdropped bool, attislocal bool, "+
		"attinhcount int4, attcollation oid, attacl _text, attoptions _text, attfdwoptions _text",
		func(_ context.Context, _ *execCtx, s *catalogSnapshot) ([][]types.Datum, error) {
			var rows [][]types.Datum
			attr := func(rel uint32, c *catalog.Column, num int) {
				ndims := 0
				if c.Type.Family() == types.ArrayFamily {
					ndims = 1
				}
				coll := uint32(0)
				if c.Type.Family() == types.StringFamily {
					coll = 100
				}
				rows = append(rows, []types.Datum{dOid(rel), dText(c.Name), dOid(uint32(c.Type.Oid())), dInt(-1), dInt(int64(c.Type.Size())), dInt(int64(num)),
					dInt(int64(ndims)), dInt(-1), dInt(int64(c.Type.Typmod())), dBool(c.Type.Size() > 0 && c.Type.Size() <= 8), dText("i"), dText(typStorage(c.Type)), dText(""),
					dBool(!c.Nullable), dBool(c.DefaultExpr != ""), dBool(c.Missing != nil), dText(""), dText(""), dBool(false), dBool(true),
					dInt(0), dOid(coll), null, null, null})
			}
			for _, t := range s.tables {
				for i := range t.Columns {
					if c := &t.Columns[i]; !c.Hidden {
						attr(t.ID, c, i+1)
					}
				}
				for _, idx := range tableIndexes(t) {
					for j, id := range idx.ColumnIDs {
						attr(indexOID(t, idx), t.ColumnByID(id), j+1)
					}
				}
			}
			for _, vt := range vtablesByID {
				for i := range vt.desc.Columns {
					attr(vt.desc.ID, &vt.desc.Columns[i], i+1)
				}
			}
			return rows, nil
		})
	defVTable("pg_catalog", "pg_attrdef", "oid oid, adrelid oid, adnum int2, adbin text",
		func(_ context.Context, _ *execCtx, s *catalogSnapshot) ([][]types.Datum, error) {
			var rows [][]types.Datum
			for _, t := range s.tables {
				for i, c := range t.Columns {
					if c.DefaultExpr != "" && !c.Hidden {
						rows = append(rows, []types.Datum{dOid(constraintOIDBase - 1 - t.ID*1024 - uint32(i)), dOid(t.ID), dInt(int64(i + 1)), dText(c.DefaultExpr)})
					}
				}
			}
			return rows, nil
		})
	defVTable("pg_catalog", "pg_index", "indexrelid oid, indrelid oid, indnatts int2, indnkeyatts int2, indisunique bool, "+
		"indnullsnotdistinct bool, indisprimary bool, indisexclusion bool, indimmediate bool, indisclustered bool, indisvalid bool, "+
		"indcheckxmin bool, indisready bool, indislive bool, indisreplident bool, indkey _int2, indcollation _oid, indclass _oid, "+
		"indoption _int2, indexprs text, indpred text",
		func(_ context.Context, _ *execCtx, s *catalogSnapshot) ([][]types.Datum, error) {
			var rows [][]types.Datum
			for _, t := range s.tables {
				for _, idx := range tableIndexes(t) {
					n := int64(len(idx.ColumnIDs))
					primary := idx == &t.PrimaryIndex
					var opts, colls, classes []types.Datum
					for i := range idx.ColumnIDs {
						o := int64(0)
						if idx.IsDescending(i) {
							o = 3
						}
						opts = append(opts, dInt(o))
						colls = append(colls, dOid(0))
						classes = append(classes, dOid(0))
					}
					rows = append(rows, []types.Datum{dOid(indexOID(t, idx)), dOid(t.ID), dInt(n), dInt(n), dBool(primary || idx.Unique),
						dBool(false), dBool(primary), dBool(false), dBool(true), dBool(false), dBool(idx.Public()),
						dBool(false), dBool(true), dBool(true), dBool(false), types.NewDArray(types.Int2, columnNums(t, idx.ColumnIDs)),
						types.NewDArray(types.OidType, colls), types.NewDArray(types.OidType, classes), types.NewDArray(types.Int2, opts), null, null})
				}
			}
			return rows, nil
		})
	defVTable("pg_catalog", "pg_constraint", "oid oid, conname name, connamespace oid, contype char, condeferrable bool, "+
		"condeferred bool, convalidated bool, conrelid oid, contypid oid, conindid oid, conparentid oid, confrelid oid, "+
		"confupdtype char, confdeltype char, confmatchtype char, conislocal bool, coninhcount int4, connoinherit bool, "+
		"conkey _int2, confkey _int2, conbin text",
		func(_ context.Context, _ *execCtx, s *catalogSnapshot) ([][]types.Datum, error) {
			var rows [][]types.Datum
			for _, t := range s.tables {
				for _, c := range tableConstraints(t) {
					indid, conkey, confkey, bin := uint32(0), null, null, null
					if c.index != nil {
						indid = indexOID(t, c.index)
					}
					if c.cols != nil {
						conkey = types.NewDArray(types.Int2, columnNums(t, c.cols))
					}
					if ref := s.tableByID(c.refOID); ref != nil {
						confkey = types.NewDArray(types.Int2, columnNums(ref, c.refCols))
					}
					if c.typ == "c" {
						bin = dText(strings.TrimSuffix(strings.TrimPrefix(c.def, "CHECK ("), ")"))
					}
					upd, del, match := dText(" "), dText(" "), dText(" ")
					if c.typ == "f" {
						upd, del, match = dText(c.fk.OnUpdate.Code()), dText(c.fk.OnDelete.Code()), dText("s")
						if c.fk.MatchFull {
							match = dText("f")
						}
					}
					rows = append(rows, []types.Datum{dOid(c.oid), dText(c.name), dOid(schemaOID(t.Schema)), dText(c.typ), dBool(false),
						dBool(false), dBool(true), dOid(t.ID), dOid(0), dOid(indid), dOid(0), dOid(c.refOID),
						upd, del, match, dBool(true), dInt(0), dBool(false),
						conkey, confkey, bin})
				}
			}
			return rows, nil
		})
	defVTable("pg_catalog", "pg_type", "oid oid, typname name, typnamespace oid, typowner oid, typlen int2, typbyval bool, "+
		"typtype char, typcategory char, typispreferred bool, typisdefined bool, typdelim char, typrelid oid, typelem oid, "+
		"typarray oid, typinput regproc, typoutput regproc, typreceive regproc, typsend regproc, typalign char, typstorage char, "+
		"typnotnull bool, typbasetype oid, typtypmod int4, typndims int4, typcollation oid, typdefault text",
		func(_ context.Context, _ *execCtx, _ *catalogSnapshot) ([][]types.Datum, error) {
			var rows [][]types.Datum
			for _, t := range pgTypes {
				elem, arr := uint32(0), uint32(0)
				if t.Family() == types.ArrayFamily {
					elem = uint32(t.Elem().Oid())
				} else if a := types.ArrayOf(t); a != nil {
					arr = uint32(a.Oid())
				}
				coll := uint32(0)
				if t.Family() == types.StringFamily {
					coll = 100
				}
				rows = append(rows, []types.Datum{dOid(uint32(t.Oid())), dText(t.TypName()), dOid(sem.OidPgCatalog), dOid(10), dInt(int64(t.Size())),
					dBool(t.Size() > 0 && t.Size() <= 8), dText("b"), dText(typeCategory(t)), dBool(false), dBool(true), dText(","), dOid(0), dOid(elem),
					dOid(arr), dOid(0), dOid(0), dOid(0), dOid(0), dText("i"), dText(typStorage(t)),
					dBool(false), dOid(0), dInt(-1), dInt(0), dOid(coll), null})
			}
			return rows, nil
		})
	defVTable("pg_catalog", "pg_database", "oid oid, datname name, datdba oid, encoding int4, datlocprovider char, "+
		"datistemplate bool, datallowconn bool, datconnlimit int4, datfrozenxid int8, datminmxid int8, dattablespace oid, "+
		"datcollate text, datctype text, daticulocale text, datcollversion text, datacl _text",
		func(_ context.Context, _ *execCtx, s *catalogSnapshot) ([][]types.Datum, error) {
			var rows [][]types.Datum
			for _, d := range s.dbs {
				rows = append(rows, []types.Datum{dOid(d.ID), dText(d.Name), dOid(10), dInt(6), dText("c"),
					dBool(false), dBool(true), dInt(-1), dInt(0), dInt(0), dOid(1663),
					dText("C"), dText("C"), null, null, null})
			}
			return rows, nil
		})
	defVTable("pg_catalog", "pg_settings", "name text, setting text, unit text, category text, short_desc text, extra_desc text, "+
		"context text, vartype text, source text, min_val text, max_val text, enumvals _text, boot_val text, reset_val text, "+
		"sourcefile text, sourceline int4, pending_restart bool",
		func(_ context.Context, x *execCtx, _ *catalogSnapshot) ([][]types.Datum, error) {
			var rows [][]types.Datum
			for _, kv := range x.sess.vars.all() {
				rows = append(rows, []types.Datum{dText(reportedName(kv[0])), dText(kv[1]), null, dText("Cairn"), null, null,
					dText("user"), dText("string"), dText("default"), null, null, null, null, dText(kv[1]),
					null, null, dBool(false)})
			}
			return rows, nil
		})
	empty := func(context.Context, *execCtx, *catalogSnapshot) ([][]types.Datum, error) { return nil, nil }
	defVTable("pg_catalog", "pg_am", "oid oid, amname name, amhandler regproc, amtype char",
		func(context.Context, *execCtx, *catalogSnapshot) ([][]types.Datum, error) {
			return [][]types.Datum{
				{dOid(oidHeap), dText("heap"), dOid(0), dText("t")},
				{dOid(oidBtree), dText("btree"), dOid(0), dText("i")},
			}, nil
		})
	defVTable("pg_catalog", "pg_description", "objoid oid, classoid oid, objsubid int4, description text", empty)
	defVTable("pg_catalog", "pg_shdescription", "objoid oid, classoid oid, description text", empty)
	defVTable("pg_catalog", "pg_auth_members", "roleid oid, member oid, grantor oid, admin_option bool", empty)
	defVTable("pg_catalog", "pg_inherits", "inhrelid oid, inhparent oid, inhseqno int4, inhdetachpending bool", empty)
	defVTable("pg_catalog", "pg_collation", "oid oid, collname name, collnamespace oid, collowner oid, collprovider char, "+
		"collisdeterministic bool, collencoding int4, collcollate text, collctype text", empty)
	defVTable("pg_catalog", "pg_tablespace", "oid oid, spcname name, spcowner oid, spcacl _text, spcoptions _text",
		func(context.Context, *execCtx, *catalogSnapshot) ([][]types.Datum, error) {
			return [][]types.Datum{
				{dOid(1663), dText("pg_default"), dOid(10), null, null},
				{dOid(1664), dText("pg_global"), dOid(10), null, null},
			}, nil
		})
	defVTable("pg_catalog", "pg_roles", "rolname name, rolsuper bool, rolinherit bool, rolcreaterole bool, rolcreatedb bool, "+
		"rolcanlogin bool, rolreplication bool, rolconnlimit int4, rolpassword text, rolvaliduntil timestamptz, rolbypassrls bool, "+
		"rolconfig _text, oid oid",
		func(context.Context, *execCtx, *catalogSnapshot) ([][]types.Datum, error) {
			return [][]types.Datum{{dText("root"), dBool(true), dBool(true), dBool(true), dBool(true),
				dBool(true), dBool(true), dInt(-1), dText("********"), null, dBool(true), null, dOid(10)}}, nil
		})
	defVTable("pg_catalog", "pg_user", "usename name, usesysid oid, usecreatedb bool, usesuper bool, userepl bool, "+
		"usebypassrls bool, passwd text, valuntil timestamptz, useconfig _text",
		func(context.Context, *execCtx, *catalogSnapshot) ([][]types.Datum, error) {
			return [][]types.Datum{{dText("root"), dOid(10), dBool(true), dBool(true), dBool(true), dBool(true), dText("********"), null, null}}, nil
		})
	defVTable("pg_catalog", "pg_statistic_ext", "oid oid, stxrelid oid, stxname name, stxnamespace oid, stxowner oid, "+
		"stxstattarget int4, stxkeys _int2, stxkind _text, stxexprs text", empty)
	defVTable("pg_catalog", "pg_policy", "oid oid, polname name, polrelid oid, polcmd char, polpermissive bool, polroles _oid, "+
		"polqual text, polwithcheck text", empty)
	defVTable("pg_catalog", "pg_trigger", "oid oid, tgrelid oid, tgparentid oid, tgname name, tgfoid oid, tgtype int2, "+
		"tgenabled char, tgisinternal bool, tgconstrrelid oid, tgconstrindid oid, tgconstraint oid, tgdeferrable bool, "+
		"tginitdeferred bool, tgnargs int2", empty)
	defVTable("pg_catalog", "pg_publication", "oid oid, pubname name, pubowner oid, puballtables bool, pubinsert bool, "+
		"pubupdate bool, pubdelete bool, pubtruncate bool, pubviaroot bool", empty)
	defVTable("pg_catalog", "pg_publication_rel", "oid oid, prpubid oid, prrelid oid, prqual text, prattrs _int2", empty)
	defVTable("pg_catalog", "pg_publication_namespace", "oid oid, pnpubid oid, pnnspid oid", empty)
	defVTable("pg_catalog", "pg_foreign_table", "ftrelid oid, ftserver oid, ftoptions _text", empty)
	defVTable("pg_catalog", "pg_partitioned_table", "partrelid oid, partstrat char, partnatts int2, partdefid oid", empty)
	defVTable("pg_catalog", "pg_extension", "oid oid, extname name, extowner oid, extnamespace oid, extrelocatable bool, "+
		"extversion text", empty)
	const oidLangInternal = 12
	// pg_proc: the built-in functions (sem.Procs; aggregates and
	// operators are not listed), all in pg_catalog, so psql's \df (user
	// functions) is empty and \dfS name finds them.
	defVTable("pg_catalog", "pg_proc", "oid oid, proname name, pronamespace oid, proowner oid, prolang oid, prokind char, "+
		"prosecdef bool, proretset bool, provolatile char, proparallel char, pronargs int2, prorettype oid, proargtypes _oid, "+
		"prosrc text, proacl _text",
		func(context.Context, *execCtx, *catalogSnapshot) ([][]types.Datum, error) {
			ps := sem.Procs()
			rows := make([][]types.Datum, 0, len(ps))
			for _, p := range ps {
				args := make([]types.Datum, len(p.Args))
				for i, a := range p.Args {
					args[i] = dOid(uint32(a.Oid()))
				}
				rows = append(rows, []types.Datum{dOid(p.Oid), dText(p.Name), dOid(sem.OidPgCatalog), dOid(10), dOid(oidLangInternal), dText("f"),
					dBool(false), dBool(false), dText(p.Volatility), dText("s"), dInt(int64(len(p.Args))), dOid(uint32(p.Result.Oid())),
					&types.DArray{Elem: types.OidType, Elems: args}, dText(p.Name), null})
			}
			return rows, nil
		})
	defVTable("pg_catalog", "pg_language", "oid oid, lanname name, lanowner oid, lanispl bool, lanpltrusted bool",
		func(context.Context, *execCtx, *catalogSnapshot) ([][]types.Datum, error) {
			return [][]types.Datum{
				{dOid(oidLangInternal), dText("internal"), dOid(10), dBool(false), dBool(false)},
				{dOid(13), dText("c"), dOid(10), dBool(false), dBool(false)},
				{dOid(14), dText("sql"), dOid(10), dBool(false), dBool(true)},
			}, nil
		})

	defVTable("information_schema", "schemata", "catalog_name name, schema_name name, schema_owner name, "+
		"default_character_set_catalog name, default_character_set_schema name, default_character_set_name name, sql_path text",
		func(_ context.Context, _ *execCtx, s *catalogSnapshot) ([][]types.Datum, error) {
			var rows [][]types.Datum
			for _, n := range []string{"information_schema", "pg_catalog", "public"} {
				rows = append(rows, []types.Datum{dText(s.db.Name), dText(n), dText("root"), null, null, null, null})
			}
			return rows, nil
		})
	defVTable("information_schema", "tables", "table_catalog name, table_schema name, table_name name, table_type text, "+
		"self_referencing_column_name name, reference_generation text, user_defined_type_catalog name, "+
		"user_defined_type_schema name, user_defined_type_name name, is_insertable_into text, is_typed text, commit_action text",
		func(_ context.Context, _ *execCtx, s *catalogSnapshot) ([][]types.Datum, error) {
			var rows [][]types.Datum
			add := func(schema, name, typ string, insertable bool) {
				ins := "NO"
				if insertable {
					ins = "YES"
				}
				rows = append(rows, []types.Datum{dText(s.db.Name), dText(schema), dText(name), dText(typ), null, null, null, null, null, dText(ins), dText("NO"), null})
			}
			for _, t := range s.tables {
				add(t.Schema, t.Name, "BASE TABLE", true)
			}
			for _, vt := range sortedVTables() {
				add(vt.desc.Schema, vt.desc.Name, "VIEW", false)
			}
			return rows, nil
		})
	defVTable("information_schema", "columns", "table_catalog name, table_schema name, table_name name, column_name name, "+
		"ordinal_position int4, column_default text, is_nullable text, data_type text, character_maximum_length int4, "+
		"character_octet_length int4, numeric_precision int4, numeric_precision_radix int4, numeric_scale int4, "+
		"datetime_precision int4, udt_catalog name, udt_schema name, udt_name name, is_identity text, is_generated text, is_updatable text",
		func(_ context.Context, _ *execCtx, s *catalogSnapshot) ([][]types.Datum, error) {
			var rows [][]types.Datum
			add := func(t *catalog.TableDescriptor, i int, updatable bool) {
				c := &t.Columns[i]
				rows = append(rows, columnsRow(s.db.Name, t, c, i+1, updatable))
			}
			for _, t := range s.tables {
				for i := range t.Columns {
					if !t.Columns[i].Hidden {
						add(t, i, true)
					}
				}
			}
			for _, vt := range sortedVTables() {
				for i := range vt.desc.Columns {
					add(vt.desc, i, false)
				}
			}
			return rows, nil
		})
	defConstraintVTables() // fk.go
}

func sortedVTables() []*vtable {
	out := make([]*vtable, 0, len(vtablesByID))
	for _, vt := range vtablesByID {
		out = append(out, vt)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].desc.ID < out[j].desc.ID })
	return out
}

// columnsRow is a row of information_schema.columns.
func columnsRow(db string, t *catalog.TableDescriptor, c *catalog.Column, num int, updatable bool) []types.Datum {
	yn := func(b bool) types.Datum {
		if b {
			return dText("YES")
		}
		return dText("NO")
	}
	ct := c.Type
	dataType := ct.WithoutModifiers().Name()
	if ct.Family() == types.ArrayFamily {
		dataType = "ARRAY"
	}
	maxLen, octLen, prec, radix, scale, dtPrec := null, null, null, null, null, null
	switch ct.Family() {
	case types.StringFamily:
		if ct.Length() >= 0 {
			maxLen, octLen = dInt(int64(ct.Length())), dInt(int64(ct.Length())*4)
		} else {
			octLen = dInt(1073741824)
		}
	case types.IntFamily, types.FloatFamily:
		bits := int64(ct.Width())
		switch {
		case ct.Family() == types.FloatFamily && bits == 32:
			bits = 24
		case ct.Family() == types.FloatFamily:
			bits = 53
		}
		prec, radix = dInt(bits), dInt(2)
		if ct.Family() == types.IntFamily {
			scale = dInt(0)
		}
	case types.NumericFamily:
		radix = dInt(10)
		if ct.Precision() >= 0 {
			prec, scale = dInt(int64(ct.Precision())), dInt(int64(ct.Scale()))
		}
	case types.TimestampFamily, types.TimestampTZFamily, types.DateFamily, types.IntervalFamily:
		p := int64(6)
		if ct.Precision() >= 0 {
			p = int64(ct.Precision())
		}
		if ct.Family() == types.DateFamily {
			p = 0
		}
		dtPrec = dInt(p)
	}
	return []types.Datum{dText(db), dText(t.Schema), dText(t.Name), dText(c.Name),
		dInt(int64(num)), textOrNull(c.DefaultExpr), yn(c.Nullable), dText(dataType), maxLen,
		octLen, prec, radix, scale,
		dtPrec, dText(db), dText("pg_catalog"), dText(ct.TypName()), dText("NO"), dText("NEVER"), yn(updatable)}
}
