// Package catalog stores the SQL descriptors — databases, tables (with
// their columns, indexes and constraints) and sequences — in the system
// keyspace, read and written in the caller's kv.Txn, so that DDL is
// transactional and every statement sees a catalog consistent with its
// snapshot.
//
// # Keys (see internal/keys)
//
//	\x03 desc/<id>                      catalogpb.Descriptor (protobuf; see encode.go for why)
//	\x03 ns/<parent id><schema>\0<name> -> id   (databases: parent 0, schema "")
//	\x03 ids                            last allocated descriptor id (ids start at 100)
//	\x03 catver                         catalog version, bumped by every DDL
//	\x03 seq/<id>                       values reserved by a sequence (kv.DB.Increment)
//
// Tables and sequences share a schema's names, as relations do in
// PostgreSQL. Index names are not in the namespace (FindIndex scans).
//
// # Callers
//
//	session/exec ── Cache.Resolver(txn) per statement ── GetDatabase/GetTable/GetTableByID
//	exec (DDL)   ── CreateDatabase, CreateTable, UpdateTable, RenameTable, DropTable, ...
//	exec (DML)   ── Sequences.NextVal (nextval, SERIAL defaults)
//	server       ── Bootstrap at start (defaultdb, postgres)
//
// The data of a dropped table is the caller's to delete (rowenc.TableSpan),
// in the same transaction if it is small, else by a later job.
//
// # Invariants
//
//   - Every change goes through beginDDL, which bumps the catalog version
//     in the same transaction: descriptors read at a snapshot are a
//     function of the version read at that snapshot, and DDL transactions
//     all conflict with one another on the version key.
//   - Ids are allocated by a read-modify-write of the id counter in the
//     DDL's transaction: no gaps from aborted DDL, never a reused id. DDL
//     therefore needs write-write conflict detection, which READ COMMITTED
//     lacks: DDL in a READ COMMITTED transaction is refused (0A000).
//   - Column and index ids are never reused within a table, so a value
//     written before a DROP COLUMN is never read as a later column.
//   - Descriptors handed out by Cache are shared and immutable: Clone
//     before changing one.
//
// # Caching, and the better design
//
// Cache serves descriptors of one catalog version to every session of a
// node; a statement pays one Get of the version key to learn whether the
// cache is current. Under SERIALIZABLE that read also makes every
// transaction conflict with any DDL committing meanwhile, and any DDL
// invalidates every cached descriptor. The better design is descriptor
// leases (as CockroachDB and F1 do): nodes hold time-bounded leases on
// descriptor versions, a schema change waits until no lease on the
// version before the previous one remains (at most two versions are live),
// and a statement reads no version key at all. That needs online schema
// change states (delete-only, write-only) for indexes and columns; until
// then, the version key is simple and correct.
//
// Indexes have one such state already: Index.State IndexWriteOnly marks an
// index being built over existing rows (CREATE INDEX, ADD UNIQUE, ADD
// PRIMARY KEY: see internal/sql/schema.go and docs/design/sql.md), which
// writes maintain and reads ignore; Index.NewPrimary and KeyIndexID
// describe the indexes of a primary key change in progress.
package catalog
