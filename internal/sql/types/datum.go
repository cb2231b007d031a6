package types

import (
	"fmt"
	"math"
	"time"
	"unsafe"

	"github.com/cockroachdb/apd/v3"
)

// Datum is a SQL value: DNull or one of the concrete types below. Datums
// are immutable once built: no one writes to the bytes of a DBytes, the
// elements of a DArray or the digits of a DDecimal it did not just create.
//
// A datum does not know its modifiers (VARCHAR(10), NUMERIC(10,2), FLOAT4):
// the type of the column or expression it belongs to does, and the
// functions that depend on them (text and binary output, casts) take that
// type. ResolvedType is the type of the bare value.
//
//	family      datum         representation
//	bool        DBool
//	int2/4/8    DInt          int64 (range checked against the type)
//	float4/8    DFloat        float64 (float4 values are exact float32s)
//	numeric     *DDecimal     apd.Decimal: exact; NaN, ±Infinity
//	text etc.   DString       UTF-8; CHAR(n) values without trailing spaces
//	bytea       DBytes
//	date        DDate         days since 2000-01-01; ±infinity sentinels
//	timestamp   DTimestamp    time.Time in UTC, whole microseconds
//	timestamptz DTimestampTZ  time.Time in UTC, whole microseconds
//	interval    DInterval     months, days, microseconds
//	uuid        DUUID         [16]byte
//	jsonb       *DJSON        a normalized JSON tree
//	oid         DOid          uint32
//	arrays      *DArray       one dimension, NULL elements allowed
type Datum interface {
	// ResolvedType returns the type of the value without modifiers:
	// Int8 for every DInt, Float8 for DFloat, Text for DString, Unknown
	// for DNull.
	ResolvedType() *Type
	// Size returns an estimate of the bytes the datum occupies in memory,
	// for memory accounting by sorts, hash tables and buffers.
	Size() int
	// String returns the PostgreSQL text form (in UTC), for debugging and
	// tests; "NULL" for DNull.
	String() string

	datum()
}

type dNull struct{}

// DNull is the SQL NULL. Compare d == DNull to test for it.
var DNull Datum = dNull{}

// DBool is a boolean.
type DBool bool

// The two booleans.
var (
	DTrue  Datum = DBool(true)
	DFalse Datum = DBool(false)
)

// MakeDBool returns DTrue or DFalse.
func MakeDBool(b bool) Datum {
	if b {
		return DTrue
	}
	return DFalse
}

// DInt is an int2, int4 or int8. Invariant: within the range of the type
// it belongs to.
type DInt int64

// DFloat is a float4 or float8. Invariant: a float4's value is an exact
// float32.
type DFloat float64

// DDecimal is an exact NUMERIC. Invariants: the exponent of a finite value
// is <= 0 (it is -scale, the number of digits after the decimal point
// PostgreSQL calls dscale); zero is never negative; NaN is a quiet NaN and
// never negative; the form is Finite, NaN or Infinite.
type DDecimal struct {
	apd.Decimal
}

// Format prints the numeric's text output for the verbs %v and %s (rather
// than the scientific notation of the embedded apd.Decimal's Format), and
// defers to apd for the others.
func (d *DDecimal) Format(s fmt.State, verb rune) {
	if verb == 'v' || verb == 's' {
		_, _ = s.Write(appendDecimal(nil, d))
		return
	}
	d.Decimal.Format(s, verb)
}

// DString is a text, varchar, bpchar or name value: valid UTF-8 without
// NUL bytes. A bpchar (CHAR(n)) value is kept without its trailing spaces,
// which PostgreSQL ignores in comparisons and drops in casts to text; the
// padding comes back on output to the column's length.
type DString string

// DBytes is a bytea. Being a slice, a DBytes cannot be compared with ==
// (comparing two Datums that both hold one panics): use Compare or Equal.
type DBytes []byte

// DDate is a date: days since 2000-01-01 (PostgreSQL's epoch) in the
// proleptic Gregorian calendar, as PostgreSQL's DateADT. Invariant: within
// 4714-11-24 BC .. 5874897-12-31, or one of DateNegInfinity and
// DateInfinity.
type DDate int32

// The date infinities, with PostgreSQL's representation.
const (
	DateNegInfinity DDate = math.MinInt32
	DateInfinity    DDate = math.MaxInt32
)

// DTimestamp is a timestamp without time zone: the wall-clock reading,
// held as a time.Time in UTC. Invariants: Location is time.UTC; whole
// microseconds; within 4714-11-24 BC .. 294276-12-31, or equal to
// TimestampNegInfinity or TimestampInfinity.
type DTimestamp struct {
	time.Time
}

// DTimestampTZ is a timestamp with time zone: an instant, held as a
// time.Time in UTC and shown in the session's time zone. The invariants
// of DTimestamp hold.
type DTimestampTZ struct {
	time.Time
}

// pgEpochUnix is 2000-01-01 00:00:00 UTC, the origin of PostgreSQL's
// dates and timestamps, in Unix seconds.
const pgEpochUnix = 946684800

// The timestamp infinities: the instants at which PostgreSQL's int64
// microseconds since 2000 saturate (DT_NOBEGIN, DT_NOEND). Real values are
// far from them, so they sort and compare as infinities should.
var (
	TimestampNegInfinity = timeFromPGMicros(math.MinInt64)
	TimestampInfinity    = timeFromPGMicros(math.MaxInt64)
)

// timeFromPGMicros returns the time us microseconds after 2000-01-01 UTC.
func timeFromPGMicros(us int64) time.Time {
	sec, frac := us/1e6, us%1e6
	if frac < 0 {
		sec--
		frac += 1e6
	}
	return time.Unix(pgEpochUnix+sec, frac*1000).UTC()
}

// pgMicros returns the microseconds of t since 2000-01-01 UTC. Times
// outside PostgreSQL's range other than the infinities are a bug.
func pgMicros(t time.Time) int64 {
	if t.Equal(TimestampInfinity) {
		return math.MaxInt64
	}
	if t.Equal(TimestampNegInfinity) {
		return math.MinInt64
	}
	return (t.Unix()-pgEpochUnix)*1e6 + int64(t.Nanosecond()/1000)
}

// DInterval is an interval with PostgreSQL's three fields, which do not
// carry into one another: a month is not a fixed number of days nor a day
// of hours (across a daylight-saving change). For comparison, a month is
// 30 days and a day 24 hours, as in PostgreSQL, so '1 mon' = '30 days'.
type DInterval struct {
	Months int32
	Days   int32
	Micros int64
}

// DUUID is a uuid.
type DUUID [16]byte

// DOid is an oid: an unsigned 32-bit integer.
type DOid uint32

// DArray is a one-dimensional array with lower bound 1. Elems are datums of
// the Elem type's family or DNull.
type DArray struct {
	Elem  *Type
	Elems []Datum
}

// HasNulls reports whether an element is NULL.
func (a *DArray) HasNulls() bool {
	for _, e := range a.Elems {
		if e == DNull {
			return true
		}
	}
	return false
}

func (dNull) datum()                     {}
func (DBool) datum()                     {}
func (DInt) datum()                      {}
func (DFloat) datum()                    {}
func (*DDecimal) datum()                 {}
func (DString) datum()                   {}
func (DBytes) datum()                    {}
func (DDate) datum()                     {}
func (DTimestamp) datum()                {}
func (DTimestampTZ) datum()              {}
func (DInterval) datum()                 {}
func (DUUID) datum()                     {}
func (*DJSON) datum()                    {}
func (DOid) datum()                      {}
func (*DArray) datum()                   {}
func (dNull) ResolvedType() *Type        { return Unknown }
func (DBool) ResolvedType() *Type        { return Bool }
func (DInt) ResolvedType() *Type         { return Int8 }
func (DFloat) ResolvedType() *Type       { return Float8 }
func (*DDecimal) ResolvedType() *Type    { return Numeric }
func (DString) ResolvedType() *Type      { return Text }
func (DBytes) ResolvedType() *Type       { return Bytes }
func (DDate) ResolvedType() *Type        { return Date }
func (DTimestamp) ResolvedType() *Type   { return Timestamp }
func (DTimestampTZ) ResolvedType() *Type { return TimestampTZ }
func (DInterval) ResolvedType() *Type    { return Interval }
func (DUUID) ResolvedType() *Type        { return UUID }
func (*DJSON) ResolvedType() *Type       { return JSONB }
func (DOid) ResolvedType() *Type         { return OidType }
func (a *DArray) ResolvedType() *Type    { return ArrayOf(a.Elem) }

const ifaceSize = int(unsafe.Sizeof(Datum(nil)))

func (dNull) Size() int        { return 0 }
func (DBool) Size() int        { return 1 }
func (DInt) Size() int         { return 8 }
func (DFloat) Size() int       { return 8 }
func (d *DDecimal) Size() int  { return int(d.Decimal.Size()) }
func (d DString) Size() int    { return 16 + len(d) }
func (d DBytes) Size() int     { return 24 + len(d) }
func (DDate) Size() int        { return 4 }
func (DTimestamp) Size() int   { return int(unsafe.Sizeof(time.Time{})) }
func (DTimestampTZ) Size() int { return int(unsafe.Sizeof(time.Time{})) }
func (DInterval) Size() int    { return 16 }
func (DUUID) Size() int        { return 16 }
func (d *DJSON) Size() int     { return d.JSON.size() }
func (DOid) Size() int         { return 4 }
func (a *DArray) Size() int {
	n := 32 + ifaceSize*len(a.Elems)
	for _, e := range a.Elems {
		n += e.Size()
	}
	return n
}

func (d dNull) String() string        { return "NULL" }
func (d DBool) String() string        { return FormatText(d, nil, nil) }
func (d DInt) String() string         { return FormatText(d, nil, nil) }
func (d DFloat) String() string       { return FormatText(d, nil, nil) }
func (d *DDecimal) String() string    { return FormatText(d, nil, nil) }
func (d DString) String() string      { return string(d) }
func (d DBytes) String() string       { return FormatText(d, nil, nil) }
func (d DDate) String() string        { return FormatText(d, nil, nil) }
func (d DTimestamp) String() string   { return FormatText(d, nil, nil) }
func (d DTimestampTZ) String() string { return FormatText(d, nil, nil) }
func (d DInterval) String() string    { return FormatText(d, nil, nil) }
func (d DUUID) String() string        { return FormatText(d, nil, nil) }
func (d *DJSON) String() string       { return FormatText(d, nil, nil) }
func (d DOid) String() string         { return FormatText(d, nil, nil) }
func (d *DArray) String() string      { return FormatText(d, nil, nil) }
