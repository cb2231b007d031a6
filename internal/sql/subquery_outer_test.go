package sql

import (
	"testing"

	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/types"
)

// TestOuterRefAccess checks that a correlated subquery's reference to the
// enclosing query's row is a key for the subquery's table access (a point
// lookup, a prefix, a range) rather than forcing a full scan per outer
// row, that a conjunct reading one is pushed down like any other, and
// that it is never folded into a constant; and that an uncorrelated
// scalar subquery (run once) is a key as well, but no other subquery.
func TestOuterRefAccess(t *testing.T) {
	desc := &catalog.TableDescriptor{
		ID: 100, Name: "ord",
		Columns: []catalog.Column{
			{ID: 1, Name: "cust", Type: types.Int4},
			{ID: 2, Name: "id", Type: types.Int4},
			{ID: 3, Name: "amount", Type: types.Int4, Nullable: true},
		},
		PrimaryIndex: catalog.Index{ID: 1, Name: "ord_pkey", ColumnIDs: []uint32{1, 2}, Unique: true},
		Indexes:      []catalog.Index{{ID: 2, Name: "ord_amount", ColumnIDs: []uint32{3}}},
	}
	col := func(i int) *sem.ColumnRef {
		return &sem.ColumnRef{Idx: i, Typ: desc.Columns[i].Type, Name: desc.Columns[i].Name}
	}
	slot := &outerRow{}
	outer := func(i int) *outerRef { return &outerRef{slot: slot, idx: i, typ: types.Int4, name: "c.id"} }
	cmp := func(op string, l, r sem.Expr) sem.Expr { return &sem.CompareExpr{Op: op, Left: l, Right: r} }

	if !sem.IsRowIndependent(outer(0)) || sem.ReferencesColumns(outer(0)) || sem.IsConst(outer(0)) {
		t.Fatalf("an outer reference: row-independent %v, reads columns %v, constant %v; want true, false, false",
			sem.IsRowIndependent(outer(0)), sem.ReferencesColumns(outer(0)), sem.IsConst(outer(0)))
	}
	if f := sem.ConstFold(cmp("=", col(0), outer(0))); f.String() != "(cust = c.id)" {
		t.Fatalf("folded to %s", f)
	}
	for _, tc := range []struct {
		filter sem.Expr
		want   string
	}{
		{cmp("=", col(0), outer(0)), "range scan on ord@ord_pkey: prefix /cust = c.id"},
		{sem.Conjoin([]sem.Expr{cmp("=", outer(0), col(0)), cmp("=", col(1), outer(1))}), "point lookup on ord@ord_pkey: /cust = c.id/id = c.id"},
		{cmp(">", col(2), outer(0)), "index lookup on ord@ord_amount: /amount > c.id"},
		{cmp("=", col(2), &sem.CoalesceExpr{Args: []sem.Expr{col(1), outer(0)}, Typ: types.Int4}), "full scan of ord@ord_pkey"},
	} {
		if got := chooseAccess(desc, tc.filter).explain(); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.filter, got, tc.want)
		}
	}
	if c := cmp("=", col(0), outer(0)); !movable(c, columnsOf(c)) {
		t.Errorf("%s is not movable", c)
	}

	// An uncorrelated scalar subquery runs once: a key too. A correlated
	// one (it passes outer values), or one that is not cached, is not.
	once := &subqueryExpr{kind: subScalar, sp: &selectPlan{}, slot: &outerRow{}, typ: types.Int4, cache: &subqueryCache{}}
	if got := chooseAccess(desc, cmp("=", col(0), once)).explain(); got != "range scan on ord@ord_pkey: prefix /cust = (SubPlan)" {
		t.Errorf("cust = (SubPlan): %s", got)
	}
	correlated := &subqueryExpr{kind: subScalar, sp: &selectPlan{}, slot: &outerRow{}, typ: types.Int4, args: []sem.Expr{col(1)}}
	uncached := &subqueryExpr{kind: subScalar, sp: &selectPlan{}, slot: &outerRow{}, typ: types.Int4}
	exists := &subqueryExpr{kind: subExists, sp: &selectPlan{}, slot: &outerRow{}, typ: types.Bool}
	for _, s := range []*subqueryExpr{correlated, uncached, exists} {
		if sem.IsRowIndependent(s) || sem.MaxVolatility(s) != sem.Volatile {
			t.Errorf("%s (args %d, cached %v): row-independent or not volatile", s, len(s.args), s.cache != nil)
		}
	}
	if !sem.ReferencesColumns(correlated) {
		t.Errorf("a correlated subquery does not read the row")
	}
}
