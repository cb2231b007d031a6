package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// bankDurationEnv overrides how long the bank workload runs under
	// faults (a Go duration); `make chaos` sets 180s.
	bankDurationEnv = "CAIRN_E2E_BANK_DURATION"
	// bankArgsEnv adds flags to the workload (e.g. "--accounts 10
	// --concurrency 32" for more contention).
	bankArgsEnv = "CAIRN_E2E_BANK_ARGS"
	// bankDefaultDuration keeps `make test` fast.
	bankDefaultDuration = 60 * time.Second
	// bankQuietEnd is how long before the workload's end the faults stop,
	// so that its final check runs on a whole cluster.
	bankQuietEnd = 5 * time.Second
	// bankDownFor is how long a killed node stays down.
	bankDownFor = 2 * time.Second
	// bankUpFor is how long all three nodes run between faults (after the
	// restarted node has caught up, bounded by bankConvergeTimeout).
	bankUpFor           = 2 * time.Second
	bankConvergeTimeout = 15 * time.Second
	// bankSetupTimeout bounds the wait for the workload's setup.
	bankSetupTimeout = 60 * time.Second
	// bankExitSlack bounds the workload's end after its duration: in-flight
	// transfers (30 s each at most) and the final check.
	bankExitSlack = 2 * time.Minute
)

// bankSplitKeys are split points inside the bank's keys: accounts over
// three ranges, the transfer records apart from the accounts.
var bankSplitKeys = []string{"bank/acct/000050", "bank/xfer/", "bank/acct/000025", "bank/xfer/8"}

// bankWorkload is a running `cairn workload bank` process.
type bankWorkload struct {
	cmd     *exec.Cmd
	mu      sync.Mutex
	stdout  bytes.Buffer
	stderr  bytes.Buffer
	running chan struct{} // closed when the transfers start
	done    chan struct{} // closed when the process has exited and its output is read
	err     error
}

func (w *bankWorkload) output() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stdout.String() + w.stderr.String()
}

func startBankWorkload(t *testing.T, addrs []string, duration time.Duration) *bankWorkload {
	t.Helper()
	w := &bankWorkload{running: make(chan struct{}), done: make(chan struct{})}
	w.cmd = exec.Command(cairnBin, "workload", "bank", "--insecure", "--addr", strings.Join(addrs, ","),
		"--duration", duration.String())
	w.cmd.Args = append(w.cmd.Args, strings.Fields(os.Getenv(bankArgsEnv))...)
	w.cmd.Dir = t.TempDir()
	w.cmd.Stderr = &lockedBuffer{mu: &w.mu, b: &w.stderr}
	stdout, err := w.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	setChildAttrs(w.cmd)
	if err := w.cmd.Start(); err != nil {
		t.Fatalf("starting the bank workload: %v", err)
	}
	t.Logf("bank workload: pid %d: cairn %s", w.cmd.Process.Pid, strings.Join(w.cmd.Args[1:], " "))
	go func() {
		sc := bufio.NewScanner(stdout)
		seen := false
		for sc.Scan() {
			line := sc.Text()
			w.mu.Lock()
			w.stdout.WriteString(line + "\n")
			w.mu.Unlock()
			if !seen && strings.HasPrefix(line, "running for ") {
				seen = true
				close(w.running)
			}
		}
		w.err = w.cmd.Wait()
		close(w.done)
	}()
	t.Cleanup(func() {
		select {
		case <-w.done:
		default:
			_ = w.cmd.Process.Kill()
			<-w.done
		}
	})
	return w
}

type lockedBuffer struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

var (
	bankOKLine    = regexp.MustCompile(`(?m)^transfers: ok=(\d+) .* retried=(\d+) failed=(\d+) unknown=(\d+)$`)
	bankRateLine  = regexp.MustCompile(`(?m)^transfers/s=.*$`)
	bankFinalLine = regexp.MustCompile(`(?m)^final check .*$`)
)

// bankSplit splits at key through n, retrying (bounded) while ranges move;
// a retry that finds the split done counts as success.
func bankSplit(t *testing.T, n *node, key string, step func(string, ...any)) error {
	c := n.client(t)
	tries := 0
	var last error
	err := pollUntil(splitTimeout, 200*time.Millisecond, func() (bool, error) {
		tries++
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		l, r, err := c.Split(ctx, []byte(key))
		if err == nil {
			step("split at %q through %s: r%d | r%d (%d tries)", key, n.name, l, r, tries)
			return true, nil
		}
		last = err
		if tries > 1 && strings.Contains(err.Error(), "is already the start of range") {
			step("split at %q through %s: done by an earlier try (%d tries)", key, n.name, tries)
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("split at %q: %w (%d tries, last error: %v)", key, err, tries, last)
	}
	return nil
}

// killAndRestart kills nodes[v] with SIGKILL, waits bankDownFor, restarts
// it on its data directory (same addresses, joining through the others)
// and waits until the nodes agree again; nodes[v] becomes the new process.
func killAndRestart(t *testing.T, nodes []*node, ids []uint64, v, kill int, step func(string, ...any)) {
	t.Helper()
	vn := nodes[v]
	vn.kill9()
	step("kill -9 %s (node id %d), kill %d", vn.name, ids[v], kill)
	time.Sleep(bankDownFor) // fault duration
	var join []string
	for i, n := range nodes {
		if i != v {
			join = append(join, n.RPCAddr)
		}
	}
	restartAt := time.Now()
	rn := startNode(t, nodeConfig{DataDir: vn.cfg.DataDir, RPCAddr: vn.RPCAddr, HTTPAddr: vn.HTTPAddr, SQLAddr: vn.SQLAddr, Join: join})
	if id := rn.nodeID(t); id != ids[v] {
		t.Fatalf("restarted %s came back as node %d, want %d", vn.name, id, ids[v])
	}
	nodes[v] = rn
	var diff string
	err := pollUntil(bankConvergeTimeout, 100*time.Millisecond, func() (bool, error) {
		diff = converged(nodes)
		return diff == "", nil
	})
	if err != nil {
		step("restarted %s as %s: healthy after %v; not converged within %v: %s", vn.name, rn.name,
			time.Since(restartAt).Round(time.Millisecond), bankConvergeTimeout, diff)
	} else {
		step("restarted %s as %s: converged %v after the restart", vn.name, rn.name, time.Since(restartAt).Round(time.Millisecond))
	}
}

// TestBankUnderFaults runs `cairn workload bank` against three real nodes
// while one node at a time is killed with SIGKILL and restarted, and the
// bank's ranges are split: every transaction invariant the workload checks
// must hold (the workload exits 0), and a final check through every node
// after the faults must pass. $CAIRN_E2E_BANK_DURATION sets the workload's
// duration (default 60s; `make chaos` runs 180s), $CAIRN_E2E_BANK_ARGS adds
// workload flags.
func TestBankUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: three node processes, kill -9 and restarts under a transactional workload")
	}
	duration := bankDefaultDuration
	if s := os.Getenv(bankDurationEnv); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 10*time.Second {
			t.Fatalf("$%s=%q: want a duration of at least 10s", bankDurationEnv, s)
		}
		duration = d
	}
	step := stepLogger(t)
	nodes, ids := startThreeNodes(t, step)
	addrs := make([]string, len(nodes))
	for i, n := range nodes {
		addrs[i] = n.RPCAddr
	}

	w := startBankWorkload(t, addrs, duration)
	select {
	case <-w.running:
	case <-w.done:
		t.Fatalf("bank workload exited during setup: %v\n%s", w.err, w.output())
	case <-time.After(bankSetupTimeout):
		t.Fatalf("bank workload setup did not finish within %v\n%s", bankSetupTimeout, w.output())
	}
	runStart := time.Now()
	faultsUntil := runStart.Add(duration - bankQuietEnd)
	step("transfers running for %v; faults until +%v", duration, duration-bankQuietEnd)

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	splits := bankSplitKeys
	var splitErrs []error
	split := func() {
		if len(splits) == 0 {
			return
		}
		via := nodes[rng.IntN(len(nodes))]
		if err := bankSplit(t, via, splits[0], step); err != nil {
			splitErrs = append(splitErrs, err)
			step("%v", err)
		}
		splits = splits[1:]
	}
	kills := 0
	for time.Now().Before(faultsUntil) {
		split()
		if !time.Now().Before(faultsUntil) {
			break
		}
		kills++
		killAndRestart(t, nodes, ids, rng.IntN(len(nodes)), kills, step)
		time.Sleep(bankUpFor) // all three up between faults
	}
	for len(splits) > 0 && time.Now().Before(runStart.Add(duration)) {
		split()
	}
	step("faults over: %d kills, %d of %d splits failed", kills, len(splitErrs), len(bankSplitKeys))

	select {
	case <-w.done:
	case <-time.After(time.Until(runStart.Add(duration + bankExitSlack))):
		t.Fatalf("bank workload did not exit within %v of its end\n%s", bankExitSlack, w.output())
	}
	out := w.output()
	t.Logf("bank workload output:\n%s", out)
	var exitErr *exec.ExitError
	switch {
	case w.err == nil:
	case errors.As(w.err, &exitErr):
		t.Errorf("bank workload exited with code %d (violations or no transfer committed): see its output above", exitErr.ExitCode())
	default:
		t.Errorf("bank workload: %v", w.err)
	}
	if strings.Contains(out, "VIOLATION") {
		t.Errorf("bank workload reported violations:\n%s", strings.Join(regexp.MustCompile(`(?m)^VIOLATION.*$`).FindAllString(out, -1), "\n"))
	}
	if m := bankOKLine.FindStringSubmatch(out); m == nil || m[1] == "0" {
		t.Errorf("no transfer committed (summary %q)", m)
	}
	step("result: %s | %s | %s", bankOKLine.FindString(out), bankFinalLine.FindString(out), bankRateLine.FindString(out))

	// After the faults: the bank adds up through every node.
	for _, n := range nodes {
		args := append([]string{"workload", "bank", "--verify-only"}, n.insecureFlags()...)
		args = append(args, strings.Fields(os.Getenv(bankArgsEnv))...)
		r := runCLIOpts(t, cliOpts{Timeout: 2 * time.Minute}, args...)
		if r.Code != 0 {
			t.Errorf("final check through %s failed:\n%s", n.name, r)
			continue
		}
		step("final check through %s: %s", n.name, strings.TrimSpace(r.Stdout))
	}
	if len(splitErrs) > 0 {
		t.Errorf("splits failed: %v", errors.Join(splitErrs...))
	}
	if kills == 0 {
		t.Errorf("no node was killed during the run")
	}
}
