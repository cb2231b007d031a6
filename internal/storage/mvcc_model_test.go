package storage

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"testing"
)

// mvccModel is the naive twin of the MVCC layer: every version of every key
// in a map, a nil value standing for a tombstone.
type mvccModel map[string]map[uint64]*string

func (m mvccModel) put(key string, ts uint64, value *string) {
	if m[key] == nil {
		m[key] = make(map[uint64]*string)
	}
	m[key][ts] = value
}

func (m mvccModel) clone() mvccModel {
	c := make(mvccModel, len(m))
	for k, vs := range m {
		c[k] = maps.Clone(vs)
	}
	return c
}

// get returns the newest version at or below ts.
func (m mvccModel) get(key string, ts uint64) MVCCGetResult {
	var res MVCCGetResult
	var val *string
	for vts, v := range m[key] {
		res.LatestTimestamp = max(res.LatestTimestamp, vts)
		if vts <= ts && vts >= res.Timestamp {
			res.Timestamp, val = vts, v
		}
	}
	if val != nil {
		res.Found, res.Value = true, []byte(*val)
	}
	return res
}

// scan returns the visible keys of [start, end) within the limits, and the
// first visible key left out ("" and false when none).
func (m mvccModel) scan(start, end string, ts uint64, opts ScanOptions) (kvs []KeyValue, next string, more bool) {
	ks := slices.Sorted(maps.Keys(m))
	var n int64
	for _, k := range ks {
		if k < start || k >= end {
			continue
		}
		r := m.get(k, ts)
		if !r.Found {
			continue
		}
		if (opts.MaxKeys > 0 && int64(len(kvs)) >= opts.MaxKeys) || (opts.MaxBytes > 0 && n >= opts.MaxBytes) {
			return kvs, k, true
		}
		kvs = append(kvs, KeyValue{Key: []byte(k), Value: r.Value, Timestamp: r.Timestamp})
		n += int64(len(k) + len(r.Value))
	}
	return kvs, "", false
}

// TestMVCCRandomizedAgainstModel applies random puts and deletes at random,
// often repeated or decreasing, timestamps to a small key set and compares
// MVCCGet and MVCCScan at random read timestamps with the model. Reads go to
// the engine (memtable and, after random flushes, sstables) and to snapshots
// taken along the way.
func TestMVCCRandomizedAgainstModel(t *testing.T) {
	rng := testRand(t)
	eng := openMem(t)
	keySet := []string{"", "\x00", "a", "a\x00", "a\x00\x01", "a\x01", "ab", "a\xff", "b", "\xff", "\xff\xff", "\xff\xff\xff"}
	// Span bounds include keys that are never written.
	bounds := append(slices.Clone(keySet), "a\x00\x00", "aa", "c", "\xff\x00", "\xff\xff\xff\xff")
	const maxTS = 40
	model := mvccModel{}

	type snapshotCheck struct {
		snap  interface{ Close() error }
		r     Reader
		model mvccModel
	}
	var snaps []snapshotCheck
	defer func() {
		for _, s := range snaps {
			_ = s.snap.Close()
		}
	}()

	randTS := func() uint64 {
		switch rng.IntN(10) {
		case 0:
			return 0
		case 1:
			return MaxTimestamp
		}
		return rng.Uint64N(maxTS + 2)
	}

	check := func(step int, r Reader, m mvccModel) {
		t.Helper()
		ts := randTS()
		// Every key through r, then again in a random order through one
		// PointReader (one iterator re-bounded to each key).
		pr := NewPointReader(r)
		defer pr.Close()
		order := rng.Perm(2 * len(keySet))
		for i := range order {
			k, via := keySet[order[i]%len(keySet)], r
			if order[i] >= len(keySet) {
				via = pr
			}
			got, err := MVCCGet(via, []byte(k), ts)
			if err != nil {
				t.Fatalf("step %d: MVCCGet(%q@%d) (through a PointReader: %v): %v", step, k, ts, via == pr, err)
			}
			want := m.get(k, ts)
			if got.Found != want.Found || !bytes.Equal(got.Value, want.Value) ||
				got.Timestamp != want.Timestamp || got.LatestTimestamp != want.LatestTimestamp {
				t.Fatalf("step %d: MVCCGet(%q@%d) (through a PointReader: %v) = %+v, model says %+v\nversions: %s",
					step, k, ts, via == pr, got, want, versionsString(m[k]))
			}
		}
		for i := 0; i < 4; i++ {
			start, end := bounds[rng.IntN(len(bounds))], bounds[rng.IntN(len(bounds))]
			if start > end {
				start, end = end, start
			}
			var opts ScanOptions
			switch rng.IntN(4) {
			case 1:
				opts.MaxKeys = 1 + rng.Int64N(4)
			case 2:
				opts.MaxBytes = 1 + rng.Int64N(12)
			case 3:
				opts.MaxKeys, opts.MaxBytes = 1+rng.Int64N(4), 1+rng.Int64N(12)
			}
			var startKey []byte
			if start != "" || rng.IntN(2) == 0 {
				startKey = []byte(start) // else nil, the same as ""
			}
			kvs, resume, err := MVCCScan(r, startKey, []byte(end), ts, opts)
			if err != nil {
				t.Fatalf("step %d: MVCCScan: %v", step, err)
			}
			want, next, more := m.scan(start, end, ts, opts)
			desc := fmt.Sprintf("step %d: MVCCScan([%q, %q) @%d, %+v)", step, start, end, ts, opts)
			if kvsString(kvs) != kvsString(want) {
				t.Fatalf("%s\n  = %s\nmodel %s", desc, kvsString(kvs), kvsString(want))
			}
			switch {
			case more && resume == nil:
				t.Fatalf("%s: no resume key, but %q was left out", desc, next)
			case more && bytes.Compare(resume, []byte(next)) > 0:
				t.Fatalf("%s: resume %q skips the visible key %q", desc, resume, next)
			case resume != nil && len(kvs) > 0 && bytes.Compare(resume, kvs[len(kvs)-1].Key) <= 0:
				t.Fatalf("%s: resume %q not after the last key returned", desc, resume)
			case resume != nil && bytes.Compare(resume, []byte(end)) >= 0:
				t.Fatalf("%s: resume %q outside the span", desc, resume)
			case !more && resume != nil:
				// Allowed (the scan stopped before keys it had not looked at),
				// but nothing may be visible from there on.
				rest, _, err := MVCCScan(r, resume, []byte(end), ts, ScanOptions{})
				if err != nil || len(rest) != 0 {
					t.Fatalf("%s: resume %q but the rest of the span holds %s (%v)", desc, resume, kvsString(rest), err)
				}
			}
		}
	}

	const steps = 10000
	for step := 0; step < steps; {
		// One batch of 1-4 writes, committed atomically.
		b := eng.NewBatch()
		for n := 1 + rng.IntN(4); n > 0; n-- {
			k := keySet[rng.IntN(len(keySet))]
			ts := 1 + rng.Uint64N(maxTS)
			if rng.IntN(4) == 0 {
				mustDelete(t, b, k, ts)
				model.put(k, ts, nil)
			} else {
				v := fmt.Sprintf("v%d-%d", step, n)
				if rng.IntN(10) == 0 {
					v = "" // empty values are live
				}
				mustPut(t, b, k, ts, v)
				model.put(k, ts, &v)
			}
			step++
		}
		if err := b.Commit(NoSync); err != nil {
			t.Fatal(err)
		}
		_ = b.Close()

		switch rng.IntN(40) {
		case 0:
			if err := eng.DB().Flush(); err != nil {
				t.Fatal(err)
			}
		case 1:
			if len(snaps) < 8 {
				s := eng.NewSnapshot()
				snaps = append(snaps, snapshotCheck{snap: s, r: s, model: model.clone()})
			}
		}
		if rng.IntN(10) == 0 {
			check(step, eng.Reader(), model)
		}
	}
	for i := 0; i < 20; i++ {
		check(steps, eng.Reader(), model)
	}
	t.Logf("checked %d snapshots", len(snaps))
	for _, s := range snaps {
		for i := 0; i < 5; i++ {
			check(-1, s.r, s.model)
		}
	}
}

func versionsString(vs map[uint64]*string) string {
	var out string
	for _, ts := range slices.Sorted(maps.Keys(vs)) {
		if vs[ts] == nil {
			out += fmt.Sprintf("%d:<tombstone> ", ts)
		} else {
			out += fmt.Sprintf("%d:%q ", ts, *vs[ts])
		}
	}
	return out
}
