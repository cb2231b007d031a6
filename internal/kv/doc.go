// Package kv routes key-value requests to ranges. DB is the node's client of
// its own cluster: it finds the range of each key through a range cache
// filled from the meta range's directory, sends range-addressed batches to
// the replica that serves the range, and retries on the typed errors that say
// the cache was stale (RangeKeyMismatch, RangeNotFound) or the replica cannot
// serve yet (NotLeaseholder), with bounded backoff.
//
//	DB.Batch ─► group requests by range (cache, meta lookup on miss)
//	   one range:   one RangeRequest (atomic: one Raft command)
//	   many ranges: request by request, in order (not atomic)
//	DB.Scan  ─► range by range in key order until the limit is reached
//
// The meta directory is kept up to date after splits and repaired when a
// replica reports a newer descriptor than the directory holds, guarded by
// descriptor generations so that an older descriptor never overwrites a
// newer one.
//
// Callers: the node's KV API (gRPC, HTTP) and admin commands (split).
package kv
