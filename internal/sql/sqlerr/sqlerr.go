// Package sqlerr defines the error the SQL layer reports to clients: an
// SQLSTATE code and a message, as PostgreSQL's ErrorResponse carries them.
//
// Every package of the SQL layer (types, plan, exec, the session) returns
// *Error for failures a client should see with a specific code; pgwire turns
// it into an ErrorResponse. An error that is not (and does not wrap) an
// *Error reaches the client as XX000 internal_error.
//
// The codes and condition names are PostgreSQL's (Appendix A of its manual).
package sqlerr

import (
	"errors"
	"fmt"
)

// SQLSTATE codes, named after PostgreSQL's condition names.
const (
	CodeSuccessfulCompletion = "00000"

	CodeFeatureNotSupported = "0A000" // feature_not_supported

	CodeStringDataRightTruncation   = "22001" // string_data_right_truncation
	CodeNumericValueOutOfRange      = "22003" // numeric_value_out_of_range
	CodeNullValueNotAllowed         = "22004" // null_value_not_allowed
	CodeInvalidDatetimeFormat       = "22007" // invalid_datetime_format
	CodeDatetimeFieldOverflow       = "22008" // datetime_field_overflow
	CodeInvalidTimeZoneDisplacement = "22009" // invalid_time_zone_displacement_value
	CodeDivisionByZero              = "22012" // division_by_zero
	CodeCharacterNotInRepertoire    = "22021" // character_not_in_repertoire
	CodeInvalidParameterValue       = "22023" // invalid_parameter_value
	CodeInvalidTextRepresentation   = "22P02" // invalid_text_representation
	CodeInvalidBinaryRepresentation = "22P03" // invalid_binary_representation
	CodeUntranslatableCharacter     = "22P05" // untranslatable_character

	CodeNotNullViolation    = "23502" // not_null_violation
	CodeForeignKeyViolation = "23503" // foreign_key_violation
	CodeUniqueViolation     = "23505" // unique_violation
	CodeCheckViolation      = "23514" // check_violation

	CodeInFailedSQLTransaction = "25P02" // in_failed_sql_transaction

	CodeDependentObjectsStillExist = "2BP01" // dependent_objects_still_exist

	CodeInvalidCatalogName = "3D000" // invalid_catalog_name
	CodeInvalidSchemaName  = "3F000" // invalid_schema_name

	CodeSerializationFailure = "40001" // serialization_failure
	CodeDeadlockDetected     = "40P01" // deadlock_detected

	CodeSyntaxError       = "42601" // syntax_error
	CodeDuplicateColumn   = "42701" // duplicate_column
	CodeUndefinedColumn   = "42703" // undefined_column
	CodeUndefinedObject   = "42704" // undefined_object
	CodeDuplicateObject   = "42710" // duplicate_object
	CodeDatatypeMismatch  = "42804" // datatype_mismatch
	CodeCannotCoerce      = "42846" // cannot_coerce
	CodeUndefinedFunction = "42883" // undefined_function
	CodeUndefinedTable    = "42P01" // undefined_table
	CodeDuplicateTable    = "42P07" // duplicate_table

	CodeOutOfMemory         = "53200" // out_of_memory
	CodeStatementTooComplex = "54001" // statement_too_complex

	CodeObjectNotInPrerequisiteState = "55000" // object_not_in_prerequisite_state

	CodeQueryCanceled = "57014" // query_canceled

	CodeInternalError = "XX000" // internal_error
)

// Error is an error with an SQLSTATE code. Message is the primary,
// human-readable text, lower case and without a trailing period, as
// PostgreSQL writes it; Detail and Hint are optional further lines.
type Error struct {
	Code    string
	Message string
	Detail  string
	Hint    string
	// Where is the context (PostgreSQL's CONTEXT line), e.g.
	// "COPY t, line 3"; optional.
	Where string
}

// Error returns "message (SQLSTATE code)".
func (e *Error) Error() string {
	return e.Message + " (SQLSTATE " + e.Code + ")"
}

// SQLState returns the code, as pgconn.PgError does, so that packages that
// only know the method can read it.
func (e *Error) SQLState() string { return e.Code }

// New returns an error with code and message.
func New(code, message string) *Error {
	return &Error{Code: code, Message: message}
}

// Newf returns an error with code and a formatted message.
func Newf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithDetail returns a copy of e with Detail set.
func (e *Error) WithDetail(format string, args ...any) *Error {
	c := *e
	c.Detail = fmt.Sprintf(format, args...)
	return &c
}

// WithHint returns a copy of e with Hint set.
func (e *Error) WithHint(format string, args ...any) *Error {
	c := *e
	c.Hint = fmt.Sprintf(format, args...)
	return &c
}

// Internalf returns an XX000 internal_error: a failure that is a bug or an
// unexpected condition rather than a fault of the query.
func Internalf(format string, args ...any) *Error {
	return Newf(CodeInternalError, format, args...)
}

// Unsupportedf returns a 0A000 feature_not_supported error.
func Unsupportedf(format string, args ...any) *Error {
	return Newf(CodeFeatureNotSupported, format, args...)
}

// CodeOf returns the SQLSTATE of err: that of the first *Error in its chain,
// "" for a nil err, and XX000 for any other error.
func CodeOf(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternalError
}

// HasCode reports whether err carries SQLSTATE code.
func HasCode(err error, code string) bool {
	return err != nil && CodeOf(err) == code
}

// Codes used by the catalog (internal/sql/catalog).
const (
	CodeDuplicateDatabase              = "42P04" // duplicate_database
	CodeWrongObjectType                = "42809" // wrong_object_type
	CodeInvalidTableDefinition         = "42P16" // invalid_table_definition
	CodeSequenceGeneratorLimitExceeded = "2200H" // sequence_generator_limit_exceeded
	CodeInvalidObjectDefinition        = "42P17" // invalid_object_definition
	CodeInvalidForeignKey              = "42830" // invalid_foreign_key
	CodeProgramLimitExceeded           = "54000" // program_limit_exceeded
)
