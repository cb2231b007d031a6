package raftstore

import (
	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/storage"
)

// readLog returns the persisted entries of a range from index lo on.
func readLog(r storage.Reader, rangeID, lo uint64) ([]*raftpb.Entry, error) {
	it, err := r.NewIter(&pebble.IterOptions{
		LowerBound: storage.RaftLogKey(rangeID, lo),
		UpperBound: storage.RaftLogKey(rangeID, ^uint64(0)),
	})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var ents []*raftpb.Entry
	for valid := it.First(); valid; valid = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		e := &raftpb.Entry{}
		if err := proto.Unmarshal(v, e); err != nil {
			return nil, err
		}
		ents = append(ents, e)
	}
	return ents, it.Error()
}

// appendToBatch stages entries and hard state of a Ready. Entries replacing
// a conflicting suffix overwrite it; stale entries past the new last index
// are deleted.
func appendToBatch(b *storage.Batch, rangeID uint64, ents []*raftpb.Entry, prevLast uint64) error {
	if len(ents) == 0 {
		return nil
	}
	for _, e := range ents {
		v, err := proto.Marshal(e)
		if err != nil {
			return err
		}
		if err := b.Set(storage.RaftLogKey(rangeID, e.GetIndex()), v, nil); err != nil {
			return err
		}
	}
	last := ents[len(ents)-1].GetIndex()
	if prevLast > last {
		return b.DeleteRange(storage.RaftLogKey(rangeID, last+1), storage.RaftLogKey(rangeID, prevLast+1), nil)
	}
	return nil
}

// truncateToBatch removes log entries up to and including index.
func truncateToBatch(b *storage.Batch, rangeID, index, term uint64) error {
	if err := b.DeleteRange(storage.RaftLogPrefix(rangeID), storage.RaftLogKey(rangeID, index+1), nil); err != nil {
		return err
	}
	return PutProto(b, storage.RaftTruncatedStateKey(rangeID), &kvpb.RaftTruncatedState{Index: index, Term: term})
}
