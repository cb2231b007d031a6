// Command cairn is the single Cairn binary: it starts a node, talks to one
// (sql, kv, debug, workload) and manages certificates. Flags map onto the Config
// structs of the internal packages here and nowhere else.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := newRootCmd()
	if err := root.Execute(); err != nil {
		if code, ok := errIsExitCode(err); ok {
			os.Exit(code) // what failed has been printed (cairn sql)
		}
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "cairn",
		Short:         "Cairn, a distributed SQL database",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newStartCmd(),
		newKVCmd(),
		newCertCmd(),
		newDebugCmd(),
		newNodeCmd(),
		newClusterCmd(),
		newWorkloadCmd(),
		newSQLCmd(),
	)
	return root
}
