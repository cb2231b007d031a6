package replica

import (
	"bytes"
	"errors"
	"fmt"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
)

// Replicas on a node never overlap: destroying a replica or applying a
// snapshot deletes the data of the replica's whole span (old and new), so
// an overlap would delete another replica's data. A replica that missed a
// split of its range keeps its old, wider span until it catches up (by log
// or by snapshot) or is destroyed; a snapshot of a range split off it must
// wait until then, or applying the lagging replica's own snapshot would
// later clear the new range's data. So a snapshot whose span overlaps
// another initialised replica here is refused (the sender reports the
// failure to Raft, which sends it again later), as CockroachDB does.
//
// Left open: two snapshots for overlapping spans (one generated before a
// split, one after) arriving for two replicas this node does not have yet
// both pass the check; CockroachDB reserves the span with a placeholder
// while a snapshot is applied.

// errSnapshotOverlaps is returned for a refused snapshot.
var errSnapshotOverlaps = errors.New("snapshot overlaps another replica on this node")

// checkSnapshotSpan refuses a snapshot of range rangeID whose span
// overlaps another initialised replica of this node.
func (s *Store) checkSnapshotSpan(rangeID uint64, snap *raftpb.Snapshot) error {
	d, err := snapshotDescriptor(snap.GetData())
	if err != nil {
		return fmt.Errorf("range %d: corrupt snapshot: %w", rangeID, err)
	}
	if d.RangeId != rangeID {
		return fmt.Errorf("snapshot of range %d sent to range %d", d.RangeId, rangeID)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, o := range s.mu.replicas {
		if o.RangeID == rangeID {
			continue
		}
		od := o.Desc()
		if len(od.EndKey) == 0 || !spansOverlap(d, od) {
			continue
		}
		return fmt.Errorf("%w: range %d [%s, %s) and range %d [%s, %s); refused until range %d's replica catches up or is removed",
			errSnapshotOverlaps, rangeID, keys.Pretty(d.StartKey), keys.Pretty(d.EndKey),
			od.RangeId, keys.Pretty(od.StartKey), keys.Pretty(od.EndKey), od.RangeId)
	}
	return nil
}

// spansOverlap reports whether two initialised descriptors' spans overlap.
func spansOverlap(a, b *kvpb.RangeDescriptor) bool {
	return bytes.Compare(a.StartKey, b.EndKey) < 0 && bytes.Compare(b.StartKey, a.EndKey) < 0
}

// snapshotDescriptor decodes the descriptor of a snapshot's SnapshotData
// without decoding its key-values.
func snapshotDescriptor(data []byte) (*kvpb.RangeDescriptor, error) {
	const descField = 1 // SnapshotData.desc
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		data = data[n:]
		if num == descField && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(data)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			d := &kvpb.RangeDescriptor{}
			if err := unmarshal(v, d); err != nil {
				return nil, err
			}
			return d, nil
		}
		if n = protowire.ConsumeFieldValue(num, typ, data); n < 0 {
			return nil, protowire.ParseError(n)
		}
		data = data[n:]
	}
	return nil, errors.New("no descriptor")
}
