package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cairndb/cairn/internal/security"
)

// certOpts holds the flags shared by the cert subcommands.
type certOpts struct {
	certsDir  string
	caKey     string
	overwrite bool
}

func newCertCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cert",
		Short: "Create the CA, node and client certificates",
		Long: `Create the certificates of a secure cluster: one CA (ca.crt, ca.key), a node
certificate per node (node.crt, node.key) and a client certificate per user
(client.<user>.crt, client.<user>.key), all in --certs-dir.`,
	}
	cmd.AddCommand(
		certSubcmd(&cobra.Command{
			Use:   "create-ca",
			Short: "Create the CA certificate and key (ca.crt, ca.key)",
			Args:  withUsage(cobra.NoArgs),
		}, func(o certOpts, _ []string) ([]string, error) {
			files := []string{o.caKey, filepath.Join(o.certsDir, security.CACertFile)}
			return files, security.CreateCA(o.certsDir, o.caKey, o.overwrite)
		}),
		certSubcmd(&cobra.Command{
			Use:   "create-node HOST...",
			Short: "Create the node certificate and key (node.crt, node.key), valid for the given hosts and IPs",
			Args:  withUsage(cobra.MinimumNArgs(1)),
		}, func(o certOpts, hosts []string) ([]string, error) {
			files := []string{
				filepath.Join(o.certsDir, security.NodeKeyFile),
				filepath.Join(o.certsDir, security.NodeCertFile),
			}
			return files, security.CreateNodeCert(o.certsDir, o.caKey, hosts, o.overwrite)
		}),
		certSubcmd(&cobra.Command{
			Use:   "create-client USER",
			Short: "Create a client certificate and key (client.USER.crt, client.USER.key)",
			Args:  withUsage(cobra.ExactArgs(1)),
		}, func(o certOpts, args []string) ([]string, error) {
			user := args[0]
			files := []string{
				filepath.Join(o.certsDir, security.ClientKeyFile(user)),
				filepath.Join(o.certsDir, security.ClientCertFile(user)),
			}
			return files, security.CreateClientCert(o.certsDir, o.caKey, user, o.overwrite)
		}),
	)
	return cmd
}

// certSubcmd adds the shared flags to cmd and makes it run create, printing
// one line per file written.
func certSubcmd(cmd *cobra.Command, create func(o certOpts, args []string) (files []string, err error)) *cobra.Command {
	var o certOpts
	cmd.Flags().StringVar(&o.certsDir, "certs-dir", "certs", "directory of the certificates and keys")
	cmd.Flags().StringVar(&o.caKey, "ca-key", "", "path of the CA key (default <certs-dir>/ca.key)")
	cmd.Flags().BoolVar(&o.overwrite, "overwrite", false, "replace existing files")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if o.caKey == "" {
			o.caKey = filepath.Join(o.certsDir, security.CAKeyFile)
		}
		files, err := create(o, args)
		if err != nil {
			return err
		}
		for _, f := range files {
			fmt.Fprintln(cmd.OutOrStdout(), "wrote", f)
		}
		return nil
	}
	return cmd
}

// withUsage adds the usage line to argument errors, since the root command
// silences usage.
func withUsage(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return fmt.Errorf("%w\nUsage: %s", err, cmd.UseLine())
		}
		return nil
	}
}
