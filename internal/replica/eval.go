package replica

import (
	"fmt"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/storage"
)

// Scan bounds applied by the replica (documented in docs/kv.md).
const (
	DefaultScanLimit = 1000
	MaxScanLimit     = 10000
	maxScanBytes     = 4 << 20
)

// evalRead evaluates a read-only request at ts.
func evalRead(r storage.Reader, req *kvpb.RequestUnion, ts uint64) (*kvpb.ResponseUnion, error) {
	switch v := req.Value.(type) {
	case *kvpb.RequestUnion_Get:
		res, err := storage.MVCCGet(r, v.Get.Key, ts)
		if err != nil {
			return nil, err
		}
		if res.Lock != nil && res.Lock.StartTS <= ts && res.Lock.Op.BlocksReads() {
			return nil, singleLockConflict(v.Get.Key, res.Lock)
		}
		return &kvpb.ResponseUnion{Value: &kvpb.ResponseUnion_Get{Get: &kvpb.GetResponse{
			Found: res.Found, Value: res.Value, Timestamp: res.Timestamp,
		}}}, nil
	case *kvpb.RequestUnion_Scan:
		limit := v.Scan.Limit
		if limit <= 0 {
			limit = DefaultScanLimit
		}
		limit = min(limit, MaxScanLimit)
		kvs, resume, err := storage.MVCCScan(r, v.Scan.StartKey, v.Scan.EndKey, ts,
			storage.ScanOptions{MaxKeys: limit, MaxBytes: maxScanBytes})
		if locked, ok := err.(*storage.LockedError); ok {
			return nil, lockConflict(locked)
		}
		if err != nil {
			return nil, err
		}
		out := &kvpb.ScanResponse{Kvs: make([]*kvpb.KeyValue, len(kvs)), More: resume != nil, ResumeKey: resume}
		msgs := make([]kvpb.KeyValue, len(kvs)) // one allocation for all the messages
		for i, kv := range kvs {
			m := &msgs[i]
			m.Key, m.Value, m.Timestamp = kv.Key, kv.Value, kv.Timestamp
			out.Kvs[i] = m
		}
		return &kvpb.ResponseUnion{Value: &kvpb.ResponseUnion_Scan{Scan: out}}, nil
	}
	return nil, fmt.Errorf("request %T is not a read", req.Value)
}

// evalWrite evaluates a write (or a read inside a write batch): it reads
// through ec.r and writes into ec.b. When a batch holds several requests,
// ec.r is the indexed batch itself, so later requests see earlier ones; for
// a single request it is the engine. The caller holds latches on every key.
// Plain writes refuse keys locked by transactions (LockConflict).
func evalWrite(ec *evalContext, req *kvpb.RequestUnion) (*kvpb.ResponseUnion, error) {
	r, b, ts := ec.r, ec.b, ec.ts
	switch v := req.Value.(type) {
	case *kvpb.RequestUnion_Get, *kvpb.RequestUnion_Scan:
		return evalRead(r, req, storage.MaxTimestamp)
	case *kvpb.RequestUnion_Put:
		if ec.mayBeLocked() {
			if err := checkNoLock(r, v.Put.Key); err != nil {
				return nil, err
			}
		}
		if err := storage.MVCCPut(b, v.Put.Key, ts, v.Put.Value); err != nil {
			return nil, err
		}
		ec.wrote(ts)
		return &kvpb.ResponseUnion{Value: &kvpb.ResponseUnion_Put{Put: &kvpb.PutResponse{Timestamp: ts}}}, nil
	case *kvpb.RequestUnion_Delete:
		cur, err := storage.MVCCGet(r, v.Delete.Key, storage.MaxTimestamp)
		if err != nil {
			return nil, err
		}
		if cur.Lock != nil {
			return nil, singleLockConflict(v.Delete.Key, cur.Lock)
		}
		if cur.Found {
			if err := storage.MVCCDelete(b, v.Delete.Key, ts); err != nil {
				return nil, err
			}
			ec.wrote(ts)
		}
		return &kvpb.ResponseUnion{Value: &kvpb.ResponseUnion_Delete{Delete: &kvpb.DeleteResponse{Deleted: cur.Found}}}, nil
	case *kvpb.RequestUnion_Cas:
		c := v.Cas
		cur, err := storage.MVCCGet(r, c.Key, storage.MaxTimestamp)
		if err != nil {
			return nil, err
		}
		if cur.Lock != nil {
			return nil, singleLockConflict(c.Key, cur.Lock)
		}
		ok := (c.ExpectAbsent && !cur.Found) || (!c.ExpectAbsent && cur.Found && string(cur.Value) == string(c.ExpectedValue))
		res := &kvpb.CompareAndSetResponse{Succeeded: ok}
		if !ok {
			res.Found, res.ActualValue = cur.Found, cur.Value
		} else if c.Delete {
			if cur.Found {
				err = storage.MVCCDelete(b, c.Key, ts)
				ec.wrote(ts)
			}
		} else {
			err = storage.MVCCPut(b, c.Key, ts, c.NewValue)
			ec.wrote(ts)
		}
		if err != nil {
			return nil, err
		}
		return &kvpb.ResponseUnion{Value: &kvpb.ResponseUnion_Cas{Cas: res}}, nil
	case *kvpb.RequestUnion_Increment:
		cur, err := storage.MVCCGet(r, v.Increment.Key, storage.MaxTimestamp)
		if err != nil {
			return nil, err
		}
		if cur.Lock != nil {
			return nil, singleLockConflict(v.Increment.Key, cur.Lock)
		}
		n, err := keys.DecodeCounter(cur.Value)
		if err != nil {
			return nil, err
		}
		n += v.Increment.Delta
		if err := storage.MVCCPut(b, v.Increment.Key, ts, keys.EncodeCounter(n)); err != nil {
			return nil, err
		}
		ec.wrote(ts)
		return &kvpb.ResponseUnion{Value: &kvpb.ResponseUnion_Increment{Increment: &kvpb.IncrementResponse{NewValue: n}}}, nil
	}
	if isTxnRequest(req) {
		return evalTxn(ec, req)
	}
	return nil, fmt.Errorf("unsupported request %T", req.Value)
}

// writeTimestamp returns a timestamp above every existing version of the
// batch's written keys, so a new version is always the newest.
func writeTimestamp(r storage.Reader, reqs []*kvpb.RequestUnion, now uint64) (uint64, error) {
	ts := now
	for _, req := range reqs {
		if !kvpb.IsWrite(req) {
			continue
		}
		k, _ := kvpb.RequestKeys(req)
		cur, err := storage.MVCCGet(r, k, storage.MaxTimestamp)
		if err != nil {
			return 0, err
		}
		if cur.LatestTimestamp >= ts {
			ts = cur.LatestTimestamp + 1
		}
	}
	return ts, nil
}
