package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/pkg/client"
)

const (
	// startFailTimeout bounds a `cairn start` that must fail.
	startFailTimeout = 10 * time.Second
)

// cliArgs joins argument groups into one command line.
func cliArgs(groups ...[]string) []string { return slices.Concat(groups...) }

// addrFlags are --rpc-addr, --http-addr and --sql-addr on free ports, for a
// `cairn start` run through the CLI helpers.
func addrFlags(t *testing.T) []string {
	a := freeAddrs(t, 3)
	return []string{"--rpc-addr", a[0], "--http-addr", a[1], "--sql-addr", a[2]}
}

// TestCLIKVRoundTrip drives kv put/get/del/scan as documented.
func TestCLIKVRoundTrip(t *testing.T) {
	n := startNode(t, nodeConfig{})
	f := n.insecureFlags()
	kv := func(args ...string) []string { return cliArgs([]string{"kv"}, args, f) }

	if r := mustCLI(t, kv("put", "alpha", "one")...); strings.TrimSpace(r.Stdout) != "OK" {
		t.Errorf("kv put: stdout %q, want OK", r.Stdout)
	}
	r := runCLIOpts(t, cliOpts{Stdin: "from stdin\nline 2"}, kv("put", "beta")...)
	if r.Code != 0 {
		t.Fatalf("kv put from stdin:\n%s", r)
	}
	mustCLI(t, kv("put", "gamma", "three")...)

	if r := mustCLI(t, kv("get", "alpha")...); r.Stdout != "one\n" {
		t.Errorf("kv get alpha: stdout %q, want %q", r.Stdout, "one\n")
	}
	if r := mustCLI(t, kv("get", "beta")...); r.Stdout != "from stdin\nline 2\n" {
		t.Errorf("kv get beta: stdout %q", r.Stdout)
	}
	if r := runCLI(t, kv("get", "missing")...); r.Code == 0 || !strings.Contains(r.Stderr, "not found") {
		t.Errorf("kv get of a missing key: want non-zero exit and \"not found\"\n%s", r)
	}

	r = mustCLI(t, kv("scan")...)
	if want := "alpha\tone\nbeta\tfrom stdin\nline 2\ngamma\tthree\n"; r.Stdout != want {
		t.Errorf("kv scan: stdout %q, want %q", r.Stdout, want)
	}
	if r := mustCLI(t, kv("scan", "b", "c")...); !strings.HasPrefix(r.Stdout, "beta\t") || strings.Contains(r.Stdout, "alpha") || strings.Contains(r.Stdout, "gamma") {
		t.Errorf("kv scan b c: stdout %q, want only beta", r.Stdout)
	}
	r = mustCLI(t, kv("scan", "--limit", "1")...)
	if r.Stdout != "alpha\tone\n" || !strings.Contains(r.Stderr, "more keys") {
		t.Errorf("kv scan --limit 1: want alpha and a \"more keys\" hint\n%s", r)
	}

	if r := mustCLI(t, kv("del", "alpha")...); strings.TrimSpace(r.Stdout) != "OK" {
		t.Errorf("kv del: stdout %q, want OK", r.Stdout)
	}
	if r := runCLI(t, kv("get", "alpha")...); r.Code == 0 || !strings.Contains(r.Stderr, "not found") {
		t.Errorf("kv get after del: want non-zero exit and \"not found\"\n%s", r)
	}
	if r := runCLI(t, kv("del", "alpha")...); r.Code == 0 || !strings.Contains(r.Stderr, "not found") {
		t.Errorf("kv del of a missing key: want non-zero exit and \"not found\"\n%s", r)
	}
	mustCLI(t, kv("delete", "gamma")...) // documented alias
	if r := mustCLI(t, kv("scan")...); r.Stdout != "beta\tfrom stdin\nline 2\n" {
		t.Errorf("kv scan after deletes: stdout %q", r.Stdout)
	}
}

// TestCLISplit splits the user range and checks both sides keep working.
func TestCLISplit(t *testing.T) {
	n := startNode(t, nodeConfig{})
	f := n.insecureFlags()
	kv := func(args ...string) []string { return cliArgs([]string{"kv"}, args, f) }
	keys := []string{"a", "b", "k", "m", "n", "z"}
	for _, k := range keys {
		mustCLI(t, kv("put", k, "v-"+k)...)
	}
	r := mustCLI(t, cliArgs([]string{"debug", "split", "m"}, f)...)
	if !strings.Contains(r.Stdout, "split") {
		t.Errorf("debug split: stdout %q", r.Stdout)
	}

	want := ""
	for _, k := range keys {
		want += k + "\tv-" + k + "\n"
	}
	if r := mustCLI(t, kv("scan")...); r.Stdout != want {
		t.Errorf("kv scan after split: stdout %q, want %q", r.Stdout, want)
	}
	// A scan spanning the split point, and one on each side.
	if r := mustCLI(t, kv("scan", "k", "n")...); r.Stdout != "k\tv-k\nm\tv-m\n" {
		t.Errorf("kv scan k n across the split: stdout %q", r.Stdout)
	}
	for _, k := range []string{"b", "m", "z"} {
		mustCLI(t, kv("put", k, "new-"+k)...)
		if r := mustCLI(t, kv("get", k)...); r.Stdout != "new-"+k+"\n" {
			t.Errorf("kv get %s after split: stdout %q", k, r.Stdout)
		}
	}
	for _, k := range []string{"l", "mm"} { // new keys on both sides
		mustCLI(t, kv("put", k, "v-"+k)...)
		if r := mustCLI(t, kv("get", k)...); r.Stdout != "v-"+k+"\n" {
			t.Errorf("kv get %s after split: stdout %q", k, r.Stdout)
		}
	}
	mustCLI(t, kv("del", "a")...)
	mustCLI(t, kv("del", "n")...)
	want = "b\tnew-b\nk\tv-k\nl\tv-l\nm\tnew-m\nmm\tv-mm\nz\tnew-z\n"
	if r := mustCLI(t, kv("scan")...); r.Stdout != want {
		t.Errorf("kv scan after writes on both sides: stdout %q, want %q", r.Stdout, want)
	}

	// The HTTP range listing shows the new range boundary.
	code, body := httpDo(t, n.httpc, http.MethodGet, n.url("/v1/ranges"), nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"m\"`) {
		t.Errorf("GET /v1/ranges after split at m: %d %s", code, body)
	}
	// Splitting at an existing boundary fails cleanly.
	if r := runCLI(t, cliArgs([]string{"debug", "split", "m"}, f)...); r.Code == 0 {
		t.Errorf("second split at the same key: want non-zero exit\n%s", r)
	}
}

// TestCLIBadInput checks that malformed command lines fail with a message
// and without a panic (runCLI flags panics on stderr).
func TestCLIBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"kv get unknown flag", []string{"kv", "get", "k", "--no-such-flag"}, "unknown flag"},
		{"start unknown flag", []string{"start", "--insecure", "--bogus=1"}, "unknown flag"},
		{"root unknown flag", []string{"--bogus"}, "unknown flag"},
		{"unknown shorthand", []string{"kv", "scan", "-Z"}, "unknown shorthand flag"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"kv get no key", []string{"kv", "get", "--insecure"}, "arg"},
		{"kv put too many args", []string{"kv", "put", "a", "b", "c", "--insecure"}, "arg"},
		{"kv without security mode", []string{"kv", "get", "k", "--addr", "127.0.0.1:1"}, "--insecure"},
		{"kv insecure and certs", []string{"kv", "get", "k", "--insecure", "--certs-dir", "x"}, "mutually exclusive"},
		{"bad timeout", []string{"kv", "get", "k", "--insecure", "--timeout", "soon"}, "invalid argument"},
		{"bad log level", []string{"start", "--insecure", "--log-level", "loud"}, "--log-level"},
		{"bad rpc addr", []string{"start", "--insecure", "--rpc-addr", "nope"}, "--rpc-addr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLIOpts(t, cliOpts{Timeout: startFailTimeout}, tc.args...)
			if r.Code == 0 || !strings.Contains(r.Stderr, tc.want) {
				t.Errorf("cairn %s: want non-zero exit and %q on stderr\n%s", strings.Join(tc.args, " "), tc.want, r)
			}
		})
	}
}

// TestStartDataDirInUse starts a second node on a data dir that a running
// node holds.
func TestStartDataDirInUse(t *testing.T) {
	n := startNode(t, nodeConfig{})
	r := runCLIOpts(t, cliOpts{Timeout: startFailTimeout},
		cliArgs([]string{"start", "--insecure", "--data-dir", n.cfg.DataDir}, addrFlags(t))...)
	if r.Code == 0 || !strings.Contains(r.Stderr, "in use") {
		t.Errorf("second start on %s: want non-zero exit and \"in use\"\n%s", n.cfg.DataDir, r)
	}
	if r.Elapsed > 5*time.Second {
		t.Errorf("second start took %v to fail", r.Elapsed)
	}
	// The first node is unharmed.
	if err := n.waitHealthy(5 * time.Second); err != nil {
		t.Errorf("first node after the second start: %v", err)
	}
}

// TestStartRequiresSecurityMode: neither --insecure nor --certs-dir.
func TestStartRequiresSecurityMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	r := runCLIOpts(t, cliOpts{Timeout: startFailTimeout},
		cliArgs([]string{"start", "--data-dir", dir}, addrFlags(t))...)
	if r.Code == 0 || !strings.Contains(r.Stderr, "--insecure") || !strings.Contains(r.Stderr, "--certs-dir") {
		t.Errorf("start without a security mode: want non-zero exit naming --insecure and --certs-dir\n%s", r)
	}
	r = runCLIOpts(t, cliOpts{Timeout: startFailTimeout},
		cliArgs([]string{"start", "--data-dir", dir, "--insecure", "--certs-dir", t.TempDir()}, addrFlags(t))...)
	if r.Code == 0 || !strings.Contains(r.Stderr, "mutually exclusive") {
		t.Errorf("start with --insecure and --certs-dir: want non-zero exit and \"mutually exclusive\"\n%s", r)
	}
	r = runCLIOpts(t, cliOpts{Timeout: startFailTimeout},
		cliArgs([]string{"start", "--data-dir", dir, "--certs-dir", filepath.Join(t.TempDir(), "none")}, addrFlags(t))...)
	if r.Code == 0 || !strings.Contains(r.Stderr, "ca.crt") {
		t.Errorf("start with an empty --certs-dir: want non-zero exit naming ca.crt\n%s", r)
	}
}

// TestStartCorruptDataDir starts nodes on damaged data dirs: each must exit
// non-zero quickly with a clear message and no panic.
func TestStartCorruptDataDir(t *testing.T) {
	// A real data dir with some data, cleanly shut down.
	good := t.TempDir()
	n := startNode(t, nodeConfig{DataDir: good})
	if err := n.client(t).Put(context.Background(), []byte("k"), []byte("v")); err != nil {
		t.Fatalf("put: %v", err)
	}
	if code := n.terminate(exitTimeout); code != 0 {
		t.Fatalf("SIGTERM: exit code %d", code)
	}

	garbage := bytes.Repeat([]byte("this is not a pebble manifest\x00\xff"), 64)
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, dir string) (dataDir string)
		want   []string // all must appear on stderr
	}{
		{"garbage MANIFEST", func(t *testing.T, dir string) string {
			copyDir(t, good, dir)
			garble(t, filepath.Join(dir, "store", "MANIFEST-*"), garbage)
			return dir
		}, []string{"corrupt", "MANIFEST"}},
		{"garbage OPTIONS", func(t *testing.T, dir string) string {
			copyDir(t, good, dir)
			garble(t, filepath.Join(dir, "store", "OPTIONS-*"), garbage)
			return dir
		}, []string{"corrupt", "OPTIONS"}},
		{"store is a regular file", func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, "store"), []byte("not a directory"))
			return dir
		}, []string{"corrupt", "store"}},
		{"data dir is a regular file", func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "file")
			writeFile(t, path, nil)
			return path
		}, []string{"data dir"}},
		{"garbage WAL", func(t *testing.T, dir string) string {
			copyDir(t, good, dir)
			garble(t, filepath.Join(dir, "store", "*.log"), garbage)
			return dir
		}, []string{"corrupt", "refusing to start a new cluster"}},
		{"store removed", func(t *testing.T, dir string) string {
			copyDir(t, good, dir)
			if err := os.RemoveAll(filepath.Join(dir, "store")); err != nil {
				t.Fatal(err)
			}
			return dir
		}, []string{"refusing to start a new cluster"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := tc.damage(t, t.TempDir())
			r := runCLIOpts(t, cliOpts{Timeout: startFailTimeout},
				cliArgs([]string{"start", "--insecure", "--data-dir", dataDir}, addrFlags(t))...)
			if r.TimedOut {
				return // reported by runCLIOpts
			}
			if r.Code == 0 {
				t.Fatalf("start on a damaged data dir: want a non-zero exit\n%s", r)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.Stderr, w) {
					t.Errorf("start on a damaged data dir: stderr lacks %q\n%s", w, r)
				}
			}
			if strings.Contains(r.Stderr, "node started") {
				t.Errorf("the node claimed to start\n%s", r)
			}
		})
	}
}

// copyDir copies the regular files of the tree src into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatalf("copying %s: %v", src, err)
	}
}

// garble overwrites every file matching pattern with garbage.
func garble(t *testing.T, pattern string, garbage []byte) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no file matches %s (%v)", pattern, err)
	}
	for _, f := range files {
		writeFile(t, f, garbage)
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestClientSizeLimits: the documented key and value limits, through the
// Go client.
func TestClientSizeLimits(t *testing.T) {
	n := startNode(t, nodeConfig{})
	c := n.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const maxKey, maxValue = 4096, 1 << 20
	bigKey := bytes.Repeat([]byte("k"), maxKey+1)
	bigValue := bytes.Repeat([]byte("v"), maxValue+1)

	if err := c.Put(ctx, bigKey, []byte("v")); !errors.Is(err, client.ErrInvalid) {
		t.Errorf("put of a %d-byte key: %v, want ErrInvalid", len(bigKey), err)
	}
	if err := c.Put(ctx, []byte("big"), bigValue); !errors.Is(err, client.ErrInvalid) {
		t.Errorf("put of a %d-byte value: %v, want ErrInvalid", len(bigValue), err)
	}
	if _, _, err := c.Get(ctx, bigKey); !errors.Is(err, client.ErrInvalid) {
		t.Errorf("get of a %d-byte key: %v, want ErrInvalid", len(bigKey), err)
	}
	if err := c.Put(ctx, nil, []byte("v")); !errors.Is(err, client.ErrInvalid) {
		t.Errorf("put of an empty key: %v, want ErrInvalid", err)
	}
	if _, _, err := c.CompareAndSet(ctx, []byte("cas"), nil, bigValue); !errors.Is(err, client.ErrInvalid) {
		t.Errorf("compare-and-set of a %d-byte value: %v, want ErrInvalid", len(bigValue), err)
	}
	if _, err := c.Batch(ctx, client.PutOp([]byte("ok"), []byte("v")), client.PutOp(bigKey, []byte("v"))); !errors.Is(err, client.ErrInvalid) {
		t.Errorf("batch with a %d-byte key: %v, want ErrInvalid", len(bigKey), err)
	}
	// Nothing of the rejected requests was written.
	if _, found, err := c.Get(ctx, []byte("big")); err != nil || found {
		t.Errorf("get big after the rejected put: found %v, err %v", found, err)
	}
	if _, found, err := c.Get(ctx, []byte("ok")); err != nil || found {
		t.Errorf("get ok after the rejected batch: found %v, err %v", found, err)
	}

	// Exactly at the limits is fine.
	key := bytes.Repeat([]byte("K"), maxKey)
	value := bytes.Repeat([]byte{0, 1, 0xff}, maxValue/3)
	value = append(value, bytes.Repeat([]byte("x"), maxValue-len(value))...)
	if err := c.Put(ctx, key, value); err != nil {
		t.Fatalf("put of a %d-byte key and a %d-byte value: %v", len(key), len(value), err)
	}
	if v, found, err := c.Get(ctx, key); err != nil || !found || !bytes.Equal(v, value) {
		t.Errorf("get of the maximal key: found %v, err %v, value equal %v", found, err, bytes.Equal(v, value))
	}
}

// TestHTTPKV drives the JSON/raw-body KV API.
func TestHTTPKV(t *testing.T) {
	n := startNode(t, nodeConfig{})
	do := func(method, path string, body []byte) (int, []byte) {
		t.Helper()
		return httpDo(t, n.httpc, method, n.url(path), bytes.NewReader(body))
	}
	raw := []byte("raw \x00\xff body\n")
	if code, body := do(http.MethodPut, "/v1/kv/a", raw); code != http.StatusOK {
		t.Fatalf("PUT /v1/kv/a: %d %s", code, body)
	}
	if code, body := do(http.MethodGet, "/v1/kv/a", nil); code != http.StatusOK || !bytes.Equal(body, raw) {
		t.Errorf("GET /v1/kv/a: %d %q, want 200 %q", code, body, raw)
	}
	if code, body := do(http.MethodGet, "/v1/kv/missing", nil); code != http.StatusNotFound {
		t.Errorf("GET /v1/kv/missing: %d %s, want 404", code, body)
	}
	if code, body := do(http.MethodPut, "/v1/kv/dir/b", []byte("slash")); code != http.StatusOK {
		t.Errorf("PUT /v1/kv/dir/b: %d %s", code, body)
	}
	if code, body := do(http.MethodPost, "/v1/kv/c", []byte("posted")); code != http.StatusOK {
		t.Errorf("POST /v1/kv/c: %d %s", code, body)
	}

	// Scan: JSON with base64 values; end is exclusive.
	code, body := do(http.MethodGet, "/v1/kv?start=a&end=d&limit=10", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /v1/kv?start=a&end=d&limit=10: %d %s", code, body)
	}
	var scan struct {
		KVs []struct {
			Key   string `json:"key"`
			Value []byte `json:"value"`
		} `json:"kvs"`
		More bool `json:"more"`
	}
	if err := json.Unmarshal(body, &scan); err != nil {
		t.Fatalf("scan JSON %s: %v", body, err)
	}
	var order []string
	for _, kv := range scan.KVs {
		order = append(order, kv.Key)
	}
	// "dir/b" sorts after the exclusive end "d".
	if !slices.Equal(order, []string{"a", "c"}) || scan.More ||
		!bytes.Equal(scan.KVs[0].Value, raw) || string(scan.KVs[1].Value) != "posted" {
		t.Errorf("scan [a, d): %s", body)
	}
	if b64 := base64.StdEncoding.EncodeToString(raw); !strings.Contains(string(body), `"value":"`+b64+`"`) {
		t.Errorf("scan values are not base64 (%s) in the JSON: %s", b64, body)
	}
	code, body = do(http.MethodGet, "/v1/kv?start=&end=&limit=1", nil)
	if err := json.Unmarshal(body, &scan); code != http.StatusOK || err != nil || len(scan.KVs) != 1 || !scan.More {
		t.Errorf("GET /v1/kv?start=&end=&limit=1: %d %s (err %v), want one key and more", code, body, err)
	}

	for _, q := range []string{"limit=abc", "limit=-1", "limit=1000000000"} {
		if code, body := do(http.MethodGet, "/v1/kv?"+q, nil); code != http.StatusBadRequest {
			t.Errorf("GET /v1/kv?%s: %d %s, want 400", q, code, body)
		}
	}

	// Oversized body: 413, and nothing written.
	if code, body := do(http.MethodPut, "/v1/kv/big", bytes.Repeat([]byte("x"), 1<<20+1)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("PUT of 1 MiB + 1: %d %s, want 413", code, body)
	}
	if code, _ := do(http.MethodGet, "/v1/kv/big", nil); code != http.StatusNotFound {
		t.Errorf("GET /v1/kv/big after the rejected PUT: %d, want 404", code)
	}
	if code, body := do(http.MethodPut, "/v1/kv/"+strings.Repeat("k", 4097), []byte("v")); code != http.StatusBadRequest {
		t.Errorf("PUT with a 4097-byte key: %d %s, want 400", code, body)
	}

	if code, body := do(http.MethodDelete, "/v1/kv/a", nil); code != http.StatusOK {
		t.Errorf("DELETE /v1/kv/a: %d %s, want 200", code, body)
	}
	if code, body := do(http.MethodDelete, "/v1/kv/a", nil); code != http.StatusNotFound {
		t.Errorf("second DELETE /v1/kv/a: %d %s, want 404", code, body)
	}
	if code, body := do(http.MethodGet, "/v1/kv/a", nil); code != http.StatusNotFound {
		t.Errorf("GET /v1/kv/a after DELETE: %d %s, want 404", code, body)
	}
}

// TestHTTPObservability: health, metrics, pprof.
func TestHTTPObservability(t *testing.T) {
	n := startNode(t, nodeConfig{})
	if err := n.client(t).Put(context.Background(), []byte("k"), []byte("v")); err != nil {
		t.Fatalf("put: %v", err) // so that the request counters have series
	}
	if code, body := httpDo(t, n.httpc, http.MethodGet, n.url("/health"), nil); code != http.StatusOK {
		t.Errorf("GET /health: %d %s", code, body)
	}
	code, body := httpDo(t, n.httpc, http.MethodGet, n.url("/metrics"), nil)
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", code)
	}
	for _, m := range []string{"cairn_kv_requests_total", "cairn_raft_proposals_total"} {
		if !bytes.Contains(body, []byte(m)) {
			t.Errorf("GET /metrics lacks %s", m)
		}
	}
	if code, _ := httpDo(t, n.httpc, http.MethodGet, n.url("/debug/pprof/"), nil); code != http.StatusOK {
		t.Errorf("GET /debug/pprof/: %d", code)
	}
	if code, _ := httpDo(t, n.httpc, http.MethodGet, n.url("/debug/pprof/goroutine?debug=1"), nil); code != http.StatusOK {
		t.Errorf("GET /debug/pprof/goroutine: %d", code)
	}
}

// TestSIGTERM: a node exits 0 within 10 s of SIGTERM, also under load, and
// keeps its data across the clean restart.
func TestSIGTERM(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, nodeConfig{DataDir: dir})
	c := n.client(t)
	if err := c.Put(context.Background(), []byte("durable"), []byte("yes")); err != nil {
		t.Fatalf("put: %v", err)
	}
	// Writers keep going while the node shuts down.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ctx.Err() == nil; i++ {
			rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
			_ = c.Put(rctx, []byte("load"), []byte{byte(i)})
			rcancel()
		}
	}()
	began := time.Now()
	if code := n.terminate(10 * time.Second); code != 0 {
		t.Errorf("exit code after SIGTERM: %d, want 0", code)
	}
	t.Logf("exited %v after SIGTERM", time.Since(began).Round(time.Millisecond))
	cancel()
	<-done
	if !strings.Contains(n.stderr(), "shutting down") {
		t.Errorf("stderr does not log the shutdown")
	}

	n2 := startNode(t, nodeConfig{DataDir: dir})
	v, found, err := n2.client(t).Get(context.Background(), []byte("durable"))
	if err != nil || !found || string(v) != "yes" {
		t.Errorf("get after a clean restart: %q found %v err %v", v, found, err)
	}
	if code := n2.terminate(10 * time.Second); code != 0 {
		t.Errorf("exit code after SIGTERM of an idle node: %d, want 0", code)
	}
}
