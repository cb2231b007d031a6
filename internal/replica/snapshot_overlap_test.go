package replica

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/hlc"
	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/raftstore"
)

func snapshotOf(d *kvpb.RangeDescriptor) *raftpb.Snapshot {
	data := &kvpb.SnapshotData{Desc: d, Applied: &kvpb.RangeAppliedState{AppliedIndex: 10, AppliedTerm: 5},
		Kvs: []*kvpb.SnapshotKV{{Key: []byte("k"), Value: []byte("v")}}, MaxWriteTimestamp: 7}
	return &raftpb.Snapshot{Data: marshal(data), Metadata: &raftpb.SnapshotMetadata{Index: proto.Uint64(10), Term: proto.Uint64(5)}}
}

// A snapshot whose span overlaps another replica on the node is refused
// before it reaches Raft (applying it would later delete that replica's
// data); the range's own replica's span does not count.
func TestSnapshotOverlappingAnotherReplicaRefused(t *testing.T) {
	n := startMemNode(t, nil)
	m := keys.KVKey([]byte("m"))
	split := &kvpb.RequestUnion{Value: &kvpb.RequestUnion_AdminSplit{AdminSplit: &kvpb.AdminSplitRequest{SplitKey: m, NewRangeId: 3}}}
	if _, err := n.send(t, keys.FirstUserRangeID, split); err != nil {
		t.Fatal(err)
	}
	right := n.store.Replica(3).Desc()

	// Range 3's own span: accepted.
	if err := n.store.checkSnapshotSpan(3, snapshotOf(right)); err != nil {
		t.Fatalf("a snapshot of range 3 over its own span: %v", err)
	}
	// A range this node does not have, over part of range 3: refused,
	// and no replica is created for it.
	other := &kvpb.RangeDescriptor{RangeId: 9, StartKey: keys.KVKey([]byte("x")), EndKey: keys.KeyMax, Generation: 4, NextReplicaId: 3,
		Replicas: []*kvpb.ReplicaDescriptor{{NodeId: 1, ReplicaId: 2}, {NodeId: 2, ReplicaId: 1}}}
	msg := &raftpb.Message{Type: raftpb.MessageType_MsgSnap.Enum(), To: proto.Uint64(2), From: proto.Uint64(1), Term: proto.Uint64(5),
		Snapshot: snapshotOf(other)}
	err := n.store.HandleRaftMessage(context.Background(), &kvpb.RaftMessage{RangeId: 9, FromNodeId: 2,
		ToReplica: &kvpb.ReplicaDescriptor{NodeId: 1, ReplicaId: 2}, Message: marshal(msg)})
	if !errors.Is(err, errSnapshotOverlaps) {
		t.Fatalf("snapshot of range 9 over range 3's span: %v, want it refused", err)
	}
	if n.store.Replica(9) != nil {
		t.Fatal("a replica was created for the refused snapshot")
	}
	// Spans that only touch do not overlap.
	left := n.store.Replica(keys.FirstUserRangeID).Desc()
	touching := &kvpb.RangeDescriptor{RangeId: 9, StartKey: left.EndKey, EndKey: left.EndKey}
	if spansOverlap(left, touching) || !spansOverlap(left, &kvpb.RangeDescriptor{StartKey: left.StartKey, EndKey: m}) {
		t.Fatal("spansOverlap")
	}
	// The descriptor is read without the data; corrupt data is an error.
	if d, err := snapshotDescriptor(snapshotOf(right).Data); err != nil || !proto.Equal(d, right) {
		t.Fatalf("snapshotDescriptor: %v %v", d, err)
	}
	if _, err := snapshotDescriptor([]byte{0x0a, 0x05, 0x01}); err == nil {
		t.Fatal("a truncated snapshot decoded")
	}
}

// An accepted snapshot reserves its span until it applies (or its
// reservation lapses): a snapshot of another range over that span is
// refused meanwhile, the same range's is not.
func TestSnapshotReservesItsSpan(t *testing.T) {
	// A store with no replica (not started): only reservations decide.
	eng := memEngine(t)
	rs, err := raftstore.NewStore(raftstore.DefaultConfig(eng))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewStore(Config{NodeID: 1, Engine: eng, Raft: rs, Clock: hlc.New(nil)})
	if err != nil {
		t.Fatal(err)
	}
	span := func(id uint64, start, end string) *raftpb.Snapshot {
		return snapshotOf(&kvpb.RangeDescriptor{RangeId: id, StartKey: []byte(start), EndKey: []byte(end)})
	}
	if err := s.checkSnapshotSpan(5, span(5, "a", "m")); err != nil {
		t.Fatal(err)
	}
	if err := s.checkSnapshotSpan(6, span(6, "k", "z")); !errors.Is(err, errSnapshotOverlaps) {
		t.Fatalf("a snapshot over a reserved span: %v", err)
	}
	if err := s.checkSnapshotSpan(6, span(6, "m", "z")); err != nil {
		t.Fatalf("a snapshot beside a reserved span: %v", err)
	}
	if err := s.checkSnapshotSpan(5, span(5, "a", "m")); err != nil {
		t.Fatalf("the same range's snapshot again: %v", err)
	}
	s.releaseReservation(5)
	if err := s.checkSnapshotSpan(7, span(7, "b", "c")); err != nil {
		t.Fatalf("after the reservation was released: %v", err)
	}
	s.mu.Lock()
	r := s.mu.reserved[6]
	r.expires = time.Now().Add(-time.Second)
	s.mu.reserved[6] = r
	s.mu.Unlock()
	if err := s.checkSnapshotSpan(8, span(8, "n", "p")); err != nil {
		t.Fatalf("after the reservation lapsed: %v", err)
	}
}

// A destroyed replica's span stays reserved from its unregistering until
// its data is deleted: a snapshot over it accepted in between would lose
// its data to that deletion.
func TestDestroyedReplicaReservesItsSpanUntilDeleted(t *testing.T) {
	n := startMemNode(t, nil)
	split := &kvpb.RequestUnion{Value: &kvpb.RequestUnion_AdminSplit{AdminSplit: &kvpb.AdminSplitRequest{SplitKey: keys.KVKey([]byte("m")), NewRangeId: 3}}}
	if _, err := n.send(t, keys.FirstUserRangeID, split); err != nil {
		t.Fatal(err)
	}
	r := n.store.Replica(3)
	desc := r.Desc()
	other := snapshotOf(&kvpb.RangeDescriptor{RangeId: 9, StartKey: keys.KVKey([]byte("x")), EndKey: keys.KeyMax})
	n.store.createMu.Lock()
	n.store.removeReplica(r)
	err := n.store.checkSnapshotSpan(9, other)
	n.store.deleteReplicaState(r, desc, wholeSpan(desc))
	n.store.createMu.Unlock()
	if !errors.Is(err, errSnapshotOverlaps) {
		t.Fatalf("a snapshot over a replica being destroyed: %v, want it refused", err)
	}
	if err := n.store.checkSnapshotSpan(9, other); err != nil {
		t.Fatalf("once the replica's data is deleted: %v", err)
	}
}
