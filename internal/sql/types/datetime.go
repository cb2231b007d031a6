package types

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
)

// PostgreSQL's ranges: dates from 4714-11-24 BC (Julian day 0) to
// 5874897-12-31, timestamps from 4714-11-24 00:00 BC to 294276-12-31
// 23:59:59.999999.
const (
	minDateDays   = -2451545   // 4714-11-24 BC
	endDateDays   = 2145031949 // 5874898-01-01, exclusive
	minTimestamp  = -211813488000000000
	endTimestamp  = 9223371331200000000 // 294277-01-01, exclusive
	unixEpochDays = 10957               // 2000-01-01 - 1970-01-01
	secondsPerDay = 86400
	microsPerDay  = secondsPerDay * 1e6
)

// DateFromYMD returns the date year-month-day, year astronomical (0 is 1
// BC). The fields must be valid.
func DateFromYMD(year, month, day int) DDate {
	return DDate(time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC).Unix()/secondsPerDay - unixEpochDays)
}

// YMD returns the astronomical year (0 is 1 BC), month and day of a finite
// date.
func (d DDate) YMD() (year, month, day int) {
	y, m, dd := d.Time().Date()
	return y, int(m), dd
}

// Time returns midnight UTC of a finite date.
func (d DDate) Time() time.Time {
	return time.Unix((int64(d)+unixEpochDays)*secondsPerDay, 0).UTC()
}

// IsFinite reports whether d is not an infinity.
func (d DDate) IsFinite() bool { return d != DateInfinity && d != DateNegInfinity }

// DateFromTime returns the date of t's wall clock (in t's location); 22008
// if out of range.
func DateFromTime(t time.Time) (DDate, error) {
	y, m, dd := t.Date()
	days := time.Date(y, m, dd, 0, 0, 0, 0, time.UTC).Unix()/secondsPerDay - unixEpochDays
	if days < minDateDays || days >= endDateDays {
		return 0, sqlerr.New(sqlerr.CodeDatetimeFieldOverflow, "date out of range")
	}
	return DDate(days), nil
}

// MakeDTimestamp returns the timestamp with t's wall clock (in t's
// location), rounded to the microsecond; 22008 if out of range.
func MakeDTimestamp(t time.Time) (DTimestamp, error) {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	w, err := checkTimestamp(time.Date(y, mo, d, h, mi, s, t.Nanosecond(), time.UTC))
	return DTimestamp{w}, err
}

// MakeDTimestampTZ returns the instant t rounded to the microsecond; 22008
// if out of range.
func MakeDTimestampTZ(t time.Time) (DTimestampTZ, error) {
	w, err := checkTimestamp(t.UTC())
	return DTimestampTZ{w}, err
}

func checkTimestamp(t time.Time) (time.Time, error) {
	t = t.Round(time.Microsecond)
	if t.Equal(TimestampInfinity) || t.Equal(TimestampNegInfinity) {
		return t, nil
	}
	if us, ok := pgMicrosChecked(t); !ok || us < minTimestamp || us >= endTimestamp {
		return time.Time{}, sqlerr.New(sqlerr.CodeDatetimeFieldOverflow, "timestamp out of range")
	}
	return t, nil
}

// pgMicrosChecked is pgMicros for any time, reporting overflow.
func pgMicrosChecked(t time.Time) (int64, bool) {
	sec := t.Unix() - pgEpochUnix
	if sec > math.MaxInt64/1_000_000-1 || sec < math.MinInt64/1_000_000+1 {
		return 0, false
	}
	return sec*1e6 + int64(t.Nanosecond()/1000), true
}

// IsFinite reports whether the timestamp is not an infinity.
func (d DTimestamp) IsFinite() bool { return isFiniteTime(d.Time) }

// IsFinite reports whether the timestamp is not an infinity.
func (d DTimestampTZ) IsFinite() bool { return isFiniteTime(d.Time) }

func isFiniteTime(t time.Time) bool {
	return !t.Equal(TimestampInfinity) && !t.Equal(TimestampNegInfinity)
}

func appendYear(buf []byte, y int) ([]byte, bool) {
	bc := y <= 0
	if bc {
		y = 1 - y
	}
	return appendPadded(buf, y, 4), bc
}

func appendPadded(buf []byte, v, width int) []byte {
	var scratch [20]byte
	s := strconv.AppendInt(scratch[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		buf = append(buf, '0')
	}
	return append(buf, s...)
}

// appendDate prints ISO "2024-01-02", "0044-03-15 BC", "infinity".
func appendDate(buf []byte, d DDate) []byte {
	switch d {
	case DateInfinity:
		return append(buf, "infinity"...)
	case DateNegInfinity:
		return append(buf, "-infinity"...)
	}
	y, m, dd := d.YMD()
	buf, bc := appendYear(buf, y)
	buf = append(buf, '-')
	buf = appendPadded(buf, m, 2)
	buf = append(buf, '-')
	buf = appendPadded(buf, dd, 2)
	if bc {
		buf = append(buf, " BC"...)
	}
	return buf
}

// appendTimestamp prints "2024-01-02 03:04:05.123456" with the fraction's
// trailing zeros dropped; with loc, the time is shown in loc followed by
// its UTC offset ("+00", "+05:30", "-03:00:00" style as PostgreSQL:
// minutes and seconds only when not zero). BC dates end in " BC".
func appendTimestamp(buf []byte, t time.Time, loc *time.Location) []byte {
	if t.Equal(TimestampInfinity) {
		return append(buf, "infinity"...)
	}
	if t.Equal(TimestampNegInfinity) {
		return append(buf, "-infinity"...)
	}
	if loc != nil {
		t = t.In(loc)
	}
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	buf, bc := appendYear(buf, y)
	buf = append(buf, '-')
	buf = appendPadded(buf, int(mo), 2)
	buf = append(buf, '-')
	buf = appendPadded(buf, d, 2)
	buf = append(buf, ' ')
	buf = appendClock(buf, int64(h), int64(mi), int64(s), int64(t.Nanosecond()/1000))
	if loc != nil {
		_, off := t.Zone()
		buf = appendOffset(buf, off)
	}
	if bc {
		buf = append(buf, " BC"...)
	}
	return buf
}

// appendClock prints hh:mm:ss[.ffffff] (hours may exceed 24 and take more
// digits, for intervals).
func appendClock(buf []byte, h, mi, s, us int64) []byte {
	buf = appendPadded(buf, int(h), 2)
	buf = append(buf, ':')
	buf = appendPadded(buf, int(mi), 2)
	buf = append(buf, ':')
	buf = appendPadded(buf, int(s), 2)
	if us != 0 {
		var frac [7]byte
		frac[0] = '.'
		for i := 6; i >= 1; i-- {
			frac[i] = byte('0' + us%10)
			us /= 10
		}
		n := 7
		for frac[n-1] == '0' {
			n--
		}
		buf = append(buf, frac[:n]...)
	}
	return buf
}

func appendOffset(buf []byte, off int) []byte {
	if off < 0 {
		buf = append(buf, '-')
		off = -off
	} else {
		buf = append(buf, '+')
	}
	buf = appendPadded(buf, off/3600, 2)
	if off%3600 != 0 {
		buf = append(buf, ':')
		buf = appendPadded(buf, off/60%60, 2)
		if off%60 != 0 {
			buf = append(buf, ':')
			buf = appendPadded(buf, off%60, 2)
		}
	}
	return buf
}

// dateTime is a parsed date/time input.
type dateTime struct {
	year, month, day int // year as written: 1 or more, with bc
	bc               bool
	hasTime          bool
	hour, min, sec   int
	micros           int64 // fraction of sec; 1e6 after rounding up
	hasZone          bool
	offset           int            // seconds east of UTC, when loc is nil
	loc              *time.Location // a named zone
}

func errDatetimeSyntax(typeName, s string) error {
	return sqlerr.Newf(sqlerr.CodeInvalidDatetimeFormat, "invalid input syntax for type %s: %q", typeName, s)
}

func errFieldRange(s string) error {
	return sqlerr.Newf(sqlerr.CodeDatetimeFieldOverflow, "date/time field value out of range: %q", s)
}

// dtScanner reads date/time input.
type dtScanner struct {
	s   string // input, trimmed
	low string // lower-cased s
	i   int
}

func (p *dtScanner) eof() bool { return p.i >= len(p.s) }

func (p *dtScanner) peek() byte {
	if p.eof() {
		return 0
	}
	return p.low[p.i]
}

func (p *dtScanner) digits() string {
	j := p.i
	for j < len(p.s) && isDigit(p.s[j]) {
		j++
	}
	d := p.s[p.i:j]
	p.i = j
	return d
}

func (p *dtScanner) spaces() bool {
	j := p.i
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
	return p.i > j
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
		if n > 1e9 {
			return 1e9
		}
	}
	return n
}

// parseDateTime reads the ISO 8601 and PostgreSQL ISO forms of a date and
// optional time: "2024-01-02", "20240102", "2024-01-02 03:04:05.123456",
// "2024-01-02T03:04:05Z", with a zone "+05", "-08:00", "+0530", "Z",
// "UTC", or an IANA name "Europe/Paris", and a trailing "BC"/"AD".
func parseDateTime(orig, typeName string) (dateTime, error) {
	var f dateTime
	s := strings.TrimSpace(orig)
	p := &dtScanner{s: s, low: asciiLower(s)}
	syntax := func() (dateTime, error) { return dateTime{}, errDatetimeSyntax(typeName, orig) }

	y := p.digits()
	switch {
	case len(y) == 8 && p.peek() != '-' && p.peek() != '/':
		f.year, f.month, f.day = atoi(y[:4]), atoi(y[4:6]), atoi(y[6:])
	case len(y) >= 3 && (p.peek() == '-' || p.peek() == '/'):
		sep := p.s[p.i]
		p.i++
		m := p.digits()
		if len(m) < 1 || len(m) > 2 || p.peek() != sep {
			return syntax()
		}
		p.i++
		d := p.digits()
		if len(d) < 1 || len(d) > 2 {
			return syntax()
		}
		f.year, f.month, f.day = atoi(y), atoi(m), atoi(d)
	default:
		return syntax()
	}

	// Time, after 'T' or spaces.
	if c := p.peek(); c == 't' && p.i+1 < len(p.s) && isDigit(p.s[p.i+1]) {
		p.i++
		if !p.time(&f) {
			return syntax()
		}
	} else {
		mark := p.i
		if p.spaces() && isDigit(p.peek()) {
			if !p.time(&f) {
				return syntax()
			}
		} else {
			p.i = mark
		}
	}
	// Zone and era, in either order after optional spaces.
	for !p.eof() {
		p.spaces()
		if p.eof() {
			break
		}
		switch c := p.peek(); {
		case (c == '+' || c == '-') && !f.hasZone:
			off, ok := p.offset()
			if !ok {
				return syntax()
			}
			if off > 15*3600+59*60+59 || off < -(15*3600+59*60+59) {
				return dateTime{}, sqlerr.Newf(sqlerr.CodeInvalidTimeZoneDisplacement, "time zone displacement out of range: %q", orig)
			}
			f.hasZone, f.offset = true, off
		case c >= 'a' && c <= 'z':
			j := p.i
			for j < len(p.s) && p.s[j] != ' ' && p.s[j] != '\t' && (p.s[j] != '+' && p.s[j] != '-' || strings.IndexByte(p.s[p.i:j], '/') >= 0) {
				j++
			}
			word, low := p.s[p.i:j], p.low[p.i:j]
			p.i = j
			switch {
			case low == "bc":
				f.bc = true
			case low == "ad":
			case f.hasZone:
				return syntax()
			case low == "z" || low == "utc" || low == "gmt" || low == "zulu" || low == "ut":
				f.hasZone = true
			default:
				// A word with a slash can only be a zone name; another
				// unknown word is a syntax error, as in PostgreSQL.
				loc, err := time.LoadLocation(word)
				if err != nil || word == "Local" {
					if strings.IndexByte(word, '/') >= 0 {
						return dateTime{}, sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "time zone %q not recognized", word)
					}
					return syntax()
				}
				f.hasZone, f.loc = true, loc
			}
		default:
			return syntax()
		}
	}
	if err := f.validate(orig); err != nil {
		return dateTime{}, err
	}
	return f, nil
}

// time reads h[h]:mm[:ss[.fraction]].
func (p *dtScanner) time(f *dateTime) bool {
	h := p.digits()
	if len(h) < 1 || len(h) > 2 || p.peek() != ':' {
		return false
	}
	p.i++
	m := p.digits()
	if len(m) != 2 {
		return false
	}
	f.hasTime = true
	f.hour, f.min = atoi(h), atoi(m)
	if p.peek() != ':' {
		return true
	}
	p.i++
	s := p.digits()
	if len(s) != 2 {
		return false
	}
	f.sec = atoi(s)
	if p.peek() == '.' {
		p.i++
		frac := p.digits()
		if frac == "" {
			return false
		}
		f.micros = fractionMicros(frac)
	}
	return true
}

// fractionMicros converts the digits after a decimal point into
// microseconds, rounding half to even as PostgreSQL's rint does.
func fractionMicros(frac string) int64 {
	var us int64
	for i := 0; i < 6; i++ {
		us *= 10
		if i < len(frac) {
			us += int64(frac[i] - '0')
		}
	}
	if len(frac) > 6 {
		rest := frac[6:]
		switch {
		case rest[0] > '5', rest[0] == '5' && strings.Trim(rest[1:], "0") != "":
			us++
		case rest[0] == '5' && us%2 == 1:
			us++
		}
	}
	return us
}

// offset reads a UTC offset: +h, +hh, +hh:mm, +hhmm, +hh:mm:ss, +hhmmss.
func (p *dtScanner) offset() (int, bool) {
	sign := 1
	if p.s[p.i] == '-' {
		sign = -1
	}
	p.i++
	d := p.digits()
	var h, m, s int
	switch len(d) {
	case 1, 2:
		h = atoi(d)
		if p.peek() == ':' {
			p.i++
			mm := p.digits()
			if len(mm) != 2 {
				return 0, false
			}
			m = atoi(mm)
			if p.peek() == ':' {
				p.i++
				ss := p.digits()
				if len(ss) != 2 {
					return 0, false
				}
				s = atoi(ss)
			}
		}
	case 4:
		h, m = atoi(d[:2]), atoi(d[2:])
	case 6:
		h, m, s = atoi(d[:2]), atoi(d[2:4]), atoi(d[4:])
	default:
		return 0, false
	}
	if m > 59 || s > 59 {
		return 0, false
	}
	return sign * (h*3600 + m*60 + s), true
}

func (f *dateTime) validate(orig string) error {
	if f.year < 1 || f.month < 1 || f.month > 12 || f.day < 1 {
		return errFieldRange(orig)
	}
	y := f.astroYear()
	if f.day > daysIn(y, f.month) {
		return errFieldRange(orig)
	}
	if f.hour > 24 || f.min > 59 || f.sec > 60 ||
		f.hour == 24 && (f.min > 0 || f.sec > 0 || f.micros > 0) {
		return errFieldRange(orig)
	}
	return nil
}

func (f *dateTime) astroYear() int {
	if f.bc {
		return 1 - f.year
	}
	return f.year
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// wall returns the fields as a time.Time in loc.
func (f *dateTime) wall(loc *time.Location) time.Time {
	t := time.Date(f.astroYear(), time.Month(f.month), f.day, f.hour, f.min, f.sec, 0, loc)
	return t.Add(time.Duration(f.micros) * time.Microsecond)
}

// special returns the special input values PostgreSQL accepts for dates
// and timestamps ("epoch", "infinity", "-infinity", "now", "today",
// "tomorrow", "yesterday") as a time.Time, with isSpecial false for other
// input. For "now" and the days, the time is in the session's zone.
func special(s string, set *Settings) (t time.Time, isSpecial bool) {
	switch asciiLower(strings.TrimSpace(s)) {
	case "epoch":
		return time.Unix(0, 0).UTC(), true
	case "infinity", "+infinity":
		return TimestampInfinity, true
	case "-infinity":
		return TimestampNegInfinity, true
	case "now":
		return set.now().In(set.location()), true
	case "today":
		return midnight(set.now().In(set.location()), 0), true
	case "tomorrow":
		return midnight(set.now().In(set.location()), 1), true
	case "yesterday":
		return midnight(set.now().In(set.location()), -1), true
	}
	return time.Time{}, false
}

func midnight(t time.Time, addDays int) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d+addDays, 0, 0, 0, 0, t.Location())
}

// parseDate parses date input; a time part is read and ignored, as
// PostgreSQL's date_in does.
func parseDate(s string, set *Settings) (Datum, error) {
	if t, ok := special(s, set); ok {
		switch {
		case t.Equal(TimestampInfinity):
			return DateInfinity, nil
		case t.Equal(TimestampNegInfinity):
			return DateNegInfinity, nil
		}
		return DateFromTime(t)
	}
	f, err := parseDateTime(s, "date")
	if err != nil {
		return nil, err
	}
	d, err := DateFromTime(time.Date(f.astroYear(), time.Month(f.month), f.day, 0, 0, 0, 0, time.UTC))
	if err != nil {
		return nil, sqlerr.Newf(sqlerr.CodeDatetimeFieldOverflow, "date out of range: %q", s)
	}
	return d, nil
}

// parseTimestamp parses timestamp (tz false) or timestamptz input. A
// timestamp ignores a zone in its input, as PostgreSQL does; a timestamptz
// without one is read in the session's zone.
func parseTimestamp(s string, tz bool, set *Settings) (Datum, error) {
	typeName := "timestamp without time zone"
	if tz {
		typeName = "timestamp with time zone"
	}
	var t time.Time
	if sp, ok := special(s, set); ok {
		t = sp
		if !tz && isFiniteTime(t) {
			// The wall clock of the session's zone.
			y, mo, d := t.Date()
			h, mi, sec := t.Clock()
			t = time.Date(y, mo, d, h, mi, sec, t.Nanosecond(), time.UTC)
		}
	} else {
		f, err := parseDateTime(s, typeName)
		if err != nil {
			return nil, err
		}
		switch {
		case !tz:
			t = f.wall(time.UTC)
		case f.loc != nil:
			t = f.wall(f.loc)
		case f.hasZone:
			t = f.wall(time.UTC).Add(-time.Duration(f.offset) * time.Second)
		default:
			t = f.wall(set.location())
		}
	}
	w, err := checkTimestamp(t.UTC())
	if err != nil {
		return nil, sqlerr.Newf(sqlerr.CodeDatetimeFieldOverflow, "timestamp out of range: %q", s)
	}
	if tz {
		return DTimestampTZ{w}, nil
	}
	return DTimestamp{w}, nil
}

// roundMicros rounds microseconds since 2000 to precision fractional
// digits, half away from zero, as PostgreSQL's AdjustTimestampForTypmod.
func roundMicros(us int64, precision int32) int64 {
	if precision < 0 || precision >= MaxTimestampPrec {
		return us
	}
	scale := int64(math.Pow10(int(MaxTimestampPrec - precision)))
	if us >= 0 {
		return (us + scale/2) / scale * scale
	}
	return -((-us + scale/2) / scale * scale)
}

// applyTimestampTypmod rounds a timestamp to TIMESTAMP(p).
func applyTimestampTypmod(d Datum, t *Type) (Datum, error) {
	if t.precision < 0 || t.precision >= MaxTimestampPrec {
		return d, nil
	}
	switch v := d.(type) {
	case DTimestamp:
		if !v.IsFinite() {
			return d, nil
		}
		w, err := checkTimestamp(timeFromPGMicros(roundMicros(pgMicros(v.Time), t.precision)))
		return DTimestamp{w}, err
	case DTimestampTZ:
		if !v.IsFinite() {
			return d, nil
		}
		w, err := checkTimestamp(timeFromPGMicros(roundMicros(pgMicros(v.Time), t.precision)))
		return DTimestampTZ{w}, err
	}
	return d, nil
}
