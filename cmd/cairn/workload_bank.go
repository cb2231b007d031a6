package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairndb/cairn/pkg/client"
)

// The bank workload owns every key under bankPrefix.
const (
	bankPrefix = "bank/"
	acctPrefix = "bank/acct/"
	xferPrefix = "bank/xfer/"

	maxBankAccounts = 1000000 // account keys are bank/acct/%06d
	maxBankBalance  = 1 << 40 // N x initial stays far from overflowing int64
	// bankTxnTimeout bounds one logical transaction, all its attempts
	// included (Client.Txn backs off for ~11 s over its 30 attempts).
	bankTxnTimeout = 30 * time.Second
	// bankSetupBatch is how many keys one setup transaction writes.
	bankSetupBatch = 100
	// bankScanPage is the limit of each scan request.
	bankScanPage = 1000
	// maxTransferAmount bounds one transfer.
	maxTransferAmount = 100
	// maxPrintedViolations bounds the violations printed one by one.
	maxPrintedViolations = 50
	// maxPrintedFailures bounds the failed-transfer errors printed.
	maxPrintedFailures = 5
)

// bankConfig is what `cairn workload bank` runs.
type bankConfig struct {
	accounts    int
	concurrency int
	readers     int // 0: max(1, concurrency/4)
	// readInterval paces each snapshot reader: a read starts at most once
	// per interval (0: back to back).
	readInterval   time.Duration
	duration       time.Duration
	initialBalance int64
	verifyOnly     bool
}

func defaultBankConfig() bankConfig {
	return bankConfig{accounts: 100, concurrency: 16, duration: 30 * time.Second, initialBalance: 1000}
}

func (c bankConfig) validate() error {
	switch {
	case c.accounts < 2 || c.accounts > maxBankAccounts:
		return fmt.Errorf("--accounts %d: must be between 2 and %d", c.accounts, maxBankAccounts)
	case c.concurrency < 1 || c.concurrency > maxWorkloadConcurrency:
		return fmt.Errorf("--concurrency %d: must be between 1 and %d", c.concurrency, maxWorkloadConcurrency)
	case c.readers < 0 || c.readers > maxWorkloadConcurrency:
		return fmt.Errorf("--readers %d: must be between 0 and %d", c.readers, maxWorkloadConcurrency)
	case c.readInterval < 0 || c.readInterval > maxWorkloadDuration:
		return fmt.Errorf("--read-interval %v: must be between 0 and %v", c.readInterval, maxWorkloadDuration)
	case c.duration <= 0 || c.duration > maxWorkloadDuration:
		return fmt.Errorf("--duration %v: must be greater than 0 and at most %v", c.duration, maxWorkloadDuration)
	case c.initialBalance < 0 || c.initialBalance > maxBankBalance:
		return fmt.Errorf("--initial-balance %d: must be between 0 and %d", c.initialBalance, int64(maxBankBalance))
	}
	return nil
}

func (c bankConfig) nReaders() int {
	if c.readers > 0 {
		return c.readers
	}
	return max(1, c.concurrency/4)
}

func (c bankConfig) total() int64 { return int64(c.accounts) * c.initialBalance }

func newWorkloadBankCmd() *cobra.Command {
	var cf clientFlags
	cfg := defaultBankConfig()
	cmd := &cobra.Command{
		Use:   "bank",
		Short: "run a bank-transfer workload that checks transactional invariants",
		Long: `Moves money between --accounts accounts (keys bank/acct/NNNNNN) with
--concurrency workers, each transfer one transaction (Client.Txn) that reads
both balances, moves a random amount of 1-100 (never below zero) and writes a
record bank/xfer/<id> = "from,to,amount". The transfer id is also the
transaction's idempotency key, so a transfer re-run after an ambiguous commit
must not apply twice. Concurrent readers sum all balances in snapshot
transactions, back to back or, with --read-interval, one read per interval
each.

The workload owns the bank/ prefix: at start it DELETES everything under
bank/ and re-creates the accounts with --initial-balance each (so the total
is accounts x initial-balance); --verify-only skips that and the transfers.

Violations (each printed, and the command exits non-zero): a snapshot whose
total differs or that misses an account, a negative balance, a transfer that
committed again although its record already existed (a duplicate), and at the
end: balances that differ from replaying the transfer records, a record
missing for a transfer reported committed, a record present for a transfer
reported failed, or records of transfers this run never started. Transfers
whose outcome was unknown (ambiguous, or cut by the timeout) may or may not
have a record; the final check reports which.

--addr takes a comma-separated list of RPC addresses; workers and readers are
spread over them and move to the next one after a failed transaction.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.validate(); err != nil {
				return err
			}
			var clients []*client.Client
			for _, a := range strings.Split(cf.addr, ",") {
				if a = strings.TrimSpace(a); a == "" {
					continue
				}
				one := cf
				one.addr = a
				c, err := one.dial()
				if err != nil {
					return err
				}
				defer c.Close()
				clients = append(clients, c)
			}
			if len(clients) == 0 {
				return fmt.Errorf("--addr %q: no address", cf.addr)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if cfg.verifyOnly {
				return runBankVerify(ctx, cfg, clients, cmd.OutOrStdout())
			}
			return runBankWorkload(ctx, cfg, clients, cmd.OutOrStdout())
		},
	}
	cf.register(cmd)
	f := cmd.Flags()
	f.Lookup("addr").Usage = "RPC addresses of nodes (HOST:PORT,...): workers are spread over them"
	f.IntVar(&cfg.accounts, "accounts", cfg.accounts, "number of accounts")
	f.IntVar(&cfg.concurrency, "concurrency", cfg.concurrency, "number of concurrent transfer workers")
	f.IntVar(&cfg.readers, "readers", 0, "number of concurrent snapshot readers (0: max(1, concurrency/4))")
	f.DurationVar(&cfg.readInterval, "read-interval", 0, "each snapshot reader starts a read at most once per interval (0: back to back)")
	f.DurationVar(&cfg.duration, "duration", cfg.duration, "how long transfers run (setup and the final check do not count)")
	f.Int64Var(&cfg.initialBalance, "initial-balance", cfg.initialBalance, "balance of every account at start")
	f.BoolVar(&cfg.verifyOnly, "verify-only", false, "only check the invariants of the current bank/ data (no setup, no transfers)")
	return cmd
}

func acctKey(i int) []byte        { return fmt.Appendf(nil, "%s%06d", acctPrefix, i) }
func xferKey(id string) []byte    { return []byte(xferPrefix + id) }
func prefixEnd(p string) []byte   { return append([]byte(p[:len(p)-1]), p[len(p)-1]+1) }
func balanceValue(b int64) []byte { return strconv.AppendInt(nil, b, 10) }

func newTransferID() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// transferRecord is the value of bank/xfer/<id>.
type transferRecord struct {
	from, to int
	amount   int64
}

func (r transferRecord) value() []byte { return fmt.Appendf(nil, "%d,%d,%d", r.from, r.to, r.amount) }

func parseTransferRecord(v []byte, accounts int) (transferRecord, error) {
	var r transferRecord
	parts := strings.Split(string(v), ",")
	if len(parts) != 3 {
		return r, fmt.Errorf("malformed transfer record %q", v)
	}
	var err1, err2, err3 error
	r.from, err1 = strconv.Atoi(parts[0])
	r.to, err2 = strconv.Atoi(parts[1])
	r.amount, err3 = strconv.ParseInt(parts[2], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil || r.from < 0 || r.from >= accounts ||
		r.to < 0 || r.to >= accounts || r.from == r.to || r.amount < 0 {
		return r, fmt.Errorf("malformed transfer record %q", v)
	}
	return r, nil
}

// violationError is returned by a transaction body that found the data
// inconsistent; Client.Txn returns it as is.
type violationError struct{ msg string }

func (e *violationError) Error() string { return e.msg }

func violationf(format string, args ...any) error {
	return &violationError{msg: fmt.Sprintf(format, args...)}
}

// syncWriter serialises writes of concurrent goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// violations counts and prints invariant violations.
type violations struct {
	out    io.Writer
	mu     sync.Mutex
	byKind map[string]int
	n      atomic.Int64
}

func newViolations(out io.Writer) *violations {
	return &violations{out: out, byKind: map[string]int{}}
}

func (v *violations) add(kind, format string, args ...any) {
	n := v.n.Add(1)
	v.mu.Lock()
	v.byKind[kind]++
	v.mu.Unlock()
	if n <= maxPrintedViolations {
		fmt.Fprintf(v.out, "VIOLATION (%s): %s\n", kind, fmt.Sprintf(format, args...))
	} else if n == maxPrintedViolations+1 {
		fmt.Fprintf(v.out, "(further violations are counted, not printed)\n")
	}
}

func (v *violations) summary() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	kinds := make([]string, 0, len(v.byKind))
	for k, n := range v.byKind {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
	}
	slices.Sort(kinds)
	return strings.Join(kinds, " ")
}

// scanPrefix calls fn for every key of prefix in the transaction.
func scanPrefix(ctx context.Context, txn *client.Txn, prefix string, fn func(client.KeyValue) error) error {
	start, end := []byte(prefix), prefixEnd(prefix)
	for {
		kvs, more, err := txn.Scan(ctx, start, end, bankScanPage)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			if err := fn(kv); err != nil {
				return err
			}
		}
		if !more || len(kvs) == 0 {
			return nil
		}
		start = append(slices.Clone(kvs[len(kvs)-1].Key), 0)
	}
}

// bankSnapshot is what one read-only transaction saw.
type bankSnapshot struct {
	ts       uint64
	balances []int64
	present  []bool
	n        int // accounts present
	total    int64
	problems []string // malformed or unexpected keys
	records  map[string]transferRecord
}

// readAccounts scans every account of the bank in txn.
func readAccounts(ctx context.Context, txn *client.Txn, cfg bankConfig) (*bankSnapshot, error) {
	s := &bankSnapshot{balances: make([]int64, cfg.accounts), present: make([]bool, cfg.accounts)}
	err := scanPrefix(ctx, txn, acctPrefix, func(kv client.KeyValue) error {
		s.ts = txn.StartTS // set once the first scan began the transaction
		suffix := string(kv.Key[len(acctPrefix):])
		i, err := strconv.Atoi(suffix)
		if err != nil || len(suffix) != 6 || i >= cfg.accounts {
			s.problems = append(s.problems, fmt.Sprintf("unexpected account key %q", kv.Key))
			return nil
		}
		b, err := strconv.ParseInt(string(kv.Value), 10, 64)
		if err != nil {
			s.problems = append(s.problems, fmt.Sprintf("account %d: malformed balance %q", i, kv.Value))
			return nil
		}
		s.balances[i], s.present[i] = b, true
		s.n++
		s.total += b
		return nil
	})
	return s, err
}

// readRecords scans every transfer record into s.
func readRecords(ctx context.Context, txn *client.Txn, cfg bankConfig, s *bankSnapshot) error {
	s.records = map[string]transferRecord{}
	return scanPrefix(ctx, txn, xferPrefix, func(kv client.KeyValue) error {
		id := string(kv.Key[len(xferPrefix):])
		r, err := parseTransferRecord(kv.Value, cfg.accounts)
		if err != nil {
			s.problems = append(s.problems, fmt.Sprintf("%s: %v", kv.Key, err))
			return nil
		}
		s.records[id] = r
		return nil
	})
}

// checkSnapshot reports the violations of the account invariants in s:
// missing or malformed accounts, negative balances, a wrong total.
func checkSnapshot(s *bankSnapshot, cfg bankConfig, v *violations, what string) {
	for _, p := range s.problems {
		v.add("malformed", "%s at ts %d: %s", what, s.ts, p)
	}
	if s.n != cfg.accounts {
		var missing []int
		for i, ok := range s.present {
			if !ok && len(missing) < 10 {
				missing = append(missing, i)
			}
		}
		v.add("missing-account", "%s at ts %d: %d of %d accounts present (missing include %v)", what, s.ts, s.n, cfg.accounts, missing)
	}
	for i, b := range s.balances {
		if b < 0 {
			v.add("negative", "%s at ts %d: account %d (%s) has balance %d", what, s.ts, i, acctKey(i), b)
		}
	}
	if s.n == cfg.accounts && s.total != cfg.total() {
		v.add("total", "%s at ts %d: total %d, want %d (%+d)", what, s.ts, s.total, cfg.total(), s.total-cfg.total())
	}
}

// checkLedger replays the transfer records of s onto the initial balances:
// every account must end where its records say. A transfer applied twice
// (but recorded once) or a record without its balance changes shows here.
func checkLedger(s *bankSnapshot, cfg bankConfig, v *violations) {
	want := make([]int64, cfg.accounts)
	for i := range want {
		want[i] = cfg.initialBalance
	}
	for _, r := range s.records {
		want[r.from] -= r.amount
		want[r.to] += r.amount
	}
	bad := 0
	for i := range want {
		if s.present[i] && s.balances[i] != want[i] {
			bad++
			if bad <= 10 {
				v.add("ledger", "final snapshot at ts %d: account %d (%s) has %d, its %d transfer records say %d (%+d)",
					s.ts, i, acctKey(i), s.balances[i], len(s.records), want[i], s.balances[i]-want[i])
			}
		}
	}
	if bad > 10 {
		v.add("ledger", "final snapshot: %d accounts in all differ from their records", bad)
	}
}

// finalSnapshot reads the accounts and the transfer records in one
// read-only transaction, through the first client that manages it.
func finalSnapshot(ctx context.Context, cfg bankConfig, clients []*client.Client) (*bankSnapshot, error) {
	var errs []error
	for _, c := range clients {
		var s *bankSnapshot
		tctx, cancel := context.WithTimeout(ctx, bankTxnTimeout)
		_, err := c.Txn(tctx, func(ctx context.Context, txn *client.Txn) error {
			var err error
			if s, err = readAccounts(ctx, txn, cfg); err != nil {
				return err
			}
			return readRecords(ctx, txn, cfg, s)
		})
		cancel()
		if err == nil {
			return s, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("final read failed: %w", errors.Join(errs...))
}

// runBankVerify checks the current bank data: accounts, total, ledger.
func runBankVerify(ctx context.Context, cfg bankConfig, clients []*client.Client, out io.Writer) error {
	v := newViolations(out)
	s, err := finalSnapshot(ctx, cfg, clients)
	if err != nil {
		return err
	}
	checkSnapshot(s, cfg, v, "snapshot")
	checkLedger(s, cfg, v)
	fmt.Fprintf(out, "verified at ts %d: %d accounts, total %d (want %d), %d transfer records, violations=%d %s\n",
		s.ts, s.n, s.total, cfg.total(), len(s.records), v.n.Load(), v.summary())
	if n := v.n.Load(); n > 0 {
		return fmt.Errorf("%d violations", n)
	}
	return nil
}

// bankSetup deletes everything under bank/ and creates the accounts.
func bankSetup(ctx context.Context, cfg bankConfig, c *client.Client, out io.Writer) error {
	start := time.Now()
	deleted := 0
	for {
		n := 0
		tctx, cancel := context.WithTimeout(ctx, bankTxnTimeout)
		_, err := c.Txn(tctx, func(ctx context.Context, txn *client.Txn) error {
			n = 0
			kvs, _, err := txn.Scan(ctx, []byte(bankPrefix), prefixEnd(bankPrefix), bankSetupBatch*5)
			if err != nil {
				return err
			}
			for _, kv := range kvs {
				if err := txn.Delete(ctx, kv.Key); err != nil {
					return err
				}
			}
			n = len(kvs)
			return nil
		})
		cancel()
		if err != nil {
			return fmt.Errorf("setup: deleting the previous bank/ data: %w", err)
		}
		if n == 0 {
			break
		}
		deleted += n
	}
	for lo := 0; lo < cfg.accounts; lo += bankSetupBatch {
		hi := min(lo+bankSetupBatch, cfg.accounts)
		tctx, cancel := context.WithTimeout(ctx, bankTxnTimeout)
		_, err := c.Txn(tctx, func(ctx context.Context, txn *client.Txn) error {
			for i := lo; i < hi; i++ {
				if err := txn.Put(ctx, acctKey(i), balanceValue(cfg.initialBalance)); err != nil {
					return err
				}
			}
			return nil
		})
		cancel()
		if err != nil {
			return fmt.Errorf("setup: creating accounts %d-%d: %w", lo, hi-1, err)
		}
	}
	fmt.Fprintf(out, "setup: deleted %d old bank/ keys, created %d accounts of %d (total %d) in %.1fs\n",
		deleted, cfg.accounts, cfg.initialBalance, cfg.total(), time.Since(start).Seconds())
	return nil
}

// outcome is what the workload learnt of one transfer.
type outcome int

const (
	outcomeOK      outcome = iota // committed exactly once
	outcomeFailed                 // definitively not committed
	outcomeUnknown                // may or may not have committed
)

// transferResult is one logical transfer.
type transferResult struct {
	id       string
	outcome  outcome
	rec      transferRecord
	known    bool // rec.amount is the committed amount (not an earlier attempt's)
	attempts int
	err      string
}

// bankStats are the counters shared by the workers.
type bankStats struct {
	ok, skipped, retried, failed, unknown atomic.Uint64
	dedup, resumed                        atomic.Uint64
	reads, readErrors                     atomic.Uint64
	xferLat, readLat                      histogram

	mu          sync.Mutex
	failSamples []string
	readSamples []string
}

func (s *bankStats) sample(read bool, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &s.failSamples
	if read {
		p = &s.readSamples
	}
	if len(*p) < maxPrintedFailures {
		*p = append(*p, msg)
	}
}

// attemptState is what one run of a transfer's transaction body saw.
type attemptState struct {
	sawRecord bool // the transfer's record existed: an earlier attempt committed
	rec       transferRecord
	startTS   uint64
	commits   int // attempts before this one whose body reached Commit
}

// bankWorker runs transfers one at a time.
type bankWorker struct {
	cfg     bankConfig
	clients []*client.Client
	cur     int
	rng     *rand.Rand
	stats   *bankStats
	v       *violations
	results []transferResult
}

func (w *bankWorker) rotate() { w.cur = (w.cur + 1) % len(w.clients) }

// transfer runs one logical transfer to its end, under ctx (the interrupt
// context, not the run's: a transfer in flight when the run ends finishes,
// so that its outcome is known).
func (w *bankWorker) transfer(ctx context.Context) {
	from := w.rng.IntN(w.cfg.accounts)
	to := w.rng.IntN(w.cfg.accounts - 1)
	if to >= from {
		to++
	}
	id := newTransferID()
	key := xferKey(id)
	c := w.clients[w.cur]
	var st attemptState
	reachedCommit := 0
	tctx, cancel := context.WithTimeout(ctx, bankTxnTimeout)
	defer cancel()
	began := time.Now()
	stats, err := c.Txn(tctx, func(ctx context.Context, txn *client.Txn) error {
		st = attemptState{startTS: txn.StartTS, commits: reachedCommit}
		// One round trip for the record and both balances.
		vals, present, err := txn.GetMany(ctx, key, acctKey(from), acctKey(to))
		if err != nil {
			return err
		}
		st.startTS = txn.StartTS // known once the first read began the transaction
		old, found := vals[0], present[0]
		if found {
			// An earlier attempt committed. Write the same transfer again:
			// the idempotency key must make this commit report the first
			// one instead of applying a second time.
			r, err := parseTransferRecord(old, w.cfg.accounts)
			if err != nil {
				return violationf("transfer %s: %v", id, err)
			}
			if r.from != from || r.to != to {
				return violationf("transfer %s of %d -> %d: its record says %d -> %d", id, from, to, r.from, r.to)
			}
			st.sawRecord, st.rec = true, r
		}
		fromV, okFrom, toV, okTo := vals[1], present[1], vals[2], present[2]
		if !okFrom || !okTo {
			return violationf("transfer %s at ts %d: account %d present=%v, account %d present=%v", id, txn.StartTS, from, okFrom, to, okTo)
		}
		fromBal, err1 := strconv.ParseInt(string(fromV), 10, 64)
		toBal, err2 := strconv.ParseInt(string(toV), 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return violationf("transfer %s at ts %d: malformed balance: %v", id, txn.StartTS, err)
		}
		if !st.sawRecord {
			st.rec = transferRecord{from: from, to: to}
			if fromBal > 0 {
				st.rec.amount = 1 + w.rng.Int64N(min(maxTransferAmount, fromBal))
			}
			// An empty account still commits its (zero) record, so that
			// the transfer's outcome is decided by its idempotency key
			// like any other's.
		}
		if st.rec.amount > 0 && fromBal >= st.rec.amount {
			if err := txn.Put(ctx, acctKey(from), balanceValue(fromBal-st.rec.amount)); err != nil {
				return err
			}
			if err := txn.Put(ctx, acctKey(to), balanceValue(toBal+st.rec.amount)); err != nil {
				return err
			}
		}
		if err := txn.Put(ctx, key, st.rec.value()); err != nil {
			return err
		}
		reachedCommit++
		return nil
	}, client.WithIdempotencyKey(id))
	lat := time.Since(began)

	res := transferResult{id: id, rec: transferRecord{from: from, to: to}, attempts: stats.Attempts}
	w.stats.retried.Add(uint64(max(stats.Attempts-1, 0)))
	var verr *violationError
	switch {
	case err == nil:
		res.outcome = outcomeOK
		w.stats.ok.Add(1)
		w.stats.xferLat.Record(lat)
		if stats.AlreadyCommitted {
			w.stats.dedup.Add(1)
		} else {
			res.rec, res.known = st.rec, true
			if st.rec.amount == 0 {
				w.stats.skipped.Add(1)
			}
		}
		if st.sawRecord {
			w.stats.resumed.Add(1)
			if !stats.AlreadyCommitted {
				w.v.add("duplicate", "transfer %s (%d -> %d, %d) committed again at ts %d (attempt %d, start ts %d) although its record was already committed",
					id, from, to, st.rec.amount, stats.CommitTS, stats.Attempts, st.startTS)
			}
		}
	case errors.As(err, &verr):
		w.v.add("transfer", "%v", verr)
		res.outcome, res.err = outcomeUnknown, err.Error()
		w.stats.unknown.Add(1)
	case errors.Is(err, client.ErrAmbiguous) || tctx.Err() != nil:
		res.outcome, res.err = outcomeUnknown, err.Error()
		w.stats.unknown.Add(1)
		w.stats.sample(false, "unknown outcome: "+err.Error())
		w.rotate()
	default:
		res.outcome = outcomeFailed
		res.err = fmt.Sprintf("%v (after %d attempts, %d of them reached commit)", err, stats.Attempts, reachedCommit)
		w.stats.failed.Add(1)
		w.stats.sample(false, "failed: "+err.Error())
		w.rotate()
	}
	w.results = append(w.results, res)
}

// read runs one snapshot read of all accounts and checks it.
func (w *bankWorker) read(ctx context.Context) {
	c := w.clients[w.cur]
	var s *bankSnapshot
	tctx, cancel := context.WithTimeout(ctx, bankTxnTimeout)
	defer cancel()
	began := time.Now()
	_, err := c.Txn(tctx, func(ctx context.Context, txn *client.Txn) error {
		var err error
		s, err = readAccounts(ctx, txn, w.cfg)
		return err
	})
	if err != nil {
		if runOver(ctx) {
			return
		}
		w.stats.readErrors.Add(1)
		w.stats.sample(true, "snapshot read: "+err.Error())
		w.rotate()
		return
	}
	w.stats.readLat.Record(time.Since(began))
	w.stats.reads.Add(1)
	checkSnapshot(s, w.cfg, w.v, "snapshot read")
}

// readLoop runs snapshot reads until stopping, paced by the configured
// read interval.
func (w *bankWorker) readLoop(ctx context.Context, stopping func() bool) {
	var pace *time.Timer
	for !stopping() {
		began := time.Now()
		w.read(ctx)
		if w.cfg.readInterval <= 0 {
			continue
		}
		wait := w.cfg.readInterval - time.Since(began)
		if wait <= 0 {
			continue
		}
		if pace == nil {
			pace = time.NewTimer(wait)
			defer pace.Stop()
		} else {
			pace.Reset(wait)
		}
		select {
		case <-pace.C:
		case <-ctx.Done():
			return
		}
	}
}

// runBankWorkload sets the bank up, runs transfers and snapshot readers for
// cfg.duration, then checks the final state against the outcomes.
func runBankWorkload(ctx context.Context, cfg bankConfig, clients []*client.Client, rawOut io.Writer) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	if len(clients) == 0 {
		return errors.New("no client connections")
	}
	out := &syncWriter{w: rawOut}
	if err := bankSetup(ctx, cfg, clients[0], out); err != nil {
		return err
	}
	v := newViolations(out)
	stats := &bankStats{}
	seed := rand.Uint64()

	runCtx, cancelRun := context.WithTimeout(ctx, cfg.duration)
	defer cancelRun()
	runDeadline, _ := runCtx.Deadline()
	stopping := func() bool { return runCtx.Err() != nil || !time.Now().Before(runDeadline) }

	nReaders := cfg.nReaders()
	pacing := "back to back"
	if cfg.readInterval > 0 {
		pacing = "one read per " + cfg.readInterval.String() + " each"
	}
	fmt.Fprintf(out, "running for %v: %d transfer workers, %d snapshot readers (%s), %d accounts, %d node addresses\n",
		cfg.duration, cfg.concurrency, nReaders, pacing, cfg.accounts, len(clients))
	start := time.Now()
	var wg sync.WaitGroup
	workers := make([]*bankWorker, cfg.concurrency)
	for i := range cfg.concurrency + nReaders {
		w := &bankWorker{cfg: cfg, clients: clients, cur: i % len(clients), rng: rand.New(rand.NewPCG(seed, uint64(i))), stats: stats, v: v}
		wg.Add(1)
		if i < cfg.concurrency {
			workers[i] = w
			go func() {
				defer wg.Done()
				for !stopping() {
					w.transfer(ctx)
				}
			}()
		} else {
			go func() {
				defer wg.Done()
				w.readLoop(runCtx, stopping)
			}()
		}
	}
	workersDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(workersDone)
	}()

	fmt.Fprintln(out, "_elapsed_______ok__retried___failed__unknown__xfer/s(inst)__xfer/s(cum)____reads__violations")
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var lastOK uint64
	lastTime := start
progress:
	for {
		select {
		case <-workersDone:
			break progress
		case now := <-tick.C:
			ok := stats.ok.Load()
			fmt.Fprintf(out, "%7.1fs %8d %8d %8d %8d %13.1f %12.1f %8d %11d\n", now.Sub(start).Seconds(),
				ok, stats.retried.Load(), stats.failed.Load(), stats.unknown.Load(),
				float64(ok-lastOK)/now.Sub(lastTime).Seconds(), float64(ok)/now.Sub(start).Seconds(),
				stats.reads.Load(), v.n.Load())
			lastOK, lastTime = ok, now
		}
	}
	elapsed := time.Since(start)
	interrupted := runInterrupted(ctx)
	if interrupted {
		fmt.Fprintf(out, "interrupted after %.1fs\n", elapsed.Seconds())
	}

	printKVSummary(out, elapsed, []summaryRow{
		{"transfer", &stats.xferLat, stats.failed.Load() + stats.unknown.Load()},
		{"snapshot", &stats.readLat, stats.readErrors.Load()},
	})
	stats.mu.Lock()
	for _, s := range append(stats.failSamples, stats.readSamples...) {
		fmt.Fprintf(out, "  %s\n", s)
	}
	stats.mu.Unlock()
	if interrupted {
		return fmt.Errorf("interrupted after %.1fs (violations so far: %d)", elapsed.Seconds(), v.n.Load())
	}

	// The final check, in one snapshot: invariants, the ledger, and every
	// transfer's record against its reported outcome.
	fctx, cancel := context.WithTimeout(ctx, 2*bankTxnTimeout)
	defer cancel()
	s, err := finalSnapshot(fctx, cfg, clients)
	var committedUnknown, abortedUnknown int
	if err != nil {
		v.add("final-read", "%v", err)
	} else {
		checkSnapshot(s, cfg, v, "final snapshot")
		checkLedger(s, cfg, v)
		committedUnknown, abortedUnknown = checkOutcomes(s, workers, v)
	}
	ok, unknown := stats.ok.Load(), stats.unknown.Load()
	fmt.Fprintf(out, "transfers: ok=%d (of which %d moved nothing, %d deduplicated by the idempotency key, %d re-ran after their commit) retried=%d failed=%d unknown=%d\n",
		ok, stats.skipped.Load(), stats.dedup.Load(), stats.resumed.Load(), stats.retried.Load(), stats.failed.Load(), unknown)
	if s != nil {
		fmt.Fprintf(out, "final check at ts %d: total %d (want %d), %d records for %d ok + %d unknown transfers (unknown: %d committed, %d not)\n",
			s.ts, s.total, cfg.total(), len(s.records), ok, unknown, committedUnknown, abortedUnknown)
		if r := uint64(len(s.records)); r < ok || r > ok+unknown {
			v.add("record-count", "%d transfer records, want between %d (ok) and %d (ok+unknown)", r, ok, ok+unknown)
		}
	}
	fmt.Fprintf(out, "transfers/s=%.1f p50=%.3f p99=%.3f snapshot-reads=%d read-errors=%d violations=%d %s\n",
		float64(ok)/elapsed.Seconds(), ms(stats.xferLat.Quantile(0.50)), ms(stats.xferLat.Quantile(0.99)),
		stats.reads.Load(), stats.readErrors.Load(), v.n.Load(), v.summary())
	switch {
	case v.n.Load() > 0:
		return fmt.Errorf("%d violations: %s", v.n.Load(), v.summary())
	case ok == 0:
		return fmt.Errorf("no transfer committed (%d failed, %d unknown)", stats.failed.Load(), unknown)
	}
	return nil
}

// checkOutcomes checks every transfer's record against its outcome: ok
// transfers have theirs (with the committed amount when known), failed ones
// none, and no record belongs to a transfer this run did not start. It
// returns how many unknown outcomes turned out committed and not.
func checkOutcomes(s *bankSnapshot, workers []*bankWorker, v *violations) (committed, aborted int) {
	seen := make(map[string]bool, len(s.records))
	for _, w := range workers {
		for _, r := range w.results {
			got, ok := s.records[r.id]
			seen[r.id] = true
			switch r.outcome {
			case outcomeOK:
				switch {
				case !ok:
					v.add("lost-transfer", "transfer %s (%d -> %d, %d) committed (after %d attempts) but has no record at ts %d", r.id, r.rec.from, r.rec.to, r.rec.amount, r.attempts, s.ts)
				case got.from != r.rec.from || got.to != r.rec.to || (r.known && got.amount != r.rec.amount):
					v.add("wrong-record", "transfer %s committed as %d -> %d, %d but its record says %d -> %d, %d", r.id, r.rec.from, r.rec.to, r.rec.amount, got.from, got.to, got.amount)
				}
			case outcomeFailed:
				if ok {
					v.add("failed-but-committed", "transfer %s (%d -> %d) was reported failed but its record (amount %d) exists: %s", r.id, got.from, got.to, got.amount, r.err)
				}
			case outcomeUnknown:
				if ok {
					committed++
				} else {
					aborted++
				}
			}
		}
	}
	var strays []string
	for id := range s.records {
		if !seen[id] {
			strays = append(strays, id)
		}
	}
	if len(strays) > 0 {
		slices.Sort(strays)
		v.add("stray-record", "%d records of transfers this run did not start, e.g. %s", len(strays), strays[0])
	}
	return committed, aborted
}
