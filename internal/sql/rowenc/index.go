package rowenc

import (
	"hash/crc32"
	"slices"

	"github.com/cairndb/cairn/internal/encoding"
	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// Span is a key span [Key, EndKey).
type Span struct {
	Key, EndKey []byte
}

// TablePrefix returns the prefix of every key of table tableID.
func TablePrefix(tableID uint32) []byte {
	return encoding.EncodeVarintAscending(append([]byte(nil), keys.TablePrefix...), int64(tableID))
}

// IndexPrefix returns the prefix of every key of index indexID of table
// tableID: "t" ‖ varint(tableID) ‖ varint(indexID), order-preserving.
func IndexPrefix(tableID, indexID uint32) []byte {
	return encoding.EncodeVarintAscending(TablePrefix(tableID), int64(indexID))
}

// PrefixEnd returns the smallest key after every key that starts with
// prefix: the end of a prefix scan.
func PrefixEnd(prefix []byte) []byte { return keys.PrefixEnd(prefix) }

// TableSpan is the span of all the table's data, every index included
// (DROP TABLE, TRUNCATE).
func TableSpan(tableID uint32) Span {
	p := TablePrefix(tableID)
	return Span{Key: p, EndKey: PrefixEnd(p)}
}

// IndexSpan is the span of one index.
func IndexSpan(tableID, indexID uint32) Span {
	p := IndexPrefix(tableID, indexID)
	return Span{Key: p, EndKey: PrefixEnd(p)}
}

// PrimaryKeySpan is the span of the table's primary index: all its rows.
func PrimaryKeySpan(desc *catalog.TableDescriptor) Span {
	return IndexSpan(desc.ID, desc.PrimaryIndex.ID)
}

// HashBucket returns the hash bucket of a row whose hash partitioning
// column holds d: crc32 of d's key encoding, modulo the buckets. Equal
// values (types.Equal) land in the same bucket.
func HashBucket(desc *catalog.TableDescriptor, d types.Datum) (int32, error) {
	c := desc.ColumnByID(desc.HashColumnID)
	if desc.HashBuckets <= 0 || c == nil {
		return 0, sqlerr.Internalf("rowenc: table %q is not hash partitioned", desc.Name)
	}
	var scratch [64]byte
	enc, err := AppendKeyDatum(scratch[:0], d, c.Type, false)
	if err != nil {
		return 0, err
	}
	return int32(crc32.ChecksumIEEE(enc) % uint32(desc.HashBuckets)), nil
}

// appendBucket appends the bucket component of a primary key.
func appendBucket(b []byte, bucket int32) []byte {
	return encoding.EncodeVarintAscending(b, int64(bucket))
}

// appendColumns appends the key encodings of vals, the values of the
// index's first len(vals) columns.
func appendColumns(b []byte, desc *catalog.TableDescriptor, idx *catalog.Index, vals []types.Datum) ([]byte, error) {
	for i, v := range vals {
		c := desc.ColumnByID(idx.ColumnIDs[i])
		if c == nil {
			return nil, sqlerr.Internalf("rowenc: index %q of table %q has no column %d", idx.Name, desc.Name, idx.ColumnIDs[i])
		}
		var err error
		if b, err = AppendKeyDatum(b, v, c.Type, idx.IsDescending(i)); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// indexValues returns the row's values of the index's columns.
func indexValues(desc *catalog.TableDescriptor, idx *catalog.Index, row []types.Datum) ([]types.Datum, error) {
	if len(row) != len(desc.Columns) {
		return nil, sqlerr.Internalf("rowenc: a row of %d values for table %q of %d columns", len(row), desc.Name, len(desc.Columns))
	}
	vals := make([]types.Datum, len(idx.ColumnIDs))
	for i, id := range idx.ColumnIDs {
		o := desc.ColumnOrdinal(id)
		if o < 0 {
			return nil, sqlerr.Internalf("rowenc: index %q of table %q has no column %d", idx.Name, desc.Name, id)
		}
		vals[i] = row[o]
	}
	return vals, nil
}

func errNullInPrimaryKey(desc *catalog.TableDescriptor, id uint32) error {
	name := ""
	if c := desc.ColumnByID(id); c != nil {
		name = c.Name
	}
	return sqlerr.Newf(sqlerr.CodeNotNullViolation,
		"null value in column %q of relation %q violates not-null constraint", name, desc.Name)
}

// EncodePrimaryKey returns the primary index key of row (indexed like
// desc.Columns): IndexPrefix(table, 1) ‖ [hash bucket] ‖ the key columns.
// A NULL key column fails with 23502.
func EncodePrimaryKey(desc *catalog.TableDescriptor, row []types.Datum) ([]byte, error) {
	vals, err := indexValues(desc, &desc.PrimaryIndex, row)
	if err != nil {
		return nil, err
	}
	for i, v := range vals {
		if v == types.DNull {
			return nil, errNullInPrimaryKey(desc, desc.PrimaryIndex.ColumnIDs[i])
		}
	}
	return EncodePrimaryKeyPrefix(desc, vals)
}

// EncodePrimaryKeyPrefix returns the primary key prefix for the values of
// the first len(prefix) primary key columns, for a point lookup (all
// columns) or a prefix scan [key, PrefixEnd(key)). In a hash-partitioned
// table the prefix must include the hash column (see
// PrimaryKeyPrefixSpans otherwise).
func EncodePrimaryKeyPrefix(desc *catalog.TableDescriptor, prefix []types.Datum) ([]byte, error) {
	return EncodeIndexKeyPrefix(desc, &desc.PrimaryIndex, prefix)
}

// EncodeIndexKeyPrefix returns the key prefix of index idx (primary or
// secondary) for the values of its first len(prefix) columns; DNull
// encodes the NULL position, so that a scan can stop before the NULLs.
// For the primary index of a hash-partitioned table, the prefix must
// include the hash column.
func EncodeIndexKeyPrefix(desc *catalog.TableDescriptor, idx *catalog.Index, prefix []types.Datum) ([]byte, error) {
	if len(prefix) > len(idx.ColumnIDs) {
		return nil, sqlerr.Internalf("rowenc: %d values for index %q of %d columns", len(prefix), idx.Name, len(idx.ColumnIDs))
	}
	key := IndexPrefix(desc.ID, idx.ID)
	if idx.ID == desc.PrimaryIndex.ID && desc.HashBuckets > 0 {
		i := slices.Index(idx.ColumnIDs[:len(prefix)], desc.HashColumnID)
		if i < 0 {
			return nil, sqlerr.Internalf("rowenc: the key prefix of hash-partitioned table %q does not fix its hash column", desc.Name)
		}
		bucket, err := HashBucket(desc, prefix[i])
		if err != nil {
			return nil, err
		}
		key = appendBucket(key, bucket)
	}
	return appendColumns(key, desc, idx, prefix)
}

// PrimaryKeyPrefixSpans returns the spans holding the rows whose first
// len(prefix) primary key columns have the values prefix (none: the whole
// table). That is one span, except in a hash-partitioned table whose hash
// column the prefix does not fix: one span per bucket then, in bucket
// order (so rows come back ordered within each span only).
func PrimaryKeyPrefixSpans(desc *catalog.TableDescriptor, prefix []types.Datum) ([]Span, error) {
	idx := &desc.PrimaryIndex
	if desc.HashBuckets == 0 || slices.Contains(idx.ColumnIDs[:min(len(prefix), len(idx.ColumnIDs))], desc.HashColumnID) {
		key, err := EncodePrimaryKeyPrefix(desc, prefix)
		if err != nil {
			return nil, err
		}
		return []Span{{Key: key, EndKey: PrefixEnd(key)}}, nil
	}
	if len(prefix) > len(idx.ColumnIDs) {
		return nil, sqlerr.Internalf("rowenc: %d values for the primary key of %d columns", len(prefix), len(idx.ColumnIDs))
	}
	spans := make([]Span, desc.HashBuckets)
	for bucket := range desc.HashBuckets {
		key, err := appendColumns(appendBucket(IndexPrefix(desc.ID, idx.ID), bucket), desc, idx, prefix)
		if err != nil {
			return nil, err
		}
		spans[bucket] = Span{Key: key, EndKey: PrefixEnd(key)}
	}
	return spans, nil
}

// SecondaryIndexKey returns the key of row's entry in secondary index idx:
// IndexPrefix(table, idx) ‖ the indexed columns ‖ the primary key columns.
// The primary key is left out of a unique index's key unless an indexed
// column is NULL (NULLs are never equal, so such entries never conflict).
// checkUnique reports whether the key is the uniqueness key: the caller
// must then make sure no other row's entry has this key (23505).
func SecondaryIndexKey(desc *catalog.TableDescriptor, idx *catalog.Index, row []types.Datum) (key []byte, checkUnique bool, err error) {
	vals, err := indexValues(desc, idx, row)
	if err != nil {
		return nil, false, err
	}
	if key, err = appendColumns(IndexPrefix(desc.ID, idx.ID), desc, idx, vals); err != nil {
		return nil, false, err
	}
	if idx.Unique && !slices.Contains(vals, types.DNull) {
		return key, true, nil
	}
	pk, err := indexValues(desc, &desc.PrimaryIndex, row)
	if err != nil {
		return nil, false, err
	}
	key, err = appendColumns(key, desc, &desc.PrimaryIndex, pk)
	return key, false, err
}

// EncodeSecondaryIndexEntry returns the key (see SecondaryIndexKey) and the
// value of row's entry in secondary index idx. The value holds the
// primary key columns (DecodeIndexValue), so that a lookup can fetch the
// row.
func EncodeSecondaryIndexEntry(desc *catalog.TableDescriptor, idx *catalog.Index, row []types.Datum) (key, value []byte, err error) {
	if key, _, err = SecondaryIndexKey(desc, idx, row); err != nil {
		return nil, nil, err
	}
	pk, err := indexValues(desc, &desc.PrimaryIndex, row)
	if err != nil {
		return nil, nil, err
	}
	cols := make([]*catalog.Column, len(pk))
	for i, id := range desc.PrimaryIndex.ColumnIDs {
		cols[i] = desc.ColumnByID(id)
	}
	if value, err = encodeValue(cols, pk); err != nil {
		return nil, nil, err
	}
	return key, value, nil
}
