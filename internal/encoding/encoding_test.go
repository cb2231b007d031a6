package encoding

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func TestBytesEncoding(t *testing.T) {
	for _, tc := range []struct {
		in, asc string // asc is hex
	}{
		{"", "00 01"},
		{"\x00", "00 FF 00 01"},
		{"\x00\x00", "00 FF 00 FF 00 01"},
		{"\x01", "01 00 01"},
		{"\xFF", "FF 00 01"},
		{"a\x00b", "61 00 FF 62 00 01"},
		{"\xFF\x00\xFF", "FF 00 FF FF 00 01"},
		{"abc", "61 62 63 00 01"},
	} {
		asc := unhex(t, tc.asc)
		desc := inverted(asc)
		if got := EncodeBytesAscending(nil, []byte(tc.in)); !bytes.Equal(got, asc) {
			t.Errorf("EncodeBytesAscending(%q) = % X, want % X", tc.in, got, asc)
		}
		if got := EncodeStringAscending(nil, tc.in); !bytes.Equal(got, asc) {
			t.Errorf("EncodeStringAscending(%q) = % X, want % X", tc.in, got, asc)
		}
		if got := EncodeBytesDescending(nil, []byte(tc.in)); !bytes.Equal(got, desc) {
			t.Errorf("EncodeBytesDescending(%q) = % X, want % X", tc.in, got, desc)
		}
		if got := EncodeStringDescending(nil, tc.in); !bytes.Equal(got, desc) {
			t.Errorf("EncodeStringDescending(%q) = % X, want % X", tc.in, got, desc)
		}
		for _, d := range []struct {
			name string
			enc  []byte
			dec  func([]byte) ([]byte, []byte, error)
		}{
			{"asc", asc, DecodeBytesAscending},
			{"desc", desc, DecodeBytesDescending},
		} {
			rest, got, err := d.dec(append(bytes.Clone(d.enc), 0xAB))
			if err != nil || string(got) != tc.in || got == nil || !bytes.Equal(rest, []byte{0xAB}) {
				t.Errorf("%s decode(% X) = %q, rest % X, err %v", d.name, d.enc, got, rest, err)
			}
		}
		_, s, err := DecodeStringDescending(desc)
		if err != nil || s != tc.in {
			t.Errorf("DecodeStringDescending(% X) = %q, %v", desc, s, err)
		}
		if n, err := BytesAscendingLen(append(bytes.Clone(asc), 0x00, 0x01, 0xAB)); err != nil || n != len(asc) {
			t.Errorf("BytesAscendingLen(% X ...) = %d, %v; want %d", asc, n, err, len(asc))
		}
	}
	for _, bad := range []string{"", "61", "61 00", "00 FF", "00 02 00 01", "61 00 FF"} {
		if n, err := BytesAscendingLen(unhex(t, bad)); err == nil {
			t.Errorf("BytesAscendingLen(%s) = %d, want an error", bad, n)
		}
	}
}

func TestFixedIntEncoding(t *testing.T) {
	for _, tc := range []struct {
		v   int64
		asc string
	}{
		{math.MinInt64, "00 00 00 00 00 00 00 00"},
		{-1, "7F FF FF FF FF FF FF FF"},
		{0, "80 00 00 00 00 00 00 00"},
		{1, "80 00 00 00 00 00 00 01"},
		{math.MaxInt64, "FF FF FF FF FF FF FF FF"},
	} {
		asc := unhex(t, tc.asc)
		if got := EncodeInt64Ascending(nil, tc.v); !bytes.Equal(got, asc) {
			t.Errorf("EncodeInt64Ascending(%d) = % X, want % X", tc.v, got, asc)
		}
		if got := EncodeInt64Descending(nil, tc.v); !bytes.Equal(got, inverted(asc)) {
			t.Errorf("EncodeInt64Descending(%d) = % X", tc.v, got)
		}
		if _, v, err := DecodeInt64Ascending(asc); err != nil || v != tc.v {
			t.Errorf("DecodeInt64Ascending(% X) = %d, %v", asc, v, err)
		}
		if _, v, err := DecodeInt64Descending(inverted(asc)); err != nil || v != tc.v {
			t.Errorf("DecodeInt64Descending = %d, %v", v, err)
		}
	}
	for _, v := range []uint64{0, 1, 0x0102030405060708, math.MaxUint64} {
		enc := EncodeUint64Ascending(nil, v)
		if len(enc) != 8 || !bytes.Equal(EncodeUint64Descending(nil, v), inverted(enc)) {
			t.Errorf("uint64 %x: asc % X desc % X", v, enc, EncodeUint64Descending(nil, v))
		}
		if _, got, err := DecodeUint64Descending(inverted(enc)); err != nil || got != v {
			t.Errorf("DecodeUint64Descending = %x, %v; want %x", got, err, v)
		}
	}
}

func TestVarintEncoding(t *testing.T) {
	for _, tc := range []struct {
		v   int64
		asc string
	}{
		{math.MinInt64, "80 80 00 00 00 00 00 00 00"},
		{math.MinInt64 + 1, "80 80 00 00 00 00 00 00 01"},
		{-1 << 56, "81 00 00 00 00 00 00 00"},
		{-1<<56 - 1, "80 FE FF FF FF FF FF FF FF"},
		{-65536, "86 00 00"},
		{-257, "86 FE FF"},
		{-256, "87 00"},
		{-1, "87 FF"},
		{0, "88"},
		{1, "89"},
		{109, "F5"},
		{110, "F6 6E"},
		{255, "F6 FF"},
		{256, "F7 01 00"},
		{1 << 32, "FA 01 00 00 00 00"},
		{math.MaxInt64, "FD 7F FF FF FF FF FF FF FF"},
	} {
		asc := unhex(t, tc.asc)
		if got := EncodeVarintAscending(nil, tc.v); !bytes.Equal(got, asc) {
			t.Errorf("EncodeVarintAscending(%d) = % X, want % X", tc.v, got, asc)
		}
		desc := inverted(asc)
		if got := EncodeVarintDescending(nil, tc.v); !bytes.Equal(got, desc) {
			t.Errorf("EncodeVarintDescending(%d) = % X, want % X", tc.v, got, desc)
		}
		if rest, v, err := DecodeVarintAscending(append(asc, 0)); err != nil || v != tc.v || len(rest) != 1 {
			t.Errorf("DecodeVarintAscending(% X) = %d, rest % X, %v", asc, v, rest, err)
		}
		if rest, v, err := DecodeVarintDescending(append(desc, 0)); err != nil || v != tc.v || len(rest) != 1 {
			t.Errorf("DecodeVarintDescending(% X) = %d, rest % X, %v", desc, v, rest, err)
		}
	}
}

func TestFloatEncoding(t *testing.T) {
	negZero := math.Copysign(0, -1)
	for _, tc := range []struct {
		f   float64
		asc string
	}{
		{math.NaN(), "00 00 00 00 00 00 00 00"},
		{math.Float64frombits(0xFFFFFFFFFFFFFFFF), "00 00 00 00 00 00 00 00"},
		{math.Inf(-1), "00 0F FF FF FF FF FF FF"},
		{-1, "40 0F FF FF FF FF FF FF"},
		{negZero, "80 00 00 00 00 00 00 00"},
		{0, "80 00 00 00 00 00 00 00"},
		{1, "BF F0 00 00 00 00 00 00"},
		{math.Inf(1), "FF F0 00 00 00 00 00 00"},
	} {
		asc := unhex(t, tc.asc)
		if got := EncodeFloatAscending(nil, tc.f); !bytes.Equal(got, asc) {
			t.Errorf("EncodeFloatAscending(%v) = % X, want % X", tc.f, got, asc)
		}
		if got := EncodeFloatDescending(nil, tc.f); !bytes.Equal(got, inverted(asc)) {
			t.Errorf("EncodeFloatDescending(%v) = % X", tc.f, got)
		}
		_, f, err := DecodeFloatAscending(asc)
		if err != nil || compareFloat(f, tc.f) != 0 || (f == 0 && math.Signbit(f)) {
			t.Errorf("DecodeFloatAscending(% X) = %v, %v; want %v", asc, f, err, tc.f)
		}
	}
	// Strictly increasing values must give strictly increasing encodings.
	sorted := []float64{
		math.NaN(), math.Inf(-1), -math.MaxFloat64, -1e100, -1, -math.SmallestNonzeroFloat64,
		0, math.SmallestNonzeroFloat64, 0.5, 1, math.MaxFloat64, math.Inf(1),
	}
	for i := 1; i < len(sorted); i++ {
		a, b := sorted[i-1], sorted[i]
		if bytes.Compare(EncodeFloatAscending(nil, a), EncodeFloatAscending(nil, b)) >= 0 {
			t.Errorf("asc: enc(%v) >= enc(%v)", a, b)
		}
		if bytes.Compare(EncodeFloatDescending(nil, a), EncodeFloatDescending(nil, b)) <= 0 {
			t.Errorf("desc: enc(%v) <= enc(%v)", a, b)
		}
	}
}

func TestDatumEncoding(t *testing.T) {
	for _, tc := range []struct {
		v   Datum
		asc string
	}{
		{nil, "00"},
		{false, "10"},
		{true, "11"},
		{[]byte{}, "12 00 01"},
		{[]byte{0}, "12 00 FF 00 01"},
		{"", "13 00 01"},
		{"a\xFF", "13 61 FF 00 01"},
		{math.NaN(), "20 00 00 00 00 00 00 00 00"},
		{float64(1), "20 BF F0 00 00 00 00 00 00"},
		{int64(0), "88"},
		{int64(-1), "87 FF"},
		{int64(math.MaxInt64), "FD 7F FF FF FF FF FF FF FF"},
	} {
		asc := unhex(t, tc.asc)
		for _, dir := range []Direction{Ascending, Descending} {
			want := asc
			if dir == Descending {
				want = inverted(asc)
			}
			got, err := EncodeDatum([]byte("pfx"), dir, tc.v)
			if err != nil || !bytes.Equal(got, append([]byte("pfx"), want...)) {
				t.Errorf("EncodeDatum(%s, %#v) = % X, %v; want pfx+% X", dir, tc.v, got, err, want)
				continue
			}
			rest, v, err := DecodeDatum(append(bytes.Clone(want), 0x42), dir)
			if err != nil || !sameDatum(tc.v, v) || !bytes.Equal(rest, []byte{0x42}) {
				t.Errorf("DecodeDatum(%s, % X) = %#v, rest % X, %v", dir, want, v, rest, err)
			}
		}
	}
}

func TestTupleNullOrdering(t *testing.T) {
	others := []Datum{false, int64(math.MinInt64), math.NaN(), math.Inf(-1), "", []byte{}, []byte{0}}
	for _, o := range others {
		for _, dir := range []Direction{Ascending, Descending} {
			dirs := []Direction{Ascending, dir, Ascending}
			null, err := EncodeTuple(nil, dirs, []Datum{int64(7), nil, "z"})
			if err != nil {
				t.Fatal(err)
			}
			val, err := EncodeTuple(nil, dirs, []Datum{int64(7), o, ""})
			if err != nil {
				t.Fatal(err)
			}
			want := -1 // NULL first ascending
			if dir == Descending {
				want = 1 // NULL last descending
			}
			if got := bytes.Compare(null, val); got != want {
				t.Errorf("%s: compare(NULL, %#v) = %d, want %d", dir, o, got, want)
			}
			_, vals, err := DecodeTuple(null, dirs)
			if err != nil || vals[1] != nil || vals[2] != "z" {
				t.Errorf("DecodeTuple(% X) = %#v, %v", null, vals, err)
			}
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	prefix := []byte("k")
	for _, v := range []Datum{int(1), int32(1), uint64(1), float32(1), struct{}{}, map[string]int{}} {
		b, err := EncodeDatum(prefix, Ascending, v)
		if !errors.Is(err, ErrUnsupportedType) || !bytes.Equal(b, prefix) {
			t.Errorf("EncodeDatum(%T) = % X, %v", v, b, err)
		}
		b, err = EncodeTuple(prefix, []Direction{Ascending, Descending}, []Datum{int64(1), v})
		if !errors.Is(err, ErrUnsupportedType) || !bytes.Equal(b, prefix) {
			t.Errorf("EncodeTuple(..., %T) = % X, %v", v, b, err)
		}
	}
	if _, err := EncodeTuple(nil, []Direction{Ascending}, nil); err == nil {
		t.Error("EncodeTuple with length mismatch: no error")
	}
	if _, err := EncodeDatum(nil, Direction(7), int64(1)); err == nil {
		t.Error("EncodeDatum with invalid direction: no error")
	}
	if _, _, err := DecodeDatum([]byte{0x88}, Direction(-1)); err == nil {
		t.Error("DecodeDatum with invalid direction: no error")
	}
}

func TestDecodeCorrupt(t *testing.T) {
	type decoder func([]byte) error
	wrap := func(f func([]byte) ([]byte, []byte, error)) decoder {
		return func(b []byte) error { _, _, err := f(b); return err }
	}
	varint := func(b []byte) error { _, _, err := DecodeVarintAscending(b); return err }
	float := func(b []byte) error { _, _, err := DecodeFloatAscending(b); return err }
	u64 := func(b []byte) error { _, _, err := DecodeUint64Ascending(b); return err }
	i64 := func(b []byte) error { _, _, err := DecodeInt64Descending(b); return err }
	datum := func(dir Direction) decoder {
		return func(b []byte) error { _, _, err := DecodeDatum(b, dir); return err }
	}
	tuple := func(b []byte) error {
		_, _, err := DecodeTuple(b, []Direction{Ascending, Descending})
		return err
	}
	for _, tc := range []struct {
		name string
		dec  decoder
		in   string
	}{
		{"bytes empty", wrap(DecodeBytesAscending), ""},
		{"bytes unterminated", wrap(DecodeBytesAscending), "61 62"},
		{"bytes lone escape", wrap(DecodeBytesAscending), "61 00"},
		{"bytes bad escape", wrap(DecodeBytesAscending), "61 00 02"},
		{"bytes desc unterminated", wrap(DecodeBytesDescending), "00 01"},
		{"bytes desc bad escape", wrap(DecodeBytesDescending), "FF 01"},
		{"uint64 short", u64, "01 02 03"},
		{"int64 short", i64, ""},
		{"varint empty", varint, ""},
		{"varint bad marker low", varint, "7F"},
		{"varint bad marker high", varint, "FE"},
		{"varint truncated", varint, "F7 01"},
		{"varint non-minimal small", varint, "F6 05"},
		{"varint non-minimal positive", varint, "F7 00 FF"},
		{"varint positive overflow", varint, "FD 80 00 00 00 00 00 00 00"},
		{"varint non-minimal negative", varint, "86 FF 00"},
		{"varint negative overflow", varint, "80 7F FF FF FF FF FF FF FF"},
		{"float short", float, "80 00"},
		{"float negative zero", float, "7F FF FF FF FF FF FF FF"},
		{"float low NaN", float, "00 00 00 00 00 00 00 01"},
		{"float high NaN", float, "FF F8 00 00 00 00 00 00"},
		{"datum empty", datum(Ascending), ""},
		{"datum unknown marker", datum(Ascending), "05"},
		{"datum 0xFF ascending", datum(Ascending), "FF"},
		{"datum 0x00 descending", datum(Descending), "00"},
		{"datum truncated float", datum(Ascending), "20 80"},
		{"datum truncated string", datum(Descending), "EC 9E"},
		{"datum bad bytes", datum(Ascending), "12 00 05"},
		{"tuple missing element", tuple, "88"},
		{"tuple bad second element", tuple, "88 00"},
	} {
		err := tc.dec(unhex(t, tc.in))
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: decode(%s) error = %v, want ErrCorrupt", tc.name, tc.in, err)
		}
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"FF", ""},
		{"FF FF FF", ""},
		{"00", "01"},
		{"01", "02"},
		{"61 62", "61 63"},
		{"61 FF", "62"},
		{"61 FE FF FF", "61 FF"},
		{"00 FF", "01"},
	} {
		in := unhex(t, tc.in)
		orig := bytes.Clone(in)
		got := PrefixEnd(in)
		if tc.want == "" {
			if got != nil {
				t.Errorf("PrefixEnd(% X) = % X, want nil", in, got)
			}
		} else if want := unhex(t, tc.want); !bytes.Equal(got, want) {
			t.Errorf("PrefixEnd(% X) = % X, want % X", in, got, want)
		}
		if !bytes.Equal(in, orig) {
			t.Errorf("PrefixEnd modified its input: % X", in)
		}
	}
}
