# shellcheck shell=bash
# Shared helpers for the throwaway test servers under scripts/services/.
# Sourced, never executed. Callers set SVC_NAME before sourcing and use
# `set -euo pipefail` themselves.

SVC_SCRIPTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SVC_REPO=$(cd "$SVC_SCRIPTS_DIR/../.." && pwd)
# Per-checkout state: data directories, logs, pid files (ignored by git).
SVC_STATE=${REPOKIT_SERVICES_DIR:-$SVC_REPO/.services}
case "$SVC_STATE" in /*) ;; *) SVC_STATE=$PWD/$SVC_STATE ;; esac
# Built server binaries live outside the checkout so that a fresh clone on
# the same machine (CI) reuses them; the directory name carries the version.
SVC_HOME=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
SVC_BIN_ROOT=${REPOKIT_SERVICES_BIN:-${XDG_CACHE_HOME:-$SVC_HOME/.cache}/repokit-services/bin}
SVC_HOST=127.0.0.1
: "${SVC_NAME:=services}"

svc_log() { printf '[%s %s] %s\n' "$SVC_NAME" "$(date +%H:%M:%S)" "$*" >&2; }
svc_die() { printf '[%s] ERROR: %s\n' "$SVC_NAME" "$*" >&2; exit 1; }

# svc_tail_log FILE: print the last lines of a server log to stderr.
svc_tail_log() {
	local f=$1
	if [ -s "$f" ]; then
		printf '[%s] ---- last 40 lines of %s ----\n' "$SVC_NAME" "$f" >&2
		tail -n 40 "$f" >&2 || true
		printf '[%s] ---- end of log ----\n' "$SVC_NAME" >&2
	else
		printf '[%s] (log %s is empty or missing)\n' "$SVC_NAME" "$f" >&2
	fi
}

# svc_now_ms: wall clock in milliseconds.
svc_now_ms() { date +%s%3N; }

# svc_wait_until TIMEOUT_S WHAT LOGFILE CMD...: run CMD every 0.2 s until it
# succeeds. On timeout print the log tail and return 1.
svc_wait_until() {
	local timeout=$1 what=$2 logf=$3
	shift 3
	local deadline=$(( $(svc_now_ms) + timeout * 1000 ))
	while ! "$@" >/dev/null 2>&1; do
		if [ "$(svc_now_ms)" -ge "$deadline" ]; then
			svc_log "timed out after ${timeout}s waiting for $what"
			svc_tail_log "$logf"
			return 1
		fi
		sleep 0.2
	done
}

# svc_port_open PORT: true if something accepts TCP connections on 127.0.0.1:PORT.
svc_port_open() {
	(exec 3<>"/dev/tcp/$SVC_HOST/$1") 2>/dev/null
}

# svc_wait_port PORT TIMEOUT_S LOGFILE
svc_wait_port() {
	svc_wait_until "$2" "$SVC_HOST:$1 to accept connections" "$3" svc_port_open "$1"
}

# svc_proc_live PID: true if PID is a running process (a zombie, which an
# init that reaps late can leave behind, counts as dead).
svc_proc_live() {
	local st
	kill -0 "$1" 2>/dev/null || return 1
	# State is the first field after the ")" that closes the command name.
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# svc_pid_alive PIDFILE: true if the pid in PIDFILE names a live process.
svc_pid_alive() {
	local pid
	[ -s "$1" ] || return 1
	pid=$(cat "$1")
	[ -n "$pid" ] && svc_proc_live "$pid"
}

# svc_spawn PIDFILE LOGFILE CMD...: start CMD detached (own session, stdin
# from /dev/null, output appended to LOGFILE) and record its pid.
svc_spawn() {
	local pidf=$1 logf=$2
	shift 2
	rm -f "$pidf"
	# The child writes its own pid, then execs the server: the pid file
	# names the server process itself, not a wrapper.
	# fd 9 is our lock (svc_lock): the server must not inherit it.
	# shellcheck disable=SC2016 # $$ and $@ expand in the child shell
	setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidf" "$@" </dev/null >>"$logf" 2>&1 9>&- &
	local deadline=$(( $(svc_now_ms) + 5000 ))
	while [ "$(svc_now_ms)" -lt "$deadline" ]; do
		[ -s "$pidf" ] && return 0
		sleep 0.1
	done
	svc_die "process did not start: $*"
}

# svc_kill_pid PIDFILE SIGNAL TIMEOUT_S: send SIGNAL, wait up to TIMEOUT_S for
# the process to exit, then SIGKILL it. Removes the pid file.
svc_kill_pid() {
	local pidf=$1 sig=$2 timeout=$3 pid
	if ! svc_pid_alive "$pidf"; then
		rm -f "$pidf"
		return 0
	fi
	pid=$(cat "$pidf")
	kill "-$sig" "$pid" 2>/dev/null || true
	local deadline=$(( $(svc_now_ms) + timeout * 1000 ))
	while svc_proc_live "$pid"; do
		if [ "$(svc_now_ms)" -ge "$deadline" ]; then
			svc_log "pid $pid still alive ${timeout}s after SIG$sig; sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			sleep 0.2
			break
		fi
		sleep 0.1
	done
	rm -f "$pidf"
}

# svc_lock NAME: serialize concurrent invocations for one service (two
# engineers or test runs starting the same server at once). Held until exit.
svc_lock() {
	mkdir -p "$SVC_STATE"
	exec 9>"$SVC_STATE/.$1.lock"
	if ! flock -n 9; then
		svc_log "waiting for another $1 command to finish (lock $SVC_STATE/.$1.lock)"
	fi
	if ! flock -w 600 9; then
		svc_die "could not take lock $SVC_STATE/.$1.lock within 600s"
	fi
}

# svc_need_cmd CMD DEBIAN_PACKAGE: install the package with apt when CMD is
# missing.
svc_need_cmd() {
	command -v "$1" >/dev/null 2>&1 && return 0
	svc_apt_install "$2"
	command -v "$1" >/dev/null 2>&1 || svc_die "$1 still missing after installing $2"
}

# svc_apt_install PKG...: apt-get update (once per process) and install.
SVC_APT_UPDATED=
svc_apt_install() {
	[ "$(id -u)" = 0 ] || svc_die "need root to apt-get install $*; install it yourself and retry"
	if [ -z "$SVC_APT_UPDATED" ]; then
		svc_log "apt-get update"
		DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
		SVC_APT_UPDATED=1
	fi
	svc_log "apt-get install -y --no-install-recommends $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" >&2
}

# svc_go_binary NAME MODULE_PKG VERSION: print the path of the binary built by
# `go install MODULE_PKG@VERSION`, building it first when it is not there yet.
# Builds go to a versioned directory so a pinned version bump rebuilds.
svc_go_binary() {
	local name=$1 pkg=$2 version=$3
	local dir="$SVC_BIN_ROOT/$name/$version" bin
	bin="$dir/$(basename "$pkg")"
	if [ -x "$bin" ]; then
		svc_log "reusing $bin"
		printf '%s\n' "$bin"
		return 0
	fi
	command -v go >/dev/null 2>&1 || svc_die "go is not on PATH; cannot build $pkg"
	mkdir -p "$dir"
	svc_log "building $pkg@$version (first time on this machine; this can take minutes)"
	local t0 rc=0
	t0=$(svc_now_ms)
	# Run outside the repository: `go install pkg@version` ignores the
	# current module anyway, and this keeps the project's go.mod untouched.
	(cd / && GOBIN="$dir" GOFLAGS=-buildvcs=false go install "$pkg@$version") >&2 || rc=$?
	if [ "$rc" != 0 ] || [ ! -x "$bin" ]; then
		rmdir "$dir" 2>/dev/null || true
		svc_die "go install $pkg@$version failed (exit $rc)"
	fi
	svc_log "built $bin in $(( ($(svc_now_ms) - t0) / 1000 ))s"
	printf '%s\n' "$bin"
}

# svc_print_exports NAME=VALUE...: print `export NAME='VALUE'` lines for eval.
svc_print_exports() {
	local kv
	for kv in "$@"; do
		printf "export %s='%s'\n" "${kv%%=*}" "${kv#*=}"
	done
}
