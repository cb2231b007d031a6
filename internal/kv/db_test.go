package kv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
)

func TestNewValidatesConfig(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New accepted a config without a local sender")
	}
	db, err := New(Config{Local: newFakeCluster()})
	if err != nil {
		t.Fatal(err)
	}
	if db.cfg.MaxAttempts <= 0 || db.cfg.MaxBackoff <= 0 {
		t.Fatalf("defaults not applied: %+v", db.cfg)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestRouterMetaLookup: keys are routed through the meta directory, looked
// up once per range and then served from the cache.
func TestRouterMetaLookup(t *testing.T) {
	c := twoRangeCluster()
	db := newTestDB(t, c, 5)
	ctx := ctxT(t)
	for _, k := range []string{"a", "b", "l\xff", "m", "z"} {
		if _, err := db.Put(ctx, kk(k), []byte("v"+k)); err != nil {
			t.Fatalf("Put %q: %v", k, err)
		}
	}
	var routed []string
	for _, r := range c.userRequests() {
		k, _ := kvpb.RequestKeys(r.Requests[0])
		routed = append(routed, fmt.Sprintf("%s->r%d", keys.Pretty(k), r.RangeId))
	}
	want := `[/KV/"a"->r2 /KV/"b"->r2 /KV/"l\xff"->r2 /KV/"m"->r3 /KV/"z"->r3]`
	if fmt.Sprint(routed) != want {
		t.Fatalf("routing = %v\nwant      %s", routed, want)
	}
	if n := c.metaLookups(); n != 2 {
		t.Fatalf("%d meta lookups for two ranges, want 2 (one per range, then cached)", n)
	}
	// The lookup scan is the documented one: from RangeLookupStart, limit 1.
	for _, r := range c.requests() {
		if r.RangeId != keys.MetaRangeID {
			continue
		}
		s := r.Requests[0].GetScan()
		_, end := keys.RangeDescSpan()
		if s.Limit != 1 || !bytes.Equal(s.EndKey, end) || !bytes.HasPrefix(s.StartKey, keys.RangeDescKey(nil)) {
			t.Fatalf("unexpected meta lookup %v", s)
		}
	}
	got, err := db.Get(ctx, kk("m"))
	if err != nil || !got.Found || string(got.Value) != "vm" {
		t.Fatalf("Get m = %v, %v", got, err)
	}
	// Keys below MetaEnd go to the meta range without a lookup.
	c.resetLog()
	if _, err := db.Get(ctx, keys.RangeIDCounterKey); err != nil {
		t.Fatal(err)
	}
	if reqs := c.requests(); len(reqs) != 1 || reqs[0].RangeId != keys.MetaRangeID {
		t.Fatalf("meta key routed as %v", reqs)
	}
}

// TestRouterLookupBoundary: a key equal to a range's end key belongs to the
// next range (RangeLookupStart finds the first end key > key).
func TestRouterLookupBoundary(t *testing.T) {
	c := twoRangeCluster()
	db := newTestDB(t, c, 5)
	d, err := db.lookupRange(ctxT(t), kk("m"))
	if err != nil || d.RangeId != 3 {
		t.Fatalf("lookupRange(k/m) = %s, %v; want r3", descString(d), err)
	}
	d, err = db.lookupRange(ctxT(t), keys.MetaEnd)
	if err != nil || d.RangeId != 2 {
		t.Fatalf("lookupRange(MetaEnd) = %s, %v; want r2", descString(d), err)
	}
}

func TestRouterLookupErrors(t *testing.T) {
	ctx := ctxT(t)
	t.Run("empty directory", func(t *testing.T) {
		c := newFakeCluster()
		db := newTestDB(t, c, 5)
		if _, err := db.Get(ctx, kk("a")); err == nil || !strings.Contains(err.Error(), "no range contains") {
			t.Fatalf("Get with an empty directory = %v", err)
		}
	})
	t.Run("hole", func(t *testing.T) {
		c := newFakeCluster()
		c.addRange(&kvpb.RangeDescriptor{RangeId: 3, StartKey: kk("m"), EndKey: keys.KeyMax, Generation: 2}, true)
		db := newTestDB(t, c, 5)
		if _, err := db.Get(ctx, kk("a")); err == nil || !strings.Contains(err.Error(), "hole") {
			t.Fatalf("Get in a directory hole = %v", err)
		}
	})
	t.Run("corrupt descriptor", func(t *testing.T) {
		c := newFakeCluster()
		c.mu.data[string(keys.RangeDescKey(keys.KeyMax))] = []byte{0xff, 0xff, 0xff}
		db := newTestDB(t, c, 5)
		if _, err := db.Get(ctx, kk("a")); err == nil || !strings.Contains(err.Error(), "corrupt") {
			t.Fatalf("Get with a corrupt directory entry = %v", err)
		}
	})
}

// TestRouterRangeKeyMismatchAfterSplit: the cache still holds the parent of
// a split; the replica answers RangeKeyMismatch with both halves and the
// router refreshes its cache and retries on the right range.
func TestRouterRangeKeyMismatchAfterSplit(t *testing.T) {
	for _, metaUpdated := range []bool{true, false} {
		t.Run(fmt.Sprintf("metaUpdated=%v", metaUpdated), func(t *testing.T) {
			c := newFakeCluster()
			c.addRange(&kvpb.RangeDescriptor{RangeId: 2, StartKey: keys.MetaEnd, EndKey: keys.KeyMax, Generation: 1}, true)
			db := newTestDB(t, c, 5)
			ctx := ctxT(t)
			if _, err := db.Put(ctx, kk("x"), []byte("before")); err != nil {
				t.Fatal(err)
			}
			left, right := c.split(string(kk("m")), 3, metaUpdated)
			c.resetLog()
			if _, err := db.Put(ctx, kk("x"), []byte("after")); err != nil {
				t.Fatalf("Put after split: %v", err)
			}
			reqs := c.userRequests()
			if len(reqs) != 2 || reqs[0].RangeId != 2 || reqs[1].RangeId != 3 {
				t.Fatalf("requests after split: %v; want r2 (stale, refused) then r3", reqs)
			}
			if got, _ := db.Get(ctx, kk("x")); string(got.GetValue()) != "after" {
				t.Fatalf("Get x = %v", got)
			}
			// Both halves are cached now: no further lookups.
			c.resetLog()
			if _, err := db.Get(ctx, kk("a")); err != nil {
				t.Fatal(err)
			}
			if n := c.metaLookups(); n != 0 {
				t.Fatalf("%d meta lookups for a key of the left half, want 0 (cached from the mismatch)", n)
			}
			if r := c.userRequests(); len(r) != 1 || r[0].RangeId != left.RangeId {
				t.Fatalf("left-half key routed as %v", r)
			}
			// The directory holds both halves: repaired by the router when
			// the split did not record them.
			if got := c.metaEntry(t, left.EndKey); got == nil || got.Generation != left.Generation || got.RangeId != 2 {
				t.Fatalf("meta entry of the left half = %s", descString(got))
			}
			if got := c.metaEntry(t, right.EndKey); got == nil || got.Generation != right.Generation || got.RangeId != 3 {
				t.Fatalf("meta entry of the right half = %s", descString(got))
			}
			// A fresh router (empty cache) finds both halves.
			db2 := newTestDB(t, c, 5)
			if d, err := db2.lookupRange(ctx, kk("b")); err != nil || d.RangeId != 2 || d.Generation != 2 {
				t.Fatalf("fresh lookup of the left half = %s, %v", descString(d), err)
			}
			if d, err := db2.lookupRange(ctx, kk("x")); err != nil || d.RangeId != 3 {
				t.Fatalf("fresh lookup of the right half = %s, %v", descString(d), err)
			}
		})
	}
}

// TestRouterMetaRepairKeepsNewer: repairing the directory with a descriptor
// never overwrites a newer generation already recorded.
func TestRouterMetaRepairKeepsNewer(t *testing.T) {
	c := twoRangeCluster()
	db := newTestDB(t, c, 5)
	ctx := ctxT(t)
	older := &kvpb.RangeDescriptor{RangeId: 3, StartKey: kk("f"), EndKey: keys.KeyMax, Generation: 1}
	db.repairMeta(ctx, []*kvpb.RangeDescriptor{older, nil, {RangeId: keys.MetaRangeID, EndKey: keys.MetaEnd, Generation: 9}})
	if got := c.metaEntry(t, keys.KeyMax); got.Generation != 2 || !bytes.Equal(got.StartKey, kk("m")) {
		t.Fatalf("repair overwrote a newer entry: %s", descString(got))
	}
	if got := c.metaEntry(t, keys.MetaEnd); got != nil {
		t.Fatalf("repair recorded the meta range in its own directory: %s", descString(got))
	}
	newer := &kvpb.RangeDescriptor{RangeId: 3, StartKey: kk("n"), EndKey: keys.KeyMax, Generation: 3}
	db.repairMeta(ctx, []*kvpb.RangeDescriptor{newer})
	if got := c.metaEntry(t, keys.KeyMax); got.Generation != 3 {
		t.Fatalf("repair did not record a newer generation: %s", descString(got))
	}
}

// TestRouterNotLeaseholderRetries: NotLeaseholder is retried with backoff
// until the range serves, and for at most MaxAttempts sends.
func TestRouterNotLeaseholderRetries(t *testing.T) {
	ctx := ctxT(t)
	t.Run("recovers", func(t *testing.T) {
		c := twoRangeCluster()
		db := newTestDB(t, c, 5)
		c.mu.notLeaseholder[2] = 3
		if _, err := db.Put(ctx, kk("a"), []byte("v")); err != nil {
			t.Fatalf("Put after 3 NotLeaseholder: %v", err)
		}
		if n := len(c.userRequests()); n != 4 {
			t.Fatalf("%d sends, want 4 (3 refused, 1 served)", n)
		}
	})
	t.Run("gives up", func(t *testing.T) {
		c := twoRangeCluster()
		const maxAttempts = 4
		db := newTestDB(t, c, maxAttempts)
		c.mu.notLeaseholder[2] = 1000
		_, err := db.Put(ctx, kk("a"), []byte("v"))
		var perr *kvpb.Error
		if !errors.As(err, &perr) || perr.GetNotLeaseholder() == nil {
			t.Fatalf("Put = %v, want an error wrapping NotLeaseholder", err)
		}
		if n := len(c.userRequests()); n != maxAttempts {
			t.Fatalf("%d sends, want exactly MaxAttempts=%d", n, maxAttempts)
		}
	})
	t.Run("context ends the wait", func(t *testing.T) {
		c := twoRangeCluster()
		db, err := New(Config{Local: c, MaxAttempts: 1000, MaxBackoff: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		c.mu.notLeaseholder[2] = 1000
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := db.Get(cctx, kk("a")); !errors.Is(err, context.Canceled) {
			t.Fatalf("Get with a canceled context = %v, want context.Canceled", err)
		}
	})
	t.Run("other errors are not retried", func(t *testing.T) {
		c := twoRangeCluster()
		db := newTestDB(t, c, 5)
		c.mu.data[string(kk("counter"))] = []byte("not a counter")
		if _, err := db.Increment(ctx, kk("counter"), 1); err == nil {
			t.Fatal("Increment of a non-counter succeeded")
		}
		if n := len(c.userRequests()); n != 1 {
			t.Fatalf("%d sends for a non-retryable error, want 1", n)
		}
	})
}

func TestRouterRangeNotFound(t *testing.T) {
	c := twoRangeCluster()
	db := newTestDB(t, c, 3)
	ctx := ctxT(t)
	// A cached range that no longer exists anywhere: the router evicts it,
	// looks the key up again and the directory still names it; bounded.
	c.mu.Lock()
	delete(c.mu.ranges, 2)
	c.mu.Unlock()
	_, err := db.Get(ctx, kk("a"))
	if err == nil {
		t.Fatal("Get on a vanished range succeeded")
	}
	if n := len(c.userRequests()); n > 3 {
		t.Fatalf("%d sends to a vanished range with MaxAttempts 3", n)
	}
}

func scanKeys(resp *kvpb.ScanResponse) string {
	var ks []string
	for _, kv := range resp.Kvs {
		u, _ := keys.UserKey(kv.Key)
		ks = append(ks, string(u))
	}
	return strings.Join(ks, "")
}

// TestRouterScanAcrossRanges: a scan runs range by range, asking each for
// what the limit leaves, and reports where to resume.
func TestRouterScanAcrossRanges(t *testing.T) {
	c := twoRangeCluster()
	c.fillAlphabet()
	db := newTestDB(t, c, 5)
	ctx := ctxT(t)
	tests := []struct {
		limit      int64
		start, end string
		want       string
		more       bool
		resume     string
	}{
		{100, "", "", "abcdefghijklmnopqrstuvwxyz", false, ""},
		{15, "", "", "abcdefghijklmno", true, "p"},
		{12, "", "", "abcdefghijkl", true, "m"}, // exactly the left range
		{13, "", "", "abcdefghijklm", true, "n"},
		{5, "", "", "abcde", true, "f"},
		{5, "k", "", "klmno", true, "p"},
		{100, "c", "f", "cde", false, ""},
		{100, "m", "p", "mno", false, ""},
		{100, "k", "o", "klmn", false, ""},
		{2, "k", "o", "kl", true, "m"},
		{3, "k", "o", "klm", true, "n"},
		{100, "zz", "", "", false, ""},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d[%s,%s)", tc.limit, tc.start, tc.end), func(t *testing.T) {
			end := keys.KVPrefixEnd
			if tc.end != "" {
				end = kk(tc.end)
			}
			resp, err := db.Scan(ctx, kk(tc.start), end, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got := scanKeys(resp); got != tc.want {
				t.Fatalf("keys = %q, want %q", got, tc.want)
			}
			if resp.More != tc.more {
				t.Fatalf("more = %v, want %v", resp.More, tc.more)
			}
			if tc.more {
				u, _ := keys.UserKey(resp.ResumeKey)
				if string(u) != tc.resume {
					t.Fatalf("resume = %q, want %q", resp.ResumeKey, kk(tc.resume))
				}
			}
		})
	}
	// The sub-scans: the first range gets the whole limit, the second what
	// is left, each bounded by its range.
	c.resetLog()
	if _, err := db.Scan(ctx, kk(""), keys.KVPrefixEnd, 15); err != nil {
		t.Fatal(err)
	}
	var sub []string
	for _, r := range c.userRequests() {
		s := r.Requests[0].GetScan()
		sub = append(sub, fmt.Sprintf("r%d[%s,%s)/%d", r.RangeId, keys.Pretty(s.StartKey), keys.Pretty(s.EndKey), s.Limit))
	}
	want := `[r2[/KV/"",/KV/"m")/15 r3[/KV/"m","l")/3]`
	if fmt.Sprint(sub) != want {
		t.Fatalf("sub-scans = %v\nwant        %s", sub, want)
	}
}

// TestRouterScanStaleCache: a scan planned with a pre-split descriptor is
// refused and re-planned with the halves.
func TestRouterScanStaleCache(t *testing.T) {
	c := newFakeCluster()
	c.addRange(&kvpb.RangeDescriptor{RangeId: 2, StartKey: keys.MetaEnd, EndKey: keys.KeyMax, Generation: 1}, true)
	c.fillAlphabet()
	db := newTestDB(t, c, 5)
	ctx := ctxT(t)
	if _, err := db.Get(ctx, kk("a")); err != nil { // cache the parent
		t.Fatal(err)
	}
	c.split(string(kk("m")), 3, true)
	resp, err := db.Scan(ctx, kk(""), keys.KVPrefixEnd, 100)
	if err != nil {
		t.Fatal(err)
	}
	if got := scanKeys(resp); got != "abcdefghijklmnopqrstuvwxyz" || resp.More {
		t.Fatalf("scan after split = %q more=%v", got, resp.More)
	}
}

// TestRouterScanRetriesAreBounded: a range that keeps answering
// RangeKeyMismatch with the descriptor the router already has (so nothing it
// learns changes the plan) must make Scan fail after a bounded number of
// attempts, as Get and Put do, instead of spinning.
func TestRouterScanRetriesAreBounded(t *testing.T) {
	const maxAttempts = 5
	// The fake relents after this many refusals, so that an unbounded retry
	// loop ends (successfully) instead of hanging the test.
	const refusals = 200
	ctx := ctxT(t)

	c := twoRangeCluster()
	c.mu.staleMismatch[2] = refusals
	db := newTestDB(t, c, maxAttempts)
	if _, err := db.Get(ctx, kk("a")); err == nil {
		t.Fatal("Get succeeded against a range that keeps refusing")
	}
	if n := len(c.userRequests()); n > maxAttempts {
		t.Fatalf("Get sent %d requests with MaxAttempts %d", n, maxAttempts)
	}

	c = twoRangeCluster()
	c.mu.staleMismatch[2] = refusals
	db = newTestDB(t, c, maxAttempts)
	_, err := db.Scan(ctx, kk(""), keys.KVPrefixEnd, 10)
	n := len(c.userRequests())
	if err == nil || n > 2*maxAttempts {
		t.Fatalf("Scan returned %v after %d sends; want an error within about MaxAttempts=%d sends", err, n, maxAttempts)
	}
}

// TestRouterBatch: a batch within one range is one RangeRequest (one Raft
// command, atomic); a batch across ranges is split into one send per
// request, in order, with responses in request order.
func TestRouterBatch(t *testing.T) {
	c := twoRangeCluster()
	db := newTestDB(t, c, 5)
	ctx := ctxT(t)
	put := func(k, v string) *kvpb.RequestUnion {
		return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Put{Put: &kvpb.PutRequest{Key: kk(k), Value: []byte(v)}}}
	}
	get := func(k string) *kvpb.RequestUnion {
		return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Get{Get: &kvpb.GetRequest{Key: kk(k)}}}
	}
	scan := func(s, e string, limit int64) *kvpb.RequestUnion {
		return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Scan{Scan: &kvpb.ScanRequest{StartKey: kk(s), EndKey: kk(e), Limit: limit}}}
	}

	// Warm the cache so that the logs below hold only the batch.
	if _, err := db.Get(ctx, kk("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Get(ctx, kk("z")); err != nil {
		t.Fatal(err)
	}

	c.resetLog()
	resps, err := db.Batch(ctx, []*kvpb.RequestUnion{put("a", "1"), put("b", "2"), get("a"), scan("a", "c", 10)})
	if err != nil {
		t.Fatal(err)
	}
	reqs := c.requests()
	if len(reqs) != 1 || reqs[0].RangeId != 2 || len(reqs[0].Requests) != 4 {
		t.Fatalf("single-range batch sent as %v, want one RangeRequest of 4 to r2", reqs)
	}
	if len(resps) != 4 || string(resps[2].GetGet().GetValue()) != "1" || scanKeys(resps[3].GetScan()) != "ab" {
		t.Fatalf("single-range batch responses = %v", resps)
	}

	c.resetLog()
	resps, err = db.Batch(ctx, []*kvpb.RequestUnion{put("c", "3"), put("y", "4"), get("c"), get("y"), scan("b", "z", 10)})
	if err != nil {
		t.Fatal(err)
	}
	var sent []string
	for _, r := range c.requests() {
		if len(r.Requests) != 1 {
			t.Fatalf("cross-range batch sent a RangeRequest of %d requests", len(r.Requests))
		}
		k, _ := kvpb.RequestKeys(r.Requests[0])
		sent = append(sent, fmt.Sprintf("r%d:%s", r.RangeId, keys.Pretty(k)))
	}
	want := `[r2:/KV/"c" r3:/KV/"y" r2:/KV/"c" r3:/KV/"y" r2:/KV/"b" r3:/KV/"m"]`
	if fmt.Sprint(sent) != want {
		t.Fatalf("cross-range batch sends = %v\nwant                      %s", sent, want)
	}
	if len(resps) != 5 || resps[0].GetPut() == nil || resps[1].GetPut() == nil ||
		string(resps[2].GetGet().GetValue()) != "3" || string(resps[3].GetGet().GetValue()) != "4" ||
		scanKeys(resps[4].GetScan()) != "bcy" {
		t.Fatalf("cross-range batch responses = %v", resps)
	}

	// A batch whose first key's range is stale in the cache is still split
	// correctly once the router learns of the split.
	c.split(string(kk("f")), 4, true)
	c.resetLog()
	resps, err = db.Batch(ctx, []*kvpb.RequestUnion{get("a"), get("g")})
	if err != nil || len(resps) != 2 || !resps[0].GetGet().GetFound() || resps[1].GetGet().GetFound() {
		t.Fatalf("batch after split = %v, %v", resps, err)
	}
	if resps, err := db.Batch(ctx, nil); err != nil || resps != nil {
		t.Fatalf("empty batch = %v, %v", resps, err)
	}
}

// TestRouterAdminSplit: AdminSplit allocates a range id from the meta
// counter, splits, and records both halves in the directory and cache.
func TestRouterAdminSplit(t *testing.T) {
	c := newFakeCluster()
	c.addRange(&kvpb.RangeDescriptor{RangeId: 2, StartKey: keys.MetaEnd, EndKey: keys.KeyMax, Generation: 1}, true)
	db := newTestDB(t, c, 5)
	ctx := ctxT(t)
	left, right, err := db.AdminSplit(ctx, kk("m"))
	if err != nil {
		t.Fatal(err)
	}
	if left.RangeId != 2 || right.RangeId != keys.FirstUserRangeID+1 || !bytes.Equal(left.EndKey, kk("m")) || !bytes.Equal(right.StartKey, kk("m")) {
		t.Fatalf("split = %s %s", descString(left), descString(right))
	}
	if got := c.metaEntry(t, kk("m")); got == nil || got.RangeId != 2 || got.Generation != left.Generation {
		t.Fatalf("directory entry of the left half = %s", descString(got))
	}
	if got := c.metaEntry(t, keys.KeyMax); got == nil || got.RangeId != right.RangeId {
		t.Fatalf("directory entry of the right half = %s", descString(got))
	}
	c.resetLog()
	if _, err := db.Put(ctx, kk("x"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if reqs := c.requests(); len(reqs) != 1 || reqs[0].RangeId != right.RangeId {
		t.Fatalf("put after split sent as %v, want one request to r%d from the cache", reqs, right.RangeId)
	}
	// A second split gets the next id.
	_, right2, err := db.AdminSplit(ctx, kk("t"))
	if err != nil || right2.RangeId != right.RangeId+1 {
		t.Fatalf("second split: %s, %v", descString(right2), err)
	}
	for _, k := range [][]byte{keys.KeyMin, keys.MetaEnd, {0x02, 'x'}} {
		if _, _, err := db.AdminSplit(ctx, k); err == nil {
			t.Fatalf("split at %s (in or at the end of the meta range) succeeded", keys.Pretty(k))
		}
	}
}
