package replica

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/cairndb/cairn/internal/hlc"
	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/raftstore"
	"github.com/cairndb/cairn/internal/storage"
)

// Config configures a Store.
type Config struct {
	NodeID uint64
	Engine *storage.Engine
	Raft   *raftstore.Store
	Clock  *hlc.Clock
}

// TimestampOracle allocates timestamps for the meta range's leaseholder
// (implemented by tso.Oracle); term is the lease term it serves under.
type TimestampOracle interface {
	Allocate(ctx context.Context, count uint32, term uint64) (uint64, error)
}

// Store is the set of range replicas on this node.
type Store struct {
	cfg Config
	eng *storage.Engine

	// createMu serialises replica creation (splits, incoming messages).
	createMu sync.Mutex
	// oracle serves TimestampRequests on the meta range (set once at start).
	oracle atomic.Pointer[TimestampOracle]
	// timestamps fetches a timestamp of the oracle (see Replica.writeTimestamp).
	timestamps atomic.Pointer[func(context.Context) (uint64, error)]

	mu struct {
		sync.RWMutex
		replicas map[uint64]*Replica
		// peers remembers the node of replicas we heard from (see
		// ReplicaDescriptor). Bounded by ranges × replicas.
		peers map[peerKey]uint64
		// reserved holds the spans of snapshots accepted but not yet
		// applied (snapshot_overlap.go); bounded by the replicas here.
		reserved map[uint64]reservation
	}
}

// NewStore returns a store; call Bootstrap (first start) and Start.
func NewStore(cfg Config) (*Store, error) {
	if cfg.Engine == nil || cfg.Raft == nil || cfg.Clock == nil || cfg.NodeID == 0 {
		return nil, errors.New("replica: engine, raft store, clock and node id are required")
	}
	s := &Store{cfg: cfg, eng: cfg.Engine}
	s.mu.replicas = make(map[uint64]*Replica)
	s.mu.peers = make(map[peerKey]uint64)
	s.mu.reserved = make(map[uint64]reservation)
	return s, nil
}

// ReadIdent returns the store's identity, or nil if never bootstrapped.
func ReadIdent(eng *storage.Engine) (*kvpb.StoreIdent, error) {
	v, err := storage.Get(eng.Reader(), storage.StoreIdentKey)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	id := &kvpb.StoreIdent{}
	if err := unmarshal(v, id); err != nil {
		return nil, fmt.Errorf("corrupt store ident: %w", err)
	}
	return id, nil
}

// Bootstrap creates a new cluster on an empty engine: the store ident, the
// meta range [KeyMin, MetaEnd) and the first user range [MetaEnd, KeyMax),
// both with this node as their single voter, and the meta directory and id
// counters. It is written directly (not through Raft) and synced.
func Bootstrap(eng *storage.Engine, clock *hlc.Clock, rpcAddr string) (*kvpb.StoreIdent, error) {
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	ident := &kvpb.StoreIdent{ClusterId: hex.EncodeToString(raw[:]), NodeId: 1, StoreId: 1}
	replicas := []*kvpb.ReplicaDescriptor{{NodeId: 1, ReplicaId: 1, Type: kvpb.ReplicaType_VOTER}}
	meta := &kvpb.RangeDescriptor{RangeId: keys.MetaRangeID, StartKey: keys.KeyMin, EndKey: keys.MetaEnd,
		Replicas: replicas, Generation: 1, NextReplicaId: 2}
	user := &kvpb.RangeDescriptor{RangeId: keys.FirstUserRangeID, StartKey: keys.MetaEnd, EndKey: keys.KeyMax,
		Replicas: replicas, Generation: 1, NextReplicaId: 2}
	b := eng.NewBatch()
	defer b.Close()
	ts := clock.Now()
	for _, d := range []*kvpb.RangeDescriptor{meta, user} {
		if err := raftstore.PutProto(b, storage.RangeDescriptorKey(d.RangeId), d); err != nil {
			return nil, err
		}
		if err := raftstore.WriteInitialState(b, d.RangeId); err != nil {
			return nil, err
		}
		if err := storage.MVCCPut(b, keys.RangeDescKey(d.EndKey), ts, marshal(d)); err != nil {
			return nil, err
		}
		if err := b.Set(storage.RangeMaxWriteTSKey(d.RangeId), encodeUint64(ts), nil); err != nil {
			return nil, err
		}
		if err := writeLockCount(b, d.RangeId, lockCount{known: true}); err != nil {
			return nil, err
		}
	}
	if err := storage.MVCCPut(b, keys.RangeIDCounterKey, ts, keys.EncodeCounter(keys.FirstUserRangeID)); err != nil {
		return nil, err
	}
	if err := storage.MVCCPut(b, keys.NodeIDCounterKey, ts, keys.EncodeCounter(1)); err != nil {
		return nil, err
	}
	if err := storage.MVCCPut(b, keys.NodeKey(1), ts, marshal(&kvpb.NodeDescriptor{NodeId: 1, Address: rpcAddr})); err != nil {
		return nil, err
	}
	if err := raftstore.PutProto(b, storage.StoreIdentKey, ident); err != nil {
		return nil, err
	}
	if err := b.Commit(storage.Sync); err != nil {
		return nil, err
	}
	return ident, nil
}

// Start loads every replica persisted in the engine and starts its group.
func (s *Store) Start() error {
	descs, err := s.loadDescriptors()
	if err != nil {
		return err
	}
	for _, d := range descs {
		if _, err := s.addReplica(d, false); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) loadDescriptors() ([]*kvpb.RangeDescriptor, error) {
	it, err := s.eng.Reader().NewIter(&pebble.IterOptions{
		LowerBound: storage.RangeLocalPrefix(0), UpperBound: storage.RangeLocalEnd(^uint64(0) - 1),
	})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var descs []*kvpb.RangeDescriptor
	for valid := it.First(); valid; {
		id, ok := storage.RangeIDFromLocalKey(it.Key())
		if !ok {
			return nil, fmt.Errorf("corrupt range-local key %x", it.Key())
		}
		if valid = it.SeekGE(storage.RangeDescriptorKey(id)); !valid {
			break
		}
		if storage.IsRangeDescriptorKey(it.Key()) {
			if id2, _ := storage.RangeIDFromLocalKey(it.Key()); id2 == id {
				d := &kvpb.RangeDescriptor{}
				v, err := it.ValueAndErr()
				if err != nil {
					return nil, err
				}
				if err := unmarshal(v, d); err != nil {
					return nil, fmt.Errorf("range %d: corrupt descriptor: %w", id, err)
				}
				descs = append(descs, d)
			}
		}
		valid = it.SeekGE(storage.RangeLocalEnd(id))
	}
	return descs, it.Error()
}

// confState derives the Raft configuration from a descriptor.
func confState(d *kvpb.RangeDescriptor) *raftpb.ConfState {
	cs := &raftpb.ConfState{}
	for _, r := range d.Replicas {
		if r.Type == kvpb.ReplicaType_VOTER {
			cs.Voters = append(cs.Voters, r.ReplicaId)
		} else {
			cs.Learners = append(cs.Learners, r.ReplicaId)
		}
	}
	return cs
}

// addReplica creates the in-memory replica of a persisted range and starts
// its group. campaign asks it to start an election at once (the right half
// of a split whose left half this node leads); a sole voter always does.
func (s *Store) addReplica(d *kvpb.RangeDescriptor, campaign bool) (*Replica, error) {
	self, voters := s.selfAndVoters(d)
	if self == nil {
		return nil, fmt.Errorf("range %d has no replica on node %d", d.RangeId, s.cfg.NodeID)
	}
	s.createMu.Lock()
	defer s.createMu.Unlock()
	return s.addReplicaLocked(d, self, voters, campaign)
}

// selfAndVoters returns this node's replica in d (nil if none) and the
// number of voters.
func (s *Store) selfAndVoters(d *kvpb.RangeDescriptor) (self *kvpb.ReplicaDescriptor, voters int) {
	for _, rd := range d.Replicas {
		if rd.NodeId == s.cfg.NodeID {
			self = rd
		}
		if rd.Type == kvpb.ReplicaType_VOTER {
			voters++
		}
	}
	return self, voters
}

// addReplicaLocked is addReplica with createMu held.
func (s *Store) addReplicaLocked(d *kvpb.RangeDescriptor, self *kvpb.ReplicaDescriptor, voters int, campaign bool) (*Replica, error) {
	if s.Replica(d.RangeId) != nil {
		return nil, fmt.Errorf("range %d already has a replica", d.RangeId)
	}
	// A sole voter elects itself at once instead of after an election timeout.
	campaign = campaign || (voters == 1 && self.Type == kvpb.ReplicaType_VOTER)
	return s.startReplica(d, self, confState(d), campaign)
}

// startReplica builds a replica, starts its group and publishes it. The
// caller holds createMu.
func (s *Store) startReplica(d *kvpb.RangeDescriptor, self *kvpb.ReplicaDescriptor, cs *raftpb.ConfState, campaign bool) (*Replica, error) {
	maxTS, err := readMaxWriteTS(s.eng.Reader(), d.RangeId)
	if err != nil {
		return nil, err
	}
	s.cfg.Clock.Update(maxTS)
	gcThreshold, err := readGCThreshold(s.eng.Reader(), d.RangeId)
	if err != nil {
		return nil, err
	}
	locks, err := readLockCount(s.eng.Reader(), d.RangeId)
	if err != nil {
		return nil, err
	}
	r := &Replica{RangeID: d.RangeId, store: s, latches: newLatchManager()}
	r.mu.locks = locks
	r.mu.desc = d
	r.mu.maxWriteTS = maxTS
	r.mu.gcThreshold = gcThreshold
	r.mu.proposals = make(map[uint64]*proposal)
	var seed [8]byte
	_, _ = rand.Read(seed[:])
	// Random start: ids of proposals from before a restart never collide.
	r.mu.nextID = binary.LittleEndian.Uint64(seed[:])
	g, err := s.cfg.Raft.AddGroup(d.RangeId, self.ReplicaId, cs, r)
	if err != nil {
		return nil, err
	}
	r.group = g
	// Publish only once fully built: Send never sees a replica without a group.
	s.mu.Lock()
	s.mu.replicas[d.RangeId] = r
	s.mu.Unlock()
	if campaign {
		if err := g.Campaign(); err != nil {
			slog.Warn("campaign failed", "range", d.RangeId, "err", err)
		}
	}
	return r, nil
}

// installSplit creates the right-hand replica of an applied split.
func (s *Store) installSplit(t *kvpb.SplitTrigger, leftLeader bool) {
	self, voters := s.selfAndVoters(t.Right)
	if self == nil {
		s.cfg.Raft.Fatal(fmt.Errorf("installing split of range %d: no replica on node %d", t.Left.RangeId, s.cfg.NodeID))
		return
	}
	// createMu across check, removal and creation: a message from the right
	// half's leader must not create an uninitialised replica in between.
	s.createMu.Lock()
	defer s.createMu.Unlock()
	if r := s.Replica(t.Right.RangeId); r != nil {
		if r.Desc().EndKey != nil {
			return // already initialised (by a snapshot)
		}
		// An uninitialised replica created by a message from the right
		// half's leader: restart it from the state the split just wrote.
		s.removeReplica(r)
	}
	if _, err := s.addReplicaLocked(t.Right, self, voters, leftLeader); err != nil {
		s.cfg.Raft.Fatal(fmt.Errorf("installing split of range %d: %w", t.Left.RangeId, err))
	}
}

// Replica returns the replica of a range, or nil.
func (s *Store) Replica(rangeID uint64) *Replica {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.replicas[rangeID]
}

// Replicas returns every replica, ordered by start key.
func (s *Store) Replicas() []*Replica {
	s.mu.RLock()
	out := make([]*Replica, 0, len(s.mu.replicas))
	for _, r := range s.mu.replicas {
		out = append(out, r)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		return string(out[i].Desc().StartKey) < string(out[j].Desc().StartKey)
	})
	return out
}

// Send dispatches a range-addressed batch to its replica.
func (s *Store) Send(ctx context.Context, req *kvpb.RangeRequest) *kvpb.RangeResponse {
	r := s.Replica(req.RangeId)
	if r == nil {
		return &kvpb.RangeResponse{Error: kvpb.NewRangeNotFound(req.RangeId)}
	}
	resps, err := r.Send(ctx, req)
	if err != nil {
		perr := kvpb.AsError(err)
		if m := perr.GetRangeKeyMismatch(); m != nil && m.Key != nil {
			// Tell the sender which range does hold the key, if it is here.
			if other := s.replicaForKey(m.Key); other != nil && other != r {
				m.Ranges = append(m.Ranges, other.Desc())
			}
		}
		return &kvpb.RangeResponse{Error: perr}
	}
	return &kvpb.RangeResponse{Responses: resps}
}

// replicaForKey returns the local replica whose span contains key, or nil.
// Linear in the number of replicas: only used on the error path.
func (s *Store) replicaForKey(key []byte) *Replica {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, r := range s.mu.replicas {
		if containsKey(r.Desc(), key) {
			return r
		}
	}
	return nil
}

// removeReplica stops a replica's group and forgets it (its data stays).
//
// An initialised replica's span stays reserved (snapshot_overlap.go) until
// deleteReplicaState has deleted its data: a snapshot of another range
// over that span accepted in between would have its data deleted with it.
func (s *Store) removeReplica(r *Replica) {
	s.cfg.Raft.RemoveGroup(r.RangeID)
	d := r.Desc()
	s.mu.Lock()
	if s.mu.replicas[r.RangeID] == r {
		delete(s.mu.replicas, r.RangeID)
		if len(d.EndKey) > 0 {
			s.mu.reserved[r.RangeID] = reservation{desc: d, expires: time.Now().Add(reservationTTL)}
		}
	}
	s.mu.Unlock()
}

// WriteIdent durably records the identity of a store that joined a cluster.
func WriteIdent(eng *storage.Engine, ident *kvpb.StoreIdent) error {
	b := eng.NewBatch()
	defer b.Close()
	if err := raftstore.PutProto(b, storage.StoreIdentKey, ident); err != nil {
		return err
	}
	return b.Commit(storage.Sync)
}

// NextEpoch durably increments and returns the store's start counter, the
// epoch of its liveness record.
func NextEpoch(eng *storage.Engine) (uint64, error) {
	v, err := storage.Get(eng.Reader(), storage.StoreEpochKey)
	var epoch uint64
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		return 0, err
	case len(v) == 8:
		epoch = binary.BigEndian.Uint64(v)
	default:
		return 0, fmt.Errorf("corrupt store epoch")
	}
	epoch++
	b := eng.NewBatch()
	defer b.Close()
	if err := b.Set(storage.StoreEpochKey, encodeUint64(epoch), nil); err != nil {
		return 0, err
	}
	return epoch, b.Commit(storage.Sync)
}

// SetOracle installs the timestamp oracle served by the meta range.
func (s *Store) SetOracle(o TimestampOracle) { s.oracle.Store(&o) }

// SetTimestampSource installs the client of the cluster's timestamp oracle
// that leaseholders take write timestamps from (see Replica.writeTimestamp).
func (s *Store) SetTimestampSource(fn func(context.Context) (uint64, error)) { s.timestamps.Store(&fn) }
