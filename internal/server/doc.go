// Package server assembles a Cairn node: it locks and opens the data
// directory, bootstraps or loads the store, runs the multi-Raft driver, and
// serves the gRPC port (KV and Admin APIs, node RPC) and the HTTP port
// (health, Prometheus metrics, pprof, the JSON KV API).
//
//	cmd/cairn start ─► server.New(cfg).Start()
//	  lock file ─► storage.Engine ─► raftstore.Store ─► replica.Store ─► kv.DB
//	  gRPC (TLS 1.3, client certs required unless --insecure): KV, Admin
//	  HTTP (TLS 1.3 unless --insecure): /health /metrics /debug/pprof /v1/kv
//
// Stop shuts down in reverse order. A fatal storage error stops the node
// (Fatal channel) rather than letting replicas diverge.
package server
