#!/usr/bin/env bash
# Start-up and memory benchmark (issue 13 point 2): how time to ready and
# memory grow with the number of articles.
#
# For each N it seeds N published articles (bench/seed, about BENCH_SIZE
# bytes of HTML each) on a fresh embedded database, restarts the service
# on that data, and prints the time from launch to the first 200 of
# /readyz, the RSS (VmRSS) and Go heap in use right after ready, and both
# again after a short load: every article fetched once by slug (gzip, as
# browsers and CDNs ask), then a few list, tag and search pages.
# Target: RSS after the load at the largest N within 2.5x of the one at
# the smallest.
#
# Usage: bench/startup.sh   (needs Go and curl)
#
# Knobs (environment):
#   BENCH_ARTICLES  the Ns, smallest first          "1000 10000"
#   BENCH_SIZE      HTML bytes per article body     8192
#   BENCH_WORKERS   concurrent writers while seeding 4
#   BENCH_REUSE     a directory to keep the seeded data in and reuse: an N
#                   whose data-N is there is not seeded again
#   BENCH_SETTLE    seconds to wait after the load before the last RSS
#                   reading, while the runtime returns freed pages  20
#   BENCH_PORT, BENCH_METRICS_PORT                  18380, 18764 (not bench/run.sh's)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
counts=${BENCH_ARTICLES:-1000 10000}
size=${BENCH_SIZE:-8192}
workers=${BENCH_WORKERS:-4}
port=${BENCH_PORT:-18380}
metrics_port=${BENCH_METRICS_PORT:-18764}
settle=${BENCH_SETTLE:-20}
base=http://127.0.0.1:$port

if [ -n "${BENCH_REUSE:-}" ]; then
	mkdir -p "$BENCH_REUSE"
	dir=$(cd "$BENCH_REUSE" && pwd)
else
	dir=$(mktemp -d "${TMPDIR:-/tmp}/cms-startup.XXXXXX")
fi
bin=$(mktemp -d "${TMPDIR:-/tmp}/cms-startup-bin.XXXXXX")
cms_pid=""
cleanup() {
	stop_cms
	rm -rf "$bin"
	[ -n "${BENCH_REUSE:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT

echo "== building into $bin"
(cd "$root" && go build -o "$bin/cms" ./cmd/cms && go build -o "$bin/seed" ./bench/seed)

export CMS_ADMIN_EMAIL=bench@example.com
export CMS_ADMIN_PASSWORD='a long bench password 4 load tests'

# start_cms DATA: runs the service in the background on DATA; cms_pid.
# It refuses a port another process answers on: the seeder would write
# into that service.
start_cms() {
	if curl -s -o /dev/null "$base/readyz"; then
		echo "something already answers on $base: set BENCH_PORT and BENCH_METRICS_PORT" >&2
		exit 1
	fi
	CMS_ADDR=127.0.0.1:$port CMS_METRICS_ADDR=127.0.0.1:$metrics_port CMS_DATA_DIR=$1 CMS_PUBLIC_URL=$base \
		CMS_AMAZON_TAGS=amazon.com=bench-20 CMS_LOG_LEVEL=warn "$bin/cms" serve 2>>"$dir/cms.log" &
	cms_pid=$!
}

stop_cms() {
	[ -n "$cms_pid" ] || return 0
	kill "$cms_pid" 2>/dev/null || true
	wait "$cms_pid" 2>/dev/null || true
	cms_pid=""
}

# wait_ready: polls /readyz every 20 ms, for at most 5 minutes.
wait_ready() {
	for _ in $(seq 1 15000); do
		kill -0 "$cms_pid" 2>/dev/null || break
		curl -fs -o /dev/null "$base/readyz" && return 0
		sleep 0.02
	done
	echo "the service did not become ready" >&2
	tail -20 "$dir/cms.log" >&2
	exit 1
}

rss_mib() { awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$cms_pid/status"; }
heap_mib() {
	curl -fs "http://127.0.0.1:$metrics_port/metrics" | awk '/^go_memstats_heap_inuse_bytes / {printf "%.0f", $2 / 1048576}'
}

# load N: every article once by slug, then a few list pages and searches.
load() {
	"$bin/seed" -slugs -n "$1" | awk -v b="$base" '{print "url = \"" b "/api/v1/content/articles/" $0 "\"\noutput = /dev/null"}' >"$dir/urls"
	for q in "limit=20" "limit=100" "tag=massage&limit=20" "tag=sleep" "q=posture+pain" "q=sleep" "q=massage+relief&limit=50"; do
		printf 'url = "%s/api/v1/content/articles?%s"\noutput = /dev/null\n' "$base" "$q" >>"$dir/urls"
	done
	printf 'url = "%s/%s"\noutput = /dev/null\n' "$base" "sitemap.xml" >>"$dir/urls"
	curl -fsS --compressed -K "$dir/urls"
}

printf '%-9s %9s %10s %10s %10s %10s %11s\n' articles "ready s" "RSS MiB" "heap MiB" "RSS load" "heap load" "RSS settled"
results=()
for n in $counts; do
	data=$dir/data-$n
	if [ ! -d "$data" ] || [ -z "${BENCH_REUSE:-}" ]; then
		rm -rf "$data"
		start_cms "$data"
		wait_ready
		echo "== seeding $n articles into $data" >&2
		"$bin/seed" -url "$base" -n "$n" -size "$size" -workers "$workers" >"$dir/seed-$n.out"
		stop_cms
	fi
	t0=$(date +%s.%N)
	start_cms "$data"
	wait_ready
	ready=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')
	rss_ready=$(rss_mib)
	heap_ready=$(heap_mib)
	load "$n"
	rss_load=$(rss_mib)
	heap_load=$(heap_mib)
	sleep "$settle"
	rss_settled=$(rss_mib)
	stop_cms
	printf '%-9s %9s %10s %10s %10s %10s %11s\n' "$n" "$ready" "$rss_ready" "$heap_ready" "$rss_load" "$heap_load" "$rss_settled"
	results+=("$n $rss_load $rss_settled")
done

if [ "${#results[@]}" -gt 1 ]; then
	read -r n0 r0 s0 <<<"${results[0]}"
	read -r n1 r1 s1 <<<"${results[-1]}"
	ratio=$(awk -v a="$r1" -v b="$r0" 'BEGIN {printf "%.2f", a / b}')
	settled=$(awk -v a="$s1" -v b="$s0" 'BEGIN {printf "%.2f", a / b}')
	echo "RSS right after the load at $n1 articles is ${ratio}x the one at $n0 (target <= 2.5)"
	echo "RSS ${settle} s after the load at $n1 articles is ${settled}x the one at $n0"
	awk -v r="$ratio" 'BEGIN {exit !(r > 2.5)}' && echo "MEMORY GROWS: over the target right after the load"
fi
[ -z "${BENCH_REUSE:-}" ] || echo "data kept in $dir"
