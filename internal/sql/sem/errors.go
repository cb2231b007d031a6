package sem

import (
	"fmt"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// SQLSTATE codes this package reports that sqlerr does not (yet) name.
const (
	codeDataException           = "22000" // data_exception
	codeSubstringError          = "22011" // substring_error
	codeInvalidEscapeSequence   = "22025" // invalid_escape_sequence
	codeInvalidRegularExpr      = "2201B" // invalid_regular_expression
	codeInvalidArgumentForLog   = "2201E" // invalid_argument_for_logarithm
	codeInvalidArgumentForPower = "2201F" // invalid_argument_for_power_function
	codeArraySubscriptError     = "2202E" // array_subscript_error
	codeAmbiguousColumn         = "42702" // ambiguous_column
	codeGroupingError           = "42803" // grouping_error
	codeWrongObjectType         = "42809" // wrong_object_type
	codeAmbiguousFunction       = "42725" // ambiguous_function
	codeAmbiguousParameter      = "42P08" // ambiguous_parameter
	codeIndeterminateDatatype   = "42P18" // indeterminate_datatype
	codeWindowingError          = "42P20" // windowing_error
	codeProgramLimitExceeded    = "54000" // program_limit_exceeded
)

// Exported names for the codes a Scope or a hook is expected to return.
const (
	// CodeAmbiguousColumn is 42702, for Scope.ResolveColumn.
	CodeAmbiguousColumn = codeAmbiguousColumn
	// CodeGroupingError is 42803: an aggregate where none is allowed, or
	// a column that is neither grouped nor aggregated.
	CodeGroupingError = codeGroupingError
	// CodeIndeterminateDatatype is 42P18: a parameter whose type could
	// not be inferred.
	CodeIndeterminateDatatype = codeIndeterminateDatatype
)

// maxResultBytes bounds a string or bytea that a function builds (repeat,
// lpad, concatenation...), as PostgreSQL's 1 GB limit on a value does; a
// smaller bound, so that one expression cannot take the node's memory.
const maxResultBytes = 256 << 20

func errTooLarge() error {
	return sqlerr.New(codeProgramLimitExceeded, "requested length too large")
}

func errDivByZero() error { return sqlerr.New(sqlerr.CodeDivisionByZero, "division by zero") }

func errIntOutOfRange(t *types.Type) error {
	return sqlerr.Newf(sqlerr.CodeNumericValueOutOfRange, "%s out of range", t.Name())
}

func errFloatOverflow() error {
	return sqlerr.New(sqlerr.CodeNumericValueOutOfRange, "value out of range: overflow")
}

func errFloatUnderflow() error {
	return sqlerr.New(sqlerr.CodeNumericValueOutOfRange, "value out of range: underflow")
}

func errNumericOverflow() error {
	return sqlerr.New(sqlerr.CodeNumericValueOutOfRange, "value overflows numeric format")
}

func errTimestampRange() error {
	return sqlerr.New(sqlerr.CodeDatetimeFieldOverflow, "timestamp out of range")
}

func errDateRange() error {
	return sqlerr.New(sqlerr.CodeDatetimeFieldOverflow, "date out of range")
}

func errIntervalRange() error {
	return sqlerr.New(sqlerr.CodeDatetimeFieldOverflow, "interval out of range")
}

// typeNames formats argument types as PostgreSQL's error messages do:
// "integer, unknown".
func typeNames(ts []*types.Type) string {
	s := ""
	for i, t := range ts {
		if i > 0 {
			s += ", "
		}
		s += t.Name()
	}
	return s
}

func errUndefinedFunction(name string, args []*types.Type) error {
	return sqlerr.Newf(sqlerr.CodeUndefinedFunction, "function %s(%s) does not exist", name, typeNames(args)).
		WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
}

func errUndefinedOperator(op string, left, right *types.Type) error {
	var msg string
	switch {
	case left == nil:
		msg = fmt.Sprintf("operator does not exist: %s %s", op, right.Name())
	case right == nil:
		msg = fmt.Sprintf("operator does not exist: %s %s", left.Name(), op)
	default:
		msg = fmt.Sprintf("operator does not exist: %s %s %s", left.Name(), op, right.Name())
	}
	return sqlerr.New(sqlerr.CodeUndefinedFunction, msg).
		WithHint("No operator matches the given name and argument types. You might need to add explicit type casts.")
}
