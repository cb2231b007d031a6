package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

// Helpers writing transaction records through a Writer.

func mustLock(t testing.TB, w Writer, key string, l *Lock) {
	t.Helper()
	if err := PutLock(w, []byte(key), l); err != nil {
		t.Fatalf("PutLock(%q): %v", key, err)
	}
}

func mustCommitTxn(t testing.TB, w Writer, key string, commitTS, startTS uint64, value string) {
	t.Helper()
	if err := MVCCPutCommitted(w, []byte(key), commitTS, startTS, LockPut, []byte(value)); err != nil {
		t.Fatalf("MVCCPutCommitted(%q@%d, start %d): %v", key, commitTS, startTS, err)
	}
}

func mustCommitTxnDelete(t testing.TB, w Writer, key string, commitTS, startTS uint64) {
	t.Helper()
	if err := MVCCPutCommitted(w, []byte(key), commitTS, startTS, LockDelete, nil); err != nil {
		t.Fatalf("MVCCPutCommitted(delete %q@%d, start %d): %v", key, commitTS, startTS, err)
	}
}

// mustRollback writes a rollback marker through the engine's committed state
// (PutRollback reads before it writes).
func mustRollback(t testing.TB, eng *Engine, key string, startTS uint64) {
	t.Helper()
	commit(t, eng, func(b *Batch) error { return PutRollback(eng.Reader(), b, []byte(key), startTS) })
}

func putLock(primary string, startTS uint64) *Lock {
	return &Lock{Primary: []byte(primary), StartTS: startTS, TTLMillis: 1000, Op: LockPut, Value: []byte("locked")}
}

func locksEqual(a, b *Lock) bool {
	if a == nil || b == nil {
		return a == b
	}
	return bytes.Equal(a.Primary, b.Primary) && a.StartTS == b.StartTS && a.TTLMillis == b.TTLMillis &&
		a.Op == b.Op && bytes.Equal(a.Value, b.Value)
}

func lockString(l *Lock) string {
	if l == nil {
		return "<nil>"
	}
	return fmt.Sprintf("{primary %q start %d ttl %d op %d value %q}", l.Primary, l.StartTS, l.TTLMillis, l.Op, l.Value)
}

func TestLockEncodeDecodeRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		lock Lock
	}{
		{"put", Lock{Primary: []byte("p"), StartTS: 10, TTLMillis: 3000, Op: LockPut, Value: []byte("value")}},
		{"delete without value", Lock{Primary: []byte("primary"), StartTS: 1, TTLMillis: 1, Op: LockDelete}},
		{"empty primary and value", Lock{StartTS: 5, Op: LockPut}},
		{"zero ttl", Lock{Primary: []byte("p"), StartTS: 7, Op: LockPut, Value: []byte("v")}},
		{"max timestamps", Lock{Primary: []byte("p"), StartTS: math.MaxUint64, TTLMillis: math.MaxUint64, Op: LockPut, Value: []byte("v")}},
		{"binary bytes", Lock{Primary: []byte{0, 0xff, 1, 0}, StartTS: 1 << 40, TTLMillis: 1 << 20, Op: LockPut, Value: []byte{0xff, 0, 0, 0xff}}},
		{"primary looks like a varint", Lock{Primary: []byte{0x80, 0x80, 0x80}, StartTS: 300, TTLMillis: 128, Op: LockPut, Value: []byte{0x80}}},
		{"large value", Lock{Primary: []byte("p"), StartTS: 9, Op: LockPut, Value: bytes.Repeat([]byte("x"), 1<<16)}},
		{"large primary", Lock{Primary: bytes.Repeat([]byte("k"), 300), StartTS: 9, Op: LockDelete}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc := EncodeLock(&tc.lock)
			got, err := DecodeLock(enc)
			if err != nil {
				t.Fatalf("DecodeLock: %v", err)
			}
			if !locksEqual(got, &tc.lock) {
				t.Fatalf("round trip = %s, want %s", lockString(got), lockString(&tc.lock))
			}
			// The decoded lock does not alias the encoding.
			for i := range enc {
				enc[i] ^= 0xff
			}
			if !locksEqual(got, &tc.lock) {
				t.Fatalf("decoded lock changed with its encoding: %s", lockString(got))
			}
		})
	}
}

func TestDecodeLockCorrupt(t *testing.T) {
	valid := EncodeLock(&Lock{Primary: []byte("prim"), StartTS: 1 << 30, TTLMillis: 1 << 15, Op: LockPut, Value: []byte("v")})
	overlong := bytes.Repeat([]byte{0xff}, 11) // a varint overflowing 64 bits
	tests := []struct {
		name string
		in   []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"format only", []byte{lockFormat}},
		{"unknown format", append([]byte{lockFormat + 1}, valid[1:]...)},
		{"zero format", append([]byte{0}, valid[1:]...)},
		{"op zero", append([]byte{lockFormat, 0}, valid[2:]...)},
		{"unknown op", append([]byte{lockFormat, byte(LockKeyOnly) + 1}, valid[2:]...)},
		{"op 0xff", append([]byte{lockFormat, 0xff}, valid[2:]...)},
		{"no fields", []byte{lockFormat, byte(LockPut)}},
		{"start ts only", []byte{lockFormat, byte(LockPut), 5}},
		{"no primary length", []byte{lockFormat, byte(LockPut), 5, 6}},
		{"truncated varint", []byte{lockFormat, byte(LockPut), 0x80}},
		{"overlong start ts", append([]byte{lockFormat, byte(LockPut)}, overlong...)},
		{"overlong ttl", append([]byte{lockFormat, byte(LockPut), 1}, overlong...)},
		{"overlong primary length", append([]byte{lockFormat, byte(LockPut), 1, 1}, overlong...)},
		{"primary longer than record", []byte{lockFormat, byte(LockPut), 1, 1, 5, 'a', 'b'}},
		{"huge primary length", append([]byte{lockFormat, byte(LockPut), 1, 1}, binary.AppendUvarint(nil, math.MaxUint64)...)},
		{"primary length past int range", append([]byte{lockFormat, byte(LockPut), 1, 1}, binary.AppendUvarint(nil, 1<<63)...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := DecodeLock(tc.in)
			if err == nil {
				t.Fatalf("DecodeLock(%x) = %s, want an error", tc.in, lockString(l))
			}
			if l != nil {
				t.Fatalf("DecodeLock(%x) returned a lock with its error", tc.in)
			}
		})
	}
	// Every truncation that cuts into the header or the primary fails; one
	// that cuts into the value only shortens it.
	header := len(valid) - len("prim") - len("v")
	for n := 0; n < len(valid); n++ {
		l, err := DecodeLock(valid[:n])
		if n < header+len("prim") {
			if err == nil {
				t.Errorf("truncation to %d bytes decoded as %s", n, lockString(l))
			}
			continue
		}
		if err != nil || string(l.Primary) != "prim" || len(l.Value) != n-header-len("prim") {
			t.Errorf("truncation to %d bytes (inside the value): %s, %v", n, lockString(l), err)
		}
	}
}

// TestDecodeLockGarbage: random input never panics.
func TestDecodeLockGarbage(t *testing.T) {
	rng := testRand(t)
	for i := 0; i < 20000; i++ {
		b := make([]byte, rng.IntN(24))
		for j := range b {
			b[j] = byte(rng.UintN(256))
		}
		if rng.IntN(2) == 0 && len(b) >= 2 {
			b[0], b[1] = lockFormat, byte(1+rng.IntN(2))
		}
		l, err := DecodeLock(b)
		if err == nil && (l == nil || (l.Op != LockPut && l.Op != LockDelete)) {
			t.Fatalf("DecodeLock(%x) = %s without an error", b, lockString(l))
		}
	}
}

func FuzzDecodeLock(f *testing.F) {
	f.Add(EncodeLock(&Lock{Primary: []byte("p"), StartTS: 10, TTLMillis: 100, Op: LockPut, Value: []byte("v")}))
	f.Add(EncodeLock(&Lock{StartTS: 1, Op: LockDelete}))
	f.Add([]byte{lockFormat, byte(LockPut), 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := DecodeLock(b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to the same bytes.
		if again := EncodeLock(l); !bytes.Equal(again, b) && len(b) > 0 {
			// Varints have non-canonical encodings (trailing 0x80 groups);
			// the re-encoding must still decode to the same lock.
			l2, err := DecodeLock(again)
			if err != nil || !locksEqual(l, l2) {
				t.Fatalf("re-encoding %x of %x decodes to %s, %v", again, b, lockString(l2), err)
			}
		}
	})
}

func TestGetPutClearLock(t *testing.T) {
	eng := openMem(t)
	if l, err := GetLock(eng.Reader(), []byte("a")); err != nil || l != nil {
		t.Fatalf("GetLock of an unlocked key = %s, %v", lockString(l), err)
	}
	want := &Lock{Primary: []byte("p"), StartTS: 10, TTLMillis: 50, Op: LockDelete}
	commit(t, eng, func(b *Batch) error {
		mustPut(t, b, "a", 5, "a5")
		mustPut(t, b, "a\x00", 5, "next") // a key extending "a" is another key
		return PutLock(b, []byte("a"), want)
	})
	if l, err := GetLock(eng.Reader(), []byte("a")); err != nil || !locksEqual(l, want) {
		t.Fatalf("GetLock = %s, %v; want %s", lockString(l), err, lockString(want))
	}
	for _, k := range []string{"", "a\x00", "b"} {
		if l, err := GetLock(eng.Reader(), []byte(k)); err != nil || l != nil {
			t.Fatalf("GetLock(%q) = %s, %v; want no lock", k, lockString(l), err)
		}
	}
	// A batch sees its own lock writes (indexed batches are evaluation readers).
	b := eng.NewIndexedBatch()
	defer b.Close()
	if err := ClearLock(b, []byte("a")); err != nil {
		t.Fatal(err)
	}
	if l, err := GetLock(b, []byte("a")); err != nil || l != nil {
		t.Fatalf("GetLock through the batch after ClearLock = %s, %v", lockString(l), err)
	}
	if err := b.Commit(NoSync); err != nil {
		t.Fatal(err)
	}
	if l, err := GetLock(eng.Reader(), []byte("a")); err != nil || l != nil {
		t.Fatalf("GetLock after ClearLock = %s, %v", lockString(l), err)
	}
	// The versions are untouched.
	if res, err := MVCCGet(eng.Reader(), []byte("a"), MaxTimestamp); err != nil || string(res.Value) != "a5" {
		t.Fatalf("MVCCGet after ClearLock = %+v, %v", res, err)
	}
	// A corrupt lock record is an error, not a panic.
	commit(t, eng, func(b *Batch) error { return b.Set(EncodeLockKey([]byte("bad")), []byte{9, 9}, nil) })
	if _, err := GetLock(eng.Reader(), []byte("bad")); err == nil {
		t.Fatal("GetLock of a corrupt lock succeeded")
	}
	if _, err := MVCCGet(eng.Reader(), []byte("bad"), MaxTimestamp); err == nil {
		t.Fatal("MVCCGet of a key with a corrupt lock succeeded")
	}
}

func TestLockKeySortsBeforeVersions(t *testing.T) {
	for _, k := range []string{"", "a", "a\x00", "\xff\xff"} {
		lk := EncodeLockKey([]byte(k))
		for _, ts := range []uint64{0, 1, 1 << 40, MaxTimestamp} {
			if vk := EncodeMVCCKey([]byte(k), ts); bytes.Compare(lk, vk) >= 0 {
				t.Fatalf("lock key of %q does not sort before its version at %d", k, ts)
			}
		}
		key, ts, isLock, err := DecodeDataKey(lk)
		if err != nil || !isLock || ts != 0 || string(key) != k {
			t.Fatalf("DecodeDataKey(lock key of %q) = %q, %d, %v, %v", k, key, ts, isLock, err)
		}
	}
}

func TestMVCCPutCommittedRejectsBadTimestamps(t *testing.T) {
	eng := openMem(t)
	b := eng.NewBatch()
	defer b.Close()
	for _, tc := range []struct{ commitTS, startTS uint64 }{{10, 10}, {9, 10}, {10, 0}, {0, 0}} {
		if err := MVCCPutCommitted(b, []byte("a"), tc.commitTS, tc.startTS, LockPut, []byte("v")); err == nil {
			t.Errorf("MVCCPutCommitted(commit %d, start %d) succeeded", tc.commitTS, tc.startTS)
		}
	}
	if !b.Empty() {
		t.Fatal("a rejected MVCCPutCommitted wrote to the batch")
	}
}

// TestMVCCGetWithLocksAndTxnVersions: the lock is reported whatever the read
// timestamp, and the committed versions below it stay readable; transaction
// versions behave like plain ones; rollback markers are invisible.
func TestMVCCGetWithLocksAndTxnVersions(t *testing.T) {
	eng := openMem(t)
	lock := putLock("p", 50)
	commit(t, eng, func(b *Batch) error {
		mustPut(t, b, "a", 10, "plain10")
		mustCommitTxn(t, b, "a", 20, 15, "txn20")
		mustCommitTxnDelete(t, b, "a", 30, 25)
		mustCommitTxn(t, b, "a", 45, 42, "") // an empty value is live
		mustLock(t, b, "a", lock)

		mustLock(t, b, "lockonly", putLock("p", 5))

		mustPut(t, b, "r", 10, "r10")
		return nil
	})
	mustRollback(t, eng, "a", 40)
	mustRollback(t, eng, "r", 20)
	mustRollback(t, eng, "r", 25)
	mustRollback(t, eng, "markeronly", 7)

	tests := []struct {
		key        string
		ts         uint64
		found      bool
		value      string
		vts        uint64
		latest     uint64
		wantLockTS uint64 // 0: no lock
	}{
		{"a", 9, false, "", 0, 45, 50},
		{"a", 10, true, "plain10", 10, 45, 50},
		{"a", 19, true, "plain10", 10, 45, 50},
		{"a", 20, true, "txn20", 20, 45, 50},
		{"a", 29, true, "txn20", 20, 45, 50},
		{"a", 30, false, "", 30, 45, 50}, // the transaction's delete
		{"a", 39, false, "", 30, 45, 50},
		{"a", 40, false, "", 30, 45, 50}, // the marker at 40 is skipped
		{"a", 44, false, "", 30, 45, 50},
		{"a", 45, true, "", 45, 45, 50},
		{"a", 50, true, "", 45, 45, 50},
		{"a", MaxTimestamp, true, "", 45, 45, 50},
		{"lockonly", 1, false, "", 0, 0, 5},
		{"lockonly", MaxTimestamp, false, "", 0, 0, 5},
		{"r", 15, true, "r10", 10, 25, 0},
		{"r", 20, true, "r10", 10, 25, 0}, // value below a marker
		{"r", 25, true, "r10", 10, 25, 0}, // below two markers
		{"r", MaxTimestamp, true, "r10", 10, 25, 0},
		{"markeronly", 7, false, "", 0, 7, 0},
		{"markeronly", MaxTimestamp, false, "", 0, 7, 0},
		{"missing", MaxTimestamp, false, "", 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s@%d", tc.key, tc.ts), func(t *testing.T) {
			res, err := MVCCGet(eng.Reader(), []byte(tc.key), tc.ts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Found != tc.found || string(res.Value) != tc.value || res.Timestamp != tc.vts || res.LatestTimestamp != tc.latest {
				t.Fatalf("MVCCGet = found %v %q@%d latest %d; want found %v %q@%d latest %d",
					res.Found, res.Value, res.Timestamp, res.LatestTimestamp, tc.found, tc.value, tc.vts, tc.latest)
			}
			switch {
			case tc.wantLockTS == 0 && res.Lock != nil:
				t.Fatalf("lock = %s, want none", lockString(res.Lock))
			case tc.wantLockTS != 0 && (res.Lock == nil || res.Lock.StartTS != tc.wantLockTS):
				t.Fatalf("lock = %s, want one at start ts %d", lockString(res.Lock), tc.wantLockTS)
			}
		})
	}
	res, err := MVCCGet(eng.Reader(), []byte("a"), 1)
	if err != nil || !locksEqual(res.Lock, lock) {
		t.Fatalf("lock = %s, %v; want %s", lockString(res.Lock), err, lockString(lock))
	}
}

func TestRollbackMarkersInvisibleToScan(t *testing.T) {
	eng := openMem(t)
	commit(t, eng, func(b *Batch) error {
		mustPut(t, b, "a", 10, "a10")
		mustPut(t, b, "b", 10, "b10")
		mustCommitTxn(t, b, "c", 12, 11, "c12")
		mustPut(t, b, "e", 30, "e30")
		return nil
	})
	mustRollback(t, eng, "a", 20) // marker above a value
	mustRollback(t, eng, "b", 20) // several markers above a value
	mustRollback(t, eng, "b", 22)
	mustRollback(t, eng, "b", 40)
	mustRollback(t, eng, "c", 15)
	mustRollback(t, eng, "d", 20) // a key with nothing but a marker
	mustRollback(t, eng, "e", 20) // a marker below a value

	tests := []struct {
		ts   uint64
		want []kvt
	}{
		{5, nil},
		{10, []kvt{{"a", "a10", 10}, {"b", "b10", 10}}},
		{20, []kvt{{"a", "a10", 10}, {"b", "b10", 10}, {"c", "c12", 12}}},
		{21, []kvt{{"a", "a10", 10}, {"b", "b10", 10}, {"c", "c12", 12}}},
		{22, []kvt{{"a", "a10", 10}, {"b", "b10", 10}, {"c", "c12", 12}}},
		{30, []kvt{{"a", "a10", 10}, {"b", "b10", 10}, {"c", "c12", 12}, {"e", "e30", 30}}},
		{MaxTimestamp, []kvt{{"a", "a10", 10}, {"b", "b10", 10}, {"c", "c12", 12}, {"e", "e30", 30}}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.ts), func(t *testing.T) {
			kvs, resume, err := MVCCScan(eng.Reader(), nil, []byte("z"), tc.ts, ScanOptions{})
			if err != nil || resume != nil {
				t.Fatalf("scan: resume %q, %v", resume, err)
			}
			checkKVs(t, kvs, tc.want)
			for _, lim := range []int64{1, 2, 3} {
				checkPagination(t, eng.Reader(), nil, []byte("z"), tc.ts, ScanOptions{MaxKeys: lim})
			}
			// MVCCGet agrees with the scan on every key.
			for _, k := range []string{"a", "b", "c", "d", "e"} {
				res, err := MVCCGet(eng.Reader(), []byte(k), tc.ts)
				if err != nil {
					t.Fatal(err)
				}
				want := kvt{}
				for _, w := range tc.want {
					if w.key == k {
						want = w
					}
				}
				if res.Found != (want.key != "") || string(res.Value) != want.value || (res.Found && res.Timestamp != want.ts) {
					t.Fatalf("MVCCGet(%q@%d) = %+v; scan says %+v", k, tc.ts, res, want)
				}
			}
		})
	}
}

// lockFixture: committed versions and locks at various start timestamps.
//
//	a  a2                  (no lock)
//	b  b2                  lock start 20
//	c  c2                  lock start 30
//	d  (no version)        lock start 5
//	e  e2                  (no lock)
//	f  f2, f40             lock start 45
func lockFixture(t *testing.T) *Engine {
	eng := openMem(t)
	commit(t, eng, func(b *Batch) error {
		mustPut(t, b, "a", 2, "a2")
		mustPut(t, b, "b", 2, "b2")
		mustLock(t, b, "b", putLock("b", 20))
		mustPut(t, b, "c", 2, "c2")
		mustLock(t, b, "c", putLock("b", 30))
		mustLock(t, b, "d", putLock("d", 5))
		mustPut(t, b, "e", 2, "e2")
		mustPut(t, b, "f", 2, "f2")
		mustPut(t, b, "f", 40, "f40")
		mustLock(t, b, "f", putLock("f", 45))
		return nil
	})
	return eng
}

func lockedKeys(t *testing.T, err error) string {
	t.Helper()
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("error %v is not a *LockedError", err)
	}
	var ks []string
	for _, kl := range le.Locks {
		ks = append(ks, fmt.Sprintf("%s@%d", kl.Key, kl.Lock.StartTS))
	}
	return strings.Join(ks, " ")
}

func TestMVCCScanLocks(t *testing.T) {
	eng := lockFixture(t)
	tests := []struct {
		name       string
		start, end string
		ts         uint64
		want       []kvt
		wantLocked string // the locks reported, "" for a successful scan
	}{
		{"below every lock", "", "z", 4, []kvt{{"a", "a2", 2}, {"b", "b2", 2}, {"c", "c2", 2}, {"e", "e2", 2}, {"f", "f2", 2}}, ""},
		{"lock at ts conflicts", "", "z", 5, nil, "d@5"},
		{"older lock only", "", "z", 19, nil, "d@5"},
		{"two locks", "", "z", 20, nil, "b@20 d@5"},
		{"three locks", "", "z", 44, nil, "b@20 c@30 d@5"},
		{"every lock", "", "z", MaxTimestamp, nil, "b@20 c@30 d@5 f@45"},
		{"span before the locks", "a", "b", MaxTimestamp, []kvt{{"a", "a2", 2}}, ""},
		{"span end excludes a locked key", "", "d", 19, []kvt{{"a", "a2", 2}, {"b", "b2", 2}, {"c", "c2", 2}}, ""},
		{"span start at a locked key", "d", "z", 5, nil, "d@5"},
		{"span after the locks", "e", "f", MaxTimestamp, []kvt{{"e", "e2", 2}}, ""},
		{"newer lock on a key with a newer version", "e", "z", 44, []kvt{{"e", "e2", 2}, {"f", "f40", 40}}, ""},
		{"newer locks on keys with versions", "a", "d", 15, []kvt{{"a", "a2", 2}, {"b", "b2", 2}, {"c", "c2", 2}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kvs, resume, err := MVCCScan(eng.Reader(), []byte(tc.start), []byte(tc.end), tc.ts, ScanOptions{})
			if tc.wantLocked != "" {
				if got := lockedKeys(t, err); got != tc.wantLocked {
					t.Fatalf("locks reported %q, want %q", got, tc.wantLocked)
				}
				if kvs != nil || resume != nil {
					t.Fatalf("a locked scan returned %s resume %q", kvsString(kvs), resume)
				}
				return
			}
			if err != nil || resume != nil {
				t.Fatalf("scan: resume %q, %v", resume, err)
			}
			checkKVs(t, kvs, tc.want)
		})
	}
	// The LockedError carries the whole lock.
	_, _, err := MVCCScan(eng.Reader(), []byte("b"), []byte("c"), 20, ScanOptions{})
	var le *LockedError
	if !errors.As(err, &le) || len(le.Locks) != 1 || !locksEqual(le.Locks[0].Lock, putLock("b", 20)) {
		t.Fatalf("scan of b@20: %v", err)
	}
	if msg := le.Error(); !strings.Contains(msg, `"b"`) || !strings.Contains(msg, "20") {
		t.Fatalf("LockedError message %q does not name the key and start ts", msg)
	}
}

// TestMVCCScanLocksWithLimits: a limited scan fails only for the locks of
// the keys it reaches; locks beyond its last key do not fail it, and locks
// it ignores (newer than the read) do not count as keys.
func TestMVCCScanLocksWithLimits(t *testing.T) {
	eng := lockFixture(t)
	tests := []struct {
		name       string
		start      string
		ts         uint64
		opts       ScanOptions
		want       []kvt
		wantResume string // next visible key, "" when exhausted
		wantLocked string
	}{
		{"ignored locks do not count", "", 4, ScanOptions{MaxKeys: 2}, []kvt{{"a", "a2", 2}, {"b", "b2", 2}}, "c", ""},
		{"ignored lock-only key", "", 4, ScanOptions{MaxKeys: 3}, []kvt{{"a", "a2", 2}, {"b", "b2", 2}, {"c", "c2", 2}}, "e", ""},
		{"conflicting lock after the page", "", 15, ScanOptions{MaxKeys: 2}, []kvt{{"a", "a2", 2}, {"b", "b2", 2}}, "c", ""},
		{"conflicting lock-only key right after the page", "", 19, ScanOptions{MaxKeys: 3}, []kvt{{"a", "a2", 2}, {"b", "b2", 2}, {"c", "c2", 2}}, "e", ""},
		{"limit stops at a locked key", "", 20, ScanOptions{MaxKeys: 1}, []kvt{{"a", "a2", 2}}, "b", ""},
		{"bytes limit stops at a locked key", "", 20, ScanOptions{MaxBytes: 1}, []kvt{{"a", "a2", 2}}, "b", ""},
		{"lock inside the page", "", 20, ScanOptions{MaxKeys: 2}, nil, "", "b@20"},
		{"locks inside the page only", "", 44, ScanOptions{MaxKeys: 3}, nil, "", "b@20 c@30"},
		{"lock of the page's only key", "b", 20, ScanOptions{MaxKeys: 1}, nil, "", "b@20"},
		{"lock-only key inside the page", "c", 19, ScanOptions{MaxKeys: 2}, nil, "", "d@5"},
		{"paging from a key", "a", 4, ScanOptions{MaxKeys: 1}, []kvt{{"a", "a2", 2}}, "b", ""},
		{"paging over an ignored lock-only key", "c", 4, ScanOptions{MaxKeys: 1}, []kvt{{"c", "c2", 2}}, "e", ""},
		{"newer lock after the page", "e", 44, ScanOptions{MaxKeys: 1}, []kvt{{"e", "e2", 2}}, "f", ""},
		{"conflicting lock on the key after the page", "e", 45, ScanOptions{MaxKeys: 1}, []kvt{{"e", "e2", 2}}, "f", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kvs, resume, err := MVCCScan(eng.Reader(), []byte(tc.start), []byte("z"), tc.ts, tc.opts)
			if tc.wantLocked != "" {
				if got := lockedKeys(t, err); got != tc.wantLocked {
					t.Fatalf("locks reported %q, want %q", got, tc.wantLocked)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkKVs(t, kvs, tc.want)
			checkResume(t, kvs, resume, tc.wantResume)
		})
	}
	// Below every lock, paging over the locked keys loses nothing.
	for _, lim := range []int64{1, 2, 3, 4} {
		checkPagination(t, eng.Reader(), nil, []byte("z"), 4, ScanOptions{MaxKeys: lim})
	}
}

// TestMVCCScanManyLocks: the error lists a bounded number of locks.
func TestMVCCScanManyLocks(t *testing.T) {
	eng := openMem(t)
	commit(t, eng, func(b *Batch) error {
		for i := 0; i < 2*maxLocksReported+5; i++ {
			mustLock(t, b, fmt.Sprintf("k%04d", i), putLock("k0000", 10))
		}
		return nil
	})
	_, _, err := MVCCScan(eng.Reader(), []byte("k"), []byte("l"), 10, ScanOptions{})
	var le *LockedError
	if !errors.As(err, &le) || len(le.Locks) == 0 || len(le.Locks) > maxLocksReported {
		t.Fatalf("scan over many locks: %v", err)
	}
	if string(le.Locks[0].Key) != "k0000" {
		t.Fatalf("first lock reported %q, want k0000", le.Locks[0].Key)
	}
}

func TestFindTxnWrite(t *testing.T) {
	eng := openMem(t)
	// Versions of "a", newest first:
	//	60  delete by txn 50
	//	45  plain put
	//	40  marker of txn 40 (a version at the same ts as nothing else)
	//	30  put by txn 10
	//	25  put by txn 20
	//	15  marker of txn 15
	//	 5  plain put
	// and a lock of txn 70; "b" holds a commit of txn 10 at 31.
	commit(t, eng, func(b *Batch) error {
		mustPut(t, b, "a", 5, "a5")
		mustCommitTxn(t, b, "a", 25, 20, "t20")
		mustCommitTxn(t, b, "a", 30, 10, "t10")
		mustPut(t, b, "a", 45, "a45")
		mustCommitTxnDelete(t, b, "a", 60, 50)
		mustLock(t, b, "a", putLock("a", 70))
		mustCommitTxn(t, b, "b", 31, 10, "b")
		mustCommitTxn(t, b, "a\x00", 33, 10, "ext") // a key extending "a"
		return nil
	})
	mustRollback(t, eng, "a", 15)
	mustRollback(t, eng, "a", 40)
	mustRollback(t, eng, "b", 1)

	tests := []struct {
		key       string
		startTS   uint64
		want      TxnKeyState
		wantCommt uint64
	}{
		{"a", 10, TxnKeyCommitted, 30},
		{"a", 20, TxnKeyCommitted, 25},
		{"a", 50, TxnKeyCommitted, 60}, // a delete is a commit too
		{"a", 15, TxnKeyRolledBack, 0},
		{"a", 40, TxnKeyRolledBack, 0},
		{"a", 14, TxnKeyNone, 0}, // the marker at 15 is not its own
		{"a", 16, TxnKeyNone, 0},
		{"a", 12, TxnKeyNone, 0},
		{"a", 5, TxnKeyNone, 0},  // the plain version at 5 records no transaction
		{"a", 45, TxnKeyNone, 0}, // nor the one at 45
		{"a", 70, TxnKeyNone, 0}, // the lock is no outcome
		{"a", 1, TxnKeyNone, 0},
		{"a", 100, TxnKeyNone, 0},
		{"b", 10, TxnKeyCommitted, 31},
		{"b", 1, TxnKeyRolledBack, 0},
		{"b", 20, TxnKeyNone, 0},
		{"a\x00", 10, TxnKeyCommitted, 33},
		{"missing", 10, TxnKeyNone, 0},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q@%d", tc.key, tc.startTS), func(t *testing.T) {
			state, commitTS, err := FindTxnWrite(eng.Reader(), []byte(tc.key), tc.startTS)
			if err != nil {
				t.Fatal(err)
			}
			if state != tc.want || commitTS != tc.wantCommt {
				t.Fatalf("FindTxnWrite = %d, %d; want %d, %d", state, commitTS, tc.want, tc.wantCommt)
			}
		})
	}
}

func TestPutRollback(t *testing.T) {
	eng := openMem(t)
	commit(t, eng, func(b *Batch) error {
		mustPut(t, b, "plain", 20, "p20")
		mustCommitTxn(t, b, "txn", 20, 10, "t20")
		mustDelete(t, b, "tomb", 20)
		mustPut(t, b, "below", 10, "b10")
		return nil
	})
	for _, k := range []string{"plain", "txn", "tomb", "below", "none"} {
		mustRollback(t, eng, k, 20)
	}
	tests := []struct {
		key       string
		found     bool
		value     string
		state     TxnKeyState // of the transaction that started at 20
		wantLatst uint64
	}{
		{"plain", true, "p20", TxnKeyNone, 20}, // the version is left alone
		{"txn", true, "t20", TxnKeyNone, 20},
		{"tomb", false, "", TxnKeyNone, 20},
		{"below", true, "b10", TxnKeyRolledBack, 20},
		{"none", false, "", TxnKeyRolledBack, 20},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			res, err := MVCCGet(eng.Reader(), []byte(tc.key), MaxTimestamp)
			if err != nil {
				t.Fatal(err)
			}
			if res.Found != tc.found || string(res.Value) != tc.value || res.LatestTimestamp != tc.wantLatst {
				t.Fatalf("MVCCGet = %+v; want found %v %q latest %d", res, tc.found, tc.value, tc.wantLatst)
			}
			state, _, err := FindTxnWrite(eng.Reader(), []byte(tc.key), 20)
			if err != nil || state != tc.state {
				t.Fatalf("FindTxnWrite = %d, %v; want %d", state, err, tc.state)
			}
		})
	}
	// The transaction that committed at 20 is still found committed.
	if state, ts, err := FindTxnWrite(eng.Reader(), []byte("txn"), 10); err != nil || state != TxnKeyCommitted || ts != 20 {
		t.Fatalf("FindTxnWrite(txn, 10) = %d, %d, %v", state, ts, err)
	}
	// PutRollback is idempotent, and reads through an indexed batch.
	b := eng.NewIndexedBatch()
	defer b.Close()
	mustPut(t, b, "inbatch", 30, "x")
	if err := PutRollback(b, b, []byte("inbatch"), 30); err != nil {
		t.Fatal(err)
	}
	if err := PutRollback(b, b, []byte("below"), 20); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(NoSync); err != nil {
		t.Fatal(err)
	}
	if res, err := MVCCGet(eng.Reader(), []byte("inbatch"), MaxTimestamp); err != nil || string(res.Value) != "x" {
		t.Fatalf("rollback over a version written in the same batch: %+v, %v", res, err)
	}
	if state, _, err := FindTxnWrite(eng.Reader(), []byte("below"), 20); err != nil || state != TxnKeyRolledBack {
		t.Fatalf("repeated rollback: %d, %v", state, err)
	}
}

func TestMVCCFindConflict(t *testing.T) {
	eng := openMem(t)
	commit(t, eng, func(b *Batch) error {
		mustPut(t, b, "a", 10, "a10")
		mustPut(t, b, "a", 20, "a20")
		mustCommitTxn(t, b, "b", 25, 15, "own") // the reading transaction's own write (start 15)
		mustLock(t, b, "d", putLock("d", 18))
		mustPut(t, b, "e", 5, "e5")
		mustPut(t, b, "e", 50, "e50")
		mustDelete(t, b, "f", 21)
		for ts := uint64(100); ts <= 110; ts++ { // many versions above the window
			mustPut(t, b, "g", ts, "g")
		}
		mustPut(t, b, "g", 12, "g12")
		mustPut(t, b, "h", 100, "h100")
		mustPut(t, b, "h", 5, "h5")
		mustLock(t, b, "i", putLock("i", 40))
		mustCommitTxn(t, b, "j", 26, 16, "other") // another transaction's commit
		return nil
	})
	mustRollback(t, eng, "c", 22)
	mustRollback(t, eng, "c2", 22)

	tests := []struct {
		name             string
		start, end       string // end "": the single key start
		after, upTo, own uint64
		want             string // "" for no conflict
	}{
		{"version below the window", "a", "", 20, 30, 15, ""},
		{"version at afterTS is not after it", "a", "", 20, 25, 15, ""},
		{"version at upToTS", "a", "", 10, 20, 15, "a"},
		{"version inside the window", "a", "", 15, 25, 15, "a"},
		{"version above the window", "a", "", 5, 9, 15, ""},
		{"window between versions", "a", "", 10, 19, 15, ""},
		{"own commit", "b", "", 10, 30, 15, ""},
		{"the same version from another transaction", "b", "", 10, 30, 11, "b"},
		{"another transaction's commit", "j", "", 15, 30, 15, "j"},
		{"rollback marker", "c", "", 10, 30, 15, ""},
		{"foreign lock started below upTo", "d", "", 20, 30, 15, "d"},
		{"foreign lock started below afterTS", "d", "", 19, 30, 15, "d"},
		{"foreign lock started at upTo", "d", "", 10, 18, 15, ""},
		{"foreign lock started after upTo", "i", "", 10, 30, 15, ""},
		{"own lock", "d", "", 10, 30, 18, ""},
		{"versions on both sides of the window", "e", "", 10, 30, 15, ""},
		{"tombstone in the window", "f", "", 20, 21, 15, "f"},
		{"tombstone after the window", "f", "", 10, 20, 15, ""},
		{"seek past many newer versions", "g", "", 10, 30, 15, "g"},
		{"many newer versions and none in the window", "g", "", 12, 30, 15, ""},
		{"newer and older versions only", "h", "", 10, 30, 15, ""},
		{"missing key", "zz", "", 0, MaxTimestamp, 15, ""},
		{"point key does not cover extensions", "c", "", 10, 30, 15, ""},

		{"span: first conflict in key order", "a", "z", 10, 30, 15, "a"},
		{"span: skips own and rolled back", "b", "z", 10, 30, 15, "d"},
		{"span: skips own lock", "c", "z", 10, 30, 18, "f"},
		{"span: end is exclusive", "e", "f", 10, 30, 15, ""},
		{"span: end after the key", "e", "f\x00", 10, 30, 15, "f"},
		{"span: start between keys", "a\x00", "c\x00", 10, 30, 15, ""},
		{"span: nothing in the window", "a", "z", 16, 17, 15, ""},
		{"span: only newer locks", "h", "z", 10, 30, 15, "j"},
		{"span: empty", "c", "c", 0, MaxTimestamp, 15, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var end []byte
			if tc.end != "" {
				end = []byte(tc.end)
			}
			got, err := MVCCFindConflict(eng.Reader(), []byte(tc.start), end, tc.after, tc.upTo, tc.own)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" && got != nil {
				t.Fatalf("conflict on %q, want none", got)
			}
			if tc.want != "" && string(got) != tc.want {
				t.Fatalf("conflict = %q, want %q", got, tc.want)
			}
		})
	}
}
