package types

import (
	"math"
	"strconv"
	"time"

	"github.com/cockroachdb/apd/v3"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
)

// CoercionContext is where a conversion happens, as in PostgreSQL's
// pg_cast.castcontext. The contexts are ordered: a cast allowed
// implicitly is allowed in an assignment, and one allowed in an
// assignment is allowed explicitly.
type CoercionContext uint8

// The contexts.
const (
	// CoercionImplicit: in an expression, e.g. int4 + int8 → int8.
	CoercionImplicit CoercionContext = iota
	// CoercionAssignment: storing into a column (INSERT, UPDATE). A too
	// long string fails with 22001 unless the excess is spaces.
	CoercionAssignment
	// CoercionExplicit: CAST(x AS t) and x::t. A too long string is cut.
	CoercionExplicit
)

// CanCast reports whether PostgreSQL allows converting from to to in
// context ctx.
func CanCast(from, to *Type, ctx CoercionContext) bool {
	need, ok := castContext(from, to)
	return ok && need <= ctx
}

// castContext returns the weakest context in which a cast from → to
// exists, per pg_cast for the supported types plus PostgreSQL's automatic
// I/O conversions (to a string type in assignment, from one explicitly).
func castContext(from, to *Type) (CoercionContext, bool) {
	const (
		i = CoercionImplicit
		a = CoercionAssignment
		e = CoercionExplicit
	)
	if from.family == UnknownFamily || from.oid == to.oid {
		return i, true
	}
	if from.family == ArrayFamily && to.family == ArrayFamily {
		return castContext(from.elem, to.elem)
	}
	if to.family == StringFamily {
		if from.family == StringFamily {
			if from.oid == OidName && to.oid != OidText {
				return a, true
			}
			return i, true
		}
		return a, true
	}
	if from.family == StringFamily {
		return e, true
	}
	type pair struct{ from, to Oid }
	ctx, ok := map[pair]CoercionContext{
		{OidInt2, OidInt4}: i, {OidInt2, OidInt8}: i, {OidInt4, OidInt8}: i,
		{OidInt4, OidInt2}: a, {OidInt8, OidInt2}: a, {OidInt8, OidInt4}: a,
		{OidInt2, OidFloat4}: i, {OidInt2, OidFloat8}: i, {OidInt2, OidNumeric}: i,
		{OidInt4, OidFloat4}: i, {OidInt4, OidFloat8}: i, {OidInt4, OidNumeric}: i,
		{OidInt8, OidFloat4}: i, {OidInt8, OidFloat8}: i, {OidInt8, OidNumeric}: i,
		{OidFloat4, OidFloat8}: i, {OidFloat8, OidFloat4}: a,
		{OidFloat4, OidInt2}: a, {OidFloat4, OidInt4}: a, {OidFloat4, OidInt8}: a,
		{OidFloat8, OidInt2}: a, {OidFloat8, OidInt4}: a, {OidFloat8, OidInt8}: a,
		{OidFloat4, OidNumeric}: a, {OidFloat8, OidNumeric}: a,
		{OidNumeric, OidInt2}: a, {OidNumeric, OidInt4}: a, {OidNumeric, OidInt8}: a,
		{OidNumeric, OidFloat4}: i, {OidNumeric, OidFloat8}: i,
		{OidInt2, OidOid}: i, {OidInt4, OidOid}: i, {OidInt8, OidOid}: i,
		{OidOid, OidInt4}: a, {OidOid, OidInt8}: a,
		{OidOid, OidRegClass}: i, {OidRegClass, OidOid}: i, {OidInt2, OidRegClass}: i, {OidInt4, OidRegClass}: i,
		{OidInt8, OidRegClass}: i, {OidRegClass, OidInt4}: a, {OidRegClass, OidInt8}: a,
		{OidBool, OidInt4}: e, {OidInt4, OidBool}: e,
		{OidDate, OidTimestamp}: i, {OidDate, OidTimestampTZ}: i, {OidTimestamp, OidTimestampTZ}: i,
		{OidTimestampTZ, OidTimestamp}: a, {OidTimestamp, OidDate}: a, {OidTimestampTZ, OidDate}: a,
		{OidJSONB, OidBool}: e, {OidJSONB, OidNumeric}: e, {OidJSONB, OidInt2}: e, {OidJSONB, OidInt4}: e,
		{OidJSONB, OidInt8}: e, {OidJSONB, OidFloat4}: e, {OidJSONB, OidFloat8}: e,
	}[pair{from.oid, to.oid}]
	return ctx, ok
}

// Cast converts d to type to as CAST(d AS to) does, with the session
// defaults (UTC); see Caster.Cast.
func Cast(d Datum, to *Type) (Datum, error) {
	return Caster{Context: CoercionExplicit}.Cast(d, nil, to)
}

// Caster converts datums between types in one coercion context and
// session.
type Caster struct {
	Context  CoercionContext
	Settings *Settings
}

// Cast converts d, of type from (nil: d.ResolvedType(); it matters for
// float4, whose digits differ from float8's), to type to, as PostgreSQL's
// cast functions do, applying to's modifiers. DNull stays DNull. A cast
// PostgreSQL does not have fails with 42846 cannot_coerce; this function
// does not check the context (CanCast does): it only decides how a too
// long string is treated.
//
//   - numeric → int rounds half away from zero, float → int half to even;
//     out of range is 22003; NaN or Infinity to int is 0A000 (numeric) or
//     22003 (float);
//   - float8 → float4 fails with 22003 on overflow and underflow;
//   - float → numeric goes through 15 (float8) or 6 (float4) significant
//     digits, as PostgreSQL does;
//   - to VARCHAR(n)/CHAR(n): 22001 in assignment unless the excess is
//     spaces; cut when explicit; NUMERIC(p,s) rounds, 22003 on overflow;
//   - to a string type, a value prints as its text output (bool gives
//     "true"/"false"); from a string, the text is parsed by the target's
//     input function (22P02 etc.);
//   - date/timestamp/timestamptz convert through the session's time zone;
//   - jsonb → bool/numeric/int/float requires a JSON value of that kind
//     (22023 otherwise).
func (c Caster) Cast(d Datum, from, to *Type) (Datum, error) {
	if d == DNull {
		return DNull, nil
	}
	if from == nil {
		from = d.ResolvedType()
	}
	if _, ok := castContext(from, to); !ok {
		return nil, sqlerr.Newf(sqlerr.CodeCannotCoerce, "cannot cast type %s to %s", from.Name(), to.Name())
	}
	explicit := c.Context == CoercionExplicit
	switch to.family {
	case UnknownFamily:
		return d, nil
	case StringFamily:
		var s DString
		switch v := d.(type) {
		case DString:
			s = v
		case DBool:
			s = "false"
			if v {
				s = "true"
			}
		default:
			s = DString(AppendText(nil, d, from, c.Settings))
		}
		return applyStringTypmod(s, to, explicit)
	}
	if s, ok := d.(DString); ok {
		return ParseText(string(s), to, c.Settings)
	}
	switch to.family {
	case BoolFamily:
		switch v := d.(type) {
		case DBool:
			return v, nil
		case DInt:
			return MakeDBool(v != 0), nil
		case *DJSON:
			if v.Kind != JSONBool {
				return nil, jsonCastError(v, to)
			}
			return MakeDBool(v.Bool), nil
		}
	case IntFamily:
		return castToInt(d, to)
	case OidFamily:
		if v, ok := d.(DInt); ok {
			if from.width == 64 && (v < 0 || v > math.MaxUint32) {
				return nil, sqlerr.New(sqlerr.CodeNumericValueOutOfRange, "OID out of range")
			}
			return DOid(uint32(v)), nil
		}
		if v, ok := d.(DOid); ok {
			return v, nil
		}
	case FloatFamily:
		return castToFloat(d, to)
	case NumericFamily:
		return castToNumeric(d, from, to)
	case DateFamily:
		switch v := d.(type) {
		case DDate:
			return v, nil
		case DTimestamp:
			return dateOfTime(v.Time, time.UTC)
		case DTimestampTZ:
			return dateOfTime(v.Time, c.Settings.location())
		}
	case TimestampFamily:
		switch v := d.(type) {
		case DTimestamp:
			return applyTimestampTypmod(v, to)
		case DDate:
			t, err := timeOfDate(v, time.UTC)
			if err != nil {
				return nil, err
			}
			return applyTimestampTypmod(DTimestamp{t}, to)
		case DTimestampTZ:
			if !v.IsFinite() {
				return applyTimestampTypmod(DTimestamp(v), to)
			}
			ts, err := MakeDTimestamp(v.Time.In(c.Settings.location()))
			if err != nil {
				return nil, err
			}
			return applyTimestampTypmod(ts, to)
		}
	case TimestampTZFamily:
		switch v := d.(type) {
		case DTimestampTZ:
			return applyTimestampTypmod(v, to)
		case DDate:
			t, err := timeOfDate(v, c.Settings.location())
			if err != nil {
				return nil, err
			}
			return applyTimestampTypmod(DTimestampTZ{t}, to)
		case DTimestamp:
			if !v.IsFinite() {
				return applyTimestampTypmod(DTimestampTZ(v), to)
			}
			y, mo, dd := v.Date()
			h, mi, s := v.Clock()
			tz, err := MakeDTimestampTZ(time.Date(y, mo, dd, h, mi, s, v.Nanosecond(), c.Settings.location()))
			if err != nil {
				return nil, err
			}
			return applyTimestampTypmod(tz, to)
		}
	case IntervalFamily, BytesFamily, UUIDFamily, JSONFamily:
		return d, nil // only from a string or the same type
	case ArrayFamily:
		if a, ok := d.(*DArray); ok {
			fromElem := a.Elem
			if from.family == ArrayFamily {
				fromElem = from.elem
			}
			out := make([]Datum, len(a.Elems))
			for i, e := range a.Elems {
				var err error
				if out[i], err = c.Cast(e, fromElem, to.elem); err != nil {
					return nil, err
				}
			}
			return &DArray{Elem: to.elem, Elems: out}, nil
		}
	}
	return nil, sqlerr.Newf(sqlerr.CodeCannotCoerce, "cannot cast type %s to %s", from.Name(), to.Name())
}

func jsonCastError(j *DJSON, to *Type) error {
	kind := [...]string{"null", "string", "numeric", "boolean", "array", "object"}[j.Kind]
	return sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "cannot cast jsonb %s to type %s", kind, to.Name())
}

func errIntRange(t *Type) error {
	return sqlerr.Newf(sqlerr.CodeNumericValueOutOfRange, "%s out of range", t.Name())
}

func castToInt(d Datum, to *Type) (Datum, error) {
	lo, hi := intRange(to)
	switch v := d.(type) {
	case DInt:
		if int64(v) < lo || int64(v) > hi {
			return nil, errIntRange(to)
		}
		return v, nil
	case DBool:
		if v {
			return DInt(1), nil
		}
		return DInt(0), nil
	case DOid:
		if to.width == 32 {
			return DInt(int32(v)), nil // as PostgreSQL: 4294967295::oid::int4 = -1
		}
		return DInt(v), nil
	case DFloat:
		f := math.RoundToEven(float64(v))
		// float64(hi) rounds up to 2^63 for int8, hence >= on that side.
		if math.IsNaN(f) || f < float64(lo) || f >= -float64(lo) || f > float64(hi) {
			return nil, errIntRange(to)
		}
		return DInt(int64(f)), nil
	case *DDecimal:
		return decimalToInt(v, to)
	case *DJSON:
		if v.Kind != JSONNumber {
			return nil, jsonCastError(v, to)
		}
		return decimalToInt(v.Num, to)
	}
	return nil, sqlerr.Newf(sqlerr.CodeCannotCoerce, "cannot cast type %s to %s", d.ResolvedType().Name(), to.Name())
}

func decimalToInt(v *DDecimal, to *Type) (Datum, error) {
	switch v.Form {
	case apd.NaN, apd.NaNSignaling:
		return nil, sqlerr.Newf(sqlerr.CodeFeatureNotSupported, "cannot convert NaN to %s", to.Name())
	case apd.Infinite:
		return nil, sqlerr.Newf(sqlerr.CodeFeatureNotSupported, "cannot convert infinity to %s", to.Name())
	}
	r := roundDecimal(v, 0)
	lo, hi := intRange(to)
	if r.NumDigits() > 19 {
		return nil, errIntRange(to)
	}
	n, err := r.Int64()
	if err != nil || n < lo || n > hi {
		return nil, errIntRange(to)
	}
	return DInt(n), nil
}

func castToFloat(d Datum, to *Type) (Datum, error) {
	var f float64
	switch v := d.(type) {
	case DFloat:
		f = float64(v)
	case DInt:
		f = float64(v)
	case *DDecimal:
		return decimalToFloat(v, to)
	case *DJSON:
		if v.Kind != JSONNumber {
			return nil, jsonCastError(v, to)
		}
		return decimalToFloat(v.Num, to)
	default:
		return nil, sqlerr.Newf(sqlerr.CodeCannotCoerce, "cannot cast type %s to %s", d.ResolvedType().Name(), to.Name())
	}
	if to.width == 32 {
		return toFloat4(f)
	}
	return DFloat(f), nil
}

// toFloat4 rounds f to float32 as float84 does: 22003 on overflow and on
// underflow to zero.
func toFloat4(f float64) (Datum, error) {
	r := float32(f)
	switch {
	case math.IsInf(float64(r), 0) && !math.IsInf(f, 0):
		return nil, sqlerr.New(sqlerr.CodeNumericValueOutOfRange, "value out of range: overflow")
	case r == 0 && f != 0:
		return nil, sqlerr.New(sqlerr.CodeNumericValueOutOfRange, "value out of range: underflow")
	}
	return DFloat(r), nil
}

func decimalToFloat(v *DDecimal, to *Type) (Datum, error) {
	switch v.Form {
	case apd.NaN, apd.NaNSignaling:
		return DFloat(math.NaN()), nil
	case apd.Infinite:
		if v.Negative {
			return DFloat(math.Inf(-1)), nil
		}
		return DFloat(math.Inf(1)), nil
	}
	return parseFloat(string(appendDecimal(nil, v)), to)
}

func castToNumeric(d Datum, from, to *Type) (Datum, error) {
	var r *DDecimal
	switch v := d.(type) {
	case *DDecimal:
		r = v
	case DInt:
		r = &DDecimal{}
		r.SetInt64(int64(v))
	case DFloat:
		f := float64(v)
		switch {
		case math.IsNaN(f):
			r = DecimalNaN()
		case math.IsInf(f, 0):
			r = DecimalInfinity(f < 0)
		default:
			// PostgreSQL prints the float with DBL_DIG (FLT_DIG)
			// significant digits and reads that back.
			digits := 15
			if from.width == 32 {
				digits = 6
			}
			var err error
			if r, err = parseDecimal(strconv.FormatFloat(f, 'g', digits, 64)); err != nil {
				return nil, err
			}
		}
	case *DJSON:
		if v.Kind != JSONNumber {
			return nil, jsonCastError(v, to)
		}
		r = v.Num
	default:
		return nil, sqlerr.Newf(sqlerr.CodeCannotCoerce, "cannot cast type %s to %s", from.Name(), to.Name())
	}
	return applyNumericTypmod(r, to)
}

func dateOfTime(t time.Time, loc *time.Location) (Datum, error) {
	switch {
	case t.Equal(TimestampInfinity):
		return DateInfinity, nil
	case t.Equal(TimestampNegInfinity):
		return DateNegInfinity, nil
	}
	return DateFromTime(t.In(loc))
}

// timeOfDate returns midnight of d in loc.
func timeOfDate(d DDate, loc *time.Location) (time.Time, error) {
	switch d {
	case DateInfinity:
		return TimestampInfinity, nil
	case DateNegInfinity:
		return TimestampNegInfinity, nil
	}
	y, m, dd := d.YMD()
	return checkTimestamp(time.Date(y, time.Month(m), dd, 0, 0, 0, 0, loc).UTC())
}
