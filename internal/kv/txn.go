package kv

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/cairndb/cairn/internal/hlc"
	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
)

// DefaultLockTTL is how long a transaction's locks outlive a silent
// coordinator; a committing coordinator heartbeats its primary lock.
const DefaultLockTTL = 3 * time.Second

// Transaction size bounds (documented in docs/transactions.md).
const (
	MaxTxnWrites     = 250000
	MaxTxnWriteBytes = 64 << 20
	maxTxnReadSpans  = 1000000
)

// TxnOptions configure a transaction.
type TxnOptions struct {
	Isolation kvpb.IsolationLevel
	// IdempotencyKey names the logical transaction across attempts: a commit
	// carrying a key that already committed returns that first outcome
	// instead of applying again. Empty: no record is kept.
	IdempotencyKey string
	// LockTTL overrides DefaultLockTTL (tests).
	LockTTL time.Duration
}

// CommitResult is the outcome of a successful Commit.
type CommitResult struct {
	CommitTS uint64
	// AlreadyCommitted: an earlier attempt with the same idempotency key
	// committed (at CommitTS); this attempt's writes were discarded.
	AlreadyCommitted bool
}

// ErrTxnDone is returned by operations on a finished transaction.
var ErrTxnDone = errors.New("kv: the transaction has already committed or rolled back")

// ErrTxnTooLarge is returned (wrapped) by a write past MaxTxnWrites keys or
// MaxTxnWriteBytes bytes.
var ErrTxnTooLarge = errors.New("kv: transaction too large")

type txnWrite struct {
	del   bool
	value []byte
}

type readSpan struct{ key, end []byte } // end nil: the single key

// Txn is a transaction coordinated by this node: reads at its snapshot (or,
// for READ COMMITTED, at a fresh timestamp each), writes buffered until
// Commit, which runs Percolator's two-phase commit (one phase when every
// key is in one range). A Txn is used by one goroutine at a time.
type Txn struct {
	db      *DB
	opts    TxnOptions
	startTS uint64

	mu         sync.Mutex
	writes     map[string]txnWrite
	writeBytes int
	reads      []readSpan
	done       bool
	// readTS: SERIALIZABLE and REPEATABLE READ reads are at readTS, which
	// starts at startTS and moves up when a locking read finds a newer
	// version and the reads so far are refreshed (SERIALIZABLE only).
	readTS uint64
	// primary is the first key locked by a locking read (the idempotency
	// record when there is one); nil until then. locked holds every key
	// a locking read locked (or may have: an ambiguous attempt), lockHB
	// keeps the primary's lock alive while the transaction runs.
	primary []byte
	locked  map[string]struct{}
	lockHB  *heartbeat
}

// Begin starts a transaction at a fresh timestamp of the oracle.
func (db *DB) Begin(ctx context.Context, opts TxnOptions) (*Txn, error) {
	if opts.LockTTL <= 0 {
		opts.LockTTL = DefaultLockTTL
	}
	switch opts.Isolation {
	case kvpb.IsolationLevel_SERIALIZABLE, kvpb.IsolationLevel_REPEATABLE_READ, kvpb.IsolationLevel_READ_COMMITTED:
	default:
		return nil, fmt.Errorf("kv: unknown isolation level %d", opts.Isolation)
	}
	ts, err := db.Now(ctx)
	if err != nil {
		return nil, err
	}
	return &Txn{db: db, opts: opts, startTS: ts, readTS: ts, writes: map[string]txnWrite{}}, nil
}

// StartTS is the transaction's snapshot timestamp.
func (t *Txn) StartTS() uint64 { return t.startTS }

// ReadTS returns the timestamp the transaction reads at: its start, or
// where a locking read moved it (SERIALIZABLE).
func (t *Txn) ReadTS() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.readTS
}

// Isolation is the transaction's isolation level.
func (t *Txn) Isolation() kvpb.IsolationLevel { return t.opts.Isolation }

func (t *Txn) readTimestamp(ctx context.Context) (uint64, error) {
	if t.opts.Isolation == kvpb.IsolationLevel_READ_COMMITTED {
		return t.db.Now(ctx) // each read sees what committed before it
	}
	return t.readTS, nil
}

func (t *Txn) noteRead(key, end []byte) error {
	if t.opts.Isolation != kvpb.IsolationLevel_SERIALIZABLE {
		return nil
	}
	return t.recordRead(key, end)
}

// recordRead adds a key or span to the reads validated at commit.
func (t *Txn) recordRead(key, end []byte) error {
	if len(t.reads) >= maxTxnReadSpans {
		return fmt.Errorf("kv: transaction read more than %d keys or spans", maxTxnReadSpans)
	}
	t.reads = append(t.reads, readSpan{key: slices.Clone(key), end: slices.Clone(end)})
	return nil
}

// Get reads key: the transaction's own write if any, else the snapshot.
func (t *Txn) Get(ctx context.Context, key []byte) (*kvpb.GetResponse, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return nil, ErrTxnDone
	}
	if w, ok := t.writes[string(key)]; ok {
		return &kvpb.GetResponse{Found: !w.del, Value: w.value}, nil
	}
	ts, err := t.readTimestamp(ctx)
	if err != nil {
		return nil, err
	}
	resps, err := t.db.send(ctx, key, ts, []*kvpb.RequestUnion{{Value: &kvpb.RequestUnion_Get{Get: &kvpb.GetRequest{Key: key}}}})
	if err != nil {
		return nil, err
	}
	if err := t.noteRead(key, nil); err != nil {
		return nil, err
	}
	return resps[0].GetGet(), nil
}

// GetValidated is Get, and the commit then checks that nothing else wrote
// key since the transaction began, at every isolation level: a write
// conflicts with it as under SERIALIZABLE. SQL reads the catalog version
// this way, so that a schema change commits either before or after every
// writer that used the old schema, whatever its isolation level.
func (t *Txn) GetValidated(ctx context.Context, key []byte) (*kvpb.GetResponse, error) {
	r, err := t.Get(ctx, key)
	if err != nil || t.opts.Isolation == kvpb.IsolationLevel_SERIALIZABLE {
		return r, err // Get recorded it
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return r, t.recordRead(key, nil)
}

// GetMany reads several keys, ranges in parallel; the responses are in the
// order of keys.
func (t *Txn) GetMany(ctx context.Context, keys [][]byte) ([]*kvpb.GetResponse, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return nil, ErrTxnDone
	}
	out := make([]*kvpb.GetResponse, len(keys))
	var reqs []*kvpb.RequestUnion
	var idx []int
	for i, k := range keys {
		if w, ok := t.writes[string(k)]; ok {
			out[i] = &kvpb.GetResponse{Found: !w.del, Value: w.value}
			continue
		}
		reqs = append(reqs, &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Get{Get: &kvpb.GetRequest{Key: k}}})
		idx = append(idx, i)
	}
	if len(reqs) == 0 {
		return out, nil
	}
	ts, err := t.readTimestamp(ctx)
	if err != nil {
		return nil, err
	}
	resps, err := t.db.sendGroupedAt(ctx, ts, reqs)
	if err != nil {
		return nil, err
	}
	for j, i := range idx {
		if err := t.noteRead(keys[i], nil); err != nil {
			return nil, err
		}
		out[i] = resps[j].GetGet()
	}
	return out, nil
}

// Scan reads up to limit keys of [start, end) (limit <= 0: no limit beyond
// the per-range cap), merged with the transaction's own writes.
func (t *Txn) Scan(ctx context.Context, start, end []byte, limit int64) (*kvpb.ScanResponse, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return nil, ErrTxnDone
	}
	ts, err := t.readTimestamp(ctx)
	if err != nil {
		return nil, err
	}
	out, scannedEnd, err := t.scan(ctx, start, end, limit, ts)
	if err != nil {
		return nil, err
	}
	if err := t.noteRead(start, scannedEnd); err != nil {
		return nil, err
	}
	return out, nil
}

// scan is Scan at ts without recording the read; scannedEnd is the end of
// the span it covered. t.mu is held.
func (t *Txn) scan(ctx context.Context, start, end []byte, limit int64, ts uint64) (out *kvpb.ScanResponse, scannedEnd []byte, err error) {
	// Deleted keys may hide scanned ones: ask for that many more.
	var own []string
	fetch := limit
	for k, w := range t.writes {
		if k >= string(start) && k < string(end) {
			own = append(own, k)
			if w.del && fetch > 0 {
				fetch++
			}
		}
	}
	resp, err := t.db.ScanAt(ctx, start, end, fetch, ts)
	if err != nil {
		return nil, nil, err
	}
	scannedEnd = end
	if resp.More {
		scannedEnd = resp.ResumeKey
	}
	if len(own) == 0 {
		return resp, scannedEnd, nil // nothing to merge: already in key order and limited
	}
	merged := make(map[string]*kvpb.KeyValue, len(resp.Kvs)+len(own))
	for _, kv := range resp.Kvs {
		merged[string(kv.Key)] = kv
	}
	for _, k := range own {
		if k >= string(scannedEnd) {
			continue
		}
		if w := t.writes[k]; w.del {
			delete(merged, k)
		} else {
			merged[k] = &kvpb.KeyValue{Key: []byte(k), Value: w.value}
		}
	}
	out = &kvpb.ScanResponse{Kvs: make([]*kvpb.KeyValue, 0, len(merged)), More: resp.More, ResumeKey: resp.ResumeKey}
	for _, kv := range merged {
		out.Kvs = append(out.Kvs, kv)
	}
	sort.Slice(out.Kvs, func(i, j int) bool { return bytes.Compare(out.Kvs[i].Key, out.Kvs[j].Key) < 0 })
	if limit > 0 && int64(len(out.Kvs)) > limit {
		out.More, out.ResumeKey = true, out.Kvs[limit].Key
		scannedEnd = out.ResumeKey
		out.Kvs = out.Kvs[:limit]
	}
	return out, scannedEnd, nil
}

// Put buffers a write of key.
func (t *Txn) Put(key, value []byte) error {
	return t.buffer(key, txnWrite{value: slices.Clone(value)})
}

// Delete buffers a delete of key.
func (t *Txn) Delete(key []byte) error { return t.buffer(key, txnWrite{del: true}) }

func (t *Txn) buffer(key []byte, w txnWrite) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return ErrTxnDone
	}
	if _, ok := t.writes[string(key)]; !ok && len(t.writes) >= MaxTxnWrites {
		return fmt.Errorf("%w: a transaction writes at most %d keys", ErrTxnTooLarge, MaxTxnWrites)
	}
	if t.writeBytes+len(key)+len(w.value) > MaxTxnWriteBytes {
		return fmt.Errorf("%w: a transaction writes at most %d bytes", ErrTxnTooLarge, MaxTxnWriteBytes)
	}
	t.writeBytes += len(key) + len(w.value)
	t.writes[string(key)] = w
	return nil
}

// Rollback abandons the transaction. Nothing was written yet (writes are
// buffered until Commit): it ends it and releases the locks of locking
// reads, in the background.
func (t *Txn) Rollback() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return
	}
	t.done = true
	t.releaseLocks()
}

// Commit writes the transaction atomically, validating its reads under
// SERIALIZABLE. A conflict is a retryable *kvpb.Error (kvpb.IsRetryable);
// an ambiguous result (kvpb.IsAmbiguous) may or may not have committed —
// re-running the transaction with the same idempotency key settles it.
func (t *Txn) Commit(ctx context.Context) (CommitResult, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return CommitResult{}, ErrTxnDone
	}
	t.done = true
	defer t.stopLockHeartbeat()
	if len(t.writes) == 0 && len(t.locked) == 0 {
		// A read-only snapshot is serializable as it is: every writer that
		// could have committed below it is in it (locks were resolved).
		return CommitResult{CommitTS: t.readTS}, nil
	}
	// Writes conflict with versions above what the transaction has read:
	// its (refreshed) read timestamp, or for READ COMMITTED what committed
	// before the commit.
	conflictTS := t.readTS
	if t.opts.Isolation == kvpb.IsolationLevel_READ_COMMITTED {
		var err error
		if conflictTS, err = t.db.Now(ctx); err != nil {
			t.releaseLocks()
			return CommitResult{}, err
		}
	}
	c := &committer{db: t.db, startTS: t.startTS, conflictTS: conflictTS, ttl: t.opts.LockTTL}
	c.build(t.writes, t.locked, t.primary, t.opts.IdempotencyKey)
	c.markRead(t.reads)
	c.validations = t.validations()
	res, err := c.commit(ctx)
	if err != nil && len(t.locked) > 0 && !kvpb.IsAmbiguous(err) && !c.rolledBack {
		t.releaseLocks() // a failed one-phase commit left them
	}
	return res, err
}

// validations lists the serializable read checks: reads of keys the
// transaction also writes (or locked) are covered by the write conflict
// check (or the lock).
func (t *Txn) validations() []*kvpb.RequestUnion {
	return t.readChecks(t.readTS, 0)
}

// readChecks lists validations of the reads since readTS up to upTo (0: the
// commit timestamp, filled in later).
func (t *Txn) readChecks(readTS, upTo uint64) []*kvpb.RequestUnion {
	var out []*kvpb.RequestUnion
	for _, r := range t.reads {
		if r.end == nil {
			if _, written := t.writes[string(r.key)]; written {
				continue
			}
			if _, locked := t.locked[string(r.key)]; locked {
				continue
			}
		}
		out = append(out, &kvpb.RequestUnion{Value: &kvpb.RequestUnion_ValidateRead{ValidateRead: &kvpb.ValidateReadRequest{
			Key: r.key, EndKey: r.end, StartTs: t.startTS, ReadTs: readTS, CommitTs: upTo,
		}}})
	}
	return out
}

// committer runs one commit.
type committer struct {
	db          *DB
	startTS     uint64
	conflictTS  uint64 // versions above it conflict with the writes
	rolledBack  bool   // rollback ran: every prewritten (and locked) key is released
	ttl         time.Duration
	primary     []byte
	prewrites   []*kvpb.RequestUnion // the primary's first
	validations []*kvpb.RequestUnion
}

// build lists the prewrites: every written key, and every locked key the
// transaction did not write (a LOCK prewrite, which releases it). The
// primary is the idempotency record if any, else the first locked key
// (its lock already names it), else the first key; its prewrite goes first.
func (c *committer) build(writes map[string]txnWrite, locked map[string]struct{}, primary []byte, idempotencyKey string) {
	ks := make([]string, 0, len(writes)+len(locked))
	for k := range writes {
		ks = append(ks, k)
	}
	for k := range locked {
		if _, ok := writes[k]; !ok {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	ttl := c.lockTTL()
	switch {
	case idempotencyKey != "":
		// The record is the primary: committing it is the decision, and a
		// later attempt's prewrite of it finds the earlier commit.
		c.primary = keys.TxnRecordKey(idempotencyKey)
		c.prewrites = append(c.prewrites, &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Prewrite{Prewrite: &kvpb.PrewriteRequest{
			Key: c.primary, Value: binary.BigEndian.AppendUint64(nil, c.startTS), Primary: c.primary,
			StartTs: c.startTS, TtlMs: ttl, Record: true, ConflictTs: c.conflictTS,
		}}})
	case primary != nil:
		c.primary = primary
		// Move the primary to the front.
		i := sort.SearchStrings(ks, string(primary))
		copy(ks[1:i+1], ks[:i])
		ks[0] = string(primary)
	default:
		c.primary = []byte(ks[0])
	}
	// The messages of all keys in one allocation per type.
	reqs := make([]kvpb.PrewriteRequest, len(ks))
	wraps := make([]kvpb.RequestUnion_Prewrite, len(ks))
	unions := make([]kvpb.RequestUnion, len(ks))
	for i, k := range ks {
		if idempotencyKey != "" && k == string(c.primary) {
			continue // the record, locked by the first locking read
		}
		p := &reqs[i]
		p.Key, p.Primary, p.StartTs, p.TtlMs, p.ConflictTs = []byte(k), c.primary, c.startTS, ttl, c.conflictTS
		switch w, ok := writes[k]; {
		case !ok:
			p.Op = kvpb.PrewriteRequest_LOCK
		case w.del:
			p.Op = kvpb.PrewriteRequest_DELETE
		default:
			p.Value = w.value
		}
		wraps[i].Prewrite = p
		unions[i].Value = &wraps[i]
		c.prewrites = append(c.prewrites, &unions[i])
	}
}

// markRead flags the prewrites of keys the transaction read (point reads)
// and of its idempotency record, whose prewrite reads it: a one-phase
// commit of only such keys writes nothing blind, and its leaseholder may
// pick its commit timestamp (replica/replica_tscache.go).
func (c *committer) markRead(reads []readSpan) {
	read := make(map[string]struct{}, len(reads))
	for _, r := range reads {
		if r.end == nil {
			read[string(r.key)] = struct{}{}
		}
	}
	for _, q := range c.prewrites {
		p := q.GetPrewrite()
		_, ok := read[string(p.Key)]
		p.Read = ok || p.Record
	}
}

func alreadyCommitted(err error) (uint64, bool) {
	var e *kvpb.Error
	if errors.As(err, &e) && e.GetTxnAlreadyCommitted() != nil {
		return e.GetTxnAlreadyCommitted().CommitTs, true
	}
	return 0, false
}

func (c *committer) commit(ctx context.Context) (CommitResult, error) {
	if res, err, done := c.tryOnePhase(ctx); done {
		return res, err
	}
	// Phase one: lock every key, in parallel across ranges.
	hb := c.startHeartbeat()
	defer hb.stop()
	if _, err := c.db.sendGrouped(ctx, c.prewrites); err != nil {
		c.rollback()
		if ts, ok := alreadyCommitted(err); ok {
			return CommitResult{CommitTS: ts, AlreadyCommitted: true}, nil
		}
		return CommitResult{}, err
	}
	commitTS, err := c.db.Now(ctx)
	if err != nil {
		c.rollback()
		return CommitResult{}, err
	}
	if len(c.validations) > 0 {
		if err := c.validate(ctx, commitTS); err != nil {
			c.rollback()
			return CommitResult{}, err
		}
	}
	// The decision: commit the primary. Resolve is idempotent, so an
	// ambiguous attempt is simply repeated.
	for attempt := 0; ; attempt++ {
		_, err = c.db.send(ctx, c.primary, 0, []*kvpb.RequestUnion{resolveReq(c.primary, c.startTS, commitTS)})
		if err == nil || !kvpb.IsAmbiguous(err) || attempt >= 3 || ctx.Err() != nil {
			break
		}
	}
	hb.stop()
	if err != nil {
		if kvpb.IsRetryable(err) { // rolled back by someone who found our lock expired
			c.rollback()
		}
		return CommitResult{}, err
	}
	c.commitSecondaries(commitTS)
	return CommitResult{CommitTS: commitTS}, nil
}

// validate runs the serializable read checks up to commitTS. A scanned
// span may cross range boundaries: it is checked piece by piece, cut at the
// boundaries (again if a range split meanwhile).
func (c *committer) validate(ctx context.Context, commitTS uint64) error {
	for _, v := range c.validations {
		v.GetValidateRead().CommitTs = commitTS
	}
	for attempt := 0; ; attempt++ {
		reqs, err := c.db.splitSpansAtRanges(ctx, c.validations)
		if err == nil {
			_, err = c.db.sendGrouped(ctx, reqs)
		}
		if !errors.Is(err, errCrossRange) || attempt >= 3 {
			return err
		}
	}
}

// splitSpansAtRanges cuts span read validations at the range boundaries
// known to the range cache.
func (db *DB) splitSpansAtRanges(ctx context.Context, reqs []*kvpb.RequestUnion) ([]*kvpb.RequestUnion, error) {
	out := make([]*kvpb.RequestUnion, 0, len(reqs))
	for _, q := range reqs {
		v := q.GetValidateRead()
		if v == nil || len(v.EndKey) == 0 {
			out = append(out, q)
			continue
		}
		for key := v.Key; ; {
			d, err := db.lookupRange(ctx, key)
			if err != nil {
				return nil, err
			}
			end := v.EndKey
			if bytes.Compare(d.EndKey, end) < 0 {
				end = d.EndKey
			}
			out = append(out, &kvpb.RequestUnion{Value: &kvpb.RequestUnion_ValidateRead{ValidateRead: &kvpb.ValidateReadRequest{
				Key: key, EndKey: end, StartTs: v.StartTs, CommitTs: v.CommitTs,
			}}})
			if bytes.Equal(end, v.EndKey) {
				break
			}
			key = end
		}
	}
	return out, nil
}

// tryOnePhase commits in a single Raft command when every key (and every
// read to validate) lies in the primary's range.
func (c *committer) tryOnePhase(ctx context.Context) (res CommitResult, err error, done bool) {
	desc, err := c.db.lookupRange(ctx, c.primary)
	if err != nil {
		return res, err, true
	}
	batch := make([]*kvpb.RequestUnion, 0, len(c.prewrites)+len(c.validations))
	batch = append(batch, c.prewrites...)
	batch = append(batch, c.validations...)
	if len(batch) > maxGroupedBatch || !batchWithin(desc, batch) {
		// Too large for one command (two-phase commit batches it), or
		// across ranges.
		return res, nil, false
	}
	for _, p := range c.prewrites {
		p.GetPrewrite().OnePc = true
	}
	resps, err := c.db.send(ctx, c.primary, 0, batch)
	for _, p := range c.prewrites {
		p.GetPrewrite().OnePc = false
	}
	if errors.Is(err, errCrossRange) {
		return res, nil, false // the range split meanwhile
	}
	if ts, ok := alreadyCommitted(err); ok {
		return CommitResult{CommitTS: ts, AlreadyCommitted: true}, nil, true
	}
	if err != nil {
		return res, err, true
	}
	return CommitResult{CommitTS: resps[0].GetPrewrite().GetCommitTs()}, nil, true
}

// rollback removes the transaction's locks, in the background (best
// effort: locks left behind are rolled back by whoever meets them once
// their TTL expires). The primary goes first, so that the decision is made
// before anything else.
func (c *committer) rollback() {
	c.rolledBack = true
	reqs := make([]*kvpb.RequestUnion, len(c.prewrites))
	for i, p := range c.prewrites {
		reqs[i] = resolveReq(p.GetPrewrite().Key, c.startTS, 0)
	}
	c.db.background(func(ctx context.Context) {
		if _, err := c.db.send(ctx, c.primary, 0, reqs[:1]); err != nil {
			if _, committed := alreadyCommitted(err); committed {
				return // cannot happen: we never committed it
			}
			slog.Debug("kv: rolling back a transaction's primary", "start_ts", c.startTS, "err", err)
		}
		if _, err := c.db.sendGrouped(ctx, reqs[1:]); err != nil && len(reqs) > 1 {
			slog.Debug("kv: rolling back a transaction's locks", "start_ts", c.startTS, "err", err)
		}
	})
}

// commitSecondaries commits every key but the primary, in the background
// (bounded; inline when too many are in flight). Readers that meet a lock
// first roll it forward themselves from the primary's commit.
func (c *committer) commitSecondaries(commitTS uint64) {
	if len(c.prewrites) < 2 {
		return
	}
	reqs := make([]*kvpb.RequestUnion, 0, len(c.prewrites)-1)
	for _, p := range c.prewrites[1:] {
		reqs = append(reqs, resolveReq(p.GetPrewrite().Key, c.startTS, commitTS))
	}
	c.db.background(func(ctx context.Context) {
		if _, err := c.db.sendGrouped(ctx, reqs); err != nil {
			slog.Debug("kv: committing secondary keys (readers will roll them forward)", "start_ts", c.startTS, "err", err)
		}
	})
}

// lockTTL is the TTL to give the transaction's locks now.
func (c *committer) lockTTL() uint64 { return lockTTL(c.startTS, c.ttl) }

// lockTTL is the TTL to give a transaction's locks now: locks expire
// relative to the physical time of the start timestamp, and an interactive
// transaction may commit long after it began.
func lockTTL(startTS uint64, ttl time.Duration) uint64 {
	return uint64((time.Since(hlc.Physical(startTS)) + ttl) / time.Millisecond)
}

// heartbeat keeps a transaction's primary lock alive while it runs.
type heartbeat struct {
	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
}

func (c *committer) startHeartbeat() *heartbeat {
	return startHeartbeat(c.db, c.primary, c.startTS, c.ttl)
}

// startHeartbeat raises the TTL of the primary lock every ttl/3 until
// stopped (or the DB closes).
func startHeartbeat(db *DB, primary []byte, startTS uint64, ttl time.Duration) *heartbeat {
	h := &heartbeat{}
	beat := func() {
		ctx, cancel := context.WithTimeout(db.bgCtx, ttl) // ends with DB.Close
		defer cancel()
		_, err := db.send(ctx, primary, 0, []*kvpb.RequestUnion{{Value: &kvpb.RequestUnion_HeartbeatTxn{
			HeartbeatTxn: &kvpb.HeartbeatTxnRequest{Key: primary, StartTs: startTS, TtlMs: lockTTL(startTS, ttl)},
		}}})
		if err != nil {
			slog.Debug("kv: transaction heartbeat", "start_ts", startTS, "err", err)
		}
		h.mu.Lock()
		if !h.stopped && db.bgCtx.Err() == nil {
			h.timer.Reset(ttl / 3)
		}
		h.mu.Unlock()
	}
	h.mu.Lock()
	h.timer = time.AfterFunc(ttl/3, beat)
	h.mu.Unlock()
	return h
}

func (h *heartbeat) stop() {
	h.mu.Lock()
	h.stopped = true
	h.timer.Stop()
	h.mu.Unlock()
}

// Savepoint is a point a transaction's writes can be rolled back to.
type Savepoint struct {
	writes     map[string]txnWrite
	writeBytes int
}

// Savepoint records the transaction's writes so far (SQL SAVEPOINT). It
// copies the write buffer: O(writes), bounded by MaxTxnWrites.
func (t *Txn) Savepoint() *Savepoint {
	t.mu.Lock()
	defer t.mu.Unlock()
	sp := &Savepoint{writes: make(map[string]txnWrite, len(t.writes)), writeBytes: t.writeBytes}
	for k, w := range t.writes {
		sp.writes[k] = w
	}
	return sp
}

// RollbackToSavepoint discards the writes made since sp. Reads made since
// stay in the read set: validating more than needed is safe.
func (t *Txn) RollbackToSavepoint(sp *Savepoint) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return ErrTxnDone
	}
	t.writes = make(map[string]txnWrite, len(sp.writes))
	for k, w := range sp.writes {
		t.writes[k] = w
	}
	t.writeBytes = sp.writeBytes
	return nil
}
