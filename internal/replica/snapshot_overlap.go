package replica

import (
	"bytes"
	"errors"
	"fmt"
	"time"

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
// An accepted snapshot reserves its span until it is applied (like
// CockroachDB's placeholders): two snapshots for overlapping spans, one
// made before a split and one after, for two ranges this node does not
// have yet, would otherwise both pass, and the second applied would clear
// the first's data. A reservation lapses after reservationTTL, in case Raft
// drops the snapshot (a stale one) and it never applies.

// errSnapshotOverlaps is returned for a refused snapshot.
var errSnapshotOverlaps = errors.New("snapshot overlaps another replica on this node")

// reservationTTL bounds how long an accepted snapshot reserves its span.
const reservationTTL = time.Minute

// reservation is the span of an accepted, not yet applied snapshot.
type reservation struct {
	desc    *kvpb.RangeDescriptor
	expires time.Time
}

// releaseReservation ends range rangeID's reservation once its snapshot
// applied (its replica's descriptor now covers the span).
func (s *Store) releaseReservation(rangeID uint64) {
	s.mu.Lock()
	delete(s.mu.reserved, rangeID)
	s.mu.Unlock()
}

// checkSnapshotSpan refuses a snapshot of range rangeID whose span
// overlaps another initialised replica of this node or another accepted
// snapshot's reserved span, and reserves its span otherwise.
func (s *Store) checkSnapshotSpan(rangeID uint64, snap *raftpb.Snapshot) error {
	d, err := snapshotDescriptor(snap.GetData())
	if err != nil {
		return fmt.Errorf("range %d: corrupt snapshot: %w", rangeID, err)
	}
	if d.RangeId != rangeID {
		return fmt.Errorf("snapshot of range %d sent to range %d", d.RangeId, rangeID)
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
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
	for id, res := range s.mu.reserved {
		switch {
		case now.After(res.expires):
			delete(s.mu.reserved, id)
		case id != rangeID && spansOverlap(d, res.desc):
			return fmt.Errorf("%w: range %d [%s, %s) and the snapshot of range %d being applied [%s, %s)",
				errSnapshotOverlaps, rangeID, keys.Pretty(d.StartKey), keys.Pretty(d.EndKey),
				id, keys.Pretty(res.desc.StartKey), keys.Pretty(res.desc.EndKey))
		}
	}
	s.mu.reserved[rangeID] = reservation{desc: d, expires: now.Add(reservationTTL)}
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
