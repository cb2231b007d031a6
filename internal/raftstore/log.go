package raftstore

import (
	"encoding/binary"

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

// maxPointTruncation is the most entries a truncation deletes one by one;
// beyond it, one range deletion.
const maxPointTruncation = 4096

// truncateToBatch removes log entries up to and including index; those up
// to truncated are gone already. It deletes each entry rather than the span:
// a range deletion stays in the memtable and then in L0 until compacted, and
// while it does every seek of the engine (a point read of user data too)
// also positions a range-deletion iterator in each memtable and file that
// holds one; with a truncation every second or so on a busy range, that was
// about 5% of a leaseholder's CPU. A long truncation (a follower that was
// far behind) still uses one range deletion.
func truncateToBatch(b *storage.Batch, rangeID, truncated, index, term uint64) error {
	if index > truncated && index-truncated <= maxPointTruncation {
		key := storage.RaftLogKey(rangeID, 0)
		n := len(key) - 8
		for i := truncated + 1; i <= index; i++ {
			binary.BigEndian.PutUint64(key[n:], i) // Delete copies the key
			if err := b.Delete(key, nil); err != nil {
				return err
			}
		}
	} else if err := b.DeleteRange(storage.RaftLogPrefix(rangeID), storage.RaftLogKey(rangeID, index+1), nil); err != nil {
		return err
	}
	return PutProto(b, storage.RaftTruncatedStateKey(rangeID), &kvpb.RaftTruncatedState{Index: index, Term: term})
}
