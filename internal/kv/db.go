package kv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
)

// Sender delivers a range-addressed batch to one node's replicas.
type Sender interface {
	Send(ctx context.Context, req *kvpb.RangeRequest) *kvpb.RangeResponse
}

// RemoteSender sends a range-addressed batch to another node. A transport
// error must say whether the request may have been delivered (see
// ErrNotSent).
type RemoteSender func(ctx context.Context, nodeID uint64, req *kvpb.RangeRequest) (*kvpb.RangeResponse, error)

// ErrNotSent wraps transport errors of requests that certainly never reached
// the other node (for example, no connection): safe to retry elsewhere.
var ErrNotSent = errors.New("kv: request not sent")

// Config configures a DB.
type Config struct {
	// NodeID is this node; Local sends to its own store.
	NodeID uint64
	Local  Sender
	// Remote sends to other nodes; nil on a single node.
	Remote RemoteSender
	// LocalDescriptor returns the descriptor of this node's replica of a
	// range, or nil: fresher than a cached one when this node is a member.
	LocalDescriptor func(rangeID uint64) *kvpb.RangeDescriptor
	// MaxAttempts bounds retries of one range request.
	MaxAttempts int
	// MaxBackoff caps the wait between retries.
	MaxBackoff time.Duration
}

// DB is a node's router for key-value requests.
type DB struct {
	cfg   Config
	cache rangeCache
	// meta is the newest descriptor known of the meta range (its replicas).
	meta atomic.Pointer[kvpb.RangeDescriptor]

	tsSource atomic.Pointer[func(context.Context) (uint64, error)]

	bgCtx    context.Context
	bgCancel context.CancelFunc
	bgSem    chan struct{}
	bgWG     sync.WaitGroup

	mu struct {
		sync.Mutex
		// leaseholders caches the node serving each range (hints).
		leaseholders map[uint64]uint64
	}
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
	db := &DB{cfg: cfg, bgSem: make(chan struct{}, maxBackground)}
	db.bgCtx, db.bgCancel = context.WithCancel(context.Background())
	db.mu.leaseholders = make(map[uint64]uint64)
	db.meta.Store(&kvpb.RangeDescriptor{RangeId: keys.MetaRangeID, StartKey: keys.KeyMin, EndKey: keys.MetaEnd})
	return db, nil
}

// LearnDescriptor records a descriptor seen elsewhere (the meta range's at
// join, a replica's in an error), if it is newer than what the DB knows.
func (db *DB) LearnDescriptor(d *kvpb.RangeDescriptor) {
	if d == nil || len(d.Replicas) == 0 {
		return
	}
	if d.RangeId == keys.MetaRangeID {
		for {
			cur := db.meta.Load()
			if len(cur.Replicas) > 0 && cur.Generation >= d.Generation {
				return
			}
			if db.meta.CompareAndSwap(cur, d) {
				return
			}
		}
	}
	if len(d.EndKey) > 0 {
		db.cache.insert(d)
	}
}

// MetaDescriptor returns the newest known descriptor of the meta range.
func (db *DB) MetaDescriptor() *kvpb.RangeDescriptor { return db.meta.Load() }

// lookupRange returns the descriptor of the range containing key.
func (db *DB) lookupRange(ctx context.Context, key []byte) (*kvpb.RangeDescriptor, error) {
	if bytes.Compare(key, keys.MetaEnd) < 0 {
		if db.cfg.LocalDescriptor != nil {
			db.LearnDescriptor(db.cfg.LocalDescriptor(keys.MetaRangeID))
		}
		return db.meta.Load(), nil
	}
	if d := db.cache.lookup(key); d != nil {
		return d, nil
	}
	_, end := keys.RangeDescSpan()
	scan := &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Scan{Scan: &kvpb.ScanRequest{
		StartKey: keys.RangeLookupStart(key), EndKey: end, Limit: 1,
	}}}
	resps, err := db.sendToRange(ctx, db.meta.Load(), 0, []*kvpb.RequestUnion{scan})
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

// sendToRange sends reqs, all within desc, to the replica serving the range,
// retrying transient errors: it follows leaseholder hints, moves on to other
// replicas when a node is unreachable or holds no replica of the range, and
// backs off after trying them all. On a stale descriptor it returns
// errRetryLookup after fixing the cache.
func (db *DB) sendToRange(ctx context.Context, desc *kvpb.RangeDescriptor, ts uint64, reqs []*kvpb.RequestUnion) ([]*kvpb.ResponseUnion, error) {
	write := false
	for _, r := range reqs {
		write = write || kvpb.IsWrite(r)
	}
	req := &kvpb.RangeRequest{RangeId: desc.RangeId, Timestamp: ts, Requests: reqs}
	backoff := time.Millisecond
	var lastErr error
	// skip holds the nodes not worth asking again in this call: the
	// unreachable ones, and those that hold no replica of the range (it was
	// removed from them: RangeNotFound, or a replica whose own descriptor no
	// longer lists its node). Once every replica of the descriptor is in
	// it, the descriptor is stale: the range moved away from all of them.
	var skipBuf, triedBuf [8]uint64 // no allocation for the usual few replicas
	skip := nodeSet(skipBuf[:0])
	// tried holds the nodes asked since the last backoff: a hint to a node
	// not yet in it is followed at once; anything else waits first, so a
	// leader that briefly has no lease (a new learner, a lease transfer)
	// costs backoff time, not the whole attempt budget.
	tried := nodeSet(triedBuf[:0])
	for attempt := 0; attempt < db.cfg.MaxAttempts; attempt++ {
		if err := ctx.Err(); err != nil {
			if write && attempt > 0 {
				return nil, kvpb.NewAmbiguousResult(err)
			}
			return nil, err
		}
		if db.cfg.LocalDescriptor != nil {
			if local := db.cfg.LocalDescriptor(desc.RangeId); local != nil && local.Generation > desc.Generation && len(local.EndKey) > 0 {
				desc = local
			}
		}
		node := db.pickNode(desc, attempt, skip)
		tried = tried.add(node)
		resp, err := db.sendTo(ctx, node, req)
		if err != nil {
			db.forgetLeaseholder(desc.RangeId, node)
			if write && !errors.Is(err, ErrNotSent) {
				return nil, kvpb.NewAmbiguousResult(err)
			}
			lastErr = err
			skip = skip.add(node)
			// Every replica we know of is unreachable or gone: the
			// descriptor may be stale (replicas moved); look the range up
			// again.
			if db.staleReplicas(desc, skip) {
				return nil, errRetryLookup
			}
		} else if perr := resp.Error; perr == nil {
			db.setLeaseholder(desc.RangeId, node)
			recordRoute(ctx, desc, node)
			return resp.Responses, nil
		} else {
			lastErr = perr
			switch {
			case perr.GetRangeKeyMismatch() != nil:
				db.cache.evict(desc)
				db.cache.insert(perr.GetRangeKeyMismatch().Ranges...)
				db.repairMeta(ctx, perr.GetRangeKeyMismatch().Ranges)
				return nil, errRetryLookup
			case perr.GetRangeNotFound() != nil:
				// The node has no replica (any more): the range moved off it.
				db.forgetLeaseholder(desc.RangeId, node)
				skip = skip.add(node)
				if len(desc.Replicas) <= 1 {
					db.cache.evict(desc)
					return nil, errRetryLookup
				}
				if db.staleReplicas(desc, skip) {
					return nil, errRetryLookup
				}
			case perr.GetNotLeaseholder() != nil:
				nl := perr.GetNotLeaseholder()
				db.LearnDescriptor(nl.Desc)
				if nl.Desc != nil && nl.Desc.Generation > desc.Generation {
					desc = nl.Desc
				}
				if d := nl.Desc; d != nil && len(d.EndKey) > 0 && !d.HasNode(node) {
					// A replica that applied its own removal and is not
					// destroyed yet: it will never serve the range.
					skip = skip.add(node)
				}
				// Follow a hint at once, unless it names a node that just
				// failed: followers keep naming a dead leader until they
				// elect a new one, and that is worth waiting (backing off)
				// for. A hint to a node without a replica is ignored.
				if h := nl.Hint; h != nil && !skip.has(h.NodeId) {
					db.setLeaseholder(desc.RangeId, h.NodeId)
					if !tried.has(h.NodeId) {
						continue
					}
				} else {
					db.forgetLeaseholder(desc.RangeId, node)
				}
				if skip.has(node) && db.staleReplicas(desc, skip) {
					return nil, errRetryLookup
				}
			default:
				return nil, perr
			}
		}
		// Back off before asking a node again.
		if next := db.pickNode(desc, attempt+1, skip); tried.has(next) {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, db.cfg.MaxBackoff)
			tried = tried[:0]
		}
	}
	return nil, fmt.Errorf("kv: range %d unavailable after %d attempts: %w", desc.RangeId, db.cfg.MaxAttempts, lastErr)
}

// nodeSet is a small set of node ids (a range's few replicas): a slice
// over a stack buffer, so that routing a request allocates nothing for it.
type nodeSet []uint64

func (s nodeSet) add(id uint64) nodeSet {
	if s.has(id) {
		return s
	}
	return append(s, id)
}

func (s nodeSet) has(id uint64) bool { return slices.Contains(s, id) }

// staleReplicas reports whether none of desc's replicas is left to ask
// (every one is in skip) and, if so, evicts the range's cached descriptor
// (desc, or any older one) so that the caller looks the range up again in
// the meta directory. The meta range itself has no directory to consult:
// for it the answer is always false (the caller keeps retrying with
// backoff).
func (db *DB) staleReplicas(desc *kvpb.RangeDescriptor, skip nodeSet) bool {
	if desc.RangeId == keys.MetaRangeID || len(desc.Replicas) == 0 {
		return false
	}
	for _, r := range desc.Replicas {
		if !skip.has(r.NodeId) {
			return false
		}
	}
	db.cache.evict(desc)
	return true
}

// pickNode chooses the node to try: the cached leaseholder, else the
// replicas in turn, this node first, then the other voters, skipping the
// nodes in skip; learners only when no voter is left. When every replica is
// skipped (only for the meta range, see staleReplicas) it cycles through
// all of them.
func (db *DB) pickNode(desc *kvpb.RangeDescriptor, attempt int, skip nodeSet) uint64 {
	db.mu.Lock()
	lh, ok := db.mu.leaseholders[desc.RangeId]
	db.mu.Unlock()
	if ok && !skip.has(lh) {
		return lh
	}
	if len(desc.Replicas) == 0 {
		return db.cfg.NodeID // only this node knows the range (bootstrap)
	}
	order := make([]uint64, 0, len(desc.Replicas))
	for _, r := range desc.Replicas {
		if r.NodeId == db.cfg.NodeID && !skip.has(r.NodeId) {
			order = append(order, r.NodeId)
		}
	}
	for _, r := range desc.Replicas {
		if r.NodeId != db.cfg.NodeID && r.Type == kvpb.ReplicaType_VOTER && !skip.has(r.NodeId) {
			order = append(order, r.NodeId)
		}
	}
	if len(order) == 0 {
		for _, r := range desc.Replicas {
			if !skip.has(r.NodeId) {
				order = append(order, r.NodeId)
			}
		}
	}
	if len(order) == 0 {
		return desc.Replicas[attempt%len(desc.Replicas)].NodeId
	}
	return order[attempt%len(order)]
}

func (db *DB) sendTo(ctx context.Context, node uint64, req *kvpb.RangeRequest) (*kvpb.RangeResponse, error) {
	if node == db.cfg.NodeID || db.cfg.Remote == nil {
		return db.cfg.Local.Send(ctx, req), nil
	}
	return db.cfg.Remote(ctx, node, req)
}

func (db *DB) setLeaseholder(rangeID, node uint64) {
	db.mu.Lock()
	if len(db.mu.leaseholders) >= maxCachedRanges {
		clear(db.mu.leaseholders)
	}
	db.mu.leaseholders[rangeID] = node
	db.mu.Unlock()
}

func (db *DB) forgetLeaseholder(rangeID, node uint64) {
	db.mu.Lock()
	if db.mu.leaseholders[rangeID] == node {
		delete(db.mu.leaseholders, rangeID)
	}
	db.mu.Unlock()
}

// send routes a batch whose keys are all in one range, resolving the
// transaction locks it meets and waiting for pending ones (see resolveLocks).
func (db *DB) send(ctx context.Context, key []byte, ts uint64, reqs []*kvpb.RequestUnion) ([]*kvpb.ResponseUnion, error) {
	var w lockWaiter
	noWait := false
	for _, q := range reqs {
		noWait = noWait || q.GetPrewrite() != nil
		if a := q.GetAcquireLock(); a != nil {
			w.lockingTxn = a.StartTs
		}
	}
	for {
		resps, err := db.sendOnce(ctx, key, ts, reqs)
		if lc := lockConflictOf(err); lc != nil {
			if err := w.resolve(ctx, db, lc, noWait); err != nil {
				return nil, err
			}
			continue
		}
		return resps, err
	}
}

// sendOnce routes a batch whose keys are all in one range, looking the
// range up again when the cache was stale.
func (db *DB) sendOnce(ctx context.Context, key []byte, ts uint64, reqs []*kvpb.RequestUnion) ([]*kvpb.ResponseUnion, error) {
	backoff := time.Millisecond
	for attempt := 0; attempt < db.cfg.MaxAttempts; attempt++ {
		if attempt > 0 { // the range moved or its replicas were unreachable
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, db.cfg.MaxBackoff)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		desc, err := db.lookupRange(ctx, key)
		if err != nil {
			return nil, err
		}
		if !batchWithin(desc, reqs) {
			return nil, errCrossRange
		}
		resps, err := db.sendToRange(ctx, desc, ts, reqs)
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

// SetTimestampSource installs the oracle client (batched) used for
// transaction timestamps; without one, Now asks the oracle directly.
func (db *DB) SetTimestampSource(fn func(context.Context) (uint64, error)) { db.tsSource.Store(&fn) }

// Now returns a timestamp of the cluster's oracle.
func (db *DB) Now(ctx context.Context) (uint64, error) {
	if fn := db.tsSource.Load(); fn != nil {
		return (*fn)(ctx)
	}
	return db.Timestamps(ctx, 1)
}

// maxBackground bounds the background work (secondary commits) in flight.
const maxBackground = 256

// background runs fn in the background when fewer than maxBackground such
// tasks run, else inline. Close waits for them.
func (db *DB) background(fn func(ctx context.Context)) {
	select {
	case db.bgSem <- struct{}{}:
		db.bgWG.Add(1)
		go func() {
			defer func() { <-db.bgSem; db.bgWG.Done() }()
			ctx, cancel := context.WithTimeout(db.bgCtx, 30*time.Second)
			defer cancel()
			fn(ctx)
		}()
	default:
		ctx, cancel := context.WithTimeout(db.bgCtx, 30*time.Second)
		defer cancel()
		fn(ctx)
	}
}

// Close stops background work and waits for it.
func (db *DB) Close() {
	db.bgCancel()
	db.bgWG.Wait()
}
