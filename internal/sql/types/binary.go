package types

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
)

func appendUint16(buf []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(buf, v) }
func appendUint32(buf []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(buf, v) }
func appendUint64(buf []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(buf, v) }
func be16(b []byte) uint16                     { return binary.BigEndian.Uint16(b) }
func be32(b []byte) uint32                     { return binary.BigEndian.Uint32(b) }
func be64(b []byte) uint64                     { return binary.BigEndian.Uint64(b) }

func errBinaryLength(typeName string) error {
	return sqlerr.Newf(sqlerr.CodeInvalidBinaryRepresentation, "incorrect binary data format for type %s", typeName)
}

// jsonbVersion is the version byte of jsonb's binary format.
const jsonbVersion = 1

// AppendBinary appends the binary wire format of d, as PostgreSQL's send
// function for type t (nil: d.ResolvedType()) writes it: integers and
// floats big-endian in t's width, numeric in base-10000 digits, date as
// int32 days and timestamps as int64 microseconds since 2000-01-01,
// interval as int64 microseconds, int32 days, int32 months, jsonb as a
// version byte 1 and the text, arrays with their header. d must not be
// DNull (a NULL is a length of -1 on the wire) and must belong to t's
// family; anything else is a bug and panics.
func AppendBinary(buf []byte, d Datum, t *Type) []byte {
	if t == nil {
		t = d.ResolvedType()
	}
	switch d := d.(type) {
	case DBool:
		if d {
			return append(buf, 1)
		}
		return append(buf, 0)
	case DInt:
		switch t.width {
		case 16:
			return appendUint16(buf, uint16(d))
		case 32:
			return appendUint32(buf, uint32(d))
		}
		return appendUint64(buf, uint64(d))
	case DOid:
		return appendUint32(buf, uint32(d))
	case DFloat:
		if t.width == 32 {
			return appendUint32(buf, math.Float32bits(float32(d)))
		}
		return appendUint64(buf, math.Float64bits(float64(d)))
	case *DDecimal:
		return appendDecimalBinary(buf, d)
	case DString:
		return AppendText(buf, d, t, nil) // CHAR(n) padding
	case DBytes:
		return append(buf, d...)
	case DDate:
		return appendUint32(buf, uint32(d))
	case DTimestamp:
		return appendUint64(buf, uint64(pgMicros(d.Time)))
	case DTimestampTZ:
		return appendUint64(buf, uint64(pgMicros(d.Time)))
	case DInterval:
		buf = appendUint64(buf, uint64(d.Micros))
		buf = appendUint32(buf, uint32(d.Days))
		return appendUint32(buf, uint32(d.Months))
	case DUUID:
		return append(buf, d[:]...)
	case *DJSON:
		buf = append(buf, jsonbVersion)
		return d.JSON.appendText(buf)
	case *DArray:
		elem := d.Elem
		if t.family == ArrayFamily {
			elem = t.elem
		}
		hasNulls := uint32(0)
		if d.HasNulls() {
			hasNulls = 1
		}
		if len(d.Elems) == 0 {
			buf = appendUint32(buf, 0)
			buf = appendUint32(buf, 0)
			return appendUint32(buf, uint32(elem.oid))
		}
		buf = appendUint32(buf, 1) // dimensions
		buf = appendUint32(buf, hasNulls)
		buf = appendUint32(buf, uint32(elem.oid))
		buf = appendUint32(buf, uint32(len(d.Elems)))
		buf = appendUint32(buf, 1) // lower bound
		for _, e := range d.Elems {
			if e == DNull {
				buf = appendUint32(buf, math.MaxUint32) // -1
				continue
			}
			at := len(buf)
			buf = appendUint32(buf, 0)
			buf = AppendBinary(buf, e, elem)
			binary.BigEndian.PutUint32(buf[at:], uint32(len(buf)-at-4))
		}
		return buf
	}
	panic(fmt.Sprintf("types: AppendBinary of %T as %s", d, t.Name()))
}

// ParseBinary reads a value of type t in its binary wire format, as
// PostgreSQL's receive function does, and applies t's modifiers as an
// assignment would. Malformed input fails with 22P03
// invalid_binary_representation; out-of-range values as their text input
// would (22003, 22008); invalid UTF-8 with 22021.
func ParseBinary(b []byte, t *Type) (Datum, error) {
	want := func(n int) error {
		if len(b) != n {
			return errBinaryLength(t.Name())
		}
		return nil
	}
	switch t.family {
	case BoolFamily:
		if err := want(1); err != nil {
			return nil, err
		}
		return MakeDBool(b[0] != 0), nil
	case IntFamily:
		if err := want(int(t.width / 8)); err != nil {
			return nil, err
		}
		switch t.width {
		case 16:
			return DInt(int16(be16(b))), nil
		case 32:
			return DInt(int32(be32(b))), nil
		}
		return DInt(int64(be64(b))), nil
	case OidFamily:
		if err := want(4); err != nil {
			return nil, err
		}
		return DOid(be32(b)), nil
	case FloatFamily:
		if t.width == 32 {
			if err := want(4); err != nil {
				return nil, err
			}
			return DFloat(math.Float32frombits(be32(b))), nil
		}
		if err := want(8); err != nil {
			return nil, err
		}
		return DFloat(math.Float64frombits(be64(b))), nil
	case NumericFamily:
		d, err := parseDecimalBinary(b)
		if err != nil {
			return nil, err
		}
		return applyNumericTypmod(d, t)
	case StringFamily, UnknownFamily:
		if err := checkText(string(b)); err != nil {
			return nil, err
		}
		return applyStringTypmod(DString(b), t, false)
	case BytesFamily:
		return DBytes(append([]byte(nil), b...)), nil
	case DateFamily:
		if err := want(4); err != nil {
			return nil, err
		}
		d := DDate(int32(be32(b)))
		if d.IsFinite() && (d < minDateDays || d >= endDateDays) {
			return nil, sqlerr.New(sqlerr.CodeDatetimeFieldOverflow, "date out of range")
		}
		return d, nil
	case TimestampFamily, TimestampTZFamily:
		if err := want(8); err != nil {
			return nil, err
		}
		us := int64(be64(b))
		if us != math.MinInt64 && us != math.MaxInt64 && (us < minTimestamp || us >= endTimestamp) {
			return nil, sqlerr.New(sqlerr.CodeDatetimeFieldOverflow, "timestamp out of range")
		}
		tm := timeFromPGMicros(us)
		if t.family == TimestampFamily {
			return applyTimestampTypmod(DTimestamp{tm}, t)
		}
		return applyTimestampTypmod(DTimestampTZ{tm}, t)
	case IntervalFamily:
		if err := want(16); err != nil {
			return nil, err
		}
		return DInterval{Micros: int64(be64(b)), Days: int32(be32(b[8:])), Months: int32(be32(b[12:]))}, nil
	case UUIDFamily:
		if err := want(16); err != nil {
			return nil, err
		}
		var u DUUID
		copy(u[:], b)
		return u, nil
	case JSONFamily:
		if len(b) == 0 || b[0] != jsonbVersion {
			return nil, sqlerr.New(sqlerr.CodeInvalidBinaryRepresentation, "unsupported jsonb version number")
		}
		j, err := ParseJSON(string(b[1:]))
		if err != nil {
			return nil, err
		}
		return &DJSON{JSON: j}, nil
	case ArrayFamily:
		return parseArrayBinary(b, t)
	}
	return nil, sqlerr.Internalf("types: ParseBinary for %s", t.Name())
}

func parseArrayBinary(b []byte, t *Type) (Datum, error) {
	bad := func(msg string) error {
		return sqlerr.New(sqlerr.CodeInvalidBinaryRepresentation, msg)
	}
	if len(b) < 12 {
		return nil, errBinaryLength(t.Name())
	}
	ndim, flags, elemOid := int32(be32(b)), be32(b[4:]), Oid(be32(b[8:]))
	b = b[12:]
	if flags > 1 {
		return nil, bad("invalid array flags")
	}
	if elemOid != t.elem.oid {
		return nil, sqlerr.Newf(sqlerr.CodeDatatypeMismatch, "binary data has array element type %d instead of expected %d", elemOid, t.elem.oid)
	}
	switch {
	case ndim == 0:
		if len(b) != 0 {
			return nil, errBinaryLength(t.Name())
		}
		return &DArray{Elem: t.elem, Elems: []Datum{}}, nil
	case ndim < 0:
		return nil, bad("invalid number of dimensions")
	case ndim > 1:
		return nil, sqlerr.Unsupportedf("multidimensional arrays are not supported")
	}
	if len(b) < 8 {
		return nil, errBinaryLength(t.Name())
	}
	n, lb := int32(be32(b)), int32(be32(b[4:]))
	b = b[8:]
	if n < 0 || int(n) > len(b)/4 {
		return nil, bad("invalid array dimensions")
	}
	if lb != 1 && n > 0 {
		return nil, sqlerr.Unsupportedf("arrays with a lower bound other than 1 are not supported")
	}
	elems := make([]Datum, 0, n)
	for i := int32(0); i < n; i++ {
		if len(b) < 4 {
			return nil, errBinaryLength(t.Name())
		}
		l := int32(be32(b))
		b = b[4:]
		if l == -1 {
			elems = append(elems, DNull)
			continue
		}
		if l < 0 || int(l) > len(b) {
			return nil, errBinaryLength(t.Name())
		}
		e, err := ParseBinary(b[:l], t.elem)
		if err != nil {
			return nil, err
		}
		elems = append(elems, e)
		b = b[l:]
	}
	if len(b) != 0 {
		return nil, errBinaryLength(t.Name())
	}
	return &DArray{Elem: t.elem, Elems: elems}, nil
}
