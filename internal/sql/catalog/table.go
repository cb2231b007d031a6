package catalog

import (
	"context"
	"fmt"
	"slices"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

func errRelationExists(name string) error {
	return sqlerr.Newf(sqlerr.CodeDuplicateTable, "relation %q already exists", name)
}

func putTable(txn *kv.Txn, d *TableDescriptor) error {
	v, err := EncodeTable(d)
	if err != nil {
		return err
	}
	return txn.Put(keys.DescriptorKey(d.ID), v)
}

// CreateTable creates the table desc describes in database db: it sets
// desc.ParentID, desc.Schema (DefaultSchema if empty), desc.ID (allocated
// unless already set, see AllocateDescriptorID), desc.Version (1) and the
// next column and index ids if they were left 0, then validates it. A
// table or sequence of that name in the schema fails with 42P07
// duplicate_table; a foreign key must reference columns of an existing
// table of the database (or of desc) that form its primary key or a
// unique index (42830).
func CreateTable(ctx context.Context, txn *kv.Txn, db *DatabaseDescriptor, desc *TableDescriptor) error {
	if desc.Schema == "" {
		desc.Schema = DefaultSchema
	}
	if err := checkName(desc.Schema, desc.Name); err != nil {
		return err
	}
	existing, err := lookupName(ctx, txn, db.ID, desc.Schema, desc.Name)
	if err != nil {
		return err
	}
	if existing != 0 {
		return errRelationExists(desc.Name)
	}
	if err := beginDDL(ctx, txn); err != nil {
		return err
	}
	if desc.ID == 0 {
		if desc.ID, err = AllocateDescriptorID(ctx, txn); err != nil {
			return err
		}
	}
	desc.ParentID = db.ID
	desc.Version = 1
	desc.fixNextIDs()
	if err := desc.Validate(); err != nil {
		return err
	}
	if err := checkForeignKeys(ctx, txn, desc); err != nil {
		return err
	}
	if err := syncReferences(ctx, txn, nil, desc); err != nil {
		return err
	}
	if err := putTable(txn, desc); err != nil {
		return err
	}
	return txn.Put(keys.NamespaceKey(db.ID, desc.Schema, desc.Name), encodeID(desc.ID))
}

// checkForeignKeys checks that every foreign key of desc references a
// table of its database, by columns that are unique there.
func checkForeignKeys(ctx context.Context, txn *kv.Txn, desc *TableDescriptor) error {
	for _, fk := range desc.ForeignKeys {
		ref := desc
		if fk.RefTableID != desc.ID {
			var err error
			if ref, err = GetTableByID(ctx, txn, fk.RefTableID); err != nil {
				return err
			}
			if ref == nil || ref.ParentID != desc.ParentID {
				return sqlerr.Newf(sqlerr.CodeUndefinedTable, "table %d referenced by foreign key %q does not exist", fk.RefTableID, fk.Name)
			}
		}
		for i, id := range fk.RefColumnIDs {
			rc := ref.ColumnByID(id)
			if rc == nil {
				return sqlerr.Newf(sqlerr.CodeUndefinedColumn, "column %d referenced in foreign key %q does not exist", id, fk.Name)
			}
			if c := desc.ColumnByID(fk.ColumnIDs[i]); !FKTypesCompatible(c.Type, rc.Type) {
				return sqlerr.Newf(sqlerr.CodeDatatypeMismatch, "foreign key constraint %q cannot be implemented", fk.Name).
					WithDetail("Key columns %q and %q are of incompatible types: %s and %s.", c.Name, rc.Name, c.Type.Name(), rc.Type.Name())
			}
		}
		if UniqueIndexOn(ref, fk.RefColumnIDs) == nil {
			return sqlerr.Newf(sqlerr.CodeInvalidForeignKey, "there is no unique constraint matching given keys for referenced table %q", ref.Name)
		}
	}
	return nil
}

// referencedIDs returns the ids of the tables d's foreign keys reference.
func referencedIDs(d *TableDescriptor) []uint32 {
	var out []uint32
	if d == nil {
		return nil
	}
	for _, fk := range d.ForeignKeys {
		if !slices.Contains(out, fk.RefTableID) {
			out = append(out, fk.RefTableID)
		}
	}
	return out
}

// syncReferences updates the ReferencedBy lists of the tables that the
// foreign keys of a table reference, from before (nil: a new table) to
// after (nil: a dropped table). A table referencing itself is after (or
// before) itself: its list is changed there, not stored.
func syncReferences(ctx context.Context, txn *kv.Txn, before, after *TableDescriptor) error {
	self := after
	if self == nil {
		self = before
	}
	was, is := referencedIDs(before), referencedIDs(after)
	change := func(id uint32, add bool) error {
		edit := func(t *TableDescriptor) {
			if add && !slices.Contains(t.ReferencedBy, self.ID) {
				t.ReferencedBy = append(t.ReferencedBy, self.ID)
			} else if !add {
				t.ReferencedBy = slices.DeleteFunc(t.ReferencedBy, func(r uint32) bool { return r == self.ID })
			}
		}
		if id == self.ID {
			if after != nil {
				edit(after)
			}
			return nil
		}
		ref, err := GetTableByID(ctx, txn, id)
		if err != nil || ref == nil {
			return err // a dropped table: nothing to update
		}
		ref = ref.Clone()
		edit(ref)
		ref.Version++
		return putTable(txn, ref)
	}
	for _, id := range is {
		if !slices.Contains(was, id) {
			if err := change(id, true); err != nil {
				return err
			}
		}
	}
	for _, id := range was {
		if !slices.Contains(is, id) {
			if err := change(id, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// FKTypesCompatible reports whether a foreign key column of type fk may
// reference a column of type pk: as PostgreSQL, types of one family (the
// integers, the strings, ...) or an fk type that converts implicitly to
// the pk type (int4 referencing numeric, not the reverse).
func FKTypesCompatible(fk, pk *types.Type) bool {
	return fk.Family() == pk.Family() || types.CanCast(fk, pk, types.CoercionImplicit)
}

// UniqueIndexOn returns the primary index or a public unique index of d
// on exactly the columns ids (in any order), preferring the primary key;
// nil if there is none.
func UniqueIndexOn(d *TableDescriptor, ids []uint32) *Index {
	same := func(idx *Index) bool {
		if len(idx.ColumnIDs) != len(ids) {
			return false
		}
		for _, id := range ids {
			if !slices.Contains(idx.ColumnIDs, id) {
				return false
			}
		}
		return true
	}
	if same(&d.PrimaryIndex) {
		return &d.PrimaryIndex
	}
	for i := range d.Indexes {
		if d.Indexes[i].Unique && d.Indexes[i].Public() && same(&d.Indexes[i]) {
			return &d.Indexes[i]
		}
	}
	return nil
}

// GetTable returns table schema.name of database dbID, or nil and no error
// if there is none. A sequence of that name fails with 42809
// wrong_object_type.
func GetTable(ctx context.Context, txn *kv.Txn, dbID uint32, schema, name string) (*TableDescriptor, error) {
	id, err := lookupName(ctx, txn, dbID, schema, name)
	if err != nil || id == 0 {
		return nil, err
	}
	d, err := getDescriptor(ctx, txn, id)
	if err != nil {
		return nil, err
	}
	if d.sequence != nil {
		return nil, sqlerr.Newf(sqlerr.CodeWrongObjectType, "%q is not a table", name)
	}
	if d.table == nil {
		return nil, fmt.Errorf("catalog: name %q points to descriptor %d, a %s", name, id, d.kind())
	}
	return d.table, nil
}

// GetTableByID returns table id, or nil and no error if there is none.
func GetTableByID(ctx context.Context, txn *kv.Txn, id uint32) (*TableDescriptor, error) {
	d, err := getDescriptor(ctx, txn, id)
	if err != nil {
		return nil, err
	}
	if d.table == nil && d.kind() != "nothing" {
		return nil, sqlerr.Newf(sqlerr.CodeWrongObjectType, "descriptor %d is a %s, not a table", id, d.kind())
	}
	return d.table, nil
}

// ListTables returns the tables of database dbID, by schema and name.
func ListTables(ctx context.Context, txn *kv.Txn, dbID uint32) ([]*TableDescriptor, error) {
	ds, err := listRelations(ctx, txn, dbID)
	if err != nil {
		return nil, err
	}
	var out []*TableDescriptor
	for _, d := range ds {
		if d.table != nil {
			out = append(out, d.table)
		}
	}
	return out, nil
}

func listRelations(ctx context.Context, txn *kv.Txn, dbID uint32) ([]decoded, error) {
	ids, err := scanIDs(ctx, txn, dbID)
	if err != nil {
		return nil, err
	}
	ds, err := getDescriptors(ctx, txn, ids)
	if err != nil {
		return nil, err
	}
	for i, d := range ds {
		if d.table == nil && d.sequence == nil {
			return nil, fmt.Errorf("catalog: name entry in database %d points to descriptor %d, a %s", dbID, ids[i], d.kind())
		}
	}
	return ds, nil
}

// FindIndex returns the table of database dbID and schema that has an
// index named name, and that index; nil, nil and no error if none has.
// (Index names are not in the namespace: this reads every table of the
// database, which DROP INDEX and ALTER INDEX can afford.)
func FindIndex(ctx context.Context, txn *kv.Txn, dbID uint32, schema, name string) (*TableDescriptor, *Index, error) {
	tables, err := ListTables(ctx, txn, dbID)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range tables {
		if t.Schema != schema {
			continue
		}
		if idx := t.IndexByName(name); idx != nil {
			return t, idx, nil
		}
	}
	return nil, nil, nil
}

// UpdateTable stores a changed table descriptor (ALTER TABLE, CREATE
// INDEX...): desc.Version must be the stored version, which UpdateTable
// bumps (in desc too). A stored version that differs means desc is stale,
// a retryable 40001. Name, schema and database do not change here (see
// RenameTable).
func UpdateTable(ctx context.Context, txn *kv.Txn, desc *TableDescriptor) error {
	stored, err := GetTableByID(ctx, txn, desc.ID)
	if err != nil {
		return err
	}
	if stored == nil {
		return sqlerr.Newf(sqlerr.CodeUndefinedTable, "relation %q does not exist", desc.Name)
	}
	if stored.Version != desc.Version {
		return sqlerr.Newf(sqlerr.CodeSerializationFailure,
			"table %q changed concurrently (version %d, expected %d)", desc.Name, stored.Version, desc.Version)
	}
	if stored.Name != desc.Name || stored.Schema != desc.Schema || stored.ParentID != desc.ParentID {
		return fmt.Errorf("catalog: UpdateTable cannot rename table %q to %q.%q (use RenameTable)", stored.Name, desc.Schema, desc.Name)
	}
	if err := desc.Validate(); err != nil {
		return err
	}
	if err := checkForeignKeys(ctx, txn, desc); err != nil {
		return err
	}
	if err := beginDDL(ctx, txn); err != nil {
		return err
	}
	if err := syncReferences(ctx, txn, stored, desc); err != nil {
		return err
	}
	desc.Version++
	return putTable(txn, desc)
}

// RenameTable renames table desc to newName in its schema (42P07 if the
// name is taken), bumping its version (in desc too).
func RenameTable(ctx context.Context, txn *kv.Txn, desc *TableDescriptor, newName string) error {
	if err := checkName(newName); err != nil {
		return err
	}
	existing, err := lookupName(ctx, txn, desc.ParentID, desc.Schema, newName)
	if err != nil {
		return err
	}
	if existing != 0 {
		return errRelationExists(newName)
	}
	stored, err := GetTableByID(ctx, txn, desc.ID)
	if err != nil {
		return err
	}
	if stored == nil || stored.Version != desc.Version {
		return sqlerr.Newf(sqlerr.CodeSerializationFailure, "table %q changed concurrently", desc.Name)
	}
	if err := beginDDL(ctx, txn); err != nil {
		return err
	}
	if err := txn.Delete(keys.NamespaceKey(desc.ParentID, desc.Schema, desc.Name)); err != nil {
		return err
	}
	desc.Name = newName
	desc.Version++
	if err := putTable(txn, desc); err != nil {
		return err
	}
	return txn.Put(keys.NamespaceKey(desc.ParentID, desc.Schema, newName), encodeID(desc.ID))
}

// DropTable removes table desc's name and descriptor, and the sequences
// its columns own (SERIAL); the caller deletes the table's data
// (rowenc.TableSpan). A table that foreign keys of other tables reference
// is refused with 2BP01 unless cascade, in which case those foreign keys
// are dropped.
func DropTable(ctx context.Context, txn *kv.Txn, desc *TableDescriptor, cascade bool) error {
	tables, err := ListTables(ctx, txn, desc.ParentID)
	if err != nil {
		return err
	}
	if err := beginDDL(ctx, txn); err != nil {
		return err
	}
	for _, t := range tables {
		if t.ID == desc.ID {
			continue
		}
		kept := t.ForeignKeys[:0:0]
		for _, fk := range t.ForeignKeys {
			if fk.RefTableID != desc.ID {
				kept = append(kept, fk)
				continue
			}
			if !cascade {
				return sqlerr.Newf(sqlerr.CodeDependentObjectsStillExist,
					"cannot drop table %s because other objects depend on it", desc.Name).
					WithDetail("constraint %s on table %s depends on table %s", fk.Name, t.Name, desc.Name).
					WithHint("Use DROP ... CASCADE to drop the dependent objects too.")
			}
		}
		refs := slices.DeleteFunc(slices.Clone(t.ReferencedBy), func(r uint32) bool { return r == desc.ID })
		if len(kept) != len(t.ForeignKeys) || len(refs) != len(t.ReferencedBy) {
			t.ForeignKeys, t.ReferencedBy = kept, refs
			if !slices.ContainsFunc(kept, func(fk ForeignKey) bool { return fk.RefTableID == t.ID }) {
				t.ReferencedBy = slices.DeleteFunc(t.ReferencedBy, func(r uint32) bool { return r == t.ID })
			}
			t.Version++
			if err := putTable(txn, t); err != nil {
				return err
			}
		}
	}
	for _, c := range desc.Columns {
		if c.SequenceID == 0 {
			continue
		}
		seq, err := GetSequenceByID(ctx, txn, c.SequenceID)
		if err != nil {
			return err
		}
		if seq != nil {
			if err := deleteSequence(txn, seq); err != nil {
				return err
			}
		}
	}
	if err := txn.Delete(keys.NamespaceKey(desc.ParentID, desc.Schema, desc.Name)); err != nil {
		return err
	}
	return txn.Delete(keys.DescriptorKey(desc.ID))
}
