package server

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/cairndb/cairn/internal/kvpb"
)

// Config configures a node. cmd/cairn maps flags onto it.
type Config struct {
	// DataDir holds the engine and the lock file.
	DataDir string
	// InMemory keeps all data in memory (tests only); DataDir is then unused.
	InMemory bool
	// RPCAddr serves gRPC: the KV and Admin APIs and node-to-node RPC.
	RPCAddr string
	// HTTPAddr serves /health, /metrics, /debug/pprof and the JSON KV API.
	HTTPAddr string
	// Join lists RPC addresses of cluster members to join through; empty
	// bootstraps a new cluster on first start.
	Join []string
	// SQLAddr serves the PostgreSQL wire protocol.
	SQLAddr string
	// Insecure serves plaintext; otherwise CertsDir must hold node certs.
	Insecure bool
	CertsDir string
	// CacheBytes is the storage block cache size.
	CacheBytes int64
	// GCInterval is how often the node garbage-collects the ranges it leads
	// (0: every minute); GCPause is the pause between two GC steps of 1000
	// engine entries (0: 20ms), the collection's rate limit. Not flags:
	// tests shorten them.
	GCInterval time.Duration
	GCPause    time.Duration
	// ReplicaGCInterval is how often the node checks its replicas against
	// the range directory and destroys those removed from their range
	// (0: every 30s; see replica_gc.go). Not a flag: tests shorten it.
	ReplicaGCInterval time.Duration
	// DropRaftMessage, if set, drops every incoming Raft message and
	// snapshot for which it returns true. Tests only: it cuts nodes off
	// from each other's Raft traffic while their other RPCs still flow.
	DropRaftMessage func(*kvpb.RaftMessage) bool
}

// DefaultConfig is a single local node, as `cairn start` runs it.
func DefaultConfig() Config {
	return Config{
		DataDir:    "cairn-data",
		RPCAddr:    "127.0.0.1:7400",
		HTTPAddr:   "127.0.0.1:7480",
		SQLAddr:    "127.0.0.1:5433",
		CacheBytes: 128 << 20,
	}
}

// Validate rejects unusable configurations with a message naming the flag.
func (c Config) Validate() error {
	if !c.InMemory && c.DataDir == "" {
		return errors.New("--data-dir must not be empty")
	}
	for _, a := range []struct{ flag, addr string }{{"--rpc-addr", c.RPCAddr}, {"--http-addr", c.HTTPAddr}, {"--sql-addr", c.SQLAddr}} {
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			return fmt.Errorf("%s %q: want HOST:PORT: %v", a.flag, a.addr, err)
		}
	}
	for _, j := range c.Join {
		if _, _, err := net.SplitHostPort(j); err != nil {
			return fmt.Errorf("--join %q: want HOST:PORT: %v", j, err)
		}
	}
	if c.Insecure && c.CertsDir != "" {
		return errors.New("--insecure and --certs-dir are mutually exclusive")
	}
	if !c.Insecure && c.CertsDir == "" {
		return errors.New("either --certs-dir (TLS) or --insecure (plaintext) is required")
	}
	return nil
}
