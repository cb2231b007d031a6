package kv

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/tso"
)

// Locking reads (pessimistic row locks: SELECT ... FOR UPDATE, and the rows
// an UPDATE or DELETE changes). A locking read takes a lock on each key at
// once, waiting while another transaction holds it, and returns the newest
// committed value. Writers then queue on the lock instead of failing at
// commit, which is what a hot row needs (pgbench's branch row).
//
// The lock returns a value that may be newer than the transaction's
// snapshot. SERIALIZABLE then refreshes: it checks that nothing it read
// before changed up to that version's timestamp and moves its read
// timestamp there (reads so far stay valid, the locked value is the value
// at the new read timestamp). REPEATABLE READ fails (40001, as PostgreSQL
// does on a concurrent update); READ COMMITTED takes the newest value.
//
// The first locked key becomes the transaction's primary (or the
// idempotency record when there is one), heartbeated until the transaction
// ends; every locked key is prewritten at commit (a LOCK prewrite when not
// written), and released by Rollback.

// maxLockRescans bounds how often ScanForUpdate scans again after a
// refresh moved its read timestamp.
const maxLockRescans = 4

// GetForUpdate reads key, locking it: see GetManyForUpdate.
func (t *Txn) GetForUpdate(ctx context.Context, key []byte) (*kvpb.GetResponse, error) {
	resps, err := t.GetManyForUpdate(ctx, [][]byte{key})
	if err != nil {
		return nil, err
	}
	return resps[0], nil
}

// GetManyForUpdate reads keys, locking each until the transaction ends;
// the responses are in the order of keys. It waits for locks other
// transactions hold; a wait that may be a deadlock ends with a retryable
// TxnRetry DEADLOCK.
func (t *Txn) GetManyForUpdate(ctx context.Context, ks [][]byte) ([]*kvpb.GetResponse, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return nil, ErrTxnDone
	}
	locks, err := t.lockKeys(ctx, ks)
	if err != nil {
		return nil, err
	}
	out := make([]*kvpb.GetResponse, len(ks))
	for i, k := range ks {
		if w, ok := t.writes[string(k)]; ok {
			out[i] = &kvpb.GetResponse{Found: !w.del, Value: w.value}
			continue
		}
		out[i] = &kvpb.GetResponse{Found: locks[i].Found, Value: locks[i].Value, Timestamp: locks[i].Timestamp}
	}
	return out, nil
}

// ScanForUpdate is Scan locking every key it returns. Under SERIALIZABLE a
// lock that moves the read timestamp makes it scan again at the new one
// (bounded), so that the span read is valid; under READ COMMITTED the
// locked keys' newest values replace the scanned ones (keys deleted since
// drop out).
func (t *Txn) ScanForUpdate(ctx context.Context, start, end []byte, limit int64) (*kvpb.ScanResponse, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return nil, ErrTxnDone
	}
	for attempt := 0; ; attempt++ {
		ts, err := t.readTimestamp(ctx)
		if err != nil {
			return nil, err
		}
		out, scannedEnd, err := t.scan(ctx, start, end, limit, ts)
		if err != nil {
			return nil, err
		}
		if len(out.Kvs) == 0 {
			return out, t.noteRead(start, scannedEnd)
		}
		ks := make([][]byte, len(out.Kvs))
		for i, kv := range out.Kvs {
			ks[i] = kv.Key
		}
		before := t.readTS
		locks, err := t.lockKeys(ctx, ks)
		if err != nil {
			return nil, err
		}
		switch {
		case t.opts.Isolation == kvpb.IsolationLevel_READ_COMMITTED:
			kvs := out.Kvs[:0]
			for i, kv := range out.Kvs {
				if _, own := t.writes[string(kv.Key)]; !own {
					if !locks[i].Found {
						continue
					}
					kv = &kvpb.KeyValue{Key: kv.Key, Value: locks[i].Value, Timestamp: locks[i].Timestamp}
				}
				kvs = append(kvs, kv)
			}
			out.Kvs = kvs
			return out, nil
		case t.readTS == before:
			// Every locked key's newest version is in the snapshot.
			return out, t.noteRead(start, scannedEnd)
		case attempt >= maxLockRescans:
			return nil, kvpb.NewTxnRetry(kvpb.TxnRetry_READ_INVALIDATED, start,
				"rows of the span kept changing while being locked")
		}
	}
}

// lockKeys locks ks (already locked keys are locked again, harmlessly) and
// moves the read timestamp past the newest version of each (see
// advanceReads). t.mu is held.
func (t *Txn) lockKeys(ctx context.Context, ks [][]byte) ([]*kvpb.AcquireLockResponse, error) {
	added := 0
	for _, k := range ks {
		if _, ok := t.locked[string(k)]; !ok {
			added++
		}
	}
	if len(t.locked)+added > MaxTxnWrites {
		return nil, fmt.Errorf("%w: a transaction locks at most %d keys", ErrTxnTooLarge, MaxTxnWrites)
	}
	if t.locked == nil {
		t.locked = make(map[string]struct{}, len(ks))
	}
	rest := ks
	var first *kvpb.AcquireLockResponse // ks[0]'s, when it is the primary
	if t.primary == nil {
		// The primary is locked first, alone: every other lock names it,
		// and whoever meets one asks the primary about the transaction.
		primary := ks[0]
		if t.opts.IdempotencyKey != "" {
			primary = keys.TxnRecordKey(t.opts.IdempotencyKey)
		}
		t.primary = slices.Clone(primary)
		t.locked[string(primary)] = struct{}{}
		resps, err := t.acquire(ctx, [][]byte{t.primary})
		if err != nil {
			return nil, err
		}
		t.lockHB = startHeartbeat(t.db, t.primary, t.startTS, t.opts.LockTTL)
		if t.opts.IdempotencyKey == "" {
			first, rest = resps[0], ks[1:] // not locked twice
		}
	}
	// Recorded before sending: an ambiguous attempt may have locked them.
	for _, k := range rest {
		t.locked[string(k)] = struct{}{}
	}
	var locks []*kvpb.AcquireLockResponse
	if first != nil {
		locks = append(locks, first)
	}
	if len(rest) > 0 {
		more, err := t.acquire(ctx, rest)
		if err != nil {
			return nil, err
		}
		locks = append(locks, more...)
	}
	var newest uint64
	for _, l := range locks {
		newest = max(newest, l.Timestamp)
	}
	if err := t.advanceReads(ctx, newest); err != nil {
		return nil, err
	}
	return locks, nil
}

// acquire sends the lock requests, ranges in parallel, waiting for other
// transactions' locks (db.send).
func (t *Txn) acquire(ctx context.Context, ks [][]byte) ([]*kvpb.AcquireLockResponse, error) {
	ttl := lockTTL(t.startTS, t.opts.LockTTL)
	reqs := make([]*kvpb.RequestUnion, len(ks))
	for i, k := range ks {
		reqs[i] = &kvpb.RequestUnion{Value: &kvpb.RequestUnion_AcquireLock{AcquireLock: &kvpb.AcquireLockRequest{
			Key: k, Primary: t.primary, StartTs: t.startTS, TtlMs: ttl,
			WaitMs: uint64(lockingReadServerWait / time.Millisecond),
		}}}
	}
	resps, err := t.db.sendGrouped(ctx, reqs)
	if err != nil {
		return nil, err
	}
	out := make([]*kvpb.AcquireLockResponse, len(resps))
	for i, r := range resps {
		if out[i] = r.GetAcquireLock(); out[i] == nil {
			return nil, fmt.Errorf("kv: lock of %s answered with %T", keys.Pretty(ks[i]), r.Value)
		}
	}
	return out, nil
}

// advanceReads makes the transaction's reads valid at newest, the
// timestamp of a version a locking read returned. READ COMMITTED needs
// nothing; REPEATABLE READ cannot move its snapshot (40001); SERIALIZABLE
// validates the reads so far over (readTS, newest] and moves readTS there.
//
// Reads happen at timestamps the oracle handed out only: a one-phase
// commit's timestamp is one above such a timestamp (replica_tscache.go),
// and a leaseholder picks later commits above every read it served, so a
// read at a commit's timestamp would let the next commit land two above an
// issued timestamp, where a snapshot taken after it is acknowledged could
// miss it. So a newest that is a one-phase commit's (odd) moves readTS to
// a fresh oracle timestamp instead, which is above it.
func (t *Txn) advanceReads(ctx context.Context, newest uint64) error {
	if newest <= t.readTS || t.opts.Isolation == kvpb.IsolationLevel_READ_COMMITTED {
		return nil
	}
	if t.opts.Isolation == kvpb.IsolationLevel_REPEATABLE_READ {
		return kvpb.NewTxnRetry(kvpb.TxnRetry_WRITE_CONFLICT, nil,
			"could not serialize access due to concurrent update (a locked row changed after the snapshot)")
	}
	if !tso.Issued(newest) {
		fresh, err := t.db.Now(ctx)
		if err != nil {
			return err
		}
		newest = max(newest, fresh)
	}
	if checks := t.readChecks(t.readTS, newest); len(checks) > 0 {
		reqs, err := t.db.splitSpansAtRanges(ctx, checks)
		if err == nil {
			_, err = t.db.sendGrouped(ctx, reqs)
		}
		if err != nil {
			return err
		}
	}
	t.readTS = newest
	return nil
}

// releaseLocks rolls back the locks of locking reads, primary first, in
// the background, and stops the heartbeat. t.mu is held.
func (t *Txn) releaseLocks() {
	t.stopLockHeartbeat()
	if len(t.locked) == 0 {
		return
	}
	reqs := make([]*kvpb.RequestUnion, 0, len(t.locked))
	for k := range t.locked {
		if k != string(t.primary) {
			reqs = append(reqs, resolveReq([]byte(k), t.startTS, 0))
		}
	}
	primary, startTS := t.primary, t.startTS
	t.locked = nil
	t.db.background(func(ctx context.Context) {
		if _, err := t.db.send(ctx, primary, 0, []*kvpb.RequestUnion{resolveReq(primary, startTS, 0)}); err != nil {
			slog.Debug("kv: releasing a transaction's primary lock", "start_ts", startTS, "err", err)
			return // the others expire with it
		}
		if len(reqs) > 0 {
			if _, err := t.db.sendGrouped(ctx, reqs); err != nil {
				slog.Debug("kv: releasing a transaction's locks", "start_ts", startTS, "err", err)
			}
		}
	})
}

func (t *Txn) stopLockHeartbeat() {
	if t.lockHB != nil {
		t.lockHB.stop()
		t.lockHB = nil
	}
}
