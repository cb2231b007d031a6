package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/kvpb"
)

// Bounds of interactive transactions held by a node.
const (
	maxOpenTxns          = 10000
	txnIdleTimeout       = 60 * time.Second
	maxIdempotencyKeyLen = 256
)

// openTxn is an interactive transaction between client calls.
type openTxn struct {
	mu       sync.Mutex // one call at a time
	txn      *kv.Txn
	lastUsed time.Time
}

// txnAPI serves the client Txn service. Transactions live on this node (the
// coordinator) until Commit, Rollback or txnIdleTimeout without calls.
type txnAPI struct {
	kvpb.UnimplementedTxnServer
	db *kv.DB

	mu   sync.Mutex
	open map[string]*openTxn
}

func newTxnAPI(db *kv.DB) *txnAPI { return &txnAPI{db: db, open: map[string]*openTxn{}} }

// txnStatus maps transaction errors: retryable conflicts become ABORTED
// carrying the typed error, so clients can tell them from other aborts.
func txnStatus(err error) error {
	var perr *kvpb.Error
	if errors.As(err, &perr) && perr.GetTxnRetry() != nil {
		st, derr := status.New(codes.Aborted, perr.Message).WithDetails(protoadapt.MessageV1Of(perr))
		if derr == nil {
			return st.Err()
		}
	}
	if errors.Is(err, kv.ErrTxnDone) {
		return status.Error(codes.FailedPrecondition, err.Error())
	}
	return toStatus(err)
}

func (a *txnAPI) Begin(ctx context.Context, req *kvpb.TxnBeginRequest) (resp *kvpb.TxnBeginResponse, err error) {
	defer func(t time.Time) { err = observe("txn_begin", t, txnStatus(err)) }(time.Now())
	return a.begin(ctx, req)
}

func (a *txnAPI) begin(ctx context.Context, req *kvpb.TxnBeginRequest) (*kvpb.TxnBeginResponse, error) {
	if len(req.IdempotencyKey) > maxIdempotencyKeyLen {
		return nil, invalid("idempotency key of %d bytes exceeds the limit of %d", len(req.IdempotencyKey), maxIdempotencyKeyLen)
	}
	if _, ok := kvpb.IsolationLevel_name[int32(req.Isolation)]; !ok {
		return nil, invalid("unknown isolation level %d", req.Isolation)
	}
	txn, err := a.db.Begin(ctx, kv.TxnOptions{Isolation: req.Isolation, IdempotencyKey: req.IdempotencyKey})
	if err != nil {
		return nil, err
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	sid := hex.EncodeToString(id[:])
	a.mu.Lock()
	if len(a.open) >= maxOpenTxns { // checked and inserted under one lock
		a.mu.Unlock()
		txn.Rollback()
		return nil, status.Errorf(codes.ResourceExhausted, "too many open transactions on this node (%d)", maxOpenTxns)
	}
	a.open[sid] = &openTxn{txn: txn, lastUsed: time.Now()}
	a.mu.Unlock()
	return &kvpb.TxnBeginResponse{TxnId: sid, StartTs: txn.StartTS()}, nil
}

// with runs fn on the open transaction id; finish removes it afterwards.
func (a *txnAPI) with(id string, finish bool, fn func(*kv.Txn) error) error {
	a.mu.Lock()
	ot, ok := a.open[id]
	if ok && finish {
		delete(a.open, id)
	}
	a.mu.Unlock()
	if !ok {
		return status.Errorf(codes.NotFound, "transaction %q not found (finished, timed out after %s idle, or begun on another node)", id, txnIdleTimeout)
	}
	ot.mu.Lock()
	defer ot.mu.Unlock()
	if !finish {
		// expireIdle may have rolled it back between the lookup and here.
		a.mu.Lock()
		_, still := a.open[id]
		a.mu.Unlock()
		if !still {
			return status.Errorf(codes.NotFound, "transaction %q timed out after %s idle", id, txnIdleTimeout)
		}
	}
	ot.lastUsed = time.Now()
	return fn(ot.txn)
}

// expireIdle rolls back transactions idle longer than txnIdleTimeout.
func (a *txnAPI) expireIdle(context.Context) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, ot := range a.open {
		if ot.mu.TryLock() {
			if time.Since(ot.lastUsed) > txnIdleTimeout {
				ot.txn.Rollback()
				delete(a.open, id)
			}
			ot.mu.Unlock()
		}
	}
}

// checkWrites validates writes a client buffered.
func checkWrites(ws []*kvpb.TxnWrite) error {
	if len(ws) > kv.MaxTxnWrites {
		return invalid("%d buffered writes exceed the limit of %d", len(ws), kv.MaxTxnWrites)
	}
	for _, w := range ws {
		if err := checkKey(w.Key); err != nil {
			return err
		}
		if err := checkValue(w.Value); err != nil {
			return err
		}
	}
	return nil
}

// applyWrites buffers the client's writes in the transaction, in order.
func applyWrites(t *kv.Txn, ws []*kvpb.TxnWrite) error {
	for _, w := range ws {
		var err error
		if w.Delete {
			err = t.Delete(keys.KVKey(w.Key))
		} else {
			err = t.Put(keys.KVKey(w.Key), w.Value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (a *txnAPI) Get(ctx context.Context, req *kvpb.TxnGetRequest) (resp *kvpb.GetResponse, err error) {
	defer func(t time.Time) { err = observe("txn_get", t, txnStatus(err)) }(time.Now())
	if err := checkKey(req.Key); err != nil {
		return nil, err
	}
	err = a.with(req.TxnId, false, func(t *kv.Txn) (err error) {
		if req.ForUpdate {
			resp, err = t.GetForUpdate(ctx, keys.KVKey(req.Key))
		} else {
			resp, err = t.Get(ctx, keys.KVKey(req.Key))
		}
		return err
	})
	return resp, err
}

func (a *txnAPI) GetMany(ctx context.Context, req *kvpb.TxnGetManyRequest) (resp *kvpb.TxnGetManyResponse, err error) {
	defer func(t time.Time) { err = observe("txn_get_many", t, txnStatus(err)) }(time.Now())
	if len(req.Keys) > MaxBatchRequests {
		return nil, invalid("%d keys exceed the limit of %d", len(req.Keys), MaxBatchRequests)
	}
	ks := make([][]byte, len(req.Keys))
	for i, k := range req.Keys {
		if err := checkKey(k); err != nil {
			return nil, err
		}
		ks[i] = keys.KVKey(k)
	}
	id := req.TxnId
	var begun *kvpb.TxnBeginResponse
	if req.Begin != nil && id == "" {
		if begun, err = a.begin(ctx, req.Begin); err != nil {
			return nil, err
		}
		id = begun.TxnId
	}
	err = a.with(id, false, func(t *kv.Txn) error {
		get := t.GetMany
		if req.ForUpdate {
			get = t.GetManyForUpdate
		}
		rs, err := get(ctx, ks)
		resp = &kvpb.TxnGetManyResponse{Responses: rs}
		return err
	})
	if begun != nil {
		if err != nil {
			_ = a.with(id, true, func(t *kv.Txn) error { t.Rollback(); return nil })
		} else {
			resp.TxnId, resp.StartTs = begun.TxnId, begun.StartTs
		}
	}
	if err != nil {
		return nil, err
	}
	return resp, nil
}

func (a *txnAPI) Scan(ctx context.Context, req *kvpb.TxnScanRequest) (resp *kvpb.ScanResponse, err error) {
	defer func(t time.Time) { err = observe("txn_scan", t, txnStatus(err)) }(time.Now())
	r, err := toLogical(&kvpb.RequestUnion{Value: &kvpb.RequestUnion_Scan{Scan: req.GetScan()}})
	if err != nil {
		return nil, err
	}
	sc := r.GetScan()
	if err := checkWrites(req.Writes); err != nil {
		return nil, err
	}
	err = a.with(req.TxnId, false, func(t *kv.Txn) (err error) {
		if err := applyWrites(t, req.Writes); err != nil {
			return err
		}
		if req.ForUpdate {
			resp, err = t.ScanForUpdate(ctx, sc.StartKey, sc.EndKey, sc.Limit)
		} else {
			resp, err = t.Scan(ctx, sc.StartKey, sc.EndKey, sc.Limit)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return toUserScan(resp), nil
}

func (a *txnAPI) Put(ctx context.Context, req *kvpb.TxnPutRequest) (resp *kvpb.TxnWriteResponse, err error) {
	defer func(t time.Time) { err = observe("txn_put", t, txnStatus(err)) }(time.Now())
	if err := checkKey(req.Key); err != nil {
		return nil, err
	}
	if err := checkValue(req.Value); err != nil {
		return nil, err
	}
	err = a.with(req.TxnId, false, func(t *kv.Txn) error { return t.Put(keys.KVKey(req.Key), req.Value) })
	if err != nil {
		return nil, err
	}
	return &kvpb.TxnWriteResponse{}, nil
}

func (a *txnAPI) Delete(ctx context.Context, req *kvpb.TxnDeleteRequest) (resp *kvpb.TxnWriteResponse, err error) {
	defer func(t time.Time) { err = observe("txn_delete", t, txnStatus(err)) }(time.Now())
	if err := checkKey(req.Key); err != nil {
		return nil, err
	}
	err = a.with(req.TxnId, false, func(t *kv.Txn) error { return t.Delete(keys.KVKey(req.Key)) })
	if err != nil {
		return nil, err
	}
	return &kvpb.TxnWriteResponse{}, nil
}

func (a *txnAPI) Commit(ctx context.Context, req *kvpb.TxnCommitRequest) (resp *kvpb.TxnCommitResponse, err error) {
	defer func(t time.Time) { err = observe("txn_commit", t, txnStatus(err)) }(time.Now())
	if err := checkWrites(req.Writes); err != nil {
		return nil, err
	}
	err = a.with(req.TxnId, true, func(t *kv.Txn) error {
		if err := applyWrites(t, req.Writes); err != nil {
			t.Rollback()
			return err
		}
		res, err := t.Commit(ctx)
		resp = &kvpb.TxnCommitResponse{CommitTs: res.CommitTS, AlreadyCommitted: res.AlreadyCommitted}
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

func (a *txnAPI) Rollback(ctx context.Context, req *kvpb.TxnRollbackRequest) (resp *kvpb.TxnRollbackResponse, err error) {
	defer func(t time.Time) { err = observe("txn_rollback", t, txnStatus(err)) }(time.Now())
	err = a.with(req.TxnId, true, func(t *kv.Txn) error { t.Rollback(); return nil })
	if err != nil {
		return nil, err
	}
	return &kvpb.TxnRollbackResponse{}, nil
}
