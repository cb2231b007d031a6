package kvpb

// HasNode reports whether one of the range's replicas (of any type) is on
// the node.
func (d *RangeDescriptor) HasNode(nodeID uint64) bool {
	for _, r := range d.GetReplicas() {
		if r.GetNodeId() == nodeID {
			return true
		}
	}
	return false
}
