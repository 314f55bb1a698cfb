#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this script):
# formatting, vet, the regeneration check, and every test under the race detector.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "tools: sqlc (turns a schema set's *.queries.sql into typed pgx code)"
# Built once per machine (cgo, about 80 s) into a cache outside the repository.
SQLC_VERSION=v1.31.1
sqlc_dir="${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/repokit-tools/sqlc-$SQLC_VERSION"
if [ ! -x "$sqlc_dir/sqlc" ]; then
	GOBIN="$sqlc_dir" go install "github.com/sqlc-dev/sqlc/cmd/sqlc@$SQLC_VERSION"
fi
export REPOKIT_SQLC="$sqlc_dir/sqlc"
"$REPOKIT_SQLC" version

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...

step "regeneration check (go generate ./... must change nothing)"
go generate ./...
if ! git diff --exit-code --stat || [ -n "$(git status --porcelain --untracked-files=all -- examples runtime/backends/drivertest)" ]; then
	echo "generated code is stale: run 'go generate ./...' and commit the result"
	git status --porcelain --untracked-files=all
	exit 1
fi

step "bench module: go vet (compiles the comparison benchmarks; they run with -bench only)"
(cd bench && go vet ./...)

step "test services (real servers on loopback; see docs/services.md)"
# Backend tests read REPOKIT_* variables. Toxiproxy fronts each server for the fault
# matrix (TestFaultMatrix, docs/reliability.md). PostgreSQL runs with a hot standby
# (postgres.sh start --replica) for the read-replica tests (TestReplica*, docs/postgres.md). Locally a server that cannot start makes its
# tests skip; under CI=true it fails the run, and so do the tests themselves.
# The servers this run starts are stopped when it ends, whatever the outcome (Ctrl-C
# included); servers that were up before stay up; KEEP_SERVICES=1 leaves them all up.
# shellcheck source=services/session.sh
. scripts/services/session.sh
if services_up --with-elasticsearch --with-toxiproxy --with-postgres-replica; then
	:
elif [ -n "${CI:-}" ]; then
	echo "test services failed to start (CI=true): failing"; exit 1
else
	echo "test services unavailable: backend tests will skip"
fi

# The day-2 migration tests (20,000 records per backend, writers running through the
# migration) run once, in their own step without the race detector, which would make them
# several times slower; the concurrency of the code they exercise is raced by the smaller
# migration tests (two appliers at once, resumed applies) in the first step.
day2='^TestMigrateDay2$'

step "go test -race"
# -p 1: packages run one after another, because the backends' restart tests stop and start
# the shared test servers, and examples/shop runs its demo on those same servers. The
# Elasticsearch package, the longest (most of its time waiting on index refreshes), runs
# alongside the other runtime packages, which use no Elasticsearch node (only cmd/,
# examples/ and internal/ do, and they run before it).
es_pkg=github.com/repokit/repokit/runtime/backends/elasticsearch
mapfile -t first < <(go list ./... | grep -v '/runtime/')
mapfile -t rest < <(go list ./runtime/... | grep -vx "$es_pkg")
go test -race -count=1 -p 1 -timeout 20m -skip "$day2" "${first[@]}"
es_log=$(mktemp)
go test -race -count=1 -timeout 20m -skip "$day2" "$es_pkg" >"$es_log" 2>&1 &
es_job=$!
rc=0
go test -race -count=1 -p 1 -timeout 20m -skip "$day2" "${rest[@]}" || rc=$?
wait "$es_job" || rc=$?
cat "$es_log"
rm -f "$es_log"
[ "$rc" = 0 ] || exit "$rc"

step "go test: day-2 migrations (PostgreSQL, Elasticsearch, S3)"
go test -count=1 -p 1 -timeout 20m -run "$day2" ./runtime/backends/...

step "Elasticsearch cluster: TestCluster on three nodes, one killed under writes"
# TestCluster skipped above (REPOKIT_ES_URLS listed one node). Here it runs on a cluster of
# three nodes started for it in a state directory and on ports of its own
# (.services-cluster/, HTTP 19240-19242, transport 19340-19342), so it never touches a node
# that was up before this run. The single node is stopped first when this run started it
# (nothing needs it any more); the cluster is stopped when the run ends, whatever the
# outcome, unless it was up before or KEEP_SERVICES=1. See docs/reliability.md.
es_cluster() { REPOKIT_SERVICES_DIR="$PWD/.services-cluster" REPOKIT_ES_PORT=19240 scripts/services/elasticsearch.sh "$@"; }
cluster_started=""
cluster_down() {
	[ -n "$cluster_started" ] || return 0
	if [ "${KEEP_SERVICES:-}" = 1 ]; then
		echo "KEEP_SERVICES=1: leaving the Elasticsearch cluster up (stop it with REPOKIT_SERVICES_DIR=$PWD/.services-cluster scripts/services/elasticsearch.sh stop)" >&2
	else
		es_cluster stop || echo "stopping the Elasticsearch cluster failed" >&2
	fi
	cluster_started=""
}
trap 'cluster_down; services_down' EXIT
if services_started elasticsearch; then
	scripts/services/elasticsearch.sh stop
fi
if ! es_cluster status >/dev/null 2>&1; then
	cluster_started=1
fi
if es_cluster start --nodes 3; then
	(
		eval "$(es_cluster env)"
		export REPOKIT_SERVICES_DIR="$PWD/.services-cluster" # for REPOKIT_ES_CTL, which pauses and resumes nodes
		go test -count=1 -v -timeout 10m -run '^TestCluster$' ./runtime/backends/elasticsearch/
	)
elif [ -n "${CI:-}" ]; then
	echo "the Elasticsearch cluster failed to start (CI=true): failing"; exit 1
else
	echo "the Elasticsearch cluster did not start: TestCluster not run"
fi
cluster_down
