package replica

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/raftstore"
	"github.com/cairndb/cairn/internal/storage"
)

// Replica is one replica of a range on this node.
type Replica struct {
	RangeID uint64
	store   *Store
	group   *raftstore.Group
	latches *latchManager
	// lockWaits: locking reads waiting for a lock's release (lockwait.go).
	lockWaits lockWaitQueue

	// splitMu: writes hold it shared from evaluation until applied; a split
	// holds it exclusively, so no write is in flight across a split.
	splitMu sync.RWMutex

	mu struct {
		sync.Mutex
		desc *kvpb.RangeDescriptor // never mutated; replaced on change
		// servingTerm is the term in which this replica, as leader, applied its
		// first entry; it may serve while leader in that term.
		servingTerm uint64
		leaderTerm  uint64 // the term in which we are leader, 0 if not leader
		proposals   map[uint64]*proposal
		nextID      uint64
		// maxWriteTS is the highest MVCC timestamp applied to the range
		// (persisted at RangeMaxWriteTSKey). The node clock is kept above it,
		// so a leaseholder's clock.Now() is above every existing version.
		maxWriteTS uint64
		// measuredBytes is the size found by the last MeasureSize;
		// appliedBytes counts write batch bytes applied since (split trigger).
		measuredBytes, appliedBytes int64
		measured                    bool
		// publishedGen is the descriptor generation this replica last saw
		// recorded in the meta directory (see DescriptorToPublish).
		publishedGen uint64
		// gcThreshold is the range's GC threshold (persisted at
		// RangeGCThresholdKey): versions at or below it may be collected.
		// Apply raises it before the GC batch commits (see replica_gc.go).
		gcThreshold uint64
		// writesApplied counts applied commands with data (WritesApplied).
		writesApplied uint64
		// locks is the range's applied lock count (replica_locks.go).
		locks lockCount
		// lowWater is a fresh oracle timestamp taken in lease term
		// lowWaterTerm (replica_tscache.go).
		lowWater, lowWaterTerm uint64
	}
	// reads tracks the timestamps reads were served at (replica_tscache.go).
	reads readTimestamps
}

// Desc returns the current descriptor (do not modify it).
func (r *Replica) Desc() *kvpb.RangeDescriptor {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.desc
}

// IsLeaseholder reports whether this replica currently serves the range.
func (r *Replica) IsLeaseholder() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.leaderTerm != 0 && r.mu.servingTerm == r.mu.leaderTerm
}

// Group exposes the replica's Raft group (diagnostics, tests).
func (r *Replica) Group() *raftstore.Group { return r.group }

func containsKey(d *kvpb.RangeDescriptor, k []byte) bool {
	return bytes.Compare(k, d.StartKey) >= 0 && bytes.Compare(k, d.EndKey) < 0
}

// checkSpans verifies every request of the batch lies within desc.
func checkSpans(d *kvpb.RangeDescriptor, reqs []*kvpb.RequestUnion) *kvpb.Error {
	for _, req := range reqs {
		key, end := kvpb.RequestKeys(req)
		if !containsKey(d, key) {
			return kvpb.NewRangeKeyMismatch(d.RangeId, key, d)
		}
		if end != nil && (bytes.Compare(end, d.EndKey) > 0 || bytes.Compare(end, key) < 0) {
			return kvpb.NewRangeKeyMismatch(d.RangeId, end, d)
		}
	}
	return nil
}

// leaseCheck returns the term to evaluate in, or a NotLeaseholder error.
func (r *Replica) leaseCheck() (term uint64, desc *kvpb.RangeDescriptor, err *kvpb.Error) {
	r.mu.Lock()
	desc, term, serving := r.mu.desc, r.mu.leaderTerm, r.mu.servingTerm
	r.mu.Unlock()
	if term == 0 || serving != term {
		return 0, desc, kvpb.NewNotLeaseholder(desc.RangeId, r.leaderHint(desc), desc)
	}
	return term, desc, nil
}

func (r *Replica) leaderHint(desc *kvpb.RangeDescriptor) *kvpb.ReplicaDescriptor {
	leader, _ := r.group.Leader()
	for _, rd := range desc.Replicas {
		if rd.ReplicaId == leader {
			return rd
		}
	}
	return nil
}

// Send evaluates a batch addressed to this range.
func (r *Replica) Send(ctx context.Context, req *kvpb.RangeRequest) ([]*kvpb.ResponseUnion, error) {
	if len(req.Requests) == 0 {
		return nil, nil
	}
	write := false
	for _, q := range req.Requests {
		if (isAdmin(q) || q.GetGc() != nil) && len(req.Requests) != 1 {
			return nil, kvpb.NewErrorf("an admin or GC request must be alone in its batch")
		}
		write = write || kvpb.IsWrite(q)
	}
	switch v := req.Requests[0].Value.(type) {
	case *kvpb.RequestUnion_Timestamp:
		if len(req.Requests) != 1 {
			return nil, kvpb.NewErrorf("a timestamp request must be alone in its batch")
		}
		return r.allocateTimestamps(ctx, v.Timestamp)
	case *kvpb.RequestUnion_AdminSplit:
		return r.adminSplit(ctx, v.AdminSplit)
	case *kvpb.RequestUnion_AdminChangeReplicas:
		return r.adminChangeReplicas(ctx, v.AdminChangeReplicas)
	case *kvpb.RequestUnion_Gc:
		return r.gc(ctx, v.Gc)
	}
	if !write {
		return r.read(ctx, req)
	}
	return r.write(ctx, req)
}

func (r *Replica) read(ctx context.Context, req *kvpb.RangeRequest) ([]*kvpb.ResponseUnion, error) {
	ts := req.Timestamp
	if ts != 0 {
		// A read at a chosen timestamp (a transaction's snapshot) waits for
		// writes in flight on its keys, which may land below ts; writes after
		// it take newer oracle timestamps (see writeTimestamp), so the
		// snapshot never changes once read. The clock moves past ts before
		// the latch is held: a write that passes the latch (requestLatches)
		// and times itself by the clock (no oracle yet) is above ts too.
		if err := r.store.cfg.Clock.UpdateChecked(ts); err != nil {
			return nil, kvpb.NewErrorf("range %d: read at %d: %v", r.RangeID, ts, err)
		}
		r.reads.note(ts) // before latching: see replica_tscache.go
		release, err := r.latches.acquireSpans(ctx, requestLatches(req.Requests, false, false, ts))
		if err != nil {
			return nil, err
		}
		defer release()
	} else {
		ts = storage.MaxTimestamp
	}
	_, desc, perr := r.leaseCheck()
	if perr != nil {
		return nil, perr
	}
	// Reads are served from applied state without a round trip, which is
	// linearizable only under a valid leader lease (see raftstore/lease.go).
	if !r.group.HasLease() {
		return nil, kvpb.NewNotLeaseholder(desc.RangeId, r.leaderHint(desc), desc)
	}
	if perr := checkSpans(desc, req.Requests); perr != nil {
		return nil, perr
	}
	if err := r.checkReadThreshold(req.Requests, ts); err != nil {
		return nil, err
	}
	var rd storage.Reader = r.store.eng.Reader()
	if len(req.Requests) > 1 {
		// One consistent view for the batch. Point reads share one iterator
		// (storage.PointReader), which alone is such a view: it reads the
		// engine as of its creation.
		if !onlyGets(req.Requests) {
			view, err := r.store.eng.NewView()
			if err != nil {
				return nil, err
			}
			defer view.Close()
			rd = view
		}
		pr := storage.NewPointReader(rd)
		defer pr.Close()
		rd = pr
	}
	out := make([]*kvpb.ResponseUnion, len(req.Requests))
	for i, q := range req.Requests {
		resp, err := evalRead(rd, q, ts)
		if err != nil {
			return nil, err
		}
		out[i] = resp
	}
	// Again after reading: a GC that applied meanwhile may have collected
	// versions the read needed (its threshold is raised before that).
	if err := r.checkReadThreshold(req.Requests, ts); err != nil {
		return nil, err
	}
	return out, nil
}

// requestLatches lists the latches a batch needs: write latches on the keys
// it writes (when write is set), read latches on what it reads. Scans inside
// write batches read the latest applied state and take no latch.
//
// Outside the meta range, write latches pass reads (latchSpan.pastReads):
// a write does not wait for reads at a timestamp that are in progress on
// its keys (a snapshot scan no longer holds up every write to its span).
// This is safe because nothing such a write does changes what those reads
// see. A read holding its latch took its timestamp R from the oracle before
// it latched, so:
//   - a write of versions (Put, Delete, CompareAndSet, Increment) takes
//     its timestamp from the oracle after latching (writeTimestamp), hence
//     above R: invisible at R; a one-phase commit picks one above every
//     read timestamp recorded before it latched, R included
//     (replica_tscache.go);
//   - a lock (Prewrite, AcquireLock) belongs to a transaction whose commit
//     timestamp will come from the oracle after the lock is written, or be
//     picked above every read timestamp recorded (a one-phase commit),
//     hence above R: whether the read meets the lock or not, it reads
//     below it;
//   - a Resolve turns a lock into a version (or removes it) in one atomic
//     batch, and a read sees either the lock (and resolves it through the
//     transaction's primary to the same outcome) or the result, since every
//     read evaluates on one consistent view (one iterator, or a snapshot for
//     several requests);
//   - CheckTxn and HeartbeatTxn write transaction records that reads only
//     consult through locks, with the same argument.
//
// Reads still wait for writes in flight (a write whose timestamp is below R
// must be applied before the read), and writes still wait for each other.
// The meta range's writes take the node clock, not the oracle, and a write
// at a timestamp its sender chose (RangeRequest.timestamp) may be below R:
// both keep waiting for reads.
//
// A read at a timestamp (readTS) does not wait for writes whose latches are
// stamped above it (onlyVersionsAt): their versions are invisible to it.
func requestLatches(reqs []*kvpb.RequestUnion, write, pastReads bool, readTS uint64) []latchSpan {
	spans := make([]latchSpan, 0, len(reqs))
	for _, q := range reqs {
		k, end := kvpb.RequestKeys(q)
		switch {
		case q.GetValidateRead() != nil:
			spans = append(spans, latchSpan{key: k, end: end})
		case !write:
			spans = append(spans, latchSpan{key: k, end: end, readTS: readTS})
		case end == nil:
			spans = append(spans, latchSpan{key: k, write: true, pastReads: pastReads})
		}
	}
	return spans
}

func (r *Replica) write(ctx context.Context, req *kvpb.RangeRequest) ([]*kvpb.ResponseUnion, error) {
	var deadline time.Time
	for {
		out, released, err := r.writeOnce(ctx, req)
		if released == nil {
			return out, err
		}
		// A locking read met a lock: wait here for its release (bounded),
		// then evaluate again.
		wait, _ := lockWaitFor(req.Requests, err)
		if deadline.IsZero() {
			deadline = time.Now().Add(wait)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, err
		}
		t := time.NewTimer(left)
		ended := lockWaitBegins()
		select {
		case <-released:
			t.Stop()
			ended()
		case <-t.C:
			ended()
			return nil, err
		case <-ctx.Done():
			t.Stop()
			ended()
			return nil, err
		}
	}
}

// writeOnce evaluates and proposes a write batch. When a locking read
// meets a lock it may wait for, released is closed once that lock is
// cleared (taken under the batch's latches: no release is missed).
func (r *Replica) writeOnce(ctx context.Context, req *kvpb.RangeRequest) (_ []*kvpb.ResponseUnion, released <-chan struct{}, _ error) {
	r.reads.noteValidations(req.Requests) // before latching, as reads
	r.splitMu.RLock()
	release, latched, err := r.latches.acquireStamped(ctx, requestLatches(req.Requests, true, r.RangeID != keys.MetaRangeID && req.Timestamp == 0, 0))
	if err != nil {
		r.splitMu.RUnlock()
		return nil, nil, err
	}
	// held: the latches and splitMu are released on return, unless the
	// command was proposed and its caller left before it applied (see
	// below): then they are released when it applies or its outcome is
	// settled.
	held := true
	defer func() {
		if held {
			release()
			r.splitMu.RUnlock()
		}
	}()
	// Check after latching: a split may have changed the span meanwhile.
	term, desc, perr := r.leaseCheck()
	if perr != nil {
		return nil, nil, perr
	}
	if perr := checkSpans(desc, req.Requests); perr != nil {
		return nil, nil, perr
	}
	if err := r.checkTxnThreshold(req.Requests); err != nil {
		return nil, nil, err
	}
	clock := r.store.cfg.Clock
	eng := r.store.eng
	var ts uint64
	if req.Timestamp == 0 {
		var err error
		if ts, err = r.writeTimestamp(ctx, req.Requests, term); err != nil {
			return nil, nil, err
		}
	} else {
		// A caller-chosen timestamp may be below existing versions: bump it.
		var err error
		if ts, err = writeTimestamp(eng.Reader(), req.Requests, req.Timestamp); err != nil {
			return nil, nil, err
		}
		if err := clock.UpdateChecked(ts); err != nil {
			return nil, nil, kvpb.NewErrorf("range %d: write at %d: %v", r.RangeID, ts, err)
		}
	}
	if onlyVersionsAt(req.Requests) {
		r.latches.stamp(latched, ts) // reads below ts need not wait for these writes
	}
	// Only a multi-request batch needs to read its own writes; an indexed
	// batch costs a skiplist, so a single request reads the engine.
	var b *storage.Batch
	// The count is read under the batch's latches: a command changing a
	// lock of these keys has applied (count included) or waits for them.
	ec := &evalContext{r: eng.Reader(), ts: ts, noLocks: r.locks().none()}
	var pr *storage.PointReader
	if len(req.Requests) > 1 {
		b = eng.NewIndexedBatch()
		// The batch's point reads (each prewrite's conflict check) share an
		// iterator; it sees the batch's earlier writes (storage.PointReader).
		pr = storage.NewPointReader(b)
		ec.r = pr
	} else {
		b = eng.NewBatch()
	}
	defer func() {
		if pr != nil {
			_ = pr.Close() // its iterator reads the batch: closed first
		}
		_ = b.Close()
	}()
	ec.b = b
	out := make([]*kvpb.ResponseUnion, len(req.Requests))
	for i, q := range req.Requests {
		if out[i], err = evalWrite(ec, q); err != nil {
			if wait, key := lockWaitFor(req.Requests, err); wait > 0 {
				return nil, r.lockWaits.channel(key), err
			}
			return nil, nil, err
		}
	}
	// Again after evaluating: the checks may have missed history collected
	// by a GC that applied meanwhile (see replica_gc.go).
	if err := r.checkTxnThreshold(req.Requests); err != nil {
		return nil, nil, err
	}
	if b.Empty() {
		return out, nil, nil // nothing changed (failed CAS, delete of a missing key)
	}
	cmd := &kvpb.RaftCommand{WriteBatch: b.Repr(), Generation: desc.Generation, ProposerTerm: term,
		WriteTimestamp: ec.written, LockDelta: ec.lockDelta}
	_, done, err := r.register(cmd, r.group.Propose)
	if err != nil {
		return nil, nil, err
	}
	select {
	case err := <-done:
		if err != nil {
			return nil, nil, err
		}
		r.lockWaits.released(ec.cleared)
		return out, nil, nil
	case <-ctx.Done():
		// The command may still apply. Its latches must outlive it: a
		// request evaluated before it applies would read the state it is
		// about to change (two read-modify-writes would both apply).
		held = false
		go func() {
			select {
			case <-done:
				r.lockWaits.released(ec.cleared)
			case <-r.store.cfg.Raft.Stopped(): // never completes
			}
			release()
			r.splitMu.RUnlock()
		}()
		return nil, nil, kvpb.NewAmbiguousResult(ctx.Err())
	}
}

// onlyGets reports whether every request of a batch is a Get.
func onlyGets(reqs []*kvpb.RequestUnion) bool {
	for _, q := range reqs {
		if _, ok := q.Value.(*kvpb.RequestUnion_Get); !ok {
			return false
		}
	}
	return true
}

// onlyVersionsAt reports whether everything a write batch writes is versions
// at the batch's timestamp (plain writes, one-phase commits; its read
// validations write nothing): then a read below that timestamp cannot see
// any of it, and its latches are stamped with it.
func onlyVersionsAt(reqs []*kvpb.RequestUnion) bool {
	for _, q := range reqs {
		switch v := q.Value.(type) {
		case *kvpb.RequestUnion_Put, *kvpb.RequestUnion_Delete, *kvpb.RequestUnion_Cas, *kvpb.RequestUnion_Increment,
			*kvpb.RequestUnion_ValidateRead:
		case *kvpb.RequestUnion_Prewrite:
			if !v.Prewrite.OnePc {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// needsTimestamp reports whether a batch writes versions at a timestamp
// the leaseholder chooses: plain writes and one-phase commits.
func needsTimestamp(reqs []*kvpb.RequestUnion) bool {
	for _, q := range reqs {
		switch v := q.Value.(type) {
		case *kvpb.RequestUnion_Put, *kvpb.RequestUnion_Delete, *kvpb.RequestUnion_Cas, *kvpb.RequestUnion_Increment:
			return true
		case *kvpb.RequestUnion_Prewrite:
			if v.Prewrite.OnePc {
				return true
			}
		}
	}
	return false
}

// writeTimestamp chooses the timestamp of the batch's writes, with the
// batch's latches held. Outside the meta range it is a fresh timestamp of
// the cluster's oracle: above every snapshot a transaction read these keys
// at (those timestamps were handed out earlier, and such reads hold read
// latches until done), above every version (committed under latches
// earlier), and below every snapshot taken after the write is acknowledged
// — so transactions see plain writes in real-time order. The meta range
// holds the oracle's own state; it uses the node clock, kept above every
// version applied to the range (Replica.mu.maxWriteTS).
//
// A one-phase commit takes its timestamp from the oracle only for the first
// commit of a lease term; after that the leaseholder picks it
// (localCommitTimestamp).
func (r *Replica) writeTimestamp(ctx context.Context, reqs []*kvpb.RequestUnion, term uint64) (uint64, error) {
	clock := r.store.cfg.Clock
	fn := r.store.timestamps.Load()
	if r.RangeID == keys.MetaRangeID || fn == nil || !needsTimestamp(reqs) {
		return clock.Now(), nil
	}
	if ts, ok := r.localCommitTimestamp(reqs, term); ok {
		clock.Update(ts)
		return ts, nil
	}
	ts, err := (*fn)(ctx)
	if err != nil {
		return 0, fmt.Errorf("range %d: getting a write timestamp from the oracle: %w", r.RangeID, err)
	}
	r.setLowWater(ts, term)
	r.mu.Lock()
	// A no-op for timestamps of the oracle (fresh, they are above every
	// version, local commit timestamps included: those are one above an
	// older issued one).
	ts = max(ts, r.mu.maxWriteTS+1)
	r.mu.Unlock()
	clock.Update(ts)
	return ts, nil
}

func marshal(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err) // our own messages always marshal
	}
	return b
}

func unmarshal(b []byte, m proto.Message) error { return proto.Unmarshal(b, m) }

func encodeUint64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// readMaxWriteTS reads a range's persisted max write timestamp (0 if none).
func readMaxWriteTS(rd storage.Reader, rangeID uint64) (uint64, error) {
	v, err := storage.Get(rd, storage.RangeMaxWriteTSKey(rangeID))
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("range %d: corrupt max write timestamp", rangeID)
	}
	return binary.BigEndian.Uint64(v), nil
}

func isAdmin(q *kvpb.RequestUnion) bool {
	return q.GetAdminSplit() != nil || q.GetAdminChangeReplicas() != nil
}

// allocateTimestamps serves the timestamp oracle from the meta range's
// leaseholder, under a valid lease (so no other oracle is active).
func (r *Replica) allocateTimestamps(ctx context.Context, req *kvpb.TimestampRequest) ([]*kvpb.ResponseUnion, error) {
	if r.RangeID != keys.MetaRangeID {
		return nil, kvpb.NewErrorf("timestamps are served by the meta range, not range %d", r.RangeID)
	}
	term, desc, perr := r.leaseCheck()
	if perr != nil {
		return nil, perr
	}
	if !r.group.HasLease() {
		return nil, kvpb.NewNotLeaseholder(desc.RangeId, r.leaderHint(desc), desc)
	}
	o := r.store.oracle.Load()
	if o == nil {
		return nil, kvpb.NewNotLeaseholder(desc.RangeId, nil, desc)
	}
	first, err := (*o).Allocate(ctx, req.Count, term)
	if err != nil {
		return nil, err
	}
	return []*kvpb.ResponseUnion{{Value: &kvpb.ResponseUnion_Timestamp{Timestamp: &kvpb.TimestampResponse{First: first, Count: req.Count}}}}, nil
}

// DescriptorToPublish returns the descriptor if this replica leads the range
// and the meta directory may not yet hold its generation.
func (r *Replica) DescriptorToPublish() (*kvpb.RangeDescriptor, bool) {
	if !r.IsLeaseholder() {
		return nil, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	d := r.mu.desc
	return d, len(d.EndKey) > 0 && d.Generation > r.mu.publishedGen
}

// MarkPublished records that the meta directory holds generation gen.
func (r *Replica) MarkPublished(gen uint64) {
	r.mu.Lock()
	r.mu.publishedGen = max(r.mu.publishedGen, gen)
	r.mu.Unlock()
}
