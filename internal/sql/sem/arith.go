package sem

import (
	"math"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// checkInt returns v as a datum of integer type t, or 22003 if it is out
// of t's range.
func checkInt(t *types.Type, v int64) (types.Datum, error) {
	switch t.Width() {
	case 16:
		if v < math.MinInt16 || v > math.MaxInt16 {
			return nil, errIntOutOfRange(t)
		}
	case 32:
		if v < math.MinInt32 || v > math.MaxInt32 {
			return nil, errIntOutOfRange(t)
		}
	}
	return types.DInt(v), nil
}

func ints(a []types.Datum) (int64, int64) { return int64(a[0].(types.DInt)), int64(a[1].(types.DInt)) }

func intOp(t *types.Type, op string) evalFn {
	switch op {
	case "+":
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			x, y := ints(a)
			r := x + y
			if (y > 0 && r < x) || (y < 0 && r > x) {
				return nil, errIntOutOfRange(t)
			}
			return checkInt(t, r)
		}
	case "-":
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			x, y := ints(a)
			r := x - y
			if (y > 0 && r > x) || (y < 0 && r < x) {
				return nil, errIntOutOfRange(t)
			}
			return checkInt(t, r)
		}
	case "*":
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			x, y := ints(a)
			r := x * y
			if x != 0 && (r/x != y || (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64)) {
				return nil, errIntOutOfRange(t)
			}
			return checkInt(t, r)
		}
	case "/":
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			x, y := ints(a)
			if y == 0 {
				return nil, errDivByZero()
			}
			if x == math.MinInt64 && y == -1 {
				return nil, errIntOutOfRange(t)
			}
			return checkInt(t, x/y)
		}
	case "%":
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			x, y := ints(a)
			if y == 0 {
				return nil, errDivByZero()
			}
			if y == -1 {
				return types.DInt(0), nil
			}
			return types.DInt(x % y), nil
		}
	case "&":
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			x, y := ints(a)
			return types.DInt(x & y), nil
		}
	case "|":
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			x, y := ints(a)
			return types.DInt(x | y), nil
		}
	case "#":
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			x, y := ints(a)
			return types.DInt(x ^ y), nil
		}
	case "<<", ">>":
		left := op == "<<"
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			x, y := ints(a)
			bits := int64(t.Width())
			n := uint(y & (bits - 1)) // as the hardware masks the count
			var r int64
			if left {
				r = x << n
			} else {
				r = x >> n
			}
			switch bits {
			case 16:
				r = int64(int16(r))
			case 32:
				r = int64(int32(r))
			}
			return types.DInt(r), nil
		}
	}
	panic("sem: int operator " + op)
}

func floats(a []types.Datum) (float64, float64) {
	return float64(a[0].(types.DFloat)), float64(a[1].(types.DFloat))
}

// checkFloat applies float8pl's and its siblings' checks: an infinite
// result from finite inputs is an overflow; for float4 the result is
// rounded to float32.
func checkFloat(t *types.Type, r float64, infOK bool, zeroOK bool) (types.Datum, error) {
	if t.Width() == 32 {
		r32 := float32(r)
		if math.IsInf(float64(r32), 0) && !infOK {
			return nil, errFloatOverflow()
		}
		if r32 == 0 && !zeroOK {
			return nil, errFloatUnderflow()
		}
		return types.DFloat(r32), nil
	}
	if math.IsInf(r, 0) && !infOK {
		return nil, errFloatOverflow()
	}
	if r == 0 && !zeroOK {
		return nil, errFloatUnderflow()
	}
	return types.DFloat(r), nil
}

func floatOp(t *types.Type, op string) evalFn {
	inf := math.IsInf
	switch op {
	case "+":
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			x, y := floats(a)
			return checkFloat(t, x+y, inf(x, 0) || inf(y, 0), true)
		}
	case "-":
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			x, y := floats(a)
			return checkFloat(t, x-y, inf(x, 0) || inf(y, 0), true)
		}
	case "*":
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			x, y := floats(a)
			return checkFloat(t, x*y, inf(x, 0) || inf(y, 0), x == 0 || y == 0)
		}
	case "/":
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			x, y := floats(a)
			if y == 0 && !math.IsNaN(x) {
				return nil, errDivByZero()
			}
			return checkFloat(t, x/y, inf(x, 0), x == 0 || inf(y, 0))
		}
	case "^":
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			x, y := floats(a)
			return floatPow(x, y)
		}
	}
	panic("sem: float operator " + op)
}

// floatPow is dpow with PostgreSQL's special cases and errors.
func floatPow(x, y float64) (types.Datum, error) {
	if math.IsNaN(x) {
		if y == 0 {
			return types.DFloat(1), nil
		}
		return types.DFloat(math.NaN()), nil
	}
	if math.IsNaN(y) {
		if x == 1 {
			return types.DFloat(1), nil
		}
		return types.DFloat(math.NaN()), nil
	}
	if x == 0 && y < 0 {
		return nil, sqlerr.New(codeInvalidArgumentForPower, "zero raised to a negative power is undefined")
	}
	if x < 0 && y != math.Trunc(y) && !math.IsInf(y, 0) {
		return nil, sqlerr.New(codeInvalidArgumentForPower, "a negative number raised to a non-integer power yields a complex result")
	}
	r := math.Pow(x, y)
	if math.IsInf(r, 0) && !math.IsInf(x, 0) && !math.IsInf(y, 0) {
		return nil, errFloatOverflow()
	}
	if r == 0 && x != 0 && !math.IsInf(y, 0) && !math.IsInf(x, 0) {
		return nil, errFloatUnderflow()
	}
	return types.DFloat(r), nil
}

func numericOp(op string) evalFn {
	switch op {
	case "+":
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			return numericAdd(asDec(a[0]), asDec(a[1]), false)
		}
	case "-":
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			return numericAdd(asDec(a[0]), asDec(a[1]), true)
		}
	case "*":
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			return numericMul(asDec(a[0]), asDec(a[1]))
		}
	case "/":
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			return numericDiv(asDec(a[0]), asDec(a[1]))
		}
	case "%":
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			return numericMod(asDec(a[0]), asDec(a[1]))
		}
	case "^":
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			return numericPow(asDec(a[0]), asDec(a[1]))
		}
	}
	panic("sem: numeric operator " + op)
}

func negate(t *types.Type) evalFn {
	return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		switch v := a[0].(type) {
		case types.DInt:
			if v == math.MinInt64 {
				return nil, errIntOutOfRange(t)
			}
			return checkInt(t, -int64(v))
		case types.DFloat:
			return -v, nil
		case *types.DDecimal:
			return numericNeg(v), nil
		case types.DInterval:
			return intervalNeg(v)
		}
		return nil, sqlerr.Internalf("sem: negate %T", a[0])
	}
}

func absFn(t *types.Type) evalFn {
	return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		switch v := a[0].(type) {
		case types.DInt:
			if v >= 0 {
				return v, nil
			}
			if v == math.MinInt64 {
				return nil, errIntOutOfRange(t)
			}
			return checkInt(t, -int64(v))
		case types.DFloat:
			return types.DFloat(math.Abs(float64(v))), nil
		case *types.DDecimal:
			return numericAbs(v), nil
		}
		return nil, sqlerr.Internalf("sem: abs %T", a[0])
	}
}

func identity(_ *EvalContext, a []types.Datum) (types.Datum, error) { return a[0], nil }

// The operator tables: binary and prefix operators by name.
var (
	binaryOps = map[string][]*overload{}
	prefixOps = map[string][]*overload{}
)

func addBinary(op string, l, r, ret *types.Type, fn evalFn) *overload {
	o := &overload{args: []*types.Type{l, r}, ret: ret, fn: fn}
	binaryOps[op] = append(binaryOps[op], o)
	return o
}

func addPrefix(op string, arg, ret *types.Type, fn evalFn) {
	prefixOps[op] = append(prefixOps[op], &overload{args: []*types.Type{arg}, ret: ret, fn: fn})
}

var (
	intTypes     = []*types.Type{types.Int2, types.Int4, types.Int8}
	floatTypes   = []*types.Type{types.Float4, types.Float8}
	compareTypes = []*types.Type{types.Bool, types.Int2, types.Int4, types.Int8, types.Float4, types.Float8,
		types.Numeric, types.Text, types.BPChar, types.Name, types.Bytes, types.Date, types.Timestamp,
		types.TimestampTZ, types.Interval, types.UUID, types.JSONB, types.OidType}
	compareOps = []string{"=", "<>", "<", "<=", ">", ">="}
)

func init() {
	for _, t := range intTypes {
		for _, op := range []string{"+", "-", "*", "/", "%", "&", "|", "#"} {
			addBinary(op, t, t, t, intOp(t, op))
		}
		addBinary("<<", t, types.Int4, t, intOp(t, "<<"))
		addBinary(">>", t, types.Int4, t, intOp(t, ">>"))
		addPrefix("-", t, t, negate(t))
		addPrefix("+", t, t, identity)
		addPrefix("@", t, t, absFn(t))
		addPrefix("~", t, t, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			return types.DInt(^int64(a[0].(types.DInt))), nil
		})
	}
	for _, t := range floatTypes {
		for _, op := range []string{"+", "-", "*", "/"} {
			addBinary(op, t, t, t, floatOp(t, op))
		}
		addPrefix("-", t, t, negate(t))
		addPrefix("+", t, t, identity)
		addPrefix("@", t, t, absFn(t))
	}
	addBinary("^", types.Float8, types.Float8, types.Float8, floatOp(types.Float8, "^"))
	addPrefix("|/", types.Float8, types.Float8, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return floatSqrt(float64(a[0].(types.DFloat)))
	})
	addPrefix("||/", types.Float8, types.Float8, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return types.DFloat(math.Cbrt(float64(a[0].(types.DFloat)))), nil
	})
	for _, op := range []string{"+", "-", "*", "/", "%", "^"} {
		addBinary(op, types.Numeric, types.Numeric, types.Numeric, numericOp(op))
	}
	addPrefix("-", types.Numeric, types.Numeric, negate(types.Numeric))
	addPrefix("+", types.Numeric, types.Numeric, identity)
	addPrefix("@", types.Numeric, types.Numeric, absFn(types.Numeric))
	addPrefix("-", types.Interval, types.Interval, negate(types.Interval))
	addPrefix("+", types.Interval, types.Interval, identity)

	for _, t := range compareTypes {
		for _, op := range compareOps {
			o := addBinary(op, t, t, types.Bool, nil)
			o.cmp = true
		}
	}
	for _, op := range []string{"~~", "!~~", "~~*", "!~~*"} {
		addBinary(op, types.Text, types.Text, types.Bool, likeOp(op))
	}
	for _, op := range []string{"~", "!~", "~*", "!~*"} {
		addBinary(op, types.Text, types.Text, types.Bool, regexOp(op))
	}
	addDatetimeOps()
	addJSONOps()
}

func floatSqrt(x float64) (types.Datum, error) {
	if x < 0 {
		return nil, sqlerr.New(codeInvalidArgumentForPower, "cannot take square root of a negative number")
	}
	return types.DFloat(math.Sqrt(x)), nil
}
