package placement

import (
	"testing"

	"github.com/cairndb/cairn/internal/kvpb"
)

func desc(voters ...uint64) *kvpb.RangeDescriptor {
	d := &kvpb.RangeDescriptor{RangeId: 5}
	for i, n := range voters {
		d.Replicas = append(d.Replicas, &kvpb.ReplicaDescriptor{NodeId: n, ReplicaId: uint64(i + 1), Type: kvpb.ReplicaType_VOTER})
	}
	return d
}

func TestNextChange(t *testing.T) {
	live := func(load int) *nodeState { return &nodeState{live: true, load: load} }
	down := &nodeState{}           // missed heartbeats, not dead yet
	dead := &nodeState{dead: true} // past dead_node_timeout
	drain := &nodeState{live: true, draining: true}
	type want struct {
		change kvpb.AdminChangeReplicasRequest_ChangeType
		node   uint64
		ok     bool
	}
	for _, tc := range []struct {
		name   string
		d      *kvpb.RangeDescriptor
		target int
		state  map[uint64]*nodeState
		want   want
	}{
		{"balanced", desc(1, 2, 3), 3, map[uint64]*nodeState{1: live(1), 2: live(1), 3: live(1)}, want{}},
		// The bug this guards against: one node down for seconds must not
		// make the driver remove a live voter.
		{"one voter down, 3 nodes", desc(1, 2, 3), 3, map[uint64]*nodeState{1: down, 2: live(1), 3: live(1)}, want{}},
		{"one voter down, spare node: wait for dead", desc(1, 2, 3), 3, map[uint64]*nodeState{1: down, 2: live(1), 3: live(1), 4: live(0)}, want{}},
		{"one voter dead: replace on the spare", desc(1, 2, 3), 3, map[uint64]*nodeState{1: dead, 2: live(1), 3: live(1), 4: live(0)},
			want{kvpb.AdminChangeReplicasRequest_ADD_LEARNER, 4, true}},
		{"replacement done: remove the dead voter", desc(1, 2, 3, 4), 3, map[uint64]*nodeState{1: dead, 2: live(1), 3: live(1), 4: live(1)},
			want{kvpb.AdminChangeReplicasRequest_REMOVE, 1, true}},
		{"draining voter replaced first", desc(1, 2, 3), 3, map[uint64]*nodeState{1: drain, 2: live(1), 3: live(1), 4: live(0)},
			want{kvpb.AdminChangeReplicasRequest_ADD_LEARNER, 4, true}},
		{"surplus voter, all live: most loaded goes", desc(1, 2, 3, 4), 3, map[uint64]*nodeState{1: live(5), 2: live(9), 3: live(5), 4: live(1)},
			want{kvpb.AdminChangeReplicasRequest_REMOVE, 2, true}},
		{"surplus voter but one down: keep all", desc(1, 2, 3, 4), 3, map[uint64]*nodeState{1: down, 2: live(9), 3: live(5), 4: live(1)}, want{}},
		{"under-replicated: least loaded gets it", desc(1), 3, map[uint64]*nodeState{1: live(3), 2: live(2), 3: live(1)},
			want{kvpb.AdminChangeReplicasRequest_ADD_LEARNER, 3, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, n, ok := nextChange(tc.d, tc.target, tc.state)
			if got := (want{c, n, ok}); got != tc.want {
				t.Fatalf("nextChange = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestLearnerHandling(t *testing.T) {
	d := desc(1, 2)
	d.Replicas = append(d.Replicas, &kvpb.ReplicaDescriptor{NodeId: 3, ReplicaId: 3, Type: kvpb.ReplicaType_LEARNER})
	state := map[uint64]*nodeState{1: {live: true}, 2: {live: true}, 3: {live: true}}
	if c, n, _ := nextChange(d, 3, state); c != kvpb.AdminChangeReplicasRequest_PROMOTE_VOTER || n != 3 {
		t.Fatalf("learner on a live node: %v %d, want promote", c, n)
	}
	state[3] = &nodeState{dead: true}
	if c, n, _ := nextChange(d, 3, state); c != kvpb.AdminChangeReplicasRequest_REMOVE || n != 3 {
		t.Fatalf("learner on a dead node: %v %d, want remove", c, n)
	}
}
