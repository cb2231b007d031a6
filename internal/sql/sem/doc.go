// Package sem builds, types and evaluates scalar SQL expressions with
// PostgreSQL's semantics: the WHERE conditions, SELECT items, VALUES rows,
// DEFAULTs and CHECKs of the SQL layer.
//
// The planner hands a Builder one expression node of pg_query's parse tree
// at a time (there is no second AST); the Builder resolves columns through
// its Scope, operators and functions through the built-in tables, and
// returns a typed Expr that an executor evaluates once per row:
//
//	parse tree ──Builder.Build──▶ Expr ──ConstFold──▶ Expr ──Eval(ctx, row)──▶ Datum
//	              │  Scope.ResolveColumn (plan)            ColumnComparison,
//	              │  AggregateHook, SubqueryHook (plan)     SplitConjuncts (index selection)
//	              └─ ParamTypes (inferred $n types, to the session's Describe)
//
// Typing follows PostgreSQL's rules (its "Type Conversion" chapter):
//   - An integer literal is integer, bigint when it does not fit, numeric
//     beyond; a literal with a point or exponent is numeric (exact: 0.1 +
//     0.2 = 0.3). A string literal is of type unknown until its context
//     gives it a type, and it is then read by that type's input function
//     at build time, as PostgreSQL reads it at parse time: ts > '2024-01-01'
//     compares timestamps, and i = 'x' fails at once with 22P02. An
//     untyped literal nothing decides is text.
//   - A parameter $n whose type the client left open takes the type its
//     first context gives it (i = $1: integer; $1::bigint: bigint;
//     col = ANY($1): an array); CheckParams reports one that stayed open
//     (42P18), as PostgreSQL's Parse does.
//   - Operators and functions are resolved among their overloads as
//     PostgreSQL's func_select_candidate does: an exact match (an unknown
//     operand assumed to have the other operand's type), else implicit
//     casts with a preference for exact matches, then for the preferred
//     type of each category (double precision, text, timestamptz...),
//     then for the string category for unknown arguments. Hence int4 +
//     int8 is bigint, integer + numeric is numeric, 2 ^ 3 is double
//     precision, and text = integer fails with 42883 "operator does not
//     exist: text = integer".
//   - CASE, COALESCE, GREATEST, IN lists and ARRAY[...] unify their
//     operands with CommonType (select_common_type), which UNION and
//     VALUES can use too.
//
// Evaluation: NULL follows SQL's three-valued logic (AND, OR, NOT, IN, ANY
// and ALL as PostgreSQL defines them); integer arithmetic checks overflow
// per width (22003), division by zero is 22012; numeric arithmetic is
// exact for +, -, * and %, and division, sqrt, exp, ln, log and ^ use
// PostgreSQL's result scales (at least 16 significant digits,
// select_div_scale and its siblings); float arithmetic reports overflow
// and underflow; timestamp ± interval adds months in the wall clock
// (clamping to the month's end), timestamptz in the session's time zone.
// Every error is a *sqlerr.Error with PostgreSQL's SQLSTATE and, as far as
// practical, its message.
//
// Invariants:
//   - An Expr is immutable once built and may be evaluated by several
//     goroutines at once, each with its own EvalContext.
//   - Eval returns DNull or a datum of the family of Type(); the operands
//     of a comparison have been converted to one type, so types.Compare
//     orders them (a mismatch is a bug and panics).
//   - Volatility says what may be computed ahead of time: ConstFold
//     evaluates only immutable subtrees; parameters, now() and the casts
//     and operators that read the session's TimeZone are stable (FoldStable
//     evaluates them once per execution); random(), clock_timestamp() and
//     gen_random_uuid() are volatile and never folded.
//   - Aggregates and subqueries are not evaluated here: Build hands them
//     to the planner's hooks, and without a hook they are errors (42803
//     "aggregate functions are not allowed in WHERE", 0A000).
//
// Not supported (0A000): the time and timetz types, multidimensional
// arrays, row expressions, collations other than C, named and VARIADIC
// arguments, set-returning functions, and to_char patterns beyond the
// common ones. Regular expressions use Go's RE2 engine: PostgreSQL syntax
// RE2 lacks (back-references, lookaround) fails with 2201B.
package sem
