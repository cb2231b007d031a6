package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairndb/cairn/internal/server"
)

// startBankTestNode starts an in-process single node (in memory, insecure)
// and waits until it serves.
func startBankTestNode(t *testing.T) *server.Server {
	t.Helper()
	s, err := server.Start(server.Config{
		InMemory: true, Insecure: true,
		RPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", SQLAddr: "127.0.0.1:0",
	})
	if err != nil {
		t.Fatalf("starting a node: %v", err)
	}
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := s.Ready(ctx)
		cancel()
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("node not ready after 30s: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runCairn runs the cairn command line in-process.
func runCairn(args ...string) (string, error) {
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

var bankOKRE = regexp.MustCompile(`(?m)^transfers: ok=(\d+) `)

// TestBankWorkload runs the bank workload for 3 s against one node: it must
// exit 0 (no violation) having committed transfers, and the data it leaves
// must pass --verify-only.
func TestBankWorkload(t *testing.T) {
	s := startBankTestNode(t)
	out, err := runCairn("workload", "bank", "--insecure", "--addr", s.RPCAddr()+","+s.RPCAddr(),
		"--duration", "3s", "--accounts", "20", "--concurrency", "8")
	t.Logf("output:\n%s", out)
	if err != nil {
		t.Fatalf("bank workload: %v", err)
	}
	m := bankOKRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no transfer summary")
	}
	if ok, _ := strconv.Atoi(m[1]); ok == 0 {
		t.Fatal("no transfer committed")
	}
	if !strings.Contains(out, "violations=0") || strings.Contains(out, "VIOLATION") {
		t.Fatal("violations reported")
	}

	out, err = runCairn("workload", "bank", "--insecure", "--addr", s.RPCAddr(), "--accounts", "20", "--verify-only")
	if err != nil || !strings.Contains(out, "total 20000 (want 20000)") {
		t.Fatalf("--verify-only: %v\n%s", err, out)
	}
	// --verify-only with the wrong account count: the bank does not add up.
	out, err = runCairn("workload", "bank", "--insecure", "--addr", s.RPCAddr(), "--accounts", "21", "--verify-only")
	if err == nil || !strings.Contains(out, "VIOLATION (missing-account)") {
		t.Fatalf("--verify-only with a missing account: %v\n%s", err, out)
	}
}

var bankReadsRE = regexp.MustCompile(`snapshot-reads=(\d+) `)

// TestBankWorkloadReadInterval: paced readers read at most once per
// interval each, and still read.
func TestBankWorkloadReadInterval(t *testing.T) {
	s := startBankTestNode(t)
	out, err := runCairn("workload", "bank", "--insecure", "--addr", s.RPCAddr(),
		"--duration", "2s", "--accounts", "20", "--concurrency", "2", "--readers", "2", "--read-interval", "500ms")
	t.Logf("output:\n%s", out)
	if err != nil {
		t.Fatalf("bank workload: %v", err)
	}
	if !strings.Contains(out, "2 snapshot readers (one read per 500ms each)") {
		t.Error("the pacing is not reported")
	}
	m := bankReadsRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no read count in the summary")
	}
	// Each reader starts a read at 0, 0.5, 1 and 1.5 s (and perhaps one at
	// the deadline): at most 5 each.
	if n, _ := strconv.Atoi(m[1]); n < 1 || n > 10 {
		t.Fatalf("%d snapshot reads by 2 readers paced at 500ms over 2s, want 1-10", n)
	}
}

func TestBankChecks(t *testing.T) {
	cfg := bankConfig{accounts: 3, initialBalance: 100}
	snap := func(balances ...int64) *bankSnapshot {
		s := &bankSnapshot{balances: balances, present: []bool{true, true, true}, n: 3, records: map[string]transferRecord{}}
		for _, b := range balances {
			s.total += b
		}
		return s
	}
	count := func(s *bankSnapshot) (string, int64) {
		var out bytes.Buffer
		v := newViolations(&out)
		checkSnapshot(s, cfg, v, "test")
		checkLedger(s, cfg, v)
		return v.summary(), v.n.Load()
	}
	s := snap(90, 110, 100)
	s.records["a"] = transferRecord{from: 0, to: 1, amount: 10}
	if sum, n := count(s); n != 0 {
		t.Fatalf("consistent bank: %s", sum)
	}
	// Applied twice, recorded once: the total holds, the ledger does not.
	s = snap(80, 120, 100)
	s.records["a"] = transferRecord{from: 0, to: 1, amount: 10}
	if sum, _ := count(s); sum != "ledger=2" {
		t.Fatalf("double apply: %s", sum)
	}
	s = snap(-10, 210, 100)
	s.records["a"] = transferRecord{from: 0, to: 1, amount: 110}
	if sum, _ := count(s); sum != "negative=1" {
		t.Fatalf("negative: %s", sum)
	}
	s = snap(90, 100, 100)
	if sum, _ := count(s); sum != "ledger=1 total=1" {
		t.Fatalf("lost money: %s", sum)
	}

	for _, bad := range []string{"", "1,2", "0,0,5", "0,3,5", "0,1,-1", "x,1,2"} {
		if _, err := parseTransferRecord([]byte(bad), 3); err == nil {
			t.Errorf("record %q accepted", bad)
		}
	}
	if r, err := parseTransferRecord(transferRecord{from: 2, to: 0, amount: 7}.value(), 3); err != nil || r != (transferRecord{2, 0, 7}) {
		t.Errorf("round trip: %v %v", r, err)
	}
	if got := string(prefixEnd(acctPrefix)); got != "bank/acct0" {
		t.Errorf("prefixEnd = %q", got)
	}
}

func TestBankWorkloadValidate(t *testing.T) {
	if err := defaultBankConfig().validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mod  func(*bankConfig)
		want string
	}{
		{func(c *bankConfig) { c.accounts = 1 }, "--accounts"},
		{func(c *bankConfig) { c.accounts = maxBankAccounts + 1 }, "--accounts"},
		{func(c *bankConfig) { c.concurrency = 0 }, "--concurrency"},
		{func(c *bankConfig) { c.readers = -1 }, "--readers"},
		{func(c *bankConfig) { c.readInterval = -time.Second }, "--read-interval"},
		{func(c *bankConfig) { c.duration = 0 }, "--duration"},
		{func(c *bankConfig) { c.initialBalance = -1 }, "--initial-balance"},
	} {
		cfg := defaultBankConfig()
		tc.mod(&cfg)
		if err := cfg.validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want an error about %s", cfg, err, tc.want)
		}
	}
}

// flakyProxy forwards TCP connections to a node and cuts every connection
// each interval: requests in flight fail, and commits among them fail
// ambiguously (the node may or may not go on to commit).
type flakyProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  map[net.Conn]bool
	cuts   atomic.Int64
	wg     sync.WaitGroup
	stop   chan struct{}
}

func startFlakyProxy(t *testing.T, target string, every time.Duration) *flakyProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &flakyProxy{ln: ln, target: target, conns: map[net.Conn]bool{}, stop: make(chan struct{})}
	p.wg.Add(2)
	go p.accept()
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-tick.C:
				p.cutAll()
			}
		}
	}()
	t.Cleanup(func() {
		close(p.stop)
		ln.Close()
		p.cutAll()
		p.wg.Wait()
	})
	return p
}

func (p *flakyProxy) cutAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.conns) > 0 {
		p.cuts.Add(1)
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *flakyProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.stop:
		return false
	default:
	}
	p.conns[c] = true
	return true
}

func (p *flakyProxy) accept() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		if !p.track(in) || !p.track(out) {
			in.Close()
			out.Close()
			return
		}
		p.wg.Add(2)
		pipe := func(dst, src net.Conn) {
			defer p.wg.Done()
			_, _ = io.Copy(dst, src)
			dst.Close()
			src.Close()
		}
		go pipe(in, out)
		go pipe(out, in)
	}
}

// TestBankWorkloadAmbiguousCommits runs the workload through a proxy that
// cuts the connections every 150 ms, so that commits fail ambiguously and
// Client.Txn re-runs transfers with their idempotency key: none may apply
// twice or go missing.
func TestBankWorkloadAmbiguousCommits(t *testing.T) {
	s := startBankTestNode(t)
	p := startFlakyProxy(t, s.RPCAddr(), 150*time.Millisecond)
	out, err := runCairn("workload", "bank", "--insecure", "--addr", p.ln.Addr().String(),
		"--duration", "3s", "--accounts", "20", "--concurrency", "8")
	t.Logf("%d connection cuts; output:\n%s", p.cuts.Load(), out)
	if p.cuts.Load() == 0 {
		t.Fatal("the proxy cut no connection: ambiguous commits were not exercised")
	}
	if err != nil {
		t.Fatalf("bank workload: %v", err)
	}
	if m := bankOKRE.FindStringSubmatch(out); m == nil || m[1] == "0" {
		t.Fatal("no transfer committed")
	}
}
