package pgwire

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// fakeFactory makes sessions of a tiny language, one statement per ';':
//
//	SELECT n | SELECT $k  one int8 (or, for a text-typed $k, text) row
//	ROWS n                n int8 rows 1..n, column "i"
//	STREAM n k            like ROWS n, but after k rows waits for gate
//	ERROR code msg...     fails with SQLSTATE code; Position is the
//	                      statement's offset in the query string
//	FATAL code msg...     fails with a FATAL error
//	PLAIN                 fails with an error that has no SQLSTATE
//	PARSEERROR            fails at Prepare (or in a simple query) 42601
//	SLEEP                 blocks until Cancel (57014) or the context ends
//	COPY ...              COPY FROM STDIN: counts the lines
//	COPYSKIP              COPY FROM STDIN that reads none of the data
//	NOTICE msg...         sends a notice
//	SET name value        reports a ParameterStatus
//	BEGIN | COMMIT | ROLLBACK
//
// Comments ("--" to the end of the line) are blanks.
type fakeFactory struct {
	// maxRows caps ROWS and STREAM (0: no cap); noBlock makes SLEEP fail and
	// STREAM not wait (fuzzing).
	maxRows int
	noBlock bool
	// sleeping receives a value when a SLEEP starts; gate releases STREAM.
	sleeping chan struct{}
	gate     chan struct{}

	prepares atomic.Int64
	cancels  atomic.Int64

	mu struct {
		sync.Mutex
		params   []StartupParams
		executed []string
		lastBind BindRequest
		open     int
	}
}

func newFakeFactory() *fakeFactory {
	return &fakeFactory{sleeping: make(chan struct{}, 16), gate: make(chan struct{})}
}

func (f *fakeFactory) NewSession(ctx context.Context, p StartupParams) (Session, error) {
	switch {
	case p.Database == "nope":
		return nil, &Error{Code: CodeInvalidCatalogName, Message: fmt.Sprintf("database %q does not exist", p.Database)}
	case p.User == "nobody":
		return nil, &Error{Code: CodeInvalidAuthorizationSpec, Message: fmt.Sprintf("role %q does not exist", p.User)}
	}
	f.mu.Lock()
	f.mu.params = append(f.mu.params, p)
	f.mu.open++
	f.mu.Unlock()
	return &fakeSession{
		f: f, params: p, txn: TxnIdle,
		stmts: map[string]*fakeStmt{}, portals: map[string]*fakePortal{},
		cancelCh: make(chan struct{}, 1),
	}, nil
}

func (f *fakeFactory) lastParams() StartupParams {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mu.params[len(f.mu.params)-1]
}

func (f *fakeFactory) executed() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.mu.executed...)
}

func (f *fakeFactory) openSessions() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mu.open
}

type fakeSession struct {
	f        *fakeFactory
	params   StartupParams
	stmts    map[string]*fakeStmt
	portals  map[string]*fakePortal
	txn      TxnStatus
	cancelCh chan struct{}
	closed   bool
}

// fakeStmt is a parsed statement of the fake language.
type fakeStmt struct {
	text      string
	offset    int // in the query string, for error positions
	verb      string
	args      []string
	paramOIDs []uint32
	cols      []Column
}

type fakePortal struct {
	stmt    *fakeStmt
	params  [][]byte
	pfmts   []int16
	formats []int16
	next    int // rows sent so far
}

const (
	oidInt8 = 20
	oidInt4 = 23
	oidText = 25
)

// splitStatements splits a query into its non-empty statements.
func splitStatements(query string) []*fakeStmt {
	var lines []string
	for _, l := range strings.Split(query, "\n") {
		if i := strings.Index(l, "--"); i >= 0 {
			l = l[:i] + strings.Repeat(" ", len(l)-i)
		}
		lines = append(lines, l)
	}
	query = strings.Join(lines, "\n")
	var out []*fakeStmt
	off := 0
	for _, part := range strings.Split(query, ";") {
		trimmed := strings.TrimLeft(part, " \t\r\n")
		if s := strings.TrimSpace(trimmed); s != "" {
			fields := strings.Fields(s)
			out = append(out, &fakeStmt{text: s, offset: off + len(part) - len(trimmed), verb: strings.ToUpper(fields[0]), args: fields[1:]})
		}
		off += len(part) + 1
	}
	return out
}

// analyze checks a statement and works out its parameters and columns.
func (st *fakeStmt) analyze(specified []uint32) error {
	if st.verb == "PARSEERROR" {
		return &Error{Code: "42601", Message: "syntax error", Position: st.offset + 1}
	}
	nparams := 0
	for _, a := range st.args {
		if strings.HasPrefix(a, "$") {
			k, err := strconv.Atoi(a[1:])
			if err != nil || k < 1 || k > 100 {
				return &Error{Code: "42P02", Message: "bad parameter " + a}
			}
			nparams = max(nparams, k)
		}
	}
	st.paramOIDs = make([]uint32, nparams)
	for i := range st.paramOIDs {
		st.paramOIDs[i] = oidInt8
		if i < len(specified) && specified[i] != 0 {
			st.paramOIDs[i] = specified[i]
		}
	}
	switch st.verb {
	case "SELECT":
		if len(st.args) != 1 {
			return &Error{Code: "42601", Message: "SELECT takes one value"}
		}
		typ := uint32(oidInt8)
		if k, ok := paramIndex(st.args[0]); ok {
			typ = st.paramOIDs[k]
		}
		st.cols = []Column{fakeColumn("?column?", typ)}
	case "ROWS", "STREAM":
		st.cols = []Column{fakeColumn("i", oidInt8)}
	}
	return nil
}

func paramIndex(a string) (int, bool) {
	if !strings.HasPrefix(a, "$") {
		return 0, false
	}
	k, _ := strconv.Atoi(a[1:])
	return k - 1, true
}

func fakeColumn(name string, oid uint32) Column {
	size := int16(-1)
	switch oid {
	case oidInt8:
		size = 8
	case oidInt4:
		size = 4
	}
	return Column{Name: name, TypeOID: oid, TypeSize: size, TypeModifier: -1}
}

func (s *fakeSession) ParameterStatus() map[string]string {
	return map[string]string{"is_superuser": "on"}
}

func (s *fakeSession) ExecuteSimple(ctx context.Context, query string, sink ResultSink) error {
	stmts := splitStatements(query)
	if len(stmts) == 0 {
		return sink.EmptyQuery()
	}
	for _, st := range stmts {
		if err := st.analyze(nil); err != nil {
			return s.fail(err)
		}
		if st.cols != nil {
			if err := sink.Columns(st.cols); err != nil {
				return err
			}
		}
		p := &fakePortal{stmt: st}
		if _, err := s.run(ctx, p, 0, sink); err != nil {
			return s.fail(err)
		}
	}
	return nil
}

// fail marks an explicit transaction failed.
func (s *fakeSession) fail(err error) error {
	if s.txn == TxnInBlock {
		s.txn = TxnFailed
	}
	return err
}

func (s *fakeSession) Prepare(ctx context.Context, name, query string, paramOIDs []uint32) error {
	s.f.prepares.Add(1)
	if _, ok := s.stmts[name]; ok && name != "" {
		return &Error{Code: CodeDuplicatePreparedStatement, Message: fmt.Sprintf("prepared statement %q already exists", name)}
	}
	stmts := splitStatements(query)
	if len(stmts) > 1 {
		return &Error{Code: "42601", Message: "cannot insert multiple commands into a prepared statement"}
	}
	st := &fakeStmt{}
	if len(stmts) == 1 {
		st = stmts[0]
		if err := st.analyze(paramOIDs); err != nil {
			return err
		}
	}
	s.stmts[name] = st
	return nil
}

func (s *fakeSession) DescribeStatement(ctx context.Context, name string) (StatementDescription, error) {
	st, ok := s.stmts[name]
	if !ok {
		return StatementDescription{}, &Error{Code: CodeInvalidSQLStatementName, Message: fmt.Sprintf("prepared statement %q does not exist", name)}
	}
	return StatementDescription{ParamOIDs: st.paramOIDs, Columns: st.cols}, nil
}

func (s *fakeSession) Bind(ctx context.Context, req BindRequest) error {
	s.f.mu.Lock()
	s.f.mu.lastBind = req
	s.f.mu.Unlock()
	st, ok := s.stmts[req.Statement]
	if !ok {
		return &Error{Code: CodeInvalidSQLStatementName, Message: fmt.Sprintf("prepared statement %q does not exist", req.Statement)}
	}
	if _, ok := s.portals[req.Portal]; ok && req.Portal != "" {
		return &Error{Code: CodeDuplicateCursor, Message: fmt.Sprintf("portal %q already exists", req.Portal)}
	}
	if len(req.Params) != len(st.paramOIDs) {
		return &Error{Code: CodeProtocolViolation, Message: fmt.Sprintf("bind message supplies %d parameters, but prepared statement requires %d", len(req.Params), len(st.paramOIDs))}
	}
	if n := len(req.ResultFormats); n > 1 && n != len(st.cols) {
		return &Error{Code: CodeProtocolViolation, Message: "wrong number of result formats"}
	}
	s.portals[req.Portal] = &fakePortal{stmt: st, params: req.Params, pfmts: req.ParamFormats, formats: req.ResultFormats}
	return nil
}

func (s *fakeSession) DescribePortal(ctx context.Context, name string) ([]Column, error) {
	p, ok := s.portals[name]
	if !ok {
		return nil, &Error{Code: CodeInvalidCursorName, Message: fmt.Sprintf("portal %q does not exist", name)}
	}
	if p.stmt.cols == nil {
		return nil, nil
	}
	cols := append([]Column(nil), p.stmt.cols...)
	for i := range cols {
		cols[i].Format = ResultFormat(p.formats, i)
	}
	return cols, nil
}

func (s *fakeSession) Execute(ctx context.Context, portal string, maxRows int, sink ResultSink) (bool, error) {
	p, ok := s.portals[portal]
	if !ok {
		return false, &Error{Code: CodeInvalidCursorName, Message: fmt.Sprintf("portal %q does not exist", portal)}
	}
	suspended, err := s.run(ctx, p, maxRows, sink)
	if err != nil {
		return false, s.fail(err)
	}
	return suspended, nil
}

// value returns the text of argument a: a literal or a parameter.
func (p *fakePortal) value(a string) (string, error) {
	k, ok := paramIndex(a)
	if !ok {
		return a, nil
	}
	if k >= len(p.params) {
		return "", &Error{Code: "42P02", Message: fmt.Sprintf("there is no parameter %s", a)}
	}
	v := p.params[k]
	if v == nil {
		return "", nil
	}
	if p.pfmts[k] == FormatText {
		return string(v), nil
	}
	switch p.stmt.paramOIDs[k] {
	case oidInt8:
		if len(v) != 8 {
			return "", &Error{Code: CodeInvalidBinaryRepresentation, Message: "insufficient data left in message"}
		}
		return strconv.FormatInt(int64(binary.BigEndian.Uint64(v)), 10), nil
	case oidInt4:
		if len(v) != 4 {
			return "", &Error{Code: CodeInvalidBinaryRepresentation, Message: "insufficient data left in message"}
		}
		return strconv.FormatInt(int64(int32(binary.BigEndian.Uint32(v))), 10), nil
	default:
		return string(v), nil
	}
}

// encode encodes a value of column i in the portal's format.
func (p *fakePortal) encode(i int, text string) ([]byte, error) {
	if ResultFormat(p.formats, i) == FormatText || p.stmt.cols[i].TypeOID != oidInt8 {
		return []byte(text), nil
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return nil, &Error{Code: CodeInvalidTextRepresentation, Message: fmt.Sprintf("invalid input syntax for type bigint: %q", text)}
	}
	return binary.BigEndian.AppendUint64(nil, uint64(n)), nil
}

// run executes a portal's statement: at most maxRows rows (0: all).
func (s *fakeSession) run(ctx context.Context, p *fakePortal, maxRows int, sink ResultSink) (suspended bool, err error) {
	st := p.stmt
	s.f.mu.Lock()
	s.f.mu.executed = append(s.f.mu.executed, st.text)
	s.f.mu.Unlock()
	if s.txn == TxnFailed && st.verb != "COMMIT" && st.verb != "ROLLBACK" && st.verb != "" {
		return false, &Error{Code: "25P02", Message: "current transaction is aborted, commands ignored until end of transaction block"}
	}
	arg := func(i int) string {
		if i < len(st.args) {
			return st.args[i]
		}
		return ""
	}
	switch st.verb {
	case "":
		return false, sink.EmptyQuery()
	case "SELECT":
		if p.next > 0 {
			return false, sink.Complete("SELECT 0")
		}
		text, err := p.value(arg(0))
		if err != nil {
			return false, err
		}
		if _, ok := paramIndex(arg(0)); !ok {
			if _, err := strconv.ParseInt(text, 10, 64); err != nil {
				return false, &Error{Code: "42703", Message: fmt.Sprintf("column %q does not exist", text)}
			}
		}
		v, err := p.encode(0, text)
		if err != nil {
			return false, err
		}
		if err := sink.Row([][]byte{v}); err != nil {
			return false, err
		}
		p.next = 1
		return false, sink.Complete("SELECT 1")
	case "ROWS", "STREAM":
		n, err := strconv.Atoi(arg(0))
		if err != nil || n < 0 {
			return false, &Error{Code: CodeInvalidTextRepresentation, Message: "ROWS needs a count"}
		}
		if s.f.maxRows > 0 {
			n = min(n, s.f.maxRows)
		}
		gateAt := -1
		if st.verb == "STREAM" {
			if gateAt, err = strconv.Atoi(arg(1)); err != nil {
				return false, &Error{Code: CodeInvalidTextRepresentation, Message: "STREAM needs a gate row"}
			}
		}
		sent := 0
		for p.next < n {
			if maxRows > 0 && sent == maxRows {
				return true, nil
			}
			if p.next == gateAt && !s.f.noBlock {
				select {
				case <-s.f.gate:
				case <-ctx.Done():
					return false, ctx.Err()
				case <-time.After(20 * time.Second):
					return false, &Error{Code: CodeInternalError, Message: "STREAM: the client did not see the first rows while the rest were being produced"}
				}
			}
			p.next++
			v, err := p.encode(0, strconv.Itoa(p.next))
			if err != nil {
				return false, err
			}
			if err := sink.Row([][]byte{v}); err != nil {
				return false, err
			}
			sent++
		}
		return false, sink.Complete(fmt.Sprintf("SELECT %d", sent))
	case "ERROR", "FATAL":
		e := &Error{Code: arg(0), Message: strings.Join(st.args[min(1, len(st.args)):], " "), Position: st.offset + 1, Hint: "fake hint"}
		if st.verb == "FATAL" {
			e.Severity = SeverityFatal
		}
		return false, e
	case "PANIC":
		panic("fake session bug")
	case "PLAIN":
		return false, errors.New("plain failure")
	case "PARSEERROR":
		return false, &Error{Code: "42601", Message: "syntax error", Position: st.offset + 1}
	case "SLEEP":
		if s.f.noBlock {
			return false, &Error{Code: CodeQueryCanceled, Message: "no sleeping here"}
		}
		s.f.sleeping <- struct{}{}
		select {
		case <-s.cancelCh:
			return false, &Error{Code: CodeQueryCanceled, Message: "canceling statement due to user request"}
		case <-ctx.Done():
			return false, ctx.Err()
		}
	case "COPY":
		r, err := sink.CopyIn(FormatText, []int16{FormatText})
		if err != nil {
			return false, err
		}
		data, err := io.ReadAll(r)
		if err != nil {
			return false, err
		}
		return false, sink.Complete(fmt.Sprintf("COPY %d", bytes.Count(data, []byte("\n"))))
	case "COPYSKIP": // starts a COPY but reads none of it
		if _, err := sink.CopyIn(FormatText, nil); err != nil {
			return false, err
		}
		return false, sink.Complete("COPY 0")
	case "NOTICE":
		if err := sink.Notice(&Error{Message: strings.Join(st.args, " ")}); err != nil {
			return false, err
		}
		return false, sink.Complete("NOTICE")
	case "SET":
		if len(st.args) != 2 {
			return false, &Error{Code: "42601", Message: "SET name value"}
		}
		if err := sink.ParameterStatus(st.args[0], st.args[1]); err != nil {
			return false, err
		}
		return false, sink.Complete("SET")
	case "BEGIN":
		if s.txn == TxnIdle {
			s.txn = TxnInBlock
		}
		return false, sink.Complete("BEGIN")
	case "COMMIT", "ROLLBACK":
		tag := st.verb
		if s.txn == TxnFailed {
			tag = "ROLLBACK"
		}
		s.txn = TxnIdle
		return false, sink.Complete(tag)
	default:
		return false, &Error{Code: "42601", Message: fmt.Sprintf("syntax error at or near %q", st.verb), Position: st.offset + 1}
	}
}

func (s *fakeSession) CloseStatement(ctx context.Context, name string) error {
	st := s.stmts[name]
	delete(s.stmts, name)
	for k, p := range s.portals {
		if st != nil && p.stmt == st {
			delete(s.portals, k)
		}
	}
	return nil
}

func (s *fakeSession) ClosePortal(ctx context.Context, name string) error {
	delete(s.portals, name)
	return nil
}

func (s *fakeSession) Sync(ctx context.Context) error {
	delete(s.portals, "")
	return nil
}

func (s *fakeSession) TxnStatus() TxnStatus { return s.txn }

func (s *fakeSession) Cancel() {
	s.f.cancels.Add(1)
	select {
	case s.cancelCh <- struct{}{}:
	default:
	}
}

func (s *fakeSession) Close() {
	if s.closed {
		panic("fakeSession closed twice")
	}
	s.closed = true
	s.f.mu.Lock()
	s.f.mu.open--
	s.f.mu.Unlock()
}
