package rpc

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/kvpb"
)

// chunks splits a MsgSnap the way streamSnapshot does.
func chunks(t *testing.T, data []byte, chunk int) []*kvpb.SnapshotChunk {
	t.Helper()
	m := &raftpb.Message{Type: raftpb.MsgSnap.Enum(), To: proto.Uint64(2), Snapshot: &raftpb.Snapshot{
		Metadata: &raftpb.SnapshotMetadata{Index: proto.Uint64(42), Term: proto.Uint64(3)}}}
	hb, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out []*kvpb.SnapshotChunk
	for sent := 0; ; {
		n := min(chunk, len(data)-sent)
		c := &kvpb.SnapshotChunk{Data: data[sent : sent+n], Last: sent+n == len(data)}
		if sent == 0 {
			c.Header = &kvpb.RaftMessage{RangeId: 7, Message: hb}
		}
		out = append(out, c)
		sent += n
		if c.Last {
			return out
		}
	}
}

func feed(cs []*kvpb.SnapshotChunk) func() (*kvpb.SnapshotChunk, error) {
	return func() (*kvpb.SnapshotChunk, error) {
		if len(cs) == 0 {
			return nil, io.EOF
		}
		c := cs[0]
		cs = cs[1:]
		return c, nil
	}
}

func TestReceiveSnapshotReassembles(t *testing.T) {
	for _, size := range []int{0, 1, 1000, 3*1000 + 7} {
		data := bytes.Repeat([]byte{0xab}, size)
		got, err := ReceiveSnapshot(feed(chunks(t, data, 1000)))
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		m := &raftpb.Message{}
		if err := proto.Unmarshal(got.Message, m); err != nil {
			t.Fatal(err)
		}
		if got.RangeId != 7 || m.GetSnapshot().GetMetadata().GetIndex() != 42 || !bytes.Equal(m.GetSnapshot().GetData(), data) {
			t.Fatalf("size %d: reassembled message differs", size)
		}
	}
}

func TestReceiveSnapshotRejectsBadStreams(t *testing.T) {
	good := chunks(t, bytes.Repeat([]byte{1}, 3000), 1000)
	noHeader := []*kvpb.SnapshotChunk{{Data: []byte("x"), Last: true}}
	if _, err := ReceiveSnapshot(feed(noHeader)); err == nil {
		t.Fatal("accepted a stream without a header")
	}
	notSnap, _ := proto.Marshal(&raftpb.Message{Type: raftpb.MsgApp.Enum()})
	if _, err := ReceiveSnapshot(feed([]*kvpb.SnapshotChunk{{Header: &kvpb.RaftMessage{Message: notSnap}, Last: true}})); err == nil {
		t.Fatal("accepted a header that is not a snapshot")
	}
	if _, err := ReceiveSnapshot(feed(good[:2])); !errors.Is(err, io.EOF) {
		t.Fatalf("truncated stream: got %v, want EOF", err)
	}
}
