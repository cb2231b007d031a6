package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
	"github.com/cairndb/cairn/internal/placement"
)

// metaProbeKey is read by the health check: answering it proves the meta
// range has a serving leaseholder.
var metaProbeKey = keys.RangeIDCounterKey

func (s *Server) httpHandler(api *kvAPI) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Ready(r.Context()); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.Handle("GET /metrics", promhttp.Handler())
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// The storage engine's LSM: levels, files, flushes, compactions, WAL
	// (where a read's time goes: every memtable and level is a seek).
	mux.HandleFunc("GET /debug/lsm", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, s.eng.DB().Metrics().String())
	})

	h := &kvHTTP{api: api}
	mux.HandleFunc("GET /v1/kv/{key...}", h.get)
	mux.HandleFunc("PUT /v1/kv/{key...}", h.put)
	mux.HandleFunc("POST /v1/kv/{key...}", h.put)
	mux.HandleFunc("DELETE /v1/kv/{key...}", h.del)
	mux.HandleFunc("GET /v1/kv", h.scan)
	mux.HandleFunc("POST /v1/txn", h.txn)
	mux.HandleFunc("GET /v1/ranges", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, rangesJSON(s.rangeInfos()))
	})
	mux.HandleFunc("GET /v1/nodes", func(w http.ResponseWriter, r *http.Request) {
		nodes, err := s.nodeStatuses(r.Context())
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, nodesJSON(nodes))
	})
	mux.HandleFunc("GET /v1/settings", func(w http.ResponseWriter, r *http.Request) {
		_, raw, err := placement.ReadSettings(r.Context(), s.db)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, raw)
	})
	return mux
}

// kvHTTP is the JSON/raw-body face of the KV API.
type kvHTTP struct{ api *kvAPI }

func pathKey(r *http.Request) []byte { return []byte(r.PathValue("key")) }

func (h *kvHTTP) get(w http.ResponseWriter, r *http.Request) {
	resp, err := h.api.Get(r.Context(), &kvpb.GetRequest{Key: pathKey(r)})
	if err != nil {
		writeError(w, err)
		return
	}
	if !resp.Found {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "key not found"})
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Cairn-Timestamp", strconv.FormatUint(resp.Timestamp, 10))
	_, _ = w.Write(resp.Value)
}

func (h *kvHTTP) put(w http.ResponseWriter, r *http.Request) {
	// Read one byte past the limit so an oversized body is rejected, not cut.
	body, err := io.ReadAll(io.LimitReader(r.Body, keys.MaxValueSize+1))
	if err != nil {
		writeError(w, status.Error(codes.InvalidArgument, "reading the request body: "+err.Error()))
		return
	}
	if len(body) > keys.MaxValueSize {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{
			"error": fmt.Sprintf("value exceeds the limit of %d bytes", keys.MaxValueSize)})
		return
	}
	resp, err := h.api.Put(r.Context(), &kvpb.PutRequest{Key: pathKey(r), Value: body})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"timestamp": resp.Timestamp})
}

func (h *kvHTTP) del(w http.ResponseWriter, r *http.Request) {
	resp, err := h.api.Delete(r.Context(), &kvpb.DeleteRequest{Key: pathKey(r)})
	if err != nil {
		writeError(w, err)
		return
	}
	if !resp.Deleted {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "key not found"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"deleted": true})
}

// scanKV is one key of an HTTP scan. JSON strings cannot carry arbitrary
// bytes, so key is for reading (invalid UTF-8 becomes U+FFFD) and
// key_base64 is exact; values are always base64.
type scanKV struct {
	Key       string `json:"key"`
	KeyBase64 []byte `json:"key_base64"`
	Value     []byte `json:"value"`
	Timestamp uint64 `json:"timestamp"`
}

type scanResult struct {
	KVs             []scanKV `json:"kvs"`
	More            bool     `json:"more"`
	ResumeKey       *string  `json:"resume_key,omitempty"`
	ResumeKeyBase64 []byte   `json:"resume_key_base64,omitempty"`
}

func (h *kvHTTP) scan(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var limit int64
	if l := q.Get("limit"); l != "" {
		var err error
		if limit, err = strconv.ParseInt(l, 10, 64); err != nil {
			writeError(w, status.Errorf(codes.InvalidArgument, "limit %q is not an integer", l))
			return
		}
	}
	resp, err := h.api.Scan(r.Context(), &kvpb.ScanRequest{
		StartKey: []byte(q.Get("start")), EndKey: []byte(q.Get("end")), Limit: limit,
	})
	if err != nil {
		writeError(w, err)
		return
	}
	out := scanResult{KVs: make([]scanKV, len(resp.Kvs)), More: resp.More}
	for i, kv := range resp.Kvs {
		out.KVs[i] = scanKV{Key: string(kv.Key), KeyBase64: kv.Key, Value: kv.Value, Timestamp: kv.Timestamp}
	}
	if resp.More {
		rk := string(resp.ResumeKey)
		out.ResumeKey, out.ResumeKeyBase64 = &rk, resp.ResumeKey
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError maps a gRPC status onto an HTTP status with a JSON body.
func writeError(w http.ResponseWriter, err error) {
	st := status.Convert(toStatus(err))
	code := http.StatusInternalServerError
	switch st.Code() {
	case codes.InvalidArgument:
		code = http.StatusBadRequest
	case codes.Unavailable, codes.Aborted:
		code = http.StatusServiceUnavailable
	case codes.DeadlineExceeded, codes.Canceled:
		code = http.StatusGatewayTimeout
	case codes.FailedPrecondition:
		code = http.StatusConflict
	}
	if errors.Is(err, context.Canceled) {
		return // the client went away
	}
	writeJSON(w, code, map[string]string{"error": st.Message(), "code": strings.ToLower(st.Code().String())})
}
