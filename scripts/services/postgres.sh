#!/usr/bin/env bash
# Throwaway PostgreSQL 15 on 127.0.0.1 for repokit's tests, benchmarks and demo.
#
#   postgres.sh start [--replica]
#                        install if missing, init a fresh cluster (or reuse a
#                        complete one), start, wait until a query succeeds,
#                        print the export lines (idempotent). With --replica
#                        also one hot standby fed by streaming replication
#                        (pg_basebackup -R from the primary, a physical slot,
#                        the replication role repokit_replicator on loopback)
#   postgres.sh env      print `export REPOKIT_POSTGRES_URL=...` lines for eval
#                        (and REPOKIT_POSTGRES_REPLICA_URL, _REPLICA_ADMIN_URL
#                        once a standby was created)
#   postgres.sh stop [--replica]
#                        stop the server (and its standby) and delete the data
#                        directories; with --replica only the standby (and
#                        its replication slot)
#   postgres.sh pause [--immediate]
#                        stop the server, KEEP the data (fast shutdown; with
#                        --immediate: pg_ctl -m immediate, like a crash)
#   postgres.sh pause --replica [--kill]
#                        the same for the standby (--kill: immediate shutdown)
#   postgres.sh resume [--replica]
#                        start the same data directory again and wait
#   postgres.sh status [--replica]
#                        exit 0 when the server (standby) answers, 1 otherwise
#   postgres.sh install  only install the Debian packages when missing
#   postgres.sh logs [--replica]
#                        print the server (standby) log tail
#
# Settings (environment): REPOKIT_POSTGRES_PORT (15432),
# REPOKIT_POSTGRES_REPLICA_PORT (the primary's port + 2; + 1 is Toxiproxy's),
# REPOKIT_POSTGRES_REPLICA_DELAY (the standby's recovery_min_apply_delay when
# it is created, e.g. 2s; default 0; tests change it with ALTER SYSTEM through
# REPOKIT_POSTGRES_REPLICA_ADMIN_URL),
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
# The hot standby (start --replica): its own data directory, socket, log and port.
RP_PORT=${REPOKIT_POSTGRES_REPLICA_PORT:-$((PG_PORT + 2))}
RP_DELAY=${REPOKIT_POSTGRES_REPLICA_DELAY:-0}
RP_DIR=$SVC_STATE/postgres-replica
RP_DATA=$RP_DIR/data
RP_SOCK=$RP_DIR/run
RP_LOG=$RP_DIR/postgres.log
RP_READY_MARK=$RP_DIR/.ready
RP_ROLE=repokit_replicator
RP_ROLE_PASSWORD=repokit-replica-pw
RP_SLOT=repokit_standby

pg_url() { printf 'postgres://%s:%s@%s:%s/%s?sslmode=disable' "$1" "$2" "$SVC_HOST" "$PG_PORT" "$3"; }

rp_url() { printf 'postgres://%s:%s@%s:%s/%s?sslmode=disable' "$1" "$2" "$SVC_HOST" "$RP_PORT" "$3"; }

print_env() {
	svc_print_exports \
		"REPOKIT_POSTGRES_URL=$(pg_url "$PG_USER" "$PG_PASSWORD" "$PG_DB")" \
		"REPOKIT_POSTGRES_ADMIN_URL=$(pg_url "$PG_ADMIN" "$PG_ADMIN_PASSWORD" postgres)" \
		"REPOKIT_POSTGRES_CTL=$SVC_SCRIPTS_DIR/postgres.sh"
	# The standby's lines once it was created (also while it is paused).
	if [ -f "$RP_READY_MARK" ]; then
		svc_print_exports \
			"REPOKIT_POSTGRES_REPLICA_URL=$(rp_url "$PG_USER" "$PG_PASSWORD" "$PG_DB")" \
			"REPOKIT_POSTGRES_REPLICA_ADMIN_URL=$(rp_url "$PG_ADMIN" "$PG_ADMIN_PASSWORD" postgres)"
	fi
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

# ---- the hot standby (--replica) ----

# rp_is_up: the standby answers a query as the test role, in recovery.
rp_is_up() {
	PGPASSWORD=$PG_PASSWORD "$PG_BIN/psql" -X -q -w -h "$SVC_HOST" -p "$RP_PORT" -U "$PG_USER" -d "$PG_DB" \
		-tAc 'select pg_is_in_recovery()' 2>/dev/null | grep -qx t
}

rp_running() { [ -s "$RP_DATA/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$RP_DATA" status >/dev/null 2>&1; }

# admin_sql SQL: run SQL on the primary as the superuser, through its socket.
admin_sql() {
	as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U "$PG_ADMIN" -d postgres -tAc "$1"
}

start_replica_server() {
	if rp_running; then return 0; fi
	if svc_port_open "$RP_PORT"; then
		svc_die "port $RP_PORT on $SVC_HOST is taken by another process; set REPOKIT_POSTGRES_REPLICA_PORT"
	fi
	if ! as_pg "$PG_BIN/pg_ctl" -D "$RP_DATA" -l "$RP_LOG" -w -t "$PG_START_TIMEOUT" start >&2; then
		svc_tail_log "$RP_LOG"
		svc_die "pg_ctl start (standby) failed"
	fi
	svc_wait_until 60 "the standby on $SVC_HOST:$RP_PORT to answer in recovery" "$RP_LOG" rp_is_up
}

# init_replica: the replication role (initdb's pg_hba.conf already allows
# `host replication all 127.0.0.1/32 scram-sha-256`), a physical slot so that
# the primary keeps the WAL a paused standby has not received yet, and a base
# backup with -R (standby.signal, primary_conninfo).
init_replica() {
	svc_log "creating the hot standby in $RP_DATA (port $RP_PORT)"
	grep -Eq '^host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32' "$PG_DATA/pg_hba.conf" ||
		svc_die "$PG_DATA/pg_hba.conf has no loopback replication entry"
	admin_sql "DO \$\$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$RP_ROLE') THEN
    CREATE ROLE $RP_ROLE LOGIN REPLICATION PASSWORD '$RP_ROLE_PASSWORD';
  END IF;
END\$\$" >/dev/null
	admin_sql "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$RP_SLOT'" >/dev/null
	rm -rf "$RP_DIR"
	mkdir -p "$RP_DATA" "$RP_SOCK"
	if [ "$(id -u)" = 0 ]; then
		chown -R postgres:postgres "$RP_DIR"
	fi
	chmod 700 "$RP_DATA"
	if ! as_pg env PGPASSWORD="$RP_ROLE_PASSWORD" "$PG_BIN/pg_basebackup" -h "$SVC_HOST" -p "$PG_PORT" -U "$RP_ROLE" -w \
		-D "$RP_DATA" -R -X stream -C -S "$RP_SLOT" -c fast --no-sync >"$RP_DIR/basebackup.log" 2>&1; then
		svc_tail_log "$RP_DIR/basebackup.log"
		svc_die "pg_basebackup failed"
	fi
	# The copied postgresql.conf names the primary's port and socket: later lines win.
	cat >>"$RP_DATA/postgresql.conf" <<EOF

# --- repokit hot standby (scripts/services/postgres.sh start --replica) ---
port = $RP_PORT
unix_socket_directories = '$RP_SOCK'
hot_standby = on
hot_standby_feedback = on
recovery_min_apply_delay = '$RP_DELAY'
EOF
	start_replica_server
	: >"$RP_READY_MARK"
}

cmd_start_replica() {
	if [ -f "$RP_READY_MARK" ] && [ -f "$RP_DATA/PG_VERSION" ]; then
		start_replica_server
	else
		init_replica
	fi
	svc_log "standby ready on $SVC_HOST:$RP_PORT, streaming from $SVC_HOST:$PG_PORT"
}

cmd_stop_replica() {
	if [ -f "$RP_DATA/PG_VERSION" ] && rp_running; then
		as_pg "$PG_BIN/pg_ctl" -D "$RP_DATA" -m fast -w -t 60 stop >&2 ||
			as_pg "$PG_BIN/pg_ctl" -D "$RP_DATA" -m immediate -w -t 30 stop >&2
	fi
	rm -rf "$RP_DIR"
	if pg_running; then
		admin_sql "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$RP_SLOT'" >/dev/null ||
			svc_log "could not drop replication slot $RP_SLOT"
	fi
	svc_log "stopped and removed the standby ($RP_DIR)"
}

cmd_pause_replica() {
	local mode=fast
	case "${1:-}" in
	--immediate | --kill) mode=immediate ;;
	"") ;;
	*) svc_die "pause --replica: unknown option $1 (use --kill)" ;;
	esac
	[ -f "$RP_DATA/PG_VERSION" ] || svc_die "no standby in $RP_DATA; run start --replica first"
	if rp_running; then
		as_pg "$PG_BIN/pg_ctl" -D "$RP_DATA" -m "$mode" -w -t 60 stop >&2
		svc_log "standby paused ($mode shutdown); data kept in $RP_DATA"
	else
		svc_log "standby already stopped"
	fi
}

cmd_resume_replica() {
	if [ ! -f "$RP_READY_MARK" ] || [ ! -f "$RP_DATA/PG_VERSION" ]; then
		svc_die "no complete standby in $RP_DATA; run start --replica"
	fi
	start_replica_server
	svc_log "standby resumed"
}

# replica_flag ARG: true when ARG is --replica.
replica_flag() { [ "${1:-}" = --replica ]; }

case "${1:-}" in
start)
	svc_lock postgres
	case "${2:-}" in
	--replica)
		cmd_start >/dev/null
		cmd_start_replica
		print_env
		;;
	"") cmd_start ;;
	*) svc_die "start: unknown option $2 (use --replica)" ;;
	esac
	;;
stop)
	svc_lock postgres
	if replica_flag "${2:-}"; then
		cmd_stop_replica
	else
		if [ -d "$RP_DIR" ]; then cmd_stop_replica; fi
		cmd_stop
	fi
	;;
pause)
	svc_lock postgres
	if replica_flag "${2:-}"; then cmd_pause_replica "${3:-}"; else cmd_pause "${2:-}"; fi
	;;
resume)
	svc_lock postgres
	if replica_flag "${2:-}"; then cmd_resume_replica; else cmd_resume; fi
	;;
env)
	is_up || svc_die "not running on $SVC_HOST:$PG_PORT; run $0 start"
	print_env
	;;
status)
	if replica_flag "${2:-}"; then
		if rp_is_up; then echo "postgres standby: up on $SVC_HOST:$RP_PORT"; else echo "postgres standby: down"; exit 1; fi
	elif is_up; then echo "postgres: up on $SVC_HOST:$PG_PORT"; else echo "postgres: down"; exit 1; fi
	;;
install) ensure_installed; svc_log "installed: $("$PG_BIN/postgres" --version)" ;;
logs)
	if replica_flag "${2:-}"; then svc_tail_log "$RP_LOG"; else svc_tail_log "$PG_LOG"; fi
	;;
*)
	sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
