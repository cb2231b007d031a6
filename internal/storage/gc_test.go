package storage

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// gcEntry is one engine entry of the MVCC keyspace, rendered for tests:
// "k@ts=value", "k@ts=<del>", "k@ts=<txn:start>value", "k@ts=<txndel:start>",
// "k@ts=<rb>" or "k=<lock:start>".
func gcEntries(t *testing.T, r Reader) []string {
	t.Helper()
	lo, hi := MVCCSpan(nil, []byte{0xff, 0xff, 0xff})
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out []string
	for valid := it.First(); valid; valid = it.Next() {
		key, ts, isLock, err := DecodeDataKey(it.Key())
		if err != nil {
			t.Fatal(err)
		}
		raw, err := it.ValueAndErr()
		if err != nil {
			t.Fatal(err)
		}
		if isLock {
			l, err := DecodeLock(raw)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s=<lock:%d>", key, l.StartTS))
			continue
		}
		ver, err := decodeVersion(raw)
		if err != nil {
			t.Fatal(err)
		}
		var v string
		switch {
		case ver.rollback:
			v = "<rb>"
		case ver.startTS != 0 && ver.live:
			v = fmt.Sprintf("<txn:%d>%s", ver.startTS, ver.value)
		case ver.startTS != 0:
			v = fmt.Sprintf("<txndel:%d>", ver.startTS)
		case ver.live:
			v = string(ver.value)
		default:
			v = "<del>"
		}
		out = append(out, fmt.Sprintf("%s@%d=%s", key, ts, v))
	}
	if err := it.Error(); err != nil {
		t.Fatal(err)
	}
	return out
}

// gcWrite applies one entry in the gcEntries notation.
func gcWrite(t *testing.T, w Writer, entry string) {
	t.Helper()
	var key string
	var ts, start uint64
	lhs, v, _ := strings.Cut(entry, "=")
	if k, tsStr, ok := strings.Cut(lhs, "@"); ok {
		key = k
		if _, err := fmt.Sscanf(tsStr, "%d", &ts); err != nil {
			t.Fatalf("bad entry %q", entry)
		}
	} else {
		key = lhs
	}
	var err error
	switch {
	case strings.HasPrefix(v, "<lock:"):
		fmt.Sscanf(v, "<lock:%d>", &start)
		err = PutLock(w, []byte(key), &Lock{Primary: []byte(key), StartTS: start, TTLMillis: 1, Op: LockPut})
	case v == "<del>":
		err = MVCCDelete(w, []byte(key), ts)
	case v == "<rb>":
		err = w.Set(EncodeMVCCKey([]byte(key), ts), []byte{valueTagRollback}, nil)
	case strings.HasPrefix(v, "<txndel:"):
		fmt.Sscanf(v, "<txndel:%d>", &start)
		err = MVCCPutCommitted(w, []byte(key), ts, start, LockDelete, nil)
	case strings.HasPrefix(v, "<txn:"):
		i := strings.IndexByte(v, '>')
		fmt.Sscanf(v[:i+1], "<txn:%d>", &start)
		err = MVCCPutCommitted(w, []byte(key), ts, start, LockPut, []byte(v[i+1:]))
	default:
		err = MVCCPut(w, []byte(key), ts, []byte(v))
	}
	if err != nil {
		t.Fatalf("writing %q: %v", entry, err)
	}
}

// runGC collects [start, end) with opts in bounded calls, each committed
// in its own batch (as each GC request is one Raft command), and returns
// the summed result and the number of calls.
func runGC(t *testing.T, eng *Engine, start, end []byte, opts GCOptions, check func(calls int)) (GCResult, int) {
	t.Helper()
	var total GCResult
	calls := 0
	from := start
	for {
		b := eng.NewBatch()
		res, err := MVCCGarbageCollect(eng.Reader(), b, from, end, opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(NoSync); err != nil {
			t.Fatal(err)
		}
		_ = b.Close()
		calls++
		total.Deleted += res.Deleted
		total.PendingKeys += res.PendingKeys
		total.Locks = append(total.Locks, res.Locks...)
		if check != nil {
			check(calls)
		}
		if res.Resume == nil {
			return total, calls
		}
		if bytes.Compare(res.Resume, from) <= 0 && calls > 1 {
			t.Fatalf("resume %q does not advance past %q", res.Resume, from)
		}
		from = res.Resume
		if calls > 100000 {
			t.Fatal("GC does not terminate")
		}
	}
}

func TestMVCCGarbageCollectCases(t *testing.T) {
	recStart, recEnd := []byte("r/"), []byte("r0")
	for _, tc := range []struct {
		name      string
		entries   []string
		threshold uint64
		record    uint64
		lockTh    uint64
		want      []string
		deleted   int64
		locks     []string // key@start
		pending   int64
	}{
		{
			name:      "only versions above the threshold",
			entries:   []string{"a@30=3", "a@20=2"},
			threshold: 10,
			want:      []string{"a@30=3", "a@20=2"},
			pending:   1,
		},
		{
			name:      "newest at or below the threshold is kept when live",
			entries:   []string{"a@30=3", "a@20=2", "a@10=1", "a@5=0"},
			threshold: 20,
			want:      []string{"a@30=3", "a@20=2"},
			deleted:   2,
			pending:   1,
		},
		{
			name:      "a single live version is no garbage",
			entries:   []string{"a@5=0"},
			threshold: 20,
			want:      []string{"a@5=0"},
		},
		{
			name:      "tombstone at or below the threshold goes with everything older",
			entries:   []string{"a@30=3", "a@20=<del>", "a@10=1"},
			threshold: 25,
			want:      []string{"a@30=3"},
			deleted:   2,
		},
		{
			name:      "tombstone exactly at the threshold",
			entries:   []string{"a@20=<del>", "a@10=1"},
			threshold: 20,
			want:      nil,
			deleted:   2,
		},
		{
			name:      "tombstone above the threshold is kept, older kept live",
			entries:   []string{"a@30=<del>", "a@10=1", "a@5=0"},
			threshold: 20,
			want:      []string{"a@30=<del>", "a@10=1"},
			deleted:   1,
			pending:   1,
		},
		{
			name:      "transactional delete is a tombstone",
			entries:   []string{"a@20=<txndel:15>", "a@10=<txn:8>x"},
			threshold: 20,
			want:      nil,
			deleted:   2,
		},
		{
			name:      "transactional live version is kept",
			entries:   []string{"a@20=<txn:15>y", "a@10=<txn:8>x"},
			threshold: 25,
			want:      []string{"a@20=<txn:15>y"},
			deleted:   1,
		},
		{
			name:      "rollback markers at or below the threshold go, newer stay",
			entries:   []string{"a@40=<rb>", "a@25=<rb>", "a@20=2", "a@15=<rb>", "a@10=1"},
			threshold: 25,
			want:      []string{"a@40=<rb>", "a@20=2"},
			deleted:   3,
			pending:   1,
		},
		{
			name:      "markers do not count as the kept version",
			entries:   []string{"a@20=<rb>", "a@10=1", "a@5=0"},
			threshold: 30,
			want:      []string{"a@10=1"},
			deleted:   2,
		},
		{
			name:      "a key of only markers disappears",
			entries:   []string{"a@20=<rb>", "a@10=<rb>"},
			threshold: 30,
			want:      nil,
			deleted:   2,
		},
		{
			name:      "locks are never touched; old ones are reported",
			entries:   []string{"a=<lock:5>", "a@4=x", "a@3=w", "b=<lock:50>", "b@4=y", "c=<lock:20>"},
			threshold: 25,
			want:      []string{"a=<lock:5>", "a@4=x", "b=<lock:50>", "b@4=y", "c=<lock:20>"},
			deleted:   1,
			locks:     []string{"a@5", "c@20"},
			pending:   1, // b's lock is not old yet
		},
		{
			name:      "lock threshold above the GC threshold",
			entries:   []string{"a=<lock:50>", "a@4=x", "b=<lock:70>"},
			threshold: 25,
			lockTh:    60,
			want:      []string{"a=<lock:50>", "a@4=x", "b=<lock:70>"},
			locks:     []string{"a@50"},
			pending:   1,
		},
		{
			name:      "records below the record threshold are removed whole",
			entries:   []string{"r/old@30=<txn:29>r", "r/new@80=<txn:79>r", "r/keep@30=<txn:29>x"},
			threshold: 20,
			record:    50,
			want:      []string{"r/new@80=<txn:79>r"},
			deleted:   2,
			pending:   1,
		},
		{
			name:      "a record keeps markers above the GC threshold",
			entries:   []string{"r/a@60=<rb>", "r/a@30=<txn:29>r", "r/a@25=<rb>", "r/a@10=<rb>"},
			threshold: 20,
			record:    50,
			want:      []string{"r/a@60=<rb>", "r/a@25=<rb>"},
			deleted:   2,
			pending:   1,
		},
		{
			name:      "record threshold below the GC threshold keeps young records",
			entries:   []string{"r/a@30=<txn:29>r", "r/a@10=<rb>", "r/b@5=<txn:4>r"},
			threshold: 40,
			record:    20,
			want:      []string{"r/a@30=<txn:29>r"},
			deleted:   2,
			pending:   1,
		},
		{
			name:      "keys outside the record span ignore the record threshold",
			entries:   []string{"q@30=v", "r0@30=v"},
			threshold: 20,
			record:    50,
			want:      []string{"q@30=v", "r0@30=v"},
		},
		{
			name:      "threshold zero collects nothing",
			entries:   []string{"a@2=<del>", "a@1=<rb>"},
			threshold: 0,
			want:      []string{"a@2=<del>", "a@1=<rb>"},
			pending:   1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eng := openMem(t)
			commit(t, eng, func(b *Batch) error {
				for _, e := range tc.entries {
					gcWrite(t, b, e)
				}
				return nil
			})
			opts := GCOptions{Threshold: tc.threshold, RecordThreshold: tc.record, RecordStart: recStart, RecordEnd: recEnd, LockThreshold: tc.lockTh}
			res, _ := runGC(t, eng, nil, []byte{0xff}, opts, nil)
			got := gcEntries(t, eng.Reader())
			if !slices.Equal(got, tc.want) {
				t.Errorf("after GC:\n got  %q\n want %q", got, tc.want)
			}
			if res.Deleted != tc.deleted {
				t.Errorf("deleted %d, want %d", res.Deleted, tc.deleted)
			}
			var locks []string
			for _, kl := range res.Locks {
				locks = append(locks, fmt.Sprintf("%s@%d", kl.Key, kl.Lock.StartTS))
			}
			if !slices.Equal(locks, tc.locks) {
				t.Errorf("locks %q, want %q", locks, tc.locks)
			}
			if res.PendingKeys != tc.pending {
				t.Errorf("pending keys %d, want %d", res.PendingKeys, tc.pending)
			}
			// Collecting again at the same thresholds finds nothing more.
			again, _ := runGC(t, eng, nil, []byte{0xff}, opts, nil)
			if again.Deleted != 0 {
				t.Errorf("a second collection deleted %d more", again.Deleted)
			}
		})
	}
}

// TestMVCCGarbageCollectHotKey: a key with many versions is collected in
// one call with a small batch (one range deletion for the bulk).
func TestMVCCGarbageCollectHotKey(t *testing.T) {
	eng := openMem(t)
	const n = 5000
	commit(t, eng, func(b *Batch) error {
		for ts := uint64(1); ts <= n; ts++ {
			mustPut(t, b, "hot", ts, fmt.Sprint(ts))
		}
		mustPut(t, b, "hot2", 1, "x")
		mustPut(t, b, "hot0", 1, "x")
		return nil
	})
	b := eng.NewBatch()
	defer b.Close()
	res, err := MVCCGarbageCollect(eng.Reader(), b, nil, []byte{0xff}, GCOptions{Threshold: n - 10, MaxKeys: 100})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Resume) != "hot0" {
		t.Fatalf("resume %q, want \"hot0\" (the hot key is finished, then the bound stops)", res.Resume)
	}
	if res.Deleted != n-11 {
		t.Fatalf("deleted %d, want %d", res.Deleted, n-11)
	}
	if b.Len() > 4<<10 {
		t.Fatalf("batch of %d bytes for one hot key: the bulk should be a range deletion", b.Len())
	}
	if err := b.Commit(NoSync); err != nil {
		t.Fatal(err)
	}
	got := gcEntries(t, eng.Reader())
	if len(got) != 13 || got[0] != "hot@5000=5000" || got[10] != "hot@4990=4990" || got[11] != "hot0@1=x" || got[12] != "hot2@1=x" {
		t.Fatalf("after GC: %q", got)
	}
	for ts := uint64(n - 10); ts <= n+1; ts++ {
		r, err := MVCCGet(eng.Reader(), []byte("hot"), ts)
		if err != nil || !r.Found || string(r.Value) != fmt.Sprint(min(ts, n)) {
			t.Fatalf("get hot@%d = %+v %v", ts, r, err)
		}
	}
}

// TestMVCCGarbageCollectRandomized checks MVCCGarbageCollect against the
// engine's own reads: random histories of plain and transactional writes,
// tombstones, rollback markers and locks; random thresholds and bounds.
// After every bounded call (committed on its own) every read at or above
// the threshold finds what it found before; afterwards no garbage is left,
// locks are untouched and reported exactly when old, and a span reported
// without pending keys has nothing left to collect at any threshold (but
// the locks reported, which are the caller's to resolve).
func TestMVCCGarbageCollectRandomized(t *testing.T) {
	rng := testRand(t)
	keySet := []string{"", "\x00", "a", "a\x00", "ab", "b", "r/", "r/x", "r/y\x00", "r0", "\xff"}
	recStart, recEnd := []byte("r/"), []byte("r0")
	isRecord := func(k string) bool { return k >= string(recStart) && k < string(recEnd) }
	const maxTS = 60
	defer func(run int) { gcRangeDeleteRun = run }(gcRangeDeleteRun)
	for iter := 0; iter < 300; iter++ {
		gcRangeDeleteRun = 32
		if rng.IntN(2) == 0 {
			gcRangeDeleteRun = rng.IntN(3) // exercise the range deletions
		}
		eng, err := Open(Config{InMemory: true})
		if err != nil {
			t.Fatal(err)
		}
		func() {
			defer eng.Close()
			var history []string
			b := eng.NewBatch()
			used := map[string]bool{}
			for n := rng.IntN(40); n > 0; n-- {
				k := keySet[rng.IntN(len(keySet))]
				ts := 2 + rng.Uint64N(maxTS)
				if used[fmt.Sprintf("%s@%d", k, ts)] {
					continue
				}
				used[fmt.Sprintf("%s@%d", k, ts)] = true
				var e string
				switch rng.IntN(7) {
				case 0:
					e = fmt.Sprintf("%s@%d=<del>", k, ts)
				case 1:
					e = fmt.Sprintf("%s@%d=<rb>", k, ts)
				case 2:
					e = fmt.Sprintf("%s@%d=<txndel:%d>", k, ts, ts-1)
				case 3:
					e = fmt.Sprintf("%s@%d=<txn:%d>t%d", k, ts, ts-1, ts)
				case 4:
					if used[k] {
						continue
					}
					used[k] = true
					e = fmt.Sprintf("%s=<lock:%d>", k, ts)
				default:
					e = fmt.Sprintf("%s@%d=v%d", k, ts, ts)
				}
				gcWrite(t, b, e)
				history = append(history, e)
			}
			if err := b.Commit(NoSync); err != nil {
				t.Fatal(err)
			}
			_ = b.Close()
			if rng.IntN(2) == 0 {
				if err := eng.DB().Flush(); err != nil {
					t.Fatal(err)
				}
			}
			before := eng.NewSnapshot()
			defer before.Close()
			opts := GCOptions{
				Threshold: rng.Uint64N(maxTS + 4), RecordStart: recStart, RecordEnd: recEnd,
			}
			if rng.IntN(2) == 0 {
				opts.RecordThreshold = rng.Uint64N(maxTS + 4)
			}
			if rng.IntN(3) == 0 {
				opts.LockThreshold = rng.Uint64N(maxTS + 4)
			}
			if rng.IntN(2) == 0 {
				opts.MaxKeys = 1 + rng.Int64N(6)
			}
			if rng.IntN(3) == 0 {
				opts.MaxBytes = 1 + rng.Int64N(60)
			}
			if rng.IntN(4) == 0 {
				opts.MaxLocks = 1
			}
			desc := fmt.Sprintf("iteration %d, %+v, range deletion after %d, history %q", iter, opts, gcRangeDeleteRun, history)
			readTS := []uint64{opts.Threshold, opts.Threshold + 1, opts.Threshold + 7, maxTS + 5, MaxTimestamp}
			checkReads := func(calls int) {
				for _, k := range keySet {
					for _, ts := range readTS {
						if isRecord(k) && opts.RecordThreshold > 0 {
							continue // checked below
						}
						want, err1 := MVCCGet(before, []byte(k), ts)
						got, err2 := MVCCGet(eng.Reader(), []byte(k), ts)
						if err1 != nil || err2 != nil {
							t.Fatalf("%s: %v %v", desc, err1, err2)
						}
						if got.Found != want.Found || !bytes.Equal(got.Value, want.Value) || (got.Found && got.Timestamp != want.Timestamp) ||
							!locksEqualGC(got.Lock, want.Lock) {
							t.Fatalf("%s\nafter call %d: get %q@%d = %+v, before GC %+v\nnow: %q", desc, calls, k, ts, got, want, gcEntries(t, eng.Reader()))
						}
					}
				}
				if opts.RecordThreshold == 0 {
					for _, ts := range readTS {
						want, _, err1 := MVCCScan(before, nil, []byte{0xff, 0xff}, ts, ScanOptions{})
						got, _, err2 := MVCCScan(eng.Reader(), nil, []byte{0xff, 0xff}, ts, ScanOptions{})
						if (err1 == nil) != (err2 == nil) || kvsString(got) != kvsString(want) {
							t.Fatalf("%s\nafter call %d: scan @%d = %s (%v), before %s (%v)", desc, calls, ts, kvsString(got), err2, kvsString(want), err1)
						}
					}
				}
			}
			res, _ := runGC(t, eng, nil, []byte{0xff, 0xff}, opts, checkReads)

			// What is left: no garbage.
			lockTh := opts.LockThreshold
			if lockTh == 0 {
				lockTh = opts.Threshold
			}
			var wantLocks []string
			for _, e := range gcEntries(t, before) {
				if k, rest, ok := strings.Cut(e, "=<lock:"); ok {
					var start uint64
					fmt.Sscanf(rest, "%d>", &start)
					if start < lockTh {
						wantLocks = append(wantLocks, fmt.Sprintf("%s@%d", k, start))
					}
				}
			}
			var gotLocks []string
			for _, kl := range res.Locks {
				gotLocks = append(gotLocks, fmt.Sprintf("%s@%d", kl.Key, kl.Lock.StartTS))
			}
			if !slices.Equal(gotLocks, wantLocks) {
				t.Fatalf("%s\nlocks reported %q, want %q", desc, gotLocks, wantLocks)
			}
			after := gcEntries(t, eng.Reader())
			belowByKey := map[string]int{}
			for _, e := range after {
				lhs, v, _ := strings.Cut(e, "=")
				k, tsStr, isVersion := strings.Cut(lhs, "@")
				if !isVersion {
					continue
				}
				var ts uint64
				fmt.Sscanf(tsStr, "%d", &ts)
				if v == "<rb>" {
					if ts <= opts.Threshold {
						t.Fatalf("%s\nmarker %q at or below the threshold left", desc, e)
					}
					continue
				}
				if isRecord(k) && opts.RecordThreshold > 0 && ts <= opts.RecordThreshold {
					t.Fatalf("%s\nrecord version %q at or below the record threshold left", desc, e)
				}
				if ts <= opts.Threshold {
					belowByKey[k]++
					if belowByKey[k] > 1 || v == "<del>" || strings.HasPrefix(v, "<txndel:") {
						t.Fatalf("%s\nleft %q: only the newest live version at or below the threshold may stay\nnow: %q", desc, e, after)
					}
				}
			}
			// Records: gone when their newest committed version is old,
			// else read as before at the newest timestamp.
			if opts.RecordThreshold > 0 {
				for _, k := range keySet {
					if !isRecord(k) {
						continue
					}
					want, _ := MVCCGet(before, []byte(k), MaxTimestamp)
					got, _ := MVCCGet(eng.Reader(), []byte(k), MaxTimestamp)
					newest := uint64(0)
					for _, e := range gcEntries(t, before) {
						if strings.HasPrefix(e, k+"@") && !strings.HasSuffix(e, "=<rb>") {
							var ts uint64
							fmt.Sscanf(strings.TrimPrefix(e, k+"@"), "%d", &ts)
							newest = max(newest, ts)
						}
					}
					switch {
					case newest <= opts.RecordThreshold && got.Found:
						t.Fatalf("%s\nrecord %q still found: %+v", desc, k, got)
					case newest > opts.RecordThreshold && (got.Found != want.Found || !bytes.Equal(got.Value, want.Value)):
						t.Fatalf("%s\nrecord %q = %+v, before %+v", desc, k, got, want)
					}
				}
			}
			// Collecting again deletes nothing; a span without pending keys
			// has nothing left for any later collection either.
			again, _ := runGC(t, eng, nil, []byte{0xff, 0xff}, opts, nil)
			if again.Deleted != 0 || again.PendingKeys != res.PendingKeys {
				t.Fatalf("%s\nsecond collection: %+v after %+v", desc, again, res)
			}
			if res.PendingKeys == 0 {
				later := GCOptions{Threshold: MaxTimestamp - 1, LockThreshold: MaxTimestamp, RecordStart: recStart, RecordEnd: recEnd}
				if opts.RecordThreshold > 0 {
					later.RecordThreshold = MaxTimestamp - 1
				}
				final, _ := runGC(t, eng, nil, []byte{0xff, 0xff}, later, nil)
				if final.Deleted != 0 || len(final.Locks) != len(res.Locks) {
					t.Fatalf("%s\nno pending keys, yet a later collection found %+v in %q", desc, final, after)
				}
			}
		}()
	}
}

func locksEqualGC(a, b *Lock) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.StartTS == b.StartTS && bytes.Equal(a.Primary, b.Primary) && a.Op == b.Op && bytes.Equal(a.Value, b.Value)
}
