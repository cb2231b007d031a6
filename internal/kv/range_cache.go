package kv

import (
	"bytes"
	"sort"
	"sync"

	"github.com/cairndb/cairn/internal/kvpb"
)

// maxCachedRanges bounds the cache; past it the cache is cleared and refilled
// on demand.
const maxCachedRanges = 1 << 16

// rangeCache maps keys to range descriptors. Entries never overlap.
type rangeCache struct {
	mu struct {
		sync.RWMutex
		byEnd []*kvpb.RangeDescriptor // sorted by EndKey
	}
}

// lookup returns the cached range containing key, or nil.
func (c *rangeCache) lookup(key []byte) *kvpb.RangeDescriptor {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ds := c.mu.byEnd
	i := sort.Search(len(ds), func(i int) bool { return bytes.Compare(ds[i].EndKey, key) > 0 })
	if i < len(ds) && bytes.Compare(ds[i].StartKey, key) <= 0 {
		return ds[i]
	}
	return nil
}

// insert adds descriptors, evicting every cached entry they overlap.
func (c *rangeCache) insert(descs ...*kvpb.RangeDescriptor) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range descs {
		if d == nil {
			continue
		}
		kept := c.mu.byEnd[:0:0]
		for _, e := range c.mu.byEnd {
			overlaps := bytes.Compare(e.StartKey, d.EndKey) < 0 && bytes.Compare(d.StartKey, e.EndKey) < 0
			if overlaps && e.Generation > d.Generation {
				d = nil // the cache already holds something newer
				break
			}
			if !overlaps {
				kept = append(kept, e)
			}
		}
		if d == nil {
			continue
		}
		if len(kept) >= maxCachedRanges {
			kept = kept[:0]
		}
		i := sort.Search(len(kept), func(i int) bool { return bytes.Compare(kept[i].EndKey, d.EndKey) > 0 })
		kept = append(kept, nil)
		copy(kept[i+1:], kept[i:])
		kept[i] = d
		c.mu.byEnd = kept
	}
}

// evict drops the entry for a range unless it is newer than the given
// descriptor: the one found stale, or an older one (the router may have
// moved on to a newer descriptor, its replica's or a hint's, than the one
// it looked up in the cache).
func (c *rangeCache) evict(d *kvpb.RangeDescriptor) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.mu.byEnd {
		if e.RangeId == d.RangeId && e.Generation <= d.Generation {
			c.mu.byEnd = append(c.mu.byEnd[:i:i], c.mu.byEnd[i+1:]...)
			return
		}
	}
}
