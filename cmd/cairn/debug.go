package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func newDebugCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "debug", Short: "operator and debugging commands"}
	var cf clientFlags
	split := &cobra.Command{
		Use:   "split KEY",
		Short: "split the range containing KEY (a KV API key) at KEY",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.dial()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			left, right, err := c.Split(ctx, []byte(args[0]))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "split: r%d | r%d at %q\n", left, right, args[0])
			return nil
		},
	}
	cf.register(split)
	cmd.AddCommand(split)
	return cmd
}
