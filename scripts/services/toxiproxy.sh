#!/usr/bin/env bash
# Toxiproxy in front of the test S3 server, adding latency so benchmarks see
# a real round trip (this kernel has no netem). Loopback only.
#
#   toxiproxy.sh start   build server and CLI if missing, start the MinIO
#                        server too if it is not up (minio.sh start), start
#                        Toxiproxy, create proxy "s3" with 10 ms latency
#                        toxics upstream and downstream (~20 ms per round
#                        trip), print the export line (idempotent)
#                        and the fault proxies (below)
#   toxiproxy.sh env     print `export REPOKIT_S3_SLOW_ENDPOINT=...` for eval
#   toxiproxy.sh stop    stop Toxiproxy and remove its state (MinIO stays)
#   toxiproxy.sh status  exit 0 when the proxy and its toxics are in place
#   toxiproxy.sh install only build the binaries when missing
#   toxiproxy.sh logs    print the server log tail
#
# Settings (environment): REPOKIT_TOXIPROXY_PORT (API, 18474),
# REPOKIT_S3_SLOW_PORT (proxied S3, 19010), REPOKIT_S3_SLOW_LATENCY_MS (10,
# per direction), REPOKIT_MINIO_PORT (upstream, 19000).
#
# Fault proxies, clean links (no toxic) that the fault tests (internal/faulttest) add
# toxics to and disable through the API, one per server:
#   pg_fault  REPOKIT_POSTGRES_FAULT_PORT (15433) -> REPOKIT_POSTGRES_PORT (15432)
#   es_fault  REPOKIT_ES_FAULT_PORT (19210)       -> REPOKIT_ES_PORT (19200)
#   s3_fault  REPOKIT_S3_FAULT_PORT (19011)       -> REPOKIT_MINIO_PORT (19000)
# exported as REPOKIT_POSTGRES_FAULT_URL (the PostgreSQL URL through the proxy, when
# PostgreSQL is up), REPOKIT_ES_FAULT_URL, REPOKIT_S3_FAULT_ENDPOINT, plus the API as
# REPOKIT_TOXIPROXY_URL.
set -euo pipefail
SVC_NAME=toxiproxy
# shellcheck source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

TOXI_MODULE=github.com/Shopify/toxiproxy/v2
TOXI_VERSION=v2.12.0

TOXI_PORT=${REPOKIT_TOXIPROXY_PORT:-18474}
TOXI_API=http://$SVC_HOST:$TOXI_PORT
SLOW_PORT=${REPOKIT_S3_SLOW_PORT:-19010}
LATENCY_MS=${REPOKIT_S3_SLOW_LATENCY_MS:-10}
UPSTREAM_PORT=${REPOKIT_MINIO_PORT:-19000}
PROXY=s3
TOXI_DIR=$SVC_STATE/toxiproxy
TOXI_LOG=$TOXI_DIR/toxiproxy.log
TOXI_PID=$TOXI_DIR/toxiproxy.pid
PG_PORT=${REPOKIT_POSTGRES_PORT:-15432}
PG_FAULT_PORT=${REPOKIT_POSTGRES_FAULT_PORT:-15433}
ES_PORT=${REPOKIT_ES_PORT:-19200}
ES_FAULT_PORT=${REPOKIT_ES_FAULT_PORT:-19210}
S3_FAULT_PORT=${REPOKIT_S3_FAULT_PORT:-19011}
# name listen-port upstream-port, one line per fault proxy
FAULT_PROXIES="pg_fault $PG_FAULT_PORT $PG_PORT
es_fault $ES_FAULT_PORT $ES_PORT
s3_fault $S3_FAULT_PORT $UPSTREAM_PORT"

print_env() {
	svc_print_exports "REPOKIT_S3_SLOW_ENDPOINT=http://$SVC_HOST:$SLOW_PORT" \
		"REPOKIT_TOXIPROXY_URL=$TOXI_API" \
		"REPOKIT_S3_FAULT_ENDPOINT=http://$SVC_HOST:$S3_FAULT_PORT" \
		"REPOKIT_ES_FAULT_URL=http://$SVC_HOST:$ES_FAULT_PORT"
	# The PostgreSQL URL (with its test credentials) with the proxy's port, when it is up.
	local pg
	pg=$("$SVC_SCRIPTS_DIR/postgres.sh" env 2>/dev/null | sed -n "s/^export REPOKIT_POSTGRES_URL='\(.*\)'\$/\1/p") || true
	if [ -n "$pg" ]; then
		svc_print_exports "REPOKIT_POSTGRES_FAULT_URL=${pg/@$SVC_HOST:$PG_PORT\//@$SVC_HOST:$PG_FAULT_PORT/}"
	else
		svc_log "PostgreSQL is not up: REPOKIT_POSTGRES_FAULT_URL not exported"
	fi
}

# Every fault proxy exists, enabled, with its listen and upstream addresses.
fault_proxies_ok() {
	local name listen up js
	while read -r name listen up; do
		js=$(curl -fsS --max-time 2 "$TOXI_API/proxies/$name" 2>/dev/null) || return 1
		printf '%s' "$js" | grep -q "\"listen\":\"$SVC_HOST:$listen\"" &&
			printf '%s' "$js" | grep -q "\"upstream\":\"$SVC_HOST:$up\"" || return 1
	done <<<"$FAULT_PROXIES"
}

# (Re)create the fault proxies: clean, enabled, no toxics (a test run killed mid-fault may
# have left one disabled or with a toxic).
configure_fault_proxies() {
	local name listen up
	while read -r name listen up; do
		if curl -fsS --max-time 2 -o /dev/null "$TOXI_API/proxies/$name" 2>/dev/null; then
			cli delete "$name" >&2
		fi
		cli create --listen "$SVC_HOST:$listen" --upstream "$SVC_HOST:$up" "$name" >&2
	done <<<"$FAULT_PROXIES"
	fault_proxies_ok || svc_die "fault proxies are not configured as expected"
}

ensure_built() {
	svc_need_cmd curl curl
	TOXI_SERVER=$(svc_go_binary toxiproxy-server "$TOXI_MODULE/cmd/server" "$TOXI_VERSION")
	TOXI_CLI=$(svc_go_binary toxiproxy-cli "$TOXI_MODULE/cmd/cli" "$TOXI_VERSION")
}

api_ok() { curl -fsS --max-time 2 -o /dev/null "$TOXI_API/version" 2>/dev/null; }
cli() { "$TOXI_CLI" --host "$TOXI_API" "$@"; }

# The proxy exists with both latency toxics at the configured latency.
proxy_ok() {
	local js
	js=$(curl -fsS --max-time 2 "$TOXI_API/proxies/$PROXY/toxics" 2>/dev/null) || return 1
	printf '%s' "$js" | grep -q "\"name\":\"latency_up\",\"type\":\"latency\",\"stream\":\"upstream\"" &&
		printf '%s' "$js" | grep -q "\"name\":\"latency_down\",\"type\":\"latency\",\"stream\":\"downstream\"" &&
		[ "$(printf '%s' "$js" | grep -o "\"latency\":$LATENCY_MS," | wc -l)" = 2 ]
}

configure_proxy() {
	if curl -fsS --max-time 2 -o /dev/null "$TOXI_API/proxies/$PROXY" 2>/dev/null; then
		proxy_ok && return 0
		cli delete "$PROXY" >&2
	fi
	cli create --listen "$SVC_HOST:$SLOW_PORT" --upstream "$SVC_HOST:$UPSTREAM_PORT" "$PROXY" >&2
	cli toxic add --type latency --toxicName latency_up --upstream \
		--attribute "latency=$LATENCY_MS" --attribute jitter=0 "$PROXY" >&2
	cli toxic add --type latency --toxicName latency_down --downstream \
		--attribute "latency=$LATENCY_MS" --attribute jitter=0 "$PROXY" >&2
	proxy_ok || { cli inspect "$PROXY" >&2 || true; svc_die "proxy $PROXY is not configured as expected"; }
}

cmd_start() {
	ensure_built
	# The upstream S3 server (idempotent; prints its env, which we drop).
	"$SVC_SCRIPTS_DIR/minio.sh" start >/dev/null 9>&-
	mkdir -p "$TOXI_DIR"
	if ! svc_pid_alive "$TOXI_PID"; then
		for p in "$TOXI_PORT" "$SLOW_PORT" "$PG_FAULT_PORT" "$ES_FAULT_PORT" "$S3_FAULT_PORT"; do
			if svc_port_open "$p"; then
				svc_die "port $p on $SVC_HOST is taken by another process; set REPOKIT_TOXIPROXY_PORT / REPOKIT_S3_SLOW_PORT / REPOKIT_{POSTGRES,ES,S3}_FAULT_PORT"
			fi
		done
		local t0
		t0=$(svc_now_ms)
		printf '\n--- start %s ---\n' "$(date -Is)" >>"$TOXI_LOG"
		svc_spawn "$TOXI_PID" "$TOXI_LOG" "$TOXI_SERVER" -host "$SVC_HOST" -port "$TOXI_PORT"
		if ! svc_wait_until 30 "Toxiproxy API on $TOXI_API" "$TOXI_LOG" api_ok; then
			svc_kill_pid "$TOXI_PID" KILL 5
			svc_die "Toxiproxy did not start"
		fi
		svc_log "API ready on $TOXI_API after $(( $(svc_now_ms) - t0 )) ms"
	fi
	configure_proxy
	configure_fault_proxies
	svc_wait_port "$SLOW_PORT" 10 "$TOXI_LOG"
	# A real S3 call through the proxy: unauthenticated, so MinIO answers 403,
	# which proves the bytes went to MinIO and back.
	local code
	code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://$SVC_HOST:$SLOW_PORT/") || true
	[ "$code" = 403 ] || { svc_tail_log "$TOXI_LOG"; svc_die "request through the proxy answered HTTP '$code' (expected MinIO's 403)"; }
	svc_log "proxy $PROXY: $SVC_HOST:$SLOW_PORT -> $SVC_HOST:$UPSTREAM_PORT, +${LATENCY_MS} ms each way"
	svc_log "fault proxies (no toxics): $(printf '%s' "$FAULT_PROXIES" | awk -v h="$SVC_HOST" '{printf "%s %s:%s -> %s:%s; ", $1, h, $2, h, $3}')"
	print_env
}

cmd_stop() {
	svc_kill_pid "$TOXI_PID" TERM 10
	rm -rf "$TOXI_DIR"
	svc_log "stopped and removed $TOXI_DIR"
}

case "${1:-}" in
start) svc_lock toxiproxy; cmd_start ;;
stop) svc_lock toxiproxy; cmd_stop ;;
env)
	if ! api_ok || ! proxy_ok || ! fault_proxies_ok; then
		svc_die "not running on $TOXI_API (or proxy missing); run $0 start"
	fi
	print_env
	;;
status)
	if api_ok && proxy_ok && fault_proxies_ok; then
		echo "toxiproxy: up, $SVC_HOST:$SLOW_PORT -> $SVC_HOST:$UPSTREAM_PORT +${LATENCY_MS} ms each way; fault proxies pg_fault :$PG_FAULT_PORT, es_fault :$ES_FAULT_PORT, s3_fault :$S3_FAULT_PORT"
	else
		echo "toxiproxy: down"
		exit 1
	fi
	;;
install) svc_lock toxiproxy; ensure_built; svc_log "binaries: $TOXI_SERVER $TOXI_CLI" ;;
logs) svc_tail_log "$TOXI_LOG" ;;
*)
	sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
