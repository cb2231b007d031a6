package client

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/cairndb/cairn/internal/kvpb"
)

// ErrRetry: the transaction conflicted with another and was not committed;
// run it again (Client.Txn does so automatically).
var ErrRetry = errors.New("cairn: transaction conflict, retry")

// Isolation is a transaction's isolation level.
type Isolation int

// Isolation levels. Serializable is the default.
const (
	Serializable Isolation = iota
	RepeatableRead
	ReadCommitted
)

func (i Isolation) String() string {
	return [...]string{"SERIALIZABLE", "REPEATABLE READ", "READ COMMITTED"}[i]
}

// TxnOption configures a transaction.
type TxnOption func(*txnOptions)

type txnOptions struct {
	isolation      Isolation
	idempotencyKey string
	maxAttempts    int
}

// WithIsolation sets the isolation level.
func WithIsolation(i Isolation) TxnOption { return func(o *txnOptions) { o.isolation = i } }

// WithIdempotencyKey names the logical transaction: however often it is
// re-sent, it commits at most once. Client.Txn generates one when unset.
func WithIdempotencyKey(k string) TxnOption { return func(o *txnOptions) { o.idempotencyKey = k } }

// WithMaxAttempts bounds Client.Txn's attempts (default 30).
func WithMaxAttempts(n int) TxnOption { return func(o *txnOptions) { o.maxAttempts = n } }

// Txn is an interactive transaction, coordinated by the node the client is
// connected to. Writes are buffered there until Commit. Not safe for
// concurrent use.
//
// Put and Delete are buffered in the client and sent with the next Scan or
// with Commit (up to maxPendingWrites; beyond, they are sent one by one), so
// a transaction costs one round trip per read plus one to commit. An invalid
// write (say, an oversized value) is therefore reported by the call that
// sends it.
type Txn struct {
	c *Client
	// nc is the coordinator's connection, chosen when the transaction
	// begins: the leaseholder of its first key when known (see router).
	nc *nodeConn
	id string
	// StartTS is the transaction's snapshot timestamp (0 inside Client.Txn
	// until the first read or write reached the server).
	StartTS uint64

	pending      []*kvpb.TxnWrite
	pendingBytes int
	// latest maps a key to its newest write in pending (read your writes).
	latest map[string]int

	idempotencyKey string
	// lazy, until the transaction has begun on the server, holds its Begin
	// request: the first GetMany carries it (Client.Txn's transactions).
	lazy *kvpb.TxnBeginRequest
}

// begun starts a lazily begun transaction with its own Begin call, on the
// node that serves key (nil: the dialed node).
func (t *Txn) begun(ctx context.Context, key []byte) error {
	if t.lazy == nil {
		return nil
	}
	t.nc = t.c.router.forKey(key)
	resp, err := t.nc.txn.Begin(ctx, t.lazy)
	if err != nil {
		return t.wrap(err, false)
	}
	t.id, t.StartTS, t.lazy = resp.TxnId, resp.StartTs, nil
	return nil
}

// Bounds of a client's buffered writes before they are sent one by one.
const (
	maxPendingWrites = 1000
	maxPendingBytes  = 4 << 20
)

// wrapTxn classifies transaction errors: retryable conflicts (and a
// transaction its coordinator no longer knows) become ErrRetry.
func wrapTxn(err error, write bool) error {
	if err == nil {
		return nil
	}
	st := status.Convert(err)
	switch st.Code() {
	case codes.Aborted:
		for _, d := range st.Details() {
			if e, ok := d.(*kvpb.Error); ok && e.GetTxnRetry() != nil {
				return fmt.Errorf("%w: %s", ErrRetry, st.Message())
			}
		}
	case codes.NotFound:
		return fmt.Errorf("%w: %s", ErrRetry, st.Message())
	}
	return wrap(err, write)
}

// BeginTxn starts an interactive transaction. It carries an idempotency
// key (WithIdempotencyKey, else a fresh one, see Txn.IdempotencyKey): after
// an ambiguous Commit, run the transaction again with the same key to
// commit it at most once.
func (c *Client) BeginTxn(ctx context.Context, opts ...TxnOption) (*Txn, error) {
	o := txnOptions{}
	for _, f := range opts {
		f(&o)
	}
	if o.idempotencyKey == "" {
		o.idempotencyKey = newIdempotencyKey()
	}
	nc := c.router.dialed
	resp, err := nc.txn.Begin(ctx, &kvpb.TxnBeginRequest{Isolation: kvpb.IsolationLevel(o.isolation), IdempotencyKey: o.idempotencyKey})
	if err != nil {
		return nil, wrapTxn(err, false)
	}
	return &Txn{c: c, nc: nc, id: resp.TxnId, StartTS: resp.StartTs, idempotencyKey: o.idempotencyKey}, nil
}

// IdempotencyKey is the key the transaction commits under.
func (t *Txn) IdempotencyKey() string { return t.idempotencyKey }

func newIdempotencyKey() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Get reads key in the transaction.
func (t *Txn) Get(ctx context.Context, key []byte) (value []byte, found bool, err error) {
	return t.get(ctx, key, false)
}

// GetForUpdate reads key and locks it until the transaction ends: another
// transaction's locking read or write of it waits (docs/transactions.md,
// "Locking reads"). The value is the newest committed one.
func (t *Txn) GetForUpdate(ctx context.Context, key []byte) (value []byte, found bool, err error) {
	return t.get(ctx, key, true)
}

func (t *Txn) get(ctx context.Context, key []byte, forUpdate bool) (value []byte, found bool, err error) {
	if i, ok := t.latest[string(key)]; ok && !forUpdate {
		w := t.pending[i]
		return w.Value, !w.Delete, nil
	}
	if err := t.begun(ctx, key); err != nil {
		return nil, false, err
	}
	var md metadata.MD
	resp, err := t.nc.txn.Get(ctx, &kvpb.TxnGetRequest{TxnId: t.id, Key: key, ForUpdate: forUpdate}, grpc.Header(&md))
	if err != nil {
		return nil, false, t.wrap(err, false)
	}
	t.c.router.learn(md)
	if i, ok := t.latest[string(key)]; ok { // locked; its own write wins
		return t.pending[i].Value, !t.pending[i].Delete, nil
	}
	return resp.Value, resp.Found, nil
}

// GetMany reads several keys in one round trip; found[i] and values[i]
// answer keys[i].
func (t *Txn) GetMany(ctx context.Context, keys ...[]byte) (values [][]byte, found []bool, err error) {
	return t.getMany(ctx, false, keys)
}

// GetManyForUpdate is GetMany locking every key (see GetForUpdate).
func (t *Txn) GetManyForUpdate(ctx context.Context, keys ...[]byte) (values [][]byte, found []bool, err error) {
	return t.getMany(ctx, true, keys)
}

func (t *Txn) getMany(ctx context.Context, forUpdate bool, keys [][]byte) (values [][]byte, found []bool, err error) {
	values, found = make([][]byte, len(keys)), make([]bool, len(keys))
	var remote [][]byte
	var idx []int
	for i, k := range keys {
		if j, ok := t.latest[string(k)]; ok {
			values[i], found[i] = t.pending[j].Value, !t.pending[j].Delete
			if !forUpdate { // a locking read still locks it
				continue
			}
		}
		remote = append(remote, k)
		idx = append(idx, i)
	}
	if len(remote) == 0 {
		return values, found, nil
	}
	if t.lazy != nil {
		t.nc = t.c.router.forKey(remote[0])
	}
	var md metadata.MD
	resp, err := t.nc.txn.GetMany(ctx, &kvpb.TxnGetManyRequest{TxnId: t.id, Keys: remote, Begin: t.lazy, ForUpdate: forUpdate}, grpc.Header(&md))
	if err != nil {
		return nil, nil, t.wrap(err, false)
	}
	t.c.router.learn(md)
	if t.lazy != nil {
		t.id, t.StartTS, t.lazy = resp.TxnId, resp.StartTs, nil
	}
	if len(resp.Responses) != len(remote) {
		return nil, nil, fmt.Errorf("cairn: %d answers for %d keys", len(resp.Responses), len(remote))
	}
	for j, i := range idx {
		if _, own := t.latest[string(keys[i])]; own {
			continue // its own buffered write wins
		}
		values[i], found[i] = resp.Responses[j].Value, resp.Responses[j].Found
	}
	return values, found, nil
}

// Scan reads up to limit keys of [start, end) in the transaction (end nil:
// to the end of the keyspace; limit 0: the server default).
func (t *Txn) Scan(ctx context.Context, start, end []byte, limit int) (kvs []KeyValue, more bool, err error) {
	return t.scan(ctx, start, end, limit, false)
}

// ScanForUpdate is Scan locking every key it returns (see GetForUpdate).
func (t *Txn) ScanForUpdate(ctx context.Context, start, end []byte, limit int) (kvs []KeyValue, more bool, err error) {
	return t.scan(ctx, start, end, limit, true)
}

func (t *Txn) scan(ctx context.Context, start, end []byte, limit int, forUpdate bool) (kvs []KeyValue, more bool, err error) {
	if err := t.begun(ctx, start); err != nil {
		return nil, false, err
	}
	resp, err := t.nc.txn.Scan(ctx, &kvpb.TxnScanRequest{TxnId: t.id, Scan: &kvpb.ScanRequest{StartKey: start, EndKey: end, Limit: int64(limit)},
		Writes: t.pending, ForUpdate: forUpdate})
	t.clearPending()
	if err != nil {
		return nil, false, t.wrap(err, false)
	}
	return toKeyValues(resp.Kvs), resp.More, nil
}

// Put writes key in the transaction (visible to others after Commit).
func (t *Txn) Put(ctx context.Context, key, value []byte) error {
	return t.buffer(ctx, &kvpb.TxnWrite{Key: append([]byte(nil), key...), Value: append([]byte(nil), value...)})
}

// Delete removes key in the transaction.
func (t *Txn) Delete(ctx context.Context, key []byte) error {
	return t.buffer(ctx, &kvpb.TxnWrite{Key: append([]byte(nil), key...), Delete: true})
}

func (t *Txn) buffer(ctx context.Context, w *kvpb.TxnWrite) error {
	if len(t.pending) >= maxPendingWrites || t.pendingBytes+len(w.Key)+len(w.Value) > maxPendingBytes {
		if err := t.flush(ctx); err != nil {
			return err
		}
	}
	if t.latest == nil {
		t.latest = map[string]int{}
	}
	t.latest[string(w.Key)] = len(t.pending)
	t.pending = append(t.pending, w)
	t.pendingBytes += len(w.Key) + len(w.Value)
	return nil
}

// flush sends the buffered writes one by one.
func (t *Txn) flush(ctx context.Context) error {
	defer t.clearPending()
	if err := t.begun(ctx, t.firstWrite()); err != nil {
		return err
	}
	for _, w := range t.pending {
		var err error
		if w.Delete {
			_, err = t.nc.txn.Delete(ctx, &kvpb.TxnDeleteRequest{TxnId: t.id, Key: w.Key})
		} else {
			_, err = t.nc.txn.Put(ctx, &kvpb.TxnPutRequest{TxnId: t.id, Key: w.Key, Value: w.Value})
		}
		if err != nil {
			return t.wrap(err, false)
		}
	}
	return nil
}

// firstWrite is the key of the first buffered write (nil if none).
func (t *Txn) firstWrite() []byte {
	if len(t.pending) == 0 {
		return nil
	}
	return t.pending[0].Key
}

// wrap classifies an error of the coordinator's connection (wrapTxn); a
// coordinator other than the dialed node that is unreachable is forgotten,
// so that the next attempt begins on the dialed node.
func (t *Txn) wrap(err error, write bool) error {
	if t.nc != t.c.router.dialed && status.Code(err) == codes.Unavailable {
		t.c.router.forget(t.nc.addr)
	}
	return wrapTxn(err, write)
}

func (t *Txn) clearPending() {
	t.pending, t.pendingBytes = nil, 0
	clear(t.latest)
}

// CommitResult is a committed transaction's outcome.
type CommitResult struct {
	CommitTS uint64
	// AlreadyCommitted: an earlier attempt with the same idempotency key had
	// committed; this one's writes were discarded.
	AlreadyCommitted bool
}

// Commit commits the transaction. ErrRetry: it did not commit, run it
// again; ErrAmbiguous: it may have committed (re-run it with the same
// idempotency key to learn the outcome without applying it twice).
func (t *Txn) Commit(ctx context.Context) (CommitResult, error) {
	if err := t.begun(ctx, t.firstWrite()); err != nil {
		return CommitResult{}, err
	}
	resp, err := t.nc.txn.Commit(ctx, &kvpb.TxnCommitRequest{TxnId: t.id, Writes: t.pending})
	t.clearPending()
	if err != nil {
		return CommitResult{}, t.wrap(err, true)
	}
	return CommitResult{CommitTS: resp.CommitTs, AlreadyCommitted: resp.AlreadyCommitted}, nil
}

// Rollback abandons the transaction.
func (t *Txn) Rollback(ctx context.Context) error {
	t.clearPending()
	if t.lazy != nil {
		t.lazy = nil
		return nil // never begun on the server
	}
	_, err := t.nc.txn.Rollback(ctx, &kvpb.TxnRollbackRequest{TxnId: t.id})
	if status.Code(err) == codes.NotFound {
		return nil // already gone
	}
	return wrapTxn(err, false)
}

// TxnStats says how a Client.Txn call went.
type TxnStats struct {
	CommitResult
	// Attempts is the number of times fn ran.
	Attempts int
}

// Txn runs fn in a transaction and commits it. Conflicts (ErrRetry) and
// unavailability are retried with jittered exponential backoff, at most
// WithMaxAttempts times. Every attempt carries the same idempotency key
// (generated unless given), so a commit whose outcome was lost (ErrAmbiguous)
// is retried safely: the retry reports the first attempt's commit instead of
// applying fn's writes twice. fn may run several times; it must not have
// side effects outside the transaction. An error returned by fn rolls the
// transaction back and is returned as is.
func (c *Client) Txn(ctx context.Context, fn func(ctx context.Context, txn *Txn) error, opts ...TxnOption) (TxnStats, error) {
	o := txnOptions{maxAttempts: 30}
	for _, f := range opts {
		f(&o)
	}
	if o.idempotencyKey == "" {
		o.idempotencyKey = newIdempotencyKey()
		opts = append(opts, WithIdempotencyKey(o.idempotencyKey))
	}
	var stats TxnStats
	backoff := 2 * time.Millisecond
	var lastErr error
	ambiguous := false // an attempt's commit outcome is unknown
	// fail returns err, still ambiguous if an earlier commit may have landed.
	fail := func(err error) error {
		if ambiguous && !errors.Is(err, ErrAmbiguous) {
			return fmt.Errorf("%w (and an earlier attempt's commit is %w)", err, ErrAmbiguous)
		}
		return err
	}
	for stats.Attempts < o.maxAttempts {
		if stats.Attempts > 0 {
			select {
			case <-ctx.Done():
				return stats, fail(errors.Join(ctx.Err(), lastErr))
			case <-time.After(backoff/2 + rand.N(backoff/2+1)):
			}
			backoff = min(2*backoff, 500*time.Millisecond)
		}
		stats.Attempts++
		res, err, userErr := c.attempt(ctx, fn, opts)
		if userErr {
			return stats, fail(err)
		}
		if err == nil {
			stats.CommitResult = res
			return stats, nil
		}
		lastErr = err
		ambiguous = ambiguous || errors.Is(err, ErrAmbiguous)
		if !errors.Is(err, ErrRetry) && !errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrAmbiguous) {
			return stats, fail(err)
		}
	}
	return stats, fail(fmt.Errorf("cairn: transaction gave up after %d attempts: %w", stats.Attempts, lastErr))
}

// attempt runs fn once; userErr reports that err came from fn itself.
func (c *Client) attempt(ctx context.Context, fn func(context.Context, *Txn) error, opts []TxnOption) (res CommitResult, err error, userErr bool) {
	o := txnOptions{}
	for _, f := range opts {
		f(&o)
	}
	// Begun lazily: the first GetMany (or any other call) begins it.
	txn := &Txn{c: c, idempotencyKey: o.idempotencyKey,
		lazy: &kvpb.TxnBeginRequest{Isolation: kvpb.IsolationLevel(o.isolation), IdempotencyKey: o.idempotencyKey}}
	if err := fn(ctx, txn); err != nil {
		_ = txn.Rollback(context.WithoutCancel(ctx))
		isTxnErr := errors.Is(err, ErrRetry) || errors.Is(err, ErrUnavailable) || errors.Is(err, ErrAmbiguous)
		return res, err, !isTxnErr
	}
	res, err = txn.Commit(ctx)
	return res, err, false
}
