package encoding

import (
	"bytes"
	"cmp"
	"math"
	"testing"
)

// Without -fuzz these targets run over their seed corpus (and any files in
// testdata/fuzz) as ordinary tests. To explore, run for example
//
//	go test ./internal/encoding -run '^$' -fuzz '^FuzzTuple$' -fuzztime 30s

func FuzzBytes(f *testing.F) {
	for _, s := range [][2]string{
		{"", ""}, {"", "\x00"}, {"\x00", "\x00\x00"}, {"\x00", "\x01"},
		{"a", "a\x00"}, {"a\xFF", "a\x00\xFF"}, {"\xFF", "\xFF\xFF"}, {"ab", "b"},
	} {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		want := bytes.Compare(a, b)
		ea, eb := EncodeBytesAscending(nil, a), EncodeBytesAscending(nil, b)
		if got := bytes.Compare(ea, eb); got != want {
			t.Fatalf("asc: compare(% X, % X) = %d, want %d", ea, eb, got, want)
		}
		da, db := EncodeBytesDescending(nil, a), EncodeBytesDescending(nil, b)
		if got := bytes.Compare(da, db); got != -want {
			t.Fatalf("desc: compare(% X, % X) = %d, want %d", da, db, got, -want)
		}
		if !bytes.Equal(EncodeStringAscending(nil, string(a)), ea) ||
			!bytes.Equal(EncodeStringDescending(nil, string(a)), da) {
			t.Fatalf("string and bytes encodings of %q differ", a)
		}
		// Concatenations decode back, which exercises prefix-freeness.
		rest, got, err := DecodeBytesAscending(append(ea, eb...))
		if err != nil || !bytes.Equal(got, a) || !bytes.Equal(rest, eb) {
			t.Fatalf("asc round trip of %q: %q, rest % X, %v", a, got, rest, err)
		}
		rest, got, err = DecodeBytesDescending(append(da, db...))
		if err != nil || !bytes.Equal(got, a) || !bytes.Equal(rest, db) {
			t.Fatalf("desc round trip of %q: %q, rest % X, %v", a, got, rest, err)
		}
	})
}

func FuzzVarint(f *testing.F) {
	for _, v := range [][2]int64{
		{0, 1}, {109, 110}, {-1, 0}, {-256, -257}, {255, 256},
		{math.MinInt64, math.MaxInt64}, {-1 << 56, -1<<56 - 1}, {1<<56 - 1, 1 << 56},
	} {
		f.Add(v[0], v[1])
	}
	f.Fuzz(func(t *testing.T, a, b int64) {
		want := cmp.Compare(a, b)
		type enc struct {
			name string
			fn   func([]byte, int64) []byte
			dec  func([]byte) ([]byte, int64, error)
			desc bool
		}
		for _, e := range []enc{
			{"varint/asc", EncodeVarintAscending, DecodeVarintAscending, false},
			{"varint/desc", EncodeVarintDescending, DecodeVarintDescending, true},
			{"int64/asc", EncodeInt64Ascending, DecodeInt64Ascending, false},
			{"int64/desc", EncodeInt64Descending, DecodeInt64Descending, true},
		} {
			ea, eb := e.fn(nil, a), e.fn(nil, b)
			w := want
			if e.desc {
				w = -w
			}
			if got := bytes.Compare(ea, eb); got != w {
				t.Fatalf("%s: compare(enc(%d)=% X, enc(%d)=% X) = %d, want %d", e.name, a, ea, b, eb, got, w)
			}
			rest, got, err := e.dec(append(ea, eb...))
			if err != nil || got != a || !bytes.Equal(rest, eb) {
				t.Fatalf("%s: round trip of %d: %d, rest % X, %v", e.name, a, got, rest, err)
			}
		}
		if n := len(EncodeVarintAscending(nil, a)); (a >= 0 && a <= 109) != (n == 1) {
			t.Fatalf("varint %d encodes in %d bytes", a, n)
		}
	})
}

func FuzzFloat(f *testing.F) {
	for _, v := range [][2]float64{
		{math.NaN(), math.Inf(-1)}, {0, math.Copysign(0, -1)}, {math.Inf(1), math.MaxFloat64},
		{-math.SmallestNonzeroFloat64, 0}, {1, 1.0000000000000002},
	} {
		f.Add(v[0], v[1])
	}
	f.Fuzz(func(t *testing.T, a, b float64) {
		want := compareFloat(a, b)
		ea, eb := EncodeFloatAscending(nil, a), EncodeFloatAscending(nil, b)
		da, db := EncodeFloatDescending(nil, a), EncodeFloatDescending(nil, b)
		if bytes.Compare(ea, eb) != want || bytes.Compare(da, db) != -want {
			t.Fatalf("order of %v, %v: asc % X % X, desc % X % X", a, b, ea, eb, da, db)
		}
		if _, got, err := DecodeFloatAscending(ea); err != nil || !sameFloat(a, got) {
			t.Fatalf("asc round trip of %v: %v, %v", a, got, err)
		}
		if _, got, err := DecodeFloatDescending(da); err != nil || !sameFloat(a, got) {
			t.Fatalf("desc round trip of %v: %v, %v", a, got, err)
		}
	})
}

// tupleDirs derives 1-4 directions from one fuzz byte.
func tupleDirs(d uint8) []Direction {
	dirs := make([]Direction, 1+int(d>>4)%4)
	for i := range dirs {
		dirs[i] = Direction(d >> i & 1)
	}
	return dirs
}

func FuzzTuple(f *testing.F) {
	f.Add([]byte{}, []byte{0x00}, uint8(0))
	f.Add([]byte{0x05, 0x13, 0x42}, []byte{0x0D, 0x13, 0x42}, uint8(0x31))
	f.Add([]byte{0x22, 'a', 'b', 0x01}, []byte{0x23, 'a', 'b', 0x81}, uint8(0x12))
	f.Add([]byte{0x84, 0xFF, 0xF8, 1, 2, 3, 4, 5, 6}, []byte{0x84, 0x7F, 0xF0, 0, 0, 0, 0, 0, 0}, uint8(0x21))
	f.Add([]byte{0x12, 0x00, 0x05, 0x00}, []byte{0x12, 0x00, 0x06}, uint8(0x3F))
	f.Fuzz(func(t *testing.T, da, db []byte, d uint8) {
		dirs := tupleDirs(d)
		a, b := datumsFromBytes(da, len(dirs)), datumsFromBytes(db, len(dirs))
		ea, err := EncodeTuple(nil, dirs, a)
		if err != nil {
			t.Fatal(err)
		}
		eb, err := EncodeTuple(nil, dirs, b)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := bytes.Compare(ea, eb), compareTuple(dirs, a, b); got != want {
			t.Fatalf("dirs %v: compare(%#v, %#v) = %d, want %d", dirs, a, b, got, want)
		}
		rest, got, err := DecodeTuple(append(ea, eb...), dirs)
		if err != nil || !bytes.Equal(rest, eb) {
			t.Fatalf("DecodeTuple(% X): rest % X, %v", ea, rest, err)
		}
		for i := range a {
			if !sameDatum(a[i], got[i]) {
				t.Fatalf("element %d: %#v decoded as %#v", i, a[i], got[i])
			}
		}
	})
}

// FuzzDecode feeds arbitrary bytes to every decoder. None may panic, and
// whatever decodes successfully must re-encode to exactly the bytes that
// were consumed (every encoding is canonical).
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"", "\x00", "\x00\x01", "\x00\xFF\x00\x01", "\xFF\xFE", "\x88", "\xF6\x05",
		"\x80\x80\x00\x00\x00\x00\x00\x00\x00", "\x7F\xFF\xFF\xFF\xFF\xFF\xFF\xFF",
		"\x20\x00\x00\x00\x00\x00\x00\x00\x00", "\x13a\x00\x01\x12\x00", "\xEC\x9E\xFF\xFE",
	} {
		f.Add([]byte(s), uint8(0x30))
	}
	f.Fuzz(func(t *testing.T, in []byte, d uint8) {
		check := func(name string, rest []byte, err error, reenc func() []byte) {
			t.Helper()
			if err != nil {
				return
			}
			if len(rest) > len(in) || !bytes.Equal(rest, in[len(in)-len(rest):]) {
				t.Fatalf("%s(% X): rest % X is not a suffix of the input", name, in, rest)
			}
			if got, want := reenc(), in[:len(in)-len(rest)]; !bytes.Equal(got, want) {
				t.Fatalf("%s(% X): consumed % X but re-encodes as % X", name, in, want, got)
			}
		}
		rest, bs, err := DecodeBytesAscending(in)
		check("DecodeBytesAscending", rest, err, func() []byte { return EncodeBytesAscending(nil, bs) })
		rest, bs, err = DecodeBytesDescending(in)
		check("DecodeBytesDescending", rest, err, func() []byte { return EncodeBytesDescending(nil, bs) })
		rest, s, err := DecodeStringAscending(in)
		check("DecodeStringAscending", rest, err, func() []byte { return EncodeStringAscending(nil, s) })
		rest, s, err = DecodeStringDescending(in)
		check("DecodeStringDescending", rest, err, func() []byte { return EncodeStringDescending(nil, s) })
		rest, u, err := DecodeUint64Ascending(in)
		check("DecodeUint64Ascending", rest, err, func() []byte { return EncodeUint64Ascending(nil, u) })
		rest, u, err = DecodeUint64Descending(in)
		check("DecodeUint64Descending", rest, err, func() []byte { return EncodeUint64Descending(nil, u) })
		rest, i, err := DecodeInt64Ascending(in)
		check("DecodeInt64Ascending", rest, err, func() []byte { return EncodeInt64Ascending(nil, i) })
		rest, i, err = DecodeInt64Descending(in)
		check("DecodeInt64Descending", rest, err, func() []byte { return EncodeInt64Descending(nil, i) })
		rest, i, err = DecodeVarintAscending(in)
		check("DecodeVarintAscending", rest, err, func() []byte { return EncodeVarintAscending(nil, i) })
		rest, i, err = DecodeVarintDescending(in)
		check("DecodeVarintDescending", rest, err, func() []byte { return EncodeVarintDescending(nil, i) })
		rest, fl, err := DecodeFloatAscending(in)
		check("DecodeFloatAscending", rest, err, func() []byte { return EncodeFloatAscending(nil, fl) })
		rest, fl, err = DecodeFloatDescending(in)
		check("DecodeFloatDescending", rest, err, func() []byte { return EncodeFloatDescending(nil, fl) })
		for _, dir := range []Direction{Ascending, Descending, Direction(d)} {
			rest, v, err := DecodeDatum(in, dir)
			check("DecodeDatum/"+dir.String(), rest, err, func() []byte {
				out, err := EncodeDatum(nil, dir, v)
				if err != nil {
					t.Fatalf("EncodeDatum(%#v) of a decoded datum: %v", v, err)
				}
				return out
			})
		}
		dirs := tupleDirs(d)
		rest, vals, err := DecodeTuple(in, dirs)
		check("DecodeTuple", rest, err, func() []byte {
			out, err := EncodeTuple(nil, dirs, vals)
			if err != nil {
				t.Fatalf("EncodeTuple(%#v) of a decoded tuple: %v", vals, err)
			}
			return out
		})
		if end := PrefixEnd(in); end != nil && bytes.Compare(end, in) <= 0 {
			t.Fatalf("PrefixEnd(% X) = % X is not above its input", in, end)
		}
	})
}
