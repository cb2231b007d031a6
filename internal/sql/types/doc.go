// Package types defines the SQL layer's types and values (datums), with
// PostgreSQL's semantics: type names, OIDs and modifiers; text and binary
// wire formats; comparison and hashing; casts.
//
// Callers:
//
//	pgwire/session ── ParseText, ParseBinary (Bind parameters)
//	               ── AppendText, AppendBinary (DataRow), Type.Oid/Typmod/Size (RowDescription)
//	plan           ── TypeByName, ResolveTypeName, TypeByOid, CanCast (typing)
//	exec           ── Compare, Equal, EncodeKey, Hash (sort, hash join, aggregation), Caster.Cast
//	rowenc/catalog ── the datums, to encode them in keys and values
//
// A *Type is immutable and shared; build one with the package's variables
// (Int4, Text...) and constructors (NumericType, VarCharType, ArrayOf,
// TypeByName...). A Datum is immutable too, and does not know its type's
// modifiers: the functions whose result depends on them (AppendText for
// float4 and CHAR(n), AppendBinary for int2/int4 and float4, casts) take
// the type. The representations are listed at Datum.
//
// Invariants callers can rely on and must keep:
//   - A datum stored in a column already fits the column's type: in range
//     for its integer width, rounded to its NUMERIC(p,s), no longer than its
//     VARCHAR(n). ParseText, ParseBinary and Cast establish that; code that
//     builds datums itself must too.
//   - Timestamps are time.Time in UTC with whole microseconds; DTimestamp
//     holds the wall-clock reading, DTimestampTZ the instant.
//   - A CHAR(n) value is held without trailing spaces (PostgreSQL ignores
//     them when comparing and drops them when casting to text) and padded
//     on output. A bpchar without length therefore also loses its trailing
//     spaces, where PostgreSQL would keep them on output.
//   - Strings compare bytewise: the C collation.
//   - json is accepted as a type name and OID but stored and printed as
//     jsonb (normalized key order, no duplicate keys, no whitespace kept).
//
// Errors are *sqlerr.Error with PostgreSQL's SQLSTATE and, as far as
// practical, its message text.
//
// Not here: arithmetic and functions (the expression evaluator uses apd
// contexts on DDecimal); multidimensional arrays and arrays with a lower
// bound other than 1 (0A000); date input other than ISO year-first forms
// (no month names, no "1/8/1999"); time zone abbreviations other than
// UTC/GMT/Z (IANA names work where the zone database is present); the
// ISO 8601 "alternative" interval form (P0001-02-03T04:05:06) and
// interval typmods (INTERVAL YEAR TO MONTH, INTERVAL(3)); DateStyles other
// than ISO and IntervalStyles other than postgres; the time and timetz
// types; collations other than C.
package types
