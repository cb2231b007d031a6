package storage

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestMVCCGetVisibility reads keys with several versions and tombstones at
// timestamps around every version.
func TestMVCCGetVisibility(t *testing.T) {
	eng := openMem(t)
	commit(t, eng, func(b *Batch) error {
		// "a": put@10 put@20 del@30 put@40
		mustPut(t, b, "a", 10, "a10")
		mustPut(t, b, "a", 20, "a20")
		mustDelete(t, b, "a", 30)
		mustPut(t, b, "a", 40, "a40")
		// "b": only a tombstone.
		mustDelete(t, b, "b", 15)
		// "c": an empty value is a live version, not a tombstone.
		mustPut(t, b, "c", 5, "")
		// Neighbours of "a" in the logical key space must not leak into it.
		mustPut(t, b, "a\x00", 25, "a00")
		mustPut(t, b, "ab", 35, "ab")
		mustPut(t, b, "", 7, "empty-key")
		// Versions at the extremes of the timestamp space.
		mustPut(t, b, "max", 1, "max1")
		mustPut(t, b, "max", MaxTimestamp, "maxmax")
		return nil
	})

	type want struct {
		found  bool
		value  string
		ts     uint64
		latest uint64
	}
	tests := []struct {
		key  string
		ts   uint64
		want want
	}{
		{"a", 0, want{latest: 40}},
		{"a", 9, want{latest: 40}},
		{"a", 10, want{true, "a10", 10, 40}},
		{"a", 11, want{true, "a10", 10, 40}},
		{"a", 19, want{true, "a10", 10, 40}},
		{"a", 20, want{true, "a20", 20, 40}},
		{"a", 29, want{true, "a20", 20, 40}},
		{"a", 30, want{false, "", 30, 40}}, // the tombstone is the version read
		{"a", 39, want{false, "", 30, 40}},
		{"a", 40, want{true, "a40", 40, 40}},
		{"a", 41, want{true, "a40", 40, 40}},
		{"a", MaxTimestamp, want{true, "a40", 40, 40}},
		{"b", 14, want{latest: 15}},
		{"b", 15, want{false, "", 15, 15}},
		{"b", MaxTimestamp, want{false, "", 15, 15}},
		{"c", 4, want{latest: 5}},
		{"c", 5, want{true, "", 5, 5}},
		{"a\x00", 24, want{latest: 25}},
		{"a\x00", 25, want{true, "a00", 25, 25}},
		{"ab", MaxTimestamp, want{true, "ab", 35, 35}},
		{"", MaxTimestamp, want{true, "empty-key", 7, 7}},
		{"", 6, want{latest: 7}},
		{"max", 1, want{true, "max1", 1, MaxTimestamp}},
		{"max", MaxTimestamp - 1, want{true, "max1", 1, MaxTimestamp}},
		{"max", MaxTimestamp, want{true, "maxmax", MaxTimestamp, MaxTimestamp}},
		{"missing", MaxTimestamp, want{}},
		{"a\x01", MaxTimestamp, want{}}, // between "a\x00" and "ab"
		{"aa", 100, want{}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q@%d", tc.key, tc.ts), func(t *testing.T) {
			got, err := MVCCGet(eng.Reader(), []byte(tc.key), tc.ts)
			if err != nil {
				t.Fatal(err)
			}
			if got.Found != tc.want.found || string(got.Value) != tc.want.value ||
				got.Timestamp != tc.want.ts || got.LatestTimestamp != tc.want.latest {
				t.Fatalf("MVCCGet = {found:%v value:%q ts:%d latest:%d}, want %+v",
					got.Found, got.Value, got.Timestamp, got.LatestTimestamp, tc.want)
			}
			if !got.Found && got.Value != nil {
				t.Fatalf("value %q returned for a key that was not found", got.Value)
			}
		})
	}
}

// TestMVCCGetReaders checks that MVCCGet works on every kind of Reader: the
// engine, an indexed batch (seeing its own writes) and a snapshot (not seeing
// later writes).
func TestMVCCGetReaders(t *testing.T) {
	eng := openMem(t)
	commit(t, eng, func(b *Batch) error {
		mustPut(t, b, "k", 10, "v10")
		return nil
	})
	snap := eng.NewSnapshot()
	defer snap.Close()

	b := eng.NewIndexedBatch()
	defer b.Close()
	mustPut(t, b, "k", 20, "v20")
	if got, err := MVCCGet(b, []byte("k"), MaxTimestamp); err != nil || string(got.Value) != "v20" || got.LatestTimestamp != 20 {
		t.Fatalf("indexed batch read = %+v, %v; want its own write v20", got, err)
	}
	if got, err := MVCCGet(eng.Reader(), []byte("k"), MaxTimestamp); err != nil || string(got.Value) != "v10" {
		t.Fatalf("engine read before commit = %+v, %v; want v10", got, err)
	}
	if err := b.Commit(NoSync); err != nil {
		t.Fatal(err)
	}
	if got, err := MVCCGet(eng.Reader(), []byte("k"), MaxTimestamp); err != nil || string(got.Value) != "v20" {
		t.Fatalf("engine read after commit = %+v, %v; want v20", got, err)
	}
	if got, err := MVCCGet(snap, []byte("k"), MaxTimestamp); err != nil || string(got.Value) != "v10" || got.LatestTimestamp != 10 {
		t.Fatalf("snapshot read = %+v, %v; want v10 (latest 10)", got, err)
	}
}

// TestMVCCGetValueIsCopied checks the result does not alias engine memory.
func TestMVCCGetValueIsCopied(t *testing.T) {
	eng := openMem(t)
	commit(t, eng, func(b *Batch) error {
		mustPut(t, b, "k", 1, "value")
		return nil
	})
	got, err := MVCCGet(eng.Reader(), []byte("k"), MaxTimestamp)
	if err != nil {
		t.Fatal(err)
	}
	copy(got.Value, "XXXXX")
	again, err := MVCCGet(eng.Reader(), []byte("k"), MaxTimestamp)
	if err != nil || string(again.Value) != "value" {
		t.Fatalf("after mutating a returned value the engine reads %q, %v", again.Value, err)
	}
}

func TestMVCCWriteAtZeroTimestamp(t *testing.T) {
	eng := openMem(t)
	b := eng.NewBatch()
	defer b.Close()
	if err := MVCCPut(b, []byte("k"), 0, []byte("v")); err == nil {
		t.Error("MVCCPut at timestamp 0 succeeded")
	}
	if err := MVCCDelete(b, []byte("k"), 0); err == nil {
		t.Error("MVCCDelete at timestamp 0 succeeded")
	}
	if !b.Empty() {
		t.Error("a rejected write left data in the batch")
	}
}

// TestMVCCSameTimestampOverwrites: a second write at the same timestamp
// replaces the first (there is one engine key per version).
func TestMVCCSameTimestampOverwrites(t *testing.T) {
	eng := openMem(t)
	commit(t, eng, func(b *Batch) error {
		mustPut(t, b, "k", 5, "first")
		return nil
	})
	commit(t, eng, func(b *Batch) error {
		mustPut(t, b, "k", 5, "second")
		return nil
	})
	got, err := MVCCGet(eng.Reader(), []byte("k"), 5)
	if err != nil || !got.Found || string(got.Value) != "second" {
		t.Fatalf("got %+v, %v; want second", got, err)
	}
	commit(t, eng, func(b *Batch) error {
		mustDelete(t, b, "k", 5)
		return nil
	})
	got, err = MVCCGet(eng.Reader(), []byte("k"), 5)
	if err != nil || got.Found || got.Timestamp != 5 {
		t.Fatalf("got %+v, %v; want the tombstone at 5", got, err)
	}
}

type kvt struct {
	key, value string
	ts         uint64
}

func kvsString(kvs []KeyValue) string {
	var sb strings.Builder
	for _, kv := range kvs {
		fmt.Fprintf(&sb, "%q@%d=%q ", kv.Key, kv.Timestamp, kv.Value)
	}
	return sb.String()
}

func checkKVs(t *testing.T, got []KeyValue, want []kvt) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = string(got[i].Key) == want[i].key && string(got[i].Value) == want[i].value && got[i].Timestamp == want[i].ts
	}
	if !ok {
		var sb strings.Builder
		for _, w := range want {
			fmt.Fprintf(&sb, "%q@%d=%q ", w.key, w.ts, w.value)
		}
		t.Fatalf("scan returned\n  %s\nwant\n  %s", kvsString(got), sb.String())
	}
}

// scanFixture is a small data set with tombstones and versions above and
// below the read timestamps used by the scan tests.
func scanFixture(t *testing.T) *Engine {
	eng := openMem(t)
	commit(t, eng, func(b *Batch) error {
		// Written out of order on purpose.
		mustPut(t, b, "d", 10, "d10")
		mustPut(t, b, "a", 10, "a10")
		mustPut(t, b, "a", 30, "a30")
		mustPut(t, b, "b", 10, "b10")
		mustDelete(t, b, "b", 20)     // deleted at 20
		mustPut(t, b, "c", 25, "c25") // only visible from 25
		mustPut(t, b, "e", 5, "e5")
		mustDelete(t, b, "e", 30)
		mustPut(t, b, "e", 40, "e40") // deleted in [30, 40)
		mustPut(t, b, "f", 10, "f10")
		return nil
	})
	return eng
}

func TestMVCCScanVisibility(t *testing.T) {
	eng := scanFixture(t)
	tests := []struct {
		name       string
		start, end string
		ts         uint64
		want       []kvt
	}{
		{"before everything", "", "z", 4, nil},
		{"ts 5", "", "z", 5, []kvt{{"e", "e5", 5}}},
		{"ts 15", "", "z", 15, []kvt{{"a", "a10", 10}, {"b", "b10", 10}, {"d", "d10", 10}, {"e", "e5", 5}, {"f", "f10", 10}}},
		{"ts 20 hides b", "", "z", 20, []kvt{{"a", "a10", 10}, {"d", "d10", 10}, {"e", "e5", 5}, {"f", "f10", 10}}},
		{"ts 25 shows c", "", "z", 25, []kvt{{"a", "a10", 10}, {"c", "c25", 25}, {"d", "d10", 10}, {"e", "e5", 5}, {"f", "f10", 10}}},
		{"ts 30 hides e", "", "z", 30, []kvt{{"a", "a30", 30}, {"c", "c25", 25}, {"d", "d10", 10}, {"f", "f10", 10}}},
		{"latest", "", "z", MaxTimestamp, []kvt{{"a", "a30", 30}, {"c", "c25", 25}, {"d", "d10", 10}, {"e", "e40", 40}, {"f", "f10", 10}}},
		{"start inclusive end exclusive", "b", "e", MaxTimestamp, []kvt{{"c", "c25", 25}, {"d", "d10", 10}}},
		{"end at a key excludes it", "a", "c", 25, []kvt{{"a", "a10", 10}}},
		{"start between keys", "a\x00", "d\x00", MaxTimestamp, []kvt{{"c", "c25", 25}, {"d", "d10", 10}}},
		{"start equals end", "c", "c", MaxTimestamp, nil},
		{"empty span between keys", "c\x00", "c\x01", MaxTimestamp, nil},
		{"span after all keys", "g", "z", MaxTimestamp, nil},
		{"empty end is an empty span", "", "", MaxTimestamp, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kvs, resume, err := MVCCScan(eng.Reader(), []byte(tc.start), []byte(tc.end), tc.ts, ScanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if resume != nil {
				t.Errorf("resume = %q for an unlimited scan", resume)
			}
			checkKVs(t, kvs, tc.want)
		})
	}
}

// TestMVCCScanInvertedSpan: start > end is an empty span, not a crash.
func TestMVCCScanInvertedSpan(t *testing.T) {
	eng := scanFixture(t)
	kvs, resume, err := MVCCScan(eng.Reader(), []byte("e"), []byte("b"), MaxTimestamp, ScanOptions{})
	if err != nil || len(kvs) != 0 || resume != nil {
		t.Fatalf("inverted span returned %s resume %q err %v; want an empty result", kvsString(kvs), resume, err)
	}
}

func TestMVCCScanMaxKeys(t *testing.T) {
	eng := scanFixture(t)
	tests := []struct {
		maxKeys int64
		ts      uint64
		want    []kvt
		// wantResume is the next visible key, "" when none is left. The
		// resume key may be any key after the last one returned and at or
		// before the next visible one (an invisible key in between is fine).
		wantResume string
	}{
		{1, MaxTimestamp, []kvt{{"a", "a30", 30}}, "c"},
		{2, MaxTimestamp, []kvt{{"a", "a30", 30}, {"c", "c25", 25}}, "d"},
		{4, MaxTimestamp, []kvt{{"a", "a30", 30}, {"c", "c25", 25}, {"d", "d10", 10}, {"e", "e40", 40}}, "f"},
		{5, MaxTimestamp, []kvt{{"a", "a30", 30}, {"c", "c25", 25}, {"d", "d10", 10}, {"e", "e40", 40}, {"f", "f10", 10}}, ""},
		{100, MaxTimestamp, []kvt{{"a", "a30", 30}, {"c", "c25", 25}, {"d", "d10", 10}, {"e", "e40", 40}, {"f", "f10", 10}}, ""},
		// At ts 15 "c" has no visible version yet.
		{2, 15, []kvt{{"a", "a10", 10}, {"b", "b10", 10}}, "d"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("max%d@%d", tc.maxKeys, tc.ts), func(t *testing.T) {
			kvs, resume, err := MVCCScan(eng.Reader(), nil, []byte("z"), tc.ts, ScanOptions{MaxKeys: tc.maxKeys})
			if err != nil {
				t.Fatal(err)
			}
			checkKVs(t, kvs, tc.want)
			checkResume(t, kvs, resume, tc.wantResume)
			checkPagination(t, eng.Reader(), nil, []byte("z"), tc.ts, ScanOptions{MaxKeys: tc.maxKeys})
		})
	}
}

func TestMVCCScanMaxBytes(t *testing.T) {
	eng := openMem(t)
	commit(t, eng, func(b *Batch) error {
		mustPut(t, b, "k1", 1, "vvvv")   // 6 bytes
		mustPut(t, b, "k2", 1, "vv")     // 4 bytes
		mustPut(t, b, "k3", 1, "vvvvvv") // 8 bytes
		mustPut(t, b, "k4", 1, "")       // 2 bytes
		return nil
	})
	tests := []struct {
		maxBytes   int64
		wantKeys   []string
		wantResume string
	}{
		{1, []string{"k1"}, "k2"}, // at least one key, even if over the limit
		{6, []string{"k1"}, "k2"}, // exactly reached
		{7, []string{"k1", "k2"}, "k3"},
		{10, []string{"k1", "k2"}, "k3"},
		{11, []string{"k1", "k2", "k3"}, "k4"},
		{18, []string{"k1", "k2", "k3"}, "k4"},
		{19, []string{"k1", "k2", "k3", "k4"}, ""},
		{1 << 20, []string{"k1", "k2", "k3", "k4"}, ""},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.maxBytes), func(t *testing.T) {
			kvs, resume, err := MVCCScan(eng.Reader(), []byte("k"), []byte("l"), MaxTimestamp, ScanOptions{MaxBytes: tc.maxBytes})
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, kv := range kvs {
				keys = append(keys, string(kv.Key))
			}
			if fmt.Sprint(keys) != fmt.Sprint(tc.wantKeys) {
				t.Fatalf("keys = %q, want %q", keys, tc.wantKeys)
			}
			checkResume(t, kvs, resume, tc.wantResume)
			checkPagination(t, eng.Reader(), []byte("k"), []byte("l"), MaxTimestamp, ScanOptions{MaxBytes: tc.maxBytes})
		})
	}
	// Both limits: whichever is hit first stops the scan.
	kvs, resume, err := MVCCScan(eng.Reader(), []byte("k"), []byte("l"), MaxTimestamp, ScanOptions{MaxKeys: 1, MaxBytes: 100})
	if err != nil || len(kvs) != 1 || string(resume) != "k2" {
		t.Fatalf("MaxKeys 1 MaxBytes 100: %s resume %q %v", kvsString(kvs), resume, err)
	}
	kvs, resume, err = MVCCScan(eng.Reader(), []byte("k"), []byte("l"), MaxTimestamp, ScanOptions{MaxKeys: 3, MaxBytes: 7})
	if err != nil || len(kvs) != 2 || string(resume) != "k3" {
		t.Fatalf("MaxKeys 3 MaxBytes 7: %s resume %q %v", kvsString(kvs), resume, err)
	}
}

// checkResume checks a limited scan's resume key against the next visible
// key (nextVisible, "" when none is left).
func checkResume(t *testing.T, kvs []KeyValue, resume []byte, nextVisible string) {
	t.Helper()
	if nextVisible == "" {
		if resume != nil {
			t.Fatalf("resume = %q, want nil (span exhausted)", resume)
		}
		return
	}
	if resume == nil {
		t.Fatalf("resume = nil, but %q was not returned", nextVisible)
	}
	if len(kvs) > 0 && bytes.Compare(resume, kvs[len(kvs)-1].Key) <= 0 {
		t.Fatalf("resume %q is not after the last returned key %q", resume, kvs[len(kvs)-1].Key)
	}
	if bytes.Compare(resume, []byte(nextVisible)) > 0 {
		t.Fatalf("resume %q skips the visible key %q", resume, nextVisible)
	}
}

// checkPagination scans [start, end) page by page, continuing from each
// resume key, and checks that the pages add up to the unlimited scan: no key
// lost, none repeated, each page within its limits.
func checkPagination(t *testing.T, r Reader, start, end []byte, ts uint64, opts ScanOptions) {
	t.Helper()
	all, resume, err := MVCCScan(r, start, end, ts, ScanOptions{})
	if err != nil || resume != nil {
		t.Fatalf("unlimited scan: resume %q, %v", resume, err)
	}
	var got []KeyValue
	cur := start
	for pages := 0; ; pages++ {
		if pages > len(all)+1 {
			t.Fatalf("pagination does not terminate: %d pages for %d keys", pages, len(all))
		}
		kvs, resume, err := MVCCScan(r, cur, end, ts, opts)
		if err != nil {
			t.Fatal(err)
		}
		if opts.MaxKeys > 0 && int64(len(kvs)) > opts.MaxKeys {
			t.Fatalf("page of %d keys exceeds MaxKeys %d", len(kvs), opts.MaxKeys)
		}
		if opts.MaxBytes > 0 && len(kvs) > 1 {
			// Every key but the last was added while under the limit.
			var n int64
			for _, kv := range kvs[:len(kvs)-1] {
				n += int64(len(kv.Key) + len(kv.Value))
			}
			if n >= opts.MaxBytes {
				t.Fatalf("page kept reading after %d bytes with MaxBytes %d", n, opts.MaxBytes)
			}
		}
		got = append(got, kvs...)
		if resume == nil {
			break
		}
		if len(kvs) > 0 && bytes.Compare(resume, kvs[len(kvs)-1].Key) <= 0 {
			t.Fatalf("resume key %q is not after the last returned key %q", resume, kvs[len(kvs)-1].Key)
		}
		if bytes.Compare(resume, cur) <= 0 && len(kvs) == 0 {
			t.Fatalf("resume key %q makes no progress from %q", resume, cur)
		}
		if end != nil && bytes.Compare(resume, end) >= 0 {
			t.Fatalf("resume key %q outside the span end %q", resume, end)
		}
		cur = resume
	}
	if kvsString(got) != kvsString(all) {
		t.Fatalf("paginated scan\n  %s\n!= unlimited scan\n  %s", kvsString(got), kvsString(all))
	}
}

// TestMVCCScanBinaryKeys: keys with 0x00 and 0xff bytes scan in bytewise
// order and span bounds cut exactly between them.
func TestMVCCScanBinaryKeys(t *testing.T) {
	eng := openMem(t)
	ks := []string{
		"", "\x00", "\x00\x00", "\x00\x01", "\x00\xff", "\x01",
		"a", "a\x00", "a\x00\x00", "a\x00\x01", "a\x00\xff", "a\x01", "ab", "a\xff", "a\xff\xff",
		"\xfe", "\xff", "\xff\x00", "\xff\xff", "\xff\xff\x00", "\xff\xff\xff",
	}
	commit(t, eng, func(b *Batch) error {
		// Insert in reverse, two versions each, the older one a tombstone.
		for i := len(ks) - 1; i >= 0; i-- {
			mustDelete(t, b, ks[i], 1)
			mustPut(t, b, ks[i], 2, "v"+ks[i])
		}
		return nil
	})
	if !slices.IsSorted(ks) {
		t.Fatal("fixture keys are not in bytewise order")
	}
	end := []byte("\xff\xff\xff\xff")
	visible := func(start, end string) []kvt {
		var out []kvt
		for _, k := range ks {
			if k >= start && k < end {
				out = append(out, kvt{k, "v" + k, 2})
			}
		}
		return out
	}
	kvs, _, err := MVCCScan(eng.Reader(), nil, end, MaxTimestamp, ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkKVs(t, kvs, visible("", string(end)))
	// Every pair of keys as bounds.
	for _, s := range ks {
		for _, e := range ks {
			if s > e {
				continue
			}
			kvs, resume, err := MVCCScan(eng.Reader(), []byte(s), []byte(e), MaxTimestamp, ScanOptions{})
			if err != nil || resume != nil {
				t.Fatalf("[%q, %q): resume %q err %v", s, e, resume, err)
			}
			checkKVs(t, kvs, visible(s, e))
		}
	}
	// Tombstones only, at ts 1.
	kvs, _, err = MVCCScan(eng.Reader(), nil, end, 1, ScanOptions{})
	if err != nil || len(kvs) != 0 {
		t.Fatalf("scan at ts 1 = %s, %v; want nothing (all tombstones)", kvsString(kvs), err)
	}
	checkPagination(t, eng.Reader(), nil, end, MaxTimestamp, ScanOptions{MaxKeys: 3})
	checkPagination(t, eng.Reader(), nil, end, MaxTimestamp, ScanOptions{MaxBytes: 4})
	checkPagination(t, eng.Reader(), nil, end, 1, ScanOptions{MaxKeys: 1})
	for _, k := range ks {
		got, err := MVCCGet(eng.Reader(), []byte(k), MaxTimestamp)
		if err != nil || !got.Found || string(got.Value) != "v"+k || got.LatestTimestamp != 2 {
			t.Fatalf("MVCCGet(%q) = %+v, %v", k, got, err)
		}
	}
}

// TestMVCCScanSkipsManyNewerVersions: a key whose versions are all above the
// read timestamp is skipped, with the scan continuing at the next key.
func TestMVCCScanSkipsManyNewerVersions(t *testing.T) {
	eng := openMem(t)
	commit(t, eng, func(b *Batch) error {
		for ts := uint64(100); ts < 150; ts++ {
			mustPut(t, b, "a", ts, fmt.Sprint(ts))
			mustPut(t, b, "c", ts, fmt.Sprint(ts))
		}
		mustPut(t, b, "b", 50, "b50")
		mustPut(t, b, "b", 120, "b120")
		mustPut(t, b, "d", 99, "d99")
		return nil
	})
	kvs, resume, err := MVCCScan(eng.Reader(), nil, []byte("z"), 99, ScanOptions{})
	if err != nil || resume != nil {
		t.Fatal(resume, err)
	}
	checkKVs(t, kvs, []kvt{{"b", "b50", 50}, {"d", "d99", 99}})
	kvs, _, err = MVCCScan(eng.Reader(), nil, []byte("z"), 125, ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkKVs(t, kvs, []kvt{{"a", "125", 125}, {"b", "b120", 120}, {"c", "125", 125}, {"d", "d99", 99}})
	checkPagination(t, eng.Reader(), nil, []byte("z"), 99, ScanOptions{MaxKeys: 1})
}

// TestMVCCScanIgnoresNonMVCCKeys: range-local and store-local keys share the
// engine but never appear in a scan of the logical key space.
func TestMVCCScanIgnoresNonMVCCKeys(t *testing.T) {
	eng := openMem(t)
	commit(t, eng, func(b *Batch) error {
		if err := b.Set(RaftLogKey(1, 5), []byte("entry"), nil); err != nil {
			return err
		}
		if err := b.Set(RangeDescriptorKey(1), []byte("desc"), nil); err != nil {
			return err
		}
		if err := b.Set(StoreIdentKey, []byte("ident"), nil); err != nil {
			return err
		}
		mustPut(t, b, "k", 1, "v")
		return nil
	})
	kvs, _, err := MVCCScan(eng.Reader(), nil, []byte("\xff\xff\xff"), MaxTimestamp, ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkKVs(t, kvs, []kvt{{"k", "v", 1}})
}
