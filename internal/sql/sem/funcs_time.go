package sem

import (
	"math"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// unitAliases maps PostgreSQL's date/time unit spellings to one name.
var unitAliases = map[string]string{}

func init() {
	for canon, names := range map[string][]string{
		"year":            {"y", "year", "years", "yr", "yrs"},
		"month":           {"mon", "mons", "month", "months"},
		"day":             {"d", "day", "days"},
		"hour":            {"h", "hour", "hours", "hr", "hrs"},
		"minute":          {"m", "min", "mins", "minute", "minutes"},
		"second":          {"s", "sec", "secs", "second", "seconds"},
		"milliseconds":    {"ms", "msec", "msecs", "millisecond", "milliseconds", "mseconds", "msecond"},
		"microseconds":    {"us", "usec", "usecs", "microsecond", "microseconds", "useconds", "usecond"},
		"week":            {"w", "week", "weeks"},
		"quarter":         {"qtr", "quarter"},
		"decade":          {"dec", "decade", "decades", "decs"},
		"century":         {"c", "cent", "century", "centuries"},
		"millennium":      {"mil", "millennia", "millennium", "mils"},
		"epoch":           {"epoch"},
		"dow":             {"dow"},
		"doy":             {"doy"},
		"isodow":          {"isodow"},
		"isoyear":         {"isoyear"},
		"julian":          {"j", "julian"},
		"timezone":        {"timezone", "tz"},
		"timezone_hour":   {"timezone_h", "timezone_hour"},
		"timezone_minute": {"timezone_m", "timezone_minute"},
	} {
		for _, n := range names {
			unitAliases[n] = canon
		}
	}
}

func errUnitNotRecognized(unit string, t *types.Type) error {
	return sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "unit \"%s\" not recognized for type %s", unit, t.Name())
}

func errUnitNotSupported(unit string, t *types.Type) error {
	return sqlerr.Newf(sqlerr.CodeFeatureNotSupported, "unit \"%s\" not supported for type %s", unit, t.Name())
}

func unitOf(s string, t *types.Type) (string, error) {
	u, ok := unitAliases[strings.ToLower(strings.TrimSpace(s))]
	if !ok {
		return "", errUnitNotRecognized(s, t)
	}
	return u, nil
}

// pgYear is the year as PostgreSQL shows it: astronomical year 0 is 1 BC,
// shown as -1.
func pgYear(y int) int {
	if y > 0 {
		return y
	}
	return y - 1
}

func truncYears(y int, n int) int {
	// On astronomical years, as date_trunc does on its own year field.
	py := pgYear(y)
	var r int
	switch n {
	case 10:
		if py > 0 {
			r = py / 10 * 10
		} else {
			r = -((8 - (py - 1)) / 10) * 10
		}
	case 100:
		if py > 0 {
			r = (py+99)/100*100 - 99
		} else {
			r = -((99-(py-1))/100)*100 + 1
		}
	case 1000:
		if py > 0 {
			r = (py+999)/1000*1000 - 999
		} else {
			r = -((999-(py-1))/1000)*1000 + 1
		}
	}
	if r <= 0 {
		return r + 1
	}
	return r
}

// truncTime truncates the wall clock of t (in t's location) to unit.
func truncTime(t time.Time, unit string, typ *types.Type) (time.Time, error) {
	y, m, d := t.Date()
	hh, mi, ss := t.Clock()
	ns := t.Nanosecond()
	loc := t.Location()
	switch unit {
	case "microseconds":
		return t, nil
	case "milliseconds":
		ns = ns / 1e6 * 1e6
	case "second":
		ns = 0
	case "minute":
		ss, ns = 0, 0
	case "hour":
		mi, ss, ns = 0, 0, 0
	case "day":
		hh, mi, ss, ns = 0, 0, 0, 0
	case "week":
		wd := (int(t.Weekday()) + 6) % 7 // days since Monday
		d -= wd
		hh, mi, ss, ns = 0, 0, 0, 0
	case "month":
		d, hh, mi, ss, ns = 1, 0, 0, 0, 0
	case "quarter":
		m = time.Month((int(m)-1)/3*3 + 1)
		d, hh, mi, ss, ns = 1, 0, 0, 0, 0
	case "year":
		m, d, hh, mi, ss, ns = 1, 1, 0, 0, 0, 0
	case "decade":
		y = truncYears(y, 10)
		m, d, hh, mi, ss, ns = 1, 1, 0, 0, 0, 0
	case "century":
		y = truncYears(y, 100)
		m, d, hh, mi, ss, ns = 1, 1, 0, 0, 0, 0
	case "millennium":
		y = truncYears(y, 1000)
		m, d, hh, mi, ss, ns = 1, 1, 0, 0, 0, 0
	default:
		return time.Time{}, errUnitNotSupported(unit, typ)
	}
	return time.Date(y, m, d, hh, mi, ss, ns, loc), nil
}

func dateTrunc(ctx *EvalContext, a []types.Datum, typ *types.Type) (types.Datum, error) {
	unit, err := unitOf(str(a[0]), typ)
	if err != nil {
		return nil, err
	}
	switch v := a[1].(type) {
	case types.DTimestamp:
		if !v.IsFinite() {
			return v, nil
		}
		r, err := truncTime(v.Time, unit, typ)
		if err != nil {
			return nil, err
		}
		return makeTS(r)
	case types.DTimestampTZ:
		if !v.IsFinite() {
			return v, nil
		}
		loc := ctx.location()
		if len(a) > 2 {
			if loc, err = loadZone(str(a[2])); err != nil {
				return nil, err
			}
		}
		r, err := truncTime(v.Time.In(loc), unit, typ)
		if err != nil {
			return nil, err
		}
		return makeTSTZ(r)
	case types.DInterval:
		return truncInterval(v, unit)
	}
	return nil, sqlerr.Internalf("sem: date_trunc of %T", a[1])
}

func loadZone(name string) (*time.Location, error) {
	switch strings.ToUpper(name) {
	case "UTC", "GMT", "Z", "ZULU":
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "time zone \"%s\" not recognized", name)
	}
	return loc, nil
}

func truncInterval(v types.DInterval, unit string) (types.Datum, error) {
	years, months := v.Months/12, v.Months%12
	var r types.DInterval
	us := v.Micros
	switch unit {
	case "microseconds":
		return v, nil
	case "milliseconds":
		r = types.DInterval{Months: v.Months, Days: v.Days, Micros: us / 1000 * 1000}
	case "second":
		r = types.DInterval{Months: v.Months, Days: v.Days, Micros: us / microsPerSecond * microsPerSecond}
	case "minute":
		r = types.DInterval{Months: v.Months, Days: v.Days, Micros: us / microsPerMinute * microsPerMinute}
	case "hour":
		r = types.DInterval{Months: v.Months, Days: v.Days, Micros: us / microsPerHour * microsPerHour}
	case "day":
		r = types.DInterval{Months: v.Months, Days: v.Days}
	case "month":
		r = types.DInterval{Months: v.Months}
	case "quarter":
		r = types.DInterval{Months: years*12 + months/3*3}
	case "year":
		r = types.DInterval{Months: years * 12}
	case "decade":
		r = types.DInterval{Months: years / 10 * 120}
	case "century":
		r = types.DInterval{Months: years / 100 * 1200}
	case "millennium":
		r = types.DInterval{Months: years / 1000 * 12000}
	case "week":
		return nil, sqlerr.New(sqlerr.CodeFeatureNotSupported, "interval units \"week\" not supported because months usually have fractional weeks")
	default:
		return nil, errUnitNotSupported(unit, types.Interval)
	}
	return r, nil
}

// scaled returns v / 10^scale as a numeric with that scale.
func scaled(v int64, scale int32) (types.Datum, error) { return makeDecimal(apd.New(v, -scale)) }

func isoWeek(t time.Time) (year, week int) { return t.ISOWeek() }

// extractTime is extract(unit from t), t a wall clock in its location;
// tz says whether t came from a timestamptz.
func extractTime(t time.Time, unit string, typ *types.Type, isDate bool) (types.Datum, error) {
	y, m, d := t.Date()
	hh, mi, ss := t.Clock()
	us := int64(t.Nanosecond() / 1000)
	tz := typ.Family() == types.TimestampTZFamily
	timeUnit := func() error {
		if isDate {
			return errUnitNotSupported(unit, typ)
		}
		return nil
	}
	switch unit {
	case "microseconds":
		if err := timeUnit(); err != nil {
			return nil, err
		}
		return scaled(int64(ss)*microsPerSecond+us, 0)
	case "milliseconds":
		if err := timeUnit(); err != nil {
			return nil, err
		}
		return scaled(int64(ss)*microsPerSecond+us, 3)
	case "second":
		if err := timeUnit(); err != nil {
			return nil, err
		}
		return scaled(int64(ss)*microsPerSecond+us, 6)
	case "minute":
		if err := timeUnit(); err != nil {
			return nil, err
		}
		return scaled(int64(mi), 0)
	case "hour":
		if err := timeUnit(); err != nil {
			return nil, err
		}
		return scaled(int64(hh), 0)
	case "day":
		return scaled(int64(d), 0)
	case "month":
		return scaled(int64(m), 0)
	case "quarter":
		return scaled(int64((int(m)-1)/3+1), 0)
	case "week":
		_, w := isoWeek(t)
		return scaled(int64(w), 0)
	case "year":
		return scaled(int64(pgYear(y)), 0)
	case "decade":
		py := pgYear(y)
		if py >= 0 {
			return scaled(int64(py/10), 0)
		}
		return scaled(int64(-((8 - (py - 1)) / 10)), 0)
	case "century":
		py := pgYear(y)
		if py > 0 {
			return scaled(int64((py+99)/100), 0)
		}
		return scaled(int64(-((99 - (py - 1)) / 100)), 0)
	case "millennium":
		py := pgYear(y)
		if py > 0 {
			return scaled(int64((py+999)/1000), 0)
		}
		return scaled(int64(-((999 - (py - 1)) / 1000)), 0)
	case "dow":
		return scaled(int64(t.Weekday()), 0)
	case "isodow":
		wd := int64(t.Weekday())
		if wd == 0 {
			wd = 7
		}
		return scaled(wd, 0)
	case "doy":
		return scaled(int64(t.YearDay()), 0)
	case "isoyear":
		iy, _ := isoWeek(t)
		return scaled(int64(pgYear(iy)), 0)
	case "julian":
		jd := int64(types.DateFromYMD(y, int(m), d)) + 2451545
		if isDate {
			return scaled(jd, 0)
		}
		frac := (int64(hh)*3600+int64(mi)*60+int64(ss))*microsPerSecond + us
		return numericAdd(mustDec(apd.New(jd, 0)), mustDec(divRound(apd.New(frac, 0), apd.New(microsPerDay, 0), 20, false)), false)
	case "epoch":
		_, off := t.Zone()
		secs := t.Unix()
		if !tz {
			secs += int64(off) // the wall clock read as UTC
		}
		if isDate {
			return scaled(secs, 0)
		}
		return scaled(secs*microsPerSecond+us, 6)
	case "timezone", "timezone_hour", "timezone_minute":
		if !tz {
			return nil, errUnitNotSupported(unit, typ)
		}
		_, off := t.Zone()
		switch unit {
		case "timezone":
			return scaled(int64(off), 0)
		case "timezone_hour":
			return scaled(int64(off/3600), 0)
		}
		return scaled(int64(off/60%60), 0)
	}
	return nil, errUnitNotRecognized(unit, typ)
}

func mustDec(x *apd.Decimal) *types.DDecimal {
	d, err := types.NewDDecimal(x)
	if err != nil {
		panic(err)
	}
	return d
}

func extractInfinite(unit string, neg bool) types.Datum {
	switch unit {
	case "epoch", "year", "decade", "century", "millennium", "julian", "isoyear":
		return decInf(neg)
	}
	return types.DNull
}

func extractInterval(v types.DInterval, unit string) (types.Datum, error) {
	years, months := int64(v.Months/12), int64(v.Months%12)
	us := v.Micros
	hours := us / microsPerHour
	us -= hours * microsPerHour
	mins := us / microsPerMinute
	us -= mins * microsPerMinute
	switch unit {
	case "microseconds":
		return scaled(us, 0)
	case "milliseconds":
		return scaled(us, 3)
	case "second":
		return scaled(us, 6)
	case "minute":
		return scaled(mins, 0)
	case "hour":
		return scaled(hours, 0)
	case "day":
		return scaled(int64(v.Days), 0)
	case "month":
		return scaled(months, 0)
	case "quarter":
		return scaled(months/3+1, 0)
	case "year":
		return scaled(years, 0)
	case "decade":
		return scaled(years/10, 0)
	case "century":
		return scaled(years/100, 0)
	case "millennium":
		return scaled(years/1000, 0)
	case "epoch":
		secs := int64(365.25*86400)*(int64(v.Months)/12) + int64(daysPerMonth*86400)*(int64(v.Months)%12) + 86400*int64(v.Days)
		return scaled(secs*microsPerSecond+v.Micros, 6)
	case "dow", "doy", "isodow", "isoyear", "week", "julian", "timezone", "timezone_hour", "timezone_minute":
		return nil, errUnitNotSupported(unit, types.Interval)
	}
	return nil, errUnitNotRecognized(unit, types.Interval)
}

// extract is extract(field from source) for every source type; the result
// is numeric.
func extract(ctx *EvalContext, field string, d types.Datum, typ *types.Type) (types.Datum, error) {
	unit, err := unitOf(field, typ)
	if err != nil {
		return nil, err
	}
	switch v := d.(type) {
	case types.DTimestamp:
		if !v.IsFinite() {
			return extractInfinite(unit, v.Time.Equal(types.TimestampNegInfinity)), nil
		}
		return extractTime(v.Time, unit, typ, false)
	case types.DTimestampTZ:
		if !v.IsFinite() {
			return extractInfinite(unit, v.Time.Equal(types.TimestampNegInfinity)), nil
		}
		return extractTime(v.Time.In(ctx.location()), unit, typ, false)
	case types.DDate:
		if !v.IsFinite() {
			return extractInfinite(unit, v == types.DateNegInfinity), nil
		}
		return extractTime(v.Time(), unit, typ, true)
	case types.DInterval:
		return extractInterval(v, unit)
	}
	return nil, sqlerr.Internalf("sem: extract from %T", d)
}

// age is timestamp_age: the symbolic difference a - b in years, months,
// days and time, on the wall clocks of a and b.
func age(a, b time.Time) (types.Datum, error) {
	if !finiteTime(a) || !finiteTime(b) {
		return nil, sqlerr.New(sqlerr.CodeDatetimeFieldOverflow, "cannot subtract infinite timestamps")
	}
	neg := a.Before(b)
	y1, m1, d1 := a.Date()
	y2, m2, d2 := b.Date()
	h1, mi1, s1 := a.Clock()
	h2, mi2, s2 := b.Clock()
	fsec := int64(a.Nanosecond()/1000) - int64(b.Nanosecond()/1000)
	sec, min_, hour := s1-s2, mi1-mi2, h1-h2
	mday, mon, year := d1-d2, int(m1)-int(m2), y1-y2
	if neg {
		fsec, sec, min_, hour, mday, mon, year = -fsec, -sec, -min_, -hour, -mday, -mon, -year
	}
	for fsec < 0 {
		fsec += microsPerSecond
		sec--
	}
	for sec < 0 {
		sec += 60
		min_--
	}
	for min_ < 0 {
		min_ += 60
		hour--
	}
	for hour < 0 {
		hour += 24
		mday--
	}
	for mday < 0 {
		if neg {
			mday += daysIn(y1, m1)
		} else {
			mday += daysIn(y2, m2)
		}
		mon--
	}
	for mon < 0 {
		mon += 12
		year--
	}
	if neg {
		fsec, sec, min_, hour, mday, mon, year = -fsec, -sec, -min_, -hour, -mday, -mon, -year
	}
	months := int64(year)*12 + int64(mon)
	if months != int64(int32(months)) {
		return nil, errIntervalRange()
	}
	us := ((int64(hour)*60+int64(min_))*60+int64(sec))*microsPerSecond + fsec
	return types.DInterval{Months: int32(months), Days: int32(mday), Micros: us}, nil
}

func makeDate(y, m, d int64) (types.Datum, error) {
	bad := func() error {
		return sqlerr.Newf(sqlerr.CodeDatetimeFieldOverflow, "date field value out of range: %d-%02d-%02d", y, m, d)
	}
	if y == 0 {
		return nil, bad()
	}
	ay := y
	if y < 0 {
		ay = y + 1 // 1 BC is astronomical year 0
	}
	if m < 1 || m > 12 || d < 1 || ay > 5874897 || ay < -4713 || d > int64(daysIn(int(ay), time.Month(m))) {
		return nil, bad()
	}
	return types.DateFromYMD(int(ay), int(m), int(d)), nil
}

func makeTimestamp(a []types.Datum, loc *time.Location) (time.Time, error) {
	date, err := makeDate(i64(a[0]), i64(a[1]), i64(a[2]))
	if err != nil {
		return time.Time{}, err
	}
	h, mi, sec := i64(a[3]), i64(a[4]), f64(a[5])
	if h < 0 || h > 24 || mi < 0 || mi > 59 || sec < 0 || sec > 60 || math.IsNaN(sec) ||
		(h == 24 && (mi > 0 || sec > 0)) {
		return time.Time{}, sqlerr.Newf(sqlerr.CodeDatetimeFieldOverflow, "time field value out of range: %d:%02d:%02v", h, mi, sec)
	}
	y, m, d := date.(types.DDate).YMD()
	us := int64(math.RoundToEven(sec * 1e6))
	return time.Date(y, time.Month(m), d, int(h), int(mi), 0, 0, loc).Add(time.Duration(us) * time.Microsecond), nil
}

func init() {
	TS, TZ, D, IV, T, F8, N, I4 := types.Timestamp, types.TimestampTZ, types.Date, types.Interval, types.Text, types.Float8, types.Numeric, types.Int4
	nowFn := func(pick func(*EvalContext) time.Time) evalFn {
		return func(ctx *EvalContext, _ []types.Datum) (types.Datum, error) { return makeTSTZ(pick(ctx)) }
	}
	def("now", nil, TZ, nowFn((*EvalContext).txnTime)).vol = Stable
	def("transaction_timestamp", nil, TZ, nowFn((*EvalContext).txnTime)).vol = Stable
	def("current_timestamp", nil, TZ, nowFn((*EvalContext).txnTime)).vol = Stable
	def("statement_timestamp", nil, TZ, nowFn((*EvalContext).stmtTime)).vol = Stable
	def("clock_timestamp", nil, TZ, nowFn((*EvalContext).clock)).vol = Volatile
	def("timeofday", nil, T, func(ctx *EvalContext, _ []types.Datum) (types.Datum, error) {
		return types.DString(ctx.clock().In(ctx.location()).Format("Mon Jan 02 15:04:05.000000 2006 MST")), nil
	}).vol = Volatile

	def("date_trunc", tt(T, TS), TS, func(ctx *EvalContext, a []types.Datum) (types.Datum, error) { return dateTrunc(ctx, a, TS) })
	def("date_trunc", tt(T, TZ), TZ, func(ctx *EvalContext, a []types.Datum) (types.Datum, error) { return dateTrunc(ctx, a, TZ) }).vol = Stable
	def("date_trunc", tt(T, TZ, T), TZ, func(ctx *EvalContext, a []types.Datum) (types.Datum, error) { return dateTrunc(ctx, a, TZ) })
	def("date_trunc", tt(T, IV), IV, func(ctx *EvalContext, a []types.Datum) (types.Datum, error) { return dateTrunc(ctx, a, IV) })

	for _, src := range []*types.Type{TS, TZ, D, IV} {
		src := src
		ex := def("extract", tt(T, src), N, func(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
			return extract(ctx, str(a[0]), a[1], src)
		})
		// date_part on a date works on the date as a timestamp, as
		// PostgreSQL's SQL-language date_part(text, date) does.
		partSrc := src
		if src == D {
			partSrc = TS
		}
		dp := def("date_part", tt(T, src), F8, func(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
			v := a[1]
			if d, ok := v.(types.DDate); ok {
				v = types.DTimestamp{Time: dateToTime(d)}
			}
			r, err := extract(ctx, str(a[0]), v, partSrc)
			if err != nil || r == types.DNull {
				return r, err
			}
			f, _ := r.(*types.DDecimal).Float64()
			return types.DFloat(f), nil
		})
		if src == TZ {
			ex.vol, dp.vol = Stable, Stable
		}
	}
	def("age", tt(TS, TS), IV, func(_ *EvalContext, a []types.Datum) (types.Datum, error) { return age(tsTime(a[0]), tsTime(a[1])) })
	def("age", tt(TZ, TZ), IV, func(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
		loc := ctx.location()
		return age(tsTime(a[0]).In(loc), tsTime(a[1]).In(loc))
	}).vol = Stable
	def("age", tt(TS), IV, func(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
		today, err := truncTime(ctx.txnTime().In(ctx.location()), "day", TS)
		if err != nil {
			return nil, err
		}
		y, m, d := today.Date()
		return age(time.Date(y, m, d, 0, 0, 0, 0, time.UTC), tsTime(a[0]))
	}).vol = Stable
	def("age", tt(TZ), IV, func(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
		loc := ctx.location()
		today, err := truncTime(ctx.txnTime().In(loc), "day", TZ)
		if err != nil {
			return nil, err
		}
		return age(today, tsTime(a[0]).In(loc))
	}).vol = Stable
	def("make_date", tt(I4, I4, I4), D, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return makeDate(i64(a[0]), i64(a[1]), i64(a[2]))
	})
	def("make_timestamp", tt(I4, I4, I4, I4, I4, F8), TS, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		t, err := makeTimestamp(a, time.UTC)
		if err != nil {
			return nil, err
		}
		return makeTS(t)
	})
	def("make_timestamptz", tt(I4, I4, I4, I4, I4, F8), TZ, func(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
		t, err := makeTimestamp(a, ctx.location())
		if err != nil {
			return nil, err
		}
		return makeTSTZ(t)
	}).vol = Stable
	for n := 0; n <= 7; n++ {
		args := make([]*types.Type, n)
		for i := range args {
			args[i] = I4
		}
		if n == 7 {
			args[6] = F8
		}
		def("make_interval", args, IV, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			var f [7]float64
			for i, v := range a {
				if i == 6 {
					f[i] = f64(v)
				} else {
					f[i] = float64(i64(v))
				}
			}
			months := f[0]*12 + f[1]
			days := f[2]*7 + f[3]
			us := math.RoundToEven((f[4]*3600 + f[5]*60 + f[6]) * 1e6)
			if months > math.MaxInt32 || months < math.MinInt32 || days > math.MaxInt32 || days < math.MinInt32 ||
				us >= math.MaxInt64 || us <= math.MinInt64 {
				return nil, errIntervalRange()
			}
			return types.DInterval{Months: int32(months), Days: int32(days), Micros: int64(us)}, nil
		})
	}
	def("to_timestamp", tt(F8), TZ, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		f := f64(a[0])
		switch {
		case math.IsNaN(f):
			return nil, sqlerr.New(sqlerr.CodeDatetimeFieldOverflow, "timestamp cannot be NaN")
		case math.IsInf(f, 1):
			return types.DTimestampTZ{Time: types.TimestampInfinity}, nil
		case math.IsInf(f, -1):
			return types.DTimestampTZ{Time: types.TimestampNegInfinity}, nil
		case math.Abs(f) > 9.2e12:
			return nil, errTimestampRange()
		}
		us := int64(math.RoundToEven(f * 1e6))
		return makeTSTZ(time.Unix(0, 0).Add(time.Duration(us/microsPerSecond) * time.Second).Add(time.Duration(us%microsPerSecond) * time.Microsecond))
	})
	def("justify_days", tt(IV), IV, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return justifyDays(a[0].(types.DInterval)), nil
	})
	def("justify_hours", tt(IV), IV, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return justifyHours(a[0].(types.DInterval)), nil
	})
	def("justify_interval", tt(IV), IV, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return justifyDays(justifyHours(a[0].(types.DInterval))), nil
	})
	def("isfinite", tt(D), types.Bool, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return types.MakeDBool(a[0].(types.DDate).IsFinite()), nil
	})
	def("isfinite", tt(TS), types.Bool, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return types.MakeDBool(finiteTime(tsTime(a[0]))), nil
	})
	def("isfinite", tt(TZ), types.Bool, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return types.MakeDBool(finiteTime(tsTime(a[0]))), nil
	})
	def("isfinite", tt(IV), types.Bool, func(_ *EvalContext, a []types.Datum) (types.Datum, error) { return types.DTrue, nil })
	def("to_char", tt(TS, T), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return toCharTime(a[0].(types.DTimestamp).Time, str(a[1]), false)
	})
	def("to_char", tt(TZ, T), T, func(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
		t := a[0].(types.DTimestampTZ).Time
		if finiteTime(t) {
			t = t.In(ctx.location())
		}
		return toCharTime(t, str(a[1]), true)
	}).vol = Stable
	def("to_char", tt(IV, T), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return toCharInterval(a[0].(types.DInterval), str(a[1]))
	})
	for _, t := range []*types.Type{types.Int4, types.Int8, N, F8} {
		def("to_char", tt(t, T), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			return toCharNumber(a[0], str(a[1]))
		})
	}
}
