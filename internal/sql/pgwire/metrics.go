package pgwire

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	metricConnsOpen = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "cairn_sql_connections_open",
		Help: "PostgreSQL wire protocol connections currently open (including those still in startup).",
	})
	metricConnsTotal = promauto.NewCounter(prometheus.CounterOpts{
		Name: "cairn_sql_connections_total",
		Help: "PostgreSQL wire protocol connections accepted.",
	})
	metricSessionsTotal = promauto.NewCounter(prometheus.CounterOpts{
		Name: "cairn_sql_sessions_total",
		Help: "PostgreSQL wire protocol connections that completed startup (sessions made).",
	})
	metricProtocolErrors = promauto.NewCounter(prometheus.CounterOpts{
		Name: "cairn_sql_protocol_errors_total",
		Help: "Connections ended by a malformed, unexpected or oversized message.",
	})
	metricBytesReceived = promauto.NewCounter(prometheus.CounterOpts{
		Name: "cairn_sql_received_bytes_total",
		Help: "Bytes of PostgreSQL wire protocol messages received from clients (after TLS decryption).",
	})
	metricBytesSent = promauto.NewCounter(prometheus.CounterOpts{
		Name: "cairn_sql_sent_bytes_total",
		Help: "Bytes of PostgreSQL wire protocol messages sent to clients (before TLS encryption).",
	})
)
