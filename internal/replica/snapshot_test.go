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

// memTransport delivers raft messages between in-process stores the way
// rpc.Transport does between processes: resolving the target replica's node
// through the sending store, and handing the message to the target store
// (which creates replicas it does not have yet). Messages to a stopped node
// are dropped.
type memTransport struct {
	mu      sync.Mutex
	stores  map[uint64]*Store
	blocked map[uint64]bool // partitioned nodes: nothing to or from them
}

func (t *memTransport) partition(node uint64, on bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.blocked == nil {
		t.blocked = map[uint64]bool{}
	}
	t.blocked[node] = on
}

// sender is the transport one node's raftstore sends through.
type sender struct {
	t    *memTransport
	from uint64
}

func (s sender) Send(rangeID uint64, msgs []*raftpb.Message) {
	s.t.mu.Lock()
	src := s.t.stores[s.from]
	s.t.mu.Unlock()
	if src == nil {
		return
	}
	for _, m := range msgs {
		to, ok := src.ReplicaDescriptor(rangeID, m.GetTo())
		if !ok {
			continue
		}
		s.t.mu.Lock()
		dst := s.t.stores[to.NodeId]
		if s.t.blocked[s.from] || s.t.blocked[to.NodeId] {
			dst = nil
		}
		s.t.mu.Unlock()
		if dst != nil {
			_ = dst.HandleRaftMessage(context.Background(), &kvpb.RaftMessage{
				RangeId: rangeID, FromNodeId: s.from, ToReplica: to, Message: marshal(m),
			})
		}
	}
}

func (t *memTransport) set(node uint64, s *Store) {
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
	cfg.Transport = sender{t: tr, from: n.id}
	rs, err := raftstore.NewStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewStore(Config{NodeID: n.id, Engine: n.eng, Raft: rs, Clock: hlc.New(nil)})
	if err != nil {
		t.Fatal(err)
	}
	tr.set(n.id, s)
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
	sendViaLeader(t, nodes, put(key, value))
}

// sendViaLeader retries a one-request batch on range 2 until some node's
// replica serves it, and returns the response.
func sendViaLeader(t *testing.T, nodes []*clusterNode, req *kvpb.RequestUnion) *kvpb.ResponseUnion {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, n := range nodes {
			if n.raft == nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			resp := n.store.Send(ctx, &kvpb.RangeRequest{RangeId: keys.FirstUserRangeID, Requests: []*kvpb.RequestUnion{req}})
			cancel()
			if resp.Error == nil {
				return resp.Responses[0]
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no leader accepted %v", req)
	return nil
}

func TestFollowerCatchesUpBySnapshot(t *testing.T) {
	tr, nodes := startCluster(t, 3, func(eng *storage.Engine, _ uint64) { writeReplicatedRange(t, eng, 3) })
	putViaLeader(t, nodes, "before", "1")

	// Take node 3 down and write far past the truncation threshold.
	lagging := nodes[2]
	lagging.stop(tr)
	lagging.raft = nil
	for i := 0; i < 200; i++ {
		putViaLeader(t, nodes, fmt.Sprintf("k%03d", i), fmt.Sprint(i))
	}
	// Two transaction locks travel in the snapshot too.
	for _, k := range []string{"k010", "k020"} {
		sendViaLeader(t, nodes, txnReq(&kvpb.AcquireLockRequest{Key: keys.KVKey([]byte(k)), Primary: keys.KVKey([]byte("k010")),
			StartTs: hlc.New(nil).Now(), TtlMs: 60_000}))
	}
	// Both live nodes' logs, the leader's included, must be truncated past
	// node 3's position, or node 3 would catch up by log replay (and keep an
	// unknown lock count). A follower truncates at once, but the leader keeps
	// the entries of a follower it still thinks active until CheckQuorum
	// clears that, an election timeout after node 3 stopped: the writes
	// above often finish sooner.
	truncatedIndex := func(n *clusterNode) uint64 {
		var ts kvpb.RaftTruncatedState
		v, err := storage.Get(n.eng.Reader(), storage.RaftTruncatedStateKey(keys.FirstUserRangeID))
		if err != nil || proto.Unmarshal(v, &ts) != nil {
			t.Fatal(err)
		}
		return ts.GetIndex()
	}
	if err := waitFor(10*time.Second, func() bool {
		return truncatedIndex(nodes[0]) > 100 && truncatedIndex(nodes[1]) > 100
	}); err != nil {
		t.Fatalf("logs not truncated past node 3 (truncated at %d and %d); raise the write count",
			truncatedIndex(nodes[0]), truncatedIndex(nodes[1]))
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
	// Catching up by snapshot leaves node 3's log starting after the
	// snapshot index. (A replay would too, once node 3 truncated its own
	// log: the wait for the leader's truncation above is what rules it out.)
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
	// The range was created without a lock count; the snapshot counted the
	// locks it installed (published just after its batch is durable, so
	// possibly after the data above was visible).
	var c lockCount
	if err := waitFor(10*time.Second, func() bool {
		c = lagging.store.Replica(keys.FirstUserRangeID).locks()
		return c.known
	}); err != nil || c.n != 2 {
		t.Fatalf("node 3's lock count after the snapshot: %+v (%v), want 2", c, err)
	}
}

func changeReplicas(change kvpb.AdminChangeReplicasRequest_ChangeType, node uint64) *kvpb.RequestUnion {
	return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_AdminChangeReplicas{AdminChangeReplicas: &kvpb.AdminChangeReplicasRequest{
		Key: keys.KVKey([]byte("a")), Change: change, NodeId: node,
	}}}
}

// A single-node range is replicated to two empty nodes by conf changes:
// each is added as a learner, receives a snapshot through a replica created
// on its first message, and is promoted. The original node then dies and
// the other two elect a leader and keep serving.
func TestAddReplicasByConfChange(t *testing.T) {
	tr, nodes := startCluster(t, 3, func(eng *storage.Engine, id uint64) {
		if id == 1 {
			if _, err := Bootstrap(eng, hlc.New(nil), "127.0.0.1:0"); err != nil {
				t.Fatal(err)
			}
		}
	})
	for i := 0; i < 50; i++ {
		putViaLeader(t, nodes, fmt.Sprintf("k%03d", i), "v")
	}
	for _, id := range []uint64{2, 3} {
		sendViaLeader(t, nodes, changeReplicas(kvpb.AdminChangeReplicasRequest_ADD_LEARNER, id))
		waitForKey(t, nodes[id-1], "k049")
		resp := sendViaLeader(t, nodes, changeReplicas(kvpb.AdminChangeReplicasRequest_PROMOTE_VOTER, id))
		if got := len(confState(resp.GetAdminChangeReplicas().Desc).Voters); got != int(id) {
			t.Fatalf("after promoting node %d: %d voters", id, got)
		}
	}
	// Every node agrees on the descriptor.
	for _, n := range nodes {
		if err := waitFor(10*time.Second, func() bool {
			r := n.store.Replica(keys.FirstUserRangeID)
			return r != nil && len(confState(r.Desc()).Voters) == 3
		}); err != nil {
			t.Fatalf("node %d never saw 3 voters", n.id)
		}
	}
	nodes[0].stop(tr)
	nodes[0].raft = nil
	putViaLeader(t, nodes, "after-failover", "x")
	for _, n := range nodes[1:] {
		waitForKey(t, n, "after-failover")
	}
	// A change that no longer makes sense is refused, not applied.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, n := range nodes[1:] {
		resp := n.store.Send(ctx, &kvpb.RangeRequest{RangeId: keys.FirstUserRangeID, Requests: []*kvpb.RequestUnion{
			changeReplicas(kvpb.AdminChangeReplicasRequest_ADD_LEARNER, 2)}})
		if resp.Error == nil {
			t.Fatal("adding a replica twice succeeded")
		}
	}
}

func waitFor(timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v", timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

func waitForKey(t *testing.T, n *clusterNode, key string) {
	t.Helper()
	err := waitFor(20*time.Second, func() bool {
		res, err := storage.MVCCGet(n.eng.Reader(), keys.KVKey([]byte(key)), storage.MaxTimestamp)
		return err == nil && res.Found
	})
	if err != nil {
		t.Fatalf("node %d never got key %s", n.id, key)
	}
}

// A leader cut off from the others stops serving reads (its lease runs out)
// before the others can elect a new leader, so once a newer value is
// acknowledged through the new leader the old one never returns the stale
// value.
func TestPartitionedLeaderServesNoStaleReads(t *testing.T) {
	tr, nodes := startCluster(t, 3, func(eng *storage.Engine, _ uint64) { writeReplicatedRange(t, eng, 3) })
	putViaLeader(t, nodes, "k", "old")
	var old *clusterNode
	if err := waitFor(10*time.Second, func() bool {
		for _, n := range nodes {
			if r := n.store.Replica(keys.FirstUserRangeID); r != nil && r.IsLeaseholder() && r.Group().HasLease() {
				old = n
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatal("no leaseholder")
	}
	tr.partition(old.id, true)
	readOld := func() (string, bool) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		resp := old.store.Send(ctx, &kvpb.RangeRequest{RangeId: keys.FirstUserRangeID, Requests: []*kvpb.RequestUnion{get("k")}})
		if resp.Error != nil {
			return "", false
		}
		return string(resp.Responses[0].GetGet().Value), true
	}
	var others []*clusterNode
	for _, n := range nodes {
		if n != old {
			others = append(others, n)
		}
	}
	putViaLeader(t, others, "k", "new") // acknowledged by the new majority
	for i := 0; i < 100; i++ {
		if v, ok := readOld(); ok && v == "old" {
			t.Fatalf("the partitioned former leader served a stale read after a newer write was acknowledged")
		}
		time.Sleep(2 * time.Millisecond)
	}
	tr.partition(old.id, false)
}

// startCluster starts n in-process nodes over a memTransport; init prepares
// each node's engine before it starts. Everything stops with the test.
func startCluster(t *testing.T, n int, init func(eng *storage.Engine, id uint64)) (*memTransport, []*clusterNode) {
	t.Helper()
	tr := &memTransport{stores: map[uint64]*Store{}}
	var nodes []*clusterNode
	for id := uint64(1); id <= uint64(n); id++ {
		eng, err := storage.Open(storage.Config{InMemory: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { eng.Close() })
		init(eng, id)
		node := &clusterNode{id: id, eng: eng}
		node.start(t, tr)
		nodes = append(nodes, node)
	}
	// Registered after the engines' cleanups, so it runs before them.
	t.Cleanup(func() {
		for _, node := range nodes {
			if node.raft != nil {
				node.stop(tr)
			}
		}
	})
	return tr, nodes
}
