package types

import (
	"testing"
	"time"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
)

func TestCast(t *testing.T) {
	const (
		e = CoercionExplicit
		a = CoercionAssignment
	)
	ist := &Settings{Location: time.FixedZone("", 5*3600+1800)}
	pst := &Settings{Location: time.FixedZone("", -8*3600)}
	for _, tc := range []struct {
		from, in, to string
		ctx          CoercionContext
		set          *Settings
		out, code    string
	}{
		// numeric → int: half away from zero.
		{from: "numeric", in: "1.5", to: "int4", out: "2"},
		{from: "numeric", in: "-1.5", to: "int4", out: "-2"},
		{from: "numeric", in: "2.5", to: "int4", out: "3"},
		{from: "numeric", in: "2.4999", to: "int4", out: "2"},
		{from: "numeric", in: "2147483647.4", to: "int4", out: "2147483647"},
		{from: "numeric", in: "2147483647.5", to: "int4", code: "22003"},
		{from: "numeric", in: "NaN", to: "int4", code: "0A000"},
		{from: "numeric", in: "-Infinity", to: "int8", code: "0A000"},
		{from: "numeric", in: "32767.5", to: "int2", code: "22003"},
		{from: "numeric", in: "9223372036854775807", to: "int8", out: "9223372036854775807"},
		{from: "numeric", in: "9223372036854775808", to: "int8", code: "22003"},
		{from: "numeric", in: "-9223372036854775808.4", to: "int8", out: "-9223372036854775808"},
		{from: "numeric", in: "1e100", to: "int8", code: "22003"},
		// float → int: half to even.
		{from: "float8", in: "2.5", to: "int4", out: "2"},
		{from: "float8", in: "3.5", to: "int4", out: "4"},
		{from: "float8", in: "-2.5", to: "int4", out: "-2"},
		{from: "float8", in: "2147483647.4", to: "int4", out: "2147483647"},
		{from: "float8", in: "2147483647.5", to: "int4", code: "22003"},
		{from: "float8", in: "-2147483648.5", to: "int4", out: "-2147483648"},
		{from: "float8", in: "NaN", to: "int4", code: "22003"},
		{from: "float8", in: "Infinity", to: "int2", code: "22003"},
		{from: "float8", in: "9223372036854775807", to: "int8", code: "22003"},
		{from: "float8", in: "-9223372036854775808", to: "int8", out: "-9223372036854775808"},
		{from: "float4", in: "1.5", to: "int2", out: "2"},
		// int ↔ int, bool, float.
		{from: "int8", in: "2147483648", to: "int4", code: "22003"},
		{from: "int4", in: "32768", to: "int2", code: "22003"},
		{from: "int2", in: "-5", to: "int8", out: "-5"},
		{from: "int4", in: "0", to: "bool", out: "f"},
		{from: "int4", in: "5", to: "bool", out: "t"},
		{from: "bool", in: "t", to: "int4", out: "1"},
		{from: "bool", in: "t", to: "int8", code: "42846"},
		{from: "int8", in: "1", to: "bool", code: "42846"},
		{from: "int4", in: "16777217", to: "float4", out: "1.6777216e+07"},
		{from: "int8", in: "9007199254740993", to: "float8", out: "9.007199254740992e+15"},
		// float ↔ float.
		{from: "float8", in: "1e300", to: "float4", code: "22003"},
		{from: "float8", in: "1e-300", to: "float4", code: "22003"},
		{from: "float8", in: "0.1", to: "float4", out: "0.1"},
		{from: "float8", in: "-Infinity", to: "float4", out: "-Infinity"},
		{from: "float4", in: "0.1", to: "float8", out: "0.10000000149011612"},
		// float ↔ numeric.
		{from: "float8", in: "0.1", to: "numeric", out: "0.1"},
		{from: "float8", in: "1.0000000000000002", to: "numeric", out: "1"},
		{from: "float8", in: "123456789.123456789", to: "numeric", out: "123456789.123457"},
		{from: "float8", in: "1e20", to: "numeric", out: "100000000000000000000"},
		{from: "float8", in: "1e-20", to: "numeric", out: "0.00000000000000000001"},
		{from: "float8", in: "NaN", to: "numeric", out: "NaN"},
		{from: "float8", in: "-Infinity", to: "numeric", out: "-Infinity"},
		{from: "float4", in: "0.1", to: "numeric", out: "0.1"},
		{from: "float4", in: "1234567", to: "numeric", out: "1234570"},
		{from: "float8", in: "2.675", to: "numeric(5,2)", out: "2.68"},
		{from: "numeric", in: "1.5", to: "float8", out: "1.5"},
		{from: "numeric", in: "0.1", to: "float4", out: "0.1"},
		{from: "numeric", in: "1e400", to: "float8", code: "22003"},
		{from: "numeric", in: "NaN", to: "float8", out: "NaN"},
		{from: "numeric", in: "Infinity", to: "float4", out: "Infinity"},
		// numeric(p,s) and int → numeric.
		{from: "numeric", in: "123.456", to: "numeric(5,2)", out: "123.46"},
		{from: "numeric", in: "1234.5", to: "numeric(5,2)", code: "22003"},
		{from: "int4", in: "99", to: "numeric(3,1)", out: "99.0"},
		{from: "int4", in: "100", to: "numeric(3,1)", code: "22003"},
		{from: "int8", in: "-9223372036854775808", to: "numeric", out: "-9223372036854775808"},
		// Strings: length checks.
		{from: "text", in: "abcdef", to: "varchar(3)", out: "abc"},
		{from: "text", in: "abcdef", to: "varchar(3)", ctx: a, code: "22001"},
		{from: "text", in: "ab   ", to: "varchar(3)", ctx: a, out: "ab "},
		{from: "text", in: "ééééé", to: "varchar(3)", out: "ééé"},
		{from: "text", in: "abcdef", to: "char(3)", out: "abc"},
		{from: "text", in: "abcdef", to: "char(3)", ctx: a, code: "22001"},
		{from: "text", in: "ab", to: "char(3)", ctx: a, out: "ab "},
		{from: "char(3)", in: "ab", to: "text", out: "ab"},
		{from: "char(5)", in: "ab", to: "varchar(5)", out: "ab"},
		{from: "varchar(5)", in: "abc", to: "char(2)", out: "ab"},
		{from: "text", in: "abc", to: "char", out: "a"},
		// To text: the output function, bool as true/false.
		{from: "int4", in: "42", to: "text", out: "42"},
		{from: "bool", in: "t", to: "text", out: "true"},
		{from: "bool", in: "f", to: "varchar(3)", out: "fal"},
		{from: "bool", in: "f", to: "varchar(3)", ctx: a, code: "22001"},
		{from: "float4", in: "0.1", to: "text", out: "0.1"},
		{from: "float8", in: "1e100", to: "text", out: "1e+100"},
		{from: "numeric", in: "1.50", to: "text", out: "1.50"},
		{from: "date", in: "2024-01-02", to: "text", out: "2024-01-02"},
		{from: "timestamptz", in: "2024-01-02 03:04:05+00", to: "text", set: ist, out: "2024-01-02 08:34:05+05:30"},
		{from: "interval", in: "1 day 2 hours", to: "text", out: "1 day 02:00:00"},
		{from: "jsonb", in: `{"a":1}`, to: "text", out: `{"a": 1}`},
		{from: "uuid", in: "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", to: "text", out: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{from: "bytea", in: `\x0102`, to: "text", out: `\x0102`},
		{from: "int4[]", in: "{1,NULL}", to: "text", out: "{1,NULL}"},
		{from: "char(3)[]", in: "{a}", to: "text", out: `{"a  "}`},
		// From text: the input function.
		{from: "text", in: " 42 ", to: "int4", out: "42"},
		{from: "text", in: "4x", to: "int4", code: "22P02"},
		{from: "text", in: "yes", to: "bool", out: "t"},
		{from: "text", in: "2024-01-02", to: "date", out: "2024-01-02"},
		{from: "text", in: `{"b":1,"a":2}`, to: "jsonb", out: `{"a": 2, "b": 1}`},
		{from: "text", in: "{1,2}", to: "int4[]", out: "{1,2}"},
		{from: "text", in: "1 day", to: "interval", out: "1 day"},
		{from: "text", in: "abc", to: "bytea", out: `\x616263`},
		{from: "varchar(5)", in: "1.255", to: "numeric(3,2)", out: "1.26"},
		{from: "unknown", in: "42", to: "int2", out: "42"},
		{from: "unknown", in: "x", to: "uuid", code: "22P02"},
		// Dates and timestamps through the session's zone.
		{from: "timestamp", in: "2024-01-02 03:04:05", to: "timestamptz", out: "2024-01-02 03:04:05+00"},
		{from: "timestamp", in: "2024-01-02 03:04:05", to: "timestamptz", set: ist, out: "2024-01-02 03:04:05+05:30"},
		{from: "timestamptz", in: "2024-01-02 03:04:05+00", to: "timestamp", set: ist, out: "2024-01-02 08:34:05"},
		{from: "timestamptz", in: "2024-01-02 03:04:05+00", to: "date", set: pst, out: "2024-01-01"},
		{from: "timestamptz", in: "infinity", to: "timestamp", out: "infinity"},
		{from: "timestamp", in: "-infinity", to: "timestamptz", set: ist, out: "-infinity"},
		{from: "timestamp", in: "2024-01-02 23:59:59.999999", to: "date", out: "2024-01-02"},
		{from: "timestamp", in: "0001-01-01 10:00:00 BC", to: "date", out: "0001-01-01 BC"},
		{from: "timestamp", in: "infinity", to: "date", out: "infinity"},
		{from: "date", in: "2024-01-02", to: "timestamp", out: "2024-01-02 00:00:00"},
		{from: "date", in: "-infinity", to: "timestamp", out: "-infinity"},
		{from: "date", in: "2024-01-02", to: "timestamptz", set: ist, out: "2024-01-02 00:00:00+05:30"},
		{from: "date", in: "5874897-12-31", to: "timestamp", code: "22008"},
		{from: "timestamp", in: "2024-01-02 03:04:05.5", to: "timestamp(0)", out: "2024-01-02 03:04:06"},
		{from: "timestamptz", in: "2024-01-02 03:04:05.5+00", to: "timestamp(1)", out: "2024-01-02 03:04:05.5"},
		// jsonb → scalars.
		{from: "jsonb", in: "1.5", to: "int4", out: "2"},
		{from: "jsonb", in: `"a"`, to: "int4", code: "22023"},
		{from: "jsonb", in: "null", to: "int4", code: "22023"},
		{from: "jsonb", in: "true", to: "bool", out: "t"},
		{from: "jsonb", in: "{}", to: "bool", code: "22023"},
		{from: "jsonb", in: "1.50", to: "numeric", out: "1.50"},
		{from: "jsonb", in: "1e2", to: "float8", out: "100"},
		{from: "jsonb", in: "[1]", to: "float4", code: "22023"},
		// Arrays element by element.
		{from: "int4[]", in: "{1,NULL}", to: "int8[]", out: "{1,NULL}"},
		{from: "int8[]", in: "{40000}", to: "int2[]", code: "22003"},
		{from: "text[]", in: "{1,2}", to: "int4[]", out: "{1,2}"},
		{from: "numeric[]", in: "{1.25,NULL}", to: "numeric(3,1)[]", out: "{1.3,NULL}"},
		{from: "text[]", in: "{abcd}", to: "varchar(2)[]", out: "{ab}"},
		{from: "text[]", in: "{abcd}", to: "varchar(2)[]", ctx: a, code: "22001"},
		{from: "int4[]", in: "{1}", to: "date[]", code: "42846"},
		// oid.
		{from: "int4", in: "-1", to: "oid", out: "4294967295"},
		{from: "int8", in: "-1", to: "oid", code: "22003"},
		{from: "int8", in: "4294967295", to: "oid", out: "4294967295"},
		{from: "oid", in: "4294967295", to: "int4", out: "-1"},
		{from: "oid", in: "4294967295", to: "int8", out: "4294967295"},
		// No such cast.
		{from: "uuid", in: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", to: "bytea", code: "42846"},
		{from: "date", in: "2024-01-02", to: "int4", code: "42846"},
		{from: "interval", in: "1 day", to: "date", code: "42846"},
		{from: "int4", in: "1", to: "jsonb", code: "42846"},
		{from: "int4", in: "1", to: "int4[]", code: "42846"},
	} {
		from, to := mustType(t, tc.from), mustType(t, tc.to)
		ctx := tc.ctx
		if ctx == 0 {
			ctx = e
		}
		d, err := ParseText(tc.in, from, tc.set)
		if err != nil {
			t.Fatalf("%s %q: %v", tc.from, tc.in, err)
		}
		got, err := Caster{Context: ctx, Settings: tc.set}.Cast(d, from, to)
		name := tc.from + " " + tc.in + " → " + tc.to
		if tc.code != "" {
			if code := sqlerr.CodeOf(err); code != tc.code {
				t.Errorf("%s: %v, %v; want code %s", name, got, err, tc.code)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if s := FormatText(got, to, tc.set); s != tc.out {
			t.Errorf("%s = %q, want %q", name, s, tc.out)
		}
	}
}

func TestCastNullAndDefaults(t *testing.T) {
	for _, to := range []*Type{Int4, Text, JSONB, Int4Array} {
		if d, err := Cast(DNull, to); err != nil || d != DNull {
			t.Errorf("Cast(NULL, %s) = %v, %v", to, d, err)
		}
	}
	// Without a source type, a DFloat is a float8.
	if d, err := Cast(DFloat(0.1), Text); err != nil || d != DString("0.1") {
		t.Errorf("Cast(0.1, text) = %v, %v", d, err)
	}
	if d, err := Cast(DString("12"), Int2); err != nil || d != DInt(12) {
		t.Errorf("Cast('12', int2) = %v, %v", d, err)
	}
}

func TestCanCast(t *testing.T) {
	const (
		i = CoercionImplicit
		a = CoercionAssignment
		e = CoercionExplicit
	)
	for _, tc := range []struct {
		from, to string
		ctx      CoercionContext
		want     bool
	}{
		{"int4", "int8", i, true},
		{"int8", "int4", i, false},
		{"int8", "int4", a, true},
		{"int2", "numeric", i, true},
		{"numeric", "float8", i, true},
		{"float8", "numeric", i, false},
		{"float8", "numeric", a, true},
		{"float8", "int4", a, true},
		{"bool", "int4", a, false},
		{"bool", "int4", e, true},
		{"bool", "int8", e, false},
		{"int4", "text", i, false},
		{"int4", "text", a, true},
		{"text", "int4", a, false},
		{"text", "int4", e, true},
		{"text", "varchar(3)", i, true},
		{"varchar(3)", "text", i, true},
		{"name", "varchar", i, false},
		{"name", "text", i, true},
		{"date", "timestamptz", i, true},
		{"timestamp", "timestamptz", i, true},
		{"timestamptz", "timestamp", i, false},
		{"timestamptz", "date", a, true},
		{"int4[]", "int8[]", i, true},
		{"int8[]", "int4[]", i, false},
		{"uuid", "bytea", e, false},
		{"unknown", "uuid", i, true},
		{"jsonb", "int4", a, false},
		{"jsonb", "int4", e, true},
		{"jsonb", "text", a, true},
		{"text", "jsonb", e, true},
		{"int4", "oid", i, true},
		{"oid", "int8", a, true},
		{"interval", "date", e, false},
		{"numeric(5,2)", "numeric", i, true},
	} {
		if got := CanCast(mustType(t, tc.from), mustType(t, tc.to), tc.ctx); got != tc.want {
			t.Errorf("CanCast(%s, %s, %d) = %v", tc.from, tc.to, tc.ctx, got)
		}
	}
}
