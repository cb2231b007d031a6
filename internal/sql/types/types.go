package types

import (
	"fmt"
	"strconv"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
)

// Family groups types that share a datum representation and a comparison.
// Compare, Equal and EncodeKey work within one family; mixing families is
// the planner's business (it inserts casts).
type Family uint8

// The families. The numbering is internal and may change; never persist it.
const (
	// UnknownFamily is the type of NULL and of an untyped string literal
	// before the planner gives it a type.
	UnknownFamily Family = iota
	BoolFamily
	IntFamily     // int2, int4, int8: DInt
	FloatFamily   // float4, float8: DFloat
	NumericFamily // numeric: *DDecimal
	StringFamily  // text, varchar, bpchar, name: DString
	BytesFamily   // bytea: DBytes
	DateFamily    // date: DDate
	TimestampFamily
	TimestampTZFamily
	IntervalFamily
	UUIDFamily
	JSONFamily // jsonb (and json, stored as jsonb): *DJSON
	OidFamily  // oid: DOid
	ArrayFamily
)

var familyNames = [...]string{
	UnknownFamily:     "unknown",
	BoolFamily:        "bool",
	IntFamily:         "int",
	FloatFamily:       "float",
	NumericFamily:     "numeric",
	StringFamily:      "string",
	BytesFamily:       "bytes",
	DateFamily:        "date",
	TimestampFamily:   "timestamp",
	TimestampTZFamily: "timestamptz",
	IntervalFamily:    "interval",
	UUIDFamily:        "uuid",
	JSONFamily:        "jsonb",
	OidFamily:         "oid",
	ArrayFamily:       "array",
}

func (f Family) String() string {
	if int(f) < len(familyNames) {
		return familyNames[f]
	}
	return "Family(" + strconv.Itoa(int(f)) + ")"
}

// Oid is a PostgreSQL type OID, as pg_type and the wire protocol use it.
type Oid uint32

// The OIDs of the supported types and of their array types (pg_type.dat).
const (
	OidBool        Oid = 16
	OidBytea       Oid = 17
	OidName        Oid = 19
	OidInt8        Oid = 20
	OidInt2        Oid = 21
	OidInt4        Oid = 23
	OidText        Oid = 25
	OidOid         Oid = 26
	OidFloat4      Oid = 700
	OidFloat8      Oid = 701
	OidUnknown     Oid = 705
	OidBPChar      Oid = 1042
	OidVarChar     Oid = 1043
	OidDate        Oid = 1082
	OidTimestamp   Oid = 1114
	OidTimestampTZ Oid = 1184
	OidInterval    Oid = 1186
	OidNumeric     Oid = 1700
	OidUUID        Oid = 2950
	OidJSON        Oid = 114 // accepted as a name and OID; values are jsonb
	OidJSONB       Oid = 3802
	OidRegClass    Oid = 2205 // an oid naming a relation; see RegClass

	OidBoolArray        Oid = 1000
	OidByteaArray       Oid = 1001
	OidNameArray        Oid = 1003
	OidInt2Array        Oid = 1005
	OidInt4Array        Oid = 1007
	OidTextArray        Oid = 1009
	OidBPCharArray      Oid = 1014
	OidVarCharArray     Oid = 1015
	OidInt8Array        Oid = 1016
	OidFloat4Array      Oid = 1021
	OidFloat8Array      Oid = 1022
	OidOidArray         Oid = 1028
	OidTimestampArray   Oid = 1115
	OidDateArray        Oid = 1182
	OidTimestampTZArray Oid = 1185
	OidIntervalArray    Oid = 1187
	OidNumericArray     Oid = 1231
	OidUUIDArray        Oid = 2951
	OidJSONBArray       Oid = 3807
	OidRegClassArray    Oid = 2210
)

// Type is a SQL type: a family, the PostgreSQL type it is (its OID), and
// the modifiers of that type. Types are immutable and may be shared; build
// them with the package's variables and constructors, never as literals.
type Type struct {
	family Family
	oid    Oid
	// width is the size in bits of Int (16, 32, 64) and Float (32, 64)
	// types; 0 otherwise.
	width int32
	// precision is NUMERIC(p, s)'s p (1..1000) or TIMESTAMP(p)'s p (0..6);
	// -1 when the type has no such modifier.
	precision int32
	// scale is NUMERIC(p, s)'s s (-1000..1000); meaningful only when
	// precision >= 0.
	scale int32
	// length is VARCHAR(n)'s and CHAR(n)'s n in characters; -1 for none.
	length int32
	// elem is the element type of an array; nil otherwise.
	// Invariant: elem is never itself an array or Unknown.
	elem *Type
}

func base(f Family, oid Oid, width int32) *Type {
	return &Type{family: f, oid: oid, width: width, precision: -1, length: -1}
}

// The types without modifiers.
var (
	Unknown     = base(UnknownFamily, OidUnknown, 0)
	Bool        = base(BoolFamily, OidBool, 0)
	Int2        = base(IntFamily, OidInt2, 16)
	Int4        = base(IntFamily, OidInt4, 32)
	Int8        = base(IntFamily, OidInt8, 64)
	Float4      = base(FloatFamily, OidFloat4, 32)
	Float8      = base(FloatFamily, OidFloat8, 64)
	Numeric     = base(NumericFamily, OidNumeric, 0)
	Text        = base(StringFamily, OidText, 0)
	VarChar     = base(StringFamily, OidVarChar, 0)
	BPChar      = base(StringFamily, OidBPChar, 0) // bpchar without length; CHAR is CHAR(1), see BPCharType
	Name        = base(StringFamily, OidName, 0)
	Bytes       = base(BytesFamily, OidBytea, 0)
	Date        = base(DateFamily, OidDate, 0)
	Timestamp   = base(TimestampFamily, OidTimestamp, 0)
	TimestampTZ = base(TimestampTZFamily, OidTimestampTZ, 0)
	Interval    = base(IntervalFamily, OidInterval, 0)
	UUID        = base(UUIDFamily, OidUUID, 0)
	JSONB       = base(JSONFamily, OidJSONB, 0)
	OidType     = base(OidFamily, OidOid, 32)
	// RegClass is regclass: an oid (DOid, compared as one) that the SQL
	// layer outputs, and casts to text, as the name of the relation.
	RegClass = base(OidFamily, OidRegClass, 32)
)

// arrayOids maps an element type's OID to its array type's OID.
var arrayOids = map[Oid]Oid{
	OidBool:        OidBoolArray,
	OidBytea:       OidByteaArray,
	OidName:        OidNameArray,
	OidInt2:        OidInt2Array,
	OidInt4:        OidInt4Array,
	OidInt8:        OidInt8Array,
	OidText:        OidTextArray,
	OidOid:         OidOidArray,
	OidFloat4:      OidFloat4Array,
	OidFloat8:      OidFloat8Array,
	OidBPChar:      OidBPCharArray,
	OidVarChar:     OidVarCharArray,
	OidDate:        OidDateArray,
	OidTimestamp:   OidTimestampArray,
	OidTimestampTZ: OidTimestampTZArray,
	OidInterval:    OidIntervalArray,
	OidNumeric:     OidNumericArray,
	OidUUID:        OidUUIDArray,
	OidJSONB:       OidJSONBArray,
	OidRegClass:    OidRegClassArray,
}

// scalars are the element types without modifiers, by OID; arrays are
// their array types, by element OID. (Variables, not init(), so that the
// array variables below can read them during package initialization.)
var scalars, arrays = buildTypeTables()

func buildTypeTables() (scalars, arrays map[Oid]*Type) {
	scalars, arrays = map[Oid]*Type{}, map[Oid]*Type{}
	for _, t := range []*Type{Bool, Int2, Int4, Int8, Float4, Float8, Numeric, Text,
		VarChar, BPChar, Name, Bytes, Date, Timestamp, TimestampTZ, Interval, UUID, JSONB, OidType, RegClass} {
		scalars[t.oid] = t
		arrays[t.oid] = &Type{family: ArrayFamily, oid: arrayOids[t.oid], precision: -1, length: -1, elem: t}
	}
	return scalars, arrays
}

// elemOids maps an array type's OID to its element type's OID.
var elemOids = func() map[Oid]Oid {
	m := make(map[Oid]Oid, len(arrayOids))
	for e, a := range arrayOids {
		m[a] = e
	}
	return m
}()

// The array types without element modifiers.
var (
	BoolArray        = arrays[OidBool]
	Int2Array        = arrays[OidInt2]
	Int4Array        = arrays[OidInt4]
	Int8Array        = arrays[OidInt8]
	Float4Array      = arrays[OidFloat4]
	Float8Array      = arrays[OidFloat8]
	NumericArray     = arrays[OidNumeric]
	TextArray        = arrays[OidText]
	VarCharArray     = arrays[OidVarChar]
	BPCharArray      = arrays[OidBPChar]
	NameArray        = arrays[OidName]
	BytesArray       = arrays[OidBytea]
	DateArray        = arrays[OidDate]
	TimestampArray   = arrays[OidTimestamp]
	TimestampTZArray = arrays[OidTimestampTZ]
	IntervalArray    = arrays[OidInterval]
	UUIDArray        = arrays[OidUUID]
	JSONBArray       = arrays[OidJSONB]
	OidArray         = arrays[OidOid]
)

// Limits of the type modifiers, as PostgreSQL has them.
const (
	MaxNumericPrecision = 1000
	MinNumericScale     = -1000
	MaxNumericScale     = 1000
	MaxCharLength       = 10485760
	MaxTimestampPrec    = 6
	// NameMaxBytes is NAMEDATALEN-1: longer names are truncated.
	NameMaxBytes = 63
)

// NumericType returns NUMERIC(precision, scale). It fails with 22023, as
// PostgreSQL does, if precision is outside 1..1000 or scale outside
// -1000..1000.
func NumericType(precision, scale int32) (*Type, error) {
	if precision < 1 || precision > MaxNumericPrecision {
		return nil, sqlerr.Newf(sqlerr.CodeInvalidParameterValue,
			"NUMERIC precision %d must be between 1 and %d", precision, MaxNumericPrecision)
	}
	if scale < MinNumericScale || scale > MaxNumericScale {
		return nil, sqlerr.Newf(sqlerr.CodeInvalidParameterValue,
			"NUMERIC scale %d must be between %d and %d", scale, MinNumericScale, MaxNumericScale)
	}
	t := *Numeric
	t.precision, t.scale = precision, scale
	return &t, nil
}

// VarCharType returns VARCHAR(n), n in 1..10485760.
func VarCharType(n int32) (*Type, error) { return lengthType(VarChar, "varchar", n) }

// BPCharType returns CHAR(n), n in 1..10485760. SQL's CHAR is CHAR(1).
func BPCharType(n int32) (*Type, error) { return lengthType(BPChar, "char", n) }

func lengthType(b *Type, name string, n int32) (*Type, error) {
	if n < 1 {
		return nil, sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "length for type %s must be at least 1", name)
	}
	if n > MaxCharLength {
		return nil, sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "length for type %s cannot exceed %d", name, MaxCharLength)
	}
	t := *b
	t.length = n
	return &t, nil
}

// TimestampType returns TIMESTAMP(p): values rounded to p fractional digits.
// A p above 6 is reduced to 6, as PostgreSQL does (with a warning).
func TimestampType(p int32) (*Type, error) { return precisionType(Timestamp, "TIMESTAMP", p) }

// TimestampTZType returns TIMESTAMP(p) WITH TIME ZONE.
func TimestampTZType(p int32) (*Type, error) { return precisionType(TimestampTZ, "TIMESTAMP", p) }

func precisionType(b *Type, name string, p int32) (*Type, error) {
	if p < 0 {
		return nil, sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "%s(%d) precision must not be negative", name, p)
	}
	p = min(p, MaxTimestampPrec)
	t := *b
	t.precision = p
	return &t, nil
}

// ArrayOf returns the one-dimensional array type of elem; an array type is
// returned as is (PostgreSQL does not distinguish int[] from int[][]). It
// panics if elem has no array type (Unknown), a caller's bug.
func ArrayOf(elem *Type) *Type {
	if elem.family == ArrayFamily {
		return elem
	}
	if !elem.hasModifiers() {
		if a, ok := arrays[elem.oid]; ok {
			return a
		}
	}
	aoid, ok := arrayOids[elem.oid]
	if !ok {
		panic(fmt.Sprintf("types: no array type for %s", elem.Name()))
	}
	return &Type{family: ArrayFamily, oid: aoid, precision: -1, length: -1, elem: elem}
}

// Family returns the type's family.
func (t *Type) Family() Family { return t.family }

// Oid returns the PostgreSQL OID of the type.
func (t *Type) Oid() Oid { return t.oid }

// Width returns the size in bits of an integer or float type (16, 32, 64),
// and 0 for other types.
func (t *Type) Width() int32 { return t.width }

// Precision returns NUMERIC(p,s)'s p or TIMESTAMP(p)'s p; -1 if absent.
func (t *Type) Precision() int32 { return t.precision }

// Scale returns NUMERIC(p,s)'s s; 0 if absent.
func (t *Type) Scale() int32 { return t.scale }

// Length returns VARCHAR(n)'s or CHAR(n)'s n; -1 if absent.
func (t *Type) Length() int32 { return t.length }

// Elem returns the element type of an array type, nil for other types.
func (t *Type) Elem() *Type { return t.elem }

func (t *Type) hasModifiers() bool { return t.precision >= 0 || t.length >= 0 }

// WithoutModifiers returns the type without length, precision and scale
// (and, for an array, with an element without them).
func (t *Type) WithoutModifiers() *Type {
	if t.family == ArrayFamily {
		return ArrayOf(t.elem.WithoutModifiers())
	}
	if !t.hasModifiers() {
		return t
	}
	return scalars[t.oid]
}

// Identical reports whether t and o are the same type with the same
// modifiers.
func (t *Type) Identical(o *Type) bool {
	if t == o {
		return true
	}
	if t == nil || o == nil {
		return false
	}
	if t.oid != o.oid || t.precision != o.precision || t.scale != o.scale || t.length != o.length {
		return false
	}
	if t.elem != nil {
		return t.elem.Identical(o.elem)
	}
	return true
}

// Typmod returns the type modifier as PostgreSQL encodes it in
// pg_attribute.atttypmod and RowDescription: -1 for none, n+4 for
// VARCHAR(n) and CHAR(n), ((p << 16) | (s & 0x7ff)) + 4 for NUMERIC(p,s),
// p for TIMESTAMP(p). An array has its element's typmod.
func (t *Type) Typmod() int32 {
	switch {
	case t.family == ArrayFamily:
		return t.elem.Typmod()
	case t.length >= 0:
		return t.length + 4
	case t.family == NumericFamily && t.precision >= 0:
		return (t.precision<<16 | t.scale&0x7ff) + 4
	case t.precision >= 0:
		return t.precision
	}
	return -1
}

// TypeByOid returns the type with oid and typmod (-1 for none), as a
// client names it in Parse or as the catalog stores it.
func TypeByOid(oid Oid, typmod int32) (*Type, error) {
	if oid == OidJSON {
		oid = OidJSONB
	}
	if oid == OidUnknown {
		return Unknown, nil
	}
	if t, ok := scalars[oid]; ok {
		return withTypmod(t, typmod)
	}
	if eoid, ok := elemOids[oid]; ok {
		e, err := withTypmod(scalars[eoid], typmod)
		if err != nil {
			return nil, err
		}
		return ArrayOf(e), nil
	}
	return nil, sqlerr.Newf(sqlerr.CodeUndefinedObject, "type with OID %d does not exist", oid)
}

func withTypmod(t *Type, typmod int32) (*Type, error) {
	if typmod < 0 {
		return t, nil
	}
	switch t.oid {
	case OidVarChar:
		return VarCharType(typmod - 4)
	case OidBPChar:
		return BPCharType(typmod - 4)
	case OidNumeric:
		m := typmod - 4
		// The scale is an 11-bit two's complement field since PostgreSQL 15.
		return NumericType(m>>16&0xffff, (m&0x7ff^1024)-1024)
	case OidTimestamp:
		return TimestampType(typmod)
	case OidTimestampTZ:
		return TimestampTZType(typmod)
	}
	return t, nil
}

// Name returns the type's name as PostgreSQL's format_type prints it, with
// its modifiers: "integer", "character varying(10)", "numeric(10,2)",
// "timestamp(3) with time zone", "text[]".
func (t *Type) Name() string {
	switch t.oid {
	case OidBool:
		return "boolean"
	case OidInt2:
		return "smallint"
	case OidInt4:
		return "integer"
	case OidInt8:
		return "bigint"
	case OidFloat4:
		return "real"
	case OidFloat8:
		return "double precision"
	case OidNumeric:
		if t.precision >= 0 {
			return fmt.Sprintf("numeric(%d,%d)", t.precision, t.scale)
		}
		return "numeric"
	case OidText:
		return "text"
	case OidVarChar:
		if t.length >= 0 {
			return fmt.Sprintf("character varying(%d)", t.length)
		}
		return "character varying"
	case OidBPChar:
		if t.length >= 0 {
			return fmt.Sprintf("character(%d)", t.length)
		}
		return "bpchar"
	case OidName:
		return "name"
	case OidBytea:
		return "bytea"
	case OidDate:
		return "date"
	case OidTimestamp:
		if t.precision >= 0 {
			return fmt.Sprintf("timestamp(%d) without time zone", t.precision)
		}
		return "timestamp without time zone"
	case OidTimestampTZ:
		if t.precision >= 0 {
			return fmt.Sprintf("timestamp(%d) with time zone", t.precision)
		}
		return "timestamp with time zone"
	case OidInterval:
		return "interval"
	case OidUUID:
		return "uuid"
	case OidJSONB:
		return "jsonb"
	case OidOid:
		return "oid"
	case OidRegClass:
		return "regclass"
	case OidUnknown:
		return "unknown"
	}
	if t.family == ArrayFamily {
		return t.elem.Name() + "[]"
	}
	return fmt.Sprintf("type %d", t.oid)
}

// String returns Name().
func (t *Type) String() string { return t.Name() }

// TypName returns the name of the type in pg_type.typname: "int4",
// "varchar", "_int4".
func (t *Type) TypName() string {
	if t.family == ArrayFamily {
		return "_" + t.elem.TypName()
	}
	switch t.oid {
	case OidBool:
		return "bool"
	case OidInt2:
		return "int2"
	case OidInt4:
		return "int4"
	case OidInt8:
		return "int8"
	case OidFloat4:
		return "float4"
	case OidFloat8:
		return "float8"
	case OidTimestampTZ:
		return "timestamptz"
	}
	n := t.WithoutModifiers().Name()
	switch n {
	case "character varying":
		return "varchar"
	case "timestamp without time zone":
		return "timestamp"
	}
	return n
}

// Size returns the fixed width in bytes of the type's values as
// pg_type.typlen has it, or -1 for variable-length types.
func (t *Type) Size() int16 {
	switch t.family {
	case BoolFamily:
		return 1
	case IntFamily, FloatFamily:
		return int16(t.width / 8)
	case DateFamily, OidFamily:
		return 4
	case TimestampFamily, TimestampTZFamily:
		return 8
	case IntervalFamily, UUIDFamily:
		return 16
	case StringFamily:
		if t.oid == OidName {
			return 64
		}
	case UnknownFamily:
		return -2
	}
	return -1
}
