package sql

import (
	"context"
	"fmt"
	"strings"

	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/rowenc"
	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/types"
)

// accessPath is how a query reads its table: the primary-key columns
// fixed by equalities in WHERE (a prefix of the key), looked up as one key
// when the whole key is fixed, else as the spans of that prefix; with no
// prefix, the whole table. The full WHERE is still applied to every row
// read, so the access path only narrows what is read.
type accessPath struct {
	desc *catalog.TableDescriptor
	// eq are the values fixing the first len(eq) primary key columns.
	eq []sem.Expr
}

// chooseAccess picks the access path for a filter over desc's rows.
func chooseAccess(desc *catalog.TableDescriptor, filter sem.Expr) *accessPath {
	ap := &accessPath{desc: desc}
	if filter == nil {
		return ap
	}
	byCol := map[int]sem.Expr{}
	for _, c := range sem.SplitConjuncts(filter) {
		col, op, val, ok := sem.ColumnComparison(c)
		if ok && op == "=" && val != nil && sem.IsRowIndependent(val) {
			if _, dup := byCol[col]; !dup {
				byCol[col] = val
			}
		}
	}
	for _, id := range desc.PrimaryIndex.ColumnIDs {
		v, ok := byCol[desc.ColumnOrdinal(id)]
		if !ok {
			break
		}
		ap.eq = append(ap.eq, v)
	}
	return ap
}

// point reports whether the whole primary key is fixed.
func (ap *accessPath) point() bool {
	return len(ap.eq) > 0 && len(ap.eq) == len(ap.desc.PrimaryIndex.ColumnIDs)
}

// open starts reading the rows of the access path.
func (ap *accessPath) open(ctx context.Context, x *execCtx) (rowIter, error) {
	if len(ap.eq) == 0 {
		return newTableScan(x.txn, ap.desc), nil
	}
	prefix := make([]types.Datum, len(ap.eq))
	for i, e := range ap.eq {
		d, err := e.Eval(x.evalCtx(ctx), nil)
		if err != nil {
			return nil, err
		}
		if d == types.DNull {
			return &sliceIter{}, nil // key = NULL matches nothing
		}
		col := ap.desc.ColumnByID(ap.desc.PrimaryIndex.ColumnIDs[i])
		if !e.Type().Identical(col.Type) {
			// The comparison may be in a wider type (int8 vs an int4
			// column): a value the column cannot hold matches no row, but
			// to be safe fall back to reading the table.
			if d, err = types.Cast(d, col.Type); err != nil || types.Compare(d, mustCastBack(d, e.Type())) != 0 {
				return newTableScan(x.txn, ap.desc), nil
			}
		}
		prefix[i] = d
	}
	if ap.point() {
		row := make([]types.Datum, len(ap.desc.Columns))
		for i := range row {
			row[i] = types.DNull
		}
		for i, id := range ap.desc.PrimaryIndex.ColumnIDs {
			row[ap.desc.ColumnOrdinal(id)] = prefix[i]
		}
		key, err := rowenc.EncodePrimaryKey(ap.desc, row)
		if err != nil {
			return nil, err
		}
		return &pointLookup{txn: x.txn, desc: ap.desc, key: key}, nil
	}
	spans, err := rowenc.PrimaryKeyPrefixSpans(ap.desc, prefix)
	if err != nil {
		return nil, err
	}
	return newSpanScan(x.txn, ap.desc, spans), nil
}

// mustCastBack casts d to t, returning DNull when it cannot (so a failed
// round trip compares unequal).
func mustCastBack(d types.Datum, t *types.Type) types.Datum {
	back, err := types.Cast(d, t)
	if err != nil {
		return types.DNull
	}
	return back
}

// explain describes the access path for EXPLAIN.
func (ap *accessPath) explain() string {
	idx := ap.desc.PrimaryIndex
	switch {
	case ap.point():
		return fmt.Sprintf("point lookup on %s@%s: %s", ap.desc.Name, idx.Name, ap.keyText())
	case len(ap.eq) > 0:
		return fmt.Sprintf("range scan on %s@%s: prefix %s", ap.desc.Name, idx.Name, ap.keyText())
	}
	return fmt.Sprintf("full scan of %s@%s", ap.desc.Name, idx.Name)
}

func (ap *accessPath) keyText() string {
	parts := make([]string, len(ap.eq))
	for i, e := range ap.eq {
		col := ap.desc.ColumnByID(ap.desc.PrimaryIndex.ColumnIDs[i])
		parts[i] = col.Name + " = " + e.String()
	}
	return "/" + strings.Join(parts, "/")
}

// pointLookup reads one row by primary key.
type pointLookup struct {
	txn  *kv.Txn
	desc *catalog.TableDescriptor
	key  []byte
	done bool
}

func (p *pointLookup) Next(ctx context.Context) ([]types.Datum, error) {
	if p.done {
		return nil, nil
	}
	p.done = true
	resp, err := p.txn.Get(ctx, p.key)
	if err != nil || !resp.Found {
		return nil, err
	}
	return rowenc.DecodeRow(p.desc, resp.Value)
}
func (p *pointLookup) RowsAffected() int64 { return 0 }
func (p *pointLookup) Close()              {}

// spanScan reads the rows of several spans in order.
type spanScan struct {
	txn   *kv.Txn
	desc  *catalog.TableDescriptor
	spans []rowenc.Span
	cur   *tableScan
}

func newSpanScan(txn *kv.Txn, desc *catalog.TableDescriptor, spans []rowenc.Span) *spanScan {
	return &spanScan{txn: txn, desc: desc, spans: spans}
}

func (s *spanScan) Next(ctx context.Context) ([]types.Datum, error) {
	for {
		if s.cur == nil {
			if len(s.spans) == 0 {
				return nil, nil
			}
			sp := s.spans[0]
			s.spans = s.spans[1:]
			s.cur = &tableScan{txn: s.txn, desc: s.desc, next: sp.Key, end: sp.EndKey}
		}
		row, err := s.cur.Next(ctx)
		if err != nil || row != nil {
			return row, err
		}
		s.cur = nil
	}
}
func (s *spanScan) RowsAffected() int64 { return 0 }
func (s *spanScan) Close()              {}
