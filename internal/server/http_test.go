package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairndb/cairn/internal/keys"
	"github.com/cairndb/cairn/internal/kvpb"
)

type httpClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newHTTPClient(t *testing.T, s *Server) *httpClient {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &httpClient{t: t, base: "http://" + s.HTTPAddr(), c: &http.Client{Transport: tr}}
}

// do sends a request and returns the status, headers and body.
func (h *httpClient) do(method, path string, body []byte) (int, http.Header, []byte) {
	h.t.Helper()
	req, err := http.NewRequestWithContext(testCtx(h.t), method, h.base+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	resp, err := h.c.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// jsonError decodes an {"error":..., "code":...} body.
func jsonError(t *testing.T, b []byte) (msg, code string) {
	t.Helper()
	var e struct{ Error, Code string }
	if err := json.Unmarshal(b, &e); err != nil || e.Error == "" {
		t.Fatalf("body %q is not a JSON error: %v", b, err)
	}
	return e.Error, e.Code
}

func TestHTTPKV(t *testing.T) {
	s := startTestServer(t, testConfig())
	h := newHTTPClient(t, s)

	code, _, body := h.do("GET", "/health", nil)
	if code != http.StatusOK || string(body) != "ok\n" {
		t.Fatalf("GET /health = %d %q", code, body)
	}

	code, hdr, body := h.do("PUT", "/v1/kv/greeting", []byte("hello"))
	if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
		t.Fatalf("PUT = %d %q %v", code, body, hdr)
	}
	var put struct{ Timestamp uint64 }
	if err := json.Unmarshal(body, &put); err != nil || put.Timestamp == 0 {
		t.Fatalf("PUT body %q: %v", body, err)
	}
	code, hdr, body = h.do("GET", "/v1/kv/greeting", nil)
	if code != http.StatusOK || string(body) != "hello" || hdr.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("GET = %d %q %v", code, body, hdr)
	}
	if ts, err := strconv.ParseUint(hdr.Get("X-Cairn-Timestamp"), 10, 64); err != nil || ts != put.Timestamp {
		t.Fatalf("X-Cairn-Timestamp = %q, want the put's timestamp %d", hdr.Get("X-Cairn-Timestamp"), put.Timestamp)
	}
	// POST writes too, and overwrites.
	if code, _, body = h.do("POST", "/v1/kv/greeting", []byte("bonjour")); code != http.StatusOK {
		t.Fatalf("POST = %d %q", code, body)
	}
	if _, _, body = h.do("GET", "/v1/kv/greeting", nil); string(body) != "bonjour" {
		t.Fatalf("GET after POST = %q", body)
	}
	// Binary values round-trip.
	bin := []byte{0x00, 0xff, 0x10, 0x00}
	h.do("PUT", "/v1/kv/bin", bin)
	if _, _, body = h.do("GET", "/v1/kv/bin", nil); !bytes.Equal(body, bin) {
		t.Fatalf("binary GET = %x", body)
	}
	// Keys are the rest of the path, URL-decoded, slashes included.
	for _, tc := range []struct{ path, key string }{
		{"/v1/kv/a/b/c", "a/b/c"},
		{"/v1/kv/with%20space", "with space"},
		{"/v1/kv/slash%2Fencoded", "slash/encoded"},
	} {
		if code, _, body := h.do("PUT", tc.path, []byte(tc.key)); code != http.StatusOK {
			t.Fatalf("PUT %s = %d %q", tc.path, code, body)
		}
		resp, err := s.db.Get(context.Background(), keys.KVKey([]byte(tc.key)))
		if err != nil || !resp.Found || string(resp.Value) != tc.key {
			t.Fatalf("PUT %s did not write key %q: %v %v", tc.path, tc.key, resp, err)
		}
	}

	code, _, body = h.do("GET", "/v1/kv/missing", nil)
	if msg, _ := jsonError(t, body); code != http.StatusNotFound || msg != "key not found" {
		t.Fatalf("GET missing = %d %q", code, body)
	}
	code, _, body = h.do("DELETE", "/v1/kv/greeting", nil)
	if code != http.StatusOK || strings.TrimSpace(string(body)) != `{"deleted":true}` {
		t.Fatalf("DELETE = %d %q", code, body)
	}
	code, _, body = h.do("DELETE", "/v1/kv/greeting", nil)
	if msg, _ := jsonError(t, body); code != http.StatusNotFound || msg != "key not found" {
		t.Fatalf("second DELETE = %d %q", code, body)
	}
	if code, _, _ = h.do("GET", "/v1/kv/greeting", nil); code != http.StatusNotFound {
		t.Fatalf("GET after DELETE = %d", code)
	}
}

func TestHTTPErrors(t *testing.T) {
	s := startTestServer(t, testConfig())
	h := newHTTPClient(t, s)
	longKey := strings.Repeat("k", 4097)
	tests := []struct {
		name, method, path string
		body               []byte
		wantCode           int
		wantErrCode        string // "" when the body is not a JSON error
	}{
		{"empty key get", "GET", "/v1/kv/", nil, http.StatusBadRequest, "invalidargument"},
		{"empty key put", "PUT", "/v1/kv/", []byte("v"), http.StatusBadRequest, "invalidargument"},
		{"empty key delete", "DELETE", "/v1/kv/", nil, http.StatusBadRequest, "invalidargument"},
		{"long key", "PUT", "/v1/kv/" + longKey, []byte("v"), http.StatusBadRequest, "invalidargument"},
		{"value over 1 MiB", "PUT", "/v1/kv/big", bytes.Repeat([]byte("v"), 1<<20+1), http.StatusRequestEntityTooLarge, ""},
		{"value of 1 MiB", "PUT", "/v1/kv/big", bytes.Repeat([]byte("v"), 1<<20), http.StatusOK, ""},
		{"limit not a number", "GET", "/v1/kv?limit=abc", nil, http.StatusBadRequest, "invalidargument"},
		{"limit too large", "GET", "/v1/kv?limit=10001", nil, http.StatusBadRequest, "invalidargument"},
		{"negative limit", "GET", "/v1/kv?limit=-1", nil, http.StatusBadRequest, "invalidargument"},
		{"scan bound too long", "GET", "/v1/kv?start=" + longKey, nil, http.StatusBadRequest, "invalidargument"},
		{"method not allowed", "PATCH", "/v1/kv/k", []byte("v"), http.StatusMethodNotAllowed, ""},
		{"unknown path", "GET", "/v2/kv/k", nil, http.StatusNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, body := h.do(tc.method, tc.path, tc.body)
			if code != tc.wantCode {
				t.Fatalf("%s %s = %d %q, want %d", tc.method, tc.path, code, body, tc.wantCode)
			}
			if tc.wantErrCode != "" {
				if _, ec := jsonError(t, body); ec != tc.wantErrCode {
					t.Fatalf("error code %q, want %q", ec, tc.wantErrCode)
				}
			}
		})
	}
	// The oversized value was not written, the 1 MiB one was.
	resp, err := s.db.Get(context.Background(), keys.KVKey([]byte("big")))
	if err != nil || len(resp.Value) != 1<<20 {
		t.Fatalf("big = %d bytes, %v", len(resp.GetValue()), err)
	}
}

type scanJSON struct {
	KVs []struct {
		Key       string `json:"key"`
		KeyBase64 []byte `json:"key_base64"`
		Value     []byte `json:"value"`
		Timestamp uint64 `json:"timestamp"`
	} `json:"kvs"`
	More            bool    `json:"more"`
	ResumeKey       *string `json:"resume_key"`
	ResumeKeyBase64 []byte  `json:"resume_key_base64"`
}

func TestHTTPScan(t *testing.T) {
	s := startTestServer(t, testConfig())
	h := newHTTPClient(t, s)
	for _, k := range []string{"a", "b", "c", "d"} {
		if code, _, body := h.do("PUT", "/v1/kv/"+k, []byte("v"+k)); code != http.StatusOK {
			t.Fatalf("PUT %s = %d %q", k, code, body)
		}
	}
	h.do("DELETE", "/v1/kv/c", nil)
	scan := func(query string) scanJSON {
		t.Helper()
		code, _, body := h.do("GET", "/v1/kv"+query, nil)
		if code != http.StatusOK {
			t.Fatalf("GET /v1/kv%s = %d %q", query, code, body)
		}
		var out scanJSON
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("scan body %q: %v", body, err)
		}
		if out.KVs == nil {
			t.Fatalf("scan body %q has no kvs array", body)
		}
		return out
	}
	str := func(r scanJSON) string {
		var parts []string
		for _, kv := range r.KVs {
			if kv.Timestamp == 0 {
				t.Fatalf("key %q without a timestamp", kv.Key)
			}
			parts = append(parts, kv.Key+"="+string(kv.Value))
		}
		rk := "<none>"
		if r.ResumeKey != nil {
			rk = *r.ResumeKey
		}
		return fmt.Sprintf("%s more=%v resume=%s", strings.Join(parts, " "), r.More, rk)
	}
	for _, tc := range []struct{ query, want string }{
		{"", "a=va b=vb d=vd more=false resume=<none>"},
		{"?start=b", "b=vb d=vd more=false resume=<none>"},
		{"?start=b&end=d", "b=vb more=false resume=<none>"},
		{"?limit=2", "a=va b=vb more=true resume=c"},
		{"?start=x", " more=false resume=<none>"},
	} {
		got := str(scan(tc.query))
		if tc.query == "?limit=2" {
			// The resume key may be any key after b up to d.
			r := scan(tc.query)
			if r.ResumeKey == nil || *r.ResumeKey <= "b" || *r.ResumeKey > "d" || !r.More || len(r.KVs) != 2 {
				t.Fatalf("scan %s = %s", tc.query, got)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("scan %q = %s, want %s", tc.query, got, tc.want)
		}
	}
	// An empty result is an empty array, not null.
	code, _, body := h.do("GET", "/v1/kv?start=x", nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"kvs":[]`) {
		t.Fatalf("empty scan body = %q", body)
	}
}

func TestHTTPRangesAndMetrics(t *testing.T) {
	s := startTestServer(t, testConfig())
	h := newHTTPClient(t, s)
	c := dial(t, s)
	if _, _, err := c.Split(testCtx(t), []byte("m")); err != nil {
		t.Fatal(err)
	}
	// A request, so that the request metrics have a series to show.
	if err := c.Put(testCtx(t), []byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	type rangeInfo struct {
		RangeID  uint64 `json:"range_id"`
		StartKey string `json:"start_key"`
		EndKey   string `json:"end_key"`
		Replicas []struct {
			NodeID uint64 `json:"node_id"`
		} `json:"replicas"`
		Leaseholder uint64 `json:"leaseholder"`
	}
	// The range split off elects its leader just after the split: wait
	// until every range reports its leaseholder.
	var ranges []rangeInfo
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		code, _, body := h.do("GET", "/v1/ranges", nil)
		if code != http.StatusOK {
			t.Fatalf("GET /v1/ranges = %d %q", code, body)
		}
		ranges = nil
		if err := json.Unmarshal(body, &ranges); err != nil {
			t.Fatalf("ranges body %q: %v", body, err)
		}
		if len(ranges) != 3 {
			t.Fatalf("%d ranges, want 3: %s", len(ranges), body)
		}
		led := true
		for _, r := range ranges {
			led = led && r.Leaseholder != 0
		}
		if led || time.Now().After(deadline) {
			break
		}
	}
	var bounds []string
	for _, r := range ranges {
		bounds = append(bounds, r.StartKey+".."+r.EndKey)
		if len(r.Replicas) != 1 || r.Replicas[0].NodeID != s.NodeID() || r.Leaseholder != s.NodeID() {
			t.Fatalf("range %d: replicas %v leaseholder %d", r.RangeID, r.Replicas, r.Leaseholder)
		}
	}
	want := `[/Min../System/"" /System/""../KV/"m" /KV/"m"../Max]`
	if fmt.Sprint(bounds) != want {
		t.Fatalf("range bounds = %v, want %s (ordered by start key)", bounds, want)
	}

	code, _, body := h.do("GET", "/metrics", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", code)
	}
	for _, m := range []string{"cairn_kv_requests_total", "cairn_raft_proposals_total", "cairn_kv_request_duration_seconds"} {
		if !strings.Contains(string(body), m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	if code, _, _ = h.do("GET", "/debug/pprof/", nil); code != http.StatusOK {
		t.Fatalf("GET /debug/pprof/ = %d", code)
	}
	if code, _, body = h.do("GET", "/debug/lsm", nil); code != http.StatusOK || !strings.Contains(string(body), "WAL:") {
		t.Fatalf("GET /debug/lsm = %d %q, want the storage engine's LSM summary", code, body)
	}
}

// TestToStatus: internal errors map onto the gRPC codes clients act on.
func TestToStatus(t *testing.T) {
	tests := []struct {
		err  error
		want codes.Code
	}{
		{context.DeadlineExceeded, codes.DeadlineExceeded},
		{fmt.Errorf("wrapped: %w", context.Canceled), codes.Canceled},
		{kvpb.NewAmbiguousResult(errors.New("x")), codes.Unknown},
		{fmt.Errorf("kv: %w", kvpb.NewAmbiguousResult(errors.New("x"))), codes.Unknown},
		// Not applied and retryable: Aborted, so clients can tell it from a
		// broken connection (Unavailable), which is ambiguous for writes.
		{kvpb.NewNotLeaseholder(2, nil), codes.Aborted},
		{status.Error(codes.InvalidArgument, "bad"), codes.InvalidArgument},
		{errors.New("anything else"), codes.Aborted},
	}
	for _, tc := range tests {
		if got := status.Code(toStatus(tc.err)); got != tc.want {
			t.Errorf("toStatus(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	if toStatus(nil) != nil {
		t.Error("toStatus(nil) != nil")
	}
}

func TestWriteError(t *testing.T) {
	tests := []struct {
		err      error
		wantCode int
	}{
		{status.Error(codes.InvalidArgument, "bad"), http.StatusBadRequest},
		{status.Error(codes.Unavailable, "down"), http.StatusServiceUnavailable},
		{status.Error(codes.Aborted, "retry"), http.StatusServiceUnavailable},
		{context.DeadlineExceeded, http.StatusGatewayTimeout},
		{status.Error(codes.FailedPrecondition, "no"), http.StatusConflict},
		{kvpb.NewAmbiguousResult(errors.New("x")), http.StatusInternalServerError},
	}
	for _, tc := range tests {
		rec := httptest.NewRecorder()
		writeError(rec, tc.err)
		if rec.Code != tc.wantCode {
			t.Errorf("writeError(%v) = %d, want %d", tc.err, rec.Code, tc.wantCode)
		}
		jsonError(t, rec.Body.Bytes())
	}
	rec := httptest.NewRecorder()
	writeError(rec, context.Canceled)
	if rec.Body.Len() != 0 {
		t.Errorf("writeError(Canceled) wrote %q for a client that went away", rec.Body.String())
	}
}

// TestToLogical: client requests are validated and moved into the KV
// namespace; nothing outside the client API gets through.
func TestToLogical(t *testing.T) {
	get := func(k string) *kvpb.RequestUnion {
		return &kvpb.RequestUnion{Value: &kvpb.RequestUnion_Get{Get: &kvpb.GetRequest{Key: []byte(k)}}}
	}
	r, err := toLogical(get("k"))
	if err != nil || !bytes.Equal(r.GetGet().Key, keys.KVKey([]byte("k"))) {
		t.Fatalf("toLogical(get k) = %v, %v", r, err)
	}
	r, err = toLogical(&kvpb.RequestUnion{Value: &kvpb.RequestUnion_Scan{Scan: &kvpb.ScanRequest{StartKey: []byte("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	sc := r.GetScan()
	if !bytes.Equal(sc.StartKey, keys.KVKey([]byte("a"))) || !bytes.Equal(sc.EndKey, keys.KVPrefixEnd) || sc.Limit != 1000 {
		t.Fatalf("scan mapped to [%q, %q) limit %d", sc.StartKey, sc.EndKey, sc.Limit)
	}
	for name, req := range map[string]*kvpb.RequestUnion{
		"nil value": {},
		"increment": {Value: &kvpb.RequestUnion_Increment{Increment: &kvpb.IncrementRequest{Key: []byte("k"), Delta: 1}}},
		"split":     {Value: &kvpb.RequestUnion_AdminSplit{AdminSplit: &kvpb.AdminSplitRequest{SplitKey: []byte("k")}}},
		"nil get":   {Value: &kvpb.RequestUnion_Get{}},
		"nil cas":   {Value: &kvpb.RequestUnion_Cas{}},
	} {
		if _, err := toLogical(req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("toLogical(%s) = %v, want InvalidArgument", name, err)
		}
	}
}

// TestHTTPScanBinaryKeys: keys are arbitrary bytes (values are base64 for
// that reason), so a scan over HTTP must return them, and its resume key,
// without loss.
func TestHTTPScanBinaryKeys(t *testing.T) {
	s := startTestServer(t, testConfig())
	h := newHTTPClient(t, s)
	for _, path := range []string{"/v1/kv/bin%FF%00a", "/v1/kv/bin%FF%00b", "/v1/kv/bin%FE"} {
		if code, _, body := h.do("PUT", path, []byte("v")); code != http.StatusOK {
			t.Fatalf("PUT %s = %d %q", path, code, body)
		}
	}
	code, _, body := h.do("GET", "/v1/kv?start=bin&limit=2", nil)
	if code != http.StatusOK {
		t.Fatalf("scan = %d %q", code, body)
	}
	var out scanJSON
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.KVs) != 2 || out.ResumeKey == nil {
		t.Fatalf("scan = %s", body)
	}
	// key is for reading (non-UTF-8 bytes become U+FFFD); key_base64 and
	// resume_key_base64 are exact.
	if string(out.KVs[0].KeyBase64) != "bin\xfe" || string(out.KVs[1].KeyBase64) != "bin\xff\x00a" || string(out.ResumeKeyBase64) != "bin\xff\x00b" {
		t.Fatalf("scan keys %q %q resume %q; want exact bytes", out.KVs[0].KeyBase64, out.KVs[1].KeyBase64, out.ResumeKeyBase64)
	}
}
