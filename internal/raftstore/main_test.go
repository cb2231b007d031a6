package raftstore

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the package if goroutines outlive the tests: every store's
// workers and ticker must be gone once it is stopped. go.uber.org/goleak is
// not a module requirement yet, so this is a small stand-in for
// goleak.VerifyTestMain.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaks := waitForNoLeaks(10 * time.Second); len(leaks) > 0 {
			fmt.Fprintf(os.Stderr, "leaked goroutines:\n\n%s\n", strings.Join(leaks, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

// waitForNoLeaks polls until no unexpected goroutine is left or the
// deadline passes, returning the stacks of the leaked ones.
func waitForNoLeaks(timeout time.Duration) []string {
	deadline := time.Now().Add(timeout)
	for {
		leaks := unexpectedGoroutines()
		if len(leaks) == 0 || time.Now().After(deadline) {
			return leaks
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// unexpectedGoroutines returns the stacks of every goroutine except the
// caller's and those of the runtime and the testing package.
func unexpectedGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 || strings.TrimSpace(g) == "" {
			continue // the first stack is the calling goroutine
		}
		if isExpectedGoroutine(g) {
			continue
		}
		out = append(out, g)
	}
	return out
}

func isExpectedGoroutine(stack string) bool {
	for _, s := range []string{
		"testing.(*M).",
		"testing.(*T).Run(",
		"testing.RunTests",
		"testing.runTests",
		"testing.tRunner.func1",
		"os/signal.signal_recv",
		"os/signal.loop",
		"runtime.ensureSigM",
		"runtime.ReadTrace",
	} {
		if strings.Contains(stack, s) {
			return true
		}
	}
	return false
}
