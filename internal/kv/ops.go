package kv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
)

// The helpers below take logical keys (see package keys).

func (db *DB) one(ctx context.Context, req *kvpb.RequestUnion) (*kvpb.ResponseUnion, error) {
	k, _ := kvpb.RequestKeys(req)
	resps, err := db.send(ctx, k, 0, []*kvpb.RequestUnion{req})
	if err != nil {
		return nil, err
	}
	return resps[0], nil
}

// Get reads the newest value of key.
func (db *DB) Get(ctx context.Context, key []byte) (*kvpb.GetResponse, error) {
	r, err := db.one(ctx, &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Get{Get: &kvpb.GetRequest{Key: key}}})
	return r.GetGet(), err
}

// Put writes value under key.
func (db *DB) Put(ctx context.Context, key, value []byte) (*kvpb.PutResponse, error) {
	r, err := db.one(ctx, &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Put{Put: &kvpb.PutRequest{Key: key, Value: value}}})
	return r.GetPut(), err
}

// Delete removes key.
func (db *DB) Delete(ctx context.Context, key []byte) (*kvpb.DeleteResponse, error) {
	r, err := db.one(ctx, &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Delete{Delete: &kvpb.DeleteRequest{Key: key}}})
	return r.GetDelete(), err
}

// CompareAndSet runs a conditional write.
func (db *DB) CompareAndSet(ctx context.Context, req *kvpb.CompareAndSetRequest) (*kvpb.CompareAndSetResponse, error) {
	r, err := db.one(ctx, &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Cas{Cas: req}})
	return r.GetCas(), err
}

// Increment adds delta to a counter and returns the new value.
func (db *DB) Increment(ctx context.Context, key []byte, delta int64) (int64, error) {
	r, err := db.one(ctx, &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Increment{Increment: &kvpb.IncrementRequest{Key: key, Delta: delta}}})
	return r.GetIncrement().GetNewValue(), err
}

// Scan returns up to limit live keys of [start, end) in order, range by
// range (limit <= 0: no limit beyond the per-range cap). more may be set
// although nothing follows when the limit ran out at a range boundary.
func (db *DB) Scan(ctx context.Context, start, end []byte, limit int64) (*kvpb.ScanResponse, error) {
	return db.ScanAt(ctx, start, end, limit, 0)
}

// ScanAt is Scan at MVCC timestamp ts (0: the newest versions). Locks met
// are resolved (or waited for) as in send.
func (db *DB) ScanAt(ctx context.Context, start, end []byte, limit int64, ts uint64) (*kvpb.ScanResponse, error) {
	if limit <= 0 {
		limit = math.MaxInt64
	}
	out := &kvpb.ScanResponse{}
	var w lockWaiter
	stale := 0 // stale-descriptor retries, bounded like send's
	backoff := time.Millisecond
	for bytes.Compare(start, end) < 0 {
		desc, err := db.lookupRange(ctx, start)
		if err != nil {
			return nil, err
		}
		subEnd := end
		if bytes.Compare(desc.EndKey, end) < 0 {
			subEnd = desc.EndKey
		}
		req := &kvpb.ScanRequest{StartKey: start, EndKey: subEnd, Limit: limit - int64(len(out.Kvs))}
		resps, err := db.sendToRange(ctx, desc, ts, []*kvpb.RequestUnion{{Value: &kvpb.RequestUnion_Scan{Scan: req}}})
		if lc := lockConflictOf(err); lc != nil {
			if err := w.resolve(ctx, db, lc, false); err != nil {
				return nil, err
			}
			continue
		}
		if errors.Is(err, errRetryLookup) {
			if stale++; stale >= db.cfg.MaxAttempts {
				return nil, fmt.Errorf("kv: range of %s kept moving", keys.Pretty(start))
			}
			// Back off as sendOnce does: the directory may lag the range
			// (a replica change whose meta update is yet to be republished).
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, db.cfg.MaxBackoff)
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		sr := resps[0].GetScan()
		out.Kvs = append(out.Kvs, sr.Kvs...)
		if sr.More {
			out.More, out.ResumeKey = true, sr.ResumeKey
			return out, nil
		}
		if int64(len(out.Kvs)) >= limit {
			if bytes.Compare(subEnd, end) < 0 {
				out.More, out.ResumeKey = true, subEnd
			}
			return out, nil
		}
		start = subEnd
	}
	return out, nil
}

// Batch runs requests in order. When every key falls in one range the batch
// is one Raft command and atomic; otherwise each request runs on its own.
func (db *DB) Batch(ctx context.Context, reqs []*kvpb.RequestUnion) ([]*kvpb.ResponseUnion, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	first, _ := kvpb.RequestKeys(reqs[0])
	resps, err := db.send(ctx, first, 0, reqs)
	if !errors.Is(err, errCrossRange) {
		return resps, err
	}
	out := make([]*kvpb.ResponseUnion, len(reqs))
	for i, r := range reqs {
		if s := r.GetScan(); s != nil {
			sr, err := db.Scan(ctx, s.StartKey, s.EndKey, s.Limit)
			if err != nil {
				return nil, err
			}
			out[i] = &kvpb.ResponseUnion{Value: &kvpb.ResponseUnion_Scan{Scan: sr}}
			continue
		}
		if out[i], err = db.one(ctx, r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// AdminSplit splits the range containing key at key and records both halves
// in the meta directory.
func (db *DB) AdminSplit(ctx context.Context, key []byte) (left, right *kvpb.RangeDescriptor, err error) {
	if bytes.Compare(key, keys.MetaEnd) <= 0 {
		return nil, nil, fmt.Errorf("kv: cannot split at %s: the meta range never splits", keys.Pretty(key))
	}
	id, err := db.Increment(ctx, keys.RangeIDCounterKey, 1)
	if err != nil {
		return nil, nil, fmt.Errorf("kv: allocating a range id: %w", err)
	}
	r, err := db.one(ctx, &kvpb.RequestUnion{Value: &kvpb.RequestUnion_AdminSplit{
		AdminSplit: &kvpb.AdminSplitRequest{SplitKey: key, NewRangeId: uint64(id)},
	}})
	if err != nil {
		return nil, nil, err
	}
	s := r.GetAdminSplit()
	if err := db.updateMeta(ctx, s.Left, s.Right); err != nil {
		return nil, nil, fmt.Errorf("kv: split done but meta update failed (repaired on next access): %w", err)
	}
	db.cache.insert(s.Left, s.Right)
	return s.Left, s.Right, nil
}

// updateMeta writes descriptors into the meta directory unless it already
// holds the same or a newer generation under the same key.
func (db *DB) updateMeta(ctx context.Context, descs ...*kvpb.RangeDescriptor) error {
	for _, d := range descs {
		key := keys.RangeDescKey(d.EndKey)
		val, err := proto.Marshal(d)
		if err != nil {
			return err
		}
		for attempt := 0; ; attempt++ {
			cur, err := db.Get(ctx, key)
			if err != nil {
				return err
			}
			cas := &kvpb.CompareAndSetRequest{Key: key, NewValue: val, ExpectAbsent: !cur.Found, ExpectedValue: cur.Value}
			if cur.Found {
				old := &kvpb.RangeDescriptor{}
				if err := proto.Unmarshal(cur.Value, old); err != nil {
					return err
				}
				if old.Generation >= d.Generation {
					break
				}
			}
			res, err := db.CompareAndSet(ctx, cas)
			if err != nil {
				return err
			}
			if res.Succeeded {
				break
			}
			if attempt >= 10 {
				return fmt.Errorf("kv: meta entry %s keeps changing", keys.Pretty(key))
			}
		}
	}
	return nil
}

// repairMeta records descriptors learned from replicas in the meta directory
// (for example after a node crashed between a split and its meta update).
func (db *DB) repairMeta(ctx context.Context, descs []*kvpb.RangeDescriptor) {
	var fix []*kvpb.RangeDescriptor
	for _, d := range descs {
		if d != nil && d.RangeId != keys.MetaRangeID {
			fix = append(fix, d)
		}
	}
	if len(fix) == 0 {
		return
	}
	if err := db.updateMeta(ctx, fix...); err != nil {
		slog.Warn("kv: meta repair failed", "err", err)
	}
}

// AdminChangeReplicas changes the replica set of the range desc by one
// replica and records the new descriptor in the meta directory.
func (db *DB) AdminChangeReplicas(ctx context.Context, desc *kvpb.RangeDescriptor,
	change kvpb.AdminChangeReplicasRequest_ChangeType, nodeID uint64) (*kvpb.RangeDescriptor, error) {
	r, err := db.one(ctx, &kvpb.RequestUnion{Value: &kvpb.RequestUnion_AdminChangeReplicas{
		AdminChangeReplicas: &kvpb.AdminChangeReplicasRequest{Key: desc.StartKey, Change: change, NodeId: nodeID},
	}})
	if err != nil {
		return nil, err
	}
	next := r.GetAdminChangeReplicas().Desc
	db.LearnDescriptor(next)
	if err := db.updateMeta(ctx, next); err != nil {
		// The range's leaseholder publishes its descriptor until it sticks.
		return next, fmt.Errorf("kv: replicas changed but meta update failed (the leaseholder republishes it): %w", err)
	}
	return next, nil
}

// Timestamps asks the timestamp oracle for count timestamps, tso.Step
// apart, and returns the first.
func (db *DB) Timestamps(ctx context.Context, count uint32) (uint64, error) {
	r, err := db.one(ctx, &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Timestamp{
		Timestamp: &kvpb.TimestampRequest{Key: keys.KeyMin, Count: count},
	}})
	if err != nil {
		return 0, err
	}
	return r.GetTimestamp().GetFirst(), nil
}

// PublishDescriptor records a descriptor in the meta directory unless it
// already holds that generation or a newer one.
func (db *DB) PublishDescriptor(ctx context.Context, d *kvpb.RangeDescriptor) error {
	return db.updateMeta(ctx, d)
}
