package server

import (
	"context"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/kvpb"
)

// tsoPersister keeps the oracle's bound in the meta range (tso.Persister).
type tsoPersister struct{ db *kv.DB }

func (p tsoPersister) Load(ctx context.Context) (uint64, error) {
	resp, err := p.db.Get(ctx, keys.TSOKey)
	if err != nil || !resp.Found {
		return 0, err
	}
	v, err := keys.DecodeCounter(resp.Value)
	return uint64(v), err
}

func (p tsoPersister) CompareAndSwap(ctx context.Context, prev, next uint64) (bool, error) {
	req := &kvpb.CompareAndSetRequest{Key: keys.TSOKey, NewValue: keys.EncodeCounter(int64(next))}
	if prev == 0 {
		req.ExpectAbsent = true
	} else {
		req.ExpectedValue = keys.EncodeCounter(int64(prev))
	}
	resp, err := p.db.CompareAndSet(ctx, req)
	if err != nil {
		return false, err
	}
	return resp.Succeeded, nil
}

// Now returns a cluster-wide timestamp from the oracle (batched).
func (s *Server) Now(ctx context.Context) (uint64, error) { return s.tso.Now(ctx) }

// MetaLeaseholder reports whether this node serves the meta range (and so
// the timestamp oracle and the placement driver).
func (s *Server) MetaLeaseholder() bool { return s.isMetaLeaseholder() }
