package storage

import (
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// TestViewIsPointInTime: reads through a View see the engine as it was when
// the View was made, whatever is written, flushed or deleted meanwhile, and
// iterators taken from it outlive it.
func TestViewIsPointInTime(t *testing.T) {
	eng := openMem(t)
	commit(t, eng, func(b *Batch) error {
		mustPut(t, b, "a", 10, "a10")
		mustPut(t, b, "b", 10, "b10")
		return b.Set([]byte("\x02raw"), []byte("r1"), nil)
	})
	v, err := eng.NewView()
	if err != nil {
		t.Fatal(err)
	}
	commit(t, eng, func(b *Batch) error {
		mustPut(t, b, "a", 20, "a20")
		mustPut(t, b, "c", 20, "c20")
		if err := b.Set([]byte("\x02raw"), []byte("r2"), nil); err != nil {
			return err
		}
		return b.Set([]byte("\x02new"), []byte("n"), nil)
	})
	if err := eng.DB().Flush(); err != nil {
		t.Fatal(err)
	}

	res, err := MVCCGet(v, []byte("a"), MaxTimestamp)
	if err != nil || string(res.Value) != "a10" || res.LatestTimestamp != 10 {
		t.Fatalf("MVCCGet(a) through the view = %+v, %v; want a10, latest 10", res, err)
	}
	kvs, _, err := MVCCScan(v, nil, []byte("z"), MaxTimestamp, ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkKVs(t, kvs, []kvt{{"a", "a10", 10}, {"b", "b10", 10}})
	val, closer, err := v.Get([]byte("\x02raw"))
	if err != nil || string(val) != "r1" {
		t.Fatalf("Get(raw) = %q, %v; want r1", val, err)
	}
	_ = closer.Close()
	if _, _, err := v.Get([]byte("\x02new")); !errors.Is(err, pebble.ErrNotFound) {
		t.Fatalf("Get of a key written after the view: %v, want ErrNotFound", err)
	}
	// Get of a key that is a prefix of another: only the exact key.
	if _, _, err := v.Get([]byte("\x02ra")); !errors.Is(err, pebble.ErrNotFound) {
		t.Fatalf("Get(ra): %v, want ErrNotFound", err)
	}

	it, err := v.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	// Closing again does nothing (Pebble recycles closed iterators: a second
	// Close must not reach whichever iterator reused the view's), and the
	// closed view hands out no iterator.
	other, err := eng.Reader().NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if !other.First() {
		t.Fatalf("another iterator after the view's second Close: %v", other.Error())
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := v.NewIter(nil); err == nil {
		t.Fatal("a closed view handed out an iterator")
	}
	n := 0
	for valid := it.First(); valid; valid = it.Next() {
		n++
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if n != 3 { // a@10, b@10, raw
		t.Fatalf("iterator of the closed view saw %d keys, want 3", n)
	}
	// The engine still sees the newest state.
	if res, _ := MVCCGet(eng.Reader(), []byte("a"), MaxTimestamp); string(res.Value) != "a20" {
		t.Fatalf("engine read a = %q, want a20", res.Value)
	}
}
