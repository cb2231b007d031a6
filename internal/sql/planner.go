package sql

import (
	"context"
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/parser"
	"github.com/cairndb/cairn/internal/sql/pgwire"
	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// resultCol describes one result column.
type resultCol struct {
	name     string
	typ      *types.Type
	tableOID uint32
	attNum   uint16
}

// rowIter produces a statement's rows. Next returns nil, nil at the end.
// Rows belong to the iterator until the next call.
type rowIter interface {
	Next(ctx context.Context) ([]types.Datum, error)
	// RowsAffected is the count for the completion tag of a statement
	// without result rows (INSERT, UPDATE, DELETE without RETURNING).
	RowsAffected() int64
	Close()
}

// execCtx is what a statement may use while it is planned and run.
type execCtx struct {
	// setopBranch: the next buildSelect plans an input of a set operation
	// (select.go, setop.go).
	setopBranch bool

	sess   *session
	txn    *kv.Txn
	params []types.Datum
	sink   pgwire.ResultSink // for notices; may be nil
	res    *catalog.Resolver // the statement's catalog view (lazily)
	eval   *sem.EvalContext  // lazily
	snap   *catalogSnapshot  // for virtual tables (lazily)
	// planCtx is the context of planning (subqueries are planned from
	// within expression builders); outer resolves names of enclosing
	// queries while a subquery is planned.
	planCtx context.Context
	outer   func(qualifier []string, name string) (sem.Expr, bool)
	// builders are the expression builders of the statement being planned
	// (their inferred parameter types are merged at the end).
	builders []*sem.Builder
	// cte: the WITH clauses in scope while planning (cte.go).
	cte cteEnv
}

// notice sends a notice to the client, if there is one to send it to.
func (x *execCtx) notice(e *sqlerr.Error) error {
	if x.sink == nil {
		return nil
	}
	return x.sink.Notice(&pgwire.Error{Severity: "NOTICE", Code: e.Code, Message: e.Message})
}

// planned is a statement ready to run (possibly many times, with
// different parameters).
type planned struct {
	// params are the types of $1..$n.
	params []*types.Type
	// cols are the result columns; nil for a statement without rows.
	cols []resultCol
	// needsTxn: open runs in the session's transaction.
	needsTxn bool
	// open starts the statement.
	open func(ctx context.Context, x *execCtx) (rowIter, error)
	// tag is the completion tag for n rows (sent or affected).
	tag func(n int64) string
}

// plan turns a parsed statement into a planned one. paramTypes are the
// types the client declared ($n); unknown ones are inferred.
func (s *session) plan(ctx context.Context, x *execCtx, stmt *parser.Statement, paramTypes []*types.Type) (*planned, error) {
	x.builders = nil
	x.planCtx = ctx
	p, err := s.planStmt(ctx, x, stmt, paramTypes)
	if err != nil {
		return nil, err
	}
	p.params = x.paramTypes(paramTypes)
	for i, t := range p.params {
		if t == nil || t.Family() == types.UnknownFamily {
			return nil, sqlerr.Newf("42P18", "could not determine data type of parameter $%d", i+1)
		}
	}
	return p, nil
}

func (s *session) planStmt(ctx context.Context, x *execCtx, stmt *parser.Statement, paramTypes []*types.Type) (*planned, error) {
	params := append([]*types.Type(nil), paramTypes...)
	if err := rewriteRowComparisons(stmt); err != nil { // subquery.go
		return nil, err
	}
	if p, ok, err := s.planWithStmt(ctx, x, stmt, params); ok { // WITH ... INSERT/UPDATE/DELETE: cte.go
		return p, err
	}
	switch n := stmt.AST.Node.(type) {
	case *pg_query.Node_VariableShowStmt:
		return s.planShow(n.VariableShowStmt)
	case *pg_query.Node_SelectStmt:
		return s.planSelect(ctx, x, n.SelectStmt, params)
	case *pg_query.Node_InsertStmt:
		return s.planInsert(ctx, x, n.InsertStmt, params)
	case *pg_query.Node_UpdateStmt:
		return s.planUpdate(ctx, x, n.UpdateStmt, params)
	case *pg_query.Node_DeleteStmt:
		return s.planDelete(ctx, x, n.DeleteStmt, params)
	case *pg_query.Node_CreateStmt:
		return s.planCreateTable(n.CreateStmt)
	case *pg_query.Node_DropStmt:
		return s.planDrop(n.DropStmt)
	case *pg_query.Node_CreatedbStmt:
		return s.planCreateDatabase(n.CreatedbStmt)
	case *pg_query.Node_DropdbStmt:
		return s.planDropDatabase(n.DropdbStmt)
	case *pg_query.Node_VacuumStmt:
		return s.planVacuum(n.VacuumStmt)
	case *pg_query.Node_ExplainStmt:
		return s.planExplain(ctx, x, n.ExplainStmt, params)
	case *pg_query.Node_IndexStmt:
		return s.planCreateIndex(n.IndexStmt)
	case *pg_query.Node_AlterTableStmt:
		return s.planAlterTable(n.AlterTableStmt)
	case *pg_query.Node_RenameStmt:
		return s.planRename(n.RenameStmt)
	case *pg_query.Node_TruncateStmt:
		return s.planTruncate(n.TruncateStmt)
	case *pg_query.Node_CreateSeqStmt:
		return s.planCreateSequence(n.CreateSeqStmt)
	case *pg_query.Node_CopyStmt:
		return s.planCopy(ctx, x, n.CopyStmt)
	}
	return nil, sqlerr.Unsupportedf("statement %s is not supported yet", stmtName(stmt.AST))
}

// stmtName names a statement kind for messages ("CREATE TABLE", ...).
func stmtName(n *pg_query.Node) string {
	switch n.Node.(type) {
	case *pg_query.Node_SelectStmt:
		return "SELECT"
	case *pg_query.Node_InsertStmt:
		return "INSERT"
	case *pg_query.Node_UpdateStmt:
		return "UPDATE"
	case *pg_query.Node_DeleteStmt:
		return "DELETE"
	case *pg_query.Node_CreateStmt:
		return "CREATE TABLE"
	case *pg_query.Node_DropStmt:
		return "DROP"
	case *pg_query.Node_IndexStmt:
		return "CREATE INDEX"
	case *pg_query.Node_AlterTableStmt:
		return "ALTER TABLE"
	case *pg_query.Node_TruncateStmt:
		return "TRUNCATE"
	case *pg_query.Node_CopyStmt:
		return "COPY"
	case *pg_query.Node_ExplainStmt:
		return "EXPLAIN"
	case *pg_query.Node_CreateSeqStmt:
		return "CREATE SEQUENCE"
	case *pg_query.Node_ViewStmt:
		return "CREATE VIEW"
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", n.Node), "*pg_query.Node_")
}

// sliceIter returns precomputed rows.
type sliceIter struct {
	rows [][]types.Datum
	i    int
}

func (it *sliceIter) Next(context.Context) ([]types.Datum, error) {
	if it.i >= len(it.rows) {
		return nil, nil
	}
	it.i++
	return it.rows[it.i-1], nil
}
func (it *sliceIter) RowsAffected() int64 { return 0 }
func (it *sliceIter) Close()              {}

// countIter is the result of a statement without rows.
type countIter struct{ n int64 }

func (it countIter) Next(context.Context) ([]types.Datum, error) { return nil, nil }
func (it countIter) RowsAffected() int64                         { return it.n }
func (it countIter) Close()                                      {}

func constTag(tag string) func(int64) string { return func(int64) string { return tag } }
