package encoding

import (
	"bytes"
	"cmp"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// iterations per property; kept moderate so the suite stays fast under -race.
func iterations() int {
	if testing.Short() {
		return 2000
	}
	return 20000
}

func newRand(t *testing.T) *rand.Rand {
	// Fixed seeds keep failures reproducible; the fuzz targets explore further.
	var seed uint64
	for _, c := range t.Name() {
		seed = seed*31 + uint64(c)
	}
	return rand.New(rand.NewPCG(seed, 0x5eed))
}

// codec is one untagged encoding in one direction, with its reference order.
type codec[T any] struct {
	name    string
	enc     func([]byte, T) []byte
	dec     func([]byte) ([]byte, T, error)
	compare func(a, b T) int // value order (ascending)
	same    func(want, got T) bool
	desc    bool
}

// checkCodec checks round-trip (including append to a non-empty buffer and
// leaving trailing bytes alone) and that byte order matches value order.
func checkCodec[T any](t *testing.T, c codec[T], gen func(*rand.Rand) T, related func(*rand.Rand, T) T) {
	t.Run(c.name, func(t *testing.T) {
		r := newRand(t)
		prefix, trailer := []byte{0x00, 0xFF}, []byte{0x01, 0xFE}
		for range iterations() {
			a := gen(r)
			b := gen(r)
			if related != nil && r.IntN(2) == 0 {
				b = related(r, a)
			}
			ea := c.enc(bytes.Clone(prefix), a)
			if !bytes.HasPrefix(ea, prefix) {
				t.Fatalf("enc(%v) clobbered the buffer: % X", a, ea)
			}
			ea = ea[len(prefix):]
			rest, got, err := c.dec(append(bytes.Clone(ea), trailer...))
			if err != nil || !c.same(a, got) || !bytes.Equal(rest, trailer) {
				t.Fatalf("round trip of %v: enc % X, got %v, rest % X, err %v", a, ea, got, rest, err)
			}
			eb := c.enc(nil, b)
			want := sign(c.compare(a, b))
			if c.desc {
				want = -want
			}
			if got := bytes.Compare(ea, eb); got != want {
				t.Fatalf("compare(enc(%v)=% X, enc(%v)=% X) = %d, want %d", a, ea, b, eb, got, want)
			}
		}
	})
}

func eq[T comparable](a, b T) bool { return a == b }

func sameFloat(want, got float64) bool {
	return compareFloat(want, got) == 0 && !(got == 0 && math.Signbit(got))
}

func TestPropertyUntagged(t *testing.T) {
	cmpI, cmpU := cmp.Compare[int64], cmp.Compare[uint64]
	randStr := func(r *rand.Rand) string { return string(randBytes(r)) }
	relStr := func(r *rand.Rand, a string) string { return string(relatedBytes(r, []byte(a))) }
	sameBytes := func(want, got []byte) bool { return got != nil && bytes.Equal(want, got) }
	relInt := func(r *rand.Rand, a int64) int64 { return a + r.Int64N(3) - 1 }
	relFloat := func(r *rand.Rand, a float64) float64 {
		return []float64{a, -a, math.Nextafter(a, math.Inf(1)), math.Nextafter(a, math.Inf(-1))}[r.IntN(4)]
	}

	checkCodec(t, codec[[]byte]{"bytes/asc", EncodeBytesAscending, DecodeBytesAscending, bytes.Compare, sameBytes, false}, randBytes, relatedBytes)
	checkCodec(t, codec[[]byte]{"bytes/desc", EncodeBytesDescending, DecodeBytesDescending, bytes.Compare, sameBytes, true}, randBytes, relatedBytes)
	checkCodec(t, codec[string]{"string/asc", EncodeStringAscending, DecodeStringAscending, strings.Compare, eq[string], false}, randStr, relStr)
	checkCodec(t, codec[string]{"string/desc", EncodeStringDescending, DecodeStringDescending, strings.Compare, eq[string], true}, randStr, relStr)
	checkCodec(t, codec[uint64]{"uint64/asc", EncodeUint64Ascending, DecodeUint64Ascending, cmpU, eq[uint64], false}, randUint64, nil)
	checkCodec(t, codec[uint64]{"uint64/desc", EncodeUint64Descending, DecodeUint64Descending, cmpU, eq[uint64], true}, randUint64, nil)
	checkCodec(t, codec[int64]{"int64/asc", EncodeInt64Ascending, DecodeInt64Ascending, cmpI, eq[int64], false}, randInt64, relInt)
	checkCodec(t, codec[int64]{"int64/desc", EncodeInt64Descending, DecodeInt64Descending, cmpI, eq[int64], true}, randInt64, relInt)
	checkCodec(t, codec[int64]{"varint/asc", EncodeVarintAscending, DecodeVarintAscending, cmpI, eq[int64], false}, randInt64, relInt)
	checkCodec(t, codec[int64]{"varint/desc", EncodeVarintDescending, DecodeVarintDescending, cmpI, eq[int64], true}, randInt64, relInt)
	checkCodec(t, codec[float64]{"float/asc", EncodeFloatAscending, DecodeFloatAscending, compareFloat, sameFloat, false}, randFloat, relFloat)
	checkCodec(t, codec[float64]{"float/desc", EncodeFloatDescending, DecodeFloatDescending, compareFloat, sameFloat, true}, randFloat, relFloat)
}

func TestPropertyDatum(t *testing.T) {
	for _, dir := range []Direction{Ascending, Descending} {
		enc := func(b []byte, v Datum) []byte {
			out, err := EncodeDatum(b, dir, v)
			if err != nil {
				t.Fatalf("EncodeDatum(%#v): %v", v, err)
			}
			return out
		}
		dec := func(b []byte) ([]byte, Datum, error) { return DecodeDatum(b, dir) }
		checkCodec(t, codec[Datum]{"datum/" + dir.String(), enc, dec, compareDatum, sameDatum, dir == Descending}, randDatum, nil)
	}
}

func TestPropertyVarintLength(t *testing.T) {
	r := newRand(t)
	for range iterations() {
		v := randInt64(r)
		n := len(EncodeVarintAscending(nil, v))
		// Reference: the smallest payload of n bytes that can hold v.
		want := 1
		if v < 0 || v > 109 {
			want = 9
			for n := 1; n < 8; n++ {
				if (v < 0 && v >= -(int64(1)<<(8*n))) || (v > 0 && v < int64(1)<<(8*n)) {
					want = n + 1
					break
				}
			}
		}
		if n != want {
			t.Fatalf("len(EncodeVarintAscending(%d)) = %d, want %d", v, n, want)
		}
	}
}

// TestPropertyTuple checks round trip and lexicographic order of random
// tuples with mixed directions. Half of the pairs share a prefix of columns
// so that later columns decide; columns are usually typed, as in SQL.
func TestPropertyTuple(t *testing.T) {
	r := newRand(t)
	for range iterations() {
		n := r.IntN(6)
		dirs := make([]Direction, n)
		types := make([]int, n)
		for i := range dirs {
			dirs[i] = Direction(r.IntN(2))
			types[i] = r.IntN(6)
		}
		gen := func() []Datum {
			vals := make([]Datum, n)
			for i := range vals {
				switch {
				case r.IntN(6) == 0:
					vals[i] = nil
				case r.IntN(10) == 0:
					vals[i] = randDatum(r) // mixed types in a column
				default:
					vals[i] = randDatumOfType(r, types[i])
				}
			}
			return vals
		}
		a, b := gen(), gen()
		if n > 0 && r.IntN(2) == 0 {
			copy(b, a[:r.IntN(n+1)])
		}
		ea, err := EncodeTuple([]byte("t1"), dirs, a)
		if err != nil {
			t.Fatal(err)
		}
		rest, got, err := DecodeTuple(append(bytes.Clone(ea[2:]), 0xFF), dirs)
		if err != nil || len(got) != n || !bytes.Equal(rest, []byte{0xFF}) {
			t.Fatalf("DecodeTuple(%v, % X) = %#v, rest % X, err %v", dirs, ea, got, rest, err)
		}
		for i := range a {
			if !sameDatum(a[i], got[i]) {
				t.Fatalf("tuple %#v %v: element %d decoded as %#v", a, dirs, i, got[i])
			}
		}
		eb, err := EncodeTuple([]byte("t1"), dirs, b)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := bytes.Compare(ea, eb), compareTuple(dirs, a, b); got != want {
			t.Fatalf("dirs %v: compare(%#v, %#v) = %d, want %d\n% X\n% X", dirs, a, b, got, want, ea, eb)
		}
	}
}

// TestPropertyPrefixEnd checks the defining property of PrefixEnd: keys
// with the prefix sort below it, and any other key above the prefix sorts
// at or above it.
func TestPropertyPrefixEnd(t *testing.T) {
	r := newRand(t)
	for range iterations() {
		k := randBytes(r)
		end := PrefixEnd(k)
		x := relatedBytes(r, k)
		if r.IntN(2) == 0 && len(x) > 0 {
			x[r.IntN(len(x))] = edgeBytes[r.IntN(len(edgeBytes))]
		}
		switch {
		case bytes.HasPrefix(x, k):
			if end != nil && bytes.Compare(x, end) >= 0 {
				t.Fatalf("key % X with prefix % X >= PrefixEnd % X", x, k, end)
			}
		case bytes.Compare(x, k) > 0:
			if end == nil || bytes.Compare(x, end) < 0 {
				t.Fatalf("key % X > prefix % X but below PrefixEnd % X", x, k, end)
			}
		}
	}
}
