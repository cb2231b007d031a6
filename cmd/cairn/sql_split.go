package main

import "strings"

// sqlSplitter cuts SQL text into statements at semicolons that are outside
// string literals, quoted identifiers, dollar quotes, comments and
// parentheses, the way psql does before sending each statement on its own.
// Text is fed line by line; the lexical state carries over between lines.
type sqlSplitter struct {
	buf strings.Builder // text of the statement being read
	// Lexical state at the end of buf.
	state      lexState
	escapes    bool   // in an E'...' string: backslash escapes the next character
	dollarTag  string // in a dollar quote: its tag, "$tag$"
	depth      int    // block comment nesting or parenthesis depth
	parens     int
	hasContent bool // buf holds something besides whitespace and comments
}

type lexState int

const (
	lexNormal lexState = iota
	lexSingle          // '...'
	lexDouble          // "..."
	lexDollar          // $tag$...$tag$
	lexBlock           // /* ... */
)

// feed adds one line (without its newline) and returns the statements it
// completes, trimmed and without their semicolons. Statements holding only
// whitespace and comments are dropped.
func (s *sqlSplitter) feed(line string) []string {
	if s.buf.Len() > 0 {
		s.buf.WriteByte('\n')
	}
	var stmts []string
	start := 0 // start in line of the text not yet in buf
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch s.state {
		case lexSingle:
			switch {
			case c == '\\' && s.escapes:
				i++
			case c == '\'':
				if i+1 < len(line) && line[i+1] == '\'' {
					i++
				} else {
					s.state = lexNormal
				}
			}
		case lexDouble:
			if c == '"' {
				if i+1 < len(line) && line[i+1] == '"' {
					i++
				} else {
					s.state = lexNormal
				}
			}
		case lexDollar:
			if c == '$' && strings.HasPrefix(line[i:], s.dollarTag) {
				i += len(s.dollarTag) - 1
				s.state = lexNormal
			}
		case lexBlock:
			switch {
			case c == '*' && i+1 < len(line) && line[i+1] == '/':
				i++
				if s.depth--; s.depth == 0 {
					s.state = lexNormal
				}
			case c == '/' && i+1 < len(line) && line[i+1] == '*':
				i++
				s.depth++
			}
		default:
			switch {
			case c == '-' && i+1 < len(line) && line[i+1] == '-':
				i = len(line) // a line comment runs to the end of the line
			case c == '/' && i+1 < len(line) && line[i+1] == '*':
				i++
				s.state, s.depth = lexBlock, 1
			case c == ';' && s.parens == 0:
				s.buf.WriteString(line[start:i])
				if s.hasContent {
					stmts = append(stmts, strings.TrimSpace(s.buf.String()))
				}
				s.buf.Reset()
				s.hasContent = false
				start = i + 1
			case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			default:
				s.hasContent = true
				switch c {
				case '(':
					s.parens++
				case ')':
					if s.parens > 0 {
						s.parens--
					}
				case '\'':
					s.state = lexSingle
					s.escapes = i > 0 && (line[i-1] == 'e' || line[i-1] == 'E') && (i < 2 || !isIdentByte(line[i-2]))
				case '"':
					s.state = lexDouble
				case '$':
					if tag, ok := dollarTagAt(line[i:]); ok && (i == 0 || !isIdentByte(line[i-1])) {
						s.state, s.dollarTag = lexDollar, tag
						i += len(tag) - 1
					}
				}
			}
		}
	}
	s.buf.WriteString(line[start:])
	if s.state == lexNormal && !s.hasContent {
		// Only whitespace and finished comments so far: forget them, so
		// that the prompt does not turn into a continuation prompt.
		s.buf.Reset()
	}
	return stmts
}

// pending reports whether an unfinished statement is buffered.
func (s *sqlSplitter) pending() bool { return s.buf.Len() > 0 }

// flush returns the unfinished statement (text after the last semicolon at
// the end of the input), if it has any content, and resets the splitter.
func (s *sqlSplitter) flush() (string, bool) {
	stmt, ok := strings.TrimSpace(s.buf.String()), s.hasContent
	s.reset()
	return stmt, ok
}

func (s *sqlSplitter) reset() { *s = sqlSplitter{} }

// promptChar is psql's %R for continuation lines: the kind of construct an
// unfinished statement is in.
func (s *sqlSplitter) promptChar() byte {
	switch s.state {
	case lexSingle:
		return '\''
	case lexDouble:
		return '"'
	case lexDollar:
		return '$'
	case lexBlock:
		return '*'
	}
	if s.parens > 0 {
		return '('
	}
	return '-'
}

// dollarTagAt returns the dollar-quote opener ("$$" or "$tag$") at the start
// of s, if any. "$1" is a parameter, not a quote.
func dollarTagAt(s string) (string, bool) {
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '$':
			return s[:i+1], true
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80:
		case c >= '0' && c <= '9' && i > 1:
		default:
			return "", false
		}
	}
	return "", false
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}
