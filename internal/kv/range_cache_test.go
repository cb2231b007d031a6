package kv

import (
	"fmt"
	"sync"
	"testing"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
)

func desc(id uint64, start, end string, gen uint64) *kvpb.RangeDescriptor {
	d := &kvpb.RangeDescriptor{RangeId: id, StartKey: []byte(start), EndKey: []byte(end), Generation: gen}
	if end == "max" {
		d.EndKey = append([]byte(nil), keys.KeyMax...)
	}
	return d
}

func descString(d *kvpb.RangeDescriptor) string {
	if d == nil {
		return "<nil>"
	}
	return fmt.Sprintf("r%d[%q,%q)g%d", d.RangeId, d.StartKey, d.EndKey, d.Generation)
}

// cacheContents lists the cached descriptors in order.
func (c *rangeCache) contents() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []string
	for _, d := range c.mu.byEnd {
		out = append(out, descString(d))
	}
	return fmt.Sprint(out)
}

func checkLookups(t *testing.T, c *rangeCache, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if got := descString(c.lookup([]byte(k))); got != w {
			t.Errorf("lookup(%q) = %s, want %s (cache: %s)", k, got, w, c.contents())
		}
	}
}

func TestRangeCacheLookup(t *testing.T) {
	var c rangeCache
	if d := c.lookup([]byte("a")); d != nil {
		t.Fatalf("empty cache returned %s", descString(d))
	}
	r1, r2, r3 := desc(1, "b", "d", 1), desc(2, "d", "f", 1), desc(3, "h", "max", 1)
	c.insert(r3, r1, r2) // any order
	checkLookups(t, &c, map[string]string{
		"":         "<nil>",
		"a":        "<nil>",
		"b":        descString(r1), // start is inclusive
		"b\x00":    descString(r1),
		"c\xff":    descString(r1),
		"d":        descString(r2), // end is exclusive
		"e":        descString(r2),
		"f":        "<nil>", // a hole between r2 and r3
		"g\xff":    "<nil>",
		"h":        descString(r3),
		"zzz":      descString(r3),
		"\xff\xfe": descString(r3),
		"\xff\xff": "<nil>", // KeyMax is past every range
	})
	if got := c.contents(); got != fmt.Sprint([]string{descString(r1), descString(r2), descString(r3)}) {
		t.Fatalf("cache not sorted by end key: %s", got)
	}
}

// TestRangeCacheSplitReplacesParent: the two halves of a split (a newer
// generation) evict the parent they overlap and nothing else.
func TestRangeCacheSplitReplacesParent(t *testing.T) {
	var c rangeCache
	before, parent, after := desc(1, "a", "c", 1), desc(2, "c", "m", 1), desc(3, "m", "max", 1)
	c.insert(before, parent, after)
	left, right := desc(2, "c", "g", 2), desc(4, "g", "m", 2)
	c.insert(left, right)
	checkLookups(t, &c, map[string]string{
		"b": descString(before),
		"c": descString(left),
		"f": descString(left),
		"g": descString(right),
		"l": descString(right),
		"m": descString(after),
	})
	// Only the right half known yet: the parent is evicted, the left part
	// of its span becomes a miss.
	var c2 rangeCache
	c2.insert(parent)
	c2.insert(right)
	checkLookups(t, &c2, map[string]string{"d": "<nil>", "h": descString(right)})
}

// TestRangeCacheGenerations: a newer generation replaces an overlapping
// entry, an older one is ignored, the same generation replaces.
func TestRangeCacheGenerations(t *testing.T) {
	var c rangeCache
	left, right := desc(2, "c", "g", 2), desc(4, "g", "m", 2)
	c.insert(left, right)

	stale := desc(2, "c", "m", 1) // the parent, learned late from a stale source
	c.insert(stale)
	checkLookups(t, &c, map[string]string{"d": descString(left), "h": descString(right)})

	// Equal generation (the same descriptor again, or a refreshed copy).
	same := desc(2, "c", "g", 2)
	c.insert(same)
	if got := c.lookup([]byte("d")); got != same {
		t.Fatalf("equal generation did not replace: %s", descString(got))
	}
	// A newer generation covering both (as if merged) evicts both.
	merged := desc(2, "c", "m", 3)
	c.insert(merged)
	checkLookups(t, &c, map[string]string{"d": descString(merged), "h": descString(merged)})
	if got := c.contents(); got != fmt.Sprint([]string{descString(merged)}) {
		t.Fatalf("overlapping entries left: %s", got)
	}
	// An older descriptor that overlaps nothing is simply added.
	c.insert(desc(9, "x", "y", 1))
	checkLookups(t, &c, map[string]string{"x": descString(desc(9, "x", "y", 1))})
	c.insert(nil) // ignored
}

func TestRangeCacheEvict(t *testing.T) {
	var c rangeCache
	r1, r2 := desc(1, "a", "c", 1), desc(2, "c", "e", 1)
	c.insert(r1, r2)
	c.evict(desc(2, "c", "e", 0)) // another generation of range 2: kept
	if c.lookup([]byte("d")) != r2 {
		t.Fatal("evict removed an entry of another generation")
	}
	c.evict(desc(3, "c", "e", 1)) // another range: kept
	if c.lookup([]byte("d")) != r2 {
		t.Fatal("evict removed an entry of another range")
	}
	c.evict(r2)
	checkLookups(t, &c, map[string]string{"b": descString(r1), "d": "<nil>"})
	c.evict(r2) // already gone: no-op
	c.evict(desc(1, "a", "c", 1))
	if got := c.contents(); got != "[]" {
		t.Fatalf("cache after evicting everything: %s", got)
	}
}

// TestRangeCacheEvictDoesNotAliasLookups: a descriptor returned by lookup
// stays intact when the cache changes afterwards.
func TestRangeCacheEvictDoesNotAliasLookups(t *testing.T) {
	var c rangeCache
	r1, r2, r3 := desc(1, "a", "c", 1), desc(2, "c", "e", 1), desc(3, "e", "g", 1)
	c.insert(r1, r2, r3)
	c.evict(r1)
	c.insert(desc(4, "a", "b", 2))
	checkLookups(t, &c, map[string]string{"a": descString(desc(4, "a", "b", 2)), "d": descString(r2), "f": descString(r3)})
	if descString(r2) != `r2["c","e")g1` {
		t.Fatalf("a cached descriptor was modified: %s", descString(r2))
	}
}

func TestRangeCacheConcurrent(t *testing.T) {
	var c rangeCache
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				gen := uint64(i)
				start := fmt.Sprintf("%03d", (i*7+w)%100)
				d := desc(uint64(w*1000+i), start, start+"\xff", gen)
				c.insert(d)
				if got := c.lookup([]byte(start)); got != nil && got.Generation < gen && got.RangeId == d.RangeId {
					t.Errorf("lookup returned an older entry of the same range")
				}
				if i%10 == 0 {
					c.evict(d)
				}
			}
		}(w)
	}
	wg.Wait()
	// Entries never overlap.
	c.mu.RLock()
	defer c.mu.RUnlock()
	for i := 1; i < len(c.mu.byEnd); i++ {
		prev, cur := c.mu.byEnd[i-1], c.mu.byEnd[i]
		if string(prev.EndKey) > string(cur.StartKey) {
			t.Fatalf("overlapping entries %s and %s", descString(prev), descString(cur))
		}
	}
}
