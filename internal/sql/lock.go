package sql

import (
	"context"
	"maps"
	"slices"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
)

// Row locking. The rows an UPDATE or DELETE changes, and those a SELECT
// ... FOR UPDATE returns, are read with locking reads (kv.Txn's
// GetForUpdate, ScanForUpdate): the transaction holds an exclusive lock on
// each until it ends, so a concurrent writer of the same row waits for it
// instead of failing at commit with 40001, as in PostgreSQL. A locking
// read returns the newest committed row; SERIALIZABLE moves its snapshot
// forward when the rest of what it read is unchanged (else 40001),
// REPEATABLE READ fails with 40001 as PostgreSQL does on a concurrent
// update, READ COMMITTED works on the newest row. A deadlock ends with
// 40P01 after about a second.
//
// A locking scan locks every row it scans (not only those the filter
// keeps): a WHERE that no index serves locks the whole table.

// rowReader is what the row iterators read through: the transaction
// itself, or lockingReader.
type rowReader interface {
	Get(ctx context.Context, key []byte) (*kvpb.GetResponse, error)
	GetMany(ctx context.Context, keys [][]byte) ([]*kvpb.GetResponse, error)
	Scan(ctx context.Context, start, end []byte, limit int64) (*kvpb.ScanResponse, error)
}

// lockingReader reads with locking reads.
type lockingReader struct{ txn *kv.Txn }

func (l lockingReader) Get(ctx context.Context, key []byte) (*kvpb.GetResponse, error) {
	return l.txn.GetForUpdate(ctx, key)
}

func (l lockingReader) GetMany(ctx context.Context, keys [][]byte) ([]*kvpb.GetResponse, error) {
	return l.txn.GetManyForUpdate(ctx, keys)
}

func (l lockingReader) Scan(ctx context.Context, start, end []byte, limit int64) (*kvpb.ScanResponse, error) {
	return l.txn.ScanForUpdate(ctx, start, end, limit)
}

// reader is how the access path reads rows.
func (ap *accessPath) reader(x *execCtx) rowReader {
	if ap.lock {
		return lockingReader{x.txn}
	}
	return x.txn
}

// lockStrengthText names a locking clause as PostgreSQL's messages do.
func lockStrengthText(s pg_query.LockClauseStrength) string {
	switch s {
	case pg_query.LockClauseStrength_LCS_FORKEYSHARE:
		return "FOR KEY SHARE"
	case pg_query.LockClauseStrength_LCS_FORSHARE:
		return "FOR SHARE"
	case pg_query.LockClauseStrength_LCS_FORNOKEYUPDATE:
		return "FOR NO KEY UPDATE"
	}
	return "FOR UPDATE"
}

// applyLocking applies SELECT's locking clauses (FOR UPDATE, FOR NO KEY
// UPDATE, FOR SHARE, FOR KEY SHARE [OF table, ...]): the rows read from
// the tables they name (every table of FROM when none is named) are
// locked. Every strength takes the same exclusive lock: FOR SHARE readers
// of one row wait for each other, which PostgreSQL's shared locks would
// not. NOWAIT and SKIP LOCKED are not supported.
func (sp *selectPlan) applyLocking(clauses []*pg_query.Node) error {
	all := false
	named := map[string]string{} // table name as written → clause
	for _, n := range clauses {
		lc := n.GetLockingClause()
		if lc == nil {
			continue
		}
		what := lockStrengthText(lc.Strength)
		switch lc.WaitPolicy {
		case pg_query.LockWaitPolicy_LockWaitSkip:
			return sqlerr.Unsupportedf("%s SKIP LOCKED is not supported", what)
		case pg_query.LockWaitPolicy_LockWaitError:
			return sqlerr.Unsupportedf("%s NOWAIT is not supported", what)
		}
		switch {
		case sp.agg != nil:
			return sqlerr.Unsupportedf("%s is not allowed with aggregate functions", what)
		case sp.distinct || len(sp.distinctOn) > 0:
			return sqlerr.Unsupportedf("%s is not allowed with DISTINCT clause", what)
		case sp.src.setop != nil:
			return sqlerr.Unsupportedf("%s is not allowed with UNION/INTERSECT/EXCEPT", what)
		}
		if len(lc.LockedRels) == 0 {
			all = true
		}
		for _, r := range lc.LockedRels {
			if rv := r.GetRangeVar(); rv != nil {
				named[rv.Relname] = what
			}
		}
	}
	covers := func(alias string) bool {
		if _, ok := named[alias]; ok {
			delete(named, alias)
			return true
		}
		return all
	}
	switch {
	case sp.src.from != nil:
		for _, leaf := range sp.src.from.root.leaves {
			if leaf.kind == relTable && leaf.entry != nil {
				leaf.lock = covers(leaf.entry.alias) && !isVirtual(leaf.desc)
			}
		}
	case sp.src.desc != nil:
		sp.lock = covers(sp.src.scope.alias) && !isVirtual(sp.src.desc)
	}
	if len(named) > 0 {
		name := slices.Sorted(maps.Keys(named))[0]
		return sqlerr.Newf(sqlerr.CodeUndefinedTable, "relation %q in %s clause not found in FROM clause", name, named[name])
	}
	return nil
}
