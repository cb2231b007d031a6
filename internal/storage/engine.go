package storage

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Reader and Writer are Pebble's: the engine, batches and snapshots satisfy them.
type (
	Reader = pebble.Reader
	Writer = pebble.Writer
	Batch  = pebble.Batch
)

// Sync and NoSync are the write options for batch commits.
var (
	Sync   = pebble.Sync
	NoSync = pebble.NoSync
)

// ErrNotFound is returned by Get for a missing key.
var ErrNotFound = pebble.ErrNotFound

// Config configures an Engine.
type Config struct {
	// Dir is the data directory. Ignored when InMemory is set.
	Dir string
	// InMemory uses vfs.MemFS: for tests; nothing survives Close.
	InMemory bool
	// FS overrides the filesystem (fault injection, encryption later).
	FS vfs.FS
	// CacheBytes is the block cache size.
	CacheBytes int64
	// MemTableBytes is the size of a memtable (0: DefaultMemTableBytes, or
	// inMemoryMemTableBytes for an in-memory engine).
	MemTableBytes int64
}

// DefaultMemTableBytes is the default memtable size. It is small on
// purpose: every read seeks each memtable's skiplist, and a seek in a large
// skiplist is dominated by cache and TLB misses. BenchmarkReadsUnderChurn
// (a leaseholder's writes during 150,000 bank transfers, then reads)
// measured a point read at 18.5 us with 64 MiB memtables and 4-5 us with
// 4-16 MiB, a scan of the 1,000 hot keys at 12.5 ms and 3.2-3.6 ms; the
// extra flushes and compactions did not measurably raise the writes' CPU
// (18-23 us per transfer for every size). Pebble also ramps a memtable's
// size up from 256 KiB and flushes only once half of MemTableBytes is
// queued: with 64 MiB, the first 32 MiB a node writes sit in 7 memtables,
// and every seek visits all of them.
const DefaultMemTableBytes = 8 << 20

// inMemoryMemTableBytes is the default memtable size of in-memory engines
// (tests): flushing one only moves data from memory to memory, and in race
// builds Pebble records a stack trace for every reference to an sstable,
// which made reads of flushed data dominate race-enabled tests (a COPY of
// 20,000 rows: 38 s with 64 MiB memtables, over 60 s with 8 MiB).
const inMemoryMemTableBytes = 64 << 20

// DefaultConfig returns the defaults for a data directory.
func DefaultConfig(dir string) Config {
	return Config{Dir: dir, CacheBytes: 128 << 20}
}

// Validate rejects unusable configurations.
func (c Config) Validate() error {
	if !c.InMemory && c.Dir == "" {
		return errors.New("storage: a data directory is required unless in-memory")
	}
	if c.CacheBytes < 0 {
		return errors.New("storage: cache size must not be negative")
	}
	if c.MemTableBytes != 0 && (c.MemTableBytes < 1<<20 || c.MemTableBytes > 1<<30) {
		return errors.New("storage: memtable size must be between 1 MiB and 1 GiB (or 0 for the default)")
	}
	return nil
}

// Engine is the node's single Pebble database.
type Engine struct {
	db    *pebble.DB
	cache *pebble.Cache
	// fsCloser stops the disk-health checker we wrapped the OS filesystem
	// in (Pebble only closes the wrappers it creates itself).
	fsCloser io.Closer
}

// Open opens (creating if needed) the engine.
func Open(cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cache := pebble.NewCache(max(cfg.CacheBytes, 8<<20))
	memTable := cfg.MemTableBytes
	switch {
	case memTable > 0:
	case cfg.InMemory:
		memTable = inMemoryMemTableBytes
	default:
		memTable = DefaultMemTableBytes
	}
	opts := &pebble.Options{
		Cache:        cache,
		FS:           cfg.FS,
		MemTableSize: uint64(memTable),
		// Writes stop once this many memtables wait for their flush: 256
		// MiB whatever their size. A batch larger than half a memtable (a
		// snapshot applies a whole range in one) is queued as a memtable
		// of its own size, so the budget must stay well above a range.
		MemTableStopWritesThreshold: max(4, int((256<<20)/memTable)),
		L0CompactionThreshold:       2,
		L0StopWritesThreshold:       1000,
		CompactionConcurrencyRange:  func() (int, int) { return 1, 2 },
		Logger:                      quietLogger{},
	}
	var fsCloser io.Closer
	if opts.FS == nil && !cfg.InMemory {
		// Wrap the OS filesystem here rather than letting Pebble do it, so a
		// failed Open can stop the checker's goroutine.
		opts.FS, fsCloser = vfs.WithDiskHealthChecks(vfs.Default, 5*time.Second, nil, func(info vfs.DiskSlowInfo) {
			slog.Warn("storage: slow disk operation", "op", info.OpType.String(), "path", info.Path, "duration", info.Duration)
		})
	}
	dir := cfg.Dir
	if cfg.InMemory {
		if opts.FS == nil {
			opts.FS = vfs.NewMem()
		}
		if dir == "" {
			dir = "mem"
		}
	}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		cache.Unref()
		if fsCloser != nil {
			fsCloser.Close()
		}
		return nil, fmt.Errorf("storage: open %s: %w", dir, err)
	}
	return &Engine{db: db, cache: cache, fsCloser: fsCloser}, nil
}

// Close closes the engine. All iterators must be closed first.
func (e *Engine) Close() error {
	err := e.db.Close()
	e.cache.Unref()
	if e.fsCloser != nil {
		e.fsCloser.Close()
	}
	return err
}

// DB exposes the Pebble database to this module's lower layers (metrics).
func (e *Engine) DB() *pebble.DB { return e.db }

// NewBatch returns a write-only batch.
func (e *Engine) NewBatch() *Batch { return e.db.NewBatch() }

// NewIndexedBatch returns a batch that can also be read from (reads see the
// batch's own writes over the engine).
func (e *Engine) NewIndexedBatch() *Batch { return e.db.NewIndexedBatch() }

// NewSnapshot returns a consistent point-in-time view; the caller closes it.
func (e *Engine) NewSnapshot() *pebble.Snapshot { return e.db.NewSnapshot() }

// Reader returns the engine as a Reader of its latest state.
func (e *Engine) Reader() Reader { return e.db }

// Get returns a copy of the value stored under an engine key, or ErrNotFound.
func Get(r Reader, key []byte) ([]byte, error) {
	v, closer, err := r.Get(key)
	if err != nil {
		return nil, err
	}
	out := append([]byte(nil), v...)
	return out, closer.Close()
}

// DiskUsage estimates the bytes used by the engine keys in [start, end).
func (e *Engine) DiskUsage(start, end []byte) (uint64, error) {
	return e.db.EstimateDiskUsage(start, end)
}

// quietLogger drops Pebble's informational logs; errors still reach callers.
type quietLogger struct{}

func (quietLogger) Infof(string, ...interface{})  {}
func (quietLogger) Errorf(string, ...interface{}) {}
func (quietLogger) Fatalf(format string, args ...interface{}) {
	panic(fmt.Sprintf("pebble: "+format, args...))
}

// DiskSpaceUsage returns the bytes the engine uses on disk.
func (e *Engine) DiskSpaceUsage() uint64 { return e.db.Metrics().DiskSpaceUsage() }
