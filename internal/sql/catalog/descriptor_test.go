package catalog_test

import (
	"math"
	"reflect"
	"testing"

	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
)

func mustType(t *testing.T, name string) *types.Type {
	t.Helper()
	typ, err := types.TypeByName(name)
	if err != nil {
		t.Fatalf("TypeByName(%q): %v", name, err)
	}
	return typ
}

// roundTripTypes are types whose OID and typmod must come back as the
// identical type.
var roundTripTypes = []string{
	"bool", "int2", "int4", "int8", "float4", "float8", "numeric", "numeric(10,2)", "numeric(5,-2)",
	"numeric(1000,1000)", "text", "varchar", "varchar(5)", "char", "char(4)", "bpchar", "name", "bytea",
	"date", "timestamp", "timestamp(0)", "timestamp(3)", "timestamptz", "timestamptz(6)", "interval",
	"uuid", "jsonb", "json", "oid", "int4[]", "varchar(7)[]", "numeric(4,1)[]", "timestamptz(2)[]",
	"char(3)[]", "jsonb[]", "text[]",
}

func sampleTable(t *testing.T) *catalog.TableDescriptor {
	d := &catalog.TableDescriptor{ID: 104, ParentID: 100, Schema: "public", Name: "orders",
		PrimaryIndex: catalog.Index{ID: 1, Name: "orders_pkey", ColumnIDs: []uint32{1, 2}, Descending: []bool{false, true}},
		HashBuckets:  16, HashColumnID: 2, Version: 3,
		Checks: []catalog.Check{{Name: "c", Expr: "qty > 0"}},
		ForeignKeys: []catalog.ForeignKey{{Name: "fk", ColumnIDs: []uint32{3}, RefTableID: 101, RefColumnIDs: []uint32{1},
			OnDelete: catalog.FKCascade, OnUpdate: catalog.FKSetNull, MatchFull: true}},
		ReferencedBy: []uint32{104, 107},
	}
	d.AddColumn(catalog.Column{Name: "region", Type: types.Int4})
	d.AddColumn(catalog.Column{Name: "id", Type: types.Int8, DefaultExpr: "nextval('orders_id_seq')", SequenceID: 105})
	d.AddColumn(catalog.Column{Name: "customer", Type: types.Int8, Nullable: true})
	for _, name := range roundTripTypes {
		d.AddColumn(catalog.Column{Name: "c_" + name, Type: mustType(t, name), Nullable: true})
	}
	d.AddColumn(catalog.Column{Name: "rowid", Type: types.Int8, Hidden: true, DefaultExpr: "unique_rowid()"})
	d.AddIndex(catalog.Index{Name: "orders_customer_idx", ColumnIDs: []uint32{3, 1}, Descending: []bool{true, false}})
	d.AddIndex(catalog.Index{Name: "orders_customer_key", ColumnIDs: []uint32{3}, Unique: true})
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestTableEncodingRoundTrip(t *testing.T) {
	d := sampleTable(t)
	b, err := catalog.EncodeTable(d)
	if err != nil {
		t.Fatal(err)
	}
	got, err := catalog.DecodeTable(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Columns) != len(d.Columns) {
		t.Fatalf("%d columns, want %d", len(got.Columns), len(d.Columns))
	}
	for i := range d.Columns {
		w, g := d.Columns[i], got.Columns[i]
		if !w.Type.Identical(g.Type) || g.Type.Name() != w.Type.Name() || g.Type.Typmod() != w.Type.Typmod() {
			t.Errorf("column %s: type %s came back as %s", w.Name, w.Type.Name(), g.Type.Name())
		}
		w.Type, g.Type = nil, nil
		if w != g {
			t.Errorf("column %d: %+v came back as %+v", i, w, g)
		}
	}
	d.Columns, got.Columns = nil, nil
	if !reflect.DeepEqual(d, got) {
		t.Fatalf("descriptor changed:\n%+v\n%+v", d, got)
	}
	if _, err := catalog.DecodeTable([]byte{0xff, 0xff}); err == nil {
		t.Fatal("garbage decoded")
	}
	db, _ := catalog.EncodeDatabase(&catalog.DatabaseDescriptor{ID: 100, Name: "x"})
	if _, err := catalog.DecodeTable(db); err == nil {
		t.Fatal("a database decoded as a table")
	}
}

func TestDescriptorHelpers(t *testing.T) {
	d := sampleTable(t)
	if c := d.ColumnByName("customer"); c == nil || c.ID != 3 {
		t.Fatalf("ColumnByName = %+v", c)
	}
	if d.ColumnByName("Customer") != nil {
		t.Fatal("ColumnByName is case-insensitive")
	}
	if c := d.ColumnByID(2); c == nil || c.Name != "id" {
		t.Fatalf("ColumnByID = %+v", c)
	}
	pub := d.PublicColumns()
	if len(pub) != len(d.Columns)-1 || pub[len(pub)-1].Name == "rowid" {
		t.Fatal("PublicColumns shows the hidden column")
	}
	if idx := d.IndexByName("orders_customer_key"); idx == nil || !idx.Unique || idx.ID != 3 {
		t.Fatalf("IndexByName = %+v", idx)
	}
	if idx := d.IndexByName("orders_pkey"); idx != &d.PrimaryIndex {
		t.Fatal("IndexByName misses the primary index")
	}
	c := d.Clone()
	c.Columns[0].Name = "changed"
	c.PrimaryIndex.ColumnIDs[0] = 99
	c.Indexes[0].Descending[0] = false
	c.ForeignKeys[0].ColumnIDs[0] = 99
	if d.Columns[0].Name != "region" || d.PrimaryIndex.ColumnIDs[0] != 1 || !d.Indexes[0].Descending[0] || d.ForeignKeys[0].ColumnIDs[0] != 3 {
		t.Fatal("Clone shares memory with the original")
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(d *catalog.TableDescriptor)
		code   string
	}{
		{"ok", func(d *catalog.TableDescriptor) {}, ""},
		{"duplicate column", func(d *catalog.TableDescriptor) { d.Columns[1].Name = "region" }, sqlerr.CodeDuplicateColumn},
		{"column id reused", func(d *catalog.TableDescriptor) { d.Columns[1].ID = 1 }, sqlerr.CodeInvalidTableDefinition},
		{"column id beyond next", func(d *catalog.TableDescriptor) { d.NextColumnID = 2 }, sqlerr.CodeInvalidTableDefinition},
		{"no type", func(d *catalog.TableDescriptor) { d.Columns[0].Type = nil }, sqlerr.CodeInvalidTableDefinition},
		{"nullable key", func(d *catalog.TableDescriptor) { d.Columns[0].Nullable = true }, sqlerr.CodeInvalidTableDefinition},
		{"no primary key", func(d *catalog.TableDescriptor) { d.PrimaryIndex.ColumnIDs = nil }, sqlerr.CodeInvalidTableDefinition},
		{"unknown index column", func(d *catalog.TableDescriptor) { d.Indexes[0].ColumnIDs[0] = 999 }, sqlerr.CodeInvalidTableDefinition},
		{"column twice in index", func(d *catalog.TableDescriptor) { d.Indexes[0].ColumnIDs[1] = 3 }, sqlerr.CodeDuplicateColumn},
		{"duplicate index name", func(d *catalog.TableDescriptor) { d.Indexes[1].Name = "orders_pkey" }, sqlerr.CodeDuplicateTable},
		{"index id 1", func(d *catalog.TableDescriptor) { d.Indexes[1].ID = 1 }, sqlerr.CodeInvalidTableDefinition},
		{"directions", func(d *catalog.TableDescriptor) { d.Indexes[0].Descending = []bool{true} }, sqlerr.CodeInvalidTableDefinition},
		{"hash column not in key", func(d *catalog.TableDescriptor) { d.HashColumnID = 3 }, sqlerr.CodeInvalidTableDefinition},
		{"too many buckets", func(d *catalog.TableDescriptor) { d.HashBuckets = catalog.MaxHashBuckets + 1 }, sqlerr.CodeInvalidTableDefinition},
		{"fk arity", func(d *catalog.TableDescriptor) { d.ForeignKeys[0].RefColumnIDs = nil }, sqlerr.CodeInvalidForeignKey},
		{"fk action", func(d *catalog.TableDescriptor) { d.ForeignKeys[0].OnDelete = 9 }, sqlerr.CodeInvalidTableDefinition},
		{"empty check", func(d *catalog.TableDescriptor) { d.Checks[0].Expr = "" }, sqlerr.CodeInvalidTableDefinition},
		{"NUL in name", func(d *catalog.TableDescriptor) { d.Name = "a\x00b" }, sqlerr.CodeInvalidParameterValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := sampleTable(t)
			tc.change(d)
			err := d.Validate()
			if tc.code == "" && err != nil || tc.code != "" && !sqlerr.HasCode(err, tc.code) {
				t.Fatalf("Validate() = %v, want code %q", err, tc.code)
			}
		})
	}
}

func TestSequenceValidate(t *testing.T) {
	asc := catalog.NewSequenceDescriptor("public", "s", 1)
	desc := catalog.NewSequenceDescriptor("public", "s", -1)
	if err := asc.Validate(); err != nil || asc.Start != 1 || asc.Max != math.MaxInt64 {
		t.Fatal(asc, err)
	}
	if err := desc.Validate(); err != nil || desc.Start != -1 || desc.Min != math.MinInt64 {
		t.Fatal(desc, err)
	}
	bad := *asc
	bad.Start = 0
	if bad.Validate() == nil {
		t.Fatal("START below MINVALUE accepted")
	}
	bad = *asc
	bad.Increment = 0
	if bad.Validate() == nil {
		t.Fatal("INCREMENT 0 accepted")
	}
}
