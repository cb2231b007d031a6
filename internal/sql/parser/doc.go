// Package parser turns SQL text into PostgreSQL's own parse tree, using
// libpg_query (github.com/pganalyze/pg_query_go, cgo): the grammar of the
// server we are compatible with, not an imitation. The planner works on the
// returned protobuf nodes directly; there is no second AST.
//
// Syntax errors come back as *SyntaxError (SQLSTATE 42601) with the 1-based
// character position PostgreSQL reports.
package parser
