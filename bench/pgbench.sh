#!/usr/bin/env bash
# bench/pgbench.sh: pgbench against PostgreSQL and Cairn on this machine
# (docs/benchmarks.md, "pgbench"). In temporary directories, it
#
#   1. starts a throwaway PostgreSQL (initdb, then postgres on a free
#      loopback port; its default READ COMMITTED isolation), runs
#      `pgbench -i -s SCALE`, then TPC-B (`-c 8 -j 2 -T DURATION`) and
#      select-only (`-S`, same clients);
#   2. builds bin/cairn, starts 1 insecure node and runs the same;
#   3. starts a fresh 3-node insecure cluster on 127.0.0.1 (pgbench connects
#      to node 1) and runs the same;
#
# then prints the TPS of each run and the ratios Cairn/PostgreSQL.
#
# Cairn runs SERIALIZABLE transactions; TPC-B's writers of a branch row
# queue on its row lock as in PostgreSQL. pgbench still gets
# --max-tries=1000 for Cairn, so that a serialization failure (there were
# none at scale 10) shows as retried rather than failed; the failed and
# retried transaction counts are printed.
# A Cairn COPY inside a transaction block is bounded (about 250,000 rows),
# and `pgbench -i` loads pgbench_accounts (100,000 × SCALE rows) that way, so
# for SCALE > 2 the Cairn initialisation creates the tables with
# `pgbench -i -I dt`, loads the same rows with COPY outside a transaction
# block (committed in batches), then runs `pgbench -i -I vp`; so does a
# Cairn `pgbench -i` that failed (its one long transaction may hit a 40001
# on a busy cluster).
#
# PostgreSQL: the binaries of the newest /usr/lib/postgresql/*/bin that has
# initdb, pg_ctl and pgbench are used (15 on Debian bookworm). If there are
# none, the script installs Debian's postgresql package with apt-get (as
# root, or through sudo), which also sets up and starts the system's own
# cluster on port 5432; this benchmark does not use it. PostgreSQL refuses
# to run as root: as root, the throwaway server runs as the `postgres` user
# (which the package creates). Building Cairn needs Go.
#
# Usage, from anywhere:
#
#   bash bench/pgbench.sh                      # or: make bench-pgbench
#   SCALE=1 DURATION=3 bash bench/pgbench.sh   # a quick check
#
# Environment:
#   SCALE        pgbench scale factor (default 10)
#   DURATION     seconds per pgbench run (default 20)
#   CLIENTS      pgbench -c (default 8)
#   THREADS      pgbench -j (default 2)
#   SETUPS       which systems to run: "pg 1 3" (default); any of pg, 1, 3
#   MODES        which runs: "tpcb select" (default); "tpcb" alone is the
#                reference the bank benchmark is normalised by
#                (docs/benchmarks.md, "Bank transfers")
#   CAIRN_INIT   how Cairn is initialised: "pgbench" (`pgbench -i`), "copy"
#                (tables, COPY outside a block, keys, as above); default
#                pgbench for SCALE <= 2, copy above
#   PG_PORT      first port tried for PostgreSQL (default 27650; the next
#                free one is used)
#   CAIRN_RPC_BASE, CAIRN_HTTP_BASE, CAIRN_SQL_BASE
#                Cairn node i listens on BASE+i (defaults 27700, 27780,
#                27730)
#   KEEP_LOGS    a directory to copy the server and pgbench logs to
#
# Everything it starts is stopped and its temporary directory removed on
# exit, also on failure or Ctrl-C. Exit status: 0 when every run completed
# (failed transactions included), 1 otherwise.
set -euo pipefail
export LC_ALL=C

cd "$(dirname "$0")/.."
REPO=$PWD
SCALE=${SCALE:-10}
DURATION=${DURATION:-20}
CLIENTS=${CLIENTS:-8}
THREADS=${THREADS:-2}
SETUPS=${SETUPS:-pg 1 3}
MODES=${MODES:-tpcb select}
CAIRN_INIT=${CAIRN_INIT:-}
PG_PORT=${PG_PORT:-27650}
KEEP_LOGS=${KEEP_LOGS:-}
CAIRN_RPC_BASE=${CAIRN_RPC_BASE:-27700}
CAIRN_HTTP_BASE=${CAIRN_HTTP_BASE:-27780}
CAIRN_SQL_BASE=${CAIRN_SQL_BASE:-27730}
DURATION=${DURATION%s} # "20s" works too

# shellcheck source=bench/lib.sh
source bench/lib.sh

[[ $SCALE =~ ^[1-9][0-9]*$ ]] || die "SCALE must be a positive integer, not '$SCALE'"
[[ $DURATION =~ ^[1-9][0-9]*$ ]] || die "DURATION must be a positive number of seconds, not '$DURATION'"
for s in $SETUPS; do
	[[ $s == pg || $s == 1 || $s == 3 ]] || die "SETUPS: unknown setup '$s' (want pg, 1 and/or 3)"
done
for m in $MODES; do
	[[ $m == tpcb || $m == select ]] || die "MODES: unknown run '$m' (want tpcb and/or select)"
done
command -v curl >/dev/null || die "curl is required"

# ---------------------------------------------------------------- PostgreSQL

# as_root CMD...: runs CMD as root (directly, or with sudo).
as_root() {
	if ((EUID == 0)); then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		die "need root (or sudo) to run: $*"
	fi
}

# find_pg sets PGBIN to the newest /usr/lib/postgresql/*/bin with initdb,
# pg_ctl and pgbench (empty if none).
find_pg() {
	local d v best=-1
	PGBIN=
	for d in /usr/lib/postgresql/*/bin; do
		v=${d#/usr/lib/postgresql/}
		v=${v%%/*}
		[[ $v =~ ^[0-9]+$ ]] || continue
		if [[ -x $d/initdb && -x $d/pg_ctl && -x $d/pgbench && -x $d/psql ]] && ((v > best)); then
			PGBIN=$d
			best=$v
		fi
	done
}
find_pg
if [[ -z $PGBIN ]]; then
	log "no PostgreSQL binaries in /usr/lib/postgresql/*/bin; installing Debian's postgresql with apt-get"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >/dev/null 2>&1 ||
		{ as_root apt-get update >/dev/null 2>&1 &&
			as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >/dev/null 2>&1; } ||
		die "apt-get install -y postgresql failed"
	find_pg
	[[ -n $PGBIN ]] || die "postgresql installed, but no /usr/lib/postgresql/*/bin has initdb, pg_ctl and pgbench"
fi
PGBENCH=$PGBIN/pgbench
PSQL=$PGBIN/psql
log "PostgreSQL binaries: $PGBIN ($("$PGBIN/postgres" --version 2>/dev/null || echo unknown version))"

bench_init cairn-pgbench
# The throwaway PostgreSQL is stopped on exit too (before lib.sh's
# cleanup, which keeps the exit status).
PG_DATA=
PG_RUNAS=()
pg_stop() {
	if [[ -n $PG_DATA && -f $PG_DATA/postmaster.pid ]]; then
		"${PG_RUNAS[@]}" "$PGBIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null 2>&1 || true
	fi
	PG_DATA=
}
# shellcheck disable=SC2317 # invoked by the traps
on_exit() {
	local rc=$?
	set +e # (exit rc) must not end the trap early
	pg_stop
	(exit "$rc")
	cleanup
}
trap on_exit EXIT

pg_start() {
	local port=$PG_PORT
	while port_busy "$port"; do port=$((port + 1)); done
	PG_PORT=$port
	PG_DATA=$ROOT/pg/data
	mkdir -p "$ROOT/pg"
	if ((EUID == 0)); then
		id postgres >/dev/null 2>&1 || die "running as root, PostgreSQL needs the 'postgres' user (the postgresql package creates it)"
		PG_RUNAS=(runuser -u postgres --)
		chmod 755 "$ROOT"
		chown postgres "$ROOT/pg"
	fi
	"${PG_RUNAS[@]}" "$PGBIN/initdb" -D "$PG_DATA" -U postgres -A trust -E UTF8 >"$ROOT/pg/initdb.log" 2>&1 ||
		{ cat "$ROOT/pg/initdb.log" >&2; die "initdb failed"; }
	SERVER_LOGS+=("$ROOT/pg/postgres.log")
	"${PG_RUNAS[@]}" "$PGBIN/pg_ctl" -D "$PG_DATA" -w -t 60 -l "$ROOT/pg/postgres.log" \
		-o "-p $PG_PORT -k $ROOT/pg -c listen_addresses=127.0.0.1 -c max_connections=100 -c shared_buffers=256MB" \
		start >/dev/null || die "PostgreSQL did not start (log: the end of postgres.log is printed on exit)"
	log "PostgreSQL up on 127.0.0.1:$PG_PORT, data in $PG_DATA"
}

# ---------------------------------------------------------------- runs

log "building bin/cairn"
make -s build >/dev/null || die "make build failed"
CAIRN=$REPO/bin/cairn

# init_pgbench NAME CONNINFO CAIRN: pgbench -i -s SCALE (for Cairn with
# SCALE > 2: tables, then COPY outside a transaction block, then keys).
init_pgbench() {
	local name=$1 conn=$2 cairn=$3 out=$ROOT/pgbench-$1-init.log start=$SECONDS
	log "$name: pgbench -i -s $SCALE"
	local how=${CAIRN_INIT:-}
	[[ -n $how ]] || { if ((SCALE <= 2)); then how=pgbench; else how=copy; fi; }
	[[ $how == pgbench || $how == copy ]] || die "CAIRN_INIT: want pgbench or copy, not '$how'"
	if [[ $cairn == 0 || $how == pgbench ]]; then
		if "$PGBENCH" -i -s "$SCALE" "$conn" >"$out" 2>&1; then
			log "$name: initialised in $((SECONDS - start))s"
			return 0
		fi
		tail -n 5 "$out" >&2
		((cairn)) || return 1
		# Its one long COPY transaction can fail with 40001 on a busy
		# cluster: load in batches instead.
		log "$name: pgbench -i failed; initialising again with CAIRN_INIT=copy"
	fi
	{
		"$PGBENCH" -i -I dt -s "$SCALE" "$conn" &&
			awk -v n="$SCALE" 'BEGIN { for (i = 1; i <= n; i++) printf "%d\t0\t\\N\n", i }' |
			"$PSQL" -X -q -v ON_ERROR_STOP=1 "$conn" -c 'COPY pgbench_branches FROM STDIN' &&
			awk -v n="$SCALE" 'BEGIN { for (i = 1; i <= 10 * n; i++) printf "%d\t%d\t0\t\\N\n", i, int((i - 1) / 10) + 1 }' |
			"$PSQL" -X -q -v ON_ERROR_STOP=1 "$conn" -c 'COPY pgbench_tellers FROM STDIN' &&
			awk -v n="$SCALE" 'BEGIN { for (i = 1; i <= 100000 * n; i++) printf "%d\t%d\t0\t\n", i, int((i - 1) / 100000) + 1 }' |
			"$PSQL" -X -q -v ON_ERROR_STOP=1 "$conn" -c 'COPY pgbench_accounts FROM STDIN' &&
			"$PGBENCH" -i -I vp -s "$SCALE" "$conn"
	} >"$out" 2>&1 || { tail -n 20 "$out" >&2; return 1; }
	log "$name: initialised in $((SECONDS - start))s"
}

# run_pgbench NAME CONNINFO MODE CAIRN: one timed run (MODE tpcb or select);
# prints pgbench's summary and sets RESULT to "tps failed retried processed".
RESULT=
run_pgbench() {
	local name=$1 conn=$2 mode=$3 cairn=$4 out=$ROOT/pgbench-$1-$3.log args
	args=(-c "$CLIENTS" -j "$THREADS" -T "$DURATION")
	[[ $mode == select ]] && args+=(-S)
	((cairn)) && args+=(--max-tries=1000)
	echo "+ pgbench ${args[*]} ($name)"
	RESULT=
	"$PGBENCH" "${args[@]}" "$conn" >"$out" 2>&1 &
	LOAD_PIDS=($!)
	local rc=0
	wait "${LOAD_PIDS[0]}" || rc=$?
	LOAD_PIDS=()
	grep -E '^(number of (transactions actually processed|failed transactions|transactions retried)|latency average|tps)[: =]' "$out" | sed 's/^/    /' || true
	if ((rc != 0)); then
		tail -n 10 "$out" | sed 's/^/    /' >&2
		log "$name $mode: pgbench exited with status $rc"
		return 1
	fi
	RESULT=$(awk '
		/^tps = / { tps = $3 }
		/^number of transactions actually processed:/ { split($6, a, "/"); done = a[1] }
		/^number of failed transactions:/ { failed = $5 }
		/^number of transactions retried:/ { retried = $5 }
		END { printf "%s %d %d %d\n", (tps == "" ? "0" : tps), failed, retried, done }' "$out")
}

declare -A TPS FAIL RETRY
FAILED=0

bench_system() {
	local key=$1 name=$2 conn=$3 cairn=$4 mode r
	if ! init_pgbench "$name" "$conn" "$cairn"; then
		log "$name: pgbench -i failed"
		FAILED=1
		return 0
	fi
	for mode in $MODES; do
		if run_pgbench "$name" "$conn" "$mode" "$cairn"; then
			read -r -a r <<<"$RESULT"
			TPS[$key-$mode]=${r[0]}
			FAIL[$key-$mode]=${r[1]}
			RETRY[$key-$mode]=${r[2]}
		else
			FAILED=1
		fi
	done
}

echo "pgbench: scale $SCALE, $CLIENTS clients, $THREADS threads, ${DURATION}s per run; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for s in $SETUPS; do
	case $s in
	pg)
		echo
		echo "== PostgreSQL $("$PGBIN/postgres" --version | awk '{ print $3 }') (READ COMMITTED)"
		pg_start
		bench_system pg PostgreSQL "host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres sslmode=disable" 0
		pg_stop
		;;
	1 | 3)
		echo
		echo "== Cairn, $s node(s) (SERIALIZABLE, --max-tries=1000)"
		start=$SECONDS
		cairn_start "pgbench-${s}n" "$s"
		log "cairn ($s node(s)) ready in $((SECONDS - start))s"
		bench_system "c$s" "Cairn ${s}n" "host=127.0.0.1 port=$((CAIRN_SQL_BASE + 1)) user=root dbname=defaultdb sslmode=disable" 1
		stop_servers
		;;
	esac
done

echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '%-22s %12s %10s %10s %12s %10s\n' "pgbench (scale $SCALE)" "TPC-B tps" "failed" "retried" "select tps" "failed"
for s in $SETUPS; do
	case $s in
	pg) key=pg label=PostgreSQL ;;
	*) key=c$s label="Cairn, $s node(s)" ;;
	esac
	printf '%-22s %12s %10s %10s %12s %10s\n' "$label" "${TPS[$key-tpcb]:--}" "${FAIL[$key-tpcb]:--}" "${RETRY[$key-tpcb]:--}" \
		"${TPS[$key-select]:--}" "${FAIL[$key-select]:--}"
done
if [[ -n ${TPS[pg-tpcb]:-} || -n ${TPS[pg-select]:-} ]]; then
	echo
	for s in $SETUPS; do
		[[ $s == pg ]] && continue
		for mode in $MODES; do
			cairn_tps=${TPS[c$s-$mode]:-}
			pg_tps=${TPS[pg-$mode]:-}
			[[ -n $cairn_tps && -n $pg_tps ]] || continue
			awk -v a="$cairn_tps" -v b="$pg_tps" -v what="Cairn ${s}n / PostgreSQL, $mode" \
				'BEGIN { if (b > 0) printf "%-36s %.3f\n", what ":", a / b }'
		done
	done
fi
exit "$FAILED"
