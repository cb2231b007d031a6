package server

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/placement"
	"github.com/cairndb/cairn/internal/storage"
)

func counterValue(c prometheus.Counter) float64 {
	m := &dto.Metric{}
	if err := c.Write(m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

// localSend sends one request to the local replica holding key.
func localSend(t *testing.T, s *Server, key []byte, req *kvpb.RequestUnion) *kvpb.ResponseUnion {
	t.Helper()
	for _, r := range s.store.Replicas() {
		d := r.Desc()
		if bytes.Compare(key, d.StartKey) >= 0 && bytes.Compare(key, d.EndKey) < 0 {
			resp := s.store.Send(testCtx(t), &kvpb.RangeRequest{RangeId: r.RangeID, Requests: []*kvpb.RequestUnion{req}})
			if resp.Error != nil {
				t.Fatalf("%v: %v", req, resp.Error)
			}
			return resp.Responses[0]
		}
	}
	t.Fatalf("no local range holds %q", key)
	return nil
}

// engineEntries counts the engine entries (lock, versions, markers) of key.
func engineEntries(t *testing.T, s *Server, key []byte) int {
	t.Helper()
	p := storage.MVCCKeyPrefix(key)
	it, err := s.eng.Reader().NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: append(p[:len(p):len(p)], 0xff)})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for valid := it.First(); valid; valid = it.Next() {
		n++
	}
	return n
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func commitWithKey(t *testing.T, db *kv.DB, idempotencyKey, key, value string) kv.CommitResult {
	t.Helper()
	txn, err := db.Begin(testCtx(t), kv.TxnOptions{IdempotencyKey: idempotencyKey})
	if err != nil {
		t.Fatal(err)
	}
	if err := txn.Put(keys.KVKey([]byte(key)), []byte(value)); err != nil {
		t.Fatal(err)
	}
	res, err := txn.Commit(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestGarbageCollection runs the GC queue with gc_ttl 1s: overwritten
// versions disappear, a transaction older than gc_ttl can no longer read,
// abandoned locks are resolved (rolled back, or rolled forward when their
// primary committed), and idempotency records are collected once older
// than txn_record_ttl while younger ones remain.
func TestGarbageCollection(t *testing.T) {
	cfg := testConfig()
	cfg.GCInterval = 50 * time.Millisecond
	cfg.GCPause = time.Millisecond
	s := startTestServer(t, cfg)
	ctx := testCtx(t)
	deleted0, runs0, locks0 := counterValue(gcVersionsDeleted), counterValue(gcRuns), counterValue(gcLocksResolved)
	const recordTTL = 3 * time.Second
	if err := placement.SetSetting(ctx, s.db, placement.SettingGCTTL, "1s"); err != nil {
		t.Fatal(err)
	}
	if err := placement.SetSetting(ctx, s.db, placement.SettingTxnRecordTTL, recordTTL.String()); err != nil {
		t.Fatal(err)
	}
	if err := placement.SetSetting(ctx, s.db, placement.SettingGCTTL, "0.5s"); err == nil {
		t.Fatal("gc_ttl below 1s accepted")
	}

	oldTxn, err := s.db.Begin(ctx, kv.TxnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	k := keys.KVKey([]byte("k"))
	for _, v := range []string{"v1", "v2", "v3"} {
		if _, err := s.db.Put(ctx, k, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	recA := commitWithKey(t, s.db, "idem-a", "x", "a")
	aCommitted := time.Now()
	// Within txn_record_ttl a retry finds A's record (checked at once: the
	// window is short).
	if res := commitWithKey(t, s.db, "idem-a", "x", "again"); !res.AlreadyCommitted || res.CommitTS != recA.CommitTS {
		t.Fatalf("retry of A within the window: %+v, want the first commit %d", res, recA.CommitTS)
	}

	// An abandoned transaction: its only key locked, its coordinator gone.
	lockKey := keys.KVKey([]byte("abandoned"))
	start, err := s.Now(ctx)
	if err != nil {
		t.Fatal(err)
	}
	localSend(t, s, lockKey, &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Prewrite{Prewrite: &kvpb.PrewriteRequest{
		Key: lockKey, Value: []byte("never"), Primary: lockKey, StartTs: start, TtlMs: 1,
	}}})
	// A committed transaction whose secondary was never resolved.
	primary, secondary := keys.KVKey([]byte("p")), keys.KVKey([]byte("s"))
	start2, err := s.Now(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range [][]byte{primary, secondary} {
		localSend(t, s, key, &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Prewrite{Prewrite: &kvpb.PrewriteRequest{
			Key: key, Value: []byte("committed"), Primary: primary, StartTs: start2, TtlMs: 1,
		}}})
	}
	commitTS, err := s.Now(ctx)
	if err != nil {
		t.Fatal(err)
	}
	localSend(t, s, primary, &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Resolve{Resolve: &kvpb.ResolveRequest{
		Key: primary, StartTs: start2, CommitTs: commitTS,
	}}})

	// Overwritten versions go once older than gc_ttl; the newest stays.
	eventually(t, "k's old versions are collected", func() bool { return engineEntries(t, s, k) == 1 })
	if v, err := s.db.Get(ctx, k); err != nil || string(v.Value) != "v3" {
		t.Fatalf("k = %v %v after GC", v, err)
	}
	// A transaction older than gc_ttl can no longer read.
	_, err = oldTxn.Get(ctx, k)
	if !kvpb.IsRetryable(err) || !strings.Contains(err.Error(), "below the range's GC threshold") || !strings.Contains(err.Error(), "older than gc_ttl") {
		t.Fatalf("read of a transaction older than gc_ttl: %v", err)
	}

	// Old locks are resolved: rolled back, or committed as their primary was.
	eventually(t, "the abandoned lock is resolved", func() bool {
		l, err := storage.GetLock(s.eng.Reader(), lockKey)
		return err == nil && l == nil
	})
	if v, err := s.db.Get(ctx, lockKey); err != nil || v.Found {
		t.Fatalf("abandoned write visible: %v %v", v, err)
	}
	eventually(t, "the committed secondary is rolled forward", func() bool {
		l, err := storage.GetLock(s.eng.Reader(), secondary)
		return err == nil && l == nil
	})
	if v, err := s.db.Get(ctx, secondary); err != nil || string(v.Value) != "committed" || v.Timestamp != commitTS {
		t.Fatalf("secondary = %v %v, want the committed value at %d", v, err, commitTS)
	}

	// Idempotency records: A's is collected once older than
	// txn_record_ttl, B's (younger) stays and still answers a retry.
	time.Sleep(time.Until(aCommitted.Add(recordTTL)))
	recB := commitWithKey(t, s.db, "idem-b", "y", "b")
	recordFound := func(key string) bool {
		v, err := s.db.Get(ctx, keys.TxnRecordKey(key))
		if err != nil {
			t.Fatal(err)
		}
		return v.Found
	}
	eventually(t, "A's idempotency record is collected", func() bool { return !recordFound("idem-a") })
	if !recordFound("idem-b") {
		t.Fatal("B's idempotency record, younger than txn_record_ttl, was collected")
	}
	if res := commitWithKey(t, s.db, "idem-b", "y", "again"); !res.AlreadyCommitted || res.CommitTS != recB.CommitTS {
		t.Fatalf("retry of B within the window: %+v", res)
	}
	if res := commitWithKey(t, s.db, "idem-a", "x", "later"); res.AlreadyCommitted {
		t.Fatal("a retry of A after the window still found its record")
	}

	if d := counterValue(gcVersionsDeleted) - deleted0; d < 3 {
		t.Errorf("cairn_gc_versions_deleted_total grew by %v", d)
	}
	if d := counterValue(gcRuns) - runs0; d < 1 {
		t.Errorf("cairn_gc_runs_total grew by %v", d)
	}
	if d := counterValue(gcLocksResolved) - locks0; d < 2 {
		t.Errorf("cairn_gc_locks_resolved_total grew by %v", d)
	}
}

// TestGCQueueSkipsCleanRanges: a range left without garbage is not scanned
// again until it is written.
func TestGCQueueSkipsCleanRanges(t *testing.T) {
	cfg := testConfig()
	cfg.GCInterval = time.Hour // passes are run by hand below
	s := startTestServer(t, cfg)
	ctx := testCtx(t)
	if err := placement.SetSetting(ctx, s.db, placement.SettingGCTTL, "1s"); err != nil {
		t.Fatal(err)
	}
	q := newGCQueue(s)
	q.pause = time.Millisecond
	userRange := func() uint64 {
		for _, r := range s.store.Replicas() {
			if bytes.Compare(keys.KVPrefix, r.Desc().StartKey) >= 0 && bytes.Compare(keys.KVPrefix, r.Desc().EndKey) < 0 {
				return r.RangeID
			}
		}
		t.Fatal("no user range")
		return 0
	}()
	if _, err := s.db.Put(ctx, keys.KVKey([]byte("a")), []byte("1")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Put(ctx, keys.KVKey([]byte("a")), []byte("2")); err != nil {
		t.Fatal(err)
	}
	q.pass(ctx)
	if _, ok := q.clean[userRange]; ok {
		t.Fatal("a range with an overwritten version younger than gc_ttl counted as clean")
	}
	// Once the overwritten version is older than gc_ttl (1 s), a pass
	// collects it and the range counts as clean.
	eventually(t, "the range is clean once its garbage is collected", func() bool {
		q.pass(ctx)
		_, ok := q.clean[userRange]
		return ok
	})
	cleanAt := q.clean[userRange].pass
	q.pass(ctx)
	if m, ok := q.clean[userRange]; !ok || m.pass != cleanAt {
		t.Fatal("the clean range was collected again without a write")
	}
	if _, err := s.db.Put(ctx, keys.KVKey([]byte("b")), []byte("1")); err != nil {
		t.Fatal(err)
	}
	// The write makes the range due again; holding a single live version
	// per key, it is clean again afterwards.
	q.pass(ctx)
	if m, ok := q.clean[userRange]; !ok || m.pass == cleanAt {
		t.Fatal("the written range was not collected again")
	}
}
