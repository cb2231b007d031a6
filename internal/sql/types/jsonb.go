package types

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
)

// JSONKind is the kind of a JSON value. The order of the constants is
// PostgreSQL's jsonb sort order of kinds: null < string < number < boolean
// < array < object.
type JSONKind uint8

// The JSON kinds.
const (
	JSONNull JSONKind = iota
	JSONString
	JSONNumber
	JSONBool
	JSONArray
	JSONObject
)

// JSON is a jsonb value: a tree in PostgreSQL's normalized form. Numbers
// are exact numerics (as jsonb keeps them: "1.50" stays 1.50, "1e2" is
// 100); an object's keys are unique (the last duplicate wins) and sorted
// shortest first, then bytewise, which is the order jsonb prints them in.
type JSON struct {
	Kind  JSONKind
	Bool  bool      // JSONBool
	Str   string    // JSONString
	Num   *DDecimal // JSONNumber: finite
	Elems []JSON    // JSONArray
	Keys  []string  // JSONObject, sorted as described above
	Vals  []JSON    // JSONObject, Vals[i] belongs to Keys[i]
}

// DJSON is a jsonb datum.
type DJSON struct {
	JSON
}

// maxJSONDepth bounds the nesting of parsed JSON, so that the recursive
// parser, printer and comparison cannot exhaust the stack.
const maxJSONDepth = 6400

func errJSONSyntax(detail string) error {
	return sqlerr.New(sqlerr.CodeInvalidTextRepresentation, "invalid input syntax for type json").WithDetail("%s", detail)
}

// ParseJSON parses JSON text (RFC 8259, as PostgreSQL's json parser:
// case-sensitive literals, no trailing commas, no comments) into its jsonb
// form. Errors are 22P02, or 22P05 for \u0000, which jsonb cannot hold.
func ParseJSON(s string) (JSON, error) {
	if !utf8.ValidString(s) {
		return JSON{}, sqlerr.New(sqlerr.CodeCharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\"")
	}
	p := jsonParser{s: s}
	v, err := p.value(0)
	if err != nil {
		return JSON{}, err
	}
	p.space()
	if p.i < len(p.s) {
		return JSON{}, p.unexpected()
	}
	return v, nil
}

type jsonParser struct {
	s string
	i int
}

func (p *jsonParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) unexpected() error {
	if p.i >= len(p.s) {
		return errJSONSyntax("The input string ended unexpectedly.")
	}
	j := p.i + 1
	for j < len(p.s) && (isAlnum(p.s[j]) || p.s[j] >= 0x80) {
		j++
	}
	return errJSONSyntax("Token \"" + p.s[p.i:j] + "\" is invalid.")
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func (p *jsonParser) value(depth int) (JSON, error) {
	if depth > maxJSONDepth {
		return JSON{}, sqlerr.New(sqlerr.CodeStatementTooComplex, "stack depth limit exceeded")
	}
	p.space()
	if p.i >= len(p.s) {
		return JSON{}, p.unexpected()
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		p.i++
		v := JSON{Kind: JSONArray}
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return v, nil
		}
		for {
			e, err := p.value(depth + 1)
			if err != nil {
				return JSON{}, err
			}
			v.Elems = append(v.Elems, e)
			p.space()
			if p.i >= len(p.s) {
				return JSON{}, p.unexpected()
			}
			if p.s[p.i] == ']' {
				p.i++
				return v, nil
			}
			if p.s[p.i] != ',' {
				return JSON{}, p.unexpected()
			}
			p.i++
		}
	case c == '"':
		str, err := p.str()
		if err != nil {
			return JSON{}, err
		}
		return JSON{Kind: JSONString, Str: str}, nil
	case c == '-' || isDigit(c):
		return p.number()
	case strings.HasPrefix(p.s[p.i:], "true") && !p.alnumAt(p.i+4):
		p.i += 4
		return JSON{Kind: JSONBool, Bool: true}, nil
	case strings.HasPrefix(p.s[p.i:], "false") && !p.alnumAt(p.i+5):
		p.i += 5
		return JSON{Kind: JSONBool}, nil
	case strings.HasPrefix(p.s[p.i:], "null") && !p.alnumAt(p.i+4):
		p.i += 4
		return JSON{Kind: JSONNull}, nil
	}
	return JSON{}, p.unexpected()
}

func (p *jsonParser) alnumAt(i int) bool { return i < len(p.s) && isAlnum(p.s[i]) }

func (p *jsonParser) object(depth int) (JSON, error) {
	p.i++ // '{'
	v := JSON{Kind: JSONObject}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return v, nil
	}
	for {
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return JSON{}, p.unexpected()
		}
		k, err := p.str()
		if err != nil {
			return JSON{}, err
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return JSON{}, p.unexpected()
		}
		p.i++
		e, err := p.value(depth + 1)
		if err != nil {
			return JSON{}, err
		}
		v.Keys = append(v.Keys, k)
		v.Vals = append(v.Vals, e)
		p.space()
		if p.i >= len(p.s) {
			return JSON{}, p.unexpected()
		}
		if p.s[p.i] == '}' {
			p.i++
			break
		}
		if p.s[p.i] != ',' {
			return JSON{}, p.unexpected()
		}
		p.i++
	}
	return MakeJSONObject(v.Keys, v.Vals), nil
}

// MakeJSONObject returns the object with keys and vals (keys[i] → vals[i]),
// normalized: sorted as jsonb sorts keys, the last of duplicate keys kept.
// It takes ownership of the slices.
func MakeJSONObject(keys []string, vals []JSON) JSON {
	idx := make([]int, len(keys))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ka, kb := keys[idx[a]], keys[idx[b]]
		if len(ka) != len(kb) {
			return len(ka) < len(kb)
		}
		return ka < kb
	})
	outK := make([]string, 0, len(keys))
	outV := make([]JSON, 0, len(keys))
	for n, i := range idx {
		if n+1 < len(idx) && keys[idx[n+1]] == keys[i] {
			continue // a later duplicate follows and wins
		}
		outK = append(outK, keys[i])
		outV = append(outV, vals[i])
	}
	return JSON{Kind: JSONObject, Keys: outK, Vals: outV}
}

func (p *jsonParser) str() (string, error) {
	p.i++ // opening quote
	var b strings.Builder
	start := p.i
	for {
		if p.i >= len(p.s) {
			return "", errJSONSyntax("The input string ended unexpectedly.")
		}
		c := p.s[p.i]
		switch {
		case c == '"':
			b.WriteString(p.s[start:p.i])
			p.i++
			return b.String(), nil
		case c < 0x20:
			return "", errJSONSyntax("Character with value 0x" + strconv.FormatUint(uint64(c)|0x100, 16)[1:] + " must be escaped.")
		case c == '\\':
			b.WriteString(p.s[start:p.i])
			if p.i+1 >= len(p.s) {
				return "", errJSONSyntax("The input string ended unexpectedly.")
			}
			esc := p.s[p.i+1]
			p.i += 2
			switch esc {
			case '"', '\\', '/':
				b.WriteByte(esc)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r, err := p.hex4()
				if err != nil {
					return "", err
				}
				if utf16.IsSurrogate(r) {
					if r >= 0xDC00 || !strings.HasPrefix(p.s[p.i:], `\u`) {
						return "", errJSONSyntax("Unicode low surrogate must follow a high surrogate.")
					}
					p.i += 2
					r2, err := p.hex4()
					if err != nil {
						return "", err
					}
					r = utf16.DecodeRune(r, r2)
					if r == utf8.RuneError {
						return "", errJSONSyntax("Unicode low surrogate must follow a high surrogate.")
					}
				}
				if r == 0 {
					return "", sqlerr.New(sqlerr.CodeUntranslatableCharacter, "unsupported Unicode escape sequence").
						WithDetail(`\u0000 cannot be converted to text.`)
				}
				b.WriteRune(r)
			default:
				return "", errJSONSyntax("Escape sequence \"\\" + string(esc) + "\" is invalid.")
			}
			start = p.i
		default:
			p.i++
		}
	}
}

func (p *jsonParser) hex4() (rune, error) {
	if p.i+4 > len(p.s) {
		return 0, errJSONSyntax("\"\\u\" must be followed by four hexadecimal digits.")
	}
	var r rune
	for _, c := range []byte(p.s[p.i : p.i+4]) {
		v, ok := unhex(c)
		if !ok {
			return 0, errJSONSyntax("\"\\u\" must be followed by four hexadecimal digits.")
		}
		r = r<<4 | rune(v)
	}
	p.i += 4
	return r, nil
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (p *jsonParser) number() (JSON, error) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		j := p.i
		for p.i < len(p.s) && isDigit(p.s[p.i]) {
			p.i++
		}
		return p.i - j
	}
	n := digits()
	if n == 0 || n > 1 && p.s[p.i-n] == '0' {
		p.i = start
		return JSON{}, p.unexpected()
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if digits() == 0 {
			p.i = start
			return JSON{}, p.unexpected()
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			p.i = start
			return JSON{}, p.unexpected()
		}
	}
	if p.alnumAt(p.i) {
		p.i = start
		return JSON{}, p.unexpected()
	}
	d, err := parseDecimal(p.s[start:p.i])
	if err != nil {
		return JSON{}, err
	}
	return JSON{Kind: JSONNumber, Num: d}, nil
}

// appendText prints j as jsonb_out does: `{"a": 1, "b": [1, 2]}`.
func (j *JSON) appendText(buf []byte) []byte {
	switch j.Kind {
	case JSONNull:
		return append(buf, "null"...)
	case JSONBool:
		if j.Bool {
			return append(buf, "true"...)
		}
		return append(buf, "false"...)
	case JSONNumber:
		return appendDecimal(buf, j.Num)
	case JSONString:
		return appendJSONString(buf, j.Str)
	case JSONArray:
		buf = append(buf, '[')
		for i := range j.Elems {
			if i > 0 {
				buf = append(buf, ", "...)
			}
			buf = j.Elems[i].appendText(buf)
		}
		return append(buf, ']')
	case JSONObject:
		buf = append(buf, '{')
		for i := range j.Keys {
			if i > 0 {
				buf = append(buf, ", "...)
			}
			buf = appendJSONString(buf, j.Keys[i])
			buf = append(buf, ": "...)
			buf = j.Vals[i].appendText(buf)
		}
		return append(buf, '}')
	}
	panic("types: JSON kind " + strconv.Itoa(int(j.Kind)))
}

// String returns the jsonb text of j.
func (j JSON) String() string { return string(j.appendText(nil)) }

// appendJSONString quotes s as PostgreSQL's escape_json.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			buf = append(buf, `\"`...)
		case '\\':
			buf = append(buf, `\\`...)
		case '\b':
			buf = append(buf, `\b`...)
		case '\f':
			buf = append(buf, `\f`...)
		case '\n':
			buf = append(buf, `\n`...)
		case '\r':
			buf = append(buf, `\r`...)
		case '\t':
			buf = append(buf, `\t`...)
		default:
			if c < 0x20 {
				buf = append(buf, `\u00`...)
				buf = append(buf, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
			} else {
				buf = append(buf, c)
			}
		}
	}
	return append(buf, '"')
}

func (j *JSON) size() int {
	n := 80
	switch j.Kind {
	case JSONString:
		n += len(j.Str)
	case JSONNumber:
		n += j.Num.Size()
	case JSONArray:
		for i := range j.Elems {
			n += j.Elems[i].size()
		}
	case JSONObject:
		for i := range j.Keys {
			n += 16 + len(j.Keys[i]) + j.Vals[i].size()
		}
	}
	return n
}

// CompareJSON orders jsonb values as PostgreSQL's jsonb btree operators:
// by kind (null < string < number < boolean < array < object), arrays by
// length then element by element, objects by number of pairs then pair by
// pair in key order, strings bytewise (the C collation). A top-level
// scalar compares with a top-level array as a one-element array that sorts
// first among arrays of one element: hence PostgreSQL's quirk that '[]' <
// 'null' at top level.
func CompareJSON(a, b *JSON) int {
	aScalar, bScalar := a.Kind < JSONArray, b.Kind < JSONArray
	switch {
	case aScalar && b.Kind == JSONArray:
		if len(b.Elems) != 1 {
			return cmpInt(1, len(b.Elems))
		}
		return -1
	case a.Kind == JSONArray && bScalar:
		if len(a.Elems) != 1 {
			return cmpInt(len(a.Elems), 1)
		}
		return 1
	}
	return compareJSONValue(a, b)
}

func compareJSONValue(a, b *JSON) int {
	if a.Kind != b.Kind {
		return cmpInt(int(a.Kind), int(b.Kind))
	}
	switch a.Kind {
	case JSONNull:
		return 0
	case JSONString:
		return strings.Compare(a.Str, b.Str)
	case JSONNumber:
		return compareDecimal(a.Num, b.Num)
	case JSONBool:
		return cmpBool(a.Bool, b.Bool)
	case JSONArray:
		if len(a.Elems) != len(b.Elems) {
			return cmpInt(len(a.Elems), len(b.Elems))
		}
		for i := range a.Elems {
			if c := compareJSONValue(&a.Elems[i], &b.Elems[i]); c != 0 {
				return c
			}
		}
		return 0
	case JSONObject:
		if len(a.Keys) != len(b.Keys) {
			return cmpInt(len(a.Keys), len(b.Keys))
		}
		for i := range a.Keys {
			if c := strings.Compare(a.Keys[i], b.Keys[i]); c != 0 {
				return c
			}
			if c := compareJSONValue(&a.Vals[i], &b.Vals[i]); c != 0 {
				return c
			}
		}
		return 0
	}
	panic("types: JSON kind " + strconv.Itoa(int(a.Kind)))
}
