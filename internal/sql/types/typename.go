package types

import (
	"strconv"
	"strings"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
)

// TypeByName parses a type name as PostgreSQL accepts it in a cast or a
// column definition: aliases ("int", "integer", "int4", "double precision",
// "float", "decimal", "character varying", "bool"...), modifiers
// ("varchar(10)", "numeric(10, 2)", "float(24)", "timestamp(3) with time
// zone"), a "pg_catalog." prefix, and arrays ("int[]", "text[][]", "int
// array", "_int4"). Names are case-insensitive.
//
// "json" is accepted and gives JSONB: cairn stores every JSON value in the
// normalized jsonb form, so a json column does not keep the input text, its
// whitespace, key order or duplicate keys as PostgreSQL's json type does.
//
// The serial types are not types but DDL shorthands; see SerialType. An
// unknown name fails with 42704 undefined_object, a malformed one with
// 42601 syntax_error.
func TypeByName(s string) (*Type, error) {
	orig := s
	s = asciiLower(strings.TrimSpace(s))
	array := false
	for {
		switch {
		case strings.HasSuffix(s, "]"):
			i := strings.LastIndexByte(s, '[')
			if i < 0 || !allDigits(strings.TrimSpace(s[i+1:len(s)-1])) {
				return nil, typeSyntaxError(orig)
			}
			s = strings.TrimSpace(s[:i])
			array = true
			continue
		case strings.HasSuffix(s, " array"):
			s = strings.TrimSpace(strings.TrimSuffix(s, " array"))
			array = true
			continue
		}
		break
	}
	s = strings.TrimPrefix(s, "pg_catalog.")
	s = strings.Join(strings.Fields(s), " ")

	// "timestamp(3) with time zone": the modifier sits inside the name.
	suffix := ""
	for _, z := range []string{" with time zone", " without time zone"} {
		if strings.HasSuffix(s, z) {
			suffix, s = z, strings.TrimSuffix(s, z)
			break
		}
	}
	var mods []int32
	if i := strings.IndexByte(s, '('); i >= 0 {
		if !strings.HasSuffix(s, ")") {
			return nil, typeSyntaxError(orig)
		}
		for _, f := range strings.Split(s[i+1:len(s)-1], ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 32)
			if err != nil {
				return nil, typeSyntaxError(orig)
			}
			mods = append(mods, int32(n))
		}
		s = strings.TrimSpace(s[:i])
	}
	switch {
	case suffix == "":
	case s == "timestamp" && suffix == " with time zone":
		s = "timestamptz"
	case s == "timestamp":
	case s == "time":
		return nil, sqlerr.Unsupportedf("type %q is not supported", orig)
	default:
		return nil, typeSyntaxError(orig)
	}
	switch s {
	case "char", "character":
		if mods == nil {
			mods = []int32{1} // SQL: CHARACTER is CHARACTER(1); bpchar has no limit
		}
		s = "bpchar"
	case "float":
		// float(p): p is the precision in binary digits.
		if len(mods) == 1 {
			switch p := mods[0]; {
			case p < 1:
				return nil, sqlerr.New(sqlerr.CodeInvalidParameterValue, "precision for type float must be at least 1 bit")
			case p > 53:
				return nil, sqlerr.New(sqlerr.CodeInvalidParameterValue, "precision for type float must be less than 54 bits")
			case p <= 24:
				s = "float4"
			default:
				s = "float8"
			}
			mods = nil
		}
	}
	if strings.ContainsAny(s, "[]()") {
		return nil, typeSyntaxError(orig)
	}
	return ResolveTypeName(s, mods, array)
}

func typeSyntaxError(s string) error {
	return sqlerr.Newf(sqlerr.CodeSyntaxError, "syntax error in type name %q", s)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// typeAliases maps the names and aliases PostgreSQL accepts (after its
// grammar's rewriting, plus the names of pg_type) to the types.
var typeAliases = map[string]*Type{
	"bool": Bool, "boolean": Bool,
	"int2": Int2, "smallint": Int2,
	"int4": Int4, "int": Int4, "integer": Int4,
	"int8": Int8, "bigint": Int8,
	"float4": Float4, "real": Float4,
	"float8": Float8, "double precision": Float8, "float": Float8,
	"numeric": Numeric, "decimal": Numeric, "dec": Numeric,
	"text":    Text,
	"varchar": VarChar, "character varying": VarChar, "char varying": VarChar,
	"bpchar":      BPChar,
	"name":        Name,
	"bytea":       Bytes,
	"date":        Date,
	"timestamp":   Timestamp,
	"timestamptz": TimestampTZ,
	"interval":    Interval,
	"uuid":        UUID,
	"jsonb":       JSONB, "json": JSONB,
	"oid":     OidType,
	"unknown": Unknown,
}

// ResolveTypeName returns the type named name (lower case, as PostgreSQL's
// grammar leaves it in a TypeName node: "int4", "varchar", "bpchar",
// "numeric", "timestamptz", ... or an alias TypeByName accepts) with the
// modifiers mods (the TypeName's typmods), as an array type if array.
func ResolveTypeName(name string, mods []int32, array bool) (*Type, error) {
	t, ok := typeAliases[name]
	if !ok && strings.HasPrefix(name, "_") {
		// pg_type's names of array types: "_int4".
		if e, ok2 := typeAliases[name[1:]]; ok2 && !array {
			t, ok, array = e, true, true
		}
	}
	if !ok {
		switch name {
		case "time", "timetz", "time without time zone", "time with time zone":
			return nil, sqlerr.Unsupportedf("type %q is not supported", name)
		}
		return nil, sqlerr.Newf(sqlerr.CodeUndefinedObject, "type %q does not exist", name)
	}
	if len(mods) > 0 {
		var err error
		switch t.oid {
		case OidVarChar, OidBPChar:
			if len(mods) != 1 {
				return nil, sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "invalid type modifier")
			}
			if t.oid == OidVarChar {
				t, err = VarCharType(mods[0])
			} else {
				t, err = BPCharType(mods[0])
			}
		case OidNumeric:
			var scale int32
			switch len(mods) {
			case 1:
			case 2:
				scale = mods[1]
			default:
				return nil, sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "invalid NUMERIC type modifier")
			}
			t, err = NumericType(mods[0], scale)
		case OidTimestamp, OidTimestampTZ:
			if len(mods) != 1 {
				return nil, sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "invalid type modifier")
			}
			if t.oid == OidTimestamp {
				t, err = TimestampType(mods[0])
			} else {
				t, err = TimestampTZType(mods[0])
			}
		case OidInterval:
			return nil, sqlerr.Unsupportedf("interval precision and fields are not supported")
		default:
			return nil, sqlerr.Newf(sqlerr.CodeSyntaxError, "type modifier is not allowed for type %q", t.TypName())
		}
		if err != nil {
			return nil, err
		}
	}
	if array {
		if t == Unknown {
			return nil, sqlerr.Newf(sqlerr.CodeUndefinedObject, "type %q does not exist", "unknown[]")
		}
		return ArrayOf(t), nil
	}
	return t, nil
}

// SerialType returns the integer type of a serial pseudo-type name
// ("serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"),
// for CREATE TABLE to give the column a sequence default; ok is false for
// other names.
func SerialType(name string) (t *Type, ok bool) {
	switch asciiLower(name) {
	case "smallserial", "serial2":
		return Int2, true
	case "serial", "serial4":
		return Int4, true
	case "bigserial", "serial8":
		return Int8, true
	}
	return nil, false
}
