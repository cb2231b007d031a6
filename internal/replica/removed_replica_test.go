package replica

import (
	"context"
	"testing"
	"time"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/storage"
)

// A replica removed from its range while it could not hear of it (here:
// partitioned, in production: a follower slower than the quorum, which the
// leader stops talking to once it applies the removal) never applies its
// removal, so it would never destroy itself: it would keep a stale
// descriptor naming itself and answer requests with it, and campaign for
// good. The members it campaigns to tell it it was removed, and it is
// destroyed (its data deleted, a tombstone written) promptly.
func TestRemovedReplicaThatMissedItsRemovalIsDestroyed(t *testing.T) {
	tr, nodes := startCluster(t, 3, func(eng *storage.Engine, _ uint64) { writeReplicatedRange(t, eng, 3) })
	putViaLeader(t, nodes, "k", "v")
	waitForKey(t, nodes[2], "k")

	removed := nodes[2]
	tr.partition(removed.id, true)
	resp := sendViaLeader(t, nodes[:2], changeReplicas(kvpb.AdminChangeReplicasRequest_REMOVE, removed.id))
	if got := len(resp.GetAdminChangeReplicas().Desc.Replicas); got != 2 {
		t.Fatalf("after the removal: %d replicas", got)
	}
	putViaLeader(t, nodes[:2], "after", "x")
	// Cut off, node 3 still has its replica, with the old descriptor.
	r := removed.store.Replica(keys.FirstUserRangeID)
	if r == nil || !r.Desc().HasNode(removed.id) {
		t.Fatal("the partitioned node already knows of its removal")
	}

	tr.partition(removed.id, false)
	// Destroyed: unregistered, then its state deleted and a tombstone
	// written in one batch (wait for both).
	if err := waitFor(10*time.Second, func() bool {
		tomb, err := readTombstone(removed.eng.Reader(), keys.FirstUserRangeID)
		return removed.store.Replica(keys.FirstUserRangeID) == nil && err == nil && tomb > 0
	}); err != nil {
		t.Fatalf("the removed replica on node %d was not destroyed: %v", removed.id, err)
	}
	res, err := storage.MVCCGet(removed.eng.Reader(), keys.KVKey([]byte("k")), storage.MaxTimestamp)
	if err != nil || res.Found {
		t.Fatalf("the destroyed replica's data is still there: %v %v", res, err)
	}
	if tomb, err := readTombstone(removed.eng.Reader(), keys.FirstUserRangeID); err != nil || tomb <= 3 {
		t.Fatalf("tombstone %d, %v; want above the removed replica's id 3", tomb, err)
	}
	// The range goes on without it; the node answers that it has no replica.
	putViaLeader(t, nodes[:2], "later", "y")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	out := removed.store.Send(ctx, &kvpb.RangeRequest{RangeId: keys.FirstUserRangeID, Requests: []*kvpb.RequestUnion{get("k")}})
	if out.Error.GetRangeNotFound() == nil {
		t.Fatalf("node %d answered %v, want RangeNotFound", removed.id, out.Error)
	}
}

// removedFrom tells removed replica ids from current ones and from ids not
// handed out yet.
func TestRemovedFrom(t *testing.T) {
	d := &kvpb.RangeDescriptor{RangeId: 2, StartKey: []byte("a"), EndKey: []byte("b"), NextReplicaId: 5,
		Replicas: []*kvpb.ReplicaDescriptor{{NodeId: 1, ReplicaId: 1}, {NodeId: 4, ReplicaId: 4}}}
	for id, want := range map[uint64]bool{0: false, 1: false, 2: true, 3: true, 4: false, 5: false, 6: false} {
		if got := removedFrom(d, id); got != want {
			t.Errorf("removedFrom(replica %d) = %v, want %v", id, got, want)
		}
	}
	uninit := &kvpb.RangeDescriptor{RangeId: 2, Replicas: []*kvpb.ReplicaDescriptor{{NodeId: 1, ReplicaId: 7}}}
	if removedFrom(uninit, 2) {
		t.Error("an uninitialised replica's descriptor says a replica was removed")
	}
}
