#!/usr/bin/env bash
# bench/cluster.sh: the 3-node benchmark of docs/benchmarks.md ("3 nodes:
# Cairn vs etcd"). Side by side on loopback, on this machine:
#
#   - a 3-member etcd (Debian's etcd-server package, installed with apt-get
#     if `etcd` is not on PATH), driven by bench/etcdload (its own Go module,
#     go.etcd.io/etcd/client/v3; gets are etcd's default linearizable reads);
#   - a 3-node Cairn (bin/cairn, built from this tree), driven by
#     `cairn workload kv`.
#
# Both get the same load: 64 clients in all, 16-byte keys (100000 of them),
# 256-byte values, DURATION per run: first 100% puts, then, on freshly
# started servers (new temporary directories), 100% gets of preloaded keys.
# Each run gets its own fresh cluster. The runs go Cairn puts, etcd puts,
# Cairn gets, etcd gets, so that both systems see about the same machine.
# The script prints a table of ops/s and latencies per system and the ratio
# Cairn/etcd (the issue's target is >= 2 for both), and always stops every
# process it started and removes its temporary directory.
#
# How the load is spread: each run starts three load processes at once, each
# pointed at a different member, with 21, 21 and 22 workers (64 in all), and
# etcd gets exactly the same shape as Cairn (etcdload --endpoints naming one
# member each), so that neither system has a client that talks only to its
# leader: a request reaching a follower is forwarded by the server, to the
# leader (etcd) or to the leaseholder (Cairn). Before a get run each of the
# three processes preloads the same 10000 keys (untimed), and the preloads
# end up to a few seconds apart, so the processes' timed windows do not
# coincide. The headline ops/s is therefore the three processes' successful
# operations summed over the window in which all three were timing (from
# their once-a-second progress lines, time-stamped as they arrive); the plain
# sum of their own rates and the skew are printed too. Latencies are the
# worst (max) of the three processes' p50/p95/p99, each over its own window.
# Each run also prints where the CPU went while its load processes ran: per
# server, the load processes together, and the whole machine (which includes
# anything else running on it).
#
# Usage, from anywhere (it works from the repository root):
#
#   DURATION=20s bash bench/cluster.sh
#
# Environment:
#   DURATION          length of each run (default 20s)
#   SYSTEMS           which systems to run: "cairn etcd" (default), "cairn", "etcd"
#   PROFILE           if set, a file to write a 10 s CPU profile of Cairn's
#                     leaseholder node to (the node leading the range that
#                     holds the user keys), taken from second 3 of the put run;
#                     the other two nodes' profiles go to $PROFILE.nI (I = node)
#   CAIRN_RPC_BASE, CAIRN_HTTP_BASE, CAIRN_SQL_BASE
#                     Cairn node i (1-3) listens on BASE+i (defaults 27400,
#                     27480, 27430: rpc 27401-27403, http 27481-27483, sql
#                     27431-27433)
#   ETCD_CLIENT_BASE, ETCD_PEER_BASE
#                     etcd member i listens on BASE+i (defaults 27500, 27510)
#   ROUTING           true (default) or false: whether Cairn's load processes
#                     route requests to the leaseholder (`--routing`; etcd's
#                     client has no equivalent)
#   KEEP_LOGS         if set, a directory to copy the server and load logs to
#                     before the temporary directory is removed
#
# Exit status: 0 when every run that was attempted succeeded (a missing etcd
# is reported, not an error); non-zero if a cluster did not come up or a
# load process failed (more than 1% errors, a preload error, ...).
set -euo pipefail
export LC_ALL=C # a decimal point in $EPOCHREALTIME and awk

cd "$(dirname "$0")/.."
REPO=$PWD
DURATION=${DURATION:-20s}
SYSTEMS=${SYSTEMS:-cairn etcd}
PROFILE=${PROFILE:-}
ROUTING=${ROUTING:-true}
KEEP_LOGS=${KEEP_LOGS:-}
CAIRN_RPC_BASE=${CAIRN_RPC_BASE:-27400}
CAIRN_HTTP_BASE=${CAIRN_HTTP_BASE:-27480}
CAIRN_SQL_BASE=${CAIRN_SQL_BASE:-27430}
ETCD_CLIENT_BASE=${ETCD_CLIENT_BASE:-27500}
ETCD_PEER_BASE=${ETCD_PEER_BASE:-27510}

# The load: the same for both systems.
WORKERS=(21 21 22)
LOAD_FLAGS=(--key-size 16 --value-size 256 --keys 100000 --duration "$DURATION")

# Shared functions: log, die, bench_init, cairn_start, the CPU accounting, ...
# shellcheck source=bench/lib.sh
source bench/lib.sh

want() { [[ " $SYSTEMS " == *" $1 "* ]]; }
for s in $SYSTEMS; do
	[[ $s == cairn || $s == etcd ]] || die "SYSTEMS: unknown system '$s' (want cairn and/or etcd)"
done
command -v curl >/dev/null || die "curl is required"
want cairn && need_jq

bench_init cairn-cluster-bench
FAILED=0

# ---------------------------------------------------------------- builds

log "building bin/cairn"
go build -o bin/cairn ./cmd/cairn
CAIRN=$REPO/bin/cairn

ETCD_OK=0
ETCD_MISSING_WHY=
if want etcd; then
	if ! command -v etcd >/dev/null; then
		log "etcd is not on PATH; installing Debian's etcd-server with apt-get"
		if ! DEBIAN_FRONTEND=noninteractive apt-get install -y etcd-server >"$ROOT/apt.log" 2>&1; then
			log "etcd-server not found in the package lists; running apt-get update first"
			{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y etcd-server; } >>"$ROOT/apt.log" 2>&1 || true
		fi
	fi
	if command -v etcd >/dev/null; then
		log "building bench/etcdload"
		if (cd bench/etcdload && go build -o "$ROOT/etcdload" .); then
			ETCD_OK=1
			log "etcd: $(etcd --version 2>/dev/null | head -n 1)"
		else
			ETCD_MISSING_WHY="bench/etcdload did not build"
		fi
	else
		ETCD_MISSING_WHY="etcd-server could not be installed with apt-get (the end of its output is above)"
		log "apt-get install -y etcd-server failed; the end of its output:"
		tail -n 5 "$ROOT/apt.log" >&2 || true
	fi
	if ((ETCD_OK == 0)); then
		echo
		echo "*** ETCD NOT RUN: $ETCD_MISSING_WHY."
		echo "*** Only the Cairn side runs; the table has no etcd rows and no ratio."
		echo
	fi
fi

# ---------------------------------------------------------------- Cairn

# ---------------------------------------------------------------- etcd

etcd_client() { echo "127.0.0.1:$((ETCD_CLIENT_BASE + $1))"; }
etcd_peer() { echo "127.0.0.1:$((ETCD_PEER_BASE + $1))"; }

# etcd_start TAG: starts a 3-member etcd in $ROOT/etcd-TAG and waits until
# every member's /health says the cluster has a leader.
etcd_start() {
	local dir=$ROOT/etcd-$1 i initial=
	check_ports $((ETCD_CLIENT_BASE + 1)) $((ETCD_CLIENT_BASE + 2)) $((ETCD_CLIENT_BASE + 3)) \
		$((ETCD_PEER_BASE + 1)) $((ETCD_PEER_BASE + 2)) $((ETCD_PEER_BASE + 3))
	mkdir -p "$dir"
	for i in 1 2 3; do
		initial+="${initial:+,}e$i=http://$(etcd_peer "$i")"
	done
	for i in 1 2 3; do
		etcd --name "e$i" --data-dir "$dir/e$i" \
			--listen-client-urls "http://$(etcd_client "$i")" --advertise-client-urls "http://$(etcd_client "$i")" \
			--listen-peer-urls "http://$(etcd_peer "$i")" --initial-advertise-peer-urls "http://$(etcd_peer "$i")" \
			--initial-cluster "$initial" --initial-cluster-token "bench-$1" --initial-cluster-state new \
			--logger zap --log-outputs stderr --log-level warn >"$dir/etcd-$1-e$i.log" 2>&1 &
		SERVER_PIDS+=($!)
		SERVER_LOGS+=("$dir/etcd-$1-e$i.log")
	done
	for i in 1 2 3; do
		local pid=${SERVER_PIDS[$((i - 1))]} ok=0
		for _ in $(seq "$HEALTH_WAIT"); do
			kill -0 "$pid" 2>/dev/null || die "etcd member $i exited during startup"
			if curl -sf --max-time 2 "http://$(etcd_client "$i")/health" 2>/dev/null | grep -q '"health":"true"'; then
				ok=1
				break
			fi
			sleep 0.1
		done
		((ok)) || die "etcd member $i was not healthy within $((HEALTH_WAIT / 10))s"
	done
	log "etcd ($1): 3 members up, data in $dir"
}

# ---------------------------------------------------------------- load

# stamp prefixes every line of its input with the time it arrived (the load
# tools write their output unbuffered).
stamp() {
	local l
	while IFS= read -r l; do
		printf '%s %s\n' "$EPOCHREALTIME" "$l"
	done
}

# overlap_rate FILE...: from the time-stamped outputs of the load processes,
# prints "RATE WINDOW SKEW": the summed ops/s of all processes over the
# window in which all of them were running (RATE), the length of that window
# (s) and how much later than the first the last process started timing
# (SKEW, s). Each process's count of successful operations over time comes
# from its progress lines (one a second: elapsed, errors, inst, cum ops/s)
# and its summary's total row, interpolated linearly in between.
overlap_rate() {
	awk '
	FNR == 1 { f++ }
	{
		ts = $1
		$1 = ""
		sub(/^ +/, "")
	}
	/^running for/ { t0[f] = ts + 0 }
	NF == 4 && $1 ~ /^[0-9.]+s$/ && (f in t0) && !(f in E) {
		e = $1; sub(/s$/, "", e)
		n[f]++; pe[f, n[f]] = e + 0; po[f, n[f]] = $4 * e
	}
	NF == 10 && $10 == "total" { e = $1; sub(/s$/, "", e); E[f] = e + 0; tot[f] = $3 + 0 }
	function ops(i, x,   k, px, py) {
		px = 0; py = 0
		for (k = 1; k <= n[i]; k++) {
			if (x <= pe[i, k]) {
				if (pe[i, k] - px <= 0) return po[i, k]
				return py + (po[i, k] - py) * (x - px) / (pe[i, k] - px)
			}
			px = pe[i, k]; py = po[i, k]
		}
		return py
	}
	END {
		for (i = 1; i <= f; i++) {
			if (!(i in t0) || !(i in E)) { print "incomplete"; exit 1 }
			n[i]++; pe[i, n[i]] = E[i]; po[i, n[i]] = tot[i]
			if (i == 1 || t0[i] > w0) w0 = t0[i]
			if (i == 1 || t0[i] < first) first = t0[i]
			if (i == 1 || t0[i] + E[i] < w1) w1 = t0[i] + E[i]
		}
		if (w1 - w0 <= 0) { printf "no-overlap %.1f\n", w0 - first; exit 1 }
		sum = 0
		for (i = 1; i <= f; i++) sum += ops(i, w1 - t0[i]) - ops(i, w0 - t0[i])
		printf "%.1f %.1f %.1f\n", sum / (w1 - w0), w1 - w0, w0 - first
	}' "$@"
}

# run_load SYSTEM PHASE READ_PERCENT: runs the three load processes at once
# and sets RESULT to "ops p50 p95 p99 errors sum window skew": ops is the
# summed ops/s over the window in which all three were timing (see
# overlap_rate), sum the plain sum of the three processes' ops/s (each over
# its own window), latencies the max over the processes, errors summed.
# Their outputs go to $ROOT/load-*.log.
RESULT=
run_load() {
	local sys=$1 phase=$2 rp=$3 i rc=0 out line ops=0 p50=0 p95=0 p99=0 errs=0 ov
	local logs=()
	cpu_begin
	LOAD_PIDS=()
	for i in 1 2 3; do
		out=$ROOT/load-$sys-$phase-$i.log
		logs+=("$out")
		local cmd
		if [[ $sys == cairn ]]; then
			cmd=("$CAIRN" workload kv --insecure --addr "$(cairn_rpc "$i")" --routing="$ROUTING")
		else
			cmd=("$ROOT/etcdload" --endpoints "$(etcd_client "$i")")
		fi
		cmd+=(--concurrency "${WORKERS[$((i - 1))]}" --read-percent "$rp" "${LOAD_FLAGS[@]}")
		echo "0 + ${cmd[*]}" | sed "s|$ROOT/||; s|$REPO/||" >"$out"
		# The pipeline's status is the load process's (pipefail); its pid
		# goes to a file so that cleanup can stop it too.
		{
			"${cmd[@]}" 2>&1 &
			echo $! >"$out.pid"
			wait $!
		} | stamp >>"$out" &
		LOAD_PIDS+=($!)
	done
	for i in 1 2 3; do
		wait "${LOAD_PIDS[$((i - 1))]}" || rc=$?
	done
	LOAD_PIDS=()
	cpu_end "load processes (preload included)" "$sys" "load processes"
	rm -f "$ROOT"/load-*.pid
	for out in "${logs[@]}"; do
		head -n 1 "$out" | cut -d' ' -f2-
		grep -E '^[0-9.]+ preloaded ' "$out" | cut -d' ' -f2- | sed 's/^/    /' || true
		line=$(grep -E '^[0-9.]+ ops/s=' "$out" | tail -n 1 | cut -d' ' -f2- || true)
		if [[ -z $line ]]; then
			log "$sys $phase: a load process printed no summary; its output:"
			tail -n 20 "$out" | cut -d' ' -f2- >&2
			FAILED=1
			RESULT=
			return 1
		fi
		echo "    $line"
		read -r ops p50 p95 p99 errs < <(awk -v line="$line" -v ops="$ops" -v p50="$p50" -v p95="$p95" -v p99="$p99" -v errs="$errs" '
			BEGIN {
				n = split(line, f, /[ =]/)
				for (i = 1; i < n; i += 2) v[f[i]] = f[i + 1]
				m50 = v["p50"] > p50 ? v["p50"] : p50
				m95 = v["p95"] > p95 ? v["p95"] : p95
				m99 = v["p99"] > p99 ? v["p99"] : p99
				printf "%.1f %.3f %.3f %.3f %d\n", ops + v["ops/s"], m50, m95, m99, errs + v["errors"]
			}')
	done
	if ((rc != 0)); then
		log "$sys $phase: a load process exited with status $rc"
		for out in "${logs[@]}"; do
			grep -E '^[0-9.]+ (errors by kind|  (read|write): )' "$out" | cut -d' ' -f2- | head -n 6 >&2 || true
		done
		FAILED=1
	fi
	if ! ov=$(overlap_rate "${logs[@]}"); then
		if [[ $ov == no-overlap* ]]; then
			log "$sys $phase: the load processes' timed windows did not overlap (preloads too far apart for DURATION=$DURATION);" \
				"using the plain sum of their rates; use a longer DURATION"
			ov="$ops 0 ${ov#no-overlap }"
		else
			log "$sys $phase: could not read the load processes' progress ($ov)"
			FAILED=1
			RESULT=
			return 1
		fi
	fi
	read -r -a ov <<<"$ov"
	echo "$CPU_LINE"
	RESULT="${ov[0]} $p50 $p95 $p99 $errs $ops ${ov[1]} ${ov[2]}"
	echo "  => $sys $phase: ops/s=${ov[0]} over the ${ov[1]}s when all 3 processes ran (they started timing within ${ov[2]}s;" \
		"sum of their own rates $ops) p50<=$p50 p95<=$p95 p99<=$p99 errors=$errs"
}

declare -A RES

phase() { # SYSTEM PHASE READ_PERCENT
	local sys=$1 ph=$2 rp=$3
	echo
	echo "== $sys $ph: fresh 3-member cluster, 64 workers over 3 load processes, $DURATION"
	if [[ $sys == cairn ]]; then cairn_start "$ph"; else etcd_start "$ph"; fi
	if [[ $sys == cairn && $ph == puts && -n $PROFILE ]]; then
		(
			sleep 3
			lh=$(cairn_leaseholder_http) || {
				log "could not find the leaseholder node for the profile"
				exit 1
			}
			for i in 1 2 3; do
				hp=$(cairn_http "$i")
				[[ $hp == "${lh% *}" ]] && continue
				curl -sf -o "$PROFILE.n$i" "http://$hp/debug/pprof/profile?seconds=10" &
			done
			curl -sf -o "$PROFILE" "http://${lh% *}/debug/pprof/profile?seconds=10" &&
				log "wrote a 10s CPU profile of the leaseholder node ${lh#* } (http ${lh% *}) to $PROFILE (the other nodes': $PROFILE.nI)"
			wait
		) &
		PROF_PID=$!
	fi
	run_load "$sys" "$ph" "$rp" || true
	if [[ -n $PROF_PID ]]; then
		wait "$PROF_PID" || log "taking the CPU profile failed"
		PROF_PID=
	fi
	if [[ $sys == cairn ]]; then
		echo "  ranges after the run: $(cairn_ranges_state)"
	fi
	RES[$sys-$ph]=$RESULT
	stop_servers
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
want cairn && phase cairn puts 0
((ETCD_OK)) && phase etcd puts 0
want cairn && phase cairn gets 100
((ETCD_OK)) && phase etcd gets 100
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- table

field() { # RESULT INDEX
	local a
	read -r -a a <<<"$1"
	echo "${a[$2]:--}"
}
echo
printf '%-26s %9s %9s %9s %9s %7s %10s %7s\n' "3 nodes, 64 workers" "ops/s" "p50(ms)" "p95(ms)" "p99(ms)" "errors" "sum(ops/s)" "skew(s)"
for ph in puts gets; do
	for sys in cairn etcd; do
		r=${RES[$sys-$ph]:-}
		[[ -n $r ]] || continue
		label="$sys $ph"
		[[ $ph == gets && $sys == etcd ]] && label="etcd gets (linearizable)"
		printf '%-26s %9s %9s %9s %9s %7s %10s %7s\n' "$label" "$(field "$r" 0)" "$(field "$r" 1)" "$(field "$r" 2)" \
			"$(field "$r" 3)" "$(field "$r" 4)" "$(field "$r" 5)" "$(field "$r" 7)"
	done
done
echo "(ops/s: all 3 load processes summed over the window in which all of them ran; sum(ops/s): the"
echo " plain sum of their own rates; skew: how much later the last one started timing than the first,"
echo " after its preload; latencies: the worst of the 3 processes)"
echo
for ph in puts gets; do
	c=${RES[cairn-$ph]:-} e=${RES[etcd-$ph]:-}
	if [[ -n $c && -n $e ]]; then
		awk -v c="$(field "$c" 0)" -v e="$(field "$e" 0)" -v ph="$ph" \
			'BEGIN { r = (e > 0) ? c / e : 0; printf "ratio Cairn/etcd, %s: %.2f (target >= 2.00: %s)\n", ph, r, ((r >= 2) ? "met" : "NOT met") }'
	elif want etcd && ((ETCD_OK == 0)); then
		echo "ratio Cairn/etcd, $ph: n/a (etcd not run: $ETCD_MISSING_WHY)"
	fi
done
exit "$FAILED"
