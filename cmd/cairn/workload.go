package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairndb/cairn/internal/keys"
)

func newWorkloadCmd() *cobra.Command {
	var cpuProfile string
	cmd := &cobra.Command{
		Use:   "workload",
		Short: "load generators",
		// --cpu-profile: where the load generator's own CPU goes (the nodes
		// serve theirs on /debug/pprof/profile).
		PersistentPreRunE: func(*cobra.Command, []string) error {
			if cpuProfile == "" {
				return nil
			}
			f, err := os.Create(cpuProfile)
			if err != nil {
				return fmt.Errorf("--cpu-profile: %w", err)
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				f.Close()
				return fmt.Errorf("--cpu-profile: %w", err)
			}
			// After the command, whether or not it failed.
			cobra.OnFinalize(func() {
				pprof.StopCPUProfile()
				if err := f.Close(); err != nil {
					fmt.Fprintf(os.Stderr, "--cpu-profile: %v\n", err)
				}
			})
			return nil
		},
	}
	cmd.PersistentFlags().StringVar(&cpuProfile, "cpu-profile", "", "write a CPU profile of the workload process to this file")
	cmd.AddCommand(newWorkloadKVCmd(), newWorkloadBankCmd())
	return cmd
}

// kvWorkloadConfig is what `cairn workload kv` runs.
type kvWorkloadConfig struct {
	concurrency int
	duration    time.Duration
	readPercent int
	keySize     int
	valueSize   int
	keys        int64
	maxOps      int64
	connections int
}

const (
	maxWorkloadConcurrency = 10000
	maxWorkloadDuration    = 24 * time.Hour
	maxWorkloadConnections = 1024
	// workloadRequestTimeout bounds every request of the workload.
	workloadRequestTimeout = 10 * time.Second
	// maxPreloadKeys bounds the preload that makes reads hit.
	maxPreloadKeys = 10000
)

func defaultKVWorkloadConfig() kvWorkloadConfig {
	return kvWorkloadConfig{
		concurrency: 64,
		duration:    20 * time.Second,
		keySize:     16,
		valueSize:   256,
		keys:        100000,
		connections: 4,
	}
}

// validate rejects unusable settings with a message naming the flag.
func (c kvWorkloadConfig) validate() error {
	switch {
	case c.concurrency < 1 || c.concurrency > maxWorkloadConcurrency:
		return fmt.Errorf("--concurrency %d: must be between 1 and %d", c.concurrency, maxWorkloadConcurrency)
	case c.duration <= 0 || c.duration > maxWorkloadDuration:
		return fmt.Errorf("--duration %v: must be greater than 0 and at most %v", c.duration, maxWorkloadDuration)
	case c.readPercent < 0 || c.readPercent > 100:
		return fmt.Errorf("--read-percent %d: must be between 0 and 100", c.readPercent)
	case c.keySize < 1 || c.keySize > keys.MaxUserKeySize:
		return fmt.Errorf("--key-size %d: must be between 1 and %d bytes", c.keySize, keys.MaxUserKeySize)
	case c.valueSize < 1 || c.valueSize > keys.MaxValueSize:
		return fmt.Errorf("--value-size %d: must be between 1 and %d bytes (1 MiB)", c.valueSize, keys.MaxValueSize)
	case c.keys < 1:
		return fmt.Errorf("--keys %d: must be at least 1", c.keys)
	case c.maxOps < 0:
		return fmt.Errorf("--max-ops %d: must be 0 (unbounded) or positive", c.maxOps)
	case c.connections < 1 || c.connections > maxWorkloadConnections:
		return fmt.Errorf("--connections %d: must be between 1 and %d", c.connections, maxWorkloadConnections)
	}
	// Keys are the zero-padded decimal key number: the widest must fit, or
	// distinct key numbers would collide and shrink the key space.
	if digits := len(strconv.FormatInt(c.keys-1, 10)); c.keySize < digits {
		return fmt.Errorf("--key-size %d: too small for --keys %d, which needs keys of at least %d bytes", c.keySize, c.keys, digits)
	}
	return nil
}

func newWorkloadKVCmd() *cobra.Command {
	var cf clientFlags
	cfg := defaultKVWorkloadConfig()
	cmd := &cobra.Command{
		Use:   "kv",
		Short: "run a key-value load of single-key gets and puts against a node",
		Long: `Runs --concurrency workers, each looping over single-key requests: a Get
(with probability --read-percent) or a Put of a --value-size value, on a key
drawn uniformly from --keys zero-padded decimal keys of --key-size bytes.
With reads, up to 10000 keys spread over the key space are written first and
reads draw from them, so that they hit. Prints a progress line every second
and a summary at the end; exits non-zero if more than 1% of the operations
failed or the preload had any error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.validate(); err != nil {
				return err
			}
			n := min(cfg.connections, cfg.concurrency)
			clients := make([]kvOps, 0, n)
			for range n {
				c, err := cf.dial()
				if err != nil {
					return err
				}
				defer c.Close()
				clients = append(clients, c)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runKVWorkload(ctx, cfg, clients, cmd.OutOrStdout())
		},
	}
	cf.register(cmd)
	f := cmd.Flags()
	f.IntVar(&cfg.concurrency, "concurrency", cfg.concurrency, "number of concurrent workers, each with one request in flight")
	f.DurationVar(&cfg.duration, "duration", cfg.duration, "how long to run (the preload does not count)")
	f.IntVar(&cfg.readPercent, "read-percent", cfg.readPercent, "percentage of operations that are gets (0-100); the rest are puts")
	f.IntVar(&cfg.keySize, "key-size", cfg.keySize, "key size in bytes")
	f.IntVar(&cfg.valueSize, "value-size", cfg.valueSize, "value size in bytes of puts")
	f.Int64Var(&cfg.keys, "keys", cfg.keys, "size of the key space")
	f.Int64Var(&cfg.maxOps, "max-ops", 0, "stop after this many operations in total (0: only --duration bounds the run)")
	f.IntVar(&cfg.connections, "connections", cfg.connections, "number of gRPC connections, shared round-robin by the workers")
	return cmd
}
