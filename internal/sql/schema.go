package sql

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/rowenc"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// Schema changes that build indexes over existing rows (CREATE INDEX,
// ADD CONSTRAINT UNIQUE, ADD PRIMARY KEY) run as a job of several
// transactions when the statement is not inside a transaction block:
//
//  1. one transaction adds the new indexes to the descriptor, write-only
//     (catalog.IndexWriteOnly): from its commit on, every write maintains
//     them (and enforces their uniqueness), but no read uses them;
//  2. the backfill reads the primary index in batches, one transaction
//     each (a bounded number of keys, well under kv.MaxTxnWrites), and
//     writes the entries of the rows it reads; a row written meanwhile
//     already has its entries, which the backfill rewrites identically;
//  3. one transaction makes the indexes public (or, for ADD PRIMARY KEY,
//     swaps the new primary index and the rebuilt secondary ones in).
//
// A failure (a duplicate in a unique index, a NULL in a new primary key,
// a cancel) removes the write-only indexes and deletes what was written.
// Inside a transaction block all three steps run in that transaction, so
// the change is atomic but bounded by its size limits.

// backfillBatchKeys bounds the index entries one backfill transaction
// writes; backfillBatchBytes the bytes (a new primary index copies rows).
const (
	backfillBatchKeys  = 5000
	backfillBatchBytes = 16 << 20
)

// txnRunner runs fn in a transaction: its own (committed, retried on
// conflicts) for a schema change job, the session's inside a block.
type txnRunner func(ctx context.Context, fn func(ctx context.Context, txn *kv.Txn) error) error

// ddlRunner returns how the schema change runs its steps, and whether it
// is a job of its own transactions.
func (x *execCtx) ddlRunner() (txnRunner, bool) {
	if x.sess.state != noTxn {
		return func(ctx context.Context, fn func(ctx context.Context, txn *kv.Txn) error) error {
			return fn(ctx, x.txn)
		}, false
	}
	db := x.sess.srv.cfg.DB
	return func(ctx context.Context, fn func(ctx context.Context, txn *kv.Txn) error) error {
		return catalog.RunTxn(ctx, db, fn)
	}, true
}

// indexBuild describes the indexes a schema change builds.
type indexBuild struct {
	// start resolves the table and adds the write-only indexes to desc (a
	// fresh copy read in txn), returning their ids; nil desc: nothing to do
	// (IF NOT EXISTS).
	start func(ctx context.Context, txn *kv.Txn) (desc *catalog.TableDescriptor, ids []uint32, err error)
	// finish changes the descriptor once the indexes are complete,
	// returning the spans whose data is no longer used.
	finish func(ctx context.Context, txn *kv.Txn, desc *catalog.TableDescriptor, ids []uint32) ([]rowenc.Span, error)
	// names are the names the indexes will have (for errors), by id.
	names map[uint32]string
}

// runIndexBuild runs an index build: see the comment at the top.
func (x *execCtx) runIndexBuild(ctx context.Context, b *indexBuild) error {
	run, job := x.ddlRunner()
	var tableID uint32
	var ids []uint32
	err := run(ctx, func(ctx context.Context, txn *kv.Txn) error {
		desc, added, err := b.start(ctx, txn)
		if err != nil || desc == nil {
			tableID, ids = 0, nil
			return err
		}
		tableID, ids = desc.ID, added
		return catalog.UpdateTable(ctx, txn, desc)
	})
	if err != nil || tableID == 0 {
		return err
	}
	if err = x.backfill(ctx, run, job, tableID, ids, b.names); err == nil {
		var garbage []rowenc.Span
		err = run(ctx, func(ctx context.Context, txn *kv.Txn) error {
			garbage = nil
			if desc, err := catalog.GetTableByID(ctx, txn, tableID); err != nil {
				return err
			} else if desc != nil && allPublic(desc, ids) {
				return nil // an attempt whose commit was ambiguous did commit
			}
			desc, err := buildTable(ctx, txn, tableID, ids)
			if err != nil {
				return err
			}
			if garbage, err = b.finish(ctx, txn, desc, ids); err != nil {
				return err
			}
			return catalog.UpdateTable(ctx, txn, desc)
		})
		if err == nil {
			for _, sp := range garbage {
				x.deleteSpanLater(ctx, job, sp)
			}
			return nil
		}
	}
	if job {
		// Undo: drop the write-only indexes, then what the backfill wrote.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		var gone []uint32 // the indexes no descriptor refers to any more
		undo := catalog.RunTxn(cctx, x.sess.srv.cfg.DB, func(ctx context.Context, txn *kv.Txn) error {
			gone = nil
			desc, err := catalog.GetTableByID(ctx, txn, tableID)
			if err != nil || desc == nil {
				gone = ids
				return err
			}
			for _, id := range ids {
				if idx := desc.IndexByID(id); idx == nil || !idx.Public() {
					gone = append(gone, id)
				}
			}
			n := len(desc.Indexes)
			desc.Indexes = slices.DeleteFunc(desc.Indexes, func(idx catalog.Index) bool {
				return !idx.Public() && slices.Contains(ids, idx.ID)
			})
			if len(desc.Indexes) == n {
				return nil
			}
			return catalog.UpdateTable(ctx, txn, desc)
		})
		if undo == nil {
			for _, id := range gone {
				x.sess.deleteSpan(cctx, rowenc.IndexSpan(tableID, id))
			}
		}
	}
	return err
}

// allPublic reports whether ids are all public indexes of desc.
func allPublic(desc *catalog.TableDescriptor, ids []uint32) bool {
	for _, id := range ids {
		if idx := desc.IndexByID(id); idx == nil || !idx.Public() {
			return false
		}
	}
	return true
}

// deleteSpanLater deletes the data of a span no descriptor refers to any
// more: now for a job (whose change committed), else after the
// transaction commits.
func (x *execCtx) deleteSpanLater(ctx context.Context, now bool, sp rowenc.Span) {
	if now {
		x.sess.deleteSpan(context.WithoutCancel(ctx), sp)
		return
	}
	x.sess.afterCommit(func(ctx context.Context) { x.sess.deleteSpan(ctx, sp) })
}

// buildTable reads table id for a step of an index build, checking that
// the indexes being built are still there, write-only.
func buildTable(ctx context.Context, txn *kv.Txn, id uint32, ids []uint32) (*catalog.TableDescriptor, error) {
	desc, err := catalog.GetTableByID(ctx, txn, id)
	if err != nil {
		return nil, err
	}
	if desc == nil {
		return nil, sqlerr.Newf(sqlerr.CodeUndefinedTable, "the table was dropped while its index was being built")
	}
	for _, i := range ids {
		if idx := desc.IndexByID(i); idx == nil || idx.Public() {
			return nil, sqlerr.Newf(sqlerr.CodeObjectNotInPrerequisiteState,
				"index build on table %q was canceled (the index or its columns were dropped, or the table truncated)", desc.Name)
		}
	}
	return desc, nil
}

// backfill writes the entries of indexes ids for every row of the table,
// in batches of rows (each a transaction of its own in a job: see
// runBatch).
func (x *execCtx) backfill(ctx context.Context, run txnRunner, job bool, tableID uint32, ids []uint32, names map[uint32]string) error {
	var resume []byte
	total := 0
	for done := false; !done; {
		if err := ctx.Err(); err != nil {
			return err
		}
		// The batch's outcome: applied once its transaction committed.
		var nextResume []byte
		var last bool
		var wrote int
		attempt := 0
		batch := func(ctx context.Context, txn *kv.Txn) error {
			defer func() { attempt++ }()
			nextResume, last, wrote = nil, false, 0
			desc, err := buildTable(ctx, txn, tableID, ids)
			if err != nil {
				return err
			}
			var build []writeIndex
			for _, wi := range writeIndexes(desc) {
				if slices.Contains(ids, wi.idx.ID) {
					build = append(build, wi)
				}
			}
			span := rowenc.PrimaryKeySpan(desc)
			start := span.Key
			if resume != nil {
				start = resume
			}
			// A batch that conflicted with writes is retried smaller.
			limit := int64(max(1, min(scanBatch, backfillBatchKeys/max(1, len(build)))>>min(attempt, 16)))
			resp, err := txn.Scan(ctx, start, span.EndKey, limit)
			if err != nil {
				return err
			}
			// (Leaving room for the transaction's other writes.)
			if !job && total+len(resp.Kvs)*len(build) > kv.MaxTxnWrites-100 {
				return sqlerr.Newf(sqlerr.CodeProgramLimitExceeded,
					"building an index inside a transaction block is limited to about %d index entries", kv.MaxTxnWrites-100).
					WithHint("Run the statement outside a transaction block: it then builds the index in batches.")
			}
			next, n, err := backfillRows(ctx, txn, desc, build, resp.Kvs, names)
			if err != nil {
				return err
			}
			wrote = n
			switch {
			case next != nil:
				nextResume = next
			case resp.More && len(resp.ResumeKey) > 0:
				nextResume = resp.ResumeKey
			default:
				last = true
			}
			return nil
		}
		var err error
		if job {
			err = runBatch(ctx, x.sess.srv.cfg.DB, batch)
		} else {
			err = run(ctx, batch)
		}
		if err != nil {
			return err
		}
		resume, done, total = nextResume, last, total+wrote
	}
	return nil
}

// runBatch runs one backfill batch of a job in a REPEATABLE READ
// transaction of its own, retried on conflicts. Snapshot isolation is
// enough: a write to a row of the batch since the batch's snapshot writes
// (or deletes) the very index entries the batch writes for that row, and
// the write-write conflict aborts one of the two; what the batch does not
// read (rows inserted since) is indexed by the writes themselves.
// Serializable read validation of the whole batch span would instead
// abort the batch for any write to any of its rows' keys.
func runBatch(ctx context.Context, db *kv.DB, fn func(ctx context.Context, txn *kv.Txn) error) error {
	const maxAttempts = 30
	for attempt := 1; ; attempt++ {
		txn, err := db.Begin(ctx, kv.TxnOptions{Isolation: kvpb.IsolationLevel_REPEATABLE_READ})
		if err != nil {
			return err
		}
		if err = fn(ctx, txn); err == nil {
			_, err = txn.Commit(ctx)
		} else {
			txn.Rollback()
		}
		if err == nil || !(kvpb.IsRetryable(err) || kvpb.IsAmbiguous(err)) || ctx.Err() != nil || attempt >= maxAttempts {
			return err
		}
	}
}

// backfillRows writes the entries of the rows kvs for the indexes of
// build, checking uniqueness. It stops early when the batch is large in
// bytes: next is then the key of the first row left. n counts entries.
func backfillRows(ctx context.Context, txn *kv.Txn, desc *catalog.TableDescriptor, build []writeIndex, kvs []*kvpb.KeyValue, names map[uint32]string) (next []byte, n int, err error) {
	type entry struct {
		wi         *writeIndex
		row        []types.Datum
		key, value []byte
		unique     bool
	}
	var entries []entry
	size := 0
	for i, e := range kvs {
		if size >= backfillBatchBytes && i > 0 {
			next = e.Key
			break
		}
		row, err := rowenc.DecodeRow(desc, e.Value)
		if err != nil {
			return nil, 0, err
		}
		for j := range build {
			wi := &build[j]
			k, v, unique, err := wi.entry(row, false)
			if err != nil {
				if sqlerr.HasCode(err, sqlerr.CodeNotNullViolation) {
					for _, id := range wi.idx.ColumnIDs {
						if c := desc.ColumnByID(id); row[desc.ColumnOrdinal(id)] == types.DNull {
							return nil, 0, sqlerr.Newf(sqlerr.CodeNotNullViolation, "column %q of relation %q contains null values", c.Name, desc.Name)
						}
					}
				}
				return nil, 0, err
			}
			entries = append(entries, entry{wi: wi, row: row, key: k, value: v, unique: unique})
			size += len(k) + len(v)
		}
	}
	// Uniqueness: against the entries already there (written by the
	// backfill's earlier batches or by writes since the index was added),
	// then within the batch.
	var keys [][]byte
	for _, e := range entries {
		if e.unique {
			keys = append(keys, e.key)
		}
	}
	var found []*kvpb.GetResponse
	if len(keys) > 0 {
		if found, err = txn.GetMany(ctx, keys); err != nil {
			return nil, 0, err
		}
	}
	seen := map[string]*entry{}
	f := 0
	for i := range entries {
		e := &entries[i]
		if e.unique {
			cur := found[f]
			f++
			if cur != nil && cur.Found && !sameRow(desc, e.wi, cur.Value, e.value) {
				return nil, 0, duplicateInBuild(desc, e.wi.idx, e.row, names)
			}
			if prev := seen[string(e.key)]; prev != nil && prev.wi == e.wi {
				return nil, 0, duplicateInBuild(desc, e.wi.idx, e.row, names)
			}
			seen[string(e.key)] = e
		}
		if err := txn.Put(e.key, e.value); err != nil {
			return nil, 0, err
		}
	}
	return next, len(entries), nil
}

// sameRow reports whether an index entry found under a uniqueness key
// (value have) is the entry of the row being backfilled (value want),
// written by a concurrent write.
func sameRow(desc *catalog.TableDescriptor, wi *writeIndex, have, want []byte) bool {
	if !wi.primary {
		return bytes.Equal(have, want) // the row's key
	}
	// A new primary index holds whole rows: compare their current keys.
	a, err1 := rowenc.DecodeRow(desc, have)
	b, err2 := rowenc.DecodeRow(desc, want)
	if err1 != nil || err2 != nil {
		return false
	}
	for _, id := range desc.PrimaryIndex.ColumnIDs {
		o := desc.ColumnOrdinal(id)
		if types.Compare(a[o], b[o]) != 0 {
			return false
		}
	}
	return true
}

// duplicateInBuild is PostgreSQL's error for a unique index whose rows
// are not unique.
func duplicateInBuild(desc *catalog.TableDescriptor, idx *catalog.Index, row []types.Datum, names map[uint32]string) error {
	name := idx.Name
	if n, ok := names[idx.ID]; ok {
		name = n
	}
	detail := strings.Replace(keyString(desc, idx, row), "already exists", "is duplicated", 1)
	return (&sqlerr.Error{Code: sqlerr.CodeUniqueViolation, Message: fmt.Sprintf("could not create unique index %q", name)}).
		WithDetail("%s", detail)
}

// relationExists reports whether schema has a table, sequence or index
// named name (they share PostgreSQL's namespace of relations).
func relationExists(ctx context.Context, txn *kv.Txn, dbID uint32, schema, name string) (bool, error) {
	t, err := catalog.GetTable(ctx, txn, dbID, schema, name)
	if sqlerr.HasCode(err, sqlerr.CodeWrongObjectType) {
		return true, nil // a sequence
	}
	if err != nil || t != nil {
		return t != nil, err
	}
	_, idx, err := catalog.FindIndex(ctx, txn, dbID, schema, name)
	return idx != nil, err
}

// chooseIndexName picks PostgreSQL's name for an unnamed index:
// table_col1_col2_suffix, numbered when taken.
func chooseIndexName(ctx context.Context, txn *kv.Txn, desc *catalog.TableDescriptor, cols []string, suffix string) (string, error) {
	base := desc.Name + "_" + strings.Join(cols, "_") + "_" + suffix
	for i := 0; ; i++ {
		name := base
		if i > 0 {
			name = fmt.Sprintf("%s%d", base, i)
		}
		taken, err := relationExists(ctx, txn, desc.ParentID, desc.Schema, name)
		if err != nil {
			return "", err
		}
		if !taken && desc.IndexByName(name) == nil {
			return name, nil
		}
	}
}

// dbTable resolves a table by RangeVar in txn (for a schema change: not
// through the statement's resolver, whose transaction a job does not
// use). The descriptor is the caller's to change.
func (x *execCtx) dbTable(ctx context.Context, txn *kv.Txn, rv *pg_query.RangeVar, missingOK bool) (*catalog.DatabaseDescriptor, *catalog.TableDescriptor, error) {
	schema, name, err := relationName(rv)
	if err != nil {
		return nil, nil, err
	}
	db, err := catalog.GetDatabase(ctx, txn, x.sess.dbName)
	if err != nil {
		return nil, nil, err
	}
	if db == nil {
		return nil, nil, sqlerr.Newf(sqlerr.CodeInvalidCatalogName, "database %q does not exist", x.sess.dbName)
	}
	t, err := catalog.GetTable(ctx, txn, db.ID, schema, name)
	if err != nil {
		return nil, nil, err
	}
	if t == nil && !missingOK {
		return nil, nil, sqlerr.Newf(sqlerr.CodeUndefinedTable, "relation %q does not exist", name)
	}
	return db, t, nil
}

// indexSpec is the definition of an index to build.
type indexSpec struct {
	name        string // "" : chosen (table_cols_idx, or _key for a constraint)
	ifNotExists bool
	missingOK   bool // ALTER TABLE IF EXISTS
	unique      bool
	constraint  bool // ADD CONSTRAINT UNIQUE: named _key
	cols        []string
	descending  []bool
}

// planCreateIndex plans CREATE [UNIQUE] INDEX.
func (s *session) planCreateIndex(is *pg_query.IndexStmt) (*planned, error) {
	switch {
	case is.WhereClause != nil:
		return nil, sqlerr.Unsupportedf("partial indexes are not supported yet")
	case len(is.IndexIncludingParams) > 0:
		return nil, sqlerr.Unsupportedf("INCLUDE columns are not supported yet")
	case is.AccessMethod != "" && is.AccessMethod != "btree":
		return nil, sqlerr.Unsupportedf("index access method %q is not supported", is.AccessMethod)
	case is.NullsNotDistinct:
		return nil, sqlerr.Unsupportedf("NULLS NOT DISTINCT is not supported yet")
	case len(is.Options) > 0:
		return nil, sqlerr.Unsupportedf("index storage parameters (WITH) are not supported")
	case is.TableSpace != "":
		return nil, sqlerr.Unsupportedf("tablespaces are not supported")
	}
	spec := indexSpec{name: is.Idxname, ifNotExists: is.IfNotExists, unique: is.Unique}
	for _, p := range is.IndexParams {
		e := p.GetIndexElem()
		switch {
		case e == nil || e.Expr != nil || e.Name == "":
			return nil, sqlerr.Unsupportedf("indexes on expressions are not supported yet")
		case len(e.Collation) > 0 || len(e.Opclass) > 0:
			return nil, sqlerr.Unsupportedf("index collations and operator classes are not supported")
		}
		desc := e.Ordering == pg_query.SortByDir_SORTBY_DESC
		switch e.NullsOrdering {
		case pg_query.SortByNulls_SORTBY_NULLS_FIRST:
			if !desc {
				return nil, sqlerr.Unsupportedf("ASC NULLS FIRST index columns are not supported yet")
			}
		case pg_query.SortByNulls_SORTBY_NULLS_LAST:
			if desc {
				return nil, sqlerr.Unsupportedf("DESC NULLS LAST index columns are not supported yet")
			}
		}
		spec.cols = append(spec.cols, e.Name)
		spec.descending = append(spec.descending, desc)
	}
	if is.Concurrent && s.state != noTxn {
		return nil, sqlerr.New("25001", "CREATE INDEX CONCURRENTLY cannot run inside a transaction block")
	}
	return ddlPlan("CREATE INDEX", func(ctx context.Context, x *execCtx) error {
		return x.createIndex(ctx, is.Relation, spec)
	}), nil
}

// createIndex builds a secondary index (CREATE INDEX, ADD CONSTRAINT
// UNIQUE).
func (x *execCtx) createIndex(ctx context.Context, rv *pg_query.RangeVar, spec indexSpec) error {
	names := map[uint32]string{}
	return x.runIndexBuild(ctx, &indexBuild{
		names: names,
		start: func(ctx context.Context, txn *kv.Txn) (*catalog.TableDescriptor, []uint32, error) {
			_, desc, err := x.dbTable(ctx, txn, rv, spec.missingOK)
			if err != nil || desc == nil {
				if err == nil {
					_ = x.notice(sqlerr.New("00000", fmt.Sprintf("relation %q does not exist, skipping", rv.Relname)))
				}
				return nil, nil, err
			}
			name := spec.name
			if name == "" {
				suffix := "idx"
				if spec.constraint {
					suffix = "key"
				}
				if name, err = chooseIndexName(ctx, txn, desc, spec.cols, suffix); err != nil {
					return nil, nil, err
				}
			} else if taken, err := relationExists(ctx, txn, desc.ParentID, desc.Schema, name); err != nil {
				return nil, nil, err
			} else if taken {
				if spec.ifNotExists {
					_ = x.notice(sqlerr.New("42P07", fmt.Sprintf("relation %q already exists, skipping", name)))
					return nil, nil, nil
				}
				return nil, nil, sqlerr.Newf(sqlerr.CodeDuplicateTable, "relation %q already exists", name)
			}
			for _, idx := range desc.Indexes {
				if idx.NewPrimary {
					return nil, nil, sqlerr.Newf(sqlerr.CodeObjectNotInPrerequisiteState, "the primary key of table %q is being changed", desc.Name)
				}
			}
			idx, err := userIndexOn(desc, name, spec.cols, spec.unique)
			if err != nil {
				return nil, nil, err
			}
			idx.Descending = spec.descending
			idx.State = catalog.IndexWriteOnly
			id := desc.AddIndex(idx)
			names[id] = name
			return desc, []uint32{id}, nil
		},
		finish: func(ctx context.Context, txn *kv.Txn, desc *catalog.TableDescriptor, ids []uint32) ([]rowenc.Span, error) {
			for _, id := range ids {
				desc.IndexByID(id).State = catalog.IndexPublic
			}
			return nil, nil
		},
	})
}

// userIndexOn is indexOn for the columns a user names: hidden columns
// (rowid) do not exist for them.
func userIndexOn(desc *catalog.TableDescriptor, name string, cols []string, unique bool) (catalog.Index, error) {
	for _, c := range cols {
		if col := desc.ColumnByName(c); col == nil || col.Hidden {
			return catalog.Index{}, sqlerr.Newf(sqlerr.CodeUndefinedColumn, "column %q does not exist", c)
		}
	}
	return indexOn(desc, name, cols, unique)
}

// dropIndexes runs DROP INDEX for the objects of a DropStmt.
func (x *execCtx) dropIndexes(ctx context.Context, ds *pg_query.DropStmt) error {
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
		schema, name, err := relationName(rv)
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
			if ds.MissingOk {
				_ = x.notice(sqlerr.New("00000", fmt.Sprintf("index %q does not exist, skipping", name)))
				continue
			}
			return sqlerr.Newf(sqlerr.CodeUndefinedObject, "index %q does not exist", name)
		}
		if idx == &desc.PrimaryIndex {
			return sqlerr.Newf(sqlerr.CodeDependentObjectsStillExist,
				"cannot drop index %s because constraint %s on table %s requires it", name, name, desc.Name).
				WithHint("You can drop constraint %s on table %s instead.", name, desc.Name)
		}
		if err := x.checkIndexNotReferenced(ctx, desc, idx, "index", name); err != nil {
			return err
		}
		if err := x.dropIndex(ctx, desc.Clone(), idx.ID); err != nil {
			return err
		}
	}
	return nil
}

// dropIndex removes index id of desc (a copy) in the statement's
// transaction; its data goes after the commit.
func (x *execCtx) dropIndex(ctx context.Context, desc *catalog.TableDescriptor, id uint32) error {
	desc.Indexes = slices.DeleteFunc(desc.Indexes, func(idx catalog.Index) bool { return idx.ID == id })
	if err := catalog.UpdateTable(ctx, x.txn, desc); err != nil {
		return err
	}
	x.deleteSpanLater(ctx, false, rowenc.IndexSpan(desc.ID, id))
	return nil
}

// planTruncate plans TRUNCATE: every index of the table gets a fresh id,
// so the table is empty at once (in the statement's transaction, which
// may roll back); the old data is deleted after the commit.
func (s *session) planTruncate(ts *pg_query.TruncateStmt) (*planned, error) {
	if ts.RestartSeqs {
		return nil, sqlerr.Unsupportedf("TRUNCATE ... RESTART IDENTITY is not supported yet")
	}
	return ddlPlan("TRUNCATE TABLE", func(ctx context.Context, x *execCtx) error {
		var descs []*catalog.TableDescriptor
		for _, n := range ts.Relations {
			rv := n.GetRangeVar()
			if rv == nil {
				return sqlerr.Unsupportedf("this form of TRUNCATE is not supported")
			}
			desc, err := x.table(ctx, rv, false)
			if err != nil {
				return err
			}
			descs = append(descs, desc)
		}
		// Tables referenced by foreign keys (fk.go).
		descs, err := x.truncateSet(ctx, descs, ts.Behavior == pg_query.DropBehavior_DROP_CASCADE)
		if err != nil {
			return err
		}
		for _, desc := range descs {
			desc = desc.Clone()
			var garbage []rowenc.Span
			garbage = append(garbage, rowenc.IndexSpan(desc.ID, desc.PrimaryIndex.ID))
			desc.PrimaryIndex.ID = desc.NewIndexID()
			for i := range desc.Indexes {
				idx := &desc.Indexes[i]
				garbage = append(garbage, rowenc.IndexSpan(desc.ID, idx.ID))
				idx.ID = desc.NewIndexID()
				if !idx.Public() {
					return sqlerr.Newf(sqlerr.CodeObjectNotInPrerequisiteState,
						"cannot truncate table %q while index %q is being built", desc.Name, idx.Name)
				}
			}
			if err := catalog.UpdateTable(ctx, x.txn, desc); err != nil {
				return err
			}
			for _, sp := range garbage {
				x.deleteSpanLater(ctx, false, sp)
			}
		}
		return nil
	}), nil
}
