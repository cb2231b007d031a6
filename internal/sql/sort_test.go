package sql

import (
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

// sortTestRows returns rows [key int (with NULLs), seq int, text, numeric
// or NULL, array]: many equal keys, so that stability shows.
func sortTestRows(t *testing.T, n int, seed int64) [][]types.Datum {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	rows := make([][]types.Datum, n)
	for i := range rows {
		var key types.Datum = types.DInt(rng.Intn(50))
		if rng.Intn(10) == 0 {
			key = types.DNull
		}
		var num types.Datum = types.DNull
		if rng.Intn(3) > 0 {
			d, err := types.ParseText("12.5"+string(rune('0'+rng.Intn(10))), types.Numeric, nil)
			if err != nil {
				t.Fatal(err)
			}
			num = d
		}
		arr := &types.DArray{Elem: types.Text, Elems: []types.Datum{types.DString("a"), types.DNull}}
		rows[i] = []types.Datum{key, types.DInt(i), types.DString(string(rune('a' + rng.Intn(26)))), num, arr}
	}
	return rows
}

func sortTestLess(a, b []types.Datum) bool {
	ka, kb := a[0], b[0]
	switch {
	case ka == types.DNull && kb == types.DNull:
		return false
	case ka == types.DNull:
		return false // NULLs last
	case kb == types.DNull:
		return true
	}
	return types.Compare(ka, kb) < 0
}

func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "cairn-sort-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func runSorter(t *testing.T, rows [][]types.Datum, budget int64, dir string) ([][]types.Datum, *rowSorter) {
	t.Helper()
	s := newRowSorter(sortTestLess, budget, dir)
	t.Cleanup(s.Close)
	addRows(t, s, rows)
	return readSorted(t, s), s
}

func addRows(t *testing.T, s *rowSorter, rows [][]types.Datum) {
	t.Helper()
	for _, r := range rows {
		if err := s.Add(r); err != nil {
			t.Fatal(err)
		}
	}
}

// readSorted finishes the input (if not yet) and reads every row.
func readSorted(t *testing.T, s *rowSorter) [][]types.Datum {
	t.Helper()
	if err := s.Finish(); err != nil {
		t.Fatal(err)
	}
	var out [][]types.Datum
	for {
		r, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		if r == nil {
			return out
		}
		out = append(out, r)
	}
}

// closeRemovesFiles closes s and checks that no temporary file is left.
func closeRemovesFiles(t *testing.T, s *rowSorter, dir string) {
	t.Helper()
	s.Close()
	if f := tempFiles(t, dir); len(f) != 0 {
		t.Fatalf("temporary files left after Close: %v", f)
	}
}

func checkSorted(t *testing.T, in, got [][]types.Datum) {
	t.Helper()
	want := append([][]types.Datum(nil), in...)
	sort.SliceStable(want, func(i, j int) bool { return sortTestLess(want[i], want[j]) })
	if len(got) != len(want) {
		t.Fatalf("%d rows out of %d", len(got), len(want))
	}
	for i := range want {
		for c := range want[i] {
			if want[i][c].String() != got[i][c].String() {
				t.Fatalf("row %d column %d: got %v, want %v (row %v)", i, c, got[i][c], want[i][c], want[i])
			}
		}
	}
}

func TestRowSorterInMemory(t *testing.T) {
	dir := t.TempDir()
	rows := sortTestRows(t, 1000, 1)
	got, s := runSorter(t, rows, 64<<20, dir)
	checkSorted(t, rows, got)
	if s.spills != 0 || len(tempFiles(t, dir)) != 0 {
		t.Fatalf("spilled %d runs within the budget", s.spills)
	}
}

func TestRowSorterSpills(t *testing.T) {
	dir := t.TempDir()
	rows := sortTestRows(t, 2000, 2)
	s := newRowSorter(sortTestLess, 16<<10, dir)
	defer s.Close()
	addRows(t, s, rows)
	if err := s.Finish(); err != nil {
		t.Fatal(err)
	}
	if s.spills < 2 {
		t.Fatalf("%d runs spilled for ~%d KiB over a 16 KiB budget", s.spills, 2000*rowMemory(rows[0])>>10)
	}
	if n := len(tempFiles(t, dir)); n == 0 {
		t.Fatal("no temporary files while merging")
	}
	checkSorted(t, rows, readSorted(t, s))
	closeRemovesFiles(t, s, dir)
}

// TestRowSorterMultiLevelMerge: more runs than sortMergeFanIn are merged in
// several passes, stably; a run waiting to be merged holds no open file.
func TestRowSorterMultiLevelMerge(t *testing.T) {
	dir := t.TempDir()
	rows := sortTestRows(t, 3000, 3)
	budget := 10 * rowMemory(rows[0]) // a run per ~10 rows: ~300 runs
	s := newRowSorter(sortTestLess, budget, dir)
	t.Cleanup(s.Close)
	addRows(t, s, rows)
	if len(s.runs) <= sortMergeFanIn {
		t.Fatalf("only %d runs", len(s.runs))
	}
	for i, r := range s.runs {
		if r.f != nil {
			t.Fatalf("run %d of %d holds an open file before the merge", i, len(s.runs))
		}
	}
	got := readSorted(t, s)
	if n := len(tempFiles(t, dir)); n > sortMergeFanIn {
		t.Fatalf("%d temporary files while merging (fan-in %d)", n, sortMergeFanIn)
	}
	checkSorted(t, rows, got)
	closeRemovesFiles(t, s, dir)
}

// TestRowSorterCloseEarly: closing before the end (LIMIT, an error, a
// cancel) removes the files.
func TestRowSorterCloseEarly(t *testing.T) {
	dir := t.TempDir()
	rows := sortTestRows(t, 500, 4)
	s := newRowSorter(sortTestLess, 4<<10, dir)
	t.Cleanup(s.Close)
	addRows(t, s, rows[:300])
	if len(tempFiles(t, dir)) == 0 {
		t.Fatal("nothing spilled")
	}
	closeRemovesFiles(t, s, dir) // before Finish
	if err := s.Add(rows[0]); err == nil {
		t.Fatal("Add after Close succeeded")
	}

	s = newRowSorter(sortTestLess, 4<<10, dir)
	t.Cleanup(s.Close)
	addRows(t, s, rows)
	if err := s.Finish(); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Next(); err != nil || r == nil {
		t.Fatalf("Next: %v %v", r, err)
	}
	closeRemovesFiles(t, s, dir) // mid-read
	if _, err := s.Next(); err == nil {
		t.Fatal("Next after Close succeeded")
	}
}

// TestRowSorterTypes: every kind of datum survives a spill.
func TestRowSorterTypes(t *testing.T) {
	dir := t.TempDir()
	parse := func(s string, typ *types.Type) types.Datum {
		d, err := types.ParseText(s, typ, nil)
		if err != nil {
			t.Fatalf("%s::%s: %v", s, typ, err)
		}
		return d
	}
	row := func(k int) []types.Datum {
		return []types.Datum{types.DInt(k), types.DBool(k%2 == 0), types.DFloat(float64(k) / 3), parse("-1.50", types.Numeric),
			types.DString("é"), types.DBytes([]byte{0, 1, 2}), parse("2024-02-29", types.Date),
			parse("2024-02-29 12:34:56.789", types.Timestamp), parse("2024-02-29 12:34:56.789+00", types.TimestampTZ),
			parse("1 mon 2 days 00:00:03", types.Interval), parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", types.UUID),
			parse(`{"a": [1, 2.50, null]}`, types.JSONB), types.DOid(42),
			&types.DArray{Elem: types.Int8, Elems: []types.Datum{types.DInt(1), types.DNull}}, types.DNull}
	}
	var rows [][]types.Datum
	special := []types.Datum{parse("NaN", types.Numeric), parse("Infinity", types.Numeric), parse("-Infinity", types.Float8),
		parse("NaN", types.Float8), parse("-0", types.Float8), parse("1e-30", types.Numeric), parse("", types.Text)}
	for k := 300; k > 0; k-- {
		r := row(k)
		r[len(r)-1] = special[k%len(special)]
		rows = append(rows, r)
	}
	got, s := runSorter(t, rows, 4<<10, dir)
	if s.spills == 0 {
		t.Fatal("nothing spilled")
	}
	checkSorted(t, rows, got)
}

func TestRowSorterTempDirError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	s := newRowSorter(sortTestLess, 1<<10, dir)
	defer s.Close()
	var err error
	for _, r := range sortTestRows(t, 200, 5) {
		if err = s.Add(r); err != nil {
			break
		}
	}
	if !sqlerr.HasCode(err, sqlerr.CodeOutOfMemory) {
		t.Fatalf("got %v, want 53200", err)
	}
	if _, statErr := os.Stat(dir); !os.IsNotExist(statErr) {
		t.Fatalf("the directory was created: %v", statErr)
	}
}

func TestWorkMemSetting(t *testing.T) {
	for in, want := range map[string]string{"1MB": "1MB", "64MB": "64MB", "1024": "1MB", "4096kB": "4MB", "1GB": "1GB", "100kB": "100kB", " 2 MB": "2MB", "65536 B": "64kB"} {
		got, err := workMemValue(in)
		if err != nil || got != want {
			t.Errorf("work_mem %q: %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "1XB", "abc", "10kB", "-1MB", "3TB", "1e400"} {
		if _, err := workMemValue(bad); !sqlerr.HasCode(err, sqlerr.CodeInvalidParameterValue) {
			t.Errorf("work_mem %q: %v, want 22023", bad, err)
		}
	}
	v := newVars()
	if v.workMemBytes() != 64<<20 {
		t.Fatalf("default work_mem: %d", v.workMemBytes())
	}
	if err := v.set("work_mem", "1MB"); err != nil || v.workMemBytes() != 1<<20 {
		t.Fatalf("SET work_mem = '1MB': %v, %d", err, v.workMemBytes())
	}
}
