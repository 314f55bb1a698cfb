#!/usr/bin/env bash
# A real Elasticsearch 7.17 node for repokit's tests and demo, without Docker:
# the official server jar and Netty4 plugin from Maven Central, embedded in one
# JVM by scripts/services/elasticsearch/ (a small Maven project), listening on
# 127.0.0.1 only. See docs/elasticsearch-engine.md.
#
#   scripts/services/elasticsearch.sh start    build once, start a fresh node, wait for health
#   scripts/services/elasticsearch.sh env      print: export REPOKIT_ES_URL=http://127.0.0.1:<port>
#                                              and REPOKIT_ES_CTL=<this script> (for restart tests)
#   scripts/services/elasticsearch.sh pause    stop the node cleanly (SIGTERM), keep its data and port
#   scripts/services/elasticsearch.sh pause --kill   the same with SIGKILL (a crash)
#   scripts/services/elasticsearch.sh resume   start it again on the same data and port
#   scripts/services/elasticsearch.sh stop     stop the node and delete its data
#   scripts/services/elasticsearch.sh status   say whether it runs, with cluster health
#   scripts/services/elasticsearch.sh logs     print the tail of the node's log
#   scripts/services/elasticsearch.sh build    only build (or confirm) the launcher
#
# Environment (all optional):
#   REPOKIT_ES_PORT            HTTP port (default 19200); transport uses port+100
#   REPOKIT_ES_JAVA_OPTS       extra JVM options, after the defaults (heap: -Xms512m -Xmx1g)
#   REPOKIT_ES_START_TIMEOUT   seconds to wait for yellow/green health (default 180)
#   REPOKIT_ES_STOP_TIMEOUT    seconds to wait for a clean shutdown before SIGKILL (default 60)
#   REPOKIT_ES_BUILD_TIMEOUT   seconds allowed for the Maven build (default 1200)
#   JAVA, MVN                  java and mvn commands (default: from PATH)
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/../.." && pwd)
project_dir="$script_dir/elasticsearch"
state_dir="$repo_root/.services/elasticsearch"
build_dir="$state_dir/build"
home_dir="$state_dir/node"
pid_file="$state_dir/es.pid"
port_file="$state_dir/port"
main_class=org.repokit.esnode.EmbeddedElasticsearch

JAVA=${JAVA:-java}
MVN=${MVN:-mvn}
start_timeout=${REPOKIT_ES_START_TIMEOUT:-180}
stop_timeout=${REPOKIT_ES_STOP_TIMEOUT:-60}
build_timeout=${REPOKIT_ES_BUILD_TIMEOUT:-1200}

log() { echo "elasticsearch: $*" >&2; }
die() { log "error: $*"; exit 1; }

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
for v in start_timeout stop_timeout build_timeout; do
	is_uint "${!v}" || die "$v must be a whole number of seconds, got '${!v}'"
done

# The port of the node: the saved one while a node (running or paused) exists,
# else REPOKIT_ES_PORT or 19200.
current_port() {
	if [[ -d $home_dir && -s $port_file ]]; then
		cat "$port_file"
	else
		echo "${REPOKIT_ES_PORT:-19200}"
	fi
}

url() { echo "http://127.0.0.1:$(current_port)"; }

# The pid of our running node, or nothing. Checks the command line so that a
# reused pid never gets signalled.
running_pid() {
	[[ -s $pid_file ]] || return 0
	local pid
	pid=$(cat "$pid_file")
	is_uint "$pid" || return 0
	if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$main_class"; then
		echo "$pid"
	fi
}

need_tools() {
	local missing=()
	command -v "$JAVA" >/dev/null || missing+=(openjdk-17-jdk-headless)
	command -v "$MVN" >/dev/null || missing+=(maven)
	command -v curl >/dev/null || missing+=(curl)
	if ((${#missing[@]})); then
		if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
			log "installing ${missing[*]} with apt-get"
			timeout 600 apt-get update -qq
			DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq --no-install-recommends "${missing[@]}"
		else
			die "missing ${missing[*]}; install them (Debian: apt-get install ${missing[*]})"
		fi
	fi
}

log_tail() {
	local f
	for f in "$home_dir/stdout.log" "$home_dir/logs/repokit.log"; do
		if [[ -s $f ]]; then
			echo "----- last lines of $f -----" >&2
			tail -n 40 "$f" >&2
		fi
	done
}

# Builds the launcher once; rebuilds only when its sources or the JDK change.
build() {
	need_tools
	local stamp
	stamp=$( (cat "$project_dir/pom.xml" "$project_dir"/src/main/java/org/repokit/esnode/*.java; "$JAVA" -version 2>&1) | sha256sum | cut -d' ' -f1)
	if [[ -f $build_dir/.stamp && $(cat "$build_dir/.stamp") == "$stamp" && -d $build_dir/lib && -d $build_dir/classes ]]; then
		return 0
	fi
	log "building the launcher with Maven (first time: downloads ~60 MB from Maven Central into ~/.m2)"
	mkdir -p "$state_dir"
	rm -rf "$build_dir"
	local t0=$SECONDS
	if ! timeout "$build_timeout" "$MVN" -B -ntp -q -f "$project_dir/pom.xml" compile dependency:copy-dependencies \
		>"$state_dir/maven.log" 2>&1; then
		tail -n 60 "$state_dir/maven.log" >&2
		die "Maven build failed (full log: $state_dir/maven.log)"
	fi
	echo "$stamp" >"$build_dir/.stamp"
	log "built in $((SECONDS - t0))s"
}

port_in_use() {
	timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# Launches the JVM on the existing $home_dir and waits until the node is healthy.
launch() {
	local port=$1 tport=$(($1 + 100))
	for p in "$port" "$tport"; do
		port_in_use "$p" && die "port $p on 127.0.0.1 is already in use (set REPOKIT_ES_PORT to another port)"
	done
	mkdir -p "$home_dir/config" "$home_dir/tmp"
	cp "$project_dir/log4j2.properties" "$home_dir/config/log4j2.properties"
	echo "$port" >"$port_file"
	rm -f "$home_dir/started"

	# The JVM flags the distribution's jvm.options sets, minus AlwaysPreTouch.
	local -a jvm=(-Xms512m -Xmx1g -Xss1m -XX:+UseG1GC
		-XX:-OmitStackTraceInFastThrow -Djava.awt.headless=true -Dfile.encoding=UTF-8
		-Djna.nosys=true -Djava.io.tmpdir="$home_dir/tmp"
		-Des.networkaddress.cache.ttl=60 -Des.networkaddress.cache.negative.ttl=10
		-Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true
		-Dio.netty.recycler.maxCapacityPerThread=0 -Dio.netty.allocator.numDirectArenas=0
		-Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true -Dlog4j2.formatMsgNoLookups=true
		"-Djava.locale.providers=SPI,COMPAT")
	if [[ -n ${REPOKIT_ES_JAVA_OPTS:-} ]]; then
		local -a extra
		read -r -a extra <<<"$REPOKIT_ES_JAVA_OPTS"
		jvm+=("${extra[@]}")
	fi

	local t0=$SECONDS
	# setsid: the node outlives this script and is not hit by the caller's Ctrl-C.
	setsid "$JAVA" "${jvm[@]}" -cp "$build_dir/classes:$build_dir/lib/*" "$main_class" \
		"$home_dir" "$port" "$tport" </dev/null >"$home_dir/stdout.log" 2>&1 9>&- &
	local pid=$!
	echo "$pid" >"$pid_file"
	log "started JVM pid $pid, waiting up to ${start_timeout}s for cluster health on $(url)"

	local deadline=$((SECONDS + start_timeout)) health="" status=""
	while ((SECONDS < deadline)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			log_tail
			rm -f "$pid_file"
			die "the node's JVM exited during startup"
		fi
		health=$(curl -s -m 5 "$(url)/_cluster/health?wait_for_status=yellow&timeout=2s" 2>/dev/null || true)
		if [[ $health =~ \"status\":\"(green|yellow)\" ]]; then
			status=${BASH_REMATCH[1]}
			break
		fi
		health=""
		sleep 1
	done
	if [[ -z $health ]]; then
		log_tail
		kill_node "$pid"
		die "no yellow/green cluster health within ${start_timeout}s"
	fi

	# go-elasticsearch v8 refuses servers that do not send this header.
	local headers
	headers=$(curl -si -m 10 "$(url)/" | tr -d '\r')
	if ! grep -qi '^x-elastic-product: Elasticsearch$' <<<"$headers"; then
		echo "$headers" >&2
		kill_node "$pid"
		die "the node does not send 'X-Elastic-Product: Elasticsearch'"
	fi
	local version
	version=$(sed -n 's/.*"number" : "\([^"]*\)".*/\1/p' <<<"$headers")
	log "ready in $((SECONDS - t0))s: Elasticsearch $version at $(url), health $status, pid $pid"
}

# Stops the JVM: SIGTERM (the launcher closes the node cleanly), SIGKILL after the timeout.
kill_node() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || true
	local deadline=$((SECONDS + stop_timeout))
	while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
	if kill -0 "$pid" 2>/dev/null; then
		log "pid $pid still alive after ${stop_timeout}s, sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		deadline=$((SECONDS + 10))
		while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
		kill -0 "$pid" 2>/dev/null && die "pid $pid survived SIGKILL"
	fi
	rm -f "$pid_file"
}

cmd=${1:-}
case $cmd in
start | stop | pause | resume | build)
	mkdir -p "$state_dir"
	# One start/stop at a time.
	exec 9>"$state_dir/.lock"
	flock -w 600 9 || die "another elasticsearch.sh holds $state_dir/.lock"
	;;
esac

case $cmd in
build)
	build
	;;
start)
	if pid=$(running_pid) && [[ -n $pid ]]; then
		curl -sf -m 10 "$(url)/_cluster/health" >/dev/null || die "pid $pid runs but $(url) does not answer"
		log "already running at $(url) (pid $pid)"
		exit 0
	fi
	build
	rm -rf "$home_dir" "$pid_file" "$port_file"
	port=${REPOKIT_ES_PORT:-19200}
	if ! is_uint "$port" || ((port < 1 || port > 65435)); then
		die "REPOKIT_ES_PORT must be a port number up to 65435 (transport uses port+100), got '$port'"
	fi
	mkdir -p "$home_dir"
	launch "$port"
	;;
resume)
	if pid=$(running_pid) && [[ -n $pid ]]; then
		log "already running at $(url) (pid $pid)"
		exit 0
	fi
	[[ -d $home_dir/data && -s $port_file ]] || die "nothing to resume: no paused node in $home_dir (use start)"
	build
	launch "$(cat "$port_file")"
	;;
pause)
	pid=$(running_pid)
	[[ -n $pid ]] || die "not running"
	case ${2:-} in
	"") kill_node "$pid" ;;
	--kill)
		kill -KILL "$pid"
		deadline=$((SECONDS + 10))
		while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && die "pid $pid survived SIGKILL"
		rm -f "$pid_file"
		;;
	*) die "pause takes no argument or --kill, got '$2'" ;;
	esac
	log "paused${2:+ with SIGKILL} (data kept in $home_dir, port $(current_port))"
	;;
stop)
	pid=$(running_pid)
	if [[ -n $pid ]]; then
		kill_node "$pid"
	fi
	rm -rf "$home_dir" "$pid_file" "$port_file"
	log "stopped${pid:+ (pid $pid)}, data removed"
	;;
env)
	echo "export REPOKIT_ES_URL=$(url)"
	echo "export REPOKIT_ES_CTL='$script_dir/elasticsearch.sh'"
	;;
status)
	pid=$(running_pid)
	if [[ -n $pid ]]; then
		echo "running: pid $pid, $(url)"
		curl -s -m 10 "$(url)/_cluster/health?pretty" || true
	elif [[ -d $home_dir/data ]]; then
		echo "paused: data in $home_dir, port $(current_port)"
		exit 3
	else
		echo "not running"
		exit 3
	fi
	;;
logs)
	log_tail
	;;
*)
	sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
