package sql

import (
	"context"
	"sync"
	"time"

	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/sql/parser"
	"github.com/cairndb/cairn/internal/sql/pgwire"
	"github.com/cairndb/cairn/internal/sql/rowenc"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// Bounds of a session.
const (
	maxPreparedStatements = 10000
	maxPortals            = 10000
	// maxAutoRetries bounds transparent retries of an autocommit statement.
	maxAutoRetries = 20
)

// txnState is where a session is in its transaction.
type txnState int

const (
	noTxn       txnState = iota // autocommit: each statement its own transaction
	explicitTxn                 // inside BEGIN ... COMMIT
	failedTxn                   // an explicit transaction failed: only ROLLBACK/COMMIT
	implicitTxn                 // extended protocol without BEGIN: until Sync
)

// prepared is a prepared statement.
type prepared struct {
	sql  string
	stmt *parser.Statement // nil for an empty query
	plan *planned
}

// portal is a prepared statement bound to parameters.
type portal struct {
	stmt          *prepared
	params        []types.Datum
	resultFormats []int16
	// iter is the running statement after its first Execute; sent counts
	// rows sent so far.
	iter rowIter
	sent int64
	// live is the plan the running iter belongs to.
	live *planned
	// x is the running statement's execution context.
	x *execCtx
}

type session struct {
	srv    *Server
	ctx    context.Context
	user   string
	dbName string
	vars   vars

	// state and txn: the current transaction (nil until a statement needs
	// it). Invariant: txn == nil when state == noTxn between statements.
	state txnState
	txn   *kv.Txn
	// txnOpts are the options of BEGIN for the lazily started transaction.
	txnIso kvpb.IsolationLevel
	// txnTime is the transaction's timestamp for now().
	txnTime time.Time
	// implicitFailed: a statement of the implicit transaction failed; Sync
	// rolls it back.
	implicitFailed bool

	statements map[string]*prepared
	portals    map[string]*portal

	// afterCommitFns run once the current transaction committed (cleanup
	// of dropped tables' data).
	afterCommitFns []func(ctx context.Context)

	// seqLast is the last value nextval (or setval) gave each sequence in
	// this session, for currval.
	seqLast map[uint32]int64
	// copyStarted: the running statement consumed COPY data, so it cannot
	// be re-run transparently.
	copyStarted bool

	// savepoints of the explicit transaction, innermost last.
	savepoints []namedSavepoint
	// catVersion is the catalog version txn read (execCtx.resolver).
	catVersion struct {
		txn     *kv.Txn
		version uint64
	}

	mu struct {
		sync.Mutex
		cancel context.CancelFunc // of the running statement
	}
}

func newSession(ctx context.Context, srv *Server, p pgwire.StartupParams) *session {
	return &session{
		srv: srv, ctx: ctx, user: p.User, dbName: p.Database, vars: newVars(),
		statements: map[string]*prepared{}, portals: map[string]*portal{},
	}
}

var _ pgwire.Session = (*session)(nil)

func (s *session) ParameterStatus() map[string]string {
	return map[string]string{"server_version": serverVersionNumber, "is_superuser": "on"}
}

func (s *session) TxnStatus() pgwire.TxnStatus {
	switch s.state {
	case explicitTxn:
		return pgwire.TxnInBlock
	case failedTxn:
		return pgwire.TxnFailed
	}
	return pgwire.TxnIdle
}

// Cancel cancels the running statement.
func (s *session) Cancel() {
	s.mu.Lock()
	if s.mu.cancel != nil {
		s.mu.cancel()
	}
	s.mu.Unlock()
}

func (s *session) Close() {
	s.closeAllPortals()
	if s.txn != nil {
		s.txn.Rollback()
		s.txn = nil
	}
	s.state = noTxn
}

// stmtContext returns the context of one statement, cancelable by Cancel
// and bounded by statement_timeout.
func (s *session) stmtContext(ctx context.Context) (context.Context, context.CancelFunc) {
	var cancel context.CancelFunc
	if ms := s.statementTimeout(); ms > 0 {
		ctx, cancel = context.WithTimeout(ctx, ms)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	s.mu.Lock()
	s.mu.cancel = cancel
	s.mu.Unlock()
	return ctx, func() {
		s.mu.Lock()
		s.mu.cancel = nil
		s.mu.Unlock()
		cancel()
	}
}

func (s *session) statementTimeout() time.Duration {
	v, _ := s.vars.get("statement_timeout")
	var ms int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0
		}
		ms = ms*10 + int64(c-'0')
	}
	return time.Duration(ms) * time.Millisecond
}

// isolation is the level for a new transaction.
func (s *session) isolation() kvpb.IsolationLevel {
	v, _ := s.vars.get("default_transaction_isolation")
	return isolationLevel(v)
}

func isolationLevel(v string) kvpb.IsolationLevel {
	switch v {
	case "repeatable read":
		return kvpb.IsolationLevel_REPEATABLE_READ
	case "read committed":
		return kvpb.IsolationLevel_READ_COMMITTED
	}
	return kvpb.IsolationLevel_SERIALIZABLE
}

// ensureTxn starts the session's transaction if it has none yet.
func (s *session) ensureTxn(ctx context.Context) (*kv.Txn, error) {
	if s.txn != nil {
		return s.txn, nil
	}
	iso := s.isolation()
	if s.state == explicitTxn {
		iso = s.txnIso
	}
	txn, err := s.srv.cfg.DB.Begin(ctx, kv.TxnOptions{Isolation: iso})
	if err != nil {
		return nil, err
	}
	s.txn, s.txnTime = txn, time.Now()
	return txn, nil
}

// finishTxn commits (or rolls back) the session's transaction and ends
// what belongs to it: its savepoints, its portals, and the work waiting for
// its commit (run after a successful commit, dropped otherwise).
func (s *session) finishTxn(ctx context.Context, commit bool) error {
	txn := s.txn
	s.txn, s.savepoints = nil, nil
	s.closeAllPortals()
	var err error
	if txn != nil {
		if commit {
			_, err = txn.Commit(ctx)
		} else {
			txn.Rollback()
		}
	}
	if commit && err == nil {
		s.runAfterCommit(ctx)
	} else {
		s.afterCommitFns = nil
	}
	return err
}

// ExecuteSimple runs the statements of a Query message in order; each
// statement outside an explicit transaction commits on its own.
func (s *session) ExecuteSimple(ctx context.Context, query string, sink pgwire.ResultSink) error {
	stmts, err := parser.Parse(query)
	if err != nil {
		s.failExplicit()
		return toPgError(err)
	}
	if len(stmts) == 0 {
		return sink.EmptyQuery()
	}
	// Several statements without BEGIN run as one implicit transaction,
	// as in PostgreSQL: a failure rolls back the ones before it.
	implicit := len(stmts) > 1 && s.state == noTxn
	if implicit {
		s.state = implicitTxn
	}
	for i := range stmts {
		if err := s.runStatement(ctx, &stmts[i], nil, nil, 0, sink, true); err != nil {
			if s.state == implicitTxn {
				_ = s.finishTxn(ctx, false)
				s.state = noTxn
			}
			return err
		}
	}
	if implicit && s.state == implicitTxn {
		if err := s.commitBlock(ctx); err != nil {
			return toPgError(err)
		}
	}
	return nil
}

// failExplicit marks an explicit transaction failed after an error. As in
// PostgreSQL, a failed transaction releases its row locks at once (another
// transaction may be waiting for them: a deadlock's survivor) unless a
// savepoint may still bring it back.
func (s *session) failExplicit() {
	if s.state == explicitTxn {
		s.state = failedTxn
		if s.txn != nil && len(s.savepoints) == 0 {
			s.txn.Rollback()
		}
	}
}

// runStatement plans and runs one statement to completion (simple
// protocol). describe sends the columns first.
func (s *session) runStatement(ctx context.Context, stmt *parser.Statement, params []types.Datum,
	formats []int16, maxRows int, sink pgwire.ResultSink, describe bool) error {
	ctx, done := s.stmtContext(ctx)
	defer done()
	if handled, err := s.control(ctx, stmt, sink); handled {
		if err != nil {
			s.failExplicit()
			return toPgError(err)
		}
		return nil
	}
	if s.state == failedTxn {
		return toPgError(errInFailedTxn)
	}
	autocommit := s.state == noTxn
	s.copyStarted = false
	for attempt := 0; ; attempt++ {
		sentAny, tag, err := s.planAndRun(ctx, stmt, params, formats, sink, describe && attempt == 0)
		if err == nil && autocommit {
			err = s.finishTxn(ctx, true)
		}
		if err == nil {
			// Complete only once committed: a retried statement must not
			// complete twice.
			return sink.Complete(tag)
		}
		if autocommit {
			_ = s.finishTxn(ctx, false)
			if isRetryable(err) && !sentAny && !s.copyStarted && attempt < maxAutoRetries && ctx.Err() == nil {
				continue
			}
		} else {
			s.failExplicit()
		}
		return toPgError(err)
	}
}

// planAndRun plans a statement in the session's transaction and runs it.
func (s *session) planAndRun(ctx context.Context, stmt *parser.Statement, params []types.Datum,
	formats []int16, sink pgwire.ResultSink, describe bool) (sentAny bool, tag string, err error) {
	txn, err := s.ensureTxn(ctx)
	if err != nil {
		return false, "", err
	}
	x := &execCtx{sess: s, txn: txn, params: params, sink: sink}
	p, err := s.plan(ctx, x, stmt, nil)
	if err != nil {
		return false, "", err
	}
	if describe && p.cols != nil {
		if err := sink.Columns(pgColumns(p.cols, nil)); err != nil {
			return false, "", err
		}
	}
	return s.runPlanned(ctx, x, p, formats, sink)
}

var errInFailedTxn = sqlerr.New(sqlerr.CodeInFailedSQLTransaction,
	"current transaction is aborted, commands ignored until end of transaction block")

// runPlanned runs a planned statement in the session's transaction and
// streams its rows; sentAny reports whether a row reached the client, tag
// is the completion tag the caller sends (once the statement committed).
func (s *session) runPlanned(ctx context.Context, x *execCtx, p *planned, formats []int16, sink pgwire.ResultSink) (sentAny bool, tag string, err error) {
	it, err := p.open(ctx, x)
	if err != nil {
		return false, "", err
	}
	defer it.Close()
	var n int64
	var buf [][]byte
	for {
		row, err := it.Next(ctx)
		if err != nil {
			return sentAny, "", err
		}
		if row == nil {
			break
		}
		if buf, err = s.encodeRow(ctx, x, buf[:0], row, p.cols, formats); err != nil {
			return sentAny, "", err
		}
		if err := sink.Row(buf); err != nil {
			return sentAny, "", err
		}
		sentAny = true
		n++
	}
	if p.cols == nil {
		n = it.RowsAffected()
	}
	return sentAny, p.tag(n), nil
}

// encodeRow encodes a row's values in the requested formats (nil: text).
// A regclass is output as its relation's name, read from x's catalog.
func (s *session) encodeRow(ctx context.Context, x *execCtx, dst [][]byte, row []types.Datum, cols []resultCol, formats []int16) ([][]byte, error) {
	for i, d := range row {
		if d == nil || d == types.DNull {
			dst = append(dst, nil)
			continue
		}
		var b []byte
		if pgwire.ResultFormat(formats, i) == pgwire.FormatBinary {
			b = types.AppendBinary(nil, d, cols[i].typ)
		} else if isRegClass(cols[i].typ) {
			var err error
			if b, err = regclassText(&catalogAccess{ctx: ctx, x: x}, d, cols[i].typ, s.typeSettings()); err != nil {
				return nil, err
			}
		} else {
			b = types.AppendText(nil, d, cols[i].typ, s.typeSettings())
		}
		if b == nil {
			b = []byte{}
		}
		dst = append(dst, b)
	}
	return dst, nil
}

func (s *session) typeSettings() *types.Settings { return nil }

func pgColumns(cols []resultCol, formats []int16) []pgwire.Column {
	out := make([]pgwire.Column, len(cols))
	for i, c := range cols {
		out[i] = pgwire.Column{
			Name: c.name, TableOID: c.tableOID, TableAttributeNumber: c.attNum,
			TypeOID: uint32(c.typ.Oid()), TypeSize: c.typ.Size(), TypeModifier: c.typ.Typmod(),
			Format: pgwire.ResultFormat(formats, i),
		}
	}
	return out
}

// afterCommit registers fn to run once the current transaction commits.
func (s *session) afterCommit(fn func(ctx context.Context)) {
	s.afterCommitFns = append(s.afterCommitFns, fn)
}

func (s *session) runAfterCommit(ctx context.Context) {
	fns := s.afterCommitFns
	s.afterCommitFns = nil
	for _, fn := range fns {
		fn(ctx)
	}
}

// deleteSpan removes the data of a dropped table (no longer reachable:
// its descriptor is gone), in bounded batches of plain deletes. Best
// effort: what a crash leaves behind is unreachable garbage.
func (s *session) deleteSpan(ctx context.Context, span rowenc.Span) {
	db := s.srv.cfg.DB
	start := span.Key
	for ctx.Err() == nil {
		resp, err := db.Scan(ctx, start, span.EndKey, 1000)
		if err != nil || len(resp.Kvs) == 0 {
			return
		}
		reqs := make([]*kvpb.RequestUnion, len(resp.Kvs))
		for i, kv := range resp.Kvs {
			reqs[i] = &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Delete{Delete: &kvpb.DeleteRequest{Key: kv.Key}}}
		}
		if _, err := db.Batch(ctx, reqs); err != nil {
			return
		}
		if !resp.More {
			return
		}
		start = resp.ResumeKey
	}
}

// namedSavepoint is a SAVEPOINT of the explicit transaction.
type namedSavepoint struct {
	name string
	sp   *kv.Savepoint
	// afterCommit is len(afterCommitFns) when the savepoint was taken.
	afterCommit int
}
