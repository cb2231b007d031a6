package replica

import (
	"bytes"
	"context"

	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/raftstore"
	"github.com/cairndb/cairn/internal/storage"
)

// adminSplit splits this range at the request's key. It waits for all
// in-flight writes (splitMu) so none straddles the split.
func (r *Replica) adminSplit(ctx context.Context, s *kvpb.AdminSplitRequest) ([]*kvpb.ResponseUnion, error) {
	r.splitMu.Lock()
	defer r.splitMu.Unlock()
	term, desc, perr := r.leaseCheck()
	if perr != nil {
		return nil, perr
	}
	switch {
	case desc.RangeId == keys.MetaRangeID:
		return nil, kvpb.NewErrorf("the meta range never splits")
	case !containsKey(desc, s.SplitKey):
		return nil, kvpb.NewRangeKeyMismatch(desc.RangeId, s.SplitKey, desc)
	case bytes.Equal(s.SplitKey, desc.StartKey):
		return nil, kvpb.NewErrorf("split key %s is already the start of range %d", keys.Pretty(s.SplitKey), desc.RangeId)
	case s.NewRangeId == 0 || r.store.Replica(s.NewRangeId) != nil:
		return nil, kvpb.NewErrorf("invalid new range id %d", s.NewRangeId)
	}
	left := proto.Clone(desc).(*kvpb.RangeDescriptor)
	left.EndKey = s.SplitKey
	left.Generation++
	right := proto.Clone(desc).(*kvpb.RangeDescriptor)
	right.RangeId = s.NewRangeId
	right.StartKey = s.SplitKey
	right.Generation = left.Generation
	// No write is in flight (splitMu): the engine holds exactly the applied
	// state the split applies to, so the right half's locks can be counted.
	trigger := &kvpb.SplitTrigger{Left: left, Right: right, LocksCounted: true}
	if !r.locks().none() {
		n, err := countLocks(r.store.eng.Reader(), right.StartKey, right.EndKey)
		if err != nil {
			return nil, err
		}
		trigger.RightLocks = n
	}
	cmd := &kvpb.RaftCommand{
		Split:      trigger,
		Generation: desc.Generation, ProposerTerm: term,
	}
	if err := r.proposeAndWait(ctx, cmd); err != nil {
		return nil, err
	}
	return []*kvpb.ResponseUnion{{Value: &kvpb.ResponseUnion_AdminSplit{
		AdminSplit: &kvpb.AdminSplitResponse{Left: left, Right: right},
	}}}, nil
}

// stageSplit writes the two new descriptors and the right-hand range's
// initial Raft state; the right half inherits the left's max write
// timestamp and GC threshold (its data may have been collected up to it),
// and gets the lock count the split counted. The data itself stays where it
// is: both halves share the engine.
func stageSplit(eng storage.Reader, b *storage.Batch, s *kvpb.SplitTrigger, maxWriteTS, gcThreshold uint64) error {
	if s.LocksCounted {
		if err := writeLockCount(b, s.Right.RangeId, lockCount{n: s.RightLocks, known: true}); err != nil {
			return err
		}
	}
	if err := b.Set(storage.RangeMaxWriteTSKey(s.Right.RangeId), encodeUint64(maxWriteTS), nil); err != nil {
		return err
	}
	if gcThreshold > 0 {
		if err := b.Set(storage.RangeGCThresholdKey(s.Right.RangeId), encodeUint64(gcThreshold), nil); err != nil {
			return err
		}
	}
	if err := raftstore.PutProto(b, storage.RangeDescriptorKey(s.Left.RangeId), s.Left); err != nil {
		return err
	}
	if err := raftstore.PutProto(b, storage.RangeDescriptorKey(s.Right.RangeId), s.Right); err != nil {
		return err
	}
	return raftstore.WriteInitialStateOver(eng, b, s.Right.RangeId)
}
