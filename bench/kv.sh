#!/usr/bin/env bash
# bench/kv.sh: the KV benchmark of docs/benchmarks.md. Builds bin/cairn,
# starts one insecure node on 127.0.0.1 in a temporary directory, runs
# `cairn workload kv` with 64 workers twice (100% sync puts, then 100% gets)
# and always stops the node and removes the directory.
#
# Environment:
#   DURATION   length of each run (default 20s)
#   RPC_PORT, HTTP_PORT, SQL_PORT   node ports (default 17400, 17480, 17432)
#   PROFILE    if set, a file to write a 10s CPU profile of the node to,
#              taken during the put run
set -euo pipefail

cd "$(dirname "$0")/.."
DURATION=${DURATION:-20s}
RPC_ADDR=127.0.0.1:${RPC_PORT:-17400}
HTTP_ADDR=127.0.0.1:${HTTP_PORT:-17480}
SQL_ADDR=127.0.0.1:${SQL_PORT:-17432}
PROFILE=${PROFILE:-}

go build -o bin/cairn ./cmd/cairn

if curl -s -o /dev/null "http://$HTTP_ADDR/health"; then
	echo "kv.sh: something already listens on $HTTP_ADDR; set HTTP_PORT/RPC_PORT/SQL_PORT" >&2
	exit 1
fi

DIR=$(mktemp -d)
NODE_PID=
PROF_PID=
cleanup() {
	local rc=$?
	if [[ -n $PROF_PID ]]; then
		kill "$PROF_PID" 2>/dev/null || true
		wait "$PROF_PID" 2>/dev/null || true
	fi
	if [[ -n $NODE_PID ]] && kill -0 "$NODE_PID" 2>/dev/null; then
		kill -TERM "$NODE_PID"
		for _ in $(seq 300); do
			kill -0 "$NODE_PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$NODE_PID" 2>/dev/null; then
			echo "kv.sh: node did not stop within 30s of SIGTERM; killing it" >&2
			kill -KILL "$NODE_PID" 2>/dev/null || true
		fi
		wait "$NODE_PID" 2>/dev/null || true
	fi
	if ((rc != 0)) && [[ -f $DIR/node.log ]]; then
		echo "kv.sh: last lines of the node log:" >&2
		tail -n 20 "$DIR/node.log" >&2
	fi
	rm -rf "$DIR"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bin/cairn start --insecure --data-dir "$DIR/data" \
	--rpc-addr "$RPC_ADDR" --http-addr "$HTTP_ADDR" --sql-addr "$SQL_ADDR" \
	--log-level warn >"$DIR/node.log" 2>&1 &
NODE_PID=$!

for i in $(seq 600); do
	if ! kill -0 "$NODE_PID" 2>/dev/null; then
		echo "kv.sh: the node exited during startup" >&2
		exit 1
	fi
	curl -sf -o /dev/null "http://$HTTP_ADDR/health" && break
	if ((i == 600)); then
		echo "kv.sh: the node was not healthy within 60s" >&2
		exit 1
	fi
	sleep 0.1
done
echo "node up (pid $NODE_PID, rpc $RPC_ADDR, http $HTTP_ADDR, data $DIR/data)"

run() {
	echo
	echo "+ bin/cairn workload kv --insecure --addr $RPC_ADDR --concurrency 64 --duration $DURATION $*"
	bin/cairn workload kv --insecure --addr "$RPC_ADDR" --concurrency 64 --duration "$DURATION" "$@"
}

if [[ -n $PROFILE ]]; then
	# Let the put run warm up for 3s, then profile the node for 10s.
	(sleep 3 && curl -sf -o "$PROFILE" "http://$HTTP_ADDR/debug/pprof/profile?seconds=10" &&
		echo "kv.sh: wrote a CPU profile of the node to $PROFILE") &
	PROF_PID=$!
fi
run --read-percent 0
if [[ -n $PROF_PID ]]; then
	wait "$PROF_PID" || echo "kv.sh: taking the CPU profile failed" >&2
	PROF_PID=
fi
run --read-percent 100
