package e2e

import (
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestPgbenchThreeNodes runs PostgreSQL's own benchmark client against a
// 3-node cluster: `pgbench -i -s 1` through node 1, then a 20 s TPC-B run
// (8 clients, at the default SERIALIZABLE isolation) through node 2, which
// must end with 0 failed transactions and no --max-tries: writers of the
// one branch row queue on its row lock. pgbench comes with Debian's
// postgresql-client (scripts/test-deps.sh installs it when it can); the
// test is skipped when it is missing.
func TestPgbenchThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node")
	}
	pgbench, err := exec.LookPath("pgbench")
	if err != nil {
		t.Skip("pgbench is not installed (Debian: postgresql-client; scripts/test-deps.sh)")
	}
	nodes, _ := startThreeNodes(t, stepLogger(t))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	url := func(i int) string { return "postgres://root@" + nodes[i].SQLAddr + "/defaultdb?sslmode=disable" }

	out, err := exec.CommandContext(ctx, pgbench, "-i", "-s", "1", url(0)).CombinedOutput()
	if err != nil {
		t.Fatalf("pgbench -i: %v\n%s", err, out)
	}
	t.Logf("pgbench -i -s 1:\n%s", out)

	out, err = exec.CommandContext(ctx, pgbench, "-c", "8", "-j", "2", "-T", "20", url(1)).CombinedOutput()
	if err != nil {
		t.Fatalf("pgbench TPC-B: %v\n%s", err, out)
	}
	t.Logf("pgbench TPC-B, 8 clients, 20 s:\n%s", out)
	processed := regexp.MustCompile(`number of transactions actually processed: (\d+)`).FindSubmatch(out)
	failed := regexp.MustCompile(`number of failed transactions: (\d+)`).FindSubmatch(out)
	if processed == nil || failed == nil {
		t.Fatalf("cannot read pgbench's summary:\n%s", out)
	}
	if n, _ := strconv.Atoi(string(processed[1])); n == 0 {
		t.Fatal("pgbench processed no transaction")
	}
	if string(failed[1]) != "0" {
		t.Fatalf("%s failed transactions, want 0", failed[1])
	}

	// The bank's books balance: every transaction moved the same delta
	// into an account, its teller and its branch, and logged it.
	conn, err := pgx.Connect(ctx, url(2))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var sums [4]int64
	if err := conn.QueryRow(ctx, `SELECT (SELECT sum(abalance) FROM pgbench_accounts), (SELECT sum(tbalance) FROM pgbench_tellers),
		(SELECT sum(bbalance) FROM pgbench_branches), (SELECT sum(delta) FROM pgbench_history)`).Scan(&sums[0], &sums[1], &sums[2], &sums[3]); err != nil {
		t.Fatal(err)
	}
	if sums[0] != sums[3] || sums[1] != sums[3] || sums[2] != sums[3] {
		t.Fatalf("balances do not add up: accounts %d tellers %d branches %d history %d", sums[0], sums[1], sums[2], sums[3])
	}
}
