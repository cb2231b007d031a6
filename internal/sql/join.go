package sql

import (
	"context"
	"strings"

	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// Bounds of a join's materialized (right) input: a hash join's build side
// and a nested loop's inner side are held in memory (they do not spill);
// variables for tests.
var (
	maxJoinRows         = 1 << 20
	maxJoinMemory int64 = 256 << 20
)

// rowOverhead is the rough memory of a row slice besides its datums.
const rowOverhead = 48

// rowMemory estimates the memory a buffered row holds.
func rowMemory(row []types.Datum) int64 {
	n := int64(rowOverhead + datumOverhead*len(row))
	for _, d := range row {
		n += int64(d.Size())
	}
	return n
}

// open starts reading r's rows.
func (r *rel) open(ctx context.Context, x *execCtx) (rowIter, error) {
	var it rowIter
	switch r.kind {
	case relTable:
		var err error
		ap := chooseAccess(r.desc, r.localFilter)
		ap.lock = r.lock
		if it, err = ap.open(ctx, x); err != nil {
			return nil, err
		}
	case relFunc:
		var err error
		if it, err = r.fn.open(ctx, x); err != nil {
			return nil, err
		}
	case relSubquery:
		in, err := r.sub.open(ctx, x)
		if err != nil {
			return nil, err
		}
		it = &cutIter{in: in, width: r.width}
	case relJoin:
		left, err := r.left.open(ctx, x)
		if err != nil {
			return nil, err
		}
		right, err := r.right.open(ctx, x)
		if err != nil {
			left.Close()
			return nil, err
		}
		it = &joinIter{n: r, left: left, right: right, ev: x.evalCtx(ctx)}
	}
	if r.localFilter != nil {
		it = &filterIter{in: it, filter: r.localFilter, ev: x.evalCtx(ctx)}
	}
	return it, nil
}

// cutIter cuts its input's rows to width columns (a subquery's rows carry
// its sort keys after its result columns).
type cutIter struct {
	in    rowIter
	width int
}

func (c *cutIter) Next(ctx context.Context) ([]types.Datum, error) {
	row, err := c.in.Next(ctx)
	if err != nil || row == nil {
		return nil, err
	}
	return row[:c.width], nil
}
func (c *cutIter) RowsAffected() int64 { return 0 }
func (c *cutIter) Close()              { c.in.Close() }

// filterIter passes on the rows for which filter is true.
type filterIter struct {
	in     rowIter
	filter sem.Expr
	ev     *sem.EvalContext
	n      int
}

func (f *filterIter) Next(ctx context.Context) ([]types.Datum, error) {
	for {
		if f.n++; f.n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		row, err := f.in.Next(ctx)
		if err != nil || row == nil {
			return nil, err
		}
		ok, err := f.filter.Eval(f.ev, row)
		if err != nil {
			return nil, err
		}
		if ok == types.DBool(true) {
			return row, nil
		}
	}
}
func (f *filterIter) RowsAffected() int64 { return 0 }
func (f *filterIter) Close()              { f.in.Close() }

// joinIter joins its left input with its right input, which it reads into
// memory first: into a hash table on the join keys (hash join), or a list
// (nested loop). Each left row is matched against the right rows with its
// keys (all of them for a nested loop) under the residual condition; a
// left or full join emits an unmatched left row with NULLs for the right
// columns, and a right or full join the unmatched right rows at the end
// with NULLs for the left columns. The output row is left ‖ right ‖ the
// computed USING columns.
type joinIter struct {
	n           *rel
	left, right rowIter
	ev          *sem.EvalContext

	built   bool
	rows    [][]types.Datum  // the right rows
	table   map[string][]int // hash join: key → indexes into rows
	matched []bool           // right or full join: rows that matched
	keyBuf  []byte

	cur        []types.Datum // the left row being matched; nil: take the next
	cands      []int         // hash join: its candidate right rows
	ci         int
	curMatched bool
	leftDone   bool
	tail       int // right or full join: the next right row to check for a match
	steps      int
}

func (j *joinIter) hash() bool { return len(j.n.leftKeys) > 0 }

// key encodes the join key of row over exprs; ok is false if a key is NULL
// (it matches nothing).
func (j *joinIter) key(exprs []sem.Expr, row []types.Datum) (ok bool, err error) {
	j.keyBuf = j.keyBuf[:0]
	for _, e := range exprs {
		d, err := e.Eval(j.ev, row)
		if err != nil {
			return false, err
		}
		if d == types.DNull {
			return false, nil
		}
		j.keyBuf = types.EncodeKey(j.keyBuf, d)
	}
	return true, nil
}

func (j *joinIter) build(ctx context.Context) error {
	what := "nested loop join's inner side"
	if j.hash() {
		what = "hash join's build side"
		j.table = map[string][]int{}
	}
	keepAll := j.n.join == joinRight || j.n.join == joinFull
	var mem int64
	for {
		if len(j.rows)%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		row, err := j.right.Next(ctx)
		if err != nil {
			return err
		}
		if row == nil {
			break
		}
		if j.hash() {
			ok, err := j.key(j.n.rightKeys, row)
			if err != nil {
				return err
			}
			if !ok && !keepAll {
				continue // a NULL key matches nothing
			}
			if ok {
				j.table[string(j.keyBuf)] = append(j.table[string(j.keyBuf)], len(j.rows))
				mem += int64(len(j.keyBuf))
			}
		}
		if len(j.rows) >= maxJoinRows {
			return sqlerr.Newf(sqlerr.CodeOutOfMemory, "the %s has more than %d rows, which is not supported yet (joins do not spill to disk)", what, maxJoinRows)
		}
		row = append([]types.Datum(nil), row...)
		j.rows = append(j.rows, row)
		mem += rowMemory(row)
		if mem > maxJoinMemory {
			return sqlerr.Newf(sqlerr.CodeOutOfMemory, "the %s needs more than %d MB of memory, which is not supported yet (joins do not spill to disk)", what, maxJoinMemory>>20)
		}
	}
	if keepAll {
		j.matched = make([]bool, len(j.rows))
	}
	j.built = true
	return nil
}

// combine makes an output row from a left and a right row (nil: NULLs).
func (j *joinIter) combine(l, r []types.Datum) ([]types.Datum, error) {
	lw, rw := j.n.left.width, j.n.right.width
	out := make([]types.Datum, lw+rw, lw+rw+len(j.n.localExtras))
	fill := func(dst, src []types.Datum) {
		for i := copy(dst, src); i < len(dst); i++ {
			dst[i] = types.DNull // nil: NULLs
		}
	}
	fill(out[:lw], l)
	fill(out[lw:], r)
	for _, e := range j.n.localExtras {
		d, err := e.Eval(j.ev, out)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func (j *joinIter) Next(ctx context.Context) ([]types.Datum, error) {
	if !j.built {
		if err := j.build(ctx); err != nil {
			return nil, err
		}
	}
	for !j.leftDone {
		if j.cur == nil {
			row, err := j.left.Next(ctx)
			if err != nil {
				return nil, err
			}
			if row == nil {
				j.leftDone = true
				break
			}
			j.cur, j.ci, j.curMatched, j.cands = row, 0, false, nil
			if j.hash() {
				ok, err := j.key(j.n.leftKeys, row)
				if err != nil {
					return nil, err
				}
				if ok {
					j.cands = j.table[string(j.keyBuf)]
				}
			}
		}
		n := len(j.rows)
		if j.hash() {
			n = len(j.cands)
		}
		for j.ci < n {
			if j.steps++; j.steps%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			ri := j.ci
			if j.hash() {
				ri = j.cands[j.ci]
			}
			j.ci++
			out, err := j.combine(j.cur, j.rows[ri])
			if err != nil {
				return nil, err
			}
			if j.n.residual != nil {
				ok, err := j.n.residual.Eval(j.ev, out)
				if err != nil {
					return nil, err
				}
				if ok != types.DBool(true) {
					continue
				}
			}
			j.curMatched = true
			if j.matched != nil {
				j.matched[ri] = true
			}
			return out, nil
		}
		cur, matched := j.cur, j.curMatched
		j.cur = nil
		if !matched && (j.n.join == joinLeft || j.n.join == joinFull) {
			return j.combine(cur, nil)
		}
	}
	for j.matched != nil && j.tail < len(j.rows) {
		i := j.tail
		j.tail++
		if !j.matched[i] {
			return j.combine(nil, j.rows[i])
		}
	}
	return nil, nil
}

func (j *joinIter) RowsAffected() int64 { return 0 }
func (j *joinIter) Close() {
	j.left.Close()
	j.right.Close()
}

// explain describes r for EXPLAIN: one "-> operator" line per operator,
// each input indented under its operator.
func (r *rel) explain() []string {
	var out []string
	add := func(depth int, s string) { out = append(out, strings.Repeat("  ", depth)+"-> "+s) }
	nest := func(depth int, lines []string) {
		for _, l := range lines {
			out = append(out, strings.Repeat("  ", depth)+l)
		}
	}
	d := 0
	if r.localFilter != nil {
		add(0, "filter "+r.localFilter.String())
		d = 1
	}
	switch r.kind {
	case relTable:
		add(d, chooseAccess(r.desc, r.localFilter).explain()+lockText(r.lock))
	case relFunc:
		add(d, "function scan "+r.fn.name)
	case relSubquery:
		add(d, "subquery "+r.entry.alias)
		nest(d+1, r.sub.explainOps())
	case relJoin:
		var head string
		switch {
		case len(r.leftKeys) > 0:
			keys := make([]string, len(r.keyConds))
			for i, k := range r.keyConds {
				keys[i] = k.String()
			}
			head = "hash join (" + joinKindNames[r.join] + ") on " + strings.Join(keys, " AND ")
			if r.residual != nil {
				head += ", filter " + r.residual.String()
			}
		case r.residual == nil && r.join == joinInner:
			head = "nested loop join (cross)"
		case r.residual == nil:
			head = "nested loop join (" + joinKindNames[r.join] + ") on true"
		default:
			head = "nested loop join (" + joinKindNames[r.join] + ") on " + r.residual.String()
		}
		add(d, head)
		nest(d+1, r.left.explain())
		nest(d+1, r.right.explain())
	}
	return out
}
