package sem

import (
	"math"
	"time"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

const (
	microsPerSecond = int64(1e6)
	microsPerMinute = 60 * microsPerSecond
	microsPerHour   = 60 * microsPerMinute
	microsPerDay    = 24 * microsPerHour
	pgEpochUnix     = 946684800 // 2000-01-01 00:00:00 UTC
	daysPerMonth    = 30
)

// pgMicros returns t as microseconds since 2000-01-01 UTC; t is finite.
func pgMicros(t time.Time) int64 {
	return (t.Unix()-pgEpochUnix)*microsPerSecond + int64(t.Nanosecond()/1000)
}

func finiteTime(t time.Time) bool {
	return !t.Equal(types.TimestampInfinity) && !t.Equal(types.TimestampNegInfinity)
}

func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// addInterval adds iv to the instant t as timestamp_pl_interval does: the
// months to the wall-clock date in loc (clamping the day to the month's
// end), then the days, then the microseconds.
func addInterval(t time.Time, iv types.DInterval, loc *time.Location) (time.Time, error) {
	if !finiteTime(t) {
		return t, nil
	}
	if iv.Months != 0 || iv.Days != 0 {
		lt := t.In(loc)
		y, m, d := lt.Date()
		hh, mm, ss := lt.Clock()
		if iv.Months != 0 {
			total := int64(y)*12 + int64(m-1) + int64(iv.Months)
			y = int(floorDiv64(total, 12))
			m = time.Month(total-int64(y)*12) + 1
			if dim := daysIn(y, m); d > dim {
				d = dim
			}
		}
		t = time.Date(y, m, d+int(iv.Days), hh, mm, ss, lt.Nanosecond(), loc)
	}
	if iv.Micros != 0 {
		sec, frac := iv.Micros/microsPerSecond, iv.Micros%microsPerSecond
		t = time.Unix(t.Unix()+sec, int64(t.Nanosecond())+frac*1000)
	}
	if y := t.UTC().Year(); y < -4713 || y > 294277 {
		return time.Time{}, errTimestampRange()
	}
	return t.UTC(), nil
}

func floorDiv64(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func intervalNeg(v types.DInterval) (types.Datum, error) {
	if v.Months == math.MinInt32 || v.Days == math.MinInt32 || v.Micros == math.MinInt64 {
		return nil, errIntervalRange()
	}
	return types.DInterval{Months: -v.Months, Days: -v.Days, Micros: -v.Micros}, nil
}

func intervalAdd(a, b types.DInterval, sub bool) (types.Datum, error) {
	if sub {
		n, err := intervalNeg(b)
		if err != nil {
			return nil, err
		}
		b = n.(types.DInterval)
	}
	m := int64(a.Months) + int64(b.Months)
	d := int64(a.Days) + int64(b.Days)
	us := a.Micros + b.Micros
	if m != int64(int32(m)) || d != int64(int32(d)) ||
		(b.Micros > 0 && us < a.Micros) || (b.Micros < 0 && us > a.Micros) {
		return nil, errIntervalRange()
	}
	return types.DInterval{Months: int32(m), Days: int32(d), Micros: us}, nil
}

// intervalMul is interval_mul: fractional months spill into days (30 per
// month) and fractional days into microseconds.
func intervalMul(v types.DInterval, f float64) (types.Datum, error) {
	return intervalScale(v, func(x float64) float64 { return x * f })
}

// intervalDiv is interval_div: as intervalMul, dividing each field.
func intervalDiv(v types.DInterval, f float64) (types.Datum, error) {
	if f == 0 {
		return nil, errDivByZero()
	}
	return intervalScale(v, func(x float64) float64 { return x / f })
}

func intervalScale(v types.DInterval, op func(float64) float64) (types.Datum, error) {
	if f := op(1); math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, errIntervalRange()
	}
	monthsF := op(float64(v.Months))
	if monthsF > math.MaxInt32 || monthsF < math.MinInt32 {
		return nil, errIntervalRange()
	}
	months := int32(monthsF)
	monthRemDays := (op(float64(v.Months)) - float64(months)) * daysPerMonth
	daysF := op(float64(v.Days))
	if daysF > math.MaxInt32 || daysF < math.MinInt32 {
		return nil, errIntervalRange()
	}
	days := int32(daysF)
	secRem := (op(float64(v.Days)) - float64(days) + monthRemDays - math.Trunc(monthRemDays)) * 86400
	secRem = math.Round(secRem*1e6) / 1e6
	if math.Abs(secRem) >= 86400 {
		days += int32(secRem / 86400)
		secRem -= math.Trunc(secRem/86400) * 86400
	}
	days += int32(monthRemDays)
	us := math.RoundToEven(op(float64(v.Micros)) + secRem*1e6)
	if us >= math.MaxInt64 || us < math.MinInt64 {
		return nil, errIntervalRange()
	}
	return types.DInterval{Months: months, Days: days, Micros: int64(us)}, nil
}

// justifyHours moves whole days out of the microseconds, keeping the signs
// of days and time alike (interval_justify_hours).
func justifyHours(iv types.DInterval) types.DInterval {
	whole := iv.Micros / microsPerDay
	iv.Micros -= whole * microsPerDay
	iv.Days += int32(whole)
	if iv.Days > 0 && iv.Micros < 0 {
		iv.Micros += microsPerDay
		iv.Days--
	} else if iv.Days < 0 && iv.Micros > 0 {
		iv.Micros -= microsPerDay
		iv.Days++
	}
	return iv
}

func justifyDays(iv types.DInterval) types.DInterval {
	whole := iv.Days / daysPerMonth
	iv.Days -= whole * daysPerMonth
	iv.Months += whole
	if iv.Months > 0 && iv.Days < 0 {
		iv.Days += daysPerMonth
		iv.Months--
	} else if iv.Months < 0 && iv.Days > 0 {
		iv.Days -= daysPerMonth
		iv.Months++
	}
	return iv
}

func timestampDiff(a, b time.Time) (types.Datum, error) {
	if !finiteTime(a) || !finiteTime(b) {
		return nil, sqlerr.New(sqlerr.CodeDatetimeFieldOverflow, "cannot subtract infinite timestamps")
	}
	return justifyHours(types.DInterval{Micros: pgMicros(a) - pgMicros(b)}), nil
}

func tsTime(d types.Datum) time.Time {
	switch v := d.(type) {
	case types.DTimestamp:
		return v.Time
	case types.DTimestampTZ:
		return v.Time
	}
	panic("sem: not a timestamp")
}

func dateToTime(d types.DDate) time.Time {
	switch d {
	case types.DateInfinity:
		return types.TimestampInfinity
	case types.DateNegInfinity:
		return types.TimestampNegInfinity
	}
	return d.Time()
}

func makeTS(t time.Time) (types.Datum, error) {
	if !finiteTime(t) {
		return types.DTimestamp{Time: t}, nil
	}
	v, err := types.MakeDTimestamp(t.UTC())
	if err != nil {
		return nil, err
	}
	return v, nil
}

func makeTSTZ(t time.Time) (types.Datum, error) {
	if !finiteTime(t) {
		return types.DTimestampTZ{Time: t}, nil
	}
	v, err := types.MakeDTimestampTZ(t)
	if err != nil {
		return nil, err
	}
	return v, nil
}

func dateAddDays(d types.DDate, n int64) (types.Datum, error) {
	if !d.IsFinite() {
		return d, nil
	}
	r := int64(d) + n
	// PostgreSQL's date range: 4714-11-24 BC .. 5874897-12-31.
	if r < -2451545 || r >= 2145031949 {
		return nil, errDateRange()
	}
	return types.DDate(r), nil
}

func addDatetimeOps() {
	date, ts, tstz, iv, i4 := types.Date, types.Timestamp, types.TimestampTZ, types.Interval, types.Int4
	addBinary("+", date, i4, date, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return dateAddDays(a[0].(types.DDate), int64(a[1].(types.DInt)))
	})
	addBinary("+", i4, date, date, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return dateAddDays(a[1].(types.DDate), int64(a[0].(types.DInt)))
	})
	addBinary("-", date, i4, date, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return dateAddDays(a[0].(types.DDate), -int64(a[1].(types.DInt)))
	})
	addBinary("-", date, date, i4, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		x, y := a[0].(types.DDate), a[1].(types.DDate)
		if !x.IsFinite() || !y.IsFinite() {
			return nil, sqlerr.New(sqlerr.CodeDatetimeFieldOverflow, "cannot subtract infinite dates")
		}
		return checkInt(types.Int4, int64(x)-int64(y))
	})
	tsPlus := func(neg bool, tz bool, dateArg bool, ivFirst bool) evalFn {
		return func(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
			x, y := a[0], a[1]
			if ivFirst {
				x, y = y, x
			}
			var t time.Time
			if dateArg {
				t = dateToTime(x.(types.DDate))
			} else {
				t = tsTime(x)
			}
			v := y.(types.DInterval)
			if neg {
				n, err := intervalNeg(v)
				if err != nil {
					return nil, err
				}
				v = n.(types.DInterval)
			}
			loc := time.UTC
			if tz {
				loc = ctx.location()
			}
			r, err := addInterval(t, v, loc)
			if err != nil {
				return nil, err
			}
			if tz {
				return makeTSTZ(r)
			}
			return makeTS(r)
		}
	}
	addBinary("+", date, iv, ts, tsPlus(false, false, true, false))
	addBinary("+", iv, date, ts, tsPlus(false, false, true, true))
	addBinary("-", date, iv, ts, tsPlus(true, false, true, false))
	addBinary("+", ts, iv, ts, tsPlus(false, false, false, false))
	addBinary("+", iv, ts, ts, tsPlus(false, false, false, true))
	addBinary("-", ts, iv, ts, tsPlus(true, false, false, false))
	addBinary("+", tstz, iv, tstz, tsPlus(false, true, false, false)).vol = Stable
	addBinary("+", iv, tstz, tstz, tsPlus(false, true, false, true)).vol = Stable
	addBinary("-", tstz, iv, tstz, tsPlus(true, true, false, false)).vol = Stable
	diff := func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return timestampDiff(tsTime(a[0]), tsTime(a[1]))
	}
	addBinary("-", ts, ts, iv, diff)
	addBinary("-", tstz, tstz, iv, diff)
	addBinary("+", iv, iv, iv, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return intervalAdd(a[0].(types.DInterval), a[1].(types.DInterval), false)
	})
	addBinary("-", iv, iv, iv, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return intervalAdd(a[0].(types.DInterval), a[1].(types.DInterval), true)
	})
	addBinary("*", iv, types.Float8, iv, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return intervalMul(a[0].(types.DInterval), float64(a[1].(types.DFloat)))
	})
	addBinary("*", types.Float8, iv, iv, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return intervalMul(a[1].(types.DInterval), float64(a[0].(types.DFloat)))
	})
	addBinary("/", iv, types.Float8, iv, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return intervalDiv(a[0].(types.DInterval), float64(a[1].(types.DFloat)))
	})
}
