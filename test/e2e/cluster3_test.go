package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairndb/cairn/pkg/client"
)

const (
	// threeNodeWriters is the number of concurrent writers.
	threeNodeWriters = 12
	// replicationTimeout bounds the wait for every range to have 3 voters.
	replicationTimeout = 60 * time.Second
	// writesBeforeKill and writesAfterKill are how long the load runs
	// before the kill and before the restart (load durations, not waits
	// for conditions).
	writesBeforeKill = 2 * time.Second
	writesAfterKill  = 3 * time.Second
	// resumeLimit is the requirement: writes resume within 10 s of losing
	// the node that holds the most leases.
	resumeLimit = 10 * time.Second
	// catchUpTimeout bounds the wait for the restarted node to serve the
	// last acknowledged key.
	catchUpTimeout = 30 * time.Second
	// convergeTimeout bounds the wait for all nodes to agree on replicas.
	convergeTimeout = 15 * time.Second
	// switchTimeout bounds the wait for writers to move off the victim.
	switchTimeout = 10 * time.Second
	// threeNodeBudget bounds the whole test.
	threeNodeBudget = 2 * time.Minute
	// dumpLogsEnv logs every node's stderr at the end even on success.
	dumpLogsEnv = "CAIRN_E2E_DUMP_LOGS"
)

// rangeView is one entry of GET /v1/ranges.
type rangeView struct {
	RangeID  uint64 `json:"range_id"`
	StartKey string `json:"start_key"`
	EndKey   string `json:"end_key"`
	Replicas []struct {
		NodeID    uint64 `json:"node_id"`
		ReplicaID uint64 `json:"replica_id"`
	} `json:"replicas"`
	Leaseholder uint64 `json:"leaseholder"`
	SizeBytes   uint64 `json:"size_bytes"`
}

// ranges fetches the node's /v1/ranges; errors are for polling loops.
func (n *node) ranges() ([]rangeView, error) {
	resp, err := n.httpc.Get(n.url("/v1/ranges"))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /v1/ranges: %s", resp.Status)
	}
	var out []rangeView
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("GET /v1/ranges: %w", err)
	}
	return out, nil
}

// rangesSummary renders a node's view for logs.
func rangesSummary(rs []rangeView) string {
	var b strings.Builder
	for _, r := range rs {
		var nodes []string
		for _, rep := range r.Replicas {
			nodes = append(nodes, fmt.Sprintf("n%d/%d", rep.NodeID, rep.ReplicaID))
		}
		fmt.Fprintf(&b, " r%d[%s,%s) replicas(node/replica)=%s lh=n%d size=%d;", r.RangeID, r.StartKey, r.EndKey,
			strings.Join(nodes, ","), r.Leaseholder, r.SizeBytes)
	}
	return b.String()
}

var nodeStartedRE = regexp.MustCompile(`msg="node started" node_id=(\d+)`)

// nodeID reads the node id the process logged at start (bounded wait).
func (n *node) nodeID(t testing.TB) uint64 {
	t.Helper()
	var id uint64
	err := pollUntil(10*time.Second, 20*time.Millisecond, func() (bool, error) {
		ms := nodeStartedRE.FindAllStringSubmatch(n.stderr(), -1)
		if len(ms) == 0 {
			return false, nil
		}
		var err error
		id, err = strconv.ParseUint(ms[len(ms)-1][1], 10, 64)
		return err == nil, err
	})
	if err != nil {
		n.dumpStderr()
		t.Fatalf("%s: no node id in the log: %v", n.name, err)
	}
	return id
}

var promotedRE = regexp.MustCompile(`msg="placement: changed replicas" range=(\d+) change=PROMOTE_VOTER node=(\d+)`)

// promotions returns, per range, the nodes whose learner the placement
// driver logged as promoted to voter, from the logs of all given nodes.
func promotions(nodes []*node) map[uint64]map[uint64]bool {
	out := map[uint64]map[uint64]bool{}
	for _, n := range nodes {
		for _, m := range promotedRE.FindAllStringSubmatch(n.stderr(), -1) {
			r, _ := strconv.ParseUint(m[1], 10, 64)
			nd, _ := strconv.ParseUint(m[2], 10, 64)
			if out[r] == nil {
				out[r] = map[uint64]bool{}
			}
			out[r][nd] = true
		}
	}
	return out
}

// fullyReplicated reports whether every range node 1 (the bootstrap node,
// whose id is bootID) lists has a replica on each of ids, every node lists
// every range with the same replicas, and every replica other than the
// bootstrap voter was promoted from learner to voter. /v1/ranges does not
// show replica types, so the last condition is read from the placement
// driver's log. It returns a description of what is missing.
func fullyReplicated(nodes []*node, ids []uint64, bootID uint64) (bool, string) {
	views := make([][]rangeView, len(nodes))
	for i, n := range nodes {
		rs, err := n.ranges()
		if err != nil {
			return false, fmt.Sprintf("%s: %v", n.name, err)
		}
		views[i] = rs
	}
	if len(views[0]) == 0 {
		return false, "node 1 lists no range"
	}
	want := slices.Clone(ids)
	slices.Sort(want)
	promoted := promotions(nodes)
	replicaSet := func(r rangeView) []uint64 {
		var s []uint64
		for _, rep := range r.Replicas {
			s = append(s, rep.NodeID)
		}
		slices.Sort(s)
		return s
	}
	for _, r := range views[0] {
		got := replicaSet(r)
		if !slices.Equal(got, want) {
			return false, fmt.Sprintf("range %d has replicas on nodes %v, want %v", r.RangeID, got, want)
		}
		for _, nd := range got {
			if nd != bootID && !promoted[r.RangeID][nd] {
				return false, fmt.Sprintf("range %d: replica on node %d not (yet) promoted to voter", r.RangeID, nd)
			}
		}
		for i, v := range views[1:] {
			j := slices.IndexFunc(v, func(o rangeView) bool { return o.RangeID == r.RangeID })
			if j < 0 {
				return false, fmt.Sprintf("%s does not list range %d", nodes[i+1].name, r.RangeID)
			}
			if g := replicaSet(v[j]); !slices.Equal(g, want) {
				return false, fmt.Sprintf("%s: range %d has replicas on nodes %v, want %v", nodes[i+1].name, r.RangeID, g, want)
			}
		}
	}
	return true, ""
}

// holdsKV reports whether a range holds keys of the KV API (where the
// writers write), from its pretty-printed bounds.
func (r rangeView) holdsKV() bool {
	return r.EndKey == "/Max" || strings.HasPrefix(r.EndKey, "/KV/") || strings.HasPrefix(r.StartKey, "/KV/")
}

// leaseCount counts the ranges a node lists as led by itself, all and
// those holding KV API keys.
func leaseCount(n *node, id uint64) (all, kv int, err error) {
	rs, err := n.ranges()
	if err != nil {
		return 0, 0, err
	}
	for _, r := range rs {
		if r.Leaseholder == id {
			all++
			if r.holdsKV() {
				kv++
			}
		}
	}
	return all, kv, nil
}

// loopbackHosts returns distinct loopback IPs for n nodes when this machine
// can bind them (Linux routes all of 127/8 to lo), else 127.0.0.1 n times.
func loopbackHosts(t *testing.T, n int) []string {
	hosts := make([]string, n)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("127.0.0.%d", i+1)
		l, err := net.Listen("tcp", net.JoinHostPort(hosts[i], "0"))
		if err != nil {
			t.Logf("cannot bind %s (%v): all nodes on 127.0.0.1", hosts[i], err)
			for j := range hosts {
				hosts[j] = "127.0.0.1"
			}
			return hosts
		}
		l.Close()
	}
	return hosts
}

// ackRecord is one acknowledged put.
type ackRecord struct {
	key        string
	sent, done time.Time
}

// putError is one failed or ambiguous put.
type putError struct {
	key  string
	at   time.Time
	node string
	err  error
}

// clusterWriter is one writer goroutine's state: it writes through the node
// at index target of the writer set's nodes, over its own connection.
type clusterWriter struct {
	id     int
	target atomic.Int32 // node index wanted
	using  atomic.Int32 // node index in use (-1 before the first dial)

	// Written by the writer goroutine only; read after it stopped.
	attempted []string
	acked     []ackRecord
	ambiguous []putError
	failed    []putError
	cancelled int // puts cut off by the end of the load
}

// writerSet runs the writers.
type writerSet struct {
	nodes   []*node
	writers []*clusterWriter
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu      sync.Mutex
	lastAck ackRecord // the newest acknowledged put of all writers
}

func startWriters(t *testing.T, nodes []*node, targets []int) *writerSet {
	ctx, cancel := context.WithCancel(context.Background())
	ws := &writerSet{nodes: nodes, cancel: cancel}
	for i := range threeNodeWriters {
		w := &clusterWriter{id: i}
		w.target.Store(int32(targets[i%len(targets)]))
		w.using.Store(-1)
		ws.writers = append(ws.writers, w)
		ws.wg.Add(1)
		go func() {
			defer ws.wg.Done()
			ws.run(ctx, t, w)
		}()
	}
	return ws
}

func (ws *writerSet) run(ctx context.Context, t *testing.T, w *clusterWriter) {
	var c *client.Client
	cur := -1
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for seq := 0; ctx.Err() == nil; seq++ {
		if want := int(w.target.Load()); want != cur {
			if c != nil {
				c.Close()
			}
			var err error
			c, err = client.Dial(ws.nodes[want].RPCAddr, client.WithInsecure())
			if err != nil {
				t.Errorf("writer %d: dialing %s: %v", w.id, ws.nodes[want].name, err)
				return
			}
			cur = want
			w.using.Store(int32(want))
		}
		key := fmt.Sprintf("w%02d-%07d", w.id, seq)
		w.attempted = append(w.attempted, key) // before sending
		sent := time.Now()
		rctx, rcancel := context.WithTimeout(ctx, requestTimeout)
		err := c.Put(rctx, []byte(key), durabilityValue(key))
		rcancel()
		done := time.Now()
		switch {
		case err == nil:
			rec := ackRecord{key: key, sent: sent, done: done}
			w.acked = append(w.acked, rec)
			ws.mu.Lock()
			if done.After(ws.lastAck.done) {
				ws.lastAck = rec
			}
			ws.mu.Unlock()
		case ctx.Err() != nil:
			w.cancelled++
		case errors.Is(err, client.ErrAmbiguous):
			w.ambiguous = append(w.ambiguous, putError{key, done, ws.nodes[cur].name, err})
		default:
			w.failed = append(w.failed, putError{key, done, ws.nodes[cur].name, err})
		}
	}
}

// redirect points the writers using node index from at node index to and
// waits (bounded) until they have switched.
func (ws *writerSet) redirect(t *testing.T, from, to int) {
	t.Helper()
	for _, w := range ws.writers {
		if int(w.target.Load()) == from {
			w.target.Store(int32(to))
		}
	}
	err := pollUntil(switchTimeout, 10*time.Millisecond, func() (bool, error) {
		for _, w := range ws.writers {
			if int(w.using.Load()) == from {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("writers did not move off %s: %v", ws.nodes[from].name, err)
	}
}

func (ws *writerSet) latestAck() ackRecord {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.lastAck
}

// stopQuietly ends the load and waits (bounded) for the writers without
// failing the test: for deferred cleanup.
func (ws *writerSet) stopQuietly() {
	ws.cancel()
	done := make(chan struct{})
	go func() { ws.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * requestTimeout):
	}
}

// stop ends the load and waits (bounded) for the writers.
func (ws *writerSet) stop(t *testing.T) {
	t.Helper()
	ws.cancel()
	done := make(chan struct{})
	go func() { ws.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * requestTimeout):
		t.Fatalf("writers did not stop within %v", 2*requestTimeout)
	}
}

// TestThreeNodeKillLeaseholder runs three node processes, kills -9 the one
// holding the most leases under a write load through the other two, checks
// that writes resume within 10 s, restarts it on its data dir, and checks
// that every acknowledged write is readable through every node.
func TestThreeNodeKillLeaseholder(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: three node processes, kill -9 and restart")
	}
	began := time.Now()
	step := func(format string, args ...any) {
		t.Helper()
		t.Logf("[%6.2fs] %s", time.Since(began).Seconds(), fmt.Sprintf(format, args...))
	}

	// 1. A three-node cluster, every range on three voters.
	nodes, ids := startThreeNodes(t, step)

	// 2./3. Pick the victim: the node leading the most ranges. Writers go
	// through the other two from the start; the choice is checked again
	// after the first load period.
	victimOf := func() (int, []int) { return mostLeases(t, nodes, ids) }
	victim, counts := victimOf()
	survivors := func(v int) []int { return othersThan(len(nodes), v) }
	step("leases per node %v: writers through %s and %s", counts, nodes[survivors(victim)[0]].name, nodes[survivors(victim)[1]].name)
	ws := startWriters(t, nodes, survivors(victim))
	defer ws.stopQuietly() // on a failure: no writer outlives the test

	time.Sleep(writesBeforeKill) // load duration
	if v, c := victimOf(); v != victim {
		step("leases moved under load %v -> %v: the victim is now %s", counts, c, nodes[v].name)
		// Move the writers of the new victim to the old one (a survivor now).
		ws.redirect(t, v, victim)
		victim, counts = v, c
	} else {
		counts = c
	}
	vn := nodes[victim]
	for i, n := range nodes {
		rs, _ := n.ranges()
		step("before the kill (%d leases) %s:%s", counts[i], n.name, rangesSummary(rs))
	}
	killAt := time.Now()
	vn.kill9()
	step("killed %s (node id %d, %d leases)", vn.name, ids[victim], counts[victim])

	// 4. Writes resume (measured from the ack records once the load ends);
	// here only wait, bounded, for a put sent after the kill to be acked.
	err := pollUntil(resumeLimit+requestTimeout, 10*time.Millisecond, func() (bool, error) {
		a := ws.latestAck()
		return a.done.After(killAt) && a.sent.After(killAt), nil
	})
	if err != nil {
		t.Errorf("no write sent after the kill was acknowledged: %v", err)
	}

	time.Sleep(writesAfterKill) // load duration

	// 5. Restart the victim on its data dir and addresses, joining through
	// the survivors.
	var join []string
	for _, i := range survivors(victim) {
		join = append(join, nodes[i].RPCAddr)
	}
	restartAt := time.Now()
	rn := startNode(t, nodeConfig{DataDir: vn.cfg.DataDir, RPCAddr: vn.RPCAddr, HTTPAddr: vn.HTTPAddr, SQLAddr: vn.SQLAddr, Join: join})
	healthyAfter := time.Since(restartAt)
	if id := rn.nodeID(t); id != ids[victim] {
		t.Fatalf("restarted %s came back as node %d, want %d", vn.name, id, ids[victim])
	}
	step("restarted %s as %s: healthy after %v", vn.name, rn.name, healthyAfter.Round(time.Millisecond))
	last := ws.latestAck()
	rc := rn.client(t)
	catchUpFrom := time.Now()
	var lastGetErr error
	var rangesSeen string
	err = pollUntil(catchUpTimeout, 50*time.Millisecond, func() (bool, error) {
		// Its replicas are back in their groups: every range listed, each
		// with a known leader.
		rs, err := rn.ranges()
		if err != nil {
			return false, nil
		}
		rangesSeen = rangesSummary(rs)
		want, _ := nodes[survivors(victim)[0]].ranges()
		if len(want) == 0 || len(rs) < len(want) {
			return false, nil
		}
		for _, r := range rs {
			if r.Leaseholder == 0 {
				return false, nil
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		v, found, err := rc.Get(ctx, []byte(last.key))
		lastGetErr = err
		if err != nil || !found {
			return false, nil
		}
		if !bytes.Equal(v, durabilityValue(last.key)) {
			return false, fmt.Errorf("key %s through %s: value %q, want %q", last.key, rn.name, v, durabilityValue(last.key))
		}
		return true, nil
	})
	catchUp := time.Since(restartAt)
	if err != nil {
		t.Fatalf("restarted %s has not caught up (last acknowledged key %s): %v (last get error: %v; its ranges:%s)",
			rn.name, last.key, err, lastGetErr, rangesSeen)
	}
	step("%s knows a leader of every range and serves the last acknowledged key %s: %v after the restart (%v after healthy)",
		rn.name, last.key, catchUp.Round(time.Millisecond), time.Since(catchUpFrom).Round(time.Millisecond))

	// 6. Stop the load and verify through every node.
	ws.stop(t)
	stoppedAt := time.Now()
	var acked []string
	var ackTimes []ackRecord
	attempted := map[string]bool{}
	var ambiguous, failed []putError
	cancelled := 0
	for _, w := range ws.writers {
		for _, k := range w.attempted {
			attempted[k] = true
		}
		for _, a := range w.acked {
			acked = append(acked, a.key)
			ackTimes = append(ackTimes, a)
		}
		ambiguous = append(ambiguous, w.ambiguous...)
		failed = append(failed, w.failed...)
		cancelled += w.cancelled
	}
	if len(acked) == 0 {
		t.Fatal("no put was acknowledged")
	}
	sort.Slice(ackTimes, func(i, j int) bool { return ackTimes[i].done.Before(ackTimes[j].done) })
	var lastBefore time.Time
	firstAck, firstFreshAck := time.Duration(-1), time.Duration(-1)
	ackedBefore, ackedAfter := 0, 0
	for _, a := range ackTimes {
		if !a.done.After(killAt) {
			lastBefore = a.done
			ackedBefore++
			continue
		}
		ackedAfter++
		if firstAck < 0 {
			firstAck = a.done.Sub(killAt)
		}
		if firstFreshAck < 0 && a.sent.After(killAt) {
			firstFreshAck = a.done.Sub(killAt)
		}
	}
	if ackedBefore == 0 {
		t.Errorf("no put was acknowledged before the kill")
	}
	if firstFreshAck < 0 {
		t.Errorf("no put sent after the kill was acknowledged")
	} else {
		// The assertion uses puts sent after the kill: a reply to a put the
		// old leaseholder had already committed proves nothing.
		step("writes resumed %v after the kill (first ack of any put %v; last ack before the kill %v before it)",
			firstFreshAck.Round(time.Millisecond), firstAck.Round(time.Millisecond), killAt.Sub(lastBefore).Round(time.Millisecond))
		if firstFreshAck >= resumeLimit {
			t.Errorf("writes resumed %v after the kill, want < %v", firstFreshAck, resumeLimit)
		}
	}
	// Once resumed, writes must not stop again for as long (the node's
	// absence and return make the cluster change replicas and leases).
	if firstFreshAck >= 0 {
		gap, gapStart := longestPause(ackTimes, killAt.Add(firstFreshAck), stoppedAt)
		step("longest pause in acks after writes resumed: %v from kill%+v (restart at kill%+v, healthy at kill%+v)",
			gap.Round(time.Millisecond), gapStart.Sub(killAt).Round(time.Millisecond),
			restartAt.Sub(killAt).Round(time.Millisecond), restartAt.Add(healthyAfter).Sub(killAt).Round(time.Millisecond))
		if gap >= resumeLimit {
			t.Errorf("after resuming, writes stopped again for %v from kill%+v, want < %v", gap, gapStart.Sub(killAt), resumeLimit)
		}
	}
	for _, line := range errorClasses(ambiguous, killAt) {
		step("ambiguous: %s", line)
	}
	for _, line := range errorClasses(failed, killAt) {
		step("failed: %s", line)
	}

	live := make([]*node, len(nodes))
	copy(live, nodes)
	live[victim] = rn
	var every10 []string
	for i := 0; i < len(acked); i += 10 {
		every10 = append(every10, acked[i])
	}
	for _, n := range live {
		c := n.client(t)
		if bad := verifyAcked(t, c, every10, 4); bad > 0 {
			t.Errorf("through %s: %d of %d sampled acknowledged keys lost or wrong", n.name, bad, len(every10))
		}
	}
	full := live[survivors(victim)[0]]
	fc := full.client(t)
	if bad := verifyAcked(t, fc, acked, 8); bad > 0 {
		t.Errorf("through %s: %d of %d acknowledged keys lost or wrong", full.name, bad, len(acked))
	}
	total := verifyScan(t, fc, attempted)
	if total < len(acked) {
		t.Errorf("scan through %s found %d keys, fewer than the %d acknowledged", full.name, total, len(acked))
	}
	// The cluster heals: every node lists the same replicas of every range,
	// three each, and knows its leader (a replica that was replaced while
	// the node was down is destroyed and caught up anew).
	convergeFrom := time.Now()
	var diff string
	if err := pollUntil(convergeTimeout, 100*time.Millisecond, func() (bool, error) {
		diff = converged(live)
		return diff == "", nil
	}); err != nil {
		step("NOT converged within %v: %s", convergeTimeout, diff)
		t.Errorf("replicas did not converge within %v of the restart: %s", convergeTimeout, diff)
	} else {
		step("converged %v after the writers stopped", time.Since(convergeFrom).Round(time.Millisecond))
	}
	for _, n := range live {
		rs, _ := n.ranges()
		step("at the end %s:%s", n.name, rangesSummary(rs))
	}

	if os.Getenv(dumpLogsEnv) != "" {
		for _, n := range append(live, vn) {
			n.dumpStderr()
		}
	}

	// 7. Counts.
	step("%d attempted, %d acked (%d before the kill, %d after), %d ambiguous, %d failed, %d cut off at the end; scan found %d keys",
		len(attempted), len(acked), ackedBefore, ackedAfter, len(ambiguous), len(failed), cancelled, total)
	step("resume %v after the kill; restart: healthy %v, last key served %v", firstFreshAck.Round(time.Millisecond),
		healthyAfter.Round(time.Millisecond), catchUp.Round(time.Millisecond))
	if d := time.Since(began); d > threeNodeBudget {
		t.Errorf("test took %v, budget %v", d, threeNodeBudget)
	}
}

// startThreeNodes starts a bootstrap node and two that join it, on distinct
// loopback IPs when possible, and waits (bounded) until all are healthy and
// every range has a voter on each. It returns the nodes and their node ids.
func startThreeNodes(t *testing.T, logf func(string, ...any)) ([]*node, []uint64) {
	t.Helper()
	hosts := loopbackHosts(t, 3)
	n1 := startNode(t, nodeConfig{Host: hosts[0]})
	n2 := startNode(t, nodeConfig{Host: hosts[1], Join: []string{n1.RPCAddr}})
	n3 := startNode(t, nodeConfig{Host: hosts[2], Join: []string{n1.RPCAddr}})
	nodes := []*node{n1, n2, n3}
	ids := make([]uint64, len(nodes))
	for i, n := range nodes {
		ids[i] = n.nodeID(t)
		logf("%s is node id %d (rpc %s, http %s)", n.name, ids[i], n.RPCAddr, n.HTTPAddr)
	}
	if ids[0] != 1 || ids[1] == ids[2] || ids[1] == 1 || ids[2] == 1 {
		t.Fatalf("node ids %v: want 1 for the bootstrap node and distinct others", ids)
	}
	for _, n := range nodes {
		if err := n.waitHealthy(healthTimeout); err != nil {
			t.Fatalf("%s not healthy: %v", n.name, err)
		}
	}
	var why string
	err := pollUntil(replicationTimeout, 100*time.Millisecond, func() (bool, error) {
		var ok bool
		ok, why = fullyReplicated(nodes, ids, ids[0])
		return ok, nil
	})
	if err != nil {
		for _, n := range nodes {
			rs, err := n.ranges()
			t.Logf("%s: %s %v", n.name, rangesSummary(rs), err)
		}
		t.Fatalf("ranges not on 3 voters: %v: %s", err, why)
	}
	for _, n := range nodes {
		rs, _ := n.ranges()
		logf("replicated; %s:%s", n.name, rangesSummary(rs))
	}
	return nodes, ids
}

// mostLeases returns the index of the node leading the most ranges (in its
// own /v1/ranges) and every node's count. Ties go to the node leading more
// ranges of KV API keys: the writers' keys, so its loss stops writes.
func mostLeases(t *testing.T, nodes []*node, ids []uint64) (int, []int) {
	t.Helper()
	best, bestCount, bestKV := -1, -1, -1
	counts := make([]int, len(nodes))
	for i, n := range nodes {
		c, kv, err := leaseCount(n, ids[i])
		if err != nil {
			t.Fatalf("%s: %v", n.name, err)
		}
		counts[i] = c
		if c > bestCount || (c == bestCount && kv > bestKV) {
			best, bestCount, bestKV = i, c, kv
		}
	}
	return best, counts
}

// othersThan returns the indexes 0..n-1 except v.
func othersThan(n, v int) []int {
	var s []int
	for i := range n {
		if i != v {
			s = append(s, i)
		}
	}
	return s
}

// TestThreeNodeFailoverPutWaits kills the node leading the most ranges and
// sends puts, one at a time and each with a 10 s deadline, through a
// survivor until one succeeds. Failover takes well under 10 s, so a put
// should wait for the new leaseholder inside its deadline: at most the
// first put (racing the broken connection) may fail.
func TestThreeNodeFailoverPutWaits(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: three node processes and a kill -9")
	}

	nodes, ids := startThreeNodes(t, t.Logf)
	victim, counts := mostLeases(t, nodes, ids)
	via := nodes[othersThan(len(nodes), victim)[0]]
	c := via.client(t)
	put := func(key string, timeout time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return c.Put(ctx, []byte(key), durabilityValue(key))
	}
	// Warm the survivor's routing caches.
	if err := put("warm", requestTimeout); err != nil {
		t.Fatalf("put through %s before the kill: %v", via.name, err)
	}
	killAt := time.Now()
	nodes[victim].kill9()
	t.Logf("killed %s (%d leases of %v); putting through %s", nodes[victim].name, counts[victim], counts, via.name)
	var failures []string
	err := pollUntil(resumeLimit+requestTimeout, time.Millisecond, func() (bool, error) {
		sent := time.Now()
		key := fmt.Sprintf("after-%03d", len(failures))
		err := put(key, resumeLimit)
		if err == nil {
			t.Logf("put %s acknowledged %v after the kill (sent at kill+%v)", key,
				time.Since(killAt).Round(time.Millisecond), sent.Sub(killAt).Round(time.Millisecond))
			return true, nil
		}
		failures = append(failures, fmt.Sprintf("put %s sent at kill+%v failed after %v: %v", key,
			sent.Sub(killAt).Round(time.Millisecond), time.Since(sent).Round(time.Millisecond), err))
		return false, nil
	})
	for i, f := range failures {
		if i < 3 || i == len(failures)-1 {
			t.Log(f)
		}
	}
	if err != nil {
		t.Fatalf("no put through %s succeeded: %v", via.name, err)
	}
	if len(failures) > 1 {
		t.Errorf("%d puts with a %v deadline failed while the cluster failed over; want at most 1", len(failures), resumeLimit)
	}
}

var (
	errQuotedRE = regexp.MustCompile(`"[^"]*"`)
	errNumberRE = regexp.MustCompile(`[0-9]+`)
)

// errorClasses groups put errors by their message with keys, addresses and
// numbers blanked, for the log: count, node, time span relative to the kill.
func errorClasses(errs []putError, killAt time.Time) []string {
	type class struct {
		n           int
		first, last time.Time
		nodes       map[string]bool
		example     string
	}
	classes := map[string]*class{}
	var order []string
	for _, e := range errs {
		msg := errNumberRE.ReplaceAllString(errQuotedRE.ReplaceAllString(e.err.Error(), `"…"`), "N")
		c := classes[msg]
		if c == nil {
			c = &class{first: e.at, last: e.at, nodes: map[string]bool{}, example: fmt.Sprintf("put %s: %v", e.key, e.err)}
			classes[msg] = c
			order = append(order, msg)
		}
		c.n++
		if e.at.Before(c.first) {
			c.first = e.at
		}
		if e.at.After(c.last) {
			c.last = e.at
		}
		c.nodes[e.node] = true
	}
	sort.Slice(order, func(i, j int) bool { return classes[order[i]].n > classes[order[j]].n })
	var out []string
	for _, msg := range order {
		c := classes[msg]
		nodes := slices.Sorted(maps.Keys(c.nodes))
		out = append(out, fmt.Sprintf("%d× via %s between kill%+v and kill%+v, e.g. %s", c.n, strings.Join(nodes, ","),
			c.first.Sub(killAt).Round(time.Millisecond), c.last.Sub(killAt).Round(time.Millisecond), c.example))
	}
	return out
}

// longestPause returns the longest time without an acknowledgement between
// from and to (acks sorted by completion) and when it began.
func longestPause(acks []ackRecord, from, to time.Time) (time.Duration, time.Time) {
	var gap time.Duration
	start, prev := from, from
	for _, a := range acks {
		if a.done.Before(from) || a.done.After(to) {
			continue
		}
		if d := a.done.Sub(prev); d > gap {
			gap, start = d, prev
		}
		prev = a.done
	}
	if d := to.Sub(prev); d > gap {
		gap, start = d, prev
	}
	return gap, start
}

// TestThreeNodeOneDownStaysAvailable kills the node leading the most ranges
// and does not restart it: with two of three nodes up, every range keeps a
// quorum, so writes through the survivors must resume and keep going while
// the node stays down (beyond the liveness TTL, well within the default
// dead_node_timeout).
func TestThreeNodeOneDownStaysAvailable(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: three node processes and a kill -9")
	}

	began := time.Now()
	step := func(format string, args ...any) {
		t.Helper()
		t.Logf("[%6.2fs] %s", time.Since(began).Seconds(), fmt.Sprintf(format, args...))
	}
	const downFor = 15 * time.Second // > liveness TTL (4 s) + placement ticks
	nodes, ids := startThreeNodes(t, step)
	victim, counts := mostLeases(t, nodes, ids)
	live := othersThan(len(nodes), victim)
	ws := startWriters(t, nodes, live)
	defer ws.stopQuietly()
	time.Sleep(writesBeforeKill) // load duration
	if v, c := mostLeases(t, nodes, ids); v != victim {
		ws.redirect(t, v, victim)
		victim, counts, live = v, c, othersThan(len(nodes), v)
	}
	killAt := time.Now()
	nodes[victim].kill9()
	step("killed %s (%d leases of %v); writing through the others for %v", nodes[victim].name, counts[victim], counts, downFor)
	time.Sleep(downFor) // load duration with the node down
	ws.stop(t)
	stoppedAt := time.Now()
	var acks []ackRecord
	var ambiguous, failed []putError
	for _, w := range ws.writers {
		acks = append(acks, w.acked...)
		ambiguous = append(ambiguous, w.ambiguous...)
		failed = append(failed, w.failed...)
	}
	sort.Slice(acks, func(i, j int) bool { return acks[i].done.Before(acks[j].done) })
	for _, i := range live {
		rs, _ := nodes[i].ranges()
		step("at the end %s:%s", nodes[i].name, rangesSummary(rs))
	}
	for _, line := range errorClasses(ambiguous, killAt) {
		step("ambiguous: %s", line)
	}
	for _, line := range errorClasses(failed, killAt) {
		step("failed: %s", line)
	}
	for _, i := range live {
		for _, line := range strings.Split(nodes[i].stderr(), "\n") {
			if strings.Contains(line, "placement:") || strings.Contains(line, "removed replica") || strings.Contains(line, "stepped down") {
				step("%s log: %s", nodes[i].name, line)
			}
		}
	}
	resumed := -1
	for i, a := range acks {
		if a.sent.After(killAt) {
			resumed = i
			break
		}
	}
	if resumed < 0 {
		t.Fatalf("no put sent after the kill was acknowledged in %v", downFor)
	}
	gap, gapStart := longestPause(acks, acks[resumed].done, stoppedAt)
	step("writes resumed %v after the kill; longest pause after that: %v from kill%+v; %d acked, %d ambiguous, %d failed",
		acks[resumed].done.Sub(killAt).Round(time.Millisecond), gap.Round(time.Millisecond),
		gapStart.Sub(killAt).Round(time.Millisecond), len(acks), len(ambiguous), len(failed))
	if gap >= resumeLimit {
		t.Errorf("with one of three nodes down, writes stopped for %v from kill%+v, want < %v",
			gap.Round(time.Millisecond), gapStart.Sub(killAt).Round(time.Millisecond), resumeLimit)
	}
	// The two live nodes still serve writes.
	for _, i := range live {
		c := nodes[i].client(t)
		var lastErr error
		err := pollUntil(resumeLimit, 100*time.Millisecond, func() (bool, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			key := "final-" + nodes[i].name
			lastErr = c.Put(ctx, []byte(key), durabilityValue(key))
			return lastErr == nil, nil
		})
		if err != nil {
			t.Errorf("with one of three nodes down for %v, a put through %s does not succeed: %v (last error: %v)",
				downFor, nodes[i].name, err, lastErr)
		}
	}
}

// converged returns "" when every node lists the same ranges with the same
// three replicas (node and replica ids) and a known leader, else what
// differs.
func converged(nodes []*node) string {
	var want map[uint64]string
	for i, n := range nodes {
		rs, err := n.ranges()
		if err != nil {
			return fmt.Sprintf("%s: %v", n.name, err)
		}
		got := map[uint64]string{}
		for _, r := range rs {
			if len(r.Replicas) != len(nodes) {
				return fmt.Sprintf("%s: range %d has %d replicas", n.name, r.RangeID, len(r.Replicas))
			}
			if r.Leaseholder == 0 {
				return fmt.Sprintf("%s: range %d has no known leader", n.name, r.RangeID)
			}
			var reps []string
			for _, rep := range r.Replicas {
				reps = append(reps, fmt.Sprintf("n%d/%d", rep.NodeID, rep.ReplicaID))
			}
			slices.Sort(reps)
			got[r.RangeID] = strings.Join(reps, ",")
		}
		if i == 0 {
			want = got
			continue
		}
		if !maps.Equal(got, want) {
			return fmt.Sprintf("%s lists %v, %s lists %v", nodes[0].name, want, n.name, got)
		}
	}
	return ""
}
