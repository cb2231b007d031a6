package rowenc

import (
	"encoding/binary"
	"fmt"

	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// valueFormat is the first byte of every row and index value; a later
// format gets another byte, and decoders refuse the ones they do not know.
const valueFormat byte = 1

// maxValueColumns bounds the columns of one value (PostgreSQL's limit is
// 1600 per table).
const maxValueColumns = 1 << 14

// EncodeRowValue returns the primary index value of row (indexed like
// desc.Columns): every column, key columns included, so that reading a row
// never decodes its key. The format is
//
//	0x01 { uvarint(column id) uvarint(0) | uvarint(len+1) datum }*
//
// with datums in their PostgreSQL binary format (types.AppendBinary) for
// the column's type: 0 marks a NULL, so a column added later (absent from
// old values) is told apart from a NULL.
func EncodeRowValue(desc *catalog.TableDescriptor, row []types.Datum) ([]byte, error) {
	if len(row) != len(desc.Columns) {
		return nil, sqlerr.Internalf("rowenc: a row of %d values for table %q of %d columns", len(row), desc.Name, len(desc.Columns))
	}
	cols := make([]*catalog.Column, len(desc.Columns))
	for i := range desc.Columns {
		cols[i] = &desc.Columns[i]
	}
	return encodeValue(cols, row)
}

func encodeValue(cols []*catalog.Column, vals []types.Datum) ([]byte, error) {
	b := make([]byte, 1, 1+len(vals)*10)
	b[0] = valueFormat
	var scratch []byte
	for i, c := range cols {
		b = binary.AppendUvarint(b, uint64(c.ID))
		d := vals[i]
		if d == types.DNull {
			b = binary.AppendUvarint(b, 0)
			continue
		}
		if f := datumFamily(d); f != c.Type.Family() {
			return nil, errFamily(d, c.Type)
		}
		scratch = types.AppendBinary(scratch[:0], d, c.Type)
		b = binary.AppendUvarint(b, uint64(len(scratch))+1)
		b = append(b, scratch...)
	}
	return b, nil
}

func errCorrupt(format string, args ...any) error {
	return sqlerr.Internalf("rowenc: corrupt value: %s", fmt.Sprintf(format, args...))
}

// valueColumns iterates over the columns of a value, calling fn with each
// column id and its datum bytes (nil for NULL).
func valueColumns(value []byte, fn func(id uint32, data []byte, null bool) error) error {
	if len(value) == 0 || value[0] != valueFormat {
		if len(value) == 0 {
			return errCorrupt("empty")
		}
		return errCorrupt("unknown format %d", value[0])
	}
	b := value[1:]
	for n := 0; len(b) > 0; n++ {
		if n >= maxValueColumns {
			return errCorrupt("more than %d columns", maxValueColumns)
		}
		id, k := binary.Uvarint(b)
		if k <= 0 || id == 0 || id > 1<<32-1 {
			return errCorrupt("bad column id")
		}
		b = b[k:]
		l, k := binary.Uvarint(b)
		if k <= 0 {
			return errCorrupt("bad length for column %d", id)
		}
		b = b[k:]
		if l > 0 && l-1 > uint64(len(b)) {
			return errCorrupt("column %d is longer than the value", id)
		}
		if l == 0 {
			if err := fn(uint32(id), nil, true); err != nil {
				return err
			}
			continue
		}
		data := b[:l-1]
		b = b[l-1:]
		if err := fn(uint32(id), data, false); err != nil {
			return err
		}
	}
	return nil
}

// DecodeRow decodes a primary index value into a row indexed like
// desc.Columns. A column absent from the value (added after the row was
// written) gets the column's Missing value (DNull when it has none); see
// DecodeRowInto to tell it from a stored value. A column of the value that
// desc no longer has (dropped) is skipped.
func DecodeRow(desc *catalog.TableDescriptor, value []byte) ([]types.Datum, error) {
	row := make([]types.Datum, len(desc.Columns))
	if err := DecodeRowInto(desc, value, row, nil); err != nil {
		return nil, err
	}
	return row, nil
}

// DecodeRowInto is DecodeRow into row (len(desc.Columns) datums). When
// present is not nil (also len(desc.Columns)), present[i] reports whether
// the value held column i, NULL or not; a column it did not hold (added
// later) reads as the column's Missing value either way.
func DecodeRowInto(desc *catalog.TableDescriptor, value []byte, row []types.Datum, present []bool) error {
	if len(row) != len(desc.Columns) || (present != nil && len(present) != len(desc.Columns)) {
		return sqlerr.Internalf("rowenc: decoding a row of table %q of %d columns into %d values", desc.Name, len(desc.Columns), len(row))
	}
	for i := range row {
		row[i] = types.DNull
		if m := desc.Columns[i].Missing; m != nil {
			row[i] = m
		}
	}
	clear(present)
	next := 0 // values are written in column order: guess the next column first
	return valueColumns(value, func(id uint32, data []byte, null bool) error {
		o := next
		if o >= len(desc.Columns) || desc.Columns[o].ID != id {
			if o = desc.ColumnOrdinal(id); o < 0 {
				return nil // a dropped column
			}
		}
		next = o + 1
		if present != nil {
			present[o] = true
		}
		if null {
			row[o] = types.DNull
			return nil
		}
		d, err := types.ParseBinary(data, desc.Columns[o].Type)
		if err != nil {
			return fmt.Errorf("rowenc: column %q of table %q: %w", desc.Columns[o].Name, desc.Name, err)
		}
		row[o] = d
		return nil
	})
}

// DecodeIndexValue decodes the value of a secondary index entry into the
// primary key columns of the row, in the order of
// desc.PrimaryIndex.ColumnIDs.
func DecodeIndexValue(desc *catalog.TableDescriptor, value []byte) ([]types.Datum, error) {
	ids := desc.PrimaryIndex.ColumnIDs
	pk := make([]types.Datum, len(ids))
	seen := 0
	err := valueColumns(value, func(id uint32, data []byte, null bool) error {
		i := -1
		for j, pid := range ids {
			if pid == id {
				i = j
				break
			}
		}
		if i < 0 || null || pk[i] != nil {
			return errCorrupt("index value of table %q has column %d (null %v)", desc.Name, id, null)
		}
		c := desc.ColumnByID(id)
		d, err := types.ParseBinary(data, c.Type)
		if err != nil {
			return fmt.Errorf("rowenc: column %q of table %q: %w", c.Name, desc.Name, err)
		}
		pk[i] = d
		seen++
		return nil
	})
	if err != nil {
		return nil, err
	}
	if seen != len(ids) {
		return nil, errCorrupt("index value of table %q has %d of %d primary key columns", desc.Name, seen, len(ids))
	}
	return pk, nil
}
