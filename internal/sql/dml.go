package sql

import (
	"context"
	"fmt"
	"strings"
	"sync"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/parser"
	"github.com/cairndb/cairn/internal/sql/rowenc"
	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// tableWriter writes rows of one table with its constraints: NOT NULL,
// CHECK, primary key and unique index uniqueness, index maintenance, and
// foreign keys (fk.go: checked when the statement flushes w.fk).
type tableWriter struct {
	desc     *catalog.TableDescriptor
	defaults []sem.Expr // per column ordinal; nil: NULL (or a sequence)
	checks   []sem.Expr
	names    []string     // of checks
	idx      []writeIndex // lazily: see indexes
	// fk enforces foreign keys: the statement's checker, or one that
	// checks each row as it is written.
	fk *fkChecker
	// seqs caches the column sequences' descriptors for the writer's
	// statement (read once, not per row).
	seqs map[uint32]*catalog.SequenceDescriptor
}

// statementWriter returns a writer of desc whose foreign key checks run
// when the statement calls w.fk.flush, at its end.
func (x *execCtx) statementWriter(desc *catalog.TableDescriptor) (*tableWriter, error) {
	return newFKChecker(x).writer(desc)
}

// newTableWriter builds the default and CHECK expressions of desc.
func (x *execCtx) newTableWriter(desc *catalog.TableDescriptor) (*tableWriter, error) {
	w := &tableWriter{desc: desc, defaults: make([]sem.Expr, len(desc.Columns))}
	w.fk = newFKChecker(x)
	w.fk.immediate = true
	w.fk.writers[desc.ID] = w
	for i, c := range desc.Columns {
		if c.DefaultExpr == "" {
			continue
		}
		n, err := parseExprText(c.DefaultExpr)
		if err != nil {
			return nil, err
		}
		e, err := x.builder(nil, nil, "DEFAULT").Build(n, c.Type)
		if err != nil {
			return nil, err
		}
		if e, err = (&sem.Builder{}).Coerce(e, c.Type, types.CoercionAssignment); err != nil {
			return nil, err
		}
		w.defaults[i] = e
	}
	scope := &source{desc: desc, scope: &tableScope{desc: desc, alias: desc.Name}}
	for _, ch := range desc.Checks {
		n, err := parseExprText(ch.Expr)
		if err != nil {
			return nil, err
		}
		e, err := x.builder(scope, nil, "CHECK").BuildCondition(n)
		if err != nil {
			return nil, err
		}
		w.checks = append(w.checks, e)
		w.names = append(w.names, ch.Name)
	}
	return w, nil
}

// parseExprText parses a stored expression (a column's DEFAULT, a CHECK):
// from storedExprs when it was parsed before (every INSERT, UPDATE and
// COPY builds them again; the parser is a cgo call), a copy each time so
// that no caller shares a tree another may rewrite.
func parseExprText(text string) (*pg_query.Node, error) {
	if n := storedExprs.get(text); n != nil {
		return n, nil
	}
	st, err := parser.ParseOne("SELECT " + text)
	if err != nil {
		return nil, err
	}
	n := st.AST.GetSelectStmt().GetTargetList()[0].GetResTarget().GetVal()
	storedExprs.put(text, n)
	return proto.Clone(n).(*pg_query.Node), nil
}

// storedExprs caches parsed stored expressions by text, process-wide;
// bounded (it starts over when full).
var storedExprs = &exprCache{max: 4096}

type exprCache struct {
	mu  sync.Mutex
	max int
	m   map[string]*pg_query.Node
}

func (c *exprCache) get(text string) *pg_query.Node {
	c.mu.Lock()
	n := c.m[text]
	c.mu.Unlock()
	if n == nil {
		return nil
	}
	return proto.Clone(n).(*pg_query.Node)
}

func (c *exprCache) put(text string, n *pg_query.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= c.max {
		c.m = make(map[string]*pg_query.Node)
	}
	c.m[text] = proto.Clone(n).(*pg_query.Node)
}

// fill completes a new row: defaults and sequences for unset columns.
func (w *tableWriter) fill(ctx context.Context, x *execCtx, row []types.Datum, set []bool) error {
	for i, c := range w.desc.Columns {
		if set[i] {
			continue
		}
		switch {
		case w.defaults[i] != nil:
			d, err := w.defaults[i].Eval(x.evalCtx(ctx), row)
			if err != nil {
				return err
			}
			row[i] = d
		case c.SequenceID != 0:
			seq, err := w.sequence(ctx, x, c)
			if err != nil {
				return err
			}
			v, err := x.nextVal(ctx, seq)
			if err != nil {
				return err
			}
			row[i] = types.DInt(v)
		default:
			row[i] = types.DNull
		}
	}
	return nil
}

// sequence returns the descriptor of column c's sequence.
func (w *tableWriter) sequence(ctx context.Context, x *execCtx, c catalog.Column) (*catalog.SequenceDescriptor, error) {
	if seq, ok := w.seqs[c.SequenceID]; ok {
		return seq, nil
	}
	seq, err := catalog.GetSequenceByID(ctx, x.txn, c.SequenceID)
	if err != nil {
		return nil, err
	}
	if seq == nil {
		return nil, sqlerr.Internalf("sequence %d of column %q is missing", c.SequenceID, c.Name)
	}
	if w.seqs == nil {
		w.seqs = map[uint32]*catalog.SequenceDescriptor{}
	}
	w.seqs[c.SequenceID] = seq
	return seq, nil
}

// validate checks NOT NULL and CHECK constraints.
func (w *tableWriter) validate(ctx context.Context, x *execCtx, row []types.Datum) error {
	for i, c := range w.desc.Columns {
		if !c.Nullable && row[i] == types.DNull {
			return (&sqlerr.Error{Code: sqlerr.CodeNotNullViolation,
				Message: fmt.Sprintf("null value in column %q of relation %q violates not-null constraint", c.Name, w.desc.Name)}).
				WithDetail("Failing row contains %s.", formatRow(row, w.desc))
		}
	}
	for i, ch := range w.checks {
		d, err := ch.Eval(x.evalCtx(ctx), row)
		if err != nil {
			return err
		}
		if d == types.DBool(false) {
			return (&sqlerr.Error{Code: sqlerr.CodeCheckViolation,
				Message: fmt.Sprintf("new row for relation %q violates check constraint %q", w.desc.Name, w.names[i])}).
				WithDetail("Failing row contains %s.", formatRow(row, w.desc))
		}
	}
	return nil
}

func formatRow(row []types.Datum, desc *catalog.TableDescriptor) string {
	parts := make([]string, 0, len(row))
	for i, d := range row {
		if desc.Columns[i].Hidden {
			continue
		}
		if d == types.DNull {
			parts = append(parts, "null")
			continue
		}
		parts = append(parts, types.FormatText(d, desc.Columns[i].Type, nil))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// keyString formats the key columns of an index for a 23505 detail.
func keyString(desc *catalog.TableDescriptor, idx *catalog.Index, row []types.Datum) string {
	names, vals := make([]string, len(idx.ColumnIDs)), make([]string, len(idx.ColumnIDs))
	for i, id := range idx.ColumnIDs {
		o := desc.ColumnOrdinal(id)
		names[i] = desc.Columns[o].Name
		vals[i] = types.FormatText(row[o], desc.Columns[o].Type, nil)
	}
	return fmt.Sprintf("Key (%s)=(%s) already exists.", strings.Join(names, ", "), strings.Join(vals, ", "))
}

func uniqueViolation(desc *catalog.TableDescriptor, idx *catalog.Index, row []types.Datum) error {
	name := idx.Name
	if !idx.Public() {
		name, _, _ = strings.Cut(name, " (new ") // an index of a primary key change: its final name
	}
	return (&sqlerr.Error{Code: sqlerr.CodeUniqueViolation,
		Message: fmt.Sprintf("duplicate key value violates unique constraint %q", name)}).
		WithDetail("%s", keyString(desc, idx, row))
}

// insert writes a new row; a unique conflict is reported by inserted
// false when skipConflict is set (ON CONFLICT DO NOTHING) instead of
// failing. Foreign keys are checked (see fk.go).
func (w *tableWriter) insert(ctx context.Context, x *execCtx, row []types.Datum, skipConflict bool) (inserted bool, err error) {
	if inserted, err = w.insertRow(ctx, x, row, skipConflict); err != nil || !inserted {
		return inserted, err
	}
	return true, w.fk.inserted(ctx, w.desc, row)
}

// update replaces row old by row (validated; unique conflicts fail).
func (w *tableWriter) update(ctx context.Context, x *execCtx, old, row []types.Datum) error {
	if err := w.removeRow(x, old); err != nil {
		return err
	}
	if _, err := w.insertRow(ctx, x, row, false); err != nil {
		return err
	}
	return w.fk.updated(ctx, w.desc, old, row)
}

// remove deletes row and its index entries, and applies the foreign keys
// that reference it.
func (w *tableWriter) remove(ctx context.Context, x *execCtx, row []types.Datum) error {
	if err := w.removeRow(x, row); err != nil {
		return err
	}
	return w.fk.removed(ctx, w.desc, row)
}

// insertRow writes a row and its index entries, checking NOT NULL, CHECK
// and uniqueness.
func (w *tableWriter) insertRow(ctx context.Context, x *execCtx, row []types.Datum, skipConflict bool) (inserted bool, err error) {
	if err := w.validate(ctx, x, row); err != nil {
		return false, err
	}
	pk, err := rowenc.EncodePrimaryKey(w.desc, row)
	if err != nil {
		return false, err
	}
	cur, err := x.txn.Get(ctx, pk)
	if err != nil {
		return false, err
	}
	if cur.Found {
		if skipConflict {
			return false, nil
		}
		return false, uniqueViolation(w.desc, &w.desc.PrimaryIndex, row)
	}
	if err := w.putIndexes(ctx, x, row, skipConflict); err != nil {
		if err == errSkipRow {
			return false, nil
		}
		return false, err
	}
	val, err := rowenc.EncodeRowValue(w.desc, row)
	if err != nil {
		return false, err
	}
	return true, x.txn.Put(pk, val)
}

var errSkipRow = fmt.Errorf("skip row")

// writeIndex is an index a write maintains besides the primary index:
// every secondary index, public or write-only (being built).
type writeIndex struct {
	idx *catalog.Index
	// enc is the descriptor to encode entries with: the table's, or for an
	// index rebuilt along with a new primary index (ADD PRIMARY KEY), a copy
	// whose primary index is that new one.
	enc *catalog.TableDescriptor
	// primary: idx is a new primary index (whole rows under its key).
	primary bool
}

// writeIndexes lists the indexes writes to desc's rows maintain.
func writeIndexes(desc *catalog.TableDescriptor) []writeIndex {
	out := make([]writeIndex, 0, len(desc.Indexes))
	for i := range desc.Indexes {
		idx := &desc.Indexes[i]
		wi := writeIndex{idx: idx, enc: desc, primary: idx.NewPrimary}
		if k := idx.KeyIndexID; idx.NewPrimary || k != 0 {
			if !idx.NewPrimary {
				idx = desc.IndexByID(k)
			}
			alt := *desc
			alt.PrimaryIndex = *idx
			alt.PrimaryIndex.State, alt.PrimaryIndex.NewPrimary = catalog.IndexPublic, false
			wi.enc = &alt
		}
		out = append(out, wi)
	}
	return out
}

// entry returns the key and value of row's entry in the index, and
// whether the key is a uniqueness key (see rowenc.SecondaryIndexKey).
// A new primary index has no entry (nil key) for a row with a NULL key
// column when missingOK, else that fails with 23502.
func (wi *writeIndex) entry(row []types.Datum, missingOK bool) (key, value []byte, checkUnique bool, err error) {
	if !wi.primary {
		key, value, err = rowenc.EncodeSecondaryIndexEntry(wi.enc, wi.idx, row)
		if err != nil {
			return nil, nil, false, err
		}
		_, checkUnique, err = rowenc.SecondaryIndexKey(wi.enc, wi.idx, row)
		return key, value, checkUnique, err
	}
	if missingOK {
		for _, id := range wi.idx.ColumnIDs {
			if row[wi.enc.ColumnOrdinal(id)] == types.DNull {
				return nil, nil, false, nil
			}
		}
	}
	if key, err = rowenc.EncodePrimaryKey(wi.enc, row); err != nil {
		return nil, nil, false, err
	}
	if value, err = rowenc.EncodeRowValue(wi.enc, row); err != nil {
		return nil, nil, false, err
	}
	return key, value, true, nil
}

func (w *tableWriter) indexes() []writeIndex {
	if w.idx == nil {
		w.idx = writeIndexes(w.desc)
	}
	return w.idx
}

// putIndexes writes the secondary index entries of row (write-only
// indexes included), checking unique ones.
func (w *tableWriter) putIndexes(ctx context.Context, x *execCtx, row []types.Datum, skipConflict bool) error {
	for _, wi := range w.indexes() {
		k, v, checkUnique, err := wi.entry(row, false)
		if err != nil {
			return err
		}
		if checkUnique {
			cur, err := x.txn.Get(ctx, k)
			if err != nil {
				return err
			}
			if cur.Found {
				if skipConflict {
					return errSkipRow
				}
				return uniqueViolation(w.desc, wi.idx, row)
			}
		}
		if err := x.txn.Put(k, v); err != nil {
			return err
		}
	}
	return nil
}

// removeRow deletes row and its index entries.
func (w *tableWriter) removeRow(x *execCtx, row []types.Datum) error {
	pk, err := rowenc.EncodePrimaryKey(w.desc, row)
	if err != nil {
		return err
	}
	if err := x.txn.Delete(pk); err != nil {
		return err
	}
	for _, wi := range w.indexes() {
		k, _, _, err := wi.entry(row, true)
		if err != nil {
			return err
		}
		if k == nil {
			continue
		}
		if err := x.txn.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// dmlIter returns RETURNING rows (or, without RETURNING, just a count).
type dmlIter struct {
	rows     [][]types.Datum
	i        int
	affected int64
}

// wrote counts a written row and evaluates RETURNING over it (ret nil: no
// RETURNING).
func (d *dmlIter) wrote(ctx context.Context, x *execCtx, ret []sem.Expr, row []types.Datum) error {
	d.affected++
	if ret == nil {
		return nil
	}
	r, err := returning(ctx, x, ret, row)
	if err != nil {
		return err
	}
	d.rows = append(d.rows, r)
	return nil
}

func (d *dmlIter) Next(context.Context) ([]types.Datum, error) {
	if d.i >= len(d.rows) {
		return nil, nil
	}
	d.i++
	return d.rows[d.i-1], nil
}
func (d *dmlIter) RowsAffected() int64 { return d.affected }
func (d *dmlIter) Close()              {}

// returning evaluates a RETURNING list over a written row.
func returning(ctx context.Context, x *execCtx, exprs []sem.Expr, row []types.Datum) ([]types.Datum, error) {
	out := make([]types.Datum, len(exprs))
	for i, e := range exprs {
		d, err := e.Eval(x.evalCtx(ctx), row)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

func (s *session) planInsert(ctx context.Context, x *execCtx, ins *pg_query.InsertStmt, params []*types.Type) (*planned, error) {
	if ins.WithClause != nil {
		return nil, sqlerr.Unsupportedf("WITH is not supported yet")
	}
	desc, err := x.table(ctx, ins.Relation, false)
	if err != nil {
		return nil, err
	}
	src := &source{desc: desc, scope: &tableScope{desc: desc, alias: desc.Name}}
	if ins.Relation.Alias != nil {
		src.scope.alias = ins.Relation.Alias.Aliasname
	}
	// Target columns.
	var targets []int
	if len(ins.Cols) == 0 {
		for i, c := range desc.Columns {
			if !c.Hidden {
				targets = append(targets, i)
			}
		}
	} else {
		seen := map[string]bool{}
		for _, n := range ins.Cols {
			name := n.GetResTarget().GetName()
			if seen[name] {
				return nil, sqlerr.Newf(sqlerr.CodeDuplicateColumn, "column %q specified more than once", name)
			}
			seen[name] = true
			c := desc.ColumnByName(name)
			if c == nil {
				return nil, sqlerr.Newf(sqlerr.CodeUndefinedColumn, "column %q of relation %q does not exist", name, desc.Name)
			}
			targets = append(targets, desc.ColumnOrdinal(c.ID))
		}
	}
	var conflict *onConflict
	if oc := ins.OnConflictClause; oc != nil {
		if conflict, err = x.planOnConflict(ctx, desc, src, oc, params); err != nil {
			return nil, err
		}
	}
	sel := ins.SelectStmt.GetSelectStmt()
	var rows [][]sem.Expr // VALUES rows, one expression per target (nil: DEFAULT)
	var query *selectPlan
	switch {
	case ins.SelectStmt == nil:
		rows = [][]sem.Expr{make([]sem.Expr, len(targets))} // DEFAULT VALUES
		if len(ins.Cols) == 0 {
			targets = nil
			rows = [][]sem.Expr{nil}
		}
	case sel != nil && len(sel.ValuesLists) > 0:
		for _, vl := range sel.ValuesLists {
			if len(vl.GetList().GetItems()) != len(sel.ValuesLists[0].GetList().GetItems()) {
				return nil, sqlerr.New(sqlerr.CodeSyntaxError, "VALUES lists must all be the same length")
			}
		}
		for _, vl := range sel.ValuesLists {
			items := vl.GetList().GetItems()
			if len(items) > len(targets) {
				return nil, sqlerr.New(sqlerr.CodeSyntaxError, "INSERT has more expressions than target columns")
			}
			if len(items) < len(targets) && len(ins.Cols) > 0 {
				return nil, sqlerr.New(sqlerr.CodeSyntaxError, "INSERT has more target columns than expressions")
			}
			row := make([]sem.Expr, len(targets))
			for j, it := range items {
				if it.GetSetToDefault() != nil {
					continue
				}
				col := desc.Columns[targets[j]]
				b := x.builder(nil, params, "VALUES")
				e, err := b.Build(it, col.Type)
				if err != nil {
					return nil, err
				}
				ce, err := b.Coerce(e, col.Type, types.CoercionAssignment)
				if err != nil {
					return nil, columnTypeError(err, col, e)
				}
				row[j] = ce
			}
			rows = append(rows, row)
		}
	case sel != nil:
		if query, err = x.buildSelect(ctx, sel, params); err != nil {
			return nil, err
		}
		if len(query.cols) > len(targets) {
			return nil, sqlerr.New(sqlerr.CodeSyntaxError, "INSERT has more expressions than target columns")
		}
	default:
		return nil, sqlerr.Unsupportedf("this form of INSERT is not supported")
	}
	ret, cols, err := x.returningList(src, ins.ReturningList, params)
	if err != nil {
		return nil, err
	}
	return &planned{
		params: params, cols: cols, needsTxn: true,
		tag: func(n int64) string { return "INSERT 0 " + itoa64(n) },
		open: func(ctx context.Context, x *execCtx) (rowIter, error) {
			w, err := x.statementWriter(desc)
			if err != nil {
				return nil, err
			}
			out := &dmlIter{}
			touched := map[string]bool{} // ON CONFLICT: primary keys written
			// put writes a complete row (or upserts it), then RETURNING.
			put := func(row []types.Datum) error {
				if conflict != nil {
					r, err := conflict.upsert(ctx, x, w, row, touched)
					if err != nil || r == nil {
						return err
					}
					row = r
				} else if _, err := w.insert(ctx, x, row, false); err != nil {
					return err
				}
				return out.wrote(ctx, x, ret, row)
			}
			write := func(values []types.Datum) error {
				row := make([]types.Datum, len(desc.Columns))
				set := make([]bool, len(desc.Columns))
				for j, d := range values {
					row[targets[j]], set[targets[j]] = d, true
				}
				if err := w.fill(ctx, x, row, set); err != nil {
					return err
				}
				return put(row)
			}
			if query != nil {
				it, err := query.open(ctx, x)
				if err != nil {
					return nil, err
				}
				defer it.Close()
				// Read the whole query before writing: its rows must not
				// include the ones it inserts (INSERT INTO t SELECT ... FROM t
				// would otherwise never end). A transaction writes at most
				// kv.MaxTxnWrites keys, which bounds what is held here.
				var rows [][]types.Datum
				for {
					r, err := it.Next(ctx)
					if err != nil {
						return nil, err
					}
					if r == nil {
						break
					}
					if len(rows) >= kv.MaxTxnWrites {
						return nil, sqlerr.Newf("54000", "INSERT ... SELECT of more than %d rows is not supported in one transaction", kv.MaxTxnWrites)
					}
					rows = append(rows, append([]types.Datum(nil), r...))
				}
				for _, r := range rows {
					vals := make([]types.Datum, len(r))
					for j, d := range r {
						col := desc.Columns[targets[j]]
						if vals[j], err = (types.Caster{Context: types.CoercionAssignment}).Cast(d, query.cols[j].typ, col.Type); err != nil {
							return nil, err
						}
					}
					if err := write(vals); err != nil {
						return nil, err
					}
				}
				return out, w.fk.flush(ctx)
			}
			for _, exprs := range rows {
				vals := make([]types.Datum, 0, len(exprs))
				var setTargets []int
				for j, e := range exprs {
					if e == nil {
						continue // DEFAULT
					}
					d, err := e.Eval(x.evalCtx(ctx), nil)
					if err != nil {
						return nil, err
					}
					vals = append(vals, d)
					setTargets = append(setTargets, targets[j])
				}
				row := make([]types.Datum, len(desc.Columns))
				set := make([]bool, len(desc.Columns))
				for j, d := range vals {
					row[setTargets[j]], set[setTargets[j]] = d, true
				}
				if err := w.fill(ctx, x, row, set); err != nil {
					return nil, err
				}
				if err := put(row); err != nil {
					return nil, err
				}
			}
			return out, w.fk.flush(ctx)
		},
	}, nil
}

// columnTypeError rewords a failed assignment coercion as PostgreSQL does.
func columnTypeError(err error, col catalog.Column, e sem.Expr) error {
	if sqlerr.HasCode(err, sqlerr.CodeDatatypeMismatch) {
		return (&sqlerr.Error{Code: sqlerr.CodeDatatypeMismatch,
			Message: fmt.Sprintf("column %q is of type %s but expression is of type %s", col.Name, col.Type.Name(), e.Type().Name())}).
			WithHint("You will need to rewrite or cast the expression.")
	}
	return err
}

// matchingRows reads the rows of desc that satisfy where (all rows when nil).
func (x *execCtx) matchingRows(ctx context.Context, desc *catalog.TableDescriptor, where sem.Expr) ([][]types.Datum, error) {
	ap := chooseAccess(desc, where)
	ap.lock = true // the rows will be written: lock them as they are read
	scan, err := ap.open(ctx, x)
	if err != nil {
		return nil, err
	}
	defer scan.Close()
	var rows [][]types.Datum
	for {
		row, err := scan.Next(ctx)
		if err != nil {
			return nil, err
		}
		if row == nil {
			return rows, nil
		}
		if where != nil {
			ok, err := where.Eval(x.evalCtx(ctx), row)
			if err != nil {
				return nil, err
			}
			if ok != types.DBool(true) {
				continue
			}
		}
		rows = append(rows, row)
	}
}

// dmlTarget resolves the table of an UPDATE or DELETE and builds its WHERE.
func (x *execCtx) dmlTarget(ctx context.Context, rel *pg_query.RangeVar, whereNode *pg_query.Node, params []*types.Type) (
	*catalog.TableDescriptor, *source, sem.Expr, error) {
	desc, err := x.table(ctx, rel, false)
	if err != nil {
		return nil, nil, nil, err
	}
	src := &source{desc: desc, scope: &tableScope{desc: desc, alias: desc.Name}}
	if rel.Alias != nil {
		src.scope.alias = rel.Alias.Aliasname
	}
	var where sem.Expr
	if whereNode != nil {
		if where, err = x.builder(src, params, "WHERE").BuildCondition(whereNode); err != nil {
			return nil, nil, nil, err
		}
	}
	return desc, src, where, nil
}

// returningList builds a RETURNING list (none: nil, nil).
func (x *execCtx) returningList(src *source, list []*pg_query.Node, params []*types.Type) ([]sem.Expr, []resultCol, error) {
	if len(list) == 0 {
		return nil, nil, nil
	}
	return x.buildTargets(src, list, params)
}

func (s *session) planUpdate(ctx context.Context, x *execCtx, up *pg_query.UpdateStmt, params []*types.Type) (*planned, error) {
	if len(up.FromClause) > 0 || up.WithClause != nil {
		return nil, sqlerr.Unsupportedf("UPDATE ... FROM and WITH are not supported yet")
	}
	desc, src, where, err := x.dmlTarget(ctx, up.Relation, up.WhereClause, params)
	if err != nil {
		return nil, err
	}
	type assignment struct {
		ord  int
		expr sem.Expr // nil: DEFAULT
	}
	var sets []assignment
	for _, n := range up.TargetList {
		rt := n.GetResTarget()
		if len(rt.Indirection) > 0 {
			return nil, sqlerr.Unsupportedf("assigning to a field or subscript is not supported")
		}
		c := desc.ColumnByName(rt.Name)
		if c == nil {
			return nil, sqlerr.Newf(sqlerr.CodeUndefinedColumn, "column %q of relation %q does not exist", rt.Name, desc.Name)
		}
		a := assignment{ord: desc.ColumnOrdinal(c.ID)}
		if rt.Val.GetSetToDefault() == nil {
			b := x.builder(src, params, "UPDATE")
			e, err := b.Build(rt.Val, c.Type)
			if err != nil {
				return nil, err
			}
			if a.expr, err = b.Coerce(e, c.Type, types.CoercionAssignment); err != nil {
				return nil, columnTypeError(err, *c, e)
			}
		}
		sets = append(sets, a)
	}
	ret, cols, err := x.returningList(src, up.ReturningList, params)
	if err != nil {
		return nil, err
	}
	return &planned{
		params: params, cols: cols, needsTxn: true,
		tag: func(n int64) string { return "UPDATE " + itoa64(n) },
		open: func(ctx context.Context, x *execCtx) (rowIter, error) {
			w, err := x.statementWriter(desc)
			if err != nil {
				return nil, err
			}
			// Read every matching row first: writes must not feed the scan.
			rows, err := x.matchingRows(ctx, desc, where)
			if err != nil {
				return nil, err
			}
			out := &dmlIter{}
			for _, old := range rows {
				row := append([]types.Datum(nil), old...)
				for _, a := range sets {
					if a.expr == nil {
						set := make([]bool, len(row))
						for i := range set {
							set[i] = i != a.ord
						}
						if err := w.fill(ctx, x, row, set); err != nil {
							return nil, err
						}
						continue
					}
					if row[a.ord], err = a.expr.Eval(x.evalCtx(ctx), old); err != nil {
						return nil, err
					}
				}
				if err := w.update(ctx, x, old, row); err != nil {
					return nil, err
				}
				if err := out.wrote(ctx, x, ret, row); err != nil {
					return nil, err
				}
			}
			return out, w.fk.flush(ctx)
		},
	}, nil
}

func (s *session) planDelete(ctx context.Context, x *execCtx, del *pg_query.DeleteStmt, params []*types.Type) (*planned, error) {
	if len(del.UsingClause) > 0 || del.WithClause != nil {
		return nil, sqlerr.Unsupportedf("DELETE ... USING and WITH are not supported yet")
	}
	desc, src, where, err := x.dmlTarget(ctx, del.Relation, del.WhereClause, params)
	if err != nil {
		return nil, err
	}
	ret, cols, err := x.returningList(src, del.ReturningList, params)
	if err != nil {
		return nil, err
	}
	return &planned{
		params: params, cols: cols, needsTxn: true,
		tag: func(n int64) string { return "DELETE " + itoa64(n) },
		open: func(ctx context.Context, x *execCtx) (rowIter, error) {
			w, err := x.statementWriter(desc)
			if err != nil {
				return nil, err
			}
			rows, err := x.matchingRows(ctx, desc, where)
			if err != nil {
				return nil, err
			}
			out := &dmlIter{}
			for _, row := range rows {
				if err := w.remove(ctx, x, row); err != nil {
					return nil, err
				}
				if err := out.wrote(ctx, x, ret, row); err != nil {
					return nil, err
				}
			}
			return out, w.fk.flush(ctx)
		},
	}, nil
}
