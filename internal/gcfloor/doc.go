// Package gcfloor keeps the Go garbage collector from running while a
// node's heap is small.
//
// With the default GOGC=100 a collection starts each time the heap reaches
// twice what the previous one found live. A Cairn node's live heap is a few
// MiB (Pebble's block cache and memtables are allocated outside the Go
// heap), so a loaded node collected several times a second: the mark work,
// the write barriers while it runs, and the sync.Pool buffers every
// collection empties (gRPC's among them) were refilled by new allocations.
// Start re-tunes GOGC after each collection so that the next one starts once
// the heap reaches a floor (64 MiB by default), or at GOGC=100's goal (about
// twice the live heap) if that is larger. The same idea as TiDB's GOGC
// tuner; GOMEMLIMIT, if set, still applies on top.
package gcfloor
