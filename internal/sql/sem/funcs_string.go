package sem

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

func str(d types.Datum) string { return string(d.(types.DString)) }
func i64(d types.Datum) int64  { return int64(d.(types.DInt)) }

func textResult(s string) (types.Datum, error) {
	if len(s) > maxResultBytes {
		return nil, errTooLarge()
	}
	return types.DString(s), nil
}

// substrRunes is substring(s from start for count) on characters, with
// PostgreSQL's handling of a start before 1 and no count (count < 0).
func substrRunes(s string, start int64, count int64, hasCount bool) (types.Datum, error) {
	if hasCount && count < 0 {
		return nil, sqlerr.New(codeSubstringError, "negative substring length not allowed")
	}
	end := int64(1) << 62
	if hasCount {
		end = start + count
		if count > 0 && end < start { // overflow
			end = int64(1) << 62
		}
	}
	start = max(start, 1)
	if end <= start {
		return types.DString(""), nil
	}
	var b strings.Builder
	pos := int64(1)
	for _, r := range s {
		if pos >= end {
			break
		}
		if pos >= start {
			b.WriteRune(r)
		}
		pos++
	}
	return types.DString(b.String()), nil
}

func substrBytes(s []byte, start, count int64, hasCount bool) (types.Datum, error) {
	if hasCount && count < 0 {
		return nil, sqlerr.New(codeSubstringError, "negative substring length not allowed")
	}
	end := int64(len(s)) + 1
	if hasCount && start+count < end {
		end = start + count
	}
	start = max(start, 1)
	if end <= start || start > int64(len(s)) {
		return types.DBytes{}, nil
	}
	return append(types.DBytes(nil), s[start-1:end-1]...), nil
}

func trimSet(s, set string, left, right bool) string {
	cut := func(r rune) bool { return strings.ContainsRune(set, r) }
	if left {
		s = strings.TrimLeftFunc(s, cut)
	}
	if right {
		s = strings.TrimRightFunc(s, cut)
	}
	return s
}

func initcap(s string) string {
	var b strings.Builder
	inWord := false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if inWord {
				b.WriteRune(unicode.ToLower(r))
			} else {
				b.WriteRune(unicode.ToUpper(r))
			}
			inWord = true
		} else {
			b.WriteRune(r)
			inWord = false
		}
	}
	return b.String()
}

// pad is lpad/rpad: s cut or filled with fill to n characters.
func pad(s string, n int64, fill string, left bool) (types.Datum, error) {
	if n <= 0 {
		return types.DString(""), nil
	}
	if n*4 > maxResultBytes {
		return nil, errTooLarge()
	}
	runes := []rune(s)
	if int64(len(runes)) >= n {
		return types.DString(string(runes[:n])), nil
	}
	if fill == "" {
		return types.DString(s), nil
	}
	f := []rune(fill)
	need := int(n) - len(runes)
	padding := make([]rune, need)
	for i := range padding {
		padding[i] = f[i%len(f)]
	}
	if left {
		return types.DString(string(padding) + s), nil
	}
	return types.DString(s + string(padding)), nil
}

func leftRight(s string, n int64, left bool) types.Datum {
	runes := []rune(s)
	l := int64(len(runes))
	var k int64
	if n >= 0 {
		k = min(n, l)
	} else {
		k = max(l+n, 0)
	}
	if left {
		return types.DString(string(runes[:k]))
	}
	return types.DString(string(runes[l-k:]))
}

func strpos(s, sub string) types.Datum {
	i := strings.Index(s, sub)
	if i < 0 {
		return types.DInt(0)
	}
	return types.DInt(utf8.RuneCountInString(s[:i]) + 1)
}

func splitPart(s, delim string, n int64) (types.Datum, error) {
	if n == 0 {
		return nil, sqlerr.New(sqlerr.CodeInvalidParameterValue, "field position must not be zero")
	}
	var parts []string
	if delim == "" {
		parts = []string{s}
	} else {
		parts = strings.Split(s, delim)
	}
	if s == "" {
		return types.DString(""), nil
	}
	if n < 0 {
		n += int64(len(parts)) + 1
	}
	if n < 1 || n > int64(len(parts)) {
		return types.DString(""), nil
	}
	return types.DString(parts[n-1]), nil
}

func reverseString(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

func translate(s, from, to string) string {
	f, t := []rune(from), []rune(to)
	var b strings.Builder
	for _, r := range s {
		idx := -1
		for i, x := range f {
			if x == r {
				idx = i
				break
			}
		}
		switch {
		case idx < 0:
			b.WriteRune(r)
		case idx < len(t):
			b.WriteRune(t[idx])
		}
	}
	return b.String()
}

func quoteLiteralFn(s string) string {
	q := "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", "''") + "'"
	if strings.Contains(s, `\`) {
		return "E" + q
	}
	return q
}

// regexReplacement converts PostgreSQL's replacement text (\1..\9, \&, \\)
// into Go's template syntax.
func regexReplacement(repl string) string {
	var b strings.Builder
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		switch {
		case c == '\\' && i+1 < len(repl):
			n := repl[i+1]
			switch {
			case n >= '1' && n <= '9':
				b.WriteString("${" + string(n) + "}")
			case n == '&':
				b.WriteString("${0}")
			default:
				b.WriteByte(n)
			}
			i++
		case c == '$':
			b.WriteString("$$")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// regexFlags reads regexp_replace's flags: g (all matches), i (case
// insensitive), c (case sensitive); others fail with 22023.
func regexFlags(flags string) (global, ci bool, err error) {
	for _, f := range flags {
		switch f {
		case 'g':
			global = true
		case 'i':
			ci = true
		case 'c':
			ci = false
		case 'n', 'p', 's', 'w', 'x', 'm', 't':
			// Newline and syntax variants that RE2 does not distinguish.
		default:
			return false, false, sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "invalid regular expression option: \"%c\"", f)
		}
	}
	return global, ci, nil
}

func regexpReplace(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
	flags := ""
	if len(a) > 3 {
		flags = str(a[3])
	}
	global, ci, err := regexFlags(flags)
	if err != nil {
		return nil, err
	}
	re, err := compileRegex(str(a[1]), ci)
	if err != nil {
		return nil, err
	}
	src, tmpl := str(a[0]), regexReplacement(str(a[2]))
	if global {
		return textResult(re.ReplaceAllString(src, tmpl))
	}
	loc := re.FindStringSubmatchIndex(src)
	if loc == nil {
		return types.DString(src), nil
	}
	out := re.ExpandString(nil, tmpl, src, loc)
	return textResult(src[:loc[0]] + string(out) + src[loc[1]:])
}

func regexpMatch(_ *EvalContext, a []types.Datum) (types.Datum, error) {
	flags := ""
	if len(a) > 2 {
		flags = str(a[2])
	}
	global, ci, err := regexFlags(flags)
	if err != nil {
		return nil, err
	}
	if global {
		return nil, sqlerr.New(sqlerr.CodeInvalidParameterValue, "regexp_match() does not support the \"global\" option").
			WithHint("Use the regexp_matches function instead.")
	}
	re, err := compileRegex(str(a[1]), ci)
	if err != nil {
		return nil, err
	}
	m := re.FindStringSubmatchIndex(str(a[0]))
	if m == nil {
		return types.DNull, nil
	}
	s := str(a[0])
	var elems []types.Datum
	if len(m) == 2 {
		elems = []types.Datum{types.DString(s[m[0]:m[1]])}
	}
	for i := 2; i+1 < len(m); i += 2 {
		if m[i] < 0 {
			elems = append(elems, types.DNull)
		} else {
			elems = append(elems, types.DString(s[m[i]:m[i+1]]))
		}
	}
	return types.NewDArray(types.Text, elems), nil
}

// substringRegex is substring(s from pattern): the first parenthesized
// subexpression's match, or the whole match.
func substringRegex(_ *EvalContext, a []types.Datum) (types.Datum, error) {
	re, err := compileRegex(str(a[1]), false)
	if err != nil {
		return nil, err
	}
	s := str(a[0])
	m := re.FindStringSubmatchIndex(s)
	if m == nil {
		return types.DNull, nil
	}
	if len(m) >= 4 {
		if m[2] < 0 {
			return types.DNull, nil
		}
		return types.DString(s[m[2]:m[3]]), nil
	}
	return types.DString(s[m[0]:m[1]]), nil
}

func init() {
	T, I4, B := types.Text, types.Int4, types.Bytes
	strFn := func(f func(string) string) evalFn {
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) { return textResult(f(str(a[0]))) }
	}
	def("lower", tt(T), T, strFn(strings.ToLower))
	def("upper", tt(T), T, strFn(strings.ToUpper))
	def("initcap", tt(T), T, strFn(initcap))
	def("reverse", tt(T), T, strFn(reverseString))
	def("md5", tt(T), T, strFn(func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }))
	def("md5", tt(B), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		h := md5.Sum(a[0].(types.DBytes))
		return types.DString(hex.EncodeToString(h[:])), nil
	})
	charLen := func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return types.DInt(utf8.RuneCountInString(str(a[0]))), nil
	}
	byteLen := func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		switch v := a[0].(type) {
		case types.DBytes:
			return types.DInt(len(v)), nil
		case types.DString:
			return types.DInt(len(v)), nil
		}
		return nil, sqlerr.Internalf("sem: octet_length of %T", a[0])
	}
	for _, n := range []string{"length", "char_length", "character_length"} {
		def(n, tt(T), I4, charLen)
	}
	def("length", tt(B), I4, byteLen)
	def("octet_length", tt(T), I4, byteLen)
	def("octet_length", tt(B), I4, byteLen)
	def("bit_length", tt(T), I4, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return types.DInt(8 * len(str(a[0]))), nil
	})
	for _, n := range []string{"substr", "substring"} {
		def(n, tt(T, I4), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			return substrRunes(str(a[0]), i64(a[1]), 0, false)
		})
		def(n, tt(T, I4, I4), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			return substrRunes(str(a[0]), i64(a[1]), i64(a[2]), true)
		})
		def(n, tt(B, I4), B, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			return substrBytes(a[0].(types.DBytes), i64(a[1]), 0, false)
		})
		def(n, tt(B, I4, I4), B, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
			return substrBytes(a[0].(types.DBytes), i64(a[1]), i64(a[2]), true)
		})
	}
	def("substring", tt(T, T), T, substringRegex)
	trim := func(left, right bool) (evalFn, evalFn) {
		return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
				return types.DString(trimSet(str(a[0]), " ", left, right)), nil
			}, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
				return types.DString(trimSet(str(a[0]), str(a[1]), left, right)), nil
			}
	}
	for name, lr := range map[string][2]bool{"btrim": {true, true}, "ltrim": {true, false}, "rtrim": {false, true}} {
		one, two := trim(lr[0], lr[1])
		def(name, tt(T), T, one)
		def(name, tt(T, T), T, two)
	}
	def("replace", tt(T, T, T), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		if str(a[1]) == "" {
			return a[0], nil
		}
		s, from, to := str(a[0]), str(a[1]), str(a[2])
		if len(to) > len(from) && int64(strings.Count(s, from))*int64(len(to)-len(from))+int64(len(s)) > maxResultBytes {
			return nil, errTooLarge()
		}
		return types.DString(strings.ReplaceAll(s, from, to)), nil
	})
	def("left", tt(T, I4), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return leftRight(str(a[0]), i64(a[1]), true), nil
	})
	def("right", tt(T, I4), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return leftRight(str(a[0]), i64(a[1]), false), nil
	})
	def("lpad", tt(T, I4), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return pad(str(a[0]), i64(a[1]), " ", true)
	})
	def("lpad", tt(T, I4, T), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return pad(str(a[0]), i64(a[1]), str(a[2]), true)
	})
	def("rpad", tt(T, I4), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return pad(str(a[0]), i64(a[1]), " ", false)
	})
	def("rpad", tt(T, I4, T), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return pad(str(a[0]), i64(a[1]), str(a[2]), false)
	})
	posFn := func(_ *EvalContext, a []types.Datum) (types.Datum, error) { return strpos(str(a[0]), str(a[1])), nil }
	def("strpos", tt(T, T), I4, posFn)
	def("position", tt(T, T), I4, posFn)
	def("split_part", tt(T, T, I4), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return splitPart(str(a[0]), str(a[1]), i64(a[2]))
	})
	def("repeat", tt(T, I4), T, func(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
		s, n := str(a[0]), i64(a[1])
		if n <= 0 || s == "" {
			return types.DString(""), nil
		}
		if int64(len(s))*n > maxResultBytes {
			return nil, errTooLarge()
		}
		if err := ctx.checkCancel(); err != nil {
			return nil, err
		}
		return types.DString(strings.Repeat(s, int(n))), nil
	})
	def("ascii", tt(T), I4, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		s := str(a[0])
		if s == "" {
			return types.DInt(0), nil
		}
		r, _ := utf8.DecodeRuneInString(s)
		return types.DInt(r), nil
	})
	def("chr", tt(I4), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		n := i64(a[0])
		switch {
		case n == 0:
			return nil, sqlerr.New(codeProgramLimitExceeded, "null character not permitted")
		case n < 0:
			return nil, sqlerr.New(codeProgramLimitExceeded, "character number must be positive")
		case n > unicode.MaxRune || (n >= 0xD800 && n <= 0xDFFF):
			return nil, sqlerr.Newf(codeProgramLimitExceeded, "requested character too large for encoding: %d", n)
		}
		return types.DString(string(rune(n))), nil
	})
	def("starts_with", tt(T, T), types.Bool, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return types.MakeDBool(strings.HasPrefix(str(a[0]), str(a[1]))), nil
	})
	def("translate", tt(T, T, T), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return types.DString(translate(str(a[0]), str(a[1]), str(a[2]))), nil
	})
	overlay := func(s, r string, start, count int64) (types.Datum, error) {
		head, err := substrRunes(s, 1, start-1, true)
		if err != nil {
			return nil, sqlerr.New(codeSubstringError, "negative substring length not allowed")
		}
		tail, _ := substrRunes(s, start+count, 0, false)
		return textResult(string(head.(types.DString)) + r + string(tail.(types.DString)))
	}
	def("overlay", tt(T, T, I4), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return overlay(str(a[0]), str(a[1]), i64(a[2]), int64(utf8.RuneCountInString(str(a[1]))))
	})
	def("overlay", tt(T, T, I4, I4), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return overlay(str(a[0]), str(a[1]), i64(a[2]), i64(a[3]))
	})
	def("to_hex", tt(I4), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return types.DString(strconv.FormatUint(uint64(uint32(i64(a[0]))), 16)), nil
	})
	def("to_hex", tt(types.Int8), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		return types.DString(strconv.FormatUint(uint64(i64(a[0])), 16)), nil
	})
	def("quote_ident", tt(T), T, strFn(quoteIdent))
	def("quote_literal", tt(T), T, strFn(quoteLiteralFn))
	def("quote_nullable", tt(T), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		if a[0] == types.DNull {
			return types.DString("NULL"), nil
		}
		return types.DString(quoteLiteralFn(str(a[0]))), nil
	}).nonStrict = true
	def("regexp_replace", tt(T, T, T), T, regexpReplace)
	def("regexp_replace", tt(T, T, T, T), T, regexpReplace)
	def("regexp_match", tt(T, T), types.TextArray, regexpMatch)
	def("regexp_match", tt(T, T, T), types.TextArray, regexpMatch)
	regexpLike := func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		flags := ""
		if len(a) > 2 {
			flags = str(a[2])
		}
		_, ci, err := regexFlags(flags)
		if err != nil {
			return nil, err
		}
		re, err := compileRegex(str(a[1]), ci)
		if err != nil {
			return nil, err
		}
		return types.MakeDBool(re.MatchString(str(a[0]))), nil
	}
	def("regexp_like", tt(T, T), types.Bool, regexpLike)
	def("regexp_like", tt(T, T, T), types.Bool, regexpLike)
	def("like_escape", tt(T, T), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		s, err := likeEscape(str(a[0]), str(a[1]))
		if err != nil {
			return nil, err
		}
		return types.DString(s), nil
	})
	def("similar_to_escape", tt(T), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		s, err := similarToRegex(str(a[0]), "", false)
		return types.DString(s), err
	})
	def("similar_to_escape", tt(T, T), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		s, err := similarToRegex(str(a[0]), str(a[1]), true)
		return types.DString(s), err
	})
	def("string_to_array", tt(T, T), types.TextArray, stringToArray).nonStrict = true
	def("string_to_array", tt(T, T, T), types.TextArray, stringToArray).nonStrict = true
	def("encode", tt(B, T), T, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		b := a[0].(types.DBytes)
		switch strings.ToLower(str(a[1])) {
		case "hex":
			return textResult(hex.EncodeToString(b))
		case "base64":
			return textResult(base64.StdEncoding.EncodeToString(b))
		case "escape":
			return textResult(strings.TrimPrefix(types.FormatText(b, nil, nil), `\x`))
		}
		return nil, sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "unrecognized encoding: \"%s\"", str(a[1]))
	})
	def("decode", tt(T, T), B, func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		s := str(a[0])
		var out []byte
		var err error
		switch strings.ToLower(str(a[1])) {
		case "hex":
			out, err = hex.DecodeString(s)
		case "base64":
			out, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
		default:
			return nil, sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "unrecognized encoding: \"%s\"", str(a[1]))
		}
		if err != nil {
			return nil, sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "invalid %s data", str(a[1]))
		}
		return types.DBytes(out), nil
	})
	defCustom("concat", buildConcatFn)
	defCustom("concat_ws", buildConcatFn)
	defCustom("format", buildFormat)
}

// stringToArray is string_to_array(s, delim[, nullString]).
func stringToArray(_ *EvalContext, a []types.Datum) (types.Datum, error) {
	if a[0] == types.DNull {
		return types.DNull, nil
	}
	s := str(a[0])
	if s == "" {
		return types.NewDArray(types.Text, nil), nil
	}
	var parts []string
	switch {
	case a[1] == types.DNull:
		for _, r := range s {
			parts = append(parts, string(r))
		}
	case str(a[1]) == "":
		parts = []string{s}
	default:
		parts = strings.Split(s, str(a[1]))
	}
	if len(parts) > maxArrayElems {
		return nil, errTooLarge()
	}
	elems := make([]types.Datum, len(parts))
	for i, p := range parts {
		if len(a) > 2 && a[2] != types.DNull && p == str(a[2]) {
			elems[i] = types.DNull
		} else {
			elems[i] = types.DString(p)
		}
	}
	return types.NewDArray(types.Text, elems), nil
}

// buildConcatFn builds concat(any...) and concat_ws(sep, any...): NULL
// arguments are skipped, the others printed by their output functions.
func buildConcatFn(b *Builder, name string, args []Expr) (Expr, error) {
	ws := name == "concat_ws"
	if len(args) == 0 || (ws && len(args) < 1) {
		return nil, errUndefinedFunction(name, nil)
	}
	vol := Immutable
	for i := range args {
		var err error
		if args[i], err = b.resolveUnknownAsText(args[i]); err != nil {
			return nil, err
		}
		vol = max(vol, castVolatility(args[i].Type(), types.Text))
	}
	if ws {
		var err error
		if args[0], err = b.coerce(args[0], types.Text); err != nil {
			return nil, errUndefinedFunction(name, exprTypes(args))
		}
	}
	argTypes := exprTypes(args)
	fn := func(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
		var sb strings.Builder
		sep, start := "", 0
		if ws {
			if a[0] == types.DNull {
				return types.DNull, nil
			}
			sep, start = str(a[0]), 1
		}
		first := true
		for i := start; i < len(a); i++ {
			if a[i] == types.DNull {
				continue
			}
			if !first {
				sb.WriteString(sep)
			}
			first = false
			sb.WriteString(types.FormatText(a[i], argTypes[i], ctx.settings()))
			if sb.Len() > maxResultBytes {
				return nil, errTooLarge()
			}
		}
		return types.DString(sb.String()), nil
	}
	return newCall(name, args, types.Text, fn, false, vol), nil
}

// buildFormat builds format(fmt, args...) with %s, %I, %L and %%, and
// positions (%1$s); widths and flags are not supported (0A000).
func buildFormat(b *Builder, name string, args []Expr) (Expr, error) {
	if len(args) == 0 {
		return nil, errUndefinedFunction(name, nil)
	}
	vol := Immutable
	for i := range args {
		var err error
		if args[i], err = b.resolveUnknownAsText(args[i]); err != nil {
			return nil, err
		}
		vol = max(vol, castVolatility(args[i].Type(), types.Text))
	}
	var err error
	if args[0], err = b.coerce(args[0], types.Text); err != nil {
		return nil, errUndefinedFunction(name, exprTypes(args))
	}
	argTypes := exprTypes(args)
	fn := func(ctx *EvalContext, a []types.Datum) (types.Datum, error) {
		if a[0] == types.DNull {
			return types.DNull, nil
		}
		f := str(a[0])
		var sb strings.Builder
		next := 1
		for i := 0; i < len(f); i++ {
			if f[i] != '%' {
				sb.WriteByte(f[i])
				continue
			}
			i++
			if i >= len(f) {
				return nil, sqlerr.New(sqlerr.CodeInvalidParameterValue, "unterminated format() type specifier").
					WithHint("For a single \"%%\" use \"%%%%\".")
			}
			if f[i] == '%' {
				sb.WriteByte('%')
				continue
			}
			// An argument position: %n$.
			j := i
			for j < len(f) && f[j] >= '0' && f[j] <= '9' {
				j++
			}
			argIdx := next
			if j < len(f) && f[j] == '$' && j > i {
				n, _ := strconv.Atoi(f[i:j])
				if n == 0 {
					return nil, sqlerr.New(sqlerr.CodeInvalidParameterValue, "format specifies argument 0, but arguments are numbered from 1")
				}
				argIdx = n
				i = j + 1
			}
			if i >= len(f) {
				return nil, sqlerr.New(sqlerr.CodeInvalidParameterValue, "unterminated format() type specifier")
			}
			conv := f[i]
			if conv != 's' && conv != 'I' && conv != 'L' {
				if strings.IndexByte("-0123456789*", conv) >= 0 {
					return nil, sqlerr.Unsupportedf("format() widths and flags are not supported")
				}
				return nil, sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "unrecognized format() type specifier \"%c\"", conv).
					WithHint("For a single \"%%\" use \"%%%%\".")
			}
			if argIdx >= len(a) {
				return nil, sqlerr.New(sqlerr.CodeInvalidParameterValue, "too few arguments for format()")
			}
			next = argIdx + 1
			v := a[argIdx]
			switch conv {
			case 's':
				if v != types.DNull {
					sb.WriteString(types.FormatText(v, argTypes[argIdx], ctx.settings()))
				}
			case 'I':
				if v == types.DNull {
					return nil, sqlerr.New(sqlerr.CodeNullValueNotAllowed, "null values cannot be formatted as an SQL identifier")
				}
				sb.WriteString(quoteIdent(types.FormatText(v, argTypes[argIdx], ctx.settings())))
			case 'L':
				if v == types.DNull {
					sb.WriteString("NULL")
				} else {
					sb.WriteString(quoteLiteralFn(types.FormatText(v, argTypes[argIdx], ctx.settings())))
				}
			}
			if sb.Len() > maxResultBytes {
				return nil, errTooLarge()
			}
		}
		return types.DString(sb.String()), nil
	}
	return newCall(name, args, types.Text, fn, false, vol), nil
}
