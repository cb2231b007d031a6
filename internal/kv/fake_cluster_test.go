package kv

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
)

// fakeCluster is a Sender that plays the replicas of every range on one
// node, over one in-memory key space (meta directory, counters and user
// data alike). Like the real replica store it refuses requests outside a
// range's current span with a RangeKeyMismatch naming the range's own
// descriptor and the local range that holds the key, and it can be told to
// answer NotLeaseholder a number of times.
type fakeCluster struct {
	mu struct {
		sync.Mutex
		ranges map[uint64]*kvpb.RangeDescriptor // authoritative descriptors
		data   map[string][]byte                // logical key -> value
		// notLeaseholder[id] more requests to range id fail NotLeaseholder.
		notLeaseholder map[uint64]int
		// mismatchOnly makes mismatches name only the requested range, as
		// when the other half lives on another node.
		mismatchOnly bool
		// staleMismatch[id] more requests to range id are refused with a
		// RangeKeyMismatch carrying only its own, unchanged descriptor:
		// nothing the router learns from it changes its plan.
		staleMismatch map[uint64]int
		log           []*kvpb.RangeRequest
	}
}

func newFakeCluster() *fakeCluster {
	c := &fakeCluster{}
	c.mu.ranges = map[uint64]*kvpb.RangeDescriptor{}
	c.mu.data = map[string][]byte{}
	c.mu.notLeaseholder = map[uint64]int{}
	c.mu.staleMismatch = map[uint64]int{}
	meta := &kvpb.RangeDescriptor{RangeId: keys.MetaRangeID, StartKey: keys.KeyMin, EndKey: keys.MetaEnd, Generation: 1}
	c.mu.ranges[meta.RangeId] = meta
	c.mu.data[string(keys.RangeIDCounterKey)] = keys.EncodeCounter(keys.FirstUserRangeID)
	return c
}

// addRange registers a range and, when inMeta, its meta directory entry.
func (c *fakeCluster) addRange(d *kvpb.RangeDescriptor, inMeta bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.ranges[d.RangeId] = d
	if inMeta {
		c.putMetaLocked(d)
	}
}

func (c *fakeCluster) putMetaLocked(d *kvpb.RangeDescriptor) {
	v, err := proto.Marshal(d)
	if err != nil {
		panic(err)
	}
	c.mu.data[string(keys.RangeDescKey(d.EndKey))] = v
}

// split splits the range containing key at key, as a replica applying a
// split trigger would; the meta directory is updated only when updateMeta.
func (c *fakeCluster) split(key string, newID uint64, updateMeta bool) (left, right *kvpb.RangeDescriptor) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.rangeForKeyLocked([]byte(key))
	left = proto.Clone(d).(*kvpb.RangeDescriptor)
	left.EndKey = []byte(key)
	left.Generation++
	right = proto.Clone(d).(*kvpb.RangeDescriptor)
	right.RangeId, right.StartKey, right.Generation = newID, []byte(key), left.Generation
	c.mu.ranges[left.RangeId], c.mu.ranges[right.RangeId] = left, right
	if updateMeta {
		c.putMetaLocked(left)
		c.putMetaLocked(right)
	}
	return left, right
}

func (c *fakeCluster) rangeForKeyLocked(k []byte) *kvpb.RangeDescriptor {
	for _, d := range c.mu.ranges {
		if containsKey(d, k) {
			return d
		}
	}
	return nil
}

func containsKey(d *kvpb.RangeDescriptor, k []byte) bool {
	return bytes.Compare(k, d.StartKey) >= 0 && bytes.Compare(k, d.EndKey) < 0
}

// metaEntry returns the descriptor stored in the directory under end.
func (c *fakeCluster) metaEntry(t *testing.T, end []byte) *kvpb.RangeDescriptor {
	t.Helper()
	c.mu.Lock()
	v, ok := c.mu.data[string(keys.RangeDescKey(end))]
	c.mu.Unlock()
	if !ok {
		return nil
	}
	d := &kvpb.RangeDescriptor{}
	if err := proto.Unmarshal(v, d); err != nil {
		t.Fatal(err)
	}
	return d
}

func (c *fakeCluster) requests() []*kvpb.RangeRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*kvpb.RangeRequest(nil), c.mu.log...)
}

// userRequests are the logged requests not addressed to the meta range.
func (c *fakeCluster) userRequests() []*kvpb.RangeRequest {
	var out []*kvpb.RangeRequest
	for _, r := range c.requests() {
		if r.RangeId != keys.MetaRangeID {
			out = append(out, r)
		}
	}
	return out
}

// metaLookups counts the directory scans sent to the meta range.
func (c *fakeCluster) metaLookups() int {
	n := 0
	for _, r := range c.requests() {
		if r.RangeId == keys.MetaRangeID && len(r.Requests) == 1 && r.Requests[0].GetScan() != nil {
			n++
		}
	}
	return n
}

func (c *fakeCluster) resetLog() {
	c.mu.Lock()
	c.mu.log = nil
	c.mu.Unlock()
}

func (c *fakeCluster) Send(_ context.Context, req *kvpb.RangeRequest) *kvpb.RangeResponse {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.log = append(c.mu.log, proto.Clone(req).(*kvpb.RangeRequest))
	d := c.mu.ranges[req.RangeId]
	if d == nil {
		return &kvpb.RangeResponse{Error: kvpb.NewRangeNotFound(req.RangeId)}
	}
	if c.mu.staleMismatch[req.RangeId] > 0 {
		c.mu.staleMismatch[req.RangeId]--
		k, _ := kvpb.RequestKeys(req.Requests[0])
		return &kvpb.RangeResponse{Error: kvpb.NewRangeKeyMismatch(d.RangeId, k, d)}
	}
	if c.mu.notLeaseholder[req.RangeId] > 0 {
		c.mu.notLeaseholder[req.RangeId]--
		return &kvpb.RangeResponse{Error: kvpb.NewNotLeaseholder(req.RangeId, nil)}
	}
	for _, r := range req.Requests {
		k, end := kvpb.RequestKeys(r)
		bad := k
		ok := containsKey(d, k)
		if ok && end != nil && (bytes.Compare(end, d.EndKey) > 0 || bytes.Compare(end, k) < 0) {
			ok, bad = false, end
		}
		if !ok {
			perr := kvpb.NewRangeKeyMismatch(d.RangeId, bad, d)
			if other := c.rangeForKeyLocked(k); other != nil && other != d && !c.mu.mismatchOnly {
				perr.GetRangeKeyMismatch().Ranges = append(perr.GetRangeKeyMismatch().Ranges, other)
			}
			return &kvpb.RangeResponse{Error: perr}
		}
	}
	out := make([]*kvpb.ResponseUnion, len(req.Requests))
	for i, r := range req.Requests {
		resp, err := c.evalLocked(r)
		if err != nil {
			return &kvpb.RangeResponse{Error: kvpb.AsError(err)}
		}
		out[i] = resp
	}
	return &kvpb.RangeResponse{Responses: out}
}

func (c *fakeCluster) evalLocked(r *kvpb.RequestUnion) (*kvpb.ResponseUnion, error) {
	data := c.mu.data
	switch v := r.Value.(type) {
	case *kvpb.RequestUnion_Get:
		val, ok := data[string(v.Get.Key)]
		return &kvpb.ResponseUnion{Value: &kvpb.ResponseUnion_Get{Get: &kvpb.GetResponse{Found: ok, Value: val}}}, nil
	case *kvpb.RequestUnion_Put:
		data[string(v.Put.Key)] = append([]byte(nil), v.Put.Value...)
		return &kvpb.ResponseUnion{Value: &kvpb.ResponseUnion_Put{Put: &kvpb.PutResponse{Timestamp: 1}}}, nil
	case *kvpb.RequestUnion_Delete:
		_, ok := data[string(v.Delete.Key)]
		delete(data, string(v.Delete.Key))
		return &kvpb.ResponseUnion{Value: &kvpb.ResponseUnion_Delete{Delete: &kvpb.DeleteResponse{Deleted: ok}}}, nil
	case *kvpb.RequestUnion_Cas:
		cur, found := data[string(v.Cas.Key)]
		ok := (v.Cas.ExpectAbsent && !found) || (!v.Cas.ExpectAbsent && found && bytes.Equal(cur, v.Cas.ExpectedValue))
		res := &kvpb.CompareAndSetResponse{Succeeded: ok}
		if !ok {
			res.Found, res.ActualValue = found, cur
		} else {
			data[string(v.Cas.Key)] = append([]byte(nil), v.Cas.NewValue...)
		}
		return &kvpb.ResponseUnion{Value: &kvpb.ResponseUnion_Cas{Cas: res}}, nil
	case *kvpb.RequestUnion_Increment:
		n, err := keys.DecodeCounter(data[string(v.Increment.Key)])
		if err != nil {
			return nil, err
		}
		n += v.Increment.Delta
		data[string(v.Increment.Key)] = keys.EncodeCounter(n)
		return &kvpb.ResponseUnion{Value: &kvpb.ResponseUnion_Increment{Increment: &kvpb.IncrementResponse{NewValue: n}}}, nil
	case *kvpb.RequestUnion_Scan:
		limit := v.Scan.Limit
		if limit <= 0 {
			limit = 1000 // the replica's default
		}
		var ks []string
		for k := range data {
			if k >= string(v.Scan.StartKey) && k < string(v.Scan.EndKey) {
				ks = append(ks, k)
			}
		}
		sort.Strings(ks)
		out := &kvpb.ScanResponse{}
		for _, k := range ks {
			if int64(len(out.Kvs)) >= limit {
				out.More, out.ResumeKey = true, []byte(k)
				break
			}
			out.Kvs = append(out.Kvs, &kvpb.KeyValue{Key: []byte(k), Value: data[k]})
		}
		return &kvpb.ResponseUnion{Value: &kvpb.ResponseUnion_Scan{Scan: out}}, nil
	case *kvpb.RequestUnion_AdminSplit:
		c.mu.Unlock()
		left, right := c.split(string(v.AdminSplit.SplitKey), v.AdminSplit.NewRangeId, false)
		c.mu.Lock()
		return &kvpb.ResponseUnion{Value: &kvpb.ResponseUnion_AdminSplit{AdminSplit: &kvpb.AdminSplitResponse{Left: left, Right: right}}}, nil
	}
	return nil, fmt.Errorf("fakeCluster: unsupported request %T", r.Value)
}

// newTestDB returns a router over c with fast retries.
func newTestDB(t *testing.T, c *fakeCluster, maxAttempts int) *DB {
	t.Helper()
	db, err := New(Config{Local: c, MaxAttempts: maxAttempts, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// kk is a KV-namespace logical key.
func kk(s string) []byte { return keys.KVKey([]byte(s)) }

// twoRangeCluster has user ranges r2 [MetaEnd, k/m) and r3 [k/m, KeyMax),
// both in the meta directory.
func twoRangeCluster() *fakeCluster {
	c := newFakeCluster()
	c.addRange(&kvpb.RangeDescriptor{RangeId: 2, StartKey: keys.MetaEnd, EndKey: kk("m"), Generation: 2}, true)
	c.addRange(&kvpb.RangeDescriptor{RangeId: 3, StartKey: kk("m"), EndKey: keys.KeyMax, Generation: 2}, true)
	return c
}

// fillAlphabet writes k/a .. k/z directly into the cluster's key space.
func (c *fakeCluster) fillAlphabet() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ch := 'a'; ch <= 'z'; ch++ {
		c.mu.data[string(kk(string(ch)))] = []byte("v" + string(ch))
	}
}
