package types

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

func cmpInt[T cmp.Ordered](a, b T) int { return cmp.Compare(a, b) }

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// Compare orders two datums of one family as PostgreSQL's default btree
// operator class does, returning -1, 0 or +1:
//
//   - floats: NaN equals NaN and sorts above every other value; -0 = 0;
//   - numerics: -Infinity < finite < Infinity < NaN; 1.5 = 1.50;
//   - strings and bytea: bytewise (the C collation); CHAR(n) values are
//     held without trailing spaces, so 'a ' = 'a' as PostgreSQL has it;
//   - intervals: by length with 30-day months and 24-hour days;
//   - jsonb: see CompareJSON;
//   - arrays: element by element, a NULL element above any value and equal
//     to NULL, then the shorter first.
//
// Compare implements no three-valued logic: DNull sorts after every value
// and equals DNull, which is the order of ORDER BY ... NULLS LAST and of
// GROUP BY. Callers evaluating a comparison operator must test for NULL
// first. Datums of different families (other than DNull) are a bug in the
// caller (the planner casts operands to one type) and panic.
func Compare(a, b Datum) int {
	if a == DNull || b == DNull {
		return cmpBool(a == DNull, b == DNull)
	}
	switch a := a.(type) {
	case DBool:
		return cmpBool(bool(a), bool(mustBe[DBool](a, b)))
	case DInt:
		return cmpInt(a, mustBe[DInt](a, b))
	case DOid:
		return cmpInt(a, mustBe[DOid](a, b))
	case DFloat:
		return compareFloat(float64(a), float64(mustBe[DFloat](a, b)))
	case *DDecimal:
		return compareDecimal(a, mustBe[*DDecimal](a, b))
	case DString:
		return strings.Compare(string(a), string(mustBe[DString](a, b)))
	case DBytes:
		return bytes.Compare(a, mustBe[DBytes](a, b))
	case DDate:
		return cmpInt(a, mustBe[DDate](a, b))
	case DTimestamp:
		return a.Time.Compare(mustBe[DTimestamp](a, b).Time)
	case DTimestampTZ:
		return a.Time.Compare(mustBe[DTimestampTZ](a, b).Time)
	case DInterval:
		return compareInterval(a, mustBe[DInterval](a, b))
	case DUUID:
		bb := mustBe[DUUID](a, b)
		return bytes.Compare(a[:], bb[:])
	case *DJSON:
		return CompareJSON(&a.JSON, &mustBe[*DJSON](a, b).JSON)
	case *DArray:
		bb := mustBe[*DArray](a, b)
		for i := 0; i < len(a.Elems) && i < len(bb.Elems); i++ {
			if c := Compare(a.Elems[i], bb.Elems[i]); c != 0 {
				return c
			}
		}
		return cmpInt(len(a.Elems), len(bb.Elems))
	}
	panic(fmt.Sprintf("types: Compare of %T", a))
}

func mustBe[T Datum](a, b Datum) T {
	v, ok := b.(T)
	if !ok {
		panic(fmt.Sprintf("types: Compare of %T with %T", a, b))
	}
	return v
}

// compareFloat orders floats as float8_cmp_internal: NaN = NaN > all.
func compareFloat(a, b float64) int {
	switch an, bn := math.IsNaN(a), math.IsNaN(b); {
	case an || bn:
		return cmpBool(an, bn)
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Equal reports whether Compare(a, b) == 0: the equality of GROUP BY,
// DISTINCT and hash joins, under which NULL equals NULL.
func Equal(a, b Datum) bool { return Compare(a, b) == 0 }

// Key-encoding tags. They keep values of different families apart and
// mark NULL; they are not persisted.
const (
	keyNull byte = iota
	keyFalse
	keyTrue
	keyInt
	keyOid
	keyFloat
	keyDecimal
	keyDecimalNaN
	keyDecimalPosInf
	keyDecimalNegInf
	keyString
	keyBytes
	keyDate
	keyTimestamp
	keyTimestampTZ
	keyInterval
	keyUUID
	keyJSON
	keyArray
)

// EncodeKey appends to buf a byte string that is equal for two datums
// exactly when Equal holds for them: 1.5 and 1.50, -0 and 0, '1 mon' and
// '30 days', every NaN, and NULL and NULL each encode alike. Hash tables
// for GROUP BY, DISTINCT and hash joins key on it (a hash join must skip
// NULL keys itself). The encoding does not preserve order and is not
// stable across versions: never persist it.
func EncodeKey(buf []byte, d Datum) []byte {
	switch d := d.(type) {
	case dNull:
		return append(buf, keyNull)
	case DBool:
		if d {
			return append(buf, keyTrue)
		}
		return append(buf, keyFalse)
	case DInt:
		return appendUint64(append(buf, keyInt), uint64(d))
	case DOid:
		return appendUint32(append(buf, keyOid), uint32(d))
	case DFloat:
		f := float64(d)
		switch {
		case math.IsNaN(f):
			f = math.NaN()
		case f == 0:
			f = 0
		}
		return appendUint64(append(buf, keyFloat), math.Float64bits(f))
	case *DDecimal:
		return appendDecimalKey(buf, d)
	case DString:
		buf = binary.AppendUvarint(append(buf, keyString), uint64(len(d)))
		return append(buf, d...)
	case DBytes:
		buf = binary.AppendUvarint(append(buf, keyBytes), uint64(len(d)))
		return append(buf, d...)
	case DDate:
		return appendUint32(append(buf, keyDate), uint32(d))
	case DTimestamp:
		return appendUint64(append(buf, keyTimestamp), uint64(pgMicros(d.Time)))
	case DTimestampTZ:
		return appendUint64(append(buf, keyTimestampTZ), uint64(pgMicros(d.Time)))
	case DInterval:
		days, us := intervalKey(d)
		return appendUint64(appendUint64(append(buf, keyInterval), uint64(days)), uint64(us))
	case DUUID:
		return append(append(buf, keyUUID), d[:]...)
	case *DJSON:
		return appendJSONKey(append(buf, keyJSON), &d.JSON)
	case *DArray:
		buf = binary.AppendUvarint(append(buf, keyArray), uint64(len(d.Elems)))
		for _, e := range d.Elems {
			buf = EncodeKey(buf, e)
		}
		return buf
	}
	panic(fmt.Sprintf("types: EncodeKey of %T", d))
}

// appendDecimalKey encodes a numeric without its trailing zeros, so that
// equal values of different scales encode alike.
func appendDecimalKey(buf []byte, d *DDecimal) []byte {
	switch {
	case d.Form == apd.NaN || d.Form == apd.NaNSignaling:
		return append(buf, keyDecimalNaN)
	case d.Form == apd.Infinite && d.Negative:
		return append(buf, keyDecimalNegInf)
	case d.Form == apd.Infinite:
		return append(buf, keyDecimalPosInf)
	}
	buf = append(buf, keyDecimal)
	if d.IsZero() {
		return append(buf, 0)
	}
	var r apd.Decimal
	r.Reduce(&d.Decimal)
	if r.Negative {
		buf = append(buf, '-')
	} else {
		buf = append(buf, '+')
	}
	buf = binary.AppendVarint(buf, int64(r.Exponent))
	digits := r.Coeff.Append(nil, 10)
	buf = binary.AppendUvarint(buf, uint64(len(digits)))
	return append(buf, digits...)
}

func appendJSONKey(buf []byte, j *JSON) []byte {
	buf = append(buf, byte(j.Kind))
	switch j.Kind {
	case JSONBool:
		if j.Bool {
			buf = append(buf, 1)
		} else {
			buf = append(buf, 0)
		}
	case JSONString:
		buf = binary.AppendUvarint(buf, uint64(len(j.Str)))
		buf = append(buf, j.Str...)
	case JSONNumber:
		buf = appendDecimalKey(buf, j.Num)
	case JSONArray:
		buf = binary.AppendUvarint(buf, uint64(len(j.Elems)))
		for i := range j.Elems {
			buf = appendJSONKey(buf, &j.Elems[i])
		}
	case JSONObject:
		buf = binary.AppendUvarint(buf, uint64(len(j.Keys)))
		for i := range j.Keys {
			buf = binary.AppendUvarint(buf, uint64(len(j.Keys[i])))
			buf = append(buf, j.Keys[i]...)
			buf = appendJSONKey(buf, &j.Vals[i])
		}
	}
	return buf
}

// Hash returns a 64-bit hash of d consistent with Equal: FNV-1a over
// EncodeKey. It is deterministic across processes, so that nodes that
// partition rows by it agree.
func Hash(d Datum) uint64 {
	var scratch [64]byte
	return HashBytes(EncodeKey(scratch[:0], d))
}

// HashBytes is the FNV-1a 64-bit hash of b, to hash several EncodeKey
// outputs appended into one buffer.
func HashBytes(b []byte) uint64 {
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
	)
	h := uint64(offset64)
	for _, c := range b {
		h ^= uint64(c)
		h *= prime64
	}
	return h
}
