package replica

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/raftstore"
	"github.com/cairndb/cairn/internal/storage"
)

// removedLearner starts a range with voters on nodes 1 and 2, writes keys
// (KV keys) to it, adds a learner on node 3 and waits for the learner to
// hold them, then cuts node 3 off and removes its learner. A learner never
// campaigns, so it never hears of its removal: it keeps its replica with
// the old descriptor. It returns the transport, the nodes and the range's
// descriptor after the removal.
func removedLearner(t *testing.T, kvKeys ...string) (*memTransport, []*clusterNode, *kvpb.RangeDescriptor) {
	t.Helper()
	tr, nodes := startCluster(t, 3, func(eng *storage.Engine, id uint64) {
		if id <= 2 {
			writeReplicatedRange(t, eng, 2)
		}
	})
	for _, k := range kvKeys {
		putViaLeader(t, nodes[:2], k, "v")
	}
	sendViaLeader(t, nodes[:2], changeReplicas(kvpb.AdminChangeReplicasRequest_ADD_LEARNER, 3))
	for _, k := range kvKeys {
		waitForKey(t, nodes[2], k)
	}
	learner := nodes[2]
	if err := waitFor(10*time.Second, func() bool { // the snapshot's data lands before its descriptor
		r := learner.store.Replica(keys.FirstUserRangeID)
		return r != nil && len(r.Desc().EndKey) > 0
	}); err != nil {
		t.Fatal("node 3 has no initialised learner")
	}

	tr.partition(learner.id, true)
	resp := sendViaLeader(t, nodes[:2], changeReplicas(kvpb.AdminChangeReplicasRequest_REMOVE, learner.id))
	current := resp.GetAdminChangeReplicas().Desc
	if current.HasNode(learner.id) {
		t.Fatalf("node %d still in the range after its removal: %v", learner.id, current)
	}
	if r := learner.store.Replica(keys.FirstUserRangeID); r == nil || !r.Desc().HasNode(learner.id) {
		t.Fatal("the cut-off learner already knows of its removal")
	}
	return tr, nodes, current
}

// DestroyIfRemoved leaves a replica alone unless a newer descriptor of its
// own range shows it removed; then it destroys it: unregistered, its state
// and data deleted, a tombstone written. Here the replica is a learner
// removed while cut off, the case only the replica GC pass catches.
func TestDestroyIfRemoved(t *testing.T) {
	_, nodes, current := removedLearner(t, "k", "x")
	learner := nodes[2]
	r := learner.store.Replica(keys.FirstUserRangeID)
	id := r.Group().ReplicaID

	// Not removed: the descriptor it has, and an older one that lists it.
	older := proto.Clone(r.Desc()).(*kvpb.RangeDescriptor)
	older.Generation--
	for _, d := range []*kvpb.RangeDescriptor{r.Desc(), older} {
		if ok, err := learner.store.DestroyIfRemoved(keys.FirstUserRangeID, d); ok || err != nil {
			t.Fatalf("destroyed by a descriptor that lists it (generation %d): %v %v", d.Generation, ok, err)
		}
	}
	// A descriptor of another range is refused.
	other := proto.Clone(current).(*kvpb.RangeDescriptor)
	other.RangeId = 9
	if ok, err := learner.store.DestroyIfRemoved(keys.FirstUserRangeID, other); ok || err == nil {
		t.Fatalf("a descriptor of range 9 was accepted for range %d: %v %v", keys.FirstUserRangeID, ok, err)
	}
	if learner.store.Replica(keys.FirstUserRangeID) != r {
		t.Fatal("the replica is gone although nothing showed it removed")
	}

	// A range split off the stale replica's span may have reached the node
	// by snapshot since: its persisted descriptor stands for that (its
	// keys from "w" on survive the destruction).
	splitOff := &kvpb.RangeDescriptor{RangeId: 9, StartKey: keys.KVKey([]byte("w")), EndKey: keys.KeyMax, Generation: 5, NextReplicaId: 4,
		Replicas: []*kvpb.ReplicaDescriptor{{NodeId: 3, ReplicaId: 3}}}
	writeDescriptor(t, learner.eng, splitOff)

	// Removed: the current descriptor does not list it.
	if ok, err := learner.store.DestroyIfRemoved(keys.FirstUserRangeID, current); !ok || err != nil {
		t.Fatalf("the removed learner was not destroyed: %v %v", ok, err)
	}
	if learner.store.Replica(keys.FirstUserRangeID) != nil {
		t.Fatal("the destroyed replica is still registered")
	}
	if tomb, err := readTombstone(learner.eng.Reader(), keys.FirstUserRangeID); err != nil || tomb <= id {
		t.Fatalf("tombstone %d, %v; want above the removed replica's id %d", tomb, err, id)
	}
	if _, err := storage.Get(learner.eng.Reader(), storage.RangeDescriptorKey(keys.FirstUserRangeID)); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the destroyed replica's descriptor is still there: %v", err)
	}
	if res, err := storage.MVCCGet(learner.eng.Reader(), keys.KVKey([]byte("k")), storage.MaxTimestamp); err != nil || res.Found {
		t.Fatalf("the destroyed replica's data is still there: %v %v", res, err)
	}
	if res, err := storage.MVCCGet(learner.eng.Reader(), keys.KVKey([]byte("x")), storage.MaxTimestamp); err != nil || !res.Found {
		t.Fatalf("data of another range's span was deleted with the replica: %v %v", res, err)
	}
	// Once gone, nothing more happens.
	if ok, err := learner.store.DestroyIfRemoved(keys.FirstUserRangeID, current); ok || err != nil {
		t.Fatalf("destroyed twice: %v %v", ok, err)
	}
	// The range goes on without it.
	putViaLeader(t, nodes[:2], "later", "y")
}

// While an uninitialised replica exists on the node (it may be applying a
// snapshot of a range split off the destroyed replica's span, into a span
// not known yet), a destroyed replica's data is left in place.
func TestDestroyIfRemovedKeepsDataBesideUninitialisedReplica(t *testing.T) {
	_, nodes, current := removedLearner(t, "k")
	learner := nodes[2]
	// A heartbeat for a range the node does not have creates an
	// uninitialised replica (the node is cut off: its answer goes nowhere).
	hb := &raftpb.Message{Type: raftpb.MessageType_MsgHeartbeat.Enum(), To: proto.Uint64(3), From: proto.Uint64(1), Term: proto.Uint64(1)}
	if err := learner.store.HandleRaftMessage(t.Context(), &kvpb.RaftMessage{
		RangeId: 9, FromNodeId: 1, ToReplica: &kvpb.ReplicaDescriptor{NodeId: learner.id, ReplicaId: 3}, Message: marshal(hb),
	}); err != nil {
		t.Fatal(err)
	}
	if r := learner.store.Replica(9); r == nil || len(r.Desc().EndKey) != 0 {
		t.Fatal("no uninitialised replica of range 9")
	}
	if ok, err := learner.store.DestroyIfRemoved(keys.FirstUserRangeID, current); !ok || err != nil {
		t.Fatalf("the removed learner was not destroyed: %v %v", ok, err)
	}
	if tomb, err := readTombstone(learner.eng.Reader(), keys.FirstUserRangeID); err != nil || tomb == 0 {
		t.Fatalf("no tombstone: %d %v", tomb, err)
	}
	if res, err := storage.MVCCGet(learner.eng.Reader(), keys.KVKey([]byte("k")), storage.MaxTimestamp); err != nil || !res.Found {
		t.Fatalf("data deleted although an uninitialised replica may be receiving it: %v %v", res, err)
	}
}

func writeDescriptor(t *testing.T, eng *storage.Engine, d *kvpb.RangeDescriptor) {
	t.Helper()
	b := eng.NewBatch()
	defer b.Close()
	if err := raftstore.PutProto(b, storage.RangeDescriptorKey(d.RangeId), d); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(storage.Sync); err != nil {
		t.Fatal(err)
	}
}

// uncoveredSpans leaves out of a span whatever other spans cover.
func TestUncoveredSpans(t *testing.T) {
	sp := func(s string) keySpan { return keySpan{[]byte{s[0]}, []byte{s[1]}} } // "ae": [a, e)
	for _, tc := range []struct {
		others []string
		want   string // pairs
	}{
		{nil, "bm"},
		{[]string{"ab", "mz"}, "bm"},     // touching only
		{[]string{"ez"}, "be"},           // covers the top
		{[]string{"ae"}, "em"},           // covers the bottom
		{[]string{"dg"}, "bdgm"},         // inside
		{[]string{"hk", "dg"}, "bdghkm"}, // two, unordered
		{[]string{"cj", "dg"}, "bcjm"},   // nested
		{[]string{"cg", "fk"}, "bckm"},   // overlapping
		{[]string{"az"}, ""},             // covers all
		{[]string{"bm"}, ""},             // exactly
		{[]string{"bd", "dm"}, ""},       // adjacent, all
	} {
		var others []keySpan
		for _, o := range tc.others {
			others = append(others, sp(o))
		}
		var got []byte
		for _, s := range uncoveredSpans(sp("bm"), others) {
			if bytes.Compare(s.start, s.end) >= 0 {
				t.Errorf("others %v: empty span %q", tc.others, s)
			}
			got = append(append(got, s.start...), s.end...)
		}
		if string(got) != tc.want {
			t.Errorf("others %v: uncovered %q, want %q", tc.others, got, tc.want)
		}
	}
}

// A node whose replica was removed while it was cut off, and that was added
// back under a new replica id meanwhile, replaces its stale replica by the
// new one on the first message to the new id, and the new one catches up
// by snapshot.
func TestRemovedReplicaReplacedWhenAddedBack(t *testing.T) {
	tr, nodes, _ := removedLearner(t, "k")
	learner := nodes[2]
	stale := learner.store.Replica(keys.FirstUserRangeID)
	resp := sendViaLeader(t, nodes[:2], changeReplicas(kvpb.AdminChangeReplicasRequest_ADD_LEARNER, learner.id))
	var newID uint64
	for _, rd := range resp.GetAdminChangeReplicas().Desc.Replicas {
		if rd.NodeId == learner.id {
			newID = rd.ReplicaId
		}
	}
	if newID <= stale.Group().ReplicaID {
		t.Fatalf("added back as replica %d, not above the stale %d", newID, stale.Group().ReplicaID)
	}
	putViaLeader(t, nodes[:2], "after", "x")

	tr.partition(learner.id, false)
	if err := waitFor(20*time.Second, func() bool {
		r := learner.store.Replica(keys.FirstUserRangeID)
		return r != nil && r != stale && r.Group().ReplicaID == newID && len(r.Desc().EndKey) > 0
	}); err != nil {
		t.Fatalf("node %d never replaced its stale replica by replica %d: %v", learner.id, newID, err)
	}
	waitForKey(t, learner, "k")
	waitForKey(t, learner, "after")
}
