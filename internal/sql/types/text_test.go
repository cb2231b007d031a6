package types

import (
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
)

func mustType(t testing.TB, name string) *Type {
	t.Helper()
	typ, err := TypeByName(name)
	if err != nil {
		t.Fatalf("TypeByName(%q): %v", name, err)
	}
	return typ
}

// textCase is one text input and the output PostgreSQL prints for it, or
// the SQLSTATE its input function fails with.
type textCase struct {
	in, out, code string
}

// The expected outputs are PostgreSQL 16's (psql with the default
// DateStyle ISO, MDY, IntervalStyle postgres, TimeZone UTC,
// extra_float_digits 1).
var textCases = map[string][]textCase{
	"bool": {
		{in: "t", out: "t"}, {in: "TRUE", out: "t"}, {in: " yes ", out: "t"}, {in: "on", out: "t"},
		{in: "1", out: "t"}, {in: "tru", out: "t"}, {in: "y", out: "t"},
		{in: "f", out: "f"}, {in: "False", out: "f"}, {in: "NO", out: "f"}, {in: "off", out: "f"},
		{in: "of", out: "f"}, {in: "0", out: "f"},
		{in: "o", code: "22P02"}, {in: "truex", code: "22P02"}, {in: "", code: "22P02"},
		{in: "2", code: "22P02"}, {in: "onn", code: "22P02"},
	},
	"int2": {
		{in: "32767", out: "32767"}, {in: "-32768", out: "-32768"}, {in: " 12 ", out: "12"},
		{in: "+5", out: "5"}, {in: "1_000", out: "1000"}, {in: "0x1F", out: "31"},
		{in: "0o17", out: "15"}, {in: "0b101", out: "5"}, {in: "-0x8000", out: "-32768"},
		{in: "32768", code: "22003"}, {in: "-32769", code: "22003"},
		{in: "1__0", code: "22P02"}, {in: "_1", code: "22P02"}, {in: "1_", code: "22P02"},
		{in: "abc", code: "22P02"}, {in: "", code: "22P02"}, {in: "1.5", code: "22P02"},
		{in: "0x", code: "22P02"}, {in: "- 1", code: "22P02"}, {in: "0b102", code: "22P02"},
	},
	"integer": {
		{in: "2147483647", out: "2147483647"}, {in: "-2147483648", out: "-2147483648"},
		{in: "2147483648", code: "22003"}, {in: "-2147483649", code: "22003"},
	},
	"bigint": {
		{in: "9223372036854775807", out: "9223372036854775807"},
		{in: "-9223372036854775808", out: "-9223372036854775808"},
		{in: "9223372036854775808", code: "22003"}, {in: "-9223372036854775809", code: "22003"},
		{in: "99999999999999999999999", code: "22003"},
		{in: "0x7FFFFFFFFFFFFFFF", out: "9223372036854775807"},
	},
	"float8": {
		{in: "1.5", out: "1.5"}, {in: "0.1", out: "0.1"}, {in: "1e15", out: "1e+15"},
		{in: "1e14", out: "100000000000000"}, {in: "123456789012345678", out: "1.2345678901234568e+17"},
		{in: "0.0001", out: "0.0001"}, {in: "0.00001", out: "1e-05"}, {in: "-0", out: "-0"},
		{in: "NaN", out: "NaN"}, {in: "nan", out: "NaN"}, {in: "inf", out: "Infinity"},
		{in: "-Infinity", out: "-Infinity"}, {in: "+infinity", out: "Infinity"},
		{in: "3.141592653589793", out: "3.141592653589793"},
		{in: "1.7976931348623157e308", out: "1.7976931348623157e+308"},
		{in: "4.9e-324", out: "5e-324"}, {in: " 2 ", out: "2"}, {in: "1000000", out: "1000000"},
		{in: "-1.25e-7", out: "-1.25e-07"}, {in: "1E2", out: "100"},
		{in: "1e400", code: "22003"}, {in: "1e-400", code: "22003"}, {in: "abc", code: "22P02"},
		{in: "", code: "22P02"}, {in: "1_0", code: "22P02"}, {in: "1.5x", code: "22P02"},
	},
	"real": {
		{in: "0.1", out: "0.1"}, {in: "1e6", out: "1e+06"}, {in: "100000", out: "100000"},
		{in: "3.4028235e38", out: "3.4028235e+38"}, {in: "16777217", out: "1.6777216e+07"},
		{in: "1.17549435e-38", out: "1.1754944e-38"}, {in: "NaN", out: "NaN"},
		{in: "1e39", code: "22003"}, {in: "1e-50", code: "22003"},
	},
	"numeric": {
		{in: "1.50", out: "1.50"}, {in: "  -0.0 ", out: "0.0"}, {in: "1e3", out: "1000"},
		{in: "1.5e-3", out: "0.0015"}, {in: ".5", out: "0.5"}, {in: "5.", out: "5"},
		{in: "1.50e1", out: "15.0"}, {in: "NaN", out: "NaN"}, {in: "infinity", out: "Infinity"},
		{in: "-inf", out: "-Infinity"}, {in: "1_000.5", out: "1000.5"}, {in: "0x10", out: "16"},
		{in: "-0x10", out: "-16"}, {in: "+12.340", out: "12.340"}, {in: "0X-1", code: "22P02"},
		{in: "123456789012345678901234567890.123456789", out: "123456789012345678901234567890.123456789"},
		{in: "abc", code: "22P02"}, {in: "1e", code: "22P02"}, {in: ".", code: "22P02"},
		{in: "", code: "22P02"}, {in: "1.2.3", code: "22P02"}, {in: "-NaN", code: "22P02"},
		{in: "1e-20000", code: "22003"}, {in: "1e200000", code: "22003"},
	},
	"numeric(5,2)": {
		{in: "1.005", out: "1.01"}, {in: "-1.005", out: "-1.01"}, {in: "999.994", out: "999.99"},
		{in: "1", out: "1.00"}, {in: "NaN", out: "NaN"}, {in: "0.001", out: "0.00"},
		{in: "999.995", code: "22003"}, {in: "1000", code: "22003"}, {in: "Infinity", code: "22003"},
	},
	"numeric(3,0)": {
		{in: "999.4", out: "999"}, {in: "-0.5", out: "-1"}, {in: "0.5", out: "1"}, {in: "999.5", code: "22003"},
	},
	"numeric(2,-1)": {
		{in: "123", out: "120"}, {in: "125", out: "130"}, {in: "995", code: "22003"},
	},
	"numeric(3,5)": {
		{in: "0.001234", out: "0.00123"}, {in: "0.01", code: "22003"},
	},
	"text": {
		{in: "héllo wörld", out: "héllo wörld"}, {in: "", out: ""}, {in: "a\x00b", code: "22021"},
		{in: "\xff", code: "22021"},
	},
	"varchar(3)": {
		{in: "abc", out: "abc"}, {in: "héé", out: "héé"}, {in: "ab  ", out: "ab "},
		{in: "abcd", code: "22001"}, {in: "ab c", code: "22001"},
	},
	"char(3)": {
		{in: "ab", out: "ab "}, {in: "", out: "   "}, {in: "ab   ", out: "ab "}, {in: "é", out: "é  "},
		{in: "abcd", code: "22001"},
	},
	"char": {
		{in: "a", out: "a"}, {in: "ab", code: "22001"},
	},
	"name": {
		{in: strings.Repeat("x", 70), out: strings.Repeat("x", 63)},
	},
	"bytea": {
		{in: `\x0102ff`, out: `\x0102ff`}, {in: `\x01 02`, out: `\x0102`}, {in: `\xABcd`, out: `\xabcd`},
		{in: "abc", out: `\x616263`}, {in: `a\\b`, out: `\x615c62`}, {in: `\001\377`, out: `\x01ff`},
		{in: "", out: `\x`}, {in: `\x`, out: `\x`},
		{in: `\x0`, code: "22023"}, {in: `\xzz`, code: "22023"}, {in: `\9`, code: "22P02"}, {in: `a\`, code: "22P02"},
	},
	"date": {
		{in: "2024-01-02", out: "2024-01-02"}, {in: "20240102", out: "2024-01-02"},
		{in: "2024-1-2", out: "2024-01-02"}, {in: "2024/01/02", out: "2024-01-02"},
		{in: "0044-03-15 BC", out: "0044-03-15 BC"}, {in: "infinity", out: "infinity"},
		{in: "-infinity", out: "-infinity"}, {in: "epoch", out: "1970-01-01"},
		{in: "2024-01-02 10:00:00", out: "2024-01-02"}, {in: "2024-01-02T10:00:00+05", out: "2024-01-02"},
		{in: "4714-11-24 BC", out: "4714-11-24 BC"}, {in: "5874897-12-31", out: "5874897-12-31"},
		{in: "2000-02-29", out: "2000-02-29"}, {in: " 2024-01-02 ", out: "2024-01-02"},
		{in: "2024-02-30", code: "22008"}, {in: "1900-02-29", code: "22008"},
		{in: "0000-01-01", code: "22008"}, {in: "2024-13-01", code: "22008"},
		{in: "4714-11-23 BC", code: "22008"}, {in: "5874898-01-01", code: "22008"},
		{in: "garbage", code: "22007"}, {in: "2024-01", code: "22007"}, {in: "2024-01-02 x", code: "22007"},
	},
	"timestamp": {
		{in: "2024-01-02 03:04:05.123456", out: "2024-01-02 03:04:05.123456"},
		{in: "2024-01-02T03:04:05", out: "2024-01-02 03:04:05"},
		{in: "2024-01-02 03:04:05+05", out: "2024-01-02 03:04:05"},
		{in: "2024-01-02T03:04:05Z", out: "2024-01-02 03:04:05"},
		{in: "2024-01-02", out: "2024-01-02 00:00:00"},
		{in: "2024-01-02 03:04", out: "2024-01-02 03:04:00"},
		{in: "2024-01-02 03:04:05.1", out: "2024-01-02 03:04:05.1"},
		{in: "2024-01-02 03:04:05.1234567", out: "2024-01-02 03:04:05.123457"},
		{in: "2024-01-02 03:04:05.1234565", out: "2024-01-02 03:04:05.123456"},
		{in: "2024-01-02 03:04:05.9999999", out: "2024-01-02 03:04:06"},
		{in: "2024-01-02 24:00:00", out: "2024-01-03 00:00:00"},
		{in: "2024-01-02 23:59:60", out: "2024-01-03 00:00:00"},
		{in: "infinity", out: "infinity"}, {in: "-infinity", out: "-infinity"},
		{in: "epoch", out: "1970-01-01 00:00:00"},
		{in: "0001-01-01 00:00:00 BC", out: "0001-01-01 00:00:00 BC"},
		{in: "294276-12-31 23:59:59.999999", out: "294276-12-31 23:59:59.999999"},
		{in: "4714-11-24 00:00:00 BC", out: "4714-11-24 00:00:00 BC"},
		{in: "2024-01-02 03:04:05 Europe/Nowhere", code: "22023"},
		{in: "2024-01-02 24:00:01", code: "22008"}, {in: "2024-01-02 25:00", code: "22008"},
		{in: "2024-01-02 03:60", code: "22008"},
		{in: "294277-01-01 00:00:00", code: "22008"}, {in: "4714-11-23 23:59:59 BC", code: "22008"},
		{in: "2024-01-02 03", code: "22007"}, {in: "2024-01-02T", code: "22007"},
		{in: "2024-01-02 03:04:05.", code: "22007"}, {in: "now-ish", code: "22007"},
	},
	"timestamptz": {
		{in: "2024-01-02 03:04:05+02", out: "2024-01-02 01:04:05+00"},
		{in: "2024-01-02T03:04:05Z", out: "2024-01-02 03:04:05+00"},
		{in: "2024-01-02T03:04:05z", out: "2024-01-02 03:04:05+00"},
		{in: "2024-01-02 03:04:05.5-08:30", out: "2024-01-02 11:34:05.5+00"},
		{in: "2024-01-02 03:04:05 +0530", out: "2024-01-01 21:34:05+00"},
		{in: "2024-01-02 03:04:05 UTC", out: "2024-01-02 03:04:05+00"},
		{in: "2024-01-02 03:04:05", out: "2024-01-02 03:04:05+00"},
		{in: "2024-01-02 03:04:05-01:02:03", out: "2024-01-02 04:06:08+00"},
		{in: "2024-01-02 03:04:05+16", code: "22009"},
		{in: "2024-01-02 03:04:05+05:60", code: "22007"},
		{in: "epoch", out: "1970-01-01 00:00:00+00"},
	},
	"interval": {
		{in: "1 year 2 months 3 days 4 hours 5 minutes 6 seconds", out: "1 year 2 mons 3 days 04:05:06"},
		{in: "1 day", out: "1 day"}, {in: "2 days", out: "2 days"},
		{in: "-1 days 2 hours 3 minutes", out: "-1 days +02:03:00"},
		{in: "-1 days +02:03:00", out: "-1 days +02:03:00"},
		{in: "@ 1 minute ago", out: "-00:01:00"}, {in: "1 day ago", out: "-1 days"},
		{in: "1.5 hours", out: "01:30:00"}, {in: "1.5 years", out: "1 year 6 mons"},
		{in: "1.5 months", out: "1 mon 15 days"}, {in: "1.5 days", out: "1 day 12:00:00"},
		{in: "1.5 weeks", out: "10 days 12:00:00"},
		{in: "10:00", out: "10:00:00"}, {in: "1 12:00", out: "1 day 12:00:00"},
		{in: "1-2", out: "1 year 2 mons"}, {in: "5", out: "00:00:05"}, {in: "1.5", out: "00:00:01.5"},
		{in: "P1Y2M3DT4H5M6S", out: "1 year 2 mons 3 days 04:05:06"}, {in: "PT1.5S", out: "00:00:01.5"},
		{in: "P1W", out: "7 days"}, {in: "pt36h", out: "36:00:00"}, {in: "P-1D", out: "-1 days"},
		{in: "0", out: "00:00:00"}, {in: "-1 year -2 mons", out: "-1 years -2 mons"},
		{in: "1 mon -1 days", out: "1 mon -1 days"}, {in: "-1:30", out: "-01:30:00"},
		{in: "100 hours", out: "100:00:00"}, {in: "1 week", out: "7 days"},
		{in: "1 millisecond", out: "00:00:00.001"}, {in: "1 microsecond", out: "00:00:00.000001"},
		{in: "1 decade", out: "10 years"}, {in: "1 century", out: "100 years"},
		{in: "2 millennia", out: "2000 years"}, {in: "1day", out: "1 day"},
		{in: "1 y 2 mon 3 d 4 h 5 m 6 s", out: "1 year 2 mons 3 days 04:05:06"},
		{in: "3 mins 4.5 secs", out: "00:03:04.5"}, {in: "-0.5 days", out: "-12:00:00"},
		{in: "12:34:56.789", out: "12:34:56.789"},
		{in: "abc", code: "22007"}, {in: "1 fortnight", code: "22007"}, {in: "", code: "22007"},
		{in: "P", code: "22007"}, {in: "P1H", code: "22007"}, {in: "1 2", code: "22007"},
		{in: "3000000000 days", code: "22008"}, {in: "300000000 years", code: "22008"},
	},
	"uuid": {
		{in: "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", out: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{in: "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", out: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{in: "a0eebc999c0b4ef8bb6d6bb9bd380a11", out: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{in: "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11", out: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{in: "{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}", out: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{in: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", code: "22P02"},
		{in: "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", code: "22P02"},
		{in: "-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", code: "22P02"},
		{in: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-", code: "22P02"},
		{in: "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11", code: "22P02"},
	},
	"jsonb": {
		{in: `{"b": [1, 2], "a": 1}`, out: `{"a": 1, "b": [1, 2]}`},
		{in: `{"aa":1, "b":2}`, out: `{"b": 2, "aa": 1}`},
		{in: `{"a":1,"a":2}`, out: `{"a": 2}`},
		{in: ` [1, 2.50, 1e2, -0, 1.0E-2] `, out: `[1, 2.50, 100, 0, 0.010]`},
		{in: `"a\u00e9\n\/"`, out: `"aé\n/"`}, {in: `"\ud83d\ude00"`, out: `"😀"`},
		{in: `"\u001f"`, out: `"\u001f"`}, {in: `true`, out: `true`}, {in: `null`, out: `null`},
		{in: `[]`, out: `[]`}, {in: `{}`, out: `{}`}, {in: `{"a":{"c":[{}],"b":null}}`, out: `{"a": {"b": null, "c": [{}]}}`},
		{in: `9223372036854775808`, out: `9223372036854775808`},
		{in: `"\u0000"`, code: "22P05"}, {in: `{"a":1,}`, code: "22P02"}, {in: `01`, code: "22P02"},
		{in: `nul`, code: "22P02"}, {in: `TRUE`, code: "22P02"}, {in: `1.`, code: "22P02"},
		{in: `-`, code: "22P02"}, {in: `[1,2`, code: "22P02"}, {in: `{"a"}`, code: "22P02"},
		{in: `{1:2}`, code: "22P02"}, {in: `'a'`, code: "22P02"}, {in: "\"a\nb\"", code: "22P02"},
		{in: `"\v"`, code: "22P02"}, {in: `"\ude00"`, code: "22P02"}, {in: ``, code: "22P02"},
		{in: `1 2`, code: "22P02"}, {in: `truex`, code: "22P02"},
	},
	"json": {
		{in: `{"b":1,"a":2}`, out: `{"a": 2, "b": 1}`},
	},
	"int4[]": {
		{in: "{1,2,NULL}", out: "{1,2,NULL}"}, {in: " { 1 , 2 } ", out: "{1,2}"}, {in: "{}", out: "{}"},
		{in: "{null}", out: "{NULL}"}, {in: "[1:2]={1,2}", out: "{1,2}"}, {in: `{"3"}`, out: "{3}"},
		{in: "{{1},{2}}", code: "0A000"}, {in: "[0:1]={1,2}", code: "0A000"},
		{in: "{1,2", code: "22P02"}, {in: "{1,a}", code: "22P02"}, {in: "1,2", code: "22P02"},
		{in: "{1,,2}", code: "22P02"}, {in: "{1}x", code: "22P02"}, {in: "[1:3]={1,2}", code: "22P02"},
		{in: "{1,99999999999}", code: "22003"},
	},
	"text[]": {
		{in: `{a,"b c","",NULL,"NULL","x\"y","a\\b"}`, out: `{a,"b c","",NULL,"NULL","x\"y","a\\b"}`},
		{in: `{ a b }`, out: `{"a b"}`}, {in: `{"{"}`, out: `{"{"}`}, {in: `{a\,b}`, out: `{"a,b"}`},
		{in: `{\NULL}`, out: `{"NULL"}`}, {in: `{ "a" , b\  }`, out: `{a,"b "}`}, {in: `{null,Null}`, out: `{NULL,NULL}`},
		{in: `{a"b}`, code: "22P02"}, {in: `{"a}`, code: "22P02"}, {in: `{"a" "b"}`, code: "22P02"},
		{in: `{"a"b}`, code: "22P02"},
	},
	"bytea[]": {
		{in: `{"\\x0102"}`, out: `{"\\x0102"}`},
	},
	"varchar(2)[]": {
		{in: `{ab,a}`, out: `{ab,a}`}, {in: `{ab,abc}`, code: "22001"},
	},
	"char(2)[]": {
		{in: `{a,b}`, out: `{"a ","b "}`},
	},
	"float4[]": {
		{in: `{0.1,NaN}`, out: `{0.1,NaN}`},
	},
	"date[]": {
		{in: `{2024-01-02,infinity}`, out: `{2024-01-02,infinity}`},
	},
	"timestamp[]": {
		{in: `{"2024-01-02 03:04:05"}`, out: `{"2024-01-02 03:04:05"}`},
	},
	"jsonb[]": {
		{in: `{"{\"a\":1}"}`, out: `{"{\"a\": 1}"}`},
	},
	"oid": {
		{in: "4294967295", out: "4294967295"}, {in: "-1", out: "4294967295"}, {in: "0", out: "0"},
		{in: "4294967296", code: "22003"}, {in: "x", code: "22P02"},
	},
	"timestamp(0)": {
		{in: "2024-01-02 03:04:05.5", out: "2024-01-02 03:04:06"},
		{in: "2024-01-02 03:04:05.4", out: "2024-01-02 03:04:05"},
	},
	"timestamptz(3)": {
		{in: "2024-01-02 03:04:05.12345", out: "2024-01-02 03:04:05.123+00"},
		// PostgreSQL rounds half away from 2000-01-01: earlier, before it.
		{in: "0001-01-01 00:00:00.0005 BC", out: "0001-01-01 00:00:00+00 BC"},
		{in: "0001-01-01 00:00:00.0006 BC", out: "0001-01-01 00:00:00.001+00 BC"},
	},
}

func TestTextInputOutput(t *testing.T) {
	for typeName, cases := range textCases {
		typ := mustType(t, typeName)
		for _, tc := range cases {
			d, err := ParseText(tc.in, typ, nil)
			if tc.code != "" {
				if err == nil {
					t.Errorf("%s: ParseText(%q) = %s, want error %s", typeName, tc.in, FormatText(d, typ, nil), tc.code)
				} else if got := sqlerr.CodeOf(err); got != tc.code {
					t.Errorf("%s: ParseText(%q): %v, want code %s", typeName, tc.in, err, tc.code)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: ParseText(%q): %v", typeName, tc.in, err)
				continue
			}
			if got := FormatText(d, typ, nil); got != tc.out {
				t.Errorf("%s: ParseText(%q) prints %q, want %q", typeName, tc.in, got, tc.out)
			}
			// The output reads back as the same value.
			d2, err := ParseText(FormatText(d, typ, nil), typ, nil)
			if err != nil {
				t.Errorf("%s: re-reading %q: %v", typeName, tc.out, err)
			} else if Compare(d, d2) != 0 {
				t.Errorf("%s: %q reads back as %s", typeName, tc.out, FormatText(d2, typ, nil))
			}
		}
	}
}

func TestTimestampTZSessionZone(t *testing.T) {
	ist := time.FixedZone("IST", 5*3600+1800)
	s := &Settings{Location: ist}
	d, err := ParseText("2024-01-02 03:04:05", TimestampTZ, s)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := FormatText(d, TimestampTZ, s), "2024-01-02 03:04:05+05:30"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := FormatText(d, TimestampTZ, nil), "2024-01-01 21:34:05+00"; got != want {
		t.Errorf("UTC: got %q, want %q", got, want)
	}
	neg := &Settings{Location: time.FixedZone("", -(3*3600 + 25*60 + 52))}
	if got, want := FormatText(d, TimestampTZ, neg), "2024-01-01 18:08:13-03:25:52"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if loc, err := time.LoadLocation("America/New_York"); err == nil {
		s := &Settings{Location: loc}
		for in, want := range map[string]string{
			"2024-07-01 12:00:00":                  "2024-07-01 12:00:00-04",
			"2024-01-01 12:00:00":                  "2024-01-01 12:00:00-05",
			"2024-01-01 12:00:00 Europe/Paris":     "2024-01-01 06:00:00-05",
			"2024-01-01 12:00:00+00":               "2024-01-01 07:00:00-05",
			"1883-11-18 12:00:00 America/New_York": "1883-11-18 12:00:00-04:56:02",
		} {
			d, err := ParseText(in, TimestampTZ, s)
			if err != nil {
				t.Errorf("%q: %v", in, err)
				continue
			}
			if got := FormatText(d, TimestampTZ, s); got != want {
				t.Errorf("%q prints %q, want %q", in, got, want)
			}
		}
	}
}

func TestSpecialDateTimeInputs(t *testing.T) {
	now := time.Date(2024, 3, 10, 23, 30, 0, 123456789, time.UTC)
	s := &Settings{Now: func() time.Time { return now }, Location: time.FixedZone("", 3600)}
	for _, tc := range []struct {
		typ      *Type
		in, want string
	}{
		{Date, "today", "2024-03-11"},
		{Date, "tomorrow", "2024-03-12"},
		{Date, "yesterday", "2024-03-10"},
		{Date, "now", "2024-03-11"},
		{Timestamp, "now", "2024-03-11 00:30:00.123457"},
		{Timestamp, "today", "2024-03-11 00:00:00"},
		{TimestampTZ, "now", "2024-03-11 00:30:00.123457+01"},
		{TimestampTZ, "today", "2024-03-11 00:00:00+01"},
		{TimestampTZ, " Tomorrow ", "2024-03-12 00:00:00+01"},
	} {
		d, err := ParseText(tc.in, tc.typ, s)
		if err != nil {
			t.Errorf("%s %q: %v", tc.typ, tc.in, err)
			continue
		}
		if got := FormatText(d, tc.typ, s); got != tc.want {
			t.Errorf("%s %q = %q, want %q", tc.typ, tc.in, got, tc.want)
		}
	}
}

func TestIntervalOutputEdges(t *testing.T) {
	for _, tc := range []struct {
		d    DInterval
		want string
	}{
		{DInterval{}, "00:00:00"},
		{DInterval{Months: 14, Days: 3, Micros: 4*3600e6 + 5*60e6 + 6e6}, "1 year 2 mons 3 days 04:05:06"},
		{DInterval{Months: -1}, "-1 mons"},
		{DInterval{Months: 1}, "1 mon"},
		{DInterval{Months: 12}, "1 year"},
		{DInterval{Months: -13}, "-1 years -1 mons"},
		{DInterval{Days: -1, Micros: 3600e6}, "-1 days +01:00:00"},
		{DInterval{Days: 1, Micros: -3600e6}, "1 day -01:00:00"},
		{DInterval{Micros: -1}, "-00:00:00.000001"},
		{DInterval{Micros: 1500}, "00:00:00.0015"},
		{DInterval{Micros: -9223372036854775808}, "-2562047788:00:54.775808"},
		{DInterval{Micros: 9223372036854775807}, "2562047788:00:54.775807"},
		{DInterval{Months: -2147483648, Days: -2147483648, Micros: -9223372036854775808},
			"-178956970 years -8 mons -2147483648 days -2562047788:00:54.775808"},
	} {
		if got := FormatText(tc.d, nil, nil); got != tc.want {
			t.Errorf("%+v prints %q, want %q", tc.d, got, tc.want)
		}
		back, err := ParseText(tc.want, Interval, nil)
		if err != nil {
			t.Errorf("%q: %v", tc.want, err)
		} else if back != tc.d {
			t.Errorf("%q reads back as %+v, want %+v", tc.want, back, tc.d)
		}
	}
}
