package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/text/width"
)

// sqlColumn is one column of a result as the shell prints it.
type sqlColumn struct {
	name  string
	right bool // right-aligned: a numeric type
}

// numericTypeOID reports whether values of the type are right-aligned, as in
// psql's column_type_alignment: int2/4/8, float4/8, numeric, money, oid,
// xid, xid8 and cid.
func numericTypeOID(oid uint32) bool {
	switch oid {
	case 20, 21, 23, 26, 28, 29, 700, 701, 790, 1700, 5069:
		return true
	}
	return false
}

// formatAligned renders a result like psql's default aligned format with
// border 1: column names centered over their columns, a dashed rule with
// "-+-" junctions, cells separated by " | ", text left-aligned and numbers
// right-aligned, NULL (a nil value) as the empty string, values with
// newlines continued on the following lines with "+" marks, then the
// "(N rows)" footer and an empty line. Trailing spaces match psql's byte for
// byte (the header line keeps its padding; the last column of a row does
// not, unless it is right-aligned or continued).
func formatAligned(cols []sqlColumn, rows [][][]byte) string {
	var b strings.Builder
	ncols := len(cols)
	// Every cell and header, split into display lines.
	header := make([][]displayLine, ncols)
	widths := make([]int, ncols)
	for i, c := range cols {
		header[i] = displayLines(c.name)
		for _, l := range header[i] {
			widths[i] = max(widths[i], l.width)
		}
	}
	cells := make([][][]displayLine, len(rows))
	for r, row := range rows {
		cells[r] = make([][]displayLine, ncols)
		for i := range cols {
			var v string
			if i < len(row) {
				v = string(row[i])
			}
			cells[r][i] = displayLines(v)
			for _, l := range cells[r][i] {
				widths[i] = max(widths[i], l.width)
			}
		}
	}

	// Header: every column name centered, multi-line names continued with
	// "+" on the right.
	if ncols > 0 {
		nlines := 0
		for _, h := range header {
			nlines = max(nlines, len(h))
		}
		for ln := 0; ln < nlines; ln++ {
			for i := range cols {
				b.WriteByte(' ')
				last := true
				if ln < len(header[i]) {
					l := header[i][ln]
					pad := widths[i] - l.width
					b.WriteString(strings.Repeat(" ", pad/2))
					b.WriteString(l.text)
					b.WriteString(strings.Repeat(" ", (pad+1)/2))
					last = ln == len(header[i])-1
				} else {
					b.WriteString(strings.Repeat(" ", widths[i]))
				}
				if last {
					b.WriteByte(' ')
				} else {
					b.WriteByte('+')
				}
				if i < ncols-1 {
					b.WriteByte('|')
				}
			}
			b.WriteByte('\n')
		}
	}
	b.WriteByte('-')
	for i, w := range widths {
		b.WriteString(strings.Repeat("-", w))
		if i < ncols-1 {
			b.WriteString("-+-")
		}
	}
	b.WriteString("-\n")

	for _, row := range cells {
		nlines := 0
		for _, c := range row {
			nlines = max(nlines, len(c))
		}
		for ln := 0; ln < nlines; ln++ {
			for i, col := range cols {
				lastCol := i == ncols-1
				lines := row[i]
				// Left mark: a space, which is also the mark of a
				// continuation line.
				b.WriteByte(' ')
				more := ln+1 < len(lines) // this value continues on the next line
				if ln >= len(lines) {
					// This value has no more lines: pad, except at the end.
					if !lastCol {
						b.WriteString(strings.Repeat(" ", widths[i]))
					}
				} else {
					l := lines[ln]
					pad := strings.Repeat(" ", widths[i]-l.width)
					if col.right {
						b.WriteString(pad)
						b.WriteString(l.text)
					} else {
						b.WriteString(l.text)
						if !lastCol || more {
							b.WriteString(pad)
						}
					}
				}
				switch {
				case more:
					b.WriteByte('+')
				case !lastCol:
					b.WriteByte(' ')
				}
				if !lastCol {
					b.WriteByte('|')
				}
			}
			b.WriteByte('\n')
		}
	}
	b.WriteString(rowsFooter(len(rows)))
	b.WriteString("\n\n")
	return b.String()
}

// rowsFooter is psql's "(1 row)" / "(N rows)".
func rowsFooter(n int) string {
	if n == 1 {
		return "(1 row)"
	}
	return "(" + strconv.Itoa(n) + " rows)"
}

// A displayLine is one line of a value as printed, with its width in
// terminal columns.
type displayLine struct {
	text  string
	width int
}

// displayLines splits s into lines at '\n' and makes each printable as psql
// does: a tab becomes spaces up to the next multiple of 8 columns, '\r'
// becomes `\r` and other control characters `\xNN`. Invalid UTF-8 is
// replaced by U+FFFD.
func displayLines(s string) []displayLine {
	var lines []displayLine
	var b strings.Builder
	w := 0
	for _, r := range s {
		switch {
		case r == '\n':
			lines = append(lines, displayLine{b.String(), w})
			b.Reset()
			w = 0
		case r == '\t':
			for {
				b.WriteByte(' ')
				w++
				if w%8 == 0 {
					break
				}
			}
		case r == '\r':
			b.WriteString(`\r`)
			w += 2
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02X`, r)
			w += 4
		default:
			b.WriteRune(r)
			w += runeWidth(r)
		}
	}
	return append(lines, displayLine{b.String(), w})
}

// runeWidth is the number of terminal columns r occupies: 0 for combining
// and other zero-width characters, 2 for East Asian wide and full-width
// characters, 1 otherwise.
func runeWidth(r rune) int {
	switch {
	case r == utf8.RuneError:
		return 1
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// formatTiming is psql's \timing line: milliseconds with three decimals,
// and from one second on also the duration as [[[D ]HH:]MM:]SS.SSS.
func formatTiming(d time.Duration) string {
	ms := float64(d.Nanoseconds()) / 1e6
	s := fmt.Sprintf("Time: %.3f ms", ms)
	if ms < 1000 {
		return s
	}
	secs := ms / 1000
	mins := int(secs / 60)
	secs -= float64(mins * 60)
	if mins < 60 {
		return fmt.Sprintf("%s (%02d:%06.3f)", s, mins, secs)
	}
	hours, mins := mins/60, mins%60
	if hours < 24 {
		return fmt.Sprintf("%s (%02d:%02d:%06.3f)", s, hours, mins, secs)
	}
	days, hours := hours/24, hours%24
	return fmt.Sprintf("%s (%d %02d:%02d:%06.3f)", s, days, hours, mins, secs)
}

// formatError renders an error of statement query for stderr. A server
// error is "ERROR:  message (SQLSTATE xxxxx)", followed, as in psql, by the
// line of the query holding the error position with a caret under it and by
// the DETAIL and HINT fields. Other errors (a lost connection) are printed
// as they are.
func formatError(err error, query string) string {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return "ERROR:  " + err.Error() + "\n"
	}
	var b strings.Builder
	sev := pgErr.Severity
	if sev == "" {
		sev = "ERROR"
	}
	fmt.Fprintf(&b, "%s:  %s (SQLSTATE %s)\n", sev, pgErr.Message, pgErr.Code)
	if pgErr.Position > 0 {
		b.WriteString(errorPositionLines(query, int(pgErr.Position)))
	}
	writeNoticeFields(&b, pgErr.Detail, pgErr.Hint)
	return b.String()
}

// formatNotice renders a NoticeResponse as psql does: "WARNING:  message"
// and its DETAIL and HINT.
func formatNotice(n *pgconn.Notice) string {
	var b strings.Builder
	sev := n.Severity
	if sev == "" {
		sev = "NOTICE"
	}
	fmt.Fprintf(&b, "%s:  %s\n", sev, n.Message)
	writeNoticeFields(&b, n.Detail, n.Hint)
	return b.String()
}

func writeNoticeFields(b *strings.Builder, detail, hint string) {
	if detail != "" {
		fmt.Fprintf(b, "DETAIL:  %s\n", detail)
	}
	if hint != "" {
		fmt.Fprintf(b, "HINT:  %s\n", hint)
	}
}

// errorPositionLines is psql's "LINE n: text" and caret for a 1-based
// character position in query ("" if it is out of range).
func errorPositionLines(query string, pos int) string {
	runes := []rune(query)
	if pos < 1 || pos > len(runes)+1 {
		return ""
	}
	lineNo, lineStart := 1, 0
	for i := 0; i < pos-1; i++ {
		if runes[i] == '\n' {
			lineNo, lineStart = lineNo+1, i+1
		}
	}
	lineEnd := lineStart
	for lineEnd < len(runes) && runes[lineEnd] != '\n' {
		lineEnd++
	}
	prefix := fmt.Sprintf("LINE %d: ", lineNo)
	line := displayLines(string(runes[lineStart:lineEnd]))[0].text
	caret := len(prefix) + displayLines(string(runes[lineStart : pos-1]))[0].width
	return prefix + line + "\n" + strings.Repeat(" ", caret) + "^\n"
}
