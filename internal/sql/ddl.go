package sql

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/rowenc"
	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// parseTreeVersion is the parse tree version libpg_query expects back.
var parseTreeVersion = sync.OnceValue(func() int32 {
	r, err := pg_query.Parse("SELECT 1")
	if err != nil {
		return 0
	}
	return r.GetVersion()
})

// deparseExpr renders an expression node as SQL text (for DEFAULT and
// CHECK, which the catalog stores as text).
func deparseExpr(n *pg_query.Node) (string, error) {
	tree := &pg_query.ParseResult{Version: parseTreeVersion(), Stmts: []*pg_query.RawStmt{{Stmt: &pg_query.Node{Node: &pg_query.Node_SelectStmt{
		SelectStmt: &pg_query.SelectStmt{TargetList: []*pg_query.Node{{Node: &pg_query.Node_ResTarget{
			ResTarget: &pg_query.ResTarget{Val: n}}}}},
	}}}}}
	s, err := pg_query.Deparse(tree)
	if err != nil {
		return "", sqlerr.Internalf("deparsing an expression: %v", err)
	}
	return strings.TrimPrefix(s, "SELECT "), nil
}

// relationName resolves a RangeVar to (schema, name): only "public" exists.
func relationName(rv *pg_query.RangeVar) (schema, name string, err error) {
	schema = rv.Schemaname
	if schema == "" {
		schema = catalog.DefaultSchema
	}
	if schema != catalog.DefaultSchema && schema != "pg_catalog" && schema != "information_schema" {
		return "", "", sqlerr.Newf(sqlerr.CodeInvalidSchemaName, "schema %q does not exist", schema)
	}
	if rv.Catalogname != "" {
		return "", "", sqlerr.Unsupportedf("cross-database references are not implemented: %s.%s.%s", rv.Catalogname, schema, rv.Relname)
	}
	return schema, rv.Relname, nil
}

// database returns the session's database descriptor.
func (x *execCtx) database(ctx context.Context) (*catalog.DatabaseDescriptor, error) {
	res, err := x.resolver(ctx)
	if err != nil {
		return nil, err
	}
	db, err := res.GetDatabase(ctx, x.sess.dbName)
	if err != nil {
		return nil, err
	}
	if db == nil {
		return nil, sqlerr.Newf(sqlerr.CodeInvalidCatalogName, "database %q does not exist", x.sess.dbName)
	}
	return db, nil
}

// resolver returns the statement's catalog resolver (one per statement).
func (x *execCtx) resolver(ctx context.Context) (*catalog.Resolver, error) {
	if x.res == nil {
		// The version read by an earlier statement of the transaction
		// still holds (see catalog.Cache.ResolverAt).
		if m := &x.sess.catVersion; m.txn == x.txn && x.txn.Isolation() != kvpb.IsolationLevel_READ_COMMITTED && !catalog.WroteCatalog(x.txn) {
			x.res = x.sess.srv.catalog.ResolverAt(x.txn, m.version)
			return x.res, nil
		}
		r, err := x.sess.srv.catalog.Resolver(ctx, x.txn)
		if err != nil {
			return nil, err
		}
		x.res = r
		x.sess.catVersion.txn, x.sess.catVersion.version = x.txn, r.Version()
	}
	return x.res, nil
}

// table resolves a table by RangeVar; nil with missingOK when absent.
func (x *execCtx) table(ctx context.Context, rv *pg_query.RangeVar, missingOK bool) (*catalog.TableDescriptor, error) {
	schema, name, err := relationName(rv)
	if err != nil {
		return nil, err
	}
	db, err := x.database(ctx)
	if err != nil {
		return nil, err
	}
	res, err := x.resolver(ctx)
	if err != nil {
		return nil, err
	}
	t, err := res.GetTable(ctx, db.ID, schema, name)
	if err != nil {
		return nil, err
	}
	if t == nil && !missingOK {
		return nil, sqlerr.Newf(sqlerr.CodeUndefinedTable, "relation %q does not exist", name)
	}
	return t, nil
}

func ddlPlan(tag string, run func(ctx context.Context, x *execCtx) error) *planned {
	return &planned{
		needsTxn: true,
		open: func(ctx context.Context, x *execCtx) (rowIter, error) {
			return countIter{}, run(ctx, x)
		},
		tag: constTag(tag),
	}
}

func (s *session) planCreateTable(cs *pg_query.CreateStmt) (*planned, error) {
	if cs.Partbound != nil || len(cs.InhRelations) > 0 || cs.OfTypename != nil {
		return nil, sqlerr.Unsupportedf("table inheritance and partitions are not supported")
	}
	return ddlPlan("CREATE TABLE", func(ctx context.Context, x *execCtx) error {
		schema, name, err := relationName(cs.Relation)
		if err != nil {
			return err
		}
		db, err := x.database(ctx)
		if err != nil {
			return err
		}
		if existing, err := catalog.GetTable(ctx, x.txn, db.ID, schema, name); err != nil {
			return err
		} else if existing != nil && cs.IfNotExists {
			_ = x.notice(sqlerr.New("42P07", fmt.Sprintf("relation %q already exists, skipping", name)))
			return nil
		} else if existing != nil {
			return sqlerr.Newf(sqlerr.CodeDuplicateTable, "relation %q already exists", name)
		}
		desc, seqs, err := buildTableDescriptor(cs, schema, name)
		if err != nil {
			return err
		}
		if err := x.checkTableExprs(ctx, desc); err != nil {
			return err
		}
		if err := hashPartitioning(cs, desc, x.sess.vars); err != nil {
			return err
		}
		if specs := foreignKeySpecs(cs); len(specs) > 0 {
			// The table's id first: a foreign key may reference the table.
			if desc.ID, err = catalog.AllocateDescriptorID(ctx, x.txn); err != nil {
				return err
			}
			desc.ParentID = db.ID
			for _, spec := range specs {
				fk, err := x.buildForeignKey(ctx, desc, spec)
				if err != nil {
					return err
				}
				desc.ForeignKeys = append(desc.ForeignKeys, fk)
			}
		}
		// Sequences of SERIAL columns (and of the hidden row id) first: the
		// columns refer to them by id.
		for col, seq := range seqs {
			if err := catalog.CreateSequence(ctx, x.txn, db, seq); err != nil {
				return err
			}
			desc.Columns[col].SequenceID = seq.ID
		}
		return catalog.CreateTable(ctx, x.txn, db, desc)
	}), nil
}

// buildTableDescriptor turns CREATE TABLE into a descriptor; seqs maps
// column ordinals to the sequences to create for them.
func buildTableDescriptor(cs *pg_query.CreateStmt, schema, name string) (*catalog.TableDescriptor, map[int]*catalog.SequenceDescriptor, error) {
	desc := &catalog.TableDescriptor{Schema: schema, Name: name}
	seqs := map[int]*catalog.SequenceDescriptor{}
	var pkCols []string
	var uniques [][]string
	addCheck := func(cname string, expr *pg_query.Node) error {
		text, err := deparseExpr(expr)
		if err != nil {
			return err
		}
		if cname == "" {
			// PostgreSQL's name: table_column_check when the expression
			// uses one column, else table_check; numbered when taken.
			base := name + "_check"
			if refs := slices.Compact(slices.Sorted(slices.Values(columnRefs(expr)))); len(refs) == 1 {
				base = name + "_" + refs[0] + "_check"
			}
			cname = base
			for i := 1; slices.ContainsFunc(desc.Checks, func(c catalog.Check) bool { return c.Name == cname }); i++ {
				cname = fmt.Sprintf("%s%d", base, i)
			}
		}
		desc.Checks = append(desc.Checks, catalog.Check{Name: cname, Expr: text})
		return nil
	}
	for _, elt := range cs.TableElts {
		switch e := elt.Node.(type) {
		case *pg_query.Node_ColumnDef:
			cd := e.ColumnDef
			if desc.ColumnByName(cd.Colname) != nil {
				return nil, nil, sqlerr.Newf(sqlerr.CodeDuplicateColumn, "column %q specified more than once", cd.Colname)
			}
			col := catalog.Column{Name: cd.Colname, Nullable: true}
			typ, serial, err := columnType(cd.TypeName)
			if err != nil {
				return nil, nil, err
			}
			col.Type = typ
			if serial {
				col.Nullable = false
				seqs[len(desc.Columns)] = catalog.NewSequenceDescriptor(schema, fmt.Sprintf("%s_%s_seq", name, cd.Colname), 1)
			}
			if cd.IsNotNull {
				col.Nullable = false
			}
			for _, cn := range cd.Constraints {
				c := cn.GetConstraint()
				if c == nil {
					continue
				}
				switch c.Contype {
				case pg_query.ConstrType_CONSTR_NOTNULL:
					col.Nullable = false
				case pg_query.ConstrType_CONSTR_NULL:
				case pg_query.ConstrType_CONSTR_DEFAULT:
					if col.DefaultExpr, err = deparseExpr(c.RawExpr); err != nil {
						return nil, nil, err
					}
				case pg_query.ConstrType_CONSTR_PRIMARY:
					if pkCols != nil {
						return nil, nil, sqlerr.Newf("42P16", "multiple primary keys for table %q are not allowed", name)
					}
					pkCols = []string{cd.Colname}
					col.Nullable = false
				case pg_query.ConstrType_CONSTR_UNIQUE:
					uniques = append(uniques, []string{cd.Colname})
				case pg_query.ConstrType_CONSTR_CHECK:
					if err := addCheck(c.Conname, c.RawExpr); err != nil {
						return nil, nil, err
					}
				case pg_query.ConstrType_CONSTR_IDENTITY:
					col.Nullable = false
					seqs[len(desc.Columns)] = catalog.NewSequenceDescriptor(schema, fmt.Sprintf("%s_%s_seq", name, cd.Colname), 1)
				case pg_query.ConstrType_CONSTR_FOREIGN:
					// Resolved by planCreateTable (foreignKeySpecs).
				case pg_query.ConstrType_CONSTR_ATTR_DEFERRABLE, pg_query.ConstrType_CONSTR_ATTR_NOT_DEFERRABLE,
					pg_query.ConstrType_CONSTR_ATTR_DEFERRED, pg_query.ConstrType_CONSTR_ATTR_IMMEDIATE:
					if c.Contype == pg_query.ConstrType_CONSTR_ATTR_DEFERRABLE || c.Contype == pg_query.ConstrType_CONSTR_ATTR_DEFERRED {
						return nil, nil, sqlerr.Unsupportedf("DEFERRABLE constraints are not supported yet")
					}
				default:
					return nil, nil, sqlerr.Unsupportedf("column constraint %s is not supported yet", strings.TrimPrefix(c.Contype.String(), "CONSTR_"))
				}
			}
			desc.AddColumn(col)
		case *pg_query.Node_Constraint:
			c := e.Constraint
			cols := make([]string, 0, len(c.Keys))
			for _, k := range c.Keys {
				cols = append(cols, k.GetString_().GetSval())
			}
			switch c.Contype {
			case pg_query.ConstrType_CONSTR_PRIMARY:
				if pkCols != nil {
					return nil, nil, sqlerr.Newf("42P16", "multiple primary keys for table %q are not allowed", name)
				}
				pkCols = cols
			case pg_query.ConstrType_CONSTR_UNIQUE:
				uniques = append(uniques, cols)
			case pg_query.ConstrType_CONSTR_CHECK:
				if err := addCheck(c.Conname, c.RawExpr); err != nil {
					return nil, nil, err
				}
			case pg_query.ConstrType_CONSTR_FOREIGN:
				// Resolved by planCreateTable (foreignKeySpecs).
			default:
				return nil, nil, sqlerr.Unsupportedf("table constraint %s is not supported yet", strings.TrimPrefix(c.Contype.String(), "CONSTR_"))
			}
		default:
			return nil, nil, sqlerr.Unsupportedf("CREATE TABLE element %T is not supported", elt.Node)
		}
	}
	if len(desc.Columns) == 0 {
		return nil, nil, sqlerr.Unsupportedf("tables without columns are not supported")
	}
	if pkCols == nil {
		// No primary key: a hidden row id, from a sequence, is the key.
		// Nobody sees its values: each node reserves them in large blocks
		// (one Raft write per rowIDSequenceCache rows, not per row).
		rowidSeq := catalog.NewSequenceDescriptor(schema, name+"_rowid_seq", 1)
		rowidSeq.Cache = rowIDSequenceCache
		seqs[len(desc.Columns)] = rowidSeq
		desc.AddColumn(catalog.Column{Name: "rowid", Type: types.Int8, Hidden: true})
		pkCols = []string{"rowid"}
	}
	idx, err := indexOn(desc, name+"_pkey", pkCols, true)
	if err != nil {
		return nil, nil, err
	}
	for _, id := range idx.ColumnIDs {
		desc.ColumnByID(id).Nullable = false
	}
	desc.PrimaryIndex = idx
	desc.PrimaryIndex.ID = 1
	for _, u := range uniques {
		idx, err := indexOn(desc, fmt.Sprintf("%s_%s_key", name, strings.Join(u, "_")), u, true)
		if err != nil {
			return nil, nil, err
		}
		desc.AddIndex(idx)
	}
	return desc, seqs, nil
}

// checkTableExprs checks the DEFAULT and CHECK expressions of a new
// table as PostgreSQL does at CREATE: names must resolve, a DEFAULT may
// not refer to a column, and a constant DEFAULT must convert to its
// column's type.
func (x *execCtx) checkTableExprs(ctx context.Context, desc *catalog.TableDescriptor) error {
	for i := range desc.Columns {
		col := &desc.Columns[i]
		if col.DefaultExpr == "" {
			continue
		}
		n, err := parseExprText(col.DefaultExpr)
		if err != nil {
			return err
		}
		if len(columnRefs(n)) > 0 {
			return sqlerr.Unsupportedf("cannot use column reference in DEFAULT expression")
		}
		e, err := x.buildDefault(col.DefaultExpr, col)
		if err != nil {
			return err
		}
		if tc := n.GetTypeCast(); n.GetAConst() != nil || tc != nil && tc.Arg.GetAConst() != nil {
			if _, err := e.Eval(x.evalCtx(ctx), nil); err != nil {
				return err
			}
		}
	}
	for _, ch := range desc.Checks {
		if _, err := x.buildCheck(desc, ch.Expr); err != nil {
			return err
		}
	}
	return nil
}

// indexOn builds an index over named columns.
func indexOn(desc *catalog.TableDescriptor, name string, cols []string, unique bool) (catalog.Index, error) {
	idx := catalog.Index{Name: name, Unique: unique}
	for _, c := range cols {
		col := desc.ColumnByName(c)
		if col == nil {
			return idx, sqlerr.Newf(sqlerr.CodeUndefinedColumn, "column %q named in key does not exist", c)
		}
		idx.ColumnIDs = append(idx.ColumnIDs, col.ID)
		idx.Descending = append(idx.Descending, false)
	}
	return idx, nil
}

// columnType resolves a column's type name; serial reports SERIAL types.
func columnType(tn *pg_query.TypeName) (t *types.Type, serial bool, err error) {
	if len(tn.Names) > 0 && len(tn.ArrayBounds) == 0 && len(tn.Typmods) == 0 {
		last := tn.Names[len(tn.Names)-1].GetString_().GetSval()
		if st, ok := types.SerialType(last); ok {
			return st, true, nil
		}
	}
	t, err = sem.ResolveTypeName(tn)
	return t, false, err
}

func (s *session) planDrop(ds *pg_query.DropStmt) (*planned, error) {
	if ds.RemoveType == pg_query.ObjectType_OBJECT_INDEX {
		return ddlPlan("DROP INDEX", func(ctx context.Context, x *execCtx) error { return x.dropIndexes(ctx, ds) }), nil
	}
	if ds.RemoveType == pg_query.ObjectType_OBJECT_SEQUENCE {
		return ddlPlan("DROP SEQUENCE", func(ctx context.Context, x *execCtx) error { return x.dropSequences(ctx, ds) }), nil
	}
	if ds.RemoveType != pg_query.ObjectType_OBJECT_TABLE {
		return nil, sqlerr.Unsupportedf("DROP %s is not supported yet", strings.TrimPrefix(ds.RemoveType.String(), "OBJECT_"))
	}
	cascade := ds.Behavior == pg_query.DropBehavior_DROP_CASCADE
	return ddlPlan("DROP TABLE", func(ctx context.Context, x *execCtx) error {
		var descs []*catalog.TableDescriptor
		for _, obj := range ds.Objects {
			items := obj.GetList().GetItems()
			rv := &pg_query.RangeVar{}
			switch len(items) {
			case 1:
				rv.Relname = items[0].GetString_().GetSval()
			case 2:
				rv.Schemaname, rv.Relname = items[0].GetString_().GetSval(), items[1].GetString_().GetSval()
			default:
				return sqlerr.Unsupportedf("cross-database references are not implemented")
			}
			desc, err := x.table(ctx, rv, true)
			if err != nil {
				return err
			}
			if desc == nil && !ds.MissingOk {
				return sqlerr.Newf(sqlerr.CodeUndefinedTable, "table %q does not exist", rv.Relname)
			}
			if desc == nil {
				_ = x.notice(sqlerr.New("00000", fmt.Sprintf("table %q does not exist, skipping", rv.Relname)))
				continue
			}
			descs = append(descs, desc)
		}
		// Foreign keys referencing the tables: from tables dropped too, or
		// dropped with CASCADE.
		if err := x.dropSet(ctx, descs, cascade); err != nil {
			return err
		}
		for _, desc := range descs {
			if err := catalog.DropTable(ctx, x.txn, desc, true); err != nil {
				return err
			}
			span := rowenc.TableSpan(desc.ID)
			x.sess.afterCommit(func(ctx context.Context) { x.sess.deleteSpan(ctx, span) })
		}
		return nil
	}), nil
}

func (s *session) planCreateDatabase(cd *pg_query.CreatedbStmt) (*planned, error) {
	return ddlPlan("CREATE DATABASE", func(ctx context.Context, x *execCtx) error {
		_, err := catalog.CreateDatabase(ctx, x.txn, cd.Dbname)
		return err
	}), nil
}

func (s *session) planDropDatabase(dd *pg_query.DropdbStmt) (*planned, error) {
	return ddlPlan("DROP DATABASE", func(ctx context.Context, x *execCtx) error {
		if dd.Dbname == s.dbName {
			return sqlerr.New("55006", "cannot drop the currently open database")
		}
		db, err := catalog.GetDatabase(ctx, x.txn, dd.Dbname)
		if err != nil {
			return err
		}
		if db == nil {
			if dd.MissingOk {
				return nil
			}
			return sqlerr.Newf(sqlerr.CodeInvalidCatalogName, "database %q does not exist", dd.Dbname)
		}
		tables, err := catalog.DropDatabase(ctx, x.txn, db, true)
		if err != nil {
			return err
		}
		for _, t := range tables {
			span := rowenc.TableSpan(t.ID)
			x.sess.afterCommit(func(ctx context.Context) { x.sess.deleteSpan(ctx, span) })
		}
		return nil
	}), nil
}

// rowIDSequenceCache is the CACHE of a hidden row id's sequence.
const rowIDSequenceCache = 1024
