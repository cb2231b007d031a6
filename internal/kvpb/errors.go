package kvpb

import (
	"errors"
	"fmt"
)

// Error makes *Error a Go error so that typed range errors travel through
// ordinary error returns and across RPC boundaries unchanged.
func (e *Error) Error() string { return e.GetMessage() }

// NewRangeKeyMismatch reports that rangeID does not hold key; ranges are the
// descriptors the replica knows of (its own, and the other half after a split).
func NewRangeKeyMismatch(rangeID uint64, key []byte, ranges ...*RangeDescriptor) *Error {
	return &Error{
		Message: fmt.Sprintf("range %d does not contain key %q", rangeID, key),
		Detail:  &Error_RangeKeyMismatch{RangeKeyMismatch: &RangeKeyMismatch{RequestedRangeId: rangeID, Key: key, Ranges: ranges}},
	}
}

// NewNotLeaseholder reports that this replica cannot serve rangeID; hint is
// the leader it knows of (nil if none), desc its descriptor (may be nil).
func NewNotLeaseholder(rangeID uint64, hint *ReplicaDescriptor, desc ...*RangeDescriptor) *Error {
	nl := &NotLeaseholder{RangeId: rangeID, Hint: hint}
	if len(desc) > 0 {
		nl.Desc = desc[0]
	}
	return &Error{
		Message: fmt.Sprintf("not the leaseholder of range %d", rangeID),
		Detail:  &Error_NotLeaseholder{NotLeaseholder: nl},
	}
}

// NewRangeNotFound reports that this node has no replica of rangeID.
func NewRangeNotFound(rangeID uint64) *Error {
	return &Error{
		Message: fmt.Sprintf("range %d not found on this node", rangeID),
		Detail:  &Error_RangeNotFound{RangeNotFound: &RangeNotFound{RangeId: rangeID}},
	}
}

// NewAmbiguousResult reports that a write may or may not have been applied.
func NewAmbiguousResult(cause error) *Error {
	return &Error{
		Message: fmt.Sprintf("result is ambiguous: %v", cause),
		Detail:  &Error_AmbiguousResult{AmbiguousResult: &AmbiguousResult{}},
	}
}

// NewErrorf returns an Error without a typed detail.
func NewErrorf(format string, args ...any) *Error {
	return &Error{Message: fmt.Sprintf(format, args...)}
}

// AsError converts err into an *Error, keeping a typed one as it is.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Message: err.Error()}
}

// IsAmbiguous reports whether err says a write may have been applied.
func IsAmbiguous(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.GetAmbiguousResult() != nil
}

// IsWrite reports whether the request modifies data.
func IsWrite(r *RequestUnion) bool {
	switch r.Value.(type) {
	case *RequestUnion_Get, *RequestUnion_Scan, *RequestUnion_Timestamp:
		return false
	}
	return true
}

// RequestKeys returns the span a request touches: [key, key] for point
// requests (end nil), [start, end) for scans.
func RequestKeys(r *RequestUnion) (key, end []byte) {
	switch v := r.Value.(type) {
	case *RequestUnion_Get:
		return v.Get.Key, nil
	case *RequestUnion_Put:
		return v.Put.Key, nil
	case *RequestUnion_Delete:
		return v.Delete.Key, nil
	case *RequestUnion_Scan:
		return v.Scan.StartKey, v.Scan.EndKey
	case *RequestUnion_Cas:
		return v.Cas.Key, nil
	case *RequestUnion_Increment:
		return v.Increment.Key, nil
	case *RequestUnion_AdminSplit:
		return v.AdminSplit.SplitKey, nil
	case *RequestUnion_AdminChangeReplicas:
		return v.AdminChangeReplicas.Key, nil
	case *RequestUnion_Timestamp:
		return v.Timestamp.Key, nil
	case *RequestUnion_Gc:
		return v.Gc.Key, v.Gc.EndKey
	case *RequestUnion_Prewrite:
		return v.Prewrite.Key, nil
	case *RequestUnion_Resolve:
		return v.Resolve.Key, nil
	case *RequestUnion_CheckTxn:
		return v.CheckTxn.Key, nil
	case *RequestUnion_HeartbeatTxn:
		return v.HeartbeatTxn.Key, nil
	case *RequestUnion_AcquireLock:
		return v.AcquireLock.Key, nil
	case *RequestUnion_ValidateRead:
		if len(v.ValidateRead.EndKey) == 0 {
			return v.ValidateRead.Key, nil
		}
		return v.ValidateRead.Key, v.ValidateRead.EndKey
	}
	return nil, nil
}

// NewLockConflict reports locks the request met.
func NewLockConflict(locks []*LockInfo) *Error {
	msg := fmt.Sprintf("%d key(s) locked by other transactions", len(locks))
	return &Error{Message: msg, Detail: &Error_LockConflict{LockConflict: &LockConflict{Locks: locks}}}
}

// NewTxnRetry reports a conflict that forces the transaction to restart.
func NewTxnRetry(reason TxnRetry_Reason, key []byte, format string, args ...any) *Error {
	return &Error{
		Message: "restart transaction: " + fmt.Sprintf(format, args...),
		Detail:  &Error_TxnRetry{TxnRetry: &TxnRetry{Reason: reason, Key: key}},
	}
}

// NewBelowGCThreshold reports a read or a transaction step at a timestamp
// below the range's GC threshold: what it would see may be collected. It is
// retryable: the transaction restarts at a fresh timestamp.
func NewBelowGCThreshold(key []byte, ts, threshold uint64) *Error {
	return NewTxnRetry(TxnRetry_TOO_OLD, key,
		"timestamp %d is below the range's GC threshold %d: the transaction is older than gc_ttl", ts, threshold)
}

// NewTxnAlreadyCommitted reports that the transaction's idempotency record
// shows an earlier commit at commitTS.
func NewTxnAlreadyCommitted(commitTS uint64) *Error {
	return &Error{
		Message: fmt.Sprintf("transaction already committed at %d", commitTS),
		Detail:  &Error_TxnAlreadyCommitted{TxnAlreadyCommitted: &TxnAlreadyCommitted{CommitTs: commitTS}},
	}
}

// IsRetryable reports whether err asks the transaction to restart.
func IsRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.GetTxnRetry() != nil
}
