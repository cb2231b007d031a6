package sql

import (
	"context"
	"strings"
	"testing"

	"github.com/cairndb/cairn/internal/sql/sem"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

func intRows(n int) [][]types.Datum {
	rows := make([][]types.Datum, n)
	for i := range rows {
		rows[i] = []types.Datum{types.DInt(i), types.DString("some text value")}
	}
	return rows
}

// TestAggregationBounds checks that a hash aggregation and a DISTINCT
// past their bounds fail with 53200 instead of growing without limit.
func TestAggregationBounds(t *testing.T) {
	defer func(g int, m int64) { maxAggGroups, maxAggMemory = g, m }(maxAggGroups, maxAggMemory)
	ctx := context.Background()
	key := &sem.ColumnRef{Idx: 0, Typ: types.Int8}
	plan := &aggPlan{keys: []sem.Expr{key}, aggs: []*aggFunc{{kind: aggCount}}}
	run := func(p *aggPlan, n int) error {
		it := &aggIter{plan: p, in: &sliceIter{rows: intRows(n)}, ev: &sem.EvalContext{}}
		for {
			row, err := it.Next(ctx)
			if err != nil || row == nil {
				return err
			}
		}
	}

	maxAggGroups = 100
	if err := run(plan, 100); err != nil {
		t.Fatalf("100 groups: %v", err)
	}
	if err := run(plan, 101); sqlerr.CodeOf(err) != sqlerr.CodeOutOfMemory {
		t.Fatalf("101 groups: %v, want 53200", err)
	}
	// One group whose state grows: string_agg over many rows.
	maxAggGroups, maxAggMemory = 1<<20, 10000
	agg := &aggPlan{aggs: []*aggFunc{{kind: aggStringAgg, typ: types.Text,
		args: []sem.Expr{&sem.ColumnRef{Idx: 1, Typ: types.Text}, sem.NewConst(types.DString(","), types.Text)}}}}
	if err := run(agg, 100); err != nil {
		t.Fatalf("small string_agg: %v", err)
	}
	if err := run(agg, 2000); sqlerr.CodeOf(err) != sqlerr.CodeOutOfMemory {
		t.Fatalf("big string_agg: %v, want 53200", err)
	}

	maxAggGroups = 50
	sp := &selectPlan{targets: []sem.Expr{key}, distinct: true}
	it := sp.distinctIter(&sliceIter{rows: intRows(51)}, 0)
	var err error
	for row := []types.Datum{}; row != nil && err == nil; row, err = it.Next(ctx) {
	}
	if sqlerr.CodeOf(err) != sqlerr.CodeOutOfMemory {
		t.Fatalf("DISTINCT over 51 rows: %v, want 53200", err)
	}

	// The work_mem bound (hashMemBytes), named in the message.
	maxAggGroups, err = 1<<20, nil
	it = sp.distinctIter(&sliceIter{rows: intRows(40)}, 1024)
	for row := []types.Datum{}; row != nil && err == nil; row, err = it.Next(ctx) {
	}
	if sqlerr.CodeOf(err) != sqlerr.CodeOutOfMemory || !strings.Contains(err.Error(), "work_mem") {
		t.Fatalf("DISTINCT past its work_mem bound: %v, want 53200 naming work_mem", err)
	}
}
