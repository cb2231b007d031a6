package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/cairndb/cairn/internal/gcfloor"
	"github.com/cairndb/cairn/internal/server"
)

func newStartCmd() *cobra.Command {
	cfg := server.DefaultConfig()
	var logLevel string
	var gcHeapFloor int64
	cmd := &cobra.Command{
		Use:   "start",
		Short: "start a node (a new single-node cluster unless --join is given)",
		Long: `Start a node. Without --join, the first start bootstraps a new cluster.
With --join, the node joins the cluster through any live member; pass the
same --join on later starts so the node finds the cluster again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level %q: want debug, info, warn or error", logLevel)
			}
			slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
			if gcHeapFloor < 0 {
				return fmt.Errorf("--gc-heap-floor-bytes %d: must be 0 (off) or positive", gcHeapFloor)
			}
			stopGC, _ := gcfloor.Start(gcHeapFloor)
			defer stopGC()
			s, err := server.Start(cfg)
			if err != nil {
				return err
			}
			sigs := make(chan os.Signal, 1)
			signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
			defer signal.Stop(sigs)
			select {
			case sig := <-sigs:
				slog.Info("shutting down", "signal", sig.String())
				s.Stop()
				return nil
			case err := <-s.Done():
				s.Stop()
				return fmt.Errorf("node stopped: %w", err)
			}
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory for all data of this node")
	f.StringVar(&cfg.RPCAddr, "rpc-addr", cfg.RPCAddr, "address for gRPC: KV API and node-to-node RPC")
	f.StringVar(&cfg.HTTPAddr, "http-addr", cfg.HTTPAddr, "address for HTTP: health, metrics, pprof, JSON KV API")
	f.StringVar(&cfg.SQLAddr, "sql-addr", cfg.SQLAddr, "address for the PostgreSQL wire protocol")
	f.StringSliceVar(&cfg.Join, "join", nil, "RPC addresses (HOST:PORT,...) of cluster members to join; omit to start a new cluster")
	f.BoolVar(&cfg.Insecure, "insecure", false, "serve plaintext without authentication (local testing only)")
	f.StringVar(&cfg.CertsDir, "certs-dir", "", "directory with ca.crt, node.crt and node.key (see `cairn cert`)")
	f.Int64Var(&cfg.CacheBytes, "cache-bytes", cfg.CacheBytes, "storage block cache size in bytes")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.Int64Var(&gcHeapFloor, "gc-heap-floor-bytes", 64<<20, "no Go garbage collection before the heap reaches this size (0: plain GOGC; ignored when GOGC is set)")
	return cmd
}
