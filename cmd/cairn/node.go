package main

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairndb/cairn/pkg/client"
)

func newNodeCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "node", Short: "inspect and manage the cluster's nodes"}
	var cf, df clientFlags
	status := &cobra.Command{
		Use:   "status",
		Short: "list nodes: id, address, live, ranges, leases, disk used",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cf.run(10*time.Second, func(ctx context.Context, c *client.Client) error {
				nodes, err := c.Nodes(ctx)
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "id\taddress\tlive\tranges\tleases\tdisk_bytes\tdecommissioning")
				for _, n := range nodes {
					fmt.Fprintf(w, "%d\t%s\t%t\t%d\t%d\t%d\t%t\n", n.NodeID, n.Address, n.Live, n.Ranges, n.Leases, n.DiskBytes, n.Decommissioning)
				}
				return w.Flush()
			})
		},
	}
	cf.register(status)
	decommission := &cobra.Command{
		Use:   "decommission ID",
		Short: "move every replica off node ID so it can be shut down",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil || id == 0 {
				return fmt.Errorf("node id %q: want a positive integer", args[0])
			}
			return df.run(10*time.Second, func(ctx context.Context, c *client.Client) error {
				if err := c.Decommission(ctx, id); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "node %d is decommissioning; its replicas are moving away (watch `cairn node status`)\n", id)
				return nil
			})
		},
	}
	df.register(decommission)
	cmd.AddCommand(status, decommission)
	return cmd
}

func newClusterCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "cluster", Short: "cluster settings"}
	var sf, gf clientFlags
	set := &cobra.Command{
		Use:   "set NAME VALUE",
		Short: "change a cluster setting (replicas, dead_node_timeout, range_max_bytes, gc_ttl, txn_record_ttl)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return sf.run(10*time.Second, func(ctx context.Context, c *client.Client) error {
				if err := c.SetSetting(ctx, args[0], args[1]); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), "OK")
				return nil
			})
		},
	}
	sf.register(set)
	get := &cobra.Command{
		Use:   "get [NAME]",
		Short: "print cluster settings",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return gf.run(10*time.Second, func(ctx context.Context, c *client.Client) error {
				settings, err := c.Settings(ctx)
				if err != nil {
					return err
				}
				if len(args) == 1 {
					v, ok := settings[args[0]]
					if !ok {
						return fmt.Errorf("unknown setting %q", args[0])
					}
					fmt.Fprintln(cmd.OutOrStdout(), v)
					return nil
				}
				names := make([]string, 0, len(settings))
				for n := range settings {
					names = append(names, n)
				}
				sort.Strings(names)
				for _, n := range names {
					fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\n", n, settings[n])
				}
				return nil
			})
		},
	}
	gf.register(get)
	cmd.AddCommand(set, get)
	return cmd
}
