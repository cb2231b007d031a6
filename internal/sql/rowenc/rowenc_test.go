package rowenc_test

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/rowenc"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

func sign(c int) int { return cmp.Compare(c, 0) }

// keyOf encodes one column.
func keyOf(t *testing.T, d types.Datum, typ *types.Type, desc bool) []byte {
	t.Helper()
	b, err := rowenc.AppendKeyDatum(nil, d, typ, desc)
	if err != nil {
		t.Fatalf("AppendKeyDatum(%v, %s): %v", d, typ.Name(), err)
	}
	return b
}

// TestKeyOrderMatchesCompare: for every type, byte order of the key
// encodings is types.Compare's order (NULL last), reversed for descending
// columns; equal values encode alike.
func TestKeyOrderMatchesCompare(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, name := range testTypes {
		typ := mustType(t, name)
		t.Run(name, func(t *testing.T) {
			vals := []types.Datum{types.DNull}
			for range 80 {
				vals = append(vals, randDatum(t, rng, typ))
			}
			for _, desc := range []bool{false, true} {
				encs := make([][]byte, len(vals))
				for i, v := range vals {
					encs[i] = keyOf(t, v, typ, desc)
				}
				for i := range vals {
					for j := range vals {
						want := types.Compare(vals[i], vals[j])
						if desc {
							want = -want
						}
						if got := bytes.Compare(encs[i], encs[j]); sign(got) != sign(want) {
							t.Fatalf("desc=%v: %v vs %v: bytes.Compare = %d, types.Compare = %d\n%x\n%x",
								desc, vals[i], vals[j], got, want, encs[i], encs[j])
						}
						// Prefix-free: a different encoding is never a prefix.
						if !bytes.Equal(encs[i], encs[j]) && bytes.HasPrefix(encs[i], encs[j]) {
							t.Fatalf("%x is a prefix of %x", encs[j], encs[i])
						}
					}
				}
			}
		})
	}
}

// TestCompositeKeyOrder: keys of two-column indexes (random types and
// directions) sort like the rows compared column by column.
func TestCompositeKeyOrder(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for range 40 {
		t1, t2 := mustType(t, testTypes[rng.Intn(len(testTypes))]), mustType(t, testTypes[rng.Intn(len(testTypes))])
		d1, d2 := rng.Intn(2) == 0, rng.Intn(2) == 0
		desc := &catalog.TableDescriptor{
			ID: 100, ParentID: 1, Schema: "public", Name: "t",
			Columns:      []catalog.Column{{ID: 1, Name: "a", Type: t1}, {ID: 2, Name: "b", Type: t2}},
			PrimaryIndex: catalog.Index{ID: 1, Name: "t_pkey", ColumnIDs: []uint32{1, 2}, Descending: []bool{d1, d2}},
		}
		var rows [][]types.Datum
		for range 40 {
			rows = append(rows, []types.Datum{randDatum(t, rng, t1), randDatum(t, rng, t2)})
		}
		compareRows := func(a, b []types.Datum) int {
			if c := types.Compare(a[0], b[0]); c != 0 {
				if d1 {
					return -c
				}
				return c
			}
			c := types.Compare(a[1], b[1])
			if d2 {
				return -c
			}
			return c
		}
		for _, a := range rows {
			ka, err := rowenc.EncodePrimaryKey(desc, a)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range rows {
				kb, err := rowenc.EncodePrimaryKey(desc, b)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := bytes.Compare(ka, kb), compareRows(a, b); sign(got) != sign(want) {
					t.Fatalf("(%s %v, %s %v) %v vs %v: bytes %d, rows %d", t1.Name(), d1, t2.Name(), d2, a, b, got, want)
				}
			}
		}
	}
}

// allTypesTable has a column of every test type, the int8 key first.
func allTypesTable(t *testing.T) *catalog.TableDescriptor {
	desc := &catalog.TableDescriptor{ID: 123, ParentID: 1, Schema: "public", Name: "all"}
	desc.AddColumn(catalog.Column{Name: "k", Type: types.Int8})
	for i, name := range testTypes {
		desc.AddColumn(catalog.Column{Name: fmt.Sprintf("c%d", i), Type: mustType(t, name), Nullable: true})
	}
	desc.PrimaryIndex = catalog.Index{ID: 1, Name: "all_pkey", ColumnIDs: []uint32{1}}
	if err := desc.Validate(); err != nil {
		t.Fatal(err)
	}
	return desc
}

// sameDatum reports whether a and b are the same value exactly (not just
// equal: 1.5 is not 1.50), judged by their binary format.
func sameDatum(a, b types.Datum, typ *types.Type) bool {
	if a == types.DNull || b == types.DNull {
		return a == b
	}
	return bytes.Equal(types.AppendBinary(nil, a, typ), types.AppendBinary(nil, b, typ))
}

func TestRowValueRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	desc := allTypesTable(t)
	for range 300 {
		row := make([]types.Datum, len(desc.Columns))
		row[0] = types.DInt(rng.Int63())
		for i := 1; i < len(row); i++ {
			if rng.Intn(6) == 0 {
				row[i] = types.DNull
			} else {
				row[i] = randDatum(t, rng, desc.Columns[i].Type)
			}
		}
		v, err := rowenc.EncodeRowValue(desc, row)
		if err != nil {
			t.Fatal(err)
		}
		got, err := rowenc.DecodeRow(desc, v)
		if err != nil {
			t.Fatal(err)
		}
		for i := range row {
			if !sameDatum(row[i], got[i], desc.Columns[i].Type) {
				t.Fatalf("column %s (%s): wrote %v, read %v", desc.Columns[i].Name, desc.Columns[i].Type.Name(), row[i], got[i])
			}
		}
		if _, err := rowenc.EncodePrimaryKey(desc, row); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDecodeCorruptValues(t *testing.T) {
	desc := allTypesTable(t)
	row := make([]types.Datum, len(desc.Columns))
	for i := range row {
		row[i] = types.DNull
	}
	row[0] = types.DInt(7)
	v, err := rowenc.EncodeRowValue(desc, row)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]byte{nil, {9}, v[:len(v)-1], append(slices.Clone(v), 0x05), {1, 1, 200}, {1, 0, 0}} {
		if _, err := rowenc.DecodeRow(desc, bad); err == nil {
			t.Errorf("DecodeRow(%x) succeeded", bad)
		}
	}
	// Every truncation and every single byte flip fails or decodes, never
	// panics.
	for i := range v {
		_, _ = rowenc.DecodeRow(desc, v[:i])
		w := slices.Clone(v)
		w[i] ^= 0xff
		_, _ = rowenc.DecodeRow(desc, w)
	}
}

// TestSchemaChangeTolerance: a value written before ADD COLUMN lacks the
// new column (NULL, reported absent); one written before DROP COLUMN has a
// column the descriptor no longer knows (skipped).
func TestSchemaChangeTolerance(t *testing.T) {
	v1 := &catalog.TableDescriptor{ID: 100, ParentID: 1, Schema: "public", Name: "t",
		PrimaryIndex: catalog.Index{ID: 1, Name: "t_pkey", ColumnIDs: []uint32{1}}}
	v1.AddColumn(catalog.Column{Name: "k", Type: types.Int4})
	v1.AddColumn(catalog.Column{Name: "old", Type: types.Text, Nullable: true})
	v1.AddColumn(catalog.Column{Name: "n", Type: types.Int8, Nullable: true})
	old, err := rowenc.EncodeRowValue(v1, []types.Datum{types.DInt(1), types.DString("gone"), types.DNull})
	if err != nil {
		t.Fatal(err)
	}
	v2 := v1.Clone()
	v2.Columns = slices.Delete(v2.Columns, 1, 2) // DROP COLUMN old
	v2.AddColumn(catalog.Column{Name: "added", Type: types.Bool, Nullable: true})
	if err := v2.Validate(); err != nil {
		t.Fatal(err)
	}
	row := make([]types.Datum, 3)
	present := make([]bool, 3)
	if err := rowenc.DecodeRowInto(v2, old, row, present); err != nil {
		t.Fatal(err)
	}
	if row[0] != types.DInt(1) || row[1] != types.DNull || row[2] != types.DNull {
		t.Fatalf("row = %v", row)
	}
	if want := []bool{true, true, false}; !slices.Equal(present, want) {
		t.Fatalf("present = %v, want %v (n stored as NULL, added absent)", present, want)
	}
	// And a new row read with the old descriptor: the new column is skipped.
	nv, err := rowenc.EncodeRowValue(v2, []types.Datum{types.DInt(2), types.DInt(5), types.DTrue})
	if err != nil {
		t.Fatal(err)
	}
	got, err := rowenc.DecodeRow(v1, nv)
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != types.DInt(2) || got[1] != types.DNull || got[2] != types.DInt(5) {
		t.Fatalf("old descriptor read %v", got)
	}
}

func indexTable() *catalog.TableDescriptor {
	d := &catalog.TableDescriptor{ID: 105, ParentID: 1, Schema: "public", Name: "t",
		PrimaryIndex: catalog.Index{ID: 1, Name: "t_pkey", ColumnIDs: []uint32{1, 2}, Descending: []bool{false, true}}}
	d.AddColumn(catalog.Column{Name: "a", Type: types.Int8})
	d.AddColumn(catalog.Column{Name: "b", Type: types.Text})
	d.AddColumn(catalog.Column{Name: "u", Type: types.Int4, Nullable: true})
	d.AddColumn(catalog.Column{Name: "v", Type: types.Numeric, Nullable: true})
	d.AddIndex(catalog.Index{Name: "t_u_key", ColumnIDs: []uint32{3}, Unique: true})
	d.AddIndex(catalog.Index{Name: "t_v_idx", ColumnIDs: []uint32{4, 3}, Descending: []bool{true, false}})
	return d
}

func TestSecondaryIndexEntries(t *testing.T) {
	d := indexTable()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	uniq, plain := &d.Indexes[0], &d.Indexes[1]
	r1 := []types.Datum{types.DInt(1), types.DString("x"), types.DInt(10), types.MustParseDecimal("1.5")}
	r2 := []types.Datum{types.DInt(2), types.DString("y"), types.DInt(10), types.MustParseDecimal("1.50")}
	r3 := []types.Datum{types.DInt(3), types.DString("z"), types.DNull, types.DNull}
	r4 := []types.Datum{types.DInt(4), types.DString("w"), types.DNull, types.DNull}

	// Unique index: equal values give equal keys (a conflict), NULLs never.
	k1, u1, err := rowenc.SecondaryIndexKey(d, uniq, r1)
	if err != nil || !u1 {
		t.Fatal(err, u1)
	}
	k2, _, _ := rowenc.SecondaryIndexKey(d, uniq, r2)
	if !bytes.Equal(k1, k2) {
		t.Fatal("equal unique values gave different keys")
	}
	k3, u3, _ := rowenc.SecondaryIndexKey(d, uniq, r3)
	k4, _, _ := rowenc.SecondaryIndexKey(d, uniq, r4)
	if u3 || bytes.Equal(k3, k4) {
		t.Fatalf("NULL unique keys: checkUnique %v, equal %v", u3, bytes.Equal(k3, k4))
	}
	// Non-unique: the primary key makes every entry distinct, even for
	// equal values (1.5 = 1.50).
	p1, v1, err := rowenc.EncodeSecondaryIndexEntry(d, plain, r1)
	if err != nil {
		t.Fatal(err)
	}
	p2, _, _ := rowenc.EncodeSecondaryIndexEntry(d, plain, r2)
	if bytes.Equal(p1, p2) {
		t.Fatal("non-unique entries of two rows collide")
	}
	// Both entries are in the scan of v = 1.5 and of v = 1.5 AND u = 10,
	// and r3's is not.
	for _, prefix := range [][]types.Datum{{types.MustParseDecimal("1.500")}, {types.MustParseDecimal("1.5"), types.DInt(10)}} {
		pre, err := rowenc.EncodeIndexKeyPrefix(d, plain, prefix)
		if err != nil {
			t.Fatal(err)
		}
		p3, _, _ := rowenc.EncodeSecondaryIndexEntry(d, plain, r3)
		if !bytes.HasPrefix(p1, pre) || !bytes.HasPrefix(p2, pre) || bytes.HasPrefix(p3, pre) {
			t.Fatalf("prefix %v selects the wrong entries", prefix)
		}
	}
	// The value leads back to the row.
	pk, err := rowenc.DecodeIndexValue(d, v1)
	if err != nil {
		t.Fatal(err)
	}
	if len(pk) != 2 || pk[0] != types.DInt(1) || pk[1] != types.DString("x") {
		t.Fatalf("DecodeIndexValue = %v", pk)
	}
	rowKey, _ := rowenc.EncodePrimaryKey(d, r1)
	again, _ := rowenc.EncodePrimaryKey(d, []types.Datum{pk[0], pk[1], types.DNull, types.DNull})
	if !bytes.Equal(rowKey, again) {
		t.Fatal("primary key from the index value differs")
	}
	// Keys live in their index's span.
	for idx, k := range map[uint32][]byte{1: rowKey, 2: k1, 3: p1} {
		s := rowenc.IndexSpan(d.ID, idx)
		ts := rowenc.TableSpan(d.ID)
		if bytes.Compare(k, s.Key) < 0 || bytes.Compare(k, s.EndKey) >= 0 || bytes.Compare(k, ts.Key) < 0 || bytes.Compare(k, ts.EndKey) >= 0 {
			t.Fatalf("key of index %d outside its span", idx)
		}
	}
}

func TestPrimaryKeyNull(t *testing.T) {
	d := indexTable()
	_, err := rowenc.EncodePrimaryKey(d, []types.Datum{types.DInt(1), types.DNull, types.DNull, types.DNull})
	if !sqlerr.HasCode(err, sqlerr.CodeNotNullViolation) {
		t.Fatalf("NULL key column: %v", err)
	}
	if _, err := rowenc.EncodePrimaryKey(d, []types.Datum{types.DString("x"), types.DString("x"), types.DNull, types.DNull}); err == nil {
		t.Fatal("a text value in an int8 column was encoded")
	}
	if _, err := rowenc.EncodeRowValue(d, []types.Datum{types.DInt(1)}); err == nil {
		t.Fatal("a short row was encoded")
	}
}

func TestPrimaryKeyPrefixSpans(t *testing.T) {
	d := indexTable()
	inSpans := func(k []byte, spans []rowenc.Span) int {
		n := 0
		for _, s := range spans {
			if bytes.Compare(k, s.Key) >= 0 && bytes.Compare(k, s.EndKey) < 0 {
				n++
			}
		}
		return n
	}
	spans, err := rowenc.PrimaryKeyPrefixSpans(d, []types.Datum{types.DInt(7)})
	if err != nil || len(spans) != 1 {
		t.Fatal(err, spans)
	}
	for _, r := range []struct {
		a    int64
		want int
	}{{7, 1}, {6, 0}, {8, 0}} {
		k, _ := rowenc.EncodePrimaryKey(d, []types.Datum{types.DInt(r.a), types.DString("b"), types.DNull, types.DNull})
		if got := inSpans(k, spans); got != r.want {
			t.Fatalf("a=%d in %d spans, want %d", r.a, got, r.want)
		}
	}
	all, _ := rowenc.PrimaryKeyPrefixSpans(d, nil)
	if len(all) != 1 || !bytes.Equal(all[0].Key, rowenc.PrimaryKeySpan(d).Key) || !bytes.Equal(all[0].EndKey, rowenc.PrimaryKeySpan(d).EndKey) {
		t.Fatalf("whole-table spans %v", all)
	}
}

// TestHashBuckets: sequential keys spread evenly over the buckets; a
// point lookup finds the row's bucket; a prefix scan not fixing the hash
// column has one span per bucket, and every row is in exactly one.
func TestHashBuckets(t *testing.T) {
	d := &catalog.TableDescriptor{ID: 110, ParentID: 1, Schema: "public", Name: "h", HashBuckets: 8, HashColumnID: 2,
		PrimaryIndex: catalog.Index{ID: 1, Name: "h_pkey", ColumnIDs: []uint32{1, 2}}}
	d.AddColumn(catalog.Column{Name: "tenant", Type: types.Int4})
	d.AddColumn(catalog.Column{Name: "id", Type: types.Int8})
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	const n = 16000
	counts := make(map[string]int)
	spans, err := rowenc.PrimaryKeyPrefixSpans(d, []types.Datum{types.DInt(1)})
	if err != nil || len(spans) != 8 {
		t.Fatal(err, len(spans))
	}
	for i := range n {
		row := []types.Datum{types.DInt(1), types.DInt(i)}
		k, err := rowenc.EncodePrimaryKey(d, row)
		if err != nil {
			t.Fatal(err)
		}
		bucket, _ := rowenc.HashBucket(d, row[1])
		counts[fmt.Sprint(bucket)]++
		in := 0
		for b, s := range spans {
			if bytes.Compare(k, s.Key) >= 0 && bytes.Compare(k, s.EndKey) < 0 {
				in++
				if b != int(bucket) {
					t.Fatalf("row %d of bucket %d in span %d", i, bucket, b)
				}
			}
		}
		if in != 1 {
			t.Fatalf("row %d in %d spans", i, in)
		}
		point, err := rowenc.PrimaryKeyPrefixSpans(d, row)
		if err != nil || len(point) != 1 || !bytes.Equal(point[0].Key, k) {
			t.Fatalf("point lookup spans %v for key %x (%v)", point, k, err)
		}
	}
	if len(counts) != 8 {
		t.Fatalf("buckets used: %v", counts)
	}
	for b, c := range counts {
		if c < n/8*8/10 || c > n/8*12/10 {
			t.Errorf("bucket %s has %d of %d rows", b, c, n)
		}
	}
	if _, err := rowenc.EncodePrimaryKeyPrefix(d, []types.Datum{types.DInt(1)}); err == nil {
		t.Error("a prefix without the hash column encoded")
	}
}

func FuzzDecodeRow(f *testing.F) {
	d := indexTable()
	v, _ := rowenc.EncodeRowValue(d, []types.Datum{types.DInt(1), types.DString("x"), types.DInt(2), types.MustParseDecimal("-1.25")})
	f.Add(v)
	f.Fuzz(func(t *testing.T, b []byte) {
		row, err := rowenc.DecodeRow(d, b)
		if err != nil {
			return
		}
		// A value that decodes re-encodes to one that decodes alike.
		v2, err := rowenc.EncodeRowValue(d, row)
		if err != nil {
			t.Fatal(err)
		}
		row2, err := rowenc.DecodeRow(d, v2)
		if err != nil {
			t.Fatal(err)
		}
		for i := range row {
			if !sameDatum(row[i], row2[i], d.Columns[i].Type) {
				t.Fatalf("column %d: %v then %v", i, row[i], row2[i])
			}
		}
	})
}
