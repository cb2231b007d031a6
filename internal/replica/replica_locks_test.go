package replica

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cairndb/cairn/internal/hlc"
	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/storage"
)

// checkLockCounts compares every replica's lock count with a recount of its
// span: a known count must be exact (a count of 0 with a lock present would
// let a plain write overwrite a locked key).
func checkLockCounts(t *testing.T, n *testNode, wantKnown bool, step string) {
	t.Helper()
	for _, r := range n.store.Replicas() {
		d := r.Desc()
		c := r.locks()
		if !c.known {
			if wantKnown {
				t.Fatalf("%s: range %d: lock count unknown", step, d.RangeId)
			}
			continue
		}
		got, err := countLocks(n.eng.Reader(), d.StartKey, d.EndKey)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.n {
			t.Fatalf("%s: range %d: lock count %d, the span holds %d", step, d.RangeId, c.n, got)
		}
		persisted, err := readLockCount(n.eng.Reader(), d.RangeId)
		if err != nil {
			t.Fatal(err)
		}
		if persisted != c {
			t.Fatalf("%s: range %d: persisted lock count %+v, in memory %+v", step, d.RangeId, persisted, c)
		}
	}
}

func txnReq(q any) *kvpb.RequestUnion {
	switch v := q.(type) {
	case *kvpb.PrewriteRequest:
		return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Prewrite{Prewrite: v}}
	case *kvpb.AcquireLockRequest:
		return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_AcquireLock{AcquireLock: v}}
	case *kvpb.ResolveRequest:
		return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Resolve{Resolve: v}}
	case *kvpb.CheckTxnRequest:
		return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_CheckTxn{CheckTxn: v}}
	case *kvpb.HeartbeatTxnRequest:
		return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_HeartbeatTxn{HeartbeatTxn: v}}
	}
	panic(fmt.Sprintf("unknown request %T", q))
}

// TestLockCountModel runs random transaction steps and plain writes against
// a node and checks after each that every range's lock count is exact, that
// a plain put fails exactly when its key is locked (the count lets it skip
// the lookup only when no lock exists), and that the counts survive a split
// and a restart.
func TestLockCountModel(t *testing.T) {
	eng := memEngine(t)
	clock := hlc.New(nil)
	n := startNodeWithClock(t, eng, clock)
	defer func() { n.stop() }()
	rng := rand.New(rand.NewPCG(7, 11))
	const nKeys = 12
	key := func(i int) []byte { return keys.KVKey(fmt.Appendf(nil, "k%02d", i)) }
	rangeOf := func(k []byte) uint64 {
		for _, r := range n.store.Replicas() {
			if d := r.Desc(); containsKey(d, k) {
				return d.RangeId
			}
		}
		t.Fatalf("no range holds %q", k)
		return 0
	}
	// starts are the start timestamps of the transactions steps pick from.
	var starts []uint64
	for i := 0; i < 6; i++ {
		starts = append(starts, clock.Now())
	}
	checkLockCounts(t, n, true, "start")
	split := false
	// Coverage of the cases that matter, so the test cannot pass vacuously.
	var putsLocked, putsFree, putsFreeWithLocks int
	for step := 0; step < 600; step++ {
		i := rng.IntN(nKeys)
		k := key(i)
		start := starts[rng.IntN(len(starts))]
		primary := key(0)
		var reqs []*kvpb.RequestUnion
		plainPut := false
		switch op := rng.IntN(9); op {
		case 0, 1:
			reqs = append(reqs, txnReq(&kvpb.PrewriteRequest{Key: k, Value: []byte("v"), Primary: primary, StartTs: start, TtlMs: uint64(1 + rng.IntN(2)*60_000)}))
		case 2:
			reqs = append(reqs, txnReq(&kvpb.PrewriteRequest{Key: k, Value: []byte("v"), Primary: k, StartTs: start, OnePc: true}))
		case 3:
			reqs = append(reqs, txnReq(&kvpb.AcquireLockRequest{Key: k, Primary: primary, StartTs: start, TtlMs: 60_000}))
		case 4:
			commit := uint64(0)
			if rng.IntN(2) == 0 {
				commit = clock.Now()
			}
			reqs = append(reqs, txnReq(&kvpb.ResolveRequest{Key: k, StartTs: start, CommitTs: commit}))
		case 5:
			reqs = append(reqs, txnReq(&kvpb.CheckTxnRequest{Key: k, StartTs: start, RollbackIfExpired: true}))
		case 6:
			reqs = append(reqs, txnReq(&kvpb.HeartbeatTxnRequest{Key: k, StartTs: start, TtlMs: 120_000}))
		case 7:
			plainPut = true
			reqs = append(reqs, put(fmt.Sprintf("k%02d", i), "plain"))
		case 8:
			// A batch that locks a key and then writes it plainly: the put
			// must see the lock the batch itself wrote.
			reqs = append(reqs,
				txnReq(&kvpb.AcquireLockRequest{Key: k, Primary: primary, StartTs: start, TtlMs: 60_000}),
				put(fmt.Sprintf("k%02d", i), "plain"))
		}
		locked, err := storage.GetLock(eng.Reader(), k)
		if err != nil {
			t.Fatal(err)
		}
		_, err = n.send(t, rangeOf(k), reqs...)
		e := kvpb.AsError(err)
		if err != nil && e.GetLockConflict() == nil && e.GetTxnRetry() == nil && e.GetTxnAlreadyCommitted() == nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if plainPut && (locked != nil) != (e.GetLockConflict() != nil) {
			t.Fatalf("step %d: plain put on %q with lock %+v: %v", step, k, locked, err)
		}
		if plainPut {
			switch {
			case locked != nil:
				putsLocked++
			case n.store.Replica(rangeOf(k)).locks().n > 0:
				putsFreeWithLocks++
			default:
				putsFree++
			}
		}
		if len(reqs) == 2 && err == nil {
			t.Fatalf("step %d: a batch locking %q and writing it plainly succeeded", step, k)
		}
		checkLockCounts(t, n, true, fmt.Sprintf("step %d", step))
		if step%50 == 49 {
			starts = append(starts[1:], clock.Now())
		}
		if step%40 == 39 {
			// Roll every lock back, so that ranges also run without any.
			for j := 0; j < nKeys; j++ {
				l, err := storage.GetLock(eng.Reader(), key(j))
				if err != nil {
					t.Fatal(err)
				}
				if l == nil {
					continue
				}
				if _, err := n.send(t, rangeOf(key(j)), txnReq(&kvpb.ResolveRequest{Key: key(j), StartTs: l.StartTS})); err != nil {
					t.Fatal(err)
				}
			}
			checkLockCounts(t, n, true, fmt.Sprintf("step %d rollback", step))
		}
		if step == 300 && !split {
			// Split with locks on both sides (if the dice left some).
			sp := &kvpb.RequestUnion{Value: &kvpb.RequestUnion_AdminSplit{AdminSplit: &kvpb.AdminSplitRequest{SplitKey: key(nKeys / 2), NewRangeId: 3}}}
			if _, err := n.send(t, keys.FirstUserRangeID, sp); err != nil {
				t.Fatal(err)
			}
			split = true
			checkLockCounts(t, n, true, "after split")
		}
	}
	if putsLocked < 5 || putsFree < 5 || putsFreeWithLocks < 5 {
		t.Fatalf("plain puts: %d on locked keys, %d in ranges without locks, %d on free keys of ranges with locks",
			putsLocked, putsFree, putsFreeWithLocks)
	}
	n.stop()
	n = startNodeWithClock(t, eng, clock)
	checkLockCounts(t, n, true, "after restart")
}

// TestLockCountUnknown: a range without a persisted count (created before
// the count existed) keeps it unknown through writes, so plain writes still
// look locks up, and a split gives the right half a counted, known count.
func TestLockCountUnknown(t *testing.T) {
	eng := memEngine(t)
	clock := hlc.New(nil)
	if _, err := Bootstrap(eng, clock, "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if err := eng.DB().Delete(storage.RangeLockCountKey(keys.FirstUserRangeID), nil); err != nil {
		t.Fatal(err)
	}
	n := startNodeWithClock(t, eng, clock)
	defer func() { n.stop() }()
	start := clock.Now()
	lockKey := keys.KVKey([]byte("b"))
	for _, k := range []string{"a", "b", "x", "y"} {
		if _, err := n.send(t, keys.FirstUserRangeID, txnReq(&kvpb.AcquireLockRequest{
			Key: keys.KVKey([]byte(k)), Primary: lockKey, StartTs: start, TtlMs: 60_000})); err != nil {
			t.Fatal(err)
		}
	}
	if c := n.store.Replica(keys.FirstUserRangeID).locks(); c.known {
		t.Fatalf("count of a range without one became %+v", c)
	}
	_, err := n.send(t, keys.FirstUserRangeID, put("b", "plain"))
	if kvpb.AsError(err).GetLockConflict() == nil {
		t.Fatalf("plain put on a locked key of a range with an unknown count: %v", err)
	}
	sp := &kvpb.RequestUnion{Value: &kvpb.RequestUnion_AdminSplit{AdminSplit: &kvpb.AdminSplitRequest{SplitKey: keys.KVKey([]byte("m")), NewRangeId: 3}}}
	if _, err := n.send(t, keys.FirstUserRangeID, sp); err != nil {
		t.Fatal(err)
	}
	if c := n.store.Replica(3).locks(); c != (lockCount{n: 2, known: true}) {
		t.Fatalf("right half's count %+v, want 2 known", c)
	}
	if c := n.store.Replica(keys.FirstUserRangeID).locks(); c.known {
		t.Fatalf("left half's count %+v, want unknown", c)
	}
	checkLockCounts(t, n, false, "after split")
}
