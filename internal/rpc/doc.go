// Package rpc connects nodes: a pool of gRPC connections by node id, and
// the Raft transport that carries every range's messages between nodes.
//
//	raftstore worker ─Send(range, msgs)─► Transport ─► peer queue (bounded, per node)
//	                                                      │ one goroutine per peer
//	                                                      ▼
//	                       Internal.RaftMessages stream: one RaftMessageBatch
//	                       carries all queued messages for that node, across ranges
//	                                                      │
//	                         remote node: replica.Store.HandleRaftMessage ─► Step
//
// Messages are dropped, never blocked on, when a peer's queue is full or its
// connection is down: Raft retransmits. Connections use the node's TLS
// config (node.crt as client certificate) unless the cluster is insecure.
package rpc
