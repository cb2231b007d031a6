package raftstore

import (
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/storage"
)

// TestTruncateToBatch checks both ways of truncating a log: entry by entry
// (the common case) and with one range deletion (more than
// maxPointTruncation entries). Either way exactly the entries up to the
// index go, the rest of this range's log and the next range's stay, and no
// range deletion is left by the short truncation.
func TestTruncateToBatch(t *testing.T) {
	for _, tc := range []struct {
		name              string
		truncated, index  uint64
		last              uint64
		wantRangeDeletion bool
	}{
		{"point deletes", 10, 15, 20, false},
		{"one entry", 10, 11, 20, false},
		{"long truncation", 10, 10 + maxPointTruncation + 1, 10 + maxPointTruncation + 5, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eng := openEngine(t)
			b := eng.NewBatch()
			for _, rangeID := range []uint64{7, 8} {
				var ents []*raftpb.Entry
				for i := tc.truncated + 1; i <= tc.last; i++ {
					ents = append(ents, &raftpb.Entry{Index: proto.Uint64(i), Term: proto.Uint64(1), Data: []byte("x")})
				}
				if err := appendToBatch(b, rangeID, ents, 0); err != nil {
					t.Fatal(err)
				}
			}
			if err := b.Commit(pebble.Sync); err != nil {
				t.Fatal(err)
			}
			b = eng.NewBatch()
			if err := truncateToBatch(b, 7, tc.truncated, tc.index, 1); err != nil {
				t.Fatal(err)
			}
			if got := countRangeDeletions(t, b); (got > 0) != tc.wantRangeDeletion {
				t.Fatalf("range deletions in the batch: %d, want some: %v", got, tc.wantRangeDeletion)
			}
			if err := b.Commit(pebble.Sync); err != nil {
				t.Fatal(err)
			}
			log, err := readLog(eng.Reader(), 7, 0)
			if err != nil {
				t.Fatal(err)
			}
			if uint64(len(log)) != tc.last-tc.index || log[0].GetIndex() != tc.index+1 {
				t.Fatalf("range 7 log after truncating to %d: %d entries from %d, want %d from %d",
					tc.index, len(log), log[0].GetIndex(), tc.last-tc.index, tc.index+1)
			}
			other, err := readLog(eng.Reader(), 8, 0)
			if err != nil || uint64(len(other)) != tc.last-tc.truncated {
				t.Fatalf("range 8 log: %d entries, %v; want all %d", len(other), err, tc.last-tc.truncated)
			}
			if ts := readTruncatedState(t, eng.Reader(), 7); ts.GetIndex() != tc.index {
				t.Fatalf("truncated state %d, want %d", ts.GetIndex(), tc.index)
			}
		})
	}
}

func countRangeDeletions(t *testing.T, b *storage.Batch) int {
	t.Helper()
	n := 0
	for r := b.Reader(); ; {
		kind, _, _, ok, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return n
		}
		if kind == pebble.InternalKeyKindRangeDelete {
			n++
		}
	}
}
