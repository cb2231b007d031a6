package server

import (
	"strings"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/storage"
)

// rangeInfos describes every local replica.
func (s *Server) rangeInfos() []*kvpb.RangeInfo {
	var out []*kvpb.RangeInfo
	for _, r := range s.store.Replicas() {
		d := r.Desc()
		leader, term := r.Group().Leader()
		lo, hi := storage.MVCCSpan(d.StartKey, d.EndKey)
		size, _ := s.eng.DiskUsage(lo, hi) // on-disk estimate: misses the memtable
		if m, ok := r.MeasuredSize(); ok && uint64(m) > size {
			size = uint64(m)
		}
		out = append(out, &kvpb.RangeInfo{Desc: d, Leaseholder: r.IsLeaseholder(), LeaderReplicaId: leader, Term: term, SizeBytes: size})
	}
	return out
}

type replicaJSON struct {
	NodeID    uint64 `json:"node_id"`
	ReplicaID uint64 `json:"replica_id"`
	// Type is "voter" or "learner".
	Type string `json:"type"`
}

type rangeJSON struct {
	RangeID     uint64        `json:"range_id"`
	StartKey    string        `json:"start_key"`
	EndKey      string        `json:"end_key"`
	Replicas    []replicaJSON `json:"replicas"`
	Leaseholder uint64        `json:"leaseholder"`
	SizeBytes   uint64        `json:"size_bytes"`
}

// rangesJSON renders /v1/ranges; the leaseholder is a node id (0: unknown).
func rangesJSON(infos []*kvpb.RangeInfo) []rangeJSON {
	out := make([]rangeJSON, 0, len(infos))
	for _, in := range infos {
		d := in.Desc
		rj := rangeJSON{RangeID: d.RangeId, StartKey: keys.Pretty(d.StartKey), EndKey: keys.Pretty(d.EndKey), SizeBytes: in.SizeBytes}
		for _, rd := range d.Replicas {
			rj.Replicas = append(rj.Replicas, replicaJSON{NodeID: rd.NodeId, ReplicaID: rd.ReplicaId, Type: strings.ToLower(rd.Type.String())})
			if rd.ReplicaId == in.LeaderReplicaId {
				rj.Leaseholder = rd.NodeId
			}
		}
		out = append(out, rj)
	}
	return out
}
