package storage

import (
	"testing"
)

// TestPointReaderSeesBatchWrites checks that reads through a PointReader
// over an indexed batch see what the batch wrote before each read, though
// they share one iterator: a version, a lock, a tombstone.
func TestPointReaderSeesBatchWrites(t *testing.T) {
	eng := openWithAB(t)
	b := eng.NewIndexedBatch()
	defer b.Close()
	pr := NewPointReader(b)
	defer pr.Close()

	get := func(key string) MVCCGetResult {
		t.Helper()
		res, err := MVCCGet(pr, []byte(key), MaxTimestamp)
		if err != nil {
			t.Fatalf("MVCCGet(%q): %v", key, err)
		}
		return res
	}
	if got := get("a"); string(got.Value) != "a10" || got.LatestTimestamp != 10 {
		t.Fatalf("a = %+v, want a10", got)
	}
	mustPut(t, b, "a", 20, "a20")
	if got := get("a"); string(got.Value) != "a20" || got.LatestTimestamp != 20 {
		t.Fatalf("a after the batch's put = %+v, want a20", got)
	}
	if err := PutLock(b, []byte("b"), &Lock{Primary: []byte("a"), StartTS: 15, Op: LockPut, Value: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if got := get("b"); got.Lock == nil || got.Lock.StartTS != 15 || string(got.Value) != "b10" {
		t.Fatalf("b after the batch's lock = %+v (lock %+v), want b10 locked at 15", got, got.Lock)
	}
	mustDelete(t, b, "a", 30)
	if got := get("a"); got.Found || got.Timestamp != 30 {
		t.Fatalf("a after the batch's delete = %+v, want a tombstone at 30", got)
	}
	if got := get("c"); got.Found || got.LatestTimestamp != 0 || got.Lock != nil {
		t.Fatalf("c = %+v, want nothing", got)
	}
	// Other reads go to the batch itself.
	kvs, _, err := MVCCScan(pr, []byte("a"), []byte("z"), 12, ScanOptions{})
	if err != nil || kvsString(kvs) != kvsString([]KeyValue{{Key: []byte("a"), Value: []byte("a10"), Timestamp: 10}, {Key: []byte("b"), Value: []byte("b10"), Timestamp: 10}}) {
		t.Fatalf("scan through the PointReader = %s, %v", kvsString(kvs), err)
	}
}

// TestPointReaderIsAConsistentView checks that reads through a PointReader
// over the engine see the engine as of the first read, whatever is written
// meanwhile (Replica.read relies on it for a batch of Gets).
func TestPointReaderIsAConsistentView(t *testing.T) {
	eng := openWithAB(t)
	pr := NewPointReader(eng.Reader())
	defer pr.Close()
	if got, err := MVCCGet(pr, []byte("a"), MaxTimestamp); err != nil || string(got.Value) != "a10" {
		t.Fatalf("a = %+v, %v", got, err)
	}
	commit(t, eng, func(b *Batch) error {
		mustPut(t, b, "b", 20, "b20")
		return nil
	})
	if err := eng.DB().Flush(); err != nil {
		t.Fatal(err)
	}
	if got, err := MVCCGet(pr, []byte("b"), MaxTimestamp); err != nil || string(got.Value) != "b10" || got.LatestTimestamp != 10 {
		t.Fatalf("b after a later write = %+v, %v; want b10 (the state of the first read)", got, err)
	}
	if err := pr.Close(); err != nil {
		t.Fatal(err)
	}
	// Closed, it starts over with a new view.
	if got, err := MVCCGet(pr, []byte("b"), MaxTimestamp); err != nil || string(got.Value) != "b20" {
		t.Fatalf("b after Close = %+v, %v; want b20", got, err)
	}
	if err := pr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pr.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// openWithAB opens an in-memory engine holding a=a10 and b=b10 at 10.
func openWithAB(t *testing.T) *Engine {
	t.Helper()
	eng := openMem(t)
	commit(t, eng, func(b *Batch) error {
		mustPut(t, b, "a", 10, "a10")
		mustPut(t, b, "b", 10, "b10")
		return nil
	})
	return eng
}
