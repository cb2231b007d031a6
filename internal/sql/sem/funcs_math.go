package sem

import (
	"math"
	"math/rand/v2"

	"github.com/cockroachdb/apd/v3"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

func f64(d types.Datum) float64 { return float64(d.(types.DFloat)) }

// floatResult checks a float function's result: an infinite value from a
// finite input overflowed; zero from a non-zero one underflowed.
func floatResult(r float64, in float64) (types.Datum, error) {
	if math.IsInf(r, 0) && !math.IsInf(in, 0) {
		return nil, errFloatOverflow()
	}
	return types.DFloat(r), nil
}

func floatLog(x float64, f func(float64) float64) (types.Datum, error) {
	switch {
	case x == 0:
		return nil, sqlerr.New(codeInvalidArgumentForLog, "cannot take logarithm of zero")
	case x < 0:
		return nil, sqlerr.New(codeInvalidArgumentForLog, "cannot take logarithm of a negative number")
	}
	return types.DFloat(f(x)), nil
}

func init() {
	F8, N, I4 := types.Float8, types.Numeric, types.Int4
	for _, t := range []*types.Type{types.Int2, types.Int4, types.Int8, types.Float4, types.Float8, types.Numeric} {
		def("abs", tt(t), t, absFn(t))
	}
	unaryF := func(f func(float64) float64) evalFn {
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) { return types.DFloat(f(f64(a[0]))), nil }
	}
	unaryN := func(f func(*types.DDecimal) (types.Datum, error)) evalFn {
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) { return f(asDec(a[0])) }
	}
	for _, n := range []string{"ceil", "ceiling"} {
		def(n, tt(F8), F8, unaryF(math.Ceil))
		def(n, tt(N), N, unaryN(func(d *types.DDecimal) (types.Datum, error) { return numericCeilFloor(d, true) }))
	}
	def("floor", tt(F8), F8, unaryF(math.Floor))
	def("floor", tt(N), N, unaryN(func(d *types.DDecimal) (types.Datum, error) { return numericCeilFloor(d, false) }))
	def("round", tt(F8), F8, unaryF(math.RoundToEven))
	def("round", tt(N), N, unaryN(func(d *types.DDecimal) (types.Datum, error) { return numericRound(d, 0) }))
	def("round", tt(N, I4), N, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return numericRound(asDec(a[0]), i64(a[1]))
	})
	def("trunc", tt(F8), F8, unaryF(math.Trunc))
	def("trunc", tt(N), N, unaryN(func(d *types.DDecimal) (types.Datum, error) { return numericTrunc(d, 0) }))
	def("trunc", tt(N, I4), N, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return numericTrunc(asDec(a[0]), i64(a[1]))
	})
	def("sqrt", tt(F8), F8, func(_ *EvalContext, a []types.Datum) (types.Datum, error) { return floatSqrt(f64(a[0])) })
	def("sqrt", tt(N), N, unaryN(numericSqrt))
	def("cbrt", tt(F8), F8, unaryF(math.Cbrt))
	for _, n := range []string{"power", "pow"} {
		def(n, tt(F8, F8), F8, floatOp(F8, "^"))
		def(n, tt(N, N), N, numericOp("^"))
	}
	for _, t := range intTypes {
		def("mod", tt(t, t), t, intOp(t, "%"))
	}
	def("mod", tt(N, N), N, numericOp("%"))
	def("div", tt(N, N), N, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return numericDivTrunc(asDec(a[0]), asDec(a[1]))
	})
	def("sign", tt(F8), F8, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		x := f64(a[0])
		switch {
		case x > 0:
			return types.DFloat(1), nil
		case x < 0:
			return types.DFloat(-1), nil
		}
		return types.DFloat(0), nil
	})
	def("sign", tt(N), N, unaryN(numericSign))
	def("exp", tt(F8), F8, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		x := f64(a[0])
		r := math.Exp(x)
		if r == 0 && !math.IsInf(x, -1) {
			return nil, errFloatUnderflow()
		}
		return floatResult(r, x)
	})
	def("exp", tt(N), N, unaryN(numericExp))
	def("ln", tt(F8), F8, func(_ *EvalContext, a []types.Datum) (types.Datum, error) { return floatLog(f64(a[0]), math.Log) })
	def("ln", tt(N), N, unaryN(numericLn))
	ten := &types.DDecimal{Decimal: *apd.New(10, 0)}
	for _, n := range []string{"log", "log10"} {
		def(n, tt(F8), F8, func(_ *EvalContext, a []types.Datum) (types.Datum, error) { return floatLog(f64(a[0]), math.Log10) })
		def(n, tt(N), N, unaryN(func(d *types.DDecimal) (types.Datum, error) { return numericLog(ten, d) }))
	}
	def("log", tt(N, N), N, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return numericLog(asDec(a[0]), asDec(a[1]))
	})
	def("pi", nil, F8, func(*EvalContext, []types.Datum) (types.Datum, error) { return types.DFloat(math.Pi), nil })
	def("degrees", tt(F8), F8, unaryF(func(x float64) float64 { return x * 180 / math.Pi }))
	def("radians", tt(F8), F8, unaryF(func(x float64) float64 { return x * math.Pi / 180 }))
	trig := map[string]func(float64) float64{"sin": math.Sin, "cos": math.Cos, "tan": math.Tan,
		"asin": math.Asin, "acos": math.Acos, "atan": math.Atan,
		"cot": func(x float64) float64 { return 1 / math.Tan(x) }}
	for name, f := range trig {
		f := f
		def(name, tt(F8), F8, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			x := f64(a[0])
			r := f(x)
			if math.IsNaN(r) && !math.IsNaN(x) {
				return nil, sqlerr.New(sqlerr.CodeNumericValueOutOfRange, "input is out of range")
			}
			return types.DFloat(r), nil
		})
	}
	def("atan2", tt(F8, F8), F8, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return types.DFloat(math.Atan2(f64(a[0]), f64(a[1]))), nil
	})
	def("random", nil, F8, func(*EvalContext, []types.Datum) (types.Datum, error) {
		return types.DFloat(rand.Float64()), nil
	}).vol = Volatile
	def("scale", tt(N), I4, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		d := asDec(a[0])
		if d.Form != apd.Finite {
			return types.DNull, nil
		}
		return types.DInt(scaleOf(d)), nil
	})
	for _, t := range []*types.Type{types.Int4, types.Int8} {
		t := t
		def("gcd", tt(t, t), t, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			x, y := ints(a)
			for y != 0 {
				x, y = y, x%y
			}
			if x == math.MinInt64 {
				return nil, errIntOutOfRange(t)
			}
			if x < 0 {
				x = -x
			}
			return checkInt(t, x)
		})
	}
}
