package replica

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/hlc"
	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/raftstore"
	"github.com/cairndb/cairn/internal/storage"
)

// memTransport delivers raft messages between in-process stores; replica id
// i lives on node i. Messages to a stopped node are dropped.
type memTransport struct {
	mu     sync.Mutex
	stores map[uint64]*raftstore.Store
}

func (t *memTransport) Send(rangeID uint64, msgs []*raftpb.Message) {
	for _, m := range msgs {
		t.mu.Lock()
		s := t.stores[m.GetTo()]
		t.mu.Unlock()
		if s != nil {
			_ = s.Step(rangeID, proto.Clone(m).(*raftpb.Message))
		}
	}
}

func (t *memTransport) set(node uint64, s *raftstore.Store) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s == nil {
		delete(t.stores, node)
	} else {
		t.stores[node] = s
	}
}

type clusterNode struct {
	id    uint64
	eng   *storage.Engine
	raft  *raftstore.Store
	store *Store
}

// writeReplicatedRange writes the initial state of a range with voters on
// nodes 1..n into eng, as a split would.
func writeReplicatedRange(t *testing.T, eng *storage.Engine, n uint64) {
	d := &kvpb.RangeDescriptor{RangeId: keys.FirstUserRangeID, StartKey: keys.MetaEnd, EndKey: keys.KeyMax, Generation: 1, NextReplicaId: n + 1}
	for i := uint64(1); i <= n; i++ {
		d.Replicas = append(d.Replicas, &kvpb.ReplicaDescriptor{NodeId: i, ReplicaId: i})
	}
	b := eng.NewBatch()
	defer b.Close()
	if err := raftstore.PutProto(b, storage.RangeDescriptorKey(d.RangeId), d); err != nil {
		t.Fatal(err)
	}
	if err := raftstore.WriteInitialState(b, d.RangeId); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(storage.Sync); err != nil {
		t.Fatal(err)
	}
}

func (n *clusterNode) start(t *testing.T, tr *memTransport) {
	cfg := raftstore.DefaultConfig(n.eng)
	cfg.TickInterval = 10 * time.Millisecond
	cfg.LogTruncateEntries = 20
	cfg.Transport = tr
	rs, err := raftstore.NewStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewStore(Config{NodeID: n.id, Engine: n.eng, Raft: rs, Clock: hlc.New(nil)})
	if err != nil {
		t.Fatal(err)
	}
	tr.set(n.id, rs)
	rs.Start()
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	n.raft, n.store = rs, s
}

func (n *clusterNode) stop(tr *memTransport) {
	tr.set(n.id, nil)
	n.raft.Stop()
}

// putViaLeader retries a put until some node's replica serves it.
func putViaLeader(t *testing.T, nodes []*clusterNode, key, value string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, n := range nodes {
			if n.raft == nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			resp := n.store.Send(ctx, &kvpb.RangeRequest{RangeId: keys.FirstUserRangeID, Requests: []*kvpb.RequestUnion{put(key, value)}})
			cancel()
			if resp.Error == nil {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no leader accepted put %s", key)
}

func TestFollowerCatchesUpBySnapshot(t *testing.T) {
	tr := &memTransport{stores: map[uint64]*raftstore.Store{}}
	var nodes []*clusterNode
	for id := uint64(1); id <= 3; id++ {
		eng, err := storage.Open(storage.Config{InMemory: true})
		if err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
		writeReplicatedRange(t, eng, 3)
		n := &clusterNode{id: id, eng: eng}
		n.start(t, tr)
		nodes = append(nodes, n)
	}
	defer func() {
		for _, n := range nodes {
			if n.raft != nil {
				n.stop(tr)
			}
		}
	}()
	putViaLeader(t, nodes, "before", "1")

	// Take node 3 down and write far past the truncation threshold.
	lagging := nodes[2]
	lagging.stop(tr)
	lagging.raft = nil
	for i := 0; i < 200; i++ {
		putViaLeader(t, nodes, fmt.Sprintf("k%03d", i), fmt.Sprint(i))
	}
	// The leader's log must have been truncated past node 3's position, or
	// this test would not exercise snapshots.
	truncated := false
	for _, n := range nodes[:2] {
		var ts kvpb.RaftTruncatedState
		v, err := storage.Get(n.eng.Reader(), storage.RaftTruncatedStateKey(keys.FirstUserRangeID))
		if err != nil || proto.Unmarshal(v, &ts) != nil {
			t.Fatal(err)
		}
		truncated = truncated || ts.Index > 100
	}
	if !truncated {
		t.Fatal("log was not truncated; raise the write count")
	}

	lagging.start(t, tr)
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := storage.MVCCGet(lagging.eng.Reader(), keys.KVKey([]byte("k199")), storage.MaxTimestamp)
		if err != nil {
			t.Fatal(err)
		}
		if res.Found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("node 3 never caught up")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Catching up by snapshot (not by log replay) leaves node 3's log
	// starting after the snapshot index.
	var ts kvpb.RaftTruncatedState
	v, err := storage.Get(lagging.eng.Reader(), storage.RaftTruncatedStateKey(keys.FirstUserRangeID))
	if err != nil || proto.Unmarshal(v, &ts) != nil {
		t.Fatal(err)
	}
	if ts.Index <= 100 {
		t.Fatalf("node 3 truncated index %d: it did not install a snapshot", ts.Index)
	}
	for _, k := range []string{"before", "k000", "k150"} {
		res, err := storage.MVCCGet(lagging.eng.Reader(), keys.KVKey([]byte(k)), storage.MaxTimestamp)
		if err != nil || !res.Found {
			t.Fatalf("node 3 misses %s after catching up: %v", k, err)
		}
	}
}
