package catalog

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"sync"
	"weak"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/sql/sqlerr"
)

// maxScanKeys bounds the keys read by one catalog scan (the names in one
// database, or the databases): a limit on what a single DDL may load.
const maxScanKeys = 100000

// catalogWriters holds the transactions that changed the catalog (and
// bumped its version) but have not been garbage collected: the Cache never
// serves or stores descriptors for them, because what they read includes
// their own uncommitted changes. Keys are weak pointers, so the registry
// does not keep a transaction alive; a cleanup removes the entry.
var catalogWriters sync.Map // weak.Pointer[kv.Txn] -> struct{}

func markCatalogWrite(txn *kv.Txn) {
	wp := weak.Make(txn)
	if _, loaded := catalogWriters.LoadOrStore(wp, struct{}{}); !loaded {
		runtime.AddCleanup(txn, func(wp weak.Pointer[kv.Txn]) { catalogWriters.Delete(wp) }, wp)
	}
}

// WroteCatalog reports whether txn has changed the catalog.
func WroteCatalog(txn *kv.Txn) bool {
	_, ok := catalogWriters.Load(weak.Make(txn))
	return ok
}

// beginDDL prepares txn for a catalog change: it bumps the catalog version
// (which also orders every DDL after every other: they all write the
// version key) and records that txn wrote the catalog.
//
// A READ COMMITTED transaction is refused: it detects no write-write
// conflict with what committed after it read, so two of them could both
// allocate the same descriptor id or claim the same name.
func beginDDL(ctx context.Context, txn *kv.Txn) error {
	if txn.Isolation() == kvpb.IsolationLevel_READ_COMMITTED {
		return sqlerr.Unsupportedf("schema changes are not supported in READ COMMITTED transactions").
			WithHint("run the statement in a REPEATABLE READ or SERIALIZABLE transaction")
	}
	v, err := readCounter(ctx, txn, keys.CatalogVersionKey())
	if err != nil {
		return err
	}
	if err := txn.Put(keys.CatalogVersionKey(), keys.EncodeCounter(v+1)); err != nil {
		return err
	}
	markCatalogWrite(txn)
	return nil
}

// Version returns the catalog version as txn sees it: bumped by every
// committed schema change.
func Version(ctx context.Context, txn *kv.Txn) (uint64, error) {
	// Validated at commit at every isolation level: a writer that used a
	// catalog version cannot commit after a schema change replaced it (an
	// index backfill would miss its rows).
	r, err := txn.GetValidated(ctx, keys.CatalogVersionKey())
	if err != nil || !r.Found {
		return 0, err
	}
	v, err := keys.DecodeCounter(r.Value)
	return uint64(v), err
}

func readCounter(ctx context.Context, txn *kv.Txn, key []byte) (int64, error) {
	r, err := txn.Get(ctx, key)
	if err != nil {
		return 0, err
	}
	if !r.Found {
		return 0, nil
	}
	return keys.DecodeCounter(r.Value)
}

// AllocateDescriptorID reserves a descriptor id in txn (a read-modify-write
// of the id counter, so an aborted DDL leaves no gap). CreateTable calls
// it for a descriptor without id; a caller that needs the id earlier (a
// table whose foreign key references itself) calls it first.
func AllocateDescriptorID(ctx context.Context, txn *kv.Txn) (uint32, error) {
	last, err := readCounter(ctx, txn, keys.DescIDCounterKey())
	if err != nil {
		return 0, err
	}
	id := max(last+1, FirstDescriptorID)
	if id > math.MaxUint32 {
		return 0, sqlerr.New(sqlerr.CodeProgramLimitExceeded, "out of descriptor ids")
	}
	if err := txn.Put(keys.DescIDCounterKey(), keys.EncodeCounter(id)); err != nil {
		return 0, err
	}
	return uint32(id), nil
}

func getDescriptor(ctx context.Context, txn *kv.Txn, id uint32) (decoded, error) {
	r, err := txn.Get(ctx, keys.DescriptorKey(id))
	if err != nil || !r.Found {
		return decoded{}, err
	}
	return decodeDescriptor(r.Value)
}

// lookupName returns the id a name entry holds, 0 if there is none.
func lookupName(ctx context.Context, txn *kv.Txn, parentID uint32, schema, name string) (uint32, error) {
	if !validName(schema) || !validName(name) {
		return 0, nil // no such name can have been created
	}
	r, err := txn.Get(ctx, keys.NamespaceKey(parentID, schema, name))
	if err != nil || !r.Found {
		return 0, err
	}
	return decodeID(r.Value)
}

func decodeID(b []byte) (uint32, error) {
	if len(b) != 4 {
		return 0, fmt.Errorf("catalog: corrupt name entry (%d bytes)", len(b))
	}
	return binary.BigEndian.Uint32(b), nil
}

func encodeID(id uint32) []byte { return binary.BigEndian.AppendUint32(nil, id) }

func validName(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return false
		}
	}
	return true
}

func checkName(names ...string) error {
	for _, n := range names {
		if n == "" {
			return sqlerr.New(sqlerr.CodeInvalidParameterValue, "zero-length name")
		}
		if !validName(n) {
			return sqlerr.New(sqlerr.CodeInvalidParameterValue, "names cannot contain a NUL byte")
		}
	}
	return nil
}

// scanIDs returns the ids of the name entries under parentID, in name
// order.
func scanIDs(ctx context.Context, txn *kv.Txn, parentID uint32) ([]uint32, error) {
	start, end := keys.NamespaceSpan(parentID)
	var ids []uint32
	for {
		resp, err := txn.Scan(ctx, start, end, 0)
		if err != nil {
			return nil, err
		}
		for _, kv := range resp.Kvs {
			id, err := decodeID(kv.Value)
			if err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		if len(ids) > maxScanKeys {
			return nil, sqlerr.Newf(sqlerr.CodeProgramLimitExceeded, "more than %d objects in one database", maxScanKeys)
		}
		if !resp.More {
			return ids, nil
		}
		start = resp.ResumeKey
	}
}

// getDescriptors reads the descriptors with ids in one round of requests;
// missing ones are left zero.
func getDescriptors(ctx context.Context, txn *kv.Txn, ids []uint32) ([]decoded, error) {
	ks := make([][]byte, len(ids))
	for i, id := range ids {
		ks[i] = keys.DescriptorKey(id)
	}
	resps, err := txn.GetMany(ctx, ks)
	if err != nil {
		return nil, err
	}
	out := make([]decoded, len(ids))
	for i, r := range resps {
		if r.Found {
			if out[i], err = decodeDescriptor(r.Value); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// RunTxn runs fn in a SERIALIZABLE transaction and commits it, retrying
// (a bounded number of times) when the transaction conflicts or its commit
// is ambiguous; fn must therefore be idempotent given what it reads.
func RunTxn(ctx context.Context, db *kv.DB, fn func(ctx context.Context, txn *kv.Txn) error) error {
	const maxAttempts = 20
	var err error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		var txn *kv.Txn
		if txn, err = db.Begin(ctx, kv.TxnOptions{Isolation: kvpb.IsolationLevel_SERIALIZABLE}); err != nil {
			return err
		}
		if err = fn(ctx, txn); err == nil {
			_, err = txn.Commit(ctx)
		} else {
			txn.Rollback()
		}
		if err == nil || !(kvpb.IsRetryable(err) || kvpb.IsAmbiguous(err)) || ctx.Err() != nil {
			return err
		}
	}
	return fmt.Errorf("catalog: transaction failed after %d attempts: %w", maxAttempts, err)
}
