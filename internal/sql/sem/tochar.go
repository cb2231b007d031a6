package sem

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// to_char for dates, times and intervals: PostgreSQL's template patterns
// (YYYY, MM, DD, HH24, MI, SS, MS, US, Month, Day, AM, TZ, ...) with the FM
// and TH modifiers. The numeric templates are at toCharNumber.

type tmVals struct {
	year, month, day, hour, min, sec int
	us                               int64
	yday, wday                       int // wday: Sunday = 0
	isoYear, isoWeek                 int
	zone                             string
	offset                           int
	hasTZ, interval                  bool
}

func tmOfTime(t time.Time, tz bool) tmVals {
	y, m, d := t.Date()
	hh, mi, ss := t.Clock()
	iy, iw := t.ISOWeek()
	zone, off := t.Zone()
	return tmVals{year: y, month: int(m), day: d, hour: hh, min: mi, sec: ss, us: int64(t.Nanosecond() / 1000),
		yday: t.YearDay(), wday: int(t.Weekday()), isoYear: iy, isoWeek: iw, zone: zone, offset: off, hasTZ: tz}
}

var (
	monthNames = []string{"January", "February", "March", "April", "May", "June", "July", "August",
		"September", "October", "November", "December"}
	dayNames    = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	romanMonths = []string{"I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"}
)

// The patterns, longest first where one is a prefix of another. Case
// matters for the ones that print words; the others match any case.
var dchPatterns = []string{
	"a.d.", "A.D.", "a.m.", "A.M.", "b.c.", "B.C.", "p.m.", "P.M.",
	"Y,YYY", "SSSSS", "MONTH", "Month", "month", "IDDD", "IYYY", "HH24", "HH12", "SSSS", "YYYY",
	"DAY", "Day", "day", "DDD", "IYY", "MON", "Mon", "mon", "TZH", "TZM", "YYY",
	"AD", "ad", "AM", "am", "BC", "bc", "CC", "DD", "DY", "Dy", "dy", "FX", "HH", "ID", "IW", "IY",
	"MI", "MM", "MS", "OF", "PM", "pm", "RM", "rm", "SS", "TZ", "tz", "US", "WW", "YY",
	"D", "I", "J", "Q", "W", "Y",
}

var caseSensitivePatterns = map[string]bool{
	"a.d.": true, "A.D.": true, "a.m.": true, "A.M.": true, "b.c.": true, "B.C.": true, "p.m.": true, "P.M.": true,
	"MONTH": true, "Month": true, "month": true, "DAY": true, "Day": true, "day": true,
	"MON": true, "Mon": true, "mon": true, "AD": true, "ad": true, "AM": true, "am": true, "BC": true, "bc": true,
	"DY": true, "Dy": true, "dy": true, "PM": true, "pm": true, "RM": true, "rm": true, "TZ": true, "tz": true,
}

func matchPattern(f string) string {
	for _, p := range dchPatterns {
		if len(f) < len(p) {
			continue
		}
		if caseSensitivePatterns[p] {
			if f[:len(p)] == p {
				return p
			}
		} else if strings.EqualFold(f[:len(p)], p) {
			return strings.ToUpper(p)
		}
	}
	return ""
}

func ordinal(n int, upper bool) string {
	s := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			s = "st"
		case 2:
			s = "nd"
		case 3:
			s = "rd"
		}
	}
	if upper {
		return strings.ToUpper(s)
	}
	return s
}

func toCharTime(t time.Time, f string, tz bool) (types.Datum, error) {
	if !finiteTime(t) {
		return types.DNull, nil
	}
	return formatDateTime(tmOfTime(t, tz), f)
}

func toCharInterval(v types.DInterval, f string) (types.Datum, error) {
	us := v.Micros
	hours := us / microsPerHour
	us -= hours * microsPerHour
	mins := us / microsPerMinute
	us -= mins * microsPerMinute
	tm := tmVals{year: int(v.Months / 12), month: int(v.Months % 12), day: int(v.Days), hour: int(hours),
		min: int(mins), sec: int(us / microsPerSecond), us: us % microsPerSecond, interval: true}
	return formatDateTime(tm, f)
}

func formatDateTime(tm tmVals, f string) (types.Datum, error) {
	var b strings.Builder
	for len(f) > 0 {
		fm := false
		if len(f) >= 2 && strings.EqualFold(f[:2], "FM") {
			fm, f = true, f[2:]
		}
		if len(f) >= 2 && strings.EqualFold(f[:2], "TM") {
			f = f[2:]
		}
		p := matchPattern(f)
		if p == "" {
			switch {
			case f[0] == '"':
				end := strings.IndexByte(f[1:], '"')
				if end < 0 {
					b.WriteString(f[1:])
					f = ""
				} else {
					b.WriteString(strings.ReplaceAll(f[1:1+end], `\"`, `"`))
					f = f[end+2:]
				}
			case f[0] == '\\' && len(f) > 1:
				b.WriteByte(f[1])
				f = f[2:]
			default:
				b.WriteByte(f[0])
				f = f[1:]
			}
			continue
		}
		f = f[len(p):]
		th, thUpper := false, false
		if len(f) >= 2 && (f[:2] == "TH" || f[:2] == "th") {
			th, thUpper, f = true, f[:2] == "TH", f[2:]
		}
		num := func(v, width int) {
			s := strconv.Itoa(absInt(v))
			if !fm {
				for len(s) < width {
					s = "0" + s
				}
			}
			if v < 0 {
				s = "-" + s
			}
			b.WriteString(s)
			if th {
				b.WriteString(ordinal(absInt(v), thUpper))
			}
		}
		word := func(s string, width int) {
			if !fm && !tm.interval {
				for len(s) < width {
					s += " "
				}
			}
			b.WriteString(s)
		}
		year := tm.year
		if !tm.interval && year <= 0 {
			year = 1 - year // BC years print positive; BC/AD says which
		}
		hour12 := tm.hour % 12
		if hour12 == 0 {
			hour12 = 12
		}
		switch p {
		case "YYYY":
			num(year, 4)
		case "Y,YYY":
			s := strconv.Itoa(year)
			if len(s) > 3 {
				s = s[:len(s)-3] + "," + s[len(s)-3:]
			}
			b.WriteString(s)
		case "YYY":
			num(year%1000, 3)
		case "YY":
			num(year%100, 2)
		case "Y":
			num(year%10, 1)
		case "IYYY":
			num(tm.isoYear, 4)
		case "IYY":
			num(tm.isoYear%1000, 3)
		case "IY":
			num(tm.isoYear%100, 2)
		case "I":
			num(tm.isoYear%10, 1)
		case "MM":
			num(tm.month, 2)
		case "DD":
			num(tm.day, 2)
		case "DDD":
			num(tm.yday, 3)
		case "IDDD":
			num((tm.isoWeek-1)*7+(tm.wday+6)%7+1, 3)
		case "D":
			num(tm.wday+1, 1)
		case "ID":
			num((tm.wday+6)%7+1, 1)
		case "W":
			num((tm.day-1)/7+1, 1)
		case "WW":
			num((tm.yday-1)/7+1, 2)
		case "IW":
			num(tm.isoWeek, 2)
		case "Q":
			num((tm.month-1)/3+1, 1)
		case "CC":
			c := (year + 99) / 100
			if tm.interval {
				c = year / 100
			}
			num(c, 2)
		case "J":
			num(int(types.DateFromYMD(tm.year, tm.month, tm.day))+2451545, 1)
		case "HH", "HH12":
			if tm.interval {
				num(tm.hour%12, 2)
			} else {
				num(hour12, 2)
			}
		case "HH24":
			num(tm.hour, 2)
		case "MI":
			num(tm.min, 2)
		case "SS":
			num(tm.sec, 2)
		case "MS":
			num(int(tm.us/1000), 3)
		case "US":
			num(int(tm.us), 6)
		case "SSSS", "SSSSS":
			num(tm.hour*3600+tm.min*60+tm.sec, 1)
		case "AM", "PM", "am", "pm", "A.M.", "P.M.", "a.m.", "p.m.":
			s := "AM"
			if tm.hour%24 >= 12 {
				s = "PM"
			}
			if strings.Contains(p, ".") {
				s = s[:1] + "." + s[1:] + "."
			}
			if p[0] >= 'a' {
				s = strings.ToLower(s)
			}
			b.WriteString(s)
		case "AD", "BC", "ad", "bc", "A.D.", "B.C.", "a.d.", "b.c.":
			s := "AD"
			if tm.year <= 0 {
				s = "BC"
			}
			if strings.Contains(p, ".") {
				s = s[:1] + "." + s[1:] + "."
			}
			if p[0] >= 'a' {
				s = strings.ToLower(s)
			}
			b.WriteString(s)
		case "MONTH", "Month", "month", "MON", "Mon", "mon":
			if tm.month < 1 {
				continue
			}
			n := monthNames[tm.month-1]
			if len(p) == 3 {
				n = n[:3]
			}
			word(caseLike(n, p), map[bool]int{true: 9, false: 3}[len(p) > 3])
		case "DAY", "Day", "day", "DY", "Dy", "dy":
			n := dayNames[tm.wday]
			if len(p) == 2 {
				n = n[:3]
			}
			word(caseLike(n, p), map[bool]int{true: 9, false: 3}[len(p) > 2])
		case "RM", "rm":
			if tm.month < 1 {
				continue
			}
			s := romanMonths[tm.month-1]
			if p == "rm" {
				s = strings.ToLower(s)
			}
			word(s, 4)
		case "TZ", "tz":
			if tm.hasTZ {
				z := tm.zone
				if p == "tz" {
					z = strings.ToLower(z)
				}
				b.WriteString(z)
			}
		case "OF", "TZH", "TZM":
			if !tm.hasTZ {
				continue
			}
			off := tm.offset
			sign := "+"
			if off < 0 {
				sign, off = "-", -off
			}
			h, m := off/3600, off/60%60
			switch p {
			case "OF":
				b.WriteString(sign + twoDigits(h))
				if m != 0 {
					b.WriteString(":" + twoDigits(m))
				}
			case "TZH":
				b.WriteString(sign + twoDigits(h))
			case "TZM":
				b.WriteString(twoDigits(m))
			}
		case "FX":
		}
	}
	return textResult(b.String())
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

func absInt(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// caseLike writes name in the case of pattern p: "MONTH", "Month", "month".
func caseLike(name, p string) string {
	switch {
	case p == strings.ToUpper(p):
		return strings.ToUpper(name)
	case p == strings.ToLower(p):
		return strings.ToLower(name)
	}
	return name
}

// toCharNumber is to_char for numbers: the digit patterns 9 and 0, the
// point (. or D), group separators (, or G), the sign patterns S, MI, PL,
// SG and PR, and FM. Others (EEEE, RN, V, L, TH) fail with 0A000.
func toCharNumber(d types.Datum, f string) (types.Datum, error) {
	var x *apd.Decimal
	switch v := d.(type) {
	case types.DInt:
		x = apd.New(int64(v), 0)
	case types.DFloat:
		fv := float64(v)
		if math.IsNaN(fv) || math.IsInf(fv, 0) {
			return numberOverflowText(f), nil
		}
		dd, err := types.ParseText(strconv.FormatFloat(fv, 'f', -1, 64), types.Numeric, nil)
		if err != nil {
			return nil, err
		}
		x = &dd.(*types.DDecimal).Decimal
	case *types.DDecimal:
		if v.Form != apd.Finite {
			return numberOverflowText(f), nil
		}
		x = &v.Decimal
	default:
		return nil, sqlerr.Internalf("sem: to_char of %T", d)
	}
	fm := false
	var pre, post int
	zeroAt := -1
	seenPoint := false
	sign := "" // the sign pattern, if any
	signLeading := false
	var upper = strings.ToUpper(f)
	for i := 0; i < len(upper); i++ {
		c := upper[i]
		switch {
		case strings.HasPrefix(upper[i:], "FM"):
			fm = true
			i++
		case c == '9' || c == '0':
			if seenPoint {
				post++
			} else {
				if c == '0' && zeroAt < 0 {
					zeroAt = pre
				}
				pre++
			}
		case c == '.' || c == 'D':
			seenPoint = true
		case c == ',' || c == 'G':
		case c == 'S':
			sign, signLeading = "S", pre == 0
		case strings.HasPrefix(upper[i:], "MI"), strings.HasPrefix(upper[i:], "PL"), strings.HasPrefix(upper[i:], "SG"), strings.HasPrefix(upper[i:], "PR"):
			sign, signLeading = upper[i:i+2], pre == 0
			i++
		case c == 'E' || c == 'R' || c == 'V' || c == 'L' || c == 'T' || c == 'B':
			return nil, sqlerr.Unsupportedf("to_char numeric template pattern %q is not supported", f[i:])
		}
	}
	neg := x.Negative && !x.IsZero()
	r := roundApd(new(apd.Decimal).Abs(x), int32(post))
	digits := r.Coeff.Text(10)
	for len(digits) < post+1 {
		digits = "0" + digits
	}
	intDigits, fracDigits := digits[:len(digits)-post], digits[len(digits)-post:]
	if intDigits == "0" {
		intDigits = ""
		if neg && r.IsZero() {
			neg = false
		}
	}
	overflow := len(intDigits) > pre
	// Integer digit i (of pre) shows intDigits' digit or a pad.
	var out strings.Builder
	if sign == "" {
		// The default sign slot: '-' or a space before the number.
		if neg {
			out.WriteByte('-')
		} else if !fm {
			out.WriteByte(' ')
		}
	}
	digitIdx := 0
	printed := false
	fracIdx := 0
	for i := 0; i < len(upper); i++ {
		c := upper[i]
		switch {
		case strings.HasPrefix(upper[i:], "FM"):
			i++
		case (c == '9' || c == '0') && digitIdx < pre:
			pos := digitIdx
			digitIdx++
			off := pre - len(intDigits)
			switch {
			case overflow:
				out.WriteByte('#')
			case pos >= off:
				out.WriteByte(intDigits[pos-off])
				printed = true
			case zeroAt >= 0 && pos >= zeroAt:
				out.WriteByte('0')
				printed = true
			case !fm:
				out.WriteByte(' ')
			}
			if pre == 0 || digitIdx == pre {
				if !printed && !overflow && len(fracDigits) == 0 {
					out.WriteByte('0')
				}
			}
		case c == '9' || c == '0':
			if overflow {
				out.WriteByte('#')
			} else {
				ch := fracDigits[fracIdx]
				out.WriteByte(ch)
			}
			fracIdx++
		case c == '.' || c == 'D':
			if overflow {
				out.WriteByte('#')
			} else {
				out.WriteByte('.')
			}
		case c == ',' || c == 'G':
			switch {
			case printed:
				out.WriteByte(',')
			case !fm:
				out.WriteByte(' ')
			}
		case c == 'S':
			if neg {
				out.WriteByte('-')
			} else {
				out.WriteByte('+')
			}
		case strings.HasPrefix(upper[i:], "MI"):
			if neg {
				out.WriteByte('-')
			} else if !fm {
				out.WriteByte(' ')
			}
			i++
		case strings.HasPrefix(upper[i:], "PL"):
			if !neg {
				out.WriteByte('+')
			} else if !fm {
				out.WriteByte(' ')
			}
			i++
		case strings.HasPrefix(upper[i:], "SG"):
			if neg {
				out.WriteByte('-')
			} else {
				out.WriteByte('+')
			}
			i++
		case strings.HasPrefix(upper[i:], "PR"):
			i++
		default:
			out.WriteByte(f[i])
		}
	}
	s := out.String()
	if fm {
		// Trailing zeros of the 9 positions after the point go.
		if strings.Contains(upper, ".") || strings.Contains(upper, "D") {
			trimmed := s
			for post > 0 && strings.HasSuffix(trimmed, "0") && lastFracIsNine(upper) {
				trimmed = trimmed[:len(trimmed)-1]
				upper = dropLastFracNine(upper)
			}
			s = trimmed
		}
	}
	if sign == "PR" {
		if neg {
			s = "<" + strings.TrimLeft(s, " ") + ">"
		} else if !fm {
			s = " " + s + " "
		}
	}
	if sign == "S" && signLeading {
		// S before the digits sits next to the first digit.
		t := strings.TrimLeft(s[1:], " ")
		s = strings.Repeat(" ", len(s)-1-len(t)) + s[:1] + t
	}
	return types.DString(s), nil
}

func lastFracIsNine(u string) bool {
	i := strings.LastIndexAny(u, "90")
	return i >= 0 && u[i] == '9' && strings.LastIndexAny(u, ".D") < i
}

func dropLastFracNine(u string) string {
	i := strings.LastIndexAny(u, "90")
	return u[:i] + u[i+1:]
}

func numberOverflowText(f string) types.Datum {
	var b strings.Builder
	for _, c := range f {
		switch c {
		case '9', '0', '.', 'D', ',', 'G':
			b.WriteByte('#')
		}
	}
	return types.DString(" " + b.String())
}
