#!/usr/bin/env bash
# Throwaway S3 server (MinIO, built from the Go module proxy at a pinned
# version) on 127.0.0.1 for repokit's tests, benchmarks and demo.
#
#   minio.sh start     build if missing, start on a fresh data directory (or
#                      the kept one after a pause), wait for readiness, create
#                      the bucket, print the export lines (idempotent)
#   minio.sh env       print `export REPOKIT_S3_...` lines for eval
#   minio.sh stop      stop the server and delete its data directory
#   minio.sh pause [--kill]
#                      stop the server, KEEP the data (SIGTERM; with --kill:
#                      SIGKILL, like a crash)
#   minio.sh resume    start again on the same data directory and wait
#   minio.sh status    exit 0 when the bucket answers, 1 otherwise
#   minio.sh install   only build the binary when missing
#   minio.sh logs      print the server log tail
#
# Settings (environment): REPOKIT_MINIO_PORT (19000), REPOKIT_SERVICES_DIR,
# REPOKIT_SERVICES_BIN (where built binaries are kept, default
# ~/.cache/repokit-services/bin, outside the checkout so CI's fresh clone on
# the same machine reuses them).
set -euo pipefail
SVC_NAME=minio
# shellcheck source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

# Pinned: MinIO publishes no semver module tags; this pseudo-version is the
# last commit the module proxy serves (2026-02-12). It builds with plain
# `go install` (its go.mod has no replace directives).
MINIO_MODULE=github.com/minio/minio
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c

S3_PORT=${REPOKIT_MINIO_PORT:-19000}
S3_CONSOLE_PORT=$((S3_PORT + 1))
S3_DIR=$SVC_STATE/minio
S3_DATA=$S3_DIR/data
S3_LOG=$S3_DIR/minio.log
S3_PID=$S3_DIR/minio.pid
S3_ACCESS_KEY=repokit-test
S3_SECRET_KEY=repokit-test-secret
S3_BUCKET=repokit-test
S3_REGION=us-east-1
S3_ENDPOINT=http://$SVC_HOST:$S3_PORT
S3_START_TIMEOUT=${REPOKIT_MINIO_START_TIMEOUT:-60}

print_env() {
	svc_print_exports \
		"REPOKIT_S3_ENDPOINT=$S3_ENDPOINT" \
		"REPOKIT_S3_ACCESS_KEY=$S3_ACCESS_KEY" \
		"REPOKIT_S3_SECRET_KEY=$S3_SECRET_KEY" \
		"REPOKIT_S3_BUCKET=$S3_BUCKET" \
		"REPOKIT_S3_REGION=$S3_REGION" \
		"REPOKIT_S3_CTL=$SVC_SCRIPTS_DIR/minio.sh"
}

# s3curl ARGS...: a real S3 request signed with SigV4 (curl --aws-sigv4).
s3curl() {
	curl -sS --max-time 10 --aws-sigv4 "aws:amz:$S3_REGION:s3" \
		--user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
		-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@"
}

# HTTP status of a signed HEAD on the bucket (200 when it exists).
bucket_status() { s3curl -o /dev/null -w '%{http_code}' -I "$S3_ENDPOINT/$S3_BUCKET" 2>/dev/null || true; }
bucket_ok() { [ "$(bucket_status)" = 200 ]; }
health_ok() { curl -fsS --max-time 2 -o /dev/null "$S3_ENDPOINT/minio/health/ready"; }

ensure_built() {
	svc_need_cmd curl curl
	MINIO_BIN=$(svc_go_binary minio "$MINIO_MODULE" "$MINIO_VERSION")
}

start_server() {
	if svc_pid_alive "$S3_PID"; then return 0; fi
	if svc_port_open "$S3_PORT"; then
		svc_die "port $S3_PORT on $SVC_HOST is taken by another process; set REPOKIT_MINIO_PORT"
	fi
	mkdir -p "$S3_DATA"
	local t0
	t0=$(svc_now_ms)
	printf '\n--- start %s ---\n' "$(date -Is)" >>"$S3_LOG"
	# Loopback only; no web console; no update checks.
	MINIO_ROOT_USER=$S3_ACCESS_KEY MINIO_ROOT_PASSWORD=$S3_SECRET_KEY \
		MINIO_BROWSER=off MINIO_UPDATE=off MINIO_SITE_REGION=$S3_REGION \
		svc_spawn "$S3_PID" "$S3_LOG" "$MINIO_BIN" server --quiet --anonymous \
		--address "$SVC_HOST:$S3_PORT" --console-address "$SVC_HOST:$S3_CONSOLE_PORT" "$S3_DATA"
	if ! svc_wait_until "$S3_START_TIMEOUT" "MinIO readiness ($S3_ENDPOINT/minio/health/ready)" "$S3_LOG" health_ok; then
		svc_kill_pid "$S3_PID" KILL 5
		svc_die "MinIO did not become ready"
	fi
	svc_log "server ready on $S3_ENDPOINT after $(( $(svc_now_ms) - t0 )) ms (pid $(cat "$S3_PID"))"
}

ensure_bucket() {
	local code
	code=$(bucket_status)
	case "$code" in
	200) return 0 ;;
	404)
		svc_log "creating bucket $S3_BUCKET"
		code=$(s3curl -o "$S3_DIR/mkbucket.out" -w '%{http_code}' -X PUT "$S3_ENDPOINT/$S3_BUCKET") || true
		if [ "$code" != 200 ]; then
			cat "$S3_DIR/mkbucket.out" >&2 || true
			svc_die "CreateBucket $S3_BUCKET answered HTTP $code"
		fi
		;;
	*) svc_tail_log "$S3_LOG"; svc_die "HeadBucket $S3_BUCKET answered HTTP '$code'" ;;
	esac
	svc_wait_until 30 "bucket $S3_BUCKET to answer HeadBucket" "$S3_LOG" bucket_ok
}

cmd_start() {
	ensure_built
	if ! svc_pid_alive "$S3_PID" && [ -d "$S3_DIR" ] && [ ! -f "$S3_DIR/.paused" ]; then
		# Left over from a run that never stopped (e.g. a reboot): start fresh.
		rm -rf "$S3_DIR"
	fi
	mkdir -p "$S3_DIR"
	start_server
	rm -f "$S3_DIR/.paused"
	ensure_bucket
	print_env
}

cmd_stop() {
	svc_kill_pid "$S3_PID" TERM 30
	rm -rf "$S3_DIR"
	svc_log "stopped and removed $S3_DIR"
}

cmd_pause() {
	local sig=TERM
	case "${1:-}" in
	--kill | --immediate) sig=KILL ;;
	"") ;;
	*) svc_die "pause: unknown option $1 (use --kill)" ;;
	esac
	[ -d "$S3_DATA" ] || svc_die "no data in $S3_DATA; run start first"
	svc_kill_pid "$S3_PID" "$sig" 30
	: >"$S3_DIR/.paused"
	svc_log "paused (SIG$sig); data kept in $S3_DATA"
}

cmd_resume() {
	[ -d "$S3_DATA" ] || svc_die "no data in $S3_DATA; run start"
	ensure_built
	start_server
	rm -f "$S3_DIR/.paused"
	svc_wait_until 30 "bucket $S3_BUCKET to answer HeadBucket" "$S3_LOG" bucket_ok
	svc_log "resumed"
}

case "${1:-}" in
start) svc_lock minio; cmd_start ;;
stop) svc_lock minio; cmd_stop ;;
pause) svc_lock minio; cmd_pause "${2:-}" ;;
resume) svc_lock minio; cmd_resume ;;
env)
	bucket_ok || svc_die "not running on $S3_ENDPOINT (or bucket missing); run $0 start"
	print_env
	;;
status)
	if bucket_ok; then echo "minio: up on $S3_ENDPOINT, bucket $S3_BUCKET"; else echo "minio: down"; exit 1; fi
	;;
install) svc_lock minio; ensure_built; svc_log "binary: $MINIO_BIN" ;;
logs) svc_tail_log "$S3_LOG" ;;
*)
	sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
