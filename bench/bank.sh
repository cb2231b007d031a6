#!/usr/bin/env bash
# bench/bank.sh: the bank-transfer benchmark of docs/benchmarks.md ("Bank
# transfers (transactions)"). Builds bin/cairn and runs `cairn workload bank`
# (16 transfer workers) first against a fresh single insecure node, then
# against a fresh 3-node insecure cluster on 127.0.0.1, each in its own
# temporary directory. The 3-node run starts only once every range has 3
# voters and the leaseholders have not changed for 3 s, and its workers are
# spread over the three nodes (`--addr a,b,c`).
#
# Each transfer is one SERIALIZABLE transaction (Client.Txn) that reads the
# transfer's record and two balances and writes both balances and the record;
# a snapshot reader sums all balances meanwhile (10 times a second), and the
# workload checks the bank's invariants during and after the run.
#
# It prints the workload's output, where the CPU went, and at the end one
# summary line per setup (transfers/s, p50, p99, retried, failed, unknown,
# violations, snapshot reads/s). It always stops every server it started and
# removes its temporary directory.
#
# Usage, from anywhere (it works from the repository root):
#
#   DURATION=20s bash bench/bank.sh
#   READERS=4 ACCOUNTS=100 NODES=3 bash bench/bank.sh   # the workload's defaults: more contention
#
# Environment:
#   DURATION      how long transfers run per setup (default 20s)
#   ACCOUNTS      number of accounts (default 1000)
#   READERS       number of snapshot readers (default 1)
#   READ_INTERVAL each reader starts a snapshot read at most once per this
#                 interval (default 100ms: 10 full reads a second; 0: back to
#                 back, as many as the reader can, which makes its load grow
#                 with how cheap scans are and takes that CPU from transfers)
#   CONCURRENCY   number of transfer workers (default 16)
#   NODES         the setups to run: "1 3" (default), "1" or "3"
#   PROFILE       if set, a file to write a 10 s CPU profile of the busiest
#                 node of the 3-node run to (the node that used the most CPU
#                 over 2 s, from about second 4 of the run)
#   CAIRN_RPC_BASE, CAIRN_HTTP_BASE, CAIRN_SQL_BASE
#                 node i (1-3) listens on BASE+i (defaults 27600, 27680,
#                 27630: rpc 27601-27603, http 27681-27683, sql 27631-27633)
#   KEEP_LOGS     if set, a directory to copy the server and workload logs to
#                 before the temporary directory is removed
#
# Exit status: 0 when every setup ran and the workload found no violation;
# 1 if it reported violations, a cluster did not come up or the workload
# failed otherwise (no transfer committed, a setup error, ...).
set -euo pipefail
export LC_ALL=C # a decimal point in $EPOCHREALTIME and awk

cd "$(dirname "$0")/.."
REPO=$PWD
DURATION=${DURATION:-20s}
ACCOUNTS=${ACCOUNTS:-1000}
READERS=${READERS:-1}
READ_INTERVAL=${READ_INTERVAL:-100ms}
CONCURRENCY=${CONCURRENCY:-16}
NODES=${NODES:-1 3}
PROFILE=${PROFILE:-}
KEEP_LOGS=${KEEP_LOGS:-}
CAIRN_RPC_BASE=${CAIRN_RPC_BASE:-27600}
CAIRN_HTTP_BASE=${CAIRN_HTTP_BASE:-27680}
CAIRN_SQL_BASE=${CAIRN_SQL_BASE:-27630}

# Shared functions: log, die, bench_init, cairn_start, the CPU accounting, ...
# shellcheck source=bench/lib.sh
source bench/lib.sh

for n in $NODES; do
	[[ $n == 1 || $n == 3 ]] || die "NODES: unknown setup '$n' (want 1 and/or 3)"
done
command -v curl >/dev/null || die "curl is required"
need_jq

bench_init cairn-bank-bench
FAILED=0
VIOLATIONS=0

log "building bin/cairn"
go build -o bin/cairn ./cmd/cairn
CAIRN=$REPO/bin/cairn

# profile_busiest FILE: from about second 4 of the run, samples the CPU of
# each server for 2 s, then writes a 10 s CPU profile of the busiest to FILE.
profile_busiest() {
	local file=$1 i d best=-1 node=1 a=()
	sleep 4
	for i in "${!SERVER_PIDS[@]}"; do a+=("$(proc_ticks "${SERVER_PIDS[$i]}")"); done
	sleep 2
	for i in "${!SERVER_PIDS[@]}"; do
		d=$(($(proc_ticks "${SERVER_PIDS[$i]}") - a[i]))
		if ((d > best)); then
			best=$d
			node=$((i + 1))
		fi
	done
	log "busiest node over 2 s: node $node ($(awk -v d="$best" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", d / hz / 2 }') cores); profiling it for 10 s"
	curl -sf -o "$file" "http://$(cairn_http "$node")/debug/pprof/profile?seconds=10" &&
		log "wrote a 10s CPU profile of node $node (http $(cairn_http "$node")) to $file"
}

# run_bank N: runs the workload against the current N-node cluster, prints
# its output and sets RESULT to "xfers/s p50 p99 retried failed unknown
# violations reads/s" (empty if the workload printed no summary).
RESULT=
run_bank() {
	local n=$1 i addrs='' rc=0 line counts reads
	local out=$ROOT/load-bank-${n}n.log
	for i in $(seq "$n"); do addrs+="${addrs:+,}$(cairn_rpc "$i")"; done
	local cmd=("$CAIRN" workload bank --insecure --addr "$addrs" --concurrency "$CONCURRENCY"
		--accounts "$ACCOUNTS" --readers "$READERS" --read-interval "$READ_INTERVAL" --duration "$DURATION")
	echo "+ ${cmd[*]}" | sed "s|$REPO/||"
	: >"$out" # before tail opens it
	cpu_begin
	"${cmd[@]}" >>"$out" 2>&1 &
	LOAD_PIDS=($!)
	# Show the workload's output as it comes (tail exits with the workload).
	# Both run in the background, so that a signal to this script is acted
	# on at once (the builtin wait returns on a trapped signal).
	tail -n +1 -f --pid="${LOAD_PIDS[0]}" "$out" | sed -u 's/^/    /' &
	LOAD_PIDS+=($!)
	wait "${LOAD_PIDS[0]}" || rc=$?
	wait "${LOAD_PIDS[1]}" || true
	LOAD_PIDS=()
	cpu_end "the workload (its setup and final check included)" cairn "workload process"
	echo "$CPU_LINE"
	RESULT=
	line=$(grep -E '^transfers/s=' "$out" | tail -n 1 || true)
	counts=$(grep -E '^transfers: ok=' "$out" | tail -n 1 || true)
	# The snapshot row of the summary table: its ops/sec(cum) column.
	reads=$(awk 'NF == 10 && $10 == "snapshot" { r = $4 } END { print r + 0 }' "$out")
	if [[ -z $line || -z $counts ]]; then
		log "$n node(s): the workload printed no summary (exit status $rc)"
		FAILED=1
		return 1
	fi
	RESULT=$(awk -v line="$line $counts" -v reads="$reads" 'BEGIN {
		n = split(line, f, " ")
		for (i = 1; i <= n; i++) if (split(f[i], kv, "=") == 2) v[kv[1]] = kv[2]
		printf "%s %s %s %s %s %s %s %s\n", v["transfers/s"], v["p50"], v["p99"], v["retried"], v["failed"],
			v["unknown"], v["violations"], reads
	}')
	local r
	read -r -a r <<<"$RESULT"
	VIOLATIONS=$((VIOLATIONS + r[6]))
	if ((rc != 0)); then
		log "$n node(s): the workload exited with status $rc"
		FAILED=1
	fi
}

declare -A RES
setup_name() { if (($1 == 1)); then echo "1 node"; else echo "$1 nodes"; fi; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for n in $NODES; do
	echo
	echo "== bank, $(setup_name "$n"): fresh cluster, $CONCURRENCY transfer workers, $READERS snapshot reader(s), $ACCOUNTS accounts, $DURATION"
	cairn_start "bank-${n}n" "$n"
	if ((n == 3)) && [[ -n $PROFILE ]]; then
		profile_busiest "$PROFILE" &
		PROF_PID=$!
	fi
	run_bank "$n" || true
	if [[ -n $PROF_PID ]]; then
		wait "$PROF_PID" || log "taking the CPU profile failed"
		PROF_PID=
	fi
	echo "  ranges after the run: $(cairn_ranges_state "$n")"
	RES[$n]=$RESULT
	stop_servers
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
for n in $NODES; do
	res=${RES[$n]:-}
	if [[ -z $res ]]; then
		echo "bank $(setup_name "$n"): no result"
		continue
	fi
	read -r -a f <<<"$res"
	echo "bank $(setup_name "$n"), $CONCURRENCY workers: transfers/s=${f[0]} p50=${f[1]}ms p99=${f[2]}ms" \
		"retried=${f[3]} failed=${f[4]} unknown=${f[5]} violations=${f[6]} snapshot-reads/s=${f[7]}"
done
if ((VIOLATIONS > 0)); then
	log "the workload reported $VIOLATIONS violation(s)"
	exit 1
fi
exit "$FAILED"
