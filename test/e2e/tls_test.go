package e2e

import (
	"crypto/tls"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// createCerts makes a CA, a node certificate for 127.0.0.1 and localhost,
// and a client certificate for root with the CLI, and returns the dir.
func createCerts(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "certs")
	mustCLI(t, "cert", "create-ca", "--certs-dir", dir)
	mustCLI(t, "cert", "create-node", "127.0.0.1", "localhost", "--certs-dir", dir)
	r := mustCLI(t, "cert", "create-client", "root", "--certs-dir", dir)
	if !strings.Contains(r.Stdout, "client.root.crt") {
		t.Errorf("cert create-client: stdout %q does not name client.root.crt", r.Stdout)
	}
	// Without --overwrite an existing CA is not replaced.
	if r := runCLI(t, "cert", "create-ca", "--certs-dir", dir); r.Code == 0 {
		t.Errorf("cert create-ca over an existing CA: want non-zero exit\n%s", r)
	}
	return dir
}

// TestTLS starts a secure node and talks to it with and without the certs.
func TestTLS(t *testing.T) {
	certs := createCerts(t)
	n := startNode(t, nodeConfig{CertsDir: certs}) // waits for HTTPS /health with ca.crt
	secure := []string{"--certs-dir", certs, "--addr", n.RPCAddr}

	mustCLI(t, cliArgs([]string{"kv", "put", "secret", "value"}, secure)...)
	if r := mustCLI(t, cliArgs([]string{"kv", "get", "secret"}, secure)...); r.Stdout != "value\n" {
		t.Errorf("kv get over TLS: stdout %q", r.Stdout)
	}
	// The hostname in the node certificate works as well as the IP.
	localhost := []string{"--certs-dir", certs, "--addr", strings.Replace(n.RPCAddr, "127.0.0.1", "localhost", 1)}
	if r := mustCLI(t, cliArgs([]string{"kv", "get", "secret"}, localhost)...); r.Stdout != "value\n" {
		t.Errorf("kv get over TLS via localhost: stdout %q", r.Stdout)
	}

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"plaintext client", []string{"--insecure", "--addr", n.RPCAddr}},
		{"no client certificate", []string{"--certs-dir", certs, "--user", "nobody", "--addr", n.RPCAddr}},
		{"unknown CA", []string{"--certs-dir", createOtherCA(t), "--addr", n.RPCAddr}},
	} {
		r := runCLI(t, cliArgs([]string{"kv", "get", "secret", "--timeout", "5s"}, tc.args)...)
		if r.Code == 0 || strings.Contains(r.Stdout, "value") {
			t.Errorf("%s against the TLS node: want non-zero exit and no value\n%s", tc.name, r)
		}
		t.Logf("%s: %s", tc.name, strings.TrimSpace(r.Stderr))
	}

	// HTTPS with the CA works (n.httpc trusts ca.crt); plain HTTP and
	// HTTPS without the CA do not.
	if code, body := httpDo(t, n.httpc, http.MethodGet, n.url("/health"), nil); code != http.StatusOK {
		t.Errorf("HTTPS /health with the CA: %d %s", code, body)
	}
	plain := &http.Client{Timeout: 5 * time.Second}
	if resp, err := plain.Get("http://" + n.HTTPAddr + "/health"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP /health on the TLS node answered 200")
		}
	}
	noCA := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{}}}
	if resp, err := noCA.Get(n.url("/health")); err == nil {
		resp.Body.Close()
		t.Errorf("HTTPS /health without trusting the CA succeeded: %s", resp.Status)
	}

	// Only the insecure node warns about INSECURE mode. Both lines are
	// logged after the listeners open, so wait for "node started".
	if err := n.waitStderr("node started", 10*time.Second); err != nil {
		t.Fatalf("TLS node: %v", err)
	}
	if strings.Contains(n.stderr(), "INSECURE") {
		t.Errorf("the TLS node's stderr mentions INSECURE:\n%s", n.stderr())
	}
	in := startNode(t, nodeConfig{})
	if err := in.waitStderr("node started", 10*time.Second); err != nil {
		t.Fatalf("insecure node: %v", err)
	}
	if !strings.Contains(in.stderr(), "INSECURE") {
		t.Errorf("the --insecure node's stderr does not warn about INSECURE mode:\n%s", in.stderr())
	}
}

// createOtherCA returns a certs dir of an unrelated CA with its own root
// client certificate.
func createOtherCA(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "other")
	mustCLI(t, "cert", "create-ca", "--certs-dir", dir)
	mustCLI(t, "cert", "create-client", "root", "--certs-dir", dir)
	return dir
}
