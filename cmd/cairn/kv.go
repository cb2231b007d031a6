package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairndb/cairn/pkg/client"
)

func newKVCmd() *cobra.Command {
	var cf clientFlags
	var timeout time.Duration
	cmd := &cobra.Command{Use: "kv", Short: "read and write keys through the KV API"}
	cmd.PersistentFlags().DurationVar(&timeout, "timeout", 10*time.Second, "request timeout")

	put := &cobra.Command{
		Use:   "put KEY [VALUE]",
		Short: "write VALUE (or standard input) under KEY",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var value []byte
			if len(args) == 2 {
				value = []byte(args[1])
			} else {
				var err error
				if value, err = io.ReadAll(os.Stdin); err != nil {
					return err
				}
			}
			return cf.run(timeout, func(ctx context.Context, c *client.Client) error {
				if err := c.Put(ctx, []byte(args[0]), value); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), "OK")
				return nil
			})
		},
	}
	get := &cobra.Command{
		Use:   "get KEY",
		Short: "print the value of KEY (exit status 1 if missing)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cf.run(timeout, func(ctx context.Context, c *client.Client) error {
				v, found, err := c.Get(ctx, []byte(args[0]))
				if err != nil {
					return err
				}
				if !found {
					return fmt.Errorf("key %q not found", args[0])
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", v)
				return err
			})
		},
	}
	del := &cobra.Command{
		Use:     "del KEY",
		Aliases: []string{"delete"},
		Short:   "delete KEY (exit status 1 if missing)",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cf.run(timeout, func(ctx context.Context, c *client.Client) error {
				existed, err := c.Delete(ctx, []byte(args[0]))
				if err != nil {
					return err
				}
				if !existed {
					return fmt.Errorf("key %q not found", args[0])
				}
				fmt.Fprintln(cmd.OutOrStdout(), "OK")
				return nil
			})
		},
	}
	var limit int
	scan := &cobra.Command{
		Use:   "scan [START [END]]",
		Short: "print KEY<TAB>VALUE lines for keys in [START, END)",
		Args:  cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var start, end []byte
			if len(args) > 0 {
				start = []byte(args[0])
			}
			if len(args) > 1 {
				end = []byte(args[1])
			}
			return cf.run(timeout, func(ctx context.Context, c *client.Client) error {
				kvs, more, err := c.Scan(ctx, start, end, limit)
				if err != nil {
					return err
				}
				for _, kv := range kvs {
					fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\n", kv.Key, kv.Value)
				}
				if more {
					fmt.Fprintln(cmd.ErrOrStderr(), "(more keys: raise --limit or scan from the last key)")
				}
				return nil
			})
		},
	}
	scan.Flags().IntVar(&limit, "limit", 1000, "maximum number of keys")
	for _, c := range []*cobra.Command{put, get, del, scan} {
		cf.register(c)
		cmd.AddCommand(c)
	}
	return cmd
}
