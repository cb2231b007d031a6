package encoding

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// Reference semantics that the encodings must agree with. They use only the
// standard library, never the code under test.

// compareFloat orders NaN first, NaN == NaN and -0 == +0 (cmp.Compare's rules).
func compareFloat(a, b float64) int { return cmp.Compare(a, b) }

// typeRank is the cross-type order of datums, following the marker bytes.
func typeRank(d Datum) int {
	switch d.(type) {
	case nil:
		return 0
	case bool:
		return 1
	case []byte:
		return 2
	case string:
		return 3
	case float64:
		return 4
	case int64:
		return 5
	}
	panic("bad datum type")
}

func compareDatum(a, b Datum) int {
	if c := cmp.Compare(typeRank(a), typeRank(b)); c != 0 {
		return c
	}
	switch a := a.(type) {
	case bool:
		return cmp.Compare(boolInt(a), boolInt(b.(bool)))
	case int64:
		return cmp.Compare(a, b.(int64))
	case float64:
		return compareFloat(a, b.(float64))
	case string:
		return strings.Compare(a, b.(string))
	case []byte:
		return bytes.Compare(a, b.([]byte))
	}
	return 0 // both NULL
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// compareTuple compares column by column, reversing descending columns.
func compareTuple(dirs []Direction, a, b []Datum) int {
	for i := range dirs {
		c := compareDatum(a[i], b[i])
		if dirs[i] == Descending {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// sameDatum reports whether got is a faithful decoding of want: same Go type,
// equal value, +0 for zero floats and a non-nil slice for []byte.
func sameDatum(want, got Datum) bool {
	if typeRank(want) != typeRank(got) || compareDatum(want, got) != 0 {
		return false
	}
	switch g := got.(type) {
	case float64:
		return g != 0 || !math.Signbit(g)
	case []byte:
		return g != nil
	}
	return true
}

func sign(c int) int { return cmp.Compare(c, 0) }

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func inverted(b []byte) []byte {
	out := bytes.Clone(b)
	invert(out)
	return out
}

// --- Random values biased towards edge cases ---

var edgeBytes = []byte{0x00, 0x01, 0x02, 0x7F, 0x80, 0xFE, 0xFF}

func randBytes(r *rand.Rand) []byte {
	n := r.IntN(6)
	if r.IntN(8) == 0 {
		n = r.IntN(40)
	}
	b := make([]byte, n)
	for i := range b {
		if r.IntN(2) == 0 {
			b[i] = edgeBytes[r.IntN(len(edgeBytes))]
		} else {
			b[i] = byte(r.Uint32())
		}
	}
	return b
}

// relatedBytes returns a value likely to share a prefix with a.
func relatedBytes(r *rand.Rand, a []byte) []byte {
	switch r.IntN(4) {
	case 0:
		return bytes.Clone(a)
	case 1:
		return append(bytes.Clone(a), randBytes(r)...)
	case 2:
		return bytes.Clone(a[:r.IntN(len(a)+1)])
	default:
		return randBytes(r)
	}
}

func randInt64(r *rand.Rand) int64 {
	switch r.IntN(5) {
	case 0:
		return r.Int64N(600) - 300
	case 1: // around a power-of-256 boundary
		k := uint(8 * r.IntN(8))
		v := int64(1)<<k + r.Int64N(5) - 2
		if r.IntN(2) == 0 {
			v = -v
		}
		return v
	case 2:
		return []int64{math.MinInt64, math.MinInt64 + 1, math.MaxInt64, math.MaxInt64 - 1, 0, -1, 109, 110, -256, -257}[r.IntN(10)]
	case 3: // random magnitude
		return int64(r.Uint64()) >> r.IntN(64)
	default:
		return int64(r.Uint64())
	}
}

func randUint64(r *rand.Rand) uint64 {
	switch r.IntN(3) {
	case 0:
		return []uint64{0, 1, 0xFF, 0x100, math.MaxUint64, math.MaxUint64 - 1, 1 << 63}[r.IntN(7)]
	case 1:
		return r.Uint64() >> r.IntN(64)
	default:
		return r.Uint64()
	}
}

var edgeFloats = []float64{
	math.NaN(), math.Inf(-1), math.Inf(1), 0, math.Copysign(0, -1),
	math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64,
	-math.SmallestNonzeroFloat64, 1, -1, 0.5, -0.5,
	math.Float64frombits(0x7FF8000000000001), // NaN with payload
	math.Float64frombits(0xFFF0000000000001), // negative NaN
}

func randFloat(r *rand.Rand) float64 {
	switch r.IntN(4) {
	case 0:
		return edgeFloats[r.IntN(len(edgeFloats))]
	case 1:
		return float64(r.IntN(200) - 100)
	case 2:
		return math.Float64frombits(r.Uint64()) // any bit pattern, NaNs included
	default:
		return r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20))
	}
}

func randDatumOfType(r *rand.Rand, typ int) Datum {
	switch typ {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return randBytes(r)
	case 3:
		return string(randBytes(r))
	case 4:
		return randFloat(r)
	default:
		return randInt64(r)
	}
}

func randDatum(r *rand.Rand) Datum { return randDatumOfType(r, r.IntN(6)) }

// datumsFromBytes deterministically turns fuzz input into n datums; once
// the input runs out the remaining datums are NULL.
func datumsFromBytes(data []byte, n int) []Datum {
	vals := make([]Datum, n)
	for i := range vals {
		if len(data) == 0 {
			continue
		}
		tag := data[0]
		data = data[1:]
		take := func(k int) []byte {
			k = min(k, len(data))
			out := data[:k]
			data = data[k:]
			return out
		}
		// fixed reads up to 8 bytes into a uint64, left-aligned for floats
		// (sign and exponent first) and right-aligned for integers.
		fixed := func(left bool) uint64 {
			var buf [8]byte
			src := take(int(tag>>4) % 9)
			if left {
				copy(buf[:], src)
			} else {
				copy(buf[8-len(src):], src)
			}
			return binary.BigEndian.Uint64(buf[:])
		}
		switch tag % 6 {
		case 0:
			vals[i] = nil
		case 1:
			vals[i] = tag&0x80 != 0
		case 2:
			vals[i] = bytes.Clone(take(int(tag >> 4)))
		case 3:
			vals[i] = string(take(int(tag >> 4)))
		case 4:
			vals[i] = math.Float64frombits(fixed(true))
		default:
			v := int64(fixed(false))
			if tag&0x08 != 0 {
				v = -v
			}
			vals[i] = v
		}
	}
	return vals
}
