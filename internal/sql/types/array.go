package types

import (
	"strings"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
)

// NewDArray returns an array of elem values; elems must be datums of
// elem's family or DNull. It takes ownership of elems.
func NewDArray(elem *Type, elems []Datum) *DArray {
	return &DArray{Elem: elem, Elems: elems}
}

func isArraySpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// appendArray prints "{1,2,NULL}", quoting an element that is empty, is
// "NULL" in any case, or holds a brace, comma, quote, backslash or space,
// and escaping quotes and backslashes in it, as array_out does.
func appendArray(buf []byte, a *DArray, elem *Type, s *Settings) []byte {
	if elem == nil {
		elem = a.Elem
	}
	buf = append(buf, '{')
	var scratch []byte
	for i, e := range a.Elems {
		if i > 0 {
			buf = append(buf, ',')
		}
		if e == DNull {
			buf = append(buf, "NULL"...)
			continue
		}
		scratch = AppendText(scratch[:0], e, elem, s)
		if !arrayElemNeedsQuotes(scratch) {
			buf = append(buf, scratch...)
			continue
		}
		buf = append(buf, '"')
		for _, c := range scratch {
			if c == '"' || c == '\\' {
				buf = append(buf, '\\')
			}
			buf = append(buf, c)
		}
		buf = append(buf, '"')
	}
	return append(buf, '}')
}

func arrayElemNeedsQuotes(s []byte) bool {
	if len(s) == 0 || len(s) == 4 && asciiEqualFold(string(s), "NULL") {
		return true
	}
	for _, c := range s {
		switch c {
		case '{', '}', ',', '"', '\\':
			return true
		}
		if isArraySpace(c) {
			return true
		}
	}
	return false
}

func errMalformedArray(s, detail string) error {
	return sqlerr.Newf(sqlerr.CodeInvalidTextRepresentation, "malformed array literal: %q", s).WithDetail("%s", detail)
}

// parseArray reads a one-dimensional array literal as array_in does:
// "{1, 2, NULL}", elements quoted with double quotes or not, backslash
// escapes in both, unquoted NULL (any case) for a NULL element, an
// optional "[1:n]=" bounds decoration. Elements are parsed with the
// element type's input function. A multidimensional literal fails with
// 0A000.
func parseArray(orig string, t *Type, set *Settings) (Datum, error) {
	s := orig
	i := 0
	skip := func() {
		for i < len(s) && isArraySpace(s[i]) {
			i++
		}
	}
	skip()
	wantLen := -1
	if i < len(s) && s[i] == '[' {
		j := strings.IndexByte(s[i:], ']')
		if j < 0 {
			return nil, errMalformedArray(orig, `Missing "]" after array dimensions.`)
		}
		lo, hi, ok := strings.Cut(s[i+1:i+j], ":")
		lo, hi = strings.TrimSpace(lo), strings.TrimSpace(hi)
		if !ok || lo == "" || hi == "" || !allDigits(strings.TrimPrefix(lo, "-")) || !allDigits(strings.TrimPrefix(hi, "-")) {
			return nil, errMalformedArray(orig, "Array dimensions are invalid.")
		}
		if lo != "1" {
			return nil, sqlerr.Unsupportedf("arrays with a lower bound other than 1 are not supported")
		}
		wantLen = atoi(strings.TrimPrefix(hi, "-"))
		if strings.HasPrefix(hi, "-") {
			return nil, errMalformedArray(orig, "Array dimensions are invalid.")
		}
		i += j + 1
		skip()
		if i < len(s) && s[i] == '[' {
			return nil, sqlerr.Unsupportedf("multidimensional arrays are not supported")
		}
		if i >= len(s) || s[i] != '=' {
			return nil, errMalformedArray(orig, `Missing "=" after array dimensions.`)
		}
		i++
		skip()
	}
	if i >= len(s) || s[i] != '{' {
		return nil, errMalformedArray(orig, `Array value must start with "{" or dimension information.`)
	}
	i++
	elem := t.elem
	var elems []Datum
	skip()
	if i < len(s) && s[i] == '}' {
		i++
	} else {
		var b strings.Builder
		for {
			skip()
			if i >= len(s) {
				return nil, errMalformedArray(orig, "Unexpected end of input.")
			}
			if s[i] == '{' {
				return nil, sqlerr.Unsupportedf("multidimensional arrays are not supported")
			}
			b.Reset()
			quoted, isNull := false, false
			if s[i] == '"' {
				quoted = true
				i++
				for {
					if i >= len(s) {
						return nil, errMalformedArray(orig, "Unexpected end of input.")
					}
					c := s[i]
					if c == '"' {
						i++
						break
					}
					if c == '\\' {
						i++
						if i >= len(s) {
							return nil, errMalformedArray(orig, "Unexpected end of input.")
						}
						c = s[i]
					}
					b.WriteByte(c)
					i++
				}
				skip()
				if i < len(s) && s[i] != ',' && s[i] != '}' {
					return nil, errMalformedArray(orig, "Unexpected array element.")
				}
			} else {
				// Unquoted: up to a comma or brace; trailing unescaped
				// spaces are dropped.
				keep := 0 // length of b up to the last escaped or non-space byte
				escaped := false
				for i < len(s) && s[i] != ',' && s[i] != '}' {
					c := s[i]
					switch {
					case c == '"' || c == '{':
						return nil, errMalformedArray(orig, "Unexpected \""+string(c)+"\" character.")
					case c == '\\':
						i++
						if i >= len(s) {
							return nil, errMalformedArray(orig, "Unexpected end of input.")
						}
						b.WriteByte(s[i])
						keep = b.Len()
						escaped = true
					default:
						b.WriteByte(c)
						if !isArraySpace(c) {
							keep = b.Len()
						}
					}
					i++
				}
				str := b.String()[:keep]
				b.Reset()
				b.WriteString(str)
				if b.Len() == 0 {
					return nil, errMalformedArray(orig, "Unexpected \",\" character.")
				}
				isNull = !escaped && asciiEqualFold(str, "NULL")
			}
			if i >= len(s) {
				return nil, errMalformedArray(orig, "Unexpected end of input.")
			}
			if isNull && !quoted {
				elems = append(elems, DNull)
			} else {
				d, err := ParseText(b.String(), elem, set)
				if err != nil {
					return nil, err
				}
				elems = append(elems, d)
			}
			if s[i] == '}' {
				i++
				break
			}
			i++ // ','
		}
	}
	skip()
	if i < len(s) {
		return nil, errMalformedArray(orig, "Junk after closing right brace.")
	}
	if wantLen >= 0 && wantLen != len(elems) {
		return nil, errMalformedArray(orig, "Specified array dimensions do not match array contents.")
	}
	return &DArray{Elem: elem, Elems: elems}, nil
}
