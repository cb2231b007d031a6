package raftstore

import (
	"syscall"
	"testing"
	"time"

	"github.com/cairndb/cairn/internal/storage"
)

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIdleRanges measures the CPU a store spends on idle ranges
// (ticks, lease renewals) with production timing, as a fraction of one core:
//
//	go test -run - -bench IdleRanges -benchtime 1x ./internal/raftstore/
func BenchmarkIdleRanges(b *testing.B) {
	const groups = 10000
	eng, err := storage.Open(storage.Config{InMemory: true})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	batch := eng.NewBatch()
	for id := uint64(1); id <= groups; id++ {
		if err := WriteInitialState(batch, id); err != nil {
			b.Fatal(err)
		}
	}
	if err := batch.Commit(storage.Sync); err != nil {
		b.Fatal(err)
	}
	batch.Close()
	s, err := NewStore(DefaultConfig(eng))
	if err != nil {
		b.Fatal(err)
	}
	s.Start()
	defer s.Stop()
	gs := make([]*Group, 0, groups)
	for id := uint64(1); id <= groups; id++ {
		g, err := s.AddGroup(id, 1, singleVoter, &fakeSM{rangeID: id})
		if err != nil {
			b.Fatal(err)
		}
		if err := g.Campaign(); err != nil {
			b.Fatal(err)
		}
		gs = append(gs, g)
	}
	for _, g := range gs {
		for deadline := time.Now().Add(60 * time.Second); !g.IsLeader(); {
			if time.Now().After(deadline) {
				b.Fatal("groups did not elect themselves")
			}
			time.Sleep(time.Millisecond)
		}
	}
	time.Sleep(time.Second) // settle: first lease rounds, applies
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		const window = 5 * time.Second
		before := cpuTime()
		time.Sleep(window)
		used := cpuTime() - before
		b.ReportMetric(float64(used)/float64(window), "cores")
	}
}
