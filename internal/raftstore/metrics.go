package raftstore

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

type metrics struct {
	proposals        prometheus.Counter
	fsyncLatency     prometheus.Histogram
	fsyncGroups      prometheus.Histogram
	applyLatency     prometheus.Histogram
	truncations      prometheus.Counter
	groups           prometheus.Gauge
	snapshotsApplied prometheus.Counter
}

// storeMetrics are process-wide: one store per node process.
var storeMetrics = &metrics{
	proposals: promauto.NewCounter(prometheus.CounterOpts{
		Name: "cairn_raft_proposals_total", Help: "Commands proposed to Raft groups.",
	}),
	fsyncLatency: promauto.NewHistogram(prometheus.HistogramOpts{
		Name: "cairn_raft_fsync_duration_seconds", Help: "Latency of the synced commit of a worker round's Raft state.",
		Buckets: prometheus.ExponentialBuckets(50e-6, 2, 16),
	}),
	fsyncGroups: promauto.NewHistogram(prometheus.HistogramOpts{
		Name: "cairn_raft_fsync_groups", Help: "Raft groups persisted by one fsync (group commit width).",
		Buckets: prometheus.ExponentialBuckets(1, 2, 10),
	}),
	applyLatency: promauto.NewHistogram(prometheus.HistogramOpts{
		Name: "cairn_raft_apply_duration_seconds", Help: "Latency of applying a worker round's committed entries.",
		Buckets: prometheus.ExponentialBuckets(10e-6, 2, 16),
	}),
	truncations: promauto.NewCounter(prometheus.CounterOpts{
		Name: "cairn_raft_log_truncations_total", Help: "Raft log truncations.",
	}),
	snapshotsApplied: promauto.NewCounter(prometheus.CounterOpts{
		Name: "cairn_raft_snapshots_applied_total", Help: "Raft snapshots installed on this store.",
	}),
	groups: promauto.NewGauge(prometheus.GaugeOpts{
		Name: "cairn_raft_groups", Help: "Raft groups (range replicas) on this store.",
	}),
}
