package server

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/placement"
)

// nodeStatuses joins the node registry with this node's liveness view.
func (s *Server) nodeStatuses(ctx context.Context) ([]*kvpb.NodeStatus, error) {
	nodes, err := placement.ScanNodes(ctx, s.db)
	if err != nil {
		return nil, err
	}
	out := make([]*kvpb.NodeStatus, 0, len(nodes))
	for _, n := range nodes {
		st := &kvpb.NodeStatus{NodeId: n.NodeId, Address: n.Address, Live: s.liveness.IsLive(n.NodeId), Decommissioning: n.Decommissioning}
		if rec := s.liveness.Record(n.NodeId); rec != nil {
			st.Ranges, st.Leases, st.DiskBytes = rec.Ranges, rec.Leases, rec.DiskBytes
		}
		if n.NodeId == s.ident.NodeId {
			st.Ranges, st.Leases, st.DiskBytes = s.stats()
		}
		out = append(out, st)
	}
	return out, nil
}

func (a *adminAPI) Nodes(ctx context.Context, _ *kvpb.NodesRequest) (*kvpb.NodesResponse, error) {
	nodes, err := a.s.nodeStatuses(ctx)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	return &kvpb.NodesResponse{Nodes: nodes}, nil
}

func (a *adminAPI) Decommission(ctx context.Context, req *kvpb.DecommissionRequest) (*kvpb.DecommissionResponse, error) {
	resp, err := a.s.db.Get(ctx, keys.NodeKey(req.NodeId))
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	if !resp.Found {
		return nil, status.Errorf(codes.NotFound, "node %d is not part of the cluster", req.NodeId)
	}
	nd := &kvpb.NodeDescriptor{}
	if err := proto.Unmarshal(resp.Value, nd); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if nd.Decommissioning {
		return &kvpb.DecommissionResponse{}, nil
	}
	nd.Decommissioning = true
	cas := &kvpb.CompareAndSetRequest{Key: keys.NodeKey(req.NodeId), ExpectedValue: resp.Value, NewValue: marshalProto(nd)}
	res, err := a.s.db.CompareAndSet(ctx, cas)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	if !res.Succeeded {
		return nil, status.Errorf(codes.Aborted, "node %d changed concurrently; retry", req.NodeId)
	}
	return &kvpb.DecommissionResponse{}, nil
}

func (a *adminAPI) SetSetting(ctx context.Context, req *kvpb.SetSettingRequest) (*kvpb.SetSettingResponse, error) {
	if err := placement.SetSetting(ctx, a.s.db, req.Name, req.Value); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &kvpb.SetSettingResponse{}, nil
}

func (a *adminAPI) Settings(ctx context.Context, _ *kvpb.SettingsRequest) (*kvpb.SettingsResponse, error) {
	_, raw, err := placement.ReadSettings(ctx, a.s.db)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	return &kvpb.SettingsResponse{Settings: raw}, nil
}

// nodeJSON is an element of GET /v1/nodes.
type nodeJSON struct {
	NodeID          uint64 `json:"node_id"`
	Address         string `json:"address"`
	Live            bool   `json:"live"`
	Ranges          uint64 `json:"ranges"`
	Leases          uint64 `json:"leases"`
	DiskBytes       uint64 `json:"disk_bytes"`
	Decommissioning bool   `json:"decommissioning"`
}

func nodesJSON(nodes []*kvpb.NodeStatus) []nodeJSON {
	out := make([]nodeJSON, len(nodes))
	for i, n := range nodes {
		out[i] = nodeJSON{NodeID: n.NodeId, Address: n.Address, Live: n.Live, Ranges: n.Ranges, Leases: n.Leases, DiskBytes: n.DiskBytes, Decommissioning: n.Decommissioning}
	}
	return out
}
