package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairndb/cairn/pkg/client"
)

func newDebugCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "debug", Short: "operator and debugging commands"}
	var cf clientFlags
	split := &cobra.Command{
		Use:   "split KEY",
		Short: "split the range containing KEY (a KV API key) at KEY",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cf.run(30*time.Second, func(ctx context.Context, c *client.Client) error {
				left, right, err := c.Split(ctx, []byte(args[0]))
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "split: r%d | r%d at %q\n", left, right, args[0])
				return nil
			})
		},
	}
	cf.register(split)
	cmd.AddCommand(split)
	return cmd
}
