package rowenc_test

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/internal/sql/types"
)

// testTypes are the column types the property tests draw values of.
var testTypes = []string{
	"bool", "int2", "int4", "int8", "float4", "float8", "numeric", "numeric(10,2)", "text", "varchar(5)",
	"char(4)", "name", "bytea", "date", "timestamp", "timestamp(3)", "timestamptz", "interval", "uuid",
	"jsonb", "oid", "int4[]", "text[]", "float8[]", "numeric[]", "bytea[]", "char(2)[]", "timestamptz[]",
	"jsonb[]", "interval[]", "bool[]", "uuid[]", "date[]",
}

func mustType(t testing.TB, name string) *types.Type {
	t.Helper()
	typ, err := types.TypeByName(name)
	if err != nil {
		t.Fatalf("TypeByName(%q): %v", name, err)
	}
	return typ
}

// randDatum returns a random value of typ (never NULL) drawn from small
// domains, so that equal values, values equal under types.Equal but
// written differently (1.5 and 1.50) and prefixes of one another are
// frequent.
func randDatum(t testing.TB, rng *rand.Rand, typ *types.Type) types.Datum {
	t.Helper()
	d := randBase(t, rng, typ)
	if typ.Precision() >= 0 || typ.Length() >= 0 || typ.Width() == 32 && typ.Family() == types.FloatFamily {
		c, err := types.Cast(d, typ)
		if err != nil {
			return randDatum(t, rng, typ) // out of range for the modifier: draw again
		}
		d = c
	}
	return d
}

func randBase(t testing.TB, rng *rand.Rand, typ *types.Type) types.Datum {
	switch typ.Family() {
	case types.BoolFamily:
		return types.MakeDBool(rng.Intn(2) == 0)
	case types.IntFamily:
		lim := int64(1)<<(typ.Width()-1) - 1
		switch rng.Intn(5) {
		case 0:
			return types.DInt(-lim - 1)
		case 1:
			return types.DInt(lim)
		case 2:
			return types.DInt(int64(rng.Uint64()>>(64-typ.Width())) - lim - 1)
		}
		return types.DInt(rng.Intn(300) - 150)
	case types.OidFamily:
		if rng.Intn(2) == 0 {
			return types.DOid(rng.Uint32())
		}
		return types.DOid(rng.Intn(300))
	case types.FloatFamily:
		pool := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, 1, -1, 0.5, 1e300, -1e-300, 5e-324}
		switch rng.Intn(3) {
		case 0:
			return types.DFloat(pool[rng.Intn(len(pool))])
		case 1:
			return types.DFloat(float64(rng.Intn(200)-100) / 4)
		}
		f := math.Float64frombits(rng.Uint64())
		if typ.Width() == 32 {
			f = float64(math.Float32frombits(rng.Uint32()))
		}
		return types.DFloat(f)
	case types.NumericFamily:
		return randDecimal(rng)
	case types.StringFamily:
		return types.DString(randString(rng, "ab\x01é€", 6))
	case types.BytesFamily:
		return types.DBytes(randString(rng, "a\x00\xff\x01", 6))
	case types.DateFamily:
		switch rng.Intn(8) {
		case 0:
			return types.DateInfinity
		case 1:
			return types.DateNegInfinity
		}
		return types.DDate(rng.Intn(2000000) - 1000000)
	case types.TimestampFamily, types.TimestampTZFamily:
		var tm time.Time
		switch rng.Intn(8) {
		case 0:
			tm = types.TimestampInfinity
		case 1:
			tm = types.TimestampNegInfinity
		default:
			tm = time.Unix(rng.Int63n(1e10)-5e9, rng.Int63n(1000)*1000).UTC()
			if rng.Intn(2) == 0 {
				tm = time.Unix(rng.Int63n(3)-1, rng.Int63n(3)*1000).UTC()
			}
		}
		if typ.Family() == types.TimestampFamily {
			return types.DTimestamp{Time: tm}
		}
		return types.DTimestampTZ{Time: tm}
	case types.IntervalFamily:
		if rng.Intn(4) == 0 {
			return types.DInterval{Months: int32(rng.Uint32()), Days: int32(rng.Uint32()), Micros: int64(rng.Uint64())}
		}
		const day = 24 * 3600 * 1e6
		return types.DInterval{Months: int32(rng.Intn(5) - 2), Days: int32(rng.Intn(91) - 45), Micros: int64(rng.Intn(5)-2) * day / 2}
	case types.UUIDFamily:
		var u types.DUUID
		for i := range u {
			u[i] = []byte{0, 1, 0xff}[rng.Intn(3)]
		}
		return u
	case types.JSONFamily:
		j, err := types.ParseJSON(randJSON(rng, 2))
		if err != nil {
			t.Fatal(err)
		}
		return &types.DJSON{JSON: j}
	case types.ArrayFamily:
		elems := make([]types.Datum, rng.Intn(4))
		for i := range elems {
			if rng.Intn(5) == 0 {
				elems[i] = types.DNull
			} else {
				elems[i] = randDatum(t, rng, typ.Elem())
			}
		}
		return &types.DArray{Elem: typ.Elem(), Elems: elems}
	}
	t.Fatalf("randDatum: %s", typ.Name())
	return nil
}

func randString(rng *rand.Rand, alphabet string, maxLen int) string {
	runes := []rune(alphabet)
	if !strings.ContainsRune(alphabet, 'é') { // bytes: any byte
		b := make([]byte, rng.Intn(maxLen+1))
		for i := range b {
			b[i] = alphabet[rng.Intn(len(alphabet))]
		}
		return string(b)
	}
	var sb strings.Builder
	for i, n := 0, rng.Intn(maxLen+1); i < n; i++ {
		sb.WriteRune(runes[rng.Intn(len(runes))])
	}
	return sb.String()
}

func randDecimal(rng *rand.Rand) *types.DDecimal {
	switch rng.Intn(12) {
	case 0:
		return types.DecimalNaN()
	case 1:
		return types.DecimalInfinity(rng.Intn(2) == 0)
	case 2:
		return types.MustParseDecimal([]string{"0", "0.00", "1", "1.0", "1.50", "1.5", "-1.5", "-1.500", "10", "1e1", "0.1", "-0.01", "123456789012345678901234567890.5"}[rng.Intn(13)])
	}
	var b strings.Builder
	if rng.Intn(2) == 0 {
		b.WriteByte('-')
	}
	for i, n := 0, 1+rng.Intn(8); i < n; i++ {
		b.WriteByte(byte('0' + rng.Intn(10)))
	}
	if rng.Intn(2) == 0 {
		b.WriteByte('.')
		for i, n := 0, 1+rng.Intn(6); i < n; i++ {
			b.WriteByte(byte('0' + rng.Intn(10)))
		}
	}
	return types.MustParseDecimal(b.String())
}

func randJSON(rng *rand.Rand, depth int) string {
	k := rng.Intn(7)
	if depth == 0 {
		k = rng.Intn(5)
	}
	switch k {
	case 0:
		return "null"
	case 1:
		return fmt.Sprintf("%q", randString(rng, "ab", 3))
	case 2:
		return []string{"1", "1.0", "1.50", "1.5", "-2", "0", "1e2", "100"}[rng.Intn(8)]
	case 3:
		return []string{"true", "false"}[rng.Intn(2)]
	case 4, 5:
		n := rng.Intn(3)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = randJSON(rng, depth-1)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	n := rng.Intn(3)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("%q:%s", randString(rng, "ab", 2), randJSON(rng, depth-1))
	}
	return "{" + strings.Join(parts, ",") + "}"
}
