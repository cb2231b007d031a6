package replica

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cairndb/cairn/internal/hlc"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/storage"
)

// The transaction evaluation functions, called directly against an
// in-memory engine. Every step evaluates into an indexed batch (as a
// multi-request Replica.write does) that is committed when the step
// succeeds, so later steps read what earlier ones wrote.

const txnTestBaseMS = 1_700_000_000_000

// tts is a timestamp ms milliseconds after the tests' base time.
func tts(ms int64) uint64 { return hlc.FromPhysical(txnTestBaseMS+ms, 0) }

type txnEnv struct {
	t   *testing.T
	eng *storage.Engine
}

func newTxnEnv(t *testing.T) *txnEnv {
	t.Helper()
	eng, err := storage.Open(storage.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := eng.Close(); err != nil {
			t.Errorf("close engine: %v", err)
		}
	})
	return &txnEnv{t: t, eng: eng}
}

// stepResult is the outcome of one evaluation step.
type stepResult struct {
	resp *kvpb.ResponseUnion
	err  error
	ec   *evalContext
	// wrote is false when the step left its batch empty.
	wrote bool
}

// step evaluates f at ts into an indexed batch and commits the batch when f
// succeeds; a failed step's batch is discarded, as Replica.write does.
func (e *txnEnv) step(ts uint64, f func(ec *evalContext) (*kvpb.ResponseUnion, error)) stepResult {
	e.t.Helper()
	b := e.eng.NewIndexedBatch()
	defer b.Close()
	ec := &evalContext{r: b, b: b, ts: ts}
	resp, err := f(ec)
	res := stepResult{resp: resp, err: err, ec: ec, wrote: !b.Empty()}
	if err == nil && !b.Empty() {
		if err := b.Commit(storage.NoSync); err != nil {
			e.t.Fatal(err)
		}
	}
	return res
}

func (e *txnEnv) write(f func(b *storage.Batch) error) {
	e.t.Helper()
	b := e.eng.NewBatch()
	defer b.Close()
	if err := f(b); err != nil {
		e.t.Fatal(err)
	}
	if err := b.Commit(storage.NoSync); err != nil {
		e.t.Fatal(err)
	}
}

func (e *txnEnv) plainPut(key string, ts uint64, value string) {
	e.t.Helper()
	e.write(func(b *storage.Batch) error { return storage.MVCCPut(b, []byte(key), ts, []byte(value)) })
}

func (e *txnEnv) plainDelete(key string, ts uint64) {
	e.t.Helper()
	e.write(func(b *storage.Batch) error { return storage.MVCCDelete(b, []byte(key), ts) })
}

func (e *txnEnv) txnCommitted(key string, commitTS, startTS uint64, value string) {
	e.t.Helper()
	e.write(func(b *storage.Batch) error {
		return storage.MVCCPutCommitted(b, []byte(key), commitTS, startTS, storage.LockPut, []byte(value))
	})
}

func (e *txnEnv) lock(key string, l *storage.Lock) {
	e.t.Helper()
	e.write(func(b *storage.Batch) error { return storage.PutLock(b, []byte(key), l) })
}

func (e *txnEnv) getLock(key string) *storage.Lock {
	e.t.Helper()
	l, err := storage.GetLock(e.eng.Reader(), []byte(key))
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

func (e *txnEnv) txnState(key string, startTS uint64) (storage.TxnKeyState, uint64) {
	e.t.Helper()
	s, ts, err := storage.FindTxnWrite(e.eng.Reader(), []byte(key), startTS)
	if err != nil {
		e.t.Fatal(err)
	}
	return s, ts
}

// Request shorthands. Keys are used as they are (no KV namespace prefix).

func prewriteReq(key, value string, startTS uint64) *kvpb.PrewriteRequest {
	return &kvpb.PrewriteRequest{Key: []byte(key), Value: []byte(value), Primary: []byte("p"), StartTs: startTS, TtlMs: 1000}
}

func (e *txnEnv) prewrite(ts uint64, p *kvpb.PrewriteRequest) stepResult {
	e.t.Helper()
	return e.step(ts, func(ec *evalContext) (*kvpb.ResponseUnion, error) { return evalPrewrite(ec, p) })
}

func (e *txnEnv) resolve(key string, startTS, commitTS uint64) stepResult {
	e.t.Helper()
	return e.step(tts(100_000), func(ec *evalContext) (*kvpb.ResponseUnion, error) {
		return evalResolve(ec, &kvpb.ResolveRequest{Key: []byte(key), StartTs: startTS, CommitTs: commitTS})
	})
}

func (e *txnEnv) checkTxn(key string, startTS uint64, rollbackIfExpired bool, now uint64) stepResult {
	e.t.Helper()
	return e.step(now, func(ec *evalContext) (*kvpb.ResponseUnion, error) {
		return evalCheckTxn(ec, &kvpb.CheckTxnRequest{Key: []byte(key), StartTs: startTS, RollbackIfExpired: rollbackIfExpired}, now)
	})
}

func (e *txnEnv) heartbeat(key string, startTS, ttlMs uint64) stepResult {
	e.t.Helper()
	return e.step(tts(100_000), func(ec *evalContext) (*kvpb.ResponseUnion, error) {
		return evalHeartbeatTxn(ec, &kvpb.HeartbeatTxnRequest{Key: []byte(key), StartTs: startTS, TtlMs: ttlMs})
	})
}

func (e *txnEnv) validate(ts uint64, q *kvpb.ValidateReadRequest) stepResult {
	e.t.Helper()
	return e.step(ts, func(ec *evalContext) (*kvpb.ResponseUnion, error) { return evalValidateRead(ec, q) })
}

func rawGet(k string) *kvpb.RequestUnion {
	return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Get{Get: &kvpb.GetRequest{Key: []byte(k)}}}
}

func rawScan(start, end string, limit int64) *kvpb.RequestUnion {
	return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Scan{Scan: &kvpb.ScanRequest{StartKey: []byte(start), EndKey: []byte(end), Limit: limit}}}
}

// read evaluates a read-only request against the engine at ts.
func (e *txnEnv) read(q *kvpb.RequestUnion, ts uint64) (*kvpb.ResponseUnion, error) {
	return evalRead(e.eng.Reader(), q, ts)
}

// wantValue checks key's value read at ts ("" with found false: absent).
func (e *txnEnv) wantValue(key string, ts uint64, found bool, value string, vts uint64) {
	e.t.Helper()
	resp, err := e.read(rawGet(key), ts)
	if err != nil {
		e.t.Fatalf("get %q@%d: %v", key, ts, err)
	}
	g := resp.GetGet()
	if g.Found != found || string(g.Value) != value || (found && g.Timestamp != vts) {
		e.t.Fatalf("get %q@%d = found %v %q@%d; want found %v %q@%d", key, ts, g.Found, g.Value, g.Timestamp, found, value, vts)
	}
}

// Error checks.

func kvError(t *testing.T, err error) *kvpb.Error {
	t.Helper()
	var e *kvpb.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *kvpb.Error", err, err)
	}
	return e
}

func wantLockConflict(t *testing.T, err error, key string, startTS uint64) *kvpb.LockInfo {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want a LockConflict on %q", key)
	}
	lc := kvError(t, err).GetLockConflict()
	if lc == nil || len(lc.Locks) != 1 {
		t.Fatalf("error %v, want a LockConflict with one lock", err)
	}
	if l := lc.Locks[0]; string(l.Key) != key || l.StartTs != startTS {
		t.Fatalf("LockConflict on %q@%d, want %q@%d", l.Key, l.StartTs, key, startTS)
	}
	return lc.Locks[0]
}

func wantTxnRetry(t *testing.T, err error, reason kvpb.TxnRetry_Reason, key string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want TxnRetry %v", reason)
	}
	r := kvError(t, err).GetTxnRetry()
	if r == nil || r.Reason != reason || string(r.Key) != key {
		t.Fatalf("error %v, want TxnRetry %v on %q", err, reason, key)
	}
	if !kvpb.IsRetryable(err) {
		t.Fatalf("TxnRetry %v is not retryable", err)
	}
}

func wantAlreadyCommitted(t *testing.T, err error, commitTS uint64) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want TxnAlreadyCommitted at %d", commitTS)
	}
	ac := kvError(t, err).GetTxnAlreadyCommitted()
	if ac == nil || ac.CommitTs != commitTS {
		t.Fatalf("error %v, want TxnAlreadyCommitted at %d", err, commitTS)
	}
}

func wantOK(t *testing.T, res stepResult) {
	t.Helper()
	if res.err != nil {
		t.Fatalf("unexpected error: %v", res.err)
	}
}

func TestPrewriteCommitVisibility(t *testing.T) {
	for _, op := range []kvpb.PrewriteRequest_Op{kvpb.PrewriteRequest_PUT, kvpb.PrewriteRequest_DELETE} {
		t.Run(op.String(), func(t *testing.T) {
			e := newTxnEnv(t)
			e.plainPut("a", tts(5), "old")
			e.plainPut("b", tts(5), "b")
			start, commitTS := tts(10), tts(20)
			p := prewriteReq("a", "new", start)
			p.Op = op
			res := e.prewrite(tts(11), p)
			wantOK(t, res)
			if !res.wrote || res.ec.written != 0 || res.resp.GetPrewrite() == nil || res.resp.GetPrewrite().CommitTs != 0 {
				t.Fatalf("prewrite: wrote %v written %d resp %v", res.wrote, res.ec.written, res.resp)
			}
			wantLockOp := storage.LockPut
			if op == kvpb.PrewriteRequest_DELETE {
				wantLockOp = storage.LockDelete
			}
			l := e.getLock("a")
			if l == nil || string(l.Primary) != "p" || l.StartTS != start || l.TTLMillis != 1000 || l.Op != wantLockOp || string(l.Value) != "new" {
				t.Fatalf("lock after prewrite = %+v", l)
			}

			// Locked: reads at or above the start fail, reads below see the old value.
			e.wantValue("a", start-1, true, "old", tts(5))
			_, err := e.read(rawGet("a"), start)
			info := wantLockConflict(t, err, "a", start)
			if string(info.Primary) != "p" || info.TtlMs != 1000 {
				t.Fatalf("lock info %v", info)
			}
			_, err = e.read(rawGet("a"), storage.MaxTimestamp)
			wantLockConflict(t, err, "a", start)
			e.wantValue("b", storage.MaxTimestamp, true, "b", tts(5)) // other keys are unaffected

			res = e.resolve("a", start, commitTS)
			wantOK(t, res)
			if res.ec.written != commitTS {
				t.Fatalf("resolve: written %d, want %d", res.ec.written, commitTS)
			}
			if l := e.getLock("a"); l != nil {
				t.Fatalf("lock left after commit: %+v", l)
			}
			e.wantValue("a", start, true, "old", tts(5))
			e.wantValue("a", commitTS-1, true, "old", tts(5))
			if op == kvpb.PrewriteRequest_PUT {
				e.wantValue("a", commitTS, true, "new", commitTS)
				e.wantValue("a", storage.MaxTimestamp, true, "new", commitTS)
			} else {
				e.wantValue("a", commitTS, false, "", 0)
				e.wantValue("a", storage.MaxTimestamp, false, "", 0)
			}
			if s, ts := e.txnState("a", start); s != storage.TxnKeyCommitted || ts != commitTS {
				t.Fatalf("FindTxnWrite = %d@%d, want committed at %d", s, ts, commitTS)
			}
			// Scans agree.
			resp, err := e.read(rawScan("a", "z", 0), commitTS-1)
			if err != nil || len(resp.GetScan().Kvs) != 2 || string(resp.GetScan().Kvs[0].Value) != "old" {
				t.Fatalf("scan below the commit: %v, %v", resp, err)
			}
			resp, err = e.read(rawScan("a", "z", 0), commitTS)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(resp.GetScan().Kvs); (op == kvpb.PrewriteRequest_PUT) != (n == 2) {
				t.Fatalf("scan at the commit returned %d keys: %v", n, resp.GetScan().Kvs)
			}
		})
	}
}

func TestPrewriteErrors(t *testing.T) {
	const key = "a"
	start := tts(10)
	otherLock := func(startTS uint64) *storage.Lock {
		return &storage.Lock{Primary: []byte("other"), StartTS: startTS, TTLMillis: 77, Op: storage.LockPut, Value: []byte("o")}
	}
	record := func(p *kvpb.PrewriteRequest) *kvpb.PrewriteRequest { p.Record = true; return p }
	onePC := func(p *kvpb.PrewriteRequest) *kvpb.PrewriteRequest { p.OnePc = true; return p }
	tests := []struct {
		name  string
		setup func(e *txnEnv)
		req   *kvpb.PrewriteRequest
		check func(t *testing.T, err error)
		// wantLock: a successful prewrite leaves the transaction's lock.
		wantLock bool
	}{
		{
			name:     "older version",
			setup:    func(e *txnEnv) { e.plainPut(key, tts(5), "v") },
			req:      prewriteReq(key, "x", start),
			wantLock: true,
		},
		{
			name: "older tombstone on a record",
			setup: func(e *txnEnv) {
				e.plainPut(key, tts(3), "v")
				e.plainDelete(key, tts(5))
			},
			req:      record(prewriteReq(key, "x", start)),
			wantLock: true,
		},
		{
			name:  "newer plain version",
			setup: func(e *txnEnv) { e.plainPut(key, tts(15), "v") },
			req:   prewriteReq(key, "x", start),
			check: func(t *testing.T, err error) { wantTxnRetry(t, err, kvpb.TxnRetry_WRITE_CONFLICT, key) },
		},
		{
			name:  "newer tombstone",
			setup: func(e *txnEnv) { e.plainDelete(key, tts(15)) },
			req:   prewriteReq(key, "x", start),
			check: func(t *testing.T, err error) { wantTxnRetry(t, err, kvpb.TxnRetry_WRITE_CONFLICT, key) },
		},
		{
			name:  "newer transaction version",
			setup: func(e *txnEnv) { e.txnCommitted(key, tts(12), tts(11), "v") },
			req:   prewriteReq(key, "x", start),
			check: func(t *testing.T, err error) { wantTxnRetry(t, err, kvpb.TxnRetry_WRITE_CONFLICT, key) },
		},
		{
			name:  "version committed by an older transaction after the start",
			setup: func(e *txnEnv) { e.txnCommitted(key, tts(12), tts(8), "v") },
			req:   prewriteReq(key, "x", start),
			check: func(t *testing.T, err error) { wantTxnRetry(t, err, kvpb.TxnRetry_WRITE_CONFLICT, key) },
		},
		{
			name:  "version at the start timestamp",
			setup: func(e *txnEnv) { e.plainPut(key, start, "v") },
			req:   prewriteReq(key, "x", start),
			check: func(t *testing.T, err error) { wantTxnRetry(t, err, kvpb.TxnRetry_WRITE_CONFLICT, key) },
		},
		{
			name:  "newer version, one phase",
			setup: func(e *txnEnv) { e.plainPut(key, tts(15), "v") },
			req:   onePC(prewriteReq(key, "x", start)),
			check: func(t *testing.T, err error) { wantTxnRetry(t, err, kvpb.TxnRetry_WRITE_CONFLICT, key) },
		},
		{
			name:  "locked by an older transaction",
			setup: func(e *txnEnv) { e.lock(key, otherLock(tts(8))) },
			req:   prewriteReq(key, "x", start),
			check: func(t *testing.T, err error) {
				info := wantLockConflict(t, err, key, tts(8))
				if string(info.Primary) != "other" || info.TtlMs != 77 {
					t.Fatalf("lock info %v", info)
				}
			},
		},
		{
			name:  "locked by a newer transaction",
			setup: func(e *txnEnv) { e.lock(key, otherLock(tts(12))) },
			req:   prewriteReq(key, "x", start),
			check: func(t *testing.T, err error) { wantLockConflict(t, err, key, tts(12)) },
		},
		{
			name:  "locked, record",
			setup: func(e *txnEnv) { e.lock(key, otherLock(tts(8))) },
			req:   record(prewriteReq(key, "x", start)),
			check: func(t *testing.T, err error) { wantLockConflict(t, err, key, tts(8)) },
		},
		{
			name:  "own lock, one phase",
			setup: func(e *txnEnv) { e.lock(key, &storage.Lock{Primary: []byte("p"), StartTS: start, Op: storage.LockPut}) },
			req:   onePC(prewriteReq(key, "x", start)),
			check: func(t *testing.T, err error) { wantLockConflict(t, err, key, start) },
		},
		{
			name: "rolled back before the prewrite",
			setup: func(e *txnEnv) {
				wantOK(e.t, e.resolve(key, start, 0))
			},
			req:   prewriteReq(key, "x", start),
			check: func(t *testing.T, err error) { wantTxnRetry(t, err, kvpb.TxnRetry_ABORTED, key) },
		},
		{
			name: "rolled back after the prewrite",
			setup: func(e *txnEnv) {
				wantOK(e.t, e.prewrite(tts(11), prewriteReq(key, "x", start)))
				wantOK(e.t, e.resolve(key, start, 0))
			},
			req:   prewriteReq(key, "x", start),
			check: func(t *testing.T, err error) { wantTxnRetry(t, err, kvpb.TxnRetry_ABORTED, key) },
		},
		{
			name: "rolled back, then overwritten",
			setup: func(e *txnEnv) {
				wantOK(e.t, e.resolve(key, start, 0))
				e.plainPut(key, tts(15), "v")
			},
			req:   prewriteReq(key, "x", start),
			check: func(t *testing.T, err error) { wantTxnRetry(t, err, kvpb.TxnRetry_ABORTED, key) },
		},
		{
			name: "rolled back, one phase",
			setup: func(e *txnEnv) {
				wantOK(e.t, e.resolve(key, start, 0))
			},
			req:   onePC(prewriteReq(key, "x", start)),
			check: func(t *testing.T, err error) { wantTxnRetry(t, err, kvpb.TxnRetry_ABORTED, key) },
		},
		{
			name:  "record with a live version",
			setup: func(e *txnEnv) { e.plainPut(key, tts(5), "v") },
			req:   record(prewriteReq(key, "x", start)),
			check: func(t *testing.T, err error) { wantAlreadyCommitted(t, err, tts(5)) },
		},
		{
			name:  "record committed by an earlier attempt after the start",
			setup: func(e *txnEnv) { e.txnCommitted(key, tts(12), tts(11), "v") },
			req:   record(prewriteReq(key, "x", start)),
			check: func(t *testing.T, err error) { wantAlreadyCommitted(t, err, tts(12)) },
		},
		{
			name:  "record, one phase",
			setup: func(e *txnEnv) { e.txnCommitted(key, tts(7), tts(6), "v") },
			req:   onePC(record(prewriteReq(key, "x", start))),
			check: func(t *testing.T, err error) { wantAlreadyCommitted(t, err, tts(7)) },
		},
		{
			name:  "no start timestamp",
			setup: func(e *txnEnv) {},
			req:   prewriteReq(key, "x", 0),
			check: func(t *testing.T, err error) {
				if err == nil {
					t.Fatal("prewrite without a start timestamp succeeded")
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTxnEnv(t)
			tc.setup(e)
			before := e.getLock(key)
			res := e.prewrite(tts(20), tc.req)
			if tc.check == nil {
				wantOK(t, res)
				if l := e.getLock(key); !tc.wantLock || l == nil || l.StartTS != tc.req.StartTs || string(l.Value) != string(tc.req.Value) {
					t.Fatalf("lock after prewrite = %+v", l)
				}
				return
			}
			tc.check(t, res.err)
			if res.wrote {
				t.Fatal("a failed prewrite wrote to its batch")
			}
			if after := e.getLock(key); (before == nil) != (after == nil) || (after != nil && after.StartTS != before.StartTS) {
				t.Fatalf("a failed prewrite changed the lock from %+v to %+v", before, after)
			}
		})
	}
}

func TestPrewriteIdempotent(t *testing.T) {
	e := newTxnEnv(t)
	start := tts(10)
	p := prewriteReq("a", "x", start)
	wantOK(t, e.prewrite(tts(11), p))
	first := e.getLock("a")
	for i := 0; i < 3; i++ {
		res := e.prewrite(tts(12+int64(i)), p)
		wantOK(t, res)
		if res.wrote || res.ec.written != 0 {
			t.Fatalf("retried prewrite wrote (written %d)", res.ec.written)
		}
	}
	if l := e.getLock("a"); l == nil || string(l.Value) != string(first.Value) || l.TTLMillis != first.TTLMillis {
		t.Fatalf("lock after retries = %+v, want %+v", l, first)
	}
	// A prewrite replayed after the commit finds the commit and writes nothing.
	wantOK(t, e.resolve("a", start, tts(20)))
	res := e.prewrite(tts(30), p)
	wantOK(t, res)
	if res.wrote {
		t.Fatal("prewrite replayed after the commit wrote")
	}
	if l := e.getLock("a"); l != nil {
		t.Fatalf("prewrite replayed after the commit left a lock: %+v", l)
	}
	e.wantValue("a", storage.MaxTimestamp, true, "x", tts(20))
}

func TestPrewriteOnePhase(t *testing.T) {
	e := newTxnEnv(t)
	e.plainPut("a", tts(5), "old")
	e.plainPut("b", tts(5), "old-b")
	start, commitTS := tts(10), tts(20)
	pa := prewriteReq("a", "new", start)
	pa.OnePc = true
	pb := prewriteReq("b", "", start)
	pb.Op, pb.OnePc = kvpb.PrewriteRequest_DELETE, true
	validate := &kvpb.ValidateReadRequest{Key: []byte("a"), EndKey: []byte("c"), StartTs: start}
	// One batch: both writes and the validation of what the transaction
	// read, which sees (and ignores) the transaction's own writes.
	res := e.step(commitTS, func(ec *evalContext) (*kvpb.ResponseUnion, error) {
		ra, err := evalPrewrite(ec, pa)
		if err != nil {
			return nil, err
		}
		if _, err := evalPrewrite(ec, pb); err != nil {
			return nil, err
		}
		if _, err := evalValidateRead(ec, validate); err != nil {
			return nil, err
		}
		return ra, nil
	})
	wantOK(t, res)
	if got := res.resp.GetPrewrite().GetCommitTs(); got != commitTS {
		t.Fatalf("one-phase commit ts = %d, want %d", got, commitTS)
	}
	if res.ec.written != commitTS {
		t.Fatalf("written = %d, want %d", res.ec.written, commitTS)
	}
	for _, k := range []string{"a", "b"} {
		if l := e.getLock(k); l != nil {
			t.Fatalf("one-phase commit left a lock on %q: %+v", k, l)
		}
		if s, ts := e.txnState(k, start); s != storage.TxnKeyCommitted || ts != commitTS {
			t.Fatalf("FindTxnWrite(%q) = %d@%d", k, s, ts)
		}
	}
	e.wantValue("a", commitTS-1, true, "old", tts(5))
	e.wantValue("a", commitTS, true, "new", commitTS)
	e.wantValue("b", commitTS-1, true, "old-b", tts(5))
	e.wantValue("b", commitTS, false, "", 0)

	// Replayed (the same batch sent again): nothing is written, and the
	// response still carries the commit timestamp.
	res = e.prewrite(tts(30), pa)
	wantOK(t, res)
	if res.wrote {
		t.Fatal("replayed one-phase prewrite wrote")
	}
	if got := res.resp.GetPrewrite().GetCommitTs(); got != commitTS {
		t.Fatalf("replayed one-phase prewrite: commit ts %d, want %d", got, commitTS)
	}
	e.wantValue("a", storage.MaxTimestamp, true, "new", commitTS)
}

func TestResolve(t *testing.T) {
	const key = "a"
	start, commitTS := tts(10), tts(20)
	prewritten := func(e *txnEnv) {
		e.plainPut(key, tts(5), "old")
		wantOK(e.t, e.prewrite(tts(11), prewriteReq(key, "new", start)))
	}
	committed := func(e *txnEnv) {
		prewritten(e)
		wantOK(e.t, e.resolve(key, start, commitTS))
	}
	rolledBack := func(e *txnEnv) {
		prewritten(e)
		wantOK(e.t, e.resolve(key, start, 0))
	}
	otherLock := &storage.Lock{Primary: []byte("o"), StartTS: tts(8), TTLMillis: 5, Op: storage.LockPut, Value: []byte("o")}
	tests := []struct {
		name      string
		setup     func(e *txnEnv)
		commitTS  uint64 // of the resolve; 0 rolls back
		check     func(t *testing.T, err error)
		wantWrote bool
		// after checks the state once the resolve is done.
		after func(t *testing.T, e *txnEnv)
	}{
		{
			name: "commit replayed", setup: committed, commitTS: commitTS,
			after: func(t *testing.T, e *txnEnv) { e.wantValue(key, storage.MaxTimestamp, true, "new", commitTS) },
		},
		{
			name: "commit replayed with another commit ts", setup: committed, commitTS: commitTS + 5,
			after: func(t *testing.T, e *txnEnv) { e.wantValue(key, storage.MaxTimestamp, true, "new", commitTS) },
		},
		{
			name: "rollback after commit", setup: committed,
			check: func(t *testing.T, err error) { wantAlreadyCommitted(t, err, commitTS) },
			after: func(t *testing.T, e *txnEnv) { e.wantValue(key, storage.MaxTimestamp, true, "new", commitTS) },
		},
		{
			name: "rollback after commit, key overwritten since", commitTS: 0,
			setup: func(e *txnEnv) { committed(e); e.plainPut(key, tts(40), "later") },
			check: func(t *testing.T, err error) { wantAlreadyCommitted(t, err, commitTS) },
		},
		{
			name: "commit after rollback", setup: rolledBack, commitTS: commitTS,
			check: func(t *testing.T, err error) { wantTxnRetry(t, err, kvpb.TxnRetry_ABORTED, key) },
			after: func(t *testing.T, e *txnEnv) { e.wantValue(key, storage.MaxTimestamp, true, "old", tts(5)) },
		},
		{
			name: "rollback replayed", setup: rolledBack,
			after: func(t *testing.T, e *txnEnv) {
				if s, _ := e.txnState(key, start); s != storage.TxnKeyRolledBack {
					t.Fatalf("state %d, want rolled back", s)
				}
			},
		},
		{
			name: "rollback of a lock", setup: prewritten, wantWrote: true,
			after: func(t *testing.T, e *txnEnv) {
				if l := e.getLock(key); l != nil {
					t.Fatalf("lock left after rollback: %+v", l)
				}
				e.wantValue(key, storage.MaxTimestamp, true, "old", tts(5)) // the marker is invisible
				if s, _ := e.txnState(key, start); s != storage.TxnKeyRolledBack {
					t.Fatalf("state %d, want rolled back", s)
				}
			},
		},
		{
			name: "rollback of a never prewritten key", wantWrote: true,
			setup: func(e *txnEnv) { e.plainPut(key, tts(5), "old") },
			after: func(t *testing.T, e *txnEnv) {
				e.wantValue(key, storage.MaxTimestamp, true, "old", tts(5))
				// The late prewrite fails, and so would the commit.
				wantTxnRetry(t, e.prewrite(tts(30), prewriteReq(key, "new", start)).err, kvpb.TxnRetry_ABORTED, key)
				wantTxnRetry(t, e.resolve(key, start, commitTS).err, kvpb.TxnRetry_ABORTED, key)
				if l := e.getLock(key); l != nil {
					t.Fatalf("late prewrite left a lock: %+v", l)
				}
			},
		},
		{
			name: "commit of a never prewritten key", commitTS: commitTS,
			setup: func(e *txnEnv) { e.plainPut(key, tts(5), "old") },
			check: func(t *testing.T, err error) { wantTxnRetry(t, err, kvpb.TxnRetry_ABORTED, key) },
		},
		{
			name: "rollback with another transaction's lock", wantWrote: true,
			setup: func(e *txnEnv) { e.lock(key, otherLock) },
			after: func(t *testing.T, e *txnEnv) {
				if l := e.getLock(key); l == nil || l.StartTS != otherLock.StartTS {
					t.Fatalf("the other transaction's lock = %+v", l)
				}
				if s, _ := e.txnState(key, start); s != storage.TxnKeyRolledBack {
					t.Fatalf("state %d, want rolled back", s)
				}
			},
		},
		{
			name: "commit with another transaction's lock", commitTS: commitTS,
			setup: func(e *txnEnv) { e.lock(key, otherLock) },
			check: func(t *testing.T, err error) { wantTxnRetry(t, err, kvpb.TxnRetry_ABORTED, key) },
			after: func(t *testing.T, e *txnEnv) {
				if l := e.getLock(key); l == nil || l.StartTS != otherLock.StartTS {
					t.Fatalf("the other transaction's lock = %+v", l)
				}
			},
		},
		{
			name: "commit ts not above the start", setup: prewritten, commitTS: start,
			check: func(t *testing.T, err error) {
				if err == nil {
					t.Fatal("commit at the start timestamp succeeded")
				}
			},
			after: func(t *testing.T, e *txnEnv) {
				if l := e.getLock(key); l == nil {
					t.Fatal("a failed commit removed the lock")
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTxnEnv(t)
			tc.setup(e)
			res := e.resolve(key, start, tc.commitTS)
			if tc.check != nil {
				tc.check(t, res.err)
			} else {
				wantOK(t, res)
				if res.resp.GetResolve() == nil {
					t.Fatalf("response %v", res.resp)
				}
			}
			// A failed step's batch is discarded, whatever it holds.
			if res.err == nil && res.wrote != tc.wantWrote {
				t.Fatalf("resolve wrote %v, want %v", res.wrote, tc.wantWrote)
			}
			if tc.after != nil {
				tc.after(t, e)
			}
		})
	}
}

func TestCheckTxn(t *testing.T) {
	const key = "p"
	start := tts(0)
	now := tts(1000)
	lockWithTTL := func(ttl uint64) func(e *txnEnv) {
		return func(e *txnEnv) {
			p := prewriteReq(key, "v", start)
			p.Primary, p.TtlMs = []byte(key), ttl
			wantOK(e.t, e.prewrite(start+1, p))
		}
	}
	expired := lockWithTTL(100)
	tests := []struct {
		name       string
		setup      func(e *txnEnv)
		flag       bool
		now        uint64
		want       kvpb.TxnStatus
		wantCommit uint64
		wantWrote  bool
		// wantLock: the transaction's lock is still there afterwards.
		wantLock bool
	}{
		{name: "live lock", setup: lockWithTTL(5000), want: kvpb.TxnStatus_PENDING, wantLock: true},
		{name: "expired lock without the flag", setup: expired, want: kvpb.TxnStatus_PENDING, wantLock: true},
		{name: "live lock with the flag", setup: lockWithTTL(5000), flag: true, want: kvpb.TxnStatus_PENDING, wantLock: true},
		{name: "lock at its deadline", setup: lockWithTTL(1000), flag: true, want: kvpb.TxnStatus_PENDING, wantLock: true},
		{name: "lock just past its deadline", setup: lockWithTTL(999), flag: true, want: kvpb.TxnStatus_ROLLED_BACK, wantWrote: true},
		{name: "expired lock with the flag", setup: expired, flag: true, want: kvpb.TxnStatus_ROLLED_BACK, wantWrote: true},
		{name: "zero ttl", setup: lockWithTTL(0), flag: true, now: start + 1<<hlc.LogicalBits, want: kvpb.TxnStatus_ROLLED_BACK, wantWrote: true},
		{
			name: "committed", want: kvpb.TxnStatus_COMMITTED, wantCommit: tts(20),
			setup: func(e *txnEnv) { expired(e); wantOK(e.t, e.resolve(key, start, tts(20))) },
		},
		{
			name: "committed, with the flag", flag: true, want: kvpb.TxnStatus_COMMITTED, wantCommit: tts(20),
			setup: func(e *txnEnv) { expired(e); wantOK(e.t, e.resolve(key, start, tts(20))) },
		},
		{
			name: "rolled back", want: kvpb.TxnStatus_ROLLED_BACK,
			setup: func(e *txnEnv) { expired(e); wantOK(e.t, e.resolve(key, start, 0)) },
		},
		{
			name: "rolled back, with the flag", flag: true, want: kvpb.TxnStatus_ROLLED_BACK,
			setup: func(e *txnEnv) { expired(e); wantOK(e.t, e.resolve(key, start, 0)) },
		},
		{name: "missing primary lock", setup: func(e *txnEnv) {}, want: kvpb.TxnStatus_PENDING},
		{name: "missing primary lock with the flag", setup: func(e *txnEnv) {}, flag: true, want: kvpb.TxnStatus_ROLLED_BACK, wantWrote: true},
		{
			name: "another transaction's lock", want: kvpb.TxnStatus_PENDING,
			setup: func(e *txnEnv) {
				e.lock(key, &storage.Lock{Primary: []byte(key), StartTS: tts(1), Op: storage.LockPut})
			},
		},
		{
			name: "another transaction's lock with the flag", flag: true, want: kvpb.TxnStatus_ROLLED_BACK, wantWrote: true,
			setup: func(e *txnEnv) {
				e.lock(key, &storage.Lock{Primary: []byte(key), StartTS: tts(1), Op: storage.LockPut})
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTxnEnv(t)
			tc.setup(e)
			otherBefore := e.getLock(key)
			if otherBefore != nil && otherBefore.StartTS == start {
				otherBefore = nil
			}
			at := now
			if tc.now != 0 {
				at = tc.now
			}
			res := e.checkTxn(key, start, tc.flag, at)
			wantOK(t, res)
			ct := res.resp.GetCheckTxn()
			if ct.GetStatus() != tc.want || ct.GetCommitTs() != tc.wantCommit {
				t.Fatalf("CheckTxn = %v@%d, want %v@%d", ct.GetStatus(), ct.GetCommitTs(), tc.want, tc.wantCommit)
			}
			// A failed step's batch is discarded, whatever it holds.
			if res.err == nil && res.wrote != tc.wantWrote {
				t.Fatalf("CheckTxn wrote %v, want %v", res.wrote, tc.wantWrote)
			}
			l := e.getLock(key)
			switch {
			case tc.wantLock && (l == nil || l.StartTS != start):
				t.Fatalf("the transaction's lock = %+v, want it kept", l)
			case !tc.wantLock && l != nil && l.StartTS == start:
				t.Fatalf("the transaction's lock is still there: %+v", l)
			case otherBefore != nil && (l == nil || l.StartTS != otherBefore.StartTS):
				t.Fatalf("another transaction's lock was touched: %+v", l)
			}
			if tc.want != kvpb.TxnStatus_ROLLED_BACK {
				return
			}
			// Rolled back for good: the state is recorded, a late prewrite
			// and the commit both fail.
			if s, _ := e.txnState(key, start); s != storage.TxnKeyRolledBack {
				t.Fatalf("FindTxnWrite = %d, want rolled back", s)
			}
			if perr := e.prewrite(at, prewriteReq(key, "v", start)).err; otherBefore != nil {
				wantLockConflict(t, perr, key, otherBefore.StartTS) // the other lock is met first
			} else {
				wantTxnRetry(t, perr, kvpb.TxnRetry_ABORTED, key)
			}
			wantTxnRetry(t, e.resolve(key, start, at).err, kvpb.TxnRetry_ABORTED, key)
			if res := e.checkTxn(key, start, false, at); res.err != nil || res.resp.GetCheckTxn().GetStatus() != kvpb.TxnStatus_ROLLED_BACK || res.wrote {
				t.Fatalf("CheckTxn after rollback: %v, %v (wrote %v)", res.resp, res.err, res.wrote)
			}
		})
	}
}

func TestHeartbeatTxn(t *testing.T) {
	const key = "p"
	start := tts(0)
	now := tts(1000)
	prewrite := func(e *txnEnv) {
		p := prewriteReq(key, "v", start)
		p.Primary, p.TtlMs = []byte(key), 100
		wantOK(e.t, e.prewrite(start+1, p))
	}

	t.Run("raises the ttl", func(t *testing.T) {
		e := newTxnEnv(t)
		prewrite(e)
		res := e.heartbeat(key, start, 5000)
		wantOK(t, res)
		if s := res.resp.GetHeartbeatTxn().GetStatus(); s != kvpb.TxnStatus_PENDING || !res.wrote {
			t.Fatalf("heartbeat = %v (wrote %v), want PENDING", s, res.wrote)
		}
		l := e.getLock(key)
		if l == nil || l.TTLMillis != 5000 || l.StartTS != start || string(l.Value) != "v" || string(l.Primary) != key || l.Op != storage.LockPut {
			t.Fatalf("lock after heartbeat = %+v", l)
		}
		// Expired at now without the heartbeat; alive with it.
		res = e.checkTxn(key, start, true, now)
		if res.err != nil || res.resp.GetCheckTxn().GetStatus() != kvpb.TxnStatus_PENDING || res.wrote {
			t.Fatalf("CheckTxn after heartbeat: %v, %v", res.resp, res.err)
		}
		// It expires once the raised TTL has passed.
		res = e.checkTxn(key, start, true, tts(5001))
		if res.err != nil || res.resp.GetCheckTxn().GetStatus() != kvpb.TxnStatus_ROLLED_BACK {
			t.Fatalf("CheckTxn past the raised ttl: %v, %v", res.resp, res.err)
		}
		// A heartbeat after the rollback reports it.
		if res := e.heartbeat(key, start, 10000); res.err != nil || res.resp.GetHeartbeatTxn().GetStatus() != kvpb.TxnStatus_ROLLED_BACK || res.wrote {
			t.Fatalf("heartbeat after rollback: %v, %v", res.resp, res.err)
		}
	})

	t.Run("control: expired without heartbeat", func(t *testing.T) {
		e := newTxnEnv(t)
		prewrite(e)
		res := e.checkTxn(key, start, true, now)
		if res.err != nil || res.resp.GetCheckTxn().GetStatus() != kvpb.TxnStatus_ROLLED_BACK {
			t.Fatalf("CheckTxn: %v, %v", res.resp, res.err)
		}
	})

	tests := []struct {
		name      string
		setup     func(e *txnEnv)
		ttl       uint64
		want      kvpb.TxnStatus
		wantTTL   uint64 // of the transaction's lock afterwards; 0: no lock
		otherLock bool
	}{
		{name: "lower ttl", setup: prewrite, ttl: 50, want: kvpb.TxnStatus_PENDING, wantTTL: 100},
		{name: "same ttl", setup: prewrite, ttl: 100, want: kvpb.TxnStatus_PENDING, wantTTL: 100},
		{
			name: "committed", ttl: 5000, want: kvpb.TxnStatus_COMMITTED,
			setup: func(e *txnEnv) { prewrite(e); wantOK(e.t, e.resolve(key, start, tts(20))) },
		},
		{
			name: "rolled back", ttl: 5000, want: kvpb.TxnStatus_ROLLED_BACK,
			setup: func(e *txnEnv) { prewrite(e); wantOK(e.t, e.resolve(key, start, 0)) },
		},
		{name: "no lock, no record", setup: func(e *txnEnv) {}, ttl: 5000, want: kvpb.TxnStatus_ROLLED_BACK},
		{
			name: "another transaction's lock", ttl: 5000, want: kvpb.TxnStatus_ROLLED_BACK, otherLock: true,
			setup: func(e *txnEnv) {
				e.lock(key, &storage.Lock{Primary: []byte(key), StartTS: tts(1), TTLMillis: 7, Op: storage.LockPut})
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTxnEnv(t)
			tc.setup(e)
			res := e.heartbeat(key, start, tc.ttl)
			wantOK(t, res)
			if s := res.resp.GetHeartbeatTxn().GetStatus(); s != tc.want {
				t.Fatalf("heartbeat = %v, want %v", s, tc.want)
			}
			if res.wrote {
				t.Fatal("heartbeat wrote")
			}
			l := e.getLock(key)
			switch {
			case tc.otherLock:
				if l == nil || l.StartTS != tts(1) || l.TTLMillis != 7 {
					t.Fatalf("another transaction's lock = %+v", l)
				}
			case tc.wantTTL == 0 && l != nil:
				t.Fatalf("lock = %+v, want none", l)
			case tc.wantTTL != 0 && (l == nil || l.TTLMillis != tc.wantTTL):
				t.Fatalf("lock = %+v, want ttl %d", l, tc.wantTTL)
			}
		})
	}
}

func TestValidateRead(t *testing.T) {
	start, commitTS := tts(10), tts(30)
	other := func(startTS uint64) *storage.Lock {
		return &storage.Lock{Primary: []byte("o"), StartTS: startTS, Op: storage.LockPut}
	}
	tests := []struct {
		name       string
		setup      func(e *txnEnv)
		key, end   string
		commitTS   uint64 // 0: the batch's timestamp (ecTS)
		ecTS       uint64
		wantKey    string // the conflicting key, "" when the read is valid
		wantReject bool
	}{
		{name: "untouched", setup: func(e *txnEnv) {}, key: "a", commitTS: commitTS},
		{name: "written between start and commit", setup: func(e *txnEnv) { e.plainPut("a", tts(20), "v") }, key: "a", commitTS: commitTS, wantKey: "a"},
		{name: "deleted between start and commit", setup: func(e *txnEnv) { e.plainDelete("a", tts(20)) }, key: "a", commitTS: commitTS, wantKey: "a"},
		{name: "written at the commit ts", setup: func(e *txnEnv) { e.plainPut("a", commitTS, "v") }, key: "a", commitTS: commitTS, wantKey: "a"},
		{name: "written after the commit ts", setup: func(e *txnEnv) { e.plainPut("a", commitTS+1, "v") }, key: "a", commitTS: commitTS},
		{name: "written at the start ts", setup: func(e *txnEnv) { e.plainPut("a", start, "v") }, key: "a", commitTS: commitTS},
		{name: "written before the start", setup: func(e *txnEnv) { e.plainPut("a", tts(5), "v") }, key: "a", commitTS: commitTS},
		{
			name: "committed by another transaction", key: "a", commitTS: commitTS, wantKey: "a",
			setup: func(e *txnEnv) { e.txnCommitted("a", tts(25), tts(12), "v") },
		},
		{
			name: "committed by this transaction", key: "a", commitTS: commitTS,
			setup: func(e *txnEnv) { e.txnCommitted("a", commitTS, start, "v") },
		},
		{
			name: "rolled back transaction", key: "a", commitTS: commitTS,
			setup: func(e *txnEnv) { wantOK(e.t, e.resolve("a", tts(20), 0)) },
		},
		{name: "foreign lock started after our start", setup: func(e *txnEnv) { e.lock("a", other(tts(20))) }, key: "a", commitTS: commitTS, wantKey: "a"},
		{name: "foreign lock started before our start", setup: func(e *txnEnv) { e.lock("a", other(tts(5))) }, key: "a", commitTS: commitTS, wantKey: "a"},
		{name: "foreign lock started after our commit", setup: func(e *txnEnv) { e.lock("a", other(commitTS+1)) }, key: "a", commitTS: commitTS},
		{name: "own lock", setup: func(e *txnEnv) { e.lock("a", other(start)) }, key: "a", commitTS: commitTS},
		{name: "other keys are not checked", setup: func(e *txnEnv) { e.plainPut("b", tts(20), "v"); e.lock("a\x00", other(tts(20))) }, key: "a", commitTS: commitTS},
		{name: "span: write inside", setup: func(e *txnEnv) { e.plainPut("b", tts(20), "v") }, key: "a", end: "c", commitTS: commitTS, wantKey: "b"},
		{name: "span: lock inside", setup: func(e *txnEnv) { e.lock("b", other(tts(20))) }, key: "a", end: "c", commitTS: commitTS, wantKey: "b"},
		{name: "span: end is exclusive", setup: func(e *txnEnv) { e.plainPut("c", tts(20), "v") }, key: "a", end: "c", commitTS: commitTS},
		{
			name: "span: first conflict", key: "a", end: "z", commitTS: commitTS, wantKey: "c",
			setup: func(e *txnEnv) {
				e.plainPut("a", tts(5), "v")
				e.plainPut("b", tts(40), "v")
				e.plainPut("c", tts(20), "v")
				e.lock("d", other(tts(20)))
			},
		},
		{name: "one phase: below the batch ts", setup: func(e *txnEnv) { e.plainPut("a", tts(20), "v") }, key: "a", ecTS: tts(25), wantKey: "a"},
		{name: "one phase: above the batch ts", setup: func(e *txnEnv) { e.plainPut("a", tts(20), "v") }, key: "a", ecTS: tts(15)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTxnEnv(t)
			tc.setup(e)
			ecTS := tc.ecTS
			if ecTS == 0 {
				ecTS = tts(100_000) // a commit ts in the request overrides it
			}
			q := &kvpb.ValidateReadRequest{Key: []byte(tc.key), StartTs: start, CommitTs: tc.commitTS}
			if tc.end != "" {
				q.EndKey = []byte(tc.end)
			}
			res := e.validate(ecTS, q)
			if res.wrote {
				t.Fatal("validation wrote")
			}
			if tc.wantKey == "" {
				wantOK(t, res)
				if res.resp.GetValidateRead() == nil {
					t.Fatalf("response %v", res.resp)
				}
				return
			}
			wantTxnRetry(t, res.err, kvpb.TxnRetry_READ_INVALIDATED, tc.wantKey)
		})
	}
}

func TestPlainWritesOnLockedKey(t *testing.T) {
	l := &storage.Lock{Primary: []byte("p"), StartTS: tts(10), TTLMillis: 1000, Op: storage.LockPut, Value: []byte("x")}
	reqs := []struct {
		name string
		req  *kvpb.RequestUnion
	}{
		{"put", &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Put{Put: &kvpb.PutRequest{Key: []byte("a"), Value: []byte("v")}}}},
		{"delete", &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Delete{Delete: &kvpb.DeleteRequest{Key: []byte("a")}}}},
		{"cas matching", &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Cas{Cas: &kvpb.CompareAndSetRequest{Key: []byte("a"), ExpectedValue: []byte("old"), NewValue: []byte("v")}}}},
		{"cas mismatching", &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Cas{Cas: &kvpb.CompareAndSetRequest{Key: []byte("a"), ExpectedValue: []byte("nope"), NewValue: []byte("v")}}}},
		{"cas expect absent", &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Cas{Cas: &kvpb.CompareAndSetRequest{Key: []byte("a"), ExpectAbsent: true, NewValue: []byte("v")}}}},
		{"cas delete", &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Cas{Cas: &kvpb.CompareAndSetRequest{Key: []byte("a"), ExpectedValue: []byte("old"), Delete: true}}}},
		{"increment", &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Increment{Increment: &kvpb.IncrementRequest{Key: []byte("n"), Delta: 1}}}},
		{"get in a write batch", rawGet("a")},
		{"scan in a write batch", rawScan("a", "b", 0)},
	}
	for _, rq := range reqs {
		for _, ts := range []uint64{tts(5), tts(20)} { // below and above the lock's start
			t.Run(fmt.Sprintf("%s@%d", rq.name, ts), func(t *testing.T) {
				e := newTxnEnv(t)
				e.plainPut("a", tts(5), "old")
				e.lock("a", l)
				e.lock("n", l)
				res := e.step(ts, func(ec *evalContext) (*kvpb.ResponseUnion, error) { return evalWrite(ec, rq.req) })
				k, _ := kvpb.RequestKeys(rq.req)
				info := wantLockConflict(t, res.err, string(k), l.StartTS)
				if string(info.Primary) != "p" || info.TtlMs != 1000 {
					t.Fatalf("lock info %v", info)
				}
				if res.wrote || res.ec.written != 0 {
					t.Fatal("a write refused for a lock wrote")
				}
				e.wantValue("a", tts(5), true, "old", tts(5))
			})
		}
	}
	// Once the lock is resolved, plain writes go through again.
	e := newTxnEnv(t)
	e.lock("a", l)
	wantOK(t, e.resolve("a", l.StartTS, tts(20)))
	res := e.step(tts(30), func(ec *evalContext) (*kvpb.ResponseUnion, error) { return evalWrite(ec, reqs[0].req) })
	wantOK(t, res)
	e.wantValue("a", tts(30), true, "v", tts(30))
}

func TestEvalReadWithLocks(t *testing.T) {
	e := newTxnEnv(t)
	e.plainPut("0", tts(5), "zero")
	e.plainPut("a", tts(5), "old")
	e.plainPut("b", tts(5), "b")
	start := tts(10)
	wantOK(t, e.prewrite(tts(11), prewriteReq("a", "new", start)))

	getTests := []struct {
		key    string
		ts     uint64
		locked bool
	}{
		{"a", tts(5), false},
		{"a", start - 1, false},
		{"a", start, true},
		{"a", start + 1, true},
		{"a", storage.MaxTimestamp, true},
		{"b", storage.MaxTimestamp, false},
	}
	for _, tc := range getTests {
		_, err := e.read(rawGet(tc.key), tc.ts)
		if tc.locked {
			wantLockConflict(t, err, tc.key, start)
			continue
		}
		if err != nil {
			t.Fatalf("get %q@%d: %v", tc.key, tc.ts, err)
		}
	}
	e.wantValue("a", start-1, true, "old", tts(5))

	scanTests := []struct {
		name       string
		start, end string
		limit      int64
		ts         uint64
		wantKeys   string // "" with lockedKey set: the scan fails
		wantMore   bool
		lockedKey  string
	}{
		{"below the lock", "0", "z", 0, start - 1, "0=zero a=old b=b", false, ""},
		{"at the lock", "0", "z", 0, start, "", false, "a"},
		{"above the lock", "0", "z", 0, storage.MaxTimestamp, "", false, "a"},
		{"span without the locked key", "b", "z", 0, storage.MaxTimestamp, "b=b", false, ""},
		{"span ending at the locked key", "0", "a", 0, storage.MaxTimestamp, "0=zero", false, ""},
		{"limit stops before the locked key", "0", "z", 1, storage.MaxTimestamp, "0=zero", true, ""},
		{"limit covers the locked key", "0", "z", 2, storage.MaxTimestamp, "", false, "a"},
	}
	for _, tc := range scanTests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := e.read(rawScan(tc.start, tc.end, tc.limit), tc.ts)
			if tc.lockedKey != "" {
				wantLockConflict(t, err, tc.lockedKey, start)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, kv := range resp.GetScan().Kvs {
				got = append(got, string(kv.Key)+"="+string(kv.Value))
			}
			if strings.Join(got, " ") != tc.wantKeys || resp.GetScan().More != tc.wantMore {
				t.Fatalf("scan = %q more %v, want %q more %v", got, resp.GetScan().More, tc.wantKeys, tc.wantMore)
			}
		})
	}
}

// TestEvalTxnDispatch: evalWrite routes the transaction requests, and
// CheckTxn judges expiry at the batch's timestamp.
func TestEvalTxnDispatch(t *testing.T) {
	e := newTxnEnv(t)
	start := tts(0)
	w := func(ts uint64, q *kvpb.RequestUnion) stepResult {
		return e.step(ts, func(ec *evalContext) (*kvpb.ResponseUnion, error) { return evalWrite(ec, q) })
	}
	p := prewriteReq("p", "v", start)
	p.Primary, p.TtlMs = []byte("p"), 100
	if res := w(tts(1), &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Prewrite{Prewrite: p}}); res.err != nil || res.resp.GetPrewrite() == nil {
		t.Fatalf("prewrite: %v, %v", res.resp, res.err)
	}
	check := &kvpb.RequestUnion{Value: &kvpb.RequestUnion_CheckTxn{CheckTxn: &kvpb.CheckTxnRequest{Key: []byte("p"), StartTs: start, RollbackIfExpired: true}}}
	if res := w(tts(50), check); res.err != nil || res.resp.GetCheckTxn().GetStatus() != kvpb.TxnStatus_PENDING {
		t.Fatalf("CheckTxn within the ttl: %v, %v", res.resp, res.err)
	}
	hb := &kvpb.RequestUnion{Value: &kvpb.RequestUnion_HeartbeatTxn{HeartbeatTxn: &kvpb.HeartbeatTxnRequest{Key: []byte("p"), StartTs: start, TtlMs: 300}}}
	if res := w(tts(60), hb); res.err != nil || res.resp.GetHeartbeatTxn().GetStatus() != kvpb.TxnStatus_PENDING {
		t.Fatalf("heartbeat: %v, %v", res.resp, res.err)
	}
	if res := w(tts(250), check); res.err != nil || res.resp.GetCheckTxn().GetStatus() != kvpb.TxnStatus_PENDING {
		t.Fatalf("CheckTxn within the raised ttl: %v, %v", res.resp, res.err)
	}
	vr := &kvpb.RequestUnion{Value: &kvpb.RequestUnion_ValidateRead{ValidateRead: &kvpb.ValidateReadRequest{Key: []byte("q"), StartTs: start, CommitTs: tts(10)}}}
	if res := w(tts(260), vr); res.err != nil || res.resp.GetValidateRead() == nil {
		t.Fatalf("ValidateRead: %v, %v", res.resp, res.err)
	}
	if res := w(tts(301), check); res.err != nil || res.resp.GetCheckTxn().GetStatus() != kvpb.TxnStatus_ROLLED_BACK {
		t.Fatalf("CheckTxn past the ttl: %v, %v", res.resp, res.err)
	}
	rs := &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Resolve{Resolve: &kvpb.ResolveRequest{Key: []byte("p"), StartTs: start, CommitTs: tts(400)}}}
	wantTxnRetry(t, w(tts(400), rs).err, kvpb.TxnRetry_ABORTED, "p")
}
