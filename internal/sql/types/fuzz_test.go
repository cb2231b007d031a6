package types

import (
	"testing"
)

var fuzzTypes = []string{"bool", "int2", "int8", "float4", "float8", "numeric", "numeric(6,2)", "varchar(4)",
	"char(3)", "bytea", "date", "timestamp", "timestamptz", "interval", "uuid", "jsonb", "oid", "int4[]", "text[]"}

// FuzzParseText: text input never panics, and whatever it accepts prints
// as text that reads back as the same value.
func FuzzParseText(f *testing.F) {
	for _, cases := range textCases {
		for _, tc := range cases {
			f.Add(tc.in)
		}
	}
	types := make([]*Type, len(fuzzTypes))
	for i, n := range fuzzTypes {
		types[i] = mustType(f, n)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, typ := range types {
			d, err := ParseText(s, typ, nil)
			if err != nil {
				continue
			}
			out := FormatText(d, typ, nil)
			back, err := ParseText(out, typ, nil)
			if err != nil {
				t.Fatalf("%s: %q printed as %q, which does not read back: %v", typ, s, out, err)
			}
			if Compare(d, back) != 0 {
				t.Fatalf("%s: %q printed as %q, which reads back as %s", typ, s, out, back)
			}
		}
	})
}

// FuzzParseBinary: binary input never panics, and whatever it accepts
// encodes back to input that reads as the same value.
func FuzzParseBinary(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1})
	f.Add([]byte{0, 1, 0, 0, 0, 0, 0, 2, 0, 1})
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 23, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 7})
	f.Add([]byte("\x01{\"a\": [1, 2]}"))
	types := make([]*Type, len(fuzzTypes))
	for i, n := range fuzzTypes {
		types[i] = mustType(f, n)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, typ := range types {
			d, err := ParseBinary(b, typ)
			if err != nil {
				continue
			}
			back, err := ParseBinary(AppendBinary(nil, d, typ), typ)
			if err != nil || Compare(d, back) != 0 {
				t.Fatalf("%s: %x reads as %s, which round-trips to %v, %v", typ, b, d, back, err)
			}
		}
	})
}
