package kv

import (
	"context"
	"sync"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
)

// Route records where the range requests sent under one context were
// served, so that the API layer can tell a client which node holds the
// lease of the range its keys live in (a routing hint; see
// docs/design/cluster.md, "Client routing").
type Route struct {
	mu     sync.Mutex
	ranges int
	node   uint64
	desc   *kvpb.RangeDescriptor
}

type routeKey struct{}

// WithRoute returns a context whose range requests are recorded in r.
func WithRoute(ctx context.Context, r *Route) context.Context {
	return context.WithValue(ctx, routeKey{}, r)
}

// Single returns the range and the node that served it when exactly one
// range request succeeded under the context (more than one, or none: ok
// is false).
func (r *Route) Single() (desc *kvpb.RangeDescriptor, node uint64, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.desc, r.node, r.ranges == 1
}

// recordRoute notes that node served a request for desc. Lookups in the
// meta range (the range directory) are not the request's own: ignored.
func recordRoute(ctx context.Context, desc *kvpb.RangeDescriptor, node uint64) {
	if desc.RangeId == keys.MetaRangeID {
		return
	}
	r, ok := ctx.Value(routeKey{}).(*Route)
	if !ok {
		return
	}
	r.mu.Lock()
	r.ranges++
	r.desc, r.node = desc, node
	r.mu.Unlock()
}
