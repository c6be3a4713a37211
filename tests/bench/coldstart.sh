#!/bin/sh
# coldstart.sh: size and cold start of Pouch's AWS Lambda bootstraps.
#
# Builds cmd/bootstrap as Lambda runs it for amd64 and arm64 and reports each
# binary's size, then runs BenchmarkColdStart (coldstart_test.go): for each
# function (api, hook, tick), RUNS times, exec the bootstrap of this machine's
# architecture against the Runtime API fake with its first event queued, on a
# real redis-server, and time exec -> first /next (init) and exec -> answer.
# Reports medians; exits 1 if a binary is over 25 MB or a median answer over
# 30 ms. Usage: tests/bench/coldstart.sh [RUNS] (default 21).
set -eu
cd "$(dirname "$0")/../.."
export PATH="/usr/local/go/bin:$PATH"
runs=${1:-21}
max_mb=25
max_ms=30
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

for arch in amd64 arm64; do
	CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath -ldflags "-s -w" -tags lambda.norpc \
		-o "$tmp/$arch/bootstrap" ./cmd/bootstrap
	bytes=$(wc -c <"$tmp/$arch/bootstrap")
	awk -v a="$arch" -v b="$bytes" -v max="$max_mb" 'BEGIN {
		mb = b / 1048576; printf "size  %-5s %6.1f MB%s\n", a, mb, (mb > max ? "  OVER " max " MB" : "") }'
	if [ "$bytes" -gt $((max_mb * 1048576)) ]; then status=1; fi
done

go test -count=1 -run XXX -bench BenchmarkColdStart -benchtime "${runs}x" ./tests/bench/ >"$tmp/bench.txt" || {
	cat "$tmp/bench.txt"
	exit 1
}
echo "cold start on $(go env GOARCH), median of $runs runs (exec -> first /next, exec -> answer, worst answer):"
awk -v max="$max_ms" '
	/^BenchmarkColdStart\// {
		name = $1; sub(/^BenchmarkColdStart\//, "", name); sub(/-[0-9]+$/, "", name)
		for (i = 3; i < NF; i += 2) v[$(i + 1)] = $i
		over = v["ms/answer"] > max
		printf "  %-5s init %6.1f ms  answer %6.1f ms  worst %6.1f ms%s\n", name, v["ms/init"], v["ms/answer"],
			v["max-ms/answer"], (over ? "  OVER " max " ms" : "")
		if (over) bad = 1
	}
	END { exit bad }' "$tmp/bench.txt" || status=1
exit $status
