package main

import "github.com/spf13/cobra"

// newWorkloadCmd is replaced by the workload implementation.
func newWorkloadCmd() *cobra.Command {
	return &cobra.Command{Use: "workload", Short: "load generators"}
}
