package sql

import (
	"context"
	"fmt"
	"slices"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/rowenc"
	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// planAlterTable plans ALTER TABLE. Subcommands that only change the
// descriptor (columns, defaults, NOT NULL, CHECK, dropping constraints)
// run together in the statement's transaction; those that build an index
// over the existing rows (ADD CONSTRAINT UNIQUE, ADD PRIMARY KEY) run as
// an index build (schema.go) and must be alone.
func (s *session) planAlterTable(at *pg_query.AlterTableStmt) (*planned, error) {
	if at.Objtype != pg_query.ObjectType_OBJECT_TABLE {
		return nil, sqlerr.Unsupportedf("ALTER %s is not supported yet", strings.TrimPrefix(at.Objtype.String(), "OBJECT_"))
	}
	var build *pg_query.Constraint
	for _, n := range at.Cmds {
		cmd := n.GetAlterTableCmd()
		if cmd == nil {
			return nil, sqlerr.Unsupportedf("this form of ALTER TABLE is not supported")
		}
		if con := cmd.Def.GetConstraint(); cmd.Subtype == pg_query.AlterTableType_AT_AddConstraint && con != nil {
			switch con.Contype {
			case pg_query.ConstrType_CONSTR_UNIQUE, pg_query.ConstrType_CONSTR_PRIMARY:
				build = con
			}
		}
	}
	if build != nil {
		if len(at.Cmds) > 1 {
			return nil, sqlerr.Unsupportedf("ADD UNIQUE and ADD PRIMARY KEY must be the only subcommand of their ALTER TABLE")
		}
		switch {
		case build.NullsNotDistinct:
			return nil, sqlerr.Unsupportedf("NULLS NOT DISTINCT is not supported yet")
		case build.Indexname != "":
			return nil, sqlerr.Unsupportedf("ADD CONSTRAINT ... USING INDEX is not supported yet")
		case len(build.Including) > 0:
			return nil, sqlerr.Unsupportedf("INCLUDE columns are not supported yet")
		}
		cols := make([]string, len(build.Keys))
		for i, k := range build.Keys {
			cols[i] = k.GetString_().GetSval()
		}
		if build.Contype == pg_query.ConstrType_CONSTR_PRIMARY {
			return ddlPlan("ALTER TABLE", func(ctx context.Context, x *execCtx) error {
				return x.addPrimaryKey(ctx, at.Relation, at.MissingOk, build.Conname, cols)
			}), nil
		}
		spec := indexSpec{name: build.Conname, unique: true, constraint: true, cols: cols, missingOK: at.MissingOk}
		return ddlPlan("ALTER TABLE", func(ctx context.Context, x *execCtx) error {
			return x.createIndex(ctx, at.Relation, spec)
		}), nil
	}
	return ddlPlan("ALTER TABLE", func(ctx context.Context, x *execCtx) error {
		desc, err := x.table(ctx, at.Relation, at.MissingOk)
		if err != nil {
			return err
		}
		if desc == nil {
			_ = x.notice(sqlerr.New("00000", fmt.Sprintf("relation %q does not exist, skipping", at.Relation.Relname)))
			return nil
		}
		desc = desc.Clone()
		var garbage []rowenc.Span
		for _, n := range at.Cmds {
			if err := x.alterTableCmd(ctx, desc, n.GetAlterTableCmd(), &garbage); err != nil {
				return err
			}
		}
		if err := catalog.UpdateTable(ctx, x.txn, desc); err != nil {
			return err
		}
		for _, sp := range garbage {
			x.deleteSpanLater(ctx, false, sp)
		}
		return nil
	}), nil
}

// userColumn returns the column a statement names (hidden columns do not
// exist for statements), or a 42703 error.
func userColumn(desc *catalog.TableDescriptor, name string) (*catalog.Column, error) {
	if c := desc.ColumnByName(name); c != nil && !c.Hidden {
		return c, nil
	}
	return nil, sqlerr.Newf(sqlerr.CodeUndefinedColumn, "column %q of relation %q does not exist", name, desc.Name)
}

// alterTableCmd applies one ALTER TABLE subcommand to desc (a copy).
// garbage collects the spans of dropped indexes.
func (x *execCtx) alterTableCmd(ctx context.Context, desc *catalog.TableDescriptor, cmd *pg_query.AlterTableCmd, garbage *[]rowenc.Span) error {
	switch cmd.Subtype {
	case pg_query.AlterTableType_AT_AddColumn:
		return x.addColumn(ctx, desc, cmd)
	case pg_query.AlterTableType_AT_DropColumn:
		return x.dropColumn(ctx, desc, cmd, garbage)
	case pg_query.AlterTableType_AT_ColumnDefault:
		col, err := userColumn(desc, cmd.Name)
		if err != nil {
			return err
		}
		if cmd.Def == nil {
			if col.SequenceID != 0 {
				return sqlerr.Unsupportedf("dropping the default of a serial or identity column is not supported yet")
			}
			col.DefaultExpr = ""
			return nil
		}
		text, err := deparseExpr(cmd.Def)
		if err != nil {
			return err
		}
		if _, err := x.buildDefault(text, col); err != nil {
			return err
		}
		col.DefaultExpr = text
		return nil
	case pg_query.AlterTableType_AT_SetNotNull:
		col, err := userColumn(desc, cmd.Name)
		if err != nil || !col.Nullable {
			return err
		}
		o := desc.ColumnOrdinal(col.ID)
		err = x.forEachRow(ctx, desc, func(row []types.Datum) error {
			if row[o] == types.DNull {
				return sqlerr.Newf(sqlerr.CodeNotNullViolation, "column %q of relation %q contains null values", col.Name, desc.Name)
			}
			return nil
		})
		col.Nullable = false
		return err
	case pg_query.AlterTableType_AT_DropNotNull:
		col, err := userColumn(desc, cmd.Name)
		if err != nil {
			return err
		}
		if slices.Contains(desc.PrimaryIndex.ColumnIDs, col.ID) {
			return sqlerr.Newf(sqlerr.CodeInvalidTableDefinition, "column %q is in a primary key", col.Name)
		}
		col.Nullable = true
		return nil
	case pg_query.AlterTableType_AT_AddConstraint:
		con := cmd.Def.GetConstraint()
		if con != nil && con.Contype == pg_query.ConstrType_CONSTR_FOREIGN {
			return x.addForeignKey(ctx, desc, fkSpec{con: con, cols: stringList(con.FkAttrs)})
		}
		if con == nil || con.Contype != pg_query.ConstrType_CONSTR_CHECK {
			what := "this constraint"
			if con != nil {
				what = strings.TrimPrefix(con.Contype.String(), "CONSTR_")
			}
			return sqlerr.Unsupportedf("ALTER TABLE ADD CONSTRAINT %s is not supported yet", what)
		}
		return x.addCheck(ctx, desc, con.Conname, con.RawExpr, !con.SkipValidation)
	case pg_query.AlterTableType_AT_DropConstraint:
		return x.dropConstraint(ctx, desc, cmd, garbage)
	case pg_query.AlterTableType_AT_AlterColumnType:
		return sqlerr.Unsupportedf("ALTER COLUMN ... TYPE is not supported yet")
	}
	return sqlerr.Unsupportedf("ALTER TABLE %s is not supported yet", strings.TrimPrefix(cmd.Subtype.String(), "AT_"))
}

// buildDefault builds a column's DEFAULT expression (text), coerced to the
// column's type.
func (x *execCtx) buildDefault(text string, col *catalog.Column) (sem.Expr, error) {
	n, err := parseExprText(text)
	if err != nil {
		return nil, err
	}
	b := x.builder(nil, nil, "DEFAULT")
	e, err := b.Build(n, col.Type)
	if err != nil {
		return nil, err
	}
	ce, err := b.Coerce(e, col.Type, types.CoercionAssignment)
	if err != nil {
		if sqlerr.HasCode(err, sqlerr.CodeDatatypeMismatch) {
			return nil, sqlerr.Newf(sqlerr.CodeDatatypeMismatch, "column %q is of type %s but default expression is of type %s",
				col.Name, col.Type.Name(), e.Type().Name()).WithHint("You will need to rewrite or cast the expression.")
		}
		return nil, err
	}
	return ce, nil
}

// addColumn runs ADD COLUMN. Rows written before read the column as its
// DEFAULT evaluated now (Column.Missing), without rewriting them.
func (x *execCtx) addColumn(ctx context.Context, desc *catalog.TableDescriptor, cmd *pg_query.AlterTableCmd) error {
	cd := cmd.Def.GetColumnDef()
	if cd == nil {
		return sqlerr.Unsupportedf("this form of ADD COLUMN is not supported")
	}
	if desc.ColumnByName(cd.Colname) != nil {
		if cmd.MissingOk {
			_ = x.notice(sqlerr.New(sqlerr.CodeDuplicateColumn, fmt.Sprintf("column %q of relation %q already exists, skipping", cd.Colname, desc.Name)))
			return nil
		}
		return sqlerr.Newf(sqlerr.CodeDuplicateColumn, "column %q of relation %q already exists", cd.Colname, desc.Name)
	}
	typ, serial, err := columnType(cd.TypeName)
	if err != nil {
		return err
	}
	if serial {
		return sqlerr.Unsupportedf("adding a serial column to an existing table is not supported yet")
	}
	col := catalog.Column{Name: cd.Colname, Type: typ, Nullable: !cd.IsNotNull}
	var checks, fks []*pg_query.Constraint
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
				return err
			}
		case pg_query.ConstrType_CONSTR_CHECK:
			checks = append(checks, c)
		case pg_query.ConstrType_CONSTR_FOREIGN:
			fks = append(fks, c)
		case pg_query.ConstrType_CONSTR_UNIQUE, pg_query.ConstrType_CONSTR_PRIMARY:
			return sqlerr.Unsupportedf("ADD COLUMN with a %s constraint is not supported yet: add the column, then the constraint",
				strings.TrimPrefix(c.Contype.String(), "CONSTR_"))
		default:
			return sqlerr.Unsupportedf("ADD COLUMN with a %s constraint is not supported yet", strings.TrimPrefix(c.Contype.String(), "CONSTR_"))
		}
	}
	if col.DefaultExpr != "" {
		e, err := x.buildDefault(col.DefaultExpr, &col)
		if err != nil {
			return err
		}
		if sem.MaxVolatility(e) == sem.Volatile {
			return sqlerr.Unsupportedf("ADD COLUMN with a volatile DEFAULT (%s) is not supported yet", col.DefaultExpr)
		}
		d, err := e.Eval(x.evalCtx(ctx), nil)
		if err != nil {
			return err
		}
		if d != types.DNull {
			col.Missing = d
		}
	}
	if !col.Nullable && col.Missing == nil {
		empty := true
		if err := x.forEachRow(ctx, desc, func([]types.Datum) error { empty = false; return errStopScan }); err != nil && err != errStopScan {
			return err
		}
		if !empty {
			return sqlerr.Newf(sqlerr.CodeNotNullViolation, "column %q of relation %q contains null values", col.Name, desc.Name)
		}
	}
	desc.AddColumn(col)
	for _, c := range checks {
		if err := x.addCheck(ctx, desc, c.Conname, c.RawExpr, !c.SkipValidation); err != nil {
			return err
		}
	}
	for _, c := range fks {
		if err := x.addForeignKey(ctx, desc, fkSpec{con: c, cols: []string{col.Name}}); err != nil {
			return err
		}
	}
	return nil
}

// addForeignKey adds a FOREIGN KEY constraint to desc (a copy), validated
// against the existing rows unless NOT VALID.
func (x *execCtx) addForeignKey(ctx context.Context, desc *catalog.TableDescriptor, spec fkSpec) error {
	fk, err := x.buildForeignKey(ctx, desc, spec)
	if err != nil {
		return err
	}
	if !spec.con.SkipValidation {
		if err := x.validateForeignKey(ctx, desc, &fk); err != nil {
			return err
		}
	}
	desc.ForeignKeys = append(desc.ForeignKeys, fk)
	return nil
}

var errStopScan = fmt.Errorf("stop scan")

// forEachRow calls fn with every row of desc (as desc decodes them), in
// the statement's transaction.
func (x *execCtx) forEachRow(ctx context.Context, desc *catalog.TableDescriptor, fn func(row []types.Datum) error) error {
	scan := newTableScan(x.txn, desc)
	for {
		row, err := scan.Next(ctx)
		if err != nil || row == nil {
			return err
		}
		if err := fn(row); err != nil {
			return err
		}
	}
}

// dropColumn runs DROP COLUMN. The indexes and CHECK constraints that
// use the column are dropped with it (as in PostgreSQL); a primary key
// column cannot be dropped. Stored rows keep the column's value until
// they are rewritten: decoding skips column ids the table no longer has.
func (x *execCtx) dropColumn(ctx context.Context, desc *catalog.TableDescriptor, cmd *pg_query.AlterTableCmd, garbage *[]rowenc.Span) error {
	col, err := userColumn(desc, cmd.Name)
	if err != nil {
		if cmd.MissingOk {
			_ = x.notice(sqlerr.New("00000", fmt.Sprintf("column %q of relation %q does not exist, skipping", cmd.Name, desc.Name)))
			return nil
		}
		return err
	}
	if slices.Contains(desc.PrimaryIndex.ColumnIDs, col.ID) {
		return sqlerr.Unsupportedf("cannot drop column %q because it is part of the primary key of table %q", col.Name, desc.Name)
	}
	id, seq := col.ID, col.SequenceID
	var dropped []uint32
	desc.Indexes = slices.DeleteFunc(desc.Indexes, func(idx catalog.Index) bool {
		if slices.Contains(idx.ColumnIDs, id) {
			dropped = append(dropped, idx.ID)
			return true
		}
		return false
	})
	// Indexes rebuilt along with a new primary index that went too.
	desc.Indexes = slices.DeleteFunc(desc.Indexes, func(idx catalog.Index) bool {
		if idx.KeyIndexID != 0 && slices.Contains(dropped, idx.KeyIndexID) {
			dropped = append(dropped, idx.ID)
			return true
		}
		return false
	})
	for _, i := range dropped {
		*garbage = append(*garbage, rowenc.IndexSpan(desc.ID, i))
	}
	refs, err := x.referencingFKs(ctx, desc)
	if err != nil {
		return err
	}
	for _, r := range refs {
		if slices.Contains(r.fk.RefColumnIDs, id) {
			return sqlerr.Newf(sqlerr.CodeDependentObjectsStillExist, "cannot drop column %s of table %s because other objects depend on it", col.Name, desc.Name).
				WithDetail("constraint %s on table %s depends on column %s of table %s", r.fk.Name, r.child.Name, col.Name, desc.Name).
				WithHint("Use DROP ... CASCADE to drop the dependent objects too.")
		}
	}
	// Foreign keys of the table over the column (or referencing it) go.
	desc.ForeignKeys = slices.DeleteFunc(desc.ForeignKeys, func(fk catalog.ForeignKey) bool {
		return slices.Contains(fk.ColumnIDs, id) || fk.RefTableID == desc.ID && slices.Contains(fk.RefColumnIDs, id)
	})
	desc.Columns = slices.DeleteFunc(desc.Columns, func(c catalog.Column) bool { return c.ID == id })
	var kept []catalog.Check
	for _, ch := range desc.Checks {
		if _, err := x.buildCheck(desc, ch.Expr); err != nil {
			if sqlerr.HasCode(err, sqlerr.CodeUndefinedColumn) {
				continue // the check used the column
			}
			return err
		}
		kept = append(kept, ch)
	}
	desc.Checks = kept
	if seq != 0 {
		return catalog.DropOwnedSequence(ctx, x.txn, seq)
	}
	return nil
}

// buildCheck builds a CHECK expression (text) over desc's rows.
func (x *execCtx) buildCheck(desc *catalog.TableDescriptor, text string) (sem.Expr, error) {
	n, err := parseExprText(text)
	if err != nil {
		return nil, err
	}
	scope := &source{desc: desc, scope: &tableScope{desc: desc, alias: desc.Name}}
	return x.builder(scope, nil, "CHECK").BuildCondition(n)
}

// constraintExists reports whether desc has a constraint (CHECK, or an
// index: primary key, unique) named name.
func constraintExists(desc *catalog.TableDescriptor, name string) bool {
	return desc.IndexByName(name) != nil || slices.ContainsFunc(desc.Checks, func(c catalog.Check) bool { return c.Name == name })
}

// addCheck adds a CHECK constraint, validated against the existing rows
// unless NOT VALID.
func (x *execCtx) addCheck(ctx context.Context, desc *catalog.TableDescriptor, name string, expr *pg_query.Node, validate bool) error {
	text, err := deparseExpr(expr)
	if err != nil {
		return err
	}
	if name == "" {
		// PostgreSQL's name: table_column_check when the expression names
		// one column, else table_check; numbered when taken.
		base := desc.Name + "_check"
		if refs := slices.Compact(slices.Sorted(slices.Values(columnRefs(expr)))); len(refs) == 1 {
			base = desc.Name + "_" + refs[0] + "_check"
		}
		name = base
		for i := 1; constraintNameTaken(desc, name); i++ {
			name = fmt.Sprintf("%s%d", base, i)
		}
	} else if constraintNameTaken(desc, name) {
		return sqlerr.Newf(sqlerr.CodeDuplicateObject, "constraint %q for relation %q already exists", name, desc.Name)
	}
	e, err := x.buildCheck(desc, text)
	if err != nil {
		return err
	}
	if validate {
		err := x.forEachRow(ctx, desc, func(row []types.Datum) error {
			d, err := e.Eval(x.evalCtx(ctx), row)
			if err != nil {
				return err
			}
			if d == types.DBool(false) {
				return sqlerr.Newf(sqlerr.CodeCheckViolation, "check constraint %q of relation %q is violated by some row", name, desc.Name)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	desc.Checks = append(desc.Checks, catalog.Check{Name: name, Expr: text})
	return nil
}

// dropConstraint runs DROP CONSTRAINT: a CHECK, or a unique index.
func (x *execCtx) dropConstraint(ctx context.Context, desc *catalog.TableDescriptor, cmd *pg_query.AlterTableCmd, garbage *[]rowenc.Span) error {
	if i := slices.IndexFunc(desc.Checks, func(c catalog.Check) bool { return c.Name == cmd.Name }); i >= 0 {
		desc.Checks = slices.Delete(desc.Checks, i, i+1)
		return nil
	}
	if i := slices.IndexFunc(desc.ForeignKeys, func(fk catalog.ForeignKey) bool { return fk.Name == cmd.Name }); i >= 0 {
		desc.ForeignKeys = slices.Delete(desc.ForeignKeys, i, i+1)
		return nil
	}
	if desc.PrimaryIndex.Name == cmd.Name {
		return sqlerr.Unsupportedf("dropping the primary key of a table is not supported yet")
	}
	if idx := desc.IndexByName(cmd.Name); idx != nil && idx.Unique && idx.Public() {
		if err := x.checkIndexNotReferenced(ctx, desc, idx, "constraint", cmd.Name); err != nil {
			return err
		}
		id := idx.ID
		desc.Indexes = slices.DeleteFunc(desc.Indexes, func(idx catalog.Index) bool { return idx.ID == id })
		*garbage = append(*garbage, rowenc.IndexSpan(desc.ID, id))
		return nil
	}
	if cmd.MissingOk {
		_ = x.notice(sqlerr.New("00000", fmt.Sprintf("constraint %q of relation %q does not exist, skipping", cmd.Name, desc.Name)))
		return nil
	}
	return sqlerr.Newf(sqlerr.CodeUndefinedObject, "constraint %q of relation %q does not exist", cmd.Name, desc.Name)
}

// addPrimaryKey runs ALTER TABLE ADD PRIMARY KEY on a table whose key is
// the hidden rowid: it builds the new primary index (whole rows keyed by
// the new columns) and a copy of every secondary index keyed by them,
// write-only, then swaps them in and drops rowid, its sequence and the
// old indexes' data.
func (x *execCtx) addPrimaryKey(ctx context.Context, rv *pg_query.RangeVar, missingOK bool, conname string, cols []string) error {
	names := map[uint32]string{}
	copies := map[uint32]uint32{} // copy id → id of the index copied
	return x.runIndexBuild(ctx, &indexBuild{
		names: names,
		start: func(ctx context.Context, txn *kv.Txn) (*catalog.TableDescriptor, []uint32, error) {
			clear(copies)
			_, desc, err := x.dbTable(ctx, txn, rv, missingOK)
			if err != nil || desc == nil {
				if err == nil {
					_ = x.notice(sqlerr.New("00000", fmt.Sprintf("relation %q does not exist, skipping", rv.Relname)))
				}
				return nil, nil, err
			}
			pk := &desc.PrimaryIndex
			if len(pk.ColumnIDs) != 1 || !desc.ColumnByID(pk.ColumnIDs[0]).Hidden {
				return nil, nil, sqlerr.Newf(sqlerr.CodeInvalidTableDefinition, "multiple primary keys for table %q are not allowed", desc.Name)
			}
			if desc.HashBuckets > 0 {
				return nil, nil, sqlerr.Unsupportedf("changing the primary key of a hash-partitioned table is not supported")
			}
			for _, idx := range desc.Indexes {
				if !idx.Public() {
					return nil, nil, sqlerr.Newf(sqlerr.CodeObjectNotInPrerequisiteState,
						"cannot change the primary key of table %q while index %q is being built", desc.Name, idx.Name)
				}
			}
			name := conname
			if name == "" {
				name = desc.Name + "_pkey"
			}
			if name != pk.Name {
				if taken, err := relationExists(ctx, txn, desc.ParentID, desc.Schema, name); err != nil {
					return nil, nil, err
				} else if taken {
					return nil, nil, sqlerr.Newf(sqlerr.CodeDuplicateTable, "relation %q already exists", name)
				}
			}
			idx, err := userIndexOn(desc, fmt.Sprintf("%s (new %d)", name, desc.NextIndexID), cols, true)
			if err != nil {
				return nil, nil, err
			}
			idx.State, idx.NewPrimary = catalog.IndexWriteOnly, true
			secondaries := slices.Clone(desc.Indexes)
			pid := desc.AddIndex(idx)
			names[pid] = name
			ids := []uint32{pid}
			for _, s := range secondaries {
				c := catalog.Index{
					Name: fmt.Sprintf("%s (new %d)", s.Name, desc.NextIndexID), ColumnIDs: slices.Clone(s.ColumnIDs),
					Descending: slices.Clone(s.Descending), Unique: s.Unique, State: catalog.IndexWriteOnly, KeyIndexID: pid,
				}
				cid := desc.AddIndex(c)
				copies[cid], names[cid] = s.ID, s.Name
				ids = append(ids, cid)
			}
			return desc, ids, nil
		},
		finish: func(ctx context.Context, txn *kv.Txn, desc *catalog.TableDescriptor, ids []uint32) ([]rowenc.Span, error) {
			pid := ids[0]
			newPK := *desc.IndexByID(pid)
			newPK.State, newPK.NewPrimary, newPK.Name = catalog.IndexPublic, false, names[pid]
			old := desc.PrimaryIndex
			garbage := []rowenc.Span{rowenc.IndexSpan(desc.ID, old.ID)}
			var kept []catalog.Index
			for _, idx := range desc.Indexes {
				orig, isCopy := copies[idx.ID]
				switch {
				case idx.ID == pid:
				case isCopy:
					o := desc.IndexByID(orig)
					if o == nil { // dropped meanwhile
						garbage = append(garbage, rowenc.IndexSpan(desc.ID, idx.ID))
						continue
					}
					idx.State, idx.KeyIndexID, idx.Name = catalog.IndexPublic, 0, o.Name
					kept = append(kept, idx)
				case slices.Contains(ids, idx.ID):
				default: // an original, replaced by its copy
					if !slicesContainsValue(copies, idx.ID) {
						return nil, sqlerr.Newf(sqlerr.CodeObjectNotInPrerequisiteState, "index %q was added to table %q during the primary key change", idx.Name, desc.Name)
					}
					garbage = append(garbage, rowenc.IndexSpan(desc.ID, idx.ID))
				}
			}
			desc.Indexes, desc.PrimaryIndex = kept, newPK
			for _, id := range newPK.ColumnIDs {
				desc.ColumnByID(id).Nullable = false
			}
			// rowid goes, with its sequence.
			if rowid := desc.ColumnByID(old.ColumnIDs[0]); rowid != nil && rowid.Hidden {
				if rowid.SequenceID != 0 {
					if err := catalog.DropOwnedSequence(ctx, txn, rowid.SequenceID); err != nil {
						return nil, err
					}
				}
				desc.Columns = slices.DeleteFunc(desc.Columns, func(c catalog.Column) bool { return c.ID == old.ColumnIDs[0] })
			}
			return garbage, nil
		},
	})
}

func slicesContainsValue(m map[uint32]uint32, v uint32) bool {
	for _, x := range m {
		if x == v {
			return true
		}
	}
	return false
}

// planRename plans ALTER TABLE ... RENAME [COLUMN | CONSTRAINT] and ALTER
// INDEX ... RENAME.
func (s *session) planRename(rs *pg_query.RenameStmt) (*planned, error) {
	tag := "ALTER TABLE"
	switch rs.RenameType {
	case pg_query.ObjectType_OBJECT_TABLE, pg_query.ObjectType_OBJECT_COLUMN, pg_query.ObjectType_OBJECT_TABCONSTRAINT:
		if rs.RenameType == pg_query.ObjectType_OBJECT_COLUMN && rs.RelationType != pg_query.ObjectType_OBJECT_TABLE {
			return nil, sqlerr.Unsupportedf("ALTER %s ... RENAME is not supported", strings.TrimPrefix(rs.RelationType.String(), "OBJECT_"))
		}
	case pg_query.ObjectType_OBJECT_INDEX:
		tag = "ALTER INDEX"
	default:
		return nil, sqlerr.Unsupportedf("ALTER %s ... RENAME is not supported yet", strings.TrimPrefix(rs.RenameType.String(), "OBJECT_"))
	}
	return ddlPlan(tag, func(ctx context.Context, x *execCtx) error {
		if rs.RenameType == pg_query.ObjectType_OBJECT_INDEX {
			return x.renameIndex(ctx, rs)
		}
		desc, err := x.table(ctx, rs.Relation, rs.MissingOk)
		if err != nil {
			return err
		}
		if desc == nil {
			_ = x.notice(sqlerr.New("00000", fmt.Sprintf("relation %q does not exist, skipping", rs.Relation.Relname)))
			return nil
		}
		desc = desc.Clone()
		switch rs.RenameType {
		case pg_query.ObjectType_OBJECT_TABLE:
			if _, idx, err := catalog.FindIndex(ctx, x.txn, desc.ParentID, desc.Schema, rs.Newname); err != nil {
				return err
			} else if idx != nil {
				return sqlerr.Newf(sqlerr.CodeDuplicateTable, "relation %q already exists", rs.Newname)
			}
			if err := renameInChecks(desc, func(f []string) {
				if len(f) == 2 && f[0] == desc.Name {
					f[0] = rs.Newname
				}
			}); err != nil {
				return err
			}
			return catalog.RenameTable(ctx, x.txn, desc, rs.Newname)
		case pg_query.ObjectType_OBJECT_COLUMN:
			col, err := userColumn(desc, rs.Subname)
			if err != nil {
				return sqlerr.Newf(sqlerr.CodeUndefinedColumn, "column %q does not exist", rs.Subname)
			}
			if desc.ColumnByName(rs.Newname) != nil {
				return sqlerr.Newf(sqlerr.CodeDuplicateColumn, "column %q of relation %q already exists", rs.Newname, desc.Name)
			}
			col.Name = rs.Newname
			if err := renameInChecks(desc, func(f []string) {
				if n := len(f); f[n-1] == rs.Subname && (n == 1 || f[n-2] == desc.Name) {
					f[n-1] = rs.Newname
				}
			}); err != nil {
				return err
			}
		default: // constraint
			if constraintNameTaken(desc, rs.Newname) {
				return sqlerr.Newf(sqlerr.CodeDuplicateObject, "constraint %q for relation %q already exists", rs.Newname, desc.Name)
			}
			if i := slices.IndexFunc(desc.Checks, func(c catalog.Check) bool { return c.Name == rs.Subname }); i >= 0 {
				desc.Checks[i].Name = rs.Newname
			} else if fk := desc.ForeignKeyByName(rs.Subname); fk != nil {
				fk.Name = rs.Newname
			} else if idx := desc.IndexByName(rs.Subname); idx != nil && idx.Unique && idx.Public() {
				if taken, err := relationExists(ctx, x.txn, desc.ParentID, desc.Schema, rs.Newname); err != nil {
					return err
				} else if taken {
					return sqlerr.Newf(sqlerr.CodeDuplicateTable, "relation %q already exists", rs.Newname)
				}
				idx.Name = rs.Newname
			} else {
				return sqlerr.Newf(sqlerr.CodeUndefinedObject, "constraint %q for table %q does not exist", rs.Subname, desc.Name)
			}
		}
		return catalog.UpdateTable(ctx, x.txn, desc)
	}), nil
}

// renameIndex runs ALTER INDEX ... RENAME TO.
func (x *execCtx) renameIndex(ctx context.Context, rs *pg_query.RenameStmt) error {
	schema, name, err := relationName(rs.Relation)
	if err != nil {
		return err
	}
	db, err := x.database(ctx)
	if err != nil {
		return err
	}
	desc, idx, err := catalog.FindIndex(ctx, x.txn, db.ID, schema, name)
	if err != nil {
		return err
	}
	if idx == nil {
		if rs.MissingOk {
			_ = x.notice(sqlerr.New("00000", fmt.Sprintf("relation %q does not exist, skipping", name)))
			return nil
		}
		return sqlerr.Newf(sqlerr.CodeUndefinedTable, "relation %q does not exist", name)
	}
	if taken, err := relationExists(ctx, x.txn, db.ID, schema, rs.Newname); err != nil {
		return err
	} else if taken {
		return sqlerr.Newf(sqlerr.CodeDuplicateTable, "relation %q already exists", rs.Newname)
	}
	desc = desc.Clone()
	desc.IndexByID(idx.ID).Name = rs.Newname
	return catalog.UpdateTable(ctx, x.txn, desc)
}

// renameInChecks rewrites the column references of desc's CHECK
// expressions: fn may change the names of each reference in place.
func renameInChecks(desc *catalog.TableDescriptor, fn func(fields []string)) error {
	for i, ch := range desc.Checks {
		n, err := parseExprText(ch.Expr)
		if err != nil {
			return err
		}
		changed := false
		walkColumnRefs(n.ProtoReflect(), func(cr *pg_query.ColumnRef) {
			fields := make([]string, 0, len(cr.Fields))
			for _, f := range cr.Fields {
				s := f.GetString_()
				if s == nil {
					return // a.* and the like
				}
				fields = append(fields, s.Sval)
			}
			before := slices.Clone(fields)
			fn(fields)
			for j, f := range cr.Fields {
				if fields[j] != before[j] {
					f.GetString_().Sval, changed = fields[j], true
				}
			}
		})
		if changed {
			if desc.Checks[i].Expr, err = deparseExpr(n); err != nil {
				return err
			}
		}
	}
	return nil
}

// columnRefs lists the column names an expression refers to, in order.
func columnRefs(n *pg_query.Node) []string {
	var out []string
	walkColumnRefs(n.ProtoReflect(), func(cr *pg_query.ColumnRef) {
		if k := len(cr.Fields); k > 0 {
			if s := cr.Fields[k-1].GetString_(); s != nil {
				out = append(out, s.Sval)
			}
		}
	})
	return out
}

// walkColumnRefs calls fn for every ColumnRef in a parse tree.
func walkColumnRefs(m protoreflect.Message, fn func(*pg_query.ColumnRef)) {
	if cr, ok := m.Interface().(*pg_query.ColumnRef); ok {
		fn(cr)
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
		case fd.IsList():
			if fd.Message() != nil {
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					walkColumnRefs(l.Get(i).Message(), fn)
				}
			}
		case fd.Message() != nil:
			walkColumnRefs(v.Message(), fn)
		}
		return true
	})
}
