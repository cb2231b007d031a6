package sem

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

type likeResult uint8

const (
	likeFalse likeResult = iota
	likeTrue
	// likeAbort: the text ran out; no later start position can match
	// either, so the callers stop trying (PostgreSQL's LIKE_ABORT).
	likeAbort
)

func errLikeEscape() error {
	return sqlerr.New(codeInvalidEscapeSequence, "LIKE pattern must not end with escape character")
}

// likeMatch matches s against the LIKE pattern p: % any string, _ any one
// character, \ escapes the next character.
func likeMatch(s, p string) (bool, error) {
	r, err := likeRec(s, p)
	return r == likeTrue, err
}

func likeRec(s, p string) (likeResult, error) {
	for len(p) > 0 {
		switch p[0] {
		case '\\':
			if len(p) == 1 {
				return likeFalse, errLikeEscape()
			}
			p = p[1:]
			pr, pn := utf8.DecodeRuneInString(p)
			if len(s) == 0 {
				return likeAbort, nil
			}
			sr, sn := utf8.DecodeRuneInString(s)
			if pr != sr {
				return likeFalse, nil
			}
			p, s = p[pn:], s[sn:]
		case '%':
			p = p[1:]
			// Consume the %s and _s that follow.
			for len(p) > 0 && (p[0] == '%' || p[0] == '_') {
				if p[0] == '_' {
					if len(s) == 0 {
						return likeAbort, nil
					}
					_, sn := utf8.DecodeRuneInString(s)
					s = s[sn:]
				}
				p = p[1:]
			}
			if len(p) == 0 {
				return likeTrue, nil
			}
			// The next literal character, to skip hopeless positions.
			var first rune = -1
			if p[0] == '\\' {
				if len(p) == 1 {
					return likeFalse, errLikeEscape()
				}
				first, _ = utf8.DecodeRuneInString(p[1:])
			} else {
				first, _ = utf8.DecodeRuneInString(p)
			}
			for len(s) > 0 {
				sr, sn := utf8.DecodeRuneInString(s)
				if sr == first {
					r, err := likeRec(s, p)
					if err != nil || r != likeFalse {
						return r, err
					}
				}
				s = s[sn:]
			}
			return likeAbort, nil
		case '_':
			if len(s) == 0 {
				return likeAbort, nil
			}
			_, sn := utf8.DecodeRuneInString(s)
			s, p = s[sn:], p[1:]
		default:
			if len(s) == 0 {
				return likeAbort, nil
			}
			pr, pn := utf8.DecodeRuneInString(p)
			sr, sn := utf8.DecodeRuneInString(s)
			if pr != sr {
				return likeFalse, nil
			}
			p, s = p[pn:], s[sn:]
		}
	}
	if len(s) == 0 {
		return likeTrue, nil
	}
	return likeFalse, nil
}

func likeOp(op string) evalFn {
	neg := strings.HasPrefix(op, "!")
	ci := strings.HasSuffix(op, "*")
	return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		s, p := string(a[0].(types.DString)), string(a[1].(types.DString))
		if ci {
			s, p = strings.ToLower(s), strings.ToLower(p)
		}
		m, err := likeMatch(s, p)
		if err != nil {
			return nil, err
		}
		return types.MakeDBool(m != neg), nil
	}
}

// likeEscape rewrites a LIKE pattern written with escape character esc
// into one with the default escape \ (PostgreSQL's like_escape).
func likeEscape(p, esc string) (string, error) {
	switch utf8.RuneCountInString(esc) {
	case 0:
		return strings.ReplaceAll(p, `\`, `\\`), nil
	case 1:
	default:
		return "", sqlerr.New(codeInvalidEscapeSequence, "invalid escape string").
			WithHint("Escape string must be empty or one character.")
	}
	if esc == `\` {
		return p, nil
	}
	e, _ := utf8.DecodeRuneInString(esc)
	var b strings.Builder
	afterEsc := false
	for _, r := range p {
		switch {
		case afterEsc:
			b.WriteByte('\\')
			b.WriteRune(r)
			afterEsc = false
		case r == e:
			afterEsc = true
		case r == '\\':
			b.WriteString(`\\`)
		default:
			b.WriteRune(r)
		}
	}
	if afterEsc {
		return "", errLikeEscape()
	}
	return b.String(), nil
}

// regexCache keeps compiled regular expressions by source: a pattern is
// usually a constant evaluated for every row.
var regexCache struct {
	sync.Mutex
	m map[string]*regexp.Regexp
}

const regexCacheSize = 256

// compileRegex compiles a PostgreSQL regular expression (ARE) with Go's
// RE2 engine: '.' matches newlines, as PostgreSQL's does by default;
// features RE2 lacks (back-references, lookaround) fail with 2201B.
func compileRegex(pattern string, ci bool) (*regexp.Regexp, error) {
	src := "(?s)" + pattern
	if ci {
		src = "(?is)" + pattern
	}
	regexCache.Lock()
	re, ok := regexCache.m[src]
	regexCache.Unlock()
	if ok {
		return re, nil
	}
	re, err := regexp.Compile(src)
	if err != nil {
		msg := err.Error()
		if e, ok := err.(*syntax.Error); ok {
			msg = string(e.Code)
		}
		return nil, sqlerr.Newf(codeInvalidRegularExpr, "invalid regular expression: %s", msg)
	}
	regexCache.Lock()
	if regexCache.m == nil || len(regexCache.m) >= regexCacheSize {
		regexCache.m = map[string]*regexp.Regexp{}
	}
	regexCache.m[src] = re
	regexCache.Unlock()
	return re, nil
}

func regexOp(op string) evalFn {
	neg := strings.HasPrefix(op, "!")
	ci := strings.HasSuffix(op, "*")
	return func(_ *EvalContext, a []types.Datum) (types.Datum, error) {
		re, err := compileRegex(string(a[1].(types.DString)), ci)
		if err != nil {
			return nil, err
		}
		return types.MakeDBool(re.MatchString(string(a[0].(types.DString))) != neg), nil
	}
}

// similarToRegex translates a SIMILAR TO pattern into a regular expression
// anchored at both ends (PostgreSQL's similar_to_escape), with escape
// character esc ("" for none).
func similarToRegex(p string, esc string, hasEsc bool) (string, error) {
	var e rune = '\\'
	if hasEsc {
		switch utf8.RuneCountInString(esc) {
		case 0:
			e = -1
		case 1:
			e, _ = utf8.DecodeRuneInString(esc)
		default:
			return "", sqlerr.New(codeInvalidEscapeSequence, "invalid escape string").
				WithHint("Escape string must be empty or one character.")
		}
	}
	var b strings.Builder
	b.WriteString("^(?:")
	afterEsc, inClass := false, false
	for _, r := range p {
		switch {
		case afterEsc:
			// An escaped " marks substring(... SIMILAR ...)'s match;
			// in SIMILAR TO it matches nothing.
			if r != '"' {
				b.WriteByte('\\')
				b.WriteRune(r)
			}
			afterEsc = false
		case r == e:
			afterEsc = true
		case inClass:
			if r == ']' {
				inClass = false
			}
			if r == '\\' {
				b.WriteString(`\\`)
			} else {
				b.WriteRune(r)
			}
		case r == '[':
			inClass = true
			b.WriteRune(r)
		case r == '%':
			b.WriteString(".*")
		case r == '_':
			b.WriteByte('.')
		case r == '(':
			b.WriteString("(?:")
		case r == '\\', r == '.', r == '^', r == '$':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	if afterEsc {
		return "", sqlerr.New(codeInvalidEscapeSequence, "SIMILAR TO pattern must not end with escape character")
	}
	b.WriteString(")$")
	return b.String(), nil
}
