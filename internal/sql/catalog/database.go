package catalog

import (
	"context"
	"fmt"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
)

// Databases are named in the namespace under parent 0 with schema "".
const (
	rootParentID = 0
	rootSchema   = ""
)

// CreateDatabase creates database name in txn. It fails with 42P04
// duplicate_database if the name is taken.
func CreateDatabase(ctx context.Context, txn *kv.Txn, name string) (*DatabaseDescriptor, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	existing, err := lookupName(ctx, txn, rootParentID, rootSchema, name)
	if err != nil {
		return nil, err
	}
	if existing != 0 {
		return nil, sqlerr.Newf(sqlerr.CodeDuplicateDatabase, "database %q already exists", name)
	}
	if err := beginDDL(ctx, txn); err != nil {
		return nil, err
	}
	id, err := AllocateDescriptorID(ctx, txn)
	if err != nil {
		return nil, err
	}
	d := &DatabaseDescriptor{ID: id, Name: name}
	v, err := EncodeDatabase(d)
	if err != nil {
		return nil, err
	}
	if err := txn.Put(keys.DescriptorKey(id), v); err != nil {
		return nil, err
	}
	if err := txn.Put(keys.NamespaceKey(rootParentID, rootSchema, name), encodeID(id)); err != nil {
		return nil, err
	}
	return d, nil
}

// GetDatabase returns database name, or nil and no error if there is none.
func GetDatabase(ctx context.Context, txn *kv.Txn, name string) (*DatabaseDescriptor, error) {
	id, err := lookupName(ctx, txn, rootParentID, rootSchema, name)
	if err != nil || id == 0 {
		return nil, err
	}
	return GetDatabaseByID(ctx, txn, id)
}

// GetDatabaseByID returns database id, or nil and no error if there is
// none.
func GetDatabaseByID(ctx context.Context, txn *kv.Txn, id uint32) (*DatabaseDescriptor, error) {
	d, err := getDescriptor(ctx, txn, id)
	if err != nil {
		return nil, err
	}
	if d.database == nil && d.kind() != "nothing" {
		return nil, fmt.Errorf("catalog: descriptor %d is a %s, not a database", id, d.kind())
	}
	return d.database, nil
}

// ListDatabases returns the databases, by name.
func ListDatabases(ctx context.Context, txn *kv.Txn) ([]*DatabaseDescriptor, error) {
	ids, err := scanIDs(ctx, txn, rootParentID)
	if err != nil {
		return nil, err
	}
	ds, err := getDescriptors(ctx, txn, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*DatabaseDescriptor, 0, len(ds))
	for i, d := range ds {
		if d.database == nil {
			return nil, fmt.Errorf("catalog: database name entry points to descriptor %d, a %s", ids[i], d.kind())
		}
		out = append(out, d.database)
	}
	return out, nil
}

// DropDatabase removes database db. A database that still holds tables or
// sequences is refused with 2BP01 unless cascade, in which case they are
// dropped too; the tables dropped are returned so that the caller deletes
// their data (rowenc.TableSpan).
func DropDatabase(ctx context.Context, txn *kv.Txn, db *DatabaseDescriptor, cascade bool) ([]*TableDescriptor, error) {
	ids, err := scanIDs(ctx, txn, db.ID)
	if err != nil {
		return nil, err
	}
	if len(ids) > 0 && !cascade {
		return nil, sqlerr.Newf(sqlerr.CodeDependentObjectsStillExist, "database %q is not empty", db.Name).
			WithHint("use DROP DATABASE ... CASCADE to drop the objects in it too")
	}
	if err := beginDDL(ctx, txn); err != nil {
		return nil, err
	}
	ds, err := getDescriptors(ctx, txn, ids)
	if err != nil {
		return nil, err
	}
	var dropped []*TableDescriptor
	for i, d := range ds {
		var schema, name string
		switch {
		case d.table != nil:
			schema, name = d.table.Schema, d.table.Name
			dropped = append(dropped, d.table)
		case d.sequence != nil:
			schema, name = d.sequence.Schema, d.sequence.Name
			if err := txn.Delete(keys.SequenceCounterKey(ids[i])); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("catalog: name entry in database %q points to descriptor %d, a %s", db.Name, ids[i], d.kind())
		}
		if err := txn.Delete(keys.NamespaceKey(db.ID, schema, name)); err != nil {
			return nil, err
		}
		if err := txn.Delete(keys.DescriptorKey(ids[i])); err != nil {
			return nil, err
		}
	}
	if err := txn.Delete(keys.NamespaceKey(rootParentID, rootSchema, db.Name)); err != nil {
		return nil, err
	}
	if err := txn.Delete(keys.DescriptorKey(db.ID)); err != nil {
		return nil, err
	}
	return dropped, nil
}

// DefaultDatabases are the databases Bootstrap creates.
var DefaultDatabases = []string{"defaultdb", "postgres"}

// Bootstrap creates the DefaultDatabases that do not exist yet. It is
// idempotent and safe when several nodes run it at once: one transaction
// creates what is missing, and a concurrent one conflicts, retries and
// finds it there.
func Bootstrap(ctx context.Context, db *kv.DB) error {
	return RunTxn(ctx, db, func(ctx context.Context, txn *kv.Txn) error {
		for _, name := range DefaultDatabases {
			d, err := GetDatabase(ctx, txn, name)
			if err != nil {
				return err
			}
			if d == nil {
				if _, err := CreateDatabase(ctx, txn, name); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
