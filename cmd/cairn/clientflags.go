package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairndb/cairn/internal/security"
	"github.com/cairndb/cairn/pkg/client"
)

// clientFlags are shared by every command that talks to a node.
type clientFlags struct {
	addr     string
	insecure bool
	certsDir string
	user     string
	routing  bool
}

func (f *clientFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.addr, "addr", "127.0.0.1:7400", "RPC address of any node (HOST:PORT)")
	cmd.Flags().BoolVar(&f.insecure, "insecure", false, "connect in plaintext to a node started with --insecure")
	cmd.Flags().StringVar(&f.certsDir, "certs-dir", "", "directory with ca.crt and client.<user>.crt/key")
	cmd.Flags().StringVar(&f.user, "user", "root", "client certificate user (with --certs-dir)")
	cmd.Flags().BoolVar(&f.routing, "routing", true, "send each request straight to the node that holds its range's lease once known (false: always through --addr)")
}

func (f *clientFlags) dial() (*client.Client, error) {
	switch {
	case f.insecure && f.certsDir != "":
		return nil, fmt.Errorf("--insecure and --certs-dir are mutually exclusive")
	case f.insecure:
		return client.Dial(f.addr, client.WithInsecure(), client.WithRouting(f.routing))
	case f.certsDir == "":
		return nil, fmt.Errorf("either --certs-dir (TLS) or --insecure (plaintext) is required")
	}
	if _, err := os.Stat(filepath.Join(f.certsDir, security.ClientCertFile(f.user))); err != nil {
		return nil, fmt.Errorf("no client certificate for user %q in %s: run `cairn cert create-client %s --certs-dir %s`", f.user, f.certsDir, f.user, f.certsDir)
	}
	tlsCfg, err := security.ClientTLSConfig(f.certsDir, f.user)
	if err != nil {
		return nil, err
	}
	return client.Dial(f.addr, client.WithTLS(tlsCfg), client.WithRouting(f.routing))
}

// run dials, runs f with a context bounded by timeout, and closes the client.
func (f *clientFlags) run(timeout time.Duration, fn func(ctx context.Context, c *client.Client) error) error {
	c, err := f.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return fn(ctx, c)
}
