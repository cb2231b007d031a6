package rowenc

import (
	"fmt"
	"math"

	"github.com/cockroachdb/apd/v3"

	"github.com/cairndb/cairn/internal/encoding"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// Key column markers. A NULL sorts after every value, as types.Compare
// (and PostgreSQL's default NULLS LAST) has it; a descending column is the
// bitwise NOT of its ascending encoding, so NULL sorts first there, as
// with PostgreSQL's DESC.
const (
	keyValue byte = 0x02 // a non-NULL value follows
	keyNull  byte = 0x03
)

// Array element markers: a shorter array sorts first (arrayEnd), a NULL
// element after every value.
const (
	arrayEnd  byte = 0x01
	arrayElem byte = 0x02
	arrayNull byte = 0x03
)

// Numeric classes, in order.
const (
	decNegInf byte = 0x01 + iota
	decNeg
	decZero
	decPos
	decPosInf
	decNaN
)

// Top-level jsonb classes, in order (see appendJSONKey).
const (
	jsonEmptyArray byte = 0x01 + iota
	jsonScalar
	jsonArray
	jsonObject
)

// AppendKeyDatum appends the order-preserving key encoding of d, a value
// of type t (or DNull), in ascending or descending order: for datums a and
// b of t, bytes.Compare of their encodings equals types.Compare(a, b)
// (reversed when descending), and encodings are prefix-free, so that
// concatenated columns sort column by column. Datums that types.Equal
// calls equal (1.5 and 1.50, 0 and -0, every NaN, '1 mon' and '30 days')
// encode alike, which unique indexes rely on; the encoding is therefore
// not decodable in general, and rows keep every column in their value.
//
// A datum of another family than t's is a caller's bug, reported as an
// XX000 error.
func AppendKeyDatum(b []byte, d types.Datum, t *types.Type, descending bool) ([]byte, error) {
	start := len(b)
	if d == types.DNull {
		b = append(b, keyNull)
	} else {
		var err error
		if b, err = appendKeyPayload(append(b, keyValue), d, t); err != nil {
			return b[:start], err
		}
	}
	if descending {
		for i := start; i < len(b); i++ {
			b[i] = ^b[i]
		}
	}
	return b, nil
}

func errFamily(d types.Datum, t *types.Type) error {
	return sqlerr.Internalf("rowenc: a %T value in a column of type %s", d, t.Name())
}

// appendKeyPayload appends the ascending encoding of non-NULL d.
func appendKeyPayload(b []byte, d types.Datum, t *types.Type) ([]byte, error) {
	if datumFamily(d) != t.Family() {
		return b, errFamily(d, t)
	}
	switch d := d.(type) {
	case types.DBool:
		if d {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	case types.DInt:
		return encoding.EncodeVarintAscending(b, int64(d)), nil
	case types.DOid:
		return encoding.EncodeVarintAscending(b, int64(d)), nil
	case types.DFloat:
		f := float64(d)
		if math.IsNaN(f) {
			// Every NaN alike, above +Inf (types.Compare's order); no
			// other float encodes as eight 0xFF bytes.
			return append(b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), nil
		}
		return encoding.EncodeFloatAscending(b, f), nil // -0 as 0
	case *types.DDecimal:
		return appendDecimalKey(b, &d.Decimal), nil
	case types.DString:
		return encoding.EncodeStringAscending(b, string(d)), nil
	case types.DBytes:
		return encoding.EncodeBytesAscending(b, d), nil
	case types.DDate:
		return encoding.EncodeVarintAscending(b, int64(d)), nil
	case types.DTimestamp:
		b = encoding.EncodeVarintAscending(b, d.Unix())
		return encoding.EncodeVarintAscending(b, int64(d.Nanosecond())), nil
	case types.DTimestampTZ:
		b = encoding.EncodeVarintAscending(b, d.Unix())
		return encoding.EncodeVarintAscending(b, int64(d.Nanosecond())), nil
	case types.DInterval:
		days, micros := intervalKey(d)
		b = encoding.EncodeVarintAscending(b, days)
		return encoding.EncodeVarintAscending(b, micros), nil
	case types.DUUID:
		return append(b, d[:]...), nil
	case *types.DJSON:
		return appendJSONKey(b, &d.JSON), nil
	case *types.DArray:
		for _, e := range d.Elems {
			if e == types.DNull {
				b = append(b, arrayNull)
				continue
			}
			var err error
			if b, err = appendKeyPayload(append(b, arrayElem), e, t.Elem()); err != nil {
				return b, err
			}
		}
		return append(b, arrayEnd), nil
	}
	return b, errFamily(d, t)
}

// datumFamily returns the family of a datum's representation (no
// allocation, unlike ResolvedType for arrays).
func datumFamily(d types.Datum) types.Family {
	switch d.(type) {
	case types.DBool:
		return types.BoolFamily
	case types.DInt:
		return types.IntFamily
	case types.DOid:
		return types.OidFamily
	case types.DFloat:
		return types.FloatFamily
	case *types.DDecimal:
		return types.NumericFamily
	case types.DString:
		return types.StringFamily
	case types.DBytes:
		return types.BytesFamily
	case types.DDate:
		return types.DateFamily
	case types.DTimestamp:
		return types.TimestampFamily
	case types.DTimestampTZ:
		return types.TimestampTZFamily
	case types.DInterval:
		return types.IntervalFamily
	case types.DUUID:
		return types.UUIDFamily
	case *types.DJSON:
		return types.JSONFamily
	case *types.DArray:
		return types.ArrayFamily
	}
	return types.UnknownFamily
}

// appendDecimalKey encodes a numeric as types.Compare orders it:
// -Infinity < negative < 0 < positive < Infinity < NaN. A finite nonzero
// value is 0.D × 10^E with D its digits without trailing zeros (so 1.5 and
// 1.50 encode alike): E as a varint, then D as a string; both inverted
// for negative values, where a larger magnitude sorts first.
func appendDecimalKey(b []byte, d *apd.Decimal) []byte {
	switch {
	case d.Form == apd.NaN || d.Form == apd.NaNSignaling:
		return append(b, decNaN)
	case d.Form == apd.Infinite && d.Negative:
		return append(b, decNegInf)
	case d.Form == apd.Infinite:
		return append(b, decPosInf)
	case d.IsZero():
		return append(b, decZero)
	}
	var r apd.Decimal
	r.Reduce(d)
	digits := r.Coeff.Append(nil, 10)
	exp := int64(r.Exponent) + int64(len(digits))
	if r.Negative {
		b = encoding.EncodeVarintDescending(append(b, decNeg), exp)
		return encoding.EncodeBytesDescending(b, digits)
	}
	b = encoding.EncodeVarintAscending(append(b, decPos), exp)
	return encoding.EncodeBytesAscending(b, digits)
}

// Interval comparison constants, as types.compareInterval uses them.
const (
	daysPerMonth = 30
	microsPerDay = 24 * 60 * 60 * 1e6
)

// intervalKey is the length of an interval with 30-day months and 24-hour
// days, as whole days and the microseconds of the last day: the order of
// types.Compare.
func intervalKey(d types.DInterval) (days, micros int64) {
	days = int64(d.Months)*daysPerMonth + int64(d.Days) + d.Micros/microsPerDay
	micros = d.Micros % microsPerDay
	if micros < 0 {
		micros += microsPerDay
		days--
	}
	return days, micros
}

// appendJSONKey encodes a top-level jsonb value in the order of
// types.CompareJSON, whose one quirk is that a top-level scalar compares
// as a one-element array sorting first among them: so the classes are
// [] < scalars < non-empty arrays (by length) < objects.
func appendJSONKey(b []byte, j *types.JSON) []byte {
	switch j.Kind {
	case types.JSONArray:
		if len(j.Elems) == 0 {
			return append(b, jsonEmptyArray)
		}
		return appendJSONValueKey(append(b, jsonArray), j)
	case types.JSONObject:
		return appendJSONValueKey(append(b, jsonObject), j)
	}
	return appendJSONValueKey(append(b, jsonScalar), j)
}

// appendJSONValueKey encodes a jsonb value in the order of nested values:
// by kind, arrays by length then element by element, objects by number of
// pairs then pair by pair (keys are sorted in the value already).
func appendJSONValueKey(b []byte, j *types.JSON) []byte {
	b = append(b, byte(j.Kind))
	switch j.Kind {
	case types.JSONString:
		b = encoding.EncodeStringAscending(b, j.Str)
	case types.JSONNumber:
		b = appendDecimalKey(b, &j.Num.Decimal)
	case types.JSONBool:
		if j.Bool {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	case types.JSONArray:
		b = encoding.EncodeVarintAscending(b, int64(len(j.Elems)))
		for i := range j.Elems {
			b = appendJSONValueKey(b, &j.Elems[i])
		}
	case types.JSONObject:
		b = encoding.EncodeVarintAscending(b, int64(len(j.Keys)))
		for i := range j.Keys {
			b = encoding.EncodeStringAscending(b, j.Keys[i])
			b = appendJSONValueKey(b, &j.Vals[i])
		}
	case types.JSONNull:
	default:
		panic(fmt.Sprintf("rowenc: jsonb kind %d", j.Kind))
	}
	return b
}
