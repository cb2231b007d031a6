package replica

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cairndb/cairn/internal/hlc"
	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/raftstore"
	"github.com/cairndb/cairn/internal/storage"
)

type testNode struct {
	eng   *storage.Engine
	raft  *raftstore.Store
	store *Store
}

func startNode(t *testing.T, eng *storage.Engine) *testNode {
	t.Helper()
	return startNodeWithClock(t, eng, hlc.New(nil))
}

func startNodeWithClock(t *testing.T, eng *storage.Engine, clock *hlc.Clock) *testNode {
	t.Helper()
	ident, err := ReadIdent(eng)
	if err != nil {
		t.Fatal(err)
	}
	if ident == nil {
		if ident, err = Bootstrap(eng, clock, "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	cfg := raftstore.DefaultConfig(eng)
	cfg.TickInterval = 10 * time.Millisecond
	cfg.LogTruncateEntries = 50
	rs, err := raftstore.NewStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rs.Start()
	s, err := NewStore(Config{NodeID: ident.NodeId, Engine: eng, Raft: rs, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	return &testNode{eng: eng, raft: rs, store: s}
}

func (n *testNode) stop() { n.raft.Stop() }

// memEngine opens an in-memory engine, closed when the test ends.
func memEngine(t *testing.T) *storage.Engine {
	t.Helper()
	eng, err := storage.Open(storage.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

// startMemNode starts a node on a fresh in-memory engine (clock nil: a new
// one); both are stopped when the test ends.
func startMemNode(t *testing.T, clock *hlc.Clock) *testNode {
	t.Helper()
	if clock == nil {
		clock = hlc.New(nil)
	}
	n := startNodeWithClock(t, memEngine(t), clock)
	t.Cleanup(n.stop) // registered after the engine's: runs before it
	return n
}

// send retries while the range has no leader yet (a fresh single voter
// elects itself within a tick or two).
func (n *testNode) send(t *testing.T, rangeID uint64, reqs ...*kvpb.RequestUnion) ([]*kvpb.ResponseUnion, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		resp := n.store.Send(ctx, &kvpb.RangeRequest{RangeId: rangeID, Requests: reqs})
		if resp.Error == nil {
			return resp.Responses, nil
		}
		if resp.Error.GetNotLeaseholder() == nil || ctx.Err() != nil {
			return nil, resp.Error
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func put(k, v string) *kvpb.RequestUnion {
	return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Put{Put: &kvpb.PutRequest{Key: keys.KVKey([]byte(k)), Value: []byte(v)}}}
}
func get(k string) *kvpb.RequestUnion {
	return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Get{Get: &kvpb.GetRequest{Key: keys.KVKey([]byte(k))}}}
}

func TestPutGetRestartSplit(t *testing.T) {
	eng, err := storage.Open(storage.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	n := startNode(t, eng)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				if _, err := n.send(t, keys.FirstUserRangeID, put(fmt.Sprintf("k%d-%03d", w, i), fmt.Sprint(i))); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	resps, err := n.send(t, keys.FirstUserRangeID, get("k3-017"))
	if err != nil || string(resps[0].GetGet().Value) != "17" {
		t.Fatalf("get: %v %v", resps, err)
	}

	// Split at k5, then both halves serve and requests to the wrong half fail typed.
	split := &kvpb.RequestUnion{Value: &kvpb.RequestUnion_AdminSplit{AdminSplit: &kvpb.AdminSplitRequest{SplitKey: keys.KVKey([]byte("k5")), NewRangeId: 3}}}
	if _, err := n.send(t, keys.FirstUserRangeID, split); err != nil {
		t.Fatal(err)
	}
	if _, err := n.send(t, 3, get("k6-001")); err != nil {
		t.Fatal(err)
	}
	_, err = n.send(t, keys.FirstUserRangeID, get("k6-001"))
	if e := kvpb.AsError(err); e.GetRangeKeyMismatch() == nil {
		t.Fatalf("expected range key mismatch, got %v", err)
	}
	if _, err := n.send(t, 3, put("k7-new", "x")); err != nil {
		t.Fatal(err)
	}
	n.stop()

	// Restart from the same engine: everything is still there, both ranges serve.
	n = startNode(t, eng)
	defer n.stop()
	for _, c := range []struct {
		rangeID uint64
		key     string
		want    string
	}{{2, "k0-039", "39"}, {3, "k7-039", "39"}, {3, "k7-new", "x"}} {
		resps, err := n.send(t, c.rangeID, get(c.key))
		if err != nil || string(resps[0].GetGet().Value) != c.want {
			t.Fatalf("after restart get %s on r%d: %v %v", c.key, c.rangeID, resps, err)
		}
	}
	if got := len(n.store.Replicas()); got != 3 {
		t.Fatalf("replicas after restart: %d", got)
	}
}

// A node restarted with a wall clock far behind still writes above every
// existing version: ranges persist their highest applied timestamp and the
// clock is pushed past it before a replica serves.
func TestWritesStayNewestWhenClockGoesBack(t *testing.T) {
	eng, err := storage.Open(storage.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	wall := time.Now()
	n := startNodeWithClock(t, eng, hlc.New(func() time.Time { return wall.Add(time.Hour) }))
	if _, err := n.send(t, keys.FirstUserRangeID, put("k", "old")); err != nil {
		t.Fatal(err)
	}
	split := &kvpb.RequestUnion{Value: &kvpb.RequestUnion_AdminSplit{AdminSplit: &kvpb.AdminSplitRequest{SplitKey: keys.KVKey([]byte("m")), NewRangeId: 3}}}
	if _, err := n.send(t, keys.FirstUserRangeID, split); err != nil {
		t.Fatal(err)
	}
	n.stop()

	n = startNodeWithClock(t, eng, hlc.New(func() time.Time { return wall }))
	defer n.stop()
	if _, err := n.send(t, keys.FirstUserRangeID, put("k", "new")); err != nil {
		t.Fatal(err)
	}
	// The right half of the split inherited the left's high-water mark.
	if _, err := n.send(t, 3, put("z", "z")); err != nil {
		t.Fatal(err)
	}
	resps, err := n.send(t, keys.FirstUserRangeID, get("k"))
	if err != nil {
		t.Fatal(err)
	}
	if g := resps[0].GetGet(); string(g.Value) != "new" {
		t.Fatalf("after a clock jump back the newest write is hidden: got %q", g.Value)
	}
}
