package kv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
)

// Sender delivers a range-addressed batch to one node's replicas.
type Sender interface {
	Send(ctx context.Context, req *kvpb.RangeRequest) *kvpb.RangeResponse
}

// Config configures a DB.
type Config struct {
	// Local sends to this node's own store.
	Local Sender
	// MaxAttempts bounds retries of one range request.
	MaxAttempts int
	// MaxBackoff caps the wait between retries.
	MaxBackoff time.Duration
}

// DB is a node's router for key-value requests.
type DB struct {
	cfg   Config
	cache rangeCache
}

// New returns a DB.
func New(cfg Config) (*DB, error) {
	if cfg.Local == nil {
		return nil, errors.New("kv: a local sender is required")
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 50
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 250 * time.Millisecond
	}
	return &DB{cfg: cfg}, nil
}

// metaRange is the descriptor used to reach the meta range. The meta range
// never splits, so its span is fixed; its replicas are found by the sender.
var metaRange = &kvpb.RangeDescriptor{RangeId: keys.MetaRangeID, StartKey: keys.KeyMin, EndKey: keys.MetaEnd}

// lookupRange returns the descriptor of the range containing key.
func (db *DB) lookupRange(ctx context.Context, key []byte) (*kvpb.RangeDescriptor, error) {
	if bytes.Compare(key, keys.MetaEnd) < 0 {
		return metaRange, nil
	}
	if d := db.cache.lookup(key); d != nil {
		return d, nil
	}
	_, end := keys.RangeDescSpan()
	scan := &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Scan{Scan: &kvpb.ScanRequest{
		StartKey: keys.RangeLookupStart(key), EndKey: end, Limit: 1,
	}}}
	resps, err := db.sendToRange(ctx, metaRange, []*kvpb.RequestUnion{scan})
	if err != nil {
		return nil, fmt.Errorf("kv: range lookup for %s: %w", keys.Pretty(key), err)
	}
	kvs := resps[0].GetScan().GetKvs()
	if len(kvs) == 0 {
		return nil, fmt.Errorf("kv: no range contains key %s", keys.Pretty(key))
	}
	d := &kvpb.RangeDescriptor{}
	if err := proto.Unmarshal(kvs[0].Value, d); err != nil {
		return nil, fmt.Errorf("kv: corrupt range descriptor in meta: %w", err)
	}
	if bytes.Compare(d.StartKey, key) > 0 {
		return nil, fmt.Errorf("kv: meta directory has a hole before %s", keys.Pretty(d.StartKey))
	}
	db.cache.insert(d)
	return d, nil
}

// errRetryLookup asks send to look the range up again.
var errRetryLookup = errors.New("kv: stale range descriptor")

// sendToRange sends reqs, all within desc, retrying transient errors. On a
// stale descriptor it returns errRetryLookup after fixing the cache.
func (db *DB) sendToRange(ctx context.Context, desc *kvpb.RangeDescriptor, reqs []*kvpb.RequestUnion) ([]*kvpb.ResponseUnion, error) {
	backoff := time.Millisecond
	for attempt := 0; ; attempt++ {
		resp := db.cfg.Local.Send(ctx, &kvpb.RangeRequest{RangeId: desc.RangeId, Requests: reqs})
		perr := resp.Error
		if perr == nil {
			return resp.Responses, nil
		}
		switch {
		case perr.GetRangeKeyMismatch() != nil:
			db.cache.evict(desc)
			db.cache.insert(perr.GetRangeKeyMismatch().Ranges...)
			db.repairMeta(ctx, perr.GetRangeKeyMismatch().Ranges)
			return nil, errRetryLookup
		case perr.GetRangeNotFound() != nil:
			db.cache.evict(desc)
			return nil, errRetryLookup
		case perr.GetNotLeaseholder() != nil:
			// No leader yet (election, restart): wait and try again.
		default:
			return nil, perr
		}
		if attempt+1 >= db.cfg.MaxAttempts {
			return nil, fmt.Errorf("kv: range %d unavailable after %d attempts: %w", desc.RangeId, attempt+1, perr)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, db.cfg.MaxBackoff)
	}
}

// send routes a batch whose keys are all in one range, looking the range up
// again when the cache was stale.
func (db *DB) send(ctx context.Context, key []byte, reqs []*kvpb.RequestUnion) ([]*kvpb.ResponseUnion, error) {
	for attempt := 0; attempt < db.cfg.MaxAttempts; attempt++ {
		desc, err := db.lookupRange(ctx, key)
		if err != nil {
			return nil, err
		}
		if !batchWithin(desc, reqs) {
			return nil, errCrossRange
		}
		resps, err := db.sendToRange(ctx, desc, reqs)
		if !errors.Is(err, errRetryLookup) {
			return resps, err
		}
	}
	return nil, fmt.Errorf("kv: range of %s kept moving", keys.Pretty(key))
}

var errCrossRange = errors.New("kv: batch spans ranges")

func batchWithin(d *kvpb.RangeDescriptor, reqs []*kvpb.RequestUnion) bool {
	for _, r := range reqs {
		k, end := kvpb.RequestKeys(r)
		if bytes.Compare(k, d.StartKey) < 0 || bytes.Compare(k, d.EndKey) >= 0 {
			return false
		}
		if end != nil && bytes.Compare(end, d.EndKey) > 0 {
			return false
		}
	}
	return true
}
