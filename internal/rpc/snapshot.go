package rpc

import (
	"fmt"
	"log/slog"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/kvpb"
)

// Snapshot streaming limits.
const (
	snapshotChunkBytes = 1 << 20
	// MaxSnapshotBytes bounds a received snapshot.
	MaxSnapshotBytes = 512 << 20
	// maxSnapshotSends bounds concurrent outgoing snapshots per node.
	maxSnapshotSends = 2
	// DefaultSnapshotRate is the outgoing snapshot bandwidth of a node, so
	// that catching up a replica never starves foreground traffic.
	DefaultSnapshotRate = 32 << 20 // bytes per second
)

// SnapshotReporter tells raft how sending a snapshot to a replica went.
type SnapshotReporter func(rangeID, toReplica uint64, ok bool)

// sendSnapshot streams a MsgSnap in chunks, rate-limited, and reports the
// outcome. It runs in its own goroutine (bounded by snapshotSlots).
func (t *Transport) sendSnapshot(rangeID uint64, to *kvpb.ReplicaDescriptor, m *raftpb.Message) {
	defer t.wg.Done()
	defer func() { <-t.snapshotSlots }()
	ok := t.streamSnapshot(rangeID, to, m) == nil
	if t.reportSnapshot != nil {
		t.reportSnapshot(rangeID, m.GetTo(), ok)
	}
	if ok {
		snapshotsSent.Inc()
	} else {
		snapshotsFailed.Inc()
	}
}

func (t *Transport) streamSnapshot(rangeID uint64, to *kvpb.ReplicaDescriptor, m *raftpb.Message) error {
	ctx, cancel := t.stopContext(10 * time.Minute)
	defer cancel()
	data := m.GetSnapshot().GetData()
	header := proto.Clone(m).(*raftpb.Message)
	header.Snapshot.Data = nil
	hb, err := proto.Marshal(header)
	if err != nil {
		return err
	}
	client, err := t.pool.Internal(ctx, to.NodeId)
	if err != nil {
		return err
	}
	stream, err := client.RaftSnapshot(ctx)
	if err != nil {
		return err
	}
	first := &kvpb.SnapshotChunk{Header: &kvpb.RaftMessage{RangeId: rangeID, FromNodeId: t.nodeID, ToReplica: to, Message: hb}}
	start := time.Now()
	sent := 0
	for {
		n := min(snapshotChunkBytes, len(data)-sent)
		chunk := &kvpb.SnapshotChunk{Data: data[sent : sent+n], Last: sent+n == len(data)}
		if first != nil {
			chunk.Header, first = first.Header, nil
		}
		if err := stream.Send(chunk); err != nil {
			return fmt.Errorf("sending snapshot of range %d: %w", rangeID, err)
		}
		sent += n
		// Rate limit: never ahead of DefaultSnapshotRate since the start.
		if ahead := time.Duration(float64(sent)/float64(t.snapshotRate)*float64(time.Second)) - time.Since(start); ahead > 0 {
			select {
			case <-time.After(ahead):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if chunk.Last {
			break
		}
	}
	_, err = stream.CloseAndRecv()
	slog.Debug("sent snapshot", "range", rangeID, "to_node", to.NodeId, "bytes", len(data), "took", time.Since(start))
	return err
}

// ReceiveSnapshot reassembles a streamed snapshot into its MsgSnap. next
// returns the chunks in order.
func ReceiveSnapshot(next func() (*kvpb.SnapshotChunk, error)) (*kvpb.RaftMessage, error) {
	first, err := next()
	if err != nil {
		return nil, err
	}
	if first.Header == nil {
		return nil, fmt.Errorf("snapshot stream without a header")
	}
	msg := &raftpb.Message{}
	if err := proto.Unmarshal(first.Header.Message, msg); err != nil {
		return nil, fmt.Errorf("corrupt snapshot header: %w", err)
	}
	if msg.GetType() != raftpb.MsgSnap || msg.Snapshot == nil {
		return nil, fmt.Errorf("snapshot stream header is a %v", msg.GetType())
	}
	data := append([]byte(nil), first.Data...)
	for c := first; !c.Last; {
		if c, err = next(); err != nil {
			return nil, err
		}
		if len(data)+len(c.Data) > MaxSnapshotBytes {
			return nil, fmt.Errorf("snapshot exceeds %d bytes", MaxSnapshotBytes)
		}
		data = append(data, c.Data...)
	}
	msg.Snapshot.Data = data
	out := proto.Clone(first.Header).(*kvpb.RaftMessage)
	if out.Message, err = proto.Marshal(msg); err != nil {
		return nil, err
	}
	return out, nil
}
