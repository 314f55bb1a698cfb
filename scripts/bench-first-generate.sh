#!/usr/bin/env bash
# Times the first `go generate` of a fresh module that uses this checkout (README's "Getting
# started in your own module", with a replace), for the three records of
# examples/shop/schema/shop.yaml: once with an empty build cache (GOCACHE), once with the
# cache that run left (the usual case: a new module, the toolchain and repokit's packages
# already compiled), and a repeat in the second module after its go mod tidy. The module cache is the shared one
# (no download is timed) and sqlc is the one the generator finds or builds beforehand (its
# one-time build is timed apart). Prints one line per run; see docs/BENCHMARKS.md.
#
#   scripts/bench-first-generate.sh [BACKENDS]     # default memory,postgres,s3,elasticsearch
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
backends=${1:-memory,postgres,s3,elasticsearch}
work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
export GOFLAGS=-modcacherw GOWORK=off
unset REPOKIT_SQLC

module() { # module DIR: a fresh module with the generator as a tool and the schema
	mkdir -p "$1/store"
	(cd "$1" && go mod init example.com/app >/dev/null 2>&1 &&
		go mod edit -require=github.com/repokit/repokit@v0.0.0 -replace=github.com/repokit/repokit="$root" \
			-tool=github.com/repokit/repokit/generator/cmd/repokit && go mod tidy >/dev/null 2>&1)
	cp "$root/examples/shop/schema/shop.yaml" "$1/store/"
	printf 'package store\n\n//go:generate go tool repokit generate -out . -package store -backends=%s shop.yaml\n' "$backends" >"$1/store/gen.go"
}
timed() { # timed LABEL DIR: wall time, and the CPU time of go generate and every process it ran
	if ! (cd "$2" && /usr/bin/time -o "$work/time" -f '%e %U %S' go generate ./... >"$work/log" 2>&1); then
		cat "$work/log" >&2
		exit 1
	fi
	read -r wall user sys <"$work/time"
	printf '%-56s %6.2f s wall, %6.2f s CPU\n' "$1" "$wall" "$(echo "$user + $sys" | bc)"
}

# sqlc first (found, or built once into the user cache), so that no run below includes it.
if [[ $backends == *postgres* ]]; then
	module "$work/sqlc"
	timed "(sqlc found or built; shared build cache)" "$work/sqlc"
fi

export GOCACHE="$work/gocache"
module "$work/cold"
timed "first go generate, empty build cache" "$work/cold"
module "$work/warm"
timed "first go generate of a new module, warm build cache" "$work/warm"
(cd "$work/warm" && go mod tidy >/dev/null 2>&1)
timed "go generate again, after go mod tidy (nothing changes)" "$work/warm"
echo "backends: $backends; $(go version); load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"
