package sql

import (
	"context"
	"errors"

	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/sql/parser"
	"github.com/cairndb/cairn/internal/sql/pgwire"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
)

// toPgError maps an error of any layer onto the ErrorResponse a client sees:
// SQLSTATE-carrying errors keep their code, retryable transaction conflicts
// are 40001, a cancelled statement 57014, anything else XX000.
func toPgError(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgwire.Error
	if errors.As(err, &pe) {
		return pe
	}
	var se *sqlerr.Error
	if errors.As(err, &se) {
		return &pgwire.Error{Code: se.Code, Message: se.Message, Detail: se.Detail, Hint: se.Hint, Where: se.Where}
	}
	var syn *parser.SyntaxError
	if errors.As(err, &syn) {
		return &pgwire.Error{Code: sqlerr.CodeSyntaxError, Message: syn.Message, Position: syn.Position}
	}
	var ke *kvpb.Error
	switch {
	case errors.As(err, &ke) && ke.GetTxnRetry().GetReason() == kvpb.TxnRetry_DEADLOCK:
		return &pgwire.Error{Code: sqlerr.CodeDeadlockDetected, Message: "deadlock detected: " + err.Error(),
			Hint: "The transaction might succeed if retried."}
	case kvpb.IsRetryable(err):
		return &pgwire.Error{Code: sqlerr.CodeSerializationFailure,
			Message: "could not serialize access due to concurrent update: " + err.Error(),
			Hint:    "The transaction might succeed if retried."}
	case errors.Is(err, context.Canceled):
		return &pgwire.Error{Code: sqlerr.CodeQueryCanceled, Message: "canceling statement due to user request"}
	case errors.Is(err, context.DeadlineExceeded):
		return &pgwire.Error{Code: sqlerr.CodeQueryCanceled, Message: "canceling statement due to statement timeout"}
	case kvpb.IsAmbiguous(err):
		return &pgwire.Error{Code: "40003", Message: "result is ambiguous: " + err.Error()}
	}
	return &pgwire.Error{Code: sqlerr.CodeInternalError, Message: err.Error()}
}

// isRetryable reports whether err is a conflict a statement may be re-run for.
func isRetryable(err error) bool { return kvpb.IsRetryable(err) }
