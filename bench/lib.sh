# bench/lib.sh: shell functions shared by the benchmark scripts that start
# Cairn clusters on loopback (bench/cluster.sh, bench/bank.sh). Source it,
# do not run it:
#
#   source "$(dirname "$0")/lib.sh"
#   bench_init cairn-foo-bench   # temporary directory $ROOT, cleanup traps
#
# The caller sets CAIRN (the binary) and CAIRN_RPC_BASE, CAIRN_HTTP_BASE,
# CAIRN_SQL_BASE (Cairn node i listens on BASE+i) before starting nodes, and
# may set KEEP_LOGS (a directory to copy the server and load logs to before
# $ROOT is removed). Messages go to stderr, prefixed with the script's name.
#
# The state the functions share, all global:
#   ROOT          the temporary directory, removed on exit
#   SERVER_PIDS   the servers of the current cluster (stop_servers stops them)
#   SERVER_LOGS   their logs (the last lines are printed on a failed exit)
#   LOAD_PIDS     load processes running in the background
#   PROF_PID      a background profile taker
# Processes that write their pid to $ROOT/load-*.pid are stopped on exit too.
# shellcheck shell=bash

# Bounded waits, in tenths of a second.
HEALTH_WAIT=600 # every member healthy
REPL_WAIT=600   # every Cairn range on all nodes, leaseholders settled
STOP_WAIT=300   # a server to exit after SIGTERM

log() { echo "${0##*/}: $*" >&2; }
die() {
	log "$*"
	exit 1
}

# need_jq installs jq with apt-get if it is missing (/v1/ranges is JSON).
need_jq() {
	command -v jq >/dev/null && return 0
	log "jq is required to read /v1/ranges; installing it with apt-get"
	DEBIAN_FRONTEND=noninteractive apt-get install -y jq >/dev/null 2>&1 ||
		{ apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y jq >/dev/null 2>&1; } ||
		die "could not install jq"
}

# bench_init NAME: creates $ROOT (a temporary directory named after NAME)
# and installs the traps that always stop every process started and remove
# $ROOT.
bench_init() {
	ROOT=$(mktemp -d -t "$1.XXXXXX")
	SERVER_PIDS=()
	SERVER_LOGS=()
	LOAD_PIDS=()
	PROF_PID=
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# stop_servers stops the current cluster: SIGTERM, then SIGKILL after 30 s.
stop_servers() {
	local pid
	for pid in "${SERVER_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${SERVER_PIDS[@]}"; do
		for _ in $(seq "$STOP_WAIT"); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			log "server pid $pid did not stop within 30s of SIGTERM; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		wait "$pid" 2>/dev/null || true
	done
	SERVER_PIDS=()
	SERVER_LOGS=()
}

# shellcheck disable=SC2317 # invoked by the traps
cleanup() {
	local rc=$? pid f
	trap - EXIT INT TERM
	for f in "$ROOT"/load-*.pid; do
		if [[ -f $f ]]; then kill -TERM "$(cat "$f")" 2>/dev/null || true; fi
	done
	for pid in "${LOAD_PIDS[@]}" $PROF_PID; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${LOAD_PIDS[@]}" $PROF_PID; do
		wait "$pid" 2>/dev/null || true
	done
	if ((rc != 0)); then
		for f in "${SERVER_LOGS[@]}"; do
			[[ -s $f ]] || continue
			log "last lines of $(basename "$f"):"
			tail -n 15 "$f" >&2
		done
	fi
	stop_servers
	if [[ -n ${KEEP_LOGS:-} ]]; then
		mkdir -p "$KEEP_LOGS"
		# Server logs are one level down; Pebble's own *.log files deeper.
		find "$ROOT" -maxdepth 2 -name '*.log' -exec cp {} "$KEEP_LOGS"/ \; 2>/dev/null || true
		log "logs copied to $KEEP_LOGS"
	fi
	rm -rf "$ROOT"
	exit "$rc"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
check_ports() {
	local p
	for p in "$@"; do
		port_busy "$p" && die "something already listens on 127.0.0.1:$p; set the *_BASE variables (see the header of this script)"
	done
	return 0
}

# wait_healthy NAME URL PID: waits (bounded) for URL to answer 200.
wait_healthy() {
	local name=$1 url=$2 pid=$3 i
	for i in $(seq "$HEALTH_WAIT"); do
		kill -0 "$pid" 2>/dev/null || die "$name exited during startup"
		curl -sf -o /dev/null --max-time 2 "$url" && return 0
		sleep 0.1
	done
	die "$name was not healthy within $((HEALTH_WAIT / 10))s ($url)"
}

# ---------------------------------------------------------------- Cairn

cairn_rpc() { echo "127.0.0.1:$((CAIRN_RPC_BASE + $1))"; }
cairn_http() { echo "127.0.0.1:$((CAIRN_HTTP_BASE + $1))"; }
cairn_sql() { echo "127.0.0.1:$((CAIRN_SQL_BASE + $1))"; }

# cairn_ranges_state [N]: prints, from node 1's /v1/ranges, one line that is
# "ok <leaseholders>" when every range has voters on N (default 3) distinct
# nodes (a replica without a "type" counts as a voter) and a leaseholder, or
# "wait <what is missing>".
cairn_ranges_state() {
	curl -sf --max-time 2 "http://$(cairn_http 1)/v1/ranges" 2>/dev/null | jq -r --argjson n "${1:-3}" '
		if length == 0 then "wait no range listed"
		else
			[.[] | select(([.replicas[] | select((.type // "voter") == "voter") | .node_id] | unique | length) < $n
				or .leaseholder == 0)] as $bad
			| if ($bad | length) > 0 then "wait range \($bad[0].range_id) has replicas \([$bad[0].replicas[] | "n\(.node_id):\(.type // "?")"])"
			  else "ok " + ([.[] | "r\(.range_id)@n\(.leaseholder)"] | join(","))
			  end
		end' 2>/dev/null || echo "wait /v1/ranges did not answer"
}

# cairn_start TAG [N]: starts N nodes (default 3) in $ROOT/cairn-TAG, waits
# for /health on all of them, then until every range is on N nodes and the
# leaseholders have not changed for 3 s (the placement driver moves leases
# right after up-replication).
cairn_start() {
	local dir=$ROOT/cairn-$1 n=${2:-3} i join state last='' stable=0 ports=() what
	for i in $(seq "$n"); do
		ports+=($((CAIRN_RPC_BASE + i)) $((CAIRN_HTTP_BASE + i)) $((CAIRN_SQL_BASE + i)))
	done
	check_ports "${ports[@]}"
	mkdir -p "$dir"
	for i in $(seq "$n"); do
		join=()
		((i > 1)) && join=(--join "$(cairn_rpc 1)")
		"$CAIRN" start --insecure --data-dir "$dir/n$i" --rpc-addr "$(cairn_rpc "$i")" \
			--http-addr "$(cairn_http "$i")" --sql-addr "$(cairn_sql "$i")" "${join[@]}" \
			--log-level warn >"$dir/cairn-$1-n$i.log" 2>&1 &
		SERVER_PIDS+=($!)
		SERVER_LOGS+=("$dir/cairn-$1-n$i.log")
		# The first node bootstraps; the others join through it.
		((i == 1)) && wait_healthy "cairn node 1" "http://$(cairn_http 1)/health" "${SERVER_PIDS[0]}"
	done
	for i in $(seq 2 "$n"); do
		wait_healthy "cairn node $i" "http://$(cairn_http "$i")/health" "${SERVER_PIDS[$((i - 1))]}"
	done
	for i in $(seq "$REPL_WAIT"); do
		state=$(cairn_ranges_state "$n")
		if [[ $state == ok* && $state == "$last" ]]; then
			((++stable >= 30)) && break
		else
			stable=0
		fi
		last=$state
		if ((i == REPL_WAIT)); then
			die "cairn: ranges not fully replicated with settled leaseholders within $((REPL_WAIT / 10))s: $state"
		fi
		sleep 0.1
	done
	what="$n nodes up, every range on $n nodes"
	((n == 1)) && what="1 node up, every range on it"
	log "cairn ($1): $what (${state#ok }), data in $dir"
}

# cairn_leaseholder_http prints the HTTP address of the node leading the
# range that ends at /Max (where the user keys live).
cairn_leaseholder_http() {
	local id addr i
	id=$(curl -sf --max-time 2 "http://$(cairn_http 1)/v1/ranges" | jq -r '[.[] | select(.end_key == "/Max")][0].leaseholder')
	addr=$(curl -sf --max-time 2 "http://$(cairn_http 1)/v1/nodes" | jq -r --argjson id "$id" '.[] | select(.node_id == $id) | .address')
	for i in 1 2 3; do
		if [[ $addr == "$(cairn_rpc "$i")" ]]; then
			echo "$(cairn_http "$i") n$id"
			return 0
		fi
	done
	return 1
}

# ---------------------------------------------------------------- CPU

# CPU accounting, to show where the machine's cores went during a run.
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
# proc_ticks PID: the CPU time (user+system, clock ticks) PID has used so far.
proc_ticks() {
	local a
	if read -r -a a <"/proc/$1/stat" 2>/dev/null; then
		echo $((a[13] + a[14]))
	else
		echo 0
	fi
}
# machine_ticks: "busy total" clock ticks of all CPUs so far.
machine_ticks() {
	local _c u n s idle iow irq sirq st _rest
	read -r _c u n s idle iow irq sirq st _rest </proc/stat
	echo "$((u + n + s + irq + sirq + st)) $((u + n + s + idle + iow + irq + sirq + st))"
}
# children_secs: CPU seconds (user+system) of this shell's reaped
# descendants so far, from the `times` builtin, which must run in this shell
# (not in a command substitution's subshell), hence the file.
children_secs() {
	times >"$ROOT/times"
	tail -n 1 "$ROOT/times" | awk '{
		t = 0
		for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] }
		printf "%.2f\n", t
	}'
}

# cpu_begin and cpu_end WHAT SYS LOAD measure a run: cpu_end sets CPU_LINE
# to one line of where the cores went between the two calls: per server of
# the current cluster (SYS names them), this shell's reaped descendants
# (LOAD names them: the load processes) and the whole machine.
cpu_begin() {
	local pid
	CPU_SRV0=()
	for pid in "${SERVER_PIDS[@]}"; do CPU_SRV0+=("$(proc_ticks "$pid")"); done
	CPU_M0=$(machine_ticks)
	children_secs >"$ROOT/c0"
	CPU_T0=$EPOCHREALTIME
}
CPU_LINE=
cpu_end() {
	local what=$1 sys=$2 load=$3 t1 c0 c1 m1 srv1=() pid
	t1=$EPOCHREALTIME
	children_secs >"$ROOT/c1"
	c0=$(<"$ROOT/c0")
	c1=$(<"$ROOT/c1")
	m1=$(machine_ticks)
	for pid in "${SERVER_PIDS[@]}"; do srv1+=("$(proc_ticks "$pid")"); done
	# shellcheck disable=SC2034 # read by the caller
	CPU_LINE=$(awk -v t="$CPU_T0 $t1" -v s0="${CPU_SRV0[*]}" -v s1="${srv1[*]}" -v m="$CPU_M0 $m1" -v c="$c0 $c1" \
		-v hz="$CLK_TCK" -v ncpu="$(nproc)" -v what="$what" -v sys="$sys" -v load="$load" '
		BEGIN {
			split(t, tt, " "); wall = tt[2] - tt[1]
			n = split(s0, a, " "); split(s1, b, " "); split(m, mm, " "); split(c, cc, " ")
			out = ""; sum = 0
			for (i = 1; i <= n; i++) {
				x = (b[i] - a[i]) / hz / wall; sum += x
				out = out sprintf("%s%.2f", (i > 1 ? " + " : ""), x)
			}
			printf "  CPU over the %.1fs of %s, in cores: %s servers %s = %.2f;", wall, what, sys, out, sum
			printf " %s %.2f; whole machine %.2f of %d busy (other users included)\n", load, (cc[2] - cc[1]) / wall,
				(mm[3] - mm[1]) / (mm[4] - mm[2]) * ncpu, ncpu
		}')
}
