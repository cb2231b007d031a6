package replica

import (
	"bytes"
	"context"
	"slices"
	"sync"
)

// latchManager serialises writers per key. Keys are acquired in sorted order
// so two batches never deadlock. The number of held latches is bounded by
// the number of in-flight writes (each bounded in keys by MaxBatchRequests).
type latchManager struct {
	mu   sync.Mutex
	held map[string]chan struct{} // closed on release
}

func newLatchManager() *latchManager {
	return &latchManager{held: make(map[string]chan struct{})}
}

// acquire takes latches on keys; the caller must call the returned release.
func (m *latchManager) acquire(ctx context.Context, keys [][]byte) (release func(), err error) {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, bytes.Compare)
	keys = slices.CompactFunc(keys, bytes.Equal)
	got := make([]string, 0, len(keys))
	release = func() {
		m.mu.Lock()
		for _, k := range got {
			close(m.held[k])
			delete(m.held, k)
		}
		m.mu.Unlock()
	}
	for _, k := range keys {
		ks := string(k)
		for {
			m.mu.Lock()
			ch, busy := m.held[ks]
			if !busy {
				m.held[ks] = make(chan struct{})
				m.mu.Unlock()
				got = append(got, ks)
				break
			}
			m.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				release()
				return nil, ctx.Err()
			}
		}
	}
	return release, nil
}
