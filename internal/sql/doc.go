// Package sql is Cairn's SQL front end: it implements pgwire's Session for
// each client connection, on top of the transactional KV layer.
//
// A session parses statements (package parser: PostgreSQL's own grammar),
// plans them (planner.go and package plan's helpers: catalog, rowenc, sem)
// and runs them in kv transactions:
//
//	pgwire ─► Session.ExecuteSimple / Prepare·Bind·Execute·Sync
//	            │ transaction control (BEGIN, COMMIT, ROLLBACK, SET, SHOW)
//	            ▼
//	          plan(stmt) ─► planned{columns, params, open(txn) → rowIter}
//	            │
//	            ▼
//	          kv.Txn (SERIALIZABLE by default)
//
// Transactions: a statement outside BEGIN runs in its own transaction; a
// retryable conflict (40001) of such a statement is retried transparently
// while no row has been sent. In an explicit transaction the error reaches
// the client, the block is marked failed (25P02 for further statements) and
// ROLLBACK ends it. In the extended protocol, statements outside BEGIN run
// in an implicit transaction committed at Sync, as in PostgreSQL.
package sql
