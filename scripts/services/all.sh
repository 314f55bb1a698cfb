#!/usr/bin/env bash
# Start, stop or describe every throwaway server the tests use.
#
#   all.sh start [--with-toxiproxy] [--with-elasticsearch] [--with-postgres-replica]
#                    PostgreSQL and MinIO, plus Toxiproxy in front of MinIO,
#                    the Elasticsearch node (elasticsearch.sh) and PostgreSQL's
#                    hot standby (postgres.sh start --replica) when asked;
#                    export lines on stdout, logs on stderr
#   all.sh env       export lines of every server that is up
#   all.sh stop [--with-elasticsearch]
#                    stop PostgreSQL (with its standby), MinIO and Toxiproxy and
#                    delete their data; the Elasticsearch node only when asked
#   all.sh status    one line per server; exit 1 if PostgreSQL or MinIO is down
#
# Typical use:  eval "$(scripts/services/all.sh start)" && go test ./...
set -euo pipefail
SVC_NAME=all
# shellcheck source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
D=$SVC_SCRIPTS_DIR
ES=$D/elasticsearch.sh

case "${1:-}" in
start)
	with_toxi='' with_es='' pg_opts=()
	shift
	for opt in "$@"; do
		case "$opt" in
		--with-toxiproxy) with_toxi=1 ;;
		--with-elasticsearch) with_es=1 ;;
		--with-postgres-replica) pg_opts=(--replica) ;;
		*) svc_die "start: unknown option $opt (use --with-toxiproxy, --with-elasticsearch, --with-postgres-replica)" ;;
		esac
	done
	t0=$(svc_now_ms)
	"$D/postgres.sh" start "${pg_opts[@]}"
	"$D/minio.sh" start
	if [ -n "$with_toxi" ]; then "$D/toxiproxy.sh" start; fi
	if [ -n "$with_es" ]; then
		[ -x "$ES" ] || svc_die "$ES is missing"
		"$ES" start >&2
		"$ES" env
	fi
	svc_log "services up in $(( ($(svc_now_ms) - t0) / 1000 ))s"
	;;
env)
	"$D/postgres.sh" env
	"$D/minio.sh" env
	# The optional ones: their lines only when they are running.
	if "$D/toxiproxy.sh" status >/dev/null 2>&1; then "$D/toxiproxy.sh" env; fi
	if [ -x "$ES" ] && "$ES" status >/dev/null 2>&1; then "$ES" env; fi
	;;
stop)
	rc=0
	"$D/toxiproxy.sh" stop || rc=1
	"$D/minio.sh" stop || rc=1
	"$D/postgres.sh" stop || rc=1
	if [ "${2:-}" = --with-elasticsearch ]; then "$ES" stop >&2 || rc=1; fi
	exit "$rc"
	;;
status)
	rc=0
	"$D/postgres.sh" status || rc=1
	"$D/minio.sh" status || rc=1
	"$D/toxiproxy.sh" status || true
	if [ -x "$ES" ]; then printf 'elasticsearch: %s\n' "$("$ES" status 2>&1 | head -1)"; fi
	exit "$rc"
	;;
*)
	sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
