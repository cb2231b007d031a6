package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kv"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/replica"
)

// MaxBatchRequests bounds the requests of one Batch call.
const MaxBatchRequests = 1000

var (
	kvRequests = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "cairn_kv_requests_total", Help: "KV API requests by method and result.",
	}, []string{"method", "result"})
	kvDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name: "cairn_kv_request_duration_seconds", Help: "KV API request latency by method.",
		Buckets: prometheus.ExponentialBuckets(50e-6, 2, 18),
	}, []string{"method"})
)

// kvAPI serves the client KV API (gRPC; HTTP reuses it). User keys are
// validated here and mapped into the KV namespace of the logical keyspace.
type kvAPI struct {
	kvpb.UnimplementedKVServer
	db *kv.DB
}

// observe records a request's metrics and maps its error to a gRPC status.
func observe(method string, start time.Time, err error) error {
	kvDuration.WithLabelValues(method).Observe(time.Since(start).Seconds())
	code := status.Code(toStatus(err))
	kvRequests.WithLabelValues(method, code.String()).Inc()
	return toStatus(err)
}

// toStatus maps internal errors onto gRPC codes clients can act on.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var perr *kvpb.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case kvpb.IsAmbiguous(err):
		return status.Error(codes.Unknown, err.Error())
	case errors.As(err, &perr) && perr.GetNotLeaseholder() != nil:
		return status.Error(codes.Aborted, err.Error())
	}
	// Not applied, and retryable. Aborted, not Unavailable: a client sees
	// Unavailable also when its connection breaks mid-request, which for a
	// write is ambiguous; Aborted says the server knows nothing was applied.
	return status.Error(codes.Aborted, err.Error())
}

func invalid(format string, args ...any) error {
	return status.Error(codes.InvalidArgument, fmt.Sprintf(format, args...))
}

func checkKey(k []byte) error {
	switch {
	case len(k) == 0:
		return invalid("key must not be empty")
	case len(k) > keys.MaxUserKeySize:
		return invalid("key of %d bytes exceeds the limit of %d bytes", len(k), keys.MaxUserKeySize)
	}
	return nil
}

func checkValue(v []byte) error {
	if len(v) > keys.MaxValueSize {
		return invalid("value of %d bytes exceeds the limit of %d bytes", len(v), keys.MaxValueSize)
	}
	return nil
}

// userSpan maps a user scan span into the KV namespace; an empty end means
// the end of the namespace.
func userSpan(start, end []byte) ([]byte, []byte, error) {
	if len(start) > keys.MaxUserKeySize || len(end) > keys.MaxUserKeySize {
		return nil, nil, invalid("scan bound exceeds the key size limit of %d bytes", keys.MaxUserKeySize)
	}
	s, e := keys.KVKey(start), keys.KVPrefixEnd
	if len(end) > 0 {
		e = keys.KVKey(end)
	}
	return s, e, nil
}

func checkLimit(limit int64) error {
	if limit < 0 || limit > replica.MaxScanLimit {
		return invalid("scan limit %d out of range [0, %d]", limit, replica.MaxScanLimit)
	}
	return nil
}

func (a *kvAPI) Get(ctx context.Context, req *kvpb.GetRequest) (resp *kvpb.GetResponse, err error) {
	defer func(t time.Time) { err = observe("get", t, err) }(time.Now())
	r, err := toLogical(&kvpb.RequestUnion{Value: &kvpb.RequestUnion_Get{Get: req}})
	if err != nil {
		return nil, err
	}
	return a.db.Get(ctx, r.GetGet().Key)
}

func (a *kvAPI) Put(ctx context.Context, req *kvpb.PutRequest) (resp *kvpb.PutResponse, err error) {
	defer func(t time.Time) { err = observe("put", t, err) }(time.Now())
	r, err := toLogical(&kvpb.RequestUnion{Value: &kvpb.RequestUnion_Put{Put: req}})
	if err != nil {
		return nil, err
	}
	return a.db.Put(ctx, r.GetPut().Key, r.GetPut().Value)
}

func (a *kvAPI) Delete(ctx context.Context, req *kvpb.DeleteRequest) (resp *kvpb.DeleteResponse, err error) {
	defer func(t time.Time) { err = observe("delete", t, err) }(time.Now())
	r, err := toLogical(&kvpb.RequestUnion{Value: &kvpb.RequestUnion_Delete{Delete: req}})
	if err != nil {
		return nil, err
	}
	return a.db.Delete(ctx, r.GetDelete().Key)
}

func (a *kvAPI) Scan(ctx context.Context, req *kvpb.ScanRequest) (resp *kvpb.ScanResponse, err error) {
	defer func(t time.Time) { err = observe("scan", t, err) }(time.Now())
	r, err := toLogical(&kvpb.RequestUnion{Value: &kvpb.RequestUnion_Scan{Scan: req}})
	if err != nil {
		return nil, err
	}
	sc := r.GetScan()
	if resp, err = a.db.Scan(ctx, sc.StartKey, sc.EndKey, sc.Limit); err != nil {
		return nil, err
	}
	return toUserScan(resp), nil
}

func (a *kvAPI) CompareAndSet(ctx context.Context, req *kvpb.CompareAndSetRequest) (resp *kvpb.CompareAndSetResponse, err error) {
	defer func(t time.Time) { err = observe("cas", t, err) }(time.Now())
	r, err := toLogical(&kvpb.RequestUnion{Value: &kvpb.RequestUnion_Cas{Cas: req}})
	if err != nil {
		return nil, err
	}
	return a.db.CompareAndSet(ctx, r.GetCas())
}

// toUserScan strips the namespace prefix from the keys of a scan result.
func toUserScan(resp *kvpb.ScanResponse) *kvpb.ScanResponse {
	for _, kv := range resp.Kvs {
		kv.Key, _ = keys.UserKey(kv.Key)
	}
	if resp.ResumeKey != nil {
		resp.ResumeKey, _ = keys.UserKey(resp.ResumeKey)
	}
	return resp
}

func (a *kvAPI) Batch(ctx context.Context, req *kvpb.BatchRequest) (resp *kvpb.BatchResponse, err error) {
	defer func(t time.Time) { err = observe("batch", t, err) }(time.Now())
	if len(req.Requests) > MaxBatchRequests {
		return nil, invalid("batch of %d requests exceeds the limit of %d", len(req.Requests), MaxBatchRequests)
	}
	reqs := make([]*kvpb.RequestUnion, len(req.Requests))
	for i, r := range req.Requests {
		if reqs[i], err = toLogical(r); err != nil {
			return nil, status.Error(codes.InvalidArgument, fmt.Sprintf("request %d: %v", i, status.Convert(err).Message()))
		}
	}
	resps, err := a.db.Batch(ctx, reqs)
	if err != nil {
		return nil, err
	}
	for _, r := range resps {
		if s := r.GetScan(); s != nil {
			toUserScan(s)
		}
	}
	return &kvpb.BatchResponse{Responses: resps}, nil
}

// toLogical validates one client request and maps it into the KV namespace.
func toLogical(r *kvpb.RequestUnion) (*kvpb.RequestUnion, error) {
	switch v := r.GetValue().(type) {
	case *kvpb.RequestUnion_Get:
		if err := checkKey(v.Get.GetKey()); err != nil {
			return nil, err
		}
		return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Get{Get: &kvpb.GetRequest{Key: keys.KVKey(v.Get.GetKey())}}}, nil
	case *kvpb.RequestUnion_Put:
		if err := checkKey(v.Put.GetKey()); err != nil {
			return nil, err
		}
		if err := checkValue(v.Put.GetValue()); err != nil {
			return nil, err
		}
		return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Put{Put: &kvpb.PutRequest{Key: keys.KVKey(v.Put.GetKey()), Value: v.Put.GetValue()}}}, nil
	case *kvpb.RequestUnion_Delete:
		if err := checkKey(v.Delete.GetKey()); err != nil {
			return nil, err
		}
		return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Delete{Delete: &kvpb.DeleteRequest{Key: keys.KVKey(v.Delete.GetKey())}}}, nil
	case *kvpb.RequestUnion_Scan:
		start, end, err := userSpan(v.Scan.GetStartKey(), v.Scan.GetEndKey())
		if err != nil {
			return nil, err
		}
		if err := checkLimit(v.Scan.GetLimit()); err != nil {
			return nil, err
		}
		limit := v.Scan.GetLimit()
		if limit == 0 {
			limit = replica.DefaultScanLimit
		}
		return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Scan{Scan: &kvpb.ScanRequest{StartKey: start, EndKey: end, Limit: limit}}}, nil
	case *kvpb.RequestUnion_Cas:
		c := v.Cas // getters below are nil-safe
		if err := checkKey(c.GetKey()); err != nil {
			return nil, err
		}
		if err := checkValue(c.GetNewValue()); err != nil {
			return nil, err
		}
		return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Cas{Cas: &kvpb.CompareAndSetRequest{
			Key: keys.KVKey(c.GetKey()), ExpectedValue: c.GetExpectedValue(), ExpectAbsent: c.GetExpectAbsent(), NewValue: c.GetNewValue(), Delete: c.GetDelete(),
		}}}, nil
	case nil:
		return nil, invalid("empty request")
	}
	return nil, invalid("request type %T is not part of the client API", r.GetValue())
}

// adminAPI serves operator commands.
type adminAPI struct {
	kvpb.UnimplementedAdminServer
	s *Server
}

func (a *adminAPI) Split(ctx context.Context, req *kvpb.SplitRequest) (*kvpb.SplitResponse, error) {
	if err := checkKey(req.Key); err != nil {
		return nil, err
	}
	left, right, err := a.s.db.AdminSplit(ctx, keys.KVKey(req.Key))
	if err != nil {
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	}
	return &kvpb.SplitResponse{Left: left, Right: right}, nil
}

func (a *adminAPI) Ranges(ctx context.Context, _ *kvpb.RangesRequest) (*kvpb.RangesResponse, error) {
	return &kvpb.RangesResponse{Ranges: a.s.rangeInfos()}, nil
}
