// Package rpcmux carries many concurrent unary gRPC calls over one
// long-lived bidirectional stream per connection (the Mux service of
// internal/kvpb), in the manner of TiKV's BatchCommands and CockroachDB's
// BatchStream.
//
// A unary gRPC call costs an HTTP/2 stream of its own: request headers
// (HPACK-encoded), a data frame, response headers, a data frame and
// trailers, a goroutine and a context on each side. A call on a Mux stream
// is one data frame each way. On this project's 2-core benchmark machine a
// unary call on loopback cost about 70 us of CPU (client and server) and
// 150 allocations, a multiplexed one about 35 us and 58 (BenchmarkMuxVsUnary),
// and a bank transfer makes two client calls plus a timestamp fetch
// (docs/benchmarks.md).
//
//	caller ─ Conn.Invoke ─► MuxFrame{id, method, payload, timeout} ──► Server.Stream
//	                                                                    │ per call, on a worker
//	                                                                    │ (bounded in-flight): the
//	                                                                    │ method's generated handler
//	                                                                    ▼ and the unary interceptors
//	caller ◄─ by id ◄─── MuxFrame{id, payload | status, headers} ◄──── answer
//
// Conn implements grpc.ClientConnInterface, so the generated clients run
// over it unchanged (kvpb.NewTxnClient(conn)). Calls its policy does not
// accept (scans, whose answers may be large and would hold up every other
// answer on the stream, large requests) and all streaming calls go over
// the underlying connection directly.
//
// Semantics match a direct call: the caller's deadline travels with the
// call, a caller that gives up sends a cancellation, errors keep their
// gRPC status and details, and response headers (route hints) are
// delivered to grpc.Header call options. A call whose stream breaks after
// it was sent fails with codes.Unavailable and a message that does not
// claim it was never sent (kvpb.NotSent is false): a write may have
// applied. A call the server refuses without running it (it is stopping,
// or MaxInFlight calls are in progress on the stream) fails with
// kvpb.NotRunPrefix, which kvpb.NotSent accepts. A stopping server sends
// go_away; the caller opens a fresh stream for new calls and closes the
// old one once its calls are answered. A server without the Mux service
// (an older node) is detected and called directly from then on.
package rpcmux
