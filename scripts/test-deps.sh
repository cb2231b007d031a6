#!/usr/bin/env bash
# Installs what some tests use beyond Go modules, when it is missing and the
# machine allows: psql and pgbench (Debian's postgresql-client), for the
# PostgreSQL-client tests (internal/server psql tests, test/e2e pgbench and
# psql). Best effort: without root (or passwordless sudo) or apt-get it only
# says so, and those tests skip themselves.
set -uo pipefail
if command -v psql >/dev/null && command -v pgbench >/dev/null; then
	exit 0
fi
if ! command -v apt-get >/dev/null; then
	echo "test-deps: psql/pgbench missing and no apt-get: the tests that need them will skip" >&2
	exit 0
fi
SUDO=""
if [[ $(id -u) != 0 ]]; then
	if sudo -n true 2>/dev/null; then
		SUDO="sudo -n"
	else
		echo "test-deps: psql/pgbench missing and not root: the tests that need them will skip" >&2
		exit 0
	fi
fi
echo "test-deps: installing postgresql-client (psql, pgbench)" >&2
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql-client >/dev/null 2>&1 ||
	{ $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql-client >/dev/null 2>&1; } ||
	echo "test-deps: could not install postgresql-client: the tests that need it will skip" >&2
exit 0
