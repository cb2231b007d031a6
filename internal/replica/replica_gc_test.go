package replica

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/internal/hlc"
	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/storage"
)

func gcReq(threshold uint64) *kvpb.GCRequest {
	return &kvpb.GCRequest{Key: keys.MetaEnd, EndKey: keys.KeyMax, ThresholdTs: threshold}
}

func gcUnion(q *kvpb.GCRequest) *kvpb.RequestUnion {
	return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Gc{Gc: q}}
}

// sendAt sends one request to range rangeID at MVCC timestamp ts.
func (n *testNode) sendAt(rangeID, ts uint64, req *kvpb.RequestUnion) ([]*kvpb.ResponseUnion, *kvpb.Error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp := n.store.Send(ctx, &kvpb.RangeRequest{RangeId: rangeID, Timestamp: ts, Requests: []*kvpb.RequestUnion{req}})
	return resp.Responses, resp.Error
}

func mustPutTS(t *testing.T, n *testNode, k, v string) uint64 {
	t.Helper()
	resps, err := n.send(t, keys.FirstUserRangeID, put(k, v))
	if err != nil {
		t.Fatal(err)
	}
	return resps[0].GetPut().Timestamp
}

func wantTooOld(t *testing.T, err *kvpb.Error, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: succeeded below the GC threshold", what)
	}
	if err.GetTxnRetry().GetReason() != kvpb.TxnRetry_TOO_OLD || !strings.Contains(err.Message, "below the range's GC threshold") ||
		!strings.Contains(err.Message, "older than gc_ttl") {
		t.Fatalf("%s: want a TOO_OLD retry error, got %v", what, err)
	}
}

// TestGCRequest: old versions are collected, the threshold becomes
// replicated range state (persisted, inherited by a split) and refuses
// reads and transaction steps below it; old locks are reported, untouched.
func TestGCRequest(t *testing.T) {
	eng, err := storage.Open(storage.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	n := startNode(t, eng)
	a1 := mustPutTS(t, n, "a", "1")
	mustPutTS(t, n, "b", "1")
	if _, err := n.send(t, keys.FirstUserRangeID, &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Delete{Delete: &kvpb.DeleteRequest{Key: keys.KVKey([]byte("b"))}}}); err != nil {
		t.Fatal(err)
	}
	a2 := mustPutTS(t, n, "a", "2")
	threshold := a2
	mustPutTS(t, n, "a", "3")
	r := n.store.Replica(keys.FirstUserRangeID)
	writes := r.WritesApplied()

	// A threshold not in the past is refused.
	if _, perr := n.sendAt(keys.FirstUserRangeID, 0, gcUnion(gcReq(n.store.cfg.Clock.Now()+1<<30))); perr == nil {
		t.Fatal("GC with a future threshold accepted")
	}
	// A GC request must be alone in its batch.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if resp := n.store.Send(ctx, &kvpb.RangeRequest{RangeId: keys.FirstUserRangeID, Requests: []*kvpb.RequestUnion{gcUnion(gcReq(threshold)), get("a")}}); resp.Error == nil {
		t.Fatal("GC batched with a read accepted")
	}

	resps, perr := n.sendAt(keys.FirstUserRangeID, 0, gcUnion(gcReq(threshold)))
	if perr != nil {
		t.Fatal(perr)
	}
	if g := resps[0].GetGc(); g.Deleted != 3 || len(g.ResumeKey) != 0 || len(g.OldLocks) != 0 {
		t.Fatalf("GC response %+v, want 3 deleted (a@1, b's put and tombstone)", g)
	}
	if got := r.GCThreshold(); got != threshold {
		t.Fatalf("range GC threshold %d, want %d", got, threshold)
	}
	if r.WritesApplied() != writes {
		t.Fatal("a GC command counted as a data write")
	}
	for _, k := range []string{"b"} {
		if res, _ := storage.MVCCGet(eng.Reader(), keys.KVKey([]byte(k)), storage.MaxTimestamp); res.LatestTimestamp != 0 {
			t.Fatalf("%s still has versions: %+v", k, res)
		}
	}

	// Reads: below the threshold refused, at or above it served.
	_, perr = n.sendAt(keys.FirstUserRangeID, a1, get("a"))
	wantTooOld(t, perr, "read at a1")
	scan := &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Scan{Scan: &kvpb.ScanRequest{StartKey: keys.KVKey(nil), EndKey: keys.KVKey([]byte("z"))}}}
	_, perr = n.sendAt(keys.FirstUserRangeID, threshold-1, scan)
	wantTooOld(t, perr, "scan below the threshold")
	for ts, want := range map[uint64]string{threshold: "2", 0: "3"} {
		resps, perr := n.sendAt(keys.FirstUserRangeID, ts, get("a"))
		if perr != nil || string(resps[0].GetGet().Value) != want {
			t.Fatalf("read a at %d: %v %v, want %q", ts, resps, perr, want)
		}
	}

	// Transactions: prewrite at or below the threshold and validation from
	// below it restart; above, they proceed.
	pw := func(k string, start uint64) *kvpb.RequestUnion {
		return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Prewrite{Prewrite: &kvpb.PrewriteRequest{
			Key: keys.KVKey([]byte(k)), Value: []byte("t"), Primary: keys.KVKey([]byte(k)), StartTs: start, TtlMs: 1,
		}}}
	}
	_, perr = n.sendAt(keys.FirstUserRangeID, 0, pw("c", threshold))
	wantTooOld(t, perr, "prewrite at the threshold")
	validate := func(start uint64) *kvpb.RequestUnion {
		return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_ValidateRead{ValidateRead: &kvpb.ValidateReadRequest{
			Key: keys.KVKey([]byte("a")), StartTs: start, CommitTs: n.store.cfg.Clock.Now(),
		}}}
	}
	_, perr = n.sendAt(keys.FirstUserRangeID, 0, validate(threshold-1))
	wantTooOld(t, perr, "validation from below the threshold")
	lockStart := n.store.cfg.Clock.Now()
	if _, perr := n.sendAt(keys.FirstUserRangeID, 0, pw("c", lockStart)); perr != nil {
		t.Fatalf("prewrite above the threshold: %v", perr)
	}

	// Locks: reported when older than the lock threshold, never removed.
	q := gcReq(threshold)
	q.LockThresholdTs = lockStart + 1
	resps, perr = n.sendAt(keys.FirstUserRangeID, 0, gcUnion(q))
	if perr != nil {
		t.Fatal(perr)
	}
	if g := resps[0].GetGc(); len(g.OldLocks) != 1 || string(g.OldLocks[0].Key) != string(keys.KVKey([]byte("c"))) || g.OldLocks[0].StartTs != lockStart || g.Deleted != 0 {
		t.Fatalf("GC response %+v, want c's lock reported", g)
	}
	if l, err := storage.GetLock(eng.Reader(), keys.KVKey([]byte("c"))); err != nil || l == nil {
		t.Fatalf("GC touched a lock: %v %v", l, err)
	}

	// Bounded steps resume where they stopped.
	for i := 0; i < 20; i++ {
		mustPutTS(t, n, fmt.Sprintf("m%02d", i), "x")
		mustPutTS(t, n, fmt.Sprintf("m%02d", i), "y")
	}
	threshold2 := n.store.cfg.Clock.Now()
	q = gcReq(threshold2)
	q.MaxKeys = 5
	var deleted uint64
	steps := 0
	for {
		resps, perr := n.sendAt(keys.FirstUserRangeID, 0, gcUnion(q))
		if perr != nil {
			t.Fatal(perr)
		}
		g := resps[0].GetGc()
		deleted += g.Deleted
		steps++
		if len(g.ResumeKey) == 0 {
			break
		}
		q.ResumeKey = g.ResumeKey
	}
	if deleted != 21 || steps < 5 { // a@2 and one version of each m key
		t.Fatalf("bounded GC deleted %d in %d steps, want 21 in several", deleted, steps)
	}

	// A split hands the threshold to the right half; both persist it.
	split := &kvpb.RequestUnion{Value: &kvpb.RequestUnion_AdminSplit{AdminSplit: &kvpb.AdminSplitRequest{SplitKey: keys.KVKey([]byte("m")), NewRangeId: 3}}}
	if _, err := n.send(t, keys.FirstUserRangeID, split); err != nil {
		t.Fatal(err)
	}
	if got := n.store.Replica(3).GCThreshold(); got != threshold2 {
		t.Fatalf("right half's GC threshold %d, want %d", got, threshold2)
	}
	n.stop()
	n = startNode(t, eng)
	defer n.stop()
	for _, id := range []uint64{keys.FirstUserRangeID, 3} {
		if got := n.store.Replica(id).GCThreshold(); got != threshold2 {
			t.Fatalf("after restart range %d has GC threshold %d, want %d", id, got, threshold2)
		}
	}
	// Wait until both ranges serve again (sendAt does not retry).
	if _, err := n.send(t, keys.FirstUserRangeID, get("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := n.send(t, 3, get("m01")); err != nil {
		t.Fatal(err)
	}
	_, perr = n.sendAt(3, threshold2-1, get("m01"))
	wantTooOld(t, perr, "read below the inherited threshold after restart")
}

// TestGCThresholdReplicated: followers apply the threshold with the GC
// batch, and a replica added later gets it with its snapshot.
func TestGCThresholdReplicated(t *testing.T) {
	_, nodes := startCluster(t, 3, func(eng *storage.Engine, id uint64) {
		if id == 1 {
			if _, err := Bootstrap(eng, hlc.New(nil), "127.0.0.1:0"); err != nil {
				t.Fatal(err)
			}
		}
	})
	const versions = 50 // more than gcRangeDeleteRun: replicates a range deletion
	for i := 0; i < versions; i++ {
		putViaLeader(t, nodes, "k", fmt.Sprint(i))
	}
	sendViaLeader(t, nodes, changeReplicas(kvpb.AdminChangeReplicasRequest_ADD_LEARNER, 2))
	sendViaLeader(t, nodes, changeReplicas(kvpb.AdminChangeReplicasRequest_PROMOTE_VOTER, 2))
	threshold := nodes[0].store.cfg.Clock.Now()
	resp := sendViaLeader(t, nodes, gcUnion(gcReq(threshold)))
	if resp.GetGc().Deleted != versions-1 {
		t.Fatalf("GC deleted %d, want %d", resp.GetGc().Deleted, versions-1)
	}
	// Node 2 follows through the log, node 3 joins by snapshot.
	sendViaLeader(t, nodes, changeReplicas(kvpb.AdminChangeReplicasRequest_ADD_LEARNER, 3))
	for _, n := range nodes {
		if err := waitFor(10*time.Second, func() bool {
			r := n.store.Replica(keys.FirstUserRangeID)
			return r != nil && r.GCThreshold() == threshold
		}); err != nil {
			t.Fatalf("node %d never got the GC threshold", n.id)
		}
		v, err := storage.Get(n.eng.Reader(), storage.RangeGCThresholdKey(keys.FirstUserRangeID))
		if err != nil || len(v) != 8 {
			t.Fatalf("node %d did not persist the GC threshold: %v", n.id, err)
		}
	}
	waitForKey(t, nodes[2], "k")
	for _, n := range nodes {
		res, err := storage.MVCCGet(n.eng.Reader(), keys.KVKey([]byte("k")), threshold)
		if err != nil || !res.Found || string(res.Value) != fmt.Sprint(versions-1) || res.LatestTimestamp != res.Timestamp {
			t.Fatalf("node %d: k = %+v %v, want only the newest version left", n.id, res, err)
		}
		it, err := n.eng.Reader().NewIter(nil)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := storage.MVCCSpan(keys.KVKey([]byte("k")), keys.KVKey([]byte("l")))
		count := 0
		for valid := it.SeekGE(lo); valid && string(it.Key()) < string(hi); valid = it.Next() {
			count++
		}
		it.Close()
		if count != 1 {
			t.Fatalf("node %d holds %d versions of k, want 1", n.id, count)
		}
	}
}

// TestGCConcurrentReads: while GC steps raise the threshold through a key's
// history, snapshot reads at every version's timestamp either return that
// version or fail with TOO_OLD — never what is left after a collection.
func TestGCConcurrentReads(t *testing.T) {
	n := startMemNode(t, nil)
	eng := n.eng
	const versions = 60
	var ts []uint64
	for i := 0; i < versions; i++ {
		ts = append(ts, mustPutTS(t, n, "h", fmt.Sprint(i)))
		if i%2 == 0 {
			mustPutTS(t, n, fmt.Sprintf("o%02d", i), "x") // other keys, deleted below
			if _, err := n.send(t, keys.FirstUserRangeID, &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Delete{
				Delete: &kvpb.DeleteRequest{Key: keys.KVKey([]byte(fmt.Sprintf("o%02d", i)))}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	done := make(chan struct{})
	errs := make(chan error, 4)
	for w := 0; w < 3; w++ {
		go func(w int) {
			for i := 0; ; i++ {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				j := (i*7 + w) % versions
				resps, perr := n.sendAt(keys.FirstUserRangeID, ts[j], get("h"))
				if perr != nil {
					if perr.GetTxnRetry().GetReason() != kvpb.TxnRetry_TOO_OLD {
						errs <- perr
						return
					}
					continue
				}
				if g := resps[0].GetGet(); !g.Found || string(g.Value) != fmt.Sprint(j) {
					errs <- fmt.Errorf("read at version %d's timestamp returned %+v", j, g)
					return
				}
				scan := &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Scan{Scan: &kvpb.ScanRequest{StartKey: keys.KVKey(nil), EndKey: keys.KVKey([]byte("z"))}}}
				resps, perr = n.sendAt(keys.FirstUserRangeID, ts[j], scan)
				if perr == nil {
					kvs := resps[0].GetScan().Kvs
					last := kvs[len(kvs)-1]
					if string(last.Key) != string(keys.KVKey([]byte("h"))) || string(last.Value) != fmt.Sprint(j) || len(kvs) != 1 {
						errs <- fmt.Errorf("scan at version %d's timestamp returned %d keys, h=%q", j, len(kvs), last.Value)
						return
					}
				} else if perr.GetTxnRetry().GetReason() != kvpb.TxnRetry_TOO_OLD {
					errs <- perr
					return
				}
			}
		}(w)
	}
	for i := 1; i < versions; i++ {
		if _, perr := n.sendAt(keys.FirstUserRangeID, 0, gcUnion(gcReq(ts[i]))); perr != nil {
			t.Fatal(perr)
		}
	}
	close(done)
	for w := 0; w < 3; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if res, _ := storage.MVCCGet(eng.Reader(), keys.KVKey([]byte("h")), storage.MaxTimestamp); res.Timestamp != ts[versions-1] || res.LatestTimestamp != res.Timestamp {
		t.Fatalf("h after GC: %+v", res)
	}
}
