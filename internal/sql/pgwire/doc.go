// Package pgwire serves the PostgreSQL frontend/backend protocol (version
// 3.0, and 3.2) over TCP, with message framing by pgx's pgproto3. It knows
// nothing of SQL: each connection drives a Session, which the SQL layer
// (internal/sql) implements, through Prepare, Bind, Execute and friends,
// and the session reports results through a ResultSink. Types appear only
// as OIDs and values only as bytes already encoded in the requested format.
//
//	Server.Serve(ln) ── accept ──► one goroutine per connection (conn.serve)
//	                                 │
//	  startup: SSLRequest ('S' + TLS handshake, or 'N'), GSSENCRequest ('N'),
//	           CancelRequest (→ Session.Cancel of the matching connection,
//	           in its goroutine's stead), StartupMessage → Authenticator →
//	           SessionFactory.NewSession → AuthenticationOk, ParameterStatus,
//	           BackendKeyData, ReadyForQuery
//	                                 │
//	  loop:    Query ───────────────► Session.ExecuteSimple(sink)
//	           Parse/Bind/Describe/ ► Session.Prepare/Bind/Describe*/Execute/
//	           Execute/Close/Sync     Close*/Sync
//	           CopyData... ◄──────── sink.CopyIn's reader, pulled by the session
//	           Terminate, I/O error, FATAL error, Server.Close → Session.Close
//
// Invariants:
//   - A session is called from its connection's goroutine only, one call at
//     a time; Cancel alone comes from another goroutine, never after Close.
//   - Results stream: the sink writes messages into a buffer of
//     writeBufferBytes that goes to the socket whenever it fills, so a huge
//     result is never held whole. Output is flushed at ReadyForQuery, Flush,
//     CopyInResponse and when the buffer fills, as PostgreSQL does.
//   - Incoming messages are bounded by Config.MaxMessageBytes; startup
//     packets by PostgreSQL's 10000 bytes; startup by Config.StartupTimeout.
//   - A malformed, unexpected or oversized message gets a FATAL 08P01 and
//     ends that connection only. After an error in an extended-protocol
//     message, messages are discarded until Sync, as in PostgreSQL.
//   - Server.Close closes the listeners, wakes every connection (idle
//     clients get FATAL 57P01), cancels the sessions' context, and waits for
//     every goroutine it started.
package pgwire
