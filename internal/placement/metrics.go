package placement

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	placementChanges = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "cairn_placement_replica_changes_total", Help: "Replica changes made by the placement driver, by kind.",
	}, []string{"change"})
	underReplicated = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "cairn_ranges_underreplicated", Help: "Ranges with fewer voters than the target (seen by the placement driver).",
	})
)
