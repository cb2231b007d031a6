package kv

import (
	"context"

	"github.com/cairndb/cairn/internal/kvpb"
)

// ResolveOldLocks resolves locks found by garbage collection: locks that
// started long ago, normally of transactions whose coordinator died. Each
// transaction's fate is read at its primary key, rolling it back there if
// its lock expired (the usual lock resolution, without waiting); the locks
// are then committed or rolled back. It returns how many locks were
// resolved and how many belong to transactions still in progress.
func (db *DB) ResolveOldLocks(ctx context.Context, locks []*kvpb.LockInfo) (resolved, pending int, err error) {
	if len(locks) == 0 {
		return 0, 0, nil
	}
	still, err := db.resolveLockSet(ctx, locks)
	if err != nil {
		return 0, 0, err
	}
	return len(locks) - len(still), len(still), nil
}
