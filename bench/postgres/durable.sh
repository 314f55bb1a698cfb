#!/usr/bin/env bash
# Run the PostgreSQL comparison benchmarks (bench/postgres) against a separate
# DURABLE PostgreSQL 15 instance, configured like production: fsync=on,
# full_page_writes=on, synchronous_commit=on. The shared test server
# (fsync=off, port 15432) is never touched.
#
#   bench/postgres/durable.sh [go test flags...]   start, benchmark, stop
#   bench/postgres/durable.sh stop                  remove a left-over instance
#
# Default go test flags: -run '^$' -bench . -benchtime 10x -count 2
# The instance is started with scripts/services/postgres.sh in its own
# directory and port, checked (SHOW fsync, full_page_writes,
# synchronous_commit), and stopped and deleted when the script exits, also on
# failure or Ctrl-C. The load average (uptime) is printed before and after the
# run. Settings: REPOKIT_DURABLE_PORT (15451), REPOKIT_DURABLE_DIR
# (<repo>/.services-durable).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
PORT=${REPOKIT_DURABLE_PORT:-15451}
DIR=${REPOKIT_DURABLE_DIR:-$REPO/.services-durable}
PGCTL=$REPO/scripts/services/postgres.sh
SHARED_PORT=15432

die() { printf 'durable.sh: %s\n' "$*" >&2; exit 1; }

[ "$PORT" != "$SHARED_PORT" ] || die "REPOKIT_DURABLE_PORT must not be the shared test server's port $SHARED_PORT"

# postgres.sh with the durable instance's settings only.
pgctl() {
	env -u REPOKIT_POSTGRES_URL -u REPOKIT_POSTGRES_ADMIN_URL \
		REPOKIT_SERVICES_DIR="$DIR" REPOKIT_POSTGRES_PORT="$PORT" REPOKIT_POSTGRES_FSYNC=on \
		"$PGCTL" "$@"
}

if [ "${1:-}" = stop ]; then
	pgctl stop
	rm -f "$DIR/.postgres.lock"
	rmdir "$DIR" 2>/dev/null || true
	exit 0
fi

# Never stop a server this run did not start.
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
	die "port $PORT is already in use (a left-over durable instance? remove it with: $0 stop; or set REPOKIT_DURABLE_PORT)"
fi

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	pgctl stop || true
	rm -f "$DIR/.postgres.lock"
	rmdir "$DIR" 2>/dev/null || true
}
trap cleanup EXIT
eval "$(pgctl start)"

settings=$("/usr/lib/postgresql/15/bin/psql" -X -w -tA -F ' ' "$REPOKIT_POSTGRES_URL" -c \
	"select name, setting from pg_settings where name in ('fsync', 'full_page_writes', 'synchronous_commit', 'wal_sync_method') order by name")
printf '# durable server 127.0.0.1:%s: %s\n' "$PORT" "$(echo "$settings" | tr '\n' ' ')"
for s in fsync full_page_writes synchronous_commit; do
	echo "$settings" | grep -qx "$s on" || die "$s is not on: $settings"
done

if [ $# -eq 0 ]; then set -- -run '^$' -bench . -benchtime 10x -count 2; fi
printf '# load before: %s\n' "$(uptime)"
rc=0
(cd "$REPO/bench" && go test ./postgres "$@") || rc=$?
printf '# load after: %s\n' "$(uptime)"
exit "$rc"
