package sqllogic

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// A record is one directive of a test file: a statement, a query or a
// connection switch.
type record struct {
	kind string // "statement", "query" or "connection"
	line int    // 1-based line of the header

	// statement
	expectErr bool
	errCode   string         // expected SQLSTATE
	errRe     *regexp.Regexp // optional pattern the error message must match
	count     int64          // statement count N: rows affected; -1 if unchecked

	// query
	types    string // one letter per column
	rowsort  bool
	colnames bool
	expected []string // lines after ----, column names first with colnames
	// sepLine is the 0-based index of the ---- line, or -1 when there is
	// none; expEnd is the index just past the expected output (or past the
	// SQL without ----). -rewrite replaces lines (sepLine, expEnd).
	sepLine, expEnd int

	// connection
	conn string

	// onlyif/skipif: the engines ("cairn", "postgres") the record runs on.
	onlyif, skipif string

	sql string
}

// testFile is a parsed test file; lines are kept for -rewrite.
type testFile struct {
	path    string
	lines   []string
	records []*record
}

func parseFile(path string) (*testFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f := &testFile{path: path}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f.lines = append(f.lines, strings.TrimRight(sc.Text(), "\r"))
	}
	errf := func(i int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", path, i+1, fmt.Sprintf(format, args...))
	}
	lines := f.lines
	blank := func(i int) bool { return strings.TrimSpace(lines[i]) == "" }
	var onlyif, skipif string
	for i := 0; i < len(lines); {
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "#") {
			i++
			continue
		}
		fields := strings.Fields(line)
		if fields[0] == "onlyif" || fields[0] == "skipif" {
			if len(fields) != 2 || (fields[1] != "cairn" && fields[1] != "postgres") {
				return nil, errf(i, "want: %s cairn|postgres", fields[0])
			}
			if fields[0] == "onlyif" {
				onlyif = fields[1]
			} else {
				skipif = fields[1]
			}
			i++
			continue
		}
		r := &record{kind: fields[0], line: i + 1, count: -1, sepLine: -1, onlyif: onlyif, skipif: skipif}
		onlyif, skipif = "", ""
		switch fields[0] {
		case "connection":
			if len(fields) != 2 {
				return nil, errf(i, "want: connection NAME")
			}
			r.conn = fields[1]
			f.records = append(f.records, r)
			i++
			continue
		case "statement":
			if len(fields) < 2 {
				return nil, errf(i, "want: statement ok | statement count N | statement error SQLSTATE [REGEXP]")
			}
			switch fields[1] {
			case "ok":
				if len(fields) != 2 {
					return nil, errf(i, "statement ok takes no arguments")
				}
			case "count":
				if len(fields) != 3 {
					return nil, errf(i, "want: statement count N")
				}
				n, err := strconv.ParseInt(fields[2], 10, 64)
				if err != nil {
					return nil, errf(i, "statement count %q: %v", fields[2], err)
				}
				r.count = n
			case "error":
				if len(fields) < 3 {
					return nil, errf(i, "want: statement error SQLSTATE [REGEXP]")
				}
				r.expectErr = true
				r.errCode = fields[2]
				if len(r.errCode) != 5 {
					return nil, errf(i, "SQLSTATE %q is not 5 characters", r.errCode)
				}
				// The pattern is the rest of the line after the code, as written.
				rest := strings.TrimSpace(line[len("statement"):])
				rest = strings.TrimSpace(rest[len("error"):])
				rest = strings.TrimSpace(rest[len(r.errCode):])
				if rest != "" {
					re, err := regexp.Compile(rest)
					if err != nil {
						return nil, errf(i, "error pattern: %v", err)
					}
					r.errRe = re
				}
			default:
				return nil, errf(i, "unknown statement mode %q", fields[1])
			}
		case "query":
			if len(fields) < 2 {
				return nil, errf(i, "want: query TYPES [rowsort|nosort] [colnames]")
			}
			r.types = fields[1]
			for _, c := range r.types {
				if !strings.ContainsRune("ITRB", c) {
					return nil, errf(i, "column type %q: want I, T, R or B", c)
				}
			}
			for _, opt := range fields[2:] {
				switch opt {
				case "rowsort":
					r.rowsort = true
				case "nosort":
					r.rowsort = false
				case "colnames":
					r.colnames = true
				default:
					return nil, errf(i, "unknown query option %q", opt)
				}
			}
		default:
			return nil, errf(i, "unknown directive %q", fields[0])
		}
		i++
		var sql []string
		for i < len(lines) && !blank(i) && !(r.kind == "query" && strings.TrimSpace(lines[i]) == "----") {
			sql = append(sql, lines[i])
			i++
		}
		if len(sql) == 0 {
			return nil, errf(r.line-1, "%s without SQL", r.kind)
		}
		r.sql = strings.Join(sql, "\n")
		r.expEnd = i
		if r.kind == "query" && i < len(lines) && strings.TrimSpace(lines[i]) == "----" {
			r.sepLine = i
			i++
			for i < len(lines) && !blank(i) {
				r.expected = append(r.expected, lines[i])
				i++
			}
			r.expEnd = i
		}
		f.records = append(f.records, r)
	}
	return f, nil
}
