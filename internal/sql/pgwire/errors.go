package pgwire

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgproto3"
)

// SQLSTATE codes that pgwire itself reports. The SQL layer has its own.
const (
	CodeProtocolViolation           = "08P01"
	CodeFeatureNotSupported         = "0A000"
	CodeInvalidAuthorizationSpec    = "28000"
	CodeInvalidParameterValue       = "22023"
	CodeTooManyConnections          = "53300"
	CodeQueryCanceled               = "57014"
	CodeAdminShutdown               = "57P01"
	CodeInternalError               = "XX000"
	CodeInvalidSQLStatementName     = "26000"
	CodeInvalidCursorName           = "34000"
	CodeDuplicatePreparedStatement  = "42P05"
	CodeDuplicateCursor             = "42P03"
	CodeInvalidPassword             = "28P01"
	CodeInvalidCatalogName          = "3D000"
	CodeInvalidTextRepresentation   = "22P02"
	CodeInvalidBinaryRepresentation = "22P03"
)

// Severities of errors and notices.
const (
	SeverityError   = "ERROR"
	SeverityFatal   = "FATAL"
	SeverityNotice  = "NOTICE"
	SeverityWarning = "WARNING"
)

// Error is an error or notice as PostgreSQL reports it: an SQLSTATE code and
// the fields of ErrorResponse and NoticeResponse. Sessions return it to make
// a failure reach the client with its code.
type Error struct {
	// Severity is "ERROR" if empty; "FATAL" ends the connection. Notices use
	// "NOTICE", "WARNING", "INFO", "DEBUG" or "LOG".
	Severity string
	// Code is the SQLSTATE, e.g. "42P01"; XX000 if empty.
	Code    string
	Message string
	// Detail and Hint are optional further lines.
	Detail, Hint string
	// Position is the 1-based character (not byte) offset in the query
	// string the error refers to; 0 for none.
	Position int
	// Where is the context (call stack of functions, etc.); optional.
	Where string
	// Optional names of the objects involved, e.g. for 23505.
	SchemaName, TableName, ColumnName, DataTypeName, ConstraintName string
}

// Error returns "SEVERITY: message (SQLSTATE code)", like pgconn's PgError.
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s (SQLSTATE %s)", e.severity(), e.Message, e.code())
}

// NewError returns an ERROR with code and a formatted message.
func NewError(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) severity() string {
	if e.Severity == "" {
		return SeverityError
	}
	return e.Severity
}

func (e *Error) code() string {
	if e.Code == "" {
		return CodeInternalError
	}
	return e.Code
}

func (e *Error) fatal() bool {
	s := e.severity()
	return s == SeverityFatal || s == "PANIC"
}

// toError returns err as an *Error: itself if it is (or wraps) one, else an
// internal error carrying its text.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: CodeQueryCanceled, Message: "canceling statement: " + err.Error()}
	}
	return &Error{Code: CodeInternalError, Message: err.Error()}
}

func (e *Error) errorResponse() *pgproto3.ErrorResponse {
	return &pgproto3.ErrorResponse{
		Severity:            e.severity(),
		SeverityUnlocalized: e.severity(),
		Code:                e.code(),
		Message:             e.Message,
		Detail:              e.Detail,
		Hint:                e.Hint,
		Position:            int32(e.Position),
		Where:               e.Where,
		SchemaName:          e.SchemaName,
		TableName:           e.TableName,
		ColumnName:          e.ColumnName,
		DataTypeName:        e.DataTypeName,
		ConstraintName:      e.ConstraintName,
	}
}

func (e *Error) noticeResponse() *pgproto3.NoticeResponse {
	n := e
	if n.Severity == "" {
		c := *e
		c.Severity = SeverityNotice
		n = &c
	}
	if n.Code == "" {
		c := *n
		c.Code = "00000"
		n = &c
	}
	return (*pgproto3.NoticeResponse)(n.errorResponse())
}

// protocolViolation is a malformed or unexpected message: FATAL, it ends the
// connection.
func protocolViolation(format string, args ...any) *Error {
	return &Error{Severity: SeverityFatal, Code: CodeProtocolViolation, Message: fmt.Sprintf(format, args...)}
}
