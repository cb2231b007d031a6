package types

import (
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
)

// Settings are the session settings that text I/O and casts depend on. A
// nil *Settings means the defaults: TimeZone UTC, the clock of time.Now.
// Only DateStyle ISO, MDY and IntervalStyle postgres exist.
type Settings struct {
	// Location is the session's TimeZone: timestamptz values are shown in
	// it, and a timestamptz input without an offset is read in it. nil
	// means UTC.
	Location *time.Location
	// Now returns the transaction's timestamp, for the inputs 'now',
	// 'today', 'tomorrow' and 'yesterday'. nil means time.Now.
	Now func() time.Time
}

func (s *Settings) location() *time.Location {
	if s == nil || s.Location == nil {
		return time.UTC
	}
	return s.Location
}

func (s *Settings) now() time.Time {
	if s == nil || s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// FormatText returns d in PostgreSQL's text output format; see AppendText.
func FormatText(d Datum, t *Type, s *Settings) string {
	return string(AppendText(nil, d, t, s))
}

// AppendText appends the text output of d, as PostgreSQL's output
// functions print it, to buf. t is the type of the column or expression d
// belongs to: it decides the output of float4 (shortest float32 digits)
// and the padding of CHAR(n); nil means d.ResolvedType(). DNull appends
// "NULL", which is for debugging only: on the wire a NULL is a length of
// -1, never text.
func AppendText(buf []byte, d Datum, t *Type, s *Settings) []byte {
	switch d := d.(type) {
	case dNull:
		return append(buf, "NULL"...)
	case DBool:
		if d {
			return append(buf, 't')
		}
		return append(buf, 'f')
	case DInt:
		return strconv.AppendInt(buf, int64(d), 10)
	case DOid:
		return strconv.AppendUint(buf, uint64(d), 10)
	case DFloat:
		bits := 64
		if t != nil && t.width == 32 {
			bits = 32
		}
		return appendFloat(buf, float64(d), bits)
	case *DDecimal:
		return appendDecimal(buf, d)
	case DString:
		buf = append(buf, d...)
		if t != nil && t.oid == OidBPChar && t.length > 0 {
			for n := utf8.RuneCountInString(string(d)); n < int(t.length); n++ {
				buf = append(buf, ' ')
			}
		}
		return buf
	case DBytes:
		buf = append(buf, `\x`...)
		return hex.AppendEncode(buf, d)
	case DDate:
		return appendDate(buf, d)
	case DTimestamp:
		return appendTimestamp(buf, d.Time, nil)
	case DTimestampTZ:
		return appendTimestamp(buf, d.Time, s.location())
	case DInterval:
		return appendInterval(buf, d)
	case DUUID:
		return appendUUID(buf, d)
	case *DJSON:
		return d.JSON.appendText(buf)
	case *DArray:
		var elem *Type
		if t != nil && t.family == ArrayFamily {
			elem = t.elem
		}
		return appendArray(buf, d, elem, s)
	}
	panic(fmt.Sprintf("types: AppendText of %T", d))
}

// ParseText parses s, a value in PostgreSQL's text input format for type
// t, as the type's input function does, and applies t's modifiers as an
// assignment would: a too long VARCHAR(n) fails with 22001, a NUMERIC(p,s)
// is rounded. Errors carry PostgreSQL's SQLSTATE: 22P02
// invalid_text_representation, 22003 numeric_value_out_of_range, 22007
// invalid_datetime_format, 22008 datetime_field_overflow...
//
// The type Unknown parses as text.
func ParseText(s string, t *Type, set *Settings) (Datum, error) {
	switch t.family {
	case BoolFamily:
		return parseBool(s)
	case IntFamily:
		return parseInt(s, t)
	case OidFamily:
		return parseOid(s)
	case FloatFamily:
		return parseFloat(s, t)
	case NumericFamily:
		d, err := parseDecimal(s)
		if err != nil {
			return nil, err
		}
		return applyNumericTypmod(d, t)
	case StringFamily, UnknownFamily:
		if err := checkText(s); err != nil {
			return nil, err
		}
		return applyStringTypmod(DString(s), t, false)
	case BytesFamily:
		return parseBytea(s)
	case DateFamily:
		return parseDate(s, set)
	case TimestampFamily:
		d, err := parseTimestamp(s, false, set)
		if err != nil {
			return nil, err
		}
		return applyTimestampTypmod(d, t)
	case TimestampTZFamily:
		d, err := parseTimestamp(s, true, set)
		if err != nil {
			return nil, err
		}
		return applyTimestampTypmod(d, t)
	case IntervalFamily:
		return parseInterval(s)
	case UUIDFamily:
		return parseUUID(s)
	case JSONFamily:
		j, err := ParseJSON(s)
		if err != nil {
			return nil, err
		}
		return &DJSON{JSON: j}, nil
	case ArrayFamily:
		return parseArray(s, t, set)
	}
	return nil, sqlerr.Internalf("types: ParseText for %s", t.Name())
}

// checkText rejects what PostgreSQL's text types cannot hold: invalid
// UTF-8 (22021) and NUL (22021 in PostgreSQL's encoding checks).
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return sqlerr.New(sqlerr.CodeCharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\"")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return sqlerr.New(sqlerr.CodeCharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\": 0x00")
	}
	return nil
}

// parseBool accepts, case-insensitively and with surrounding whitespace,
// the prefixes of true, false, yes, no (one letter or more), on, off (two
// letters or more), 1 and 0, as PostgreSQL's parse_bool.
func parseBool(orig string) (Datum, error) {
	s := asciiLower(strings.TrimSpace(orig))
	if s != "" {
		prefix := func(word string, minLen int) bool {
			return len(s) >= minLen && strings.HasPrefix(word, s)
		}
		switch {
		case prefix("true", 1), prefix("yes", 1), prefix("on", 2), s == "1":
			return DTrue, nil
		case prefix("false", 1), prefix("no", 1), prefix("off", 2), s == "0":
			return DFalse, nil
		}
	}
	return nil, invalidText("boolean", orig)
}

func intRange(t *Type) (lo, hi int64) {
	switch t.width {
	case 16:
		return math.MinInt16, math.MaxInt16
	case 32:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

// parseInt parses an integer as PostgreSQL 16's pg_strtoint: whitespace
// around, a sign, decimal digits or 0x/0o/0b prefixed ones, underscores
// between digits; 22P02 for bad syntax and 22003 out of range.
func parseInt(orig string, t *Type) (Datum, error) {
	s := strings.TrimSpace(orig)
	neg := false
	body := s
	if body != "" && (body[0] == '+' || body[0] == '-') {
		neg = body[0] == '-'
		body = body[1:]
	}
	base := 10
	if len(body) > 2 && body[0] == '0' {
		switch body[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 10 {
			body = body[2:]
		}
	}
	if body == "" || body[0] == '_' || body[len(body)-1] == '_' || strings.Contains(body, "__") {
		return nil, invalidText(t.Name(), orig)
	}
	// Accumulate the magnitude in a uint64 so that the most negative
	// value parses; anything longer overflows.
	var mag uint64
	overflow := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == '_' {
			continue
		}
		var v uint64
		switch {
		case c >= '0' && c <= '9':
			v = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			v = uint64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			v = uint64(c-'A') + 10
		default:
			return nil, invalidText(t.Name(), orig)
		}
		if v >= uint64(base) {
			return nil, invalidText(t.Name(), orig)
		}
		if mag > (math.MaxUint64-v)/uint64(base) {
			overflow = true
		}
		mag = mag*uint64(base) + v
	}
	lo, hi := intRange(t)
	var n int64
	switch {
	case overflow:
	case neg && mag <= uint64(-(lo+1))+1:
		n = -int64(mag-1) - 1
	case !neg && mag <= uint64(hi):
		n = int64(mag)
	default:
		overflow = true
	}
	if overflow {
		return nil, sqlerr.Newf(sqlerr.CodeNumericValueOutOfRange, "value %q is out of range for type %s", orig, t.Name())
	}
	return DInt(n), nil
}

// parseOid accepts 0..4294967295 and, as PostgreSQL does, negative values
// down to -2147483648, which wrap.
func parseOid(orig string) (Datum, error) {
	s := strings.TrimSpace(orig)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return nil, sqlerr.Newf(sqlerr.CodeNumericValueOutOfRange, "value %q is out of range for type oid", orig)
		}
		return nil, invalidText("oid", orig)
	}
	if n < math.MinInt32 || n > math.MaxUint32 {
		return nil, sqlerr.Newf(sqlerr.CodeNumericValueOutOfRange, "value %q is out of range for type oid", orig)
	}
	return DOid(uint32(n)), nil
}

// parseFloat parses float4/float8 input: decimal or hexadecimal floating
// point, NaN, Infinity, inf, with optional sign, case-insensitive. A value
// that overflows, or underflows to zero, fails with 22003.
func parseFloat(orig string, t *Type) (Datum, error) {
	s := strings.TrimSpace(orig)
	bits := int(t.width)
	switch asciiLower(s) {
	case "nan", "+nan", "-nan":
		return DFloat(math.NaN()), nil
	case "infinity", "+infinity", "inf", "+inf":
		return DFloat(math.Inf(1)), nil
	case "-infinity", "-inf":
		return DFloat(math.Inf(-1)), nil
	}
	if s == "" || strings.ContainsAny(s, "_iInN") {
		return nil, invalidText(t.Name(), orig)
	}
	f, err := strconv.ParseFloat(s, bits)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return nil, sqlerr.Newf(sqlerr.CodeNumericValueOutOfRange, "%q is out of range for type %s", orig, t.Name())
		}
		return nil, invalidText(t.Name(), orig)
	}
	if f == 0 && hasNonZeroMantissa(s) {
		return nil, sqlerr.Newf(sqlerr.CodeNumericValueOutOfRange, "%q is out of range for type %s", orig, t.Name())
	}
	return DFloat(f), nil
}

// hasNonZeroMantissa reports whether the digits of a float literal before
// its exponent are not all zero.
func hasNonZeroMantissa(s string) bool {
	hexa := strings.HasPrefix(strings.TrimLeft(s, "+-"), "0x") || strings.HasPrefix(strings.TrimLeft(s, "+-"), "0X")
	if hexa {
		s = strings.TrimLeft(s, "+-")[2:]
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !hexa && (c == 'e' || c == 'E') || hexa && (c == 'p' || c == 'P') {
			break
		}
		if c >= '1' && c <= '9' || hexa && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return true
		}
	}
	return false
}

// appendFloat prints a float as PostgreSQL 12+ does with the default
// extra_float_digits = 1: the shortest digits that read back to the same
// float32 or float64, in fixed notation when the decimal exponent is in
// [-4, 15) ([-4, 6) for float4) and as "1.5e+20" otherwise; "NaN",
// "Infinity", "-Infinity"; "-0" for negative zero.
func appendFloat(buf []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, "NaN"...)
	case math.IsInf(f, 1):
		return append(buf, "Infinity"...)
	case math.IsInf(f, -1):
		return append(buf, "-Infinity"...)
	}
	if f == 0 {
		if math.Signbit(f) {
			return append(buf, "-0"...)
		}
		return append(buf, '0')
	}
	var scratch [32]byte
	e := strconv.AppendFloat(scratch[:0], f, 'e', -1, bits)
	i := strings.LastIndexByte(string(e), 'e')
	exp, _ := strconv.Atoi(string(e[i+1:]))
	maxExp := 15
	if bits == 32 {
		maxExp = 6
	}
	if exp >= -4 && exp < maxExp {
		return strconv.AppendFloat(buf, f, 'f', -1, bits)
	}
	return append(buf, e...)
}

// applyStringTypmod checks d against VARCHAR(n), CHAR(n) or NAME. In an
// assignment (explicit false) a value longer than n fails with 22001
// unless the excess is spaces, which are cut, as PostgreSQL does; an
// explicit cast cuts it. CHAR(n) values lose their trailing spaces (see
// DString); NAME is cut to 63 bytes.
func applyStringTypmod(d DString, t *Type, explicit bool) (Datum, error) {
	switch t.oid {
	case OidBPChar:
		if t.length > 0 {
			var err error
			if d, err = cutString(d, t, explicit); err != nil {
				return nil, err
			}
		}
		return DString(strings.TrimRight(string(d), " ")), nil
	case OidVarChar:
		if t.length > 0 {
			return cutString(d, t, explicit)
		}
	case OidName:
		if len(d) > NameMaxBytes {
			n := NameMaxBytes
			for n > 0 && !utf8.RuneStart(d[n]) {
				n--
			}
			return d[:n], nil
		}
	}
	return d, nil
}

func cutString(d DString, t *Type, explicit bool) (DString, error) {
	n := int(t.length)
	if len(d) <= n {
		return d, nil // fewer bytes, so fewer characters
	}
	i := 0
	for cnt := 0; i < len(d) && cnt < n; cnt++ {
		_, size := utf8.DecodeRuneInString(string(d[i:]))
		i += size
	}
	if i >= len(d) {
		return d, nil
	}
	if !explicit && strings.Trim(string(d[i:]), " ") != "" {
		return "", sqlerr.Newf(sqlerr.CodeStringDataRightTruncation, "value too long for type %s", t.Name())
	}
	return d[:i], nil
}

// parseBytea reads the hex format ("\x0102", whitespace allowed between
// digit pairs) and the escape format (octal "\ooo", "\\", other bytes as
// they are).
func parseBytea(s string) (Datum, error) {
	if strings.HasPrefix(s, `\x`) {
		out := make([]byte, 0, (len(s)-2)/2)
		for i := 2; i < len(s); {
			c := s[i]
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				i++
				continue
			}
			hi, ok := unhex(c)
			if !ok {
				return nil, sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "invalid hexadecimal digit: %q", s[i:i+1])
			}
			if i+1 >= len(s) {
				return nil, sqlerr.New(sqlerr.CodeInvalidParameterValue, "invalid hexadecimal data: odd number of digits")
			}
			lo, ok := unhex(s[i+1])
			if !ok {
				return nil, sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "invalid hexadecimal digit: %q", s[i+1:i+2])
			}
			out = append(out, hi<<4|lo)
			i += 2
		}
		return DBytes(out), nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\\':
			out = append(out, '\\')
			i++
		case i+3 < len(s) && s[i+1] >= '0' && s[i+1] <= '3' && isOctal(s[i+2]) && isOctal(s[i+3]):
			out = append(out, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 3
		default:
			return nil, invalidText("bytea", s)
		}
	}
	return DBytes(out), nil
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func appendUUID(buf []byte, u DUUID) []byte {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return append(buf, b[:]...)
}

// parseUUID accepts 32 hex digits in either case, optionally in braces,
// with a hyphen allowed after any group of four digits, as PostgreSQL's
// uuid_in: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
// "{a0eebc999c0b4ef8bb6d6bb9bd380a11}", "a0ee-bc99-9c0b-...".
func parseUUID(orig string) (Datum, error) {
	s := orig
	braces := strings.HasPrefix(s, "{")
	if braces {
		s = s[1:]
	}
	var u DUUID
	for i := 0; i < 16; i++ {
		if len(s) < 2 {
			return nil, invalidText("uuid", orig)
		}
		hi, ok1 := unhex(s[0])
		lo, ok2 := unhex(s[1])
		if !ok1 || !ok2 {
			return nil, invalidText("uuid", orig)
		}
		u[i] = hi<<4 | lo
		s = s[2:]
		if i%2 == 1 && i < 15 && strings.HasPrefix(s, "-") {
			s = s[1:]
		}
	}
	if braces {
		if !strings.HasPrefix(s, "}") {
			return nil, invalidText("uuid", orig)
		}
		s = s[1:]
	}
	if s != "" {
		return nil, invalidText("uuid", orig)
	}
	return u, nil
}

// asciiLower lower-cases ASCII letters only, as PostgreSQL's
// pg_tolower does for keywords; other bytes, and so the byte length and
// offsets, stay as they are.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// asciiEqualFold compares s and t ignoring the case of ASCII letters.
func asciiEqualFold(s, t string) bool {
	return len(s) == len(t) && asciiLower(s) == asciiLower(t)
}
