package raftstore

import (
	raftracker "go.etcd.io/raft/v3/tracker"

	"github.com/cairndb/cairn/internal/storage"
)

type tracker = raftracker.Progress

var (
	doSync                 = storage.Sync
	noSync                 = storage.NoSync
	storageHardStateKey    = storage.RaftHardStateKey
	storageAppliedStateKey = storage.RangeAppliedStateKey
)
