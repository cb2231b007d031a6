package sql

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/rowenc"
	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/types"
)

// IN lists as access paths: `col IN (v1, v2, ...)` or `col = ANY(array)`
// on the index column after the ones fixed by equalities reads one key
// (all of the primary key fixed: one GetMany for all values) or one key
// span per value, instead of the whole table.

// maxInListKeys bounds the values an IN list turns into keys or spans; a
// longer list scans as if it were not there.
const maxInListKeys = 10000

// openIn reads the rows of an access path with an IN list (ap.in) after
// its equality prefix. ok is false when the list cannot serve as keys (a
// value that does not convert exactly to the column's type, too many
// values): the caller then scans without it.
func (ap *accessPath) openIn(ctx context.Context, x *execCtx, rd rowReader, prefix []types.Datum) (_ rowIter, ok bool, _ error) {
	arr, err := ap.in.Eval(x.evalCtx(ctx), nil)
	if err != nil {
		return nil, false, err
	}
	if arr == types.DNull {
		return &sliceIter{}, true, nil // col = ANY(NULL) matches nothing
	}
	a, isArr := arr.(*types.DArray)
	if !isArr || len(a.Elems) > maxInListKeys {
		return nil, false, nil
	}
	col := ap.desc.ColumnByID(ap.idx.ColumnIDs[len(prefix)])
	full := ap.primary() && len(prefix)+1 == len(ap.idx.ColumnIDs)
	var keys [][]byte
	var spans []rowenc.Span
	for _, d := range a.Elems {
		if d == types.DNull {
			continue // = NULL matches nothing
		}
		if !a.Elem.Identical(col.Type) {
			c, err := types.Cast(d, col.Type)
			if err != nil || types.Compare(c, mustCastBack(c, a.Elem)) != 0 {
				return nil, false, nil
			}
			d = c
		}
		vals := append(slices.Clip(prefix), d)
		switch {
		case full:
			row := make([]types.Datum, len(ap.desc.Columns))
			for i := range row {
				row[i] = types.DNull
			}
			for i, id := range ap.desc.PrimaryIndex.ColumnIDs {
				row[ap.desc.ColumnOrdinal(id)] = vals[i]
			}
			key, err := rowenc.EncodePrimaryKey(ap.desc, row)
			if err != nil {
				return nil, false, err
			}
			keys = append(keys, key)
		case ap.primary():
			sps, err := rowenc.PrimaryKeyPrefixSpans(ap.desc, vals)
			if err != nil {
				return nil, false, err
			}
			if spans = append(spans, sps...); len(spans) > maxInListKeys {
				return nil, false, nil // a value per hash bucket each: too many spans
			}
		default:
			key, err := rowenc.EncodeIndexKeyPrefix(ap.desc, ap.idx, vals)
			if err != nil {
				return nil, false, err
			}
			spans = append(spans, rowenc.Span{Key: key, EndKey: rowenc.PrefixEnd(key)})
		}
	}
	// A value listed twice is read once.
	slices.SortFunc(keys, bytes.Compare)
	keys = slices.CompactFunc(keys, bytes.Equal)
	slices.SortFunc(spans, func(a, b rowenc.Span) int { return bytes.Compare(a.Key, b.Key) })
	spans = slices.CompactFunc(spans, func(a, b rowenc.Span) bool { return bytes.Equal(a.Key, b.Key) })
	switch {
	case full:
		return &multiPointLookup{txn: rd, desc: ap.desc, keys: keys}, true, nil
	case ap.primary():
		return newSpanScan(rd, ap.desc, spans), true, nil
	}
	return newIndexLookup(rd, ap.desc, spans), true, nil
}

// inText describes the IN list for EXPLAIN.
func (ap *accessPath) inText() string {
	col := ap.desc.ColumnByID(ap.idx.ColumnIDs[len(ap.eq)])
	return fmt.Sprintf("%s IN %s", col.Name, ap.in.String())
}

// multiPointLookup reads rows by primary key, all in one GetMany.
type multiPointLookup struct {
	txn  rowReader
	desc *catalog.TableDescriptor
	keys [][]byte
	rows [][]types.Datum
	read bool
}

func (m *multiPointLookup) Next(ctx context.Context) ([]types.Datum, error) {
	if !m.read {
		m.read = true
		if len(m.keys) > 0 {
			resps, err := m.txn.GetMany(ctx, m.keys)
			if err != nil {
				return nil, err
			}
			for _, r := range resps {
				if r == nil || !r.Found {
					continue
				}
				row, err := rowenc.DecodeRow(m.desc, r.Value)
				if err != nil {
					return nil, err
				}
				m.rows = append(m.rows, row)
			}
		}
	}
	if len(m.rows) == 0 {
		return nil, nil
	}
	row := m.rows[0]
	m.rows = m.rows[1:]
	return row, nil
}
func (m *multiPointLookup) RowsAffected() int64 { return 0 }
func (m *multiPointLookup) Close()              {}

// inKeyText is keyText with the IN list.
func (ap *accessPath) inKeyText() string {
	if len(ap.eq) == 0 {
		return "/" + ap.inText()
	}
	return ap.keyText() + "/" + ap.inText()
}

// orderedByScan reports whether ap reads the rows in ORDER BY's order, so
// that no sort is needed (and LIMIT stops the scan early): ORDER BY names
// leading primary key columns, ascending, and ap reads the primary index
// in key order (not a hash-partitioned table, whose buckets come one after
// the other, nor an IN list).
func (sp *selectPlan) orderedByScan(ap *accessPath) bool {
	if len(sp.order) == 0 || sp.agg != nil || sp.distinct || len(sp.distinctOn) > 0 ||
		!ap.primary() || ap.in != nil || ap.desc.HashBuckets > 0 || isVirtual(ap.desc) {
		return false
	}
	pk := &ap.desc.PrimaryIndex
	if len(sp.order) > len(pk.ColumnIDs) {
		return false
	}
	for i, k := range sp.order {
		c, ok := k.expr.(*sem.ColumnRef)
		if !ok || k.desc || k.nullsFirst || pk.IsDescending(i) || c.Idx != ap.desc.ColumnOrdinal(pk.ColumnIDs[i]) {
			return false
		}
	}
	return true
}
