package catalog_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/sql/catalog"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
	"github.com/cairndb/cairn/internal/sql/types"
	"github.com/cairndb/cairn/internal/testcluster"
)

func startDB(t *testing.T) *kv.DB {
	t.Helper()
	c := testcluster.Start(t, 1)
	return c.Nodes[0].DB()
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// run runs fn in a transaction and commits it; it fails the test on an
// error other than one fn returns.
func run(t *testing.T, db *kv.DB, fn func(ctx context.Context, txn *kv.Txn) error) error {
	t.Helper()
	return catalog.RunTxn(testCtx(t), db, fn)
}

func mustRun(t *testing.T, db *kv.DB, fn func(ctx context.Context, txn *kv.Txn) error) {
	t.Helper()
	if err := run(t, db, fn); err != nil {
		t.Fatal(err)
	}
}

func newTable(name string, extra ...catalog.Column) *catalog.TableDescriptor {
	d := &catalog.TableDescriptor{Name: name,
		PrimaryIndex: catalog.Index{ID: 1, Name: name + "_pkey", ColumnIDs: []uint32{1}}}
	d.AddColumn(catalog.Column{Name: "id", Type: types.Int8})
	for _, c := range extra {
		d.AddColumn(c)
	}
	return d
}

// TestCatalog runs the DDL functions on one node, in one cluster.
func TestCatalog(t *testing.T) {
	db := startDB(t)
	ctx := testCtx(t)

	// Bootstrap, from several nodes at once: each database once.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- catalog.Bootstrap(ctx, db) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Bootstrap: %v", err)
		}
	}
	if err := catalog.Bootstrap(ctx, db); err != nil {
		t.Fatal(err)
	}
	var dbs []*catalog.DatabaseDescriptor
	mustRun(t, db, func(ctx context.Context, txn *kv.Txn) (err error) {
		dbs, err = catalog.ListDatabases(ctx, txn)
		return err
	})
	if len(dbs) != 2 || dbs[0].Name != "defaultdb" || dbs[1].Name != "postgres" || dbs[0].ID < catalog.FirstDescriptorID {
		t.Fatalf("databases after bootstrap: %+v", dbs)
	}

	// Databases.
	var app *catalog.DatabaseDescriptor
	mustRun(t, db, func(ctx context.Context, txn *kv.Txn) (err error) {
		app, err = catalog.CreateDatabase(ctx, txn, "app")
		return err
	})
	err := run(t, db, func(ctx context.Context, txn *kv.Txn) error {
		_, err := catalog.CreateDatabase(ctx, txn, "app")
		return err
	})
	if !sqlerr.HasCode(err, sqlerr.CodeDuplicateDatabase) {
		t.Fatalf("duplicate database: %v", err)
	}
	mustRun(t, db, func(ctx context.Context, txn *kv.Txn) error {
		got, err := catalog.GetDatabase(ctx, txn, "app")
		if err != nil || got == nil || *got != *app {
			t.Errorf("GetDatabase = %+v, %v", got, err)
		}
		if got, err := catalog.GetDatabase(ctx, txn, "nope"); got != nil || err != nil {
			t.Errorf("GetDatabase(missing) = %+v, %v", got, err)
		}
		return nil
	})

	// Tables, with a sequence for a SERIAL column and a foreign key.
	var users, orders *catalog.TableDescriptor
	mustRun(t, db, func(ctx context.Context, txn *kv.Txn) error {
		users = newTable("users", catalog.Column{Name: "email", Type: mustType(t, "varchar(100)"), Nullable: true})
		users.AddIndex(catalog.Index{Name: "users_email_key", ColumnIDs: []uint32{2}, Unique: true})
		if err := catalog.CreateTable(ctx, txn, app, users); err != nil {
			return err
		}
		seq := catalog.NewSequenceDescriptor("", "orders_id_seq", 1)
		if err := catalog.CreateSequence(ctx, txn, app, seq); err != nil {
			return err
		}
		orders = newTable("orders", catalog.Column{Name: "user_email", Type: types.Text, Nullable: true})
		orders.Columns[0].SequenceID = seq.ID
		orders.Columns[0].DefaultExpr = "nextval('orders_id_seq')"
		orders.ForeignKeys = []catalog.ForeignKey{{Name: "orders_user_fk", ColumnIDs: []uint32{2}, RefTableID: users.ID, RefColumnIDs: []uint32{2}}}
		return catalog.CreateTable(ctx, txn, app, orders)
	})
	if users.ID < catalog.FirstDescriptorID || orders.ID <= users.ID || users.Version != 1 || users.Schema != "public" || users.ParentID != app.ID {
		t.Fatalf("created %+v and %+v", users, orders)
	}
	for _, tc := range []struct {
		name string
		fn   func(ctx context.Context, txn *kv.Txn) error
		code string
	}{
		{"duplicate table", func(ctx context.Context, txn *kv.Txn) error {
			return catalog.CreateTable(ctx, txn, app, newTable("users"))
		}, sqlerr.CodeDuplicateTable},
		{"table named like a sequence", func(ctx context.Context, txn *kv.Txn) error {
			return catalog.CreateTable(ctx, txn, app, newTable("orders_id_seq"))
		}, sqlerr.CodeDuplicateTable},
		{"fk to a non-unique column", func(ctx context.Context, txn *kv.Txn) error {
			d := newTable("bad", catalog.Column{Name: "x", Type: types.Text})
			d.ForeignKeys = []catalog.ForeignKey{{Name: "f", ColumnIDs: []uint32{2}, RefTableID: orders.ID, RefColumnIDs: []uint32{2}}}
			return catalog.CreateTable(ctx, txn, app, d)
		}, sqlerr.CodeInvalidForeignKey},
		{"fk of another type", func(ctx context.Context, txn *kv.Txn) error {
			d := newTable("bad", catalog.Column{Name: "x", Type: types.Int8})
			d.ForeignKeys = []catalog.ForeignKey{{Name: "f", ColumnIDs: []uint32{2}, RefTableID: users.ID, RefColumnIDs: []uint32{2}}}
			return catalog.CreateTable(ctx, txn, app, d)
		}, sqlerr.CodeDatatypeMismatch},
		{"fk to a missing table", func(ctx context.Context, txn *kv.Txn) error {
			d := newTable("bad", catalog.Column{Name: "x", Type: types.Int8})
			d.ForeignKeys = []catalog.ForeignKey{{Name: "f", ColumnIDs: []uint32{2}, RefTableID: 99999, RefColumnIDs: []uint32{1}}}
			return catalog.CreateTable(ctx, txn, app, d)
		}, sqlerr.CodeUndefinedTable},
		{"GetTable of a sequence", func(ctx context.Context, txn *kv.Txn) error {
			_, err := catalog.GetTable(ctx, txn, app.ID, "public", "orders_id_seq")
			return err
		}, sqlerr.CodeWrongObjectType},
		{"drop a referenced table", func(ctx context.Context, txn *kv.Txn) error {
			return catalog.DropTable(ctx, txn, users, false)
		}, sqlerr.CodeDependentObjectsStillExist},
		{"drop a sequence in use", func(ctx context.Context, txn *kv.Txn) error {
			s, err := catalog.GetSequence(ctx, txn, app.ID, "public", "orders_id_seq")
			if err != nil {
				return err
			}
			return catalog.DropSequence(ctx, txn, s, false)
		}, sqlerr.CodeDependentObjectsStillExist},
		{"drop a non-empty database", func(ctx context.Context, txn *kv.Txn) error {
			_, err := catalog.DropDatabase(ctx, txn, app, false)
			return err
		}, sqlerr.CodeDependentObjectsStillExist},
	} {
		if err := run(t, db, tc.fn); !sqlerr.HasCode(err, tc.code) {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}

	// Reads.
	mustRun(t, db, func(ctx context.Context, txn *kv.Txn) error {
		got, err := catalog.GetTable(ctx, txn, app.ID, "public", "users")
		if err != nil || got == nil || got.ID != users.ID || !got.Columns[1].Type.Identical(users.Columns[1].Type) {
			t.Errorf("GetTable = %+v, %v", got, err)
		}
		if byID, err := catalog.GetTableByID(ctx, txn, orders.ID); err != nil || byID == nil || byID.Name != "orders" {
			t.Errorf("GetTableByID = %+v, %v", byID, err)
		}
		if missing, err := catalog.GetTable(ctx, txn, app.ID, "public", "nope"); missing != nil || err != nil {
			t.Errorf("GetTable(missing) = %+v, %v", missing, err)
		}
		list, err := catalog.ListTables(ctx, txn, app.ID)
		if err != nil || len(list) != 2 || list[0].Name != "orders" || list[1].Name != "users" {
			t.Errorf("ListTables = %v, %v", list, err)
		}
		seqs, err := catalog.ListSequences(ctx, txn, app.ID)
		if err != nil || len(seqs) != 1 {
			t.Errorf("ListSequences = %v, %v", seqs, err)
		}
		tbl, idx, err := catalog.FindIndex(ctx, txn, app.ID, "public", "users_email_key")
		if err != nil || tbl == nil || tbl.ID != users.ID || idx.ID != 2 {
			t.Errorf("FindIndex = %v, %v, %v", tbl, idx, err)
		}
		return nil
	})

	// Update, rename, stale update.
	mustRun(t, db, func(ctx context.Context, txn *kv.Txn) error {
		d, err := catalog.GetTable(ctx, txn, app.ID, "public", "users")
		if err != nil {
			return err
		}
		d.AddColumn(catalog.Column{Name: "age", Type: types.Int2, Nullable: true})
		if err := catalog.UpdateTable(ctx, txn, d); err != nil {
			return err
		}
		return catalog.RenameTable(ctx, txn, d, "people")
	})
	mustRun(t, db, func(ctx context.Context, txn *kv.Txn) error {
		if old, err := catalog.GetTable(ctx, txn, app.ID, "public", "users"); old != nil || err != nil {
			t.Errorf("old name still resolves: %v, %v", old, err)
		}
		d, err := catalog.GetTable(ctx, txn, app.ID, "public", "people")
		if err != nil || d == nil || d.Version != 4 || d.ColumnByName("age") == nil || len(d.ReferencedBy) != 1 { // orders' foreign key bumped it
			t.Fatalf("renamed table = %+v, %v", d, err)
		}
		return nil
	})
	err = run(t, db, func(ctx context.Context, txn *kv.Txn) error {
		return catalog.UpdateTable(ctx, txn, users) // version 1, stored 4
	})
	if !sqlerr.HasCode(err, sqlerr.CodeSerializationFailure) {
		t.Fatalf("stale UpdateTable: %v", err)
	}

	// DDL under READ COMMITTED is refused.
	txn, err := db.Begin(ctx, kv.TxnOptions{Isolation: kvpb.IsolationLevel_READ_COMMITTED})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := catalog.CreateDatabase(ctx, txn, "rc"); !sqlerr.HasCode(err, sqlerr.CodeFeatureNotSupported) {
		t.Fatalf("DDL under READ COMMITTED: %v", err)
	}
	txn.Rollback()

	// DROP TABLE CASCADE drops the foreign key; dropping orders drops its
	// sequence.
	mustRun(t, db, func(ctx context.Context, txn *kv.Txn) error {
		people, err := catalog.GetTable(ctx, txn, app.ID, "public", "people")
		if err != nil {
			return err
		}
		return catalog.DropTable(ctx, txn, people, true)
	})
	mustRun(t, db, func(ctx context.Context, txn *kv.Txn) error {
		o, err := catalog.GetTableByID(ctx, txn, orders.ID)
		if err != nil || o == nil || len(o.ForeignKeys) != 0 || o.Version != 2 {
			t.Fatalf("orders after cascade: %+v, %v", o, err)
		}
		if err := catalog.DropTable(ctx, txn, o, false); err != nil {
			return err
		}
		if s, err := catalog.GetSequence(ctx, txn, app.ID, "public", "orders_id_seq"); s != nil || err != nil {
			t.Errorf("owned sequence survived: %v, %v", s, err)
		}
		return nil
	})

	// DROP DATABASE CASCADE returns the tables to delete.
	var dropped []*catalog.TableDescriptor
	mustRun(t, db, func(ctx context.Context, txn *kv.Txn) error {
		if err := catalog.CreateTable(ctx, txn, app, newTable("t1")); err != nil {
			return err
		}
		return catalog.CreateSequence(ctx, txn, app, catalog.NewSequenceDescriptor("", "s1", 1))
	})
	mustRun(t, db, func(ctx context.Context, txn *kv.Txn) (err error) {
		dropped, err = catalog.DropDatabase(ctx, txn, app, true)
		return err
	})
	if len(dropped) != 1 || dropped[0].Name != "t1" {
		t.Fatalf("dropped %v", dropped)
	}
	mustRun(t, db, func(ctx context.Context, txn *kv.Txn) error {
		if d, err := catalog.GetDatabase(ctx, txn, "app"); d != nil || err != nil {
			t.Errorf("dropped database still there: %v, %v", d, err)
		}
		if ts, err := catalog.ListTables(ctx, txn, app.ID); len(ts) != 0 || err != nil {
			t.Errorf("tables of the dropped database: %v, %v", ts, err)
		}
		return nil
	})
}

func TestSequences(t *testing.T) {
	db := startDB(t)
	ctx := testCtx(t)
	if err := catalog.Bootstrap(ctx, db); err != nil {
		t.Fatal(err)
	}
	var seq, small *catalog.SequenceDescriptor
	mustRun(t, db, func(ctx context.Context, txn *kv.Txn) error {
		d, err := catalog.GetDatabase(ctx, txn, "defaultdb")
		if err != nil {
			return err
		}
		seq = catalog.NewSequenceDescriptor("", "s", 3)
		seq.Start, seq.Cache = 10, 4
		if err := catalog.CreateSequence(ctx, txn, d, seq); err != nil {
			return err
		}
		small = catalog.NewSequenceDescriptor("", "small", -2)
		small.Min, small.Max, small.Start = -5, 0, 0
		return catalog.CreateSequence(ctx, txn, d, small)
	})
	// Two nodes' worth of caches hand out distinct values; each node's in
	// increasing order.
	nodes := []*catalog.Sequences{catalog.NewSequences(db), catalog.NewSequences(db)}
	seen := map[int64]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range nodes {
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 10 {
					v, err := n.NextVal(ctx, seq)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if seen[v] || v < 10 || (v-10)%3 != 0 {
						t.Errorf("value %d (seen %v)", v, seen[v])
					}
					seen[v] = true
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	if len(seen) != 60 {
		t.Fatalf("%d distinct values", len(seen))
	}
	// Values are a prefix of the sequence, up to the blocks still cached.
	var vals []int64
	for v := range seen {
		vals = append(vals, v)
	}
	slices.Sort(vals)
	if vals[len(vals)-1] > 10+3*(60+2*4) {
		t.Fatalf("values up to %d", vals[len(vals)-1])
	}

	// A descending sequence stops at its minimum.
	s := catalog.NewSequences(db)
	var got []int64
	for {
		v, err := s.NextVal(ctx, small)
		if err != nil {
			if !sqlerr.HasCode(err, sqlerr.CodeSequenceGeneratorLimitExceeded) {
				t.Fatal(err)
			}
			break
		}
		got = append(got, v)
	}
	if !slices.Equal(got, []int64{0, -2, -4}) {
		t.Fatalf("descending values %v", got)
	}
}

// TestCache: a Resolver serves the cached descriptor while the catalog
// version is unchanged, sees a schema change committed elsewhere, and never
// caches what a transaction sees of its own uncommitted schema change.
func TestCache(t *testing.T) {
	db := startDB(t)
	ctx := testCtx(t)
	if err := catalog.Bootstrap(ctx, db); err != nil {
		t.Fatal(err)
	}
	var dbDesc *catalog.DatabaseDescriptor
	mustRun(t, db, func(ctx context.Context, txn *kv.Txn) (err error) {
		if dbDesc, err = catalog.GetDatabase(ctx, txn, "defaultdb"); err != nil {
			return err
		}
		return catalog.CreateTable(ctx, txn, dbDesc, newTable("t"))
	})
	cache := catalog.NewCache()
	resolve := func(txn *kv.Txn) *catalog.TableDescriptor {
		t.Helper()
		r, err := cache.Resolver(ctx, txn)
		if err != nil {
			t.Fatal(err)
		}
		d, err := r.GetTable(ctx, dbDesc.ID, "public", "t")
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	var first, second *catalog.TableDescriptor
	mustRun(t, db, func(ctx context.Context, txn *kv.Txn) error { first = resolve(txn); return nil })
	mustRun(t, db, func(ctx context.Context, txn *kv.Txn) error { second = resolve(txn); return nil })
	if first == nil || first != second {
		t.Fatal("the second statement did not get the cached descriptor")
	}

	// A transaction's own uncommitted change is visible to it, and is not
	// cached for others.
	txn, err := db.Begin(ctx, kv.TxnOptions{Isolation: kvpb.IsolationLevel_SERIALIZABLE})
	if err != nil {
		t.Fatal(err)
	}
	changed := first.Clone()
	changed.AddColumn(catalog.Column{Name: "x", Type: types.Int4, Nullable: true})
	if err := catalog.UpdateTable(ctx, txn, changed); err != nil {
		t.Fatal(err)
	}
	if !catalog.WroteCatalog(txn) {
		t.Fatal("WroteCatalog is false after UpdateTable")
	}
	if d := resolve(txn); d.Version != 2 || d.ColumnByName("x") == nil {
		t.Fatalf("own change not visible: %+v", d)
	}
	txn.Rollback()
	mustRun(t, db, func(ctx context.Context, txn *kv.Txn) error {
		if d := resolve(txn); d != first {
			t.Errorf("after a rolled back change: %+v", d)
		}
		return nil
	})

	// A committed change elsewhere: the next statement sees it.
	mustRun(t, db, func(ctx context.Context, txn *kv.Txn) error {
		d, err := catalog.GetTable(ctx, txn, dbDesc.ID, "public", "t")
		if err != nil {
			return err
		}
		d.AddColumn(catalog.Column{Name: "y", Type: types.Int4, Nullable: true})
		return catalog.UpdateTable(ctx, txn, d)
	})
	var third *catalog.TableDescriptor
	mustRun(t, db, func(ctx context.Context, txn *kv.Txn) error { third = resolve(txn); return nil })
	if third.Version != 2 || third.ColumnByName("y") == nil {
		t.Fatalf("stale descriptor after a change: %+v", third)
	}
	mustRun(t, db, func(ctx context.Context, txn *kv.Txn) error {
		r, err := cache.Resolver(ctx, txn)
		if err != nil {
			return err
		}
		if d, err := r.GetTableByID(ctx, third.ID); d != third || err != nil {
			t.Errorf("GetTableByID = %p (%v), want the cached %p", d, err, third)
		}
		if d, err := r.GetTable(ctx, dbDesc.ID, "public", "missing"); d != nil || err != nil {
			t.Errorf("missing table: %v, %v", d, err)
		}
		if d, err := r.GetDatabase(ctx, "defaultdb"); d == nil || d.ID != dbDesc.ID || err != nil {
			t.Errorf("GetDatabase = %v, %v", d, err)
		}
		return nil
	})
}
