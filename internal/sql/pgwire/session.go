package pgwire

import (
	"context"
	"crypto/tls"
	"io"
	"net"
)

// StartupParams is what a client said in its StartupMessage, plus what the
// connection established before it.
type StartupParams struct {
	// User is the "user" parameter; never empty (pgwire refuses a startup
	// without one, as PostgreSQL does).
	User string
	// Database is the "database" parameter, or User when the client sent
	// none (PostgreSQL's default).
	Database string
	// Params holds every startup parameter as sent: user, database,
	// application_name, client_encoding, options (unparsed, command-line
	// style "-c name=value"), and any other run-time setting. Protocol
	// extension options ("_pq_.*") are not included: pgwire declines them
	// in NegotiateProtocolVersion.
	Params map[string]string
	// RemoteAddr is the client's address.
	RemoteAddr net.Addr
	// TLS is the state of the connection's TLS session; nil for plaintext.
	TLS *tls.ConnectionState
}

// SessionFactory makes the Session that serves one connection. The SQL layer
// implements it.
type SessionFactory interface {
	// NewSession validates the startup parameters (user, database, options
	// and other settings) and returns the connection's session. It is called
	// once per connection, after TLS negotiation and authentication, before
	// the client is told AuthenticationOk.
	//
	// An *Error is sent to the client as a FATAL error and ends the
	// connection: 3D000 invalid_catalog_name for an unknown database, 28000
	// invalid_authorization_specification for an unknown user, 22023 for a
	// bad setting. Any other error is reported as XX000 internal_error.
	//
	// ctx is the connection's context: it is done when the connection ends
	// or the server closes. The session may keep it.
	NewSession(ctx context.Context, params StartupParams) (Session, error)
}

// TxnStatus is a session's transaction state as reported in ReadyForQuery.
type TxnStatus byte

// The transaction states of ReadyForQuery.
const (
	// TxnIdle: not in a transaction block.
	TxnIdle TxnStatus = 'I'
	// TxnInBlock: in a transaction block (after BEGIN).
	TxnInBlock TxnStatus = 'T'
	// TxnFailed: in a failed transaction block; statements are refused
	// until the block ends.
	TxnFailed TxnStatus = 'E'
)

// Session is the SQL side of one connection. pgwire calls its methods from
// the connection's goroutine, one at a time, except Cancel, which comes from
// another goroutine while any other method may be running (but never during
// or after Close).
//
// The session owns the namespaces of prepared statements and portals, as in
// PostgreSQL the SQL commands PREPARE, DEALLOCATE, DECLARE and CLOSE share
// them with the protocol's Parse, Bind and Close, and ending a transaction
// destroys its portals. Names are the client's; "" is the unnamed statement
// or portal, which a new Parse or Bind of the same kind silently replaces.
//
// Errors: a returned *Error reaches the client as an ErrorResponse with its
// SQLSTATE; Severity "FATAL" also ends the connection. Any other error is
// reported as XX000 internal_error. Errors returned by a ResultSink (the
// connection broke) should be returned as they are; pgwire then closes the
// connection.
//
// ctx in every method is the connection's context (see NewSession): a
// session must return promptly once it is done, because Server.Close waits
// for every connection to end.
type Session interface {
	// ParameterStatus returns the reportable settings to announce at
	// startup, overlaid on DefaultParameterStatus (e.g. is_superuser,
	// TimeZone from the startup options). It is called once, right after
	// NewSession. The map may be nil; pgwire does not keep it.
	ParameterStatus() map[string]string

	// ExecuteSimple runs a simple-protocol Query string that may hold
	// several statements separated by semicolons, in order. For each
	// statement it reports through sink: Columns (if it returns rows), Row
	// for each row (values encoded in text format), then Complete; or
	// EmptyQuery when the string holds no statement at all (only comments
	// or semicolons; an all-blank string never reaches the session). A COPY
	// FROM STDIN statement calls sink.CopyIn and reads the data before
	// Complete.
	//
	// The first failing statement stops the rest: ExecuteSimple returns its
	// error. Statements without an explicit transaction block run in an
	// implicit transaction per Query message, as PostgreSQL does.
	ExecuteSimple(ctx context.Context, query string, sink ResultSink) error

	// Prepare handles Parse: it parses query (one statement at most) and
	// stores it as prepared statement name. paramOIDs are the parameter
	// types the client specified; it may be shorter than the number of
	// parameters, and 0 means unspecified: the session infers those. A
	// named statement that exists already is an error (42P05
	// duplicate_prepared_statement). The session may keep paramOIDs.
	Prepare(ctx context.Context, name, query string, paramOIDs []uint32) error

	// DescribeStatement handles Describe of a statement: its parameter types
	// (all resolved) and its result columns, with Format 0 as the formats
	// are not known before Bind. An unknown name is an error (26000
	// invalid_sql_statement_name).
	DescribeStatement(ctx context.Context, name string) (StatementDescription, error)

	// Bind handles Bind: it creates portal req.Portal from statement
	// req.Statement with parameter values. A named portal that exists
	// already is an error (42P03 duplicate_cursor), an unknown statement
	// 26000, a wrong parameter count 08P01 protocol_violation, an
	// undecodable value 22P02 or 22P03. The session owns req and its
	// slices: pgwire copied them out of its read buffer.
	Bind(ctx context.Context, req BindRequest) error

	// DescribePortal handles Describe of a portal: its result columns with
	// the formats requested at Bind, or nil if it returns no rows (NoData).
	// An unknown name is an error (34000 invalid_cursor_name).
	DescribePortal(ctx context.Context, name string) ([]Column, error)

	// Execute handles Execute: it runs portal (or resumes it after a
	// suspension), sending at most maxRows rows (0: all) through sink in
	// the formats requested at Bind. If rows remain after maxRows it returns
	// suspended=true, without calling Complete, and keeps the portal for
	// the next Execute. Otherwise it calls sink.Complete (or EmptyQuery for
	// an empty statement) before returning. Columns is not needed: a client
	// learns the columns from Describe. An unknown portal is 34000.
	Execute(ctx context.Context, portal string, maxRows int, sink ResultSink) (suspended bool, err error)

	// CloseStatement handles Close of a statement (and drops the portals
	// made from it, as PostgreSQL does). Closing a name that does not exist
	// is not an error.
	CloseStatement(ctx context.Context, name string) error

	// ClosePortal handles Close of a portal. Closing a name that does not
	// exist is not an error.
	ClosePortal(ctx context.Context, name string) error

	// Sync handles Sync, the end of an extended-protocol batch: it commits
	// the batch's implicit transaction if there is one (or rolls it back if
	// a message of the batch failed), and drops the unnamed portal. An error
	// (e.g. 40001 from the commit) is reported before ReadyForQuery.
	Sync(ctx context.Context) error

	// TxnStatus is the transaction state to report in ReadyForQuery.
	TxnStatus() TxnStatus

	// Cancel handles a CancelRequest carrying this session's key: it
	// cancels the statement in progress, if any, which should then fail
	// with 57014 query_canceled. It is called from another goroutine and
	// must not block.
	Cancel()

	// Close releases the session when its connection ends: it rolls back
	// an open transaction and drops statements and portals. No method is
	// called after it.
	Close()
}

// StatementDescription describes a prepared statement for Describe.
type StatementDescription struct {
	// ParamOIDs are the types of the parameters $1..$n.
	ParamOIDs []uint32
	// Columns are the result columns; nil if the statement returns no rows.
	Columns []Column
}

// BindRequest is a Bind message.
type BindRequest struct {
	// Portal and Statement name the portal to create and the prepared
	// statement it is bound to ("" for the unnamed ones).
	Portal, Statement string
	// ParamFormats has exactly one format code per parameter (pgwire
	// expands the protocol's shorthand of zero or one codes): FormatText or
	// FormatBinary.
	ParamFormats []int16
	// Params are the parameter values as sent; nil is SQL NULL.
	Params [][]byte
	// ResultFormats are the result format codes as sent: none (all text),
	// one for all columns, or one per column. Use ResultFormat to read
	// them; the session checks the count against its columns (08P01).
	// Each code is FormatText or FormatBinary (pgwire checked).
	ResultFormats []int16
}

// Wire formats of parameters and result values.
const (
	FormatText   int16 = 0
	FormatBinary int16 = 1
)

// ResultFormat returns the format code for result column i from a Bind
// message's result format codes: text if none, the only one if one, else
// the i-th.
func ResultFormat(formats []int16, i int) int16 {
	switch len(formats) {
	case 0:
		return FormatText
	case 1:
		return formats[0]
	default:
		return formats[i]
	}
}

// Column describes one result column in a RowDescription.
type Column struct {
	Name string
	// TableOID and TableAttributeNumber identify the table column the
	// result column comes from; zero if none.
	TableOID             uint32
	TableAttributeNumber uint16
	// TypeOID, TypeSize (pg_type.typlen: -1 variable, -2 C string) and
	// TypeModifier (-1 none) are the column's type.
	TypeOID      uint32
	TypeSize     int16
	TypeModifier int32
	// Format is the wire format of the column's values: FormatText or
	// FormatBinary.
	Format int16
}

// ResultSink receives a statement's results and sends them to the client as
// they come: rows are written in bounded chunks, a result is never buffered
// whole. It is valid only during the Session call it was passed to, and is
// not safe for concurrent use.
//
// An error from a sink method means the connection is broken (or, for
// CopyIn's reader, that the COPY failed): the session should stop and
// return it.
type ResultSink interface {
	// Columns announces the columns of the current statement's rows
	// (RowDescription). Simple protocol only: in the extended protocol the
	// client learned them from Describe, and Columns sends nothing. A
	// statement that returns no rows does not call it. pgwire does not keep
	// cols.
	Columns(cols []Column) error

	// Row sends one row (DataRow). values are encoded in each column's
	// format; nil is SQL NULL. pgwire does not keep values.
	Row(values [][]byte) error

	// Complete ends the current statement (CommandComplete) with a tag
	// such as "SELECT 5", "INSERT 0 3", "UPDATE 2", "COPY 10", "BEGIN".
	Complete(tag string) error

	// EmptyQuery reports that the query holds no statement
	// (EmptyQueryResponse), in place of Complete.
	EmptyQuery() error

	// Notice sends a NoticeResponse (Severity "NOTICE", "WARNING", "INFO",
	// "DEBUG" or "LOG"; empty means NOTICE). It does not end the statement.
	Notice(n *Error) error

	// ParameterStatus reports a changed reportable setting (e.g. after SET
	// application_name, TimeZone, DateStyle) so that drivers can follow it.
	ParameterStatus(name, value string) error

	// CopyIn starts COPY FROM STDIN (CopyInResponse): format is the overall
	// format (FormatText, also for CSV, or FormatBinary) and columnFormats
	// has one code per column. It returns the data stream: Read returns the
	// client's CopyData bytes, io.EOF at CopyDone, and an *Error 57014 if
	// the client sent CopyFail. The session reads to io.EOF, then calls
	// Complete("COPY n"). If it fails midway it returns its error; the
	// client's remaining copy messages are then discarded.
	CopyIn(format int16, columnFormats []int16) (io.Reader, error)
}
