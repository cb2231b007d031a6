package replica

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/raftstore"
	"github.com/cairndb/cairn/internal/storage"
)

// maxSnapshotBytes bounds an in-memory snapshot. Ranges split well below it
// (range_max_bytes); streaming snapshots in chunks replaces this bound when
// snapshots travel between nodes.
const maxSnapshotBytes = 256 << 20

// Snapshot implements raftstore.StateMachine: the descriptor, applied state
// and MVCC data of the range, all read from one engine snapshot, so the
// metadata's index is exactly the state the data reflects.
func (r *Replica) Snapshot() (*raftpb.Snapshot, error) {
	snap := r.store.eng.NewSnapshot()
	defer snap.Close()
	data := &kvpb.SnapshotData{Desc: &kvpb.RangeDescriptor{}, Applied: &kvpb.RangeAppliedState{}}
	if err := readProto(snap, storage.RangeDescriptorKey(r.RangeID), data.Desc); err != nil {
		return nil, err
	}
	if err := readProto(snap, storage.RangeAppliedStateKey(r.RangeID), data.Applied); err != nil {
		return nil, err
	}
	var err error
	if data.MaxWriteTimestamp, err = readMaxWriteTS(snap, r.RangeID); err != nil {
		return nil, err
	}
	if data.GcThreshold, err = readGCThreshold(snap, r.RangeID); err != nil {
		return nil, err
	}
	lo, hi := storage.MVCCSpan(data.Desc.StartKey, data.Desc.EndKey)
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	size := 0
	for valid := it.First(); valid; valid = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		kv := &kvpb.SnapshotKV{Key: append([]byte(nil), it.Key()...), Value: append([]byte(nil), v...)}
		if size += len(kv.Key) + len(kv.Value); size > maxSnapshotBytes {
			return nil, fmt.Errorf("range %d: snapshot exceeds %d bytes", r.RangeID, maxSnapshotBytes)
		}
		data.Kvs = append(data.Kvs, kv)
	}
	if err := it.Error(); err != nil {
		return nil, err
	}
	return &raftpb.Snapshot{
		Data: marshal(data),
		Metadata: &raftpb.SnapshotMetadata{
			Index:     proto.Uint64(data.Applied.AppliedIndex),
			Term:      proto.Uint64(data.Applied.AppliedTerm),
			ConfState: confState(data.Desc),
		},
	}, nil
}

// ApplySnapshot implements raftstore.StateMachine: the range's MVCC span is
// cleared (both the old and the new span) and replaced by the snapshot's.
func (r *Replica) ApplySnapshot(b *storage.Batch, snap *raftpb.Snapshot) (func(), error) {
	data := &kvpb.SnapshotData{}
	if err := proto.Unmarshal(snap.GetData(), data); err != nil {
		return nil, fmt.Errorf("corrupt snapshot data: %w", err)
	}
	if data.Desc == nil || data.Desc.RangeId != r.RangeID {
		return nil, fmt.Errorf("snapshot for range %d applied to range %d", data.Desc.GetRangeId(), r.RangeID)
	}
	old := r.Desc()
	for _, d := range []*kvpb.RangeDescriptor{old, data.Desc} {
		lo, hi := storage.MVCCSpan(d.StartKey, d.EndKey)
		if err := b.DeleteRange(lo, hi, nil); err != nil {
			return nil, err
		}
	}
	locks := lockCount{known: true}
	for _, kv := range data.Kvs {
		if err := b.Set(kv.Key, kv.Value, nil); err != nil {
			return nil, err
		}
		if storage.IsLockKey(kv.Key) {
			locks.n++
		}
	}
	if err := writeLockCount(b, r.RangeID, locks); err != nil {
		return nil, err
	}
	if err := raftstore.PutProto(b, storage.RangeDescriptorKey(r.RangeID), data.Desc); err != nil {
		return nil, err
	}
	if err := b.Set(storage.RangeMaxWriteTSKey(r.RangeID), encodeUint64(data.MaxWriteTimestamp), nil); err != nil {
		return nil, err
	}
	if data.GcThreshold > 0 {
		if err := b.Set(storage.RangeGCThresholdKey(r.RangeID), encodeUint64(data.GcThreshold), nil); err != nil {
			return nil, err
		}
	} else if err := b.Delete(storage.RangeGCThresholdKey(r.RangeID), nil); err != nil {
		return nil, err
	}
	// Before the data commits, as in Apply (the snapshot's data may lack
	// versions below its threshold).
	r.raiseGCThreshold(data.GcThreshold)
	return func() {
		r.store.cfg.Clock.Update(data.MaxWriteTimestamp)
		r.mu.Lock()
		r.mu.desc = data.Desc
		r.mu.maxWriteTS = data.MaxWriteTimestamp
		r.mu.locks = locks
		r.mu.writesApplied++
		r.mu.Unlock()
		r.store.releaseReservation(r.RangeID) // the descriptor covers the span now
	}, nil
}

func readProto(rd storage.Reader, key []byte, m proto.Message) error {
	v, err := storage.Get(rd, key)
	if err != nil {
		return fmt.Errorf("reading %x: %w", key, err)
	}
	return proto.Unmarshal(v, m)
}
