package types

import (
	"bytes"
	"fmt"
	"math"
	"testing"
)

// TestCompareOrder checks PostgreSQL's btree orders: each list is sorted
// ascending, and elements joined by "=" compare equal.
func TestCompareOrder(t *testing.T) {
	for typeName, order := range map[string][][]string{
		"bool":    {{"f"}, {"t", "yes"}},
		"int8":    {{"-9223372036854775808"}, {"-1"}, {"0"}, {"9223372036854775807"}},
		"float8":  {{"-Infinity"}, {"-1e308"}, {"-1"}, {"-0", "0"}, {"5e-324"}, {"1"}, {"Infinity"}, {"NaN", "nan"}},
		"numeric": {{"-Infinity"}, {"-1e100"}, {"-1.5"}, {"0", "0.000", "-0"}, {"1.5", "1.50", "1.500000"}, {"1e100"}, {"Infinity"}, {"NaN"}},
		"text":    {{""}, {"B"}, {"a"}, {"ab"}, {"b"}, {"é"}},
		"char(3)": {{"", "   "}, {"a", "a  "}, {"a b"}, {"b"}},
		"bytea":   {{`\x`}, {`\x00`}, {`\x0000`}, {`\x01`}, {`\xff`}},
		"date":    {{"-infinity"}, {"4714-11-24 BC"}, {"0001-12-31 BC"}, {"0001-01-01"}, {"2024-01-02"}, {"5874897-12-31"}, {"infinity"}},
		"timestamp": {{"-infinity"}, {"4714-11-24 00:00:00 BC"}, {"1999-12-31 23:59:59.999999"},
			{"2000-01-01 00:00:00", "2000-01-01T00:00:00+09"}, {"294276-12-31 23:59:59.999999"}, {"infinity"}},
		"timestamptz": {{"2024-01-02 03:00:00+01"}, {"2024-01-02 03:00:00+00", "2024-01-02 04:00:00+01", "2024-01-01 19:00:00-08"}},
		"interval": {{"-1 mon"}, {"-1 day"}, {"0", "-0 days"}, {"23:59:59.999999"}, {"1 day", "24:00:00"},
			{"25 hours"}, {"1 mon", "30 days", "720:00:00", "1 mon 1 day -24:00:00"}, {"1 year", "360 days"}, {"1 year 1 day"}},
		"uuid": {{"00000000-0000-0000-0000-000000000000"}, {"00000000-0000-0000-0000-000000000001"}, {"ffffffff-ffff-ffff-ffff-ffffffffffff"}},
		"jsonb": {
			{`[]`}, {`null`}, {`""`}, {`"a"`}, {`"b"`}, {`-1`}, {`1`, `1.0`, `1e0`}, {`2`}, {`false`}, {`true`},
			{`[null]`}, {`["a"]`}, {`[1]`}, {`[true]`}, {`[[]]`}, {`[{}]`}, {`[1, 2]`}, {`[2, 1]`}, {`[1, 2, 3]`},
			{`{}`}, {`{"aa": 1}`}, {`{"b": 1}`}, {`{"b": 2}`}, {`{"b": []}`}, {`{"a": 1, "b": 2}`, `{"b": 2, "a": 1.00}`},
		},
		"int4[]": {{"{}"}, {"{1}"}, {"{1,2}"}, {"{1,NULL}"}, {"{2}"}, {"{NULL}", "{null}"}, {"{NULL,1}"}},
		"oid":    {{"0"}, {"2147483648"}, {"4294967295", "-1"}},
	} {
		typ := mustType(t, typeName)
		var prev []Datum
		for _, group := range order {
			var ds []Datum
			for _, s := range group {
				d, err := ParseText(s, typ, nil)
				if err != nil {
					t.Fatalf("%s %q: %v", typeName, s, err)
				}
				ds = append(ds, d)
			}
			for _, a := range ds {
				for _, b := range ds {
					if Compare(a, b) != 0 || !bytes.Equal(EncodeKey(nil, a), EncodeKey(nil, b)) || Hash(a) != Hash(b) {
						t.Errorf("%s: %s and %s should be equal", typeName, a, b)
					}
				}
				for _, p := range prev {
					if Compare(p, a) != -1 || Compare(a, p) != 1 {
						t.Errorf("%s: %s should sort before %s", typeName, p, a)
					}
					if bytes.Equal(EncodeKey(nil, a), EncodeKey(nil, p)) {
						t.Errorf("%s: %s and %s have one key", typeName, a, p)
					}
				}
			}
			prev = append(prev, ds...)
		}
	}
}

func TestCompareNull(t *testing.T) {
	if Compare(DNull, DNull) != 0 || Compare(DNull, DInt(1)) != 1 || Compare(DInt(1), DNull) != -1 {
		t.Error("NULL sorts last and equals NULL")
	}
	if !Equal(DNull, DNull) || Equal(DNull, DInt(0)) {
		t.Error("Equal with NULL")
	}
	if bytes.Equal(EncodeKey(nil, DNull), EncodeKey(nil, DString(""))) {
		t.Error("NULL and '' share a key")
	}
	if Hash(DFloat(math.NaN())) != Hash(DFloat(-math.NaN())) || Hash(DFloat(0)) != Hash(DFloat(math.Copysign(0, -1))) {
		t.Error("float hashes")
	}
}

func TestCompareMixedFamiliesPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Compare(int, text) did not panic")
		}
	}()
	Compare(DInt(1), DString("1"))
}

func TestHashDeterministic(t *testing.T) {
	// The hash partitions rows across nodes: it must not change between
	// processes or releases without a migration. FNV-1a of the key.
	if got := HashBytes(nil); got != 14695981039346656037 {
		t.Errorf("HashBytes(nil) = %d", got)
	}
	if Hash(DInt(1)) != HashBytes(EncodeKey(nil, DInt(1))) || Hash(DInt(1)) == Hash(DInt(2)) {
		t.Error("Hash of ints")
	}
}

func TestDatumStringers(t *testing.T) {
	d := MustParseDecimal("0.00000015")
	for _, tc := range []struct {
		got, want string
	}{
		{fmt.Sprintf("%v", d), "0.00000015"},
		{fmt.Sprintf("%6.2s|%s", "ab", Datum(d)), "    ab|0.00000015"},
		{fmt.Sprint(DTimestamp{timeFromPGMicros(0)}), "2000-01-01 00:00:00"},
		{fmt.Sprint(DNull), "NULL"},
		{fmt.Sprint(DString("x")), "x"},
		{fmt.Sprint(&DArray{Elem: Int4, Elems: []Datum{DInt(1), DNull}}), "{1,NULL}"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
