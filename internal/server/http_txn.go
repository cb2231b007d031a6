package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/kvpb"
)

// Bounds of an HTTP transaction (documented in docs/kv.md).
const (
	maxHTTPTxnBody     = 16 << 20
	maxHTTPTxnOps      = MaxBatchRequests
	maxHTTPTxnAttempts = 20
)

func pick(s *string, b []byte) ([]byte, bool) {
	switch {
	case b != nil:
		return b, true
	case s != nil:
		return []byte(*s), true
	}
	return nil, false
}

// txnCompare is one condition of POST /v1/txn.
type txnCompare struct {
	Key         *string `json:"key"`
	KeyBase64   []byte  `json:"key_base64"`
	Op          string  `json:"op"` // equal, not_equal, less, greater, exists, absent
	Value       *string `json:"value"`
	ValueBase64 []byte  `json:"value_base64"`
}

// txnOp is one operation of a branch of POST /v1/txn.
type txnOp struct {
	Op          string  `json:"op"` // get, put, delete
	Key         *string `json:"key"`
	KeyBase64   []byte  `json:"key_base64"`
	Value       *string `json:"value"`
	ValueBase64 []byte  `json:"value_base64"`
}

type txnRequestJSON struct {
	Compare []txnCompare `json:"compare"`
	Success []txnOp      `json:"success"`
	Failure []txnOp      `json:"failure"`
}

type txnOpResult struct {
	Op          string `json:"op"`
	Key         string `json:"key"`
	Found       *bool  `json:"found,omitempty"`
	Value       string `json:"value,omitempty"`
	ValueBase64 []byte `json:"value_base64,omitempty"`
	Deleted     *bool  `json:"deleted,omitempty"`
}

type txnResponseJSON struct {
	Succeeded        bool          `json:"succeeded"`
	Responses        []txnOpResult `json:"responses"`
	CommitTS         uint64        `json:"commit_ts"`
	AlreadyCommitted bool          `json:"already_committed,omitempty"`
}

type parsedCompare struct {
	key, value []byte
	op         string
}

type parsedOp struct {
	op         string
	key, value []byte
}

func parseTxnRequest(body []byte) (cmps []parsedCompare, success, failure []parsedOp, err error) {
	var req txnRequestJSON
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, nil, nil, invalid("malformed transaction JSON: %v", err)
	}
	if n := len(req.Compare) + len(req.Success) + len(req.Failure); n > maxHTTPTxnOps {
		return nil, nil, nil, invalid("transaction of %d compares and operations exceeds the limit of %d", n, maxHTTPTxnOps)
	}
	for i, c := range req.Compare {
		k, ok := pick(c.Key, c.KeyBase64)
		if !ok {
			return nil, nil, nil, invalid("compare %d: key (or key_base64) is required", i)
		}
		if err := checkKey(k); err != nil {
			return nil, nil, nil, invalid("compare %d: %s", i, status.Convert(err).Message())
		}
		v, hasValue := pick(c.Value, c.ValueBase64)
		switch c.Op {
		case "equal", "not_equal", "less", "greater":
			if !hasValue {
				return nil, nil, nil, invalid("compare %d: op %q needs a value", i, c.Op)
			}
		case "exists", "absent":
		default:
			return nil, nil, nil, invalid("compare %d: unknown op %q (want equal, not_equal, less, greater, exists or absent)", i, c.Op)
		}
		cmps = append(cmps, parsedCompare{key: keys.KVKey(k), value: v, op: c.Op})
	}
	parseOps := func(name string, in []txnOp) ([]parsedOp, error) {
		out := make([]parsedOp, 0, len(in))
		for i, o := range in {
			k, ok := pick(o.Key, o.KeyBase64)
			if !ok {
				return nil, invalid("%s %d: key (or key_base64) is required", name, i)
			}
			if err := checkKey(k); err != nil {
				return nil, invalid("%s %d: %s", name, i, status.Convert(err).Message())
			}
			v, hasValue := pick(o.Value, o.ValueBase64)
			switch o.Op {
			case "put":
				if !hasValue {
					return nil, invalid("%s %d: put needs a value", name, i)
				}
				if err := checkValue(v); err != nil {
					return nil, invalid("%s %d: %s", name, i, status.Convert(err).Message())
				}
			case "get", "delete":
			default:
				return nil, invalid("%s %d: unknown op %q (want get, put or delete)", name, i, o.Op)
			}
			out = append(out, parsedOp{op: o.Op, key: keys.KVKey(k), value: v})
		}
		return out, nil
	}
	if success, err = parseOps("success", req.Success); err != nil {
		return nil, nil, nil, err
	}
	if failure, err = parseOps("failure", req.Failure); err != nil {
		return nil, nil, nil, err
	}
	return cmps, success, failure, nil
}

func compareHolds(c parsedCompare, resp *kvpb.GetResponse) bool {
	switch c.op {
	case "exists":
		return resp.Found
	case "absent":
		return !resp.Found
	}
	if !resp.Found {
		return c.op == "not_equal"
	}
	cmp := bytes.Compare(resp.Value, c.value)
	switch c.op {
	case "equal":
		return cmp == 0
	case "not_equal":
		return cmp != 0
	case "less":
		return cmp < 0
	}
	return cmp > 0 // greater
}

// runHTTPTxn evaluates the compares, then one branch, in one serializable
// transaction.
func runHTTPTxn(ctx context.Context, txn *kv.Txn, cmps []parsedCompare, success, failure []parsedOp) (*txnResponseJSON, error) {
	out := &txnResponseJSON{Succeeded: true}
	if len(cmps) > 0 {
		// Every compared key in one round trip per range.
		ks := make([][]byte, len(cmps))
		for i, c := range cmps {
			ks[i] = c.key
		}
		resps, err := txn.GetMany(ctx, ks)
		if err != nil {
			return nil, err
		}
		for i, c := range cmps {
			if !compareHolds(c, resps[i]) {
				out.Succeeded = false
				break
			}
		}
	}
	ops := success
	if !out.Succeeded {
		ops = failure
	}
	out.Responses = make([]txnOpResult, 0, len(ops))
	for _, o := range ops {
		uk, _ := keys.UserKey(o.key)
		res := txnOpResult{Op: o.op, Key: string(uk)}
		switch o.op {
		case "get":
			resp, err := txn.Get(ctx, o.key)
			if err != nil {
				return nil, err
			}
			res.Found = &resp.Found
			if resp.Found {
				res.Value, res.ValueBase64 = string(resp.Value), resp.Value
			}
		case "put":
			if err := txn.Put(o.key, o.value); err != nil {
				return nil, err
			}
		case "delete":
			// Report whether the key existed, as DELETE /v1/kv does.
			resp, err := txn.Get(ctx, o.key)
			if err != nil {
				return nil, err
			}
			res.Deleted = &resp.Found
			if err := txn.Delete(o.key); err != nil {
				return nil, err
			}
		}
		out.Responses = append(out.Responses, res)
	}
	return out, nil
}

// txn serves POST /v1/txn: an atomic compare-then-else transaction, retried
// on conflicts. An Idempotency-Key header makes re-sending it safe.
func (h *kvHTTP) txn(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxHTTPTxnBody+1))
	if err != nil {
		writeError(w, invalid("reading the request body: %v", err))
		return
	}
	if len(body) > maxHTTPTxnBody {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{
			"error": fmt.Sprintf("transaction body exceeds the limit of %d bytes", maxHTTPTxnBody)})
		return
	}
	cmps, success, failure, err := parseTxnRequest(body)
	if err != nil {
		writeError(w, err)
		return
	}
	idem := r.Header.Get("Idempotency-Key")
	if len(idem) > maxIdempotencyKeyLen {
		writeError(w, invalid("Idempotency-Key of %d bytes exceeds the limit of %d", len(idem), maxIdempotencyKeyLen))
		return
	}
	ctx := r.Context()
	start := time.Now()
	backoff := 2 * time.Millisecond
	for attempt := 1; ; attempt++ {
		out, err := h.txnAttempt(ctx, idem, cmps, success, failure)
		if err == nil {
			_ = observe("txn_http", start, nil)
			writeJSON(w, http.StatusOK, out)
			return
		}
		if !kvpb.IsRetryable(err) || attempt >= maxHTTPTxnAttempts {
			_ = observe("txn_http", start, err)
			if kvpb.IsRetryable(err) {
				err = status.Errorf(codes.Aborted, "transaction kept conflicting after %d attempts: %v", attempt, err)
			}
			writeError(w, err)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff/2 + rand.N(backoff/2+1)):
		}
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}

func (h *kvHTTP) txnAttempt(ctx context.Context, idem string, cmps []parsedCompare, success, failure []parsedOp) (*txnResponseJSON, error) {
	txn, err := h.api.db.Begin(ctx, kv.TxnOptions{IdempotencyKey: idem})
	if err != nil {
		return nil, err
	}
	out, err := runHTTPTxn(ctx, txn, cmps, success, failure)
	if err != nil {
		txn.Rollback()
		return nil, err
	}
	res, err := txn.Commit(ctx)
	if err != nil {
		return nil, err
	}
	out.CommitTS = res.CommitTS
	if res.AlreadyCommitted {
		// An earlier request with this key committed: its results are not
		// kept, only its commit timestamp.
		return &txnResponseJSON{Succeeded: true, Responses: []txnOpResult{}, CommitTS: res.CommitTS, AlreadyCommitted: true}, nil
	}
	return out, nil
}
