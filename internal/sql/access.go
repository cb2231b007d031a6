package sql

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/cairndb/cairn/internal/encoding"
	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/rowenc"
	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// accessPath is how a query reads its table: through one index (the
// primary index or a public secondary index), the columns of a prefix of
// that index fixed by equalities in WHERE, and optionally the next column
// bounded by a range (<, <=, >, >=, BETWEEN). A whole primary key fixed is
// a point lookup; otherwise the index is read over the spans of that
// prefix and range, and a secondary index's entries lead to the rows by
// their primary key (batched point reads). With no prefix and no range,
// the whole table is read. The full WHERE is still applied to every row
// read, so the access path only narrows what is read.
type accessPath struct {
	desc *catalog.TableDescriptor
	// idx is the index read: &desc.PrimaryIndex or a public secondary one.
	idx *catalog.Index
	// eq are the values fixing the first len(eq) columns of idx.
	eq []sem.Expr
	// lo and hi bound column len(eq) of idx (nil: unbounded).
	lo, hi *rangeBound
	// in: an array of the values column len(eq) of idx is IN (nil: none;
	// exclusive with lo and hi; access_in.go).
	in sem.Expr
	// lock: the rows read are locked until the transaction ends (UPDATE,
	// DELETE, SELECT ... FOR UPDATE; see lock.go).
	lock bool
}

// rangeBound is one end of a range on an index column.
type rangeBound struct {
	val       sem.Expr
	inclusive bool
	op        string // as written with the column on the left (EXPLAIN)
}

// columnConstraints are what WHERE's conjuncts say of one column.
type columnConstraints struct {
	eq     sem.Expr
	lo, hi *rangeBound
	in     sem.Expr // an array: col IN (...), col = ANY(array)
}

// chooseAccess picks the access path for a filter over desc's rows: the
// primary key when WHERE fixes all of it; else the index (primary or
// public secondary) with the longest prefix of columns fixed by
// equalities, then with a range on the next column, the primary index on a
// tie (it needs no second read per row).
func chooseAccess(desc *catalog.TableDescriptor, filter sem.Expr) *accessPath {
	best := &accessPath{desc: desc, idx: &desc.PrimaryIndex}
	if filter == nil {
		return best
	}
	cons := map[int]*columnConstraints{}
	for _, c := range sem.SplitConjuncts(filter) {
		col, op, val, ok := sem.ColumnComparison(c)
		if !ok || val == nil || !sem.IsRowIndependent(val) {
			continue
		}
		cc := cons[col]
		if cc == nil {
			cc = &columnConstraints{}
			cons[col] = cc
		}
		switch op {
		case "=":
			if cc.eq == nil {
				cc.eq = val
			}
		case ">", ">=":
			if cc.lo == nil {
				cc.lo = &rangeBound{val: val, inclusive: op == ">=", op: op}
			}
		case "<", "<=":
			if cc.hi == nil {
				cc.hi = &rangeBound{val: val, inclusive: op == "<=", op: op}
			}
		case sem.OpIn:
			if cc.in == nil {
				cc.in = val
			}
		}
	}
	best = candidateAccess(desc, &desc.PrimaryIndex, cons)
	if best.point() {
		return best
	}
	bestScore := best.score()
	for i := range desc.Indexes {
		idx := &desc.Indexes[i]
		if !idx.Public() {
			continue
		}
		c := candidateAccess(desc, idx, cons)
		if s := c.score(); s > bestScore {
			best, bestScore = c, s
		}
	}
	return best
}

// candidateAccess is the access path through idx given what WHERE says of
// the columns.
func candidateAccess(desc *catalog.TableDescriptor, idx *catalog.Index, cons map[int]*columnConstraints) *accessPath {
	ap := &accessPath{desc: desc, idx: idx}
	for _, id := range idx.ColumnIDs {
		cc := cons[desc.ColumnOrdinal(id)]
		if cc == nil {
			break
		}
		if cc.eq != nil {
			ap.eq = append(ap.eq, cc.eq)
			continue
		}
		if cc.in != nil && cc.lo == nil && cc.hi == nil {
			ap.in = cc.in
			break
		}
		ap.lo, ap.hi = cc.lo, cc.hi
		break
	}
	return ap
}

// score ranks access paths: more fixed columns first, then a range; a
// unique index fixed entirely finds at most one row.
func (ap *accessPath) score() int {
	s := 2 * len(ap.eq)
	if ap.lo != nil || ap.hi != nil {
		s++
	}
	if ap.in != nil {
		s += 2 // a few keys: nearly as good as an equality
	}
	switch {
	case ap.idx.Unique && len(ap.eq) == len(ap.idx.ColumnIDs):
		s += 1000
	case ap.idx.Unique && ap.in != nil && len(ap.eq)+1 == len(ap.idx.ColumnIDs):
		s += 500
	}
	return s
}

func (ap *accessPath) primary() bool { return ap.idx == &ap.desc.PrimaryIndex }

// point reports whether the whole primary key is fixed.
func (ap *accessPath) point() bool {
	return ap.primary() && len(ap.eq) > 0 && len(ap.eq) == len(ap.desc.PrimaryIndex.ColumnIDs)
}

// columnValue evaluates a value compared with column i of the index and
// converts it to the column's type. ok is false when the value does not
// convert exactly (the comparison is in a wider type): the caller then
// does without it.
func (ap *accessPath) columnValue(ctx context.Context, x *execCtx, i int, e sem.Expr) (d types.Datum, ok bool, err error) {
	if d, err = e.Eval(x.evalCtx(ctx), nil); err != nil {
		return nil, false, err
	}
	if d == types.DNull {
		return d, true, nil
	}
	col := ap.desc.ColumnByID(ap.idx.ColumnIDs[i])
	if !e.Type().Identical(col.Type) {
		// The comparison may be in a wider type (int8 vs an int4 column):
		// a value the column cannot hold exactly is not usable as a key.
		if d, err = types.Cast(d, col.Type); err != nil || types.Compare(d, mustCastBack(d, e.Type())) != 0 {
			return nil, false, nil
		}
	}
	return d, true, nil
}

// open starts reading the rows of the access path.
func (ap *accessPath) open(ctx context.Context, x *execCtx) (rowIter, error) {
	if isVirtual(ap.desc) {
		return openVirtual(ctx, x, ap.desc)
	}
	rd := ap.reader(x)
	if len(ap.eq) == 0 && ap.lo == nil && ap.hi == nil && ap.in == nil {
		return newTableScan(rd, ap.desc), nil
	}
	prefix := make([]types.Datum, len(ap.eq))
	for i, e := range ap.eq {
		d, ok, err := ap.columnValue(ctx, x, i, e)
		if err != nil {
			return nil, err
		}
		if !ok {
			return newTableScan(rd, ap.desc), nil
		}
		if d == types.DNull {
			return &sliceIter{}, nil // key = NULL matches nothing
		}
		prefix[i] = d
	}
	if ap.in != nil {
		it, ok, err := ap.openIn(ctx, x, rd, prefix)
		if err != nil || ok {
			return it, err
		}
		return newTableScan(rd, ap.desc), nil
	}
	var bounds [2]*keyBound
	for j, b := range []*rangeBound{ap.lo, ap.hi} {
		if b == nil {
			continue
		}
		d, ok, err := ap.columnValue(ctx, x, len(prefix), b.val)
		if err != nil {
			return nil, err
		}
		if d == types.DNull {
			return &sliceIter{}, nil // col < NULL matches nothing
		}
		if ok {
			bounds[j] = &keyBound{d: d, inclusive: b.inclusive}
		}
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
		return &pointLookup{txn: rd, desc: ap.desc, key: key}, nil
	}
	var spans []rowenc.Span
	var err error
	if bounds[0] == nil && bounds[1] == nil {
		if ap.primary() {
			spans, err = rowenc.PrimaryKeyPrefixSpans(ap.desc, prefix)
		} else {
			var key []byte
			key, err = rowenc.EncodeIndexKeyPrefix(ap.desc, ap.idx, prefix)
			spans = []rowenc.Span{{Key: key, EndKey: rowenc.PrefixEnd(key)}}
		}
	} else if ap.primary() && ap.bucketed() {
		spans, err = bucketRangeSpans(ap.desc, prefix, bounds[0], bounds[1])
	} else {
		spans, err = rangeSpans(ap.desc, ap.idx, prefix, bounds[0], bounds[1])
	}
	if err != nil {
		return nil, err
	}
	if ap.primary() {
		return newSpanScan(rd, ap.desc, spans), nil
	}
	return newIndexLookup(rd, ap.desc, spans), nil
}

// keyBound is an evaluated range bound, in the column's type.
type keyBound struct {
	d         types.Datum
	inclusive bool
}

// rangeSpans returns the span of index idx whose first len(prefix) columns
// are prefix and whose next column is within [lo, hi] (either may be nil:
// unbounded, NULLs excluded). A descending column reverses the order of
// its keys, and puts NULLs first instead of last.
func rangeSpans(desc *catalog.TableDescriptor, idx *catalog.Index, prefix []types.Datum, lo, hi *keyBound) ([]rowenc.Span, error) {
	enc := func(d types.Datum) ([]byte, error) {
		return rowenc.EncodeIndexKeyPrefix(desc, idx, append(prefix[:len(prefix):len(prefix)], d))
	}
	base, err := rowenc.EncodeIndexKeyPrefix(desc, idx, prefix)
	if err != nil {
		return nil, err
	}
	nulls, err := enc(types.DNull)
	if err != nil {
		return nil, err
	}
	first, last := lo, hi // in key order
	descending := idx.IsDescending(len(prefix))
	if descending {
		first, last = hi, lo
	}
	var start, end []byte
	switch {
	case first != nil:
		if start, err = enc(first.d); err != nil {
			return nil, err
		}
		if !first.inclusive {
			start = rowenc.PrefixEnd(start)
		}
	case descending:
		start = rowenc.PrefixEnd(nulls)
	default:
		start = base
	}
	switch {
	case last != nil:
		if end, err = enc(last.d); err != nil {
			return nil, err
		}
		if last.inclusive {
			end = rowenc.PrefixEnd(end)
		}
	case descending:
		end = rowenc.PrefixEnd(base)
	default:
		end = nulls
	}
	if bytes.Compare(start, end) >= 0 {
		return nil, nil
	}
	return []rowenc.Span{{Key: start, EndKey: end}}, nil
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
	on := ap.desc.Name + "@" + ap.idx.Name
	switch {
	case ap.point():
		return fmt.Sprintf("point lookup on %s: %s%s", on, ap.keyText(), ap.bucketText())
	case ap.in != nil && ap.primary() && len(ap.eq)+1 == len(ap.idx.ColumnIDs):
		return fmt.Sprintf("point lookups on %s: %s", on, ap.inKeyText())
	case ap.in != nil && ap.primary():
		return fmt.Sprintf("range scans on %s: prefix %s, the spans of each value", on, ap.inKeyText())
	case ap.in != nil:
		return fmt.Sprintf("index lookup on %s: %s, one span per value", on, ap.inKeyText())
	case !ap.primary():
		return fmt.Sprintf("index lookup on %s: %s", on, ap.keyText())
	case ap.lo != nil || ap.hi != nil:
		return fmt.Sprintf("range scan on %s: %s%s", on, ap.keyText(), ap.bucketText())
	case len(ap.eq) > 0:
		return fmt.Sprintf("range scan on %s: prefix %s%s", on, ap.keyText(), ap.bucketText())
	}
	if ap.desc.HashBuckets > 0 && ap.primary() {
		return fmt.Sprintf("full scan of %s (%d hash buckets)", on, ap.desc.HashBuckets)
	}
	return fmt.Sprintf("full scan of %s", on)
}

// bucketed reports whether reading the primary index of a hash-partitioned
// table takes one span per bucket: the equalities do not fix the hash
// column.
func (ap *accessPath) bucketed() bool {
	if ap.desc.HashBuckets <= 0 {
		return false
	}
	for i := range ap.eq {
		if i < len(ap.idx.ColumnIDs) && ap.idx.ColumnIDs[i] == ap.desc.HashColumnID {
			return false
		}
	}
	return true
}

// bucketText is what EXPLAIN adds for the primary index of a
// hash-partitioned table: the one bucket read, or the number of spans.
func (ap *accessPath) bucketText() string {
	if !ap.primary() || ap.desc.HashBuckets <= 0 {
		return ""
	}
	if !ap.bucketed() {
		name := ""
		if c := ap.desc.ColumnByID(ap.desc.HashColumnID); c != nil {
			name = c.Name
		}
		return fmt.Sprintf(" (hash bucket of %s)", name)
	}
	return fmt.Sprintf(" (%d spans: one per hash bucket)", ap.desc.HashBuckets)
}

// bucketRangeSpans is rangeSpans for the primary index of a
// hash-partitioned table whose prefix does not fix the hash column: the
// spans of the range within each bucket, in bucket order (rows come back
// in key order within a bucket only; ORDER BY always sorts).
func bucketRangeSpans(desc *catalog.TableDescriptor, prefix []types.Datum, lo, hi *keyBound) ([]rowenc.Span, error) {
	// The same spans in the table without buckets, then moved under each
	// bucket's prefix.
	plain := *desc
	plain.HashBuckets, plain.HashColumnID = 0, 0
	flat, err := rangeSpans(&plain, &plain.PrimaryIndex, prefix, lo, hi)
	if err != nil || len(flat) == 0 {
		return nil, err
	}
	ip := rowenc.IndexPrefix(desc.ID, desc.PrimaryIndex.ID)
	ipEnd := rowenc.PrefixEnd(ip)
	rebase := func(k, bp []byte) ([]byte, error) {
		switch {
		case bytes.HasPrefix(k, ip):
			return append(bp[:len(bp):len(bp)], k[len(ip):]...), nil
		case bytes.Equal(k, ipEnd):
			return rowenc.PrefixEnd(bp), nil
		}
		return nil, sqlerr.Internalf("a span of table %q outside its primary index", desc.Name)
	}
	spans := make([]rowenc.Span, 0, int(desc.HashBuckets)*len(flat))
	for b := range desc.HashBuckets {
		bp := bucketPrefix(desc, b)
		for _, sp := range flat {
			start, err := rebase(sp.Key, bp)
			if err != nil {
				return nil, err
			}
			end, err := rebase(sp.EndKey, bp)
			if err != nil {
				return nil, err
			}
			spans = append(spans, rowenc.Span{Key: start, EndKey: end})
		}
	}
	return spans, nil
}

// bucketPrefix is the key prefix of one bucket of a hash-partitioned
// table's primary index (as rowenc lays it out).
func bucketPrefix(desc *catalog.TableDescriptor, bucket int32) []byte {
	return encoding.EncodeVarintAscending(rowenc.IndexPrefix(desc.ID, desc.PrimaryIndex.ID), int64(bucket))
}

// hashPartitioning applies CREATE TABLE's PARTITION BY HASH (col): in
// Cairn, a hash-sharded primary key (see rowenc), not PostgreSQL's
// partitioned parent table. The column must be a primary key column; the
// bucket count is WITH (buckets = n), else hash_partition_buckets. LIST and
// RANGE partitioning are not supported.
func hashPartitioning(cs *pg_query.CreateStmt, desc *catalog.TableDescriptor, v vars) error {
	buckets := int64(-1)
	for _, o := range cs.GetOptions() {
		de := o.GetDefElem()
		if de == nil || !strings.EqualFold(de.GetDefname(), "buckets") || de.GetDefnamespace() != "" {
			continue
		}
		n, ok := defElemInt(de)
		if !ok || n < 1 || n > catalog.MaxHashBuckets {
			return sqlerr.Newf(sqlerr.CodeInvalidParameterValue, "value for \"buckets\" must be an integer between 1 and %d", catalog.MaxHashBuckets)
		}
		buckets = n
	}
	ps := cs.GetPartspec()
	if ps == nil {
		if buckets >= 0 {
			return sqlerr.New(sqlerr.CodeInvalidParameterValue, "storage parameter \"buckets\" requires PARTITION BY HASH (column)")
		}
		return nil
	}
	if ps.GetStrategy() != pg_query.PartitionStrategy_PARTITION_STRATEGY_HASH {
		return sqlerr.Unsupportedf("PARTITION BY %s is not supported (only PARTITION BY HASH (column), a hash-sharded primary key)",
			strings.TrimPrefix(ps.GetStrategy().String(), "PARTITION_STRATEGY_"))
	}
	params := ps.GetPartParams()
	if len(params) != 1 {
		return sqlerr.Unsupportedf("PARTITION BY HASH over %d columns is not supported (exactly one primary key column)", len(params))
	}
	pe := params[0].GetPartitionElem()
	if pe == nil || pe.GetName() == "" || pe.GetExpr() != nil {
		return sqlerr.Unsupportedf("PARTITION BY HASH over an expression is not supported (name one primary key column)")
	}
	if len(pe.GetCollation()) > 0 || len(pe.GetOpclass()) > 0 {
		return sqlerr.Unsupportedf("PARTITION BY HASH with a collation or an operator class is not supported")
	}
	col := desc.ColumnByName(pe.GetName())
	if col == nil || col.Hidden {
		return sqlerr.Newf(sqlerr.CodeUndefinedColumn, "column %q named in partition key does not exist", pe.GetName())
	}
	if !slices.Contains(desc.PrimaryIndex.ColumnIDs, col.ID) {
		return sqlerr.Newf(sqlerr.CodeInvalidTableDefinition, "PARTITION BY HASH column %q must be a column of the primary key of table %q", col.Name, desc.Name).
			WithHint("Cairn's PARTITION BY HASH shards the primary key: declare a PRIMARY KEY that includes %q.", col.Name)
	}
	if buckets < 0 {
		n, err := strconv.ParseInt(v.values["hash_partition_buckets"], 10, 32)
		if err != nil || n < 1 || n > catalog.MaxHashBuckets {
			n = 16
		}
		buckets = n
	}
	desc.HashBuckets, desc.HashColumnID = int32(buckets), col.ID
	return nil
}

// defElemInt is the integer value of an option (buckets = 8, or '8').
func defElemInt(de *pg_query.DefElem) (int64, bool) {
	arg := de.GetArg()
	switch {
	case arg == nil:
		return 0, false
	case arg.GetInteger() != nil:
		return int64(arg.GetInteger().GetIval()), true
	case arg.GetString_() != nil:
		n, err := strconv.ParseInt(strings.TrimSpace(arg.GetString_().GetSval()), 10, 64)
		return n, err == nil
	case arg.GetFloat() != nil:
		n, err := strconv.ParseInt(arg.GetFloat().GetFval(), 10, 64)
		return n, err == nil
	}
	return 0, false
}

func (ap *accessPath) keyText() string {
	var parts []string
	for i, e := range ap.eq {
		col := ap.desc.ColumnByID(ap.idx.ColumnIDs[i])
		parts = append(parts, col.Name+" = "+e.String())
	}
	for _, b := range []*rangeBound{ap.lo, ap.hi} {
		if b != nil {
			col := ap.desc.ColumnByID(ap.idx.ColumnIDs[len(ap.eq)])
			parts = append(parts, col.Name+" "+b.op+" "+b.val.String())
		}
	}
	return "/" + strings.Join(parts, "/")
}

// pointLookup reads one row by primary key.
type pointLookup struct {
	txn  rowReader
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

// indexLookup reads the entries of a secondary index over spans, a batch
// at a time, and fetches their rows by primary key (one GetMany per
// batch), in index order.
type indexLookup struct {
	txn     rowReader
	desc    *catalog.TableDescriptor
	entries spanReader // of the index
	buf     [][]types.Datum
}

func newIndexLookup(txn rowReader, desc *catalog.TableDescriptor, spans []rowenc.Span) *indexLookup {
	return &indexLookup{txn: txn, desc: desc, entries: spanReader{txn: txn, spans: spans}}
}

func (l *indexLookup) Next(ctx context.Context) ([]types.Datum, error) {
	for len(l.buf) == 0 {
		kvs, err := l.entries.nextBatch(ctx)
		if err != nil || kvs == nil {
			return nil, err
		}
		keys := make([][]byte, len(kvs))
		for i, e := range kvs {
			pk, err := rowenc.DecodeIndexValue(l.desc, e.Value)
			if err != nil {
				return nil, err
			}
			if keys[i], err = rowenc.EncodePrimaryKeyPrefix(l.desc, pk); err != nil {
				return nil, err
			}
		}
		rows, err := l.txn.GetMany(ctx, keys)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if r == nil || !r.Found {
				continue // cannot happen in a consistent index; skip
			}
			row, err := rowenc.DecodeRow(l.desc, r.Value)
			if err != nil {
				return nil, err
			}
			l.buf = append(l.buf, row)
		}
	}
	row := l.buf[0]
	l.buf = l.buf[1:]
	return row, nil
}
func (l *indexLookup) RowsAffected() int64 { return 0 }
func (l *indexLookup) Close()              {}
