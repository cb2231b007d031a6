package rpc

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/kvpb"
)

// ReplicaResolver maps a range's replica id to its descriptor (node id).
type ReplicaResolver interface {
	ReplicaDescriptor(rangeID, replicaID uint64) (*kvpb.ReplicaDescriptor, bool)
}

// Transport limits.
const (
	peerQueueLen     = 8192    // messages queued per peer before dropping
	maxBatchMessages = 1024    // messages per stream send
	maxBatchBytes    = 8 << 20 // bytes per stream send (snapshots go alone)
)

// Transport sends Raft messages to other nodes; it implements
// raftstore.Transport.
type Transport struct {
	nodeID   uint64
	pool     *Pool
	replicas ReplicaResolver

	reportSnapshot SnapshotReporter
	snapshotRate   int64         // bytes per second
	snapshotSlots  chan struct{} // bounds concurrent outgoing snapshots

	mu struct {
		sync.Mutex
		peers   map[uint64]*peer
		stopped bool
	}
	stopper chan struct{}
	wg      sync.WaitGroup
}

// NewTransport returns a transport for this node. report, if set, learns
// how each snapshot send went.
func NewTransport(nodeID uint64, pool *Pool, replicas ReplicaResolver, report SnapshotReporter) *Transport {
	t := &Transport{nodeID: nodeID, pool: pool, replicas: replicas, stopper: make(chan struct{}),
		reportSnapshot: report, snapshotRate: DefaultSnapshotRate, snapshotSlots: make(chan struct{}, maxSnapshotSends)}
	t.mu.peers = make(map[uint64]*peer)
	return t
}

type peer struct {
	nodeID uint64
	queue  chan *kvpb.RaftMessage
}

// Send queues messages of a range for their nodes; it never blocks.
func (t *Transport) Send(rangeID uint64, msgs []*raftpb.Message) {
	for _, m := range msgs {
		to, ok := t.replicas.ReplicaDescriptor(rangeID, m.GetTo())
		if !ok {
			transportDropped.Inc()
			continue
		}
		if m.GetType() == raftpb.MsgSnap {
			t.startSnapshot(rangeID, to, m)
			continue
		}
		data, err := proto.Marshal(m)
		if err != nil {
			slog.Error("rpc: marshaling a raft message", "err", err)
			continue
		}
		p := t.peer(to.NodeId)
		if p == nil {
			return // stopped
		}
		select {
		case p.queue <- &kvpb.RaftMessage{RangeId: rangeID, FromNodeId: t.nodeID, ToReplica: to, Message: data}:
		default:
			transportDropped.Inc() // raft retransmits
		}
	}
}

// startSnapshot sends a snapshot on its own stream, or reports failure at
// once when too many are in flight (raft retries later).
func (t *Transport) startSnapshot(rangeID uint64, to *kvpb.ReplicaDescriptor, m *raftpb.Message) {
	t.mu.Lock()
	stopped := t.mu.stopped
	if !stopped {
		t.wg.Add(1)
	}
	t.mu.Unlock()
	if stopped {
		return
	}
	select {
	case t.snapshotSlots <- struct{}{}:
		go t.sendSnapshot(rangeID, to, m)
	default:
		t.wg.Done()
		if t.reportSnapshot != nil {
			t.reportSnapshot(rangeID, m.GetTo(), false)
		}
	}
}

func (t *Transport) peer(nodeID uint64) *peer {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mu.stopped {
		return nil
	}
	p := t.mu.peers[nodeID]
	if p == nil {
		p = &peer{nodeID: nodeID, queue: make(chan *kvpb.RaftMessage, peerQueueLen)}
		t.mu.peers[nodeID] = p
		t.wg.Add(1)
		go t.runPeer(p)
	}
	return p
}

// runPeer owns the stream to one node: it batches whatever is queued into
// one stream message, and reconnects with backoff after errors.
func (t *Transport) runPeer(p *peer) {
	defer t.wg.Done()
	backoff := 50 * time.Millisecond
	for {
		err := t.streamTo(p)
		select {
		case <-t.stopper:
			return
		default:
		}
		if err != nil {
			slog.Debug("rpc: raft stream broke", "node", p.nodeID, "err", err)
			t.pool.Forget(p.nodeID)
		}
		// Drop what queued up meanwhile: it is stale, and raft retransmits.
		for len(p.queue) > 0 {
			<-p.queue
		}
		select {
		case <-t.stopper:
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// stopContext returns a context that ends after timeout (0: never) or when
// the transport stops.
func (t *Transport) stopContext(timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(context.Background(), timeout)
	}
	go func() {
		select {
		case <-t.stopper:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

func (t *Transport) streamTo(p *peer) error {
	ctx, cancel := t.stopContext(0)
	defer cancel()
	client, err := t.pool.Internal(ctx, p.nodeID)
	if err != nil {
		return err
	}
	stream, err := client.RaftMessages(ctx)
	if err != nil {
		return err
	}
	batch := &kvpb.RaftMessageBatch{}
	for {
		var first *kvpb.RaftMessage
		select {
		case <-t.stopper:
			_, _ = stream.CloseAndRecv()
			return nil
		case first = <-p.queue:
		}
		batch.Messages = append(batch.Messages[:0], first)
		size := len(first.Message)
	drain:
		for len(batch.Messages) < maxBatchMessages && size < maxBatchBytes {
			select {
			case m := <-p.queue:
				batch.Messages = append(batch.Messages, m)
				size += len(m.Message)
			default:
				break drain
			}
		}
		if err := stream.Send(batch); err != nil {
			return err
		}
		transportSent.Add(float64(len(batch.Messages)))
		transportBatches.Inc()
	}
}

// Stop ends every peer stream.
func (t *Transport) Stop() {
	t.mu.Lock()
	if t.mu.stopped {
		t.mu.Unlock()
		return
	}
	t.mu.stopped = true
	t.mu.Unlock()
	close(t.stopper)
	t.wg.Wait()
}
