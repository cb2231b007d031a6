package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/cockroachdb/pebble/v2"
)

// LockOp is what a transaction's lock will do to its key on commit.
type LockOp byte

// Lock operations.
const (
	LockPut    LockOp = 1
	LockDelete LockOp = 2
	// LockPessimistic is a lock taken before the transaction writes (SELECT
	// FOR UPDATE, UPDATE): writers wait for it, readers ignore it, and the
	// transaction's prewrite turns it into one of the others.
	LockPessimistic LockOp = 3
	// LockKeyOnly is a prewrite that changes nothing: a locked key the
	// transaction did not write. Committing it writes a marker version that
	// records the outcome (for a primary) and that reads skip.
	LockKeyOnly LockOp = 4
)

// BlocksReads reports whether a reader at or above the lock's start must
// resolve the lock first: only locks that will write a value do. A
// pessimistic lock's owner takes its commit timestamp after prewriting, so
// above every read that missed the prewrite.
func (op LockOp) BlocksReads() bool { return op == LockPut || op == LockDelete }

// Lock is a transaction's prewritten, not yet committed write of a key
// (Percolator). It is stored at EncodeLockKey(key) and carries the value,
// so committing a key needs nothing but the commit timestamp.
type Lock struct {
	// Primary is the transaction's primary key: its commit record decides
	// the fate of every lock of the transaction.
	Primary []byte
	StartTS uint64
	// TTLMillis is how long after the physical time of StartTS the lock
	// lives unless heartbeated (heartbeats raise it).
	TTLMillis uint64
	Op        LockOp
	Value     []byte
}

const lockFormat byte = 1

// EncodeLock serialises l.
func EncodeLock(l *Lock) []byte {
	b := make([]byte, 0, 2+3*binary.MaxVarintLen64+len(l.Primary)+len(l.Value))
	b = append(b, lockFormat, byte(l.Op))
	b = binary.AppendUvarint(b, l.StartTS)
	b = binary.AppendUvarint(b, l.TTLMillis)
	b = binary.AppendUvarint(b, uint64(len(l.Primary)))
	b = append(b, l.Primary...)
	return append(b, l.Value...)
}

var errCorruptLock = errors.New("storage: corrupt lock record")

// DecodeLock parses a lock record; the result does not alias b.
func DecodeLock(b []byte) (*Lock, error) {
	if len(b) < 2 || b[0] != lockFormat || LockOp(b[1]) < LockPut || LockOp(b[1]) > LockKeyOnly {
		return nil, errCorruptLock
	}
	l := &Lock{Op: LockOp(b[1])}
	b = b[2:]
	var fields [3]uint64
	for i := range fields {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errCorruptLock
		}
		fields[i], b = v, b[n:]
	}
	l.StartTS, l.TTLMillis = fields[0], fields[1]
	if fields[2] > uint64(len(b)) {
		return nil, errCorruptLock
	}
	l.Primary = append([]byte(nil), b[:fields[2]]...)
	l.Value = append([]byte(nil), b[fields[2]:]...)
	return l, nil
}

// KeyLock is a lock and the key it locks.
type KeyLock struct {
	Key  []byte
	Lock *Lock
}

// LockedError reports locks that a read or write must wait for or resolve.
type LockedError struct {
	Locks []KeyLock
}

func (e *LockedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "storage: %d key(s) locked by transactions", len(e.Locks))
	if len(e.Locks) > 0 {
		fmt.Fprintf(&b, " (first %q, start ts %d)", e.Locks[0].Key, e.Locks[0].Lock.StartTS)
	}
	return b.String()
}

// GetLock returns key's lock, nil when there is none.
func GetLock(r Reader, key []byte) (*Lock, error) {
	v, err := Get(r, EncodeLockKey(key))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return DecodeLock(v)
}

// PutLock writes key's lock.
func PutLock(w Writer, key []byte, l *Lock) error {
	return w.Set(EncodeLockKey(key), EncodeLock(l), nil)
}

// ClearLock removes key's lock.
func ClearLock(w Writer, key []byte) error { return w.Delete(EncodeLockKey(key), nil) }

// MVCCPutCommitted writes the committed version of a transaction's write
// of key at commitTS, recording the transaction's startTS.
func MVCCPutCommitted(w Writer, key []byte, commitTS, startTS uint64, op LockOp, value []byte) error {
	if commitTS <= startTS || startTS == 0 {
		return fmt.Errorf("storage: commit ts %d not above start ts %d", commitTS, startTS)
	}
	var v []byte
	switch op {
	case LockDelete, LockKeyOnly:
		v = make([]byte, 9)
		v[0] = valueTagTxnDelete
		if op == LockKeyOnly {
			v[0] = valueTagTxnLock
		}
	case LockPut:
		v = make([]byte, 9+len(value))
		v[0] = valueTagTxnLive
		copy(v[9:], value)
	default:
		return fmt.Errorf("storage: cannot commit a lock of op %d", op)
	}
	binary.BigEndian.PutUint64(v[1:9], startTS)
	return w.Set(EncodeMVCCKey(key, commitTS), v, nil)
}

// PutRollback writes a rollback marker for the transaction that started at
// startTS: invisible to reads, it makes a late prewrite of that transaction
// fail. A version already at startTS is left alone (it already makes such a
// prewrite fail, as a write conflict).
func PutRollback(r Reader, w Writer, key []byte, startTS uint64) error {
	k := EncodeMVCCKey(key, startTS)
	if _, err := Get(r, k); err == nil {
		return nil
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	return w.Set(k, []byte{valueTagRollback}, nil)
}

// TxnKeyState is what became of one transaction's write of one key.
type TxnKeyState int

// Outcomes found by FindTxnWrite.
const (
	TxnKeyNone       TxnKeyState = iota // no record of the transaction at the key
	TxnKeyCommitted                     // committed; the commit timestamp is returned
	TxnKeyRolledBack                    // a rollback marker exists
)

// FindTxnWrite looks among the versions of key at or above startTS for the
// outcome of the transaction that started at startTS.
func FindTxnWrite(r Reader, key []byte, startTS uint64) (TxnKeyState, uint64, error) {
	c, err := CheckTxnWrite(r, key, startTS, MaxTimestamp)
	return c.State, c.CommitTS, err
}

// TxnWriteCheck is what CheckTxnWrite found.
type TxnWriteCheck struct {
	State    TxnKeyState
	CommitTS uint64 // State == TxnKeyCommitted: the commit timestamp
	// Newer: another transaction's (or a plain) version at or above the
	// since timestamp exists — a write conflict. Markers do not count.
	Newer bool
}

// CheckTxnWrite is a prewrite's look at key, in one pass over the versions
// at or above startTS: the outcome of the transaction that started at
// startTS, if any, and whether a version at or above since exists.
func CheckTxnWrite(r Reader, key []byte, startTS, since uint64) (TxnWriteCheck, error) {
	var out TxnWriteCheck
	lo := EncodeMVCCKey(key, MaxTimestamp)
	hi := EncodeMVCCKey(key, startTS-1)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return out, err
	}
	defer it.Close()
	for valid := it.First(); valid; valid = it.Next() {
		_, vts, err := DecodeMVCCKey(it.Key())
		if err != nil {
			return out, err
		}
		raw, err := it.ValueAndErr()
		if err != nil {
			return out, err
		}
		ver, err := decodeVersion(raw)
		if err != nil {
			return out, err
		}
		switch {
		case ver.rollback && vts == startTS:
			out.State = TxnKeyRolledBack
			return out, nil
		case !ver.rollback && ver.startTS == startTS:
			out.State, out.CommitTS = TxnKeyCommitted, vts
			return out, nil
		case !ver.invisible() && vts >= since:
			out.Newer = true
		}
	}
	return out, it.Error()
}

// MVCCFindConflict looks in [start, end) (end nil: the single key start) for
// what a transaction that read the span at afterTS and commits at upToTS
// conflicts with: a version committed in (afterTS, upToTS], or a lock of
// another transaction (one that started below upToTS may still commit
// below it). It returns the first conflicting key, nil when there is none.
func MVCCFindConflict(r Reader, start, end []byte, afterTS, upToTS, ownStartTS uint64) ([]byte, error) {
	var lower, upper []byte
	if end == nil {
		lower = MVCCKeyPrefix(start)
		upper = prefixEnd(lower)
	} else {
		lower, upper = MVCCSpan(start, end)
	}
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for valid := it.First(); valid; {
		key, vts, isLock, err := DecodeDataKey(it.Key())
		if err != nil {
			return nil, err
		}
		raw, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		if isLock {
			l, err := DecodeLock(raw)
			if err != nil {
				return nil, err
			}
			if l.StartTS != ownStartTS && l.StartTS < upToTS && l.Op.BlocksReads() {
				return append([]byte(nil), key...), nil
			}
			valid = it.Next()
			continue
		}
		if vts > afterTS && vts <= upToTS {
			ver, err := decodeVersion(raw)
			if err != nil {
				return nil, err
			}
			if !ver.invisible() && ver.startTS != ownStartTS {
				return append([]byte(nil), key...), nil
			}
			valid = it.Next()
			continue
		}
		if vts > upToTS {
			valid = it.SeekGE(EncodeMVCCKey(key, upToTS))
			continue
		}
		// Older than afterTS: nothing more of this key matters.
		valid = it.SeekGE(prefixEnd(MVCCKeyPrefix(key)))
	}
	return nil, it.Error()
}
