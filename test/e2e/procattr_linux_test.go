package e2e

import (
	"os/exec"
	"syscall"
)

// setChildAttrs makes the kernel kill the child if the test binary dies
// (e.g. on a test timeout), so no node outlives the test run.
func setChildAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
