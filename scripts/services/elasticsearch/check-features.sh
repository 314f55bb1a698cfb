#!/usr/bin/env bash
# Verifies, with curl against a running node, the Elasticsearch features the
# repokit backend relies on, and reports what this embedded (no-modules) node
# lacks. Prints one line per check and exits non-zero if a needed feature fails.
#
#   scripts/services/elasticsearch/check-features.sh [URL]
#
# URL defaults to $REPOKIT_ES_URL, then http://127.0.0.1:19200. Works in a
# throwaway index (deleted at the end); indexes 12,000 small documents.
set -euo pipefail

U=${1:-${REPOKIT_ES_URL:-http://127.0.0.1:19200}}
command -v jq >/dev/null || { echo "check-features: jq is needed (apt-get install jq)" >&2; exit 1; }
IDX="repokit-featurecheck-$$"
BIG="$IDX-big"
failures=0
tmp=$(mktemp -d)
cleanup() {
	curl -s -m 30 -XDELETE "$U/$IDX,$BIG" >/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# req METHOD PATH [BODY] -> sets $code and $body (compact JSON).
req() {
	local method=$1 path=$2 data=${3-} ctype=application/json
	[[ $path == *_bulk* || $path == *_msearch* ]] && ctype=application/x-ndjson
	local args=(-s -m 60 -o "$tmp/out" -w '%{http_code}' -H "Content-Type: $ctype" "$U$path")
	if [[ $method == HEAD ]]; then args+=(--head); else args+=(-X "$method"); fi
	# NDJSON bodies must end with a newline; $(...) strips it.
	[[ -n $data && $ctype == application/x-ndjson ]] && data+=$'\n'
	if [[ -n $data ]]; then args+=(--data-binary "$data"); fi
	: >"$tmp/out"
	code=$(curl "${args[@]}") || code=000
	body=$(jq -c . "$tmp/out" 2>/dev/null || cat "$tmp/out")
	if [[ $method == HEAD ]]; then body='{}'; fi
}

# check NAME JQ-EXPRESSION: passes when the expression is true on $body.
check() {
	local name=$1 expr=$2
	if jq -e "$expr" >/dev/null 2>&1 <<<"$body"; then
		printf 'ok    %-44s HTTP %s\n' "$name" "$code"
	else
		printf 'FAIL  %-44s HTTP %s %s\n' "$name" "$code" "${body:0:300}"
		failures=$((failures + 1))
	fi
}

# absent NAME JQ-EXPRESSION: a feature expected to be missing here (information only).
absent() {
	local name=$1 expr=$2
	if jq -e "$expr" >/dev/null 2>&1 <<<"$body"; then
		printf 'n/a   %-44s HTTP %s %s\n' "$name" "$code" "$(jq -r '([.. | .reason? | strings] | last) // .error | tostring' <<<"$body" | cut -c1-110)"
	else
		printf 'avail %-44s HTTP %s (expected missing, but it works)\n' "$name" "$code"
	fi
}

req GET /
check "GET / (info)" '.version.number | startswith("7.17.")'
headers=$(curl -si -m 10 "$U/" | tr -d '\r')
if grep -qi '^x-elastic-product: Elasticsearch$' <<<"$headers"; then
	printf 'ok    %-44s %s\n' "X-Elastic-Product header" "$(grep -i '^x-elastic-product' <<<"$headers")"
else
	printf 'FAIL  %-44s\n' "X-Elastic-Product header"
	failures=$((failures + 1))
fi

req PUT "/$IDX" '{"settings":{"number_of_shards":1,"number_of_replicas":0},
  "mappings":{"dynamic":"strict","properties":{
    "id":{"type":"keyword"},"name":{"type":"text","fields":{"kw":{"type":"keyword"}}},
    "n":{"type":"long"},"price":{"type":"double"},"tags":{"type":"keyword"},
    "at":{"type":"date"},"ok":{"type":"boolean"}}}}'
check "create index with strict mapping" '.acknowledged'
req GET "/$IDX/_mapping"
check "mapping: keyword + text with keyword subfield" ".\"$IDX\".mappings.properties.name.fields.kw.type == \"keyword\""

req PUT "/$IDX/_doc/a?refresh=wait_for" '{"id":"a","name":"Hello World","n":1,"tags":["x","y"],"at":"2024-01-01T00:00:00Z","ok":true}'
check "index document (refresh=wait_for)" '.result == "created"'
req GET "/$IDX/_doc/a"
check "get document" '.found and ._source.name == "Hello World" and ._seq_no == 0 and ._primary_term == 1'
req HEAD "/$IDX/_doc/a"
check "exists (HEAD) -> 200" "$code == 200"
req PUT "/$IDX/_doc/a?op_type=create" '{"id":"a"}'
check "op_type=create on existing id -> 409" '.status == 409 and .error.type == "version_conflict_engine_exception"'
req PUT "/$IDX/_doc/a?if_seq_no=7&if_primary_term=1" '{"id":"a","n":2}'
check "if_seq_no/if_primary_term stale -> 409" '.status == 409 and .error.type == "version_conflict_engine_exception"'
req PUT "/$IDX/_doc/a?if_seq_no=0&if_primary_term=1" '{"id":"a","name":"Hello World","n":2,"tags":["x","y"]}'
check "if_seq_no/if_primary_term current -> ok" '.result == "updated" and ._seq_no == 1'
req POST "/$IDX/_update/u1" '{"doc":{"id":"u1","n":3},"doc_as_upsert":true}'
check "upsert (_update doc_as_upsert)" '.result == "created"'
req PUT "/$IDX/_doc/bad" '{"nope":1}'
check "strict mapping rejects unknown field -> 400" '.status == 400 and .error.type == "strict_dynamic_mapping_exception"'

bulk=$(printf '%s\n' \
	'{"index":{"_id":"b"}}' '{"id":"b","name":"foo bar","n":5,"tags":["y"],"price":1.5}' \
	'{"create":{"_id":"a"}}' '{"id":"a"}' \
	'{"create":{"_id":"c"}}' '{"id":"c","name":"Foo*Baz","n":9}' \
	'{"index":{"_id":"d"}}' '{"id":"d","n":"not a number"}')
req POST "/$IDX/_bulk?refresh=true" "$bulk"
check "_bulk with per-item results (201/409/201/400)" '.errors and ([.items[] | (.index // .create).status] == [201,409,201,400])'
req DELETE "/$IDX/_doc/c?refresh=true"
check "delete document" '.result == "deleted"'
req DELETE "/$IDX/_doc/c"
check "delete missing -> 404 not_found" '.result == "not_found" and '"$code"' == 404'
req POST "/$IDX/_refresh"
check "refresh" '._shards.failed == 0'
req GET "/$IDX/_count"
check "_count" '.count == 3'
req POST "/$IDX/_count" '{"query":{"range":{"n":{"gte":2}}}}'
check "_count with query" '.count == 3'

q() { req POST "/$IDX/_search?filter_path=hits.hits._id,error" "{\"query\":$1,\"sort\":[{\"id\":\"asc\"}]}"; }
ids() { echo "[.hits.hits[]?._id] == $1"; }
q '{"term":{"id":"a"}}';                              check "term" "$(ids '["a"]')"
q '{"terms":{"tags":["x","q"]}}';                     check "terms" "$(ids '["a"]')"
q '{"terms":{"tags":[]}}';                            check "terms with empty list matches nothing" "$(ids '[]')"
q '{"range":{"n":{"gt":2,"lte":5}}}';                 check "range" "$(ids '["b","u1"]')"
q '{"prefix":{"name.kw":"Hel"}}';                     check "prefix on keyword (case-sensitive)" "$(ids '["a"]')"
q '{"prefix":{"name.kw":"hel"}}';                     check "prefix: other case does not match" "$(ids '[]')"
q '{"wildcard":{"name.kw":{"value":"He*o W?rld"}}}';  check "wildcard on keyword" "$(ids '["a"]')"
q '{"wildcard":{"name.kw":{"value":"hel*"}}}';        check "wildcard is case-sensitive by default" "$(ids '[]')"
q '{"wildcard":{"name.kw":{"value":"hel*","case_insensitive":true}}}'; check "wildcard case_insensitive:true" "$(ids '["a"]')"
q '{"wildcard":{"name.kw":{"value":"Foo\\*Baz"}}}';   check "wildcard escaped * is literal" "$(ids '[]')"
q '{"regexp":{"name.kw":{"value":"f.o ba[rz]"}}}';    check "regexp on keyword (anchored)" "$(ids '["b"]')"
q '{"exists":{"field":"tags"}}';                      check "exists" "$(ids '["a","b"]')"
q '{"bool":{"must_not":[{"exists":{"field":"price"}}]}}'; check "bool must_not exists (missing value)" "$(ids '["a","u1"]')"
q '{"bool":{"should":[{"term":{"id":"a"}},{"term":{"id":"b"}}],"minimum_should_match":1,"filter":[{"range":{"n":{"gte":2}}}]}}'
check "bool should/filter" "$(ids '["a","b"]')"
q '{"match":{"name":"world"}}';                      check "match on text (standard analyzer)" "$(ids '["a"]')"

req POST "/$IDX/_search?filter_path=hits.hits._id,hits.hits.sort" '{"size":1,"sort":[{"name.kw":{"order":"asc","missing":"_last"}},{"id":"asc"}],"search_after":["Hello World","a"]}'
check "search_after with keyword sort + tiebreaker" '[.hits.hits[]._id] == ["b"] and .hits.hits[0].sort == ["foo bar","b"]'
req POST "/$IDX/_search" '{"from":10000,"size":1}'
check "from+size > 10,000 -> 400 max_result_window" '.status == 400 and (tostring | contains("Result window is too large"))'

# More than 10,000 documents: totals, search_after and point in time.
req PUT "/$BIG" '{"settings":{"number_of_shards":1,"number_of_replicas":0},"mappings":{"properties":{"id":{"type":"keyword"},"n":{"type":"long"}}}}'
for i in $(seq 0 11999); do
	printf '{"index":{"_id":"d%05d"}}\n{"id":"d%05d","n":%d}\n' "$i" "$i" $((i % 97))
done >"$tmp/big.ndjson"
code=$(curl -s -m 120 -o "$tmp/out" -w '%{http_code}' -XPOST "$U/$BIG/_bulk?refresh=true&filter_path=errors" \
	-H 'Content-Type: application/x-ndjson' --data-binary @"$tmp/big.ndjson")
body=$(cat "$tmp/out")
check "_bulk 12,000 documents" '.errors == false'
req POST "/$BIG/_search?filter_path=hits.total" '{"size":0}'
check "default total is capped: 10000 gte" '.hits.total == {"value":10000,"relation":"gte"}'
req POST "/$BIG/_search?filter_path=hits.total" '{"size":0,"track_total_hits":true}'
check "track_total_hits:true gives 12000 eq" '.hits.total == {"value":12000,"relation":"eq"}'

req POST "/$BIG/_pit?keep_alive=1m"
check "open point in time (POST /index/_pit)" '.id | length > 0'
pit=$(jq -r .id <<<"$body")
seen=0 after="" pages=0
while :; do
	sa=""
	[[ -n $after ]] && sa=",\"search_after\":$after"
	req POST "/_search?filter_path=pit_id,hits.hits.sort" "{\"size\":1000,\"_source\":false,\"pit\":{\"id\":\"$pit\",\"keep_alive\":\"1m\"},\"sort\":[{\"n\":\"asc\"},{\"id\":\"asc\"}]$sa}"
	n=$(jq '.hits.hits | length' <<<"$body" 2>/dev/null || echo 0)
	((n > 0)) || break
	pit=$(jq -r .pit_id <<<"$body")
	after=$(jq -c '.hits.hits[-1].sort' <<<"$body")
	seen=$((seen + n)) pages=$((pages + 1))
	((pages < 50)) || break
done
body="{\"seen\":$seen}"
check "PIT + search_after over 12,000 docs ($pages pages)" '.seen == 12000'
req POST "/_search?filter_path=hits.hits.sort" "{\"size\":2,\"pit\":{\"id\":\"$pit\"},\"sort\":[{\"n\":\"asc\"},{\"_shard_doc\":\"asc\"}]}"
check "PIT with _shard_doc tiebreaker" '.hits.hits | length == 2'
req DELETE /_pit "{\"id\":\"$pit\"}"
check "close point in time" '.succeeded'
seen=0 after=""
while :; do
	sa=""
	[[ -n $after ]] && sa=",\"search_after\":$after"
	req POST "/$BIG/_search?filter_path=hits.hits.sort" "{\"size\":1000,\"_source\":false,\"sort\":[{\"id\":\"asc\"}]$sa}"
	n=$(jq '.hits.hits | length' <<<"$body" 2>/dev/null || echo 0)
	((n > 0)) || break
	after=$(jq -c '.hits.hits[-1].sort' <<<"$body")
	seen=$((seen + n))
	((seen <= 20000)) || break
done
body="{\"seen\":$seen}"
check "search_after without PIT over 12,000 docs" '.seen == 12000'
req POST "/$BIG/_search?scroll=1m&filter_path=_scroll_id" '{"size":10}'
check "scroll" '._scroll_id | length > 0'
req DELETE /_search/scroll "{\"scroll_id\":\"$(jq -r ._scroll_id <<<"$body")\"}"
check "clear scroll" '.succeeded'

req POST "/$IDX/_search?size=0&filter_path=aggregations" '{"aggs":{"t":{"terms":{"field":"tags"}}}}'
check "terms aggregation" '.aggregations.t.buckets | length == 2'
req POST "/$IDX/_mget?filter_path=docs._id,docs.found" '{"ids":["a","zz"]}'
check "_mget" '[.docs[].found] == [true,false]'
req POST "/_msearch?filter_path=responses.hits.total" "$(printf '%s\n' "{\"index\":\"$IDX\"}" '{"query":{"match_all":{}}}')"
check "_msearch" '.responses[0].hits.total.value == 3'
req PUT "/$IDX/_settings" '{"index":{"max_result_window":20000}}'
check "index.max_result_window setting" '.acknowledged'
req PUT "/_index_template/$IDX-tpl" "{\"index_patterns\":[\"$IDX-tpl-*\"],\"template\":{\"settings\":{\"number_of_replicas\":0}}}"
check "composable index template" '.acknowledged'
req DELETE "/_index_template/$IDX-tpl"
req PUT "/$IDX-norm" '{"settings":{"analysis":{"normalizer":{"lc":{"type":"custom","filter":["lowercase"]}}}},"mappings":{"properties":{"k":{"type":"keyword","normalizer":"lc"}}}}'
check "keyword normalizer with lowercase filter" '.acknowledged'
req DELETE "/$IDX-norm"
code=$(curl -s -m 10 -o "$tmp/out" -w '%{http_code}' -H 'Accept: application/vnd.elasticsearch+json;compatible-with=8' \
	-H 'Content-Type: application/vnd.elasticsearch+json;compatible-with=8' -XPOST "$U/$IDX/_search" -d '{}')
body=$(jq -c . "$tmp/out")
check "request with compatible-with=8 headers" '.hits.total.value == 3'

echo "-- not in this node (they are modules of the full distribution, not loaded here):"
req POST "/$IDX/_update/a" '{"script":{"source":"ctx._source.n += 1"}}'
absent "scripted update (lang-painless)" '.status == 400'
req POST "/$IDX/_search" '{"query":{"script":{"script":"doc[\"n\"].value > 1"}}}'
absent "script query (lang-painless)" '.status == 400'
req POST "/$IDX/_delete_by_query" '{"query":{"term":{"id":"zzz"}}}'
absent "_delete_by_query (reindex)" '.status == 400'
req POST "/$IDX/_update_by_query" '{"query":{"term":{"id":"zzz"}}}'
absent "_update_by_query (reindex)" '.status == 400'
req POST /_reindex "{\"source\":{\"index\":\"$IDX\"},\"dest\":{\"index\":\"$IDX-copy\"}}"
absent "_reindex (reindex)" '.status == 405'
req PUT "/$IDX-sf" '{"mappings":{"properties":{"p":{"type":"scaled_float","scaling_factor":100}}}}'
absent "scaled_float mapping (mapper-extras)" '.status == 400'
req POST /_analyze '{"tokenizer":"standard","filter":["asciifolding"],"text":"é"}'
absent "asciifolding filter (analysis-common)" '.status == 400'

echo "-- $failures failure(s)"
((failures == 0))
