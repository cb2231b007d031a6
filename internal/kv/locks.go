package kv

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cairndb/cairn/internal/hlc"
	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
)

// Lock waiting bounds: a request that meets the lock of a transaction still
// in progress waits with backoff until the owner commits, rolls back, or its
// lock expires (then it is rolled back by the waiter).
const (
	lockWaitMaxBackoff = 100 * time.Millisecond
	lockWaitMax        = 30 * time.Second
	// A locking read waits at the leaseholder for the lock's release, up
	// to lockingReadServerWait at a time, then checks on the owner here.
	lockingReadServerWait = 250 * time.Millisecond
	// deadlockTimeout: a locking read that has waited this long for a lock
	// of an older transaction gives up (TxnRetry DEADLOCK). Every cycle of
	// waiting transactions has a younger one waiting for an older one, so
	// every deadlock ends within about this time.
	deadlockTimeout = time.Second
)

func lockConflictOf(err error) *kvpb.LockConflict {
	var e *kvpb.Error
	if errors.As(err, &e) {
		return e.GetLockConflict()
	}
	return nil
}

// lockWaiter tracks one request's waiting for locks.
type lockWaiter struct {
	backoff time.Duration
	waited  time.Duration
	started time.Time // the first conflict of a locking read
	// lockingTxn: the start timestamp of the transaction whose locking read
	// waits (0: not a locking read).
	lockingTxn uint64
}

// resolve resolves the locks of lc. When an owner is still in progress it
// waits before returning (the caller then retries), unless noWait is set: a
// transaction's prewrite then gives up with a retryable write conflict,
// since waiting for each other's locks would deadlock two transactions.
func (w *lockWaiter) resolve(ctx context.Context, db *DB, lc *kvpb.LockConflict, noWait bool) error {
	pending, err := db.resolveLocks(ctx, lc.Locks)
	if err != nil || pending == nil {
		return err
	}
	if noWait {
		return kvpb.NewTxnRetry(kvpb.TxnRetry_WRITE_CONFLICT, pending.Key,
			"%s is locked by a concurrent transaction", keys.Pretty(pending.Key))
	}
	if w.waited >= lockWaitMax {
		return fmt.Errorf("kv: %s stayed locked by transaction %d for %s", keys.Pretty(pending.Key), pending.StartTs, w.waited)
	}
	if w.lockingTxn != 0 {
		// The leaseholder already waited (AcquireLockRequest.wait_ms): ask
		// again at once, unless this may be a deadlock.
		if w.started.IsZero() {
			w.started = time.Now()
		}
		if w.waited = time.Since(w.started); w.waited >= deadlockTimeout && w.lockingTxn > pending.StartTs {
			return kvpb.NewTxnRetry(kvpb.TxnRetry_DEADLOCK, pending.Key,
				"deadlock detected: waited %s for %s, locked by an older transaction", w.waited.Round(time.Millisecond), keys.Pretty(pending.Key))
		}
		return ctx.Err()
	}
	w.backoff = min(max(2*w.backoff, time.Millisecond), lockWaitMaxBackoff)
	w.waited += w.backoff
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(w.backoff):
		return nil
	}
}

// lockExpired reports whether a lock's TTL has run out by this node's clock.
func lockExpired(l *kvpb.LockInfo) bool {
	return hlc.Expired(l.StartTs, time.Duration(l.TtlMs)*time.Millisecond, time.Now())
}

// resolveLocks finds the fate of each lock's transaction at its primary key
// and commits or rolls back the locks accordingly. It returns a lock whose
// transaction is still in progress, if any.
func (db *DB) resolveLocks(ctx context.Context, locks []*kvpb.LockInfo) (pending *kvpb.LockInfo, err error) {
	still, err := db.resolveLockSet(ctx, locks)
	if err != nil || len(still) == 0 {
		return nil, err
	}
	return still[0], nil
}

// resolveLockSet is resolveLocks returning every lock whose transaction is
// still in progress.
func (db *DB) resolveLockSet(ctx context.Context, locks []*kvpb.LockInfo) (pending []*kvpb.LockInfo, err error) {
	type txnKey struct {
		primary string
		startTS uint64
	}
	byTxn := map[txnKey][]*kvpb.LockInfo{}
	var order []txnKey
	for _, l := range locks {
		k := txnKey{string(l.Primary), l.StartTs}
		if _, ok := byTxn[k]; !ok {
			order = append(order, k)
		}
		byTxn[k] = append(byTxn[k], l)
	}
	var resolves []*kvpb.RequestUnion
	for _, k := range order {
		ls := byTxn[k]
		status, commitTS, err := db.checkTxn(ctx, ls[0].Primary, k.startTS, lockExpired(ls[0]))
		if err != nil {
			return nil, err
		}
		if status == kvpb.TxnStatus_PENDING {
			pending = append(pending, ls...)
			continue
		}
		for _, l := range ls {
			if status == kvpb.TxnStatus_COMMITTED || string(l.Key) != k.primary {
				resolves = append(resolves, resolveReq(l.Key, k.startTS, commitTS))
			}
		}
	}
	if len(resolves) > 0 {
		if _, err := db.sendGrouped(ctx, resolves); err != nil {
			return nil, err
		}
	}
	return pending, nil
}

func resolveReq(key []byte, startTS, commitTS uint64) *kvpb.RequestUnion {
	return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Resolve{Resolve: &kvpb.ResolveRequest{Key: key, StartTs: startTS, CommitTs: commitTS}}}
}

// checkTxn asks a transaction's primary key for its fate.
func (db *DB) checkTxn(ctx context.Context, primary []byte, startTS uint64, rollbackIfExpired bool) (kvpb.TxnStatus, uint64, error) {
	r, err := db.one(ctx, &kvpb.RequestUnion{Value: &kvpb.RequestUnion_CheckTxn{CheckTxn: &kvpb.CheckTxnRequest{
		Key: primary, StartTs: startTS, RollbackIfExpired: rollbackIfExpired,
	}}})
	if err != nil {
		return 0, 0, err
	}
	return r.GetCheckTxn().GetStatus(), r.GetCheckTxn().GetCommitTs(), nil
}

// sendGrouped sends single-key requests as one batch per range, the
// batches in parallel, and returns the responses in request order. The
// first error wins.
func (db *DB) sendGrouped(ctx context.Context, reqs []*kvpb.RequestUnion) ([]*kvpb.ResponseUnion, error) {
	return db.sendGroupedAt(ctx, 0, reqs)
}

// sendGroupedAt is sendGrouped at MVCC timestamp ts (0: the leaseholder's choice).
func (db *DB) sendGroupedAt(ctx context.Context, ts uint64, reqs []*kvpb.RequestUnion) ([]*kvpb.ResponseUnion, error) {
	return db.sendGroupedN(ctx, ts, reqs, 0)
}

// Bounds of sendGrouped: requests per batch, batches in flight.
const (
	maxGroupedBatch    = 2000
	maxGroupedParallel = 8
)

// maxRegroups bounds sendGrouped's regrouping after splits: a request that
// itself spans ranges (a span) would otherwise be regrouped forever.
const maxRegroups = 3

func (db *DB) sendGroupedN(ctx context.Context, ts uint64, reqs []*kvpb.RequestUnion, regroups int) ([]*kvpb.ResponseUnion, error) {
	groups := map[uint64][]int{}
	var order []uint64
	for i, q := range reqs {
		k, _ := kvpb.RequestKeys(q)
		d, err := db.lookupRange(ctx, k)
		if err != nil {
			return nil, err
		}
		if _, ok := groups[d.RangeId]; !ok {
			order = append(order, d.RangeId)
		}
		groups[d.RangeId] = append(groups[d.RangeId], i)
	}
	// Large groups go in several batches: a Raft command (and an RPC) per
	// maxGroupedBatch requests.
	var chunks [][]int
	for _, id := range order {
		for idx := groups[id]; len(idx) > 0; {
			n := min(len(idx), maxGroupedBatch)
			chunks = append(chunks, idx[:n])
			idx = idx[n:]
		}
	}
	out := make([]*kvpb.ResponseUnion, len(reqs))
	errs := make([]error, len(chunks))
	sendGroup := func(gi int, idx []int) {
		batch := make([]*kvpb.RequestUnion, len(idx))
		for j, i := range idx {
			batch[j] = reqs[i]
		}
		first, _ := kvpb.RequestKeys(batch[0])
		resps, err := db.send(ctx, first, ts, batch)
		if errors.Is(err, errCrossRange) && len(idx) > 1 && regroups < maxRegroups {
			// The range split meanwhile: group again.
			resps, err = db.sendGroupedN(ctx, ts, batch, regroups+1)
		}
		if err != nil {
			errs[gi] = err
			return
		}
		for j, i := range idx {
			out[i] = resps[j]
		}
	}
	if len(chunks) == 1 {
		sendGroup(0, chunks[0])
	} else {
		var wg sync.WaitGroup
		sem := make(chan struct{}, maxGroupedParallel)
		for gi, idx := range chunks {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				sendGroup(gi, idx)
			}()
		}
		wg.Wait()
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
