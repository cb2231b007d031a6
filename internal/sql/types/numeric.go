package types

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
)

// PostgreSQL's limits on a numeric value: digits before the decimal point
// (NUMERIC_WEIGHT_MAX+1 base-10000 digits) and after it (NUMERIC_DSCALE_MAX).
const (
	maxNumericIntDigits  = 131072
	maxNumericFracDigits = 16383
)

func errNumericOverflow() error {
	return sqlerr.New(sqlerr.CodeNumericValueOutOfRange, "value overflows numeric format")
}

func invalidText(typeName, s string) error {
	return sqlerr.Newf(sqlerr.CodeInvalidTextRepresentation, "invalid input syntax for type %s: %q", typeName, s)
}

// NewDDecimal returns a finite numeric from an apd.Decimal, normalized to
// the invariants of DDecimal: a positive exponent is folded into the
// coefficient, negative zero becomes zero. It fails with 22003 if the
// value exceeds PostgreSQL's numeric range.
func NewDDecimal(x *apd.Decimal) (*DDecimal, error) {
	d := &DDecimal{}
	d.Set(x)
	if err := d.normalize(); err != nil {
		return nil, err
	}
	return d, nil
}

// DecimalNaN returns a numeric NaN.
func DecimalNaN() *DDecimal {
	d := &DDecimal{}
	d.Form = apd.NaN
	return d
}

// DecimalInfinity returns numeric Infinity, or -Infinity if neg.
func DecimalInfinity(neg bool) *DDecimal {
	d := &DDecimal{}
	d.Form = apd.Infinite
	d.Negative = neg
	return d
}

// MustParseDecimal parses s as numeric input and panics on failure: for
// constants in code and tests.
func MustParseDecimal(s string) *DDecimal {
	d, err := parseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

func (d *DDecimal) normalize() error {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		d.Form, d.Negative = apd.NaN, false
		d.Coeff.SetInt64(0)
		d.Exponent = 0
		return nil
	case apd.Infinite:
		d.Coeff.SetInt64(0)
		d.Exponent = 0
		return nil
	}
	if d.Exponent > 0 {
		if int64(d.Exponent)+d.NumDigits() > maxNumericIntDigits+1 {
			return errNumericOverflow()
		}
		var m apd.BigInt
		m.Exp(apd.NewBigInt(10), apd.NewBigInt(int64(d.Exponent)), nil)
		d.Coeff.Mul(&d.Coeff, &m)
		d.Exponent = 0
	}
	if d.Coeff.Sign() == 0 {
		d.Negative = false
	} else if d.NumDigits()+int64(d.Exponent) > maxNumericIntDigits {
		return errNumericOverflow()
	}
	if -d.Exponent > maxNumericFracDigits {
		return errNumericOverflow()
	}
	return nil
}

// parseDecimal parses numeric text input as PostgreSQL 16 does: surrounding
// whitespace, a sign, digits with an optional point and exponent ("1.5",
// ".5", "5.", "1e-3"), underscores between digits, non-decimal integers
// ("0x1F", "0o17", "0b101"), and NaN, Infinity, inf in any case.
func parseDecimal(orig string) (*DDecimal, error) {
	s := strings.TrimSpace(orig)
	switch asciiLower(s) {
	case "nan":
		return DecimalNaN(), nil
	case "infinity", "+infinity", "inf", "+inf":
		return DecimalInfinity(false), nil
	case "-infinity", "-inf":
		return DecimalInfinity(true), nil
	}
	neg := false
	body := s
	if body != "" && (body[0] == '+' || body[0] == '-') {
		neg = body[0] == '-'
		body = body[1:]
	}
	d := &DDecimal{}
	if len(body) > 2 && body[0] == '0' && strings.ContainsRune("xXoObB", rune(body[1])) {
		n, ok := parseNonDecimalInt(body)
		if !ok {
			return nil, invalidText("numeric", orig)
		}
		d.Coeff.SetMathBigInt(n)
		d.Negative = neg
		return d, d.normalize()
	}
	mant, exp, ok := splitDecimal(body)
	if !ok {
		return nil, invalidText("numeric", orig)
	}
	if _, ok := d.Coeff.SetString(mant, 10); !ok {
		return nil, invalidText("numeric", orig)
	}
	if exp > math.MaxInt32/2 || exp < -math.MaxInt32/2 {
		return nil, errNumericOverflow()
	}
	d.Exponent = int32(exp)
	d.Negative = neg
	return d, d.normalize()
}

// splitDecimal splits unsigned decimal input into its digits (without
// point and underscores) and the power of ten they are multiplied by.
func splitDecimal(s string) (digits string, exp int64, ok bool) {
	var b strings.Builder
	b.Grow(len(s))
	i, nDigits, frac := 0, 0, int64(0)
	seenPoint := false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
			nDigits++
			if seenPoint {
				frac++
			}
		case c == '_':
			// Only between two digits.
			if i == 0 || i+1 >= len(s) || !isDigit(s[i-1]) || !isDigit(s[i+1]) {
				return "", 0, false
			}
		case c == '.' && !seenPoint:
			seenPoint = true
		default:
			goto done
		}
	}
done:
	if nDigits == 0 {
		return "", 0, false
	}
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return "", 0, false
		}
		e := s[i+1:]
		if e == "" {
			return "", 0, false
		}
		sign := int64(1)
		if e[0] == '+' || e[0] == '-' {
			if e[0] == '-' {
				sign = -1
			}
			e = e[1:]
		}
		if e == "" || !allDigits(e) {
			return "", 0, false
		}
		v, err := strconv.ParseInt(e, 10, 64)
		if err != nil || v > math.MaxInt32 {
			v = math.MaxInt32
		}
		exp = sign * v
	}
	return b.String(), exp - frac, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parseNonDecimalInt parses "0x..", "0o..", "0b.." with underscores
// between digits.
func parseNonDecimalInt(s string) (*big.Int, bool) {
	base := 16
	switch s[1] {
	case 'o', 'O':
		base = 8
	case 'b', 'B':
		base = 2
	}
	digits := s[2:]
	if digits == "" || digits[0] == '_' || digits[0] == '+' || digits[0] == '-' || digits[len(digits)-1] == '_' || strings.Contains(digits, "__") {
		return nil, false
	}
	n, ok := new(big.Int).SetString(strings.ReplaceAll(digits, "_", ""), base)
	return n, ok
}

// appendDecimal appends numeric output: all digits, no exponent, the scale
// kept ("1.50"), "NaN", "Infinity", "-Infinity".
func appendDecimal(buf []byte, d *DDecimal) []byte {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return append(buf, "NaN"...)
	case apd.Infinite:
		if d.Negative {
			return append(buf, "-Infinity"...)
		}
		return append(buf, "Infinity"...)
	}
	return d.Append(buf, 'f')
}

// roundDecimal returns d rounded half away from zero to scale digits after
// the point (a negative scale rounds to tens, hundreds...), with exponent
// -max(scale, 0).
func roundDecimal(d *DDecimal, scale int32) *DDecimal {
	if d.Form != apd.Finite || -d.Exponent <= scale {
		if d.Form == apd.Finite && -d.Exponent < scale {
			// Add zeros to reach the scale, as PostgreSQL does.
			r := &DDecimal{}
			r.Set(&d.Decimal)
			var m apd.BigInt
			m.Exp(apd.NewBigInt(10), apd.NewBigInt(int64(scale+d.Exponent)), nil)
			r.Coeff.Mul(&r.Coeff, &m)
			r.Exponent = -scale
			return r
		}
		return d
	}
	r := &DDecimal{}
	c := apd.Context{
		Precision:   uint32(d.NumDigits()) + 2,
		MaxExponent: apd.MaxExponent,
		MinExponent: apd.MinExponent,
		Rounding:    apd.RoundHalfUp, // away from zero
	}
	if _, err := c.Quantize(&r.Decimal, &d.Decimal, -scale); err != nil {
		panic(fmt.Sprintf("types: quantize %s to %d: %v", d.Text('f'), scale, err))
	}
	if err := r.normalize(); err != nil {
		panic(fmt.Sprintf("types: rounding %s: %v", d.Text('f'), err))
	}
	return r
}

// applyNumericTypmod rounds d to NUMERIC(p, s) and checks that it fits,
// as PostgreSQL's apply_typmod: 22003 "numeric field overflow".
func applyNumericTypmod(d *DDecimal, t *Type) (*DDecimal, error) {
	if t.precision < 0 || d.Form == apd.NaN {
		return d, nil
	}
	p, s := t.precision, t.scale
	if d.Form == apd.Infinite {
		return nil, sqlerr.New(sqlerr.CodeNumericValueOutOfRange, "numeric field overflow").
			WithDetail("A field with precision %d, scale %d cannot hold an infinite value.", p, s)
	}
	r := roundDecimal(d, s)
	maxDigits := int64(p - s)
	if !r.IsZero() && r.NumDigits()+int64(r.Exponent) > maxDigits {
		e := sqlerr.New(sqlerr.CodeNumericValueOutOfRange, "numeric field overflow")
		if maxDigits > 0 {
			return nil, e.WithDetail("A field with precision %d, scale %d must round to an absolute value less than 10^%d.", p, s, maxDigits)
		}
		return nil, e.WithDetail("A field with precision %d, scale %d must round to an absolute value less than 1.", p, s)
	}
	return r, nil
}

// compareDecimal orders numerics as PostgreSQL does: -Infinity < finite <
// Infinity < NaN, and NaN equals NaN; 1.5 equals 1.50.
func compareDecimal(a, b *DDecimal) int {
	ra, rb := decimalRank(a), decimalRank(b)
	if ra != rb {
		return cmpInt(ra, rb)
	}
	if ra != 1 {
		return 0
	}
	return a.Cmp(&b.Decimal)
}

func decimalRank(d *DDecimal) int {
	switch {
	case d.Form == apd.NaN || d.Form == apd.NaNSignaling:
		return 3
	case d.Form == apd.Infinite && d.Negative:
		return 0
	case d.Form == apd.Infinite:
		return 2
	}
	return 1
}

// Numeric binary format (numeric_send): ndigits, weight, sign, dscale as
// int16/uint16, then ndigits base-10000 digits, most significant first.
const (
	numericPos  = 0x0000
	numericNeg  = 0x4000
	numericNaN  = 0xC000
	numericPInf = 0xD000
	numericNInf = 0xF000
)

func appendDecimalBinary(buf []byte, d *DDecimal) []byte {
	header := func(ndigits, weight int, sign, dscale uint16) []byte {
		buf = appendUint16(buf, uint16(ndigits))
		buf = appendUint16(buf, uint16(int16(weight)))
		buf = appendUint16(buf, sign)
		return appendUint16(buf, dscale)
	}
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return header(0, 0, numericNaN, 0)
	case apd.Infinite:
		if d.Negative {
			return header(0, 0, numericNInf, 0)
		}
		return header(0, 0, numericPInf, 0)
	}
	dscale := int(-d.Exponent)
	digits := d.Coeff.Append(nil, 10)
	if d.Coeff.Sign() == 0 {
		return header(0, 0, numericPos, uint16(dscale))
	}
	// Pad the fraction to whole groups of four digits, then the integer
	// part on the left.
	if pad := (4 - dscale%4) % 4; pad > 0 {
		digits = append(digits, "000"[:pad]...)
	}
	fracDigits := dscale + (4-dscale%4)%4
	intDigits := len(digits) - fracDigits
	if intDigits < 0 {
		digits = append([]byte(strings.Repeat("0", -intDigits)), digits...)
		intDigits = 0
	}
	if pad := (4 - intDigits%4) % 4; pad > 0 {
		digits = append([]byte("000"[:pad]), digits...)
		intDigits += pad
	}
	weight := intDigits/4 - 1
	groups := make([]uint16, 0, len(digits)/4)
	for i := 0; i < len(digits); i += 4 {
		g := uint16(digits[i]-'0')*1000 + uint16(digits[i+1]-'0')*100 + uint16(digits[i+2]-'0')*10 + uint16(digits[i+3]-'0')
		groups = append(groups, g)
	}
	for len(groups) > 0 && groups[0] == 0 {
		groups = groups[1:]
		weight--
	}
	for len(groups) > 0 && groups[len(groups)-1] == 0 {
		groups = groups[:len(groups)-1]
	}
	sign := uint16(numericPos)
	if d.Negative {
		sign = numericNeg
	}
	buf = header(len(groups), weight, sign, uint16(dscale))
	for _, g := range groups {
		buf = appendUint16(buf, g)
	}
	return buf
}

func parseDecimalBinary(b []byte) (*DDecimal, error) {
	if len(b) < 8 {
		return nil, errBinaryLength("numeric")
	}
	ndigits := int(int16(be16(b[0:])))
	weight := int(int16(be16(b[2:])))
	sign := be16(b[4:])
	dscale := int(be16(b[6:]))
	if ndigits < 0 || len(b) != 8+2*ndigits {
		return nil, errBinaryLength("numeric")
	}
	switch sign {
	case numericNaN:
		return DecimalNaN(), nil
	case numericPInf:
		return DecimalInfinity(false), nil
	case numericNInf:
		return DecimalInfinity(true), nil
	case numericPos, numericNeg:
	default:
		return nil, sqlerr.New(sqlerr.CodeInvalidBinaryRepresentation, "invalid sign in external \"numeric\" value")
	}
	if dscale > maxNumericFracDigits {
		return nil, sqlerr.New(sqlerr.CodeInvalidBinaryRepresentation, "invalid scale in external \"numeric\" value")
	}
	digits := make([]byte, 0, 4*ndigits)
	for i := 0; i < ndigits; i++ {
		g := be16(b[8+2*i:])
		if g > 9999 {
			return nil, sqlerr.New(sqlerr.CodeInvalidBinaryRepresentation, "invalid digit in external \"numeric\" value")
		}
		digits = append(digits, byte('0'+g/1000), byte('0'+g/100%10), byte('0'+g/10%10), byte('0'+g%10))
	}
	d := &DDecimal{}
	if ndigits == 0 {
		digits = append(digits, '0')
	}
	if _, ok := d.Coeff.SetString(string(digits), 10); !ok {
		return nil, sqlerr.Internalf("numeric digits %q", digits)
	}
	d.Exponent = int32((weight - ndigits + 1) * 4)
	if ndigits == 0 {
		d.Exponent = 0
	}
	d.Negative = sign == numericNeg
	if err := d.normalize(); err != nil {
		return nil, err
	}
	// Digits beyond dscale are truncated, as numeric_recv does.
	if -int(d.Exponent) > dscale {
		c := apd.Context{Precision: uint32(d.NumDigits()) + 2, MaxExponent: apd.MaxExponent,
			MinExponent: apd.MinExponent, Rounding: apd.RoundDown}
		r := &DDecimal{}
		if _, err := c.Quantize(&r.Decimal, &d.Decimal, int32(-dscale)); err != nil {
			return nil, sqlerr.Internalf("numeric truncate: %v", err)
		}
		d = r
		if err := d.normalize(); err != nil {
			return nil, err
		}
	} else if -int(d.Exponent) < dscale {
		d = roundDecimal(d, int32(dscale))
	}
	return d, nil
}
