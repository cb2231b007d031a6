package storage

import (
	"go.uber.org/goleak"

	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"zero config needs a dir", Config{}, true},
		{"in memory", Config{InMemory: true}, false},
		{"dir", Config{Dir: "/tmp/x"}, false},
		{"defaults", DefaultConfig("/tmp/x"), false},
		{"default with empty dir", DefaultConfig(""), true},
		{"in memory ignores dir", Config{InMemory: true, Dir: "/nonexistent"}, false},
		{"negative cache", Config{Dir: "/tmp/x", CacheBytes: -1}, true},
		{"negative cache in memory", Config{InMemory: true, CacheBytes: -1}, true},
		{"zero cache", Config{InMemory: true, CacheBytes: 0}, false},
		{"tiny memtable", Config{InMemory: true, MemTableBytes: 1}, true},
		{"negative memtable", Config{InMemory: true, MemTableBytes: -1}, true},
		{"huge memtable", Config{InMemory: true, MemTableBytes: 2 << 30}, true},
		{"1 MiB memtable", Config{InMemory: true, MemTableBytes: 1 << 20}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if (err != nil) != tc.wantErr {
				t.Fatalf("Validate() = %v, want error: %v", err, tc.wantErr)
			}
			if tc.wantErr {
				if eng, err := Open(tc.cfg); err == nil {
					_ = eng.Close()
					t.Fatal("Open accepted a config that Validate rejects")
				}
			}
		})
	}
}

func TestDefaultConfig(t *testing.T) {
	cfg := DefaultConfig("d")
	if cfg.Dir != "d" || cfg.InMemory || cfg.CacheBytes <= 0 {
		t.Fatalf("DefaultConfig(d) = %+v", cfg)
	}
}

// TestEngineSurvivesReopen writes MVCC data and local state to a real
// directory, closes the engine and checks everything is there on reopen.
func TestEngineSurvivesReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	cfg := DefaultConfig(dir)
	cfg.CacheBytes = 1 << 20
	eng, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := eng.NewBatch()
	mustPut(t, b, "synced", 1, "s1")
	mustPut(t, b, "synced", 2, "s2")
	mustDelete(t, b, "gone", 3)
	if err := b.Set(RaftLogKey(4, 11), []byte("entry"), nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(Sync); err != nil {
		t.Fatal(err)
	}
	_ = b.Close()
	// A NoSync write is in the WAL buffer; a clean Close still persists it.
	b = eng.NewBatch()
	mustPut(t, b, "nosync", 5, "n5")
	if err := b.Commit(NoSync); err != nil {
		t.Fatal(err)
	}
	_ = b.Close()
	// Some data in an sstable as well as in the WAL.
	if err := eng.DB().Flush(); err != nil {
		t.Fatal(err)
	}
	b = eng.NewBatch()
	mustPut(t, b, "after-flush", 6, "f6")
	if err := b.Commit(Sync); err != nil {
		t.Fatal(err)
	}
	_ = b.Close()
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("data dir not created: %v", err)
	}

	for round := 0; round < 2; round++ {
		eng, err = Open(cfg)
		if err != nil {
			t.Fatalf("reopen %d: %v", round, err)
		}
		r := eng.Reader()
		for _, c := range []struct {
			key   string
			ts    uint64
			value string
		}{{"synced", 2, "s2"}, {"nosync", 5, "n5"}, {"after-flush", 6, "f6"}} {
			got, err := MVCCGet(r, []byte(c.key), MaxTimestamp)
			if err != nil || !got.Found || string(got.Value) != c.value || got.Timestamp != c.ts {
				t.Fatalf("reopen %d: MVCCGet(%q) = %+v, %v; want %q@%d", round, c.key, got, err, c.value, c.ts)
			}
		}
		if got, err := MVCCGet(r, []byte("synced"), 1); err != nil || string(got.Value) != "s1" {
			t.Fatalf("reopen %d: old version lost: %+v, %v", round, got, err)
		}
		if got, err := MVCCGet(r, []byte("gone"), MaxTimestamp); err != nil || got.Found || got.Timestamp != 3 {
			t.Fatalf("reopen %d: tombstone lost: %+v, %v", round, got, err)
		}
		if v, err := Get(r, RaftLogKey(4, 11)); err != nil || string(v) != "entry" {
			t.Fatalf("reopen %d: local key = %q, %v", round, v, err)
		}
		if err := eng.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEngineSharedMemFS: a caller-provided FS outlives the engine, so an
// in-memory engine can be "restarted" by reopening on the same FS.
func TestEngineSharedMemFS(t *testing.T) {
	fs := vfs.NewMem()
	eng, err := Open(Config{InMemory: true, FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	commit(t, eng, func(b *Batch) error {
		mustPut(t, b, "k", 1, "v")
		return nil
	})
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	eng, err = Open(Config{InMemory: true, FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if got, err := MVCCGet(eng.Reader(), []byte("k"), MaxTimestamp); err != nil || string(got.Value) != "v" {
		t.Fatalf("after reopen on the same MemFS: %+v, %v", got, err)
	}
}

// TestInMemoryEnginesAreIndependent: without an FS each in-memory engine
// gets its own, and nothing survives Close.
func TestInMemoryEnginesAreIndependent(t *testing.T) {
	a, b := openMem(t), openMem(t)
	commit(t, a, func(w *Batch) error {
		mustPut(t, w, "k", 1, "a")
		return nil
	})
	if got, err := MVCCGet(b.Reader(), []byte("k"), MaxTimestamp); err != nil || got.Found {
		t.Fatalf("engine b sees engine a's write: %+v, %v", got, err)
	}
}

func TestGet(t *testing.T) {
	eng := openMem(t)
	if _, err := Get(eng.Reader(), []byte("missing")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(missing) error = %v, want ErrNotFound", err)
	}
	commit(t, eng, func(b *Batch) error { return b.Set([]byte("raw"), []byte("value"), nil) })
	v, err := Get(eng.Reader(), []byte("raw"))
	if err != nil || string(v) != "value" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	v[0] = 'X' // the result is a copy
	if v2, _ := Get(eng.Reader(), []byte("raw")); string(v2) != "value" {
		t.Fatalf("mutating Get's result changed the engine: %q", v2)
	}
}

func TestOpenFailsOnUnusableDir(t *testing.T) {
	// A regular file where the directory should be. The FS is given
	// explicitly: see TestFailedOpenLeaksNoGoroutine for the default FS.
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig(path)
	cfg.FS = vfs.Default
	eng, err := Open(cfg)
	if err == nil {
		_ = eng.Close()
		t.Fatal("Open succeeded on a regular file")
	}
}

// TestFailedOpenLeaksNoGoroutine: a failed Open must release what it
// started. With Config.FS unset Pebble wraps the OS filesystem in its
// disk-health checker, whose ticker goroutine is only stopped by DB.Close;
// when pebble.Open fails there is no DB, and Open does not close the wrapper.
func TestFailedOpenLeaksNoGoroutine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if eng, err := Open(DefaultConfig(path)); err == nil {
			_ = eng.Close()
			t.Fatal("Open succeeded on a regular file")
		}
	}
	goleak.VerifyNone(t)
}
