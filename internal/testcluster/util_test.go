package testcluster

import (
	"context"

	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/placement"
	"github.com/cairndb/cairn/internal/server"
	"github.com/cairndb/cairn/pkg/client"
)

func unmarshal(b []byte, m proto.Message) error { return proto.Unmarshal(b, m) }

func placementSetting(ctx context.Context, s *server.Server, name, value string) error {
	return placement.SetSetting(ctx, s.DB(), name, value)
}

func decommission(ctx context.Context, s *server.Server, nodeID uint64) error {
	c, err := client.Dial(s.RPCAddr(), client.WithInsecure())
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Decommission(ctx, nodeID)
}

func statsOf(s *server.Server) (ranges, leases, disk uint64) { return s.Stats() }
