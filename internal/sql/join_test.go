package sql

import (
	"context"
	"testing"

	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// runJoin joins intRows(nl) with intRows(nr) (on the first column for a
// hash join) and returns the row count.
func runJoin(kind joinKind, hash bool, nl, nr int) (int, error) {
	n := &rel{kind: relJoin, join: kind, left: &rel{width: 2}, right: &rel{base: 2, width: 2}, width: 4}
	if hash {
		n.leftKeys = []sem.Expr{&sem.ColumnRef{Idx: 0, Typ: types.Int8}}
		n.rightKeys = []sem.Expr{&sem.ColumnRef{Idx: 0, Typ: types.Int8}}
	}
	it := &joinIter{n: n, left: &sliceIter{rows: intRows(nl)}, right: &sliceIter{rows: intRows(nr)}, ev: &sem.EvalContext{}}
	defer it.Close()
	count := 0
	for {
		row, err := it.Next(context.Background())
		if err != nil || row == nil {
			return count, err
		}
		if len(row) != 4 {
			return count, sqlerr.Internalf("row of %d columns", len(row))
		}
		count++
	}
}

// TestJoinBounds checks that a join's materialized side past its bounds
// fails with 53200 instead of growing without limit, and the row counts of
// the join kinds.
func TestJoinBounds(t *testing.T) {
	defer func(r int, m int64) { maxJoinRows, maxJoinMemory = r, m }(maxJoinRows, maxJoinMemory)
	for _, tc := range []struct {
		kind   joinKind
		hash   bool
		nl, nr int
		want   int
	}{
		{joinInner, true, 10, 5, 5},
		{joinLeft, true, 10, 5, 10},
		{joinRight, true, 5, 10, 10},
		{joinFull, true, 10, 12, 12},
		{joinInner, false, 10, 5, 50},
		{joinLeft, false, 3, 0, 3},
		{joinRight, false, 0, 3, 3},
	} {
		if got, err := runJoin(tc.kind, tc.hash, tc.nl, tc.nr); err != nil || got != tc.want {
			t.Errorf("%s join (hash %v) of %d and %d rows: %d rows, %v; want %d", joinKindNames[tc.kind], tc.hash, tc.nl, tc.nr, got, err, tc.want)
		}
	}

	maxJoinRows = 100
	for _, hash := range []bool{true, false} {
		if _, err := runJoin(joinInner, hash, 1, 100); err != nil {
			t.Fatalf("100 rows (hash %v): %v", hash, err)
		}
		if _, err := runJoin(joinInner, hash, 1, 101); sqlerr.CodeOf(err) != sqlerr.CodeOutOfMemory {
			t.Fatalf("101 rows (hash %v): %v, want 53200", hash, err)
		}
	}
	maxJoinRows, maxJoinMemory = 1<<20, 10000
	if _, err := runJoin(joinLeft, true, 1, 1000); sqlerr.CodeOf(err) != sqlerr.CodeOutOfMemory {
		t.Fatalf("1000 rows over 10000 bytes: %v, want 53200", err)
	}
}
