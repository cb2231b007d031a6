package types

import (
	"math"
	"math/rand"
	"strings"
	"unicode/utf8"
)

// randTypes are the types the property tests draw values of.
var randTypes = []string{
	"bool", "int2", "int4", "int8", "float4", "float8", "numeric", "text", "varchar(5)",
	"char(4)", "name", "bytea", "date", "timestamp", "timestamptz", "interval", "uuid", "jsonb", "oid",
	"int4[]", "text[]", "float8[]", "numeric[]", "bytea[]", "char(2)[]", "timestamptz[]", "jsonb[]",
	"interval[]", "bool[]", "uuid[]", "date[]", "int2[]", "int8[]", "float4[]", "timestamp[]", "varchar[]",
}

// randDatum returns a random non-NULL value of typ, favoring edge cases.
func randDatum(rng *rand.Rand, typ *Type) Datum {
	switch typ.Family() {
	case BoolFamily:
		return MakeDBool(rng.Intn(2) == 0)
	case IntFamily:
		lo, hi := intRange(typ)
		switch rng.Intn(6) {
		case 0:
			return DInt(lo)
		case 1:
			return DInt(hi)
		case 2:
			return DInt(rng.Intn(200) - 100)
		}
		return DInt(lo + int64(rng.Uint64()%uint64(hi-lo)))
	case OidFamily:
		return DOid(rng.Uint32())
	case FloatFamily:
		var f float64
		switch rng.Intn(8) {
		case 0:
			f = []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, 1e15, 1e-5, 0.1}[rng.Intn(8)]
		case 1:
			f = float64(rng.Intn(2000)-1000) / 8
		default:
			f = math.Float64frombits(rng.Uint64())
		}
		if typ.Width() == 32 {
			if rng.Intn(2) == 0 {
				f = float64(math.Float32frombits(rng.Uint32()))
			}
			f = float64(float32(f))
		}
		return DFloat(f)
	case NumericFamily:
		switch rng.Intn(12) {
		case 0:
			return DecimalNaN()
		case 1:
			return DecimalInfinity(rng.Intn(2) == 0)
		}
		var b strings.Builder
		if rng.Intn(2) == 0 {
			b.WriteByte('-')
		}
		for i, n := 0, 1+rng.Intn(30); i < n; i++ {
			b.WriteByte(byte('0' + rng.Intn(10)))
		}
		if rng.Intn(3) > 0 {
			b.WriteByte('.')
			for i, n := 0, 1+rng.Intn(25); i < n; i++ {
				b.WriteByte(byte('0' + rng.Intn(10)))
			}
		}
		if rng.Intn(5) == 0 {
			b.WriteString("e-" + string(rune('0'+rng.Intn(10))))
		}
		return MustParseDecimal(b.String())
	case StringFamily:
		s := randString(rng, 12)
		switch {
		case typ.Oid() == OidBPChar:
			s = strings.TrimRight(truncRunes(s, int(typ.Length())), " ")
		case typ.Length() > 0:
			s = truncRunes(s, int(typ.Length()))
		case typ.Oid() == OidName:
			s = truncRunes(s, 20)
		}
		return DString(s)
	case BytesFamily:
		b := make([]byte, rng.Intn(10))
		rng.Read(b)
		return DBytes(b)
	case DateFamily:
		switch rng.Intn(10) {
		case 0:
			return DateInfinity
		case 1:
			return DateNegInfinity
		case 2:
			return DDate(minDateDays)
		case 3:
			return DDate(endDateDays - 1)
		case 4, 5:
			return DDate(rng.Intn(40000) - 20000)
		}
		return DDate(minDateDays + rng.Int63n(endDateDays-minDateDays))
	case TimestampFamily, TimestampTZFamily:
		var us int64
		switch rng.Intn(10) {
		case 0:
			us = math.MaxInt64
		case 1:
			us = math.MinInt64
		case 2:
			us = minTimestamp
		case 3:
			us = endTimestamp - 1
		case 4, 5:
			us = rng.Int63n(100*365*microsPerDay) - 50*365*microsPerDay
		default:
			us = minTimestamp + int64(rng.Uint64()%uint64(endTimestamp-minTimestamp))
		}
		if typ.Family() == TimestampFamily {
			return DTimestamp{timeFromPGMicros(us)}
		}
		return DTimestampTZ{timeFromPGMicros(us)}
	case IntervalFamily:
		switch rng.Intn(3) {
		case 0:
			return DInterval{Months: int32(rng.Intn(50) - 25), Days: int32(rng.Intn(100) - 50), Micros: rng.Int63n(4*microsPerDay) - 2*microsPerDay}
		case 1:
			return DInterval{Months: int32(rng.Intn(3) - 1), Days: int32(rng.Intn(61) - 30), Micros: int64(rng.Intn(3)-1) * microsPerDay}
		}
		return DInterval{Months: int32(rng.Uint32()), Days: int32(rng.Uint32()), Micros: int64(rng.Uint64())}
	case UUIDFamily:
		var u DUUID
		rng.Read(u[:])
		return u
	case JSONFamily:
		return &DJSON{JSON: randJSON(rng, 3)}
	case ArrayFamily:
		n := rng.Intn(5)
		elems := make([]Datum, n)
		for i := range elems {
			if rng.Intn(5) == 0 {
				elems[i] = DNull
			} else {
				elems[i] = randDatum(rng, typ.Elem())
			}
		}
		return &DArray{Elem: typ.Elem(), Elems: elems}
	}
	panic("randDatum: " + typ.Name())
}

// randString returns valid UTF-8 without NUL, rich in the characters that
// quoting and escaping must handle.
func randString(rng *rand.Rand, maxLen int) string {
	const special = ` "\{},NULnul'` + "\t\n"
	var b strings.Builder
	for i, n := 0, rng.Intn(maxLen+1); i < n; i++ {
		switch rng.Intn(4) {
		case 0:
			b.WriteByte(special[rng.Intn(len(special))])
		case 1:
			r := rune(1 + rng.Intn(0x10FFFF))
			if !utf8.ValidRune(r) {
				r = 'é'
			}
			b.WriteRune(r)
		default:
			b.WriteByte(byte('a' + rng.Intn(26)))
		}
	}
	if rng.Intn(10) == 0 {
		return "NULL"
	}
	return b.String()
}

func truncRunes(s string, n int) string {
	i := 0
	for cnt := 0; i < len(s) && cnt < n; cnt++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i]
}

func randJSON(rng *rand.Rand, depth int) JSON {
	k := rng.Intn(6)
	if depth == 0 && k >= 4 {
		k = rng.Intn(4)
	}
	switch JSONKind(k) {
	case JSONNull:
		return JSON{Kind: JSONNull}
	case JSONString:
		return JSON{Kind: JSONString, Str: randString(rng, 6)}
	case JSONNumber:
		for {
			if d := randDatum(rng, Numeric).(*DDecimal); d.Form == 0 {
				return JSON{Kind: JSONNumber, Num: d}
			}
		}
	case JSONBool:
		return JSON{Kind: JSONBool, Bool: rng.Intn(2) == 0}
	case JSONArray:
		v := JSON{Kind: JSONArray}
		for i, n := 0, rng.Intn(4); i < n; i++ {
			v.Elems = append(v.Elems, randJSON(rng, depth-1))
		}
		return v
	}
	var keys []string
	var vals []JSON
	for i, n := 0, rng.Intn(4); i < n; i++ {
		keys = append(keys, randString(rng, 3))
		vals = append(vals, randJSON(rng, depth-1))
	}
	return MakeJSONObject(keys, vals)
}
