// Package e2e holds end-to-end tests: they build the real cairn binary once
// per test run and drive real node processes over their public interfaces
// (CLI, gRPC through pkg/client, HTTP). Nodes listen on loopback only and
// are killed when their test ends.
//
//	go test -race -count=1 ./test/e2e/...           # everything (~25 s)
//	go test -race -count=1 -short ./test/e2e/...    # without the kill -9 cycles
//
// $CAIRN_E2E_BINARY tests a prebuilt binary instead of building one.
package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cairndb/cairn/pkg/client"
)

// cairnBin is the binary under test, built by TestMain.
var cairnBin string

const (
	// healthTimeout bounds the wait for a started node to answer /health.
	healthTimeout = 30 * time.Second
	// exitTimeout bounds the wait for a signalled process to exit.
	exitTimeout = 10 * time.Second
	// cliTimeout is the default bound of one CLI invocation.
	cliTimeout = 30 * time.Second
	// stderrDumpBytes is how much of a node's stderr a failure dumps.
	stderrDumpBytes = 16 << 10
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

// binaryEnv names a prebuilt cairn binary to test instead of building one.
const binaryEnv = "CAIRN_E2E_BINARY"

func runMain(m *testing.M) int {
	if bin := os.Getenv(binaryEnv); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %s: %v\n", binaryEnv, err)
			return 1
		}
		cairnBin = abs
		fmt.Fprintf(os.Stderr, "e2e: testing %s from $%s\n", abs, binaryEnv)
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "cairn-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: creating the binary dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	cairnBin = filepath.Join(dir, "cairn")
	// `go test` puts the go command of its own GOROOT first in PATH.
	goCmd, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: go command not found:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, goCmd, "build", "-o", cairnBin, "github.com/cairndb/cairn/cmd/cairn")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: building cairn: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// freeAddrs returns n distinct 127.0.0.1 addresses whose ports were free a
// moment ago (the probes are held open together, so no port comes twice).
// Another process may take one before we use it: startNode retries.
func freeAddrs(t testing.TB, n int) []string {
	t.Helper()
	return freeAddrsOn(t, "127.0.0.1", n)
}

// freeAddrsOn is freeAddrs on another loopback IP (e.g. 127.0.0.2).
func freeAddrsOn(t testing.TB, host string, n int) []string {
	t.Helper()
	addrs := make([]string, n)
	for i := range addrs {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			t.Fatalf("finding a free port: %v", err)
		}
		defer l.Close()
		addrs[i] = l.Addr().String()
	}
	return addrs
}

// nodeConfig describes a node process to start.
type nodeConfig struct {
	// DataDir is the node's --data-dir; empty means a new temp dir.
	DataDir string
	// CertsDir starts a secure node with --certs-dir; empty means --insecure.
	CertsDir string
	// ExtraArgs are appended to the start command line.
	ExtraArgs []string
	// Host is the IP the node listens on when its addresses are picked
	// (free ports); empty means 127.0.0.1.
	Host string
	// RPCAddr, HTTPAddr and SQLAddr, when all set, are used as they are
	// (to restart a node on the addresses the cluster knows it by) instead
	// of free ports.
	RPCAddr, HTTPAddr, SQLAddr string
	// Join is passed as --join (comma-separated) when not empty.
	Join []string
}

// fixedAddrs reports whether the config names the node's addresses.
func (c nodeConfig) fixedAddrs() bool {
	return c.RPCAddr != "" && c.HTTPAddr != "" && c.SQLAddr != ""
}

// node is a running (or exited) `cairn start` process.
type node struct {
	t          testing.TB
	cfg        nodeConfig
	name       string
	RPCAddr    string
	HTTPAddr   string
	SQLAddr    string
	stderrPath string
	cmd        *exec.Cmd
	httpc      *http.Client
	scheme     string

	exited  chan struct{} // closed once the process has been reaped
	waitErr error         // cmd.Wait's result, valid once exited is closed
}

var nodeSeq atomic.Int64

// startNode starts a node on free ports and waits (bounded) until its
// /health answers 200. The process is killed, and its stderr checked for
// panics and dumped on failure, when the test ends.
func startNode(t testing.TB, cfg nodeConfig) *node {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	const attempts = 3
	for i := 1; ; i++ {
		n := launchNode(t, cfg)
		err := n.waitHealthy(healthTimeout)
		if err == nil {
			return n
		}
		// A free port may have been taken between probing and binding.
		if i < attempts && !cfg.fixedAddrs() && n.hasExited() && strings.Contains(n.stderr(), "address already in use") {
			t.Logf("%s: port taken, retrying: %v", n.name, err)
			continue
		}
		n.dumpStderr()
		t.Fatalf("%s did not become healthy: %v", n.name, err)
	}
}

// launchNode starts the process without waiting for it to serve.
func launchNode(t testing.TB, cfg nodeConfig) *node {
	t.Helper()
	var addrs []string
	if cfg.fixedAddrs() {
		addrs = []string{cfg.RPCAddr, cfg.HTTPAddr, cfg.SQLAddr}
	} else {
		host := cfg.Host
		if host == "" {
			host = "127.0.0.1"
		}
		addrs = freeAddrsOn(t, host, 3)
	}
	n := &node{
		t:        t,
		cfg:      cfg,
		name:     fmt.Sprintf("node%d", nodeSeq.Add(1)),
		RPCAddr:  addrs[0],
		HTTPAddr: addrs[1],
		SQLAddr:  addrs[2],
		exited:   make(chan struct{}),
		scheme:   "http",
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	args := []string{"start", "--data-dir", cfg.DataDir,
		"--rpc-addr", n.RPCAddr, "--http-addr", n.HTTPAddr, "--sql-addr", n.SQLAddr}
	if cfg.CertsDir != "" {
		args = append(args, "--certs-dir", cfg.CertsDir)
		n.scheme = "https"
		transport.TLSClientConfig = &tls.Config{RootCAs: caPool(t, cfg.CertsDir)}
	} else {
		args = append(args, "--insecure")
	}
	if len(cfg.Join) > 0 {
		args = append(args, "--join", strings.Join(cfg.Join, ","))
	}
	args = append(args, cfg.ExtraArgs...)
	n.httpc = &http.Client{Transport: transport, Timeout: 10 * time.Second}
	t.Cleanup(transport.CloseIdleConnections)

	logDir := t.TempDir()
	n.stderrPath = filepath.Join(logDir, n.name+".stderr")
	stderr, err := os.Create(n.stderrPath)
	if err != nil {
		t.Fatalf("creating %s: %v", n.stderrPath, err)
	}
	defer stderr.Close() // the child holds its own descriptor
	n.cmd = exec.Command(cairnBin, args...)
	n.cmd.Dir = logDir // keep relative default paths out of the source tree
	n.cmd.Stdout = stderr
	n.cmd.Stderr = stderr
	setChildAttrs(n.cmd)
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", n.name, err)
	}
	go func() {
		n.waitErr = n.cmd.Wait()
		close(n.exited)
	}()
	t.Logf("%s: pid %d: cairn %s", n.name, n.cmd.Process.Pid, strings.Join(args, " "))
	t.Cleanup(func() {
		if !n.hasExited() {
			_ = n.cmd.Process.Signal(syscall.SIGKILL)
			if !n.waitExit(exitTimeout) {
				t.Errorf("%s: pid %d did not exit after SIGKILL", n.name, n.cmd.Process.Pid)
			}
		}
		if strings.Contains(n.stderr(), "panic:") {
			t.Errorf("%s: stderr contains a panic", n.name)
		}
		if t.Failed() {
			n.dumpStderr()
		}
	})
	return n
}

// caPool reads certsDir/ca.crt.
func caPool(t testing.TB, certsDir string) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(certsDir, "ca.crt"))
	if err != nil {
		t.Fatalf("reading the CA: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s/ca.crt", certsDir)
	}
	return pool
}

// url returns the node's HTTP(S) URL of path.
func (n *node) url(path string) string { return n.scheme + "://" + n.HTTPAddr + path }

// waitHealthy polls /health until it answers 200, the process exits, or
// the timeout passes.
func (n *node) waitHealthy(timeout time.Duration) error {
	var last string
	err := pollUntil(timeout, 50*time.Millisecond, func() (bool, error) {
		if n.hasExited() {
			return false, fmt.Errorf("process exited (%v) before serving", n.waitErr)
		}
		resp, err := n.httpc.Get(n.url("/health"))
		if err != nil {
			last = err.Error()
			return false, nil
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		last = fmt.Sprintf("%s: %s", resp.Status, bytes.TrimSpace(body))
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil && last != "" {
		return fmt.Errorf("%w (last /health: %s)", err, last)
	}
	return err
}

// waitStderr polls the node's stderr until it contains s.
func (n *node) waitStderr(s string, timeout time.Duration) error {
	return pollUntil(timeout, 20*time.Millisecond, func() (bool, error) {
		return strings.Contains(n.stderr(), s), nil
	})
}

// pollUntil calls cond every interval until it returns true or an error, or
// timeout passes.
func pollUntil(timeout, interval time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("condition not met within %v", timeout)
		}
		<-tick.C
	}
}

func (n *node) hasExited() bool {
	select {
	case <-n.exited:
		return true
	default:
		return false
	}
}

// waitExit waits up to timeout for the process to exit.
func (n *node) waitExit(timeout time.Duration) bool {
	select {
	case <-n.exited:
		return true
	case <-time.After(timeout):
		return false
	}
}

// kill9 sends SIGKILL and waits for the process to exit.
func (n *node) kill9() {
	n.t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil && !n.hasExited() {
		n.t.Fatalf("%s: SIGKILL: %v", n.name, err)
	}
	if !n.waitExit(exitTimeout) {
		n.t.Fatalf("%s: did not exit within %v of SIGKILL", n.name, exitTimeout)
	}
}

// terminate sends SIGTERM, waits up to timeout for the exit and returns the
// exit code (-1 for death by signal).
func (n *node) terminate(timeout time.Duration) int {
	n.t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		n.t.Fatalf("%s: SIGTERM: %v", n.name, err)
	}
	if !n.waitExit(timeout) {
		n.t.Fatalf("%s: did not exit within %v of SIGTERM", n.name, timeout)
	}
	return n.cmd.ProcessState.ExitCode()
}

// stderr returns everything the node wrote so far.
func (n *node) stderr() string {
	b, err := os.ReadFile(n.stderrPath)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", n.stderrPath, err)
	}
	return string(b)
}

func (n *node) dumpStderr() {
	s := n.stderr()
	if len(s) > stderrDumpBytes {
		s = "...\n" + s[len(s)-stderrDumpBytes:]
	}
	n.t.Logf("%s stderr (%s):\n%s", n.name, n.stderrPath, s)
}

// client dials the node's RPC address over plaintext; closed at test end.
func (n *node) client(t testing.TB) *client.Client {
	t.Helper()
	c, err := client.Dial(n.RPCAddr, client.WithInsecure())
	if err != nil {
		t.Fatalf("dialing %s: %v", n.name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// insecureFlags are the CLI flags to reach n in plaintext.
func (n *node) insecureFlags() []string { return []string{"--insecure", "--addr", n.RPCAddr} }

// cliResult is the outcome of one CLI invocation.
type cliResult struct {
	Stdout, Stderr string
	Code           int // exit code; -1 if killed
	Elapsed        time.Duration
	TimedOut       bool
}

func (r cliResult) String() string {
	return fmt.Sprintf("exit %d after %v\nstdout: %s\nstderr: %s", r.Code, r.Elapsed.Round(time.Millisecond), r.Stdout, r.Stderr)
}

// cliOpts adjusts runCLIOpts.
type cliOpts struct {
	Timeout time.Duration // default cliTimeout
	Stdin   string
}

// runCLI runs the cairn binary with args and the default timeout.
func runCLI(t testing.TB, args ...string) cliResult {
	t.Helper()
	return runCLIOpts(t, cliOpts{}, args...)
}

// runCLIOpts runs the cairn binary; a timeout and a panic trace on stderr
// are test errors.
func runCLIOpts(t testing.TB, o cliOpts, args ...string) cliResult {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = cliTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, cairnBin, args...)
	cmd.Dir = t.TempDir() // relative defaults (cairn-data, certs) land here
	cmd.Stdin = strings.NewReader(o.Stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	setChildAttrs(cmd)
	start := time.Now()
	err := cmd.Run()
	r := cliResult{Stdout: stdout.String(), Stderr: stderr.String(), Elapsed: time.Since(start)}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		r.Code, r.TimedOut = -1, true
		t.Errorf("cairn %s: did not exit within %v\n%s", strings.Join(args, " "), o.Timeout, r)
	case errors.As(err, &exitErr):
		r.Code = exitErr.ExitCode()
	default:
		t.Fatalf("cairn %s: %v", strings.Join(args, " "), err)
	}
	if strings.Contains(r.Stderr, "panic") || strings.Contains(r.Stderr, "goroutine ") {
		t.Errorf("cairn %s: stderr shows a panic\n%s", strings.Join(args, " "), r)
	}
	return r
}

// mustCLI runs the CLI and fails the test unless it exits 0.
func mustCLI(t testing.TB, args ...string) cliResult {
	t.Helper()
	r := runCLI(t, args...)
	if r.Code != 0 {
		t.Fatalf("cairn %s: want exit 0\n%s", strings.Join(args, " "), r)
	}
	return r
}

// httpDo sends one request and returns the status code and body.
func httpDo(t testing.TB, c *http.Client, method, url string, body io.Reader) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return resp.StatusCode, b
}
