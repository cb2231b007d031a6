package storage

import (
	"bytes"
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// randKey draws keys rich in the bytes the escaping treats specially.
func randKey(rng *rand.Rand) []byte {
	special := []byte{0x00, 0x01, 0x02, 0xfe, 0xff, 'a', 'b'}
	n := rng.IntN(7)
	k := make([]byte, n)
	for i := range k {
		if rng.IntN(4) == 0 {
			k[i] = byte(rng.Uint32())
		} else {
			k[i] = special[rng.IntN(len(special))]
		}
	}
	return k
}

func randTimestamp(rng *rand.Rand) uint64 {
	switch rng.IntN(8) {
	case 0:
		return 0
	case 1:
		return MaxTimestamp
	case 2:
		return 1 + rng.Uint64N(3)
	case 3:
		return MaxTimestamp - rng.Uint64N(3)
	}
	return rng.Uint64()
}

// TestMVCCKeyRoundTripAndOrder: decoding inverts encoding, and engine order of
// encoded keys is (logical key ascending, timestamp descending).
func TestMVCCKeyRoundTripAndOrder(t *testing.T) {
	rng := testRand(t)
	type version struct {
		key []byte
		ts  uint64
	}
	vs := make([]version, 3000)
	for i := range vs {
		vs[i] = version{randKey(rng), randTimestamp(rng)}
	}
	for _, v := range vs {
		enc := EncodeMVCCKey(v.key, v.ts)
		k, ts, err := DecodeMVCCKey(enc)
		if err != nil || !bytes.Equal(k, v.key) || ts != v.ts {
			t.Fatalf("DecodeMVCCKey(EncodeMVCCKey(%q, %d)) = %q, %d, %v", v.key, v.ts, k, ts, err)
		}
		if !bytes.HasPrefix(enc, MVCCKeyPrefix(v.key)) {
			t.Fatalf("EncodeMVCCKey(%q, %d) = %x does not start with its prefix %x", v.key, v.ts, enc, MVCCKeyPrefix(v.key))
		}
	}
	logical := func(a, b version) int {
		if c := bytes.Compare(a.key, b.key); c != 0 {
			return c
		}
		return -cmp.Compare(a.ts, b.ts) // newest first
	}
	for i := 0; i < 20000; i++ {
		a, b := vs[rng.IntN(len(vs))], vs[rng.IntN(len(vs))]
		if rng.IntN(3) == 0 {
			b.key = a.key // same key, the timestamp decides
		}
		want := logical(a, b)
		if got := bytes.Compare(EncodeMVCCKey(a.key, a.ts), EncodeMVCCKey(b.key, b.ts)); got != want {
			t.Fatalf("compare(enc(%q@%d), enc(%q@%d)) = %d, want %d", a.key, a.ts, b.key, b.ts, got, want)
		}
	}
	// Sorting by encoding gives the logical order.
	enc := make([][]byte, len(vs))
	for i, v := range vs {
		enc[i] = EncodeMVCCKey(v.key, v.ts)
	}
	slices.SortFunc(enc, bytes.Compare)
	slices.SortFunc(vs, logical)
	for i := range vs {
		if !bytes.Equal(enc[i], EncodeMVCCKey(vs[i].key, vs[i].ts)) {
			t.Fatalf("position %d: encoded order and logical order differ", i)
		}
	}
}

// TestMVCCKeyPrefixBounds: every version of key lies in
// [MVCCKeyPrefix(key), prefixEnd(MVCCKeyPrefix(key))), and that upper bound
// is at or below the prefix of every greater logical key, so a seek to it
// lands on the next logical key.
func TestMVCCKeyPrefixBounds(t *testing.T) {
	rng := testRand(t)
	for i := 0; i < 20000; i++ {
		a, b := randKey(rng), randKey(rng)
		if bytes.Compare(a, b) > 0 {
			a, b = b, a
		}
		pa := MVCCKeyPrefix(a)
		end := prefixEnd(pa)
		for _, ts := range []uint64{0, 1, rng.Uint64(), MaxTimestamp} {
			k := EncodeMVCCKey(a, ts)
			if bytes.Compare(k, pa) < 0 || bytes.Compare(k, end) >= 0 {
				t.Fatalf("version %q@%d = %x outside [%x, %x)", a, ts, k, pa, end)
			}
		}
		if bytes.Equal(a, b) {
			continue
		}
		if bytes.Compare(end, MVCCKeyPrefix(b)) > 0 {
			t.Fatalf("prefixEnd(prefix(%q)) = %x is past prefix(%q) = %x", a, end, b, MVCCKeyPrefix(b))
		}
		lo, hi := MVCCSpan(a, b)
		if !bytes.Equal(lo, pa) || !bytes.Equal(hi, MVCCKeyPrefix(b)) {
			t.Fatalf("MVCCSpan(%q, %q) = %x, %x", a, b, lo, hi)
		}
	}
}

func TestDecodeMVCCKeyErrors(t *testing.T) {
	valid := EncodeMVCCKey([]byte("k\x00ey"), 42)
	tests := []struct {
		name string
		in   []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"wrong prefix", append([]byte{rangeLocalPrefix}, valid[1:]...)},
		{"prefix only", []byte{mvccPrefix}},
		{"unterminated key", []byte{mvccPrefix, 'k', 'e', 'y'}},
		{"bad escape", []byte{mvccPrefix, 'k', 0x00, 0x02, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"no timestamp", valid[:len(valid)-8]},
		{"short timestamp", valid[:len(valid)-1]},
		{"long timestamp", append(slices.Clone(valid), 0)},
		{"range-local key", RaftLogKey(1, 2)},
		{"store ident key", StoreIdentKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if k, ts, err := DecodeMVCCKey(tc.in); err == nil {
				t.Fatalf("DecodeMVCCKey(%x) = %q, %d; want an error", tc.in, k, ts)
			}
		})
	}
}

// checkDecode is the property shared by the garbage test and the fuzz target:
// no panic, and anything that decodes is the canonical encoding of what it
// decodes to (no two engine keys decode to the same version).
func checkDecode(t *testing.T, in []byte) {
	t.Helper()
	k, ts, err := DecodeMVCCKey(in)
	if err != nil {
		return
	}
	if re := EncodeMVCCKey(k, ts); !bytes.Equal(re, in) {
		t.Fatalf("DecodeMVCCKey(%x) = %q@%d, which encodes as %x", in, k, ts, re)
	}
}

// TestDecodeMVCCKeyGarbage feeds random bytes and mutated valid keys to
// DecodeMVCCKey.
func TestDecodeMVCCKeyGarbage(t *testing.T) {
	rng := testRand(t)
	for i := 0; i < 50000; i++ {
		var in []byte
		switch rng.IntN(3) {
		case 0: // random bytes, usually with the MVCC prefix
			in = make([]byte, rng.IntN(24))
			for j := range in {
				in[j] = byte(rng.Uint32())
			}
			if len(in) > 0 && rng.IntN(2) == 0 {
				in[0] = mvccPrefix
			}
		case 1: // a valid key, truncated or extended
			in = EncodeMVCCKey(randKey(rng), randTimestamp(rng))
			if rng.IntN(2) == 0 {
				in = in[:rng.IntN(len(in)+1)]
			} else {
				in = append(in, randKey(rng)...)
			}
		case 2: // a valid key with flipped bytes
			in = EncodeMVCCKey(randKey(rng), randTimestamp(rng))
			for n := 1 + rng.IntN(3); n > 0; n-- {
				in[rng.IntN(len(in))] = []byte{0x00, 0x01, 0xff, byte(rng.Uint32())}[rng.IntN(4)]
			}
		}
		checkDecode(t, in)
	}
}

func FuzzDecodeMVCCKey(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{mvccPrefix})
	f.Add(EncodeMVCCKey(nil, 0))
	f.Add(EncodeMVCCKey([]byte("a\x00b\xff"), 7))
	f.Add(EncodeMVCCKey([]byte{0x00, 0x00}, MaxTimestamp))
	f.Add(RaftLogKey(3, 9))
	f.Fuzz(func(t *testing.T, in []byte) { checkDecode(t, in) })
}

// TestEngineKeyLayout checks the documented layout: local keys of a range
// are contiguous and ordered by suffix, log keys by index, and MVCC keys
// sort after all local state.
func TestEngineKeyLayout(t *testing.T) {
	const id = 7
	ordered := [][]byte{
		RangeLocalPrefix(id),
		RangeAppliedStateKey(id),
		RangeDescriptorKey(id),
		RangeGCThresholdKey(id),
		RaftHardStateKey(id),
		RaftLogPrefix(id),
		RaftLogKey(id, 0),
		RaftLogKey(id, 1),
		RaftLogKey(id, 255),
		RaftLogKey(id, 256),
		RaftLogKey(id, 1<<40),
		RaftLogKey(id, ^uint64(0)),
		RaftTruncatedStateKey(id),
		RangeLocalEnd(id),
		RangeLocalPrefix(id + 1),
		StoreIdentKey,
		EncodeMVCCKey(nil, MaxTimestamp),
		EncodeMVCCKey(nil, 0),
		EncodeMVCCKey([]byte{0x00}, 5),
		EncodeMVCCKey([]byte{0xff, 0xff, 0xff}, 5),
	}
	for i := 1; i < len(ordered); i++ {
		if bytes.Compare(ordered[i-1], ordered[i]) > 0 {
			t.Errorf("key %d (%x) sorts after key %d (%x)", i-1, ordered[i-1], i, ordered[i])
		}
	}
	if !bytes.Equal(RangeLocalEnd(id), RangeLocalPrefix(id+1)) {
		t.Errorf("RangeLocalEnd(%d) != RangeLocalPrefix(%d)", id, id+1)
	}
	for _, k := range [][]byte{RangeAppliedStateKey(id), RangeDescriptorKey(id), RangeGCThresholdKey(id), RaftHardStateKey(id), RaftLogKey(id, 3), RaftTruncatedStateKey(id)} {
		if got, ok := RangeIDFromLocalKey(k); !ok || got != id {
			t.Errorf("RangeIDFromLocalKey(%x) = %d, %v", k, got, ok)
		}
		if IsRangeDescriptorKey(k) != bytes.Equal(k, RangeDescriptorKey(id)) {
			t.Errorf("IsRangeDescriptorKey(%x) = %v", k, IsRangeDescriptorKey(k))
		}
	}
	for _, k := range [][]byte{nil, {rangeLocalPrefix}, StoreIdentKey, EncodeMVCCKey([]byte("k"), 1)} {
		if _, ok := RangeIDFromLocalKey(k); ok {
			t.Errorf("RangeIDFromLocalKey(%x) accepted a non-local key", k)
		}
		if IsRangeDescriptorKey(k) {
			t.Errorf("IsRangeDescriptorKey(%x) = true", k)
		}
	}
	for _, idx := range []uint64{0, 1, 11, 1 << 33, ^uint64(0)} {
		if got := RaftLogIndex(RaftLogKey(id, idx)); got != idx {
			t.Errorf("RaftLogIndex(RaftLogKey(%d)) = %d", idx, got)
		}
	}
	// Range ids do not interleave: the last key of range 1 is before range 2.
	if bytes.Compare(RaftTruncatedStateKey(1), RangeAppliedStateKey(2)) >= 0 {
		t.Error("range 1 local state sorts after range 2")
	}
	if bytes.Compare(RaftLogKey(1, ^uint64(0)), RangeLocalEnd(1)) >= 0 {
		t.Error("a log key of range 1 is outside its local span")
	}
}

// TestSplitDataKey: locks and versions are told apart and their prefixes
// found without decoding, whatever bytes the key and timestamp hold; other
// keys are corrupt.
func TestSplitDataKey(t *testing.T) {
	for _, key := range []string{"", "\x00", "a\x00\x01", "\xff\x00", "abc"} {
		p := MVCCKeyPrefix([]byte(key))
		for _, ts := range []uint64{1, 0xfeff, ^uint64(0) - 1} { // ^ts ends in 0x01 0x00, 0x00 0x01...
			n, lock, err := splitDataKey(EncodeMVCCKey([]byte(key), ts))
			if err != nil || lock || n != len(p) {
				t.Errorf("version of %q at %d: %d, %v, %v; want %d, false", key, ts, n, lock, err, len(p))
			}
		}
		if n, lock, err := splitDataKey(EncodeLockKey([]byte(key))); err != nil || !lock || n != len(p) {
			t.Errorf("lock of %q: %d, %v, %v", key, n, lock, err)
		}
		if got, err := mvccUserKey(p); err != nil || string(got) != key {
			t.Errorf("mvccUserKey(%q) = %q, %v", p, got, err)
		}
		for _, bad := range [][]byte{append(bytes.Clone(p), 1, 2, 3), p[:len(p)-1], append([]byte{0x11}, p[1:]...)} {
			if _, _, err := splitDataKey(bad); err == nil {
				t.Errorf("splitDataKey(% x) accepted", bad)
			}
		}
	}
}
