// Package testcluster runs several Cairn nodes in one process over real
// loopback gRPC, for fast multi-node tests: the first node bootstraps, the
// others join it. Data is in memory; ports are picked by the kernel.
package testcluster

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/server"
)

// Cluster is a set of in-process nodes.
type Cluster struct {
	t     testing.TB
	Nodes []*server.Server // nil once stopped
	// configure, if set, adjusts each node's configuration before it starts.
	configure func(*server.Config)

	// cutOff holds the ids of the nodes whose Raft traffic is dropped (see
	// CutOffRaft); replaced, never modified, so that every Raft message
	// reads it without a lock. cutOffMu serialises the replacements.
	cutOff   atomic.Pointer[map[uint64]bool]
	cutOffMu sync.Mutex
}

// Start runs n nodes and waits until each is ready. Nodes are stopped by
// t.Cleanup.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	return StartWith(t, n, nil)
}

// StartWith is Start with configure applied to each node's configuration
// (this one's and those AddNode starts later) before the node starts.
func StartWith(t testing.TB, n int, configure func(*server.Config)) *Cluster {
	t.Helper()
	c := &Cluster{t: t, configure: configure}
	for i := 0; i < n; i++ {
		c.AddNode()
	}
	return c
}

// CutOffRaft drops (cut) or delivers again (!cut) every Raft message and
// snapshot to and from the node with id nodeID. Its other RPCs (requests,
// liveness heartbeats, range directory reads) still flow: the node stays
// live, but its replicas hear nothing from their peers and vice versa.
func (c *Cluster) CutOffRaft(nodeID uint64, cut bool) {
	c.cutOffMu.Lock()
	defer c.cutOffMu.Unlock()
	next := map[uint64]bool{nodeID: cut}
	if cur := c.cutOff.Load(); cur != nil {
		for id, on := range *cur {
			if id != nodeID {
				next[id] = on
			}
		}
	}
	c.cutOff.Store(&next)
}

// dropRaftMessage is every node's server.Config.DropRaftMessage.
func (c *Cluster) dropRaftMessage(m *kvpb.RaftMessage) bool {
	cut := c.cutOff.Load()
	return cut != nil && ((*cut)[m.FromNodeId] || (*cut)[m.GetToReplica().GetNodeId()])
}

// AddNode starts one more node (joining through the first) and waits until
// it is ready; it returns its index.
func (c *Cluster) AddNode() int {
	c.t.Helper()
	cfg := server.Config{InMemory: true, Insecure: true, RPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", SQLAddr: "127.0.0.1:0"}
	if len(c.Nodes) > 0 {
		cfg.Join = []string{c.Nodes[0].RPCAddr()}
	}
	cfg.DropRaftMessage = c.dropRaftMessage
	if c.configure != nil {
		c.configure(&cfg)
	}
	s, err := server.Start(cfg)
	if err != nil {
		c.t.Fatalf("starting node %d: %v", len(c.Nodes)+1, err)
	}
	c.Nodes = append(c.Nodes, s)
	c.t.Cleanup(s.Stop)
	c.WaitFor("node ready", 30*time.Second, func() bool { return s.Ready(context.Background()) == nil })
	return len(c.Nodes) - 1
}

// StopNode stops node i (0-based) as a crash would look to the others.
func (c *Cluster) StopNode(i int) {
	c.Nodes[i].Stop()
	c.Nodes[i] = nil
}

// WaitFor polls cond until it holds or the timeout passes (then fails).
func (c *Cluster) WaitFor(what string, timeout time.Duration, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
