package types

import (
	"testing"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
)

func TestTypeByName(t *testing.T) {
	for _, tc := range []struct {
		in     string
		name   string // format_type
		oid    Oid
		typmod int32
	}{
		{"int", "integer", 23, -1},
		{"integer", "integer", 23, -1},
		{"INT4", "integer", 23, -1},
		{"pg_catalog.int4", "integer", 23, -1},
		{"smallint", "smallint", 21, -1},
		{"int2", "smallint", 21, -1},
		{"bigint", "bigint", 20, -1},
		{"int8", "bigint", 20, -1},
		{"real", "real", 700, -1},
		{"float4", "real", 700, -1},
		{"float(24)", "real", 700, -1},
		{"float(1)", "real", 700, -1},
		{"float(25)", "double precision", 701, -1},
		{"float", "double precision", 701, -1},
		{"double precision", "double precision", 701, -1},
		{"DOUBLE   PRECISION", "double precision", 701, -1},
		{"float8", "double precision", 701, -1},
		{"numeric", "numeric", 1700, -1},
		{"decimal", "numeric", 1700, -1},
		{"numeric(10,2)", "numeric(10,2)", 1700, 10<<16 | 2 + 4},
		{"decimal(10, 2)", "numeric(10,2)", 1700, 10<<16 | 2 + 4},
		{"numeric(10)", "numeric(10,0)", 1700, 10<<16 + 4},
		{"numeric(3,-2)", "numeric(3,-2)", 1700, 3<<16 | 0x7fe + 4},
		{"text", "text", 25, -1},
		{"varchar", "character varying", 1043, -1},
		{"varchar(10)", "character varying(10)", 1043, 14},
		{"character varying(10)", "character varying(10)", 1043, 14},
		{"char varying(3)", "character varying(3)", 1043, 7},
		{"char", "character(1)", 1042, 5},
		{"character", "character(1)", 1042, 5},
		{"char(5)", "character(5)", 1042, 9},
		{"bpchar", "bpchar", 1042, -1},
		{"name", "name", 19, -1},
		{"bytea", "bytea", 17, -1},
		{"date", "date", 1082, -1},
		{"timestamp", "timestamp without time zone", 1114, -1},
		{"timestamp without time zone", "timestamp without time zone", 1114, -1},
		{"timestamp(3)", "timestamp(3) without time zone", 1114, 3},
		{"timestamp(3) without time zone", "timestamp(3) without time zone", 1114, 3},
		{"timestamptz", "timestamp with time zone", 1184, -1},
		{"timestamp with time zone", "timestamp with time zone", 1184, -1},
		{"timestamp(0) with time zone", "timestamp(0) with time zone", 1184, 0},
		{"timestamptz(9)", "timestamp(6) with time zone", 1184, 6},
		{"interval", "interval", 1186, -1},
		{"bool", "boolean", 16, -1},
		{"boolean", "boolean", 16, -1},
		{"uuid", "uuid", 2950, -1},
		{"jsonb", "jsonb", 3802, -1},
		{"json", "jsonb", 3802, -1},
		{"oid", "oid", 26, -1},
		{"int[]", "integer[]", 1007, -1},
		{"int4[][]", "integer[]", 1007, -1},
		{"integer[3]", "integer[]", 1007, -1},
		{"int array", "integer[]", 1007, -1},
		{"_int4", "integer[]", 1007, -1},
		{"text[]", "text[]", 1009, -1},
		{"varchar(10)[]", "character varying(10)[]", 1015, 14},
		{"numeric(5,1)[]", "numeric(5,1)[]", 1231, 5<<16 | 1 + 4},
		{"bool[]", "boolean[]", 1000, -1},
		{"int2[]", "smallint[]", 1005, -1},
		{"int8[]", "bigint[]", 1016, -1},
		{"float4[]", "real[]", 1021, -1},
		{"float8[]", "double precision[]", 1022, -1},
		{"bpchar[]", "bpchar[]", 1014, -1},
		{"bytea[]", "bytea[]", 1001, -1},
		{"date[]", "date[]", 1182, -1},
		{"timestamp[]", "timestamp without time zone[]", 1115, -1},
		{"timestamptz[]", "timestamp with time zone[]", 1185, -1},
		{"interval[]", "interval[]", 1187, -1},
		{"uuid[]", "uuid[]", 2951, -1},
		{"jsonb[]", "jsonb[]", 3807, -1},
		{"name[]", "name[]", 1003, -1},
		{"oid[]", "oid[]", 1028, -1},
	} {
		typ, err := TypeByName(tc.in)
		if err != nil {
			t.Errorf("TypeByName(%q): %v", tc.in, err)
			continue
		}
		if typ.Name() != tc.name || typ.Oid() != tc.oid || typ.Typmod() != tc.typmod {
			t.Errorf("TypeByName(%q) = %q oid %d typmod %d, want %q %d %d",
				tc.in, typ.Name(), typ.Oid(), typ.Typmod(), tc.name, tc.oid, tc.typmod)
		}
		// The OID and typmod identify the type again.
		back, err := TypeByOid(typ.Oid(), typ.Typmod())
		if err != nil || !back.Identical(typ) {
			t.Errorf("TypeByOid(%d, %d) = %v, %v; want %s", typ.Oid(), typ.Typmod(), back, err, typ.Name())
		}
		// The printed name parses back to the same type, except bpchar's.
		if tc.name != "bpchar" && tc.name != "bpchar[]" {
			again, err := TypeByName(typ.Name())
			if err != nil || !again.Identical(typ) {
				t.Errorf("TypeByName(%q) = %v, %v; want %s", typ.Name(), again, err, typ.Name())
			}
		}
	}
}

func TestTypeByNameErrors(t *testing.T) {
	for in, code := range map[string]string{
		"integr":                 "42704",
		"serial":                 "42704",
		"foo[]":                  "42704",
		"numeric(0)":             "22023",
		"numeric(1001)":          "22023",
		"numeric(10,1001)":       "22023",
		"numeric(1,2,3)":         "22023",
		"varchar(0)":             "22023",
		"char(10485761)":         "22023",
		"float(0)":               "22023",
		"float(54)":              "22023",
		"timestamp(-1)":          "22023",
		"int(3)":                 "42601",
		"text(10)":               "42601",
		"varchar(x)":             "42601",
		"int[":                   "42601",
		"int[x]":                 "42601",
		"integer with time zone": "42601",
		"time":                   "0A000",
		"time with time zone":    "0A000",
		"interval(3)":            "0A000",
	} {
		_, err := TypeByName(in)
		if got := sqlerr.CodeOf(err); got != code {
			t.Errorf("TypeByName(%q): %v, want code %s", in, err, code)
		}
	}
	if _, err := TypeByOid(12345, -1); sqlerr.CodeOf(err) != "42704" {
		t.Errorf("TypeByOid(12345): %v", err)
	}
	if typ, err := TypeByOid(OidJSON, -1); err != nil || typ != JSONB {
		t.Errorf("TypeByOid(json) = %v, %v", typ, err)
	}
}

func TestSerialType(t *testing.T) {
	for name, want := range map[string]*Type{"serial": Int4, "SERIAL4": Int4, "bigserial": Int8, "serial8": Int8,
		"smallserial": Int2, "serial2": Int2} {
		if got, ok := SerialType(name); !ok || got != want {
			t.Errorf("SerialType(%q) = %v, %v", name, got, ok)
		}
	}
	if _, ok := SerialType("int"); ok {
		t.Error("SerialType(int)")
	}
}

func TestTypeProperties(t *testing.T) {
	for _, tc := range []struct {
		typ     *Type
		typname string
		size    int16
	}{
		{Bool, "bool", 1}, {Int2, "int2", 2}, {Int4, "int4", 4}, {Int8, "int8", 8},
		{Float4, "float4", 4}, {Float8, "float8", 8}, {Numeric, "numeric", -1},
		{Text, "text", -1}, {VarChar, "varchar", -1}, {BPChar, "bpchar", -1}, {Name, "name", 64},
		{Bytes, "bytea", -1}, {Date, "date", 4}, {Timestamp, "timestamp", 8},
		{TimestampTZ, "timestamptz", 8}, {Interval, "interval", 16}, {UUID, "uuid", 16},
		{JSONB, "jsonb", -1}, {OidType, "oid", 4}, {Int4Array, "_int4", -1}, {Unknown, "unknown", -2},
	} {
		if got := tc.typ.TypName(); got != tc.typname {
			t.Errorf("%s.TypName() = %q, want %q", tc.typ, got, tc.typname)
		}
		if got := tc.typ.Size(); got != tc.size {
			t.Errorf("%s.Size() = %d, want %d", tc.typ, got, tc.size)
		}
	}
	v10, _ := VarCharType(10)
	if ArrayOf(v10).Elem() != v10 || ArrayOf(v10).Oid() != OidVarCharArray || ArrayOf(ArrayOf(v10)) != ArrayOf(v10) && !ArrayOf(ArrayOf(v10)).Identical(ArrayOf(v10)) {
		t.Error("ArrayOf(varchar(10))")
	}
	if ArrayOf(Int4) != Int4Array || v10.WithoutModifiers() != VarChar || ArrayOf(v10).WithoutModifiers() != VarCharArray {
		t.Error("canonical types")
	}
	if v10.Identical(VarChar) || !v10.Identical(mustType(t, "varchar(10)")) {
		t.Error("Identical")
	}
}
