package sql

import (
	"context"
	"strconv"

	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/kvpb"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/sql/parser"
	"github.com/cairndb/cairn/internal/sql/pgwire"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// isControl reports statements the session runs itself (see control).
func isControl(stmt *parser.Statement) bool {
	switch stmt.AST.Node.(type) {
	case *pg_query.Node_TransactionStmt, *pg_query.Node_VariableSetStmt:
		return true
	}
	return false
}

func (s *session) Prepare(ctx context.Context, name, query string, paramOIDs []uint32) error {
	if _, dup := s.statements[name]; dup && name != "" {
		return &pgwire.Error{Code: "42P05", Message: "prepared statement \"" + name + "\" already exists"}
	}
	if len(s.statements) >= maxPreparedStatements {
		return &pgwire.Error{Code: sqlerr.CodeOutOfMemory, Message: "too many prepared statements"}
	}
	stmts, err := parser.Parse(query)
	if err != nil {
		return toPgError(err)
	}
	if len(stmts) > 1 {
		return &pgwire.Error{Code: sqlerr.CodeSyntaxError, Message: "cannot insert multiple commands into a prepared statement"}
	}
	ps := &prepared{sql: query}
	if len(stmts) == 1 {
		ps.stmt = &stmts[0]
		if !isControl(ps.stmt) {
			paramTypes := make([]*types.Type, len(paramOIDs))
			for i, oid := range paramOIDs {
				if oid == 0 {
					continue
				}
				t, err := types.TypeByOid(types.Oid(oid), -1)
				if err != nil {
					return toPgError(err)
				}
				paramTypes[i] = t
			}
			if ps.plan, err = s.planForDescribe(ctx, ps.stmt, paramTypes); err != nil {
				return toPgError(err)
			}
		}
	}
	s.statements[name] = ps
	return nil
}

func (s *session) DescribeStatement(ctx context.Context, name string) (pgwire.StatementDescription, error) {
	ps, ok := s.statements[name]
	if !ok {
		return pgwire.StatementDescription{}, &pgwire.Error{Code: "26000", Message: "prepared statement \"" + name + "\" does not exist"}
	}
	var d pgwire.StatementDescription
	if ps.plan != nil {
		d.ParamOIDs = make([]uint32, len(ps.plan.params))
		for i, t := range ps.plan.params {
			if t != nil {
				d.ParamOIDs[i] = uint32(t.Oid())
			}
		}
		if ps.plan.cols != nil {
			d.Columns = pgColumns(ps.plan.cols, nil)
		}
	}
	return d, nil
}

func (s *session) Bind(ctx context.Context, req pgwire.BindRequest) error {
	ps, ok := s.statements[req.Statement]
	if !ok {
		return &pgwire.Error{Code: "26000", Message: "prepared statement \"" + req.Statement + "\" does not exist"}
	}
	if _, dup := s.portals[req.Portal]; dup && req.Portal != "" {
		return &pgwire.Error{Code: "42P03", Message: "cursor \"" + req.Portal + "\" already exists"}
	}
	if len(s.portals) >= maxPortals {
		return &pgwire.Error{Code: sqlerr.CodeOutOfMemory, Message: "too many portals"}
	}
	var nParams int
	if ps.plan != nil {
		nParams = len(ps.plan.params)
	}
	if len(req.Params) != nParams {
		return &pgwire.Error{Code: "08P01", Message: "bind message supplies " + strconv.Itoa(len(req.Params)) +
			" parameters, but prepared statement \"" + req.Statement + "\" requires " + strconv.Itoa(nParams)}
	}
	params := make([]types.Datum, nParams)
	for i, raw := range req.Params {
		if raw == nil {
			params[i] = types.DNull
			continue
		}
		t := ps.plan.params[i]
		if t == nil {
			t = types.Text
		}
		var err error
		if req.ParamFormats[i] == pgwire.FormatBinary {
			params[i], err = types.ParseBinary(raw, t)
		} else {
			params[i], err = types.ParseText(string(raw), t, s.typeSettings())
		}
		if err != nil {
			return toPgError(err)
		}
	}
	if ps.plan != nil && ps.plan.cols != nil {
		if n := len(req.ResultFormats); n > 1 && n != len(ps.plan.cols) {
			return &pgwire.Error{Code: "08P01", Message: "bind message has " + strconv.Itoa(n) + " result formats but query has " + strconv.Itoa(len(ps.plan.cols)) + " columns"}
		}
	}
	if old := s.portals[req.Portal]; old != nil && old.iter != nil {
		old.iter.Close()
	}
	s.portals[req.Portal] = &portal{stmt: ps, params: params, resultFormats: req.ResultFormats}
	return nil
}

func (s *session) DescribePortal(ctx context.Context, name string) ([]pgwire.Column, error) {
	p, ok := s.portals[name]
	if !ok {
		return nil, &pgwire.Error{Code: "34000", Message: "portal \"" + name + "\" does not exist"}
	}
	if p.stmt.plan == nil || p.stmt.plan.cols == nil {
		return nil, nil
	}
	return pgColumns(p.stmt.plan.cols, p.resultFormats), nil
}

func (s *session) Execute(ctx context.Context, name string, maxRows int, sink pgwire.ResultSink) (bool, error) {
	p, ok := s.portals[name]
	if !ok {
		return false, &pgwire.Error{Code: "34000", Message: "portal \"" + name + "\" does not exist"}
	}
	if p.stmt.stmt == nil {
		return false, sink.EmptyQuery()
	}
	ctx, done := s.stmtContext(ctx)
	defer done()
	if p.stmt.plan == nil { // transaction control, SET
		_, err := s.control(ctx, p.stmt.stmt, sink)
		if err != nil {
			s.failExplicit()
		}
		return false, toPgError(err)
	}
	if s.state == failedTxn {
		return false, toPgError(errInFailedTxn)
	}
	suspended, err := s.executePortal(ctx, p, maxRows, sink)
	if err != nil {
		if p.iter != nil {
			p.iter.Close()
			p.iter = nil
		}
		if s.state == implicitTxn {
			s.implicitFailed = true
		}
		s.failExplicit()
		return false, toPgError(err)
	}
	return suspended, nil
}

func (s *session) executePortal(ctx context.Context, p *portal, maxRows int, sink pgwire.ResultSink) (bool, error) {
	pl := p.stmt.plan
	if p.iter == nil {
		if s.state == noTxn {
			s.state = implicitTxn
		}
		txn, err := s.ensureTxn(ctx)
		if err != nil {
			return false, err
		}
		// Plan again in this transaction: the catalog may have changed
		// since Parse. The parameter types stay those of Parse.
		x := &execCtx{sess: s, txn: txn, params: p.params, sink: sink}
		if pl, err = s.plan(ctx, x, p.stmt.stmt, pl.params); err != nil {
			return false, err
		}
		// The client learned the result columns (and chose their formats)
		// from the plan of Parse; a schema change since may not alter them.
		if !sameColumns(pl.cols, p.stmt.plan.cols) {
			return false, sqlerr.New("0A000", "cached plan must not change result type")
		}
		p.live, p.x = pl, x
		if p.iter, err = pl.open(ctx, x); err != nil {
			return false, err
		}
	}
	pl = p.live
	var buf [][]byte
	for maxRows <= 0 || p.sent < int64(maxRows) {
		row, err := p.iter.Next(ctx)
		if err != nil {
			return false, err
		}
		if row == nil {
			n := p.sent
			if pl.cols == nil {
				n = p.iter.RowsAffected()
			}
			p.iter.Close()
			p.iter = nil
			p.sent = 0
			return false, sink.Complete(pl.tag(n))
		}
		if buf, err = s.encodeRow(ctx, p.x, buf[:0], row, pl.cols, p.resultFormats); err != nil {
			return false, err
		}
		if err := sink.Row(buf); err != nil {
			return false, err
		}
		p.sent++
	}
	return true, nil
}

func (s *session) CloseStatement(ctx context.Context, name string) error {
	ps := s.statements[name]
	delete(s.statements, name)
	for pn, p := range s.portals {
		if p.stmt == ps {
			s.dropPortal(pn)
		}
	}
	return nil
}

func (s *session) ClosePortal(ctx context.Context, name string) error {
	s.dropPortal(name)
	return nil
}

func (s *session) dropPortal(name string) {
	if p := s.portals[name]; p != nil && p.iter != nil {
		p.iter.Close()
	}
	delete(s.portals, name)
}

func (s *session) closeAllPortals() {
	for name := range s.portals {
		s.dropPortal(name)
	}
}

// Sync ends an extended-protocol batch: its implicit transaction commits
// (or rolls back after an error).
func (s *session) Sync(ctx context.Context) error {
	s.dropPortal("")
	if s.state != implicitTxn {
		return nil
	}
	failed := s.implicitFailed
	s.state, s.implicitFailed = noTxn, false
	// Portals of the implicit transaction end with it (finishTxn).
	return toPgError(s.finishTxn(ctx, !failed))
}

// planForDescribe plans a statement at Parse time, to learn its parameter
// and result types: in the session's transaction if one is open, else in
// a read-only transaction of its own.
func (s *session) planForDescribe(ctx context.Context, stmt *parser.Statement, paramTypes []*types.Type) (*planned, error) {
	txn := s.txn
	if txn == nil {
		var err error
		if txn, err = s.srv.cfg.DB.Begin(ctx, kv.TxnOptions{Isolation: kvpb.IsolationLevel_REPEATABLE_READ}); err != nil {
			return nil, err
		}
		defer txn.Rollback()
	}
	return s.plan(ctx, &execCtx{sess: s, txn: txn}, stmt, paramTypes)
}

// sameColumns reports whether two plans return the same columns and types.
func sameColumns(a, b []resultCol) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	for i := range a {
		if !a[i].typ.Identical(b[i].typ) {
			return false
		}
	}
	return true
}
