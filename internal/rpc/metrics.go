package rpc

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	transportSent = promauto.NewCounter(prometheus.CounterOpts{
		Name: "cairn_raft_transport_messages_sent_total", Help: "Raft messages sent to other nodes.",
	})
	transportBatches = promauto.NewCounter(prometheus.CounterOpts{
		Name: "cairn_raft_transport_batches_sent_total", Help: "Stream messages (batches of Raft messages) sent to other nodes.",
	})
	snapshotsSent = promauto.NewCounter(prometheus.CounterOpts{
		Name: "cairn_raft_snapshots_sent_total", Help: "Raft snapshots streamed to other nodes.",
	})
	snapshotsFailed = promauto.NewCounter(prometheus.CounterOpts{
		Name: "cairn_raft_snapshots_failed_total", Help: "Raft snapshot sends that failed or were refused (too many in flight).",
	})
	transportDropped = promauto.NewCounter(prometheus.CounterOpts{
		Name: "cairn_raft_transport_messages_dropped_total", Help: "Raft messages dropped (peer queue full, unknown replica, peer down).",
	})
)
