package catalog

import (
	"context"
	"sync"

	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/kvpb"
)

// DefaultCacheEntries bounds the descriptors a Cache holds; past it, the
// cache starts over empty.
const DefaultCacheEntries = 10000

type nameKey struct {
	parentID     uint32
	schema, name string
}

// Cache holds one node's copy of the table and database descriptors of one
// catalog version, shared by all sessions. A Resolver, made per statement,
// reads the catalog version in the statement's transaction (one Get) and
// uses the cache only when it holds that very version; otherwise it reads
// through the transaction, and refills the cache if its version is newer.
//
// Why this is consistent: every schema change bumps the version key in its
// own transaction, so descriptors read at a snapshot are a function of the
// version read at that snapshot; the cache only ever stores descriptors
// read (by a REPEATABLE READ or SERIALIZABLE transaction, whose reads share
// one snapshot) together with the version they belong to; and a
// transaction that changed the catalog itself bypasses the cache, since it
// sees its own uncommitted changes under the old version number. Under
// SERIALIZABLE the read of the version key also makes the transaction
// conflict with any schema change that commits before it does.
type Cache struct {
	maxEntries int

	mu struct {
		sync.Mutex
		// valid: the maps hold the descriptors of version.
		valid   bool
		version uint64
		// names maps a table's name to its id, 0 for "no such name".
		names  map[nameKey]uint32
		tables map[uint32]*TableDescriptor
		// databases maps a name to its descriptor, nil for "none".
		databases map[string]*DatabaseDescriptor
		entries   int
	}
}

// NewCache returns an empty cache.
func NewCache() *Cache {
	return &Cache{maxEntries: DefaultCacheEntries}
}

// resetLocked empties the cache and makes it hold version v.
func (c *Cache) resetLocked(v uint64) {
	c.mu.valid, c.mu.version = true, v
	c.mu.names = make(map[nameKey]uint32)
	c.mu.tables = make(map[uint32]*TableDescriptor)
	c.mu.databases = make(map[string]*DatabaseDescriptor)
	c.mu.entries = 0
}

// Resolver resolves names for one statement of one transaction. It is not
// safe for concurrent use. Descriptors it returns may be shared with other
// sessions: Clone one before changing it.
type Resolver struct {
	cache   *Cache
	txn     *kv.Txn
	version uint64
	// fill: lookups may store what they read in the cache (the
	// transaction reads at one snapshot).
	fill bool
}

// Resolver reads the catalog version in txn and returns a resolver for
// one statement. After a schema change in txn, the resolver bypasses the
// cache (see WroteCatalog).
func (c *Cache) Resolver(ctx context.Context, txn *kv.Txn) (*Resolver, error) {
	v, err := Version(ctx, txn)
	if err != nil {
		return nil, err
	}
	return c.ResolverAt(txn, v), nil
}

// ResolverAt is Resolver for a transaction that already read the catalog
// version v: a later statement of a REPEATABLE READ or SERIALIZABLE
// transaction that has not changed the catalog (it reads at one snapshot,
// and a refresh of that snapshot validates the version read), which saves
// the read.
func (c *Cache) ResolverAt(txn *kv.Txn, v uint64) *Resolver {
	return &Resolver{cache: c, txn: txn, version: v, fill: txn.Isolation() != kvpb.IsolationLevel_READ_COMMITTED}
}

// Version is the catalog version the resolver's transaction read.
func (r *Resolver) Version() uint64 { return r.version }

// Txn is the resolver's transaction.
func (r *Resolver) Txn() *kv.Txn { return r.txn }

// lockedCache returns the cache locked when it may serve (and be filled
// with) descriptors of the resolver's version, after starting it over if
// the version is newer than the cache's; else nil.
func (r *Resolver) lockedCache() *Cache {
	if WroteCatalog(r.txn) {
		return nil
	}
	c := r.cache
	c.mu.Lock()
	if !c.mu.valid || r.version > c.mu.version {
		if !r.fill {
			c.mu.Unlock()
			return nil
		}
		c.resetLocked(r.version)
	}
	if r.version != c.mu.version {
		c.mu.Unlock()
		return nil // an old snapshot: read through
	}
	return c
}

// addLocked counts a new entry, starting over when the cache is full.
func (c *Cache) addLocked() {
	c.mu.entries++
	if c.mu.entries > c.maxEntries {
		c.resetLocked(c.mu.version)
		c.mu.entries = 1
	}
}

// GetDatabase is GetDatabase through the cache.
func (r *Resolver) GetDatabase(ctx context.Context, name string) (*DatabaseDescriptor, error) {
	if c := r.lockedCache(); c != nil {
		d, ok := c.mu.databases[name]
		c.mu.Unlock()
		if ok {
			return d, nil
		}
	}
	d, err := GetDatabase(ctx, r.txn, name)
	if err != nil {
		return nil, err
	}
	if r.fill {
		if c := r.lockedCache(); c != nil {
			c.mu.databases[name] = d
			c.addLocked()
			c.mu.Unlock()
		}
	}
	return d, nil
}

// GetTable is GetTable through the cache.
func (r *Resolver) GetTable(ctx context.Context, dbID uint32, schema, name string) (*TableDescriptor, error) {
	k := nameKey{dbID, schema, name}
	if c := r.lockedCache(); c != nil {
		id, ok := c.mu.names[k]
		t := c.mu.tables[id]
		c.mu.Unlock()
		switch {
		case ok && id == 0:
			return nil, nil
		case ok && t != nil:
			return t, nil
		}
	}
	t, err := GetTable(ctx, r.txn, dbID, schema, name)
	if err != nil {
		return nil, err // a sequence of that name (42809) is not cached either
	}
	r.store(k, t)
	return t, nil
}

// GetTableByID is GetTableByID through the cache.
func (r *Resolver) GetTableByID(ctx context.Context, id uint32) (*TableDescriptor, error) {
	if c := r.lockedCache(); c != nil {
		t := c.mu.tables[id]
		c.mu.Unlock()
		if t != nil {
			return t, nil
		}
	}
	t, err := GetTableByID(ctx, r.txn, id)
	if err != nil || t == nil {
		return nil, err
	}
	r.store(nameKey{t.ParentID, t.Schema, t.Name}, t)
	return t, nil
}

// store caches a table read by name (t nil: there is no such table).
func (r *Resolver) store(k nameKey, t *TableDescriptor) {
	if !r.fill {
		return
	}
	c := r.lockedCache()
	if c == nil {
		return
	}
	defer c.mu.Unlock()
	if t == nil {
		c.mu.names[k] = 0
	} else {
		c.mu.names[k] = t.ID
		c.mu.tables[t.ID] = t
	}
	c.addLocked()
}
