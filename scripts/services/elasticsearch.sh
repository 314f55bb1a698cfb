#!/usr/bin/env bash
# A real Elasticsearch 7.17 node, or a cluster of several, for repokit's tests and demo,
# without Docker: the official server jar and Netty4 plugin from Maven Central, embedded in
# one JVM per node by scripts/services/elasticsearch/ (a small Maven project), listening on
# 127.0.0.1 only. See docs/elasticsearch-engine.md.
#
#   elasticsearch.sh start [--nodes N]   build once, start a fresh node (or a cluster of N
#                                        nodes, all master-eligible), wait for health
#   elasticsearch.sh env                 print: export REPOKIT_ES_URL=http://127.0.0.1:<port>
#                                        (node 1), REPOKIT_ES_CTL=<this script> (for restart
#                                        tests) and REPOKIT_ES_URLS=<every node, comma-separated>
#   elasticsearch.sh pause [--node N] [--kill]
#                                        stop a node cleanly (SIGTERM; --kill: SIGKILL, a crash),
#                                        keeping its data and ports; without --node: every node
#   elasticsearch.sh resume [--node N]   start a paused node again on its data and ports, wait
#                                        until it is in the cluster; without --node: every
#                                        paused node
#   elasticsearch.sh stop                stop every node and delete their data
#   elasticsearch.sh status              say whether each node runs, with cluster health
#                                        (exit 0 only when every node runs)
#   elasticsearch.sh logs [--node N]     print the tail of the nodes' logs
#   elasticsearch.sh build               only build (or confirm) the launcher
#
# Node N (from 1) listens on HTTP port REPOKIT_ES_PORT+N-1 and transport port +100. One node
# is the default; a cluster's nodes find each other through discovery.seed_hosts (every
# node's transport port) and bootstrap with cluster.initial_master_nodes (all of them).
#
# Environment (all optional):
#   REPOKIT_ES_PORT            HTTP port of node 1 (default 19200); transport uses port+100
#   REPOKIT_ES_JAVA_OPTS       extra JVM options, after the defaults (heap: -Xms512m -Xmx1g for
#                              a single node, -Xms256m -Xmx512m per node of a cluster)
#   REPOKIT_ES_START_TIMEOUT   seconds to wait for yellow/green health (default 180; a
#                              cluster's start waits for green)
#   REPOKIT_ES_STOP_TIMEOUT    seconds to wait for a clean shutdown before SIGKILL (default 60)
#   REPOKIT_ES_BUILD_TIMEOUT   seconds allowed for the Maven build (default 1200)
#   REPOKIT_SERVICES_DIR       state directory (default <repo>/.services): the nodes live in
#                              its elasticsearch/ subdirectory
#   JAVA, MVN                  java and mvn commands (default: from PATH)
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/../.." && pwd)
project_dir="$script_dir/elasticsearch"
# The nodes' state: REPOKIT_SERVICES_DIR as for the other servers (a second cluster beside
# the default one needs its own, and its own REPOKIT_ES_PORT). The launcher's build depends
# only on the checkout: it stays in <repo>/.services/elasticsearch/build.
services_dir=${REPOKIT_SERVICES_DIR:-$repo_root/.services}
case $services_dir in /*) ;; *) services_dir=$PWD/$services_dir ;; esac
state_dir="$services_dir/elasticsearch"
build_dir="$repo_root/.services/elasticsearch/build"
nodes_file="$state_dir/nodes" # the node count of the cluster that exists (absent: 1)
main_class=org.repokit.esnode.EmbeddedElasticsearch
max_nodes=9

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

# The files of node N. Node 1 keeps the paths of the single node (node/, es.pid, port).
home_of() { if (($1 == 1)); then echo "$state_dir/node"; else echo "$state_dir/node$1"; fi; }
pid_file_of() { if (($1 == 1)); then echo "$state_dir/es.pid"; else echo "$state_dir/es$1.pid"; fi; }
port_file_of() { if (($1 == 1)); then echo "$state_dir/port"; else echo "$state_dir/port$1"; fi; }

# The number of nodes of the existing cluster (running or paused), 1 when there is none.
node_count() {
	local n=1
	[[ -s $nodes_file ]] && n=$(cat "$nodes_file")
	if ! is_uint "$n" || ((n < 1 || n > max_nodes)); then n=1; fi
	echo "$n"
}

base_port() { echo "${REPOKIT_ES_PORT:-19200}"; }

# The HTTP port of node N: the saved one while the node (running or paused) exists, else
# REPOKIT_ES_PORT (or 19200) + N - 1.
current_port() {
	local n=${1:-1} home port_file
	home=$(home_of "$n")
	port_file=$(port_file_of "$n")
	if [[ -d $home && -s $port_file ]]; then
		cat "$port_file"
	else
		echo $(($(base_port) + n - 1))
	fi
}

url() { echo "http://127.0.0.1:$(current_port "${1:-1}")"; }

# Every node's URL, comma-separated.
urls() {
	local n out=""
	for ((n = 1; n <= $(node_count); n++)); do out+="${out:+,}$(url "$n")"; done
	echo "$out"
}

# The pid of node N if it runs, or nothing. Checks the command line so that a reused pid
# never gets signalled.
running_pid() {
	local n=${1:-1} pid_file pid
	pid_file=$(pid_file_of "$n")
	[[ -s $pid_file ]] || return 0
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

# log_tail [N]: the tail of node N's logs (default: every node's).
log_tail() {
	local n f from=1 to
	to=$(node_count)
	if [[ -n ${1:-} ]]; then from=$1 to=$1; fi
	for ((n = from; n <= to; n++)); do
		for f in "$(home_of "$n")/stdout.log" "$(home_of "$n")/logs/repokit.log"; do
			if [[ -s $f ]]; then
				echo "----- last lines of $f -----" >&2
				tail -n 40 "$f" >&2
			fi
		done
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
	# One build at a time, whichever state directory asks (see REPOKIT_SERVICES_DIR).
	mkdir -p "$(dirname "$build_dir")"
	exec 8>"$(dirname "$build_dir")/.build.lock"
	flock -w "$build_timeout" 8 || die "another build holds $(dirname "$build_dir")/.build.lock"
	if [[ -f $build_dir/.stamp && $(cat "$build_dir/.stamp") == "$stamp" && -d $build_dir/lib && -d $build_dir/classes ]]; then
		exec 8>&-
		return 0
	fi
	log "building the launcher with Maven (first time: downloads ~60 MB from Maven Central into ~/.m2)"
	rm -rf "$build_dir"
	local t0=$SECONDS
	local mvn_log
	mvn_log="$(dirname "$build_dir")/maven.log"
	if ! timeout "$build_timeout" "$MVN" -B -ntp -q -f "$project_dir/pom.xml" compile dependency:copy-dependencies \
		>"$mvn_log" 2>&1; then
		tail -n 60 "$mvn_log" >&2
		die "Maven build failed (full log: $mvn_log)"
	fi
	echo "$stamp" >"$build_dir/.stamp"
	exec 8>&-
	log "built in $((SECONDS - t0))s"
}

port_in_use() {
	timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# check_ports N...: fails unless the HTTP and transport ports of the nodes are free.
check_ports() {
	local n p
	for n in "$@"; do
		for p in "$(current_port "$n")" "$(($(current_port "$n") + 100))"; do
			port_in_use "$p" && die "port $p on 127.0.0.1 is already in use (set REPOKIT_ES_PORT to another port)"
		done
	done
	return 0
}

# spawn N TOTAL: starts the JVM of node N (of a cluster of TOTAL nodes) on its existing home
# directory and port without waiting; sets spawned_pid.
spawn() {
	local n=$1 total=$2 home port tport
	home=$(home_of "$n")
	port=$(current_port "$n")
	tport=$((port + 100))
	mkdir -p "$home/config" "$home/tmp"
	cp "$project_dir/log4j2.properties" "$home/config/log4j2.properties"
	echo "$port" >"$(port_file_of "$n")"
	rm -f "$home/started"

	# The JVM flags the distribution's jvm.options sets, minus AlwaysPreTouch; smaller heaps
	# for the nodes of a cluster.
	local -a heap=(-Xms512m -Xmx1g)
	((total > 1)) && heap=(-Xms256m -Xmx512m)
	local -a jvm=("${heap[@]}" -Xss1m -XX:+UseG1GC
		-XX:-OmitStackTraceInFastThrow -Djava.awt.headless=true -Dfile.encoding=UTF-8
		-Djna.nosys=true -Djava.io.tmpdir="$home/tmp"
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
	# A cluster: every node is master-eligible and finds the others on their transport ports.
	local -a settings=()
	if ((total > 1)); then
		local m seeds="" masters=""
		for ((m = 1; m <= total; m++)); do
			seeds+="${seeds:+,}127.0.0.1:$(($(current_port "$m") + 100))"
			masters+="${masters:+,}repokit-es-$m"
		done
		settings=("node.name=repokit-es-$n" discovery.type=zen "discovery.seed_hosts=$seeds"
			"cluster.initial_master_nodes=$masters")
	fi

	# setsid: the node outlives this script and is not hit by the caller's Ctrl-C.
	setsid "$JAVA" "${jvm[@]}" -cp "$build_dir/classes:$build_dir/lib/*" "$main_class" \
		"$home" "$port" "$tport" "${settings[@]}" </dev/null >"$home/stdout.log" 2>&1 9>&- &
	spawned_pid=$!
	echo "$spawned_pid" >"$(pid_file_of "$n")"
}

# wait_ready N STATUS NODES PIDS...: waits until node N's cluster health is STATUS (yellow:
# yellow or green) with at least NODES nodes, while watching the JVMs PIDS (node:pid pairs)
# just started; then checks the product header. Sets ready_status.
wait_ready() {
	local n=$1 want=$2 nodes=$3
	shift 3
	local deadline=$((SECONDS + start_timeout)) health="" np dead
	ready_status=""
	while ((SECONDS < deadline)); do
		for np in "$@"; do
			if ! kill -0 "${np#*:}" 2>/dev/null; then
				dead=${np%%:*}
				log_tail "$dead"
				rm -f "$(pid_file_of "$dead")"
				for np in "$@"; do kill_node "${np%%:*}" "${np#*:}"; done
				if ((nodes > 1)); then die "the JVM of node $dead exited during startup"; fi
				die "the node's JVM exited during startup"
			fi
		done
		# wait_for_nodes=>=N, URL-encoded.
		health=$(curl -s -m 5 "$(url "$n")/_cluster/health?wait_for_status=$want&wait_for_nodes=%3E%3D$nodes&timeout=2s" 2>/dev/null || true)
		if [[ $health =~ \"timed_out\":false && $health =~ \"status\":\"(green|yellow)\" ]] &&
			{ [[ $want == yellow ]] || [[ ${BASH_REMATCH[1]} == green ]]; }; then
			ready_status=${BASH_REMATCH[1]}
			break
		fi
		health=""
		sleep 1
	done
	if [[ -z $health ]]; then
		for np in "$@"; do log_tail "${np%%:*}"; done
		for np in "$@"; do kill_node "${np%%:*}" "${np#*:}"; done
		if ((nodes > 1)); then die "no $want cluster health with $nodes nodes within ${start_timeout}s"; fi
		die "no yellow/green cluster health within ${start_timeout}s"
	fi

	# go-elasticsearch v8 refuses servers that do not send this header.
	local headers
	headers=$(curl -si -m 10 "$(url "$n")/" | tr -d '\r')
	if ! grep -qi '^x-elastic-product: Elasticsearch$' <<<"$headers"; then
		echo "$headers" >&2
		for np in "$@"; do kill_node "${np%%:*}" "${np#*:}"; done
		die "the node does not send 'X-Elastic-Product: Elasticsearch'"
	fi
	ready_version=$(sed -n 's/.*"number" : "\([^"]*\)".*/\1/p' <<<"$headers")
}

# launch fresh|resume N...: starts the JVMs of the given nodes (all of them before waiting:
# the nodes of a cluster need each other to elect a master) and waits until they are
# healthy: green with every node on a fresh start, yellow (or green) with every running node
# on a resume (a single node: yellow or green, as always).
launch() {
	local fresh=$1
	shift
	local total n t0=$SECONDS
	total=$(node_count)
	local -a started=()
	for n in "$@"; do
		spawn "$n" "$total"
		started+=("$n:$spawned_pid")
		if ((total == 1)); then
			log "started JVM pid $spawned_pid, waiting up to ${start_timeout}s for cluster health on $(url)"
		else
			log "started node $n: JVM pid $spawned_pid, http $(url "$n"), transport port $(($(current_port "$n") + 100))"
		fi
	done
	if ((total == 1)); then
		wait_ready 1 yellow 1 "${started[@]}"
		log "ready in $((SECONDS - t0))s: Elasticsearch $ready_version at $(url), health $ready_status, pid $spawned_pid"
		return
	fi
	local want=yellow nodes=0
	for ((n = 1; n <= total; n++)); do [[ -n $(running_pid "$n") ]] && nodes=$((nodes + 1)); done
	[[ $fresh == fresh ]] && want=green
	log "waiting up to ${start_timeout}s for $want health with $nodes nodes on $(url "$1")"
	wait_ready "$1" "$want" "$nodes" "${started[@]}"
	log "ready in $((SECONDS - t0))s: Elasticsearch $ready_version, $nodes of $total nodes running ($(urls)), health $ready_status"
}

# kill_node N PID: stops the JVM: SIGTERM (the launcher closes the node cleanly), SIGKILL
# after the timeout.
kill_node() {
	local n=$1 pid=$2
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
	rm -f "$(pid_file_of "$n")"
}

# crash_node N PID: SIGKILL at once.
crash_node() {
	local n=$1 pid=$2 deadline
	kill -KILL "$pid"
	deadline=$((SECONDS + 10))
	while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && die "pid $pid survived SIGKILL"
	rm -f "$(pid_file_of "$n")"
}

# Options of the commands.
cmd=${1:-}
(($#)) && shift
opt_nodes="" opt_node="" opt_kill="" with_node=""
while (($#)); do
	case $cmd:$1 in
	start:--nodes)
		(($# > 1)) || die "--nodes needs a number"
		opt_nodes=$2
		shift
		;;
	start:--nodes=*) opt_nodes=${1#--nodes=} ;;
	pause:--node | resume:--node | logs:--node)
		(($# > 1)) || die "--node needs a node number"
		opt_node=$2 with_node=1
		shift
		;;
	pause:--node=* | resume:--node=* | logs:--node=*) opt_node=${1#--node=} with_node=1 ;;
	pause:--kill) opt_kill=1 ;;
	pause:*) die "pause takes --node N and --kill, got '$1'" ;;
	*) die "$cmd: unknown argument '$1'" ;;
	esac
	shift
done
if [[ -n $opt_nodes ]] && { ! is_uint "$opt_nodes" || ((opt_nodes < 1 || opt_nodes > max_nodes)); }; then
	die "--nodes takes a number from 1 to $max_nodes, got '$opt_nodes'"
fi
if [[ -n $with_node ]]; then
	if ! is_uint "$opt_node" || ((opt_node < 1 || opt_node > $(node_count))); then
		die "--node takes a node number from 1 to $(node_count) (the nodes of the cluster that exists), got '$opt_node'"
	fi
fi

# The nodes a command acts on: the one --node names, or every node.
selected() {
	if [[ -n $opt_node ]]; then echo "$opt_node"; else seq 1 "$(node_count)"; fi
}

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
	want=${opt_nodes:-1}
	have=$(node_count)
	running=0
	for ((n = 1; n <= have; n++)); do [[ -n $(running_pid "$n") ]] && running=$((running + 1)); done
	if ((running > 0)); then
		if ((have == want && running == have)); then
			for ((n = 1; n <= have; n++)); do
				curl -sf -m 10 "$(url "$n")/_cluster/health" >/dev/null || die "pid $(running_pid "$n") runs but $(url "$n") does not answer"
			done
			if ((have == 1)); then
				log "already running at $(url) (pid $(running_pid 1))"
			else
				log "already running: $have nodes at $(urls)"
			fi
			exit 0
		fi
		die "$running of $have node(s) run here; stop them first (elasticsearch.sh stop) to start $want, or resume the paused ones"
	fi
	build
	for ((n = 1; n <= max_nodes; n++)); do rm -rf "$(home_of "$n")" "$(pid_file_of "$n")" "$(port_file_of "$n")"; done
	rm -f "$nodes_file"
	port=$(base_port)
	if ! is_uint "$port" || ((port < 1 || port + want - 1 > 65435)); then
		die "REPOKIT_ES_PORT must be a port number up to $((65436 - want)) (nodes use port+N-1, transport port+100), got '$port'"
	fi
	((want > 1)) && echo "$want" >"$nodes_file"
	check_ports $(seq 1 "$want")
	for ((n = 1; n <= want; n++)); do mkdir -p "$(home_of "$n")"; done
	launch fresh $(seq 1 "$want")
	;;
resume)
	todo=()
	for n in $(selected); do
		if pid=$(running_pid "$n") && [[ -n $pid ]]; then
			if (($(node_count) == 1)); then
				log "already running at $(url) (pid $pid)"
			else
				log "node $n already running at $(url "$n") (pid $pid)"
			fi
			continue
		fi
		if [[ ! -d $(home_of "$n")/data || ! -s $(port_file_of "$n") ]]; then
			(($(node_count) == 1)) && die "nothing to resume: no paused node in $(home_of 1) (use start)"
			die "nothing to resume: no paused node $n in $(home_of "$n") (use start)"
		fi
		todo+=("$n")
	done
	((${#todo[@]})) || exit 0
	build
	check_ports "${todo[@]}"
	launch resume "${todo[@]}"
	;;
pause)
	paused=()
	for n in $(selected); do
		pid=$(running_pid "$n")
		if [[ -z $pid ]]; then
			[[ -n $opt_node || $(node_count) == 1 ]] && die "not running"
			continue
		fi
		if [[ -n $opt_kill ]]; then crash_node "$n" "$pid"; else kill_node "$n" "$pid"; fi
		paused+=("$n")
	done
	((${#paused[@]})) || die "not running"
	if (($(node_count) == 1)); then
		log "paused${opt_kill:+ with SIGKILL} (data kept in $(home_of 1), port $(current_port 1))"
	else
		for n in "${paused[@]}"; do
			log "node $n paused${opt_kill:+ with SIGKILL} (data kept in $(home_of "$n"), port $(current_port "$n"))"
		done
	fi
	;;
stop)
	stopped=()
	for ((n = 1; n <= $(node_count); n++)); do
		pid=$(running_pid "$n")
		if [[ -n $pid ]]; then
			kill_node "$n" "$pid"
			stopped+=("$pid")
		fi
	done
	for ((n = 1; n <= max_nodes; n++)); do rm -rf "$(home_of "$n")" "$(pid_file_of "$n")" "$(port_file_of "$n")"; done
	rm -f "$nodes_file"
	pids=${stopped[*]}
	log "stopped${pids:+ (pid ${pids// /, })}, data removed"
	;;
env)
	echo "export REPOKIT_ES_URL=$(url)"
	echo "export REPOKIT_ES_CTL='$script_dir/elasticsearch.sh'"
	echo "export REPOKIT_ES_URLS=$(urls)"
	;;
status)
	total=$(node_count)
	if ((total == 1)); then
		pid=$(running_pid)
		if [[ -n $pid ]]; then
			echo "running: pid $pid, $(url)"
			curl -s -m 10 "$(url)/_cluster/health?pretty" || true
		elif [[ -d $(home_of 1)/data ]]; then
			echo "paused: data in $(home_of 1), port $(current_port)"
			exit 3
		else
			echo "not running"
			exit 3
		fi
		exit 0
	fi
	up=0 first=""
	for ((n = 1; n <= total; n++)); do
		pid=$(running_pid "$n")
		if [[ -n $pid ]]; then
			echo "node $n: running: pid $pid, $(url "$n")"
			up=$((up + 1))
			[[ -n $first ]] || first=$n
		elif [[ -d $(home_of "$n")/data ]]; then
			echo "node $n: paused: data in $(home_of "$n"), port $(current_port "$n")"
		else
			echo "node $n: not running"
		fi
	done
	[[ -n $first ]] && { curl -s -m 10 "$(url "$first")/_cluster/health?pretty" || true; }
	((up == total)) || exit 3
	;;
logs)
	log_tail "$opt_node"
	;;
*)
	sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
