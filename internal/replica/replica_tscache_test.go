package replica

import (
	"context"
	"sync"
	"testing"

	"github.com/cairndb/cairn/internal/hlc"
	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/storage"
)

// fakeOracle hands out increasing timestamps and counts the calls.
type fakeOracle struct {
	mu    sync.Mutex
	next  uint64
	calls int
}

func (o *fakeOracle) now(context.Context) (uint64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls++
	o.next += 10
	return o.next, nil
}

func (o *fakeOracle) state() (last uint64, calls int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.next, o.calls
}

// TestLocalCommitTimestamp: after the first one-phase commit of a lease
// term, the leaseholder picks commit timestamps without the oracle, above
// the transaction's start, every read served and every validated commit
// timestamp, and never more than one above an issued timestamp (so every
// snapshot taken after the commit sees it).
func TestLocalCommitTimestamp(t *testing.T) {
	clock := hlc.New(nil)
	n := startMemNode(t, clock)
	eng := n.eng
	o := &fakeOracle{next: clock.Now() &^ 1} // even, as the oracle's
	n.store.SetTimestampSource(o.now)
	ctx := context.Background()
	issue := func() uint64 { ts, _ := o.now(ctx); return ts }
	rng := uint64(keys.FirstUserRangeID)
	commit := func(key string, start uint64) uint64 {
		t.Helper()
		k := keys.KVKey([]byte(key))
		resps, err := n.send(t, rng, txnReq(&kvpb.PrewriteRequest{Key: k, Value: []byte("v"), Primary: k, StartTs: start, ConflictTs: start, OnePc: true, Read: true}))
		if err != nil {
			t.Fatal(err)
		}
		c := resps[0].GetPrewrite().CommitTs
		if last, _ := o.state(); c > last+1 {
			t.Fatalf("commit at %d, more than one above the last issued timestamp %d", c, last)
		}
		return c
	}
	calls := func() int { _, c := o.state(); return c }

	// The first commit of the term takes a fresh oracle timestamp.
	s1 := issue()
	before := calls()
	c1 := commit("a", s1)
	if calls() != before+1 || c1 <= s1 {
		t.Fatalf("first commit: %d oracle calls (want 1), commit %d, start %d", calls()-before, c1, s1)
	}
	// Later ones do not, and land just above their start.
	s2 := issue()
	before = calls()
	if c2 := commit("b", s2); calls() != before || c2 != s2+1 {
		t.Fatalf("second commit: %d oracle calls (want 0), commit %d, start %d", calls()-before, c2, s2)
	}
	// A read served at r lifts the next commit of an older transaction
	// above r: the read did not see it, so it must not be below r.
	s3 := issue()
	r := issue()
	resp := n.store.Send(ctx, &kvpb.RangeRequest{RangeId: rng, Timestamp: r, Requests: []*kvpb.RequestUnion{get("c")}})
	if resp.Error != nil {
		t.Fatal(resp.Error)
	}
	if c3 := commit("c", s3); c3 != r+1 {
		t.Fatalf("commit of a transaction started at %d after a read at %d: %d, want %d", s3, r, c3, r+1)
	}
	// So does a two-phase validation up to v.
	s4 := issue()
	v := issue()
	val := &kvpb.RequestUnion{Value: &kvpb.RequestUnion_ValidateRead{ValidateRead: &kvpb.ValidateReadRequest{
		Key: keys.KVKey([]byte("d")), StartTs: s4, ReadTs: s4, CommitTs: v}}}
	if _, err := n.send(t, rng, val); err != nil {
		t.Fatal(err)
	}
	if c4 := commit("e", s4); c4 != v+1 {
		t.Fatalf("commit after a validation up to %d: %d, want %d", v, c4, v+1)
	}
	// A plain write after a local commit at c (one above an issued
	// timestamp) still lands above it.
	s5 := issue()
	c5 := commit("f", s5)
	if _, err := n.send(t, rng, put("f", "plain")); err != nil {
		t.Fatal(err)
	}
	res, err := storage.MVCCGet(eng.Reader(), keys.KVKey([]byte("f")), storage.MaxTimestamp)
	if err != nil || string(res.Value) != "plain" || res.Timestamp <= c5 {
		t.Fatalf("plain write after a commit at %d: %+v %v", c5, res, err)
	}
	// Another lease term needs a fresh low-water mark.
	rep := n.store.Replica(rng)
	term, _, perr := rep.leaseCheck()
	if perr != nil {
		t.Fatal(perr)
	}
	if _, ok := rep.localCommitTimestamp([]*kvpb.RequestUnion{txnReq(&kvpb.PrewriteRequest{Key: keys.KVKey([]byte("g")), StartTs: issue(), OnePc: true, Read: true})}, term+1); ok {
		t.Fatal("a local commit timestamp in a term without a low-water mark")
	}
	// Plain writes, two-phase prewrites and one-phase commits that
	// validate reads never get one.
	s6 := issue()
	onePC := txnReq(&kvpb.PrewriteRequest{Key: keys.KVKey([]byte("h")), StartTs: s6, OnePc: true, Read: true})
	blind := txnReq(&kvpb.PrewriteRequest{Key: keys.KVKey([]byte("j")), StartTs: s6, OnePc: true})
	validate := &kvpb.RequestUnion{Value: &kvpb.RequestUnion_ValidateRead{ValidateRead: &kvpb.ValidateReadRequest{
		Key: keys.KVKey([]byte("i")), StartTs: s6, ReadTs: s6}}}
	for _, batch := range [][]*kvpb.RequestUnion{
		{put("h", "x")},
		{txnReq(&kvpb.PrewriteRequest{Key: keys.KVKey([]byte("h")), StartTs: s6})},
		{onePC, validate},
		{onePC, blind},
	} {
		if _, ok := rep.localCommitTimestamp(batch, term); ok {
			t.Fatalf("a local commit timestamp for %v", batch)
		}
	}
	if _, ok := rep.localCommitTimestamp([]*kvpb.RequestUnion{onePC}, term); !ok {
		t.Fatal("no local commit timestamp for a one-phase commit")
	}
}
