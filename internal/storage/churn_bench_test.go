package storage

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// loadBankChurn writes what a range's leaseholder writes during a bank
// workload of n transfers over 1,000 accounts: per transfer a Raft log entry,
// new versions of two random accounts, a transfer record, the applied state
// and an idempotency record, with the log truncated every 500 entries. It
// returns the process CPU the writes took, flushes and compactions included
// (it waits for them to finish).
func loadBankChurn(b *testing.B, eng *Engine, n int) time.Duration {
	b.Helper()
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	rng := rand.New(rand.NewPCG(1, 2))
	entry := make([]byte, 400)
	ts := uint64(1000)
	acct := func(i int) []byte { return fmt.Appendf(nil, "bank/acct/%06d", i) }
	b0 := eng.NewBatch()
	for i := range 1000 {
		if err := MVCCPut(b0, acct(i), ts, []byte("1000")); err != nil {
			b.Fatal(err)
		}
	}
	if err := b0.Commit(NoSync); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		ts += 2
		bt := eng.NewBatch()
		_ = bt.Set(RaftLogKey(2, uint64(i+10)), entry, nil)
		_ = MVCCPut(bt, acct(rng.IntN(1000)), ts, []byte("1234"))
		_ = MVCCPut(bt, acct(rng.IntN(1000)), ts, []byte("1234"))
		_ = MVCCPut(bt, fmt.Appendf(nil, "bank/xfer/%016x", rng.Uint64()), ts, []byte("1,2,3"))
		_ = bt.Set(RangeAppliedStateKey(2), entry[:40], nil)
		_ = bt.Set(fmt.Appendf(nil, "\x02idem/%016x", rng.Uint64()), entry[:60], nil)
		if i%500 == 0 && i > 1000 {
			_ = bt.DeleteRange(RaftLogKey(2, 0), RaftLogKey(2, uint64(i-100)), nil)
		}
		if err := bt.Commit(NoSync); err != nil {
			b.Fatal(err)
		}
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := eng.DB().Metrics(); m.Flush.NumInProgress == 0 && m.Compact.NumInProgress == 0 {
			break
		}
	}
	return cpu() - start
}

// BenchmarkReadsUnderChurn measures point reads and full scans of 1,000 hot
// keys after a bank workload's writes, for several memtable sizes (the
// reason for DefaultMemTableBytes). Each size reports the CPU its writes
// took per transfer (load-us/xfer): smaller memtables flush and compact
// more.
//
//	go test ./internal/storage -run '^$' -bench ReadsUnderChurn
func BenchmarkReadsUnderChurn(b *testing.B) {
	const transfers = 150000
	for _, mb := range []int64{4, 8, 16, 64} {
		b.Run(fmt.Sprintf("memtable=%dMiB", mb), func(b *testing.B) {
			eng, err := Open(Config{Dir: b.TempDir(), CacheBytes: 128 << 20, MemTableBytes: mb << 20})
			if err != nil {
				b.Fatal(err)
			}
			defer eng.Close()
			load := loadBankChurn(b, eng, transfers)
			rng := rand.New(rand.NewPCG(3, 4))
			b.Run("get", func(b *testing.B) {
				b.ReportMetric(float64(load.Microseconds())/transfers, "load-us/xfer")
				for range b.N {
					if _, err := MVCCGet(eng.Reader(), fmt.Appendf(nil, "bank/acct/%06d", rng.IntN(1000)), MaxTimestamp-1); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("scan", func(b *testing.B) {
				for range b.N {
					kvs, _, err := MVCCScan(eng.Reader(), []byte("bank/acct/"), []byte("bank/acct0"), MaxTimestamp-1, ScanOptions{})
					if err != nil || len(kvs) != 1000 {
						b.Fatal(len(kvs), err)
					}
				}
			})
		})
	}
}

// BenchmarkScanFewVersions scans 20,000 keys of one to three versions each
// (half of them flushed): the common case, where stepping over versions
// with Next beats seeking.
//
//	go test ./internal/storage -run '^$' -bench ScanFewVersions
func BenchmarkScanFewVersions(b *testing.B) {
	for _, versions := range []int{1, 3} {
		b.Run(fmt.Sprintf("versions=%d", versions), func(b *testing.B) {
			eng, err := Open(Config{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer eng.Close()
			for v := range versions {
				bt := eng.NewBatch()
				for i := range 20000 {
					if err := MVCCPut(bt, fmt.Appendf(nil, "t/%08d", i), uint64(10+v), []byte("a value of about thirty bytes..")); err != nil {
						b.Fatal(err)
					}
				}
				if err := bt.Commit(NoSync); err != nil {
					b.Fatal(err)
				}
				if v == 0 {
					if err := eng.DB().Flush(); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ResetTimer()
			for range b.N {
				kvs, _, err := MVCCScan(eng.Reader(), []byte("t/"), []byte("t0"), MaxTimestamp-1, ScanOptions{})
				if err != nil || len(kvs) != 20000 {
					b.Fatal(len(kvs), err)
				}
			}
		})
	}
}

// BenchmarkPointReads reads a transfer's three keys (its record, which does
// not exist, and two accounts) after a bank workload's writes, with an
// iterator per key and through one PointReader, from the engine and from an
// indexed batch (a one-phase commit's conflict checks).
//
//	go test ./internal/storage -run '^$' -bench PointReads
func BenchmarkPointReads(b *testing.B) {
	eng, err := Open(Config{Dir: b.TempDir(), CacheBytes: 128 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	loadBankChurn(b, eng, 30000)
	rng := rand.New(rand.NewPCG(3, 4))
	keys := make([][]byte, 3000)
	for i := range 1000 {
		keys[3*i] = fmt.Appendf(nil, "bank/xfer/%016x", rng.Uint64())
		keys[3*i+1] = fmt.Appendf(nil, "bank/acct/%06d", rng.IntN(1000))
		keys[3*i+2] = fmt.Appendf(nil, "bank/acct/%06d", rng.IntN(1000))
	}
	for _, batch := range []bool{false, true} {
		for _, shared := range []bool{false, true} {
			b.Run(fmt.Sprintf("batch=%v/point-reader=%v", batch, shared), func(b *testing.B) {
				for n := range b.N {
					r := eng.Reader()
					var bt *Batch
					if batch {
						bt = eng.NewIndexedBatch()
						r = bt
					}
					var pr *PointReader
					if shared {
						pr = NewPointReader(r)
						r = pr
					}
					for j := range 3 {
						if _, err := MVCCGet(r, keys[(3*n+j)%len(keys)], MaxTimestamp-1); err != nil {
							b.Fatal(err)
						}
					}
					if pr != nil {
						_ = pr.Close()
					}
					if bt != nil {
						_ = bt.Close()
					}
				}
			})
		}
	}
}
