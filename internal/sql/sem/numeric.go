package sem

import (
	"math"
	"math/big"
	"strconv"

	"github.com/cockroachdb/apd/v3"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// NUMERIC arithmetic with PostgreSQL's result scales: exact for +, -, *
// and %; division and the transcendental functions get at least
// numericMinSigDigits significant digits and no fewer decimals than their
// inputs (select_div_scale and its siblings in numeric.c).

const (
	numericMinSigDigits   = 16
	numericMaxDisplay     = 1000  // NUMERIC_MAX_DISPLAY_SCALE
	numericMaxResultScale = 2000  // NUMERIC_MAX_RESULT_SCALE
	numericMaxDscale      = 16383 // NUMERIC_DSCALE_MAX
	numericMaxWeightDigit = 131072
)

// exactCtx does exact arithmetic (Precision 0: no rounding) for add, sub
// and mul.
var exactCtx = &apd.Context{
	Precision:   0,
	MaxExponent: apd.MaxExponent,
	MinExponent: apd.MinExponent,
	Rounding:    apd.RoundHalfUp,
}

func isNaN(d *types.DDecimal) bool { return d.Form == apd.NaN || d.Form == apd.NaNSignaling }
func isInf(d *types.DDecimal) bool { return d.Form == apd.Infinite }

// scaleOf is the display scale (digits after the point) of a finite value.
func scaleOf(d *types.DDecimal) int32 {
	if d.Form != apd.Finite || d.Exponent >= 0 {
		return 0
	}
	return -d.Exponent
}

// makeDecimal normalizes x into a datum, failing with 22003 past
// PostgreSQL's range.
func makeDecimal(x *apd.Decimal) (types.Datum, error) {
	if x.Form == apd.Finite && -x.Exponent > numericMaxDscale {
		x = roundApd(x, numericMaxDscale)
	}
	d, err := types.NewDDecimal(x)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// roundApd rounds x half away from zero to scale digits after the point
// (scale may be negative). The result has exponent -max(scale, 0) when x
// is finite.
func roundApd(x *apd.Decimal, scale int32) *apd.Decimal {
	r := new(apd.Decimal)
	if x.Form != apd.Finite {
		r.Set(x)
		return r
	}
	c := apd.Context{Precision: uint32(max(x.NumDigits(), 1)) + uint32(max(scale+x.Exponent, 0)) + 2,
		MaxExponent: apd.MaxExponent, MinExponent: apd.MinExponent, Rounding: apd.RoundHalfUp}
	if _, err := c.Quantize(r, x, -scale); err != nil {
		// Rounding to a scale beyond the digits only adds zeros; this is a bug.
		panic("sem: quantize: " + err.Error())
	}
	return r // a positive exponent is folded by makeDecimal
}

// truncApd truncates x toward zero to scale digits.
func truncApd(x *apd.Decimal, scale int32) *apd.Decimal {
	r := new(apd.Decimal)
	if x.Form != apd.Finite {
		r.Set(x)
		return r
	}
	c := apd.Context{Precision: uint32(max(x.NumDigits(), 1)) + uint32(max(scale+x.Exponent, 0)) + 2,
		MaxExponent: apd.MaxExponent, MinExponent: apd.MinExponent, Rounding: apd.RoundDown}
	if _, err := c.Quantize(r, x, -scale); err != nil {
		panic("sem: quantize: " + err.Error())
	}
	return r
}

func decNaN() types.Datum         { return types.DecimalNaN() }
func decInf(neg bool) types.Datum { return types.DecimalInfinity(neg) }
func sign(d *types.DDecimal) int  { return d.Sign() }

func numericAdd(a, b *types.DDecimal, sub bool) (types.Datum, error) {
	if isNaN(a) || isNaN(b) {
		return decNaN(), nil
	}
	bneg := b.Negative != sub
	switch {
	case isInf(a) && isInf(b):
		if a.Negative != bneg {
			return decNaN(), nil
		}
		return decInf(a.Negative), nil
	case isInf(a):
		return decInf(a.Negative), nil
	case isInf(b):
		return decInf(bneg), nil
	}
	r := new(apd.Decimal)
	var err error
	if sub {
		_, err = exactCtx.Sub(r, &a.Decimal, &b.Decimal)
	} else {
		_, err = exactCtx.Add(r, &a.Decimal, &b.Decimal)
	}
	if err != nil {
		return nil, errNumericOverflow()
	}
	return makeDecimal(r)
}

func numericMul(a, b *types.DDecimal) (types.Datum, error) {
	if isNaN(a) || isNaN(b) {
		return decNaN(), nil
	}
	if isInf(a) || isInf(b) {
		if a.IsZero() && !isInf(a) || b.IsZero() && !isInf(b) {
			return decNaN(), nil
		}
		return decInf(a.Negative != b.Negative), nil
	}
	if int64(a.NumDigits())+int64(b.NumDigits()) > 2*numericMaxWeightDigit {
		return nil, errNumericOverflow()
	}
	r := new(apd.Decimal)
	if _, err := exactCtx.Mul(r, &a.Decimal, &b.Decimal); err != nil {
		return nil, errNumericOverflow()
	}
	return makeDecimal(r)
}

// nbaseWeight returns PostgreSQL's view of a finite nonzero value in base
// 10000: the weight of its first digit and the first two digits.
func nbaseWeight(d *apd.Decimal) (weight int, first, second int) {
	if d.IsZero() {
		return 0, 0, 0
	}
	digits := d.Coeff.Text(10)
	e := len(digits) + int(d.Exponent) - 1 // decimal exponent of the first digit
	weight = floorDiv(e, 4)
	k := e - 4*weight + 1 // decimal digits in the first base-10000 digit
	pad := func(s string, n int) string {
		for len(s) < n {
			s += "0"
		}
		return s[:n]
	}
	all := pad(digits, k+4)
	first, _ = strconv.Atoi(all[:k])
	second, _ = strconv.Atoi(all[k : k+4])
	return weight, first, second
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// divScale is select_div_scale: the result scale of a / b.
func divScale(a, b *types.DDecimal) int32 {
	w1, f1, _ := nbaseWeight(&a.Decimal)
	w2, f2, _ := nbaseWeight(&b.Decimal)
	qweight := w1 - w2
	if f1 <= f2 {
		qweight--
	}
	rscale := int32(numericMinSigDigits - qweight*4)
	rscale = max(rscale, scaleOf(a), scaleOf(b), 0)
	return min(rscale, numericMaxDisplay)
}

// divRound returns a/b rounded half away from zero to scale digits, both
// finite, b nonzero, computed exactly with big integers.
func divRound(a, b *apd.Decimal, scale int32, trunc bool) *apd.Decimal {
	na := a.Coeff.MathBigInt()
	nb := b.Coeff.MathBigInt()
	s := int64(a.Exponent) - int64(b.Exponent) + int64(scale)
	ten := big.NewInt(10)
	if s >= 0 {
		na.Mul(na, new(big.Int).Exp(ten, big.NewInt(s), nil))
	} else {
		nb.Mul(nb, new(big.Int).Exp(ten, big.NewInt(-s), nil))
	}
	q, r := new(big.Int).QuoRem(na, nb, new(big.Int))
	if !trunc {
		r.Lsh(r, 1)
		if r.CmpAbs(nb) >= 0 {
			q.Add(q, big.NewInt(1))
		}
	}
	res := new(apd.Decimal)
	res.Coeff.SetMathBigInt(q)
	res.Exponent = -scale
	res.Negative = a.Negative != b.Negative && q.Sign() != 0
	return res
}

func numericDiv(a, b *types.DDecimal) (types.Datum, error) {
	if isNaN(a) || isNaN(b) {
		return decNaN(), nil
	}
	if isInf(a) {
		if isInf(b) {
			return decNaN(), nil
		}
		if b.IsZero() {
			return nil, errDivByZero()
		}
		return decInf(a.Negative != b.Negative), nil
	}
	if isInf(b) {
		return makeDecimal(apd.New(0, 0))
	}
	if b.IsZero() {
		return nil, errDivByZero()
	}
	if exceedsDigits(a, b) {
		return nil, errNumericOverflow()
	}
	return makeDecimal(divRound(&a.Decimal, &b.Decimal, divScale(a, b), false))
}

// exceedsDigits guards big-integer work against absurd operands.
func exceedsDigits(a, b *types.DDecimal) bool {
	return int64(a.NumDigits())+int64(a.Exponent)-int64(b.Exponent) > 4*numericMaxWeightDigit
}

// numericDivTrunc is div(a, b): the integer quotient, truncated.
func numericDivTrunc(a, b *types.DDecimal) (types.Datum, error) {
	if isNaN(a) || isNaN(b) {
		return decNaN(), nil
	}
	if b.IsZero() && !isInf(b) {
		return nil, errDivByZero()
	}
	if isInf(a) {
		if isInf(b) {
			return decNaN(), nil
		}
		return decInf(a.Negative != b.Negative), nil
	}
	if isInf(b) {
		return makeDecimal(apd.New(0, 0))
	}
	if exceedsDigits(a, b) {
		return nil, errNumericOverflow()
	}
	return makeDecimal(divRound(&a.Decimal, &b.Decimal, 0, true))
}

func numericMod(a, b *types.DDecimal) (types.Datum, error) {
	if isNaN(a) || isNaN(b) {
		return decNaN(), nil
	}
	if isInf(a) {
		if b.IsZero() && !isInf(b) {
			return nil, errDivByZero()
		}
		return decNaN(), nil
	}
	if isInf(b) {
		return a, nil
	}
	if b.IsZero() {
		return nil, errDivByZero()
	}
	if exceedsDigits(a, b) {
		return nil, errNumericOverflow()
	}
	// a - trunc(a/b)*b, at the larger of the two scales.
	q := divRound(&a.Decimal, &b.Decimal, 0, true)
	p := new(apd.Decimal)
	if _, err := exactCtx.Mul(p, q, &b.Decimal); err != nil {
		return nil, errNumericOverflow()
	}
	r := new(apd.Decimal)
	if _, err := exactCtx.Sub(r, &a.Decimal, p); err != nil {
		return nil, errNumericOverflow()
	}
	return makeDecimal(r)
}

// approxCtx returns a context computing digits significant digits.
func approxCtx(digits int64) *apd.Context {
	return &apd.Context{
		Precision:   uint32(max(digits, 1)),
		MaxExponent: apd.MaxExponent,
		MinExponent: apd.MinExponent,
		Rounding:    apd.RoundHalfEven,
	}
}

// decimalWeight is the decimal exponent of x's leading digit (x finite,
// nonzero).
func decimalWeight(x *apd.Decimal) int64 { return x.NumDigits() + int64(x.Exponent) - 1 }

func numericSqrt(a *types.DDecimal) (types.Datum, error) {
	if isNaN(a) {
		return decNaN(), nil
	}
	if a.Negative && !a.IsZero() {
		return nil, sqlerr.New(codeInvalidArgumentForPower, "cannot take square root of a negative number")
	}
	if isInf(a) {
		return decInf(false), nil
	}
	w, _, _ := nbaseWeight(&a.Decimal)
	sweight := (w+1)*4/2 - 1
	rscale := int32(numericMinSigDigits - sweight)
	rscale = min(max(rscale, scaleOf(a), 0), numericMaxDisplay)
	if a.IsZero() {
		return makeDecimal(roundApd(apd.New(0, 0), rscale))
	}
	r := new(apd.Decimal)
	digits := int64(rscale) + decimalWeight(&a.Decimal)/2 + 8
	if _, err := approxCtx(digits).Sqrt(r, &a.Decimal); err != nil {
		return nil, errNumericOverflow()
	}
	return makeDecimal(roundApd(r, rscale))
}

func numericExp(a *types.DDecimal) (types.Datum, error) {
	if isNaN(a) {
		return decNaN(), nil
	}
	if isInf(a) {
		if a.Negative {
			return makeDecimal(apd.New(0, 0))
		}
		return decInf(false), nil
	}
	f, _ := a.Float64()
	val := f * 0.434294481903252
	val = max(min(val, numericMaxResultScale), -numericMaxResultScale)
	if math.Abs(f) >= numericMaxResultScale*3 {
		if f > 0 {
			return nil, errNumericOverflow()
		}
		return makeDecimal(apd.New(0, 0))
	}
	rscale := int32(numericMinSigDigits - int(val))
	rscale = min(max(rscale, scaleOf(a), 0), numericMaxDisplay)
	r := new(apd.Decimal)
	digits := int64(rscale) + int64(val) + 10
	if _, err := approxCtx(digits).Exp(r, &a.Decimal); err != nil {
		return nil, errNumericOverflow()
	}
	return makeDecimal(roundApd(r, rscale))
}

// estimateLnWeight is estimate_ln_dweight: the decimal weight of ln(x).
func estimateLnWeight(x *apd.Decimal) int {
	if x.Negative || x.IsZero() {
		return 0
	}
	c09, c11 := apd.New(9, -1), apd.New(11, -1)
	if x.Cmp(c09) >= 0 && x.Cmp(c11) <= 0 {
		d := new(apd.Decimal)
		exactCtx.Sub(d, x, apd.New(1, 0)) //nolint:errcheck // exact
		if d.IsZero() {
			return 0
		}
		w, f, _ := nbaseWeight(d)
		return w*4 + int(math.Log10(float64(f)))
	}
	w, f, s := nbaseWeight(x)
	digits := float64(f)
	dweight := w * 4
	if x.NumDigits() > 0 {
		digits = digits*10000 + float64(s)
		dweight -= 4
	}
	ln := math.Log(digits) + float64(dweight)*2.302585092994046
	return int(math.Log10(math.Abs(ln)))
}

func errLog(a *types.DDecimal) error {
	if a.IsZero() {
		return sqlerr.New(codeInvalidArgumentForLog, "cannot take logarithm of zero")
	}
	return sqlerr.New(codeInvalidArgumentForLog, "cannot take logarithm of a negative number")
}

func numericLn(a *types.DDecimal) (types.Datum, error) {
	if isNaN(a) {
		return decNaN(), nil
	}
	if a.Negative || a.IsZero() {
		return nil, errLog(a)
	}
	if isInf(a) {
		return decInf(false), nil
	}
	lw := estimateLnWeight(&a.Decimal)
	rscale := int32(numericMinSigDigits - lw)
	rscale = min(max(rscale, scaleOf(a), 0), numericMaxDisplay)
	r := new(apd.Decimal)
	if _, err := approxCtx(int64(rscale)+int64(max(lw, 0))+10).Ln(r, &a.Decimal); err != nil {
		return nil, errNumericOverflow()
	}
	return makeDecimal(roundApd(r, rscale))
}

// numericLog is log(base, x).
func numericLog(base, x *types.DDecimal) (types.Datum, error) {
	if isNaN(base) || isNaN(x) {
		return decNaN(), nil
	}
	for _, v := range []*types.DDecimal{base, x} {
		if v.Negative || v.IsZero() {
			return nil, errLog(v)
		}
	}
	if isInf(base) || isInf(x) {
		if isInf(base) && isInf(x) {
			return decNaN(), nil
		}
		if isInf(x) {
			return decInf(base.Cmp(apd.New(1, 0)) < 0), nil
		}
		return makeDecimal(apd.New(0, 0))
	}
	if base.Cmp(apd.New(1, 0)) == 0 {
		return nil, errDivByZero()
	}
	bw, xw := estimateLnWeight(&base.Decimal), estimateLnWeight(&x.Decimal)
	rw := xw - bw
	rscale := int32(numericMinSigDigits - rw)
	rscale = min(max(rscale, scaleOf(base), scaleOf(x), 0), numericMaxDisplay)
	digits := int64(rscale) + int64(max(rw, 0)) + 12
	c := approxCtx(digits + int64(max(bw, xw, 0)))
	lb, lx := new(apd.Decimal), new(apd.Decimal)
	if _, err := c.Ln(lb, &base.Decimal); err != nil {
		return nil, errNumericOverflow()
	}
	if _, err := c.Ln(lx, &x.Decimal); err != nil {
		return nil, errNumericOverflow()
	}
	r := new(apd.Decimal)
	if _, err := c.Quo(r, lx, lb); err != nil {
		return nil, errNumericOverflow()
	}
	return makeDecimal(roundApd(r, rscale))
}

// numericPow is base ^ exp with power_var's scale rules.
func numericPow(base, exp *types.DDecimal) (types.Datum, error) {
	if isNaN(base) || isNaN(exp) {
		if isNaN(base) && !isNaN(exp) && exp.IsZero() {
			return makeDecimal(apd.New(1, 0))
		}
		if isNaN(exp) && !isNaN(base) && base.Cmp(apd.New(1, 0)) == 0 {
			return makeDecimal(apd.New(1, 0))
		}
		return decNaN(), nil
	}
	if base.IsZero() && exp.Negative {
		return nil, sqlerr.New(codeInvalidArgumentForPower, "zero raised to a negative power is undefined")
	}
	isInt := exp.Form == apd.Finite && isIntegral(&exp.Decimal)
	if base.Negative && !isInf(base) && !isInt && !isInf(exp) {
		return nil, sqlerr.New(codeInvalidArgumentForPower, "a negative number raised to a non-integer power yields a complex result")
	}
	if isInf(base) || isInf(exp) {
		return powInfinite(base, exp)
	}
	if isInt {
		if n, err := exp.Int64(); err == nil && n >= math.MinInt32 && n <= math.MaxInt32 {
			return numericPowInt(base, n, scaleOf(exp))
		}
	}
	if base.IsZero() {
		r := apd.New(0, -numericMinSigDigits)
		return makeDecimal(r)
	}
	abs := new(apd.Decimal).Abs(&base.Decimal)
	lnw := estimateLnWeight(abs)
	lb := new(apd.Decimal)
	if _, err := approxCtx(int64(8+max(0, lnw))+int64(max(-lnw, 0))).Ln(lb, abs); err != nil {
		return nil, errNumericOverflow()
	}
	lbf, _ := lb.Float64()
	ef, _ := exp.Float64()
	val := lbf * ef
	if math.Abs(val) > numericMaxResultScale*3.01 {
		if val > 0 {
			return nil, errNumericOverflow()
		}
		return makeDecimal(apd.New(0, -numericMaxDisplay))
	}
	val *= 0.434294481903252
	rscale := int32(numericMinSigDigits - int(val))
	rscale = min(max(rscale, scaleOf(base), scaleOf(exp), 0), numericMaxDisplay)
	r := new(apd.Decimal)
	if _, err := approxCtx(int64(rscale)+int64(max(val, 0))+12).Pow(r, abs, &exp.Decimal); err != nil {
		return nil, errNumericOverflow()
	}
	return makeDecimal(roundApd(r, rscale))
}

func isIntegral(d *apd.Decimal) bool {
	if d.Exponent >= 0 || d.IsZero() {
		return true
	}
	r := new(apd.Decimal)
	r.Reduce(d)
	return r.Exponent >= 0
}

// numericPowInt is power_var_int: base ^ n for an integer n.
func numericPowInt(base *types.DDecimal, n int64, expScale int32) (types.Datum, error) {
	var f float64
	if !base.IsZero() {
		w, first, second := nbaseWeight(&base.Decimal)
		v := float64(first)*10000 + float64(second)
		f = float64(n) * (math.Log10(v) + float64(w*4-4))
	}
	if f > numericMaxWeightDigit {
		return nil, errNumericOverflow()
	}
	if f+1 < -numericMaxDisplay {
		return makeDecimal(apd.New(0, -numericMaxDisplay))
	}
	rscale := int32(numericMinSigDigits - int(f))
	rscale = min(max(rscale, scaleOf(base), expScale, 0), numericMaxDisplay)
	if n == 0 {
		return makeDecimal(roundApd(apd.New(1, 0), rscale))
	}
	if base.IsZero() {
		return makeDecimal(roundApd(apd.New(0, 0), rscale))
	}
	sig := int64(1+rscale) + int64(f) + int64(math.Log(math.Abs(float64(n)))) + 8
	c := approxCtx(max(sig, 1))
	r := new(apd.Decimal)
	if _, err := c.Pow(r, &base.Decimal, apd.New(n, 0)); err != nil {
		return nil, errNumericOverflow()
	}
	return makeDecimal(roundApd(r, rscale))
}

func powInfinite(base, exp *types.DDecimal) (types.Datum, error) {
	one := apd.New(1, 0)
	if isInf(exp) {
		abs := new(apd.Decimal).Abs(&base.Decimal)
		if isInf(base) {
			abs = apd.New(2, 0) // |±inf| > 1
		}
		c := abs.Cmp(one)
		switch {
		case c == 0:
			return makeDecimal(apd.New(1, 0))
		case (c > 0) != exp.Negative:
			return decInf(false), nil
		}
		return makeDecimal(apd.New(0, 0))
	}
	// base is ±Infinity, exp finite.
	if exp.IsZero() {
		return makeDecimal(apd.New(1, 0))
	}
	if exp.Negative {
		return makeDecimal(apd.New(0, 0))
	}
	if base.Negative {
		odd := isIntegral(&exp.Decimal)
		if odd {
			r := new(apd.Decimal)
			r.Reduce(&exp.Decimal)
			i, err := r.Int64()
			odd = err == nil && i%2 != 0
		}
		return decInf(odd), nil
	}
	return decInf(false), nil
}

// numericRound is round(x, s): half away from zero; the result has
// max(s, 0) decimals.
func numericRound(a *types.DDecimal, s int64) (types.Datum, error) {
	if a.Form != apd.Finite {
		return a, nil
	}
	s = max(min(s, numericMaxDisplay), -numericMaxWeightDigit)
	return makeDecimal(roundApd(&a.Decimal, int32(s)))
}

func numericTrunc(a *types.DDecimal, s int64) (types.Datum, error) {
	if a.Form != apd.Finite {
		return a, nil
	}
	s = max(min(s, numericMaxDisplay), -numericMaxWeightDigit)
	return makeDecimal(truncApd(&a.Decimal, int32(s)))
}

func numericCeilFloor(a *types.DDecimal, ceil bool) (types.Datum, error) {
	if a.Form != apd.Finite {
		return a, nil
	}
	r := new(apd.Decimal)
	var err error
	c := approxCtx(a.NumDigits() + 2)
	if ceil {
		_, err = c.Ceil(r, &a.Decimal)
	} else {
		_, err = c.Floor(r, &a.Decimal)
	}
	if err != nil {
		return nil, errNumericOverflow()
	}
	if r.Exponent < 0 {
		r = roundApd(r, 0)
	}
	return makeDecimal(r)
}

func numericNeg(a *types.DDecimal) types.Datum {
	if isNaN(a) {
		return a
	}
	r := &types.DDecimal{}
	r.Set(&a.Decimal)
	if !(r.Form == apd.Finite && r.IsZero()) {
		r.Negative = !r.Negative
	}
	return r
}

func numericAbs(a *types.DDecimal) types.Datum {
	if !a.Negative {
		return a
	}
	return numericNeg(a)
}

func numericSign(a *types.DDecimal) (types.Datum, error) {
	if isNaN(a) {
		return a, nil
	}
	return makeDecimal(apd.New(int64(sign(a)), 0))
}

func asDec(d types.Datum) *types.DDecimal { return d.(*types.DDecimal) }
