// Package placement is the placement driver: run by the meta range's
// leaseholder, it looks at the node registry and the range directory and
// moves the cluster toward its target layout, one bounded batch of replica
// changes per tick.
//
// Today it up-replicates: a range with fewer voters than
// min(replication factor, registered nodes) gets a learner on the node with
// the fewest replicas, which is promoted to voter once it has caught up
// (received its snapshot). Replacing dead nodes' replicas, rebalancing and
// lease balancing build on the same loop.
//
// Every change goes through the range's leaseholder as an
// AdminChangeReplicas request (a Raft configuration change), so the driver
// holds no state that matters: a new meta leaseholder simply carries on.
package placement
