#!/usr/bin/env bash
# The test servers of one run: start them, and stop the ones this run started when it ends,
# whatever the outcome (success, failure, Ctrl-C, SIGTERM). A server that was already up
# before the run is left up; KEEP_SERVICES=1 leaves every server up.
#
# Sourced (scripts/test.sh does this):
#   . scripts/services/session.sh
#   services_up [--with-elasticsearch] [--with-toxiproxy] [--with-postgres-replica]
#                   start what all.sh start starts, with the same options, and eval its
#                   export lines into this shell; traps EXIT (and INT, TERM, HUP) to run
#                   services_down; returns all.sh's status
#   services_down   stop the servers services_up found down and started (unless
#                   KEEP_SERVICES=1): a PostgreSQL standby it started on a PostgreSQL
#                   server that was up before is stopped alone (postgres.sh stop --replica);
#                   the EXIT trap runs it, it is safe to call twice
#   services_started NAME
#                   true when this run started NAME (e.g. elasticsearch), so that it
#                   may be stopped early; services_down stops it again harmlessly
#
# Run alone, around one command:
#   scripts/services/session.sh [--with-elasticsearch] [--with-toxiproxy] -- CMD [ARGS...]
#                   e.g. scripts/services/session.sh --with-elasticsearch -- go test ./runtime/...

_svc_session_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_svc_session_started=()
_svc_session_replica=''

_svc_session_log() { printf '[session %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

services_up() {
	local want=(postgres minio) opt s env
	local replica=''
	for opt in "$@"; do
		case $opt in
		--with-toxiproxy) want+=(toxiproxy) ;;
		--with-elasticsearch) want+=(elasticsearch) ;;
		--with-postgres-replica) replica=1 ;;
		esac
	done
	_svc_session_started=()
	_svc_session_replica=''
	for s in "${want[@]}"; do
		if "$_svc_session_dir/$s.sh" status >/dev/null 2>&1; then
			_svc_session_log "$s was already up: it stays up after this run"
		else
			_svc_session_started+=("$s")
		fi
	done
	if [[ -n $replica ]]; then
		if "$_svc_session_dir/postgres.sh" status --replica >/dev/null 2>&1; then
			_svc_session_log "the postgres standby was already up: it stays up after this run"
		else
			_svc_session_replica=1
		fi
	fi
	trap services_down EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	env=$("$_svc_session_dir/all.sh" start "$@") || return
	eval "$env"
}

services_started() {
	local s
	for s in "${_svc_session_started[@]}"; do
		[[ $s == "$1" ]] && return 0
	done
	return 1
}

services_down() {
	local s i
	if ((${#_svc_session_started[@]} == 0)) && [[ -z $_svc_session_replica ]]; then
		return 0
	fi
	if [[ ${KEEP_SERVICES:-} == 1 ]]; then
		_svc_session_log "KEEP_SERVICES=1: leaving ${_svc_session_started[*]}${_svc_session_replica:+ and the postgres standby} up (stop them with scripts/services/all.sh stop --with-elasticsearch)"
		_svc_session_started=()
		_svc_session_replica=''
		return 0
	fi
	# A standby on a PostgreSQL server this run did not start: stop it alone (postgres.sh
	# stop, below, stops both).
	if [[ -n $_svc_session_replica ]] && [[ " ${_svc_session_started[*]} " != *" postgres "* ]]; then
		_svc_session_log "stopping the postgres standby (started by this run)"
		"$_svc_session_dir/postgres.sh" stop --replica >&2 || _svc_session_log "stopping the postgres standby failed"
	fi
	_svc_session_replica=''
	# In the reverse order of the start: Toxiproxy before the MinIO behind it.
	for ((i = ${#_svc_session_started[@]} - 1; i >= 0; i--)); do
		s=${_svc_session_started[i]}
		_svc_session_log "stopping $s (started by this run)"
		"$_svc_session_dir/$s.sh" stop >&2 || _svc_session_log "stopping $s failed"
	done
	_svc_session_started=()
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	opts=()
	while (($#)) && [[ $1 != -- ]]; do
		opts+=("$1")
		shift
	done
	if (($# < 2)); then
		sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//' >&2
		exit 2
	fi
	shift
	services_up "${opts[@]}"
	"$@"
fi
