#!/usr/bin/env bash
# mgetcpu.sh [N]: the node's CPU time (user + system of its process, from /proc, in ms) per
# _mget of 1000 ids, N requests (default 40) per variant, on a probe index of 10,000
# documents shaped like the benchmark's things.Thing (one shard, bulk-loaded in five
# requests without refresh, as BenchmarkGetBatch1000VsGetLoop loads its index). Variants: the
# request GetMany sends (real time, whole _source), realtime=false, _source=false. The node
# must run on this machine; its CPU also counts whatever else it serves meanwhile, so run it
# a few times. Connects to $REPOKIT_ES_URL; the probe index is deleted at the end. See
# docs/BENCHMARKS.md (GetBatch, issue 15).
set -euo pipefail
n=${1:-40}
: "${REPOKIT_ES_URL:?set REPOKIT_ES_URL}"
es=$REPOKIT_ES_URL
index=rk-mgetcpu-$$
dir=$(mktemp -d)
trap 'curl -s -XDELETE "$es/$index" >/dev/null; rm -rf "$dir"' EXIT

pid=$(curl -s "$es/_nodes/_local/process?filter_path=**.id" | grep -o '"id":[0-9]*' | head -1 | cut -d: -f2)
[ -r "/proc/$pid/stat" ] || { echo "the node's process ($pid) is not on this machine" >&2; exit 1; }

curl -s -XPUT "$es/$index" -H 'content-type: application/json' \
	-d '{"settings":{"number_of_shards":1,"number_of_replicas":0}}' >/dev/null
for part in 0 1 2 3 4; do
	awk -v p="$part" 'BEGIN {
		split("red blue green black", c, " ")
		for (k = p * 2000 + 1; k <= (p + 1) * 2000; k++) {
			printf "{\"index\":{\"_id\":\"t%09d\"}}\n", k
			printf "{\"id\":\"t%09d\",\"name\":\"n%d\",\"title\":\"Title %d\",\"body\":\"A longer description of item %d, with some words to analyze.\",\"rank\":%d,\"count\":%d,\"score\":%.6f,\"ratio\":%.2f,\"active\":%s,\"at\":\"2024-01-01T00:00:00Z\",\"created\":\"2024-01-01T00:00:00.000001Z\",\"tags\":[\"%s\",\"%s\"],\"nums\":[%d,%d]}\n",
				k, k % 5000, k % 1000, k, k, k % 10000, (k % 977) / 7, (k % 100) / 100, (k % 3 ? "true" : "false"),
				c[k % 4 + 1], c[int(k / 4) % 4 + 1], k % 10, k % 100
		}
	}' >"$dir/bulk"
	curl -s -XPOST "$es/$index/_bulk" -H 'content-type: application/x-ndjson' --data-binary @"$dir/bulk" -o /dev/null
done
awk 'BEGIN { printf "{\"ids\":["; for (k = 1; k <= 10000; k += 10) printf "%s\"t%09d\"", (k > 1 ? "," : ""), k; print "]}" }' >"$dir/ids"
curl -s -XPOST "$es/$index/_mget" -H 'content-type: application/json' --data-binary @"$dir/ids" -o /dev/null # refreshes

cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
for params in "" "realtime=false" "_source=false"; do
	a=$(cpu)
	for ((i = 0; i < n; i++)); do
		curl -s -XPOST "$es/$index/_mget?$params" -H 'content-type: application/json' --data-binary @"$dir/ids" -o /dev/null
	done
	b=$(cpu)
	awk -v a="$a" -v b="$b" -v n="$n" -v hz="$hz" -v p="${params:-as GetMany sends it}" \
		'BEGIN { printf "%6.1f ms node CPU per _mget of 1000 ids  %s\n", (b - a) * 1000 / hz / n, p }'
done
