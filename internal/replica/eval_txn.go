package replica

import (
	"fmt"
	"time"

	"github.com/cairndb/cairn/internal/hlc"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/storage"
)

// evalContext is what a write batch is evaluated against.
type evalContext struct {
	r storage.Reader
	b storage.Writer
	// ts is the timestamp of plain writes and of one-phase commits.
	ts uint64
	// written is the highest version timestamp the batch writes.
	written uint64
	// cleared lists the keys whose locks the batch removes: locking reads
	// waiting for them are woken once it applies.
	cleared [][]byte
	// lockDelta is the change in the range's lock count (replica_locks.go);
	// addedLock is set once the batch writes any lock.
	lockDelta int64
	addedLock bool
	// noLocks: the range held no lock when the batch was latched, so a key
	// the batch has not locked itself has none.
	noLocks bool
}

func (ec *evalContext) wrote(ts uint64) { ec.written = max(ec.written, ts) }

// clearLock removes key's lock, noting the release. Callers only clear a
// lock they have read.
func (ec *evalContext) clearLock(key []byte) error {
	ec.cleared = append(ec.cleared, key)
	ec.lockDelta--
	return storage.ClearLock(ec.b, key)
}

// putLock writes key's lock; replacing says key already held one.
func (ec *evalContext) putLock(key []byte, l *storage.Lock, replacing bool) error {
	if !replacing {
		ec.lockDelta++
	}
	ec.addedLock = true
	return storage.PutLock(ec.b, key, l)
}

// mayBeLocked reports whether key may hold a lock, which a plain write must
// then look up.
func (ec *evalContext) mayBeLocked() bool { return !ec.noLocks || ec.addedLock }

func lockInfo(key []byte, l *storage.Lock) *kvpb.LockInfo {
	return &kvpb.LockInfo{Key: key, Primary: l.Primary, StartTs: l.StartTS, TtlMs: l.TTLMillis}
}

// lockConflict converts a storage.LockedError into the typed KV error.
func lockConflict(e *storage.LockedError) *kvpb.Error {
	infos := make([]*kvpb.LockInfo, len(e.Locks))
	for i, kl := range e.Locks {
		infos[i] = lockInfo(kl.Key, kl.Lock)
	}
	return kvpb.NewLockConflict(infos)
}

func singleLockConflict(key []byte, l *storage.Lock) *kvpb.Error {
	return kvpb.NewLockConflict([]*kvpb.LockInfo{lockInfo(key, l)})
}

// lockExpired reports whether l is past its TTL at now (a timestamp of the
// evaluating leaseholder's clock).
func lockExpired(l *storage.Lock, now uint64) bool {
	return hlc.Expired(l.StartTS, time.Duration(l.TTLMillis)*time.Millisecond, hlc.Physical(now))
}

func evalPrewrite(ec *evalContext, p *kvpb.PrewriteRequest) (*kvpb.ResponseUnion, error) {
	if p.StartTs == 0 {
		return nil, kvpb.NewErrorf("prewrite without a start timestamp")
	}
	cur, err := storage.MVCCGet(ec.r, p.Key, storage.MaxTimestamp)
	if err != nil {
		return nil, err
	}
	resp := &kvpb.PrewriteResponse{}
	ownPessimistic := false
	if l := cur.Lock; l != nil {
		switch {
		case l.StartTS != p.StartTs:
			return nil, singleLockConflict(p.Key, l)
		case l.Op == storage.LockPessimistic:
			// Locked by this transaction before it wrote: nothing committed
			// here since, and the coordinator refreshed past what had.
			ownPessimistic = true
		case !p.OnePc:
			return &kvpb.ResponseUnion{Value: &kvpb.ResponseUnion_Prewrite{Prewrite: resp}}, nil // a retried prewrite
		default:
			return nil, singleLockConflict(p.Key, l)
		}
	}
	if p.Record && cur.Found {
		return nil, kvpb.NewTxnAlreadyCommitted(cur.Timestamp)
	}
	if !ownPessimistic && cur.LatestTimestamp >= p.StartTs {
		replayed, err := checkWriteConflict(ec.r, p, cur.LatestTimestamp, resp)
		if err != nil {
			return nil, err
		}
		if replayed {
			return &kvpb.ResponseUnion{Value: &kvpb.ResponseUnion_Prewrite{Prewrite: resp}}, nil
		}
	}
	op := storage.LockPut
	switch p.Op {
	case kvpb.PrewriteRequest_DELETE:
		op = storage.LockDelete
	case kvpb.PrewriteRequest_LOCK:
		op = storage.LockKeyOnly
	}
	if p.OnePc {
		if ownPessimistic {
			if err := ec.clearLock(p.Key); err != nil {
				return nil, err
			}
		}
		if err := storage.MVCCPutCommitted(ec.b, p.Key, ec.ts, p.StartTs, op, p.Value); err != nil {
			return nil, err
		}
		ec.wrote(ec.ts)
		resp.CommitTs = ec.ts
	} else {
		l := &storage.Lock{Primary: p.Primary, StartTS: p.StartTs, TTLMillis: p.TtlMs, Op: op, Value: p.Value}
		if err := ec.putLock(p.Key, l, ownPessimistic); err != nil {
			return nil, err
		}
	}
	return &kvpb.ResponseUnion{Value: &kvpb.ResponseUnion_Prewrite{Prewrite: resp}}, nil
}

// checkWriteConflict looks at the versions of p.Key at or above the
// transaction's start: its own commit (replayed: a repeated prewrite; for
// a one-phase commit resp gets the commit timestamp) or rollback marker,
// or another transaction's version above what the transaction has read
// (conflict_ts, or start_ts).
func checkWriteConflict(r storage.Reader, p *kvpb.PrewriteRequest, latest uint64, resp *kvpb.PrewriteResponse) (replayed bool, err error) {
	since := max(p.StartTs, p.ConflictTs)
	c, err := storage.CheckTxnWrite(r, p.Key, p.StartTs, since)
	if err != nil {
		return false, err
	}
	switch {
	case c.State == storage.TxnKeyCommitted:
		if p.OnePc {
			resp.CommitTs = c.CommitTS
		}
		return true, nil
	case c.State == storage.TxnKeyRolledBack:
		return false, kvpb.NewTxnRetry(kvpb.TxnRetry_ABORTED, p.Key, "transaction at %d was rolled back", p.StartTs)
	case c.Newer: // other transactions' markers are no conflict
		return false, kvpb.NewTxnRetry(kvpb.TxnRetry_WRITE_CONFLICT, p.Key,
			"write conflict on %q: a version at %d is newer than the transaction's reads at %d", p.Key, latest, since)
	}
	return false, nil
}

// evalAcquireLock takes a pessimistic lock (see AcquireLockRequest).
func evalAcquireLock(ec *evalContext, q *kvpb.AcquireLockRequest) (*kvpb.ResponseUnion, error) {
	if q.StartTs == 0 {
		return nil, kvpb.NewErrorf("transaction request without a start timestamp")
	}
	cur, err := storage.MVCCGet(ec.r, q.Key, storage.MaxTimestamp)
	if err != nil {
		return nil, err
	}
	if l := cur.Lock; l != nil {
		if l.StartTS != q.StartTs {
			return nil, singleLockConflict(q.Key, l)
		}
	} else {
		if cur.LatestTimestamp >= q.StartTs {
			state, _, err := storage.FindTxnWrite(ec.r, q.Key, q.StartTs)
			if err != nil {
				return nil, err
			}
			if state != storage.TxnKeyNone {
				return nil, kvpb.NewTxnRetry(kvpb.TxnRetry_ABORTED, q.Key, "transaction at %d already ended", q.StartTs)
			}
		}
		l := &storage.Lock{Primary: q.Primary, StartTS: q.StartTs, TTLMillis: q.TtlMs, Op: storage.LockPessimistic}
		if err := ec.putLock(q.Key, l, false); err != nil {
			return nil, err
		}
	}
	return &kvpb.ResponseUnion{Value: &kvpb.ResponseUnion_AcquireLock{AcquireLock: &kvpb.AcquireLockResponse{
		Found: cur.Found, Value: cur.Value, Timestamp: cur.Timestamp,
	}}}, nil
}

// evalResolve commits or rolls back one key of a transaction.
func evalResolve(ec *evalContext, q *kvpb.ResolveRequest) (*kvpb.ResponseUnion, error) {
	if q.StartTs == 0 {
		return nil, kvpb.NewErrorf("transaction request without a start timestamp")
	}
	ok := &kvpb.ResponseUnion{Value: &kvpb.ResponseUnion_Resolve{Resolve: &kvpb.ResolveResponse{}}}
	l, err := storage.GetLock(ec.r, q.Key)
	if err != nil {
		return nil, err
	}
	if l != nil && l.StartTS == q.StartTs {
		if err := ec.clearLock(q.Key); err != nil {
			return nil, err
		}
		if q.CommitTs == 0 {
			return ok, storage.PutRollback(ec.r, ec.b, q.Key, q.StartTs)
		}
		if l.Op == storage.LockPessimistic {
			return ok, nil // locked but never prewritten: released
		}
		if err := storage.MVCCPutCommitted(ec.b, q.Key, q.CommitTs, q.StartTs, l.Op, l.Value); err != nil {
			return nil, err
		}
		ec.wrote(q.CommitTs)
		return ok, nil
	}
	state, commitTS, err := storage.FindTxnWrite(ec.r, q.Key, q.StartTs)
	if err != nil {
		return nil, err
	}
	switch {
	case state == storage.TxnKeyCommitted && q.CommitTs == 0:
		return nil, kvpb.NewTxnAlreadyCommitted(commitTS)
	case state == storage.TxnKeyCommitted, state == storage.TxnKeyRolledBack && q.CommitTs == 0:
		return ok, nil
	case q.CommitTs == 0:
		// Never prewritten here (or the prewrite is still in flight): the
		// marker makes a late prewrite fail.
		return ok, storage.PutRollback(ec.r, ec.b, q.Key, q.StartTs)
	}
	return nil, kvpb.NewTxnRetry(kvpb.TxnRetry_ABORTED, q.Key, "transaction at %d was rolled back", q.StartTs)
}

// evalCheckTxn reports the fate of the transaction whose primary is q.Key,
// rolling it back when asked and its lock has expired at now.
func evalCheckTxn(ec *evalContext, q *kvpb.CheckTxnRequest, now uint64) (*kvpb.ResponseUnion, error) {
	if q.StartTs == 0 {
		return nil, kvpb.NewErrorf("transaction request without a start timestamp")
	}
	status := func(s kvpb.TxnStatus, commitTS uint64) (*kvpb.ResponseUnion, error) {
		return &kvpb.ResponseUnion{Value: &kvpb.ResponseUnion_CheckTxn{CheckTxn: &kvpb.CheckTxnResponse{Status: s, CommitTs: commitTS}}}, nil
	}
	l, err := storage.GetLock(ec.r, q.Key)
	if err != nil {
		return nil, err
	}
	if l != nil && l.StartTS == q.StartTs {
		if !q.RollbackIfExpired || !lockExpired(l, now) {
			return status(kvpb.TxnStatus_PENDING, 0)
		}
		if err := ec.clearLock(q.Key); err != nil {
			return nil, err
		}
		if err := storage.PutRollback(ec.r, ec.b, q.Key, q.StartTs); err != nil {
			return nil, err
		}
		return status(kvpb.TxnStatus_ROLLED_BACK, 0)
	}
	state, commitTS, err := storage.FindTxnWrite(ec.r, q.Key, q.StartTs)
	if err != nil {
		return nil, err
	}
	switch state {
	case storage.TxnKeyCommitted:
		return status(kvpb.TxnStatus_COMMITTED, commitTS)
	case storage.TxnKeyRolledBack:
		return status(kvpb.TxnStatus_ROLLED_BACK, 0)
	}
	if !q.RollbackIfExpired {
		return status(kvpb.TxnStatus_PENDING, 0)
	}
	// The primary was never prewritten (its prewrite may still be in flight):
	// the caller saw an expired lock of the transaction elsewhere, so it is
	// abandoned; the marker makes the late prewrite fail.
	if err := storage.PutRollback(ec.r, ec.b, q.Key, q.StartTs); err != nil {
		return nil, err
	}
	return status(kvpb.TxnStatus_ROLLED_BACK, 0)
}

func evalHeartbeatTxn(ec *evalContext, q *kvpb.HeartbeatTxnRequest) (*kvpb.ResponseUnion, error) {
	if q.StartTs == 0 {
		return nil, kvpb.NewErrorf("transaction request without a start timestamp")
	}
	status := func(s kvpb.TxnStatus) (*kvpb.ResponseUnion, error) {
		return &kvpb.ResponseUnion{Value: &kvpb.ResponseUnion_HeartbeatTxn{HeartbeatTxn: &kvpb.HeartbeatTxnResponse{Status: s}}}, nil
	}
	l, err := storage.GetLock(ec.r, q.Key)
	if err != nil {
		return nil, err
	}
	if l != nil && l.StartTS == q.StartTs {
		if q.TtlMs > l.TTLMillis {
			l.TTLMillis = q.TtlMs
			if err := ec.putLock(q.Key, l, true); err != nil {
				return nil, err
			}
		}
		return status(kvpb.TxnStatus_PENDING)
	}
	state, _, err := storage.FindTxnWrite(ec.r, q.Key, q.StartTs)
	if err != nil {
		return nil, err
	}
	if state == storage.TxnKeyCommitted {
		return status(kvpb.TxnStatus_COMMITTED)
	}
	return status(kvpb.TxnStatus_ROLLED_BACK)
}

// evalValidateRead checks a serializable transaction's read of a key or span.
func evalValidateRead(ec *evalContext, q *kvpb.ValidateReadRequest) (*kvpb.ResponseUnion, error) {
	if q.StartTs == 0 {
		return nil, kvpb.NewErrorf("transaction request without a start timestamp")
	}
	upTo := q.CommitTs
	if upTo == 0 {
		upTo = ec.ts // inside a one-phase batch
	}
	var end []byte
	if len(q.EndKey) > 0 {
		end = q.EndKey
	}
	k, err := storage.MVCCFindConflict(ec.r, q.Key, end, max(q.StartTs, q.ReadTs), upTo, q.StartTs)
	if err != nil {
		return nil, err
	}
	if k != nil {
		return nil, kvpb.NewTxnRetry(kvpb.TxnRetry_READ_INVALIDATED, k,
			"serialization failure: %q was written by a concurrent transaction after it was read", k)
	}
	return &kvpb.ResponseUnion{Value: &kvpb.ResponseUnion_ValidateRead{ValidateRead: &kvpb.ValidateReadResponse{}}}, nil
}

// checkNoLock fails with LockConflict when key is locked.
func checkNoLock(r storage.Reader, key []byte) error {
	l, err := storage.GetLock(r, key)
	if err != nil {
		return err
	}
	if l != nil {
		return singleLockConflict(key, l)
	}
	return nil
}

// isTxnRequest reports requests evaluated by the transaction functions.
func isTxnRequest(q *kvpb.RequestUnion) bool {
	switch q.Value.(type) {
	case *kvpb.RequestUnion_Prewrite, *kvpb.RequestUnion_Resolve, *kvpb.RequestUnion_CheckTxn,
		*kvpb.RequestUnion_HeartbeatTxn, *kvpb.RequestUnion_ValidateRead, *kvpb.RequestUnion_AcquireLock:
		return true
	}
	return false
}

func evalTxn(ec *evalContext, q *kvpb.RequestUnion) (*kvpb.ResponseUnion, error) {
	switch v := q.Value.(type) {
	case *kvpb.RequestUnion_Prewrite:
		return evalPrewrite(ec, v.Prewrite)
	case *kvpb.RequestUnion_Resolve:
		return evalResolve(ec, v.Resolve)
	case *kvpb.RequestUnion_CheckTxn:
		return evalCheckTxn(ec, v.CheckTxn, ec.ts)
	case *kvpb.RequestUnion_HeartbeatTxn:
		return evalHeartbeatTxn(ec, v.HeartbeatTxn)
	case *kvpb.RequestUnion_ValidateRead:
		return evalValidateRead(ec, v.ValidateRead)
	case *kvpb.RequestUnion_AcquireLock:
		return evalAcquireLock(ec, v.AcquireLock)
	}
	return nil, fmt.Errorf("request %T is not a transaction request", q.Value)
}
