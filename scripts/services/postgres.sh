#!/usr/bin/env bash
# Throwaway PostgreSQL 15 on 127.0.0.1 for repokit's tests, benchmarks and demo.
#
#   postgres.sh start    install if missing, init a fresh cluster (or reuse a
#                        complete one), start, wait until a query succeeds,
#                        print the export lines (idempotent)
#   postgres.sh env      print `export REPOKIT_POSTGRES_URL=...` lines for eval
#   postgres.sh stop     stop the server and delete its data directory
#   postgres.sh pause [--immediate]
#                        stop the server, KEEP the data (fast shutdown; with
#                        --immediate: pg_ctl -m immediate, like a crash)
#   postgres.sh resume   start the same data directory again and wait
#   postgres.sh status   exit 0 when the server answers, 1 otherwise
#   postgres.sh install  only install the Debian packages when missing
#   postgres.sh logs     print the server log tail
#
# Settings (environment): REPOKIT_POSTGRES_PORT (15432),
# REPOKIT_POSTGRES_FSYNC (off: fsync and full_page_writes off; on: both on,
# as in production; synchronous_commit is on either way),
# REPOKIT_SERVICES_DIR (<repo>/.services).
set -euo pipefail
SVC_NAME=postgres
# shellcheck source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

PG_MAJOR=15
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
PG_PORT=${REPOKIT_POSTGRES_PORT:-15432}
PG_FSYNC=${REPOKIT_POSTGRES_FSYNC:-off}
PG_DIR=$SVC_STATE/postgres
PG_DATA=$PG_DIR/data
PG_SOCK=$PG_DIR/run
PG_LOG=$PG_DIR/postgres.log
PG_READY_MARK=$PG_DIR/.ready
PG_DB=repokit_test
PG_USER=repokit
PG_PASSWORD=repokit-test-pw
PG_ADMIN=postgres
PG_ADMIN_PASSWORD=repokit-admin-pw
PG_START_TIMEOUT=${REPOKIT_POSTGRES_START_TIMEOUT:-60}

pg_url() { printf 'postgres://%s:%s@%s:%s/%s?sslmode=disable' "$1" "$2" "$SVC_HOST" "$PG_PORT" "$3"; }

print_env() {
	svc_print_exports \
		"REPOKIT_POSTGRES_URL=$(pg_url "$PG_USER" "$PG_PASSWORD" "$PG_DB")" \
		"REPOKIT_POSTGRES_ADMIN_URL=$(pg_url "$PG_ADMIN" "$PG_ADMIN_PASSWORD" postgres)" \
		"REPOKIT_POSTGRES_CTL=$SVC_SCRIPTS_DIR/postgres.sh"
}

# The server refuses to run as root, so it runs as the postgres system user
# when we are root, and as ourselves otherwise.
RUN_AS=()
if [ "$(id -u)" = 0 ]; then RUN_AS=(runuser -u postgres --); fi
# fd 9 holds our lock (svc_lock); the server must not inherit it.
as_pg() { (cd / && "${RUN_AS[@]}" "$@" 9>&-); }

# Debian's own binaries. /usr/local/bin/{initdb,pg_ctl,postgres} on the
# development machines are only symlinks to these; we use the real path so a
# machine without those links behaves the same.
ensure_installed() {
	if [ ! -x "$PG_BIN/postgres" ] || [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/psql" ]; then
		if [ ! -e /etc/postgresql-common/createcluster.conf ] && [ "$(id -u)" = 0 ]; then
			# Keep Debian's postinst from creating and starting a default
			# cluster on port 5432: our server is the only one we want.
			mkdir -p /etc/postgresql-common
			printf 'create_main_cluster = false\n' >/etc/postgresql-common/createcluster.conf
		fi
		svc_apt_install "postgresql-$PG_MAJOR" "postgresql-client-$PG_MAJOR"
	fi
	[ -x "$PG_BIN/postgres" ] || svc_die "$PG_BIN/postgres missing after install"
	if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
		svc_log "creating system user postgres"
		useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
	fi
}

is_up() {
	PGPASSWORD=$PG_PASSWORD "$PG_BIN/psql" -X -q -w -h "$SVC_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" \
		-tAc 'select 1' 2>/dev/null | grep -qx 1
}

pg_running() { [ -s "$PG_DATA/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }

start_server() {
	if pg_running; then return 0; fi
	if svc_port_open "$PG_PORT"; then
		svc_die "port $PG_PORT on $SVC_HOST is taken by another process; set REPOKIT_POSTGRES_PORT"
	fi
	local t0
	t0=$(svc_now_ms)
	# pg_ctl detaches the postmaster; -w waits for it to accept connections.
	if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$PG_START_TIMEOUT" start >&2; then
		svc_tail_log "$PG_LOG"
		svc_die "pg_ctl start failed"
	fi
	svc_wait_until 30 "pg_isready on $SVC_HOST:$PG_PORT" "$PG_LOG" \
		"$PG_BIN/pg_isready" -q -h "$SVC_HOST" -p "$PG_PORT"
	svc_log "server accepting connections on $SVC_HOST:$PG_PORT after $(( $(svc_now_ms) - t0 )) ms"
}

init_cluster() {
	svc_log "initializing a fresh cluster in $PG_DATA"
	rm -rf "$PG_DIR"
	mkdir -p "$PG_DATA" "$PG_SOCK"
	# The server user must be able to reach the data dir through the checkout.
	if [ "$(id -u)" = 0 ]; then
		chown -R postgres:postgres "$PG_DIR"
		chmod 700 "$PG_DATA"
		if ! runuser -u postgres -- test -w "$PG_DATA"; then
			svc_die "user postgres cannot write $PG_DATA (a parent directory is not searchable); set REPOKIT_SERVICES_DIR to a path it can reach"
		fi
	fi
	local pwfile
	pwfile=$(mktemp)
	printf '%s\n' "$PG_ADMIN_PASSWORD" >"$pwfile"
	if [ "$(id -u)" = 0 ]; then chown postgres "$pwfile"; fi
	if ! as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_ADMIN" --pwfile="$pwfile" \
		--auth-local=trust --auth-host=scram-sha-256 --no-sync -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1; then
		rm -f "$pwfile"
		svc_tail_log "$PG_DIR/initdb.log"
		svc_die "initdb failed"
	fi
	rm -f "$pwfile"
	# Loopback only, a non-default port, the socket inside our own directory.
	cat >>"$PG_DATA/postgresql.conf" <<EOF

# --- repokit throwaway test server (scripts/services/postgres.sh) ---
listen_addresses = '$SVC_HOST'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
max_connections = 200
fsync = $PG_FSYNC
full_page_writes = $PG_FSYNC
synchronous_commit = on
logging_collector = off
log_min_messages = warning
EOF
	start_server
	# Test role and database. The role may create databases so tests can make
	# their own scratch ones.
	as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U "$PG_ADMIN" -d postgres >&2 <<SQL
CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
CREATE DATABASE $PG_DB OWNER $PG_USER;
SQL
	: >"$PG_READY_MARK"
}

cmd_start() {
	ensure_installed
	if [ -f "$PG_READY_MARK" ] && [ -f "$PG_DATA/PG_VERSION" ]; then
		# A complete cluster from an earlier start (or a pause): reuse it.
		start_server
	else
		init_cluster
	fi
	svc_wait_until 30 "a query as $PG_USER on $PG_DB" "$PG_LOG" is_up
	svc_log "ready: $("$PG_BIN/psql" -X -w -tAc 'show server_version' "$(pg_url "$PG_USER" "$PG_PASSWORD" "$PG_DB")")"
	print_env
}

cmd_stop() {
	if [ -f "$PG_DATA/PG_VERSION" ] && pg_running; then
		as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >&2 || {
			svc_log "fast shutdown failed; immediate"
			as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w -t 30 stop >&2
		}
	fi
	rm -rf "$PG_DIR"
	svc_log "stopped and removed $PG_DIR"
}

cmd_pause() {
	local mode=fast
	case "${1:-}" in
	--immediate | --kill) mode=immediate ;;
	"") ;;
	*) svc_die "pause: unknown option $1 (use --immediate)" ;;
	esac
	[ -f "$PG_DATA/PG_VERSION" ] || svc_die "no cluster in $PG_DATA; run start first"
	if pg_running; then
		as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m "$mode" -w -t 60 stop >&2
		svc_log "paused ($mode shutdown); data kept in $PG_DATA"
	else
		svc_log "already stopped"
	fi
}

cmd_resume() {
	if [ ! -f "$PG_READY_MARK" ] || [ ! -f "$PG_DATA/PG_VERSION" ]; then
		svc_die "no complete cluster in $PG_DATA; run start"
	fi
	start_server
	svc_wait_until 30 "a query as $PG_USER on $PG_DB" "$PG_LOG" is_up
	svc_log "resumed"
}

case "${1:-}" in
start) svc_lock postgres; cmd_start ;;
stop) svc_lock postgres; cmd_stop ;;
pause) svc_lock postgres; cmd_pause "${2:-}" ;;
resume) svc_lock postgres; cmd_resume ;;
env)
	is_up || svc_die "not running on $SVC_HOST:$PG_PORT; run $0 start"
	print_env
	;;
status)
	if is_up; then echo "postgres: up on $SVC_HOST:$PG_PORT"; else echo "postgres: down"; exit 1; fi
	;;
install) ensure_installed; svc_log "installed: $("$PG_BIN/postgres" --version)" ;;
logs) svc_tail_log "$PG_LOG" ;;
*)
	sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
