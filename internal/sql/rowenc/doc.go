// Package rowenc encodes SQL rows as KV pairs: index keys that sort like
// the rows (internal/encoding's order-preserving primitives) and values
// that hold the columns.
//
// # Layout
//
//	primary index    t ‖ varint(table) ‖ varint(primary index id) ‖ [varint(bucket)] ‖ key columns
//	                   → value: every column (EncodeRowValue)
//	secondary index  t ‖ varint(table) ‖ varint(index) ‖ indexed columns ‖ [key columns]
//	                   → value: the primary key columns (DecodeIndexValue)
//
// The bucket is present when the table is hash partitioned (HashBuckets >
// 0): crc32 of the hash column's key encoding modulo the buckets, so that
// sequential keys spread over ranges. A secondary index appends the
// primary key columns unless it is unique and no indexed column is NULL:
// then the key identifies the indexed values alone and a second row with
// the same values finds the entry (23505).
//
// # Key columns (AppendKeyDatum)
//
// Each column is a marker byte, 0x02 for a value then its encoding, 0x03
// for NULL, which therefore sorts after every value (NULLS LAST, as
// types.Compare orders). A descending column is the bitwise NOT of its
// ascending encoding (NULLS FIRST). Invariants, checked by the property
// tests against types.Compare for every type:
//   - order: bytes.Compare of two encodings is types.Compare of the values;
//   - prefix-free: no encoding is a prefix of another, so columns
//     concatenate and a key prefix scan selects exactly the rows with those
//     leading values;
//   - canonical: values types.Equal calls equal encode alike (1.5 and 1.50,
//     0 and -0, every NaN, '1 mon' and '30 days', JSON 1.0 and 1), as a
//     unique index needs. Keys are therefore not decoded: the row's value
//     has every column.
//
// types.EncodeKey is not used: it is a hashing key, neither ordered nor
// stable.
//
// # Values
//
// A value is a format byte (1), then per column: uvarint(column id) and
// uvarint(0) for NULL or uvarint(len+1) and the datum in PostgreSQL's
// binary format for the column's type. Decoding matches columns by id: a
// column the value lacks (ADD COLUMN after the row was written) decodes as
// the column's Missing value (its DEFAULT as the ALTER evaluated it; NULL
// without one) and is reported absent (DecodeRowInto); a column id the
// descriptor lacks (DROP COLUMN) is skipped. Column ids are never reused,
// which makes both safe.
//
// Callers: the executor (insert, update, delete, scans, index lookups) and
// the planner (spans: EncodeIndexKeyPrefix, PrimaryKeyPrefixSpans).
package rowenc
