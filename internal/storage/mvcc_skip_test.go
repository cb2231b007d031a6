package storage

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// writeVersionRuns writes keys k000.. with the given number of versions
// each (timestamps 10, 20, ...; every seventh a tombstone).
func writeVersionRuns(t *testing.T, eng *Engine, versions []int) {
	t.Helper()
	commit(t, eng, func(b *Batch) error {
		for i, n := range versions {
			key := fmt.Sprintf("k%03d", i)
			for v := 1; v <= n; v++ {
				ts := uint64(10 * v)
				if (i+v)%7 == 0 {
					if err := MVCCDelete(b, []byte(key), ts); err != nil {
						return err
					}
					continue
				}
				mustPut(t, b, key, ts, fmt.Sprintf("%s@%d", key, ts))
			}
		}
		return nil
	})
}

// TestVersionSkipperAdapts walks keys with skipKey: over keys with many
// versions it comes down to seeking at once; over keys with one version its
// probes bring the Nexts back. Every key is visited once, in order.
func TestVersionSkipperAdapts(t *testing.T) {
	eng := openMem(t)
	versions := make([]int, 200)
	for i := range versions {
		versions[i] = 1
		if i < 100 {
			versions[i] = 20
		}
	}
	writeVersionRuns(t, eng, versions)
	lower, upper := MVCCSpan(nil, []byte("z"))
	it, err := eng.Reader().NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	sk := newVersionSkipper()
	i := 0
	for valid := it.First(); valid; i++ {
		key, _, _, err := DecodeDataKey(it.Key())
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("k%03d", i); string(key) != want {
			t.Fatalf("visit %d: at %q, want %q", i, key, want)
		}
		valid = sk.skipKey(it, append([]byte(nil), it.Key()[:len(it.Key())-8]...))
		if i == 99 && sk.nexts != 0 {
			t.Errorf("after 100 keys of 20 versions: %d Nexts before a seek, want 0", sk.nexts)
		}
	}
	if i != len(versions) {
		t.Fatalf("visited %d keys, want %d", i, len(versions))
	}
	if sk.nexts != maxNextsBeforeSeek {
		t.Errorf("after 100 keys of one version: %d Nexts before a seek, want %d", sk.nexts, maxNextsBeforeSeek)
	}
}

// TestMVCCScanVersionRuns: scans over runs of keys with many and few
// versions, at timestamps above, between and below them, with and without
// limits, return what MVCCGet returns key by key.
func TestMVCCScanVersionRuns(t *testing.T) {
	eng := openMem(t)
	var versions []int
	for run, n := range []int{30, 1, 12, 2, 40, 1, 5} {
		for range 20 + 3*run {
			versions = append(versions, n)
		}
	}
	writeVersionRuns(t, eng, versions)
	for _, ts := range []uint64{MaxTimestamp, 400, 205, 120, 55, 10, 5} {
		var want []KeyValue
		for i := range versions {
			key := fmt.Sprintf("k%03d", i)
			res, err := MVCCGet(eng.Reader(), []byte(key), ts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Found {
				want = append(want, KeyValue{Key: []byte(key), Value: res.Value, Timestamp: res.Timestamp})
			}
		}
		got, resume, err := MVCCScan(eng.Reader(), nil, []byte("z"), ts, ScanOptions{})
		if err != nil || resume != nil {
			t.Fatalf("scan at %d: resume %q, %v", ts, resume, err)
		}
		if kvsString(got) != kvsString(want) {
			t.Fatalf("scan at %d:\n got %s\nwant %s", ts, kvsString(got), kvsString(want))
		}
		checkPagination(t, eng.Reader(), nil, []byte("z"), ts, ScanOptions{MaxKeys: 7})
	}
}
