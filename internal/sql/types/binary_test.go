package types

import (
	"encoding/hex"
	"testing"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
)

// Golden binary encodings, written from PostgreSQL's send functions.
func TestBinaryGolden(t *testing.T) {
	for _, tc := range []struct {
		typ, text, hex string
	}{
		{"bool", "t", "01"},
		{"bool", "f", "00"},
		{"int2", "-2", "fffe"},
		{"int4", "1", "00000001"},
		{"int8", "-1", "ffffffffffffffff"},
		{"float4", "1.5", "3fc00000"},
		{"float8", "-2", "c000000000000000"},
		{"oid", "4294967295", "ffffffff"},
		{"numeric", "12345.678", "0003" + "0001" + "0000" + "0003" + "0001" + "0929" + "1a7c"},
		{"numeric", "-1.5", "0002" + "0000" + "4000" + "0001" + "0001" + "1388"},
		{"numeric", "0.00", "0000" + "0000" + "0000" + "0002"},
		{"numeric", "100000000", "0001" + "0002" + "0000" + "0000" + "0001"},
		{"numeric", "0.0001", "0001" + "ffff" + "0000" + "0004" + "0001"},
		{"numeric", "NaN", "0000" + "0000" + "c000" + "0000"},
		{"numeric", "Infinity", "0000" + "0000" + "d000" + "0000"},
		{"numeric", "-Infinity", "0000" + "0000" + "f000" + "0000"},
		{"text", "hé", "68c3a9"},
		{"char(3)", "a", "612020"},
		{"bytea", `\x00ff`, "00ff"},
		{"date", "2000-01-02", "00000001"},
		{"date", "1999-12-31", "ffffffff"},
		{"date", "infinity", "7fffffff"},
		{"date", "-infinity", "80000000"},
		{"timestamp", "2000-01-01 00:00:01", "00000000000f4240"},
		{"timestamp", "infinity", "7fffffffffffffff"},
		{"timestamptz", "2000-01-01 00:00:00-00:00:01", "00000000000f4240"},
		{"timestamptz", "-infinity", "8000000000000000"},
		{"interval", "1 mon 2 days 00:00:03", "00000000002dc6c0" + "00000002" + "00000001"},
		{"uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc999c0b4ef8bb6d6bb9bd380a11"},
		{"jsonb", `{"a":1}`, "01" + hex.EncodeToString([]byte(`{"a": 1}`))},
		{"int4[]", "{1,NULL}", "00000001" + "00000001" + "00000017" + "00000002" + "00000001" + "00000004" + "00000001" + "ffffffff"},
		{"text[]", "{}", "00000000" + "00000000" + "00000019"},
	} {
		typ := mustType(t, tc.typ)
		d, err := ParseText(tc.text, typ, nil)
		if err != nil {
			t.Fatalf("%s %q: %v", tc.typ, tc.text, err)
		}
		if got := hex.EncodeToString(AppendBinary(nil, d, typ)); got != tc.hex {
			t.Errorf("%s %q: binary %s, want %s", tc.typ, tc.text, got, tc.hex)
		}
		b, _ := hex.DecodeString(tc.hex)
		back, err := ParseBinary(b, typ)
		if err != nil {
			t.Errorf("%s %s: %v", tc.typ, tc.hex, err)
		} else if Compare(back, d) != 0 {
			t.Errorf("%s %s reads as %s, want %s", tc.typ, tc.hex, back, d)
		}
	}
}

func TestBinaryErrors(t *testing.T) {
	for _, tc := range []struct {
		typ, hex, code string
	}{
		{"int4", "000001", "22P03"},
		{"int4", "0000000100", "22P03"},
		{"int2", "00000001", "22P03"},
		{"bool", "", "22P03"},
		{"float8", "00", "22P03"},
		{"uuid", "00", "22P03"},
		{"interval", "00", "22P03"},
		{"numeric", "0001", "22P03"},
		{"numeric", "0001000000000000", "22P03"},          // ndigits 1, no digit
		{"numeric", "00010000000000002710", "22P03"},      // digit 10000
		{"numeric", "0000000012340000", "22P03"},          // bad sign
		{"numeric(3,1)", "00010001000000000001", "22003"}, // 10000 > numeric(3,1)
		{"jsonb", "027b7d", "22P03"},
		{"jsonb", "", "22P03"},
		{"jsonb", "017b", "22P02"},
		{"text", "ff", "22021"},
		{"text", "6100", "22021"},
		{"varchar(1)", "6162", "22001"},
		{"date", "7ffffffe", "22008"},
		{"timestamp", "7ffffffffffffffe", "22008"},
		{"int4[]", "00000001", "22P03"},
		{"int4[]", "000000010000000000000014", "42804"},                         // int8 elements
		{"int4[]", "000000020000000000000017", "0A000"},                         // 2 dimensions
		{"int4[]", "0000000100000002000000170000000100000001ffffffff", "22P03"}, // flags 2
		{"int4[]", "00000001000000000000001700000001000000010000000400000001ffff", "22P03"},
		{"int4[]", "000000010000000000000017000000010000000000000004" + "00000001", "0A000"}, // lower bound 0
		{"int4[]", "00000001000000000000001700000002000000010000000400000001", "22P03"},
	} {
		typ := mustType(t, tc.typ)
		b, err := hex.DecodeString(tc.hex)
		if err != nil {
			t.Fatal(err)
		}
		d, err := ParseBinary(b, typ)
		if got := sqlerr.CodeOf(err); got != tc.code {
			t.Errorf("%s %s: %v, %v; want code %s", tc.typ, tc.hex, d, err, tc.code)
		}
	}
}
