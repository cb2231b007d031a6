package types

import (
	"math"
	"strconv"
	"strings"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
)

const (
	microsPerSecond = 1e6
	microsPerMinute = 60 * microsPerSecond
	microsPerHour   = 60 * microsPerMinute
	daysPerMonth    = 30
)

func errIntervalRange() error {
	return sqlerr.New(sqlerr.CodeDatetimeFieldOverflow, "interval out of range")
}

// appendInterval prints an interval in PostgreSQL's default "postgres"
// IntervalStyle: "1 year 2 mons 3 days 04:05:06", "-1 days +02:03:00",
// "00:00:00" for zero. Years and months come from Months, the time from
// Micros (hours are not carried into days).
func appendInterval(buf []byte, d DInterval) []byte {
	years, months := int64(d.Months)/12, int64(d.Months)%12
	isZero, isBefore := true, false
	part := func(v int64, unit string) {
		if v == 0 {
			return
		}
		if !isZero {
			buf = append(buf, ' ')
		}
		if isBefore && v > 0 {
			buf = append(buf, '+')
		}
		buf = strconv.AppendInt(buf, v, 10)
		buf = append(buf, ' ')
		buf = append(buf, unit...)
		if v != 1 {
			buf = append(buf, 's')
		}
		isBefore = v < 0
		isZero = false
	}
	part(years, "year")
	part(months, "mon")
	part(int64(d.Days), "day")
	us := d.Micros
	if isZero || us != 0 {
		if !isZero {
			buf = append(buf, ' ')
		}
		neg := us < 0
		switch {
		case neg:
			buf = append(buf, '-')
		case isBefore:
			buf = append(buf, '+')
		}
		// -us overflows for MinInt64; work in uint64.
		mag := uint64(us)
		if neg {
			mag = -mag
		}
		h := mag / microsPerHour
		mag -= h * microsPerHour
		mi := mag / microsPerMinute
		mag -= mi * microsPerMinute
		if h < 10 {
			buf = append(buf, '0')
		}
		buf = strconv.AppendUint(buf, h, 10)
		buf = append(buf, ':')
		buf = appendPadded(buf, int(mi), 2)
		buf = append(buf, ':')
		buf = appendPadded(buf, int(mag/microsPerSecond), 2)
		if f := mag % microsPerSecond; f != 0 {
			tail := appendClock(nil, 0, 0, 0, int64(f))
			buf = append(buf, tail[8:]...)
		}
	}
	return buf
}

// intervalAcc accumulates the fields of an interval being parsed, with
// overflow checks.
type intervalAcc struct {
	months, days, micros int64
	overflow             bool
}

func (a *intervalAcc) add(p *int64, v int64) {
	s := *p + v
	if (v > 0 && s < *p) || (v < 0 && s > *p) {
		a.overflow = true
	}
	*p = s
}

func (a *intervalAcc) mulAdd(p *int64, v, scale int64) {
	if v != 0 && (v > math.MaxInt64/scale || v < math.MinInt64/scale) {
		a.overflow = true
		return
	}
	a.add(p, v*scale)
}

func (a *intervalAcc) addFloat(p *int64, f float64) {
	r := math.RoundToEven(f)
	if r >= math.MaxInt64 || r <= math.MinInt64 || math.IsNaN(r) {
		a.overflow = true
		return
	}
	a.add(p, int64(r))
}

// addFractDays adds frac days: whole days, and the rest as microseconds.
func (a *intervalAcc) addFractDays(frac float64) {
	whole := math.Trunc(frac)
	a.add(&a.days, int64(whole))
	a.addFloat(&a.micros, (frac-whole)*microsPerDay)
}

// addUnit adds value (its integer part v and fraction frac of the same
// sign) of unit, as PostgreSQL's DecodeInterval: fractions of years go to
// whole months, of months and weeks to days and then time, of days to
// time.
func (a *intervalAcc) addUnit(unit string, v int64, frac float64) {
	switch unit {
	case "microsecond":
		a.add(&a.micros, v)
		a.addFloat(&a.micros, frac)
	case "millisecond":
		a.mulAdd(&a.micros, v, 1000)
		a.addFloat(&a.micros, frac*1000)
	case "second":
		a.mulAdd(&a.micros, v, microsPerSecond)
		a.addFloat(&a.micros, frac*microsPerSecond)
	case "minute":
		a.mulAdd(&a.micros, v, microsPerMinute)
		a.addFloat(&a.micros, frac*microsPerMinute)
	case "hour":
		a.mulAdd(&a.micros, v, microsPerHour)
		a.addFloat(&a.micros, frac*microsPerHour)
	case "day":
		a.add(&a.days, v)
		a.addFloat(&a.micros, frac*microsPerDay)
	case "week":
		a.mulAdd(&a.days, v, 7)
		a.addFractDays(frac * 7)
	case "month":
		a.add(&a.months, v)
		a.addFractDays(frac * daysPerMonth)
	case "year", "decade", "century", "millennium":
		n := map[string]int64{"year": 1, "decade": 10, "century": 100, "millennium": 1000}[unit]
		a.mulAdd(&a.months, v, 12*n)
		a.addFloat(&a.months, frac*float64(12*n))
	}
}

func (a *intervalAcc) result() (DInterval, error) {
	if a.overflow || a.months > math.MaxInt32 || a.months < math.MinInt32 ||
		a.days > math.MaxInt32 || a.days < math.MinInt32 {
		return DInterval{}, errIntervalRange()
	}
	return DInterval{Months: int32(a.months), Days: int32(a.days), Micros: a.micros}, nil
}

// intervalUnits maps the unit names and abbreviations PostgreSQL accepts
// to canonical units.
var intervalUnits = map[string]string{}

func init() {
	for unit, names := range map[string][]string{
		"microsecond": {"microsecond", "microseconds", "microsecon", "us", "usec", "usecs", "useconds"},
		"millisecond": {"millisecond", "milliseconds", "millisecon", "ms", "msec", "msecs", "mseconds"},
		"second":      {"second", "seconds", "s", "sec", "secs"},
		"minute":      {"minute", "minutes", "m", "min", "mins"},
		"hour":        {"hour", "hours", "h", "hr", "hrs"},
		"day":         {"day", "days", "d"},
		"week":        {"week", "weeks", "w"},
		"month":       {"month", "months", "mon", "mons"},
		"year":        {"year", "years", "y", "yr", "yrs"},
		"decade":      {"decade", "decades", "dec", "decs"},
		"century":     {"century", "centuries", "c", "cent"},
		"millennium":  {"millennium", "millennia", "mil", "mils"},
	} {
		for _, n := range names {
			intervalUnits[n] = unit
		}
	}
}

// splitNumber splits a decimal number token into its integer part and its
// fraction, both carrying the sign; ok is false if tok is not a number.
func splitNumber(tok string) (v int64, frac float64, ok bool) {
	neg := false
	body := tok
	if body != "" && (body[0] == '+' || body[0] == '-') {
		neg = body[0] == '-'
		body = body[1:]
	}
	intPart, fracPart, hasPoint := strings.Cut(body, ".")
	if intPart == "" && (!hasPoint || fracPart == "") || !allDigits(intPart) || !allDigits(fracPart) {
		return 0, 0, false
	}
	if intPart != "" {
		n, err := strconv.ParseInt(intPart, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		v = n
	}
	if fracPart != "" {
		f, err := strconv.ParseFloat("0."+fracPart, 64)
		if err != nil {
			return 0, 0, false
		}
		frac = f
	}
	if neg {
		v, frac = -v, -frac
	}
	return v, frac, true
}

// tokenizeInterval splits interval input at spaces and between a number
// and the unit that follows it ("1day" → "1", "day").
func tokenizeInterval(s string) []string {
	var toks []string
	for _, f := range strings.Fields(s) {
		for f != "" {
			i := 0
			if f[0] == '+' || f[0] == '-' {
				i = 1
			}
			for i < len(f) && (isDigit(f[i]) || f[i] == '.' || f[i] == ':' || f[i] == '-' && i > 0) {
				i++
			}
			if i == 0 || i == 1 && (f[0] == '+' || f[0] == '-') {
				// A word: up to the next sign or digit.
				for i < len(f) && !isDigit(f[i]) && f[i] != '+' && f[i] != '-' {
					i++
				}
				if i == 0 {
					i = 1
				}
			}
			toks = append(toks, f[:i])
			f = f[i:]
		}
	}
	return toks
}

// parseInterval reads interval input in PostgreSQL's forms ("1 year 2 mons
// 3 days 04:05:06", "-1 days +02:03:00", "@ 1 minute ago", "1.5 hours",
// "10:00", "1 12:00", SQL standard "1-2" year-month, a bare number of
// seconds) and ISO 8601's designator form ("P1Y2M3DT4H5M6.5S", "PT1H").
func parseInterval(orig string) (Datum, error) {
	s := asciiLower(strings.TrimSpace(orig))
	syntax := func() (Datum, error) {
		return nil, errDatetimeSyntax("interval", orig)
	}
	if s == "" {
		return syntax()
	}
	var a intervalAcc
	if s[0] == 'p' || (len(s) > 1 && s[0] == '-' && s[1] == 'p') {
		if !parseISOInterval(s, &a) {
			return syntax()
		}
		d, err := a.result()
		if err != nil {
			return nil, err
		}
		return d, nil
	}
	s = strings.TrimPrefix(s, "@")
	toks := tokenizeInterval(s)
	ago := false
	if n := len(toks); n > 0 && toks[n-1] == "ago" {
		ago, toks = true, toks[:n-1]
	}
	if len(toks) == 0 {
		return syntax()
	}
	for i := 0; i < len(toks); i++ {
		tok := toks[i]
		switch {
		case strings.Contains(tok, ":"):
			if !addClock(tok, &a) {
				return syntax()
			}
		case isYearMonth(tok):
			neg := tok[0] == '-'
			y, m, _ := strings.Cut(strings.TrimLeft(tok, "+-"), "-")
			yv, err1 := strconv.ParseInt(y, 10, 64)
			mv, err2 := strconv.ParseInt(m, 10, 64)
			if err1 != nil || err2 != nil || mv > 11 {
				return nil, errFieldRange(orig)
			}
			if neg {
				yv, mv = -yv, -mv
			}
			a.mulAdd(&a.months, yv, 12)
			a.add(&a.months, mv)
		default:
			v, frac, ok := splitNumber(tok)
			if !ok {
				return syntax()
			}
			var next string
			if i+1 < len(toks) {
				next = toks[i+1]
			}
			if unit, ok := intervalUnits[next]; ok {
				a.addUnit(unit, v, frac)
				i++
				continue
			}
			switch {
			case next == "":
				// A trailing bare number is seconds.
				a.addUnit("second", v, frac)
			case strings.Contains(next, ":") && frac == 0:
				// "1 12:00:00": days then time, as in SQL's day-time
				// literals.
				a.add(&a.days, v)
			default:
				return syntax()
			}
		}
	}
	if ago {
		a.months, a.days, a.micros = -a.months, -a.days, -a.micros
	}
	d, err := a.result()
	if err != nil {
		return nil, err
	}
	return d, nil
}

func isYearMonth(tok string) bool {
	t := strings.TrimLeft(tok, "+-")
	y, m, ok := strings.Cut(t, "-")
	return ok && y != "" && m != "" && allDigits(y) && allDigits(m) && len(t) <= 40
}

// addClock adds a "[-]h:mm[:ss[.frac]]" token.
func addClock(tok string, a *intervalAcc) bool {
	neg := false
	if tok[0] == '+' || tok[0] == '-' {
		neg = tok[0] == '-'
		tok = tok[1:]
	}
	parts := strings.Split(tok, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return false
	}
	var sec string
	if len(parts) == 3 {
		sec = parts[2]
	}
	h, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || !allDigits(parts[0]) || !allDigits(parts[1]) || parts[1] == "" {
		return false
	}
	m, _ := strconv.ParseInt(parts[1], 10, 64)
	if m > 59 {
		return false
	}
	var us int64
	if sec != "" {
		whole, frac, hasFrac := strings.Cut(sec, ".")
		if !allDigits(whole) || !allDigits(frac) || whole == "" || hasFrac && frac == "" {
			return false
		}
		sv, _ := strconv.ParseInt(whole, 10, 64)
		if sv > 60 {
			return false
		}
		us = sv * microsPerSecond
		if frac != "" {
			us += fractionMicros(frac)
		}
	}
	sign := int64(1)
	if neg {
		sign = -1
	}
	a.mulAdd(&a.micros, sign*h, microsPerHour)
	a.mulAdd(&a.micros, sign*m, microsPerMinute)
	a.add(&a.micros, sign*us)
	return true
}

// parseISOInterval reads "P[nY][nM][nW][nD][T[nH][nM][nS]]", numbers with
// optional sign and fraction, and a leading "-" negating the whole.
func parseISOInterval(s string, a *intervalAcc) bool {
	neg := false
	if s[0] == '-' {
		neg, s = true, s[1:]
	}
	s = s[1:] // 'p'
	if s == "" {
		return false
	}
	timePart := false
	for s != "" {
		if s[0] == 't' {
			if timePart {
				return false
			}
			timePart = true
			s = s[1:]
			if s == "" {
				return false
			}
			continue
		}
		i := 0
		if s[0] == '+' || s[0] == '-' {
			i = 1
		}
		for i < len(s) && (isDigit(s[i]) || s[i] == '.') {
			i++
		}
		if i >= len(s) {
			return false
		}
		v, frac, ok := splitNumber(s[:i])
		if !ok {
			return false
		}
		var unit string
		switch c := s[i]; {
		case !timePart && c == 'y':
			unit = "year"
		case !timePart && c == 'm':
			unit = "month"
		case !timePart && c == 'w':
			unit = "week"
		case !timePart && c == 'd':
			unit = "day"
		case timePart && c == 'h':
			unit = "hour"
		case timePart && c == 'm':
			unit = "minute"
		case timePart && c == 's':
			unit = "second"
		default:
			return false
		}
		a.addUnit(unit, v, frac)
		s = s[i+1:]
	}
	if neg {
		a.months, a.days, a.micros = -a.months, -a.days, -a.micros
	}
	return true
}

// intervalKey returns the interval's length with a month of 30 days and a
// day of 24 hours (PostgreSQL's interval_cmp_value) as whole days and
// microseconds in [0, 1 day): '1 mon' and '30 days' and '720:00:00' have
// the same key. The days cannot overflow: |months*30 + days| < 2^37.
func intervalKey(d DInterval) (days, micros int64) {
	days = int64(d.Months)*daysPerMonth + int64(d.Days) + d.Micros/microsPerDay
	micros = d.Micros % microsPerDay
	if micros < 0 {
		micros += microsPerDay
		days--
	}
	return days, micros
}

// compareInterval orders intervals by their length (see intervalKey).
func compareInterval(a, b DInterval) int {
	ad, au := intervalKey(a)
	bd, bu := intervalKey(b)
	if ad != bd {
		return cmpInt(ad, bd)
	}
	return cmpInt(au, bu)
}
