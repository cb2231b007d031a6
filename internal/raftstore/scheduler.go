package raftstore

import "sync"

// Work flags for a queued group.
const (
	flagReady uint8 = 1 << iota // proposals or messages arrived
	flagTick                    // a tick is due
)

type schedState struct {
	flags      uint8
	queued     bool // Invariant: queued => the id is in queue exactly once.
	processing bool // a worker owns the group; new work is kept in flags
}

// scheduler is a FIFO of group ids with per-group work flags. A group is
// processed by at most one worker at a time: work that arrives while it is
// processing is remembered and the group re-queued when the worker is done.
// Its size is bounded by the number of groups.
type scheduler struct {
	mu struct {
		sync.Mutex
		queue   []uint64
		state   map[uint64]*schedState
		stopped bool
	}
	cond *sync.Cond
}

func newScheduler() *scheduler {
	s := &scheduler{}
	s.mu.state = make(map[uint64]*schedState)
	s.cond = sync.NewCond(&s.mu.Mutex)
	return s
}

func (s *scheduler) enqueue(id uint64, flags uint8) {
	s.mu.Lock()
	s.enqueueLocked(id, flags)
	s.mu.Unlock()
	s.cond.Signal()
}

func (s *scheduler) enqueueLocked(id uint64, flags uint8) {
	st := s.mu.state[id]
	if st == nil {
		st = &schedState{}
		s.mu.state[id] = st
	}
	st.flags |= flags
	if !st.queued && !st.processing {
		st.queued = true
		s.mu.queue = append(s.mu.queue, id)
	}
}

// enqueueAll adds flags to every id; used by the ticker.
func (s *scheduler) enqueueAll(ids []uint64, flags uint8) {
	s.mu.Lock()
	for _, id := range ids {
		s.enqueueLocked(id, flags)
	}
	s.mu.Unlock()
	s.cond.Broadcast()
}

type schedItem struct {
	id    uint64
	flags uint8
}

// next blocks until work is queued and returns up to max items, marking
// them processing. It returns nil once stopped.
func (s *scheduler) next(max int, buf []schedItem) []schedItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.mu.queue) == 0 && !s.mu.stopped {
		s.cond.Wait()
	}
	if s.mu.stopped {
		return nil
	}
	n := min(max, len(s.mu.queue))
	buf = buf[:0]
	for _, id := range s.mu.queue[:n] {
		st := s.mu.state[id]
		buf = append(buf, schedItem{id: id, flags: st.flags})
		st.flags, st.queued, st.processing = 0, false, true
	}
	s.mu.queue = append(s.mu.queue[:0], s.mu.queue[n:]...)
	if len(s.mu.queue) > 0 {
		s.cond.Signal() // let another worker take the rest
	}
	return buf
}

// done releases a group after processing and re-queues it if work arrived.
func (s *scheduler) done(items []schedItem) {
	s.mu.Lock()
	requeued := false
	for _, it := range items {
		st := s.mu.state[it.id]
		if st == nil {
			continue
		}
		st.processing = false
		if st.flags != 0 && !st.queued {
			st.queued = true
			s.mu.queue = append(s.mu.queue, it.id)
			requeued = true
		}
	}
	s.mu.Unlock()
	if requeued {
		s.cond.Signal()
	}
}

func (s *scheduler) remove(id uint64) {
	s.mu.Lock()
	if st := s.mu.state[id]; st != nil && !st.queued && !st.processing {
		delete(s.mu.state, id)
	}
	s.mu.Unlock()
}

func (s *scheduler) stop() {
	s.mu.Lock()
	s.mu.stopped = true
	s.mu.Unlock()
	s.cond.Broadcast()
}

// processing reports whether a worker currently owns the group.
func (s *scheduler) processing(id uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.mu.state[id]
	return st != nil && st.processing
}
