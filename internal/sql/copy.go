package sql

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/pgwire"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// COPY t [(cols)] FROM STDIN: the data stream is parsed (text or CSV),
// each field converted with its column type's text input, and the rows
// written through a tableWriter (defaults, constraints, unique checks,
// indexes). Inside a transaction block the rows go into the block's
// transaction, bounded by its write limit (54000 past it). Outside one,
// unlike PostgreSQL where COPY is atomic, each batch of rows commits in a
// transaction of its own, so that loads of any size work: a failure
// leaves the batches before it committed.

// Bounds of one COPY batch (outside a transaction block).
const (
	copyBatchRows = 1000
	copyBatchKeys = 5000
)

// copyOptions are COPY's format options.
type copyOptions struct {
	csv           bool
	delim         byte
	null          string
	header        bool
	headerMatch   bool
	quote, escape byte
}

func parseCopyOptions(opts []*pg_query.Node) (copyOptions, error) {
	o := copyOptions{delim: '\t', null: `\N`, quote: '"', escape: '"'}
	var delim, null, quote, escape *string
	seen := map[string]bool{}
	str := func(de *pg_query.DefElem) (string, error) {
		if s := de.Arg.GetString_(); s != nil {
			return s.GetSval(), nil
		}
		return "", sqlerr.Newf(sqlerr.CodeSyntaxError, "%s requires a string value", de.Defname)
	}
	for _, n := range opts {
		de := n.GetDefElem()
		if de == nil {
			continue
		}
		if seen[de.Defname] {
			return o, sqlerr.New(sqlerr.CodeSyntaxError, "conflicting or redundant options")
		}
		seen[de.Defname] = true
		switch de.Defname {
		case "format":
			f, err := str(de)
			if err != nil {
				return o, err
			}
			switch strings.ToLower(f) {
			case "text":
			case "csv":
				o.csv = true
			case "binary":
				return o, sqlerr.Unsupportedf("COPY with FORMAT binary is not supported yet")
			default:
				return o, sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "COPY format %q not recognized", f)
			}
		case "delimiter", "null", "quote", "escape":
			s, err := str(de)
			if err != nil {
				return o, err
			}
			switch de.Defname {
			case "delimiter":
				delim = &s
			case "null":
				null = &s
			case "quote":
				quote = &s
			case "escape":
				escape = &s
			}
		case "header":
			switch {
			case de.Arg == nil:
				o.header = true
			case de.Arg.GetBoolean() != nil:
				o.header = de.Arg.GetBoolean().GetBoolval()
			case de.Arg.GetInteger() != nil:
				o.header = de.Arg.GetInteger().GetIval() != 0
			default:
				s, _ := str(de)
				switch strings.ToLower(s) {
				case "true", "on", "1", "yes":
					o.header = true
				case "false", "off", "0", "no":
				case "match":
					o.header, o.headerMatch = true, true
				default:
					return o, sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "%s requires a Boolean value or \"match\"", de.Defname)
				}
			}
		case "freeze", "encoding":
			// Accepted and ignored (the data is UTF-8).
		default:
			return o, sqlerr.Unsupportedf("COPY option %q is not supported", de.Defname)
		}
	}
	if o.csv {
		o.delim, o.null = ',', ""
	}
	if delim != nil {
		if len(*delim) != 1 {
			return o, sqlerr.New(sqlerr.CodeFeatureNotSupported, "COPY delimiter must be a single one-byte character")
		}
		o.delim = (*delim)[0]
	}
	if null != nil {
		o.null = *null
	}
	if !o.csv && (quote != nil || escape != nil) {
		return o, sqlerr.New(sqlerr.CodeFeatureNotSupported, "COPY quote and escape are available only in CSV mode")
	}
	if quote != nil {
		if len(*quote) != 1 {
			return o, sqlerr.New(sqlerr.CodeFeatureNotSupported, "COPY quote must be a single one-byte character")
		}
		o.quote = (*quote)[0]
		o.escape = o.quote
	}
	if escape != nil {
		if len(*escape) != 1 {
			return o, sqlerr.New(sqlerr.CodeFeatureNotSupported, "COPY escape must be a single one-byte character")
		}
		o.escape = (*escape)[0]
	}
	if o.delim == '\n' || o.delim == '\r' || (!o.csv && o.delim == '\\') || strings.ContainsAny(o.null, "\r\n") {
		return o, sqlerr.New(sqlerr.CodeInvalidParameterValue, "COPY delimiter or null string cannot be newline, carriage return or backslash")
	}
	if o.csv && o.delim == o.quote {
		return o, sqlerr.New(sqlerr.CodeInvalidParameterValue, "COPY delimiter and quote must be different")
	}
	return o, nil
}

func (s *session) planCopy(ctx context.Context, x *execCtx, cs *pg_query.CopyStmt) (*planned, error) {
	switch {
	case !cs.IsFrom:
		return nil, sqlerr.Unsupportedf("COPY ... TO is not supported yet")
	case cs.Query != nil:
		return nil, sqlerr.Unsupportedf("COPY (query) is not supported yet")
	case cs.Filename != "" || cs.IsProgram:
		return nil, sqlerr.Unsupportedf("COPY FROM a file or program is not supported: use COPY FROM STDIN")
	case cs.WhereClause != nil:
		return nil, sqlerr.Unsupportedf("COPY FROM ... WHERE is not supported yet")
	}
	opts, err := parseCopyOptions(cs.Options)
	if err != nil {
		return nil, err
	}
	desc, err := x.table(ctx, cs.Relation, false)
	if err != nil {
		return nil, err
	}
	var targets []uint32 // column ids
	if len(cs.Attlist) == 0 {
		for _, c := range desc.Columns {
			if !c.Hidden {
				targets = append(targets, c.ID)
			}
		}
	} else {
		seen := map[string]bool{}
		for _, n := range cs.Attlist {
			name := n.GetString_().GetSval()
			if seen[name] {
				return nil, sqlerr.Newf(sqlerr.CodeDuplicateColumn, "column %q specified more than once", name)
			}
			seen[name] = true
			c := desc.ColumnByName(name)
			if c == nil {
				return nil, sqlerr.Newf(sqlerr.CodeUndefinedColumn, "column %q of relation %q does not exist", name, desc.Name)
			}
			targets = append(targets, c.ID)
		}
	}
	return &planned{
		needsTxn: true,
		tag:      func(n int64) string { return "COPY " + itoa64(n) },
		open: func(ctx context.Context, x *execCtx) (rowIter, error) {
			n, err := x.copyFrom(ctx, desc, targets, opts)
			return countIter{n}, err
		},
	}, nil
}

// copyRow is one parsed row: values of the target columns, in order.
type copyRow struct {
	line int
	vals []types.Datum
}

// copyFrom reads the data stream and writes its rows.
func (x *execCtx) copyFrom(ctx context.Context, desc *catalog.TableDescriptor, targets []uint32, opts copyOptions) (int64, error) {
	if x.sink == nil {
		return 0, sqlerr.Unsupportedf("COPY FROM STDIN needs a client connection")
	}
	formats := make([]int16, len(targets))
	r, err := x.sink.CopyIn(pgwire.FormatText, formats)
	if err != nil {
		return 0, err
	}
	x.sess.copyStarted = true
	cols := make([]*catalog.Column, len(targets))
	for i, id := range targets {
		cols[i] = desc.ColumnByID(id)
	}
	where := func(line int) string { return fmt.Sprintf("COPY %s, line %d", desc.Name, line) }
	rd := &copyReader{br: bufio.NewReaderSize(r, 64<<10), opts: opts}

	w := &copyWriter{x: x, desc: desc, targets: targets, inBlock: x.sess.state != noTxn}
	var batch []copyRow
	var total int64
	batchRows := copyBatchRows
	if n := copyBatchKeys / (1 + len(desc.Indexes)); n < batchRows {
		batchRows = max(n, 1)
	}
	first := true
	for {
		fields, nulls, err := rd.next()
		if err != nil {
			return 0, withWhere(err, where(rd.line))
		}
		if fields == nil {
			break
		}
		if first && opts.header {
			first = false
			if opts.headerMatch {
				if err := matchHeader(fields, cols); err != nil {
					return 0, withWhere(err, where(rd.line))
				}
			}
			continue
		}
		first = false
		if len(fields) > len(cols) {
			return 0, withWhere(sqlerr.New("22P04", "extra data after last expected column"), where(rd.line))
		}
		if len(fields) < len(cols) {
			return 0, withWhere(sqlerr.Newf("22P04", "missing data for column %q", cols[len(fields)].Name), where(rd.line))
		}
		row := copyRow{line: rd.startLine, vals: make([]types.Datum, len(cols))}
		for i, f := range fields {
			if nulls[i] {
				row.vals[i] = types.DNull
				continue
			}
			d, err := types.ParseText(f, cols[i].Type, x.sess.typeSettings())
			if err != nil {
				return 0, withWhere(err, fmt.Sprintf("COPY %s, line %d, column %s: %q", desc.Name, rd.startLine, cols[i].Name, f))
			}
			row.vals[i] = d
		}
		batch = append(batch, row)
		if len(batch) >= batchRows {
			n, err := w.write(ctx, batch, where)
			total += n
			if err != nil {
				return total, err
			}
			batch = batch[:0]
		}
	}
	n, err := w.write(ctx, batch, where)
	return total + n, err
}

func matchHeader(fields []string, cols []*catalog.Column) error {
	if len(fields) != len(cols) {
		return sqlerr.Newf("22P04", "wrong number of fields in header line: got %d, expected %d", len(fields), len(cols))
	}
	for i, f := range fields {
		if f != cols[i].Name {
			return sqlerr.Newf("22P04", "column name mismatch in header line field %d: got %q, expected %q", i+1, f, cols[i].Name)
		}
	}
	return nil
}

// withWhere sets the context of an SQL error.
func withWhere(err error, where string) error {
	var se *sqlerr.Error
	if errors.As(err, &se) {
		c := *se
		if c.Where == "" {
			c.Where = where
		}
		return &c
	}
	return err
}

// copyWriter writes COPY's batches.
type copyWriter struct {
	x       *execCtx
	desc    *catalog.TableDescriptor // as planned
	targets []uint32
	inBlock bool

	// The writer of the current descriptor version (re-read per batch
	// outside a block).
	w    *tableWriter
	ords []int
}

// prepare (re)builds the table writer for desc.
func (c *copyWriter) prepare(x *execCtx, desc *catalog.TableDescriptor) error {
	if c.w != nil && c.w.desc.Version == desc.Version && c.w.desc.ID == desc.ID {
		return nil
	}
	w, err := x.newTableWriter(desc)
	if err != nil {
		return err
	}
	ords := make([]int, len(c.targets))
	for i, id := range c.targets {
		col := desc.ColumnByID(id)
		if col == nil {
			return sqlerr.Newf(sqlerr.CodeUndefinedColumn, "a column of relation %q was dropped during COPY", desc.Name)
		}
		ords[i] = desc.ColumnOrdinal(id)
	}
	c.w, c.ords = w, ords
	return nil
}

// write writes a batch: in the block's transaction, or in one of its own.
func (c *copyWriter) write(ctx context.Context, batch []copyRow, where func(int) string) (int64, error) {
	if len(batch) == 0 {
		return 0, nil
	}
	if c.inBlock {
		if err := c.prepare(c.x, c.desc); err != nil {
			return 0, err
		}
		return c.insert(ctx, c.x, batch, where)
	}
	var n int64
	err := catalog.RunTxn(ctx, c.x.sess.srv.cfg.DB, func(ctx context.Context, txn *kv.Txn) error {
		bx := &execCtx{sess: c.x.sess, txn: txn, sink: c.x.sink}
		res, err := bx.resolver(ctx)
		if err != nil {
			return err
		}
		desc, err := res.GetTableByID(ctx, c.desc.ID)
		if err != nil {
			return err
		}
		if desc == nil {
			return sqlerr.Newf(sqlerr.CodeUndefinedTable, "relation %q was dropped during COPY", c.desc.Name)
		}
		c.w = nil // its expressions' evaluation context belongs to an older execCtx
		if err := c.prepare(bx, desc); err != nil {
			return err
		}
		n, err = c.insert(ctx, bx, batch, where)
		return err
	})
	return n, err
}

func (c *copyWriter) insert(ctx context.Context, x *execCtx, batch []copyRow, where func(int) string) (int64, error) {
	desc := c.w.desc
	var n int64
	for _, r := range batch {
		row := make([]types.Datum, len(desc.Columns))
		set := make([]bool, len(desc.Columns))
		for i, d := range r.vals {
			row[c.ords[i]], set[c.ords[i]] = d, true
		}
		if err := c.w.fill(ctx, x, row, set); err != nil {
			return n, withWhere(err, where(r.line))
		}
		if _, err := c.w.insert(ctx, x, row, false); err != nil {
			if errors.Is(err, kv.ErrTxnTooLarge) {
				err = sqlerr.Newf(sqlerr.CodeProgramLimitExceeded,
					"COPY inside a transaction block is limited to about %d written keys (rows and index entries): %v", kv.MaxTxnWrites, err).
					WithHint("Run the COPY outside a transaction block: it then commits in batches.")
			}
			return n, withWhere(err, where(r.line))
		}
		n++
	}
	return n, nil
}

// copyReader parses COPY's text and CSV formats.
type copyReader struct {
	br   *bufio.Reader
	opts copyOptions
	// line is the number of the last line read; startLine the first line
	// of the last record.
	line, startLine int
	done            bool
	buf             []byte
}

// readLine returns the next line without its line ending; ok is false at
// the end of the data.
func (r *copyReader) readLine() (line []byte, ok bool, err error) {
	if r.done {
		return nil, false, nil
	}
	r.buf = r.buf[:0]
	for {
		chunk, err := r.br.ReadSlice('\n')
		r.buf = append(r.buf, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			if len(r.buf) == 0 {
				r.done = true
				return nil, false, nil
			}
			break
		}
		if err != nil {
			return nil, false, err
		}
		break
	}
	r.line++
	b := r.buf
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	return b, true, nil
}

// next returns the fields of the next record (nulls[i]: field i is NULL),
// or nil at the end of the data.
func (r *copyReader) next() (fields []string, nulls []bool, err error) {
	line, ok, err := r.readLine()
	if err != nil || !ok {
		return nil, nil, err
	}
	r.startLine = r.line
	if string(trimCR(line)) == `\.` {
		r.done = true
		return nil, nil, nil
	}
	if r.opts.csv {
		return r.csvRecord(trimCR(line))
	}
	return r.textRecord(trimCR(line))
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// textRecord splits a line of the text format: fields separated by the
// delimiter, backslash escapes, the null string (compared before
// de-escaping) for NULL.
func (r *copyReader) textRecord(line []byte) ([]string, []bool, error) {
	var fields []string
	var nulls []bool
	delim := r.opts.delim
	var b strings.Builder
	start := 0
	for i := 0; ; {
		if i == len(line) || line[i] == delim {
			raw := string(line[start:i])
			if raw == r.opts.null {
				fields, nulls = append(fields, ""), append(nulls, true)
			} else {
				fields, nulls = append(fields, b.String()), append(nulls, false)
			}
			b.Reset()
			if i == len(line) {
				return fields, nulls, nil
			}
			i++
			start = i
			continue
		}
		c := line[i]
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 == len(line) {
			return nil, nil, sqlerr.New("22P04", "end-of-copy marker corrupt")
		}
		c = line[i+1]
		i += 2
		switch c {
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
		case 'v':
			b.WriteByte('\v')
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(c - '0')
			for k := 0; k < 2 && i < len(line) && line[i] >= '0' && line[i] <= '7'; k++ {
				v = v*8 + int(line[i]-'0')
				i++
			}
			b.WriteByte(byte(v))
		case 'x':
			if i < len(line) && isHex(line[i]) {
				v := hexVal(line[i])
				i++
				if i < len(line) && isHex(line[i]) {
					v = v*16 + hexVal(line[i])
					i++
				}
				b.WriteByte(byte(v))
			} else {
				b.WriteByte('x')
			}
		default:
			b.WriteByte(c)
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}

// csvRecord parses a CSV record starting with line: quoted fields may
// hold delimiters and line breaks (the record then continues on the next
// lines); an unquoted field equal to the null string is NULL.
func (r *copyReader) csvRecord(line []byte) ([]string, []bool, error) {
	var fields []string
	var nulls []bool
	o := r.opts
	var b strings.Builder
	quoted, inQuote := false, false
	for i := 0; ; {
		if i == len(line) {
			if inQuote {
				// The quoted field goes on over a line break.
				next, ok, err := r.readLine()
				if err != nil {
					return nil, nil, err
				}
				if !ok {
					return nil, nil, sqlerr.New("22P04", "unterminated CSV quoted field")
				}
				b.WriteByte('\n')
				line, i = trimCR(next), 0
				continue
			}
		}
		if i == len(line) || (!inQuote && line[i] == o.delim) {
			s := b.String()
			if !quoted && s == o.null {
				fields, nulls = append(fields, ""), append(nulls, true)
			} else {
				fields, nulls = append(fields, s), append(nulls, false)
			}
			b.Reset()
			quoted = false
			if i == len(line) {
				return fields, nulls, nil
			}
			i++
			continue
		}
		c := line[i]
		switch {
		case inQuote && c == o.escape && i+1 < len(line) && line[i+1] == o.quote:
			b.WriteByte(o.quote)
			i += 2
		case c == o.quote:
			inQuote = !inQuote
			quoted = true
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
}
