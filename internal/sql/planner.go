package sql

import (
	"context"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/sql/parser"
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

// execCtx is what a running statement may use.
type execCtx struct {
	sess   *session
	txn    *kv.Txn // nil when the plan needs none
	params []types.Datum
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
func (s *session) plan(ctx context.Context, stmt *parser.Statement, paramTypes []*types.Type) (*planned, error) {
	switch n := stmt.AST.Node.(type) {
	case *pg_query.Node_VariableShowStmt:
		return s.planShow(n.VariableShowStmt)
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
	}
	return "this"
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
