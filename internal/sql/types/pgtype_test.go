package types

import (
	"math"
	"math/big"
	"math/rand"
	"reflect"
	"testing"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/jackc/pgx/v5/pgtype"
)

// The binary formats are checked against pgx's pgtype codecs, an
// independent implementation of PostgreSQL's wire formats: what we send,
// pgtype decodes to the expected Go value, and what pgtype encodes from
// that value, we read back as the datum.

// toPG returns the Go value pgtype should decode d of type typ into,
// computed from the datum's fields and not through our wire code.
func toPG(t *testing.T, d Datum, typ *Type) any {
	switch d := d.(type) {
	case DBool:
		return bool(d)
	case DInt:
		switch typ.Width() {
		case 16:
			return int16(d)
		case 32:
			return int32(d)
		}
		return int64(d)
	case DOid:
		return uint32(d)
	case DFloat:
		if typ.Width() == 32 {
			return float32(d)
		}
		return float64(d)
	case *DDecimal:
		switch d.Form {
		case apd.NaN:
			return pgtype.Numeric{NaN: true, Valid: true}
		case apd.Infinite:
			if d.Negative {
				return pgtype.Numeric{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
			}
			return pgtype.Numeric{InfinityModifier: pgtype.Infinity, Valid: true}
		}
		n := new(big.Int).Set(d.Coeff.MathBigInt())
		if d.Negative {
			n.Neg(n)
		}
		return pgtype.Numeric{Int: n, Exp: d.Exponent, Valid: true}
	case DString:
		return FormatText(d, typ, nil) // CHAR(n) padding
	case DBytes:
		return []byte(d)
	case DDate:
		switch d {
		case DateInfinity:
			return pgtype.Date{InfinityModifier: pgtype.Infinity, Valid: true}
		case DateNegInfinity:
			return pgtype.Date{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
		}
		return pgtype.Date{Time: time.Date(2000, 1, 1+int(d), 0, 0, 0, 0, time.UTC), Valid: true}
	case DTimestamp:
		switch {
		case d.Equal(TimestampInfinity):
			return pgtype.Timestamp{InfinityModifier: pgtype.Infinity, Valid: true}
		case d.Equal(TimestampNegInfinity):
			return pgtype.Timestamp{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
		}
		return pgtype.Timestamp{Time: d.Time, Valid: true}
	case DTimestampTZ:
		switch {
		case d.Equal(TimestampInfinity):
			return pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true}
		case d.Equal(TimestampNegInfinity):
			return pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
		}
		return pgtype.Timestamptz{Time: d.Time, Valid: true}
	case DInterval:
		return pgtype.Interval{Microseconds: d.Micros, Days: d.Days, Months: d.Months, Valid: true}
	case DUUID:
		return pgtype.UUID{Bytes: d, Valid: true}
	case *DJSON:
		return FormatText(d, typ, nil)
	case *DArray:
		out := make([]any, len(d.Elems))
		for i, e := range d.Elems {
			if e != DNull {
				out[i] = toPG(t, e, typ.Elem())
			}
		}
		return out
	}
	t.Fatalf("toPG: %T", d)
	return nil
}

// pgEqual compares values pgtype decoded with toPG's.
func pgEqual(a, b any) bool {
	switch a := a.(type) {
	case float64:
		bf := b.(float64)
		return a == bf && math.Signbit(a) == math.Signbit(bf) || math.IsNaN(a) && math.IsNaN(bf)
	case float32:
		bf := b.(float32)
		return a == bf && math.Signbit(float64(a)) == math.Signbit(float64(bf)) || a != a && bf != bf
	case pgtype.Numeric:
		bn := b.(pgtype.Numeric)
		if a.NaN || bn.NaN || a.InfinityModifier != 0 || bn.InfinityModifier != 0 {
			return a.NaN == bn.NaN && a.InfinityModifier == bn.InfinityModifier && a.Valid == bn.Valid
		}
		// Same value; and pgtype, which keeps PostgreSQL's dscale, has
		// the same number of digits after the point (except for zero,
		// where pgtype drops it).
		x := apd.NewWithBigInt(new(apd.BigInt).SetMathBigInt(a.Int), a.Exp)
		y := apd.NewWithBigInt(new(apd.BigInt).SetMathBigInt(bn.Int), bn.Exp)
		return x.Cmp(y) == 0 && (x.IsZero() || min(a.Exp, 0) == min(bn.Exp, 0))
	case pgtype.Timestamp:
		bt := b.(pgtype.Timestamp)
		return a.InfinityModifier == bt.InfinityModifier && a.Time.Equal(bt.Time)
	case pgtype.Timestamptz:
		bt := b.(pgtype.Timestamptz)
		return a.InfinityModifier == bt.InfinityModifier && a.Time.Equal(bt.Time)
	case pgtype.Date:
		bt := b.(pgtype.Date)
		return a.InfinityModifier == bt.InfinityModifier && a.Time.Equal(bt.Time)
	case []any:
		bs := b.([]any)
		if len(a) != len(bs) {
			return false
		}
		for i := range a {
			if (a[i] == nil) != (bs[i] == nil) || a[i] != nil && !pgEqual(a[i], bs[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// pgScanTarget returns a pointer to decode typ's values into.
func pgScanTarget(typ *Type, want any) any {
	if typ.Family() == ArrayFamily {
		return new([]any)
	}
	return reflect.New(reflect.TypeOf(want)).Interface()
}

func checkAgainstPgtype(t *testing.T, m *pgtype.Map, d Datum, typ *Type) {
	t.Helper()
	want := toPG(t, d, typ)
	oid := uint32(typ.Oid())

	// Ours → pgtype.
	ours := AppendBinary([]byte{}, d, typ) // non-nil: nil is NULL to pgtype
	dst := pgScanTarget(typ, want)
	if err := m.Scan(oid, pgtype.BinaryFormatCode, ours, dst); err != nil {
		t.Fatalf("%s %s: pgtype cannot decode %x: %v", typ, d, ours, err)
	}
	got := reflect.ValueOf(dst).Elem().Interface()
	if typ.Family() == ArrayFamily {
		got = normalizeArray(t, got.([]any), typ.Elem())
	}
	if !pgEqual(got, want) {
		t.Fatalf("%s %s: pgtype decodes %x as %#v, want %#v", typ, d, ours, got, want)
	}

	// pgtype → ours. pgtype encodes a Go string as a jsonb document.
	theirs, err := m.Encode(oid, pgtype.BinaryFormatCode, want, nil)
	if err != nil {
		t.Fatalf("%s %s: pgtype cannot encode %#v: %v", typ, d, want, err)
	}
	back, err := ParseBinary(theirs, typ)
	if err != nil {
		t.Fatalf("%s %s: cannot read pgtype's %x: %v", typ, d, theirs, err)
	}
	if Compare(back, d) != 0 || FormatText(back, typ, nil) != FormatText(d, typ, nil) {
		t.Fatalf("%s: pgtype's encoding of %s (%x) reads as %s", typ, d, theirs, back)
	}
}

// normalizeArray converts the elements pgtype decodes into []any (int32
// for int4, time.Time for timestamps...) to toPG's representation.
func normalizeArray(t *testing.T, a []any, elem *Type) []any {
	out := make([]any, len(a))
	for i, e := range a {
		switch v := e.(type) {
		case nil:
		case time.Time:
			switch elem.Family() {
			case DateFamily:
				out[i] = pgtype.Date{Time: v, Valid: true}
			case TimestampFamily:
				out[i] = pgtype.Timestamp{Time: v, Valid: true}
			default:
				out[i] = pgtype.Timestamptz{Time: v, Valid: true}
			}
		case pgtype.InfinityModifier:
			switch elem.Family() {
			case DateFamily:
				out[i] = pgtype.Date{InfinityModifier: v, Valid: true}
			case TimestampFamily:
				out[i] = pgtype.Timestamp{InfinityModifier: v, Valid: true}
			default:
				out[i] = pgtype.Timestamptz{InfinityModifier: v, Valid: true}
			}
		case [16]uint8:
			out[i] = pgtype.UUID{Bytes: v, Valid: true}
		case map[string]any, []any, bool, float64:
			if elem.Family() == JSONFamily {
				t.Skip("pgtype decodes jsonb array elements as Go values")
			}
			out[i] = v
		default:
			out[i] = v
		}
	}
	return out
}

func TestBinaryAgainstPgtype(t *testing.T) {
	m := pgtype.NewMap()
	for typeName, cases := range textCases {
		typ := mustType(t, typeName)
		if typ.Family() == JSONFamily || typ.Elem() != nil && typ.Elem().Family() == JSONFamily {
			continue // TestJSONBBinaryAgainstPgtype
		}
		for _, tc := range cases {
			if tc.code != "" {
				continue
			}
			d, err := ParseText(tc.in, typ, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkAgainstPgtype(t, m, d, typ)
		}
	}
}

func TestBinaryAgainstPgtypeRandom(t *testing.T) {
	m := pgtype.NewMap()
	rng := rand.New(rand.NewSource(5))
	for _, name := range randTypes {
		typ := mustType(t, name)
		switch {
		case typ.Family() == JSONFamily, typ.Elem() != nil && typ.Elem().Family() == JSONFamily:
			continue
		case typ.Family() == ArrayFamily && typ.Elem().Family() == NumericFamily:
			// pgtype decodes numeric array elements to float64.
			continue
		}
		for i := 0; i < propertyIters; i++ {
			checkAgainstPgtype(t, m, randDatum(rng, typ), typ)
		}
	}
}

// jsonb: pgtype decodes the binary format into Go values with
// encoding/json, and encodes Go values with it.
func TestJSONBBinaryAgainstPgtype(t *testing.T) {
	m := pgtype.NewMap()
	d, err := ParseText(`{"b": [1, 2.5, null, true], "a": {"x": "é\n"}}`, JSONB, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := m.Scan(uint32(OidJSONB), pgtype.BinaryFormatCode, AppendBinary(nil, d, JSONB), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": map[string]any{"x": "é\n"}, "b": []any{1.0, 2.5, nil, true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pgtype decodes %v, want %v", got, want)
	}
	b, err := m.Encode(uint32(OidJSONB), pgtype.BinaryFormatCode, want, nil)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseBinary(b, JSONB)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := back.String(), `{"a": {"x": "é\n"}, "b": [1, 2.5, null, true]}`; got != want {
		t.Errorf("pgtype's %q reads as %s, want %s", b, got, want)
	}
}
