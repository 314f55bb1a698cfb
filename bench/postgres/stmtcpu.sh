#!/usr/bin/env bash
# stmtcpu.sh N SQL [SQL ...]: the server CPU time (user + system of the backend process,
# from /proc, in ms) of each statement, run N times in one session after one warm-up run,
# without parallel workers (max_parallel_workers_per_gather = 0), so that the backend's own
# CPU is the statement's. The server must run on this machine; the output of the statements
# is discarded. Connects to $REPOKIT_POSTGRES_URL. CPU time, unlike wall time, does not grow
# with the other work of a shared machine (only a little, through caches), so statements can
# be compared under load. See docs/BENCHMARKS.md (Aggregations).
set -euo pipefail
n=${1:?usage: stmtcpu.sh N SQL [SQL ...]}
shift
: "${REPOKIT_POSTGRES_URL:?set REPOKIT_POSTGRES_URL}"
for sql in "$@"; do
	script=$(mktemp)
	{
		echo 'SET max_parallel_workers_per_gather = 0;'
		echo 'SELECT pg_backend_pid() AS pid \gset'
		echo '\setenv RK_PID :pid'
		echo '\o /dev/null'
		echo "$sql;"
		echo '\! cut -d" " -f14,15 /proc/$RK_PID/stat'
		for ((i = 0; i < n; i++)); do echo "$sql;"; done
		echo '\! cut -d" " -f14,15 /proc/$RK_PID/stat'
	} >"$script"
	ticks=$(getconf CLK_TCK)
	psql "$REPOKIT_POSTGRES_URL" -X -q -v ON_ERROR_STOP=1 -f "$script" |
		awk -v n="$n" -v hz="$ticks" -v sql="$sql" 'NR == 1 {a = $1 + $2} NR == 2 {printf "%7.1f ms  %s\n", ($1 + $2 - a) * 1000 / hz / n, sql}'
	rm -f "$script"
done
